"""Opening the warehouse: always closed on the way out, always in a format 1.4-era clients read."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

# The published file must open in DuckDB 1.4+ clients (the duckdb CLI on PyPI, DBeaver's driver).
STORAGE_COMPATIBILITY = "v1.4.0"


@contextmanager
def connect(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that is closed even when the body raises (so the file lock is released)."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    config = {} if read_only else {"storage_compatibility_version": STORAGE_COMPATIBILITY}
    conn = duckdb.connect(str(path), read_only=read_only, config=config)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def ensure_work_copy(work: Path, published: Path) -> None:
    """Start the work file from the published one when it is missing (a new checkout, a cleaned
    data/.work): a run of one period must not publish a warehouse that lost the others."""
    if work.exists() or not published.exists():
        return
    work.parent.mkdir(parents=True, exist_ok=True)
    tmp = work.with_name(f".{work.name}.{os.getpid()}.tmp")
    shutil.copyfile(published, tmp)
    os.replace(tmp, work)


def publish(work: Path, published: Path) -> Path:
    """Replace the analysts' file with a checkpointed copy of the work file, atomically.

    DuckDB lets no process write a file another process has open, so runs write a private work
    file; here its complete state is copied beside the published file and renamed over it. A
    reader who has the old file open keeps reading the old one; a new connection sees the new.
    """
    with connect(work) as conn:
        conn.execute("CHECKPOINT")
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = published.with_name(f".{published.name}.{os.getpid()}.tmp")
    try:
        with open(work, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, length=16 * 1024 * 1024)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, published)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(published.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return published
