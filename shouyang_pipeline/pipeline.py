"""What a run does before it changes anything, called by both the Dagster assets and the CLI.

Every check here raises `SetupError` (a Chinese message naming the path or value and what to
do) and changes nothing: a missing folder, a broken reference list, an unwritable place, a
second run, a period that is not a month, or a raw dir that suddenly holds no file at all.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from .catalog.tables import STAGING
from .config import Settings
from .errors import SetupError
from .ingest.discover import FIRST_PERIOD, RawFile, check_raw_dir, current_period, discover
from .ingest.period import ingest_period, unplaced_log
from .reference import Reference, check_reference
from .warehouse import queries
from .warehouse.connection import connect, ensure_work_copy
from .warehouse.ddl import ensure_tables
from .warehouse.load import load_period, load_unplaced

if TYPE_CHECKING:
    import pandas as pd
from .warehouse.publish import PublishedWarehouseInUse, read_write_holder, recover_publish

# Set on a run (`shouyang run --allow-empty`, or as a run tag in the UI) to confirm that a raw
# dir without a single file really means: remove every period of the run from the warehouse.
ALLOW_EMPTY_TAG = "shouyang/allow_empty"
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


def parse_period(text: str, now_period: str | None = None, *, in_range: bool = True) -> str:
    """`YYYY-MM` (between 2020-01 and the current month when `in_range`), or SetupError."""
    now_period = now_period or current_period()
    m = _PERIOD.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise SetupError(f"报告期“{text}”无效：应写作YYYY-MM，月份为01至12，如2023-02")
    if in_range and not FIRST_PERIOD <= text.strip() <= now_period:
        raise SetupError(f"报告期“{text}”超出可接受的范围（{FIRST_PERIOD}至{now_period}）")
    return text.strip()


def _check_writable(path: Path, what: str, variable: str) -> None:
    """The folder exists or can be made, and a file can be created in it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise SetupError(f"无法写入{what} {path}（{exc.strerror or exc}）：请检查权限和磁盘空间，"
                         f"或用环境变量 {variable} / SHOUYANG_DATA_DIR 指向可写的位置。本次运行未做任何改动。") from exc


def preflight(settings: Settings) -> list[RawFile]:
    """Everything a run needs, checked before anything is written; returns the files found."""
    check_reference(settings.reference_dir)
    check_raw_dir(settings.raw_dir)
    _check_writable(settings.archive_dir, "存档目录", "SHOUYANG_ARCHIVE_DIR")
    _check_writable(settings.export_dir, "简报输出目录", "SHOUYANG_EXPORT_DIR")
    _check_writable(settings.warehouse.parent, "数据仓库所在目录", "SHOUYANG_WAREHOUSE")
    _check_writable(settings.work_warehouse.parent, "工作目录", "SHOUYANG_WAREHOUSE")
    # A publish a kill interrupted is finished (or its leftovers removed) before anything else.
    recover_publish(settings.work_warehouse, settings.warehouse, settings.export_dir)
    # An analyst writing to the published file: say so now rather than fail at the publish.
    holder = read_write_holder(settings.warehouse)
    if holder is not None:
        raise PublishedWarehouseInUse(settings.warehouse, holder.pid, holder.program, settings.work_warehouse)
    return discover(settings.raw_dir)


# ------------------------------------------------------------------ months changed but not yet published
# A run whose publish fails (an analyst holding the published file, a full disk) leaves its months
# changed in the work file; whichever run publishes next must write their exports too, or the
# published briefing of those months would speak of an older warehouse.


def _unpublished_file(settings: Settings) -> Path:
    return settings.work_warehouse.parent / "unpublished_periods.json"


