"""Turn one file's grid into parsed data rows, skipped-row counts and the totals check."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from functools import lru_cache, reduce
from itertools import compress, count, filterfalse, repeat, zip_longest
from operator import add, is_, is_not

from ..catalog import rules as codes
from ..catalog.datasets import Dataset, Field
from ..catalog.tables import ROW_KINDS
from ..reference import Reference
from ..text import as_written, char_class
from .layout import ColumnMap, Layout, money_unit, row_kinds, split_header
from .read import CsvGrid, CsvLines, LineRecords, cell_name, column_letter, line_record, text_columns
from .values import (EMPTY, PLAIN_NUMBER_PATTERN, CellProblem, is_empty, parse_column, parse_number, parse_numbers,
                     parse_plain_number_column, parse_value, plain_text_column)

TOTALS_TOLERANCE = 0.01


@dataclass
class Issue:
    """One failing cell (or a whole-row problem when `column` is None)."""

    source_row: int
    source_cell: str | None
    column: str | None
    source_column: str | None
    value: str | None
    rule: str
    reason: str


@dataclass(slots=True)  # no __dict__ a row: a million rows are a million dicts fewer to keep and to collect
class Row:
    file: "ParsedFile"
    number: int  # row number a person sees
    position: int  # the row's place in its file's columns (`ParsedFile.columns`)
    # its cells as read; None until asked for, for a file read a column at a time (`cells`)
    read_cells: list[object] | None = field(default=None, repr=False)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def cells(self) -> list[object]:
        """The row's cells as read (a row of a file read a column at a time made from its line)."""
        if self.read_cells is None:
            self.read_cells = line_record(self.file.row_lines[self.position])
        return self.read_cells

    @property
    def values(self) -> "RowValues":
        """canonical column -> parsed value (None when empty or dropped), read from and written to
        its file's columns."""
        return RowValues(self.file.columns, self.position)

    @property
    def is_rejected(self) -> bool:
        return bool(self.errors)

    @property
    def raw(self) -> dict[str, str | None]:
        """The original row: header as written (or the column letter) -> cell as written."""
        headers = self.file.layout.grid.rows[self.file.layout.header_row][1]
        raw = {}
        for idx, cell in enumerate(self.cells):
            header = headers[idx] if idx < len(headers) else None
            key = str(header).strip() if header is not None else column_letter(idx)
            if header is not None or cell is not None:
                raw[key] = clipped(as_written(cell))
        return raw

    def raw_json(self) -> str:
        return json.dumps(self.raw, ensure_ascii=False)


class RowValues(MutableMapping):
    """One row's values, a view of its file's columns: `row.values["township"]` is
    `file.columns["township"][row.position]`, and setting it sets the column's cell."""

    __slots__ = ("_columns", "_at")

    def __init__(self, columns: dict[str, list], at: int) -> None:
        self._columns, self._at = columns, at

    def __getitem__(self, name: str) -> object:
        return self._columns[name][self._at]

    def get(self, name: str, default: object = None) -> object:
        column = self._columns.get(name)
        return default if column is None else column[self._at]

    def __setitem__(self, name: str, value: object) -> None:
        self._columns[name][self._at] = value  # every field has its column (`parse_file`)

    def __delitem__(self, name: str) -> None:
        raise TypeError("a row's values are its file's columns: a column is not removed for one row")

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __iter__(self):
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __repr__(self) -> str:
        return repr(dict(self))


@dataclass
class ParsedFile:
    rel_path: str
    layout: Layout
    rows: list[Row] = field(default_factory=list)
    # canonical column -> its values, one per row in `rows` (None when empty or dropped): every
    # field of the dataset, a column the file does not have as blank cells
    columns: dict[str, list] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=lambda: {k: 0 for k in ROW_KINDS})
    totals_check: str | None = None
    totals_notes: list[str] = field(default_factory=list)
    # a file read a column at a time (`parse_lines`): each row's line, its cells made when asked
    row_lines: list[str] | None = field(default=None, repr=False)

    def column_map(self, name: str) -> ColumnMap | None:
        return self.layout.column(name)


