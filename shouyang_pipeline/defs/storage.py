"""Dagster's SQLite storage held open for the length of a run (`kept_open`).

Dagster's SQLite storage opens a connection for every event it stores and closes it again. The
files are in WAL mode, and closing the last connection to such a file checkpoints it and deletes
its WAL and shared-memory files: every event of a run paid for that, about two thirds of the
10-15 ms an event took here (a one-month run stores some 190 events, a year's run some 740).
With one more connection open on each file, closing one is only a close: SQLite still
checkpoints as the WAL grows, and the last close, when the run is over, checkpoints once.
`shouyang run` holds them around its whole run, its creation included (the events that say what
it plans to materialise, one an asset and month); the resource holds them from its first step to
its last, for a run launched from the UI, a schedule or the sensor too.

The event storage also makes a new SQLAlchemy engine for every event it stores (and another
to ask whether a table exists): each engine compiles its INSERT statements afresh, as its
statement cache is its own. While the files are held, the storage's event connections come
from one engine per file (`_engines_reused`), which keeps one connection a thread between events,
and those wait for the disk at SQLite's checkpoints rather than at every commit
(`_synced_at_checkpoints`): storing 600 materialisations took 2.0 s here, 1.2 s with the
engines kept, 0.8–0.9 s with the commits not waiting either and 0.6–0.7 s with the connections
kept (a year's run stores some 1,300 events). The connections hold no transaction between
events, like the ones held open above, and are closed before them. After each event the run's
file is touched (`_touched`): the UI follows a running run by watching that file, which in WAL
mode with the file held open changes only at checkpoints. Dagster's own
`_connect`, `has_table` and `_has_asset_key_col_on_connection` (which reads the table's columns
at every asset event: 0.2 s of the sample's run) are replaced on the storage object for the
while and given back after, so this leans on Dagster's internals as `run_files` does (dagster is pinned; re-check
on an upgrade: shouyang_pipeline_tests/test_dagster_storage.py).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg


def run_files(instance: dg.DagsterInstance, run_id: str) -> list[Path]:
    """The SQLite files of `instance` a run writes to, those that exist: the runs, the index of
    the events, and the run's own events (made here, as its first event would make it). None of
    them when the instance does not keep its runs in SQLite (a Postgres instance)."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage

    paths = []
    events, runs = instance.event_log_storage, instance.run_storage
    if isinstance(events, SqliteEventLogStorage):
        with events.run_connection(run_id):  # its file made now, in WAL mode, not at its first event
            pass
        paths += [events.path_for_shard(INDEX_SHARD_NAME), events.path_for_shard(run_id)]
    if isinstance(runs, SqliteRunStorage) and runs._conn_string.startswith("sqlite:///"):
        paths.append(runs._conn_string.removeprefix("sqlite:///"))
    return [Path(p) for p in paths if Path(p).is_file()]


@contextmanager
def kept_open(instance: dg.DagsterInstance, run_id: str) -> Iterator[list[Path]]:
    """Each file of `run_files` held open by one idle connection while the body runs (it gets
    the files held). The connection holds no transaction: it blocks neither Dagster's writes nor
    SQLite's checkpoints. A file that cannot be opened is left as it is: only time is at stake."""
    try:
        files = run_files(instance, run_id)
    except Exception:  # noqa: BLE001 - a storage Dagster cannot open now: the run itself will say so
        files = []
    with ExitStack() as stack:
        held = []
        for path in files:
            try:
                conn = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=5)
            except sqlite3.Error:
                continue
            stack.callback(conn.close)
            try:
                # a read makes it one of the file's connections in WAL mode (and ends with it)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
            except sqlite3.Error:
                continue
            held.append(path)
        stack.enter_context(_engines_reused(instance.event_log_storage))
        yield held


def _synced_at_checkpoints(dbapi_connection, _record) -> None:
    """A connection to a file in WAL mode syncs it to disk at checkpoints, not at every commit
    (SQLite's `synchronous = NORMAL`, which it recommends for WAL mode: no corruption after a power
    cut or a crash of the machine, only the last transactions lost; a killed process loses
    nothing). Here that is the last events of a run (its log, its materialisations, the index's
    record of them) when the machine itself goes down mid-run: the runs file (`runs.db`, not
    written through these connections) keeps SQLite's default, so it may then show a run's status
    without its last events. A commit that waits for the disk took half of an event's time here."""
    if dbapi_connection.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
        dbapi_connection.execute("PRAGMA synchronous = NORMAL")


@contextmanager
def _engines_reused(storage) -> Iterator[None]:
    """`storage` (Dagster's `SqliteEventLogStorage`) connecting through one engine per file (one
    connection a thread, kept), and remembering the tables and the asset keys' columns it
    found, while the body runs.
    Anything else (another storage, one already reusing them: `kept_open` inside `kept_open`)
    is left as it is."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
    from dagster._core.storage.sql import create_engine
    from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
    from sqlalchemy import event
    from sqlalchemy.pool import SingletonThreadPool

    if type(storage) is not SqliteEventLogStorage or "_connect" in vars(storage):
        yield
        return
    engines: dict = {}
    tables: set[str] = set()

    @contextmanager
    def _connect(shard: str):  # Dagster's `SqliteEventLogStorage._connect`, the engine kept
        with storage._db_lock:
            engine = engines.get(shard)
            if engine is None:
                # one connection a thread, kept between events (Dagster's: a new one each time)
                engine = engines[shard] = create_engine(storage.conn_string_for_shard(shard),
                                                        poolclass=SingletonThreadPool,
                                                        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
                event.listen(engine, "connect", _synced_at_checkpoints)
                if shard not in storage._initialized_dbs:
                    storage._initdb(engine)
                    storage._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn
            if shard != INDEX_SHARD_NAME:
                _touched(storage.path_for_shard(shard))

    def has_table(name: str) -> bool:  # a table once there stays there
        if name not in tables and SqliteEventLogStorage.has_table(storage, name):
            tables.add(name)
        return name in tables

    columns: set[str] = set()

    def has_asset_key_col(conn, name: str) -> bool:  # asked at every asset event; a column once there stays there
        if name not in columns and SqliteEventLogStorage._has_asset_key_col_on_connection(storage, conn, name):
            columns.add(name)
        return name in columns

    storage._connect, storage.has_table, storage._has_asset_key_col_on_connection = _connect, has_table, has_asset_key_col
    try:
        yield
    finally:
        with storage._db_lock:  # no event half stored on a connection closed under it
            del storage._connect, storage.has_table, storage._has_asset_key_col_on_connection
            for engine in engines.values():
                engine.dispose()


def _touched(path: str) -> None:
    """A run's events file marked modified. Dagster's UI follows a running run by watching its
    file change (`SqliteEventLogStorageWatchdog`); in WAL mode, with the file held open, a commit
    writes only the `-wal` beside it until a checkpoint, so the run's log would reach the UI only
    when the run ends. Touching the file is what a direct write did."""
    try:
        os.utime(path)
    except OSError:  # only the UI's promptness is at stake
        pass
