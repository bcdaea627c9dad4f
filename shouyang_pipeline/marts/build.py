"""Build the marts: each is one readable SQL file in this folder, over all periods; rebuilt from the
first month whose inputs changed since it was last built (`marts/inputs.py`), whole when that is
the first month, when the code or a table of no month (the reference lists) changed, or when the
mart judges by the run's clock.

`build_mart(conn, name)` runs, inside one transaction, so that a reader of the same connection
never sees a half-built mart and a failed build leaves the previous table:

1. `macros.sql`: the shared expressions, as TEMP macros of this connection (never stored in the
   warehouse); `declared_choices(dataset, field)` and `dataset_title(dataset)`, made here from
   the catalogue (`catalogue_macros_sql`): the choices of a field's `one_of` rule in their
   declared order, so that a mart with a row per choice (talent_summary) takes the list from the
   declaration, and a dataset's Chinese title; and `run_clock()`, the time the reporting calendar
   is judged at (`build_mart(..., now=Settings.now())`; marts.submission_status);
2. `CREATE OR REPLACE TABLE marts.<name> AS <name>.sql`, or from a month on: its rows of that
   month and later deleted and `INSERT INTO marts.<name> SELECT * FROM (<name>.sql) WHERE period
   >= <month>` (DuckDB takes the condition down into the SQL's scans and groups where it can);
   a mart with sentence columns (`sentences.WRITERS`) goes through a TEMP table of its figures
   first, and the sentences are written in Python from them;
3. the COMMENTs of the declaration in `catalog.marts` (of a table made anew);
4. `check_matches_declaration`: a mart whose columns drift from its declaration fails the build;
5. the digests of its inputs by month, in `internal.mart_inputs` (`inputs.record`).

A mart may read other marts (`marts.x` in its SQL): `lineage.build_order()` builds it after them,
and the Dagster asset depends on exactly the tables its SQL reads (`lineage.mart_inputs`).
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources

import duckdb
import pandas as pd

from ..catalog.datasets import DATASETS
from ..catalog.marts import MARTS, StatusCheck
from ..catalog.rules import OneOf
from ..catalog.tables import Table
from ..config import BEIJING
from ..warehouse.ddl import comment_statements, ident
from .inputs import UNCHANGED, WHOLE, MartInputs, reads_clock
from .lineage import build_order
from .sentences import WRITERS


_FIGURES = "_mart_figures"  # the TEMP table of a mart with sentence columns
# The rows a build from a month redoes: that month's and later ones', and any of no period, which
# a whole build puts last (ORDER BY period: NULLS LAST), after every month.
_FROM_MONTH = "(period >= ? OR period IS NULL)"


def mart_sql(name: str) -> str:
    """The SELECT that computes marts.<name> (the contents of <name>.sql)."""
    if name not in MARTS:
        raise KeyError(f"unknown mart: {name}")
    return resources.files(__package__).joinpath(f"{name}.sql").read_text(encoding="utf-8")


def macros_sql() -> str:
    """The CREATE OR REPLACE TEMP MACRO statements of macros.sql."""
    return resources.files(__package__).joinpath("macros.sql").read_text(encoding="utf-8")


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def catalogue_macros_sql() -> str:
    """The macros made from the catalogue rather than written in macros.sql:

    `declared_choices(dataset, field)`: the choices of that field's `one_of` rule
    (`catalog/datasets/<dataset>.py`) as a VARCHAR[] in their declared order, e.g.
    `declared_choices('talent', 'field')`; an error for a field that has no such rule.

    `dataset_title(dataset)`: the dataset's Chinese title as declared (`重点项目进展情况表`);
    NULL for a name that is no declared dataset.

    Like the macros of macros.sql they are expressions of their arguments only (they read no table)."""
    cases = []
    for dataset in DATASETS.values():
        for f in dataset.all_fields:
            for rule in f.rules:
                if isinstance(rule, OneOf):
                    choices = ", ".join(_sql_text(c) for c in rule.choices)
                    cases.append(f"        WHEN {_sql_text(f'{dataset.name}.{f.name}')} "
                                 f"THEN CAST([{choices}] AS VARCHAR[])")
    return (
        "CREATE OR REPLACE TEMP MACRO declared_choices(dataset_name, field_name) AS\n"
        "    CASE dataset_name || '.' || field_name\n"
        + "\n".join(cases) + "\n"
        "        ELSE error('no one_of rule declared for ' || dataset_name || '.' || field_name)\n"
        "    END;\n"
        + dataset_title_macro_sql()
    )


def dataset_title_macro_sql() -> str:
    """`dataset_title(dataset)`: see `catalogue_macros_sql`."""
    cases = "\n".join(f"        WHEN {_sql_text(d.name)} THEN {_sql_text(d.title)}" for d in DATASETS.values())
    return (
        "CREATE OR REPLACE TEMP MACRO dataset_title(dataset_name) AS\n"
        "    CASE dataset_name\n"
        f"{cases}\n"
        "    END;\n"
    )


def clock_macro_sql(now: datetime | None) -> str:
    """`run_clock()`: the time (Beijing, without zone) the reporting calendar is judged at
    (`config.Settings.now`); the machine's clock when none is given."""
    when = (now or datetime.now(BEIJING).replace(tzinfo=None)).replace(microsecond=0)
    return f"CREATE OR REPLACE TEMP MACRO run_clock() AS TIMESTAMP '{when.isoformat(sep=' ')}';"


