"""The monthly job, its schedule, and the sensor that notices new or corrected files.

Both add the months they run as partitions (`partitions.add_months`) before asking for the run:
the partitions are the months that have data. A month whose files were all removed keeps its
partition until its run has removed its data; that run then removes the partition (the
resource, `partitions.remove_months`). A month with no file and no data is not run.

Each tick first finishes the publish of a run killed after its commit record
(`pipeline.finish_committed_publish`: skipped while a run holds the run lock), so the published
warehouse and the exports agree without waiting for the next run, and the tick reads the
warehouse that was committed.

A run the sensor asked for that failed (an analyst's read-write session on the published file,
a full disk) leaves its month's files as the warehouse had them: the sensor asks for that month
again once the failure is `RETRY_FAILED_AFTER_SECONDS` old, while the files differ from what the
published warehouse holds, up to `RETRIES` times in a row; then it says in its tick that it gave
up. A run canceled by hand, or one the schedule or the UI started, is not asked for again.
"""


import json
import time
from datetime import datetime

import dagster as dg
import duckdb

from ..errors import SetupError
from ..pipeline import finish_committed_publish
from ..ingest.discover import FIRST_PERIOD, file_sha256, month_named, raw_files, sha256_of
from ..warehouse import queries
from ..warehouse.connection import connect
from .partitions import TIMEZONE, add_months, monthly
from .resources import WarehouseResource

# The reference lists (not partitioned) and every partitioned asset, in one job: Dagster 1.13
# runs the unpartitioned step once per run, before the steps of the run's months.
monthly_refresh = dg.define_asset_job(
    "monthly_refresh",
    selection=dg.AssetSelection.all(),
    partitions_def=monthly,
    description="所选报告期的全部资产：参考名录（不分期）→ 暂存 → 审计 → 指标表 → 简报 → 发布数据仓库；"
                "每次运行的第一步先做运行前检查，有问题则什么都不改",
)


def previous_period(moment: datetime) -> str:
    year, month = (moment.year, moment.month - 1) if moment.month > 1 else (moment.year - 1, 12)
    return f"{year:04d}-{month:02d}"


