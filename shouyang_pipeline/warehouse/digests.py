"""Digests that let a run skip what did not change since it was last done (issue 14).

Three things are skipped when their inputs are exactly as they were: a dataset-period's ingest and
a month's exports, below, and a mart's months (`marts/inputs.py`; its table, `MART_INPUTS`, is
declared here beside the ingest's):

- **a dataset-period's ingest** (`pipeline.ingest_and_load`): its inputs are the set of its current
  files (path, content hash, what their names say, where their received time comes from and the
  register's time), the reference lists' content and the code. The digest of those inputs is
  kept in the work file, in `internal.ingest_inputs`, written in the same transaction as the
  dataset-period's rows (`load.load_period`): the rows and the digest they were loaded with can
  never disagree, in the work file or in a published copy a damaged work file is rebuilt from.
- **a month's exports** (`pipeline.stage_exports_for`): their inputs are the rows of every table
  the writers read for that month (`month_digests`: the month and the earlier months of its year,
  the rows of no month, the reference lists, whole; a mart by what its rows were built from,
  `MART_INPUTS`, where it keeps that) and the code; a month written without its
  PDF is written again once this machine can make one. The digests are kept beside the exports, in `<export dir>/.digests.json`
  (`DIGESTS_FILE`), staged and published with them.

The code's digest (`code_digest`) covers the package's source files (`.py`, `.sql`, `.j2`,
`.css`) and the versions of the libraries that read files and compute values, once per process:
a new version of the pipeline redoes everything.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
from pathlib import Path

import duckdb

from ..catalog.tables import Column, Table
from .ddl import ensure_tables, ident, literal
from .publish import DIGESTS_NAME

# The exports' digests, beside the exports (published with them: the one hidden name a stage takes).
DIGESTS_FILE = DIGESTS_NAME
DIGESTS_VERSION = 2  # 2: each file with its sha256 (a file edited by hand is written again)

CODE_SUFFIXES = (".py", ".sql", ".j2", ".css", ".typ")
# Libraries whose behaviour shapes what is read and written: a new version redoes everything.
LIBRARIES = ("duckdb", "pandas", "numpy", "pyarrow", "pandera", "python-calamine", "openpyxl", "xlsxwriter",
             "jinja2", "matplotlib", "typst")

# The schemas whose tables the exports read (the digests' own table is not one of them).
EXPORT_SCHEMAS = ("reference", "staging", "audit", "marts")
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])", re.ASCII)  # (whole: `fullmatch`)

INPUTS = Table(
    "internal", "ingest_inputs", "入库输入摘要（运行管道内部使用，分析时无需查询）",
    "每个数据集-报告期上次入库时全部输入的摘要：现行文件及其内容哈希、收到时间来源、参考名录内容和程序版本。"
    "下一次运行时输入完全相同的数据集-报告期不再重读，保留已入库的数据；与该期数据在同一事务中写入",
    (
        Column("partition_key", "VARCHAR", "数据集-报告期", "如 key_projects/2023-02，同 audit.ingest_log.partition_key"),
        Column("inputs_digest", "VARCHAR", "输入摘要", "上述全部输入的SHA-256；任何一项不同即重新入库"),
    ),
)


MART_INPUTS = Table(
    "internal", "mart_inputs", "指标表输入摘要（运行管道内部使用，分析时无需查询）",
    "每个指标表每个报告期上次重建时全部输入的摘要：所读各表该期的行、不分期的行（参考名录等）、列的名称和类型，"
    "以及程序版本。下一次运行只重建输入有变化的最早一期及其后各期；与该表的行在同一事务中写入",
    (
        Column("mart", "VARCHAR", "指标表", "如 project_progress（marts.project_progress）"),
        Column("period", "VARCHAR", "报告期", "YYYY-MM"),
        Column("inputs_digest", "VARCHAR", "输入摘要", "上述全部输入的SHA-256；任何一项不同即从该期起重建"),
    ),
)


def digest_of(obj) -> str:
    """The SHA-256 of a JSON-able value (keys sorted)."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def code_digest() -> str:
    """The package's source files and the libraries' versions, hashed once per process."""
    from importlib import metadata

    package = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.suffix in CODE_SUFFIXES and p.is_file()):
        h.update(path.relative_to(package).as_posix().encode("utf-8") + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    h.update(f"python {sys.version}\0".encode())  # unicodedata's tables, float formatting
    for name in LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        h.update(f"{name}=={version}\0".encode())
    return h.hexdigest()


# ------------------------------------------------------------------ ingest: internal.ingest_inputs


def stored_inputs(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """partition_key -> the digest of the inputs it was last loaded from (none before the first load)."""
    exists = conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                          [INPUTS.schema, INPUTS.name]).fetchone()[0]
    if not exists:
        return {}
    return dict(conn.execute(f"SELECT partition_key, inputs_digest FROM {INPUTS.qualified}").fetchall())


def record_inputs(conn: duckdb.DuckDBPyConnection, partition_key: str, digest: str | None, *,
                  table_ensured: bool = False) -> None:
    """Replace the dataset-period's digest (None: forget it, so the next run reads it again).
    Call inside the transaction that loads its rows (`table_ensured`: it made sure of `INPUTS`)."""
    if not table_ensured:
        ensure_tables(conn, [INPUTS])
    conn.execute(f"DELETE FROM {INPUTS.qualified} WHERE partition_key = ?", [partition_key])
    if digest is not None:
        conn.execute(f"INSERT INTO {INPUTS.qualified} VALUES (?, ?)", [partition_key, digest])


# ------------------------------------------------------------------ exports: the rows each month reads


def table_columns(conn: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """`schema.name` -> its columns' (name, type) in order, for each table (schema, name) that exists."""
    wanted = set(tables)
    out: dict[str, list[tuple[str, str]]] = {}
    for s, t, c, kind in conn.execute(
            "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name IN (SELECT unnest(?)) "
            "ORDER BY schema_name, table_name, column_index", [sorted({s for s, _ in tables})]).fetchall():
        if (s, t) in wanted:
            out.setdefault(f"{s}.{t}", []).append((c, kind))
    return out


def table_groups(conn: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]],
                 columns: dict[str, list[tuple[str, str]]] | None = None
                 ) -> dict[str, list[tuple[str | None, int, str]]]:
    """For each table (schema, name) that exists: (period, rows, sum of the rows' hashes) by
    period, keyed `schema.name`; one group (None) for a table without a period column, its rows'
    hashes taken in their order. Files no
    dataset-period holds count as period None in the ingest log (a briefing lists them every
    month; a mart that reads the log reads them for every month). One query for all the tables
    (`columns`: their `table_columns`, when read already)."""
    columns = table_columns(conn, tables) if columns is None else columns
    parts, out = [], {}
    for schema, name in tables:
        cols = {c for c, _ in columns.get(f"{schema}.{name}", ())}
        if not cols:
            continue  # (not made yet)
        # a table of no period (a reference list) in its rows' order: a mart keeps a list's order
        # (`ORDER BY r.rowid`), so a list reordered is a change; a month's rows by their sum
        rows = "sum(hash(*COLUMNS(*))::HUGEINT)::VARCHAR"
        if "period" not in cols:
            group, rows = "NULL::VARCHAR", "hash(list(hash(*COLUMNS(*)) ORDER BY rowid))::VARCHAR"
        elif "partition_key" in cols:
            group = "CASE WHEN partition_key IS NULL THEN NULL ELSE period END"
        else:
            group = "period"
        out[f"{schema}.{name}"] = []
        parts.append(f"SELECT {literal(f'{schema}.{name}')} AS t, {group} AS g, count(*) AS n, "
                     f"{rows} AS h FROM {ident(schema)}.{ident(name)} GROUP BY ALL")
    if parts:
        for t, g, n, h in conn.execute("\nUNION ALL\n".join(parts) + "\nORDER BY t, g NULLS FIRST").fetchall():
            out[t].append((g, n, h))
    return out


