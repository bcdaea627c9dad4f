"""Build the marts: each is one readable SQL file in this folder, rebuilt whole over all periods.

`build_mart(conn, name)` runs `CREATE OR REPLACE TABLE marts.<name> AS <sql>` and applies the
COMMENTs of the declaration in `catalog.marts` inside one transaction, so a reader of the same
connection never sees a half-built mart. The SQL casts every column to its declared type;
`check_matches_declaration` verifies that the built table is exactly the declaration.
"""

from __future__ import annotations

from importlib import resources

import duckdb

from ..warehouse.ddl import comment_statements, ident
from ..catalog.marts import MARTS
from ..catalog.tables import Table

# The tables each mart's SQL reads, as asset keys ("schema/table").
MART_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "project_summary": ("staging/key_projects",),
    "zone_project_summary": ("staging/key_projects", "reference/zones"),
    "project_progress": ("staging/key_projects",),
    "industrial_output_summary": ("staging/industrial_output", "staging/city_indicators"),
    "industry_chain_summary": ("staging/industrial_output", "staging/key_projects", "reference/industry_chains"),
    "village_income": ("staging/village_income", "reference/targets"),
    "township_income_summary": (
        "staging/village_income", "reference/villages", "reference/townships", "reference/targets",
    ),
    "target_scorecard": (
        "staging/key_projects", "staging/industrial_output", "staging/city_indicators",
        "staging/village_income", "reference/villages", "reference/targets",
    ),
}


def mart_sql(name: str) -> str:
    """The SELECT that computes marts.<name> (the contents of <name>.sql)."""
    if name not in MARTS:
        raise KeyError(f"unknown mart: {name}")
    return resources.files(__package__).joinpath(f"{name}.sql").read_text(encoding="utf-8")


def build_mart(conn: duckdb.DuckDBPyConnection, name: str) -> int:
    """(Re)build marts.<name> for all periods atomically; return its row count."""
    table = MARTS[name]
    sql = mart_sql(name).strip().rstrip(";")
    try:
        conn.execute("BEGIN TRANSACTION")
        own_transaction = True
    except duckdb.TransactionException:
        # the caller already holds a transaction: build inside it, the caller commits
        own_transaction = False
    try:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(table.schema)}")
        conn.execute(f"CREATE OR REPLACE TABLE {table.qualified} AS\n{sql}")
        for stmt in comment_statements(table):
            conn.execute(stmt)
        rows = conn.execute(f"SELECT count(*) FROM {table.qualified}").fetchone()[0]
        if own_transaction:
            conn.execute("COMMIT")
    except BaseException:
        if own_transaction:
            conn.execute("ROLLBACK")
        raise
    return int(rows)


def build_all(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Build every mart in dependency order; return row counts."""
    return {name: build_mart(conn, name) for name in MARTS}


def built_columns(conn: duckdb.DuckDBPyConnection, table: Table) -> list[tuple[str, str]]:
    return [
        (r[0], r[1])
        for r in conn.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
            [table.schema, table.name],
        ).fetchall()
    ]


def check_matches_declaration(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """Raise if the built marts.<name> differs from its declaration in names or types."""
    table = MARTS[name]
    declared = [(c.name, c.sql_type) for c in table.columns]
    actual = built_columns(conn, table)
    if declared != actual:
        raise AssertionError(f"marts.{name} does not match its declaration:\n{declared}\n{actual}")
