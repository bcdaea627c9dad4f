"""Find the header row and tell data rows from title, totals, subtotal, section, footer and blank rows."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from ..catalog.datasets import Dataset, Field
from ..catalog.datasets.base import SEQUENCE_HEADERS
from ..text import norm, visible
from .read import FileRejected, Grid
from .values import _PRINTABLE_INVISIBLE

HEADER_SEARCH_ROWS = 10
# The hidden sheet `shouyang template` adds for a drop-down list too long to be written into the
# validation itself (`exports.forms.LIST_SHEET`): its first row names each list `<列名>的可选值`.
# The pipeline wrote it, so a filled template is not told that it was not read.
TEMPLATE_LIST_SHEET = "下拉选项"
TEMPLATE_LIST_MARK = "的可选值"
# A unit in brackets at a header's end, in its NFKC text: `总投资(亿元)`, `总投资[万元]`, `总投资【万元】`,
# `总投资(单位:万元)`; or after a slash, `总投资/万元`.
_UNITS = "元|万元|亿元|%|个|人|家|户"
_UNIT_SUFFIX = re.compile(rf"^(?P<name>.+?)\s*(?:[(\[【]\s*(?:单位\s*:?\s*)?(?P<unit>{_UNITS})\s*[)\]】]|/\s*(?P<slashed>{_UNITS}))$")
# Anything in brackets, or after a slash, at a header's end: what a unit the rules do not know
# looks like (`总投资(千元)`, `总投资/万元`), for the message of a column not found.
_ANY_SUFFIX = re.compile(r"^(?P<name>.+?)\s*(?:[(\[【](?P<bracketed>[^)\]】]+)[)\]】]|/(?P<slashed>.+))$")
# A title's money unit, in its NFKC text, spaces kept (`单位：万元`, `单位（亿元）`, `单位 万元`,
# `单位：人民币元`, `金额单位：万元`): a unit followed by no Chinese character, so that a name holding
# one is none (`填报单位：元亨公司`, `各单位元旦慰问金`, `填报单位：县发改局　单位：万元` is 万元).
# Another unit (千元, 百万元, 万美元) is one the figures cannot be read in.
_TITLE_UNIT = re.compile(r"单位\s*[:(]?\s*(?:人民币\s*)?((?:[十百千]?万|[十百千]|万?亿)?美?元)\s*(?:人民币)?(?![\u3400-\u9fff])")
MONEY_UNITS = ("元", "万元", "亿元")
TOTALS = {"合计", "总计", "全县合计"}
# The same, as a township's or a park's file words it, in a row's normalised marker: 全镇合计,
# 全乡合计, 全区合计, 全园区合计, 总合计, 合计: (SUBMISSIONS.md names 合计, 总计 and 全县合计).
_TOTALS_WORDED = re.compile(r"(?:全(?:县|镇|乡|区|园区|市)|总)?(?:合计|总计):?")


def is_totals(marker: str) -> bool:
    """Whether a row's normalised marker cell makes it a totals row (the pattern is tried only on a
    text holding 计: `_surely_data` asks this of nearly every row)."""
    return marker in TOTALS or ("计" in marker and _TOTALS_WORDED.fullmatch(marker) is not None)
FOOTERS = ("填表人", "填报人", "审核人", "负责人", "注:", "说明:")
# 一、… / （一）… / 第一类… / 1、…: the numbering of a heading (1.5 is a number, so "1." is not).
_SECTION = re.compile(r"^([一二三四五六七八九十百]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|第[一二三四五六七八九十\d]+[类部批项章节]|\d+、)")
# A section's number alone in the 序号 column, its heading in the next (`一 | 产业转型类项目`).
_SECTION_NUMBER = re.compile(r"[一二三四五六七八九十百]+[、.．]?|[(（][一二三四五六七八九十\d]+[)）]|第[一二三四五六七八九十\d]+[类部批项章节]")
_HAN = re.compile(r"[\u3400-\u9fff]")

_SEQUENCE = {norm(h).casefold() for h in SEQUENCE_HEADERS}
# Quotation marks, removed from headers before matching (NFKC has already made ＂ and ＇ ASCII).
_QUOTES = str.maketrans("", "", "\"'“”‘’「」『』„‟‹›«»")


def header_key(name: str) -> str:
    """A header name (`split_header`) as compared: without quotation marks of any kind (clerks
    write `“四上”企业数`, `"四上"企业数` and `四上企业数` for the same column), English ones
    case-insensitively."""
    return name.translate(_QUOTES).casefold()


def split_header(text: object) -> tuple[str, str | None]:
    """(normalised name, unit named in brackets at its end, if any). `总投资\n（亿元）` -> ('总投资', '亿元')."""
    name = norm(text)
    m = _UNIT_SUFFIX.match(name)
    if m:
        return m.group("name"), m.group("unit") or m.group("slashed")
    return name, None


def unread_unit_hint(f: Field, ignored: list[str]) -> str:
    """For a required column not found: a header of the file (`ignored`, as written) that is its
    name with a unit the rules cannot read (`总投资(千元)`, `总投资/万元`), said with what to write
    instead; else nothing."""
    names = {header_key(norm(s)) for s in (f.header, f.name, *f.aliases)}
    for written in ignored:
        m = _ANY_SUFFIX.match(norm(written))
        if m is None or header_key(m.group("name").strip()) not in names:
            continue
        unit = re.sub(r"^单位\s*:?\s*", "", (m.group("bracketed") or m.group("slashed")).strip())
        if f.kind == "money":
            return (f"。表头“{written}”中的单位“{unit}”无法识别：{f.header}的单位只能是元、万元或亿元中的一个，写在列名后的括号中"
                    f"或斜杠后，如“{f.header}（万元）”“{f.header}/万元”，或不写单位而在标题中写“单位：万元”；"
                    "其他单位的金额请换算后重新报送")
        return f"。表头“{written}”中的“{unit}”无法识别：请把表头改为“{f.header}”"
    return ""


def header_lookup(dataset: Dataset) -> dict[str, Field]:
    """Every accepted spelling of every column, normalised; English ones compared case-insensitively."""
    table: dict[str, Field] = {}
    for f in dataset.all_fields:
        for spelling in (f.header, f.name, *f.aliases):
            table[header_key(norm(spelling))] = f
    return table


@dataclass
class ColumnMap:
    field: Field
    index: int
    header: str  # as headed in the file
    unit: str | None  # from the header, else the title row, else None


@dataclass
class Layout:
    grid: Grid
    header_row: int  # index into grid.rows
    columns: list[ColumnMap]
    ignored: list[str]  # headers of columns nobody knows, as written (listed in the audit log)
    title_unit: str | None
    sequence: list[str] = field(default_factory=list)  # a 序号 column's header, as written: passed over quietly
    unread_sheets: list[str] = field(default_factory=list)  # other sheets holding data, in workbook order
    hidden_sheets: list[str] = field(default_factory=list)  # the workbook's hidden sheets (never the one read)

    def column(self, name: str) -> ColumnMap | None:
        return self._by_name.get(name)

    def __post_init__(self) -> None:
        self._by_name = {c.field.name: c for c in self.columns}


def _find_header(grid: Grid, lookup: dict[str, Field]) -> int | None:
    for i, (_, cells) in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
        hits = {lookup[key].name for key in (header_key(split_header(c)[0]) for c in cells if c is not None) if key in lookup}
        if len(hits) >= 2:
            return i
    return None


def _holds_data(grid: Grid) -> bool:
    return any(c is not None and not (isinstance(c, str) and not c.strip()) for _, cells in grid.rows for c in cells)


def find_layout(grids: list[Grid], dataset: Dataset) -> Layout:
    """The first visible sheet with a header row; raises FileRejected when there is none or the header is bad.

    Hidden sheets are never read. Every hidden sheet that holds anything, and every visible one
    after the sheet read, is named in `Layout.unread_sheets`, so the clerk knows it was not read
    (visible sheets before it were looked at: they have no header row, like a 填报说明).
    """
    lookup = header_lookup(dataset)
    for grid in grids:
        if grid.hidden:
            continue
        header_index = _find_header(grid, lookup)
        if header_index is None:
            continue
        title_unit = None
        for _, cells in grid.rows[:header_index]:
            for cell in cells:
                m = _TITLE_UNIT.search(visible(cell)) if title_unit is None and isinstance(cell, str) else None
                if m:
                    title_unit = m.group(1)
        columns: list[ColumnMap] = []
        ignored: list[str] = []
        sequence: list[str] = []
        seen: dict[str, ColumnMap] = {}
        header_number = grid.rows[header_index][0]
        for idx, cell in enumerate(grid.rows[header_index][1]):
            if cell is None or norm(cell) == "" or (header_number, idx) in grid.merge_copies:
                continue  # a header merged across columns names only its first column
            name, unit = split_header(cell)
            f = lookup.get(header_key(name))
            written = str(cell).strip()
            if f is None:
                (sequence if name.casefold() in _SEQUENCE else ignored).append(written)
                continue
            if f.name in seen:
                raise FileRejected(
                    f"表头“{seen[f.name].header}”和“{written}”都对应“{f.header}”这一列，请删除其中一列后重新报送"
                )
            cm = ColumnMap(f, idx, written, unit)
            seen[f.name] = cm
            columns.append(cm)
        # Visible sheets before this one were read and hold no header (a 填报说明, a cover): not
        # named. Hidden sheets, and visible ones after this, may hold data nobody looked at.
        position = grids.index(grid)
        unread = [g.sheet for i, g in enumerate(grids) if g is not grid and g.sheet is not None
                  and (g.hidden or i > position) and _holds_data(g) and not _template_lists(g, dataset)]
        hidden = [g.sheet for g in grids if g.hidden and g.sheet is not None]
        return Layout(grid, header_index, columns, ignored, title_unit, sequence, unread, hidden)
    for grid in grids:
        if grid.hidden and _find_header(grid, lookup) is not None:
            raise FileRejected(
                f"表头所在的工作表“{grid.sheet}”是隐藏的，只读取可见的工作表：请在Excel中右键工作表标签→"
                f"“取消隐藏”，显示该工作表后重新保存报送"
            )
    where = "任何工作表的" if len(grids) > 1 else ""
    expected = "、".join(f.header for f in dataset.fields if f.required)
    raise FileRejected(
        f"在{where}前{HEADER_SEARCH_ROWS}行中找不到表头行（至少两个单元格应为已知列名，如：{expected}），请使用{dataset.title}的模板"
    )


def _template_lists(grid: Grid, dataset: Dataset) -> bool:
    """Whether `grid` is the hidden list sheet of this dataset's template: hidden, named
    `下拉选项`, its first row naming only lists of the dataset's columns (`项目级别的可选值`)."""
    if not grid.hidden or grid.sheet != TEMPLATE_LIST_SHEET or not grid.rows or grid.rows[0][0] != 1:
        return False
    headers = {f.header for f in dataset.all_fields}
    named = [c for c in grid.rows[0][1] if c is not None]
    return bool(named) and all(isinstance(c, str) and c.endswith(TEMPLATE_LIST_MARK)
                               and c[: -len(TEMPLATE_LIST_MARK)] in headers for c in named)


