"""The receipt (回执) a department gets back for a file that needs its attention (WAREHOUSE.md,
"For the departments that send the files").

`write_receipt(receipt, path)` writes one workbook from plain data (`Receipt`, built by
`pipeline.py`, which reads the file again with the ingest readers: this room imports no reader):

- `问题清单`: which file (as they named it), when it was received, whether it was loaded, partly
  loaded or sent back, the counts, and one line per problem: row, cell, column as they headed
  it, the value as written, what is wrong, and what happens to it (`退回` a rejected row's cell,
  `提醒` a cell warning, `请核实` a figure that does not fit the previous period). A file rejected
  as a whole also gets the layout that was expected (the dataset's declared columns) and no
  second sheet.
- their own data (`DataSheet`): the sheet that was read, or a CSV's records, every value at its
  own row and column (row 48 of the receipt is row 48 of their file), merged ranges as they
  merged them (the value once, in the range's first cell), every rejected cell filled red, every
  warning or flagged cell yellow, a problem of the whole row (a duplicate key, or a problem with
  no cell) filling the row, and the reasons as cell comments. A problem in a cell a merge hides
  is marked on the merge's first cell, the one the clerk sees. The sheet keeps its name (a sheet
  they named 问题清单 becomes 问题清单（原）, and the text calls it so) and prints on A4
  landscape, one page wide, its rows down to the header on every page.

However many problems a file has, the list shows the first `MAX_LISTED` and counts the rest in one
line by problem and column; the first `MAX_LISTED` cells get comments, every cell its colour. The
workbook is written in openpyxl's write-only mode (their rows streamed), so a receipt of a file
of 200,000 rows costs little beyond the file's own cells; the rows of plain values neither marked
nor commented are written by `xlsx_rows.PlainRows`, as openpyxl writes them but faster.

A file of a dataset's folder rejected for its name (a month its dataset does not report) gets a
receipt in the period its name gives, with the first sheet only (`FileRecord.misnamed`).

Nothing from the data becomes a formula or a link: every text is written as a string cell (a
remark `=HYPERLINK(…)` stays the text it was), and the workbook holds no external link.
"""

from __future__ import annotations

import io
import math
import os
import re
from collections import Counter
from copy import copy
from dataclasses import dataclass, field
from itertools import chain
from datetime import date, datetime, time, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell, WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string, column_index_from_string

from ..catalog.rules import MISSING_KEY, rule_name
from ..catalog.tables import NAMING_MARK
from ..config import BEIJING
from ..text import as_written
from . import RECEIPT_SUFFIX as SUFFIX, xlsx_rows

SUMMARY_SHEET = "问题清单"
# A file system takes 255 bytes in a name; the temporary file beside a receipt adds `.` and
# `.<pid>.tmp` (a pid has at most 7 digits).
NAME_LIMIT = 255 - 13

# What happens to each kind of problem, as the receipt says it.
REJECTED, WARNING, FLAG = "退回", "提醒", "请核实"
# Excel's standard red and yellow: a rejected cell, a cell to look at.
RED, YELLOW = "FFFF0000", "FFFFFF00"
_FILL = {REJECTED: PatternFill("solid", fgColor=RED), WARNING: PatternFill("solid", fgColor=YELLOW),
         FLAG: PatternFill("solid", fgColor=YELLOW)}
_SEVERITY = {REJECTED: 2, WARNING: 1, FLAG: 1}
AUTHOR = "寿阳县重点工作数据管道"
STATUS_WORDS = {"loaded": "已入库", "partial": "部分入库", "rejected": "退回（整个文件未入库）"}
CHECK_STATUS_WORDS = {"loaded": "可以入库", "partial": "部分行不能入库", "rejected": "整个文件不能入库"}
# A cell holds at most this many characters in Excel.
MAX_CELL_CHARS = 32767
# The second sheet is left out of a receipt whose file has more cells than this (the problem list
# still counts every problem). The sheet is streamed row by row (openpyxl's write-only mode), so
# what it costs is the file's cells, read once already.
MAX_DATA_CELLS = 3_000_000
# The problem list lists this many lines, and this many cells of the second sheet get a comment;
# the rest are counted in one line by problem and column (every cell is still coloured). A file
# with 200,000 rows of the same mistake gets a receipt one can open, not 400,000 comments.
MAX_LISTED = 1000
PAPER_A4 = 9
PROBLEM_HEADERS = ("序号", "行号", "单元格", "列（表头原文）", "原值", "问题", "原因", "处理")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")  # not in XML; a lone surrogate not in UTF-8
_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class ReceiptLine:
    """One line of the problem list: a cell (or a whole row, or the file) and what happens to it."""

    row: int | None  # the row number they see (Excel row, or CSV record counting the header as 1)
    cell: str | None  # `I48`; None for a problem of the whole row or the file
    column: str | None  # the column as they headed it
    value: str | None  # the value as they wrote it
    rule: str | None  # the rule code (its Chinese name is the line's 问题); None for a whole file
    reason: str
    action: str  # REJECTED, WARNING or FLAG
    whole_row: bool = False  # marks the whole row (a duplicate key, a row problem with no cell)

    @property
    def line(self) -> tuple:
        """The line as the problem list shows it (without its number)."""
        what = rule_name(self.rule) if self.rule else "整个文件不能入库"
        cell = self.cell or ("整行" if self.whole_row and self.row is not None else None)
        return (self.row, cell, self.column, self.value, what, self.reason, self.action)


@dataclass(frozen=True)
class ExpectedColumn:
    """A column the dataset declares, for the layout a wholly rejected file should have had."""

    header: str
    required: bool
    aliases: tuple[str, ...]
    kind: str  # 金额, 文本 … (Chinese)
    unit: str | None
    description: str