def display_name(cm: ColumnMap) -> str:
    """The column as the clerk headed it, without the unit: used inside reasons."""
    return split_header(cm.header)[0]


# The audit keeps a cell as written up to this many characters (a 30,000-character cell copied into
# every failing cell's reason and raw row would cost gigabytes); the archive keeps the whole file.
AUDIT_CELL_CHARS = 1000


def clipped(text: str | None) -> str | None:
    """`text`, or its first AUDIT_CELL_CHARS characters and how long it was."""
    if text is None or len(text) <= AUDIT_CELL_CHARS:
        return text
    return f"{text[:AUDIT_CELL_CHARS]}…（共{len(text):,}字，此处只记前{AUDIT_CELL_CHARS}字）"


def issue(row_number: int, cm: ColumnMap | None, raw: object, rule: str, reason: str, *,
          declared: Field | None = None, **fmt) -> Issue:
    """One failing cell. `declared`: the column the issue is about, for when the file has no such
    column (a rule on a column the file left out): its declared header stands in the reason."""
    header = display_name(cm) if cm else (declared.header if declared else "")
    written = clipped(as_written(raw))
    if header.endswith("数值"):  # a column headed 数值 or 全市数值: `数值过大`, not `数值数值过大`
        reason = reason.replace("{header}数值", "{header}")
    text = reason.format(header=header, value="" if written is None else written, **fmt)
    return Issue(
        source_row=row_number,
        source_cell=cell_name(row_number, cm.index) if cm else None,
        column=cm.field.name if cm else (declared.name if declared else None),
        source_column=cm.header if cm else None,
        value=written,
        rule=rule,
        reason=text,
    )


def _required_reason(f: Field) -> str:
    hint = "（如为零请填0）" if f.kind in ("money", "integer", "percent") else ""
    return "{header}为必填项，不能为空" + hint


def _uncomputed_reason(f: Field) -> str:
    """A formula cell without a result Excel computed (`Grid.uncomputed`): Excel shows a figure,
    the file holds none."""
    kept = "，不能入库" if f.required else "，已存为空值"
    return ("{header}是公式，文件中没有Excel算出的结果（文件由程序生成，未在Excel中保存过）" + kept
            + "：请用Excel打开文件并保存后重新报送")


def _absent(layout: Layout, dataset: Dataset) -> dict[str, object]:
    """The value of each field the file has no column for: blank cells' (NULL, or FALSE for a boolean)."""
    absent = {f.name: parse_value(f.kind, None) for f in dataset.all_fields if layout.column(f.name) is None}
    return {k: (None if v is EMPTY else v) for k, v in absent.items()}


def _units(layout: Layout) -> dict[int, str]:
    """Each column's unit of money (万元 for the others), by column index."""
    return {cm.index: money_unit(layout, cm) if cm.field.kind == "money" else "万元" for cm in layout.columns}


