"""Dagster metadata derived from the table declarations and from what a step loaded."""

from __future__ import annotations

import dagster as dg
import duckdb
import pandas as pd

from ..catalog.tables import Table
from ..warehouse import queries


def column_schema(table: Table) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(c.name, c.sql_type, description=c.comment) for c in table.columns])


def definition_metadata(table: Table) -> dict:
    return {
        "dagster/column_schema": column_schema(table),
        "dagster/table_name": f"{table.schema}.{table.name}",
    }


def markdown(frame: pd.DataFrame, limit: int = 20) -> dg.MetadataValue:
    if frame.empty:
        return dg.MetadataValue.md("（无）")
    shown = frame.head(limit).astype(object).where(frame.head(limit).notna(), "")
    text = shown.to_markdown(index=False)
    if len(frame) > limit:
        text += f"\n\n……共{len(frame)}行，仅显示前{limit}行"
    return dg.MetadataValue.md(text)


def preview(conn: duckdb.DuckDBPyConnection, table: Table, periods: list[str] | None = None,
            limit: int = 10) -> dg.MetadataValue:
    """The first rows of a table (of these periods) as a Markdown table."""
    return markdown(queries.first_rows(conn, table, periods, limit), limit)


def row_count(conn: duckdb.DuckDBPyConnection, table: Table, periods: list[str] | None = None) -> int:
    return queries.count_rows(conn, table, periods)
