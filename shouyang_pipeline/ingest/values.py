"""Parse one cell as its declared kind (SUBMISSIONS.md 3). Never raises: returns value or a `CellProblem`."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import compress, repeat
from operator import is_, is_not

import numpy as np

from ..catalog import rules as codes
from ..text import _INVISIBLE as _INVISIBLE_TABLE
from ..text import char_class, strip_ends, strip_invisible, visible

EMPTY_MARKS = {"", "-", "—", "——", "--", "/", "／", "无"}
UNIT_FACTORS = {"元": 0.0001, "万元": 1.0, "亿元": 10000.0}
TRUE_MARKS = {"是", "y", "yes", "1", "true", "√", "✓", "✔", "对", "有"}  # 有: the pair of 无 (是否5G覆盖)
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
_SPACED_THOUSANDS = re.compile(r"^[+-]?\d{1,3}( \d{3})+(\.\d*)?$")
_SIGN_SPACE = re.compile(r"^([+-]) +")
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
    return _trimmed(raw).replace(" ", "")


def _trimmed(raw: object) -> str:
    """NFKC (a full-width space is a space then), invisible characters and the spaces at either end taken off."""
    return strip_ends(visible(str(raw)))


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
    text = _trimmed(raw)
    if " " in text:  # after a sign (`- 5`), or a thousands separator (`1 200 000`); else two numbers (`1200 1500`)
        text = _SIGN_SPACE.sub(r"\1", text)
        if " " in text and not _SPACED_THOUSANDS.match(text):
            return CellProblem(codes.NOT_A_NUMBER, "{header}应填写数字（当前值：{value}）")
        text = text.replace(" ", "")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if not _NUMBER.match(text):
        if _SCIENTIFIC.fullmatch(text):  # (what Excel shows of a long number in a General column, and saves so in a CSV)
            return CellProblem(codes.NOT_A_NUMBER, "{header}应填写完整的数字，不能写成科学计数法（当前值：{value}）："
                                                   "请在Excel中把该列设为数值格式、显示出全部数字后重新报送")
        return CellProblem(codes.NOT_A_NUMBER, "{header}应填写数字（当前值：{value}）")
    return float(text)


# A number in scientific notation (`1.2E+10`, `5e3`): not accepted (SUBMISSIONS.md lists no such
# form, and Excel's `1.23457E+17` has lost the number's last digits), but said as what it is.
_SCIENTIFIC = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+")


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
        text = _trimmed(raw) if raw is not None else ""
        text = text.removesuffix("%")  # (`10.6 %`: the number's space at its end is taken off by parse_number)
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


# ------------------------------------------------------------------------------ column-wise
# A file's values are parsed a column at a time (`parse_column`): each column's cells are sorted
# by what they hold, the cells whose value can be told with a handful of C-level operations over
# the whole column (plain numbers, plain text, repeated spellings) are decided at once, and every
# other cell goes through `parse_value`, the per-cell parser above. A column of texts and blanks
# is decided by its distinct cells (`_by_distinct`: a status, a township, a date or a yes/no mark
# parsed once, then put into every cell that holds it), or, when its texts mostly differ (codes,
# names), all at once when every one is plain (`_unique_texts`). The result is the same, cell
# for cell, as `parse_value` on each cell (shouyang_pipeline_tests/test_columnwise_values.py):
# the fast paths only ever accept a cell whose value `parse_value` would give the same, and say
# nothing about the others.

# A number written with nothing but these characters is read by float() exactly as parse_number
# reads it: with no exponent, underscore or space possible, float() accepts the same strings as
# _NUMBER, and no cleaning (NFKC, invisible characters, thousands separators) changes them.
_NUMBER_CHARS = "0123456789.+-"
_NUMBER_BYTES = _NUMBER_CHARS.encode("ascii")


# The invisible characters (text.strip_invisible) that str.isprintable() does not rule out.
_PRINTABLE_INVISIBLE = re.compile(char_class(cp for cp in _INVISIBLE_TABLE if chr(cp).isprintable()))
_FLOAT_DIGITS_LINE = re.compile(r"^\d+\.0+$", re.MULTILINE)


def _plain_text(s: str) -> bool:
    """Whether `parse_value("text", s)` is `s` itself: printable (no control, format or space
    character but U+0020, so nothing for strip_invisible or strip_ends to remove but an ASCII space
    at an end), no ASCII space at either end, more than two characters (so not an empty mark),
    within Excel's length, and not a code Excel wrote as a float (`140725100201.0`)."""
    return (2 < len(s) <= TEXT_MAX_CHARS and s.isprintable() and s[0] != " " and s[-1] != " "
            and not _FLOAT_DIGITS.match(s) and (s.isascii() or not _PRINTABLE_INVISIBLE.search(s)))


