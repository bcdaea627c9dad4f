"""What a run does before it changes anything, called by both the Dagster assets and the CLI.

Every check here raises `SetupError` (a Chinese message naming the path or value and what to
do) and changes nothing: a missing folder, a broken reference list, an unwritable place, a
second run, a period that is not a month, or a raw dir that suddenly holds no file at all.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager, nullcontext
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from .catalog.marts import NOT_YET_DUE, OVERDUE
from .catalog.tables import NAMING_MARK, ROW_KINDS, STAGING, PeriodFrames, dataset_period_key, file_digests
from .collector import collector_paused
from .config import BEIJING, Settings
from .errors import SetupError, os_reason
from .ingest.discover import (
    FIRST_PERIOD, RawFile, archived_path, check_raw_dir, current_period, file_sha256, full_width_hint,
    full_width_month, raw_files,
)
from .ingest.period import ingest_period, unplaced_log
from .ingest.register import read_register
from .marts.build import mart_rows_at
from .marts.flags import TABLE as FLAGS_TABLE, FlagSummary, flag_summary, periods_after, recompute_flags
from .reference import Reference, check_reference
from .warehouse import queries
from .warehouse.connection import connect, ensure_work_copy
from .warehouse.ddl import ensure_tables
from .warehouse.load import ensure_load_tables, load_period, load_unplaced, write_parquet

if TYPE_CHECKING:
    import pandas as pd
from .warehouse.publish import (
    PublishedWarehouseInUse, pending_warehouse, read_write_holder, record_path, recover_publish, roll_forward,
    stale_wal_note, wal_path,
)

# Set on a run (`shouyang run --allow-empty`, or as a run tag in the UI) to confirm that a raw
# dir without a single file really means: remove every period of the run from the warehouse.
ALLOW_EMPTY_TAG = "shouyang/allow_empty"
# A run that reads and writes everything again, whatever the digests say (`shouyang run --force`).
FORCE_TAG = "shouyang/force"
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)


def parse_period(text: str, now_period: str | None = None, *, in_range: bool = True) -> str:
    """`YYYY-MM` (between 2020-01 and the current month when `in_range`), or SetupError."""
    now_period = now_period or current_period()
    m = _PERIOD.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise SetupError(f"报告期“{text}”无效：应写作YYYY-MM，月份为01至12，如2023-02{full_width_hint(text.strip())}")
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
        raise SetupError(f"无法写入{what} {path}（{os_reason(exc)}）：请检查权限和磁盘空间，"
                         f"或用环境变量 {variable} / SHOUYANG_DATA_DIR 指向可写的位置。本次运行未做任何改动。") from exc


def precheck(settings: Settings) -> None:
    """What can be checked without writing anything, not even the run lock: the reference lists,
    the raw dir, that the warehouse's path is (or can become) a file, and that a run pointed at
    another warehouse does not write the default exports or archive."""
    settings.refuse_shared_outputs()
    check_reference(settings.reference_dir)
    check_raw_dir(settings.raw_dir)
    for path, variable in ((settings.warehouse, "SHOUYANG_WAREHOUSE"), (settings.work_warehouse, "SHOUYANG_WAREHOUSE")):
        if path.exists() and not path.is_file():
            raise SetupError(f"数据仓库文件的位置 {path} 已被一个文件夹或其他非普通文件占用：请改用环境变量 {variable} "
                             "指向一个文件（如 data/warehouse.duckdb），或移走该文件夹。本次运行未做任何改动。")


def nothing_to_run(settings: Settings) -> list[RawFile] | None:
    """No warehouse yet, and no file under the raw dir that a month could hold: a run would only
    make its folders (checked before the run lock, which is one of them). Returns the files there
    are (none a month can hold), or None when there is something to run."""
    if settings.warehouse.exists() or settings.work_warehouse.exists():
        return None
    files = raw_files(settings)
    return None if any(f.dataset_period for f in files) else files


def _remove_leftovers(settings: Settings) -> None:
    """What a run that was killed left half done, under the run lock (no other run is at it):
    half-written archive copies (`<sha>.<ext>.<pid>.part`; the whole file is archived again when
    read) and the spool folders of its reading workers (`ingest_ahead`)."""
    import shutil

    # (the reading `reading_early` started for this very run is no leftover: its spool, its workers' copies)
    early_pids = {f".{pid}.part" for ahead in _EARLY.values() for pid in ahead.pids}
    early_spools = {ahead.spool.resolve() for ahead in _EARLY.values()}  # (mkdtemp's path is absolute from Python 3.12 on)
    for part in settings.archive_dir.glob("*.part"):
        if not part.name.endswith(tuple(early_pids)):
            part.unlink(missing_ok=True)
    for spool in settings.work_warehouse.parent.glob(f"{INGEST_SPOOL_PREFIX}*"):
        if spool.resolve() not in early_spools:
            shutil.rmtree(spool, ignore_errors=True)


def preflight(settings: Settings) -> list[RawFile]:
    """Everything a run needs, checked before anything is written; returns the files found."""
    precheck(settings)
    _check_writable(settings.archive_dir, "存档目录", "SHOUYANG_ARCHIVE_DIR")
    _check_writable(settings.export_dir, "简报输出目录", "SHOUYANG_EXPORT_DIR")
    _check_writable(settings.warehouse.parent, "数据仓库所在目录", "SHOUYANG_WAREHOUSE")
    _check_writable(settings.work_warehouse.parent, "工作目录", "SHOUYANG_WAREHOUSE")
    # A publish a kill interrupted is finished (or its leftovers removed) before anything else.
    recover_publish(settings.work_warehouse, settings.warehouse, settings.export_dir)
    _remove_leftovers(settings)
    # An analyst writing to the published file: say so now rather than fail at the publish.
    holder = read_write_holder(settings.warehouse)
    if holder is not None:
        raise PublishedWarehouseInUse(settings.warehouse, holder.pid, holder.program, settings.work_warehouse,
                                      before_run=True)
    return raw_files(settings)


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


def _current_files_by_period(settings: Settings, periods: list[str] | None) -> dict[str, list[str]]:
    """The current files of placed dataset-periods the warehouse holds, by period (of `periods`)."""
    for path in (settings.work_warehouse, settings.warehouse):
        if not path.exists():
            continue
        try:
            with connect(path, read_only=True) as conn:
                held: dict[str, list[str]] = {}
                for file_path, _, period in queries.current_files(conn, periods):
                    held.setdefault(period, []).append(file_path)
                return held
        except duckdb.Error:
            continue  # held by another process or unreadable: the run's own checks say so
    return {}


def refuse_wipe(settings: Settings, files: list[RawFile], periods: list[str] | None, allow_empty: bool) -> None:
    """A raw dir that has lost every file of several periods at once (an unmounted share, a
    wrong folder holding one file) is far more often a mistake than the truth: refuse unless the
    run says so (`--allow-empty`). Losing the files of one period is the contract's "removed
    file" and goes ahead."""
    if allow_empty:
        return
    found = {f.period for f in files if f.dataset_period}
    held = _current_files_by_period(settings, periods)
    emptied = sorted(p for p in held if p not in found)
    if len(emptied) < 2 and (found or not held):
        return
    lost = [path for p in emptied for path in held[p]]
    shown = "、".join(lost[:3]) + (f"等{len(lost)}个文件" if len(lost) > 3 else "")
    months = "、".join(emptied[:6]) + ("等" if len(emptied) > 6 else "")
    where = "中没有任何报送文件" if not found else f"中已没有{len(emptied)}个报告期（{months}）的任何文件"
    raise SetupError(
        f"原始数据目录 {settings.raw_dir} {where}，而数据仓库中现有{shown}。"
        "照此运行会把它们全部移出数据仓库并删除相应简报：如果目录路径有误（如共享盘未挂载、指向了别的文件夹），"
        "请改正后再运行；如果确实要移除，请运行 shouyang run --allow-empty。本次运行未做任何改动。")


def periods_to_run(settings: Settings, files: list[RawFile]) -> list[str]:
    """Every period with a file under the raw dir, plus periods whose files have since been removed."""
    ensure_work_copy(settings.work_warehouse, settings.warehouse)  # the run will start from it too
    periods = {f.period for f in files if f.dataset_period}
    periods |= {p for p in _held_periods(settings)}
    return sorted(periods)


# ------------------------------------------------------------------ a run with nothing to do
# `shouyang run` over every period, when nothing it reads changed since the last such run that
# succeeded, does not start a Dagster run: it would read nothing again (`ingest_and_load`) and
# write nothing (`stage_exports_for`), and only its fixed cost would remain. Everything a run
# reads is in `run_inputs`; the reporting calendar is judged by the day, so the day of the run's
# clock is one of them. Every run forgets the record as it begins (`begin_run`): a run of some
# months, from the UI or the sensor, or one that failed, means the next full run happens.

LAST_RUN_FILE = "last_run.json"


def _last_run_file(settings: Settings) -> Path:
    return settings.work_warehouse.parent / LAST_RUN_FILE


def run_inputs(settings: Settings, files: list[RawFile]) -> str | None:
    """The digest of everything a run of every period reads: where it reads and writes, the code,
    the reference lists, every file under the raw dir (path and content) and the register, the
    day of the run's clock and the machine's day (Beijing). None when something cannot be read."""
    from .ingest.register import is_register
    from .reference import reference_digest
    from .warehouse.digests import code_digest, digest_of

    reference = reference_digest(settings.reference_dir)
    if reference is None:
        return None
    entries = []
    for f in sorted(files, key=lambda f: f.rel_path):
        sha = _file_hash(f)
        if sha is None and not f.unreadable:
            return None
        entries.append([f.rel_path, f.kind, sha])
    try:  # the register in any spelling of its extension (`register.is_register`), each one
        registers = sorted(p for p in settings.raw_dir.iterdir() if is_register(p.name) and p.is_file())
    except OSError:
        return None
    register_sha = [[p.name, file_sha256(p)] for p in registers]
    places = [str(p.resolve()) for p in (settings.raw_dir, settings.reference_dir, settings.warehouse,
                                         settings.export_dir, settings.archive_dir, settings.work_warehouse)]
    return digest_of({"places": places, "code": code_digest(), "reference": reference, "files": entries,
                      "register": register_sha, "day": settings.now().date().isoformat(),
                      # the folder's files are judged by the machine's month (a period not yet begun)
                      "machine_day": datetime.now(BEIJING).date().isoformat()})