@dataclass
class DataSheet:
    """Their data as they sent it: the sheet that was read (or a CSV's records)."""

    title: str  # the sheet's name (for a CSV, the file's name without extension)
    rows: list[tuple[int, list[object]]]  # (row number, cells from column `first_column` on)
    first_column: int = 1  # the Excel column (1 = A) of each row's first cell
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # (first row, first col, last row, last col), 1-based
    percent_cells: set[tuple[int, int]] = field(default_factory=set)  # (row, column), 1-based: shown as %
    header_row: int | None = None  # the header's row number: the panes freeze below it
    span: tuple[int, int] = (1, 1)  # the first and last column (1-based) a whole-row problem marks
    is_csv: bool = False


@dataclass
class Receipt:
    file_name: str  # as they named it
    file_path: str  # where it lies under the raw dir (dataset folder/name)
    dataset: str
    dataset_title: str
    department: str
    period: str
    status: str  # loaded, partial or rejected
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    received_at: datetime | None = None
    received_from: str | None = None
    problems: list[ReceiptLine] = field(default_factory=list)
    rejection: str | None = None  # why the whole file was rejected (then there is no data sheet)
    expected: list[ExpectedColumn] = field(default_factory=list)
    data: DataSheet | None = None
    notes: list[str] = field(default_factory=list)  # other things the sender should know
    checked_at: datetime | None = None  # set for `shouyang check --receipt`: before sending
    misnamed: bool = False  # rejected for its name or place (a month its cadence does not report), never read

    @property
    def whole_file(self) -> bool:
        return self.rejection is not None

    def count(self, action: str) -> int:
        return sum(p.action == action for p in self.problems)


def receipt_file_name(file_name: str, dataset: str | None = None) -> str:
    """`2023-02__发改局__回执.xlsx` for `2023-02__发改局.xlsx`; with `dataset` (two files of one
    period with the same name in two datasets' folders) `2023-02__统计局__industrial_output__回执.xlsx`."""
    stem = file_name[: len(file_name) - len(Path(file_name).suffix)] if Path(file_name).suffix else file_name
    stem = re.sub(r"[\\/\x00-\x1f]", "_", stem).lstrip(".") or "文件"
    tail = f"__{dataset}{SUFFIX}" if dataset else SUFFIX
    while len(f"{stem}{tail}".encode()) > NAME_LIMIT:
        stem = stem[:-1]
    return f"{stem}{tail}"


# ------------------------------------------------------------------ cells, written safely


def _text(value: str) -> str:
    value = _ILLEGAL.sub("\ufffd", value)
    return value if len(value) <= MAX_CELL_CHARS else value[: MAX_CELL_CHARS - 1] + "…"


_TEXT_OR_BLANK = {str, type(None)}


def _plain_texts(cells) -> bool:
    """Whether a row of texts and blanks is plain as it is: what `_text` and `xlsx_rows.plain` say
    of each cell, told for the row at once: some text, none empty, no character `_text` replaces,
    none starting with `=` (a formula) or `#` (an error value; a text with a later line so started
    is sent the long way), the row within MAX_CELL_CHARS."""
    if not set(map(type, cells)) <= _TEXT_OR_BLANK or "" in cells:
        return False
    joined = "\n".join(filter(None, cells))
    return 0 < len(joined) <= MAX_CELL_CHARS and _plain_joined(joined)


def _plain_joined(joined: str) -> bool:
    """Of texts joined by line breaks (none empty): none starts with `=` or `#`, none holds a
    character `_text` replaces."""
    return (joined[0] not in "=#" and "\n=" not in joined and "\n#" not in joined
            and _ILLEGAL.search(joined) is None)


def _plain_text_rows(rows: list) -> bool:
    """`_plain_texts` of each of `rows` (their cells), told for them all at once; False may hold of
    rows each of which is plain (a row of many long texts: each then told by itself)."""
    cells = list(chain.from_iterable(rows))
    if not set(map(type, cells)) <= _TEXT_OR_BLANK or "" in cells or not all(map(any, rows)):
        return False
    texts = list(filter(None, cells))  # (every row holds one: `any` of each above)
    if max(map(len, texts)) * max(map(len, rows)) > MAX_CELL_CHARS - max(map(len, rows)):
        return False  # (a row's texts and the line breaks between them might pass MAX_CELL_CHARS)
    return _plain_joined("\n".join(texts))


# Consecutive rows told plain at once (`_plain_text_rows`) when a run of them is at least this long,
# this many at a time: a run that is not plain (a formula's text in one row) is told row by row.
PLAIN_BLOCK_ROWS = 1024