def parse_file(rel_path: str, layout: Layout, dataset: Dataset, reference: Reference) -> ParsedFile:
    pf = ParsedFile(rel_path, layout)
    grid = layout.grid
    absent, units = _absent(layout, dataset), _units(layout)
    totals_rows: list[tuple[int, list[object]]] = []
    below = grid.rows[layout.header_row + 1:]
    copies = grid.merge_copies_by_row()
    notes: list[int] = []  # footer-marker rows (注：…) read as data: data rows follow them
    kinds = row_kinds([cells for _, cells in below], data_columns={cm.index for cm in layout.columns},
                      copies=[copies.get(number, ()) for number, _ in below], notes=notes)
    other_encoding = grid.other_encoding if isinstance(grid, CsvGrid) else {}
    # A key is compared after NFKC: `ＳＹ２０２３－００３` typed with a Chinese input method is
    # `SY2023-003`, one project, not two.
    keys = {k for k in dataset.key if dataset.field(k).kind == "text"}
    data: list[tuple[int, list[object]]] = []
    for (number, cells), kind in zip(below, kinds):
        if kind is not None:
            pf.skipped[kind] += 1
            if kind == "totals":
                totals_rows.append((number, cells))
            continue
        data.append((number, cells))
    rows = pf.rows = list(map(Row, repeat(pf), (number for number, _ in data), count(), (cells for _, cells in data)))
    if notes:
        _say_notes_read_as_data(rows, {below[i][0] for i in notes})
    # Column by column (values.parse_column); each row's problems still come in column order.
    cells_of = _columns(data)
    uncomputed: dict[int, set[int]] = {}  # column index -> the row numbers of its formulas without a value
    for number, index in grid.uncomputed:
        uncomputed.setdefault(index, set()).add(number)
    parsed = {}
    for cm in layout.columns:
        parsed[cm.field.name] = list(_parse_column(rows, cm, cells_of(cm.index), units[cm.index], grid.percent_cells,
                                                   is_key=cm.field.name in keys,
                                                   texts_only=isinstance(grid, CsvGrid),
                                                   uncomputed=uncomputed.get(cm.index)))  # a list of its own
    # the absent columns first, then the file's (a field in two columns: the last one's values)
    pf.columns = {**{name: [value] * len(rows) for name, value in absent.items()}, **parsed}
    if other_encoding:
        for row in rows:
            if row.number in other_encoding:
                _warn_other_encoding(row, layout, other_encoding[row.number], grid.encoding)
    _check_totals(pf, dataset, totals_rows, cells_of)
    return pf


def _say_notes_read_as_data(rows: list[Row], numbers: set[int]) -> None:
    """A row-level warning on each row that reads like a note under the table (`注：…`, `填表人…`)
    but has data rows after it, so was read as one (`layout.row_kinds`): why, and where a note goes."""
    for row in rows:
        if row.number in numbers:
            first = next((c for c in row.cells if c is not None and (not isinstance(c, str) or c.strip())), "")
            head = str(first).strip()
            head = head if len(head) <= 12 else head[:12] + "…"
            row.warnings.append(Issue(
                source_row=row.number, source_cell=None, column=None, source_column=None, value=None,
                rule=codes.NOTE_READ_AS_DATA,
                reason=f"本行“{head}”像是写在表格下方的说明，但它后面还有数据行，所以按数据行读取：说明文字请写在"
                       "最后一行数据之后，或删去"))


def parse_lines(rel_path: str, layout: Layout, dataset: Dataset, csv_file: CsvLines) -> ParsedFile:
    """`parse_file` of a CSV file each line of which is a record (`read.csv_lines`), `layout` found
    in its grid (`CsvLines.grid`): the same rows, values and problems, its data rows read a
    column at a time (`read.text_columns`) and each row's cells made only when asked for (a row
    with a problem: `Row.cells`). The money and integer columns are read as numbers where their
    text is a plain number, all at once, and by the per-cell parser elsewhere
    (`values.parse_plain_number_column`); the other columns as `parse_file` parses them."""
    pf = ParsedFile(rel_path, layout)
    absent, units = _absent(layout, dataset), _units(layout)
    top = layout.header_row + 1  # the index of the first line below the header (a line is a record)
    below = csv_file.lines[top:]
    notes: list[int] = []
    kinds = row_kinds(LineRecords(csv_file.lines, top), data_columns={cm.index for cm in layout.columns}, notes=notes,
                      heads=lambda first, stop: csv_file.heads(top + first, top + stop))
    totals_rows: list[tuple[int, list[object]]] = []
    for i in compress(range(len(kinds)), map(is_not, kinds, repeat(None))):  # the rows not of data
        pf.skipped[kinds[i]] += 1
        if kinds[i] == "totals":
            totals_rows.append((top + i + 1, line_record(below[i])))
    data_at = list(compress(range(len(kinds)), map(is_, kinds, repeat(None))))
    pf.row_lines = [below[i] for i in data_at]
    rows = pf.rows = list(map(Row, repeat(pf), map(add, data_at, repeat(top + 1)), count()))
    if notes:
        _say_notes_read_as_data(rows, {top + i + 1 for i in notes})
    keys = {k for k in dataset.key if dataset.field(k).kind == "text"}
    texts = text_columns(pf.row_lines, [cm.index for cm in layout.columns], whole=csv_file,
                         at=[top + i for i in data_at]) if rows else {}
    read: dict[int, list] = {}  # column index -> its cells as Python values, when made
    read_numbers: dict[int, tuple] = {}  # money column index -> its numbers as `_number_column` read them

    def cells_of(index: int) -> list:
        if index not in read:
            read[index] = _python_cells(texts[index]) if rows else []
        return read[index]

    parsed = {}
    for cm in layout.columns:
        if cm.field.kind in ("money", "integer") and rows:
            numbers, read_numbers[cm.index] = _number_column(cm, texts[cm.index], units[cm.index])
            parsed[cm.field.name] = list(_parse_column(rows, cm, _LineCells(pf.row_lines, cm.index), units[cm.index],
                                                       set(), is_key=False, parsed=numbers))
        else:
            parsed[cm.field.name] = list(_parse_column(rows, cm, cells_of(cm.index), units[cm.index], set(),
                                                       is_key=cm.field.name in keys, texts_only=True,
                                                       parsed=_plain_text_values(cm, texts.get(cm.index), cells_of)))
    pf.columns = {**{name: [value] * len(rows) for name, value in absent.items()}, **parsed}
    def numbers_of(index: int) -> tuple | None:  # (the totals check's: asked only when the file has a 合计 row)
        if read_numbers.get(index) is None:
            return None
        return _LineCells(pf.row_lines, index), _numbers_as_written(len(rows), *read_numbers[index])

    _check_totals(pf, dataset, totals_rows, cells_of, numbers_of)
    return pf


