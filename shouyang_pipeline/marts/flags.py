"""Figures that do not fit the previous period (SUBMISSIONS.md 8): `audit.cross_period_flags`.

Each period of a dataset is compared with the previous period of the same year that staging
holds for that dataset (held: it has rows there), which is the previous month, or the previous
quarter for quarterly data; January is never compared with December. The SQL is generated from
the declarations (`Field.cumulative`, `Field.plan_figure`, `Dataset.key`, `flags_missing_keys`,
`name_field`, `item_word`), one query per dataset; every value in it (dataset name, headers,
rule codes, the reasons' wording, periods) is a parameter.

- `ytd_decreased`: a cumulative column lower than the previous period's value for the same key
  (a NULL on either side is not a decrease);
- `plan_changed`: a plan figure different from the previous period's (compared as DECIMAL in
  万元, so a change of 0.0001 万元 counts);
- `missing_key`: a key of the previous period absent from this one (datasets with
  `flags_missing_keys`) in a file its sender did send this period (read: loaded or partly; a
  submission not yet in, overdue or sent back is `marts.submission_status`'s to report), and not
  among the period's rejected rows (a row sent but sent back was reported;
  `audit.rejected_rows.row_key`, where a key cell that broke a rule matches any value). Its
  file, row and name are the previous period's row's; no 备注 of this period can explain it
  (there is no row to hold one), so it is never explained: the county office checks it.

A flag is explained when its row's 备注, trimmed, is not empty. The flags are a function of
staging alone: `recompute_flags` replaces those of some periods, or of all, in one statement per
dataset (a self-join of each staging table on its key); a run recomputes those of its periods
and of the period after each (`periods_after`), or all of them when it covers every period.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from ..catalog.datasets import DATASETS, Dataset
from ..catalog.rules import MISSING_KEY, PLAN_CHANGED, YTD_DECREASED
from ..catalog.tables import AUDIT, STAGING, UNREAD_KEY_PART
from ..warehouse.connection import transaction
from ..warehouse.ddl import ident

TABLE = AUDIT["cross_period_flags"]
REJECTED = AUDIT["rejected_rows"]
LOG = AUDIT["ingest_log"]

# The reasons (SUBMISSIONS.md 8's examples), DuckDB format() strings. Numbers are written as
# staged (money in 万元), as plain decimals without trailing zeros.
REASON_YTD = "{}比上期减少（本期：{}，{}：{}），累计数不应下降，请核实"  # header, value, previous period, previous value
REASON_PLAN = "{}由上期的{}调整为{}，请说明调整原因"  # header, previous value, value
REASON_MISSING = "{}{}{}上期在报，本期未报送"  # item word, key, （name） or nothing

# The three flags: the SQL's parameter names ($ytd, $reason_ytd, ...), their code and reason.
FLAGS = (
    dict(name="ytd", rule=YTD_DECREASED, reason=REASON_YTD),
    dict(name="plan", rule=PLAN_CHANGED, reason=REASON_PLAN),
    dict(name="missing", rule=MISSING_KEY, reason=REASON_MISSING),
)

_DECIMAL = "DECIMAL(38,4)"


def _plain(expr: str) -> str:
    """SQL: a DECIMAL as plain text without trailing zeros (1200.0000 -> 1200, 0.5000 -> 0.5)."""
    text = f"CAST({expr} AS VARCHAR)"
    return f"(CASE WHEN contains({text}, '.') THEN rtrim(rtrim({text}, '0'), '.') ELSE {text} END)"


def _explained(remarks: str) -> str:
    return f"coalesce(trim({remarks}), '') <> ''"


def checks_of(dataset: Dataset) -> list[dict]:
    """The columns compared across periods, with their rule and header (a query parameter)."""
    return ([{"column": f.name, "header": f.header, "rule": YTD_DECREASED} for f in dataset.cumulative_fields]
            + [{"column": f.name, "header": f.header, "rule": PLAN_CHANGED} for f in dataset.plan_fields])


def flags_sql(dataset: Dataset) -> str | None:
    """The query of one dataset's flags, in the columns of audit.cross_period_flags; parameters
    $dataset, $periods (a list, or NULL for every period), $checks, $ytd, $plan, $missing,
    $reason_ytd, $reason_plan, $reason_missing, $item_word, $name_shown. None when the dataset
    declares nothing to compare."""
    checks = checks_of(dataset)
    if not checks and not dataset.flags_missing_keys:
        return None
    staging = STAGING[dataset.name].qualified
    key = " || '/' || ".join(f"CAST({ident(k)} AS VARCHAR)" for k in dataset.key)
    name = f"CAST({ident(dataset.name_field)} AS VARCHAR)" if dataset.name_field else "CAST(NULL AS VARCHAR)"
    key_of_p = " || '/' || ".join(f"CAST(p.{ident(k)} AS VARCHAR)" for k in dataset.key)
    same_key = " AND ".join(f"c.{ident(k)} = p.{ident(k)}" for k in dataset.key)
    keys = ", ".join(ident(k) for k in dataset.key)
    parts: list[str] = []
    if checks:
        compared = ", ".join(f"CAST({ident(c['column'])} AS {_DECIMAL}) AS {ident(c['column'])}" for c in checks)
        unpivoted = ", ".join(ident(c["column"]) for c in checks)
        # the rows with a flag, found on the key and the compared columns alone (a narrow join:
        # at a province's size the unpivoted rows with their names and files took a gigabyte)
        differs = " OR ".join(
            f"CAST(c.{ident(k['column'])} AS {_DECIMAL}) {'<' if k['rule'] == YTD_DECREASED else '<>'} "
            f"CAST(p.{ident(k['column'])} AS {_DECIMAL})" for k in checks)
        c_keys = ", ".join(f"c.{ident(k)}" for k in dataset.key)
        s_in_marked = " AND ".join(f"m.{ident(k)} = s.{ident(k)}" for k in dataset.key)
        parts.append(f"""
            flagged AS (
                SELECT x.period, x.previous_period, {c_keys}
                FROM pairs x
                JOIN {staging} c ON c.period = x.period
                JOIN {staging} p ON p.period = x.previous_period AND {same_key}
                WHERE {differs}
            ),
            marked AS (SELECT period, {keys} FROM flagged UNION SELECT previous_period, {keys} FROM flagged),
            long AS (
                SELECT * FROM (
                    SELECT period, {keys}, {key} AS key_text, {name} AS key_name, remarks, source_file, source_row,
                           {compared}
                    FROM {staging} s
                    WHERE EXISTS (SELECT 1 FROM marked m WHERE m.period = s.period AND {s_in_marked})
                ) UNPIVOT INCLUDE NULLS (value FOR "column" IN ({unpivoted}))
            ),
            checks AS (SELECT unnest($checks, recursive := true))""")
    body = []
    if checks:
        body.append(f"""
            SELECT x.period, $dataset AS dataset, c.key_text AS "key", c.key_name, c."column", c.value,
                   x.previous_period, p.value AS previous_value, k.rule,
                   CASE WHEN k.rule = $ytd
                        THEN format($reason_ytd, k.header, {_plain('c.value')}, x.previous_period, {_plain('p.value')})
                        ELSE format($reason_plan, k.header, {_plain('p.value')}, {_plain('c.value')}) END AS reason,
                   {_explained('c.remarks')} AS explained, c.remarks, c.source_file AS file_path, c.source_row
            FROM pairs x
            JOIN long c ON c.period = x.period
            JOIN long p ON p.period = x.previous_period AND p."column" = c."column" AND {same_key}
            JOIN checks k ON k."column" = c."column"
            WHERE (k.rule = $ytd AND c.value < p.value) OR (k.rule = $plan AND c.value <> p.value)""")
    if dataset.flags_missing_keys:
        if len(dataset.key) == 1:
            reported = f"r.row_key = {key_of_p}"
        else:  # `*/黑水村`: a part that broke a rule matches any value
            reported = " AND ".join(
                [f"len(string_split(r.row_key, '/')) = {len(dataset.key)}"]
                + [f"split_part(r.row_key, '/', {i}) IN ($unread, CAST(p.{ident(k)} AS VARCHAR))"
                   for i, k in enumerate(dataset.key, start=1)])
        body.append(f"""
            SELECT x.period, $dataset, {key}, {name}, NULL, NULL, x.previous_period, NULL, $missing,
                   format($reason_missing, $item_word, {key},
                          CASE WHEN $name_shown AND coalesce(trim({name}), '') <> '' THEN '（' || {name} || '）'
                               ELSE '' END),
                   false, NULL, p.source_file, p.source_row
            FROM pairs x
            JOIN {staging} p ON p.period = x.previous_period
            JOIN {LOG.qualified} pf ON pf.file_path = p.source_file AND pf.is_current AND pf.period = x.previous_period
            WHERE NOT EXISTS (SELECT 1 FROM {staging} c WHERE c.period = x.period AND {same_key})
              -- the row's sender sent this period's file: a submission not yet in, overdue or sent
              -- back is the calendar's business (marts.submission_status), not a dropped key
              AND EXISTS (SELECT 1 FROM {LOG.qualified} cf
                          WHERE cf.is_current AND cf.dataset = $dataset AND cf.period = x.period
                            AND list_contains($sent, cf.status)
                            AND coalesce(cf.expected_submitter, cf.submitter, '')
                                = coalesce(pf.expected_submitter, pf.submitter, ''))
              -- a row sent this period but rejected was reported: audit.rejected_rows has it
              AND NOT EXISTS (SELECT 1 FROM {REJECTED.qualified} r
                              WHERE r.dataset = $dataset AND r.period = x.period AND {reported})""")
    return f"""
        WITH held AS (SELECT DISTINCT period FROM {staging}),
        pairs AS (
            SELECT * FROM (
                SELECT period, lag(period) OVER (PARTITION BY left(period, 4) ORDER BY period) AS previous_period
                FROM held)
            WHERE previous_period IS NOT NULL AND ($periods IS NULL OR period IN (SELECT unnest($periods)))
        ){''.join(',' + p for p in parts)}
        {' UNION ALL '.join(body)}"""


def _parameters(dataset: Dataset, periods: list[str] | None) -> dict:
    return {
        "dataset": dataset.name,
        "periods": periods,
        # (a dataset with nothing to compare gets one entry naming no column: the list keeps its type)
        "checks": checks_of(dataset) or [{"column": "", "header": "", "rule": YTD_DECREASED}],
        **{flag["name"]: flag["rule"] for flag in FLAGS},
        "unread": UNREAD_KEY_PART,
        "sent": ["loaded", "partial"],  # audit.ingest_log.status of a file that was read
        **{f"reason_{flag['name']}": flag["reason"] for flag in FLAGS},
        "item_word": dataset.item_word,
        # the name in brackets, unless it is part of the key already (a village: 平头镇/黑水村)
        "name_shown": dataset.name_field is not None and dataset.name_field not in dataset.key,
    }


def _run(conn: duckdb.DuckDBPyConnection, dataset: Dataset, sql: str, periods: list[str] | None, prefix: str):
    params = _parameters(dataset, periods)
    used = {name: value for name, value in params.items() if f"${name}" in sql}
    return conn.execute(prefix + sql, used)


def compute_flags(conn: duckdb.DuckDBPyConnection, periods: list[str] | None = None) -> pd.DataFrame:
    """The flags of `periods` (every period when None) as a frame, without writing anything."""
    frames = []
    for dataset in DATASETS.values():
        sql = flags_sql(dataset)
        if sql is not None:
            frames.append(_run(conn, dataset, sql, periods, "").df())
    columns = TABLE.column_names
    frames = [f.set_axis(columns, axis=1) for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def recompute_flags(conn: duckdb.DuckDBPyConnection, periods: list[str] | None = None) -> None:
    """Replace audit.cross_period_flags from staging, in one transaction: the flags of `periods`
    (every period when None, the default a run uses)."""
    columns = ", ".join(ident(c) for c in TABLE.column_names)
    with transaction(conn):
        if periods is None:
            conn.execute(f"DELETE FROM {TABLE.qualified}")
        else:
            conn.execute(f"DELETE FROM {TABLE.qualified} WHERE period IN (SELECT unnest(?))", [list(periods)])
        for dataset in DATASETS.values():
            sql = flags_sql(dataset)
            if sql is not None:
                _run(conn, dataset, sql, periods, f"INSERT INTO {TABLE.qualified} ({columns}) ")


def periods_after(conn: duckdb.DuckDBPyConnection, periods: list[str]) -> list[str]:
    """`periods` and, for each dataset, the next period of the same year staging holds after
    each of them: the periods whose flags a change of `periods` can raise or clear."""
    found = set(periods)
    for dataset in DATASETS.values():
        rows = conn.execute(
            f"""SELECT min(h.period) FROM (SELECT unnest($1) AS period) r
                JOIN (SELECT DISTINCT period FROM {STAGING[dataset.name].qualified}) h
                  ON h.period > r.period AND left(h.period, 4) = left(r.period, 4)
                GROUP BY r.period""", [list(periods)]).fetchall()
        found |= {p for (p,) in rows if p is not None}
    return sorted(found)


@dataclass(frozen=True)
class FlagSummary:
    """The flags of some periods, for a step's metadata, its check and the run summary."""

    periods: list[str]
    flags: pd.DataFrame  # rows of audit.cross_period_flags of those periods

    @property
    def total(self) -> int:
        return len(self.flags)

    @property
    def unexplained(self) -> pd.DataFrame:
        return self.flags[~self.flags["explained"].astype(bool)]

    def by_rule(self) -> dict[str, tuple[int, int]]:
        """rule -> (flags, of which explained), every rule listed."""
        out = {}
        for rule in (YTD_DECREASED, PLAN_CHANGED, MISSING_KEY):
            mine = self.flags[self.flags["rule"] == rule]
            out[rule] = (len(mine), int(mine["explained"].astype(bool).sum()))
        return out


def flag_summary(conn: duckdb.DuckDBPyConnection, periods: list[str] | None = None) -> FlagSummary:
    """The stored flags of `periods` (every period when None), ordered for people."""
    where, args = ("", []) if periods is None else ("WHERE period IN (SELECT unnest(?))", [list(periods)])
    frame = conn.execute(
        f"""SELECT * FROM {TABLE.qualified} {where}
            ORDER BY period, dataset, explained, rule, "key", "column" """, args).df()
    shown = sorted(set(frame["period"])) if periods is None else sorted(periods)
    return FlagSummary(shown, frame)