def _groups(conn: duckdb.DuckDBPyConnection, skip: set[str] = frozenset()) -> dict[str, list[tuple[str | None, int, str]]]:
    """`table_groups` of every table the exports read (the schemas `EXPORT_SCHEMAS`), but those of
    `skip` (`schema.name`)."""
    tables = conn.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN (SELECT unnest(?)) "
        "AND NOT temporary ORDER BY ALL", [list(EXPORT_SCHEMAS)]).fetchall()
    return table_groups(conn, [t for t in tables if f"{t[0]}.{t[1]}" not in skip])


def kept_mart_inputs(conn: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """mart -> period -> the digest of what its rows of that month were built from (`MART_INPUTS`),
    for every mart that keeps them (not the reporting calendar); {} before any."""
    exists = conn.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                          "AND schema_name = ? AND table_name = ?", [MART_INPUTS.schema, MART_INPUTS.name]).fetchone()[0]
    out: dict[str, dict[str, str]] = {}
    if exists:
        for mart, period, digest in conn.execute(
                f"SELECT mart, period, inputs_digest FROM {MART_INPUTS.qualified} ORDER BY ALL").fetchall():
            out.setdefault(mart, {})[period] = digest
    return out


def is_month(period: str | None) -> bool:
    """A `YYYY-MM` period (the groups of anything else belong to every month)."""
    return period is not None and _MONTH.fullmatch(period) is not None


def month_digests(conn: duckdb.DuckDBPyConnection, months: list[str]) -> dict[str, str]:
    """month -> the digest of everything its exports read: of every table, the rows of that
    month and of the earlier months of its year, and the rows of no month (or of a period that
    is not a month); and the code.

    A mart that keeps what its rows were built from (`MART_INPUTS`, `marts/inputs.py`) counts by
    that instead of its rows: its rows of a month are made from the inputs of that month and of
    earlier ones (of any year: the same month a year before) and the code, so the digests it kept
    for every month up to this one tell its rows of this year's months up to this one, without
    hashing them (a 110,000-row month of `marts.project_progress`)."""
    kept = {f"marts.{mart}": by_month for mart, by_month in kept_mart_inputs(conn).items()}
    groups = _groups(conn, skip=set(kept))
    out = {}
    for month in months:
        year = month[:4]
        tables = {}
        for table, rows in groups.items():
            tables[table] = [r for r in rows if not is_month(r[0]) or (r[0][:4] == year and r[0] <= month)]
        for table, by_month in kept.items():
            tables[table] = [(m, d) for m, d in by_month.items() if m <= month]
        out[month] = digest_of({"month": month, "code": code_digest(), "tables": tables})
    return out


def read_export_digests(export_dir: Path) -> dict[str, dict]:
    """month -> {"digest", "files": {name: sha256}} of the exports in the export dir; {} when there
    are none or the file cannot be read (then every month is written again)."""
    try:
        data = json.loads((Path(export_dir) / DIGESTS_FILE).read_text(encoding="utf-8"))
        if data.get("version") != DIGESTS_VERSION:
            return {}
        months = data["months"]
        return {m: {"digest": str(e["digest"]), "files": {str(f): str(sha) for f, sha in e["files"].items()}}
                for m, e in months.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def write_export_digests(path: Path, months: dict[str, dict]) -> Path:
    path = Path(path)
    path.write_text(json.dumps({"version": DIGESTS_VERSION, "months": dict(sorted(months.items()))},
                               ensure_ascii=False, indent=1), encoding="utf-8")
    return path