def unread_sheets_note(layout: Layout) -> str | None:
    """`工作表“Sheet2”、“上月”（隐藏）中也有数据，未读取；只读取了“Sheet1”`, or None when every other sheet is
    empty (`catalog.tables.UNREAD_SHEETS_NOTE` recognises it in a file's message)."""
    if not layout.unread_sheets:
        return None
    hidden = set(layout.hidden_sheets)
    names = "、".join(f"“{name}”（隐藏）" if name in hidden else f"“{name}”" for name in layout.unread_sheets)
    return f"工作表{names}中也有数据，未读取；只读取了“{layout.grid.sheet}”"


def money_unit(layout: Layout, cm: ColumnMap) -> str:
    """The unit of a money column: its header's, else the title's, else 万元. A title naming a unit
    the figures cannot be read in (千元) rejects the file when a column has no unit of its own."""
    if cm.unit in MONEY_UNITS:
        return cm.unit
    if layout.title_unit is not None and layout.title_unit not in MONEY_UNITS:
        raise FileRejected(f"标题中的金额单位“{layout.title_unit}”无法识别（可用的单位：元、万元、亿元），"
                           f"“{cm.header}”等金额无法换算：请把金额换算为万元（或元、亿元），"
                           f"并把标题改为“单位：万元”后重新报送")
    return layout.title_unit or "万元"