def put(ws, row: int, column: int, value: object):
    """Write one value; text always as a string cell, never a formula (`=…`, `+…`, `-…`, `@…`)."""
    cell = ws.cell(row=row, column=column)
    if value is None:
        return cell
    if isinstance(value, str):
        cell.value = _text(value)
        cell.data_type = "s"
    elif isinstance(value, float) and not math.isfinite(value):
        cell.value = str(value)
        cell.data_type = "s"
    elif isinstance(value, (bool, int, float)):
        cell.value = value
    elif isinstance(value, datetime):
        cell.value = value
        cell.number_format = "yyyy-mm-dd" if value.time() == time() else "yyyy-mm-dd hh:mm:ss"
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, (time, timedelta)):
        cell.value = value
    else:
        cell.value = _text(str(value))
        cell.data_type = "s"
    return cell


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _lines(text: str, width: int) -> int:
    """How many lines `text` takes in a wrapped cell `width` characters wide (a CJK character is two)."""
    return max(1, sum(max(1, -(-_display_width(line) // width)) for line in text.split("\n")))


def _sheet_title(name: str, taken: set[str]) -> str:
    title = _SHEET_CHARS.sub("_", name).strip("'") or "原表"
    title = title[:31]
    while title in taken:
        title = (title[:28] + "（原）")[:31] if not title.endswith("（原）") else title[:27] + "_（原）"
    return title


# ------------------------------------------------------------------ the workbook


def data_sheet_title(receipt: Receipt) -> str | None:
    """The name of the receipt's second sheet: their sheet's name, `问题清单（原）` for a sheet
    they named 问题清单 (the receipt's first sheet has that name), None without a second sheet."""
    if receipt.data is None or receipt.whole_file:
        return None
    return _sheet_title(receipt.data.title, {SUMMARY_SHEET})


def write_receipt(receipt: Receipt, path: Path) -> Path:
    """Write the receipt to `path` (through a temporary file beside it: never left half-written).

    The workbook is written in openpyxl's write-only mode: the problem list (short: at most
    `MAX_LISTED` lines) is laid out on an ordinary sheet and copied across, and their data is
    streamed row by row, so a file of 200,000 rows costs its rows, not an object per cell."""
    path = Path(path)
    wb = Workbook(write_only=True)
    scratch = Workbook().active
    _write_summary(scratch, receipt)
    _copy_sheet(scratch, wb.create_sheet(SUMMARY_SHEET))
    rows: dict[int, xlsx_rows.PlainRows] = {}
    if (title := data_sheet_title(receipt)) is not None:
        rows[2] = _write_data(wb.create_sheet(title), receipt.data, receipt.problems)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        saved = io.BytesIO()
        wb.save(saved)
        xlsx_rows.splice(saved.getvalue(), tmp, rows, stamp=_stamp(receipt))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _stamp(receipt: Receipt) -> datetime:
    """The receipt file's own time (`xlsx_rows.splice`): when the clerk checked the file, or when
    the file was received, not when the receipt was written: a run that writes the receipt of an
    unchanged file again writes the same bytes."""
    return (receipt.checked_at or receipt.received_at or _NO_TIME).replace(tzinfo=BEIJING)  # (the county's clock)


_NO_TIME = datetime(1980, 1, 1)  # (the earliest time a zip holds)
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEAD_FILL = PatternFill("solid", fgColor="FFEDF2F7")
_THIN = Side(style="thin", color="FF999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")


def _received(receipt: Receipt) -> str:
    if receipt.checked_at is not None:
        return f"尚未报送（报送前自查，{receipt.checked_at:%Y-%m-%d %H:%M}）"
    if receipt.received_at is None:
        return "—"
    source = f"（{receipt.received_from}）" if receipt.received_from else ""
    return f"{receipt.received_at:%Y-%m-%d %H:%M}{source}"


def _outcome(receipt: Receipt) -> str:
    words = CHECK_STATUS_WORDS if receipt.checked_at is not None else STATUS_WORDS
    status = words.get(receipt.status, receipt.status)
    if receipt.whole_file:
        return status
    loaded, sent_back = ("可以入库", "不能入库") if receipt.checked_at is not None else ("入库", "退回")
    return (f"{status}：读取{receipt.rows_read}行数据，{loaded}{receipt.rows_loaded}行，"
            f"{sent_back}{receipt.rows_rejected}行")


def _counts(receipt: Receipt) -> str:
    rows = len({p.row for p in receipt.problems if p.action == REJECTED and p.row is not None})
    parts = [f"退回 {receipt.count(REJECTED)} 处" + (f"（{rows}行）" if rows else ""),
             f"提醒 {receipt.count(WARNING)} 处", f"请核实 {receipt.count(FLAG)} 处"]
    return "，".join(parts)


def _how_to(receipt: Receipt) -> str:
    if receipt.misnamed:
        fix = "请按退回原因改正（文件名形如 2023-03__发改局.xlsx，报告期须是该报表应报的月份，格式为.xlsx或.csv）"
        if receipt.checked_at is not None:
            return f"文件名或格式不合报送规范，文件未读取：{fix}后再检查、报送。"
        return (f"文件名、存放位置或格式不合报送规范，文件未读取：{fix}后重新报送；"
                "改了文件名的，请同时告知县政府办删除原来的文件，以免重复。")
    if receipt.whole_file:
        return "整个文件未能读入，请按退回原因和下方“应有的列”改正后，用原文件名重新报送。"
    if not receipt.problems:
        return "没有需要改正的地方。"
    what = {REJECTED: "“退回”的行没有入库，请改正后重新报送整个文件（用原文件名）",
            WARNING: "“提醒”的单元格所在行已入库（无法识别的可选单元格存为空值），请核对，下次报送时改正",
            FLAG: "“请核实”是与上期对不上的数字，请改正后重新报送，或在该行“备注”列中说明原因"}
    dropped = sum(p.action == FLAG and p.rule == MISSING_KEY for p in receipt.problems)
    if dropped:  # a key missing from the file has no row to hold a 备注
        what[FLAG] = ("“请核实”中上期在报、本期未报的，漏报的请补上后重新报送，确已不再报送的，请告知县政府办"
                      + ("；其余是与上期对不上的数字，请改正后重新报送，或在该行“备注”列中说明原因"
                         if dropped < receipt.count(FLAG) else ""))
    text = "；".join(line for action, line in what.items() if receipt.count(action)) + "。"
    title = data_sheet_title(receipt)
    if title is not None:
        marked = [p for p in receipt.problems if p.row is not None]  # a missing key has no cell to colour
        yellow = "和".join(a for a in (WARNING, FLAG) if any(p.action == a for p in marked))
        colours = "、".join(c for c, present in (
            ("退回的单元格标为红色", any(p.action == REJECTED for p in marked)),
            (f"{yellow}的单元格标为黄色", yellow)) if present)
        renamed = (f"（您的工作表原名“{receipt.data.title}”，与本回执的“{SUMMARY_SHEET}”同名，加了“（原）”以示区分）"
                   if title != receipt.data.title else "")
        text += f"第二个工作表“{title}”{renamed}是您报送的原表，行号、列号与原文件一致"
        if colours:
            rows = "，整行的问题（如编号重复）标出整行" if any(p.whole_row for p in marked) else ""
            text += f"：{colours}{rows}，原因见单元格批注。"
        else:
            text += "，供对照。"
    return text


def _write_summary(ws, receipt: Receipt) -> None:
    widths = (6, 8, 9, 18, 18, 16, 60, 9)
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    last = len(widths)
    put(ws, 1, 1, "报送文件回执（问题清单）" if receipt.checked_at is None else "报送前自查回执（问题清单）").font = _TITLE
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    facts = [
        ("文件", receipt.file_name),
        ("报表", f"{receipt.dataset_title}（{receipt.department}，文件夹 {receipt.dataset}）"),
        ("报告期", receipt.period),
        ("位置", receipt.file_path),
        ("收到时间", _received(receipt)),
        ("处理结果", _outcome(receipt)),
        ("问题统计", _counts(receipt)),
    ]
    if receipt.rejection:
        facts.append(("退回原因", receipt.rejection))
    facts += [("说明", note) for note in receipt.notes]
    facts.append(("怎么改", _how_to(receipt)))
    r = 3
    for label, value in facts:
        head = put(ws, r, 1, label)
        head.font, head.alignment = _BOLD, _WRAP
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
        cell = put(ws, r, 3, value)
        cell.alignment = _WRAP
        ws.merge_cells(start_row=r, start_column=3, end_row=r, end_column=last)
        lines = _lines(str(value), 125)
        if lines > 1:
            ws.row_dimensions[r].height = 15 * lines
        if label == "处理结果":
            cell.font = Font(bold=True, color="FFC00000" if receipt.status != "loaded" else "FF000000")
        r += 1
    r += 1
    put(ws, r, 1, "问题清单").font = _BOLD
    r += 1
    header_row = r
    for j, h in enumerate(PROBLEM_HEADERS, start=1):
        c = put(ws, r, j, h)
        c.font, c.fill, c.border, c.alignment = _BOLD, _HEAD_FILL, _BOX, _WRAP
    if not receipt.problems:
        r += 1
        put(ws, r, 1, "没有发现问题。")
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=last)
    for n, problem in enumerate(receipt.problems[:MAX_LISTED], start=1):
        r += 1
        for j, value in enumerate((n, *problem.line), start=1):
            c = put(ws, r, j, value)
            c.border, c.alignment = _BOX, _WRAP
        ws.cell(row=r, column=last).fill = _FILL[problem.action]
        lines = max(_lines(problem.reason, 58), _lines(problem.value or "", 16), _lines(problem.column or "", 16))
        if lines > 1:
            ws.row_dimensions[r].height = 15 * min(lines, 20)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    if receipt.problems:
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(last)}{r}"
    if (rest := overflow_line(receipt)) is not None:
        r += 1
        put(ws, r, 1, rest).alignment = _WRAP
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=last)
        ws.row_dimensions[r].height = 15 * min(_lines(rest, 125), 20)
    if receipt.whole_file and receipt.expected:
        r += 2
        put(ws, r, 1, "应有的列（表头行须在前10行内，至少两个单元格为下列列名；其上可有标题行和“填报单位：…　单位：万元”行，"
                      "其下为数据行，可有合计行和填表人等表尾）").font = _BOLD
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=last)
        ws.row_dimensions[r].height = 30
        ws.cell(row=r, column=1).alignment = _WRAP
        r += 1
        heads = ("序号", "列名", "必填", "也可写作", "类型", "单位", "说明")
        spans = ((1, 1), (2, 3), (4, 4), (5, 5), (6, 6), (7, 7), (8, 8))  # the columns each heading uses
        _row(ws, r, heads, spans, head=True)
        for n, col in enumerate(receipt.expected, start=1):
            r += 1
            _row(ws, r, (n, col.header, "是" if col.required else "否", "、".join(col.aliases), col.kind,
                         col.unit or "", col.description), spans)
        r += 1
        put(ws, r, 1, "表头示例（按此顺序填写即可）：" + "｜".join(c.header for c in receipt.expected))
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=last)
        ws.cell(row=r, column=1).alignment = _WRAP
        ws.row_dimensions[r].height = 30
    _print_layout(ws, f"{header_row}:{header_row}")


