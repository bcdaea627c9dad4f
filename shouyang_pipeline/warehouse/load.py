"""Loading into the warehouse: reference lists, one dataset-period at a time, each in one transaction.

The warehouse loads plain frames whose columns the catalogue declares; it knows no parser.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from ..config import BEIJING
from ..catalog.tables import AUDIT, RECEIVED_FROM_MTIME, REFERENCE, STAGING, PeriodFrames, Table, file_digests
from ..reference import REFERENCE_FILES, read_reference_csv
from .connection import transaction
from .ddl import ensure_tables, ident
from .digests import INPUTS, record_inputs


def _insert(conn: duckdb.DuckDBPyConnection, table: Table, frame: "pd.DataFrame | Path") -> None:
    """The rows of `frame` added to `table`: a frame's columns by name, or a Parquet file written
    by `write_parquet` (its columns by name too)."""
    if isinstance(frame, Path):
        conn.execute(f"INSERT INTO {table.qualified} BY NAME SELECT * FROM read_parquet(?)", [str(frame)])
        return
    if frame.empty:
        return
    cols = ", ".join(ident(c) for c in frame.columns)
    with _registered(conn, f"_incoming_{table.schema}_{table.name}", frame) as view:
        conn.execute(f"INSERT INTO {table.qualified} ({cols}) SELECT {cols} FROM {view}")


@contextmanager
def _registered(conn: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> Iterator[str]:
    """`frame` as a view of the connection named `name` (given quoted) while the body runs. A
    statement that failed inside a transaction aborts it, and DuckDB then refuses to unregister
    anything: that refusal is let go, so that the statement's own error is the one raised."""
    conn.register(name, frame)
    try:
        yield ident(name)
    finally:
        with suppress(duckdb.TransactionException):
            conn.unregister(name)


@functools.cache
def _in_memory() -> duckdb.DuckDBPyConnection:
    """This process's in-memory DuckDB that writes `write_parquet`'s files (one thread: a reading
    worker has a core of its own at most)."""
    return duckdb.connect(config={"threads": 1})


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """`frame` written to `path` as a Parquet file that `_insert` loads: its columns typed as
    DuckDB reads them from the frame (as `_insert` would have, given the frame), uncompressed
    (written once, read once, from the same disk). A reading worker hands a period's staging
    rows over so: the run's process loads them natively, without unpickling a frame and
    converting its Python values, and the worker does not pickle them."""
    conn = _in_memory()
    view = "_outgoing"
    conn.register(view, frame)
    try:
        conn.execute(f"COPY {view} TO ? (FORMAT parquet, COMPRESSION uncompressed)", [str(path)])
    finally:
        conn.unregister(view)
    return path


def load_reference(conn: duckdb.DuckDBPyConnection, reference_dir: Path) -> dict[str, int]:
    """Replace the reference tables with data/reference/*.csv; returns row counts."""
    ensure_tables(conn, REFERENCE.values())
    counts = {}
    with transaction(conn):
        for name in REFERENCE_FILES:
            table = REFERENCE[name]
            frame = read_reference_csv(reference_dir, name)[table.column_names]
            if "has_joint_party_committee" in frame:
                frame["has_joint_party_committee"] = frame["has_joint_party_committee"].isin(["是", "true", "1"])
            if "target_value" in frame:
                frame["target_value"] = pd.to_numeric(frame["target_value"])
            conn.execute(f"DELETE FROM {table.qualified}")
            _insert(conn, table, frame)
            counts[name] = len(frame)
    return counts


