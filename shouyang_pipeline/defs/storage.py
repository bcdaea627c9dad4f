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
"""

from __future__ import annotations

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
        yield held
