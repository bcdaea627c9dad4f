"""Find submissions under the raw dir and check each against the file layout of SUBMISSIONS.md 1."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..catalog.datasets import DATASETS
from ..catalog.tables import FIRST_PERIOD, NAMING_MARK
from ..config import BEIJING, Settings
from ..errors import SetupError, os_reason
from .register import is_register

PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)  # not ２０２３-０８: int() reads those digits too
ACCEPTED_SUFFIXES = (".csv", ".xlsx")
# A file larger than this is archived (streamed) and rejected unread: the largest real
# submission is a few MB, and reading means holding it in memory several times over.
MAX_FILE_BYTES = 100 * 1024 * 1024
_ARCHIVE_SUFFIX = re.compile(r"^\.[a-z0-9]{1,10}$")
NAMING_HINT = "<数据集>/<报告期YYYY-MM>[__<报送单位>].xlsx 或 .csv，数据集为 " + "、".join(DATASETS)


def full_width_month(text: str) -> str | None:
    """The month `２０２３-０８` (typed in full-width characters) means, `2023-08`; None when the
    text is no such month (a month 13 included)."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if folded != text and PERIOD_RE.match(folded) and 1 <= int(folded[5:7]) <= 12:
        return folded
    return None


def full_width_hint(text: str) -> str:
    """`（“２０２３-０８”中有全角字符，应写作2023-08）` for a month typed in full-width
    characters, else nothing."""
    meant = full_width_month(text)
    return f"（“{text}”中有全角字符，应写作{meant}）" if meant else ""


def current_period(now: datetime | None = None) -> str:
    now = now or datetime.now(BEIJING)
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
    naming_problem: str | None  # Chinese; None when the path follows the naming rules
    placed: bool = True  # False when no dataset-period can hold it (unknown folder, bad or out-of-range period)
    kind: str = "file"  # "file", or "symlink", "hardlink", "special", "folder": never opened

    @property
    def dataset_period(self) -> tuple[str, str] | None:
        """(dataset, period) whose ingest reads (or rejects) this file; None when it fits none."""
        if self.placed and self.dataset and self.period:
            return self.dataset, self.period
        return None

    @property
    def unreadable(self) -> bool:
        """A link or a special file: never opened, so never archived (SUBMISSIONS.md 1)."""
        return self.kind != "file"


@dataclass(frozen=True)
class Taken:
    """One file version as the run took it: its sha256, its bytes when small enough to read, or why not."""

    digest: str | None
    data: bytes | None
    rejection: str | None = None  # why the file is rejected, Chinese