def _plain_text_values(cm: ColumnMap, texts, cells_of: Callable[[int], list]) -> tuple[list, dict[int, object]] | None:
    """`parse_column` of a text column read by Polars whose every text Polars tells plain
    (`values.plain_text_column`): each text its own value, each blank EMPTY. None for any other
    column, which `parse_column` then parses, and for a column of few distinct texts and few
    blanks (a level, a township), which it parses by its distinct texts more quickly."""
    if cm.field.kind != "text" or texts is None:
        return None
    head = texts.head(256).drop_nulls()  # (told from the first rows, as `_python_cells` tells it)
    if len(head) * 2 > min(len(texts), 256) and head.n_unique() * 4 <= len(head):
        return None
    if not plain_text_column(texts):
        return None
    return cells_of(cm.index), dict.fromkeys(texts.is_null().arg_true().to_list(), EMPTY)


def _python_cells(texts) -> list:
    """A Polars string Series as a list of str and None: a column of few distinct texts (a level,
    a township, a date) made from them, each cell the same object as the others of its text (the
    parsers after hash it once), a column of mostly different ones (codes, names) cell by cell."""
    import numpy as np
    import polars as pl

    head = texts.head(256)  # (told from the first rows first, as `values._unique_texts` tells it)
    if len(head) < 64 or head.n_unique() * 4 > len(head):
        return texts.to_list()
    distinct = texts.drop_nulls().unique(maintain_order=True)
    if len(distinct) * 4 > len(texts):
        return texts.to_list()
    names = distinct.to_list()
    codes = texts.cast(pl.Enum(names)).to_physical().fill_null(len(names)).to_numpy()
    return np.array([*names, None], dtype=object)[codes].tolist()


class _LineCells:
    """A column's cells as `parse_file`'s columns have them, each made from its row's line when asked."""

    def __init__(self, lines: list[str], index: int):
        self._lines, self._index = lines, index

    def __getitem__(self, i: int):
        cells = line_record(self._lines[i])
        return cells[self._index] if self._index < len(cells) else None


