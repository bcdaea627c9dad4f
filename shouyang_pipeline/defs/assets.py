"""The assets: thin wrappers that call one function of the plain-Python rooms each.

    reference/*  ->  staging/<dataset>  ->  audit/*  ->  marts/*  ->  exports/briefing
                                                                 ->  exports/published_warehouse

The reference lists are not partitioned (the county's fixed lists, one version for every month);
everything after them is partitioned by reporting month (`partitions.monthly`: the months that
have data). One job (`automation.monthly_refresh`) holds both: a run of some months runs the
reference step once, first, then the months' steps. Whichever step comes first in a run does the
run's checks (`begin_once`).

Asset checks come in two kinds. A check of the pipeline (`row_accounting`) has severity ERROR:
when it fails, something in the code is wrong. A check of the departments' data (rejected rows,
totals that disagree, targets not met) has severity WARN: such problems are expected every
month, are listed in the audit tables and the briefing, and are not failures of the run. The UI
of Dagster 1.13 draws a WARN check that did not pass with a yellow warning sign (an ERROR one
with a red cross), under its fixed label "Failed"; the description of such a result therefore
starts with 警告（不是运行故障）, and the check's own description says it is a data check.

A check's result belongs to the run, not to a month: Dagster 1.13 records a check evaluation
against a partition only when the run has one partition key (the `dagster/partition` tag; a
result cannot name its partition, and partitioned check specs are a preview), so a run over a
range of months (`shouyang run`, a single-run backfill) gives one result for all of them. Every
check's result therefore carries `by_month`, a table of the run's months with each month's
figures, and its description says so (`BY_MONTH_NOTE`). Materialisations are recorded a month
each, and each month's gets its own figures (`RUN_PERIODS`, below).
"""


import threading
import warnings
from concurrent.futures import Future
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from ..catalog.datasets import DATASETS
from ..catalog.marts import MART_CHECKS, MARTS
from ..catalog.rules import rule_name
from ..catalog.tables import AUDIT, REFERENCE, STAGING
from ..errors import SetupError
from ..marts.build import build_mart, status_check_rows
from ..marts.inputs import WHOLE, MartInputs
from ..marts.flags import FlagSummary
from ..marts.lineage import build_order, mart_inputs
from ..pipeline import (
    ALLOW_EMPTY_TAG, FORCE_TAG, IngestAhead, ahead_export_workers, begin_run, cross_period_flags, export_months,
    ingest_ahead, ingest_and_load, load_reference_lists, parse_period, publish, record_unplaced, stage_exports_for,
    start_export_workers,
)
from ..warehouse import queries
from ..warehouse.publish import stale_wal_note
from .metadata import definition_metadata, markdown, preview, previews
from .partitions import monthly
from .resources import WarehouseResource

# A run covers one month (the schedule, the sensor) or a range of months in one run
# (`shouyang run`, a backfill from the UI): every partitioned asset handles `context.partition_keys`.
# Dagster 1.13 marks `backfill_policy` beta; the pinned version's behaviour is covered by the tests.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)
SINGLE_RUN = dg.BackfillPolicy.single_run()

REFERENCE_KEYS = [dg.AssetKey(["reference", name]) for name in REFERENCE]
STAGING_KEYS = [dg.AssetKey(["staging", name]) for name in DATASETS]
AUDIT_KEYS = [dg.AssetKey(["audit", name]) for name in AUDIT]
MART_KEYS = [dg.AssetKey(["marts", name]) for name in MARTS]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["reference", name], group_name="reference", description=t.comment,
                     metadata=definition_metadata(t), kinds={"duckdb", "csv"})
        for name, t in REFERENCE.items()
    ],
)
def reference_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """The county's fixed lists from data/reference/*.csv (one version for every month).

    The first step of a run of the whole job: it checks everything the run needs before
    anything changes (`begin_once`).
    """
    begin_once(context, warehouse)
    with warehouse.get_connection() as conn:
        counts = load_reference_lists(warehouse.settings, conn)
        for name, table in REFERENCE.items():
            yield dg.MaterializeResult(
                asset_key=["reference", name],
                metadata={"dagster/row_count": counts[name], "preview": preview(conn, table)},
            )