def _is_sequence_number(cell: object) -> bool:
    """A bare whole number, as a 序号 column holds it (1, 2.0, "3", "３")."""
    if isinstance(cell, bool):
        return False
    if isinstance(cell, int):
        return True
    if isinstance(cell, float):
        return cell.is_integer()
    return isinstance(cell, str) and norm(cell).isdigit()


def _marker_cell(cells: list[object], data_columns: Collection[int] | None, copies: Collection[int]) -> str:
    """The first non-empty cell, normalised, after any bare numbers outside `data_columns` (序号)
    and any cell that holds a copy of a merge above it (`copies`)."""
    for idx, cell in enumerate(cells):
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        if data_columns is not None and idx not in data_columns and _is_sequence_number(cell):
            continue
        if idx in copies:
            continue
        return norm(cell)
    return ""


def classify_row(cells: list[object], *, data_columns: Collection[int] | None = None,
                 copies: Collection[int] = ()) -> str | None:
    """The kind of a non-data row, or None for a data row, from this row alone (SUBMISSIONS.md 2).

    Every marker is read in the row's first non-empty cell: a remark `其中省级补助500万元`
    further along does not make a subtotal. For 合计 and 小计/其中 only, when `data_columns`
    (the indices of the columns mapped to the dataset) is given, bare numbers in other columns
    (a 序号) are passed over first, so `3 | 小计 | …` is a subtotal; so are the cells a merge from
    above fills (`copies`, their indices): a 煤矿名称 merged down its faces and their 小计 row
    leaves `段王煤矿 | 小计 | …`, a subtotal; a row holding nothing but such copies (the merge
    reaches a spare row) is blank. A footer-marker row is "footer" here; whether it ends the
    table is for `row_kinds`, which knows what follows it.
    """
    filled_at = [idx for idx, c in enumerate(cells) if c is not None and (not isinstance(c, str) or c.strip())]
    if all(idx in copies for idx in filled_at):
        return "blank"  # nothing of its own: at most what a merge from above spreads into it
    filled = [cells[idx] for idx in filled_at]
    first = norm(filled[0])
    if first.startswith(FOOTERS):
        return "footer"
    if data_columns is None and not copies:
        markers = [first]
    else:  # the first cell of its own, and the first cell whatever it holds (a 合计 merged down)
        markers = [_marker_cell(cells, data_columns, copies), _marker_cell(cells, data_columns, ())]
    if any(is_totals(m) for m in markers):
        return "totals"
    if any(m == "小计" or m.startswith("其中") for m in markers):
        return "subtotal"
    if _SECTION.match(first) and len({norm(c) for c in filled}) == 1:
        return "section"
    if len(filled) > 2 and _SECTION_NUMBER.fullmatch(first) and len(rest := {norm(c) for c in filled[1:]}) == 1:
        # its number in one cell, its heading merged across the others: a heading in one cell is
        # read as a data row (`二 | 丁家坪村` is a village whose figures are missing, sent back)
        (heading,) = rest
        if _HAN.search(heading) and _SECTION_NUMBER.fullmatch(heading) is None:
            return "section"
    return None


