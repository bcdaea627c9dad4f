"""Marts rebuilt from the first month whose inputs changed (`marts/inputs.py`): the table is the
same, row for row and in the same order, as one built whole, under any change of what the marts
read; the months before it are not written; a change of the reference lists, of a table's
columns, of a mart read by another, or the clock's mart, builds whole."""

from __future__ import annotations

import random
import re
import shutil

import duckdb
import pytest

from shouyang_pipeline.marts import build as build_module
from shouyang_pipeline.marts.build import build_all, build_mart
from shouyang_pipeline.marts.inputs import CLOCKS, UNCHANGED, WHOLE, MartInputs, base_tables, reads_clock, stored
from shouyang_pipeline.marts.lineage import build_order

from conftest import SAMPLE_CLOCK


@pytest.fixture
def conn(sample_year, tmp_path):
    path = tmp_path / "w.duckdb"
    shutil.copy(sample_year.warehouse, path)
    with duckdb.connect(str(path)) as c:
        build_all(c, now=SAMPLE_CLOCK)  # (the run's build: the inputs of every mart kept)
        yield c


def contents(c) -> dict[str, list]:
    """Every mart's rows in the table's own order (rowid: what `SELECT *` without ORDER BY shows)."""
    return {n: c.execute(f"SELECT * FROM marts.{n} ORDER BY rowid").fetchall() for n in build_order()}


def built_whole(c, tmp_path, tag: str) -> dict[str, list]:
    """The marts built whole from the same tables, in a copy of the file."""
    c.execute("CHECKPOINT")
    copy = tmp_path / f"whole_{tag}.duckdb"
    shutil.copy(c.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
                .fetchone()[0], copy)
    with duckdb.connect(str(copy)) as other:
        other.execute("DROP TABLE internal.mart_inputs")
        inputs = MartInputs(other)
        for name in build_order():
            build_mart(other, name, now=SAMPLE_CLOCK, inputs=inputs)
        assert set(inputs.rebuilt.values()) == {WHOLE}
        out = contents(other)
    copy.unlink()
    return out


def rebuild(c) -> dict[str, str]:
    inputs = MartInputs(c)
    for name in build_order():
        build_mart(c, name, now=SAMPLE_CLOCK, inputs=inputs)
    return inputs.rebuilt


def _months(c, table: str) -> list[str]:
    return [r[0] for r in c.execute(f"SELECT DISTINCT period FROM {table} ORDER BY 1").fetchall()]


def _number_columns(c, schema: str, table: str) -> list[str]:
    return [r[0] for r in c.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
        "AND (data_type LIKE 'DECIMAL%' OR data_type IN ('INTEGER', 'BIGINT', 'DOUBLE'))", [schema, table]).fetchall()]


def _a_row(c, rng: random.Random, table: str, where: str = "true", params=()) -> int | None:
    found = c.execute(f"SELECT rowid FROM {table} WHERE {where} ORDER BY rowid", list(params)).fetchall()
    return rng.choice(found)[0] if found else None


