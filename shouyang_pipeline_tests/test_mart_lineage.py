"""The marts' lineage comes from their SQL, and it is exactly what the SQL reads.

`marts.lineage` parses each marts/<name>.sql with DuckDB's parser. These tests hold it to the
SQL three ways: it equals the `schema.table` names of the SQL text; a mart builds in a warehouse
that holds its lineage and nothing else (so nothing is missing from it); and it fails when any
one table of its lineage is gone (so nothing in it is superfluous). The build order and the
Dagster assets' deps follow from it, and the shared macros are TEMP and read no table.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

try:
    from .test_marts import load_example, make_warehouse
except ImportError:  # rootdir-style imports (no package __init__)
    from test_marts import load_example, make_warehouse

from shouyang_pipeline.catalog.marts import MART_CHECKS, MARTS
from shouyang_pipeline.catalog.tables import AUDIT, REFERENCE, STAGING
from shouyang_pipeline.marts.build import build_all, build_mart, create_macros, mart_sql
from shouyang_pipeline.marts.lineage import LineageError, build_order, mart_inputs, marts_read, tables_read

DECLARED = {t.key for t in (*REFERENCE.values(), *STAGING.values(), *AUDIT.values(), *MARTS.values())}


def _named_in_text(sql: str) -> set[str]:
    """`schema.table` of the warehouse's schemas named in the SQL, comments and strings aside."""
    code = re.sub(r"--[^\n]*", "", sql)
    code = re.sub(r"'[^']*'", "''", code)
    return {f"{s}/{t}" for s, t in re.findall(r"\b(staging|reference|audit|marts)\.([A-Za-z_]\w*)", code)}


@pytest.mark.parametrize("name", list(MARTS))
def test_lineage_is_the_tables_the_sql_names(name):
    inputs = mart_inputs(name)
    assert set(inputs) == _named_in_text(mart_sql(name)), name
    assert set(inputs) <= DECLARED, set(inputs) - DECLARED
    assert f"marts/{name}" not in inputs