def _all_plain_text(strs: list[str]) -> bool:
    """`_plain_text` of every string at once: one pass over the column joined, in C."""
    joined = "".join(strs)
    if not joined.isprintable() or (not joined.isascii() and _PRINTABLE_INVISIBLE.search(joined)):
        return False
    lengths = list(map(len, strs))
    if min(lengths) <= 2 or max(lengths) > TEXT_MAX_CHARS:
        return False
    lines = "\n".join(strs)  # printable strings hold no line break: one line each
    return not (lines[0] == " " or lines[-1] == " " or " \n" in lines or "\n " in lines
                or _FLOAT_DIGITS_LINE.search(lines))


# The characters a column read by a columnar reader is told plain by (`plain_text_column`): each
# printable, none invisible (`_PRINTABLE_INVISIBLE`), none a decimal digit but ASCII's (so that a
# code written as a float is `[0-9]+\.0+`), listed here rather than taken from the reader's Unicode
# tables (its version is not Python's): ASCII's printable ones, CJK ideographs (extension A and the
# basic block), and the punctuation of Chinese text: 、。〃〈〉《》「」『』【】〔〕〖〗〘〙〚〛, the full-width
# forms but their digits (！ to ／, ： to ＠, the letters, ［ to ｀, ｛ to ～), ·, ×, —, ‘’“”, …, √.
# A text of any other character is told by `_plain_text` (`parse_column`). Checked in the tests.
PLAIN_TEXT_RANGES = ((0x20, 0x7E), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x3001, 0x3003), (0x3008, 0x3011),
                     (0x3014, 0x301B), (0xFF01, 0xFF0F), (0xFF1A, 0xFF5E), (0xB7, 0xB7), (0xD7, 0xD7),
                     (0x2014, 0x2014), (0x2018, 0x2019), (0x201C, 0x201D), (0x2026, 0x2026), (0x221A, 0x221A))
_OUTSIDE_PLAIN_TEXT = "[^" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in PLAIN_TEXT_RANGES) + "]"


def plain_text_column(texts) -> bool:
    """Whether `_plain_text` is true of every text of `texts` (a Polars string Series, None for a
    blank), told by Polars over the column at once: every character one of PLAIN_TEXT_RANGES (so
    printable and visible), more than two and at most TEXT_MAX_CHARS of them, no space at either
    end, not a code Excel wrote as a float. False says nothing: `parse_column` then tells each."""
    import polars as pl

    filled = texts.drop_nulls()
    if filled.is_empty():
        return True
    told = filled.to_frame("t").select(
        pl.col("t").str.contains(_OUTSIDE_PLAIN_TEXT).any().alias("outside"),
        pl.col("t").str.len_chars().min().alias("shortest"),
        pl.col("t").str.len_chars().max().alias("longest"),
        (pl.col("t").str.starts_with(" ") | pl.col("t").str.ends_with(" ")).any().alias("spaced"),
        pl.col("t").str.contains(r"^[0-9]+\.0+$").any().alias("float_digits"),
    ).row(0, named=True)
    return (not told["outside"] and told["shortest"] > 2 and told["longest"] <= TEXT_MAX_CHARS
            and not told["spaced"] and not told["float_digits"])


_NONE = type(None)


def _split_none(cells: list) -> tuple[list[int] | range, list, list[int]]:
    """(positions of the cells that are not None, those cells, positions of the None ones), in C."""
    n = len(cells)
    if None not in cells:
        return range(n), cells, []
    at = list(compress(range(n), map(is_not, cells, repeat(None))))
    nones = list(compress(range(n), map(is_, cells, repeat(None))))
    return at, [cells[i] for i in at], nones