def create_macros(conn: duckdb.DuckDBPyConnection, now: datetime | None = None, *, clock_only: bool = False) -> None:
    """Create (or replace) the marts' macros on this connection, as TEMP macros: those of
    macros.sql, those made from the catalogue (`catalogue_macros_sql`) and the clock
    (`clock_macro_sql`; only this one with `clock_only`, the others made already). A read-only
    connection can make them too."""
    if not clock_only:
        conn.execute(macros_sql())
        conn.execute(catalogue_macros_sql())
    conn.execute(clock_macro_sql(now))


def build_mart(conn: duckdb.DuckDBPyConnection, name: str, *, check: bool = True, now: datetime | None = None,
               cancelled=None, inputs: MartInputs | None = None) -> int:
    """(Re)build marts.<name> atomically: whole, or from the first month whose inputs changed since
    it was last built (`marts.inputs`); return its row count (all periods).

    The marts it reads must be built already (`build_all` builds them in order). With `check`
    (always, but for a test that widens staging on purpose) the built table must match its
    declaration, or nothing changes. `cancelled()`, when given and true just before the commit of
    the build's own transaction, rolls it back instead (`BuildCancelled`). `inputs` reads the
    tables' digests once for several marts built one after the other (`build_all`); what the build
    did is in its `rebuilt`."""
    table = MARTS[name]
    sql = mart_sql(name).strip().rstrip(";")
    inputs = inputs if inputs is not None else MartInputs(conn)
    # (its own transaction: DuckDB refuses one inside a caller's, and aborts the caller's)
    conn.execute("BEGIN TRANSACTION")
    try:
        digests = None if reads_clock(name) or not inputs.track else inputs.month_digests(name)
        since = inputs.since(name, digests)
        if since == UNCHANGED:
            inputs.rebuilt[name] = UNCHANGED
        else:
            inputs.make_macros(now)
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(table.schema)}")
            if since is not None:  # the months from `since` on; the rows before it stay as they are
                conn.execute(f"DELETE FROM {table.qualified} WHERE {_FROM_MONTH}", [since])
            writers = WRITERS.get(name)
            if writers:
                _create_with_sentences(conn, table, sql, writers, since)
            elif since is None:
                conn.execute(f"CREATE OR REPLACE TABLE {table.qualified} AS\n{sql}")
            else:  # (a newline before the parenthesis: the SQL may end in a comment)
                conn.execute(f"INSERT INTO {table.qualified}\nSELECT * FROM (\n{sql}\n) WHERE {_FROM_MONTH}", [since])
            if since is None:
                for stmt in comment_statements(table):
                    conn.execute(stmt)
            if check:
                check_matches_declaration(conn, name)
            inputs.record(name, digests or {}, checked=check)
            inputs.rebuilt[name] = WHOLE if since is None else since
        rows = conn.execute(f"SELECT count(*) FROM {table.qualified}").fetchone()[0]
        if cancelled is not None and cancelled():
            raise BuildCancelled(f"marts.{name} 的重建已取消")
        conn.execute("COMMIT")
    except BaseException:
        inputs.forget()
        conn.execute("ROLLBACK")
        raise
    return int(rows)