def begin_once(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> None:
    """What every run does first, before anything changes: `pipeline.begin_run`, for the run's
    months. Every step calls this and the run's first step does it: the reference step in a run
    of the job, the first step of the months in a run without the reference lists (a backfill of
    all assets launched in the UI is split by Dagster into a run of the unpartitioned reference
    lists and a run of the months). A run of months that does not publish (assets chosen in the
    UI) says so in its log."""
    if warehouse.run_begun:
        return
    with setup_failure():
        months = run_periods(context, warehouse.settings.current_period())
        begin_run(warehouse.settings, months, context.run.tags.get(ALLOW_EMPTY_TAG) == "true", context.run_id)
    warehouse.mark_run_begun()
    selected = context.run.asset_selection  # (none or empty: the whole job)
    if months and selected and PUBLISHED_KEY not in selected:  # (the reference lists' own run of a backfill: no)
        context.log.warning(
            "本次运行只物化所选的资产，不含 exports/published_warehouse：结果只写入工作文件，分析人员打开的数据仓库和"
            "简报不变，要到下一次包含发布的运行（make run、每月定时运行、文件传感器或在界面中物化全部资产）才一并发布。")


PUBLISHED_KEY = dg.AssetKey(["exports", "published_warehouse"])


def run_periods(context: dg.AssetExecutionContext, now_period: str) -> list[str]:
    """The months of the run, checked to be months up to `now_period` (a partition added by hand
    in the UI may be anything); none when the run has no partition (the reference lists alone)."""
    if not (context.has_partition_key or context.has_partition_key_range):
        return []
    return [parse_period(key, now_period) for key in context.partition_keys]


@contextmanager
def setup_failure():
    """A set-up problem fails the step with its Chinese message as the description, no traceback."""
    try:
        yield
    except SetupError as exc:
        raise dg.Failure(description=str(exc), metadata={"setup_error": True}, allow_retries=False) from None


# The start of the description of every WARN check result that did not pass (see the module doc).
WARNING = "警告（不是运行故障）："
# The end of every check's description: its result is the run's, its by_month table the months'.
BY_MONTH = "by_month"
BY_MONTH_NOTE = ("一次运行多个报告期（shouyang run、回填）时，检查结果是整次运行的一个结果，"
                 "各月的数字见结果元数据 by_month（报告期 → 数字）。")


# A materialisation's metadata: Dagster 1.13 records one materialisation a month of the run, each
# with the metadata the step gave (`MaterializeResult`) and what it added for that month
# (`add_asset_metadata(partition_key=)`), which replaces the step's under the same names. So a
# month's figures are always added as that month's (`each_month`), in a run of one month as in a
# run over several (`shouyang run`, a single-run backfill), under the same names, with its
# `period`; the step's own metadata holds what belongs to the run (RUN_PERIODS: its months).
RUN_PERIODS = "run_periods"


def run_periods_text(periods: list[str]) -> str:
    return ", ".join(periods) if len(periods) <= 3 else f"{periods[0]} … {periods[-1]}（{len(periods)}个月）"


def each_month(context: dg.AssetExecutionContext, key: dg.AssetKey | list[str], figures) -> None:
    """Each month of the run's materialisation of `key` with that month's `figures(period)`."""
    for period in context.partition_keys:
        context.add_asset_metadata({"period": period, **figures(period)}, asset_key=key, partition_key=period)


def of_month(frame: pd.DataFrame, period: str) -> pd.DataFrame:
    """The rows of `frame` (with a `period` column) of one month."""
    return frame[frame["period"] == period] if not frame.empty else frame


def by_month(periods, frame: pd.DataFrame, counts: dict) -> dg.MetadataValue:
    """A table with a row per month of `periods` (zeros for a month without rows) and a column
    per entry of `counts`: {label: function of the month's rows of `frame` -> number}."""
    table = []
    for period in sorted(set(periods)):
        part = frame[frame["period"] == period] if not frame.empty and "period" in frame.columns else None
        table.append({"报告期": period, **{label: int(count(part)) if part is not None and not part.empty else 0
                                           for label, count in counts.items()}})
    return markdown(pd.DataFrame(table, columns=["报告期", *counts]), 500)


def _months(frame: pd.DataFrame) -> str:
    months = sorted({p for p in frame["period"].dropna()})
    return "、".join(months[:6]) + ("等" if len(months) > 6 else "")


def warning_check(check_name: str, problems: int, ok: str, warning: str, metadata: dict,
                  asset_key: list[str] | None = None) -> dg.AssetCheckResult:
    """A check of the departments' data: WARN, with a description saying what to look at."""
    return dg.AssetCheckResult(
        check_name=check_name, passed=problems == 0, severity=dg.AssetCheckSeverity.WARN,
        description=ok if problems == 0 else WARNING + warning, metadata=metadata, asset_key=asset_key)


def _staging_figures(log: pd.DataFrame, rejected: pd.DataFrame, loaded: int, warnings: int,
                     sample: dg.MetadataValue) -> dict:
    """A month's materialisation of a staging table: its files (`log`), rejected cells, rows
    loaded, cell warnings and first rows."""
    return {
        "dagster/row_count": loaded,
        "files": len(log),
        "files_loaded": int((log.status == "loaded").sum()),
        "files_partial": int((log.status == "partial").sum()),
        "files_rejected": int((log.status == "rejected").sum()),
        "rows_rejected": int(log.rows_rejected.sum()),
        "cell_warnings": warnings,
        "file_status": markdown(_file_table(log), 50),
        "rejected_rows": markdown(rejected[["file_path", "source_row", "source_cell", "rule", "reason"]]),
        "preview": sample,
    }


def _file_table(log: pd.DataFrame) -> pd.DataFrame:
    cols = ["file_path", "status", "rows_read", "rows_loaded", "rows_rejected", "rows_skipped", "totals_check", "message"]
    return log[cols]


def _staging_spec(dataset_name: str) -> tuple[dg.AssetSpec, list[dg.AssetCheckSpec]]:
    table = STAGING[dataset_name]
    key = dg.AssetKey(["staging", dataset_name])
    spec = dg.AssetSpec(
        key, group_name="staging", deps=REFERENCE_KEYS, kinds={"duckdb", "pandera"},
        description=f"{table.comment} 每个报告期重读该期的全部现行文件，校验后在一个事务内替换该期数据。",
        metadata=definition_metadata(table),
    )
    checks = [
        dg.AssetCheckSpec("row_accounting", asset=key,
                          description="管道自检（不通过即运行故障，请交开发人员）：每个现行文件读到的数据行 = 入库行 + 被拒行；"
                                      "staging 行数 = 入库行之和。" + BY_MONTH_NOTE),
        dg.AssetCheckSpec("no_rejected_rows", asset=key,
                          description="数据检查（警告级：数据问题，不是运行故障）：本期没有被拒的文件或数据行；"
                                      "有则警告，原因见 audit.rejected_rows 和该期简报。" + BY_MONTH_NOTE),
        dg.AssetCheckSpec("totals_match", asset=key,
                          description="数据检查（警告级：数据问题，不是运行故障）：带合计行的文件，合计与明细相符；不符则警告。"
                                      + BY_MONTH_NOTE),
    ]
    return spec, checks


_STAGING_SPECS = {name: _staging_spec(name) for name in DATASETS}


def one_step(name: str, schema: str, specs: dict[str, tuple], results, description: str, prepare=None):
    """One step (a multi-asset) for the tables `specs` of `schema`, in their order: fewer steps,
    less fixed cost per run; each table is still its own asset with its own deps,
    materialisation and checks, and can be materialised alone (`results(context, warehouse,
    table, prepared)` yields those of one table). `prepare(context, warehouse, tables)`, when
    given, is a context manager around the selected tables' results, its value their `prepared`."""

    @dg.multi_asset(
        name=name,
        specs=[spec for spec, _ in specs.values()],
        check_specs=[c for _, checks in specs.values() for c in checks],
        partitions_def=monthly,
        backfill_policy=SINGLE_RUN,
        can_subset=True,
        description=description,
    )
    def step(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        begin_once(context, warehouse)
        tables = [table for table in specs if dg.AssetKey([schema, table]) in context.selected_asset_keys]
        with prepare(context, warehouse, tables) if prepare else nullcontext() as prepared:
            for table in tables:
                yield from results(context, warehouse, table, prepared)

    return step


@dataclass
class _Staging:
    """What the staging step's datasets share: the reading ahead (None: each dataset-period read as
    it is loaded) and one connection to the work file."""

    ahead: IngestAhead | None
    conn: duckdb.DuckDBPyConnection


@contextmanager
def _read_ahead(context: dg.AssetExecutionContext, warehouse: WarehouseResource, datasets: list[str]):
    """The selected datasets' files read ahead by worker processes when there is enough to read
    (`pipeline.ingest_ahead`); they are stopped when the step ends. The datasets are loaded on
    one connection to the work file, not one each: a close checkpoints the file (0.55 s of the
    sample's run, BENCHMARKS.md). When the run goes on to its exports, the export workers it will
    use are started (`pipeline.ahead_export_workers`) as soon as the reading workers are done
    (`_ExportsAhead`), or else as the step ends: they get ready while this process loads what was
    read last, and while the audit and the marts are built."""
    ahead_exports = _ExportsAhead(warehouse, ahead_export_workers(context.partition_keys)
                                  if _exports_in_run(context) else 0)
    try:
        with setup_failure(), ingest_ahead(warehouse.settings, warehouse.get_connection, datasets,
                                           context.partition_keys,
                                           force=context.run.tags.get(FORCE_TAG) == "true") as ahead:
            if ahead is not None and ahead_exports.workers:
                ahead.when_read(ahead_exports.start)
            with warehouse.get_connection() as conn:
                # one thread: loading a dataset-period is mostly its commit (DuckDB compressing and
                # writing its rows), which a second thread does not speed up but takes turns with the
                # reading workers on the same cores: the 1000x data's loading took 4.0-4.2 s of CPU on
                # one thread against 4.7-4.9 s on two (three pairs), and less wall time alone (BENCHMARKS.md, What
                # changed). The setting is the database's, not the connection's: it holds until this
                # connection, the only one on the work file meanwhile, closes; the audit, the marts
                # and the exports open theirs after it, on DuckDB's default threads.
                conn.execute("SET threads = 1")
                yield _Staging(ahead, conn)
    except BaseException:
        ahead_exports.never()  # (workers being started by the reading's thread are kept first: the run's end stops them)
        raise
    ahead_exports.start()
    if ahead_exports.error is not None:  # only time is at stake: the exports step starts its own, or writes in-process
        context.log.warning(f"未能提前启动导出进程（{type(ahead_exports.error).__name__}: {ahead_exports.error}），"
                            "导出步骤开始时再启动")


class _ExportsAhead:
    """The export workers of a run started once, by whichever comes first: the reading workers done
    (from the thread that got their last answer) or the staging step's end."""

    def __init__(self, warehouse: WarehouseResource, workers: int):
        self.warehouse, self.workers = warehouse, workers
        self.error: Exception | None = None
        self._lock = threading.Lock()
        self._started = False

    def never(self) -> None:
        """None started from now on; a start under way (the reading's thread) is waited for, so that
        its workers are kept by the warehouse resource before the step fails (its end stops them)."""
        with self._lock:
            self._started = True

    def start(self) -> None:
        with self._lock:
            if self._started or not self.workers:
                return
            self._started = True
            try:
                self.warehouse.keep_export_workers(start_export_workers(self.workers))
            except Exception as exc:  # noqa: BLE001 - said as the step ends: it may be a reading thread's
                self.error = exc


BRIEFING_KEY = dg.AssetKey(["exports", "briefing"])


def _exports_in_run(context: dg.AssetExecutionContext) -> bool:
    selection = context.run.asset_selection  # empty or None: the job's every asset
    in_job = BRIEFING_KEY in context.job_def.asset_layer.selected_asset_keys
    return in_job and (not selection or BRIEFING_KEY in selection)


def _staging_results(context: dg.AssetExecutionContext, warehouse: WarehouseResource, dataset_name: str,
                     staging: _Staging):
    table = STAGING[dataset_name]
    key = dg.AssetKey(["staging", dataset_name])
    periods = context.partition_keys
    conn = staging.conn
    with setup_failure():
        outcome = ingest_and_load(warehouse.settings, conn, dataset_name, periods, context.run_id,
                                  force=context.run.tags.get(FORCE_TAG) == "true", ahead=staging.ahead)
        staged = queries.rows_by_period(conn, table, periods)
        warned = queries.rows_by_period(conn, AUDIT["cell_warnings"], periods, dataset_name)
        samples = previews(conn, table, periods)
    each_month(context, key, lambda p: _staging_figures(of_month(outcome.log, p), of_month(outcome.rejected, p),
                                                        staged[p], warned[p], samples[p]))
    log, loaded = outcome.log, outcome.staging_rows
    yield dg.MaterializeResult(asset_key=key, metadata={
        RUN_PERIODS: run_periods_text(periods), "rows_in_run": loaded, "files_in_run": len(log)})
    read, in_log, rejected_rows = (int(log[c].sum()) for c in ("rows_read", "rows_loaded", "rows_rejected"))
    unbalanced = log[(log.rows_read != log.rows_loaded + log.rows_rejected)]
    balanced = unbalanced.empty and loaded == in_log
    yield dg.AssetCheckResult(
        check_name="row_accounting", asset_key=key,
        passed=balanced,
        description=(f"读到 {read} 行 = 入库 {in_log} 行 + 被拒 {rejected_rows} 行；staging 中本次月份共 {loaded} 行" if balanced
                     else f"运行故障：行数对不上（{'、'.join(unbalanced.file_path[:3]) or f'staging {loaded} 行 ≠ 入库 {in_log} 行'}），"
                          "这是管道本身的错误，请把本次运行交给开发人员查看"),
        metadata={"rows_read": read, "rows_loaded": in_log, "rows_rejected": rejected_rows, "staging_rows": loaded,
                  BY_MONTH: by_month(periods, log, {
                      "读到行": lambda m: m.rows_read.sum(), "入库行": lambda m: m.rows_loaded.sum(),
                      "被拒行": lambda m: m.rows_rejected.sum(),
                      "对不上的文件": lambda m: (m.rows_read != m.rows_loaded + m.rows_rejected).sum()})},
    )
    problems = log[log.status != "loaded"]
    yield warning_check(
        "no_rejected_rows", len(problems),
        ok=f"{len(log)}个文件全部入库" if len(log) else "本次月份没有该数据集的文件",
        warning=f"{len(problems)}个文件未全部入库（部分入库 {int((problems.status == 'partial').sum())} 个、"
                f"整个被拒 {int((problems.status == 'rejected').sum())} 个，共 {rejected_rows} 行被拒；报告期 {_months(problems)}）。"
                "原因见 audit.rejected_rows 和该期简报，请报送单位改正后重新报送",
        metadata={"files": markdown(problems[["file_path", "status", "rows_rejected", "message"]]),
                  BY_MONTH: by_month(periods, log, {
                      "文件": len, "未全部入库的文件": lambda m: (m.status != "loaded").sum(),
                      "整个被拒的文件": lambda m: (m.status == "rejected").sum(),
                      "被拒行": lambda m: m.rows_rejected.sum()})},
        asset_key=key,
    )
    mismatched = log[log.totals_check == "mismatch"]
    yield warning_check(
        "totals_match", len(mismatched),
        ok="没有合计与明细不符的文件",
        warning=f"{len(mismatched)}个文件的合计行与明细不符（报告期 {_months(mismatched)}）：差额见 audit.ingest_log.message 和该期简报",
        metadata={"files": markdown(mismatched[["file_path", "message"]]),
                  BY_MONTH: by_month(periods, log, {
                      "文件": len, "合计与明细不符的文件": lambda m: (m.totals_check == "mismatch").sum()})},
        asset_key=key,
    )


# audit/cross_period_flags and the check that warns while a flag of the run is unexplained.
FLAGS_KEY = ["audit", "cross_period_flags"]
FLAGS_CHECK = "flags_explained"
_FLAG_SHOWN = ["period", "dataset", "key", "key_name", "rule", "reason", "explained", "remarks", "file_path", "source_row"]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["audit", name], group_name="audit", description=t.comment, deps=STAGING_KEYS,
                     metadata=definition_metadata(t), kinds={"duckdb"})
        for name, t in AUDIT.items()
    ],
    partitions_def=monthly,
    backfill_policy=SINGLE_RUN,
    check_specs=[
        dg.AssetCheckSpec(FLAGS_CHECK, asset=FLAGS_KEY,
                          description="数据检查（警告级：数据问题，不是运行故障）：本次报告期及其后一期没有未说明的跨期异常"
                                      "（累计数比上期减少、计划数与上期不同、上期在报本期未报）；有则警告，"
                                      "见 audit.cross_period_flags 和该期简报，请报送单位核实改正，或在该行备注中说明。"
                                      + BY_MONTH_NOTE),
    ],
)
def audit_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """What came in and what was wrong with it: the period's files, rejected rows and cell
    warnings, and the figures that do not fit the previous period.

    The staging assets write the first three for their own dataset and period; this step adds
    the files no partition can hold (unknown folder, bad period), reports the period as a whole,
    and recomputes audit.cross_period_flags from staging (`pipeline.cross_period_flags`).
    """
    begin_once(context, warehouse)
    periods = context.partition_keys
    with setup_failure(), warehouse.get_connection() as conn:
        record_unplaced(warehouse.settings, conn)

        run = {RUN_PERIODS: run_periods_text(periods)}

        def files(period: str) -> dict:  # the month's current files (counted), then those no month holds
            current = queries.files_of_periods(conn, [period])
            return {"dagster/row_count": int(current.is_placed.sum()), "current_files": markdown(current, 50)}

        each_month(context, ["audit", "ingest_log"], files)
        yield dg.MaterializeResult(asset_key=["audit", "ingest_log"], metadata=run)
        for name in ("rejected_rows", "cell_warnings"):
            t, key = AUDIT[name], ["audit", name]
            counts, samples = queries.rows_by_period(conn, t, periods), previews(conn, t, periods, 20)
            each_month(context, key, lambda p: {"dagster/row_count": counts[p], "preview": samples[p]})
            yield dg.MaterializeResult(asset_key=key, metadata=run)
        flags = cross_period_flags(conn, periods)
    # a month's flags are those of its figures (the run also checks the month after each of its own)
    each_month(context, FLAGS_KEY, lambda p: _flag_figures(FlagSummary([p], of_month(flags.flags, p))))
    yield from _flag_results(flags, periods)