def _put(values: list, at, new: list) -> None:
    """values[i] = new[k] for the k-th position i of `at`; the whole list at once when `at` is every position."""
    if len(at) == len(values):
        values[:] = new
    else:
        for i, v in zip(at, new):
            values[i] = v


def _texts(cells: list, types: set, values: list, undecided: list[int], odd: dict) -> None:
    if _unique_texts(cells, types, values, odd):
        return
    if (distinct := _texts_and_blanks(cells, types)) is not None:  # the common column of texts and blanks
        _by_distinct("text", cells, distinct, values, odd)
        return
    strs, at = [], []
    for i, c in enumerate(cells):
        t = type(c)
        if t is str:
            strs.append(c)
            at.append(i)
        elif c is None:
            odd[i] = EMPTY
        elif t is float and c.is_integer():
            values[i] = str(int(c))  # parse_text: a code Excel read as a number is its digits
        else:
            undecided.append(i)
    if not strs:
        return
    decided = _decided_texts(set(strs))
    if decided is None:
        _put(values, at, strs)
        return
    for i, s in zip(at, strs):
        result = decided[s]
        if result is EMPTY or type(result) is CellProblem:
            odd[i] = result
        else:
            values[i] = result


def _unique_texts(cells: list, types: set, values: list, odd: dict) -> bool:
    """A column of texts and blanks whose texts mostly differ (names, codes) and are all plain,
    decided at once without a set of them; False (nothing done) for any other column."""
    head = cells[:256]
    if len(head) < 64 or not types <= {str, _NONE} or set(map(type, head)) != {str} or len(set(head)) * 2 <= len(head):
        return False
    _, texts, nones = _split_none(cells)
    if not _all_plain_text(texts):
        return False
    values[:] = cells  # every text is its own value, a blank None
    odd.update(dict.fromkeys(nones, EMPTY))
    return True


def _decided_texts(texts: set[str]) -> dict[str, object] | None:
    """What `parse_value("text", …)` makes of each distinct text; None when every one is plain
    (itself), told at once over them joined. Otherwise the plain ones are themselves and the
    others (a level 县级 is two characters, a township spaced with U+3000) the per-cell parser's."""
    if not texts or _all_plain_text(list(texts)):
        return None
    return {s: s if _plain_text(s) else parse_value("text", s) for s in texts}


def _by_distinct(kind: str, cells: list, distinct: set, values: list, odd: dict) -> None:
    """A column of nothing but texts and blanks (None): each distinct cell parsed once (texts
    first told plain at once, `_decided_texts`), then the values put in and the odd cells
    (blanks, problems) found in one pass each over the column."""
    if kind == "text":
        marks: dict = {None: EMPTY} if None in distinct else {}
        distinct.discard(None)
        decided = _decided_texts(distinct)
        if decided is None:
            values[:] = cells  # every text plain, its own value; a blank None
            _mark(cells, marks, odd)
            return
        if marks:
            decided[None] = EMPTY
    else:
        marks = {}
        decided = {c: parse_value(kind, c) for c in distinct}  # a blank boolean is no (False)
    for c, result in decided.items():
        if result is EMPTY or type(result) is CellProblem:
            marks[c] = result
            decided[c] = None
    values[:] = map(decided.__getitem__, cells)
    _mark(cells, marks, odd)


def _mark(cells: list, marks: dict, odd: dict) -> None:
    """odd[i] = marks[cells[i]] for every cell that is one of `marks`' keys."""
    if marks:
        for i in compress(range(len(cells)), map(marks.__contains__, cells)):
            odd[i] = marks[cells[i]]


def _texts_and_blanks(cells: list, types: set) -> set | None:
    """The column's distinct cells when it holds nothing but texts (plain `str`, as cells from a
    grid are) and blanks; else None, told by the cells' types (`types`) before any set of them is built."""
    if not types <= {str, _NONE}:
        return None
    return set(cells)