def _replace_log_rows(conn: duckdb.DuckDBPyConnection, log: pd.DataFrame, owner_sql: str,
                      owner_args: list, now: datetime) -> None:
    """Mark the owner's earlier rows not current; insert the current versions, keeping first-seen
    times. Three statements (a dataset-period's log is a few rows, loaded some 170 times in a run
    of two years: their statements, not their rows, are the cost): every earlier row of the owner
    and of these files marked not current; the new rows inserted, each version's first-seen times
    looked up among the earlier rows of the same version (the log holds every version of every
    file of every run: years of them); then those earlier rows of the same versions deleted."""
    table = AUDIT["ingest_log"]
    if log.empty:
        conn.execute(f"UPDATE {table.qualified} SET is_current = false WHERE {owner_sql}", owner_args)
        return
    paths = log["file_path"].tolist()
    shas = file_digests(log)  # (None for a file not read: its earlier rows found and replaced too)
    conn.execute(f"UPDATE {table.qualified} SET is_current = false "
                 f"WHERE is_current AND (({owner_sql}) OR file_path IN (SELECT unnest(?)))", [*owner_args, paths])
    # A version's received time is the register's line when there is one, else its modification
    # time when it was first seen (a later touch of the same content changes nothing).
    given = {"is_current": "true", "ingested_at": "coalesce(seen.first_ingested, $now::TIMESTAMP)",
             "received_at": "CASE WHEN v.received_from = $mtime THEN coalesce(seen.first_mtime, v.received_at) "
                            "ELSE v.received_at END"}
    columns = table.column_names
    # (received_at as timestamps whatever the frame holds them as: a column of none is NaT, not a
    # float DuckDB would not mix with the first-seen times)
    incoming = log.assign(sha256=pd.Series(shas, index=log.index, dtype=object),
                          received_at=pd.to_datetime(log["received_at"]))
    with _registered(conn, "_incoming_audit_ingest_log", incoming) as view:
        conn.execute(
            f"INSERT INTO {table.qualified} ({', '.join(map(ident, columns))}) "
            f"SELECT {', '.join(given.get(c, f'v.{ident(c)}') for c in columns)} FROM {view} AS v "
            "LEFT JOIN (SELECT file_path, sha256, min(ingested_at) AS first_ingested, "
            "min(received_at) FILTER (WHERE received_from = $mtime) AS first_mtime "
            f"FROM {table.qualified} WHERE file_path IN (SELECT unnest($paths)) GROUP BY ALL) AS seen "
            "ON seen.file_path = v.file_path AND seen.sha256 IS NOT DISTINCT FROM v.sha256",
            {"now": now, "mtime": RECEIVED_FROM_MTIME, "paths": paths})
    conn.execute(  # the same versions' earlier rows, replaced above (a version without a digest: NULL)
        f"DELETE FROM {table.qualified} AS t USING (SELECT unnest(?) AS file_path, unnest(?) AS sha256) AS v "
        "WHERE t.file_path = v.file_path AND t.sha256 IS NOT DISTINCT FROM v.sha256 AND NOT t.is_current",
        [paths, shas])


def ensure_load_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Every table `load_period` writes made sure of (`ensure_tables`): the declared ones and the
    digests of the inputs."""
    ensure_tables(conn)
    ensure_tables(conn, [INPUTS])


def load_period(conn: duckdb.DuckDBPyConnection, result: PeriodFrames, now: datetime | None = None,
                inputs: str | None = None, *, tables_ensured: bool = False) -> None:
    """Replace one dataset-period in staging and audit, all in one transaction, with the digest
    of the inputs it was read from (`digests.INPUTS`; None: none is kept, the next run reads it again).
    `tables_ensured`: the caller made sure of the tables on this connection (`ensure_load_tables`)
    before loading its dataset-periods, so that each load does not ask the catalogue again (about
    5 ms, for each of a year's 84 dataset-periods)."""
    now = now or datetime.now(BEIJING).replace(tzinfo=None)  # the county's clock, as received_at
    staging = STAGING[result.dataset]
    if not tables_ensured:
        ensure_load_tables(conn)
    with transaction(conn):
        conn.execute(f"DELETE FROM {staging.qualified} WHERE period = ?", [result.period])
        _insert(conn, staging, result.staging)
        for name, frame in (("rejected_rows", result.rejected), ("cell_warnings", result.warnings)):
            table = AUDIT[name]
            conn.execute(f"DELETE FROM {table.qualified} WHERE dataset = ? AND period = ?",
                         [result.dataset, result.period])
            _insert(conn, table, frame)
        _replace_log_rows(conn, result.log, "partition_key = ?", [result.key], now)
        record_inputs(conn, result.key, inputs, table_ensured=True)


def load_unplaced(conn: duckdb.DuckDBPyConnection, log: pd.DataFrame, now: datetime | None = None) -> None:
    """Files that fit no dataset-period (unknown folder, bad period): their ingest-log rows, in one transaction."""
    ensure_tables(conn)
    with transaction(conn):
        _replace_log_rows(conn, log, "partition_key IS NULL", [], now or datetime.now(BEIJING).replace(tzinfo=None))