def _flag_figures(flags: FlagSummary) -> dict:
    """A month's materialisation of audit/cross_period_flags: the flags on its figures, counted by
    rule and by whether a remark explains them."""
    by_rule = flags.by_rule()
    return {
        "dagster/row_count": flags.total,
        **{rule: n for rule, (n, _) in by_rule.items()},
        "explained": flags.total - len(flags.unexplained),
        "unexplained": len(flags.unexplained),
        "by_rule": markdown(pd.DataFrame(
            [(rule, rule_name(rule), n, done, n - done) for rule, (n, done) in by_rule.items()],
            columns=["rule", "规则", "条数", "已说明", "未说明"])),
        "preview": markdown(flags.flags[_FLAG_SHOWN], 30),
    }


def _flag_results(flags: FlagSummary, periods: list[str]):
    """The materialisation of audit/cross_period_flags (of the run's `periods`) and its check, for
    the run's periods and the period after each (`pipeline.cross_period_flags`)."""
    by_rule = flags.by_rule()
    unexplained = flags.unexplained
    shown = run_periods_text(flags.periods)
    counts = {rule: n for rule, (n, _) in by_rule.items()}
    yield dg.MaterializeResult(asset_key=FLAGS_KEY, metadata={
        RUN_PERIODS: run_periods_text(periods), "checked_periods": shown, "flags_in_run": flags.total})
    words = "、".join(f"{rule_name(rule)} {n - done} 条" for rule, (n, done) in by_rule.items() if n - done)
    yield warning_check(
        FLAGS_CHECK, len(unexplained),
        ok=(f"报告期 {shown}：{flags.total} 条跨期异常均已在备注中说明" if flags.total
            else f"报告期 {shown}：没有与上期对不上的数字"),
        warning=f"{len(unexplained)}条与上期对不上的数字尚未说明（{words}；报告期 {_months(unexplained)}）："
                "见 audit.cross_period_flags 和该期简报，请报送单位核实改正，或在该行备注中说明原因",
        metadata={"flags": markdown(unexplained[_FLAG_SHOWN], 30), **counts,
                  BY_MONTH: by_month(flags.periods, flags.flags, {
                      "跨期异常": len, "未说明": lambda m: (~m.explained.astype(bool)).sum()})},
        asset_key=FLAGS_KEY,
    )