def _surely_data(cells: list[object], data_columns: Collection[int] | None) -> bool:
    """True only when `classify_row(cells, data_columns=data_columns)` (no merge copies) is None,
    told quickly; False: ask `classify_row`.

    A text that is printable, holds no space, is already NFKC and holds none of the printable
    invisible characters is its own `norm`, so the markers are looked for in it as it is. An int
    or float reads as ASCII digits (`-3`, `1.5`, `1e+20`, `nan`): no marker starts like that. Any
    other cell (a date, a spaced or unusual text) is left to `classify_row`. The cells are walked
    as `_marker_cell` walks them: bare numbers outside `data_columns` (a 序号) are passed over
    to the first cell that is the row's marker; the first filled cell is also the one a footer
    or a section heading is read in.
    """
    first = True
    for idx, c in enumerate(cells):
        if c is None:
            continue
        t = type(c)
        if t is str:
            if not c or not c.isprintable() or " " in c:
                return False  # blank, spaced or with invisible characters: not its own norm
            if not c.isascii() and (not unicodedata.is_normalized("NFKC", c) or _PRINTABLE_INVISIBLE.search(c)):
                return False
            if first and (c.startswith(FOOTERS) or _SECTION.match(c) or _SECTION_NUMBER.fullmatch(c)):
                return False
            sequence = c.isdigit()
            if not sequence and (is_totals(c) or c == "小计" or c.startswith("其中")):
                return False
        elif t is int:
            sequence = True
        elif t is float:
            sequence = c.is_integer()
        else:
            return False
        if data_columns is None or not sequence or idx in data_columns:
            return True  # the marker cell, and no marker in it (a bare number is none either)
        first = False
    return False  # nothing but 序号: blank, or a row `classify_row` reads