def _number_column(cm: ColumnMap, texts, unit: str) -> tuple[tuple[list, dict[int, object]], tuple | None]:
    """A money or integer column (a Polars string Series) parsed as `parse_column` parses its cells,
    and what `_numbers_as_written` needs of it (None when it was left to `parse_column`)."""
    import polars as pl

    plain = texts.str.contains(PLAIN_NUMBER_PATTERN).fill_null(False)
    plain_at = plain.arg_true().to_numpy()
    numbers = texts.filter(plain).cast(pl.Float64, strict=False)
    if numbers.null_count():  # (a plain text its cast does not read: the per-cell parser says why)
        return parse_column(cm.field.kind, texts.to_list(), unit=unit, texts_only=True), None
    other_at = ((~plain) & texts.is_not_null()).arg_true().to_list()
    blank_at = texts.is_null().arg_true().to_list()
    other = dict(zip(other_at, texts.gather(other_at).to_list()))
    plain_numbers = numbers.to_numpy()
    parsed = parse_plain_number_column(cm.field.kind, len(texts), plain_at, plain_numbers, blank_at, other,
                                       lambda at: dict(zip(at, texts.gather(at).to_list())), unit=unit)
    return parsed, (plain_at, plain_numbers, other)


def _numbers_as_written(n: int, plain_at, plain_numbers, other: dict[int, str]) -> list:
    """`parse_numbers` of a column `_number_column` read: a plain text is float() of it."""
    out: list = [EMPTY] * n
    for i, x in zip(plain_at.tolist(), plain_numbers.tolist()):
        out[i] = x
    for i, text in other.items():
        out[i] = EMPTY if is_empty(text) else parse_number(text)
    return out


def _columns(data: list[tuple[int, list[object]]]):
    """The data rows turned into columns in one pass (a row shorter than others reads as None
    past its last cell); returns a look-up from column index to that column's cells."""
    transposed = list(zip_longest(*(cells for _, cells in data)))
    blank = (None,) * len(data)
    return lambda index: transposed[index] if index < len(transposed) else blank


def _parse_column(rows: list[Row], cm: ColumnMap, cells: list[object], unit: str,
                  percent_cells: set[tuple[int, int]], *, is_key: bool, texts_only: bool = False,
                  uncomputed: set[int] | None = None, parsed: tuple[list, dict] | None = None) -> list[object]:
    """The column's values, one per row (None when empty or unreadable); its problems appended to
    each row's errors (a required column) or warnings, and the warnings about garbled text.
    `uncomputed`: the row numbers of its formulas without a computed result (empty, and said so).
    `parsed`: `parse_column`'s (values, odd) of the cells, when parsed already (`cells` is then
    only asked for the odd ones)."""
    f = cm.field
    if parsed is None:
        percent = ({i for i, row in enumerate(rows) if (row.number, cm.index) in percent_cells}
                   if f.kind == "percent" and percent_cells else frozenset())
        parsed = parse_column(f.kind, cells, unit=unit, percent_formatted=percent, texts_only=texts_only)
    values, odd = parsed
    if uncomputed:
        for i, row in enumerate(rows):
            if row.number in uncomputed:
                (row.errors if f.required else row.warnings).append(
                    issue(row.number, cm, None, codes.UNCOMPUTED_FORMULA, _uncomputed_reason(f)))
                odd.pop(i, None)  # its one problem
    for i, parsed in odd.items():
        row = rows[i]
        if parsed is EMPTY:
            if f.required:
                row.errors.append(issue(row.number, cm, cells[i], codes.REQUIRED, _required_reason(f)))
        else:
            target = row.errors if f.required else row.warnings
            target.append(issue(row.number, cm, cells[i], parsed.rule, parsed.reason))
    if f.kind == "text":
        # Each distinct text once: a key in NFKC (`ＳＹ２０２３－００３` is `SY2023-003`), then
        # the mark of mojibake looked for; only the cells of a garbled text are visited again.
        distinct = set(values)
        distinct.discard(None)
        spelt = set(filterfalse(str.isascii, distinct))
        if is_key:
            nfkc = {v: unicodedata.normalize("NFKC", v) for v in spelt}
            changed = {v: n for v, n in nfkc.items() if n != v}
            if changed:
                values = [changed.get(v, v) if v is not None else None for v in values]
            spelt = set(filterfalse(str.isascii, nfkc.values()))
        garbled = {}
        for v in _not_vouched_for(spelt):
            if (reading := garbled_reading(v)) is not None:
                garbled[v] = reading
        if garbled:
            for i, value in enumerate(values):
                if value in garbled:
                    row, reading = rows[i], garbled[value]
                    row.warnings.append(issue(row.number, cm, cells[i], codes.GARBLED_TEXT,
                                              _garbled_reason(reading), reading=reading))
    return values