def overflow_line(receipt: Receipt) -> str | None:
    """`另有N处问题未逐条列出……`: the problems past the first `MAX_LISTED`, counted by what is wrong
    and in which column; None when every problem is listed."""
    rest = receipt.problems[MAX_LISTED:]
    if not rest:
        return None
    groups = Counter((p.action, p.line[4], p.column or "—") for p in rest)
    shown = "；".join(f"{what}（{column}，{action}）{n:,}处" for (action, what, column), n in groups.most_common(20))
    more = f"；其他{len(groups) - 20}类" if len(groups) > 20 else ""
    sheet = ("第二个工作表仍标出每一处的颜色，批注只写在前" + f"{MAX_LISTED:,}处" if receipt.data is not None else "")
    return (f"另有{len(rest):,}处问题未逐条列出（只列出前{MAX_LISTED:,}处{'；' + sheet if sheet else ''}），其中：{shown}{more}。"
            "这类问题多半出自同一原因，请按上面所列改正全部同类单元格，重新报送前可用 shouyang check 自查。")


def _print_layout(ws, title_rows: str | None) -> None:
    """A4 landscape, one page wide, the rows `title_rows` (`1:3`) on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPER_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = title_rows


def _copy_sheet(src, dst) -> None:
    """Copy an ordinary sheet (values, styles, merges, sizes, panes, filter, print layout) into a
    write-only one; every text stays text."""
    for key, dim in src.column_dimensions.items():
        if dim.width:
            dst.column_dimensions[key].width = dim.width
    for number, dim in src.row_dimensions.items():
        if dim.height:
            dst.row_dimensions[number].height = dim.height
    for merged in src.merged_cells.ranges:
        dst.merged_cells.add(str(merged))
    dst.freeze_panes = src.freeze_panes
    if src.auto_filter.ref:
        dst.auto_filter.ref = src.auto_filter.ref
    for name in ("orientation", "paperSize", "fitToWidth", "fitToHeight"):
        setattr(dst.page_setup, name, getattr(src.page_setup, name))
    dst.sheet_properties.pageSetUpPr.fitToPage = src.sheet_properties.pageSetUpPr.fitToPage
    if src.print_title_rows:
        dst.print_title_rows = src.print_title_rows
    styles: dict[tuple, object] = {}  # the few styles of the sheet, each added to the workbook once
    for row in src.iter_rows():
        out: list = []
        for c in row:
            if c.value is None and not c.has_style:
                out.append(None)
                continue
            cell = WriteOnlyCell(dst, value=None if isinstance(c, MergedCell) else c.value)
            if c.value is not None and not isinstance(c, MergedCell):
                cell.data_type = c.data_type
            if c.has_style:
                key = tuple(c._style)
                if key not in styles:
                    cell.font, cell.fill, cell.border = copy(c.font), copy(c.fill), copy(c.border)
                    cell.alignment, cell.number_format = copy(c.alignment), c.number_format
                    styles[key] = copy(cell._style)
                cell._style = copy(styles[key])
            out.append(cell)
        dst.append(out)


def _row(ws, r: int, values: tuple, spans: tuple, *, head: bool = False) -> None:
    for value, (first, last) in zip(values, spans):
        c = put(ws, r, first, value)
        c.border, c.alignment = _BOX, _WRAP
        if head:
            c.font, c.fill = _BOLD, _HEAD_FILL
        if last > first:
            ws.merge_cells(start_row=r, start_column=first, end_row=r, end_column=last)


def _cell_position(cell: str) -> tuple[int, int] | None:
    try:
        letters, row = coordinate_from_string(cell)
        return row, column_index_from_string(letters)
    except ValueError:
        return None


def _write_data(ws, data: DataSheet, problems: list[ReceiptLine]) -> xlsx_rows.PlainRows:
    """Their cells at their own positions, merges as they were, problems marked; `ws` is a
    write-only sheet: everything but the rows is set first, then the rows are streamed in order.
    A row of plain values only, neither marked nor commented (most rows of a big file), is
    appended empty and returned, for `xlsx_rows` to write once the workbook is saved: openpyxl
    takes about 8 µs a cell, xlsx_rows well under one."""
    anchor: dict[tuple[int, int], tuple[int, int]] = {}  # a merged range's other cells -> its first cell
    taken: set[tuple[int, int]] = set()
    for r0, c0, r1, c1 in data.merges:
        covered = [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
        if len(covered) < 2 or taken.intersection(covered):
            continue  # (Excel never overlaps merges; a damaged file's overlapping one is left out)
        taken.update(covered)
        ws.merged_cells.add(f"{get_column_letter(c0)}{r0}:{get_column_letter(c1)}{r1}")
        for position in covered[1:]:
            anchor[position] = (r0, c0)
    by_row = dict(data.rows)
    marks, comments = _marks(data, problems, anchor, by_row)

    widths: dict[int, int] = {}  # from the first rows: a wide table's widths are set by its head
    for number, cells in data.rows[:2000]:
        for j, value in enumerate(cells):
            if value is not None and (number, data.first_column + j) not in anchor:
                shown = value if isinstance(value, str) else str(value)
                column = data.first_column + j
                widths[column] = max(widths.get(column, 0), min(_display_width(shown.split("\n")[0]), 40))
    for column, width in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = max(6, width + 2)
    if data.header_row:
        ws.freeze_panes = f"A{data.header_row + 1}"
    _print_layout(ws, f"1:{data.header_row}" if data.header_row else None)

    marked_rows: dict[int, dict[int, str]] = {}
    for (r, c), action in marks.items():
        marked_rows.setdefault(r, {})[c] = action
    commented_rows: dict[int, dict[int, list[str]]] = {}
    for (r, c), notes in comments.items():
        commented_rows.setdefault(r, {})[c] = notes
    last_row = max([*by_row, *marked_rows, *commented_rows], default=0)
    fills = {}  # action -> the style of a cell of that colour (an openpyxl style set per cell is slow)
    for action, fill in _FILL.items():
        sample = WriteOnlyCell(ws)
        sample.fill = fill
        fills[action] = sample._style
    sent = xlsx_rows.NumberedRows(ws)
    # the styles `_data_cell` gives a date and a time of day, registered once: a row of texts,
    # numbers and dates is then written by xlsx_rows as openpyxl would write it
    day_style, time_style = (_format_style(ws, code) for code in (DAY_FORMAT, TIME_FORMAT))

    def bare(value):
        if type(value) is str:
            return _text(value)
        if isinstance(value, date) and getattr(value, "tzinfo", None) is None:
            timed = isinstance(value, datetime) and value.time() != time()
            return xlsx_rows.dated(value, time_style if timed else day_style)
        return value

    # Rows with a cell a merge covers or a percentage: every cell goes through `_data_cell`.
    special = {r for r, _ in anchor} | {r for r, _ in data.percent_cells}
    lead = [None] * (data.first_column - 1)
    blocks = _plain_blocks(data.rows, special | marked_rows.keys() | commented_rows.keys())
    after_block = 0  # the row after the last block of plain rows sent
    for number in range(1, last_row + 1):
        if number < after_block:
            continue
        if (block := blocks.get(number)) is not None:
            sent.plain_run(number, [lead + cells for cells in block] if lead else block)
            after_block = number + len(block)
            continue
        cells = by_row.get(number, ())
        row_marks = marked_rows.get(number, {})
        row_notes = commented_rows.get(number, {})
        if not row_marks and not row_notes and number not in special:
            if _plain_texts(cells):  # the common row of a CSV, told at once
                sent.plain(number, lead + list(cells))
                continue
            # what `_data_cell` leaves bare for a text, a number or a flag, and its dates; anything else is not plain
            values = list(map(bare, cells))
            if any(v is not None for v in values) and all(map(xlsx_rows.plain, values)):
                sent.plain(number, lead + values)  # written by xlsx_rows once the workbook is saved
                continue
        out: list = [None] * max(data.first_column - 1 + len(cells), *row_marks, *row_notes, 0)
        for j, value in enumerate(cells):
            column = data.first_column + j
            if value is not None and (number, column) not in anchor:
                out[column - 1] = _data_cell(ws, value, (number, column) in data.percent_cells)
        if not row_marks and not row_notes and any(v is not None for v in out) and all(map(xlsx_rows.plain, out)):
            sent.plain(number, out)  # written by xlsx_rows once the workbook is saved
            continue
        for column in set(row_marks) | set(row_notes):
            cell = out[column - 1]
            if not isinstance(cell, Cell):
                cell = out[column - 1] = _styled(ws, cell)
            if column in row_marks:
                if cell.has_style:  # a date or a percentage, coloured
                    cell.fill = _FILL[row_marks[column]]
                else:
                    cell._style = copy(fills[row_marks[column]])
            if column in row_notes:
                notes = row_notes[column]
                comment = Comment(_text("\n".join(notes)), AUTHOR)
                comment.width = 320
                comment.height = min(600, 40 + 18 * sum(1 + _display_width(n) // 34 for n in notes))
                cell.comment = comment
        sent.row(number, out)
    return sent.rows


def _plain_blocks(rows: list[tuple[int, list]], apart: set[int]) -> dict[int, list[list]]:
    """The blocks of consecutive rows none of which is `apart` (marked, commented, merged into or
    formatted as percentages) whose cells are plain texts and blanks (`_plain_text_rows`), as
    lists: the first row's number -> each row's cells, PLAIN_BLOCK_ROWS rows at most a block."""
    blocks: dict[int, list[list]] = {}
    run: list[tuple[int, list]] = []
    for item in [*rows, (None, None)]:  # (a number no row has ends the last run)
        number, cells = item
        if run and (number != run[-1][0] + 1 or number in apart or type(cells) is not list):
            for at in range(0, len(run) - PLAIN_BLOCK_ROWS + 1, PLAIN_BLOCK_ROWS) if len(run) >= PLAIN_BLOCK_ROWS else ():
                block = [cells for _, cells in run[at:at + PLAIN_BLOCK_ROWS]]
                if _plain_text_rows(block):
                    blocks[run[at][0]] = block
            run = []
        if number is not None and number not in apart and type(cells) is list:
            run.append(item)
    return blocks


def _styled(ws, value) -> Cell:
    """A cell for a plain value (`_data_cell` left it bare) that is to be coloured or commented."""
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


DAY_FORMAT, TIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"  # a date, a date with its time of day


def _format_style(ws, code: str) -> int:
    """The workbook's style index of a cell of number format `code` (registered if new)."""
    cell = WriteOnlyCell(ws)
    cell.number_format = code
    return cell.style_id


