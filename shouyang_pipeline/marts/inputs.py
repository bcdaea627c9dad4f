"""What each mart was last built from, so that a build redoes only the months whose inputs changed.

A mart's rows of a month are computed from rows of that month and of earlier months only (the
month before, the year so far, the same month a year before) and from rows of no month (the
reference lists). So when the inputs of a month changed since the mart was last built, or the
month appeared or went, the mart is rebuilt from that month on (`since`): its rows of that month
and of every later one are deleted and its SQL's rows of those months inserted, in the SQL's
order. Every mart is ordered by `period` first, so the table is then the same, row for row and in
the same order, as one built whole. A mart whose SQL judges by the run's clock (`run_clock()`:
marts.submission_status), or reads a mart that does, is built whole every time.

The inputs of a month (`MartInputs.month_digests`), for each table of reference, staging and
audit the mart reads (itself or through the marts it reads, `marts/lineage.py`): its columns'
names and types, its rows of no month (`digests.table_groups`: a table without a period, the
ingest log's files of no dataset-period), its rows of that month; and the code
(`digests.code_digest`: the SQL, the macros, the catalogue). They are kept in
`internal.mart_inputs` (`MART_INPUTS`), written in the same transaction as the mart's rows: the
rows and the inputs they were built from never disagree.
"""

from __future__ import annotations

from functools import cache

import duckdb

from ..catalog.marts import MARTS
from ..warehouse.ddl import ensure_tables
from ..warehouse.digests import (MART_INPUTS, code_digest, digest_of, is_month, kept_mart_inputs, table_columns,
                                 table_groups)
from .lineage import _nodes, mart_inputs, marts_read, parse_tree

# The run's clock (build.clock_macro_sql) and DuckDB's own: a mart calling one is built whole.
CLOCKS = frozenset({"run_clock", "now", "today", "current_date", "current_time", "current_timestamp",
                    "get_current_time", "get_current_timestamp", "transaction_timestamp", "localtime",
                    "localtimestamp"})
WHOLE = "全部报告期"  # `MartInputs.rebuilt`: built whole
UNCHANGED = "未变（输入与上次重建时相同）"


@cache
def base_tables(name: str) -> tuple[tuple[str, str], ...]:
    """The tables of reference, staging and audit marts.<name> reads, itself or through the marts
    it reads, as (schema, table), sorted."""
    out: set[tuple[str, str]] = set()
    for key in mart_inputs(name):
        schema, table = key.split("/", 1)
        out.update(base_tables(table) if schema == "marts" else [(schema, table)])
    return tuple(sorted(out))


@cache
def reads_clock(name: str) -> bool:
    """Whether marts.<name>'s rows depend on the run's clock: its SQL calls `run_clock()` (or
    DuckDB's clock), or it reads a mart whose SQL does. (The macros of macros.sql call none:
    `test_marts_partial`.)"""
    from .build import mart_sql

    calls = {n.get("function_name") for n in _nodes(parse_tree(mart_sql(name))) if n.get("type") == "FUNCTION"}
    return bool(CLOCKS & {c.lower() for c in calls if c}) or any(map(reads_clock, marts_read(mart_inputs(name))))


def stored(conn: duckdb.DuckDBPyConnection, name: str | None = None) -> dict:
    """period -> the digest of the inputs marts.<name>'s rows of that period were built from ({}
    when none is kept: then it is built whole); without a name, mart -> that of every mart."""
    out = kept_mart_inputs(conn)
    return out if name is None else out.get(name, {})


def _key(name: str) -> str:
    return f"{MARTS[name].schema}.{MARTS[name].name}"