def _numbers(kind: str, cells: list, types: set, unit: str, values: list, undecided: list[int], odd: dict) -> None:
    """Money and integer cells: None is EMPTY; floats, ints and strings of plain digits are read
    with float(), then scaled and range-checked as arrays; anything else is undecided."""
    at, xs = _plain_numbers(cells, types, odd)
    if at is None:
        at, xs = [], []
        for i, c in enumerate(cells):
            t = type(c)
            if t is float or t is int or (t is str and not c.strip(_NUMBER_CHARS)):
                try:
                    xs.append(float(c))  # "-", "1.2.3", "+" and the like fail: the per-cell parser says why
                except (ValueError, OverflowError):
                    undecided.append(i)
                    continue
                at.append(i)
            elif c is None:
                odd[i] = EMPTY
            else:
                undecided.append(i)
    if xs:
        _scaled(kind, unit, at, np.array(xs, dtype=np.float64), values, undecided)


def _scaled(kind: str, unit: str, at, numbers: np.ndarray, values: list, undecided: list[int]) -> None:
    """The numbers read at positions `at` (as `float()` reads their text) scaled to 万元 (money) or
    made ints (integer) into `values`, each out of range or not whole put in `undecided` instead."""
    with np.errstate(over="ignore", invalid="ignore"):  # 1e308 亿元 is inf: out of range, said per cell
        if kind == "money":
            parsed = numbers * UNIT_FACTORS[unit]
            ok = np.abs(parsed) <= MONEY_MAX_WAN  # False for inf and NaN: the per-cell parser rejects them
            out = parsed.tolist()
        else:
            ok = (np.abs(numbers) <= INTEGER_MAX) & (np.floor(numbers) == numbers)
            out = np.where(ok, numbers, 0).astype(np.int64).tolist()
    if ok.all():
        _put(values, at, out)
        return
    for i, v, good in zip(at, out, ok.tolist()):
        if good:
            values[i] = v
        else:
            undecided.append(i)


def _plain_numbers(cells: list, types: set, odd: dict) -> tuple[list[int] | range | None, list[float] | None]:
    """The common column, told in C: nothing but floats and ints, or nothing but strings of
    plain digits (`_NUMBER_CHARS`), and blanks; every one read by float() as `_numbers` reads
    it cell by cell. Returns (positions, floats) and marks the blanks EMPTY in `odd`; (None,
    None) with `odd` untouched when the column is not such (or a cell fails float()): `_numbers`
    then sorts it cell by cell."""
    types = types - {_NONE}
    if not types or not (types <= {float, int} or types == {str}):
        return None, None
    at, filled, nones = _split_none(cells)
    if types == {str}:
        joined = "".join(filled)  # of nothing but `_NUMBER_CHARS`: told by deleting them from its bytes
        if not joined.isascii() or joined.encode("ascii").translate(None, _NUMBER_BYTES):
            return None, None
    try:
        xs = list(map(float, filled))
    except (ValueError, OverflowError):
        return None, None
    odd.update(dict.fromkeys(nones, EMPTY))
    return at, xs


# A text `float()` reads as `_numbers` does (made of `_NUMBER_CHARS` only), as a regular
# expression: what the columnar reading casts at once (`parse._number_column`); float() and
# Polars' cast (correctly rounded both) give the same number of it.
PLAIN_NUMBER_PATTERN = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$"


def parse_plain_number_column(kind: str, n: int, plain_at: np.ndarray, plain: np.ndarray, blank_at, other: dict[int, str],
                              texts_of: Callable[[list[int]], dict[int, str]], *,
                              unit: str = "万元") -> tuple[list, dict[int, object]]:
    """`parse_column(kind, cells)` of a money or integer column of `n` text cells told apart by a
    columnar reader: at the positions `plain_at` a text matching PLAIN_NUMBER_PATTERN, read as
    `plain` (float64); at `blank_at` none; at each other position its text (`other`). A plain one
    out of range is parsed from its text (`texts_of`: position -> text) by the per-cell parser."""
    values: list = [None] * n
    odd: dict[int, object] = dict.fromkeys(blank_at, EMPTY)
    undecided: list[int] = []
    if len(plain_at):
        _scaled(kind, unit, plain_at.tolist(), plain, values, undecided)
    cells = dict(other)
    if undecided:  # plain, but out of range or not whole
        cells.update(texts_of(undecided))
    if cells:
        _per_cell(kind, cells, sorted(cells), unit, frozenset(), values, odd)
    return values, odd


