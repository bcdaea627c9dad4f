"""The questions every room asks of the audit log, asked in one place.

"A current file of a placed dataset-period" is `is_current AND partition_key IS NOT NULL`: the
latest version seen at a path that some dataset-period read (or rejected). Files that fit no
dataset-period (an unknown folder, a bad period) have no partition_key.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

_CURRENT_PLACED = "is_current AND partition_key IS NOT NULL"


def has_ingest_log(conn: duckdb.DuckDBPyConnection) -> bool:
    return bool(conn.execute("SELECT count(*) FROM duckdb_tables() "
                             "WHERE schema_name = 'audit' AND table_name = 'ingest_log'").fetchone()[0])


def current_files(conn: duckdb.DuckDBPyConnection, periods: list[str] | None = None) -> list[tuple[str, str | None, str]]:
    """(file_path, sha256, period) of every current file of a placed dataset-period (of `periods`)."""
    if not has_ingest_log(conn):
        return []
    sql = f"SELECT file_path, sha256, period FROM audit.ingest_log WHERE {_CURRENT_PLACED}"
    args: list = []
    if periods is not None:
        sql += " AND period IN (SELECT unnest(?))"
        args = [list(periods)]
    return conn.execute(sql + " ORDER BY file_path", args).fetchall()


def current_versions(conn: duckdb.DuckDBPyConnection, partition_key: str) -> dict[str, str | None]:
    """file_path -> sha256 of the current files of one dataset-period (`key_projects/2023-02`)."""
    if not has_ingest_log(conn):
        return {}
    return dict(conn.execute("SELECT file_path, sha256 FROM audit.ingest_log WHERE is_current AND partition_key = ?",
                             [partition_key]).fetchall())


def dataset_period_state(conn: duckdb.DuckDBPyConnection, dataset: str, period: str):
    """What loading one dataset-period left, as ingest hands it over: its current files' log rows
    (`FILE_LOG_COLUMNS`) and rejected rows (`ISSUE_COLUMNS`) as frames, and its cell warnings' count."""
    from ..catalog.tables import FILE_LOG_COLUMNS, ISSUE_COLUMNS, dataset_period_key
    from .ddl import ident

    log = conn.execute(f"SELECT {', '.join(map(ident, FILE_LOG_COLUMNS))} FROM audit.ingest_log "
                       "WHERE is_current AND partition_key = ? ORDER BY file_path",
                       [dataset_period_key(dataset, period)]).df()
    rejected = conn.execute(f"SELECT {', '.join(map(ident, ISSUE_COLUMNS))} FROM audit.rejected_rows "
                            "WHERE dataset = ? AND period = ? ORDER BY file_path, source_row, source_cell",
                            [dataset, period]).df()
    (warnings,) = conn.execute("SELECT count(*) FROM audit.cell_warnings WHERE dataset = ? AND period = ?",
                               [dataset, period]).fetchone()
    return log, rejected, int(warnings)


def periods_held(conn: duckdb.DuckDBPyConnection) -> set[str]:
    """Every period with a current file (loaded or rejected) in the warehouse."""
    return {period for _, _, period in current_files(conn)}


def periods_with_data_or_files(conn: duckdb.DuckDBPyConnection, periods: list[str]) -> list[str]:
    """Of `periods`, those a briefing speaks of: with data (the scorecard has a row for every
    period any mart has) or with files (a month whose every file was rejected says so)."""
    return [p for (p,) in conn.execute(
        f"""SELECT period FROM marts.target_scorecard WHERE period IN (SELECT unnest($1))
            UNION
            SELECT period FROM audit.ingest_log WHERE {_CURRENT_PLACED} AND period IN (SELECT unnest($1))
            ORDER BY 1""",
        [list(periods)]).fetchall()]


def files_of_periods(conn: duckdb.DuckDBPyConnection, periods: list[str]):
    """The current files of `periods`, then every current file no dataset-period holds
    (`is_placed` false), as a frame."""
    return conn.execute(
        "SELECT file_path, dataset, status, rows_read, rows_loaded, rows_rejected, message, "
        "partition_key IS NOT NULL AS is_placed FROM audit.ingest_log "
        "WHERE is_current AND (period IN (SELECT unnest(?)) OR partition_key IS NULL) "
        "ORDER BY partition_key IS NULL, file_path",
        [list(periods)]).df()