def _mart_spec(name: str) -> tuple[dg.AssetSpec, list[dg.AssetCheckSpec]]:
    table = MARTS[name]
    key = dg.AssetKey(["marts", name])
    # the tables its SQL reads (marts/lineage.py), and the ingest log (a mart follows the load)
    deps = dict.fromkeys([*mart_inputs(name), "audit/ingest_log"])
    spec = dg.AssetSpec(
        key, group_name="marts", deps=[dg.AssetKey(dep.split("/")) for dep in deps], kinds={"duckdb", "sql"},
        description=table.comment + "（SQL：shouyang_pipeline/marts/" + name + ".sql；从输入有变化的最早一期起重建，"
                                    "其前各期保持不变）",
        metadata=definition_metadata(table),
    )
    checks = [dg.AssetCheckSpec(c.name, asset=key, description=c.description + _mart_check_note(c))
              for c in MART_CHECKS.get(name, ())]
    return spec, checks


def _mart_check_note(check) -> str:
    if check.every_period:
        return "（查看该表的全部报告期；各月的数字见结果元数据 by_month）"
    return ("（结果按本次运行最晚的报告期判断；一次运行多个报告期时，"
            "各月的数字见结果元数据 by_month（报告期 → 各状态的数目））")


_MART_SPECS = {name: _mart_spec(name) for name in build_order()}


