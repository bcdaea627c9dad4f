"""The county office's register of received files, `<raw dir>/收文登记.csv` (SUBMISSIONS.md 7),
and the time each file version was received.

The register is optional. Its columns are `文件` (the path relative to the raw dir) and `收到时间`
(`YYYY-MM-DD HH:MM`, Beijing time); it may be UTF-8 or GBK (Excel on a Chinese Windows). A line
naming a file that is not there is ignored; a line that cannot be read is reported, never fatal.
The register is not a submission: `discover` passes over it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..catalog.tables import RECEIVED_FROM_MTIME, RECEIVED_FROM_REGISTER
from ..config import BEIJING
from ..text import norm, strip_ends

REGISTER_NAME = "收文登记.csv"
# The register is a few hundred lines a year; anything far larger is not a register.
MAX_REGISTER_BYTES = 5 * 1024 * 1024
_TIME = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


@dataclass
class Register:
    """Received times by path (relative to the raw dir, forward slashes), and what could not be read."""

    times: dict[str, datetime] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def received(self, rel_path: str, path: Path) -> tuple[datetime | None, str]:
        """(when this file was received, where that time comes from): the register's line, else
        the file's modification time (Beijing time, without zone), else None."""
        if rel_path in self.times:
            return self.times[rel_path], RECEIVED_FROM_REGISTER
        try:
            mtime = path.lstat().st_mtime
        except OSError:
            return None, RECEIVED_FROM_MTIME
        return datetime.fromtimestamp(mtime, BEIJING).replace(tzinfo=None, microsecond=0), RECEIVED_FROM_MTIME


def parse_time(text: str) -> datetime | None:
    """`2023-10-11 09:30` (also `/` or `.` between the date's parts, seconds optional, or a date
    alone, meaning its start); None when it is not a time."""
    m = _TIME.match(strip_ends(text))
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    try:
        return datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None


def _key(path_text: str) -> str:
    """A register's path as the raw dir's relative paths are written: forward slashes, no `./`."""
    text = strip_ends(path_text).replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text


def is_register(name: str) -> bool:
    """Whether a file name at the raw dir's root is the register (`收文登记.csv`, the extension in any case)."""
    stem, dot, suffix = name.rpartition(".")
    return bool(dot) and stem == REGISTER_NAME.rpartition(".")[0] and suffix.lower() == "csv"


def read_register(raw_dir: Path) -> Register:
    register = Register()
    path = raw_dir / REGISTER_NAME
    try:
        path = next((p for p in sorted(raw_dir.iterdir()) if is_register(p.name)), path)
    except OSError:
        pass
    try:
        if not path.is_file() or path.is_symlink():
            return register
        if path.stat().st_size > MAX_REGISTER_BYTES:
            register.problems.append(f"{REGISTER_NAME}过大，未读取：收到时间按文件修改时间计")
            return register
        data = path.read_bytes()
    except OSError as exc:
        register.problems.append(f"{REGISTER_NAME}无法读取（{exc.strerror or exc}）：收到时间按文件修改时间计")
        return register
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any bytes
        return register
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return register
    header = [norm(c) for c in rows[0]]
    if "文件" not in header or "收到时间" not in header:
        register.problems.append(f"{REGISTER_NAME}第1行应为表头“文件,收到时间”，未读取：收到时间按文件修改时间计")
        return register
    at_file, at_time = header.index("文件"), header.index("收到时间")
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        cells = row + [""] * (max(at_file, at_time) + 1 - len(row))
        when = parse_time(cells[at_time])
        key = _key(cells[at_file])
        if not key or when is None:
            register.problems.append(
                f"{REGISTER_NAME}第{number}行无法识别（文件：{cells[at_file][:100]}，收到时间：{cells[at_time][:40]}），"
                "收到时间应写成 2023-10-11 09:30；该行未采用")
            continue
        # The earliest line for a path: when the file at that path was first received.
        register.times[key] = min(when, register.times.get(key, when))
    return register