@dataclass(frozen=True)
class FileState:
    """One current file a person should look at: not wholly loaded, with cells to look at, or
    whose totals row disagrees with its rows or could not be checked."""

    file_path: str
    status: str
    rows_rejected: int
    warnings: int  # its rows in audit.cell_warnings
    totals: str | None  # "mismatch", "unchecked" (a totals row, nothing compared), or None
    message: str | None


@dataclass(frozen=True)
class FileSummary:
    """What the run summary prints: files and rows by status, the files to look at, and the
    non-data rows of each file by kind."""

    by_status: dict[str, tuple[int, int, int]]  # status -> (files, rows loaded, rows rejected)
    to_look_at: list[FileState]
    skipped: list[tuple]  # (file, rows of each kind in `kinds` order)
    kinds: tuple[str, ...]

    @property
    def warnings(self) -> int:
        """Cell warnings of all current files."""
        return sum(f.warnings for f in self.to_look_at)

    def count_totals(self, state: str) -> int:
        return sum(f.totals == state for f in self.to_look_at)


@dataclass(frozen=True)
class FileVersion:
    """A current file's version in audit.ingest_log, as a run's summary compares them before
    and after the run."""

    sha256: str
    status: str
    rows_loaded: int
    rows_rejected: int


def file_versions(conn: duckdb.DuckDBPyConnection) -> dict[str, FileVersion]:
    """Every current file of audit.ingest_log (placed or not) by its path."""
    if not has_ingest_log(conn):
        return {}
    rows = conn.execute("""SELECT file_path, sha256, status, rows_loaded, rows_rejected
                           FROM audit.ingest_log WHERE is_current ORDER BY file_path""").fetchall()
    return {path: FileVersion(sha, status, loaded or 0, rejected or 0) for path, sha, status, loaded, rejected in rows}


def _with_money_columns() -> list[str]:
    """The datasets whose totals row is checked (those with money columns)."""
    from ..catalog.datasets import DATASETS

    return [d.name for d in DATASETS.values() if d.has_money]


def file_summary(conn: duckdb.DuckDBPyConnection, kinds: tuple[str, ...]) -> FileSummary:
    rows = conn.execute(
        """SELECT status, count(*), sum(rows_loaded), sum(rows_rejected)
           FROM audit.ingest_log WHERE is_current GROUP BY status ORDER BY status""").fetchall()
    # audit.cell_warnings holds the warnings of current files only (replaced with each dataset-period)
    looked_at = conn.execute(
        """WITH w AS (SELECT file_path, count(*) AS n FROM audit.cell_warnings GROUP BY file_path)
           SELECT l.file_path, l.status, l.rows_rejected, coalesce(w.n, 0),
                  CASE WHEN l.totals_check = 'mismatch' THEN 'mismatch'
                       WHEN l.totals_check IS NULL AND l.rows_totals > 0 AND l.status <> 'rejected'
                            AND l.dataset IN (SELECT unnest($1)) THEN 'unchecked'
                  END AS totals,
                  l.message
           FROM audit.ingest_log l LEFT JOIN w USING (file_path)
           WHERE l.is_current AND (l.status <> 'loaded' OR w.n > 0 OR totals IS NOT NULL)
           ORDER BY l.file_path""", [_with_money_columns()]).fetchall()
    columns = ", ".join(f'"rows_{k}"' for k in kinds)
    skipped = conn.execute(
        f"""SELECT file_path, {columns} FROM audit.ingest_log
            WHERE is_current AND rows_skipped > 0 ORDER BY file_path""").fetchall()
    by_status = {s: (n, loaded or 0, rejected or 0) for s, n, loaded, rejected in rows}
    return FileSummary(by_status, [FileState(*r) for r in looked_at], skipped, kinds)


def _period_filter(periods: list[str] | None) -> tuple[str, list]:
    return ("", []) if periods is None else ("WHERE period IN (SELECT unnest(?))", [list(periods)])


def count_rows(conn: duckdb.DuckDBPyConnection, table, periods: list[str] | None = None) -> int:
    """Rows of a declared table (of `periods`)."""
    where, args = _period_filter(periods)
    return int(conn.execute(f"SELECT count(*) FROM {table.qualified} {where}", args).fetchone()[0])


def rows_by_period(conn: duckdb.DuckDBPyConnection, table, periods: list[str],
                   dataset: str | None = None) -> dict[str, int]:
    """Rows of a declared table in each of `periods` (0 for a period without any); of one
    `dataset` only, for an audit table."""
    of_dataset, args = ("AND dataset = ?", [dataset]) if dataset is not None else ("", [])
    found = dict(conn.execute(f"SELECT period, count(*) FROM {table.qualified} WHERE period IN (SELECT unnest(?)) "
                              f"{of_dataset} GROUP BY period", [list(periods), *args]).fetchall())
    return {p: int(found.get(p, 0)) for p in periods}