@contextmanager
def _one_connection(context: dg.AssetExecutionContext, warehouse: WarehouseResource, tables: list[str]):
    """One connection to the work file for all the selected marts (an open and a close, with its
    checkpoint, of the file a mart would cost about 25 ms each, twelve a run), and the marts built
    on a cursor of it by `_MartsAhead` while the step reports those built."""
    with warehouse.get_connection() as conn:
        built = _MartsAhead(conn, tables, warehouse.settings.now, whole=context.run.tags.get(FORCE_TAG) == "true")
        try:
            yield _Marts(conn, built)
        except BaseException:
            built.close(interrupt=True)
            raise
        built.close()


@dataclass
class _Marts:
    conn: duckdb.DuckDBPyConnection  # the step's queries of what was built
    built: "_MartsAhead"


class _MartsAhead:
    """The marts `names` (in their order: a mart after those it reads) built one after the other
    (`build_mart`, each in its own transaction) by a thread on a cursor of `conn`, while the step
    reports each one built: its metadata and checks (queries, and Dagster's events, on the step's
    own thread) no longer wait between one mart and the next. The thread is at most one mart ahead
    of the one the step reports (a step that fails leaves at most one more mart built than it
    reported). A mart that fails stops the builds after it; `built(name)` gives a mart's row count
    once built, or raises what its build raised."""

    AHEAD = 1  # marts built beyond the one the step reports

    def __init__(self, conn: duckdb.DuckDBPyConnection, names: list[str], now, *, whole: bool = False):
        self._results = {name: Future() for name in names}
        self._stop = threading.Event()
        self._may_build = threading.Semaphore(1 + self.AHEAD)  # a permit a mart; one more each mart asked for
        self._cursor = conn.cursor()
        # each table's digests read once for all the marts; `whole` (`--force`) builds every mart whole
        self._inputs = MartInputs(self._cursor, names, whole=whole)
        self.rebuilt = self._inputs.rebuilt  # what each build did, once its result is set
        self._thread = threading.Thread(target=self._build, args=(names, now), name="marts-ahead", daemon=True)
        self._thread.start()

    def _build(self, names: list[str], now) -> None:
        failed = False
        with self._cursor:
            for name in names:
                result = self._results[name]
                if not failed and not self._stop.is_set():
                    self._may_build.acquire()  # (`close` gives one more, for a wait under way to see the stop)
                if failed or self._stop.is_set():
                    result.set_exception(RuntimeError(f"marts.{name} 未重建：在它之前重建的指标表出错，或本步骤已停止"))
                    continue
                try:
                    result.set_result(build_mart(self._cursor, name, now=now(), cancelled=self._stop.is_set,
                                                 inputs=self._inputs))
                except BaseException as exc:  # noqa: BLE001 - raised where the step asks for this mart
                    result.set_exception(exc)
                    failed = True

    def built(self, name: str) -> int:
        self._may_build.release()  # the step is at this mart: the next but one may be built
        return self._results[name].result()

    def close(self, *, interrupt: bool = False) -> None:
        """No mart is started after this; the one being built is finished (its own transaction), or
        with `interrupt` (the step failed) interrupted or, between its statements, rolled back
        before its commit (`build_mart`'s `cancelled`). A second Ctrl-C while waiting for it
        interrupts it again, and the wait goes on (a statement at most) before it is raised."""
        self._stop.set()
        self._may_build.release()  # (a thread waiting for a permit sees the stop)
        if interrupt:
            self._interrupt()
        again = None
        while self._thread.is_alive():
            try:
                self._thread.join()
            except KeyboardInterrupt as exc:
                again = exc
                self._interrupt()
        if again is not None:
            raise again

    def _interrupt(self) -> None:
        if self._thread.is_alive():
            try:
                self._cursor.interrupt()
            except duckdb.Error:  # (closed meanwhile)
                pass