def _data_cell(ws, value: object, percent: bool):
    """One of their values as the write-only sheet takes it: a bare value where openpyxl writes it
    as it is, else a cell with its type and format set (`put`'s rules: text is never a formula)."""
    if isinstance(value, str):
        value = _text(value)
        # `=…` bare would be a formula, and `#N/A` an Excel error value: text, as they wrote it
        return value if xlsx_rows.text_to_openpyxl(value) else _styled(ws, value)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return _styled(ws, str(value))
        if percent:
            cell = WriteOnlyCell(ws, value=value)
            cell.number_format = "0.0#%"
            return cell
        return value
    if isinstance(value, datetime):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DAY_FORMAT if value.time() == time() else TIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DAY_FORMAT
        return cell
    if isinstance(value, (time, timedelta)):
        return value
    return _styled(ws, _text(str(value)))


def _marks(data: DataSheet, problems: list[ReceiptLine], anchor: dict[tuple[int, int], tuple[int, int]],
           by_row: dict[int, list[object]]) -> tuple[dict[tuple[int, int], str], dict[tuple[int, int], list[str]]]:
    """(cell -> the worst action on it, cell -> its comments) of the problems.

    A cell a merge covers (not its first cell) is hidden behind the merge: its colour and its
    comment go to the merge's first cell, the one the clerk sees (the comment names the cell). The first
    `MAX_LISTED` cells get comments; every cell gets its colour."""
    marks: dict[tuple[int, int], str] = {}
    comments: dict[tuple[int, int], list[str]] = {}

    def mark(position: tuple[int, int], action: str) -> None:
        if _SEVERITY[action] > _SEVERITY.get(marks.get(position, ""), 0):
            marks[position] = action

    def first_filled(row: int, default: int) -> int:
        cells = by_row.get(row, ())
        return next((data.first_column + j for j, v in enumerate(cells)
                     if v is not None and (row, data.first_column + j) not in anchor), default)

    for p in problems:
        if p.row is None:
            continue
        position = _cell_position(p.cell) if p.cell else None
        if p.whole_row or position is None:
            first, last = data.span
            for column in range(first, max(first, last) + 1):
                mark((p.row, column), p.action)
            position = position or (p.row, first_filled(p.row, first))
        else:  # a cell a merge hides: the merge's first cell, the one the clerk sees
            mark(anchor.get(position, position), p.action)
        note = f"【{p.action}】{p.reason}"
        if position in anchor:  # a cell a merge covers shows nothing: its comment goes to the merge
            position, note = anchor[position], f"第{p.row}行（{p.cell}）：{note}"
        if position not in comments and len(comments) >= MAX_LISTED:
            continue
        comments.setdefault(position, [])
        if note not in comments[position]:
            comments[position].append(note)
    return marks, comments


