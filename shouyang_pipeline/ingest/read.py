"""Read a submission's cells: CSV in UTF-8 or GB18030, XLSX with merges, formulas and percent formats.

A `Grid` is what every later step sees, whatever the format: rows of plain Python values
(str, int, float, datetime, bool or None) with the row number a person sees.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import io
import operator
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import time as dt_time
from itertools import compress, count, repeat

import numpy as np
from python_calamine import CalamineWorkbook, SheetVisibleEnum

from .xlsx_limits import (DAMAGED, MAX_COLUMNS, MAX_MERGED_CELLS, MAX_SHEET_CELLS, XlsxRejected, general_format_copy,
                          inspect_xlsx, is_percent_format, plain_markup_copy, unreadable_cells_copy)

_MIDNIGHT = dt_time(0, 0)  # a 0 in a date or time format, as calamine reads it


class FileRejected(Exception):
    """A problem that rejects the whole file; the message is Chinese, for the clerk."""


@dataclass
class Grid:
    sheet: str | None
    rows: list[tuple[int, list[object]]]  # (row number as Excel shows it / CSV record number, cells)
    percent_cells: set[tuple[int, int]] = field(default_factory=set)  # (row number, column index)
    merge_copies: set[tuple[int, int]] = field(default_factory=set)  # cells filled from a merge's top-left
    # an XLSX sheet's merged ranges as the reader gave them, ((first row, column), (last row, column)), 0-based
    merges: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    hidden: bool = False  # an XLSX sheet hidden (or "very hidden") in Excel
    uncomputed: set[tuple[int, int]] = field(default_factory=set)  # formula cells without a value Excel computed (read as empty)

    def merge_copies_by_row(self) -> dict[int, set[int]]:
        """Row number -> the column indexes of its cells filled from a merge's top-left."""
        by_row: dict[int, set[int]] = {}
        for number, index in self.merge_copies:
            by_row.setdefault(number, set()).add(index)
        return by_row


def _blanks_to_none(rows: list[list[object]]) -> None:
    """Every empty-string cell made None, in place: each row's blanks counted and found by C-level
    searches, each from where the last one stopped (a row 16,384 blanks wide is walked once)."""
    index = list.index
    for cells in rows:
        blanks, at = cells.count(""), -1
        while blanks:
            at = index(cells, "", at + 1)
            cells[at] = None
            blanks -= 1


def column_letter(col_index: int) -> str:
    """`I` for column index 8 (0-based)."""
    from openpyxl.utils import get_column_letter  # (imported when first needed: not at a run's start)

    return get_column_letter(col_index + 1)


def cell_name(row_number: int, col_index: int) -> str:
    """`I48` for column index 8 (0-based) of row 48."""
    return f"{column_letter(col_index)}{row_number}"


UTF8, GBK = "UTF-8", "GBK"  # GBK: what a Chinese Windows calls ANSI; read as GB18030, which covers it
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass
class CsvGrid(Grid):
    encoding: str = UTF8  # the file's encoding: that of most of its lines
    other_encoding: dict[int, str] = field(default_factory=dict)  # record number -> the other encoding


@dataclass
class _Decoded:
    text: str
    encoding: str
    other: list[tuple[int, str]]  # (offset in text where a line in the other encoding starts, its encoding)


def _decode(data: bytes) -> _Decoded:
    """UTF-8 (with or without BOM) tried strictly first, then GB18030, line by line.

    A whole file in UTF-8 is the common case and is decoded at once. Otherwise each line (its
    bytes up to a line break: b"\n" and b"\r" are never part of a multi-byte character in UTF-8,
    GBK or GB18030) is UTF-8 when it is valid UTF-8, else GB18030: a GBK file into which one
    row was pasted in UTF-8 reads right. A line in neither rejects the file. A line that is valid UTF-8 without
    any Chinese in it (`×`, `—`) is ambiguous: short GBK text can be valid UTF-8 too, so it
    takes the encoding of the rest of the file when it decodes in it.
    """
    body = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    try:
        return _Decoded(body.decode("utf-8"), UTF8, [])
    except UnicodeDecodeError:
        pass
    lines = body.splitlines(keepends=True)  # at b"\n", b"\r\n" or b"\r"
    decoded: list[str] = []
    kinds: list[str | None] = []  # UTF8, GBK, "?" (ambiguous) or None (ASCII: the same in both)
    for line in lines:
        if line.isascii():
            decoded.append(line.decode("ascii"))
            kinds.append(None)
            continue
        try:
            text = line.decode("utf-8")
            kinds.append(UTF8 if _CJK.search(text) else "?")
        except UnicodeDecodeError as not_utf8:
            try:
                text = line.decode("gb18030")
            except UnicodeDecodeError as not_gbk:
                raise FileRejected(_undecodable("".join(decoded), line, not_utf8, not_gbk)) from None
            kinds.append(GBK)
        decoded.append(text)
    utf8, gbk = kinds.count(UTF8), kinds.count(GBK)
    if utf8 != gbk:
        encoding = UTF8 if utf8 > gbk else GBK
    else:  # as many of each (or none): the first line that tells, the header's or the title's
        encoding = next((k for k in kinds if k in (UTF8, GBK)), UTF8)
    other: list[tuple[int, str]] = []
    offset = 0
    for i, kind in enumerate(kinds):
        if kind == "?":
            if encoding == GBK:
                try:
                    decoded[i] = lines[i].decode("gb18030")
                    kind = GBK
                except UnicodeDecodeError:
                    kind = UTF8
            else:
                kind = UTF8
        if kind is not None and kind != encoding:
            other.append((offset, kind))
        offset += len(decoded[i])
    return _Decoded("".join(decoded), encoding, other)