def change_something(c, rng: random.Random) -> str:
    """One change of the kind a run makes (a month's rows replaced, emptied or new; a file sent
    back; a reference list edited) or a hand could (a cell; a row), told in words."""
    staging = [f"staging.{t}" for t in ("key_projects", "industrial_output", "city_indicators", "village_income",
                                        "smart_mines", "zone_operations", "talent")]
    table = rng.choice(staging)
    months = _months(c, table)
    kind = rng.choice(["cell", "cell", "cell", "row", "month gone", "new month", "sent back", "reference", "nothing"])
    if kind == "nothing" or not months:
        return "nothing"
    month = rng.choice(months)
    if kind == "cell":
        numbers = _number_columns(c, *table.split("."))
        row = _a_row(c, rng, table, "period = ?", [month])
        column = rng.choice(numbers)
        c.execute(f'UPDATE {table} SET "{column}" = coalesce("{column}", 0) + 1 WHERE rowid = ?', [row])
        return f"{table} {month} row {row} {column} + 1"
    if kind == "row":
        row = _a_row(c, rng, table, "period = ?", [month])
        c.execute(f"DELETE FROM {table} WHERE rowid = ?", [row])
        return f"{table} {month} row {row} deleted"
    if kind == "month gone":
        c.execute(f"DELETE FROM {table} WHERE period = ?", [month])
        return f"{table} {month} emptied"
    if kind == "new month":
        held = set(months)
        free = [m for m in (f"2023-{k:02d}" for k in range(1, 13)) if m not in held] + ["2022-" + month[5:], "2024-01"]
        new = rng.choice(free)
        c.execute(f"INSERT INTO {table} SELECT * REPLACE (? AS period) FROM {table} WHERE period = ?", [new, month])
        return f"{table} {month} copied as {new}"
    if kind == "sent back":
        row = _a_row(c, rng, "audit.ingest_log", "is_current AND partition_key IS NOT NULL AND period = ?", [month])
        if row is None:
            return "nothing"
        c.execute("UPDATE audit.ingest_log SET status = 'rejected' WHERE rowid = ?", [row])
        return f"ingest_log {month} row {row} sent back"
    target = rng.choice(["reference.targets", "reference.villages", "reference.townships"])
    row = _a_row(c, rng, target)
    if target == "reference.targets":
        c.execute("UPDATE reference.targets SET target_value = target_value + 1 WHERE rowid = ?", [row])
    else:
        c.execute(f"DELETE FROM {target} WHERE rowid = ?", [row])
    return f"{target} row {row} changed"


def test_a_partial_build_is_the_whole_build_under_random_changes(conn, tmp_path):
    rng = random.Random(20261205)
    partial = 0
    for step in range(14):
        said = [change_something(conn, rng) for _ in range(rng.choice([1, 1, 2]))]
        rebuilt = rebuild(conn)
        partial += sum(1 for v in rebuilt.values() if v not in (WHOLE, UNCHANGED))
        got = contents(conn)
        whole = built_whole(conn, tmp_path, str(step))
        for name in build_order():
            assert got[name] == whole[name], (step, said, name, rebuilt[name])
    assert partial >= 10, "the changes must make marts be rebuilt from a month, not only whole"


def test_nothing_changed_builds_nothing_but_the_clock_mart(conn):
    before = {n: conn.execute(f"SELECT rowid, * FROM marts.{n} ORDER BY rowid").fetchall() for n in build_order()}
    rebuilt = rebuild(conn)
    assert rebuilt == {n: WHOLE if n == "submission_status" else UNCHANGED for n in build_order()}
    after = {n: conn.execute(f"SELECT rowid, * FROM marts.{n} ORDER BY rowid").fetchall() for n in build_order()}
    assert after == before


def test_a_month_changed_rebuilds_its_readers_from_it_and_leaves_the_months_before(conn, tmp_path):
    earlier = conn.execute("SELECT rowid, * FROM marts.project_progress WHERE period < '2023-09' ORDER BY rowid").fetchall()
    conn.execute("UPDATE staging.key_projects SET ytd_investment = ytd_investment + 7 "
                 "WHERE period = '2023-09' AND rowid = (SELECT min(rowid) FROM staging.key_projects WHERE period = '2023-09')")
    rebuilt = rebuild(conn)
    readers = [n for n in build_order() if ("staging", "key_projects") in base_tables(n)]
    assert {"project_summary", "project_progress", "target_scorecard"} <= set(readers)
    for name in build_order():
        if name == "submission_status":
            assert rebuilt[name] == WHOLE
        elif name in readers:
            assert rebuilt[name] == "2023-09", name
        else:
            assert rebuilt[name] == UNCHANGED, name
    # the months before it kept their rows where they were (not deleted and written again)
    assert conn.execute("SELECT rowid, * FROM marts.project_progress WHERE period < '2023-09' "
                        "ORDER BY rowid").fetchall() == earlier
    assert contents(conn) == built_whole(conn, tmp_path, "sep")
    # what each month was built from is kept with the rows: building again changes nothing
    assert set(rebuild(conn).values()) == {UNCHANGED, WHOLE}