class BuildCancelled(Exception):
    """A build whose `cancelled()` said so before its commit: rolled back, nothing changed."""


def _create_with_sentences(conn: duckdb.DuckDBPyConnection, table: Table, sql: str, writers: dict,
                           since: str | None = None) -> None:
    """marts.<table> from its SQL's figures, with the sentence columns written in Python; with
    `since`, its SQL's rows of that month and later inserted (their old rows deleted already).

    The SQL's rows go into a TEMP table, in their order (rowid order; inside a transaction the
    rowids do not start at 0, so rows are numbered 1, 2, … in that order). Each writer makes its
    column from every row (a dict of all the SQL's columns), as a list in the same order; the
    mart is the declared columns, the written ones taken from the lists, in the SQL's order."""
    if since is None:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE {_FIGURES} AS\n{sql}")
    else:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE {_FIGURES} AS\nSELECT * FROM (\n{sql}\n) WHERE {_FROM_MONTH}",
                     [since])
    cur = conn.execute(f"SELECT * FROM {_FIGURES} ORDER BY rowid")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    written = [[None if v is None else str(v) for v in map(write, rows)] for write in writers.values()]
    types = {c.name: c.sql_type for c in table.columns}
    columns = ", ".join(
        f"CAST(w.{ident(c)}[f._mart_row] AS {types[c]}) AS {ident(c)}" if c in writers else f"f.{ident(c)}"
        for c in table.column_names
    )
    lists = ", ".join(f"CAST(? AS VARCHAR[]) AS {ident(c)}" for c in writers)  # one list per written column
    make = f"CREATE OR REPLACE TABLE {table.qualified} AS" if since is None else f"INSERT INTO {table.qualified}"
    conn.execute(
        f"{make}\n"
        f"SELECT {columns}\n"
        f"FROM (SELECT *, row_number() OVER (ORDER BY rowid) AS _mart_row FROM {_FIGURES}) AS f\n"
        f"CROSS JOIN (SELECT {lists}) AS w\n"
        f"ORDER BY f._mart_row",
        written,
    )
    conn.execute(f"DROP TABLE {_FIGURES}")


def mart_rows_at(conn: duckdb.DuckDBPyConnection, name: str, now: datetime | None = None) -> pd.DataFrame:
    """What marts.<name>'s SQL computes at the clock `now`, without storing anything: a reader
    of a read-only warehouse re-judges the calendar (marts.submission_status) at its own time
    from what the last run loaded. The marts it reads are read as stored."""
    create_macros(conn, now)
    return conn.execute(mart_sql(name).strip().rstrip(";")).df()


def build_all(conn: duckdb.DuckDBPyConnection, now: datetime | None = None, *, track: bool = True) -> dict[str, int]:
    """Build every mart (each from the first month whose inputs changed; without `track` whole, and
    nothing kept of its inputs), each after the marts it reads; return row counts."""
    names = build_order()
    inputs = MartInputs(conn, names, track=track)
    return {name: build_mart(conn, name, now=now, inputs=inputs) for name in names}


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
    declared = table.declared_columns
    actual = built_columns(conn, table)
    if declared != actual:
        raise AssertionError(f"marts.{name} does not match its declaration:\n{declared}\n{actual}")


def status_check_rows(conn: duckdb.DuckDBPyConnection, name: str, check: StatusCheck, period: str) -> pd.DataFrame:
    """The rows of marts.<name> a status check looks at: the period's (every period's, with the
    period first, for a check of `every_period`), its columns, in its order (ties in the mart's
    own order)."""
    table = MARTS[name]
    if check.every_period:
        columns = ", ".join(ident(c) for c in ("period", *check.shown))
        return conn.execute(
            f"SELECT {columns} FROM {table.qualified} ORDER BY period, {ident(check.order_by)}, rowid").df()
    columns = ", ".join(ident(c) for c in check.shown)
    return conn.execute(
        f"SELECT {columns} FROM {table.qualified} WHERE period = ? ORDER BY {ident(check.order_by)}, rowid",
        [period]).df()