def _mart_results(context: dg.AssetExecutionContext, warehouse: WarehouseResource, name: str,
                  marts: _Marts):
    table = MARTS[name]
    key = dg.AssetKey(["marts", name])
    checks = MART_CHECKS.get(name, ())
    periods = context.partition_keys
    period = periods[-1]  # the checks speak of the latest month of the run (by_month: of each)
    conn = marts.conn
    total = marts.built.built(name)
    # the table's rows of all periods the run's; a month's rows and first rows its own
    rows, samples = queries.rows_by_period(conn, table, periods), previews(conn, table, periods, 30)
    each_month(context, key, lambda p: {"dagster/row_count": rows[p], "preview": samples[p]})
    yield dg.MaterializeResult(asset_key=key, metadata={
        "rows_all_periods": total, RUN_PERIODS: run_periods_text(periods),
        "rebuilt_from": marts.built.rebuilt.get(name, WHOLE)})  # a month, 全部报告期 or 未变
    for check in checks:
        rows = status_check_rows(conn, name, check, period)
        values = rows[check.column]
        counts = {v: int((values == v).sum()) for v in check.values}
        flagged = rows[values.isin(check.warn_on)]
        scope = "各报告期" if check.every_period else period
        named = flagged[check.shown[0]].astype(str)
        if check.every_period:
            named = flagged["period"].astype(str) + " " + named
        if check.every_period:
            months = by_month(rows["period"], rows, {v: (lambda m, v=v: (m[check.column] == v).sum())
                                                     for v in check.values})
        else:  # the result speaks of the latest month; the table gives each month of the run
            each = pd.concat([status_check_rows(conn, name, check, p).assign(period=p) for p in periods],
                             ignore_index=True)
            months = by_month(periods, each, {v: (lambda m, v=v: (m[check.column] == v).sum())
                                              for v in check.values})
        yield warning_check(
            check.name, len(flagged),
            ok=f"{scope}：" + "，".join(f"{v} {n}" for v, n in counts.items()),
            warning=f"{scope} 有 {len(flagged)} 项为" + "、".join(f"“{v}”" for v in check.warn_on) + "："
                    + "、".join(named[:5]) + ("等" if len(flagged) > 5 else ""),
            metadata={**counts, check.label: markdown(rows), BY_MONTH: months},
            asset_key=key,
        )