@dg.schedule(
    job=monthly_refresh,
    cron_schedule="0 8 5 * *",
    execution_timezone=TIMEZONE,
    description="每月5日8:00（北京时间）运行上月的报告期",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def monthly_schedule(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
    moment = context.scheduled_execution_time
    period = previous_period(moment)
    settings = warehouse.settings
    _finish_publish(context, settings)
    try:
        files = [f for f in raw_files(settings)
                 if f.period == period and f.dataset_period]
    except SetupError as exc:  # a missing raw dir: the run would refuse it anyway
        return dg.SkipReason(str(exc))
    if not files and period not in held_periods(settings):
        return dg.SkipReason(f"上月（{period}）没有任何报送文件，数据仓库中也没有该期的数据：本次不运行。"
                             "文件报送后，打开文件监视（raw_files_sensor）即会运行该期，或运行 shouyang run --period " + period)
    add_months(context.instance, [period])
    return dg.RunRequest(run_key=f"schedule:{period}", partition_key=period)


def _finish_publish(context, settings) -> None:
    pending = finish_committed_publish(settings)
    if pending.note:
        context.log.warning(pending.note)
    elif pending.rolled_forward:
        context.log.info("上次运行在发布途中中断（已提交）：已补完发布")
        if pending.wal_note:
            context.log.warning(pending.wal_note)


def held_periods(settings) -> set[str]:
    """The periods with a current file in the published warehouse (read-only; none when it cannot be read)."""
    if not settings.warehouse.exists():
        return set()
    try:
        with connect(settings.warehouse, read_only=True) as conn:
            return queries.periods_held(conn)
    except duckdb.Error:
        return set()


def already_loaded(settings) -> dict[str, str]:
    """{path: sha256} of the file versions the published warehouse already holds.

    The sensor's first tick starts from these, so switching it on after `make run` requests runs
    only for files that changed since, not for every file under the raw dir.
    """
    if not settings.warehouse.exists():
        return {}
    try:
        with connect(settings.warehouse, read_only=True) as conn:
            rows = queries.current_files(conn)
    except duckdb.Error:
        return {}
    return {path: sha for path, sha, _ in rows if sha}


# How long after a failed run of a month the sensor asks for it again (not every tick: a cause that
# lasts, such as a read-write session left open, would otherwise fail a run every 30 seconds), and
# how many times in a row (a cause that does not go away by itself is for a person to look at).
RETRY_FAILED_AFTER_SECONDS = 600
RETRIES = 3
CHANGED_FILES_TAG = "shouyang/changed_files"  # on the runs the sensor asks for


def _unpublished_changes(settings, current: dict[str, str]) -> dict[str, list[str]]:
    """period -> the files (present, or removed) whose version the published warehouse does not hold."""
    held = already_loaded(settings)
    out: dict[str, list[str]] = {}
    for path in sorted(p for p, digest in current.items() if held.get(p) != digest):
        out.setdefault(month_named(path), []).append(path)
    for path in sorted(set(held) - set(current)):
        out.setdefault(month_named(path), []).append(path)
    out.pop(None, None)  # (a file whose name gives no month: no partition to run)
    return out


def _retry(instance: dg.DagsterInstance, period: str) -> str | None:
    """Whether to ask for `period` again: "now" when the newest run of its partition is one the
    sensor asked for that failed at least RETRY_FAILED_AFTER_SECONDS ago, "later" when more
    recently, "given up" after RETRIES such runs in a row after the first; else None (a run
    queued, going, done, canceled, or not the sensor's)."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=monthly_refresh.name, tags={"dagster/partition": period}), limit=RETRIES + 2)
    failed = 0
    for record in records:
        run = record.dagster_run
        if run.status != dg.DagsterRunStatus.FAILURE or CHANGED_FILES_TAG not in run.tags:
            break
        failed += 1
    if failed == 0:
        return None
    if failed > RETRIES:
        return "given up"
    newest = records[0]
    ended = newest.end_time if newest.end_time is not None else newest.update_timestamp.timestamp()
    return "now" if time.time() - ended >= RETRY_FAILED_AFTER_SECONDS else "later"


@dg.sensor(
    job=monthly_refresh,
    minimum_interval_seconds=30,
    description="发现原始数据目录中新增、更正（内容变化）或删除的文件时，运行该文件所属的报告期",
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def raw_files_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    settings = warehouse.settings
    _finish_publish(context, settings)
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else already_loaded(settings)
    current: dict[str, str] = {}
    periods: dict[str, list[str]] = {}
    try:
        found = raw_files(settings)
    except SetupError as exc:  # a missing raw dir is not "every file removed"
        return dg.SkipReason(str(exc))
    for raw in found:
        if raw.unreadable or raw.dataset_period is None:
            continue
        digest = file_sha256(raw.path)
        if digest is None:
            continue
        current[raw.rel_path] = digest
        if seen.get(raw.rel_path) != digest:
            periods.setdefault(raw.period, []).append(raw.rel_path)
    removed = sorted(set(seen) - set(current))
    for path in removed:
        if (period := month_named(path)) is not None:
            periods.setdefault(period, []).append(path)
    # Changes asked for before whose run failed: asked for again, a while after the failure.
    given_up = []
    for period, paths in _unpublished_changes(settings, current).items():
        if period in periods:
            continue
        retry = _retry(context.instance, period)
        if retry == "now":
            periods[period] = paths
        elif retry == "given up":
            given_up.append(period)
    requests = []
    now = settings.current_period()
    # Dagster never launches a run_key this sensor used before, and a state can come back (a
    # correction reverted, a file removed and put back): chaining on the last run key keeps every
    # change's key new, while a retried tick (same cursor, same last key) asks for the same runs.
    previous = context.last_run_key or ""
    for period, paths in sorted(periods.items()):
        if not FIRST_PERIOD <= period <= now:
            continue
        changed = ",".join(f"{p}@{current.get(p, 'removed')[:12]}" for p in sorted(paths))
        requests.append(dg.RunRequest(
            run_key=f"files:{period}:{sha256_of(f'{previous}|{changed}'.encode())[:16]}",
            partition_key=period,
            tags={CHANGED_FILES_TAG: changed[:1000]},
        ))
    if requests:
        # Written here rather than returned as dynamic_partitions_requests: keeping the keys in
        # calendar order may mean deleting and re-adding some, which one SensorResult cannot hold.
        add_months(context.instance, [r.partition_key for r in requests])
    cursor = json.dumps(current, ensure_ascii=False, sort_keys=True)
    if not requests:
        why = "原始数据目录中没有新增、更正或删除的文件，也没有到重试时间的失败运行：本次不运行。"
        if given_up:
            why += (f"报告期 {'、'.join(given_up)} 的运行已连续失败{RETRIES + 1}次，不再自动重试："
                    "请在运行记录中查看原因，排除后用 shouyang run --period 重新运行。")
        return dg.SensorResult(cursor=cursor, skip_reason=dg.SkipReason(why))
    return dg.SensorResult(run_requests=requests, cursor=cursor)