# ------------------------------------------------------------------ which files need one, from the audit tables


@dataclass
class FileRecord:
    """One current file of a period as the audit tables hold it, and the problems that are its
    own: its rejected rows and cell warnings, and its unexplained cross-period flags (rows of
    audit.cross_period_flags as dicts)."""

    file_path: str
    dataset: str
    period: str
    status: str
    submitter: str | None = None
    expected_submitter: str | None = None
    sha256: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str | None = None
    received_at: datetime | None = None
    received_from: str | None = None
    rejected: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)
    name: str | None = None  # the file's own name when it differs from its path's (a clerk's check)
    partition_key: str | None = None  # the dataset-period; None when none holds it (see `period_files`)
    # Rejected for its name or place without being read (a run: no dataset-period holds it, as for
    # a month its dataset's cadence does not report; a check: its name broke the naming rules).
    misnamed: bool = False

    @property
    def file_name(self) -> str:
        return self.name or self.file_path.rsplit("/", 1)[-1]

    @property
    def whole_file(self) -> bool:
        """Rejected as a whole (unreadable, no header, a missing column, a duplicate submission…):
        no row of it was read into audit.rejected_rows."""
        return self.status == "rejected" and not self.rejected

    @property
    def needs_receipt(self) -> bool:
        return bool(self.status == "rejected" or self.rejected or self.warnings or self.flags)

    @property
    def sender(self) -> str:
        return sender_key(self.expected_submitter, self.submitter)


