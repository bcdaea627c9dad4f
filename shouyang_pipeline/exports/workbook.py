"""The marts of one period as an Excel workbook, for analysts who live in Excel.

`write_workbook(conn, period, export_dir)` writes `<export_dir>/marts_<period>.xlsx`: a 说明
sheet listing the sheets (the table behind each, its rows, the period its figures are of and
where they come from), then one sheet per mart with that period's rows (the reporting calendar,
marts.submission_status, among them), then the period's figures that do not fit the previous
period (audit.cross_period_flags, not a mart: `AUDIT_SHEETS`). Headers are the Chinese
titles (with units) of the mart declarations in `catalog.marts`; figures are numbers shown in
the format of their unit (万元 and 亿元 `#,##0.00`, % and 个百分点 `0.0`, counts `#,##0`), flags
read 是/否, dates `yyyy-mm-dd` and times `yyyy-mm-dd hh:mm`, a figure whose unit differs from row
to row (a flag's value: 万元 or a count) as it is, and each column is as wide as what it holds.

A mart of a quarterly dataset only (the village income) has no rows of its own in the months
between quarters: its sheet then holds the latest quarter of the same year, the rule of the
scorecard and the briefing, and says so (说明, and the printed page header).

Every sheet prints on A4 landscape, one page wide, the header row repeated on each page, the
sheet's title, the month and the period of its figures in the page header, page numbers below.

Nothing submitted becomes a formula: text is written as text.
"""

from __future__ import annotations

import io
import math
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import xlsxwriter

from ..catalog.datasets import DATASETS
from ..catalog.marts import MARTS
from ..catalog.tables import AUDIT, Column, Table
from ..config import BEIJING
from ..marts.lineage import mart_inputs
from ..marts.sentences import no_industry_data
from ..text import char_class
from ..warehouse.ddl import ident
from . import xlsx_rows

_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")

# Number formats by unit (the marts' rounding: money to 2 decimals, percentages to 1).
MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.0"
COUNT_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MONEY_UNITS = ("万元", "亿元", "元")
PERCENT_UNITS = ("%", "个百分点")

# Column widths, in Excel's character units (a CJK character takes two): text wider than
# TEXT_WIDTH wraps (so that a sheet printed one page wide stays readable), figures never do.
MIN_WIDTH, TEXT_WIDTH, MAX_WIDTH = 6, 28, 50
HEADER_LINES = 2  # a header may wrap onto two lines, or more when its column is narrow
LINE_HEIGHT = 16  # points, a line of the header row
COMMENT_ROWS = 64  # the header's comments (shown on hover) reach over the first few rows only


def header(column: Column) -> str:
    """The column's Chinese title with its unit: 总投资（亿元）."""
    return column.heading


def sheet_name(table: Table) -> str:
    return _INVALID_SHEET_CHARS.sub("_", table.title)[:31]


def number_format(column: Column) -> str | None:
    """The Excel number format of a column, from its unit and type."""
    if column.sql_type == "DATE":
        return DATE_FORMAT
    if column.sql_type == "TIMESTAMP":
        return DATETIME_FORMAT
    if column.unit in MONEY_UNITS:
        return MONEY_FORMAT
    if column.unit in PERCENT_UNITS:
        return PERCENT_FORMAT
    if column.sql_type in ("BIGINT", "INTEGER"):
        return COUNT_FORMAT if column.unit else "0"  # a row number has no thousands separator
    if column.sql_type.startswith("DECIMAL") and column.unit:
        m = re.fullmatch(r"DECIMAL\(\d+,(\d+)\)", column.sql_type)
        return "#,##0" + ("." + "0" * min(int(m.group(1)), 2) if m and int(m.group(1)) else "")
    return None  # text, flags, and figures whose unit differs from row to row: as they are