def _warn_other_encoding(row: Row, layout: Layout, encoding: str, file_encoding: str) -> None:
    """A CSV row saved in another encoding than the rest of the file: read right, but said so, on
    each of its cells whose reading depends on the encoding (or on the row, when none of them)."""
    told = f"本行是以{encoding}编码保存的，与文件其余各行（{file_encoding}）不同，已按{encoding}读取"
    ask = "；请将整个文件以同一种编码保存（建议在Excel中另存为“CSV UTF-8”）"
    cells = [(cm, row.cells[cm.index]) for cm in layout.columns if cm.index < len(row.cells)
             and isinstance(row.cells[cm.index], str) and not row.cells[cm.index].isascii()]
    for cm, value in cells:
        row.warnings.append(issue(row.number, cm, value, codes.MIXED_ENCODING, told + "为“{value}”，请核对" + ask))
    if not cells:
        row.warnings.append(Issue(source_row=row.number, source_cell=None, column=None, source_column=None,
                                  value=None, rule=codes.MIXED_ENCODING, reason=told + ask))


def _garbled_reason(reading: str) -> str:
    """A template for `issue`, with {reading} when what the text meant can be told."""
    meant = "，按UTF-8重新解读为“{reading}”" if reading else ""
    return "{header}“{value}”疑似乱码（文件编码有误" + meant + "），已按原样保存，请检查文件编码后重新报送"


# CJK ideographs (basic, extension A, compatibility): what mojibake of Chinese decodes back to.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def _cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def _common_share(text: str) -> float:
    """The share of its non-ASCII characters that are among the 3755 most common hanzi (GB2312
    level 1, lead bytes B0-D7), or full-width punctuation."""
    chars = [ch for ch in text if not ch.isascii()]
    if not chars:
        return 0.0
    common = 0
    for ch in chars:
        try:
            lead = ch.encode("gb2312")[0]
        except UnicodeEncodeError:
            continue
        common += 0xB0 <= lead <= 0xD7 or lead in (0xA1, 0xA3)
    return common / len(chars)


def _plausible(reading: str, text: str) -> bool:
    """Whether a re-reading of the text reads as Chinese, and as more ordinary Chinese than the
    text itself: mojibake is made of rare characters (鍚嶇О), what it meant mostly of common ones."""
    share = _common_share(reading)
    return share >= 0.5 and share > _common_share(text)


def _gbk_bytes(text: str) -> bytes:
    """The text as GBK bytes, as Windows (cp936) writes it: a lone 0x80 reads there as €."""
    if "€" not in text:
        return text.encode("gb18030")
    return b"".join(b"\x80" if ch == "€" else ch.encode("gb18030") for ch in text)