def test_the_reference_lists_a_tables_columns_and_the_earliest_month_build_whole(conn, tmp_path):
    conn.execute("UPDATE reference.targets SET target_value = target_value * 2 WHERE rowid = 0")
    rebuilt = rebuild(conn)
    readers = [n for n in build_order() if ("reference", "targets") in base_tables(n)]
    assert readers and all(rebuilt[n] == WHOLE for n in readers)
    assert rebuilt["project_progress"] == UNCHANGED
    # a column's type changed, its values the same
    conn.execute("ALTER TABLE staging.talent ALTER connected_ytd TYPE BIGINT")
    rebuilt = rebuild(conn)
    assert rebuilt["talent_summary"] == WHOLE and rebuilt["project_progress"] == UNCHANGED
    # a change in the first month held
    first = _months(conn, "staging.key_projects")[0]
    conn.execute("DELETE FROM staging.key_projects WHERE rowid = (SELECT min(rowid) FROM staging.key_projects "
                 "WHERE period = ?)", [first])
    assert rebuild(conn)["project_progress"] == WHOLE
    assert contents(conn) == built_whole(conn, tmp_path, "ref")


def test_the_clock_is_read_by_the_calendar_alone():
    assert [n for n in build_order() if reads_clock(n)] == ["submission_status"]
    # a macro calling a clock would hide it from the marts' parse trees
    code = "\n".join(line.split("--")[0] for line in build_module.macros_sql().splitlines()).lower()
    assert not [c for c in CLOCKS if re.search(rf"\b{c}\b", code)]


def test_a_mart_built_alone_follows_the_marts_it_reads_when_they_are_built_again(conn, tmp_path):
    """From the UI a mart can be materialised without those it reads: it reads them as they are,
    and is built again (from the month they changed) once they are."""
    conn.execute("UPDATE staging.key_projects SET status = '竣工' WHERE period = '2023-11'")
    assert build_mart(conn, "target_scorecard", now=SAMPLE_CLOCK) > 0  # project_summary not rebuilt yet
    inputs = MartInputs(conn)
    build_mart(conn, "project_summary", now=SAMPLE_CLOCK, inputs=inputs)
    build_mart(conn, "target_scorecard", now=SAMPLE_CLOCK, inputs=inputs)
    assert inputs.rebuilt == {"project_summary": "2023-11", "target_scorecard": "2023-11"}
    rebuild(conn)
    assert contents(conn) == built_whole(conn, tmp_path, "alone")


def test_a_dropped_mart_is_made_whole_and_a_reader_of_a_dropped_one_fails(conn):
    conn.execute("DROP TABLE marts.project_summary")
    with pytest.raises(duckdb.CatalogException, match="project_summary"):
        build_mart(conn, "target_scorecard", now=SAMPLE_CLOCK)
    inputs = MartInputs(conn)
    build_mart(conn, "project_summary", now=SAMPLE_CLOCK, inputs=inputs)
    assert inputs.rebuilt == {"project_summary": WHOLE}


def test_a_failed_partial_build_keeps_the_rows_and_what_they_were_built_from(conn, monkeypatch):
    kept = stored(conn, "project_progress")
    before = conn.execute("SELECT * FROM marts.project_progress ORDER BY rowid").fetchall()
    conn.execute("UPDATE staging.key_projects SET ytd_investment = ytd_investment + 1 WHERE period = '2023-12'")
    real = build_module.mart_sql
    monkeypatch.setattr(build_module, "mart_sql", lambda name: real(name).replace("round_pct(completion)", "1/0::INTEGER_X"))
    inputs = MartInputs(conn, build_order())  # one for both builds, as in the marts step
    with pytest.raises(duckdb.Error):
        build_mart(conn, "project_progress", now=SAMPLE_CLOCK, inputs=inputs)
    assert stored(conn, "project_progress") == kept
    assert conn.execute("SELECT * FROM marts.project_progress ORDER BY rowid").fetchall() == before
    monkeypatch.undo()
    # a build cancelled before its commit (a step stopped) had written its digests: rolled back too
    with pytest.raises(build_module.BuildCancelled):
        build_mart(conn, "project_progress", now=SAMPLE_CLOCK, inputs=inputs, cancelled=lambda: True)
    assert stored(conn, "project_progress") == kept
    build_mart(conn, "project_progress", now=SAMPLE_CLOCK, inputs=inputs)
    assert inputs.rebuilt == {"project_progress": "2023-12"}
    assert stored(conn, "project_progress") != kept
    # the same object goes on: the reader of the rebuilt mart is rebuilt from the same month
    build_mart(conn, "target_scorecard", now=SAMPLE_CLOCK, inputs=inputs)
    assert inputs.rebuilt["target_scorecard"] == "2023-12"