class MartInputs:
    """The inputs of the marts built on one connection, one after the other (`build.build_all`, the
    marts step): each table's groups are read once (those of all the marts `names` at the first
    build, those of another mart at its own), and what every
    mart was built from once, then kept up to date by the builds. The tables must not change
    between the builds (only the marts and `MART_INPUTS`, by `build_mart` with this object, are
    written meanwhile); a build that fails makes it read them again (`forget`).

    `rebuilt[name]` says what each build did: `WHOLE`, `UNCHANGED`, or the first month it rebuilt."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, names: list[str] | None = None, *, track: bool = True,
                 whole: bool = False):
        self._conn = conn
        # `whole`: every mart built whole, its inputs kept (`shouyang run --force`: after anything
        # but this pipeline wrote the marts of the work file, an older version of it for one)
        self.whole = whole
        # without `track` every mart is built whole and nothing is read or kept of its inputs (what
        # was kept of a mart is dropped, as it no longer tells its rows): the bench's bare baseline
        self.track = track
        # the tables of every mart to be built, read together at the first (one query each)
        self._first = tuple(sorted({t for n in names or () for t in base_tables(n)}))
        self._groups: dict[str, list] = {}
        self._columns: dict[str, list] = {}
        self._kept: dict[str, dict[str, str]] | None = None  # mart -> period -> digest, as in MART_INPUTS
        self._shapes: dict[str, list] | None = None  # `schema.table` of a mart -> its columns (name, type)
        self._table_made = False  # MART_INPUTS made (or found) by this object's builds
        self._macros_made = False  # the marts' macros made on the connection (`make_macros`)
        self.rebuilt: dict[str, str] = {}

    def _read(self, tables: tuple[tuple[str, str], ...]) -> None:
        missing = [t for t in dict.fromkeys((*self._first, *tables)) if f"{t[0]}.{t[1]}" not in self._groups]
        if not missing:
            return
        columns = table_columns(self._conn, missing)
        found = table_groups(self._conn, missing, columns)
        for schema, table in missing:
            key = f"{schema}.{table}"
            self._groups[key] = found.get(key, [])  # (a table not made yet: no rows, no columns)
            self._columns[key] = columns.get(key, [])

    def kept(self, name: str) -> dict[str, str]:
        """What marts.<name>'s rows were built from (`stored`)."""
        if self._kept is None:
            self._kept = stored(self._conn)
        return self._kept.get(name, {})

    def as_declared(self, name: str) -> bool:
        """marts.<name> exists with its declared columns (a table left by a build unchecked, or by
        an older version, is built whole; a mart read by one that was dropped makes that one fail)."""
        if self._shapes is None:
            self._shapes = table_columns(self._conn, [(MARTS[n].schema, MARTS[n].name) for n in MARTS])
        return self._shapes.get(_key(name), []) == MARTS[name].declared_columns

    def month_digests(self, name: str) -> dict[str, str]:
        """month -> the digest of marts.<name>'s inputs of that month (module docstring), for every
        month any table it reads has rows of. A mart it reads counts by what that mart's rows of the
        month were built from (its digests as kept now): a mart built again since (in this run, or
        alone from the UI) makes this one be built again from the same months."""
        tables = [f"{s}.{t}" for s, t in base_tables(name)]
        self._read(base_tables(name))
        read = marts_read(mart_inputs(name))
        present = {u: self.as_declared(u) for u in read}  # (one dropped: built whole, and fails)
        upstream = {u: self.kept(u) if present[u] else {} for u in read}
        common = digest_of({
            "mart": name, "code": code_digest(), "marts_present": present,
            "columns": {t: self._columns[t] for t in tables},
            "no_month": {t: [g for g in self._groups[t] if not is_month(g[0])] for t in tables},
        })
        by_month: dict[str, dict[str, list]] = {}
        for t in tables:
            for g in self._groups[t]:
                if is_month(g[0]):
                    by_month.setdefault(g[0], {}).setdefault(t, []).append(g)
        for digests in upstream.values():
            for m in digests:
                by_month.setdefault(m, {})
        return {m: digest_of({"common": common, "month": m, "tables": by_month[m],
                              "marts": {u: digests.get(m) for u, digests in upstream.items()}})
                for m in sorted(by_month)}

    def since(self, name: str, digests: dict[str, str] | None) -> str | None:
        """The first month to rebuild marts.<name> from; None to build it whole; `UNCHANGED` when
        nothing it reads changed since it was built. `digests`: `month_digests(name)`, None for a
        mart that reads the clock."""
        if digests is None or self.whole or not self.as_declared(name):
            return None
        before = self.kept(name)
        if not before:
            return None
        changed = [m for m in before.keys() | digests.keys() if before.get(m) != digests.get(m)]
        if not changed:
            return UNCHANGED
        first = min(changed)
        return None if first <= min(before.keys() | digests.keys()) else first

    def record(self, name: str, digests: dict[str, str], *, checked: bool) -> None:
        """Replace what marts.<name> was built from, once built; call inside the transaction that
        builds it (a mart built whole by the clock keeps nothing: `digests` empty). `checked`: the
        built table was found to have its declared columns."""
        if not self.track:
            if self.kept(name):
                self._conn.execute(f"DELETE FROM {MART_INPUTS.qualified} WHERE mart = ?", [name])
                self._kept[name] = {}
            return
        if not self._table_made:
            ensure_tables(self._conn, [MART_INPUTS])
            self._table_made = True
        self._conn.execute(f"DELETE FROM {MART_INPUTS.qualified} WHERE mart = ?", [name])
        if digests:
            self._conn.execute(f"INSERT INTO {MART_INPUTS.qualified} SELECT ?, unnest(?), unnest(?)",
                               [name, list(digests), list(digests.values())])
        if self._kept is not None:
            self._kept[name] = dict(digests)
        if self._shapes is not None:
            table = MARTS[name]
            self._shapes[_key(name)] = (table.declared_columns if checked else
                                        table_columns(self._conn, [(table.schema, table.name)]).get(_key(name), []))

    def make_macros(self, now) -> None:
        """The marts' macros on the connection (`build.create_macros`): those that never change once
        (about 5 ms, a dozen marts a run), the clock's at every build."""
        from .build import create_macros

        create_macros(self._conn, now, clock_only=self._macros_made)
        self._macros_made = True

    def forget(self) -> None:
        """A build failed (its transaction rolled back): what the marts were built from, and their
        columns, are read again when next asked."""
        self._kept = self._shapes = None
        self._table_made = self._macros_made = False  # (made in the transaction rolled back: gone)