def unchanged_since_last_run(settings: Settings, inputs: str | None) -> bool:
    """Whether the last run of every period succeeded with exactly these inputs, and what it
    published is all in place and untouched: the warehouse as it was published, no publish
    pending or months unpublished, and every export file it wrote with its content (a briefing
    written without its PDF counts only while this machine still cannot make one)."""
    from .warehouse.digests import read_export_digests

    if inputs is None or not settings.warehouse.is_file() or record_path(settings.warehouse).exists():
        return False
    try:
        last = json.loads(_last_run_file(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    exports = read_export_digests(settings.export_dir)
    if not isinstance(last, dict) or last.get("inputs") != inputs or last.get("months") != sorted(exports):
        return False
    if unpublished_periods(settings):
        return False
    if last.get("warehouse") != _file_state(settings.warehouse):  # written to since (an analyst, a copy)
        return False
    if wal_path(settings.warehouse).exists():  # writes of a read-write session not (yet) in the file:
        return False  # every reader sees them; the run sets the log aside and publishes anew
    if not all(_exports_intact(settings.export_dir, entry) for entry in exports.values()):
        return False
    without_pdf = any(not any(f.endswith(".pdf") for f in entry["files"]) for entry in exports.values())
    if without_pdf:
        from .exports.pdf import pdf_unavailable

        return pdf_unavailable() is not None
    return True


def remember_run(settings: Settings, inputs: str | None) -> None:
    """After a run of every period succeeded: the inputs it ran from, and the months it exported."""
    from .warehouse.digests import read_export_digests

    if inputs is not None:
        _write_json(_last_run_file(settings), {"inputs": inputs, "months": sorted(read_export_digests(settings.export_dir)),
                                               "warehouse": _file_state(settings.warehouse)})


def _file_state(path: Path) -> list[int] | None:
    """What changes when a file is written to or replaced: its inode, size and modification time."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def forget_run(settings: Settings) -> None:
    _last_run_file(settings).unlink(missing_ok=True)


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
        raise SetupError(f"工作文件 {settings.work_warehouse} 正被另一个程序{who}打开，本次运行无法写入："
                         f"请关闭该程序（分析请打开已发布的数据仓库 {settings.warehouse}，并使用只读方式："
                         "make sql 或 duckdb -readonly）后再运行。"
                         "本次运行未做任何改动。") from exc
    try:
        yield conn
    finally:
        conn_cm.__exit__(None, None, None)


def check_work_file(settings: Settings) -> str | None:
    """The work file can be opened for writing (no other process holds it). A work file that is
    damaged (a disk fault, a truncated copy) is moved aside and the run starts from the published
    warehouse, or from nothing when that is damaged too: the warehouse is a function of the files,
    so the run rebuilds what it lost. Returns a note saying so, or None."""
    ensure_work_copy(settings.work_warehouse, settings.warehouse)
    try:
        with open_work(settings):
            return None
    except duckdb.Error as exc:
        damaged = settings.work_warehouse.with_name(f"damaged-{datetime.now(BEIJING):%Y%m%d-%H%M%S}-{settings.work_warehouse.name}")
        os.replace(settings.work_warehouse, damaged)
        wal_path(settings.work_warehouse).unlink(missing_ok=True)
        note = f"工作文件 {settings.work_warehouse} 已损坏（{str(exc).splitlines()[0][:120]}），已移到 {damaged}"
        if _opens(settings.warehouse):
            ensure_work_copy(settings.work_warehouse, settings.warehouse)
            return note + "，本次从已发布的数据仓库重新开始"
        return note + "，已发布的数据仓库也无法打开，本次按原始数据目录中的全部文件重建"


def _opens(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        with connect(path, read_only=True) as conn:
            conn.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
        return True
    except duckdb.Error:
        return False


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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise SetupError(f"无法在 {path.parent} 中建立运行锁文件（{os_reason(exc)}）：请检查该目录的权限和磁盘空间，"
                         "或用环境变量 SHOUYANG_WAREHOUSE / SHOUYANG_DATA_DIR 指向可写的位置。本次运行未做任何改动。") from exc
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
    os.pwrite(fd, f"进程 {os.getpid()}，开始于 {datetime.now(BEIJING):%Y-%m-%d %H:%M:%S}（北京时间）".encode(), 0)
    _held[key] = (fd, 1)
    try:
        yield
    finally:
        del _held[key]
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _lock_held_here(settings: Settings) -> bool:
    path = settings.run_lock
    key = str(path.resolve()) if path.parent.exists() else str(path.absolute())
    return key in _held


# ------------------------------------------------------------------ a publish committed but not applied
# A run killed after its commit record (`warehouse/publish.py`, step (b)) is published, but the
# warehouse and the exports are put in place only by whoever looks next. Every entry point that
# reads or writes data looks: the CLI's commands, the sensor's and schedule's ticks, the start of
# every Dagster run (the resource).


@dataclass(frozen=True)
class PendingPublish:
    """What `finish_committed_publish` did: the publish finished, or a line saying why not."""

    rolled_forward: bool = False
    note: str | None = None  # one Chinese line when the publish had to be left for later
    stale_wal: Path | None = None  # where a stale `.wal` of the replaced file was moved

    @property
    def wal_note(self) -> str | None:
        """What to say of a stale `.wal` the publish moved aside (`publish.stale_wal_note`), if any."""
        return stale_wal_note(self.stale_wal) if self.stale_wal is not None else None


def finish_committed_publish(settings: Settings, *, in_run: bool = False) -> PendingPublish:
    """Finish the publish of a run killed after its commit record (`publish.roll_forward`).

    Never races a run: outside a run (`in_run=False`) the run lock is taken without waiting, and
    when a run holds it (in another process, or in this one) nothing is done: that run finishes
    the publish itself. An analyst holding the published file read-write, or a fault of the
    disk, leaves the record for a later attempt and returns a note: the caller goes on.
    """
    if not record_path(settings.warehouse).exists():
        return PendingPublish()
    if not in_run and _lock_held_here(settings):
        return PendingPublish()
    try:
        with nullcontext() if in_run else run_lock(settings):
            done = roll_forward(settings.warehouse, settings.work_warehouse)
    except PublishedWarehouseInUse as exc:
        who = "、".join(x for x in (f"进程号 {exc.pid}" if exc.pid else "", exc.program or "") if x) or "另一个程序"
        return PendingPublish(note=f"上次运行的结果已提交但尚未替换已发布的数据仓库：{settings.warehouse} 正被{who}以读写方式打开，"
                                   "关闭后下一次运行或查看时自动完成；此处显示的是上次运行的结果。")
    except SetupError:
        return PendingPublish()  # another run holds the lock: it finishes the publish
    except OSError as exc:
        return PendingPublish(note=f"上次运行的结果已提交但未能放到位（{os_reason(exc)}）：下一次运行或查看时再试；"
                                   f"请检查 {settings.warehouse.parent} 和 {settings.export_dir} 的权限和磁盘空间。")
    if done is None:
        return PendingPublish()
    clear_unpublished(settings)
    return PendingPublish(rolled_forward=True, stale_wal=done.stale_wal)


def pending_or_published(settings: Settings) -> Path:
    """The warehouse a reader should open: the committed one not yet put in place (an analyst
    holds the published file), else the published file."""
    return pending_warehouse(settings.warehouse) or settings.warehouse


def emptied_periods(settings: Settings, periods: list[str]) -> list[str]:
    """Of `periods`, the months with no file under the raw dir and no current file in the
    published warehouse: a run emptied them, and they stop being partitions. None when either
    cannot be read (a month is never dropped on a guess)."""
    if not periods:
        return []
    try:
        with_files = {f.period for f in raw_files(settings) if f.dataset_period}
    except (SetupError, OSError):
        return []
    held: set[str] = set()
    if settings.warehouse.exists():
        try:
            with connect(pending_or_published(settings), read_only=True) as conn:
                held = queries.periods_held(conn)
        except duckdb.Error:
            return []
    return sorted(p for p in set(periods) if p not in with_files and p not in held)


# ------------------------------------------------------------------ the run's steps (called by Dagster)


def begin_run(settings: Settings, periods: list[str], allow_empty: bool, run_id: str | None = None) -> None:
    """The first step of every run: everything checked before anything changes, the files found
    noted for the run's later steps, and the run's months noted as not yet published (until this
    run's publish)."""
    files = preflight(settings)
    refuse_wipe(settings, files, periods, allow_empty)
    forget_run(settings)  # from here the run changes things: the next full run is not skipped
    if run_id is not None:
        _write_json(_snapshot_file(settings), {"run_id": run_id, "files": [f.rel_path for f in files if f.dataset_period]})
    mark_unpublished(settings, periods)


def _snapshot_file(settings: Settings) -> Path:
    return settings.work_warehouse.parent / "run_files.json"


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _refuse_vanished(settings: Settings, files: list[RawFile], periods: list[str], run_id: str | None) -> None:
    """A file the run's first step found under the raw dir and that is gone now (a network share
    that dropped mid-run) stops the run before the period loses it: nothing is published."""
    if run_id is None:
        return
    try:
        snapshot = json.loads(_snapshot_file(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if snapshot.get("run_id") != run_id:
        return
    now = {f.rel_path for f in files}
    gone = [p for p in snapshot.get("files", []) if p not in now and p.split("/")[-1][:7] in periods]
    if gone:
        shown = "、".join(gone[:3]) + (f"等{len(gone)}个文件" if len(gone) > 3 else "")
        raise SetupError(f"运行期间原始数据目录 {settings.raw_dir} 中的{shown}不见了（共享盘断开或文件被移走？）："
                         "本次运行已停止，已发布的数据仓库和简报没有改动。请确认目录恢复正常后重新运行。")


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


def ingest_and_load(settings: Settings, conn: duckdb.DuckDBPyConnection, dataset: str, periods: list[str],
                    run_id: str | None = None, *, force: bool = False,
                    ahead: IngestAhead | None = None) -> DatasetOutcome:
    """Re-read every current file of each period of one dataset and replace that dataset-period in
    staging and audit (one transaction each). Keeps only what metadata needs, not the rows.

    A dataset-period whose inputs are exactly those it was last loaded from (`_inputs_digest`:
    its current files and their content, their received times, the reference lists, the code)
    is not read again: its rows stay, and its log and rejected rows are read back for metadata.
    Anything that cannot be told for certain (a file that cannot be hashed, an archived copy
    missing, the warehouse holding other file versions than the digest says) reads it again.
    A dataset-period `ahead` read from these very files (in a worker) is taken from there."""
    import pandas as pd

    from .warehouse.digests import stored_inputs

    files = raw_files(settings)
    _refuse_vanished(settings, files, periods, run_id)
    ensure_load_tables(conn)
    register = read_register(settings.raw_dir)
    base = _inputs_base(settings)
    stored = {} if force else stored_inputs(conn)  # `force`: every dataset-period read again
    reference = None
    logs, rejected, warnings = [], [], 0
    for period in periods:
        plan = _plan(settings, conn, files, dataset, period, base, register, stored)
        if plan.held:
            log, rows, cells = queries.dataset_period_state(conn, dataset, period)
            logs.append(log)
            rejected.append(rows)
            warnings += cells
            continue
        # The collector held off until the rows read here are released (`collector_paused`): given
        # back while they were alive, its first pass would walk every one of them once more.
        with collector_paused():
            result = ahead.take(plan) if ahead is not None else None
            if result is None:
                reference = reference or Reference.load(settings.reference_dir)
                result = ingest_period(settings, dataset, period, reference, files=plan.files)
            # the digest of the versions ingest actually read (a file replaced meanwhile is read again next run)
            read = dict(zip(result.log["file_path"], file_digests(result.log)))
            inputs = _inputs_digest(base, dataset, period, plan.files, read, register) if read == plan.hashes else None
            load_period(conn, result, inputs=inputs, tables_ensured=True)
            logs.append(result.log)
            rejected.append(result.rejected)
            warnings += len(result.warnings)
            result.release()
            del result
    return DatasetOutcome(
        log=pd.concat(logs, ignore_index=True),
        rejected=pd.concat(rejected, ignore_index=True),
        warnings=warnings,
        staging_rows=queries.count_rows(conn, STAGING[dataset], periods),
    )


@dataclass
class _PeriodPlan:
    """One dataset-period's current files as a run finds them, and whether the warehouse already
    holds exactly what they give (`held`: not read again)."""

    dataset: str
    period: str
    files: list[RawFile]
    hashes: dict[str, str | None]
    held: bool
    inputs: str | None  # `_inputs_digest` as planned (the register's times and the reference lists too); None: unknown


def _plan(settings: Settings, conn: duckdb.DuckDBPyConnection, files: list[RawFile], dataset: str, period: str,
          base: dict | None, register, stored: dict[str, str]) -> _PeriodPlan:
    mine = sorted((f for f in files if f.dataset_period == (dataset, period)), key=lambda f: f.rel_path)
    hashes = {f.rel_path: _file_hash(f) for f in mine}
    key = dataset_period_key(dataset, period)
    inputs = _inputs_digest(base, dataset, period, mine, hashes, register)
    held = inputs is not None and stored.get(key) == inputs and _holds(settings, conn, key, mine, hashes)
    return _PeriodPlan(dataset, period, mine, hashes, held, inputs)


# Ingest is done ahead, in worker processes, only when the files to read add up to this many
# bytes: a worker's start-up (importing pandas, pandera and the readers) is more than reading the
# sample's whole year (1 MB) takes.
INGEST_WORKERS_FROM_BYTES = 8_000_000


def ingest_workers(dataset_periods: int, size: int) -> int:
    """How many processes read a run's files ahead of the loading: none (this process reads each
    dataset-period as it loads it) for one dataset-period, less than INGEST_WORKERS_FROM_BYTES, or
    a single core; else one per core the run may use, up to `workers.MAX_WORKERS`."""
    from .workers import MAX_WORKERS, usable_cores

    if dataset_periods < 2 or size < INGEST_WORKERS_FROM_BYTES:
        return 0
    workers = min(usable_cores(), MAX_WORKERS, dataset_periods)
    return workers if workers > 1 else 0


def early_reading_workers(dataset_periods: int, size: int) -> int:
    """How many processes read a run's files early (`reading_early`): as many as `ingest_workers`
    says, or for fewer bytes one, while the run's own process sets Dagster up on one core and
    another is idle (a city's incremental month is read before its staging step begins); none
    on a single core or for a single dataset-period."""
    from .workers import usable_cores

    return ingest_workers(dataset_periods, size) or (1 if dataset_periods > 1 and usable_cores() > 1 else 0)


class IngestAhead:
    """The dataset-periods a run reads again, read and checked by worker processes (`ingest_parts`)
    in the order the run loads them, while this process loads the ones done: `ingest_and_load`
    takes each from here. Their frames wait in a spool folder beside the work file, not in memory."""

    def __init__(self, pool, planned: dict[tuple[str, str], _PeriodPlan], spool: Path):
        self._pool, self._planned, self._spool = pool, planned, spool
        self._failed = False  # a reading raised: the rest is read by the step itself

    @property
    def spool(self) -> Path:
        return self._spool

    @property
    def pids(self) -> list[int]:
        return self._pool.pids

    def when_read(self, callback) -> None:
        """`callback()` once the workers have read every dataset-period (`workers.Pool.when_done`)."""
        self._pool.when_done(callback)

    def close(self) -> None:
        """Stops the workers; the frames not taken go with the spool folder."""
        import shutil

        self._pool.close()
        shutil.rmtree(self._spool, ignore_errors=True)

    def take(self, plan: _PeriodPlan) -> PeriodFrames | None:
        """The frames of this dataset-period, read from exactly these inputs; None when it was not
        read ahead, its inputs changed since (its files, their register lines, the reference
        lists), or a reading raised an error (then the caller reads it, and meets the error
        itself, in its own words, if it is still there).

        A set-up error met by any worker is raised as itself; a worker that ended without
        answering (killed, out of memory) fails the step: reading its files here could end this
        process the same way."""
        import pickle

        from .workers import PoolFailed

        key = (plan.dataset, plan.period)
        planned = self._planned.pop(key, None)
        if planned is None or self._failed:
            return None
        if (planned.files, planned.hashes, planned.inputs) != (plan.files, plan.hashes, plan.inputs):
            return None  # not waited for: its frames go with the spool
        try:
            path, records = self._pool.get(key)
        except PoolFailed as failed:
            if (error := failed.first_error(SetupError)) is not None:
                raise error from failed
            if any(f.error is None for f in failed.failures):
                raise
            self._failed = True
            return None
        for record in records:  # what the worker's reading said, said here as it is taken
            logging.getLogger(record.name).handle(record)
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        finally:
            path.unlink(missing_ok=True)


@contextmanager
def ingest_ahead(settings: Settings, conn_factory, datasets: list[str], periods: list[str], *,
                 force: bool = False) -> Iterator[IngestAhead | None]:
    """Starts reading the run's dataset-periods that need it in worker processes (`ingest_workers`
    says how many; None: none, each is read as it is loaded); they are stopped on leaving. The
    reading `reading_early` started for these datasets and months is taken over instead."""
    ahead = _EARLY.pop((frozenset(datasets), tuple(periods), force), None)
    if ahead is None:
        ahead = start_reading(settings, conn_factory, datasets, periods, force=force)
    try:
        yield ahead
    finally:
        if ahead is not None:
            ahead.close()


def start_reading(settings: Settings, conn_factory, datasets: list[str], periods: list[str], *,
                  force: bool = False, workers_for=None) -> IngestAhead | None:
    """`ingest_ahead`'s reading, begun (None: too little to read); the caller closes it.
    `workers_for(dataset_periods, bytes)` says how many workers (`ingest_workers` when None)."""
    import shutil
    import tempfile

    from .warehouse.digests import stored_inputs
    from .workers import Pool

    files = raw_files(settings)
    mine = [f for f in files if f.dataset_period and f.dataset_period[0] in datasets and f.dataset_period[1] in periods]
    workers_for = workers_for or ingest_workers
    workers = workers_for(len(datasets) * len(periods), sum(_size(f) for f in mine))
    if not workers:
        return None  # too little to read, whatever is held: nothing hashed
    # The workers are started first: they load their modules while the files are hashed here.
    pool = Pool("shouyang_pipeline.pipeline:ingest_parts", workers, name="读取进程")
    spool = None
    try:
        register = read_register(settings.raw_dir)
        base = _inputs_base(settings)
        with conn_factory() as conn:
            stored = {} if force else stored_inputs(conn)
            plans = [plan for dataset in datasets for period in periods
                     for plan in [_plan(settings, conn, files, dataset, period, base, register, stored)]
                     if not plan.held]
        if not workers_for(len(plans), sum(_size(f) for plan in plans for f in plan.files)):
            pool.close()  # what is left to read is too little after all: the workers are stopped
            return None
        settings.work_warehouse.parent.mkdir(parents=True, exist_ok=True)
        spool = Path(tempfile.mkdtemp(prefix=INGEST_SPOOL_PREFIX, dir=settings.work_warehouse.parent))
        job = {"settings": settings, "spool": spool, "files": {(p.dataset, p.period): p.files for p in plans}}
        pool.begin(job, [(p.dataset, p.period) for p in plans], describe=_reading)
        return IngestAhead(pool, {(p.dataset, p.period): p for p in plans}, spool)
    except BaseException:
        pool.close()
        if spool is not None:
            shutil.rmtree(spool, ignore_errors=True)
        raise


# The reading `reading_early` started, by (datasets, months, force), for the run's staging step.
_EARLY: dict[tuple[frozenset, tuple, bool], IngestAhead] = {}


@contextmanager
def reading_early(settings: Settings, periods: list[str], *, force: bool = False) -> Iterator[None]:
    """Around a run of the job executed in this process (`shouyang run`): every dataset's files of
    `periods` start being read by the reading workers now, while Dagster sets the run up (a few
    seconds of one core), for its staging step to take over (`ingest_ahead`). What the step finds
    otherwise than planned here (the work file changed at the run's start) it reads itself
    (`IngestAhead.take`). Only time is at stake: anything that stops the early start leaves the
    reading to the step, as without it. Whatever the step did not take is stopped on leaving."""
    from .catalog.datasets import DATASETS

    datasets = list(DATASETS)
    key = (frozenset(datasets), tuple(periods), force)
    work = settings.work_warehouse
    ahead = None
    if work.exists() or not settings.warehouse.exists():  # (the step would start a missing work file from the published one)
        try:
            ahead = start_reading(settings, lambda: _read_only_or_empty(work), datasets, periods, force=force,
                                  workers_for=early_reading_workers)
        except Exception as exc:  # noqa: BLE001 - the step reads (and meets any problem) as without it
            logging.getLogger("shouyang_pipeline").debug("no early reading: %s", exc)
    if ahead is not None:
        _EARLY[key] = ahead
    try:
        yield
    finally:
        left = _EARLY.pop(key, None)
        if left is not None:
            left.close()


@contextmanager
def _read_only_or_empty(path: Path):
    """The work file read-only, or an empty in-memory database when there is none yet."""
    with (connect(path, read_only=True) if path.exists() else closing(duckdb.connect())) as conn:
        yield conn


# The spool folders of `ingest_ahead`, beside the work file; a killed run's are removed by the next.
INGEST_SPOOL_PREFIX = "ingest-spool."


def _reading(item: tuple[str, str]) -> str:
    from .catalog.datasets import DATASETS

    return f"{DATASETS[item[0]].title}（{item[0]}）{item[1]}的文件未能读取"


def _size(raw: RawFile) -> int:
    try:
        return 0 if raw.unreadable else raw.path.stat().st_size
    except OSError:
        return 0


@contextmanager
def ingest_parts(job: dict):
    """A reading worker (`ingest_ahead`): each item `(dataset, period)` read and checked from the
    files the run found, its frames pickled into the spool folder (the staging rows beside them as
    Parquet, `write_parquet`); answers the pickle's path and what the reading logged (`_KeptRecords`)."""
    import pickle

    settings, reference = job["settings"], None
    package = logging.getLogger("shouyang_pipeline")

    def read(key: tuple[str, str]) -> tuple[Path, list[logging.LogRecord]]:
        kept = _KeptRecords()
        package.addHandler(kept)
        try:
            return _read(key), kept.records
        finally:
            package.removeHandler(kept)

    def _read(key: tuple[str, str]) -> Path:
        nonlocal reference
        reference = reference or Reference.load(settings.reference_dir)
        # held off until the rows are released, then one collection: whatever else of the
        # period's is garbage is freed before the next period
        with collector_paused(collect_after=True):
            result = ingest_period(settings, key[0], key[1], reference, files=job["files"][key])
            frames = PeriodFrames(**{f.name: getattr(result, f.name) for f in fields(PeriodFrames)})
            if len(frames.staging):  # the staging rows as Parquet, loaded natively (`write_parquet`)
                frames.staging = write_parquet(frames.staging, job["spool"] / f"{key[0]}.{key[1]}.parquet")
            path = job["spool"] / f"{key[0]}.{key[1]}.pickle"
            with open(path, "wb") as fh:
                pickle.dump(frames, fh, protocol=pickle.HIGHEST_PROTOCOL)
            result.release()
            del result, frames
        return path

    yield read


class _KeptRecords(logging.Handler):
    """The package's records of WARNING and above met while a reading worker reads an item (a
    file sent back for a fault of the program's, with its traceback), kept in a form that pickles,
    for the run's own process to say when it takes the item (`IngestAhead.take`): said in the
    worker, they would reach neither the terminal nor the run's log."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        kept = logging.makeLogRecord(record.__dict__)
        kept.msg, kept.args = record.getMessage(), None
        if record.exc_info:
            kept.exc_text = logging.Formatter().formatException(record.exc_info)
        kept.exc_info = None
        self.records.append(kept)


def _inputs_base(settings: Settings) -> dict | None:
    """What every dataset-period's ingest reads besides its files: the code and the reference
    lists (None when they cannot be read: nothing is skipped)."""
    from .reference import reference_digest
    from .warehouse.digests import code_digest

    reference = reference_digest(settings.reference_dir)
    return None if reference is None else {"code": code_digest(), "reference": reference}


def _file_hash(raw: RawFile) -> str | None:
    """The sha256 of a file ingest would open; None for one it would not (a link: never opened)
    or cannot read."""
    return None if raw.unreadable else file_sha256(raw.path)


def _inputs_digest(base: dict | None, dataset: str, period: str, files: list[RawFile],
                   hashes: dict[str, str | None], register) -> str | None:
    """The digest of everything one dataset-period's ingest reads, or None when something could
    not be read (then it is read again, and no digest is kept)."""
    from .warehouse.digests import digest_of

    if base is None:
        return None
    described = []
    for f in files:
        sha = hashes.get(f.rel_path)
        if sha is None and not f.unreadable:
            return None
        received = register.times.get(f.rel_path)
        described.append([f.rel_path, f.kind, sha, f.submitter, f.suffix, f.naming_problem, f.placed,
                          received.isoformat() if received is not None else None])
    return digest_of({"dataset": dataset, "period": period, **base, "files": described})


def _holds(settings: Settings, conn: duckdb.DuckDBPyConnection, key: str, files: list[RawFile],
           hashes: dict[str, str | None]) -> bool:
    """The warehouse holds exactly these file versions as the dataset-period's current files, and
    the archive a copy of each (a run archives every version it reads)."""
    held = queries.current_versions(conn, key)
    if held != {f.rel_path: hashes.get(f.rel_path) for f in files}:
        return False
    return all(sha is None or archived_path(sha, f.suffix, settings.archive_dir).is_file()
               for f in files for sha in [hashes.get(f.rel_path)])


def cross_period_flags(conn: duckdb.DuckDBPyConnection, periods: list[str]) -> FlagSummary:
    """Recompute audit.cross_period_flags (SUBMISSIONS.md 8) once the run's staging is loaded, and
    return the flags of the run's periods and of the period after each (which a correction can
    raise or clear).

    A period's flags are a function of its staging and the previous period's, so those are the
    only flags a run can change: a run of some months recomputes only them (a self-join of every
    staging table is seconds at a province's size). A run that covers every period the warehouse
    holds (staging, or flags left from an earlier version of the pipeline) recomputes them all."""
    ensure_tables(conn)
    touched = periods_after(conn, periods)
    held = {p for (p,) in conn.execute(
        f"SELECT DISTINCT period FROM {FLAGS_TABLE.qualified} UNION "
        + " UNION ".join(f"SELECT DISTINCT period FROM {t.qualified}" for t in STAGING.values())).fetchall()}
    recompute_flags(conn, None if held <= set(periods) else touched)
    return flag_summary(conn, touched)


def record_unplaced(settings: Settings, conn: duckdb.DuckDBPyConnection) -> None:
    """The ingest-log rows of files that fit no dataset-period (unknown folder, bad period)."""
    unplaced = unplaced_log(settings)
    ensure_tables(conn)
    load_unplaced(conn, unplaced)


def export_months(settings: Settings, run_periods: list[str], conn: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """The months whose exports a run writes: its own; the later months of the same year the
    warehouse holds (their briefings read earlier months: a quarter's village figures, last
    month's investment); and those of earlier runs whose publish did not happen."""
    months = set(run_periods) | unpublished_periods(settings)
    if conn is not None and months:
        first_by_year: dict[str, str] = {}
        for p in months:
            first_by_year[p[:4]] = min(p, first_by_year.get(p[:4], p))
        months |= {p for p in queries.periods_held(conn) if p[:4] in first_by_year and p > first_by_year[p[:4]]}
    return sorted(months)


@dataclass
class StagedExports:
    written: list[Path]
    to_delete: list[str]
    briefings: dict[str, str]  # month -> the Markdown of its briefing (written now or before), in calendar order
    receipts: list[Path] = field(default_factory=list)  # of `written`: the departments' receipts (回执)
    written_of: dict[str, list[Path]] = field(default_factory=dict)  # month -> its files of `written`
    # Months whose exports were written / kept as they were (their inputs had not changed).
    months_written: list[str] = field(default_factory=list)
    months_unchanged: list[str] = field(default_factory=list)
    # One Chinese sentence per reason the briefing's PDF could not be written, naming the months
    # (`简报PDF未生成（2023-05）：未安装…。简报的Markdown和HTML版本照常写出。`); empty when every PDF was.
    pdf_warnings: list[str] = field(default_factory=list)


def stage_exports_for(settings: Settings, work: Path, conn_factory, months: list[str], run_id: str, *,
                      force: bool = False, ahead=None) -> StagedExports:
    """Write the briefings and workbooks of `months` into the staging folder beside the exports;
    `exports/published_warehouse` moves them into place with the warehouse, in one step. A month
    with neither data nor files (they were removed) has its old exports deleted then.

    Only months whose inputs changed are written: a month whose digest (`warehouse.digests.
    month_digests`: the rows of every table its exports read, and the code) is the one its
    published exports were written from, and whose files are all there (its PDF too, unless this
    machine still cannot make one), is left as it is (not staged, not deleted: its files keep their times). The digests are kept in
    `<export dir>/.digests.json`, staged and published with the exports when they change.

    The briefing's PDF is written beside its HTML when this machine can (`exports.pdf`); when it
    cannot, the run goes on, says once why (a warning of the `shouyang_pipeline` logger, and
    `StagedExports.pdf_warnings` for the run's summary), and the month's old PDF is deleted
    rather than left beside a newer briefing.

    The receipts (回执) of the written months' files are staged with them (`stage_receipts`):
    written for every current file that needs one, and every other receipt of those months deleted.

    A file of a written month that comes out byte for byte the one published under its name (a
    briefing whose sentences did not change, the receipt of an unchanged file: `receipts.write_receipt`
    stamps it with its file's time) is not staged: the published one stays, its time with it, and
    the run does not count it as written. `force` stages every file.

    `ahead`, when given, is a pool of export workers started ahead by the run (`ahead_export_workers`):
    the months are written by it, a single one too; it is closed when nothing is to be written."""
    import logging

    from .warehouse.digests import DIGESTS_FILE, month_digests, read_export_digests, write_export_digests
    from .warehouse.publish import stage_exports

    export_dir = settings.export_dir
    previous = read_export_digests(export_dir)
    entries = dict(previous)
    without_pdf: dict[str, list[str]] = {}  # why -> the months whose PDF was not written
    with stage_exports(work, settings.warehouse, export_dir, run_id) as stage:
        written: list[Path] = []
        with conn_factory() as conn:
            periods = queries.periods_with_data_or_files(conn, months)
            # every month written whatever its digest says (`force`, or none written before): by
            # workers, its digests are taken while they write (`_read_only_digests`), not before
            digests = None if force or not any(p in previous for p in periods) else month_digests(conn, periods)
            changed = periods if digests is None else [
                p for p in periods if not _exports_current(export_dir, previous.get(p), digests[p], p)]
            if ahead is not None and (not changed or ahead.workers < 2):
                ahead.close()
                ahead = None
            workers = ahead.workers if ahead is not None else export_workers(len(changed))
            if workers <= 1:
                digests = digests if digests is not None else month_digests(conn, periods)
                done = [write_month_exports(settings, conn, stage.dir, p) for p in changed]
        if workers > 1:  # the run's connection is closed: the workers open the work file read-only
            taken = {}
            meanwhile = None if digests is not None else lambda: taken.update(_read_only_digests(work, periods))
            done = write_months_in_workers(settings, work, stage.dir, changed, workers, pool=ahead, meanwhile=meanwhile)
            digests = digests if digests is not None else taken
        files_of: dict[str, list[Path]] = {}
        receipts: list[Path] = []
        hashed = {name: sha for month in done for name, sha in month.sha256.items()}

        def staged(month: MonthExports, names: list[str]) -> list[Path]:
            """`names` of a month's files, where they are once published: staged, but for those that
            are byte for byte the published file of that name, left in place (its time too; with
            `force`, every file is written again)."""
            recorded = {} if force else previous.get(month.period, {}).get("files", {})
            same = [n for n in names if hashed.get(n) == recorded.get(n) and _published_as(export_dir, n, hashed.get(n))]
            for n in same:
                (stage.dir / n).unlink()
            return [*stage.add([stage.dir / n for n in names if n not in same]), *(export_dir / n for n in same)]

        def new(paths: list[Path]) -> list[Path]:  # those staged: what the run writes
            return [p for p in paths if p.relative_to(export_dir).as_posix() in stage.files]

        for month in done:
            files_of[month.period] = staged(month, month.files)
            written += new(files_of[month.period])
            if month.pdf_reason is not None:
                without_pdf.setdefault(month.pdf_reason, []).append(month.period)
            for name in month.remove:
                stage.remove(name)
        for month in done:
            receipts += staged(month, month.receipts)
        gone = sorted(set(months) - set(periods))
        if gone:  # no data and no file any more: their receipts are deleted
            with conn_factory() as conn:
                receipts += stage_receipts(settings, conn, stage, gone)
        written += new(receipts)
        for path in receipts:
            files_of.setdefault(path.parent.name, []).append(path)
        for period in changed:
            names = sorted(p.relative_to(export_dir).as_posix() for p in files_of[period])
            entries[period] = {"digest": digests[period],
                               "files": {n: hashed[n] if n in hashed else file_sha256(stage.dir / n) for n in names}}
        for period in gone:
            for stale in (f"briefing_{period}.md", f"briefing_{period}.html", f"briefing_{period}.pdf",
                          f"marts_{period}.xlsx"):
                stage.remove(stale)
            entries.pop(period, None)
        if entries != previous:
            stage.add([write_export_digests(stage.dir / DIGESTS_FILE, entries)])
        briefings = {}
        for period in periods:
            name = f"briefing_{period}.md"
            source = stage.dir / name if period in changed and (stage.dir / name).is_file() else export_dir / name
            if source.is_file():  # (a month's briefing written again as it was is the published one)
                briefings[period] = source.read_text(encoding="utf-8")
    pdf_warnings = []
    for reason, missed in without_pdf.items():
        label = missed[0] if len(missed) == 1 else f"{missed[0]}至{missed[-1]}共{len(missed)}个月"
        pdf_warnings.append(f"简报PDF未生成（{label}）：{reason}。简报的Markdown和HTML版本照常写出。")
        logging.getLogger("shouyang_pipeline").warning(pdf_warnings[-1])
    return StagedExports(written, list(stage.delete), briefings, receipts, files_of, months_written=changed,
                         months_unchanged=[p for p in periods if p not in changed], pdf_warnings=pdf_warnings)


@dataclass
class MonthExports:
    """What was written for one month, or one part of it, into the staging folder (names relative
    to it)."""

    period: str
    files: list[str] = field(default_factory=list)  # the briefing (md, html, PDF when it could be made), the workbook
    receipts: list[str] = field(default_factory=list)  # receipts/<period>/<file>__回执.xlsx
    remove: list[str] = field(default_factory=list)  # published exports to delete: its old PDF, receipts no longer needed
    pdf_reason: str | None = None  # why the PDF could not be made
    # the sha256 of each of `files` and `receipts` as written (`file_sha256`), by whoever wrote them
    # (an export worker: the workers hash side by side, not the run's process after them)
    sha256: dict[str, str | None] = field(default_factory=dict)

    def __add__(self, other: "MonthExports") -> "MonthExports":
        return MonthExports(self.period, self.files + other.files, self.receipts + other.receipts,
                            self.remove + other.remove, self.pdf_reason if other.pdf_reason is None else other.pdf_reason,
                            {**self.sha256, **other.sha256})


def _write_briefing_part(settings: Settings, conn: duckdb.DuckDBPyConnection, stage_dir: Path, period: str) -> MonthExports:
    from .exports.briefing import briefing_context, write_briefing_text
    from .exports.pdf import write_pdf

    with collector_paused(collect_after=True):
        sections = briefing_context(conn, period)
        md, html = write_briefing_text(sections, stage_dir)
        pdf = write_pdf(sections, stage_dir / f"briefing_{period}.pdf")
    if pdf.path is not None:
        return MonthExports(period, files=[md.name, html.name, pdf.path.name])
    return MonthExports(period, files=[md.name, html.name], remove=[f"briefing_{period}.pdf"], pdf_reason=pdf.reason or "")


def _write_workbook_part(settings: Settings, conn: duckdb.DuckDBPyConnection, stage_dir: Path, period: str) -> MonthExports:
    from .exports.workbook import write_workbook

    with collector_paused(collect_after=True):
        return MonthExports(period, files=[write_workbook(conn, period, stage_dir).name])


def _write_receipts_part(settings: Settings, conn: duckdb.DuckDBPyConnection, stage_dir: Path, period: str) -> MonthExports:
    written, remove = month_receipts(settings, conn, stage_dir, period)
    return MonthExports(period, receipts=written, remove=remove)


# The parts of a month's exports, each written on its own (by a worker, when there are several
# months), in the order of the month's files; the heaviest at a province's size (the workbook,
# then the receipts of big files) are handed out first.
EXPORT_PARTS = {"briefing": _write_briefing_part, "workbook": _write_workbook_part, "receipts": _write_receipts_part}
HEAVIEST_FIRST = ("workbook", "receipts", "briefing")
PART_TITLES = {"briefing": "简报", "workbook": "分析用Excel工作簿", "receipts": "回执"}


def write_month_exports(settings: Settings, conn: duckdb.DuckDBPyConnection, stage_dir: Path, period: str,
                        parts: tuple[str, ...] = tuple(EXPORT_PARTS)) -> MonthExports:
    """A month's briefing (Markdown, HTML, PDF), analysts' workbook and receipts (or the `parts`
    named), into `stage_dir`."""
    done = MonthExports(period)
    for part in parts:
        written = EXPORT_PARTS[part](settings, conn, stage_dir, period)
        written.sha256 = {name: file_sha256(stage_dir / name) for name in written.files + written.receipts}
        done = done + written
    return done


def export_workers(months: int) -> int:
    """How many processes write `months` months: one (this process) for a single month (a worker's
    start-up, 3.7–4.3 s of imports measured here, is more than the sample's month of exports, and
    at a province's size the parts of one month would keep at most three busy) or on a single
    core; else one per core the run may use, up to `workers.MAX_WORKERS`."""
    from .workers import MAX_WORKERS, usable_cores

    return 1 if months < 2 else max(1, min(usable_cores(), MAX_WORKERS))


def ahead_export_workers(months: list[str]) -> int:
    """How many export workers a run of `months` starts when its files are read, so that their
    start-up (the imports of the writers, Typst's fonts: a second or two) is over by its
    exports step: as many as `export_workers` gives for several months; none for a single month
    (written in the run's own process: its parts side by side in two workers were no faster at a
    province's size, where its workbook alone is most of its time)."""
    workers = export_workers(len(months))
    return workers if workers > 1 else 0


def start_export_workers(workers: int):
    """A `workers.Pool` of `workers` export workers (`export_parts`), each getting ready
    (`warm_exports`) until it is given its months."""
    from .workers import Pool

    return Pool("shouyang_pipeline.pipeline:export_parts", workers, name="导出进程",
                warm="shouyang_pipeline.pipeline:warm_exports")


def warm_exports() -> None:
    """What an export worker loads before its first part: the writers and, when this machine can
    make PDFs, Typst's compiler with the fonts it found."""
    from .exports import briefing, receipts, workbook  # noqa: F401
    from .exports.pdf import _compiler, pdf_unavailable

    if pdf_unavailable() is None:
        try:
            _compiler()
        except Exception:  # noqa: BLE001 - said by write_pdf, as the PDF's reason, when a month asks for it
            pass


def _read_only_digests(work: Path, periods: list[str]) -> dict[str, str]:
    """`month_digests` of `periods`, the work file opened read-only (beside the export workers,
    which open it so too)."""
    from .warehouse.digests import month_digests

    with open_work_read_only(work, "运行进程") as conn:
        return month_digests(conn, periods)


@contextmanager
def open_work_read_only(work: Path, who: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The run's work file opened read-only by `who` (an export worker, the run's process beside
    them), within the run's memory limit; a file that cannot be opened so is a `SetupError` in Chinese."""
    from .warehouse.connection import MEMORY_LIMIT

    with ExitStack() as stack:
        try:
            conn = stack.enter_context(connect(work, read_only=True))
        except duckdb.Error as exc:
            raise SetupError(f"{who}无法以只读方式打开本次运行的工作副本 {work}（{str(exc).splitlines()[0]}）："
                             "请确认没有其他程序打开了它（分析请打开已发布的数据仓库），然后重新运行。") from None
        # set here, not as the connection's config: DuckDB refuses a second reader of a file in one
        # process whose config differs from the first's, and the readers elsewhere set none
        conn.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        yield conn


def write_months_in_workers(settings: Settings, work: Path, stage_dir: Path, months: list[str],
                            workers: int, pool=None, meanwhile=None) -> list[MonthExports]:
    """`write_month_exports` of `months` in `workers` worker processes (`workers.Pool` running
    `export_parts`; `pool`, when given, is such a pool not yet begun, started ahead: it is used
    instead, and closed), each opening the work file read-only. Each part of a month (`EXPORT_PARTS`)
    goes to whichever worker is free, the heaviest first. Returns the months in their order, as
    one process would have written them; a part that failed fails the step with the worker's
    traceback, as it would in this process (the months in order, each line starting with the
    month and the part: `2023-05的分析用Excel工作簿未能写出：OSError: …`). The caller holds no
    connection to the work file (DuckDB lets readers of other processes open it only then).
    `meanwhile()`, when given, is done in this process while the workers write."""
    from .workers import PoolFailed

    items = [(period, part) for part in HEAVIEST_FIRST for period in months]
    job = {"settings": settings, "work": work, "stage_dir": stage_dir}
    with pool or start_export_workers(workers) as pool:
        try:
            pool.begin(job, items, describe=lambda item: f"{item[0]}的{PART_TITLES[item[1]]}未能写出")
            if meanwhile is not None:
                meanwhile()
            results = pool.results()
        except PoolFailed as failed:  # a set-up problem (the work file unreadable) is said as itself
            if (error := failed.first_error(SetupError)) is not None:
                raise error from failed
            raise
    done = []
    for period in months:
        month = MonthExports(period)
        for part in EXPORT_PARTS:
            month = month + results[(period, part)]
        done.append(month)
    return done


@contextmanager
def export_parts(job: dict):
    """An export worker (`write_months_in_workers`): the work file opened read-only, each item
    `(period, part)` written into the staging folder."""
    with ExitStack() as stack:
        conn = stack.enter_context(open_work_read_only(job["work"], "导出进程"))
        # one thread: the workers are at most one a core (`export_workers`) and a part's queries are a
        # small share of its time, so DuckDB's own threads would mostly take turns with the other
        # workers' on the same cores (measured within the noise: BENCHMARKS.md, What changed)
        conn.execute("SET threads = 1")
        yield lambda item: write_month_exports(job["settings"], conn, job["stage_dir"], item[0], (item[1],))


def _exports_current(export_dir: Path, entry: dict | None, digest: str, period: str) -> bool:
    """The month's published exports were written from these very inputs and are all still there,
    its PDF included unless this machine still cannot make one (asked only then: it looks for the fonts)."""
    from .exports.pdf import pdf_unavailable

    if entry is None or entry["digest"] != digest or not _exports_intact(export_dir, entry):
        return False
    return f"briefing_{period}.pdf" in entry["files"] or pdf_unavailable() is not None


def _exports_intact(export_dir: Path, entry: dict) -> bool:
    """Every file a month's exports were written as is there with the content it was written with
    (a file edited, emptied or replaced by hand is written again)."""
    return bool(entry["files"]) and all(_published_as(export_dir, name, sha) for name, sha in entry["files"].items())


def _published_as(export_dir: Path, name: str, sha: str | None) -> bool:
    """Whether the export dir holds `name` with the content of this sha256 (the one recorded when
    it was written): a file edited, emptied or replaced by hand since does not."""
    return sha is not None and file_sha256(export_dir / name) == sha


def publish(settings: Settings, work: Path, run_id: str):
    """The warehouse and the exports staged in run `run_id`, published in one step."""
    from .warehouse.publish import publish_run

    done = publish_run(work, settings.warehouse, settings.export_dir, run_id)
    if done.stage_found:  # else the months keep waiting for their exports: the next run writes them
        clear_unpublished(settings)
    return done


# ------------------------------------------------------------------ the departments' receipts (回执)
# WAREHOUSE.md, "For the departments that send the files". The exports room writes a receipt from
# plain data (`exports.receipts`); the file's cells come from here, read again from the archived
# copy with the ingest readers, exactly as the run read them.

RECEIPTS_DIR = "receipts"


def stage_receipts(settings: Settings, conn: duckdb.DuckDBPyConnection, stage, months: list[str]) -> list[Path]:
    """Stage the receipts of `months` (`month_receipts`); returns where the staged receipts will be
    once published."""
    written: list[Path] = []
    for period in months:
        names, remove = month_receipts(settings, conn, stage.dir, period)
        written += stage.add([stage.dir / n for n in names])
        for name in remove:
            stage.remove(name)
    return written


def month_receipts(settings: Settings, conn: duckdb.DuckDBPyConnection, stage_dir: Path,
                   period: str) -> tuple[list[str], list[str]]:
    """Write `receipts/<period>/<file>__回执.xlsx` into `stage_dir` for every current file of the
    month that was rejected, has rejected rows, cell warnings or unexplained cross-period flags (a
    file of a dataset's folder rejected for its name, as a month its dataset does not report, in
    the period its name gives: `exports.receipts.period_files`). Returns the names written
    (relative to `stage_dir`) and the month's other published receipts (a file corrected, removed,
    or now clean), to delete at the publish."""
    from .exports.receipts import SUFFIX, build_receipt, period_files, receipt_names, write_receipt

    records = [r for r in period_files(conn, period) if r.needs_receipt]
    names = receipt_names(records)
    folder = stage_dir / RECEIPTS_DIR / period
    written = []
    for record in records:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / names[record.file_path]
        with collector_paused(collect_after=True):  # a receipt at a time: a month may need many
            receipt = None
            try:
                receipt = receipt_of(settings, record)
                write_receipt(receipt, target)
            except Exception as exc:  # noqa: BLE001 - their cells must not stop the county's exports
                logging.getLogger(__name__).exception("写%s的回执时程序出错，该回执只列出问题", record.file_path)
                note = f"原表未能写入本回执（{type(exc).__name__}），本回执只列出问题"
                write_receipt(replace(receipt, data=None, notes=[*receipt.notes, note]) if receipt is not None
                              else build_receipt(record, None, None, notes=[note]), target)
            finally:  # their rows freed now, not walked by the collection on leaving (a million objects a big file)
                receipt = None
        written.append(f"{RECEIPTS_DIR}/{period}/{names[record.file_path]}")
    remove = []
    published = settings.export_dir / RECEIPTS_DIR / period
    if published.is_dir():
        for old in sorted(published.iterdir()):
            if (old.name.endswith(SUFFIX) and not old.name.startswith(".") and "\\" not in old.name
                    and old.name not in names.values() and old.is_file()):
                remove.append(f"{RECEIPTS_DIR}/{period}/{old.name}")
    return written, remove


def published_receipts(settings: Settings) -> list[Path]:
    """The receipts in the export dir, by period and name."""
    from .exports import RECEIPT_SUFFIX

    return sorted(p for p in (settings.export_dir / RECEIPTS_DIR).glob(f"*/*{RECEIPT_SUFFIX}")
                  if p.is_file() and not p.name.startswith("."))


def _archived_bytes(settings: Settings, record) -> bytes | None:
    """The version of the file the run read: its archived copy, else the raw file if it is still
    that version (the same sha256)."""
    import hashlib

    if record.sha256:
        path = archived_path(record.sha256, Path(record.file_name).suffix.lower(), settings.archive_dir)
        if path.is_file():
            return path.read_bytes()
    raw = settings.raw_dir / record.file_path
    try:
        if raw.is_symlink() or not raw.is_file():
            return None
        data = raw.read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == record.sha256 else None


def receipt_sheet(layout, suffix: str, file_name: str):
    """(DataSheet, FileColumns, note) of the sheet a file's layout was found in: every cell at its
    own row and column (a Grid's rows start at column A and row 1), the cells a merge fills left
    empty and the merge kept as a range. No DataSheet, and a note saying so, when the file is too
    large to copy."""
    from .exports.receipts import MAX_DATA_CELLS, DataSheet, FileColumns

    grid = layout.grid
    cells = sum(map(len, (c for _, c in grid.rows)))
    where = FileColumns({cm.field.name: (cm.index + 1, cm.header) for cm in layout.columns})
    if cells > MAX_DATA_CELLS:
        return None, where, f"原表有{cells:,}个单元格，过大，本回执未附原表；问题清单已列出每个单元格"
    # (no row is wider than Excel's columns: a file's are at most xlsx_limits.MAX_COLUMNS)
    copies = grid.merge_copies_by_row()
    # (a CSV, and most sheets, have no merge: the grid's rows as they are, not walked again)
    rows = [(n, [None if j in copies[n] else v for j, v in enumerate(values)]) if n in copies else (n, values)
            for n, values in grid.rows] if copies else list(grid.rows)
    header_number, header = grid.rows[layout.header_row]
    used = [j + 1 for j, v in enumerate(header) if v is not None and str(v).strip()]
    span = (min(used), max(used)) if used else (1, max((len(c) for _, c in grid.rows), default=1))
    stem = file_name[: len(file_name) - len(suffix)] if suffix else file_name
    sheet = DataSheet(
        title=grid.sheet or stem, rows=rows, first_column=1,
        merges=[(r0 + 1, c0 + 1, r1 + 1, c1 + 1) for (r0, c0), (r1, c1) in grid.merges],
        percent_cells={(r, c + 1) for r, c in grid.percent_cells}, header_row=header_number, span=span,
        is_csv=suffix == ".csv")
    return sheet, where, None


def receipt_of(settings: Settings, record):
    """The receipt of one file of the audit log (`exports.receipts.FileRecord`)."""
    from .catalog.datasets import DATASETS
    from .exports.receipts import build_receipt
    from .ingest.layout import find_layout
    from .ingest.read import read_grids

    if record.whole_file:
        return build_receipt(record, None, None)
    notes: list[str] = []
    sheet = where = None
    data = _archived_bytes(settings, record)
    suffix = Path(record.file_name).suffix.lower()
    if data is None:
        notes.append("原文件的存档副本已不可得，本回执未附原表")
    else:
        try:
            layout = find_layout(read_grids(data, suffix), DATASETS[record.dataset])
            sheet, where, note = receipt_sheet(layout, suffix, record.file_name)
            if note:
                notes.append(note)
        except Exception as exc:  # noqa: BLE001 - the problem list stands without the copy
            notes.append(f"原表未能重新读取（{exc}），本回执未附原表")
    return build_receipt(record, sheet, where, notes=notes)


# ------------------------------------------------------------------ a clerk's check before sending


# What a clerk reads for each status of their file.
CHECK_STATUS = {"loaded": "可以入库", "partial": "部分行不能入库", "rejected": "整个文件不能入库"}


@dataclass
class FileCheck:
    """What `shouyang check` tells a clerk about their file, in Chinese and about that file only."""

    status: str  # loaded, partial or rejected, as a run would record it
    message: str  # the file's state: rows, cells to look at, totals, columns passed over
    rejected: "pd.DataFrame | None" = None  # the cells of the rows that would not load
    warnings: "pd.DataFrame | None" = None  # the cells to look at in rows that would load
    totals: str | None = None  # "mismatch", "unchecked" (a totals row, nothing compared) or None
    # For the receipt (`check_receipt`): the file as judged, what was read, the figures that do
    # not fit the previous period the published warehouse holds (unexplained), and how they were compared.
    path: Path | None = None  # the file checked
    file_path: str | None = None  # where a run would read it: <dataset>/<period>[__<submitter>].<ext>
    dataset: str | None = None
    period: str | None = None
    counts: tuple[int, int, int] = (0, 0, 0)  # rows read, would load, would be rejected
    layout: object | None = None  # ingest.layout.Layout of the sheet read, when it was read
    flags: "pd.DataFrame | None" = None  # rows shaped as audit.cross_period_flags
    flags_note: str | None = None
    misnamed: bool = False  # rejected for its name alone (never read)
    skipped: dict[str, int] = field(default_factory=dict)  # rows not read as data, by kind (ROW_KINDS)

    @property
    def status_text(self) -> str:
        """`可以入库，但合计行与明细不符`: the status, and what else the clerk should look at."""
        also = []
        if self.warnings is not None and not self.warnings.empty:
            also.append(f"{len(self.warnings)}个单元格需要留意")
        also += {"mismatch": ["合计行与明细不符"], "unchecked": ["合计行未能核对"]}.get(self.totals or "", [])
        if not also or self.status == "rejected":
            return CHECK_STATUS[self.status]
        return CHECK_STATUS[self.status] + ("，但" if self.status == "loaded" else "，且") + "、".join(also)


def _dataset_choices() -> str:
    from .catalog.datasets import DATASETS

    return "、".join(f"{name}（{d.title}）" for name, d in DATASETS.items())


def _period_problem(dataset: str, period: str, now: str | None = None) -> str | None:
    """Why `dataset` cannot be reported for `period` (out of range, not its cadence), or None;
    `now` is the current period (`Settings.now()`), the machine's month by default."""
    from .catalog.datasets import DATASETS

    now = now or current_period()
    if period < FIRST_PERIOD:
        return f"报告期{period}早于{FIRST_PERIOD}，不予接受"
    if period > now:
        return f"报告期{period}晚于当前月份{now}，不能报送未来的数据"
    ds = DATASETS[dataset]
    if not ds.accepts_period(int(period[5:7])):
        return f"{ds.title}按季度报送，报告期只能是3、6、9、12月，不能是{period}"
    return None


def check_file(settings: Settings, path: Path, dataset: str | None, period: str | None) -> FileCheck:
    """Judge one file exactly as a run would, as if it lay at <dataset>/<period>.<suffix> under
    the raw dir, without loading or archiving anything.

    Raises SetupError (nothing checked) for what the clerk typed: a file that is not there, a
    dataset or period that cannot be told or that an option gives wrongly. What is wrong with
    the file itself, its name included, is a rejected FileCheck."""
    from .catalog.datasets import DATASETS
    from .ingest.discover import NAMING_HINT, PERIOD_RE, classify_as
    from .ingest.period import CLERK, file_message

    if not path.exists():
        raise SetupError(f"找不到要检查的文件：{path}。请检查文件名和所在文件夹（文件名中有空格时请加引号）")
    if path.is_dir():
        raise SetupError(f"{path} 是一个文件夹：请指定要检查的表格文件（.xlsx 或 .csv）")
    now = settings.current_period()  # (as a run judges a file's month)
    if dataset is None:
        # the folder it lies in, also for a bare name typed inside that folder (`check 2023-02.xlsx`)
        folder = path.absolute().parent.name
        if folder not in DATASETS:
            raise SetupError(f"无法判断“{path.name}”是哪一种报表（它不在以数据集命名的文件夹中）："
                             f"请用 --dataset 指定，可选：{_dataset_choices()}")
        dataset = folder
    name, suffix = path.name, path.suffix
    stem = name[:len(name) - len(suffix)]
    if period is not None:
        if problem := _period_problem(dataset, period, now):
            raise SetupError(f"--period {period}：{problem}")
        submitter = stem.partition("__")[2]
        name = f"{period}{'__' + submitter if submitter else ''}{suffix}"
    else:
        from_name = stem.partition("__")[0]
        if meant := full_width_month(from_name):  # (a run rejects this name: the check says so, not "use --period")
            from_name = meant
        elif not PERIOD_RE.match(from_name) or not 1 <= int(from_name[5:7]) <= 12:
            raise SetupError(f"无法从文件名“{path.name}”判断报告期（文件名应以YYYY-MM开头，如2023-02.xlsx"
                             f"{full_width_hint(from_name)}）：请用 --period 指定，如 --period 2023-02")
        if problem := _period_problem(dataset, from_name, now):
            return FileCheck("rejected", f"文件名中的{problem}（如文件名有误，也可用 --period 指定报告期）",
                             path=path, file_path=f"{dataset}/{name}", dataset=dataset, period=from_name,
                             misnamed=True)
        period = from_name
    raw = classify_as(path, f"{dataset}/{name}", now)
    where = dict(path=path, file_path=f"{dataset}/{name}", dataset=dataset, period=period)
    if raw.naming_problem:
        return FileCheck("rejected", raw.naming_problem.removesuffix(f"{NAMING_MARK}{NAMING_HINT}"), **where,
                         misnamed=True)
    reference = Reference.load(settings.reference_dir)
    # Nothing is archived or written: a clerk's check leaves no trace (a 3 GB file is not copied).
    result = ingest_period(settings, raw.dataset, raw.period, reference, files=[raw], archive=False)
    (outcome,) = result.files
    log = result.log.iloc[0]
    totals = None
    if log.totals_check == "mismatch":
        totals = "mismatch"
    elif outcome.parsed and log.rows_totals and not isinstance(log.totals_check, str) and any(
            cm.field.kind == "money" for cm in outcome.parsed.layout.columns):
        totals = "unchecked"
    flags, flags_note = _check_flags(settings, result, raw, reference)
    return FileCheck(str(log.status), file_message(outcome, CLERK), result.rejected, result.warnings, totals,
                     counts=(int(log.rows_read), int(log.rows_loaded), int(log.rows_rejected)),
                     layout=outcome.parsed.layout if outcome.parsed and (not outcome.rejection or outcome.all_rows_rejected) else None,
                     flags=flags, flags_note=flags_note,
                     skipped={kind: int(log[f"rows_{kind}"] or 0) for kind in ROW_KINDS}, **where)


def _check_flags(settings: Settings, result, raw: RawFile, reference: Reference) -> tuple["pd.DataFrame | None", str | None]:
    """The unexplained figures of a checked file that do not fit the previous period (SUBMISSIONS.md 8),
    as a run would flag them: the published warehouse's previous period of the same year (its rows
    from the same sender and their files' ingest-log rows, which say who sent them), read-only, and
    this file's rows and ingest-log row, put together in a database in memory.
    (None, why not) when there is nothing to compare with."""
    from .catalog.tables import AUDIT
    from .exports.receipts import sender_key
    from .marts.flags import compute_flags

    table = STAGING[raw.dataset]
    published = settings.warehouse
    if not published.is_file():
        return None, "还没有已发布的数据仓库，未与上期数字比较"
    mine = sender_key(reference.expected_submitter(raw.dataset, raw.submitter), raw.submitter)
    columns = ", ".join(f'"{c}"' for c in table.column_names)
    mem = duckdb.connect(":memory:")
    try:
        ensure_tables(mem)
        try:
            quoted = str(published.resolve()).replace("'", "''")
            mem.execute(f"ATTACH '{quoted}' AS published (READ_ONLY)")
            try:
                (previous,) = mem.execute(
                    f'SELECT max(period) FROM published."staging"."{raw.dataset}" WHERE period < ? AND left(period, 4) = ?',
                    [raw.period, raw.period[:4]]).fetchone()
                if previous is None:
                    return None, f"已发布的数据仓库中没有{raw.period[:4]}年更早的报告期，未与上期数字比较"
                files = [f for (f,) in mem.execute(
                    f'SELECT DISTINCT source_file FROM published."staging"."{raw.dataset}" WHERE period = ?',
                    [previous]).fetchall()]
                theirs = [f for f in files if _sender_of(f, raw.dataset, reference) == mine]
                mem.execute(f'INSERT INTO {table.qualified} ({columns}) SELECT {columns} FROM published."staging"."{raw.dataset}" '
                            "WHERE period = ? AND source_file IN (SELECT unnest(?))", [previous, theirs])
                # their files' ingest-log rows too: a missing key is flagged by who sent the previous row
                log_columns = ", ".join(f'"{c}"' for c in AUDIT["ingest_log"].column_names)
                mem.execute(f'INSERT INTO {AUDIT["ingest_log"].qualified} ({log_columns}) SELECT {log_columns} '
                            'FROM published."audit"."ingest_log" '
                            "WHERE is_current AND period = ? AND file_path IN (SELECT unnest(?))", [previous, theirs])
            finally:
                mem.execute("DETACH published")
        except duckdb.Error as exc:
            return None, f"无法读取已发布的数据仓库（{str(exc).splitlines()[0][:120]}），未与上期数字比较"
        load_period(mem, result)
        flags = compute_flags(mem, [raw.period])
    finally:
        mem.close()
    return flags[~flags["explained"].astype(bool)].reset_index(drop=True), f"已与已发布数据仓库中的上期（{previous}）数字比较"


def _sender_of(source_file: str, dataset: str, reference: Reference) -> str:
    from .exports.receipts import sender_key

    name = source_file.rsplit("/", 1)[-1]
    submitter = name.rsplit(".", 1)[0].partition("__")[2] or None
    return sender_key(reference.expected_submitter(dataset, submitter), submitter)


def check_receipt(result: FileCheck):
    """The receipt of a checked file (`exports.receipts.Receipt`), as a run would write it once
    the file is sent: the same problem list, their data with the same marks."""
    from .exports.receipts import FileRecord, build_receipt

    def records(frame) -> list[dict]:
        if frame is None or frame.empty:
            return []
        frame = frame.astype(object).where(frame.notna(), None)
        return frame.to_dict("records")

    flags = records(result.flags)
    record = FileRecord(
        file_path=result.file_path or (result.path.name if result.path else ""), dataset=result.dataset or "",
        period=result.period or "", status=result.status, rows_read=result.counts[0], rows_loaded=result.counts[1],
        rows_rejected=result.counts[2], message=result.message, rejected=records(result.rejected),
        warnings=records(result.warnings), flags=flags, name=result.path.name if result.path else None,
        partition_key=None if result.misnamed else f"{result.dataset}/{result.period}", misnamed=result.misnamed)
    sheet = where = None
    notes = [result.flags_note] if result.flags_note else []
    if not record.whole_file and result.layout is not None:
        sheet, where, note = receipt_sheet(result.layout, result.path.suffix.lower(), result.path.name)
        if note:
            notes.append(note)
    return build_receipt(record, sheet, where, notes=notes, checked_at=datetime.now(BEIJING).replace(tzinfo=None))


# ------------------------------------------------------------------ the summary a person reads

SKIPPED_KINDS = {kind: name for kind, (name, _) in ROW_KINDS.items()}


@dataclass(frozen=True)
class RunSummary(queries.FileSummary):
    """The file summary, plus the figures that do not fit the previous period and the lines of
    the register (收文登记.csv) that could not be read."""

    flags: int = 0  # rows of audit.cross_period_flags
    flags_unexplained: int = 0  # of which no 备注 explains
    unexplained_periods: tuple[str, ...] = ()  # the periods of those
    register_problems: tuple[str, ...] = ()  # Chinese lines, as `ingest.register` words them
    receipts: tuple[str, ...] = ()  # the departments' receipts in the export dir (receipts/<period>/…)
    # the latest period's targets: (period, target name, status, detail), the run's headline figures
    scorecard: tuple[tuple[str, str, str, str], ...] = ()


def run_summary(settings: Settings) -> RunSummary | None:
    """Files and rows by status, the files not wholly loaded, and each file's non-data rows, from
    the published warehouse (None when there is none yet); the flags in it still unexplained;
    what of the raw dir's register could not be read; the receipts published for the departments."""
    if not settings.warehouse.exists():
        return None
    with connect(settings.warehouse, read_only=True) as conn:
        files = queries.file_summary(conn, tuple(SKIPPED_KINDS))
        try:
            unexplained = flag_summary(conn).unexplained
            flags = queries.count_rows(conn, FLAGS_TABLE)
        except duckdb.CatalogException:  # a warehouse published before the table existed
            unexplained, flags = None, 0
        scorecard = queries.latest_scorecard(conn)
    return RunSummary(
        **{f.name: getattr(files, f.name) for f in fields(queries.FileSummary)},
        flags=flags,
        flags_unexplained=0 if unexplained is None else len(unexplained),
        unexplained_periods=() if unexplained is None else tuple(sorted(set(unexplained["period"]))),
        register_problems=tuple(read_register(settings.raw_dir).problems),
        receipts=tuple(p.relative_to(settings.export_dir).as_posix() for p in published_receipts(settings)),
        scorecard=scorecard,
    )


def published_files(settings: Settings) -> dict[str, queries.FileVersion] | None:
    """The published warehouse's current file versions; None when there is no published
    warehouse yet (or it cannot be read: then nothing is said of what a run changed)."""
    if not settings.warehouse.exists():
        return None
    try:
        with connect(settings.warehouse, read_only=True) as conn:
            return queries.file_versions(conn)
    except duckdb.Error:
        return None


@dataclass(frozen=True)
class VersionChanges:
    """What a run changed among the current files: sent for the first time, sent again with
    other contents, the same contents judged otherwise (a reference list or the program changed),
    and taken out (no longer in the raw dir)."""

    new: tuple[tuple[str, queries.FileVersion], ...]
    resent: tuple[tuple[str, queries.FileVersion], ...]
    rejudged: tuple[tuple[str, queries.FileVersion, queries.FileVersion], ...]  # (path, before, after)
    removed: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.new or self.resent or self.rejudged or self.removed)


def version_changes(before: dict[str, queries.FileVersion],
                    after: dict[str, queries.FileVersion]) -> VersionChanges:
    """The current files' changes between two states of the published warehouse."""
    return VersionChanges(
        new=tuple((p, v) for p, v in after.items() if p not in before),
        resent=tuple((p, v) for p, v in after.items() if p in before and before[p].sha256 != v.sha256),
        rejudged=tuple((p, before[p], v) for p, v in after.items()
                       if p in before and before[p].sha256 == v.sha256 and before[p] != v),
        removed=tuple(p for p in before if p not in after),
    )


# ------------------------------------------------------------------ who has not reported (shouyang status)

@dataclass(frozen=True)
class Submission:
    """One row of marts.submission_status, in Python values."""

    period: str
    dataset_title: str
    submitter: str | None
    department: str | None
    due_date: date | None
    status: str
    file_path: str | None
    first_received_at: datetime | None
    is_late: bool | None
    rows_loaded: int
    rows_rejected: int
    open_flags: int

    @property
    def who(self) -> str:
        return self.department or self.submitter or "（文件名未写报送单位）"

    @property
    def due(self) -> str:
        return f"{self.due_date:%Y-%m-%d}" if self.due_date else "—"


def _submissions(frame) -> list[Submission]:
    import pandas as pd

    def value(v):
        return None if v is None or v is pd.NaT or (not isinstance(v, (list, str)) and pd.isna(v)) else v

    out = []
    for r in frame.to_dict("records"):
        r = {k: value(v) for k, v in r.items()}
        out.append(Submission(
            period=r["period"], dataset_title=r["dataset_title"] or r["dataset"], submitter=r["submitter"],
            department=r["department"], due_date=r["due_date"].date() if r["due_date"] else None,
            status=r["status"], file_path=r["file_path"],
            first_received_at=r["first_received_at"].to_pydatetime() if r["first_received_at"] else None,
            is_late=None if r["is_late"] is None else bool(r["is_late"]),
            rows_loaded=int(r["rows_loaded"] or 0), rows_rejected=int(r["rows_rejected"] or 0),
            open_flags=int(r["open_flags"] or 0)))
    return out


def rejudged(row: Submission, now: datetime) -> Submission:
    """未到期 or 逾期未报 at `now`: overdue once the due day has ended (Beijing time)."""
    if row.status not in (NOT_YET_DUE, OVERDUE) or row.due_date is None:
        return row
    overdue = now >= datetime.combine(row.due_date + timedelta(days=1), datetime.min.time())
    return replace(row, status=OVERDUE if overdue else NOT_YET_DUE)


def _month_after(period: str) -> datetime:
    year, month = int(period[:4]), int(period[5:7])
    return datetime(year + month // 12, month % 12 + 1, 1)




def read_submission_status(settings: Settings, period: str, now: datetime, *, readonly_hint: str = "") -> tuple[list[Submission], datetime]:
    """marts.submission_status as its SQL computes it at `now` from the published warehouse
    (opened read-only: a run is never blocked), the asked period's rows included even when the
    warehouse holds no file of it; and when the warehouse was published (the last run). While an
    analyst's read-write session keeps a committed run from replacing the published file, the
    committed warehouse is read (`pending_or_published`)."""
    path = pending_or_published(settings)
    if not path.exists():
        raise SetupError(f"数据仓库 {path} 还不存在：请先运行 shouyang run（或 make run）读入报送文件，再查看报送情况。")
    if not path.is_file():
        raise SetupError(f"数据仓库的位置 {path} 不是一个文件：请用环境变量 SHOUYANG_WAREHOUSE 指向数据仓库文件。")
    published = datetime.fromtimestamp(path.stat().st_mtime, BEIJING).replace(tzinfo=None, microsecond=0)
    try:
        with connect(path, read_only=True) as conn:
            rows = _submissions(mart_rows_at(conn, "submission_status", now))
            if not any(r.period == period for r in rows):
                # no file of that period and not the period now due: its calendar as if it were due now
                rows += [r for r in _submissions(mart_rows_at(conn, "submission_status", _month_after(period)))
                         if r.period == period]
    except duckdb.CatalogException:
        raise SetupError(f"数据仓库 {path} 是旧版本，还没有报送日历：请先运行 shouyang run（或 make run）。") from None
    except duckdb.Error as exc:
        raise SetupError(f"无法读取数据仓库 {path}（{str(exc).splitlines()[0]}）：若有人以读写方式打开了它，"
                         f"请关闭后改用只读方式打开（{readonly_hint}）。") from None
    return [rejudged(r, now) for r in rows], published