def unpublished_periods(settings: Settings) -> set[str]:
    try:
        return set(json.loads(_unpublished_file(settings).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return set()


def mark_unpublished(settings: Settings, periods: list[str]) -> None:
    """Before the work file changes: these months will need their exports with the next publish."""
    path = _unpublished_file(settings)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(sorted(unpublished_periods(settings) | set(periods))), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def clear_unpublished(settings: Settings) -> None:
    """After a publish: the published exports and warehouse are of the same run again."""
    _unpublished_file(settings).unlink(missing_ok=True)


def _current_files(settings: Settings, periods: list[str] | None) -> list[str]:
    """The current files of placed dataset-periods the warehouse holds (for these periods, or all)."""
    for path in (settings.work_warehouse, settings.warehouse):
        if not path.exists():
            continue
        try:
            with connect(path, read_only=True) as conn:
                return [p for p, _, _ in queries.current_files(conn, periods)]
        except duckdb.Error:
            continue  # held by another process or unreadable: the run's own checks say so
    return []


def refuse_wipe(settings: Settings, files: list[RawFile], periods: list[str] | None, allow_empty: bool) -> None:
    """A raw dir with no submission at all, while the warehouse holds files of the run's periods,
    is far more often a mistake (an unmounted share, a wrong folder) than the truth: refuse
    unless the run says so (`--allow-empty`). Losing the files of one period is the contract's
    "removed file" and goes ahead."""
    if allow_empty or any(f.dataset_period for f in files):
        return
    held = _current_files(settings, periods)
    if held:
        shown = "、".join(held[:3]) + (f"等{len(held)}个文件" if len(held) > 3 else "")
        raise SetupError(
            f"原始数据目录 {settings.raw_dir} 中没有任何报送文件，而数据仓库中现有{shown}。"
            "照此运行会把它们全部移出数据仓库并删除相应简报：如果目录路径有误（如共享盘未挂载），请改正后再运行；"
            "如果确实要清空，请运行 shouyang run --allow-empty。本次运行未做任何改动。")


def periods_to_run(settings: Settings, files: list[RawFile]) -> list[str]:
    """Every period with a file under the raw dir, plus periods whose files have since been removed."""
    ensure_work_copy(settings.work_warehouse, settings.warehouse)  # the run will start from it too
    periods = {f.period for f in files if f.dataset_period}
    periods |= {p for p in _held_periods(settings)}
    return sorted(periods)


def _held_periods(settings: Settings) -> set[str]:
    if not settings.work_warehouse.exists():
        return set()
    with open_work(settings, read_only=True) as conn:
        return queries.periods_held(conn)


@contextmanager
def open_work(settings: Settings, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The work file, with another process's lock on it said in Chinese instead of DuckDB's error."""
    try:
        conn_cm = connect(settings.work_warehouse, read_only=read_only)
        conn = conn_cm.__enter__()
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        pid = re.search(r"PID (\d+)", str(exc))
        who = f"（进程 {pid.group(1)}）" if pid else ""
        raise SetupError(f"工作文件 {settings.work_warehouse} 正被另一个程序{who}以读写方式打开："
                         "请关闭该程序（分析请打开已发布的数据仓库，并使用只读方式：duckdb -readonly）后再运行。"
                         "本次运行未做任何改动。") from exc
    try:
        yield conn
    finally:
        conn_cm.__exit__(None, None, None)


def check_work_file(settings: Settings) -> None:
    """The work file can be opened for writing (no other process holds it)."""
    ensure_work_copy(settings.work_warehouse, settings.warehouse)
    with open_work(settings):
        pass


# ------------------------------------------------------------------ one run at a time

_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth): re-entrant within a process


@contextmanager
def run_lock(settings: Settings, *, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the run lock beside the work file for the body; another process's run makes this wait
    up to `wait_seconds`, then raise SetupError naming it. Re-entrant in one process (the CLI
    holds it around a Dagster run whose resource takes it too)."""
    path = settings.run_lock
    key = str(path.resolve()) if path.parent.exists() else str(path.absolute())
    if key in _held:
        fd, depth = _held[key]
        _held[key] = (fd, depth + 1)
        try:
            yield
        finally:
            fd, depth = _held[key]
            _held[key] = (fd, depth - 1)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                os.close(fd)
                raise SetupError(f"另一次运行正在进行（{holder or '锁文件 ' + str(path)}）：同一时间只能有一次运行写数据仓库，"
                                 "请等它结束后再运行。本次运行未做任何改动。") from None
            time.sleep(0.5)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"进程 {os.getpid()}，开始于 {datetime.now():%Y-%m-%d %H:%M:%S}".encode(), 0)
    _held[key] = (fd, 1)
    try:
        yield
    finally:
        del _held[key]
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# ------------------------------------------------------------------ the run's steps (called by Dagster)


def begin_run(settings: Settings, periods: list[str], allow_empty: bool) -> None:
    """The first step of every run: everything checked before anything changes, and the run's
    months noted as not yet published (until this run's publish)."""
    files = preflight(settings)
    refuse_wipe(settings, files, periods, allow_empty)
    mark_unpublished(settings, periods)


def load_reference_lists(settings: Settings, conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Replace the reference tables with the lists in the reference dir; row counts by list."""
    from .warehouse.load import load_reference

    return load_reference(conn, settings.reference_dir)


@dataclass
class DatasetOutcome:
    """What ingesting one dataset over the run's periods did, for the step's metadata and checks."""

    log: "pd.DataFrame"  # one row per current file: status and row counts
    rejected: "pd.DataFrame"  # the rejected cells of those files
    warnings: int  # cell warnings of rows that loaded
    staging_rows: int  # rows now in staging for these periods


def ingest_and_load(settings: Settings, conn: duckdb.DuckDBPyConnection, dataset: str, periods: list[str]) -> DatasetOutcome:
    """Re-read every current file of each period of one dataset and replace that dataset-period in
    staging and audit (one transaction each). Keeps only what metadata needs, not the rows."""
    import pandas as pd

    reference = Reference.load(settings.reference_dir)
    files = discover(settings.raw_dir)
    ensure_tables(conn)
    logs, rejected, warnings = [], [], 0
    for period in periods:
        mine = [f for f in files if f.dataset_period == (dataset, period)]
        result = ingest_period(settings, dataset, period, reference, files=mine)
        load_period(conn, result)
        logs.append(result.log)
        rejected.append(result.rejected)
        warnings += len(result.warnings)
    return DatasetOutcome(
        log=pd.concat(logs, ignore_index=True),
        rejected=pd.concat(rejected, ignore_index=True),
        warnings=warnings,
        staging_rows=queries.count_rows(conn, STAGING[dataset], periods),
    )


def record_unplaced(settings: Settings, conn: duckdb.DuckDBPyConnection) -> None:
    """The ingest-log rows of files that fit no dataset-period (unknown folder, bad period)."""
    unplaced = unplaced_log(settings)
    ensure_tables(conn)
    load_unplaced(conn, unplaced)


def export_months(settings: Settings, run_periods: list[str]) -> list[str]:
    """The months whose exports a run writes: its own, and those of earlier runs whose publish
    did not happen."""
    return sorted(set(run_periods) | unpublished_periods(settings))


@dataclass
class StagedExports:
    written: list[Path]
    to_delete: list[str]
    latest_briefing: str | None  # the Markdown of the latest month written


def stage_exports_for(settings: Settings, work: Path, conn_factory, months: list[str], run_id: str) -> StagedExports:
    """Write the briefings and workbooks of `months` into the staging folder beside the exports;
    `exports/published_warehouse` moves them into place with the warehouse, in one step. A month
    with neither data nor files (they were removed) has its old exports deleted then."""
    from .exports.briefing import write_briefing
    from .exports.workbook import write_workbook
    from .warehouse.publish import stage_exports

    with stage_exports(work, settings.warehouse, settings.export_dir, run_id) as stage:
        written: list[Path] = []
        with conn_factory() as conn:
            periods = queries.periods_with_data_or_files(conn, months)
            for period in periods:
                written += stage.add(write_briefing(conn, period, stage.dir))
                written += stage.add([write_workbook(conn, period, stage.dir)])
        for period in sorted(set(months) - set(periods)):
            for stale in (f"briefing_{period}.md", f"briefing_{period}.html", f"marts_{period}.xlsx"):
                stage.remove(stale)
        latest = (stage.dir / f"briefing_{periods[-1]}.md").read_text(encoding="utf-8") if periods else None
    return StagedExports(written, list(stage.delete), latest)


def publish(settings: Settings, work: Path, run_id: str):
    """The warehouse and the exports staged in run `run_id`, published in one step."""
    from .warehouse.publish import publish_run

    done = publish_run(work, settings.warehouse, settings.export_dir, run_id)
    clear_unpublished(settings)
    return done


# ------------------------------------------------------------------ a clerk's check before sending


def check_file(settings: Settings, path: Path, dataset: str | None, period: str | None):
    """Judge one file exactly as a run would, as if it lay at <dataset>/<name> under the raw dir,
    without loading or archiving anything: (the file as classified, its ingest or None when its
    name fits no dataset-period)."""
    import dataclasses
    import tempfile

    from .ingest.discover import classify_as

    reference = Reference.load(settings.reference_dir)
    name = path.name
    if period:
        suffix = path.suffix
        submitter = name[:len(name) - len(suffix)].partition("__")[2]
        name = f"{period}{'__' + submitter if submitter else ''}{suffix}"
    raw = classify_as(path, f"{dataset or path.parent.name}/{name}")
    if raw.dataset_period is None:
        return raw, None
    with tempfile.TemporaryDirectory() as scratch:
        # Nothing is archived: the archive is a scratch folder thrown away afterwards.
        scratch_settings = dataclasses.replace(settings, archive_dir=Path(scratch))
        return raw, ingest_period(scratch_settings, raw.dataset, raw.period, reference, files=[raw])


# ------------------------------------------------------------------ the summary a person reads

SKIPPED_KINDS = {"totals": "合计", "subtotal": "小计", "section": "分类标题", "footer": "表尾", "blank": "空行"}


def run_summary(settings: Settings) -> queries.FileSummary | None:
    """Files and rows by status, the files not wholly loaded, and each file's non-data rows, from
    the published warehouse (None when there is none yet)."""
    if not settings.warehouse.exists():
        return None
    with connect(settings.warehouse, read_only=True) as conn:
        return queries.file_summary(conn, tuple(SKIPPED_KINDS))