def _per_cell(kind: str, cells: list, positions, unit: str, percent_formatted, values: list, odd: dict) -> None:
    """`parse_value` on the cells at `positions`, each spelling parsed once: a column holds the
    same few dates, yes/no marks, levels and statuses many times over. Keyed by type and value,
    so that 1, 1.0 and True (equal in Python) stay apart; floats are not cached (0.0 == -0.0)."""
    seen: dict[tuple, object] = {}
    for i in positions:
        c = cells[i]
        pct = i in percent_formatted
        if type(c) is float:
            result = parse_value(kind, c, unit=unit, percent_formatted=pct)
        else:
            key = (type(c), c, pct)
            try:
                result = seen[key]
            except KeyError:
                result = seen[key] = parse_value(kind, c, unit=unit, percent_formatted=pct)
            except TypeError:  # not hashable: never from a grid
                result = parse_value(kind, c, unit=unit, percent_formatted=pct)
        if result is EMPTY or type(result) is CellProblem:
            odd[i] = result
        else:
            values[i] = result


def cell_types(cells: list, *, texts_only: bool = False) -> set:
    """The types of a column's cells: for a column of nothing but texts and blanks (`texts_only`,
    a CSV's), `str` and None's type as they occur, counted without looking at each cell's type."""
    if not texts_only:
        return set(map(type, cells))
    blanks = cells.count(None)
    return {*((str,) if blanks < len(cells) else ()), *((_NONE,) if blanks else ())}


def parse_column(kind: str, cells: list, *, unit: str = "万元",
                 percent_formatted: frozenset[int] | set[int] = frozenset(),
                 texts_only: bool = False) -> tuple[list, dict[int, object]]:
    """One column's cells parsed as `parse_value` parses each (`percent_formatted`: the positions
    of the cells formatted as percentages; `texts_only`: every cell is a `str` or None, as a CSV's
    are). Returns (values, odd): `values[i]` is the parsed value of `cells[i]`, None where `odd[i]`
    holds EMPTY or the cell's CellProblem (in no particular order: each cell is in one row, and a
    row's problems are in column order whatever the order here)."""
    values: list = [None] * len(cells)
    odd: dict[int, object] = {}
    undecided: list[int] = []
    types = cell_types(cells, texts_only=texts_only)
    if kind in ("money", "integer"):
        _numbers(kind, cells, types, unit, values, undecided, odd)
    elif kind == "text":
        _texts(cells, types, values, undecided, odd)
    elif (distinct := _texts_and_blanks(cells, types)) is not None and len(distinct) * 4 <= len(cells):
        # dates, booleans, percentages written as text: a few spellings each, whatever the cells'
        # number formats (they only tell how a number cell reads)
        _by_distinct(kind, cells, distinct, values, odd)
    else:  # a workbook's dates and numbers, or as many spellings as cells: one at a time
        undecided = range(len(cells))
    if undecided:
        _per_cell(kind, cells, undecided, unit, percent_formatted, values, odd)
    return values, odd


def parse_numbers(cells: list) -> list:
    """`EMPTY if is_empty(c) else parse_number(c)` for every cell (the totals check), per column."""
    out: list = [EMPTY] * len(cells)
    types = set(map(type, cells))
    # a workbook's floats with blanks among them are read as quickly one by one, below
    at, xs = _plain_numbers(cells, types, {}) if not {float, _NONE} <= types else (None, None)
    if at is not None and np.isfinite(np.array(xs, dtype=np.float64)).all():
        _put(out, at, xs)  # every cell a blank or a plain, finite number, read as `_numbers` reads it
        return out
    for i, c in enumerate(cells):
        t = type(c)
        if c is None:
            continue
        if t is float and c - c == 0.0:  # finite
            out[i] = c
        elif t is str and not c.strip(_NUMBER_CHARS):
            try:
                out[i] = float(c)
            except ValueError:
                out[i] = EMPTY if is_empty(c) else parse_number(c)
        else:
            out[i] = EMPTY if is_empty(c) else parse_number(c)
    return out