def sender_key(expected_submitter: str | None, submitter: str | None) -> str:
    """Who sent a file, for matching one period's file with the previous period's: the calendar's
    submitter when the file belongs to one, else its `__<submitter>` as written (normalised)."""
    from ..text import norm

    return expected_submitter if expected_submitter else "~" + norm(submitter or "").casefold()


def _records(cur) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def period_files(conn, period: str) -> list[FileRecord]:
    """Every current file of `period` with its own problems.

    A flag's file is the file its row is in (`file_path`). A `missing_key` flag has no row in
    this period: its `file_path` is the previous period's file, where the key was last reported.
    That file is not the one to correct, and the receipt of a file carries what its sender must
    answer, so the flag goes on the receipt of this period's file from the same sender (the same
    calendar submitter, or the same `__<submitter>`) that was read (loaded or partly): "SY2023-041
    was on last month's list and is not on yours". A missing key is only flagged when there is
    such a file (`marts.flags`): a sender that sent nothing, or only a file sent back, has no
    such flag (the reporting calendar lists the submission). It cannot be explained in the file
    (no row to hold a 备注): the receipt asks for it to be added, or the county office told.

    A file of a dataset's folder that no dataset-period holds (`partition_key` NULL: named for a
    month its dataset does not report, as `talent/2023-02.xlsx`) is one of the period its name
    gives: it gets a receipt there, saying what is wrong with the name. (A file whose name gives
    no period, or whose folder is no dataset, has no period or department to send one to: the
    run's summary lists it for the county office.)"""
    from ..catalog.datasets import DATASETS

    logs = _records(conn.execute(
        """SELECT file_path, dataset, period, status, submitter, expected_submitter, sha256, rows_read,
                  rows_loaded, rows_rejected, message, received_at, received_from, partition_key
           FROM audit.ingest_log
           WHERE is_current AND period = ? AND (partition_key IS NOT NULL OR dataset IN (SELECT unnest(?)))
           ORDER BY file_path""", [period, list(DATASETS)]))
    files = {r["file_path"]: FileRecord(**{k: (None if _missing(v) else v) for k, v in r.items()}) for r in logs}
    for f in files.values():
        # never read: no dataset-period holds it, or its name broke a naming rule (a `.xls`, a
        # link), which the ingest's message says by ending with where files belong
        f.misnamed = f.partition_key is None or (f.status == "rejected" and NAMING_MARK in (f.message or ""))
        for name in ("rows_read", "rows_loaded", "rows_rejected"):
            setattr(f, name, int(getattr(f, name) or 0))
    for table, attr in (("rejected_rows", "rejected"), ("cell_warnings", "warnings")):
        for r in _records(conn.execute(
                f"""SELECT * EXCLUDE (raw_row) FROM audit.{table} WHERE period = ?
                    ORDER BY file_path, source_row, source_cell""", [period])):
            if r["file_path"] in files:
                getattr(files[r["file_path"]], attr).append(r)
    flags = _records(conn.execute(
        """SELECT f.*, l.submitter AS previous_submitter, l.expected_submitter AS previous_expected
           FROM audit.cross_period_flags f
           LEFT JOIN audit.ingest_log l ON l.file_path = f.file_path AND l.is_current
           WHERE f.period = ? AND NOT f.explained
           ORDER BY f.dataset, f.file_path, f.source_row, f.rule, f."column" """, [period]))
    for flag in flags:
        owner = assign_flag(flag, list(files.values()))
        if owner is not None:
            owner.flags.append(flag)
    return list(files.values())


def _missing(value) -> bool:
    try:
        return value is None or value != value  # NaN / NaT
    except (TypeError, ValueError):
        return False


def assign_flag(flag: dict, files: list[FileRecord]) -> FileRecord | None:
    """The file of this period whose receipt carries `flag` (see `period_files`)."""
    if flag["rule"] != MISSING_KEY:
        return next((f for f in files if f.file_path == flag["file_path"]), None)
    sender = sender_key(flag.get("previous_expected"), flag.get("previous_submitter"))
    return next((f for f in files if f.dataset == flag["dataset"] and f.sender == sender
                 and f.status in ("loaded", "partial")), None)


def receipt_names(records: list[FileRecord]) -> dict[str, str]:
    """file_path -> its receipt's file name. Two files of one period can share a name in two
    datasets' folders (`industrial_output/2023-02__统计局.xlsx`, `city_indicators/2023-02__统计局.xlsx`)
    or as .csv and .xlsx: their receipts then also name the folder (and the extension). Whatever
    is left alike (names alike but for a character a file name cannot hold, or for case, which a
    Windows share does not tell apart; a contrived name equal to another's longer form) gets
    `_2`, `_3` … in path order: no receipt ever overwrites another."""
    plain = {r.file_path: receipt_file_name(r.file_name) for r in records}
    taken = Counter(name.casefold() for name in plain.values())
    wanted = {}
    for r in records:
        if taken[plain[r.file_path].casefold()] == 1:
            wanted[r.file_path] = plain[r.file_path]
            continue
        stem, suffix = r.file_name.rsplit(".", 1) if "." in r.file_name else (r.file_name, "")
        same_folder = [o for o in records if o.dataset == r.dataset
                       and plain[o.file_path].casefold() == plain[r.file_path].casefold()]
        named = f"{stem}_{suffix}" if len(same_folder) > 1 and suffix else stem
        wanted[r.file_path] = receipt_file_name(named, r.dataset)
    out: dict[str, str] = {}
    used: set[str] = set()
    for file_path in sorted(wanted):
        name, n = wanted[file_path], 1
        while name.casefold() in used:
            n += 1
            base = wanted[file_path][: -len(SUFFIX)]
            while len(f"{base}_{n}{SUFFIX}".encode()) > NAME_LIMIT and len(base) > 1:
                base = base[:-1]  # (the name was as long as a name can be)
            name = f"{base}_{n}{SUFFIX}"
        used.add(name.casefold())
        out[file_path] = name
    return out


