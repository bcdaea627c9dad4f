"""audit.ingest_log as the loads keep it (`warehouse.load`): each version of a file (its path and
content) keeps the time it was first read and, without a register line, the modification time it
had then; the latest version of each path is the current one; and a statement that fails inside a
load's transaction is raised as itself."""

from __future__ import annotations

from datetime import datetime

import duckdb
import numpy as np
import pandas as pd
import pytest

from shouyang_pipeline.catalog.tables import AUDIT, FILE_LOG_COLUMNS, RECEIVED_FROM_MTIME, RECEIVED_FROM_REGISTER
from shouyang_pipeline.warehouse.connection import transaction
from shouyang_pipeline.warehouse.load import _insert, _replace_log_rows, ensure_load_tables

PATH = "key_projects/2023-02__发改局.csv"
KEY = "key_projects/2023-02"


def _log(sha: str | None, received_at, received_from: str = RECEIVED_FROM_MTIME, path: str = PATH) -> pd.DataFrame:
    row = {c: None for c in FILE_LOG_COLUMNS}
    row.update(file_path=path, dataset="key_projects", period="2023-02", sha256=sha, status="loaded",
               rows_read=1, rows_loaded=1, rows_rejected=0, received_at=received_at, received_from=received_from,
               partition_key=KEY)
    return pd.DataFrame([row], columns=FILE_LOG_COLUMNS)


def _rows(conn) -> list[tuple]:
    return conn.execute("SELECT sha256, is_current, ingested_at, received_at FROM audit.ingest_log "
                        "ORDER BY ingested_at, sha256").fetchall()


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        ensure_load_tables(conn)
        yield conn


def _load(conn, log: pd.DataFrame, now: datetime) -> None:
    with transaction(conn):
        _replace_log_rows(conn, log, "partition_key = ?", [KEY], now)


def test_a_version_sent_again_keeps_its_first_times_and_a_version_back_again_too(conn):
    t1, t2, t3, t4 = (datetime(2023, 3, d, 9) for d in (1, 2, 3, 4))
    m1, m2, m3 = (datetime(2023, 2, d, 18) for d in (27, 28, 26))
    _load(conn, _log("a", m1), t1)
    _load(conn, _log("a", m2), t2)  # touched, the same content: nothing changes
    assert _rows(conn) == [("a", True, t1, m1)]
    _load(conn, _log("b", m2), t3)  # a new version: its own times; the first one kept, not current
    assert _rows(conn) == [("a", False, t1, m1), ("b", True, t3, m2)]
    _load(conn, _log("a", m3), t4)  # the first content back: its first times again, one row of it
    assert _rows(conn) == [("a", True, t1, m1), ("b", False, t3, m2)]


def test_a_register_line_gives_the_received_time_whatever_the_version_had_before(conn):
    first, registered = datetime(2023, 2, 27, 18), datetime(2023, 3, 2, 10, 30)
    _load(conn, _log("a", first), datetime(2023, 3, 1))
    _load(conn, _log("a", registered, RECEIVED_FROM_REGISTER), datetime(2023, 3, 3))
    assert _rows(conn) == [("a", True, datetime(2023, 3, 1), registered)]


@pytest.mark.parametrize("received", [
    pd.Series([None], dtype=object),  # a file with no time at all (a link that could not be read)
    pd.Series([np.nan]),  # the same as pandas may hold it: a float column of NaN
    pd.Series([pd.NaT]),
], ids=["none", "nan", "nat"])
def test_a_file_without_a_received_time_is_logged_with_none(conn, received):
    log = _log(None, None)
    log["received_at"] = received
    _load(conn, log, datetime(2023, 3, 1))
    _load(conn, log, datetime(2023, 3, 2))  # (a version without a digest: found again and replaced)
    assert _rows(conn) == [(None, True, datetime(2023, 3, 1), None)]


def test_the_owners_other_files_stop_being_current_and_an_empty_log_leaves_none_current(conn):
    _load(conn, pd.concat([_log("a", datetime(2023, 2, 27)), _log("c", datetime(2023, 2, 27), path="key_projects/x.csv")]),
          datetime(2023, 3, 1))
    _load(conn, _log("b", datetime(2023, 2, 28)), datetime(2023, 3, 2))
    assert conn.execute("SELECT file_path, sha256 FROM audit.ingest_log WHERE is_current").fetchall() == [(PATH, "b")]
    _load(conn, _log("b", None).iloc[0:0], datetime(2023, 3, 3))
    assert conn.execute("SELECT count(*) FROM audit.ingest_log WHERE is_current").fetchone() == (0,)


@pytest.mark.parametrize("path", [
    "key_projects/2023-02__发改局'); DELETE FROM audit.ingest_log; --.csv",  # SQL in a name: a value, never SQL
    "key_projects/2023-02__" + "长" * 80 + ".csv",  # as long a name as a file system takes
    "key_projects/2023-02__发改局\u202e.csv",  # a character that turns the text around on screen
], ids=["sql", "long", "bidi"])
def test_odd_file_names_are_logged_as_they_are_and_found_again(conn, path):
    _load(conn, _log("a", datetime(2023, 2, 27), path=path), datetime(2023, 3, 1))
    _load(conn, _log("a", datetime(2023, 2, 28), path=path), datetime(2023, 3, 2))
    assert conn.execute("SELECT file_path, is_current, ingested_at, received_at FROM audit.ingest_log").fetchall() == [
        (path, True, datetime(2023, 3, 1), datetime(2023, 2, 27))]


def test_a_statement_failing_inside_a_loads_transaction_is_raised_as_itself(conn):
    """DuckDB refuses to unregister a frame once a statement has aborted the transaction: that
    refusal must not hide the statement's own error."""
    bad = _log("a", datetime(2023, 2, 27)).drop(columns=["received_at", "received_from"])
    bad["rows_read"] = "many"  # not an INTEGER
    with pytest.raises(duckdb.Error) as caught:
        with transaction(conn):
            _insert(conn, AUDIT["ingest_log"], bad)
    assert not isinstance(caught.value, duckdb.TransactionException)
    assert "many" in str(caught.value)
