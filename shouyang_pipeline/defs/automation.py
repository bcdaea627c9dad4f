"""The monthly job, its schedule, and the sensor that notices new or corrected files."""


import json
from datetime import datetime

import dagster as dg
import duckdb

from ..errors import SetupError
from ..ingest.discover import discover, file_sha256, sha256_of
from ..warehouse import queries
from ..warehouse.connection import connect
from .partitions import TIMEZONE, monthly
from .resources import WarehouseResource

monthly_refresh = dg.define_asset_job(
    "monthly_refresh",
    selection=dg.AssetSelection.all(),
    partitions_def=monthly,
    description="一个报告期的全部资产：参考表 → 暂存 → 审计 → 指标表 → 简报 → 发布数据仓库",
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
def monthly_schedule(context: dg.ScheduleEvaluationContext):
    moment = context.scheduled_execution_time
    period = previous_period(moment)
    return dg.RunRequest(run_key=f"schedule:{period}", partition_key=period)


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


@dg.sensor(
    job=monthly_refresh,
    minimum_interval_seconds=30,
    description="发现原始数据目录中新增或更正（内容变化）的文件时，运行该文件所属的报告期",
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def raw_files_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    settings = warehouse.settings
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else already_loaded(settings)
    current: dict[str, str] = {}
    periods: dict[str, list[str]] = {}
    try:
        found = discover(settings.raw_dir)
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
        period = path.split("/")[-1][:7]
        periods.setdefault(period, []).append(path)
    requests = []
    valid = set(monthly.get_partition_keys())
    # Dagster never launches a run_key this sensor used before, and a state can come back (a
    # correction reverted, a file removed and put back): chaining on the last run key keeps every
    # change's key new, while a retried tick (same cursor, same last key) asks for the same runs.
    previous = context.last_run_key or ""
    for period, paths in sorted(periods.items()):
        if period not in valid:
            continue
        changed = ",".join(f"{p}@{current.get(p, 'removed')[:12]}" for p in sorted(paths))
        requests.append(dg.RunRequest(
            run_key=f"files:{period}:{sha256_of(f'{previous}|{changed}'.encode())[:16]}",
            partition_key=period,
            tags={"shouyang/changed_files": changed[:1000]},
        ))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(current, ensure_ascii=False, sort_keys=True))