# ------------------------------------------------------------------ the receipt of one file


@dataclass(frozen=True)
class FileColumns:
    """Where the file has each dataset column: canonical name -> (Excel column, 1-based; header as written)."""

    columns: dict[str, tuple[int, str]]


def _plain_number(value) -> str | None:
    if value is None or _missing(value):
        return None
    text = format(value, "f") if not isinstance(value, str) else value
    return text.rstrip("0").rstrip(".") if "." in text else text


def issue_problem(r: dict, action: str) -> ReceiptLine:
    """A row of audit.rejected_rows or audit.cell_warnings as a line of the problem list."""
    from ..catalog.rules import DUPLICATE_KEY

    cell = None if _missing(r.get("source_cell")) else r.get("source_cell")
    value = None if _missing(r.get("value")) else r.get("value")
    column = None if _missing(r.get("source_column")) else r.get("source_column")
    row = None if _missing(r.get("source_row")) else int(r["source_row"])
    return ReceiptLine(row, cell, column, value, r["rule"], r["reason"], action,
                   whole_row=r["rule"] == DUPLICATE_KEY or cell is None)


def flag_problem(flag: dict, dataset: str, where: FileColumns | None, data: DataSheet | None) -> ReceiptLine:
    """A flag as a line of the problem list: at its cell (the row's cell in the flagged column,
    the value as written there) for a figure of this file; for a key missing from this file, no
    row or cell: the key, and where it was last reported."""
    from ..catalog.datasets import DATASETS

    ds = DATASETS[dataset]
    if flag["rule"] == MISSING_KEY:
        key_header = "、".join(ds.field(k).header for k in ds.key)
        name = flag.get("key_name")
        value = flag["key"] + (f"（{name}）" if name and not _missing(name) and name not in flag["key"] else "")
        where_last = f"上期（{flag['previous_period']}）见 {flag['file_path']} 第{int(flag['source_row'])}行"
        return ReceiptLine(None, None, key_header, value, flag["rule"],
                       f"{flag['reason']}（{where_last}）：漏报的请补上后重新报送；确已不再报送的，请告知县政府办",
                       FLAG)
    row = int(flag["source_row"])
    cell = column = value = None
    if where is not None and flag.get("column") in where.columns:
        index, column = where.columns[flag["column"]]
        cell = f"{get_column_letter(index)}{row}"
        if data is not None:
            for number, cells in data.rows:
                if number == row:
                    j = index - data.first_column
                    value = as_written(cells[j]) if 0 <= j < len(cells) else None
                    break
    if column is None and flag.get("column"):
        try:
            column = ds.field(flag["column"]).header
        except KeyError:
            column = flag["column"]
    if value is None:
        value = _plain_number(flag.get("value"))
    return ReceiptLine(row, cell, column, value, flag["rule"], flag["reason"], FLAG, whole_row=cell is None)


def expected_columns(dataset: str) -> list[ExpectedColumn]:
    from ..catalog.datasets import DATASETS
    from ..catalog.datasets.base import KIND_NAMES_ZH

    return [ExpectedColumn(f.header, f.required, tuple(f.aliases), KIND_NAMES_ZH.get(f.kind, f.kind), f.unit,
                           f.description) for f in DATASETS[dataset].all_fields]


_AUDIT_WORDS = (("audit.rejected_rows", "本回执的问题清单"), ("audit.cell_warnings", "本回执的问题清单"),
                ("下表“不能入库的行”", "本回执的问题清单"), ("下表“需要留意的单元格”", "本回执的问题清单"))


def clerk_message(message: str | None) -> str | None:
    """The audit log's message about a file, sending the clerk to the receipt instead of the audit tables."""
    if not message:
        return None
    for old, new in _AUDIT_WORDS:
        message = message.replace(old, new)
    return message


def _order(p: ReceiptLine) -> tuple:
    return (p.row is None, p.row or 0, p.cell is None, column_index_from_string(re.sub(r"\d", "", p.cell)) if p.cell else 0,
            {REJECTED: 0, WARNING: 1, FLAG: 2}[p.action], p.reason)


def build_receipt(record: FileRecord, data: DataSheet | None, where: FileColumns | None, *,
                  notes: list[str] | None = None, checked_at: datetime | None = None) -> Receipt:
    """The receipt of one file from its audit record, its data as sent and where its columns are."""
    from ..catalog.datasets import DATASETS

    ds = DATASETS[record.dataset]
    notes = list(notes or [])
    receipt = Receipt(
        file_name=record.file_name, file_path=record.file_path, dataset=record.dataset, dataset_title=ds.title,
        department=ds.department, period=record.period, status=record.status, rows_read=record.rows_read,
        rows_loaded=record.rows_loaded, rows_rejected=record.rows_rejected, received_at=record.received_at,
        received_from=record.received_from, checked_at=checked_at)
    if record.whole_file:
        reason = clerk_message(record.message) or "文件未能读取"
        receipt.rejection = reason
        receipt.misnamed = record.misnamed
        receipt.expected = [] if record.misnamed else expected_columns(record.dataset)
        receipt.problems = [ReceiptLine(None, None, None, None, None, reason, REJECTED)]
        receipt.notes = notes
        return receipt
    if message := clerk_message(record.message):
        notes.insert(0, message)
    receipt.notes = notes
    problems = [issue_problem(r, REJECTED) for r in record.rejected]
    problems += [issue_problem(r, WARNING) for r in record.warnings]
    problems += [flag_problem(f, record.dataset, where, data) for f in record.flags]
    receipt.problems = sorted(problems, key=_order)
    receipt.data = data
    return receipt