def _code_at(data_columns: Collection[int] | None) -> int | None:
    """Where `_all_surely_data` looks for a row's code: the first cell when it is a data column (or
    all are), the second when the first is not and the second is; None otherwise."""
    if data_columns is None or 0 in data_columns:
        return 0
    return 1 if 1 in data_columns else None


def _plain_span(rows: list[list[object]], data_columns: Collection[int] | None) -> tuple[int, int]:
    """(start, stop): the rows from the first to the last that `_all_surely_data` lets through on
    their own, looked for among the first and the last PLAIN_SPAN_EDGE rows (a title's, a totals'
    or a footer's rows lie outside; a table with no such row near either end is not looked through
    to its other end); (0, 0) when there is none."""
    def plain(i: int) -> bool:
        return _all_surely_data(rows[i:i + 1], data_columns)

    n = len(rows)
    start = next((i for i in range(min(n, PLAIN_SPAN_EDGE)) if plain(i)), None)
    if start is None:
        return 0, 0
    last = next((i for i in range(n - 1, max(start, n - PLAIN_SPAN_EDGE) - 1, -1) if plain(i)), None)
    return (0, 0) if last is None else (start, last + 1)


PLAIN_SPAN_EDGE = 64
PLAIN_BLOCK_ROWS = 4096  # rows of a plain span told at once by `row_kinds`


def _all_surely_data(rows: list[list[object]], data_columns: Collection[int] | None) -> bool:
    """True only when `_surely_data` is True of every row, told for the table at once, column by
    column in C; False: ask it row by row. The common table of a big file: every row's first cell a
    code (`SY2023-000001`: ASCII, printable, no space, not opening a bracket, so neither a marker nor
    a section's number), or a 序号 of ASCII digits (or ints) outside `data_columns` and in the next
    cell, a data column, such a code or a name that holds no marker (a mine's, a village's). No
    marker is ASCII but a bracketed number (`(1)`)."""
    at = _code_at(data_columns)
    if not rows or at is None:
        return False
    try:
        firsts = list(map(itemgetter(0), rows))
        codes = list(map(itemgetter(at), rows)) if at else firsts
    except IndexError:  # a row shorter than that
        return False
    if at:
        kinds = set(map(type, firsts))
        if kinds == {str}:
            numbers = "".join(firsts)
            if not (numbers.isascii() and numbers.isdigit() and all(firsts)):
                return False
        elif kinds != {int}:
            return False
    if set(map(type, codes)) != {str} or not all(codes):
        return False
    joined = "\n".join(codes)  # each code starts a line
    if not ("".join(codes).isprintable() and " " not in joined):
        return False
    if joined.isascii():
        return not joined.startswith("(") and "\n(" not in joined
    # A name after a 序号 (`1 | 段王煤矿 | DW-C01`, `1 | 上湖乡 | 前庄村`): not the row's first cell,
    # so only a totals', a subtotal's or a 其中 marker could be in it (no 计 anywhere, no line
    # starting 其中), once it is its own `norm` (NFKC, which no line break joins across).
    return (at == 1 and "计" not in joined and not ("\n" + joined).count("\n其中")
            and unicodedata.is_normalized("NFKC", joined) and _PRINTABLE_INVISIBLE.search(joined) is None)