@dg.asset(
    key=["exports", "briefing"],
    group_name="exports",
    partitions_def=monthly,
    backfill_policy=SINGLE_RUN,
    deps=MART_KEYS + AUDIT_KEYS,
    kinds={"markdown", "html", "excel"},
    description="月度简报（briefing_<期>.md/.html，中文，含图表）、分析用Excel工作簿（marts_<期>.xlsx）和给报送单位的回执"
                "（receipts/<期>/<文件名>__回执.xlsx），写入 SHOUYANG_EXPORT_DIR",
)
def briefing(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    begin_once(context, warehouse)
    settings = warehouse.settings
    # Written into a staging folder: `exports/published_warehouse` moves them into the export dir
    # in the same step as the warehouse, so a briefing never speaks of a warehouse nobody can open.
    with setup_failure():
        with warehouse.get_connection() as conn:
            months = export_months(settings, context.partition_keys, conn)
        with warehouse.take_export_workers() or nullcontext() as ahead:
            staged = stage_exports_for(settings, Path(warehouse.database), warehouse.get_connection, months,
                                       context.run_id, force=context.run.tags.get(FORCE_TAG) == "true", ahead=ahead)
    # The run's: every file it wrote (a month's run also rewrites the later months of its year
    # whose figures it changed) and deleted; each month's own: its files and its briefing.
    metadata = {RUN_PERIODS: run_periods_text(context.partition_keys),
                "files_in_run": dg.MetadataValue.md("\n".join(f"- `{p}`" for p in staged.written) or "（无）"),
                "note": "与数据仓库一同发布（exports/published_warehouse）"}
    if staged.to_delete:
        metadata["to_delete"] = dg.MetadataValue.md("\n".join(f"- `{settings.export_dir / n}`" for n in staged.to_delete))
    if staged.months_unchanged:  # their inputs are as when their exports were written
        metadata["months_unchanged"] = "、".join(staged.months_unchanged)
    if staged.pdf_warnings:  # the briefings were written without their PDF: said here and by the CLI
        metadata["pdf_warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in staged.pdf_warnings))

    def month(period: str) -> dict:
        own = staged.written_of.get(period, [])
        if own:
            files = "\n".join(f"- `{p}`" for p in own)
        elif period in staged.months_unchanged:
            files = "（本月的数据没有变化，导出文件未重写）"
        else:
            files = "（本月没有数据，没有导出文件）"
        return {"files": dg.MetadataValue.md(files),
                "receipts": sum(1 for p in staged.receipts if p.parent.name == period),  # the departments' 回执
                "briefing": dg.MetadataValue.md(staged.briefings.get(period, "（本月没有简报）"))}

    each_month(context, BRIEFING_KEY, month)
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=["exports", "published_warehouse"],
    group_name="exports",
    partitions_def=monthly,
    backfill_policy=SINGLE_RUN,
    deps=[dg.AssetKey(["exports", "briefing"])] + MART_KEYS + AUDIT_KEYS + STAGING_KEYS + REFERENCE_KEYS,
    kinds={"duckdb"},
    description="分析人员打开的数据仓库文件（SHOUYANG_WAREHOUSE）：运行结束时由工作副本整体原子替换，读者看到的永远是完整的上一次或这一次结果",
)
def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    begin_once(context, warehouse)
    with setup_failure():
        # The warehouse and the exports staged by `exports/briefing` in this run, in one step.
        done = publish(warehouse.settings, Path(warehouse.database), context.run_id)
    path = done.warehouse
    metadata = {"path": dg.MetadataValue.path(str(path)), "size_bytes": path.stat().st_size,
                "exports": dg.MetadataValue.md("\n".join(f"- `{p}`" for p in done.exports) or "（无）")}
    if done.deleted:
        metadata["deleted"] = dg.MetadataValue.md("\n".join(f"- `{p}`" for p in done.deleted))
    if done.stale_wal is not None:
        note = stale_wal_note(done.stale_wal)  # (the CLI prints it from this metadata too)
        context.log.warning(note)
        metadata["stale_wal"] = dg.MetadataValue.path(str(done.stale_wal))
        metadata["stale_wal_note"] = note
    return dg.MaterializeResult(metadata=metadata)


staging_tables = one_step("staging_tables", "staging", _STAGING_SPECS, _staging_results,
                          "Each selected dataset's files of the run's months, read, checked and loaded "
                          "(`pipeline.ingest_and_load`; read ahead by worker processes when there is enough "
                          "to read: `pipeline.ingest_ahead`), with its materialisation and checks.",
                          prepare=_read_ahead)
# The marts in the order of their lineage (a mart reads the marts before it).
mart_tables = one_step("mart_tables", "marts", _MART_SPECS, _mart_results,
                       "The selected marts, each rebuilt from its SQL from the first month whose inputs "
                       "changed (`marts.build.build_mart`).",
                       prepare=_one_connection)

ALL_ASSETS = [reference_tables, staging_tables, audit_tables, mart_tables, briefing, published_warehouse]
