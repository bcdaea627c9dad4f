"""Find submissions under the raw dir and check each against the file layout of SUBMISSIONS.md 1."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ..datasets import DATASETS

PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_PERIOD = "2020-01"
ACCEPTED_SUFFIXES = (".csv", ".xlsx")
LAYOUT_HINT = "<数据集>/<报告期YYYY-MM>[__<报送单位>].xlsx 或 .csv，数据集为 " + "、".join(DATASETS)


def current_period(now: datetime | None = None) -> str:
    now = now or datetime.now(ZoneInfo("Asia/Shanghai"))
    return f"{now.year:04d}-{now.month:02d}"


@dataclass(frozen=True)
class RawFile:
    """One file found under the raw dir, with what its path says (or what is wrong with it)."""

    path: Path  # absolute or cwd-relative path on disk
    rel_path: str  # relative to the raw dir, with forward slashes
    dataset: str | None
    period: str | None
    submitter: str | None
    suffix: str
    problem: str | None  # Chinese; None when the layout is right
    placed: bool = True  # False when no partition can hold it (unknown folder, bad or out-of-range period)

    @property
    def partition(self) -> tuple[str, str] | None:
        """(dataset, period) of the partition whose run reads (or rejects) this file."""
        if self.placed and self.dataset and self.period:
            return self.dataset, self.period
        return None

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()


def _is_ignored(name: str) -> bool:
    return name.startswith(".") or name.startswith("~$")


def classify(raw_dir: Path, path: Path, now_period: str | None = None) -> RawFile:
    """What the path of one file under raw_dir says: dataset, period, submitter, or the layout problem."""
    return classify_as(path, path.relative_to(raw_dir).as_posix(), now_period)


def classify_as(path: Path, rel: str, now_period: str | None = None) -> RawFile:
    """Classify the file at `path` as if it lay at `rel` under the raw dir (`shouyang check`)."""
    now_period = now_period or current_period()
    parts = rel.split("/")
    name = parts[-1]
    suffix = Path(name).suffix.lower()
    stem = name[: len(name) - len(suffix)] if suffix else name
    period_text, _, submitter = stem.partition("__")
    dataset = parts[0] if len(parts) == 2 and parts[0] in DATASETS else None
    period = period_text if PERIOD_RE.match(period_text) else None
    base = dict(path=path, rel_path=rel, dataset=dataset, period=period,
                submitter=submitter.strip() or None, suffix=suffix)

    # A file is placed in the partition (dataset, period) when both exist: its run logs it.
    # Anything else (including a month the dataset's cadence has no partition for) is unplaced.
    placeable = (dataset is not None and period is not None and 1 <= int(period[5:7]) <= 12
                 and FIRST_PERIOD <= period <= now_period and DATASETS[dataset].accepts_period(int(period[5:7])))

    def reject(msg: str, placed: bool = True) -> RawFile:
        return RawFile(**base, problem=f"{msg}。文件应放在：{LAYOUT_HINT}", placed=placed and placeable)

    if path.is_symlink():
        return reject("文件是符号链接，出于安全考虑不读取，请放入文件本身")
    if len(parts) != 2:
        where = "原始数据目录根下" if len(parts) == 1 else "多层子目录中"
        return reject(f"文件位于{where}，无法判断属于哪个数据集", placed=False)
    if parts[0] not in DATASETS:
        return reject(f"目录“{parts[0]}”不是已知的数据集", placed=False)
    if suffix == ".xls":
        return reject("不接受旧版Excel（.xls）文件，请另存为.xlsx")
    if suffix not in ACCEPTED_SUFFIXES:
        return reject(f"不接受“{suffix or '无扩展名'}”格式的文件，只接受.xlsx或.csv")
    if period is None:
        return reject(f"文件名“{name}”中的报告期无法识别，应以YYYY-MM开头，如2023-02", placed=False)
    month = int(period[5:7])
    if not 1 <= month <= 12:
        return reject(f"文件名中的报告期“{period}”月份无效", placed=False)
    if period < FIRST_PERIOD:
        return reject(f"报告期{period}早于{FIRST_PERIOD}，不予接受", placed=False)
    if period > now_period:
        return reject(f"报告期{period}晚于当前月份{now_period}，不能报送未来的数据", placed=False)
    ds = DATASETS[parts[0]]
    if not ds.accepts_period(month):
        return reject(f"{ds.title}按季度报送，报告期只能是3、6、9、12月，不能是{period}", placed=False)
    return RawFile(**base, problem=None)


def discover(raw_dir: Path, now_period: str | None = None) -> list[RawFile]:
    """Every file under raw_dir except hidden and Excel lock files, sorted by path (code points)."""
    now_period = now_period or current_period()
    found: list[RawFile] = []
    if not raw_dir.exists():
        return found
    stack = [raw_dir]
    while stack:
        folder = stack.pop()
        for entry in sorted(folder.iterdir()):
            if _is_ignored(entry.name):
                continue
            if entry.is_dir() and not entry.is_symlink():
                stack.append(entry)
            elif entry.is_file() or entry.is_symlink():
                found.append(classify(raw_dir, entry, now_period))
    return sorted(found, key=lambda f: f.rel_path)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def archive(data: bytes, digest: str, suffix: str, archive_dir: Path) -> Path:
    """Keep a copy of this file version, named by its sha256; written once, never overwritten."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    target = archive_dir / f"{digest}{suffix}"
    if not target.exists():
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)
    return target