def _converter(column: Column):
    """How a value of this column is written: flags as 是/否, numbers as numbers, text as text."""
    if column.sql_type == "BOOLEAN":
        return lambda v: "是" if v else "否"
    if column.sql_type.startswith("DECIMAL") or column.sql_type in ("DOUBLE", "INTEGER", "BIGINT"):
        return float
    if column.sql_type in ("DATE", "TIMESTAMP"):
        return lambda v: v
    return str


class _WideGlyphs(dict):
    """character -> 1 for a CJK (wide or full-width) glyph, else 0; filled as characters are met."""

    def __missing__(self, ch: str) -> int:
        wide = self[ch] = 1 if unicodedata.east_asian_width(ch) in "WF" else 0
        return wide


_WIDE = _WideGlyphs()


def display_width(text: str) -> int:
    """Excel character units a text takes in a cell: a CJK (wide) glyph a little more than two
    digits (2.2), anything else one."""
    if text.isascii():
        return len(text)
    wide = sum(map(_WIDE.__getitem__, text))
    if wide % 5:  # 2.2 × wide is not whole: the float sum's error (far below 0.2) rounds up alike
        return -(-(22 * wide + 10 * (len(text) - wide)) // 10)
    return math.ceil(sum(2.2 if _WIDE[ch] else 1 for ch in text))  # as it always was, to the last bit


def lines_needed(text: str, width: int) -> int:
    """How many lines `text` wraps onto in a column `width` wide (a line breaks between words,
    so it holds a little less than its width)."""
    return sum(max(1, math.ceil(display_width(part) / max(width - 3, 1))) for part in text.split("\n"))


def shown(value, fmt: str | None) -> str:
    """A value as its cell shows it, to size the column."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return "0000-00-00 00:00"
    if isinstance(value, date):
        return "0000-00-00"
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        v = float(value)
        if not math.isfinite(v):
            return str(v)
        if fmt in (MONEY_FORMAT, PERCENT_FORMAT, COUNT_FORMAT) or (fmt or "").startswith("#,##0"):
            decimals = len(fmt.partition(".")[2])
            return f"{v:,.{decimals}f}"
        if fmt == "0":
            return f"{v:.0f}"
        return f"{v:g}"
    return str(value)


def column_width(heading: str, values: list[str], cap: int = MAX_WIDTH) -> tuple[int, bool]:
    """As wide as the widest value (plus a margin), and wide enough for the header on at most
    two lines; never narrower than MIN_WIDTH nor wider than `cap`. Also whether values are
    longer than that (they wrap)."""
    return _width(heading, max((display_width(v) for v in values), default=0), cap)


def _fixed_decimals(fmt: str | None) -> bool:
    """Whether `shown` writes a figure in `fmt` with a fixed number of decimals (`f"{v:,.2f}"`,
    `f"{v:.0f}"`), so that it takes more room the further it is from zero."""
    return fmt is not None and (fmt in (MONEY_FORMAT, PERCENT_FORMAT, COUNT_FORMAT, "0") or fmt.startswith("#,##0"))


def content_width(values: list, fmt: str | None) -> int:
    """`max(display_width(shown(v, fmt)) for v in values)` (0 for none), without showing every value:
    in a format with a fixed number of decimals a figure takes more room the further it is from
    zero (its smallest and largest are enough), and text is measured once per distinct value."""
    present = [v for v in values if v is not None]
    if not present:
        return 0
    kinds = {type(v) for v in present}
    if kinds <= {int, float, Decimal}:
        numbers = [float(v) for v in present]
        zeros = {shown(z, fmt) for z in numbers if z == 0}  # 0.0 and -0.0 are equal, not shown alike
        growing = _fixed_decimals(fmt) and not any(v != v for v in numbers)
        if growing and math.isfinite(lo := min(numbers)) and math.isfinite(hi := max(numbers)):
            texts = {shown(lo, fmt), shown(hi, fmt)} | zeros
        else:
            texts = {shown(v, fmt) for v in set(numbers)} | zeros
    elif kinds == {str}:
        texts = set(present)  # (a text is shown as it is)
    elif kinds <= {str, bool, date, datetime}:
        texts = {shown(v, fmt) for v in set(present)}
    else:
        texts = {shown(v, fmt) for v in present}
    return widest(texts)


def widest(texts) -> int:
    """`max(map(display_width, texts), default=0)`, measuring only the texts long enough to be the
    widest: a text of n characters takes between n and ceil(2.2 × n) + 1 units (one more where the
    float sum of 2.2 a glyph is just above a whole number, see `display_width`)."""
    best = 0
    for text in sorted(texts, key=len, reverse=True):
        if math.ceil(2.2 * len(text)) + 1 <= best:
            break
        best = max(best, display_width(text))
    return best


def _width(heading: str, content: int, cap: int) -> tuple[int, bool]:
    """`column_width` from the widest value's width."""
    head = math.ceil(display_width(heading) / HEADER_LINES) + 1  # a line breaks between words
    wanted = max(content, head) + 2
    return max(MIN_WIDTH, min(cap, wanted)), wanted > cap


def header_height(headings: list[str], widths: list[int]) -> int:
    """The header row's height (points): as many lines as its most wrapped header needs."""
    return row_height(max((lines_needed(h, w) for h, w in zip(headings, widths)), default=1))


def row_height(lines: int) -> int:
    """Points for `lines` lines of text (Excel and LibreOffice do not grow a row for wrapped text
    written by a program: the height is set)."""
    return LINE_HEIGHT * max(lines, 1) + 2


@dataclass(frozen=True)
class SheetSource:
    """The period a sheet's figures are of, and a note on where they come from (or why none)."""

    data_period: str | None
    note: str = ""


def _quarterly_only(name: str) -> bool:
    """A mart that reads only quarterly datasets (its staging inputs)."""
    staged = [key.split("/", 1)[1] for key in mart_inputs(name) if key.startswith("staging/")]
    return bool(staged) and all(n in DATASETS and DATASETS[n].cadence == "quarterly" for n in staged)


def sheet_source(conn: duckdb.DuckDBPyConnection, name: str, table: Table, period: str) -> SheetSource:
    """Which period a mart's sheet of `period` shows: its own, or for a mart of quarterly data
    without rows this month, the latest period of the same year that it has (as the scorecard)."""
    has_own = conn.execute(f"SELECT count(*) FROM {table.qualified} WHERE period = ?", [period]).fetchone()[0]
    if has_own:
        return SheetSource(period)
    if _quarterly_only(name):
        latest = conn.execute(
            f"SELECT max(period) FROM {table.qualified} WHERE period < ? AND substr(period, 1, 4) = ?",
            [period, period[:4]]).fetchone()[0]
        if latest is not None:
            return SheetSource(latest, f"按季度报送，本月无新报送，沿用{latest}的数据")
        return SheetSource(None, "按季度报送，本年尚无数据")
    if int(period[5:7]) == 1 and "staging/industrial_output" in mart_inputs(name):
        return SheetSource(None, no_industry_data(period))
    return SheetSource(None, "本期无数据")


# Tables other than the marts with a sheet of the period's rows: name -> (table, ORDER BY, the
# 说明 sheet's note when the period has none).
AUDIT_SHEETS: dict[str, tuple[Table, str, str]] = {
    "cross_period_flags": (AUDIT["cross_period_flags"], 'dataset, file_path, source_row, rule, "column"',
                           "本期未发现与上期对不上的数字"),
}


def _row_lines(columns: list, wrapped_cols: list[int], widths: list[int]) -> dict[int, int]:
    """Data row (0-based) -> the lines its most wrapped cell takes, for the rows taking more than
    one, in the rows' order (`lines_needed` of each distinct text once; each column's counts put
    side by side as arrays, not row by row)."""
    most = None  # each row's most lines so far
    for j in wrapped_cols:
        values = columns[j]
        if set(map(type, values)) <= _TEXT_OR_NONE:
            measured = _measured(widths[j])  # what this process measured before: the month before's names
            unknown = set(values).difference(measured)
            if unknown:
                room = widths[j] - 3  # a text of at most ceil(2.2 n) + 1 units (`widest`) fits on one line
                one = {v: 1 for v in unknown if v is None or (math.ceil(2.2 * len(v)) + 1 <= room and "\n" not in v)}
                rest = unknown.difference(one)
                measured.update(one)
                measured.update(_lines_of(rest, widths[j]) if len(rest) > LINES_AT_ONCE_FROM
                                else {v: lines_needed(v, widths[j]) for v in rest})
            counts = map(measured.__getitem__, values)
        else:
            counts = (lines_needed(str(v or ""), widths[j]) for v in values)
        column = np.fromiter(counts, dtype=np.int64, count=len(values))
        most = column if most is None else np.maximum(most, column)
    if most is None:
        return {}
    tall = np.flatnonzero(most > 1)
    return dict(zip(tall.tolist(), most[tall].tolist()))


_TEXT_OR_NONE = {str, type(None)}


# The lines of the texts measured in this process (a blank: one), by column width: the month after,
# a workbook holds the same projects' names and units again (a city's 110,000 of them measured
# once, not once a month). Forgotten past MEASURED_KEPT texts of a width.
_MEASURED: dict[int, dict[str, int]] = {}
MEASURED_KEPT = 1_000_000


def _measured(width: int) -> dict[str, int]:
    known = _MEASURED.setdefault(width, {})
    if len(known) > MEASURED_KEPT:
        known.clear()
    return known


# A wrapped column with more texts than this to measure has their wide glyphs counted at once
# (`_lines_of`); fewer are measured one by one (`lines_needed`), which is as quick for them.
LINES_AT_ONCE_FROM = 5000


def _narrow(text: str) -> re.Pattern | None:
    """Any character of `text` but a wide glyph (`_WIDE`) or a line break (None: it holds none):
    what is left of the text without them is its wide glyphs. The class is made of the characters
    the text holds (a few thousand looked up), not of all of Unicode's."""
    narrow = [ord(ch) for ch in set(text) if ch != "\n" and not _WIDE[ch]]
    return re.compile(char_class(narrow)) if narrow else None


def _lines_of(texts, width: int) -> dict[str, int]:
    """`lines_needed(text, width)` of each text, the wide glyphs of those of one line counted for
    all at once (`_narrow`): `display_width` without a per-glyph sum, but where that sum is
    what it is (a multiple of five wide glyphs: `display_width`'s float sum)."""
    texts = list(texts)
    single = [t for t in texts if "\n" not in t]
    lines = {t: lines_needed(t, width) for t in texts if "\n" in t}
    if not single:
        return lines
    joined = "\n".join(single)
    narrow = _narrow(joined)
    wide_counts = map(len, (narrow.sub("", joined) if narrow else joined).split("\n"))
    room = max(width - 3, 1)
    for text, wide in zip(single, wide_counts):
        if wide % 5:
            units = -(-(22 * wide + 10 * (len(text) - wide)) // 10)
        else:
            units = display_width(text)
        lines[text] = max(1, -(-units // room))
    return lines


def _kind(column: Column) -> int:
    """How `_converter` writes the column's values (`xlsx_rows`' kinds)."""
    conv = _converter(column)
    if conv is str:
        return xlsx_rows.TEXT
    if conv is float:
        return xlsx_rows.NUMBER
    return xlsx_rows.FLAG if column.sql_type == "BOOLEAN" else xlsx_rows.DATE


def data_rows_of(ws, columns: "list | TableRows", cols: list[Column], lines: dict[int, int]) -> xlsx_rows.RowsXml:
    """The data rows of sheet `ws` (`columns` of values or the rows left in DuckDB, the lines of
    the rows taking more than one), for `xlsx_rows.splice` to add once the workbook is closed; the
    heights of the first of them are set on `ws` too, as they size the header's comments."""
    heights = {i: row_height(n) for i, n in lines.items()}
    for i in sorted(heights)[:COMMENT_ROWS]:
        ws.set_row(1 + i, heights[i])
    kinds = [_kind(c) for c in cols]
    if isinstance(columns, TableRows):
        return xlsx_rows.QueriedRows(columns.conn, columns.table.qualified, columns.period,
                                     [c.name for c in cols], kinds, len(columns), heights,
                                     preserved=columns.preserved)
    return xlsx_rows.RowsXml(columns, kinds, heights)


# A mart's sheet of more rows than this is written from the rows left in DuckDB (`TableRows`,
# `xlsx_rows.QueriedRows`): the same file as from the rows fetched, a few times faster for a
# city's 110,000 projects a month.
QUERIED_FROM_ROWS = 5000
_EXACT_NUMBER = re.compile(r"INTEGER|BIGINT|DECIMAL\(\d+,\d+\)")


def _rows_sql(table: Table, what: str) -> str:
    """`what` of the table's rows of a period (the parameter), in the table's order (DuckDB keeps it
    for a query without ORDER BY)."""
    return f"SELECT {what} FROM {table.qualified} WHERE period = ?"


def _rows_of(conn: duckdb.DuckDBPyConnection, table: Table, period: str) -> "list[tuple] | TableRows":
    """The rows of `table` of `period`: fetched, or for a large table whose rows `xlsx_rows` can have
    DuckDB write, left there."""
    count = conn.execute(f"SELECT count(*) FROM {table.qualified} WHERE period = ?", [period]).fetchone()[0]
    cols = table.columns
    if count > QUERIED_FROM_ROWS and (preserved := xlsx_rows.can_query(
            conn, table.qualified, period, [c.name for c in cols], [c.sql_type for c in cols])) is not None:
        return TableRows(conn, table, period, count, preserved)
    return conn.execute(_rows_sql(table, ", ".join(ident(c.name) for c in cols)), [period]).fetchall()


@dataclass
class TableRows:
    """A table's rows of a period, left in DuckDB: `len` is how many; `rows[j]` fetches the values
    of column j (in the rows' order), `contents` what sizes each column."""

    conn: duckdb.DuckDBPyConnection
    table: Table
    period: str
    count: int
    preserved: frozenset[str] | None = None  # `xlsx_rows.can_query`'s text columns with whitespace at an end

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, j: int) -> list:
        column = self.table.columns[j]
        result = self.conn.execute(_rows_sql(self.table, ident(column.name)), [self.period])
        if column.sql_type == "VARCHAR":  # texts through NumPy (NULL masked, None in the list): no tuple a row
            return result.fetchnumpy()[column.name].tolist()
        return [v for v, in result.fetchall()]

    def contents(self, codes: list[str | None]) -> list[list]:
        """Each column's values that `content_width` needs for its width, as for all of them: a
        figure of an exact type (no NaN) in a format of fixed decimals, its smallest, its largest and
        a zero if there is one; a text column, its distinct texts of other characters than ASCII and,
        for the ASCII ones (as wide as they are long: codes, file names), one as long as the longest
        (`ASCII_STAND_IN`) instead of every one; any other column, its distinct values."""
        parts, spans = [], []
        for c, code in zip(self.table.columns, codes):
            x = ident(c.name)
            if _EXACT_NUMBER.fullmatch(c.sql_type) and _fixed_decimals(code):
                parts += [f"min({x})", f"max({x})", f"bool_or({x} = 0)"]
                spans.append(3)
            elif c.sql_type == "VARCHAR":  # (a text is ASCII when it has as many bytes as characters)
                parts += [f"list(DISTINCT {x}) FILTER (WHERE strlen({x}) <> length({x}))",
                          f"max(length({x})) FILTER (WHERE strlen({x}) = length({x}))"]
                spans.append(2)
            else:
                parts.append(f"list(DISTINCT {x})")
                spans.append(1)
        found = self.conn.execute(f"SELECT {', '.join(parts)} FROM {self.table.qualified} WHERE period = ?",
                                  [self.period]).fetchone()
        contents, at = [], 0
        for span in spans:
            if span == 3:
                lo, hi, zero = found[at:at + 3]
                contents.append([lo, hi, *([0] if zero else [])])
            elif span == 2:
                others, longest = found[at:at + 2]
                contents.append([*(others or []), *([ASCII_STAND_IN * longest] if longest is not None else [])])
            else:
                contents.append(found[at])
            at += span
        return contents


ASCII_STAND_IN = "x"  # repeated as long as a column's longest ASCII text: as wide (`display_width`)


def _header_text(text: str) -> str:
    """Text for an Excel page header: `&` doubled (it starts a code there)."""
    return text.replace("&", "&&")


def _print_setup(ws, title: str, period: str, source: SheetSource | None) -> None:
    """A4 landscape, one page wide, the header row on every page, title and periods above,
    page numbers below, gridlines printed."""
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)  # one page wide, as many pages long as it needs
    ws.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.6)
    ws.center_horizontally()
    ws.hide_gridlines(0)  # shown on screen and printed
    ws.repeat_rows(0)
    y, m = int(period[:4]), int(period[5:7])
    right = ""
    if source is not None and source.data_period and source.data_period != period:
        right = f"数据报告期：{source.data_period}（沿用）"
    elif source is not None and source.data_period is None:
        right = "本期无数据"
    ws.set_header(f"&L&B{_header_text(title)}&B&C寿阳县重点工作数据 · {y}年{m}月"
                  + (f"&R{_header_text(right)}" if right else ""), {"margin": 0.3})
    ws.set_footer("&C第 &P 页，共 &N 页", {"margin": 0.3})


def _about_note(table: Table, source: SheetSource, rows: int) -> str:
    """The 说明 sheet's note on a sheet: where its figures come from, and, for a table with more
    rows than an Excel sheet holds below its header, that the sheet lists only the first ones."""
    room = xlsx_rows.rows_below(1)
    if rows <= room:
        return source.note
    cut = (f"共{rows:,}行，超过Excel工作表的行数上限，本表只列出前{room:,}行；"
           f"全部数据请在数据仓库中查询{table.schema}.{table.name}")
    return "；".join(n for n in (source.note, cut) if n)


def _data_time(conn: duckdb.DuckDBPyConnection, period: str) -> datetime | None:
    """The workbook's own time (`xlsx_rows.splice`): when the newest of the files its figures come
    from was received (the current files of its year up to its month), not when it was written, so
    that the same figures make the same file (a month written again as it was keeps its workbook).
    None when no file is known: the time it is written."""
    found = conn.execute(f"SELECT max(received_at) FROM {AUDIT['ingest_log'].qualified} "
                         "WHERE is_current AND period <= ? AND left(period, 4) = ?", [period, period[:4]]).fetchone()
    return found[0].replace(tzinfo=BEIJING) if found and found[0] is not None else None  # (the county's clock)


def write_workbook(conn: duckdb.DuckDBPyConnection, period: str, export_dir: str | Path) -> Path:
    """Write marts_<period>.xlsx (one sheet per mart and per AUDIT_SHEETS table, rows of that
    period); return its path."""
    export_dir = Path(export_dir)
    export_dir.mkdir(parents=True, exist_ok=True)
    path = export_dir / f"marts_{period}.xlsx"
    tmp = export_dir / f".marts_{period}.xlsx.tmp"

    sheets = []
    for name, table in MARTS.items():
        source = sheet_source(conn, name, table, period)
        cols = table.columns
        data = [] if source.data_period is None else _rows_of(conn, table, source.data_period)
        sheets.append((name, table, source, data))
    for name, (table, order, none) in AUDIT_SHEETS.items():
        data = conn.execute(f"SELECT {', '.join(ident(c.name) for c in table.columns)} FROM {table.qualified} "
                            f"WHERE period = ? ORDER BY {order}", [period]).fetchall()
        sheets.append((name, table, SheetSource(period, "" if data else none), data))

    written = io.BytesIO()
    wb = xlsxwriter.Workbook(written, {"strings_to_numbers": False, "strings_to_formulas": False,
                                       "strings_to_urls": False, "constant_memory": True})
    data_rows: dict[int, xlsx_rows.RowsXml] = {}  # sheet number -> its data rows, added by xlsx_rows.splice
    try:
        head = wb.add_format({"bold": True, "bg_color": "#EDF2F7", "border": 1, "text_wrap": True, "valign": "top"})
        title_fmt = wb.add_format({"bold": True, "font_size": 14})
        formats: dict[tuple[str | None, bool], object] = {}

        def fmt(code: str | None, wide: bool):
            """The column format: number format, top-aligned (rows grow with wrapped text), wrapped."""
            key = (code, wide)
            if key not in formats:
                props = {"valign": "top", **({"num_format": code} if code else {}), **({"text_wrap": True} if wide else {})}
                formats[key] = wb.add_format(props)
            return formats[key]

        y, m = int(period[:4]), int(period[5:7])
        about = wb.add_worksheet("说明")
        about_headers = ["工作表", "数据表", "说明", "行数", "数据报告期", "数据来源说明"]
        about_rows = [
            [sheet_name(t), f"{t.schema}.{t.name}", t.comment, len(d), s.data_period or "—", _about_note(t, s, len(d))]
            for n, t, s, d in sheets
        ]
        about.write(0, 0, f"寿阳县重点工作数据仓库 · 指标表（{y}年{m}月，报告期 {period}）", title_fmt)
        about_formats = [None, None, None, "0", None, None]
        widths, wraps = [], []
        for j, h in enumerate(about_headers):
            width, wrap_it = column_width(h, [shown(r[j], about_formats[j]) for r in about_rows])
            widths.append(width)
            wraps.append(wrap_it)
            about.set_column(j, j, width, fmt(about_formats[j], wrap_it))
        about.set_row(2, header_height(about_headers, widths))
        about.write_row(2, 0, about_headers, head)
        for i, row in enumerate(about_rows):
            lines = max((lines_needed(str(v), w) for v, w, wr in zip(row, widths, wraps) if wr), default=1)
            if lines > 1:
                about.set_row(3 + i, row_height(lines))
            about.write_row(3 + i, 0, row)
        _print_setup(about, "说明", period, None)
        about.repeat_rows(2)

        for name, table, source, data in sheets:
            cols = table.columns
            ws = wb.add_worksheet(sheet_name(table))
            ws.freeze_panes(1, 0)
            converters = [_converter(c) for c in cols]
            codes = [number_format(c) for c in cols]
            if isinstance(data, TableRows):
                columns, contents = data, data.contents(codes)
            else:
                columns = contents = list(zip(*data)) if data else [() for _ in cols]
            widths, wrapped_cols = [], []
            for j, c in enumerate(cols):
                text = converters[j] is str
                width, wrap_it = _width(header(c), content_width(contents[j], codes[j]),
                                        TEXT_WIDTH if text else MAX_WIDTH)
                widths.append(width)
                if wrap_it:
                    wrapped_cols.append(j)
                ws.set_column(j, j, width, fmt(codes[j], wrap_it))
            ws.set_row(0, header_height([header(c) for c in cols], widths))
            for j, c in enumerate(cols):
                ws.write(0, j, header(c), head)
                ws.write_comment(0, j, f"{c.name}（{c.sql_type}）\n{c.comment}", {"x_scale": 2, "y_scale": 1.5})
            rows = data_rows[len(wb.worksheets())] = data_rows_of(ws, columns, cols,
                                                                   _row_lines(columns, wrapped_cols, widths))
            if cols:
                ws.autofilter(0, 0, max(len(rows), 1), len(cols) - 1)  # over the rows written
            _print_setup(ws, table.title, period, source)
    finally:
        wb.close()
    xlsx_rows.splice(written.getvalue(), tmp, data_rows, stamp=_data_time(conn, period))
    os.replace(tmp, path)
    return path