def test_marts_read_marts():
    # the scorecard takes its periods, its figures as shown and its village counts from the marts
    assert {"marts/project_summary", "marts/industrial_output_summary", "marts/township_income_summary"} <= set(
        mart_inputs("target_scorecard"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return make_warehouse(tmp_path_factory.mktemp("lineage") / "warehouse.duckdb")


def _copy(built: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    path = tmp_path / "w.duckdb"
    shutil.copy(built, path)
    return duckdb.connect(str(path))


@pytest.mark.parametrize("name", list(MARTS))
def test_a_mart_builds_from_its_lineage_alone(built, tmp_path, name):
    conn = _copy(built, tmp_path)
    before = conn.execute(f"SELECT * FROM marts.{name}").fetchall()
    keep = set(mart_inputs(name)) | {f"marts/{name}"}
    for key in sorted(DECLARED - keep):
        schema, table = key.split("/")
        conn.execute(f'DROP TABLE IF EXISTS "{schema}"."{table}"')
    build_mart(conn, name)
    if name != "target_scorecard":  # its status of targets outside the contract reads the catalog
        assert conn.execute(f"SELECT * FROM marts.{name}").fetchall() == before
    conn.close()


@pytest.mark.parametrize("name,key", [(n, k) for n in MARTS for k in mart_inputs(n)])
def test_a_mart_needs_every_table_of_its_lineage(built, tmp_path, name, key):
    conn = _copy(built, tmp_path)
    schema, table = key.split("/")
    conn.execute(f'DROP TABLE "{schema}"."{table}"')
    with pytest.raises(duckdb.CatalogException, match=table):
        build_mart(conn, name)
    conn.close()


def test_build_order_puts_every_mart_after_the_marts_it_reads():
    order = build_order()
    assert sorted(order) == sorted(MARTS)
    for name in order:
        for upstream in marts_read(mart_inputs(name)):
            assert order.index(upstream) < order.index(name), (upstream, name)
    assert order[-1] == "target_scorecard"


def test_build_order_of_a_given_lineage():
    assert build_order({"a": ["marts/b", "staging/x"], "b": [], "c": []}) == ["b", "a", "c"]
    with pytest.raises(LineageError, match="cycle: a → b → a"):
        build_order({"a": ["marts/b"], "b": ["marts/a"]})
    with pytest.raises(LineageError, match="marts.nope, which is not a declared mart"):
        build_order({"a": ["marts/nope"]})


def test_tables_read_uses_the_parser():
    sql = """
        WITH periods AS (SELECT DISTINCT period FROM staging.key_projects),  -- marts.in_a_comment
             "quoted cte" AS (SELECT 1)
        SELECT p.period, (SELECT count(*) FROM reference.villages) AS n, 'marts.in_a_string' AS s
        FROM periods AS p
        LEFT JOIN "marts"."project_summary" AS m USING (period)
        CROSS JOIN "quoted cte"
        WHERE p.period IN (SELECT period FROM staging.village_income)
          AND 'x' IN (SELECT table_name FROM duckdb_tables())
    """
    assert tables_read(sql) == ("marts/project_summary", "reference/villages", "staging/key_projects",
                                "staging/village_income")
    with pytest.raises(LineageError, match="without its schema"):
        tables_read("SELECT * FROM key_projects")
    with pytest.raises(LineageError):
        tables_read("SELECT * FROM staging.key_projects WHERE")
    with pytest.raises(LineageError):
        tables_read("CREATE TABLE x AS SELECT 1")


def test_mart_assets_depend_on_their_lineage_and_carry_their_declared_checks():
    from shouyang_pipeline.defs import defs

    graph = defs.resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    for name in MARTS:
        node = graph.get(dg.AssetKey(["marts", name]))
        parents = {k.to_user_string() for k in node.parent_keys}
        assert parents == set(mart_inputs(name)) | {"audit/ingest_log"}, name
        assert {c for a, c in checks if a == f"marts/{name}"} == {c.name for c in MART_CHECKS.get(name, ())}


@pytest.mark.parametrize("name", list(MART_CHECKS))
def test_status_checks_name_columns_of_their_mart(name):
    columns = set(MARTS[name].column_names)
    for check in MART_CHECKS[name]:
        assert {check.column, check.order_by, *check.shown} <= columns
        assert set(check.warn_on) <= set(check.values)


# --- the macros ---------------------------------------------------------------------------


def _macros(conn) -> dict[str, str]:
    return dict(conn.execute(
        "SELECT function_name, macro_definition FROM duckdb_functions() "
        "WHERE function_type = 'macro' AND database_name = 'temp'").fetchall())


def test_macros_read_no_table_and_every_one_is_used():
    conn = duckdb.connect()
    create_macros(conn)
    macros = _macros(conn)
    assert macros
    for name, definition in macros.items():
        assert tables_read(f"SELECT {definition}") == (), name
    used = " ".join(mart_sql(n) for n in MARTS) + " ".join(macros.values())
    for name in macros:
        assert re.search(rf"\b{name}\(", used), f"macro {name} is used nowhere"
    conn.close()


def test_macros_are_not_stored_in_the_warehouse(built):
    # a fresh connection to a built warehouse has no macro but DuckDB's own
    conn = duckdb.connect(str(built), read_only=True)
    assert conn.execute("SELECT count(*) FROM duckdb_functions() WHERE function_type = 'macro' "
                        "AND database_name NOT IN ('system', 'temp')").fetchone()[0] == 0
    assert _macros(conn) == {}
    create_macros(conn)  # an analyst's read-only session can create them to run a mart's SQL
    assert len(conn.execute(mart_sql("project_summary")).fetchall()) == len(
        conn.execute("SELECT * FROM marts.project_summary").fetchall())
    conn.close()


def test_macros_compute_what_the_spelled_out_expressions_do():
    conn = duckdb.connect()
    create_macros(conn)
    got = conn.execute("""
        SELECT wan_to_yi(CAST(1250 AS DECIMAL(38,4))), round_money(CAST(35.005 AS DECIMAL(18,4))),
               round_pct(CAST(527.5 AS DECIMAL(18,4)) * 100 / 5000), wan_label(40.0), wan_label(40.5),
               share_pct(2, 3), share_pct(1, 0), growth_pct(110550, 100000), typeof(round_pct(1.0e30))
    """).fetchone()
    from decimal import Decimal as D
    assert got == (D("0.13"), D("35.01"), D("10.6"), "40", "40.5", D("66.7"), None, 10.55, "DECIMAL(38,1)")
    conn.close()


def test_a_scorecard_alone_needs_the_marts_it_reads(tmp_path):
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_example(conn)
    with pytest.raises(duckdb.CatalogException, match="project_summary"):
        build_mart(conn, "target_scorecard")
    assert build_all(conn)["target_scorecard"] == 5 * 7
    conn.close()