def _undecodable(before: str, line: bytes, not_utf8: UnicodeDecodeError, not_gbk: UnicodeDecodeError) -> str:
    """Why a file with a line in neither encoding is rejected, naming the row (a record, as the
    file's rows are counted) and, when the line starts its record, the cell where the bytes
    neither encoding reads begin: `before` is the file's text up to that line."""
    # where the line stops being readable: as far as the encoding that read more of it got
    start, got, end = max((not_utf8.start, "utf-8", not_utf8.end), (not_gbk.start, "gb18030", not_gbk.end))
    bad = line[start:min(end, start + 4)].hex(" ").upper()  # (the bytes it could not read there, at most four)
    try:
        records = len(_records(_lines(before))[0]) if before else 0
    except FileRejected:  # (the lines before have a problem of their own: the line is counted)
        records = before.count("\n") + before.count("\r") - before.count("\r\n")
    if _unclosed_quote(before):  # the line goes on a record a quoted cell of which spans lines
        where = f"第{records}行"
    else:
        fields = next(csv.reader([line[:start].decode(got)]), [])
        column = max(len(fields), 1)
        where = f"第{records + 1}行第{column}列（{cell_name(records + 1, column - 1)}）"
    return (f"文件编码无法识别：{where}有既不是UTF-8也不是GBK/GB18030的字节（{bad}），整个文件无法读取。"
            "请检查该单元格（常见原因是从别的软件粘贴来的乱码），或在Excel中另存为“CSV UTF-8”后重新报送")


def decode_csv(data: bytes) -> str:
    """The text of a CSV file: UTF-8 or GB18030, line by line (see `_decode`)."""
    return _decode(data).text


def _unclosed_quote(text: str) -> bool:
    """Whether a record ends inside a quoted field, as the csv module parses it (excel dialect)."""
    state = "start"  # start of a field, "field" (unquoted), "quoted", "quote" (a quote inside quotes)
    for ch in text:
        if state == "quoted":
            if ch == '"':
                state = "quote"
        elif ch == ",":
            state = "start"
        elif ch in "\r\n":
            state = "start"
        elif state == "start":
            state = "quoted" if ch == '"' else "field"
        elif state == "quote":
            state = "quoted" if ch == '"' else "field"
    return state == "quoted"


# As many lines as an XLSX sheet may have rows (xlsx_limits.MAX_ROWS): a CSV of blank lines
# costs memory per line like one of data.
MAX_CSV_LINES = 200_000
# A quoted cell spanning lines, one of which holds this many commas, has swallowed records.
_SWALLOWED_COMMAS = 3


def _not_a_csv(data: bytes) -> str | None:
    if data[:4] == b"PK\x03\x04":
        return "这是一个Excel工作簿（.xlsx），扩展名却是.csv：请把扩展名改为.xlsx，或在Excel中另存为“CSV UTF-8”后重新报送"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "这是旧版Excel（.xls）或加密的Office文件，扩展名却是.csv：请在Excel中另存为“CSV UTF-8”或.xlsx后重新报送"
    return None