def test_a_build_after_a_failed_one_on_a_new_connection_makes_the_macros_again(sample_year, tmp_path, monkeypatch):
    """The macros are made once a connection, inside the first build's transaction: a first build
    that fails takes them with it, and the next build makes them again."""
    path = tmp_path / "fresh.duckdb"
    shutil.copy(sample_year.warehouse, path)
    with duckdb.connect(str(path)) as fresh:
        fresh.execute("DROP TABLE internal.mart_inputs")  # (built whole: its SQL runs)
        inputs = MartInputs(fresh, build_order())
        real = build_module.mart_sql
        monkeypatch.setattr(build_module, "mart_sql", lambda name: real(name) + " LIMIT no_such_column")
        with pytest.raises(duckdb.Error):
            build_mart(fresh, "project_summary", now=SAMPLE_CLOCK, inputs=inputs)
        monkeypatch.undo()
        assert build_mart(fresh, "project_summary", now=SAMPLE_CLOCK, inputs=inputs) > 0


def test_a_build_that_keeps_nothing_builds_whole_and_drops_what_was_kept(conn, tmp_path):
    """The bench's bare baseline (`build_all(track=False)`): every mart whole, no digests read or
    kept, and those kept before dropped (they would no longer tell what the rows were built from)."""
    conn.execute("UPDATE staging.key_projects SET ytd_investment = ytd_investment + 1 WHERE period = '2023-10'")
    build_all(conn, now=SAMPLE_CLOCK, track=False)
    assert stored(conn) == {}
    assert contents(conn) == built_whole(conn, tmp_path, "bare")
    assert set(rebuild(conn).values()) == {WHOLE}  # the next build that keeps them starts whole
    assert set(stored(conn)) == set(build_order()) - {"submission_status"}


def test_the_exports_count_a_mart_by_what_it_was_built_from(conn):
    """`digests.month_digests` (which months' briefings, workbooks and receipts are written again)
    counts a mart that keeps its inputs by those, not by hashing its rows: a month's digest
    changes when the mart's rows of that month were rebuilt from other inputs, the same month of
    the year before included (the parks' growth), and not otherwise."""
    from shouyang_pipeline.warehouse.digests import month_digests

    months = [f"2023-{m:02d}" for m in range(1, 13)]
    before = month_digests(conn, months)
    assert rebuild(conn)["zone_operations_summary"] == UNCHANGED
    assert month_digests(conn, months) == before
    growth = "SELECT operating_revenue_yoy_pct FROM marts.zone_operations_summary WHERE period = '2023-06' ORDER BY ALL"
    assert {r[0] for r in conn.execute(growth).fetchall()} == {None}  # no 2022 held: no growth
    conn.execute("INSERT INTO staging.zone_operations SELECT * REPLACE ('2022-06' AS period, "
                 "operating_revenue_ytd / 2 AS operating_revenue_ytd) FROM staging.zone_operations WHERE period = '2023-06'")
    rebuilt = rebuild(conn)
    assert rebuilt["zone_operations_summary"] == WHOLE  # (2022-06 is the earliest month now)
    assert {r[0] for r in conn.execute(growth).fetchall()} != {None}
    after = month_digests(conn, months)
    assert after["2023-06"] != before["2023-06"]  # its parks' growth is shown now
    # the calendar keeps no inputs (it judges by the clock): its rows are hashed as they are
    conn.execute("UPDATE marts.submission_status SET status = '已报送' WHERE period = '2023-12'")
    assert month_digests(conn, ["2023-12"])["2023-12"] != after["2023-12"]


def _reversed(c, table: str) -> None:
    """The list's rows written again in the opposite order (as a CSV reordered loads them)."""
    c.execute(f"CREATE TEMP TABLE _rows AS SELECT * FROM {table} ORDER BY rowid DESC")
    c.execute(f"DELETE FROM {table}")
    c.execute(f"INSERT INTO {table} SELECT * FROM _rows")
    c.execute("DROP TABLE _rows")


