"""Dagster's SQLite storage held open for a run (`defs.storage.kept_open`): each file the run
writes keeps its WAL between events (no checkpoint and no file deleted at every event), every
event is stored all the same, and the last close, after the run, checkpoints and tidies up."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import dagster as dg

from shouyang_pipeline.defs.storage import kept_open, run_files


@dg.asset
def one():
    return 1


@dg.asset
def two(one):
    return one + 1


def _run(instance: dg.DagsterInstance, run_id: str) -> dg.ExecuteInProcessResult:
    job = dg.Definitions(assets=[one, two]).resolve_implicit_global_asset_job_def()
    return job.execute_in_process(instance=instance, run_id=run_id)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def test_the_run_s_files_keep_their_wal_while_held_and_every_event_is_stored(tmp_path):
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        run_id = str(uuid.uuid4())
        with kept_open(instance, run_id) as held:
            names = {p.name for p in held}
            assert {"index.db", f"{run_id}.db", "runs.db"} <= names
            assert _run(instance, run_id).success
            # the last close of a file in WAL mode would have checkpointed it and deleted its WAL
            assert all(_wal(p).exists() for p in held if p.name != "runs.db")
        assert not any(_wal(p).exists() for p in held)  # checkpointed once, at the end
        events = [e.dagster_event_type for e in instance.all_logs(run_id) if e.dagster_event_type]
        assert dg.DagsterEventType.RUN_SUCCESS in events
        assert events.count(dg.DagsterEventType.ASSET_MATERIALIZATION) == 2
        assert instance.get_latest_materialization_event(dg.AssetKey("two")).run_id == run_id


def test_without_it_every_close_tidies_the_files_up(tmp_path):
    """The control: a run not held leaves no WAL behind any event (what made each event cost)."""
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        run_id = str(uuid.uuid4())
        assert _run(instance, run_id).success
        files = run_files(instance, run_id)
        assert files and not any(_wal(p).exists() for p in files)


def test_an_instance_not_in_sqlite_holds_nothing():
    with dg.DagsterInstance.ephemeral() as instance:
        run_id = str(uuid.uuid4())
        with kept_open(instance, run_id) as held:
            assert held == []
            assert _run(instance, run_id).success


def test_a_storage_that_cannot_be_opened_holds_nothing_and_the_body_runs(tmp_path, monkeypatch):
    """Only time is at stake: a storage Dagster cannot open now is left to the run to report."""
    from shouyang_pipeline.defs import storage

    def broken(instance, run_id):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage, "run_files", broken)
    ran = []
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        with storage.kept_open(instance, str(uuid.uuid4())) as held:
            ran.append(held)
    assert ran == [[]]


def _events(instance: dg.DagsterInstance, run_id: str) -> list:
    return [(e.dagster_event_type, e.dagster_event.asset_key if e.dagster_event else None)
            for e in instance.all_logs(run_id) if e.dagster_event_type]


def test_while_held_the_events_share_one_engine_and_connection_per_file(tmp_path, monkeypatch):
    """Dagster's storage makes an engine and a SQLite connection for every event it stores (and
    more to ask for a table); held, its events go through one engine and connection a file, and
    the same events are stored."""
    from dagster._core.storage import sql
    from dagster._core.storage.event_log.sqlite import sqlite_event_log
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    engines, connections = [], []
    for module in (sql, sqlite_event_log):  # Dagster's own binding, and the one the held storage uses
        real = module.create_engine
        monkeypatch.setattr(module, "create_engine", lambda *a, _real=real, **k: engines.append(a) or _real(*a, **k))
    def count(dbapi_connection, _record):  # a new SQLite connection to a file of the event storage
        name = Path(dbapi_connection.execute("PRAGMA database_list").fetchone()[2]).name
        if name != "runs.db" and name != "schedules.db":
            connections.append(name)

    event.listen(Pool, "connect", count)
    try:
        with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
            plain, held = str(uuid.uuid4()), str(uuid.uuid4())
            storage = instance.event_log_storage
            assert _run(instance, plain).success
            made_plain = (len(engines), len(connections))
            engines.clear()
            connections.clear()
            with kept_open(instance, held):
                assert _run(instance, held).success
                assert instance.get_latest_materialization_event(dg.AssetKey("two")).run_id == held
                with storage.run_connection(held) as conn:  # in WAL mode: synced at checkpoints (NORMAL)
                    assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
            made_held = (len(engines), len(connections))
            with storage.run_connection(held) as conn:  # Dagster's own connection: SQLite's default (FULL)
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
            assert not {"_connect", "has_table", "_has_asset_key_col_on_connection"} & set(vars(storage))  # Dagster's own again
            assert _events(instance, held) == _events(instance, plain)
            assert len(_events(instance, held)) >= 15
            assert _run(instance, str(uuid.uuid4())).success  # and after it, as before
    finally:
        event.remove(Pool, "connect", count)
    # held: an engine and a connection for the run's file and the index each, one more of each for
    # a table question, and Dagster's own for making the run's file (`run_files`: an engine, and the
    # connections setting the new file up); not held, some for every event
    assert made_plain[0] >= 15 and made_plain[1] >= 15, made_plain
    assert made_held[0] <= 4 and made_held[1] <= 8, made_held


def test_while_held_the_asset_keys_columns_are_read_once_not_at_every_asset_event(tmp_path, monkeypatch):
    """Dagster reads the asset keys' table's columns (SQLAlchemy's inspector) at every asset event it
    stores; held, once a run: the same events stored, and the same asset records."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    asked = []
    real = SqliteEventLogStorage._has_asset_key_col_on_connection
    monkeypatch.setattr(SqliteEventLogStorage, "_has_asset_key_col_on_connection",
                        lambda self, conn, name: asked.append(name) or real(self, conn, name))
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        plain, held = str(uuid.uuid4()), str(uuid.uuid4())
        assert _run(instance, plain).success
        asked_plain, asked[:] = list(asked), []
        with kept_open(instance, held):
            assert _run(instance, held).success
            asked_held = list(asked)
        assert _events(instance, held) == _events(instance, plain)
        assert instance.get_latest_materialization_event(dg.AssetKey("two")).run_id == held
        assert instance.get_asset_records([dg.AssetKey("two")])[0].asset_entry.last_materialization.run_id == held
    assert asked_plain.count("last_materialization_timestamp") >= 4  # an asset event, a question
    assert sorted(asked_held) == sorted(set(asked_plain)) and len(set(asked_held)) == len(asked_held)  # each once


def test_while_held_each_event_marks_the_run_s_file_modified(tmp_path):
    """Dagster's UI follows a running run by watching its file change; held open in WAL mode, a
    commit writes only the `-wal` beside it, so the file is touched after each event."""
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        run_id = str(uuid.uuid4())
        with kept_open(instance, run_id) as held:
            run_file = next(p for p in held if p.name == f"{run_id}.db")
            os.utime(run_file, ns=(0, 0))
            assert _run(instance, run_id).success
            assert run_file.stat().st_mtime_ns > 0
            assert _wal(run_file).exists()  # the events went to the WAL: only the touch changed the file


def test_held_inside_held_gives_dagster_s_connections_back_once_at_the_outer_end(tmp_path):
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        run_id = str(uuid.uuid4())
        storage = instance.event_log_storage
        with kept_open(instance, run_id):
            outer = vars(storage)["_connect"]
            with kept_open(instance, run_id):  # as `shouyang run` and the run's resource both do
                assert vars(storage)["_connect"] is outer
                assert _run(instance, run_id).success
            assert vars(storage)["_connect"] is outer
            assert instance.get_latest_materialization_event(dg.AssetKey("two")).run_id == run_id
        assert "_connect" not in vars(storage)
