"""DDL derived from the table declarations: CREATE TABLE with COMMENT ON every table and column."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from ..catalog.tables import Table, all_tables


def ident(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """An SQL string literal (DuckDB takes no parameters in COMMENT ON)."""
    return "'" + text.replace("'", "''") + "'"


def create_statements(table: Table, *, replace: bool = False) -> list[str]:
    cols = ", ".join(f"{ident(c.name)} {c.sql_type}" for c in table.columns)
    create = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
    stmts = [
        f"CREATE SCHEMA IF NOT EXISTS {ident(table.schema)}",
        f"{create} {table.qualified} ({cols})",
    ]
    stmts += comment_statements(table)
    return stmts


def comment_statements(table: Table) -> list[str]:
    stmts = [f"COMMENT ON TABLE {table.qualified} IS {literal(table.comment)}"]
    stmts += [
        f"COMMENT ON COLUMN {table.qualified}.{ident(c.name)} IS {literal(c.comment)}"
        for c in table.columns
    ]
    return stmts


def ensure_tables(conn: duckdb.DuckDBPyConnection, tables: Iterable[Table] | None = None) -> None:
    """Create every declared table that is missing, and bring any comment that differs up to date.

    Cheap when nothing changed (two catalogue queries), so every load can call it.
    """
    stored = {(s, t, None): c for s, t, c in conn.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables()").fetchall()}
    stored |= {(s, t, col): c for s, t, col, c in conn.execute(
        "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns()").fetchall()}
    for table in all_tables() if tables is None else tables:
        if (table.schema, table.name, None) not in stored:
            for stmt in create_statements(table):
                conn.execute(stmt)
            continue
        if stored[(table.schema, table.name, None)] != table.comment:
            conn.execute(f"COMMENT ON TABLE {table.qualified} IS {literal(table.comment)}")
        for c in table.columns:
            if (table.schema, table.name, c.name) not in stored:  # a column added to the declaration
                conn.execute(f"ALTER TABLE {table.qualified} ADD COLUMN {ident(c.name)} {c.sql_type}")
            if stored.get((table.schema, table.name, c.name)) != c.comment:
                conn.execute(f"COMMENT ON COLUMN {table.qualified}.{ident(c.name)} IS {literal(c.comment)}")
