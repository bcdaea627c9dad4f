"""Parse one cell as its declared kind (SUBMISSIONS.md 3). Never raises: returns value or a `CellProblem`."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from ..catalog import rules as codes
from ..text import strip_ends, strip_invisible

EMPTY_MARKS = {"", "-", "—", "——", "--", "/", "／", "无"}
UNIT_FACTORS = {"元": 0.0001, "万元": 1.0, "亿元": 10000.0}
TRUE_MARKS = {"是", "y", "yes", "1", "true", "√", "✓", "✔", "对"}
FALSE_MARKS = {"否", "n", "no", "0", "false", "×", "✗", "无"}

# The largest magnitude each kind accepts: every accepted value fits its staging column
# (DECIMAL(18,4) in 万元, DECIMAL(9,4), INTEGER, DATE) with room for the marts' sums.
MONEY_MAX_WAN = 1e10  # 100万亿元: far beyond any county figure
PERCENT_MAX = 10000.0
INTEGER_MAX = 1_000_000_000
YEARS = (1900, 2100)
TEXT_MAX_CHARS = 32767  # Excel's own limit for one cell

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})年(\d{1,2})月()$"),
)


@dataclass(frozen=True)
class CellProblem:
    rule: str
    reason: str  # template with {header} and {value}


class Empty:
    """Marker for an empty cell (blank or one of the empty marks)."""


EMPTY = Empty()


def _clean(raw: object) -> str:
    return strip_ends(strip_invisible(unicodedata.normalize("NFKC", str(raw)))).replace(" ", "")


def is_empty(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        if len(raw) > 2 and len(raw.strip()) > 2:
            return False  # every empty mark is at most two characters
        return _clean(raw) in EMPTY_MARKS or strip_ends(raw) in EMPTY_MARKS
    return False


def parse_number(raw: object) -> float | CellProblem:
    if isinstance(raw, bool):
        return CellProblem(codes.NOT_A_NUMBER, "{header}应填写数字（当前值：{value}）")
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not math.isfinite(raw):
            return CellProblem(codes.NOT_A_NUMBER, "{header}应填写数字（当前值：{value}）")
        return float(raw)
    if isinstance(raw, datetime):
        return CellProblem(codes.NOT_A_NUMBER, "{header}应填写数字，不能是日期（当前值：{value}）")
    text = _clean(raw)
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if not _NUMBER.match(text):
        return CellProblem(codes.NOT_A_NUMBER, "{header}应填写数字（当前值：{value}）")
    return float(text)


def _too_large(limit: str) -> CellProblem:
    return CellProblem(codes.OUT_OF_RANGE, "{header}数值过大，超出可接受的范围（绝对值不超过" + limit + "），请核对数值和单位（当前值：{value}）")


_MONEY_TOO_LARGE = _too_large("100万亿元")
_PERCENT_TOO_LARGE = _too_large(f"{PERCENT_MAX:.0f}%")
_INTEGER_TOO_LARGE = _too_large(f"{INTEGER_MAX:,}")


def parse_money(raw: object, unit: str) -> float | CellProblem:
    number = parse_number(raw)
    if isinstance(number, CellProblem):
        return number
    wan = number * UNIT_FACTORS[unit]
    return wan if abs(wan) <= MONEY_MAX_WAN else _MONEY_TOO_LARGE


def parse_integer(raw: object) -> int | CellProblem:
    number = parse_number(raw)
    if isinstance(number, CellProblem):
        return number
    if abs(number) > INTEGER_MAX:
        return _INTEGER_TOO_LARGE
    if not float(number).is_integer():
        return CellProblem(codes.NOT_AN_INTEGER, "{header}应填写整数（当前值：{value}）")
    return int(number)


def parse_percent(raw: object, percent_formatted: bool) -> float | CellProblem:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        number = parse_number(raw)
        if isinstance(number, CellProblem):
            return number
        number = number * 100 if percent_formatted else number
    else:
        text = _clean(raw) if raw is not None else ""
        text = text.removesuffix("%")
        number = parse_number(text)
        if isinstance(number, CellProblem):
            return CellProblem(codes.NOT_A_NUMBER, "{header}应填写百分数，如10.6或10.6%（当前值：{value}）")
    return number if abs(number) <= PERCENT_MAX else _PERCENT_TOO_LARGE


def parse_boolean(raw: object) -> bool | CellProblem:
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    text = _clean(raw).casefold()
    if text in TRUE_MARKS:
        return True
    if text in FALSE_MARKS or is_empty(raw):
        return False
    return CellProblem(codes.NOT_A_BOOLEAN, "{header}应填写“是”或“否”（当前值：{value}）")


_DATE_OUT_OF_RANGE = CellProblem(
    codes.OUT_OF_RANGE, "{header}的年份应在%d年至%d年之间，请核对（当前值：{value}）" % YEARS)


def parse_date(raw: object) -> date | CellProblem:
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        return raw if YEARS[0] <= raw.year <= YEARS[1] else _DATE_OUT_OF_RANGE
    text = _clean(raw)
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
            try:
                found = date(year, month, day)
            except ValueError:
                break
            return found if YEARS[0] <= found.year <= YEARS[1] else _DATE_OUT_OF_RANGE
    return CellProblem(codes.NOT_A_DATE, "{header}不是有效日期，应填写如2023-03-15或2023年3月（当前值：{value}）")


_FLOAT_DIGITS = re.compile(r"^(\d+)\.0+$")


_TEXT_TOO_LONG = CellProblem(
    codes.OUT_OF_RANGE, "{header}过长（超过%d个字符，Excel单元格的上限），请核对该单元格" % TEXT_MAX_CHARS)


def parse_text(raw: object) -> str | CellProblem:
    """Trimmed text without invisible characters; a code Excel read as a number (140725100201.0,
    as a cell or as written in a CSV) is its digits."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    text = strip_ends(strip_invisible(str(raw)))
    if len(text) > TEXT_MAX_CHARS:
        return _TEXT_TOO_LONG
    m = _FLOAT_DIGITS.match(text)
    return m.group(1) if m else text


def parse_value(kind: str, raw: object, *, unit: str = "万元", percent_formatted: bool = False):
    """The parsed value, EMPTY, or a CellProblem. Booleans never come back EMPTY (blank is no)."""
    if kind == "boolean":
        return parse_boolean(raw)
    if is_empty(raw):
        return EMPTY
    if kind == "money":
        return parse_money(raw, unit)
    if kind == "integer":
        return parse_integer(raw)
    if kind == "percent":
        return parse_percent(raw, percent_formatted)
    if kind == "date":
        return parse_date(raw)
    text = parse_text(raw)
    return EMPTY if text == "" else text  # a cell of nothing but invisible characters
