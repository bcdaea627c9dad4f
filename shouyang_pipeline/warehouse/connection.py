"""Opening the warehouse: always closed on the way out, always in a format 1.4-era clients read."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

# The published file must open in DuckDB 1.4+ clients (the duckdb CLI on PyPI, DBeaver's driver).
STORAGE_COMPATIBILITY = "v1.4.0"
# The most memory DuckDB takes in the pipeline's own connections; beyond it, joins and
# aggregates spill to a temp folder beside the file. Without it DuckDB takes up to 80 % of the
# machine: the cross-period checks over 2 million rows held 2.5 GB (1 GB: 1.1 GB, 3x slower,
# only at that size; BENCHMARKS.md). Read-only opens and an analyst's own session are not limited.
MEMORY_LIMIT = "1GB"
PIPELINE_CONFIG = {"storage_compatibility_version": STORAGE_COMPATIBILITY, "memory_limit": MEMORY_LIMIT}


@contextmanager
def connect(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that is closed even when the body raises (so the file lock is released)."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    config = {} if read_only else dict(PIPELINE_CONFIG)
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
    data/.work): a run of one period must not publish a warehouse that lost the others.

    When a run was killed after committing its publish (`publish.py`), the warehouse it was about
    to put in place is the newer one: the work file starts from that.
    """
    from .publish import copy_file, pending_warehouse

    if work.exists():
        return
    source = pending_warehouse(published) or published
    if not source.exists():
        return
    work.parent.mkdir(parents=True, exist_ok=True)
    tmp = work.with_name(f".{work.name}.{os.getpid()}.tmp")
    try:
        copy_file(source, tmp, point=None)
        os.replace(tmp, work)
    finally:
        tmp.unlink(missing_ok=True)


def publish(work: Path, published: Path) -> Path:
    """Replace the analysts' file with a checkpointed copy of the work file, atomically (the
    warehouse alone; a run publishes its exports with it through `publish.publish_run`).

    DuckDB lets no process write a file another process has open, so runs write a private work
    file; here its complete state is copied beside the published file and renamed over it. A
    reader who has the old file open keeps reading the old one; a new connection sees the new.
    Raises `publish.PublishedWarehouseInUse` when another process holds the published file
    read-write.
    """
    from .publish import publish_run

    return publish_run(work, published).warehouse


def recover_publish(work: Path, published: Path, export_dir: Path):
    """`publish.recover_publish`: call before a run changes anything (see there)."""
    from .publish import recover_publish as recover

    return recover(work, published, export_dir)