def take(raw: RawFile, archive_dir: Path | None, *, max_bytes: int = MAX_FILE_BYTES) -> Taken:
    """Hash and archive one file version (streaming), and read it when it is small enough.
    `archive_dir=None`: nothing is archived (a clerk's `shouyang check`).

    Links and special files are not opened. A file that cannot be read, is too large, or cannot
    be archived is a file-level problem of that file alone: the run goes on.
    """
    if raw.unreadable:
        return Taken(None, None, raw.naming_problem)
    try:
        size = raw.path.stat().st_size
        if size <= max_bytes:
            data = raw.path.read_bytes()
            digest = sha256_of(data)
        else:
            data = None
            with open(raw.path, "rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        return Taken(None, None, f"无法读取文件（{os_reason(exc)}），请检查文件权限后重新放入")
    try:
        if archive_dir is not None:
            archive(data if data is not None else raw.path, digest, raw.suffix, archive_dir)
    except OSError as exc:
        return Taken(digest, None, f"无法存档该文件（{os_reason(exc)}：{archive_dir}），"
                                   "为保证报送内容不丢失，本文件暂不入库；请联系管理员检查存档目录")
    if data is None:
        return Taken(digest, None, f"文件过大（{size / 1024 / 1024:.0f} MB，上限{max_bytes // 1024 // 1024} MB），"
                                   "未读取；请删除多余的工作表、图片或空白行列后重新保存报送")
    return Taken(digest, data)


def _is_ignored(name: str) -> bool:
    return name.startswith(".") or name.startswith("~$")


def display_path(rel: str) -> str:
    """A path as text that can be stored and printed: the bytes of a name that is not valid
    UTF-8 (written by an old Windows tool, say) as \\x escapes. Never the same text as a
    UTF-8 name: `2023-01__发改局.xlsx` in GBK bytes must not pass for the UTF-8 file beside it."""
    try:
        rel.encode("utf-8")
        return rel
    except UnicodeEncodeError:
        return os.fsencode(rel).decode("utf-8", errors="backslashreplace")


def gbk_reading(rel: str) -> str | None:
    """What a non-UTF-8 name says when read as GB18030 (what Chinese Windows writes), if it is that."""
    try:
        return os.fsencode(rel).decode("gb18030")
    except UnicodeDecodeError:
        return None


def link_kind(path: Path) -> str:
    """"file" for a regular file with one name; "symlink", "hardlink" or "special" otherwise."""
    try:
        st = path.lstat()
    except OSError:
        return "special"
    if stat.S_ISLNK(st.st_mode):
        return "symlink"
    if not stat.S_ISREG(st.st_mode):
        return "special"
    return "hardlink" if st.st_nlink > 1 else "file"


_UNREAD = {
    "symlink": "文件是符号链接，出于安全考虑不读取，请放入文件本身",
    "hardlink": "文件有多个硬链接（与其他位置的文件共用内容），出于安全考虑不读取，请放入文件本身的副本",
    "special": "这不是普通文件（可能是管道、设备或无法访问的条目），不读取，请放入文件本身",
    "folder": "这是一个文件夹，不是文件，不读取（其中的文件也不读取）：请放入文件本身",
}


def classify(raw_dir: Path, path: Path, now_period: str | None = None, *, kind: str | None = None) -> RawFile:
    """What the path of one file under raw_dir says: dataset, period, submitter, or the naming problem."""
    return classify_as(path, path.relative_to(raw_dir).as_posix(), now_period, kind=kind or link_kind(path))


def classify_as(path: Path, rel: str, now_period: str | None = None, *, kind: str | None = None) -> RawFile:
    """Classify the file at `path` as if it lay at `rel` under the raw dir (`shouyang check`)."""
    now_period = now_period or current_period()
    kind = kind or link_kind(path)
    shown = display_path(rel)
    bad_name = shown != rel
    reading = gbk_reading(rel) if bad_name else None
    rel = shown
    parts = rel.split("/")
    name = parts[-1]
    suffix = Path(name).suffix.lower()
    stem = name[: len(name) - len(suffix)] if suffix else name
    period_text, _, submitter = stem.partition("__")
    dataset = parts[0] if len(parts) == 2 and parts[0] in DATASETS else None
    # A month typed in full-width digits is no period a file is read for, but the month its
    # sender meant: the file is rejected in that dataset-period for its name, as a `.xls` is (the
    # sender's receipt, the calendar's 被退回 and the briefing are that month's).
    meant = month_named(rel)
    period = meant if meant == period_text else None
    base = dict(path=path, rel_path=rel, dataset=dataset, period=meant,
                submitter=submitter.strip() or None, suffix=suffix, kind=kind)

    # A file is placed in the dataset-period (dataset, period) when both exist: its ingest logs it.
    # Anything else (including a month the dataset's cadence does not report) is unplaced.
    placeable = (dataset is not None and meant is not None and 1 <= int(meant[5:7]) <= 12
                 and FIRST_PERIOD <= meant <= now_period and DATASETS[dataset].accepts_period(int(meant[5:7])))

    def reject(msg: str, placed: bool = True) -> RawFile:
        return RawFile(**base, naming_problem=f"{msg}{NAMING_MARK}{NAMING_HINT}", placed=placed and placeable)

    if kind != "file":
        return reject(_UNREAD[kind])
    if bad_name:
        read_as = f"（按GBK编码读作“{reading.rsplit('/', 1)[-1]}”）" if reading else ""
        return reject(f"文件名不是有效的UTF-8编码{read_as}，常见于从GBK系统的压缩包解出的文件，请重命名文件后重新放入")
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
        return reject(f"文件名“{name}”中的报告期无法识别，应以YYYY-MM开头，如2023-02{full_width_hint(period_text)}",
                      placed=meant is not None)
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
    return RawFile(**base, naming_problem=None)


def raw_files(settings: Settings) -> list[RawFile]:
    """The files of a run's raw dir, months judged at its clock (`Settings.current_period`)."""
    return discover(settings.raw_dir, settings.current_period())


def month_named(rel_path: str) -> str | None:
    """The month a raw file's name gives (`2023-08`, also when typed in full-width digits), as
    `classify_as` reads it; None when it gives none."""
    name = rel_path.rsplit("/", 1)[-1]
    suffix = Path(name).suffix
    period_text = (name[: len(name) - len(suffix)] if suffix else name).partition("__")[0]
    return period_text if PERIOD_RE.match(period_text) else full_width_month(period_text)


def discover(raw_dir: Path, now_period: str | None = None) -> list[RawFile]:
    """Every file under raw_dir except hidden and Excel lock files and the register of received
    files (`收文登记.csv` at its root, `register.is_register`), sorted by path (code points).

    A raw dir or a dataset's folder that is missing or cannot be listed is a set-up error: read
    as "no files", it would remove every period from the warehouse. A deeper folder (misplaced
    anyway) that cannot be listed, or an entry that cannot even be looked at (a path too long),
    is listed as a file that cannot be read, and the run goes on. So is a folder inside a
    dataset's folder whose name ends as a submission's (`.csv`, `.xlsx`, `.xls`): a clerk takes it
    for a file, and it must not pass in silence (its files are listed too, each misplaced).
    """
    now_period = now_period or current_period()
    check_raw_dir(raw_dir)
    found: list[RawFile] = []
    stack = [raw_dir]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError as exc:
            if folder == raw_dir or folder.parent == raw_dir:
                raise SetupError(f"无法读取原始数据目录中的文件夹 {folder}（{os_reason(exc)}）：请检查权限。"
                                 "本次运行未做任何改动。") from exc
            found.append(classify(raw_dir, folder, now_period, kind="special"))
            continue
        for entry in entries:
            if _is_ignored(entry.name) or (folder == raw_dir and is_register(entry.name)):
                continue  # the office's register of received files is not a submission
            try:
                is_folder = entry.is_dir() and not entry.is_symlink()
            except OSError:  # ENAMETOOLONG and the like: not even its type can be known
                found.append(classify(raw_dir, entry, now_period, kind="special"))
                continue
            if is_folder:
                stack.append(entry)  # (its files are listed, each as misplaced: `classify`)
                if folder != raw_dir and Path(entry.name).suffix.lower() in (*ACCEPTED_SUFFIXES, ".xls"):
                    found.append(classify(raw_dir, entry, now_period, kind="folder"))  # named as a file
            else:
                found.append(classify(raw_dir, entry, now_period))
    return sorted(found, key=lambda f: f.rel_path)


def check_raw_dir(raw_dir: Path) -> None:
    """Raise SetupError unless raw_dir is a folder this process can list."""
    hint = "请检查路径（相对路径从运行命令的目录算起），或设置环境变量 SHOUYANG_RAW_DIR / SHOUYANG_DATA_DIR。本次运行未做任何改动。"
    if not raw_dir.exists():
        raise SetupError(f"原始数据目录 {raw_dir} 不存在（当前目录：{Path.cwd()}）：{hint}")
    if not raw_dir.is_dir():
        raise SetupError(f"原始数据目录 {raw_dir} 不是文件夹：{hint}")
    if not os.access(raw_dir, os.R_OK | os.X_OK):
        raise SetupError(f"没有读取原始数据目录 {raw_dir} 的权限：{hint}")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str | None:
    """The sha256 of a file read streaming (any size), or None when it cannot be read; inside
    `hashes_remembered`, that of a file not changed since it was hashed there is not read again."""
    remembered = _remembered.get()
    try:
        with open(path, "rb") as fh:
            if remembered is None:
                return hashlib.file_digest(fh, "sha256").hexdigest()
            started = time.time_ns()
            before = _identity(os.fstat(fh.fileno()))
            known = remembered.get(str(path))
            if known is not None and known[0] == before:
                return known[1]
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
            after = os.fstat(fh.fileno())
            # Remembered only when not written to while it was read, and last written well before:
            # a file written again within its clock's tick keeps its times (git's "racily clean").
            if _identity(after) == before and started - max(after.st_mtime_ns, after.st_ctime_ns) > RACY_NS:
                remembered[str(path)] = (before, digest)
            return digest
    except OSError:
        return None


def _identity(st: os.stat_result) -> tuple:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


# A file's times tell a change only once its clock has moved on: whole seconds on some network
# shares and old filesystems, 2 s on FAT, a kernel tick (1-10 ms) for ext4 and xfs before Linux
# 6.13. A file written less than this before it is hashed is not remembered.
RACY_NS = 3_000_000_000

_remembered: ContextVar[dict[str, tuple[tuple, str]] | None] = ContextVar("shouyang_hashes_remembered", default=None)


@contextmanager
def hashes_remembered() -> Iterator[None]:
    """Inside, `file_sha256` of a file whose inode, size and modification and change times are
    those it had when it was hashed there (and that was last written more than RACY_NS before)
    gives that digest again without reading it: a run hashes every raw file three times (whether
    anything changed since the last run; planning the reading ahead; planning each dataset's
    load), 311 MB at 1000× the sample, the first two before the reading workers are given
    anything. One run's span, not longer, and in its own context (a thread or a task elsewhere
    sees none of it); what a run loads is told by the digest its reading takes of the bytes it read,
    not by these."""
    outer = _remembered.get()
    token = _remembered.set({} if outer is None else outer)
    try:
        yield
    finally:
        _remembered.reset(token)


def archived_path(digest: str, suffix: str, archive_dir: Path) -> Path:
    """Where the archive keeps the file version with this sha256 (an odd suffix is kept as `.bin`)."""
    return Path(archive_dir) / f"{digest}{suffix if _ARCHIVE_SUFFIX.match(suffix) else '.bin'}"


def archive(data: bytes | Path, digest: str, suffix: str, archive_dir: Path) -> Path:
    """Keep a copy of this file version (bytes, or a file copied streaming), named by its sha256;
    written once, never overwritten, never left half-written."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    target = archived_path(digest, suffix, archive_dir)
    if not target.exists():
        tmp = target.with_name(f"{target.name}.{os.getpid()}.part")
        try:
            if isinstance(data, Path):
                shutil.copyfile(data, tmp)
            else:
                tmp.write_bytes(data)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
    return target