def _swallowed(records: list[list[str]], first_lines: range | list[int], line_count: int) -> tuple[int, int] | None:
    """(record number, lines) of the first quoted cell that runs over lines looking like records:
    a quote left open in one row and closed in a later one, everything between in one cell.
    Only a record over several lines (`first_lines`: the index of each record's first line, of
    `line_count` lines) can hold a line break in a cell: only those are looked at."""
    width = max((len(r) for r in records), default=0)
    threshold = max(_SWALLOWED_COMMAS, (width - 1) // 2)
    ends = [*first_lines[1:], line_count]
    over_lines = map(operator.gt, map(operator.sub, ends, first_lines), repeat(1))
    for number in compress(range(1, len(records) + 1), over_lines):
        for cell in records[number - 1]:
            if "\n" in cell or "\r" in cell:
                lines = cell.splitlines()
                if any(line.count(",") >= threshold for line in lines[1:]):
                    return number, len(lines)
    return None


def _too_many_lines(count: int) -> str:
    return (f"文件有{count:,}行，超过上限{MAX_CSV_LINES:,}行，无法读取："
            "请删除多余的空行，或把数据分成几个文件（加上不同的 __报送单位）后重新报送")


def read_csv(data: bytes) -> list[Grid]:
    if message := _not_a_csv(data):
        raise FileRejected(message)
    line_count = max(data.count(b"\n"), data.count(b"\r")) + 1  # (a line may end in \r alone; told exactly once split)
    if line_count > MAX_CSV_LINES:
        raise FileRejected(_too_many_lines(line_count))
    decoded = _decode(data)
    if (records := _unquoted_records(decoded.text)) is not None:
        _check_cells(records)
        _blanks_to_none(records)
        return [_csv_grid(records, range(len(records)), decoded)]
    lines = _lines(decoded.text)
    if len(lines) > MAX_CSV_LINES:  # (lines ending in \r and in \n mixed: more than either count)
        raise FileRejected(_too_many_lines(len(lines)))
    records, first_lines = _records(lines)
    _check_cells(records)
    # csv takes the end of the file inside quotes for the end of the field: a quote never closed
    # swallows every record after it into one cell. Such a quote can only be in the last record.
    if records and _unclosed_quote("".join(lines[first_lines[-1]:])):
        raise FileRejected(
            f"第{len(records)}行的引号没有闭合，其后的内容都被当成了一个单元格：请检查该行的双引号"
        )
    # A record of one line holds no line break in a cell (the last record's, at the end of the
    # file inside quotes, was refused just above): only records over several lines are looked at.
    if len(first_lines) != len(lines) and (found := _swallowed(records, first_lines, len(lines))):
        number, spanned = found
        raise FileRejected(
            f"第{number}行某个单元格的双引号没有在本行闭合，其后的{spanned - 1}行都被并进了这一个单元格："
            "请检查该行的双引号（单元格中的双引号应写成两个）后重新报送")
    if '="' in decoded.text:
        _text_formulas_to_text(records)
    _blanks_to_none(records)
    return [_csv_grid(records, first_lines, decoded)]


# A CSV file of at least this many lines is read a column at a time (`CsvLines`) when it can be:
# below, reading it as records costs no more than starting the columnar reader (and importing it).
COLUMNAR_MIN_LINES = 5000


# A line each of whose fields is written plainly (no double quote) or wholly quoted (`"1,234.5"`,
# a quote inside doubled): one record, read the same by the csv module and Polars' reader.
_QUOTED_FIELD = r'"(?:[^"]|"")*"'
_WELL_QUOTED = re.compile(f'(?:[^",]*|{_QUOTED_FIELD})(?:,(?:[^",]*|{_QUOTED_FIELD}))*')


def line_record(line: str) -> list[str | None]:
    """The record of one line of a file `csv_lines` reads, as `read_csv` has it: its fields (a
    blank line none; a line with a quote read by the csv module), each empty one None."""
    fields = (next(csv.reader([line])) if '"' in line else line.split(",")) if line else []
    _blanks_to_none([fields])
    return fields


class LineRecords(Sequence):
    """The records of a file's lines from the `first` on (`line_record`), each made when asked for."""

    def __init__(self, lines: list[str], first: int = 0):
        self._lines, self._first = lines, first

    def __len__(self) -> int:
        return len(self._lines) - self._first

    def __getitem__(self, at):
        if isinstance(at, slice):
            return [self._made(i) for i in range(*at.indices(len(self)))]
        return self._made(range(len(self))[at])  # (a negative index; an IndexError past the end)

    def _made(self, i: int):
        return line_record(self._lines[self._first + i])


class _LineRows(LineRecords):
    """A grid's rows, (record number, cells), made from a file's lines when asked for."""

    def _made(self, i: int):
        return i + 1, line_record(self._lines[i])


@dataclass
class CsvLines:
    """A CSV file each line of which is one record (`csv_lines`: a double quote only around a whole
    field), in one encoding: its lines as decoded, for a columnar reading of its data rows (`parse.parse_lines`),
    which read the same as `read_csv`'s records of it. `grid()`: its grid as `read_csv` has it,
    each row made from its line when asked for (the layout is found in the first lines; a
    clerk's receipt copies every row)."""

    lines: list[str]
    encoding: str
    # the file's own bytes, for Polars to read its columns from (`text_columns`): a UTF-8 file (its
    # BOM left out) without a double quote whose lines end in "\n" or "\r\n"; None for any other
    body: bytes | None = field(default=None, repr=False)
    width: int = 0  # the fields of its widest line

    def grid(self) -> CsvGrid:
        return CsvGrid(sheet=None, rows=_LineRows(self.lines), encoding=self.encoding)

    def heads(self, first: int, stop: int) -> list[list[str | None]]:
        """The first two fields of each of the lines from `first` to `stop` (fewer for a line of
        fewer; an empty one None): what `layout._all_surely_data` reads of a block of rows."""
        lines = self.lines[first:stop]
        heads = list(map(str.split, lines, repeat(","), repeat(2)))
        for fields in heads:
            del fields[2:]
            if not fields[0]:
                fields[0] = None  # (a blank line: `[""]` made `[]` below)
            if len(fields) > 1 and not fields[1]:
                fields[1] = None
        for i in compress(range(len(heads)), map(operator.not_, lines)):
            heads[i] = []
        for i in compress(range(len(heads)), map(operator.contains, lines, repeat('"'))):
            heads[i] = line_record(lines[i])[:2]  # (quoted fields: read as a record)
        return heads


def csv_lines(data: bytes, *, min_lines: int = COLUMNAR_MIN_LINES) -> CsvLines | None:
    """The file's lines when `read_csv` would read it without error as one record a line, in one
    encoding, with at least `min_lines` lines and no NUL; None otherwise (`read_csv` then reads
    it, or says what is wrong with it)."""
    if len(data) < min_lines or b"\x00" in data or _not_a_csv(data):  # (NUL is no part of another character in either encoding)
        return None
    # Told in the bytes: a line break, a double quote and `=` are never part of another character
    # in UTF-8 or GB18030, so the text (of one encoding) holds as many of each as its bytes.
    lf, cr = data.count(b"\n"), data.count(b"\r")
    if max(lf, cr) + 1 > MAX_CSV_LINES:  # (before a file of blank lines is split)
        return None
    try:
        decoded = _decode(data)
    except FileRejected:
        return None
    if decoded.other:
        return None
    text, crlf, quoted = decoded.text, data.count(b"\r\n"), b'"' in data
    if (lines := _record_lines(text, quotes=True, breaks=lf + cr - crlf)) is None or len(lines) < min_lines:
        return None
    if quoted and (lines := _records_on_one_line(lines, text)) is None:
        return None
    if quoted and (b'="' in data or not all(map(_WELL_QUOTED.fullmatch,
                                               compress(lines, map(operator.contains, lines, repeat('"')))))):
        return None  # (a field quoted in part, a record over several lines, a code written `="XM001"`)
    width = max(map(str.count, lines, repeat(",")), default=-1) + 1  # (a blank line's 1 field is none: no wider)
    if width > MAX_COLUMNS or width * len(lines) > MAX_SHEET_CELLS:
        return None
    body = None
    if decoded.encoding == UTF8 and not quoted and cr == crlf:
        body = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    return CsvLines(lines, decoded.encoding, body, width)


# A record over several lines (a header cell with a line break, as Excel writes one) is put back on
# one line (`_records_on_one_line`) when it starts among the first MERGED_FROM_LINES lines and runs
# over MERGED_MAX_LINES lines at most; the file is otherwise read as records.
MERGED_FROM_LINES, MERGED_MAX_LINES = 50, 8
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # (the breaks `_record_lines` splits at: no other in its files)


def _records_on_one_line(lines: list[str], text: str) -> list[str] | None:
    """`lines` (`text`'s, without their line breaks) with each record over several of them put on
    one line, with the line breaks it has in `text` (a cell's own, often "\n" in a file of "\r\n"):
    one record a line, as `_records` reads them. None where the file is left to `_records`: a
    record over lines past MERGED_FROM_LINES or over more than MERGED_MAX_LINES, a quote never
    closed, a line of a cell after its first holding a comma (as a quote left open by mistake would
    swallow records: `_swallowed`), a record longer than the csv module's field limit."""
    odd = [i for i, n in enumerate(map(str.count, lines, repeat('"'))) if n % 2]
    if not odd:
        return lines
    if odd[-1] >= MERGED_FROM_LINES + MERGED_MAX_LINES:
        return None
    breaks = [m.group() for m, _ in zip(_LINE_BREAK.finditer(text), range(odd[-1] + MERGED_MAX_LINES))]
    merged, at = [], 0
    while at <= odd[-1]:  # (the lines after the last record over several: as they are, below)
        if lines[at].count('"') % 2 == 0:
            merged.append(lines[at])
            at += 1
            continue
        end, open_quote = at + 1, True  # the record runs on until the line that closes its quote
        while end < len(lines) and end - at < MERGED_MAX_LINES:
            open_quote ^= lines[end].count('"') % 2 == 1
            if not open_quote:
                break
            end += 1
        if at >= MERGED_FROM_LINES or open_quote:
            return None
        if end > len(breaks):
            return None
        record = "".join(line + brk for line, brk in zip(lines[at:end], breaks[at:end])) + lines[end]
        if len(record) >= csv.field_size_limit() or not _WELL_QUOTED.fullmatch(record) or any(
                "," in part for cell in line_record(record) if cell for part in cell.splitlines()[1:]):
            return None
        merged.append(record)
        at = end + 1
    return merged + lines[at:]


def text_columns(lines: list[str], indexes: list[int], *, whole: CsvLines | None = None, at: list[int] | None = None):
    """The fields at `indexes` (0-based) of each of `lines` (each a record, as `line_record` reads
    it), a column each: a Polars string Series of one value a line, None
    for an empty field or one past the line's end. Read by Polars' CSV reader: no Python object a
    cell. `whole` and `at`: the file `lines` are of, and the index of each among its lines (rising),
    for Polars to read the file's own bytes (`CsvLines.body`) rather than the lines put together again."""
    # One thread: a run reads on a worker process a core (`workers`); set before Polars starts its pool.
    os.environ.setdefault("POLARS_MAX_THREADS", "1")
    import polars as pl

    if whole is not None and whole.body is not None and at is not None and whole.width:
        width, wanted = whole.width, sorted(set(indexes))
        read = [j for j in wanted if j < width]
        frame = pl.read_csv(b"," * (width - 1) + b"\n" + whole.body, has_header=False, quote_char=None,
                            schema={f"c{j}": pl.String for j in range(width)}, columns=read)
        if frame.height == len(whole.lines) + 1:  # (a row a line, as `str.splitlines` has them, past the first)
            taken = np.zeros(frame.height, dtype=bool)
            taken[np.array(at, dtype=np.int64) + 1] = True
            frame = frame.filter(pl.Series(taken))
            blank = pl.Series([None] * len(at), dtype=pl.String)
            return {j: frame.get_column(frame.columns[read.index(j)]) if j < width else blank for j in wanted}
    width = max(map(str.count, lines, repeat(",")), default=0) + 1
    # The reader takes the number of columns from the first line: a first line of empty fields as
    # wide as the widest line, dropped after; a shorter line is padded with nulls. Each line ends in
    # a line break (a blank last line is a row of nulls, as a blank line anywhere).
    body = ("\n".join([","* (width - 1), *lines]) + "\n").encode("utf-8")
    wanted = sorted(set(indexes))
    read = [j for j in wanted if j < width]
    quoted = any(map(operator.contains, lines, repeat('"')))
    frame = pl.read_csv(body, has_header=False, schema={f"c{j}": pl.String for j in range(width)},
                        quote_char='"' if quoted else None, columns=read).slice(1)
    if frame.height != len(lines):  # (never for the lines `csv_lines` gives: the file is then read as records)
        raise ValueError(f"Polars read {frame.height} rows of {len(lines)} lines")
    if quoted:  # a field quoted empty (`""`) is read as an empty text: a blank, as `line_record` has it
        frame = frame.with_columns(pl.all().replace("", None))
    blank = pl.Series([None] * len(lines), dtype=pl.String)
    return {j: frame.get_column(frame.columns[read.index(j)]) if j < width else blank for j in wanted}


def _lines(text: str) -> list[str]:
    """The lines of `text`, each with its line break: at "\n", "\r\n" or "\r", as the csv module."""
    return io.StringIO(text, newline="").readlines()


def _csv_grid(records: list[list[object]], first_lines: range | list[int], decoded: _Decoded) -> CsvGrid:
    """The grid of `records` (`first_lines`: the index of each one's first line in `decoded`)."""
    grid = CsvGrid(sheet=None, rows=list(zip(count(1), records)), encoding=decoded.encoding)
    if decoded.other:
        starts, offset = [], 0
        for line in _lines(decoded.text):
            starts.append(offset)
            offset += len(line)
        record_starts = [starts[i] for i in first_lines]
        for at, encoding in decoded.other:
            number = bisect.bisect_right(record_starts, at)  # the record holding that offset, 1-based
            if number:
                grid.other_encoding[number] = encoding
    return grid


# What `str.splitlines` breaks a line at besides "\n", "\r\n" and "\r"
_OTHER_LINE_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def _record_lines(text: str, *, quotes: bool = False, breaks: int | None = None) -> list[str] | None:
    """The lines of a file without a double quote (without their line breaks), each of which is a
    record, its fields the line split at its commas; None where `_records` is asked instead: a
    quote somewhere (unless `quotes`: the caller tells its lines apart), a line longer than the csv
    module's field limit, another line break (`_OTHER_LINE_BREAKS`, which `str.splitlines` breaks
    at and the csv module does not), more lines than MAX_CSV_LINES (each told as `_records` tells it).
    `breaks`: the "\n", "\r\n" and "\r" of `text`, when the caller counted them (in its bytes)."""
    if '"' in text and not quotes:
        return None
    bodies = text.splitlines()
    # as many lines as "\n", "\r\n" and "\r" make: no other break, or one at the very end
    if breaks is None:
        breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
    if len(bodies) != breaks + (text[-1:] not in ("", "\n", "\r")) or text.endswith(_OTHER_LINE_BREAKS):
        return None
    if len(bodies) > MAX_CSV_LINES or max(map(len, bodies), default=0) >= csv.field_size_limit():
        return None
    return bodies


def _unquoted_records(text: str) -> list[list[str]] | None:
    """The records of a file without a double quote, each line split at its commas (a blank line a
    record of no field), all at once: what `_records` makes of its lines. None where `_records` is
    asked instead (`_record_lines`), or for a record wider than MAX_COLUMNS (told as `_records`
    tells it)."""
    bodies = _record_lines(text)
    if bodies is None:
        return None
    records = [body.split(",") for body in bodies]
    for i in compress(range(len(bodies)), map(operator.not_, bodies)):
        records[i] = []
    if max(map(len, records), default=0) > MAX_COLUMNS:
        return None
    return records


def _text_formulas_to_text(records: list[list[str]]) -> None:
    """Each field written `="XM001"` (the way many systems export a code so that Excel keeps its
    leading zeros: Excel shows XM001) made the text it shows, in place; `""` inside is one quote."""
    for record in records:
        for j, cell in enumerate(record):
            if cell.startswith('="') and cell.endswith('"') and len(cell) > 2:
                inner = cell[2:-1]
                if '"' not in inner.replace('""', ""):
                    record[j] = inner.replace('""', '"')


def _without_empty_end(fields: list[str]) -> list[str]:
    """The record without the empty fields at its end (nothing is there), in place."""
    while fields and fields[-1] == "":
        fields.pop()
    return fields


def _within_width(fields: list[str], number: int) -> list[str]:
    """A record wider than a sheet may be (`xlsx_limits.MAX_COLUMNS`), its empty fields at the end
    taken off (a row of thousands of trailing commas holds nothing there); still wider, it rejects
    the file. Told as each record is read, before the next (a file of such rows takes no memory)."""
    if len(_without_empty_end(fields)) > MAX_COLUMNS:
        raise FileRejected(f"第{number}行有{len(fields):,}列，超过上限{MAX_COLUMNS}列，无法读取"
                           "（常见原因是某一行多了大量逗号或数据错位）：请删除多余的列后重新报送")
    return fields


def _check_cells(records: list[list[str]]) -> None:
    """More cells than a sheet may hold (`xlsx_limits.MAX_SHEET_CELLS`: rows × the widest record,
    its empty fields at the end not counted, as a sheet's extent counts cells holding a value)
    reject the file: every later step holds one per row and column."""
    width = max(map(len, records), default=0)
    if width * len(records) <= MAX_SHEET_CELLS:
        return
    width = max(map(len, map(_without_empty_end, records)))  # (Excel pads a CSV's every row to the widest)
    if width * len(records) > MAX_SHEET_CELLS:
        raise FileRejected(f"文件有{len(records):,}行、最宽{width}列，超过上限{MAX_SHEET_CELLS:,}个单元格（行数×列数），"
                           "无法读取：请删除多余的列，或把数据分成几个文件（加上不同的 __报送单位）后重新报送")


def _records(lines: list[str]) -> tuple[list[list[str]], range | list[int]]:
    """The CSV records of `lines`, and the index into `lines` of each record's first line.
    Raises FileRejected, naming the record, when the csv module cannot read one.

    A line without a double quote is one record whose fields are the line split at its commas
    (its line break taken off; a blank line is a record of no field): exactly what the csv module
    makes of it, in a fraction of the time. Only the records that start on a line with a quote are
    read by the csv module, which takes as many lines as a record spans and no more."""
    limit = csv.field_size_limit()
    records: list[list[str]] = []
    first_lines: list[int] = []
    at, n = 0, len(lines)
    # a file with a quote on many of its lines is read by the csv module from its first quote on
    # (one reader to the end: a reader started a record is dearer than the split it saves)
    quoted_throughout = sum(map(operator.contains, lines, repeat('"'))) * 8 > n
    try:
        while at < n:
            line = lines[at]
            if '"' not in line and len(line) <= limit:  # (a longer one goes to the csv module)
                body = line.rstrip("\r\n")
                fields = body.split(",") if body else []
                records.append(fields if len(fields) <= MAX_COLUMNS else _within_width(fields, len(records) + 1))
                first_lines.append(at)
                at += 1
                continue
            # one reader for as long as the records start on lines with a quote
            start, reader = at, csv.reader(_from(lines, at))
            while True:
                fields = next(reader)
                records.append(fields if len(fields) <= MAX_COLUMNS else _within_width(fields, len(records) + 1))
                first_lines.append(at)
                at = start + reader.line_num
                if at >= n or not (quoted_throughout or '"' in lines[at] or len(lines[at]) > limit):
                    break
    except csv.Error as exc:
        where = f"第{len(records) + 1}行"
        if "field larger than field limit" in str(exc):
            raise FileRejected(f"{where}有一个单元格超过{csv.field_size_limit():,}个字符，无法读取"
                               "（常见原因是某个双引号没有配对）：请检查该行的双引号") from exc
        raise FileRejected(f"CSV文件格式有误，{where}无法读取（{exc}）：请在Excel中另存为“CSV UTF-8”后重新报送") from exc
    if len(records) == n:  # one line a record (a blank line is a record too)
        return records, range(n)
    return records, first_lines


def _from(lines: list[str], at: int):
    """The lines from `at` on, one at a time (the csv module takes only those of one record)."""
    for i in range(at, len(lines)):
        yield lines[i]


def _openpyxl_extras(data: bytes, bounds: dict[str, tuple[int, int]], *, percent: bool,
                     errors: bool) -> dict[str, tuple[set, dict]]:
    """Per worksheet name, what calamine does not report: the numeric cells formatted as
    percentages, and error values (calamine reads `#DIV/0!` as empty). One streaming pass of openpyxl.

    `bounds` is each sheet's (rows, columns) as calamine read it: openpyxl would otherwise pad
    every row to the sheet's declared dimension (A1:XFD1048576 makes 16,384 cells of each row)
    and walk every missing row up to it. A sheet calamine found empty is not walked at all.
    """
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        found = {}
        for ws in wb.worksheets:
            pct, errs = set(), {}
            found[ws.title] = (pct, errs)
            if ws.title not in bounds:
                continue
            max_row, max_col = bounds[ws.title]
            for row in ws.iter_rows(min_row=1, min_col=1, max_row=max_row, max_col=max_col):
                for cell in row:
                    value = getattr(cell, "value", None)
                    if value is None:
                        continue
                    if errors and cell.data_type == "e":
                        errs[(cell.row, cell.column - 1)] = value
                    elif (percent and isinstance(value, (int, float)) and not isinstance(value, bool)
                          and is_percent_format(cell.number_format)):
                        pct.add((cell.row, cell.column - 1))
        return found
    finally:
        wb.close()


def _sheet_grid(sheet, percent: set[tuple[int, int]], errors: dict[tuple[int, int], str], *,
                hidden: bool = False, uncomputed: set[tuple[int, int]] | None = None,
                placeholders: set[tuple[int, int]] | None = None) -> Grid:
    # Merges are checked before the sheet is expanded: a merge over a huge block costs memory in
    # the expansion itself. Excel never lets merges overlap; merges covering the sheet many times
    # over would make the copy loop below run for ever.
    merges = sheet.merged_cell_ranges or []
    height, width = sheet.height, sheet.width
    covered = sum(max(0, min(r1, height - 1) - r0 + 1) * max(0, min(c1, width - 1) - c0 + 1)
                  for (r0, c0), (r1, c1) in merges)
    if covered > height * width:
        raise FileRejected(f"工作表“{sheet.name}”中的合并单元格相互重叠（文件已损坏），"
                          f"请在Excel中取消这些合并单元格后重新合并并保存")
    if covered > MAX_MERGED_CELLS:
        (r0, c0), (r1, c1) = max(merges, key=lambda m: (m[1][0] - m[0][0] + 1) * (m[1][1] - m[0][1] + 1))
        raise FileRejected(
            f"工作表“{sheet.name}”中的合并单元格共覆盖{covered:,}个单元格，超过上限{MAX_MERGED_CELLS:,}个"
            f"（最大的一处为{cell_name(r0 + 1, c0)}:{cell_name(r1 + 1, c1)}），无法读取。请取消这些大范围的合并后重新保存报送")
    values = sheet.to_python(skip_empty_area=False)
    _blanks_to_none(values)
    for (r, c), value in errors.items():
        if r - 1 < len(values) and c < len(values[r - 1]):
            values[r - 1][c] = value
    uncomputed = set(uncomputed or ())
    for r, c in placeholders or ():  # a program's 0 for a formula Excel is to compute: no figure
        if r - 1 < len(values) and c < len(values[r - 1]):
            value = values[r - 1][c]
            # 0, or 0 in a date or time format (calamine reads it as 00:00)
            if (type(value) in (int, float) and value == 0) or (type(value) is dt_time and value == _MIDNIGHT):
                values[r - 1][c] = None
                uncomputed.add((r, c))
    copies: set[tuple[int, int]] = set()
    for (r0, c0), (r1, c1) in merges:
        if r0 >= len(values):
            continue
        top = values[r0][c0] if c0 < len(values[r0]) else None
        is_pct = (r0 + 1, c0) in percent
        is_uncomputed = (r0 + 1, c0) in uncomputed  # the merge shows what its first cell does
        for r in range(r0, min(r1, len(values) - 1) + 1):
            for c in range(c0, min(c1, len(values[r]) - 1) + 1):
                values[r][c] = top
                if (r, c) != (r0, c0):
                    copies.add((r + 1, c))
                if is_pct:
                    percent.add((r + 1, c))
                if is_uncomputed:
                    uncomputed.add((r + 1, c))
    rows = list(zip(count(1), values))
    return Grid(sheet=sheet.name, rows=rows, percent_cells=percent, merge_copies=copies, merges=list(merges), hidden=hidden,
                uncomputed=uncomputed)


def read_xlsx(data: bytes, *, percent_formats: bool = True) -> list[Grid]:
    """Every worksheet, in order, read with python-calamine: merged cells expanded, formula cells
    as the value Excel last computed (empty when none is stored), hidden sheets marked.

    Nothing is expanded before `inspect_xlsx` has checked the file: an encrypted workbook or an
    .xls renamed .xlsx, parts that unpack too large, cells reaching too far are rejected first.

    Number formats and error values are not in calamine's reach: openpyxl streams the file once
    more when they matter, for datasets with percent columns in a workbook with a percentage
    format, or files that store an error value.

    A file the readers fail on is read once more from a copy in which the cells whose type they
    cannot read are text (`xlsx_limits.unreadable_cells_copy`: a `#SPILL!`, a boolean of `abc`);
    only when that fails too, or there are none, is it rejected as damaged.
    """
    failure = None
    for copy in (lambda: data, lambda: unreadable_cells_copy(data)):
        try:
            readable = copy()
            if readable is None:
                break  # no cell of a type they cannot read: the file is damaged
            return _read_xlsx(readable, percent_formats)
        except FileRejected:
            raise
        except XlsxRejected as exc:
            raise FileRejected(str(exc)) from exc
        except BaseException as exc:  # noqa: BLE001 - the readers raise many types for a damaged file,
            # MemoryError and RecursionError included, and a Rust panic arrives as a BaseException
            if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                raise  # an interrupt (Ctrl-C, Dagster stopping the step), an exit: not the file's doing
            failure = failure or exc  # the first failure is the one said
    # the reader's own error (a class name, in English) is not for the clerk: it stays the cause
    raise FileRejected(DAMAGED.format("文件中的工作表内容无法解析")) from failure


def _read_xlsx(data: bytes, percent_formats: bool) -> list[Grid]:
    inspection = inspect_xlsx(data)
    if inspection.other_markup:  # comments or CDATA that calamine would misread: read without them
        data = plain_markup_copy(data, inspection.other_markup)
        inspection = inspect_xlsx(data)
    # a number calamine would misread as a date (-1 as 00:00:00, -1e15 as a Rust panic) is
    # read from a copy in which its cell has no number format: the number itself; a numeric
    # cell storing no number (NaN, abc: a ValueError in openpyxl) is a text cell there
    data = general_format_copy(data, inspection)
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    metadata = book.sheets_metadata
    sheets = [book.get_sheet_by_index(i) for i in range(len(metadata))]
    extras: dict[str, tuple[set, dict]] = {}
    percent = percent_formats and inspection.has_percent_styles  # (a workbook with no percentage format has no such cell)
    if percent or inspection.has_error_cells:
        bounds = {s.name: (s.end[0] + 1, s.end[1] + 1) for s in sheets if s.end is not None}
        extras = _openpyxl_extras(data, bounds, percent=percent, errors=inspection.has_error_cells)
    return [_sheet_grid(sheet, *extras.get(sheet.name, (set(), {})),
                        hidden=meta.visible != SheetVisibleEnum.Visible,
                        uncomputed=inspection.uncomputed_formulas.get(sheet.name),
                        placeholders=inspection.placeholder_formulas.get(sheet.name))
            for sheet, meta in zip(sheets, metadata)]


def read_grids(data: bytes, suffix: str, *, percent_formats: bool = True) -> list[Grid]:
    if suffix == ".csv":
        return read_csv(data)
    return read_xlsx(data, percent_formats=percent_formats)


