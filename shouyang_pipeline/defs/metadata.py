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


# What Markdown would read as markup in a cell (a `|` ends it, `<` starts HTML, `[` a link, `` ` ``
# code, `*`/`~` emphasis): each shown as itself, escaped with a backslash. (`_` is left as it is:
# every file name has `__`, which inside a word is no emphasis.)
_MARKUP = str.maketrans({c: "\\" + c for c in "\\|<>[]`*~&"})


def _cell(value: object) -> str:
    """A value as a Markdown table shows it: blank for a missing one, a whole float without its
    `.0`, markup characters escaped (`_MARKUP`) and a line break a space (one row a line): names and
    values from the senders are text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if value != value:
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
    return str(value).translate(_MARKUP).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def markdown(frame: pd.DataFrame, limit: int = 20) -> dg.MetadataValue:
    """The first `limit` rows of `frame` as a Markdown table (the UI renders it; written here
    rather than by tabulate, which took 15 ms for 30 rows, a run writing some 300)."""
    if frame.empty:
        return dg.MetadataValue.md("（无）")
    lines = ["| " + " | ".join(_cell(str(c)) for c in frame.columns) + " |", "|" + " --- |" * len(frame.columns)]
    lines += ["| " + " | ".join(map(_cell, row)) + " |" for row in frame.head(limit).itertuples(index=False, name=None)]
    text = "\n".join(lines)
    if len(frame) > limit:
        text += f"\n\n……共{len(frame)}行，仅显示前{limit}行"
    return dg.MetadataValue.md(text)


def preview(conn: duckdb.DuckDBPyConnection, table: Table, periods: list[str] | None = None,
            limit: int = 10) -> dg.MetadataValue:
    """The first rows of a table (of these periods) as a Markdown table."""
    return markdown(queries.first_rows(conn, table, periods, limit), limit)


def previews(conn: duckdb.DuckDBPyConnection, table: Table, periods: list[str],
             limit: int = 10) -> dict[str, dg.MetadataValue]:
    """`preview` of each of `periods`, read in one query."""
    return {p: markdown(rows, limit) for p, rows in queries.first_rows_by_period(conn, table, periods, limit).items()}