def first_rows_by_period(conn: duckdb.DuckDBPyConnection, table, periods: list[str], limit: int = 10) -> dict:
    """The first `limit` rows of a declared table in each of `periods` (in the order they were
    written, as `first_rows`), as a frame each (an empty one for a period without rows), in one query."""
    # (rowid taken as a column first: DuckDB 2.0 fails on it in the window's ORDER BY, an internal
    # error that invalidates the connection)
    frame = conn.execute(f"SELECT * EXCLUDE (_written) FROM (SELECT *, rowid AS _written FROM {table.qualified} "
                         "WHERE period IN (SELECT unnest(?))) "
                         f"QUALIFY row_number() OVER (PARTITION BY period ORDER BY _written) <= {int(limit)} "
                         "ORDER BY _written", [list(periods)]).df()
    # split by period once (a comparison over the frame for each period cost a millisecond each,
    # 0.4 s of a year's run over its tables)
    found = {p: rows.reset_index(drop=True) for p, rows in frame.groupby("period", sort=False)}
    none = frame.iloc[0:0].reset_index(drop=True)
    return {p: found[p] if p in found else none.copy() for p in periods}


def first_rows(conn: duckdb.DuckDBPyConnection, table, periods: list[str] | None = None, limit: int = 10):
    """The first `limit` rows of a declared table (of `periods`) in the order they were written, as a frame."""
    where, args = _period_filter(periods)
    return conn.execute(f"SELECT * FROM {table.qualified} {where} ORDER BY rowid LIMIT {int(limit)}", args).df()


# ------------------------------------------------------------------ what a department's template is made from


def has_table(conn: duckdb.DuckDBPyConnection, table) -> bool:
    """Whether the published warehouse holds the declared table (an older one may not)."""
    return bool(conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                             [table.schema, table.name]).fetchone()[0])


def reference_rows(conn: duckdb.DuckDBPyConnection, table):
    """Every row of a reference list as the last run loaded it, in its file's order, as a frame."""
    from .ddl import ident

    return conn.execute(f"SELECT {', '.join(ident(c) for c in table.column_names)} FROM {table.qualified}").df()


@dataclass(frozen=True)
class SubmittedFile:
    """A current file of a dataset-period that loaded rows: who sent it (the name's `__<submitter>`
    and the calendar line it belongs to) and for which period."""

    file_path: str
    period: str
    submitter: str | None
    expected_submitter: str | None


def loaded_files(conn: duckdb.DuckDBPyConnection, dataset: str) -> list[SubmittedFile]:
    """The current files of `dataset` whose rows (some or all) are in staging, in path order."""
    if not has_ingest_log(conn):
        return []
    has_expected = bool(conn.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'audit' AND table_name = 'ingest_log' "
        "AND column_name = 'expected_submitter'").fetchone()[0])
    expected = "expected_submitter" if has_expected else "NULL"
    return [SubmittedFile(*r) for r in conn.execute(
        f"SELECT file_path, period, submitter, {expected} FROM audit.ingest_log "
        f"WHERE {_CURRENT_PLACED} AND dataset = ? AND status IN ('loaded', 'partial') ORDER BY file_path",
        [dataset]).fetchall()]


def staging_rows_of_files(conn: duckdb.DuckDBPyConnection, table, period: str, files: list[str]) -> list[dict]:
    """The staged rows of `period` that came from `files`, in file and row order, as dicts."""
    from .ddl import ident

    cur = conn.execute(
        f"SELECT {', '.join(ident(c) for c in table.column_names)} FROM {table.qualified} "
        "WHERE period = ? AND source_file IN (SELECT unnest(?)) ORDER BY source_file, source_row",
        [period, list(files)])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def latest_scorecard(conn: duckdb.DuckDBPyConnection) -> tuple[tuple[str, str, str, str], ...]:
    """The latest period's rows of marts.target_scorecard: (period, target_name, status, detail),
    in the order of the targets; () when the warehouse has none yet."""
    try:
        return tuple(conn.execute(
            """SELECT period, target_name, status, coalesce(detail, '')
               FROM marts.target_scorecard
               WHERE period = (SELECT max(period) FROM marts.target_scorecard)
               ORDER BY rowid""").fetchall())
    except duckdb.CatalogException:
        return ()