def _common_chars() -> str:
    """The non-ASCII characters `_common_share` counts as common, as a regex character class."""
    chars = set()
    for lead in (0xA1, 0xA3, *range(0xB0, 0xD8)):
        for trail in range(0xA1, 0xFF):
            try:
                ch = bytes((lead, trail)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            if not ch.isascii() and ch.encode("gb2312")[0] == lead:
                chars.add(ord(ch))
    return char_class(chars)[1:-1]


# Text of ASCII and common characters only, with one beyond cp1252: `garbled_reading` finds
# nothing in it (a reading must be of more common characters than the text, and the text's
# are all common), so the columns of names skip it without filling its cache.
_COMMON_TEXT = re.compile("[\x00-\x7f" + _common_chars() + "]*")


def reads_as_written(text: str) -> bool:
    """A quick, exact `garbled_reading(text) is None` for most Chinese text (False: ask it)."""
    return max(text) > "\u2122" and _COMMON_TEXT.fullmatch(text) is not None


# A line of nothing beyond cp1252 (™), line breaks aside.
_UP_TO_CP1252_LINE = re.compile("^[\x00-\x09\x0b-\u2122]*$", re.MULTILINE)


# A character `_COMMON_TEXT` does not take: a text holding one is not vouched for.
_UNCOMMON = re.compile("[^\x00-\x7f" + _common_chars() + "]")


def _lines_holding(pattern: re.Pattern, text: str) -> set[str]:
    """The lines of `text` (without their line breaks) holding a match of `pattern`: after a
    match the search goes on from the end of its line, so each line is sliced at most once."""
    lines = set()
    match = pattern.search(text)
    while match is not None:
        at = match.start()
        end = text.find("\n", at)
        if end == -1:
            end = len(text)
        lines.add(text[text.rfind("\n", 0, at) + 1:end])
        match = pattern.search(text, end + 1)
    return lines


def _not_vouched_for(texts: set[str]) -> list[str]:
    """The texts `reads_as_written` cannot vouch for, told for all of them at once when none
    holds a line break: those holding a character `_COMMON_TEXT` does not take, found in one pass
    over them joined, and those with nothing beyond cp1252 (™), found in another; otherwise
    `reads_as_written` of each."""
    if not texts:
        return []
    texts = list(texts)
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:
        return [v for v in texts if not reads_as_written(v)]
    uncommon = _lines_holding(_UNCOMMON, joined)
    return list(uncommon.union(_UP_TO_CP1252_LINE.findall(joined)))


@lru_cache(maxsize=65536)
def garbled_reading(text: str) -> str | None:
    """Whether a text cell carries the marks of mojibake; returns what it was meant to say
    ("" when that cannot be told), or None for text that reads as written.

    - UTF-8 read as GBK (`椤圭洰鍚嶇О` for 项目名称): the text encoded back as GB18030 is valid
      UTF-8 with Chinese in it. Genuine Chinese in GBK is practically never valid UTF-8 as a
      whole. When a byte was lost (an odd byte count, the `?` Excel puts for what it cannot
      read), each run of non-ASCII characters is tried with up to two bytes cut at either end,
      and must then read as at least two Chinese characters.
    - UTF-8 read as cp1252 or latin-1 (`é¡¹ç›®`): the text encoded back byte by byte is UTF-8
      with Chinese in it; genuine Chinese cannot be encoded so at all.
    - `锟斤拷` or U+FFFD: a replacement character, the trace of a failed decoding.
    """
    if "\ufffd" in text or "锟斤拷" in text:
        return ""
    if text.isascii():
        return None
    if max(text) <= "\u2122":  # nothing beyond cp1252 (™): perhaps UTF-8 read as cp1252 / latin-1
        raw = bytearray()
        for ch in text:
            try:
                raw += ch.encode("cp1252")
            except UnicodeEncodeError:
                if ord(ch) > 0xFF:
                    return None
                raw.append(ord(ch))  # the five bytes cp1252 leaves undefined read as latin-1
        reading = bytes(raw).decode("utf-8", errors="replace")
        broken = reading.count("\ufffd")
        if _cjk_count(reading) >= 1 + broken and broken <= 1:
            return reading.replace("\ufffd", "")
        return None
    try:
        raw = _gbk_bytes(text)
    except UnicodeEncodeError:  # a lone surrogate
        return None
    try:
        reading = raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if reading != text and _cjk_count(reading) >= 1 and _plausible(reading, text):
            return reading
    for run in _NON_ASCII_RUN.findall(text):
        if len(run) < 3:
            continue
        piece = _gbk_bytes(run)
        for start in (0, 1, 2):
            for end in (0, 1, 2):
                try:
                    reading = piece[start:len(piece) - end].decode("utf-8")
                except UnicodeDecodeError:
                    continue
                if _cjk_count(reading) >= 2 and _plausible(reading, run):
                    return ""
    return None


def _check_totals(pf: ParsedFile, dataset: Dataset, totals_rows: list[tuple[int, list[object]]],
                  cells_of=None, numbers_of=None) -> None:
    """Compare each money column's 合计 with the sum of its readable cells over all data rows.

    `pf.totals_notes` says what was found, including what could not be compared and why (a
    total that is not a number, a formula stored without its computed value, a blank total row):
    "合计行核对一致" only when something was compared and nothing was left out.
    `pf.totals_check`: "mismatch", "ok" (at least one total compared, all equal) or None
    (nothing compared).
    """
    layout = pf.layout
    money = [cm for cm in layout.columns if cm.field.kind == "money"]
    if not totals_rows or not pf.rows or not money:
        return  # a file with no data rows is rejected for that; its 合计 says nothing more
    uncomputed = layout.grid.uncomputed
    compared = mismatch = False
    unchecked: list[str] = []
    read: dict[int, tuple[list[object], list[object]]] = {}  # column index -> (cells, parse_numbers of them)
    for number, cells in totals_rows:
        formulas = []
        for cm in money:
            value = cells[cm.index] if cm.index < len(cells) else None
            if is_empty(value):
                if (number, cm.index) in uncomputed:
                    formulas.append(f"{cell_name(number, cm.index)}（{display_name(cm)}）")
                continue  # a blank (or `-`) total is not checked
            stated = parse_number(value)
            unit = money_unit(layout, cm)
            if isinstance(stated, CellProblem):
                unchecked.append(
                    f"合计行{cell_name(number, cm.index)}（{display_name(cm)}）“{as_written(value)}”不是数字，未核对"
                )
                continue
            compared = True
            if cm.index not in read and numbers_of and (told := numbers_of(cm.index)) is not None:
                read[cm.index] = told  # (cells as written, `parse_numbers` of them) from a columnar reading
            if cm.index not in read:
                column = (cells_of(cm.index) if cells_of else
                          [row.cells[cm.index] if cm.index < len(row.cells) else None for row in pf.rows])
                read[cm.index] = (column, parse_numbers(column))
            total, unreadable, blank_formulas = 0.0, [], []
            numbers = read[cm.index][1]
            if set(map(type, numbers)) == {float}:  # every cell a number: added in C, in the same order
                total = reduce(add, numbers, 0.0)
            else:
                column_cells = read[cm.index][0]  # (asked only for an unreadable cell: a columnar reading makes it then)
                for i, (row, n) in enumerate(zip(pf.rows, numbers)):
                    if n is EMPTY:
                        if (row.number, cm.index) in uncomputed:
                            blank_formulas.append(cell_name(row.number, cm.index))
                        continue
                    if isinstance(n, CellProblem):
                        unreadable.append(f"{cell_name(row.number, cm.index)}“{as_written(column_cells[i])}”")
                    else:
                        total += n  # in row order, as always: the same float sum to the last bit
            if abs(total - stated) > TOTALS_TOLERANCE + 1e-9:
                mismatch = True
                note = (f"合计行与明细不符：{display_name(cm)}合计为{_fmt(stated)}{unit}，"
                        f"明细行相加为{_fmt(total)}{unit}（第{number}行）")
                if unreadable:
                    note += "；未计入无法识别的单元格：" + "、".join(unreadable)
                if blank_formulas:
                    note += "；未计入未保存计算结果的公式单元格：" + "、".join(blank_formulas)
                pf.totals_notes.append(note)
        if formulas:
            unchecked.append(f"合计行为公式且未保存计算结果，未核对（{'、'.join(formulas)}）："
                             "请在Excel中打开文件、保存后重新报送")
    pf.totals_notes += unchecked
    if mismatch:
        pf.totals_check = "mismatch"
    elif compared:
        pf.totals_check = "ok"
        pf.totals_notes.append("合计行其余各列核对一致" if unchecked else "合计行核对一致")
    elif not unchecked:
        pf.totals_notes.append("合计行未填写金额，未核对")


def _fmt(x: float) -> str:
    return f"{x:,.4f}".rstrip("0").rstrip(".")