# `联系电话：0354-…`, `填报日期: 2023-03-05`: a label and its value, as written under a table.
_LABEL = re.compile(r"^[^\W\d_]{1,8}:")
_DATA_VALUES = 4  # values that make a row data, whatever its first cell looks like


def _is_substantial(cells: list[object], data_columns: Collection[int] | None) -> bool:
    """Whether a data row is one a footer cannot precede: at least two different non-empty
    values in the dataset's columns (a note merged across the row is one value; a note's
    continuation `2、本表金额单位为万元` is one cell), and not a short `label: value` line
    (`联系电话： | 0354-…`). A row of four or more values is data whatever its first cell says
    (`朝阳镇：集中供热改造项目 | SY-9 | 县级 | …`)."""
    values = {norm(c) for idx, c in enumerate(cells)
              if c is not None and (data_columns is None or idx in data_columns)} - {""}
    if len(values) < 2:
        return False
    if len(values) >= _DATA_VALUES:
        return True
    first = next(c for c in cells if c is not None and (not isinstance(c, str) or c.strip()))
    return not (isinstance(first, str) and _LABEL.match(norm(first)))


def row_kinds(rows: Sequence[list[object]], *, data_columns: Collection[int] | None = None,
              copies: list[Collection[int]] | None = None, notes: list[int] | None = None,
              heads: Callable[[int, int], list[list[object]]] | None = None) -> list[str | None]:
    """The kind of every row below the header (None for a data row).

    A footer is a footer only if no data row follows it: the footer starts at the first
    footer-marker row (填表人, 注：…) after the last substantial data row, and every row from
    there on is footer (blank rows stay blank). A footer-marker row with data rows after it is
    a data row, so that a `注：` line in the middle of the data never hides the rows below it
    (the clerk finds it among the rejected rows). `data_columns`, `copies` (one per row): see
    `classify_row`; `notes`, when given, gets the index of each footer-marker row read as data;
    `heads(first, stop)`, when given, the first two cells of those rows (all `_all_surely_data`
    reads of a block of rows), for `rows` that make each row only when it is asked for.
    """
    copies = copies or [()] * len(rows)
    # Most rows of a big file are plain data rows: `_all_surely_data` says so of a block of them at
    # once, `_surely_data` of a row in a few C-level string operations, and `classify_row` decides
    # every other row (and every row a merge fills).
    def one_by_one(first: int, stop: int) -> list[str | None]:
        return [None if not row_copies and _surely_data(cells, data_columns) else
                classify_row(cells, data_columns=data_columns, copies=row_copies)
                for cells, row_copies in zip(rows[first:stop], copies[first:stop])]

    start, stop = _plain_span(rows, data_columns) if not any(copies) else (0, 0)
    # the rows above and below the plain ones (a totals row, a footer) one by one, and those
    # among them a block at a time: a block with a section's row in it (`二、城市建设类项目`) one by one
    kinds: list[str | None] = one_by_one(0, start)
    for first in range(start, stop, PLAIN_BLOCK_ROWS):
        last = min(first + PLAIN_BLOCK_ROWS, stop)
        block = heads(first, last) if heads else rows[first:last]
        kinds += [None] * (last - first) if _all_surely_data(block, data_columns) else one_by_one(first, last)
    kinds += one_by_one(stop, len(rows))
    last_data = next((i for i in range(len(rows) - 1, -1, -1)
                      if kinds[i] is None and _is_substantial(rows[i], data_columns)), -1)
    footer_start = next((i for i in range(last_data + 1, len(rows)) if kinds[i] == "footer"), len(rows))
    for i, kind in enumerate(kinds):
        if i >= footer_start:
            kinds[i] = "blank" if kind == "blank" else "footer"
        elif kind == "footer":
            kinds[i] = None
            if notes is not None:
                notes.append(i)
    return kinds