def test_a_reference_list_reordered_rebuilds_the_marts_kept_in_its_order(conn, tmp_path):
    """Marts list the parks, chains, mines and targets in their list's order (`ORDER BY r.rowid`):
    the same rows in another order are a change of the list."""
    from shouyang_pipeline.warehouse.digests import month_digests

    exports = month_digests(conn, ["2023-12"])
    for table in ("reference.zones", "reference.industry_chains", "reference.mines", "reference.targets"):
        _reversed(conn, table)
    rebuilt = rebuild(conn)
    for name in ("zone_project_summary", "zone_operations_summary", "industry_chain_summary",
                 "smart_mine_summary", "target_scorecard"):
        assert rebuilt[name] == WHOLE, name
    assert rebuilt["project_progress"] == UNCHANGED
    assert contents(conn) == built_whole(conn, tmp_path, "reordered")
    assert month_digests(conn, ["2023-12"]) != exports  # the briefings list them in the new order too


def test_rows_of_no_period_stay_last_through_a_build_from_a_month(conn):
    """A row of no period (none is loaded so, but by hand) sorts after every month in a whole
    build (NULLS LAST): a build from a month redoes it with the months after it. (The marts of
    the key projects: the scorecard's sentences want a month.)"""
    names = ["project_summary", "zone_project_summary", "project_progress", "industry_chain_summary"]

    def build(*, whole: bool = False) -> dict[str, str]:
        inputs = MartInputs(conn, names, whole=whole)
        for name in names:
            build_mart(conn, name, now=SAMPLE_CLOCK, inputs=inputs)
        return inputs.rebuilt

    conn.execute("INSERT INTO staging.key_projects SELECT * REPLACE (NULL AS period) FROM staging.key_projects "
                 "WHERE period = '2023-03' ORDER BY rowid LIMIT 1")
    build()
    conn.execute("UPDATE staging.key_projects SET ytd_investment = ytd_investment + 1 WHERE period = '2023-10'")
    assert build() == dict.fromkeys(names, "2023-10")
    got = {n: conn.execute(f"SELECT * FROM marts.{n} ORDER BY rowid").fetchall() for n in names}
    assert got["project_progress"][-1][0] is None  # last, as in a whole build
    assert set(build(whole=True).values()) == {WHOLE}
    assert {n: conn.execute(f"SELECT * FROM marts.{n} ORDER BY rowid").fetchall() for n in names} == got


def test_force_builds_every_mart_whole_and_keeps_what_they_were_built_from(conn):
    """`shouyang run --force` (the marts step's `whole`): every mart built whole, as after an older
    version of the pipeline rebuilt them on the work file without keeping their inputs."""
    inputs = MartInputs(conn, build_order(), whole=True)
    for name in build_order():
        build_mart(conn, name, now=SAMPLE_CLOCK, inputs=inputs)
    assert set(inputs.rebuilt.values()) == {WHOLE}
    assert set(rebuild(conn).values()) == {UNCHANGED, WHOLE}  # kept: the next run builds nothing


def test_a_period_is_a_month_only_when_all_of_it_is():
    from shouyang_pipeline.warehouse.digests import is_month

    assert is_month("2023-05") and not is_month("2023-05\n") and not is_month("2023-5") and not is_month(None)
    assert not is_month("2023-13") and not is_month(" 2023-05") and not is_month("2023-05-01")


def test_a_build_inside_a_callers_transaction_is_refused(conn):
    """A build is its own transaction (a failed one leaves the table and what it was built from):
    inside a caller's, DuckDB refuses it, and the caller's rolls back with nothing changed."""
    before = contents(conn)
    conn.execute("BEGIN TRANSACTION")
    conn.execute("UPDATE staging.key_projects SET ytd_investment = ytd_investment + 1 WHERE period = '2023-12'")
    with pytest.raises(duckdb.TransactionException):
        build_mart(conn, "project_progress", now=SAMPLE_CLOCK)
    conn.execute("ROLLBACK")
    assert contents(conn) == before and rebuild(conn)["project_progress"] == UNCHANGED
