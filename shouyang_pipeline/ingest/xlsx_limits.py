"""Check an XLSX file before any reader expands it: what it is, how big it unpacks, how far its cells reach.

python-calamine (calamine 0.37) builds a sheet as one dense block from A1 to the farthest cell
that holds a value: 32 bytes per cell in Rust, then a Python list of lists. One value in
XFD1048576 asks for 512 GB and aborts the process; one in A1048576 costs about 1 GB. The
declared `<dimension ref=...>` does not matter to calamine (it reserves at most 100,000 cells
from it), nor do empty styled cells (`<c r="Z9999" s="3"/>`, dropped before the block is
sized). openpyxl, which reads percent formats and error values, pads every row to the declared
dimension instead: the caller bounds it with the extent calamine found.

So before calamine sees the file, every part of the archive is inflated once (its real size,
not the size the archive claims), and every worksheet's real extent is found from the cells
that carry a value, without building a DOM:

1. one regex search over the sheet's bytes finds whether every `<c>` tag is of the canonical
   form Excel, WPS, LibreOffice, openpyxl and xlsxwriter write (`<c r="B7" s="3" t="s">`, or
   `<x:c ...>` with one namespace prefix throughout) and lies within AZ99999 — the common
   case, about 5 ms per MB of XML;
2. otherwise, if every `<c>` tag is canonical, one regex pass collects the address of every
   cell that is not empty (`<c .../>` or `<c ...></c>`), about 15 ms per MB;
3. otherwise (cells or rows without `r`, other attributes, several prefixes), expat streams
   the sheet and counts positions the way calamine does, about 200 ms per MB.

Steps 1 and 2 count a cell as holding a value whenever it is not plainly empty, so they can
only overstate the extent, never understate it.
"""

from __future__ import annotations

import heapq
import io
import math
import re
import struct
import zlib
import zipfile
from collections.abc import Callable, Iterable, Iterator
from array import array
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, pairwise, repeat
from html import unescape
from posixpath import dirname, join, normpath
from xml.parsers import expat

# ------------------------------------------------------------------ limits

MAX_MEMBER_BYTES = 256 * 1024 * 1024
"""One part of the archive (a worksheet, the shared strings) unpacked. A 20,000-row sheet is about 10 MB."""
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024
"""All parts of the archive unpacked together."""
MAX_MEMBERS = 2_000
"""Parts in the archive; a workbook has a dozen plus a few per sheet."""
MAX_ROWS = 200_000
"""Rows of one sheet, up to the last row holding a value. 200,000 rows of 14 columns read in about 1 s."""
MAX_COLUMNS = 500
"""Columns of one sheet (column SF), up to the last column holding a value. Templates have 6 to 20."""
MAX_SHEET_CELLS = 10_000_000
"""Rows × columns of one sheet: what calamine and the grid allocate, about 50 bytes a cell (0.5 GB, 1.5 s)."""
MAX_BOOK_CELLS = 20_000_000
# Text the readers would hold once every cell is expanded: a shared string is stored once but
# copied into every cell that uses it (a 32,000-character string in 2,800 cells is 8 KB on disk).
MAX_TEXT_BYTES = 128 * 1024 * 1024
# Cells a merge fills with its top-left value: clerks merge a township down its villages or a
# title across the columns, never a block of hundreds of thousands of cells.
MAX_MERGED_CELLS = 200_000
"""Rows × columns of all sheets together: every sheet is read."""

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file: .xls, or any encrypted Office file
_ZIP_MAGIC = b"PK"

DAMAGED = "Excel文件已损坏或不是有效的.xlsx文件，无法打开（{}）"
ENCRYPTED = "文件设置了打开密码（已加密），无法读取，请取消密码后重新保存报送"
OLD_XLS = "文件实际是旧版Excel 97-2003（.xls）格式，只是扩展名为.xlsx，无法读取，请另存为.xlsx（Excel工作簿）后重新报送"
OTHER_OLE = "文件是旧版Office复合文档格式，不是.xlsx工作簿，无法读取，请在Excel中另存为.xlsx后重新报送"
TRIM_ADVICE = "请删除表格右侧或下方多余的单元格后重新保存报送"


class XlsxRejected(ValueError):
    """The file cannot be read safely; the message is Chinese, for the clerk."""


@dataclass
class Extent:
    """How far the cells holding a value reach (1-based; 0 when the sheet holds none)."""

    rows: int = 0
    columns: int = 0
    bottom: str | None = None  # a cell in the last row, e.g. "A1048576"
    right: str | None = None  # a cell in the last column, e.g. "XFD1"
    exact: bool = True  # False: a quick upper bound (every cell within AZ99999)

    @property
    def cells(self) -> int:
        return self.rows * self.columns


@dataclass
class Inspection:
    extents: dict[str, Extent] = field(default_factory=dict)  # worksheet part -> extent
    has_error_cells: bool = False  # some worksheet stores an error value (`t="e"`)
    # some cell format may show a number as a percentage (`may_show_percentages` of the styles part,
    # the one openpyxl reads as well): without one, no cell of the workbook is shown as a percentage
    has_percent_styles: bool = False
    # sheet name -> (row number, 0-based column) of every formula cell stored without the value
    # Excel computed (a file written by a program, never opened and saved in Excel): such a cell
    # reads as empty, and whoever reports on it must not take it for a blank one.
    uncomputed_formulas: dict[str, set[tuple[int, int]]] = field(default_factory=dict)
    # sheet name -> every formula cell (an array formula's whole range) of a workbook
    # `computed_on_load`: one storing 0 holds the placeholder of the program that wrote it (what
    # XlsxWriter stores for a formula Excel is to compute), no figure; `read._sheet_grid` reads it
    # as a formula without its value. Any other value the program stored is taken as the figure.
    placeholder_formulas: dict[str, set[tuple[int, int]]] = field(default_factory=dict)
    # worksheet part -> the start and end (one after the other) in its XML of the style attribute
    # of each cell whose number calamine would misread as a date (`misread_date_cells`);
    # `general_format_copy` removes them
    misread_dates: dict[str, array] = field(default_factory=dict)
    # worksheet part -> the start and end (one after the other) in its XML of each edit that makes
    # a numeric cell storing no number (NaN, abc) a text cell (`text_in_number_cells`), applied by
    # `general_format_copy`
    text_numbers: dict[str, array] = field(default_factory=dict)
    # worksheet parts holding a comment, a CDATA section, a processing instruction or an attribute
    # with white space around its `=` (`has_other_markup`): not scanned; the file is to be read
    # from `plain_markup_copy`
    other_markup: list[str] = field(default_factory=list)


def column_letters(n: int) -> str:
    """1 -> A, 16384 -> XFD; any size (hostile files go past XFD)."""
    letters = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


# ------------------------------------------------------------------ what the file is

def check_container(data: bytes) -> None:
    """An OLE compound file is an encrypted workbook or an old .xls, not a damaged .xlsx."""
    if data[:8] == OLE_MAGIC:
        # Directory entries name their streams in UTF-16LE.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise XlsxRejected(ENCRYPTED)
        if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
            raise XlsxRejected(OLD_XLS)
        raise XlsxRejected(OTHER_OLE)
    if data[:2] != _ZIP_MAGIC:
        raise XlsxRejected(DAMAGED.format("不是zip压缩包"))


# ------------------------------------------------------------------ the archive

def inspect_xlsx(data: bytes) -> Inspection:
    """Raise XlsxRejected for a file no reader should expand; else each worksheet's extent."""
    check_container(data)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            NotImplementedError, struct.error, OverflowError, MemoryError) as exc:
        raise XlsxRejected(DAMAGED.format("压缩包目录无法读取")) from exc
    if len(infos) > MAX_MEMBERS:
        raise XlsxRejected(DAMAGED.format(f"压缩包中有{len(infos)}个部件，超过上限{MAX_MEMBERS}个"))
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise XlsxRejected(DAMAGED.format("压缩包中有重名的部件"))

    total = sum(i.file_size for i in infos)
    for info in infos:
        if info.file_size > MAX_MEMBER_BYTES:
            raise XlsxRejected(
                f"{_part_name(zf, info.filename)}解压后有{_mb(info.file_size)}，超过上限{_mb(MAX_MEMBER_BYTES)}"
                f"（文件可能含有大量空白格式，或是“压缩炸弹”），无法读取。{TRIM_ADVICE}"
            )
    if total > MAX_ARCHIVE_BYTES:
        raise XlsxRejected(
            f"文件解压后共有{_mb(total)}，超过上限{_mb(MAX_ARCHIVE_BYTES)}"
            f"（文件可能含有大量空白格式或图片，或是“压缩炸弹”），无法读取。{TRIM_ADVICE}"
        )

    inspection = Inspection()
    shared = next((i for i in infos if i.filename.lower().endswith("sharedstrings.xml")), None)
    string_sizes = _shared_string_sizes(_inflate(data, shared)) if shared is not None else []
    longest = max(string_sizes, default=0)
    styles_parts = [_inflate(data, i) for i in infos if i.filename == STYLES_PART]
    styles = frozenset().union(*map(date_styles, styles_parts))
    inspection.has_percent_styles = any(map(may_show_percentages, styles_parts))
    text_bytes = 0
    odd_index = None
    on_load = names = None  # `computed_on_load`, `sheet_names_by_part`: read once a sheet has a formula
    for info in infos:
        content = _inflate(data, info)
        if b"sheetData" not in content:
            continue  # not a worksheet: calamine reads cells only after a <sheetData> tag
        if has_other_markup(content):
            inspection.other_markup.append(info.filename)  # read from `plain_markup_copy`, inspected again
            continue
        if longest and odd_index is None and odd_shared_index(content):
            odd_index = info.filename  # said once every sheet's extent is checked (a sheet too large is rejected first)
        if b't="e"' in content or b"t='e'" in content:
            inspection.has_error_cells = True
        if _FORMULA_TAG.search(content) is not None:
            if names is None:
                names, on_load = sheet_names_by_part(zf), computed_on_load(zf)
            name = names.get(info.filename, info.filename)
            if cells := uncomputed_formula_cells(content):
                inspection.uncomputed_formulas[name] = cells
            if on_load and (cells := formula_cells(content)):
                inspection.placeholder_formulas[name] = cells
        if longest:
            text_bytes += _shared_text_bytes(content, string_sizes, longest)
            if text_bytes > MAX_TEXT_BYTES:
                raise XlsxRejected(
                    f"{_part_name(zf, info.filename)}等工作表展开后的文字超过{_mb(MAX_TEXT_BYTES)}"
                    f"（很长的文字被复制到大量单元格中），无法读取。请删除过长或大量重复的文字后重新保存报送"
                )
        extent = sheet_extent(content)
        if extent.rows > MAX_ROWS or extent.columns > MAX_COLUMNS or extent.cells > MAX_SHEET_CELLS:
            raise XlsxRejected(_too_far(_part_name(zf, info.filename), extent))
        inspection.extents[info.filename] = extent
        if styles and (spans := misread_date_cells(content, styles)):
            inspection.misread_dates[info.filename] = spans
        if edits := text_in_number_cells(content):
            inspection.text_numbers[info.filename] = edits
    if sum(e.cells for e in inspection.extents.values()) > MAX_BOOK_CELLS:
        for member, extent in inspection.extents.items():
            if not extent.exact:  # the quick bound of a large sheet: count its cells after all
                inspection.extents[member] = sheet_extent(_inflate(data, zf.getinfo(member)), exact=True)
        if sum(e.cells for e in inspection.extents.values()) > MAX_BOOK_CELLS:
            raise XlsxRejected(
                f"各工作表有内容的区域合计超过{MAX_BOOK_CELLS:,}个单元格（行数×列数），无法读取。"
                f"请删除多余的工作表，或删除表格右侧或下方多余的单元格后重新保存报送"
            )
    if odd_index is not None:
        raise OddSharedIndex(odd_index)
    return inspection


_P = rb"(?:[A-Za-z_][\w.-]{0,20}:)?"  # an optional namespace prefix
_SHARED_OPEN = re.compile(rb"<" + _P + rb"si[\s>/]")
_SHARED_CLOSE = re.compile(rb"</" + _P + rb"si>")
_SHARED_EMPTY = re.compile(rb"<" + _P + rb"si\s*/>")
# (the type looked ahead for, then the rest of the tag taken at once: a tag of many `t="s"` left
# open is scanned once from its `<c`, not to its end from each of them)
_SHARED_CELL = re.compile(rb"""<""" + _P + rb"""c\s(?=[^<>]*?\bt\s*=\s*["']s["'])[^<>]*+>\s*+<""" + _P
                          + rb"""v>\s*+(\d++)\s*+<""")
_SHARED_TYPE = re.compile(rb"""\bt\s*=\s*["']s["']""")
# A text cell whose value is not plainly an index into the shared strings (` 3 `, `-1`, `x`):
# calamine reads it as the first string, without a word; openpyxl reads ` 3 ` as the fourth.
# Every `t="s"` is counted (in C: about 3 ms for an 8 MB sheet), and those that stand in a cell as
# programs write it, `t="s"` (its other attributes after it) then `<v>` (a line break between them
# or not), an index of up to ten digits and the cell's end (a regex starting with a literal, tens
# of ms for the 540,000 cells of a 19 MB sheet); when they are as many, every text cell is plain.
# Otherwise (an index with spaces or a formula before it, a second value after it, a `t="s"` in a
# text, a writer's own spelling) each cell's value is looked at (`_cells_with_values`: a few µs a
# cell); a text cell of two values is a damaged file (`unreadable_cells_copy`).
# (a sheet of prefixed tags, `<x:v>`, is counted by a second regex: the prefix in the first made it
# 40 ms slower for the 19 MB sheet)
_PLAIN_SHARED_INDEX, _PLAIN_PREFIXED_SHARED_INDEX = (
    re.compile(rb"""t=(?:"s"|'s')(?:\s[^<>]{0,200}+)?>\s{0,100}+<""" + p + rb"""v>\d{0,10}</""" + p
               + rb"""v>\s{0,100}+</""" + p + rb"""c>""") for p in (b"", _P))
_INDEX = re.compile(rb"\d{0,10}")  # (`<v></v>`: an empty cell)


def odd_shared_index(xml: bytes) -> bool:
    """Whether a worksheet has a text cell (`t="s"`) whose value is not plainly an index."""
    typed = xml.count(b't="s"') + xml.count(b"t='s'")
    if not typed or typed == len(_PLAIN_SHARED_INDEX.findall(xml)) or (
            b":v>" in xml and typed == len(_PLAIN_PREFIXED_SHARED_INDEX.findall(xml))):
        return False
    for _, attrs, value, end in _cells_with_values(xml):
        if value is not None and (_INDEX.fullmatch(value.group(1)) is None or _second_value(xml, value, end)) and any(
                name == b"t" and v == b"s" for _, _, name, v in attrs):
            return True
    return False


def _cells_with_values(xml: bytes):
    """(tag, attributes as `_cell_attrs` reads them, the match of its value or None, where the
    cell's part of the XML ends) of each cell, its value looked for up to the next cell's tag
    (`[^<]*` cannot run past it): linear."""
    for tag, after in pairwise(chain(_ANY_CELL_TAG.finditer(xml), [None])):
        found = None
        end = after.start() if after else len(xml)
        if not tag.group(1).endswith(b"/"):
            found = _CELL_VALUE.search(xml, tag.end(), end)
        yield tag, _cell_attrs(tag), found, end


def _second_value(xml: bytes, found: re.Match, end: int) -> bool:
    """Whether a cell holds another value after `found` (calamine reads the last, openpyxl the first)."""
    return _CELL_VALUE.search(xml, found.end(), end) is not None


class OddSharedIndex(Exception):
    """A text cell's value is not plainly a shared-string index: the file is read from
    `unreadable_cells_copy` (the index without its spaces, or the cell named as damaged)."""


def _shared_string_sizes(xml: bytes) -> list[int]:
    """The size in bytes of each item of the shared-string table, in index order: from an opening
    `<si>` to the first `</si>` after it, or an empty `<si/>`. Linear in the part's size, however
    many items are left open (a lazy `<si>.*?</si>` looked for a close from each of them)."""
    sizes, at, closes_left = [], 0, True
    while (opening := _SHARED_OPEN.search(xml, at)) is not None:
        close = _SHARED_CLOSE.search(xml, opening.end()) if closes_left else None
        if close is not None:
            sizes.append(close.end() - opening.start())
            at = close.end()
            continue
        closes_left = False  # none after this one: none after any later one either
        empty = _SHARED_EMPTY.match(xml, opening.start())
        if empty is not None:
            sizes.append(empty.end() - empty.start())
            at = empty.end()
        else:
            at = opening.start() + 1
    return sizes


def _shared_text_bytes(sheet: bytes, sizes: list[int], longest: int) -> int:
    """The bytes of shared text this sheet's cells expand to: a quick bound when that is small,
    else the exact sum over the cells that use a shared string."""
    bound = len(_SHARED_TYPE.findall(sheet)) * longest
    if bound <= MAX_TEXT_BYTES // 8:
        return bound
    return sum(sizes[i] for i in map(int, _SHARED_CELL.findall(sheet)) if i < len(sizes))


_FORMULA_TAG = re.compile(rb"<" + _P + rb"f[\s/>]")
# A formula followed by, at most, an empty value and the end of its cell (`<f>SUM(H2:H9)</f><v/></c>`,
# as openpyxl writes it); the cell's tag is the one just before. `t="str"` with an empty value is
# a formula that computed "". The regex starts at `<f` and stops at the next `<` or `>`, and takes
# white space at once: the sheet is scanned once, fast (`<f <f <f …` without a `>` was scanned to
# its end from each, and the spaces after a `<f/>` tried in every split between two `\s*`).
_NO_VALUE_AFTER_FORMULA = re.compile(
    rb"<" + _P + rb"f\b[^<>]*?(?:/>|>[^<]*</" + _P + rb"f>)\s*+"
    rb"(?:<" + _P + rb"v\s*/>|<" + _P + rb"v>\s*+</" + _P + rb"v>)?\s*+</" + _P + rb"c>")
_CELL_TAG = re.compile(rb"<" + _P + rb"c\s([^<>]*)>\s*")
_CELL_REF_ATTR = re.compile(rb"""\br\s*=\s*["']([A-Za-z]{1,3})(\d{1,7})["']""")
_COMPUTED_TEXT = re.compile(rb"""\bt\s*=\s*["']str["']""")


def uncomputed_formula_cells(xml: bytes) -> set[tuple[int, int]]:
    """(row number, 0-based column) of each formula cell of a worksheet stored with no value."""
    found = set()
    for m in _NO_VALUE_AFTER_FORMULA.finditer(xml):
        tag = _CELL_TAG.fullmatch(xml, xml.rfind(b"<", 0, m.start()), m.start())
        if tag is None or _COMPUTED_TEXT.search(tag.group(1)):
            continue
        ref = _CELL_REF_ATTR.search(tag.group(1))
        if ref is not None:
            found.add((int(ref.group(2)), _column_number(ref.group(1)) - 1))
    return found


_FORMULA_ATTRS = re.compile(rb"<" + _P + rb"f\s([^<>]*)>")
_ARRAY_TYPE = re.compile(rb"""\bt\s*=\s*["']array["']""")
_RANGE_ATTR = re.compile(rb"""\bref\s*=\s*["']\$?([A-Za-z]{1,3})\$?(\d{1,7}):\$?([A-Za-z]{1,3})\$?(\d{1,7})["']""")
ARRAY_CELLS_MAX = 100_000  # the cells of a sheet's array formulas taken beyond their first cells, at most


def formula_cells(xml: bytes) -> set[tuple[int, int]]:
    """(row number, 0-based column) of each formula cell of a worksheet, an array formula's range
    included (only its first cell holds the formula: `<f t="array" ref="J2:J4">`) as far as it lies
    within a sheet's limits (`MAX_ROWS`, `MAX_COLUMNS`), up to `ARRAY_CELLS_MAX` cells for the
    sheet: a few bytes of XML must not ask for gigabytes."""
    found = set()
    budget = ARRAY_CELLS_MAX
    for m in _FORMULA_TAG.finditer(xml):
        tag = _CELL_TAG.fullmatch(xml, xml.rfind(b"<", 0, m.start()), m.start())
        ref = _CELL_REF_ATTR.search(tag.group(1)) if tag is not None else None
        if ref is None:
            continue
        found.add((int(ref.group(2)), _column_number(ref.group(1)) - 1))
        f = _FORMULA_ATTRS.match(xml, m.start())
        if budget and f is not None and _ARRAY_TYPE.search(f.group(1)) and (span := _RANGE_ATTR.search(f.group(1))):
            r0, r1 = sorted((int(span.group(2)), min(int(span.group(4)), MAX_ROWS)))
            c0, c1 = sorted((_column_number(span.group(1)) - 1, min(_column_number(span.group(3)), MAX_COLUMNS) - 1))
            if r0 > MAX_ROWS or c0 >= MAX_COLUMNS or (r1 - r0 + 1) * (c1 - c0 + 1) > budget:
                continue
            budget -= (r1 - r0 + 1) * (c1 - c0 + 1)
            found.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1))
    return found


def _inflate(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The part's bytes, inflated at most to the size the archive declares for it.

    A part that inflates to more than it declares is a bomb aimed at readers that trust the
    stream rather than the directory; one that inflates to less is damaged.
    """
    if info.flag_bits & 0x1:
        raise XlsxRejected(DAMAGED.format("压缩包部件已加密"))
    offset = info.header_offset
    header = data[offset:offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise XlsxRejected(DAMAGED.format("压缩包结构错误"))
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    start = offset + 30 + name_len + extra_len
    raw = data[start:start + info.compress_size]
    if len(raw) != info.compress_size:
        raise XlsxRejected(DAMAGED.format("压缩包被截断"))
    if info.compress_type == zipfile.ZIP_STORED:
        content = raw
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)
        try:
            content = inflater.decompress(raw, info.file_size + 1)
        except zlib.error as exc:
            raise XlsxRejected(DAMAGED.format("压缩数据错误")) from exc
        if len(content) > info.file_size or not inflater.eof:
            raise XlsxRejected(DAMAGED.format(f"部件{info.filename}解压后的大小与记录不符"))
    else:
        raise XlsxRejected(DAMAGED.format(f"不支持的压缩方式{info.compress_type}"))
    if len(content) != info.file_size:
        raise XlsxRejected(DAMAGED.format(f"部件{info.filename}解压后的大小与记录不符"))
    return content


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:,.0f} MB"


def _too_far(where: str, extent: Extent) -> str:
    corner = f"{column_letters(extent.columns)}{extent.rows}"
    found = []
    if extent.rows > MAX_ROWS:
        found.append(f"最下方有内容的单元格是{extent.bottom}（第{extent.rows}行，上限{MAX_ROWS}行）")
    if extent.columns > MAX_COLUMNS:
        found.append(f"最右侧有内容的单元格是{extent.right}（第{extent.columns}列，上限{MAX_COLUMNS}列）")
    if not found:
        found.append(f"共{extent.rows}行×{extent.columns}列，上限{MAX_SHEET_CELLS:,}个单元格")
    return (f"{where}中有内容的区域从A1一直延伸到单元格{corner}，超过了可读取的范围："
            f"{'；'.join(found)}。{TRIM_ADVICE}")


# ------------------------------------------------------------------ naming a part for the clerk

_REL = re.compile(rb"<(?:[^\s<>/]*:)?Relationship\s([^<>]*)>")
_SHEET = re.compile(rb"<(?:[^\s<>/]*:)?sheet\s([^<>]*)>")
# An attribute: its name starts the tag's text or follows white space or a quote, and holds no
# quote (a long word without `=`, or one of many quotes, is then tried once, not from each letter).
_ATTR = re.compile(rb"""(?<![^\s"'])([^\s="']++)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _ATTR.finditer(raw)}


def _small(zf: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = zf.getinfo(name)
        return zf.read(info) if info.file_size <= 4 * 1024 * 1024 else b""
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, NotImplementedError, zlib.error, EOFError):
        return b""


def _target(base_dir: str, target: bytes) -> str:
    t = unescape(target.decode("utf-8", "replace"))
    return normpath(t.lstrip("/") if t.startswith("/") else join(base_dir, t))


def _workbook_part(zf: zipfile.ZipFile) -> str:
    """The workbook part's name, as the package's relationships give it (xl/workbook.xml)."""
    workbook = "xl/workbook.xml"
    for m in _REL.finditer(_small(zf, "_rels/.rels")):
        a = _attrs(m.group(1))
        if a.get(b"Type", b"").endswith(b"/officeDocument") and b"Target" in a:
            workbook = _target("", a[b"Target"])
    return workbook


# `<calcPr … fullCalcOnLoad="1"/>`: the program that wrote the file asks Excel to compute every
# formula when the file is opened, so the results it stored are not Excel's (XlsxWriter stores 0).
_CALC_ON_LOAD = re.compile(rb"<" + _P + rb"""calcPr\s[^<>]*?\bfullCalcOnLoad\s*=\s*["'](?:1|true)["']""")


def computed_on_load(zf: zipfile.ZipFile) -> bool:
    """Whether the workbook's formulas are to be computed when it is opened (`_CALC_ON_LOAD`)."""
    return _CALC_ON_LOAD.search(_small(zf, _workbook_part(zf))) is not None


def sheet_names_by_part(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part -> the sheet's name, from the workbook and its relationships; {} when unclear."""
    workbook = _workbook_part(zf)
    base = dirname(workbook)
    rels_name = join(base, "_rels", workbook.rsplit("/", 1)[-1] + ".rels")
    targets = {}
    for m in _REL.finditer(_small(zf, rels_name)):
        a = _attrs(m.group(1))
        if b"Id" in a and b"Target" in a:
            targets[a[b"Id"]] = _target(base, a[b"Target"])
    names = {}
    for m in _SHEET.finditer(_small(zf, workbook)):
        a = _attrs(m.group(1))
        rid = next((v for k, v in a.items() if k == b"id" or k.endswith(b":id")), None)
        if b"name" in a and rid in targets:
            names[targets[rid]] = unescape(a[b"name"].decode("utf-8", "replace"))
    return names


def _part_name(zf: zipfile.ZipFile, member: str) -> str:
    name = sheet_names_by_part(zf).get(member)
    if name is not None:
        return f"工作表“{name}”"
    if member.endswith("sharedStrings.xml"):
        return "共享字符串表（所有文字单元格的内容）"
    return f"文件中的部件{member}"


# ------------------------------------------------------------------ numbers in a date format

# calamine turns a number into a date, time or duration when its cell's style has such a number
# format, and misreads numbers outside Excel's dates: -1 becomes 00:00:00 (the number is lost),
# NaN 1899-12-30, a duration of 1e9 days raises OverflowError, -1e12 and below panic in Rust
# (PanicException, with the panic text printed on stderr). Excel shows such a cell as #####: the
# number stored is the truth. So the cells calamine would misread are found here, and
# `general_format_copy` gives calamine a copy of the file in which those cells have no style.

# Built-in number formats that are dates, times or durations: calamine's (14-22, 45-47) and the
# East Asian ones (27-36, 50-58), which Excel shows as dates in a Chinese locale.
DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)])
LAST_EXCEL_DATE = 2958465.99999  # 9999-12-31 23:59:59 in the 1900 date system
STYLES_PART = "xl/styles.xml"  # the one calamine reads (it does not follow the workbook's relationships)
_CELL_XFS_TAG = re.compile(rb"<" + _P + rb"cellXfs[\s>]|(</" + _P + rb"cellXfs\s*>)")
_XF = re.compile(rb"<" + _P + rb"xf(?=[\s/>])((?:[^<>\"']|\"[^\"<]*\"|'[^'<]*')*+)>")
_NUM_FMT = re.compile(rb"<" + _P + rb"numFmt(?=[\s/>])((?:[^<>\"']|\"[^\"<]*\"|'[^'<]*')*+)>")
# In a format code: quoted text, an escaped character (`\x`, or `_x`, a space as wide as x), a
# `[...]` section (colour, condition, locale, or the `[h]`, `[mm]`, `[ss]` of a duration), the
# word General and an exponent (`0.00E+00`): none of them a date part, except a duration.
_FORMAT_LITERAL = re.compile(r'"[^"]*"|\\.|_.|\[([^\]]*)\]|General|[eE][+-]', re.S | re.I)
# Excel keeps a format code to 255 characters; a longer one (only a hostile file's) is taken for
# a date's, unread: a `[` left open is looked past from each of them, which is quadratic
FORMAT_CODE_MAX = 255
_DURATION = re.compile(r"h+|m+|s+", re.I)
# What is left of a date or time format: y, m, d, h, s, e (era year), the Chinese units, or
# calamine's AM/PM rule (an `a` followed by `p`, `m` or `/`).
_DATE_LETTER = re.compile(r"[ymdhse年月日时時分秒]", re.I)
_AM_PM_TAIL = re.compile(r"[pm/]", re.I)


def is_date_format(code: str) -> bool:
    """Whether calamine may read a number in this custom number format as a date, time or duration
    (a superset: calamine looks at the first section only and knows neither `e` nor 年月日)."""
    if len(code) > FORMAT_CODE_MAX:
        return True
    duration = False

    def literal(m: re.Match) -> str:
        nonlocal duration
        if m.group(1) is not None and _DURATION.fullmatch(m.group(1)):
            duration = True
        return "a" if m.group(0).lower() == "general" else " "  # General's `a` is one calamine sees

    rest = _FORMAT_LITERAL.sub(literal, code)
    if duration or _DATE_LETTER.search(rest) is not None:
        return True
    first_a = rest.lower().find("a")  # calamine's AM/PM rule: an `a`, and after it a `p`, `m` or `/`
    return first_a >= 0 and _AM_PM_TAIL.search(rest, first_a + 1) is not None


@lru_cache(maxsize=1024)
def is_percent_format(code: str | None) -> bool:
    """Whether Excel shows a number in this format multiplied by 100: a `%` that is not text in
    quotes or escaped (`0.0"%"` and `0.0\\%` show 10.6 as 10.6%, unscaled)."""
    if not code or "%" not in code:
        return False
    if len(code) > FORMAT_CODE_MAX:  # (only a hostile file's: see FORMAT_CODE_MAX)
        return True
    return "%" in _FORMAT_LITERAL.sub("", code)


def date_styles(xml: bytes) -> frozenset[int]:
    """The cell formats of a styles part (`s` of a cell: its index among the `<xf>` of `<cellXfs>`)
    whose number format may make calamine read a number as a date, time or duration."""
    custom = {}
    for m in _NUM_FMT.finditer(xml):
        a = _attrs(m.group(1))
        if b"numFmtId" in a and b"formatCode" in a:
            custom[a[b"numFmtId"].strip()] = is_date_format(unescape(a[b"formatCode"].decode("utf-8", "replace")))
    found = []
    xfs = (xf for block in _cell_xfs_blocks(xml) for xf in _XF.finditer(block))
    for index, m in enumerate(xfs):
        ident = _attrs(m.group(1)).get(b"numFmtId", b"").strip()
        if custom.get(ident) or (ident.isdigit() and int(ident) in DATE_FORMAT_IDS):
            found.append(index)
    return frozenset(found)


# Built-in number formats that show a number as a percentage: 0% and 0.00%.
PERCENT_FORMAT_IDS = frozenset([9, 10])


_NUMBER_FORMAT_ID = re.compile(rb"""numFmtId\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_PLAIN_ID = re.compile(rb"0|[1-9][0-9]{0,8}")


def may_show_percentages(xml: bytes) -> bool:
    """Whether a styles part may give a cell a format that shows its number as a percentage, as
    openpyxl reads it; False only when surely not. A percentage is a built-in format 9 or 10, or a
    custom code with a `%`: so a part with no `%` (nor `&`, which could write one or a digit, nor
    `<!`, a comment or a DTD that could hide either) whose every `numFmtId` is written as a plain
    number other than 9 and 10 (and never otherwise, as openpyxl also reads a child element of that
    name) has none, however its elements are prefixed or nested."""
    if b"%" in xml or b"&" in xml or b"<!" in xml or b"\x00" in xml:  # (\x00: UTF-16, unread here)
        return True
    found = 0
    for m in _NUMBER_FORMAT_ID.finditer(xml):
        ident = m.group(1) if m.group(1) is not None else m.group(2)
        if _PLAIN_ID.fullmatch(ident) is None or int(ident) in PERCENT_FORMAT_IDS:
            return True
        found += 1
    # a numFmtId not written as an attribute (openpyxl takes a child element `<numFmtId>9</numFmtId>`
    # of an `<xf>` for one): not read here, so it may be a percentage
    return xml.count(b"numFmtId") != found


def _cell_xfs_blocks(xml: bytes) -> Iterator[bytes]:
    """Each `<cellXfs>…</cellXfs>` of a styles part: from an opening tag to the first closing one
    after it, in one pass (a lazy `<cellXfs>.*?</cellXfs>` looked for a close from every opening)."""
    start = None
    for m in _CELL_XFS_TAG.finditer(xml):
        if m.group(1) is None:
            start = m.start() if start is None else start
        elif start is not None:
            yield xml[start:m.end()]
            start = None


# A `<v>` whose text is not plainly a number from 0 to 2,899,999.x (digits, an optional fraction):
# a minus sign, a letter (NaN, inf, an exponent), 2,900,000 or more, a space. A regex starting with
# a literal skips from value to value in C; the rare hit is checked in Python.
_PLAIN_VALUE = rb"(?!<|\d{1,6}(?:\.\d*+)?<|(?:[01]\d|2[0-8])\d{5}(?:\.\d*+)?<)"
_VALUE_TAG = rb"<v(?:\s[^<>]*)?>"  # `<v>`, or with attributes (xml:space): those go to Python below
_PREFIXED_VALUE_TAG = rb"<" + _P + rb"v(?:\s[^<>]*)?>"  # the same, in a sheet whose tags may have a prefix
_PREFIXED_VALUE = re.compile(rb":v[\s>]")  # a sheet that may have `<x:v>`: `has_prefixed_values`
_PREFIXED_VALUE_START = re.compile(rb"<[A-Za-z_][\w.-]{0,20}:v[\s>]")
_ODD_VALUE_PREFIXED = re.compile(_PREFIXED_VALUE_TAG + _PLAIN_VALUE)
# Of those, the ones whose cell tag ends just before, as Excel, xlsxwriter and openpyxl write it,
# are told in C as well: `<c r="F9" s="3">` or `<c r="F9" s="3" t="n">` with a style that is no
# date, or `<c r="F9">` without a style, is passed over (a sheet of negative amounts costs no
# Python call a cell); other forms (a formula, another order, a prefix) are looked at in Python.
# (a style written with a leading zero, `s="01"`, is style 1 to calamine: looked at in Python)
_OTHER_STYLE = b"".join(rb'(?<! s="' + (rb"\d" if n == 1 else rb"[1-9]" + rb"\d" * (n - 1)) + b'"' + t + rb"><v>)"
                        for n in range(1, 6) for t in (b"", b' t="n"'))
_NO_STYLE = b"".join(rb'(?<!<c r="' + b"[A-Za-z]" * a + rb"\d" * d + rb'"><v>)'
                     for a in range(1, 4) for d in range(1, 8))


def has_prefixed_values(xml: bytes) -> bool:
    """Whether a worksheet's XML has a `<prefix:v>` tag, for which the scans take the slower regexes
    that know them (a text such as `备注a:v b` is none). A sheet without `:v` is told by a literal
    search (about 2 ms for 8 MB); one with it by a regex from there (about 10)."""
    found = _PREFIXED_VALUE.search(xml)
    return found is not None and _PREFIXED_VALUE_START.search(xml, max(0, found.start() - 22)) is not None


@lru_cache(maxsize=16)
def _odd_values(styles: frozenset[int]) -> re.Pattern:
    """The `<v>` of a cell not plainly a date, as a date style of `styles` or an unknown one."""
    if len(styles) > 64:
        return re.compile(_VALUE_TAG + _PLAIN_VALUE)  # (a regex of a few hundred alternatives at most)
    dates = b"|".join(rb'(?<= s="%d"%s><v>)' % (i, t) for i in sorted(styles) for t in (b"", b' t="n"'))
    # group 1 (empty) is there when the cell's tag ends in a date style just before its value
    return re.compile(_VALUE_TAG + _PLAIN_VALUE + rb"(?:(?:" + dates + rb")()|" + _OTHER_STYLE + _NO_STYLE + rb")")


_NUMBER = re.compile(rb"[+-]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][+-]?\d++)?")  # possessive: no backtracking
_ANY_CELL_TAG = re.compile(rb"<" + _P + rb"c(?=[\s/>])((?:[^<>\"']|\"[^\"<]*\"|'[^'<]*')*+)>")
_FORMULA_OR_END = re.compile(rb"</?" + _P + rb"f[\s/>]")


def misread_date_cells(xml: bytes, styles: frozenset[int]) -> array:
    """The start and end in a worksheet's XML (one after the other, in an array of 8-byte ints:
    a sheet may have millions) of the `s="..."` attribute of each numeric cell that has one of
    `styles` and stores a value calamine would misread as a date: not a finite number from 0 to
    the last day of 9999 (negative, NaN, infinite, too large, or not a number)."""
    spans = array("q")
    if not styles:
        return spans
    odd = _ODD_VALUE_PREFIXED if has_prefixed_values(xml) else _odd_values(styles)
    for m in odd.finditer(xml):
        end = xml.find(b"<", m.end())
        value = xml[m.end():end]
        if _NUMBER.fullmatch(value) and 0 <= float(value) <= LAST_EXCEL_DATE:
            continue
        if odd is not _ODD_VALUE_PREFIXED and m.lastindex == 1:
            # its tag ends in ` s="N">` or ` s="N" t="n">` just before the value (a date style):
            # the attribute is there, without reading the tag (a style taken off a cell of
            # another type, should one be written so, changes nothing calamine reads)
            close = m.start() - 1
            if xml.endswith(b' t="n"', 0, close):
                close -= 6
            spans.extend((xml.rindex(b' s="', 0, close) + 1, close))
            continue
        tag = _enclosing_cell(xml, m.start())
        if tag is None:
            continue
        attrs = _cell_attrs(tag)
        if any(name == b"t" and value != b"n" for _, _, name, value in attrs):
            continue  # a string, boolean, error or ISO date: never read as a number
        for start, end, name, value in attrs:
            # calamine reads an `s` that is not a number as style 0: such a one goes too
            if (name == b"s" or name.endswith(b":s")) and (not value.isdigit() or len(value) > 9 or int(value) in styles):
                spans.extend((start, end))
    return spans


def _cell_attrs(tag: re.Match) -> list[tuple[int, int, bytes, bytes]]:
    """(start, end in the XML, name, value) of each attribute of a `<c ...>` tag, as `_attrs` reads
    them (a quoted value is never looked into)."""
    at = tag.start(1)
    return [(at + a.start(), at + a.end(), a.group(1), a.group(2) if a.group(2) is not None else a.group(3))
            for a in _ATTR.finditer(tag.group(1))]


def _enclosing_cell(xml: bytes, at: int) -> re.Match | None:
    """The `<c ...>` tag of the cell whose `<v>` starts at `at`: the tag just before it, or
    before the cell's formula."""
    for _ in range(3):
        at = xml.rfind(b"<", 0, at)
        if at < 0:
            return None
        tag = _ANY_CELL_TAG.match(xml, at)
        if tag is not None:
            return tag
        if _FORMULA_OR_END.match(xml, at) is None:
            return None
    return None


# ------------------------------------------------------------------ text in a number cell

# A numeric cell (no `t`, or `t="n"`) stores a number in its `<v>`. Excel never writes anything
# else there, but programs do: NaN, inf, Infinity, 12,5, 1.2.3, abc, a space. openpyxl casts such
# a value with int() or float() and raises ValueError, which rejects the whole file without naming
# the cell; calamine reads NaN and inf as floats and other text as text, but fails on text in a
# cell marked `t="n"` (a CalamineError: the whole file rejected). Such a cell is made a text cell
# (`t="str"`, its value, style and formula kept as stored) in the copy `general_format_copy` gives
# both readers: they read the text it stores, and the value parser names the cell. An empty value
# (`<v></v>`, `<v/>`) is left as it is: both readers read an empty cell.

# A `<v>` whose text is not plainly a finite number as Excel and the libraries write one (digits,
# an optional minus sign, fraction and exponent of at most two digits: `-12.5`, `1.5E-3`, `1e+20`),
# nor empty. A regex starting with a literal skips from value to value in C (the possessive
# quantifiers spare it backtracking); the rare hit (`+5`, `1E+300`, 21 digits or more, or text)
# is checked in Python.
_NOT_A_PLAIN_NUMBER = rb"(?!</|-?\d{1,20}+(?:\.\d*+)?+(?:[eE][+-]?\d{1,2}+)?+<)"
# Of those, the values of text, error and ISO-date cells whose tag ends just before, as Excel
# writes them, are passed over in C; others (after a formula, in single quotes) are looked at in Python.
_TEXT_VALUE = re.compile(_VALUE_TAG + _NOT_A_PLAIN_NUMBER + rb'(?<! t="str"><v>)(?<! t="e"><v>)(?<! t="d"><v>)')
_TEXT_VALUE_PREFIXED = re.compile(_PREFIXED_VALUE_TAG + _NOT_A_PLAIN_NUMBER)
# Where the value of a formula cell of text or an error starts, as Excel writes the cell
# (`<c r="T2" t="str"><f>IF(A2&gt;0,"是","否")</f><v>是</v>`): collected in C once a sheet has a
# hit, so that a column of such formulas costs a set lookup a cell, not a look at its tag in Python.
_FORMULA_TEXT = re.compile(rb't="(?:str|e)"><f(?:\s[^<>]*)?(?:/>|>[^<]*</f>)(?=<v>)')
_TEXT_TYPE = b't="str"'


def text_in_number_cells(xml: bytes) -> array:
    """Where in a worksheet's XML each numeric cell whose value is not a finite number (NaN, inf,
    abc, 12,5, a space) is made a text cell: the start and end of its `t="n"`, to be replaced by
    `t="str"`, or twice the end of its tag, where ` t="str"` is to be added (`text_type_edits`),
    one pair after the other in an array (16 bytes a cell: a sheet may hold millions). Empty
    values are left alone."""
    values = _TEXT_VALUE_PREFIXED if has_prefixed_values(xml) else _TEXT_VALUE
    edits = array("q")
    formula_text = None
    for m in values.finditer(xml):
        if formula_text is None:
            formula_text = {f.end() for f in _FORMULA_TEXT.finditer(xml)}
        if m.start() in formula_text or xml[m.end() - 2:m.end()] == b"/>":
            continue  # text computed by a formula; `<v />`: no value
        value = xml[m.end():xml.find(b"<", m.end())]
        if _NUMBER.fullmatch(value) and math.isfinite(float(value)):
            continue
        tag = _enclosing_cell(xml, m.start())
        if tag is None or tag.group(1).endswith(b"/"):
            continue  # (`<c r="H2"/><v>abc</v>`: that value is no cell's, and both readers pass it over)
        kind = next(((start, end, v) for start, end, name, v in _cell_attrs(tag) if name == b"t"), None)
        if kind is None:
            edits.extend((tag.end(1), tag.end(1)))
        elif kind[2] == b"n":
            edits.extend((kind[0], kind[1]))
    return edits


_ADDED_TEXT_TYPE = b" " + _TEXT_TYPE


def text_type_edits(spans: array) -> Iterator[tuple[int, int, bytes]]:
    """(start, end, replacement) of each edit `text_in_number_cells` found, in their order."""
    for start, end in zip(spans[0::2], spans[1::2]):
        yield start, end, _TEXT_TYPE if end > start else _ADDED_TEXT_TYPE


def _edited(content: bytes, edits: Iterable[tuple[int, int, bytes]]) -> bytes:
    """`content` with each edit (start, end, replacement) made: in order, none overlapping."""
    out, view, at = bytearray(), memoryview(content), 0
    for start, end, replacement in edits:
        out += view[at:start]
        out += replacement
        at = end
    out += view[at:]
    return bytes(out)


def _copy_with(data: bytes, change: Callable[[str, bytes], bytes]) -> bytes:
    """The workbook `data` with each part's bytes as `change(name, bytes)` gives them (compressed at
    level 1: the copy is read once, here)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for info in zipfile.ZipFile(io.BytesIO(data)).infolist():
            z.writestr(info.filename, change(info.filename, _inflate(data, info)))
    return out.getvalue()


def general_format_copy(data: bytes, inspection: Inspection) -> bytes:
    """The file as calamine and openpyxl should read it: `data` itself, or, when some cells store a
    number calamine would misread as a date (`Inspection.misread_dates`) or a numeric cell stores no
    number (`Inspection.text_numbers`), a copy whose worksheets have the first cells' style removed,
    so that calamine reads them as the plain number they store, and the others made text cells, so
    that both readers read them as the text they store."""
    if not inspection.misread_dates and not inspection.text_numbers:
        return data

    def change(name: str, content: bytes) -> bytes:
        styles = inspection.misread_dates.get(name, ())
        types = inspection.text_numbers.get(name, array("q"))
        if not styles and not types:
            return content
        removed = zip(styles[0::2], styles[1::2], repeat(b""))
        # both in the order of the XML; a style and a type of one tag never overlap
        return _edited(content, heapq.merge(removed, text_type_edits(types)))

    return _copy_with(data, change)


# ------------------------------------------------------------------ a worksheet's extent

# Canonical `<c>` start tags: `r` first, then only the attributes Excel writes, no `<`, `>` or
# `"` inside values, so the tag ends where the regex says it does.
_CANON_TAIL = rb'(?: (?:s|t|cm|vm|ph)="[^"<>]*")*'
_NEAR_ROWS, _NEAR_COLUMNS = 99_999, 52
# Any `:c` followed by what ends a tag name: a `<c>` with a namespace prefix (quick_xml, and so
# calamine, matches local names), or its end tag.
_PREFIXED = re.compile(rb':c[\s/>]')
_PREFIX = re.compile(rb'<([A-Za-z_][\w.-]{0,20}):c[\s/>]')


@dataclass(frozen=True)
class _Patterns:
    not_canon_near: re.Pattern  # step 1: the first tag not canonical within AZ99999 (52 × 99,999 cells)
    not_canon: re.Pattern  # step 2: the first tag not canonical at all
    filled: re.Pattern  # step 2: every canonical cell not plainly empty (`/>` or `></c>`)
    other_prefix: re.Pattern | None  # a `:c` tag with another prefix than the one these patterns know


@lru_cache(maxsize=16)
def _patterns(prefix: bytes | None) -> _Patterns:
    """The regexes for `<c>` tags, or for `<c>` and `<prefix:c>` tags. A regex starting with a
    literal (`<c`) makes the search skip from tag to tag fast."""
    if prefix is None:
        tag, close, other = rb'<c', rb'</c>', None
    else:
        p = re.escape(prefix)
        tag, close = rb'<(?:' + p + rb':)?c', rb'</(?:' + p + rb':)?c>'
        other = re.compile(rb'(?s):c[\s/>](?<!<' + p + rb':c.)(?<!</' + p + rb':c.)')  # literal first: fast
    near = rb'(?:[A-Za-z]|[Aa][A-Za-z])\d{1,5}'
    return _Patterns(
        not_canon_near=re.compile(tag + rb'(?=[\s/>])(?! r="' + near + rb'"' + _CANON_TAIL + rb'/?>)'),
        not_canon=re.compile(tag + rb'(?=[\s/>])(?! r="[A-Za-z]{1,3}\d{1,7}"' + _CANON_TAIL + rb'/?>)'),
        filled=re.compile(tag + rb' r="([A-Za-z]{1,3})(\d{1,7})"' + _CANON_TAIL + rb'>(?!' + close + rb')'),
        other_prefix=other,
    )


def sheet_extent(xml: bytes, *, exact: bool = False) -> Extent:
    """How far the cells holding a value reach in one worksheet's XML (never less than calamine finds).

    Unless `exact`, a large sheet whose cells all lie within AZ99999 gets that bound
    (`Extent.exact` False) without its cells being collected.
    """
    prefix = None
    if _PREFIXED.search(xml) is not None:
        m = _PREFIX.search(xml)
        if m is None:
            return _parsed_extent(xml)
        prefix = m.group(1)
    rx = _patterns(prefix)
    if rx.other_prefix is not None and rx.other_prefix.search(xml) is not None:
        return _parsed_extent(xml)  # two prefixes, or a `:c` that is no tag of ours: take no chance
    if rx.not_canon_near.search(xml) is None:
        if exact or len(xml) < 64 * 1024:
            return _filled_extent(xml, rx.filled)
        if rx.filled.search(xml) is None:
            return Extent()
        return Extent(rows=_NEAR_ROWS, columns=_NEAR_COLUMNS, exact=False)
    if rx.not_canon.search(xml) is None:
        return _filled_extent(xml, rx.filled)
    return _parsed_extent(xml)


def _filled_extent(xml: bytes, filled: re.Pattern) -> Extent:
    found = filled.findall(xml)
    if not found:
        return Extent()
    cols = {c.upper() for c in {c for c, _ in found}}
    right = max(cols, key=lambda c: (len(c), c))
    rows = max(map(int, {r for _, r in found}))
    ext = Extent(rows=rows, columns=_column_number(right))
    if ext.rows > MAX_ROWS or ext.columns > MAX_COLUMNS or ext.cells > MAX_SHEET_CELLS:
        # Name the cells that reach farthest, for the message (rare: only for files rejected).
        ext.bottom = next(f"{c.decode().upper()}{int(r)}" for c, r in found if int(r) == rows)
        ext.right = next(f"{c.decode().upper()}{int(r)}" for c, r in found if c.upper() == right)
    return ext


class _Stop(Exception):
    pass


_CELL_REF = re.compile(r"([A-Za-z]+)(\d+)")
_ROW_REF = re.compile(r"[A-Za-z]*(\d+)")


def _parsed_extent(xml: bytes) -> Extent:
    """Stream the sheet with expat and place cells as calamine does.

    calamine places a cell without `r` after the previous cell of its row, and a row without
    `r` after the previous row; `<row/>` counts as a row. It matches elements by local name
    wherever they are, so a sheet is accepted only in the shape every writer gives it:
    `<c>` in `<row>` (or directly in `<sheetData>`), `<row>` in `<sheetData>`, nothing of the
    kind nested elsewhere. It counts a cell when it has a `<v>` or `<is>` child.
    """
    in_data = False
    row = col = 0  # where calamine's counters stand (0-based)
    cell: tuple[int, int] | None = None
    filled = False
    stack: list[str] = []  # local names of the open elements inside <sheetData>
    rows = columns = 0
    bottom = right = ""

    def bad(why: str):
        raise XlsxRejected(DAMAGED.format(f"工作表XML结构异常：{why}"))

    def start(name, attrs):
        nonlocal in_data, row, col, cell, filled
        ln = name.split(":", 1)[1] if ":" in name else name  # quick_xml: after the first colon
        if not in_data:
            in_data = ln == "sheetData"
            return
        parent = stack[-1] if stack else "sheetData"
        if ln == "c":
            if parent != "row" and parent != "sheetData":
                bad("<c>不在<row>中")
            r = attrs.get("r")
            if r is None:
                cell = (row, col)
            else:
                m = _CELL_REF.fullmatch(r)
                if not m or int(m.group(2)) < 1:
                    bad(f"单元格地址{r[:20]}")
                col = _column_number(m.group(1).encode()) - 1
                cell = (int(m.group(2)) - 1, col)
            filled = False
        elif ln == "row":
            if parent != "sheetData":
                bad("<row>不在<sheetData>中")
            r = attrs.get("r")
            if r is not None:
                m = _ROW_REF.fullmatch(r)
                if not m or int(m.group(1)) < 1:
                    bad(f"行号{r[:20]}")
                row = int(m.group(1)) - 1
        elif ln == "sheetData":
            bad("<sheetData>嵌套")
        elif parent == "c" and (ln == "v" or ln == "is"):
            filled = True
        stack.append(ln)

    def end(name):
        nonlocal row, col, cell, rows, columns, bottom, right
        if not in_data:
            return
        if not stack:
            raise _Stop  # the end of the first <sheetData>: calamine reads no further
        ln = stack.pop()
        if ln == "c":
            if filled:
                r, c = cell
                if r >= rows:
                    rows, bottom = r + 1, f"{column_letters(c + 1)}{r + 1}"
                if c >= columns:
                    columns, right = c + 1, f"{column_letters(c + 1)}{r + 1}"
            col += 1
            cell = None
        elif ln == "row":
            row += 1
            col = 0

    def doctype(*_):
        bad("含有DOCTYPE声明")

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(xml, True)
    except _Stop:
        pass
    except expat.ExpatError as exc:
        raise XlsxRejected(DAMAGED.format(f"工作表XML格式错误：{exc}")) from exc
    return Extent(rows=rows, columns=columns, bottom=bottom or None, right=right or None)


# ------------------------------------------------------------------ cells no reader can read

# A cell whose type the readers cannot read makes them fail on the whole file: a boolean storing
# neither 0 nor 1 (`t="b"` of `abc`), an error value calamine does not know (Excel 365's `#SPILL!`
# and `#CALC!`, which a formula gives), an ISO date that is none (openpyxl), a type that does not
# exist (`t="zz"`), a style index that is not one (`s="abc"`, `s="999"`: openpyxl). Such a file is
# read a second time, from `unreadable_cells_copy`: those cells are text cells there (the text
# they store, which the value parser then judges and names by row and column) and such a style is
# taken off. Only a file the readers failed on is looked at so, cell by cell (3–5 µs a cell, in
# one pass): nothing here costs a file that reads. A text cell pointing past the shared strings is
# a damaged file still, now rejected with the cell named.

READABLE_ERRORS = frozenset([b"#NULL!", b"#DIV/0!", b"#VALUE!", b"#REF!", b"#NAME?", b"#NUM!", b"#N/A"])
_CELL_VALUE = re.compile(rb"<" + _P + rb"v(?:\s[^<>]*)?>([^<]*)</")
_SHARED_ITEM = re.compile(rb"<" + _P + rb"si[\s>/]")


def _readable(kind: bytes, value: bytes | None) -> bool:
    if value is None or kind in (b"n", b"s", b"str", b"inlineStr"):
        return True  # (a number cell storing no number: `text_in_number_cells`; `s`: below)
    if kind == b"b":
        return value.strip() in (b"0", b"1")
    if kind == b"e":
        return value in READABLE_ERRORS
    if kind == b"d":
        from openpyxl.utils.datetime import from_ISO8601

        try:
            from_ISO8601(value.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, OverflowError):
            return False
        return True
    return False


def _shared_index(value: bytes) -> bytes:
    """A text cell's value as openpyxl reads it as an index (`int()` of the XML text): character
    references decoded, spaces, a plus sign and leading zeros taken off (`+03` is 3); else the
    value without its spaces."""
    text = unescape(value.decode("utf-8", "replace")).strip()
    if re.fullmatch(r"\+?[0-9]+", text):
        return (text.lstrip("+").lstrip("0") or "0").encode()
    return value.strip()


def unreadable_cells_copy(data: bytes) -> bytes | None:
    """A copy of the workbook `data` in which each cell whose type the readers cannot read is a
    text cell (`t="str"`, the value it stores kept) and each style index that is not one is taken
    off; None when there is none. Raises XlsxRejected naming a text cell that points past the
    shared strings (the file is damaged: which text it meant cannot be told)."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    infos = zf.infolist()
    shared = next((i for i in infos if i.filename.lower().endswith("sharedstrings.xml")), None)
    strings = len(_SHARED_ITEM.findall(_inflate(data, shared))) if shared is not None else 0
    style_part = next((i for i in infos if i.filename == STYLES_PART), None)
    styles = (sum(1 for block in _cell_xfs_blocks(_inflate(data, style_part)) for _ in _XF.finditer(block))
              if style_part is not None else None)
    edited: dict[str, bytes] = {}
    for info in infos:
        content = _inflate(data, info)
        if b"sheetData" not in content:
            continue
        if has_other_markup(content):
            content = edited[info.filename] = plain_markup(content)  # (`<v> 3<!-- x --></v>`)
        edits: list[tuple[int, int, bytes]] = []
        for tag, attrs, found, end in _cells_with_values(content):
            value = found.group(1) if found else None
            kind = next(((start, stop, v) for start, stop, name, v in attrs if name == b"t"), None)
            if kind is not None and kind[2] == b"s" and value is not None:
                if _second_value(content, found, end):  # which text it meant cannot be told
                    ref = next((v for _, _, name, v in attrs if name == b"r"), b"").decode("utf-8", "replace")
                    sheet = sheet_names_by_part(zf).get(info.filename, info.filename)
                    raise XlsxRejected(DAMAGED.format(
                        f"工作表“{sheet}”的单元格{ref[:20]}存有不止一个值，"
                        "请在Excel中打开该文件，核对该单元格后重新保存报送"))
                index = _shared_index(value)
                if index != value and (index.isdigit() or not index):
                    edits.append((*found.span(1), index))  # ` 3 `, `+3`, `&#51;`: string 3, as openpyxl reads it
                if index and (not index.isdigit() or len(index) > 10 or int(index) >= strings):
                    ref = next((v for _, _, name, v in attrs if name == b"r"), b"").decode("utf-8", "replace")
                    sheet = sheet_names_by_part(zf).get(info.filename, info.filename)
                    raise XlsxRejected(DAMAGED.format(
                        f"工作表“{sheet}”的单元格{ref[:20]}指向不存在的文字（共享字符串第{index[:20].decode('utf-8', 'replace')}项），"
                        "请在Excel中打开该文件，核对该单元格后重新保存报送"))
            if kind is not None and not _readable(kind[2], value):
                edits.append((kind[0], kind[1], _TEXT_TYPE))
            for start, stop, name, v in attrs:
                if name == b"s" and styles and (not v.strip().isdigit() or len(v.strip()) > 9 or int(v) >= styles):
                    edits.append((start - 1 if content[start - 1:start].isspace() else start, stop, b""))
        if edits:
            edited[info.filename] = _edited(content, sorted(edits))
    if not edited:
        return None
    return _copy_with(data, lambda name, content: edited.get(name, content))


# ------------------------------------------------------------------ comments, CDATA, instructions

# A worksheet may hold, where XML allows them, comments, CDATA sections and processing
# instructions: Excel writes none, a program may. calamine reads a value holding one wrongly and
# silently (`<v>12<!-- x -->00</v>` as 12, `<v><![CDATA[1200]]></v>` as empty; openpyxl reads
# 1200 for both), and the scans here look past them. Such a sheet is read from a copy without them:
# comments and instructions removed (they are no content), each CDATA section's text escaped in
# its place: the same XML to any reader.
# So is a sheet with white space around an attribute's `=` in a tag (`<c r="B5" t ="s">`: XML
# allows it, no program writes it): calamine reads such a cell as others, but the scans here look
# for attributes as programs write them (` t="s"`, ` t="e"`), and missed the index with spaces
# read as the first shared string and the error value read as empty. The copy has each such
# attribute written `name="value"`.

_OTHER_MARKUP = re.compile(rb"<!--|<!\[CDATA\[|<\?")
_MARKUP_START = re.compile(rb"<[!?]")
_MARKUP_END = {b"<!--": b"-->", b"<![CDATA[": b"]]>", b"<?": b"?>"}


def _after_declaration(xml: bytes) -> int:
    """Where a part's XML starts after its declaration (`<?xml …?>`, after a BOM or spaces)."""
    head = xml[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<?xml"):
        end = xml.find(b"?>")
        return end + 2 if end >= 0 else 0
    return 0


# An `=` with white space before or after it (a regex starting with the `=`: about 8 ms for 8 MB);
# a tag (its name, then its attributes: a quoted value may hold `>`); an attribute in a tag, the
# white space before it and around its `=` apart.
_SPACED_EQUALS = re.compile(rb"=(?:(?<=\s=)|\s)")
_ANY_TAG = re.compile(rb"""<[A-Za-z_][^\s<>/"'=]*(?:[^<>"']|"[^"<]*"|'[^'<]*')*+>""")
_TAG_ATTR = re.compile(rb"""(\s[^\s=<>"']+)(\s*)=(\s*)("[^"]*"|'[^']*')""")


def _spaced_tag(tag: bytes) -> bool:
    """Whether one of a tag's attributes has white space around its `=`."""
    return any(a.group(2) or a.group(3) for a in _TAG_ATTR.finditer(tag))


def has_spaced_attribute(xml: bytes) -> bool:
    """Whether a tag of the XML has an attribute with white space around its `=` (`t ="s"`).
    Each `=` with white space beside it is looked at in the tag around it, if any; the next is
    looked for after the next `<` (an `=` in a text, `<t>a = b</t>`, is no attribute's), so every
    byte is looked at a bounded number of times."""
    at = 0
    while (found := _SPACED_EQUALS.search(xml, at)) is not None:
        start = xml.rfind(b"<", at, found.start())
        tag = _ANY_TAG.match(xml, start) if start >= 0 else None
        if tag is not None and tag.end() > found.start() and _spaced_tag(tag.group()):
            return True
        at = xml.find(b"<", found.end())
        if at < 0:
            return False
    return False


def _unspaced_attributes(xml: bytes) -> bytes:
    """The XML with each tag's attributes written `name="value"` (their values and the white space
    between them kept)."""
    def tag(m: re.Match) -> bytes:
        text = m.group()
        return _TAG_ATTR.sub(rb"\1=\4", text) if _spaced_tag(text) else text

    return _ANY_TAG.sub(tag, xml)


def has_other_markup(xml: bytes) -> bool:
    """Whether a worksheet's XML holds a comment, CDATA section or processing instruction (its
    declaration aside): a search for `<!` or `<?` in C (about 8 ms for 8 MB), then which it is;
    or an attribute with white space around its `=` (`has_spaced_attribute`)."""
    found = _MARKUP_START.search(xml, _after_declaration(xml))
    return (found is not None and _OTHER_MARKUP.search(xml, found.start()) is not None) or has_spaced_attribute(xml)


def plain_markup(xml: bytes) -> bytes:
    """The XML without comments and processing instructions (its declaration kept), each CDATA
    section's text escaped in its place; one pass. An unclosed one is left as it is (the
    readers then fail on the file). Then, if a tag has an attribute with white space around its
    `=`, every such attribute written `name="value"`."""
    xml = _plain_comments(xml)
    return _unspaced_attributes(xml) if has_spaced_attribute(xml) else xml


def _plain_comments(xml: bytes) -> bytes:
    out, at = bytearray(), 0
    found = _OTHER_MARKUP.search(xml, _after_declaration(xml))
    while found is not None:
        close = _MARKUP_END[found.group()]
        end = xml.find(close, found.end())
        if end < 0:
            break
        out += xml[at:found.start()]
        if close == b"]]>":
            out += xml[found.end():end].replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")
        at = end + len(close)
        found = _OTHER_MARKUP.search(xml, at)
    out += xml[at:]
    return bytes(out)


def plain_markup_copy(data: bytes, parts: list[str]) -> bytes:
    """The workbook with `plain_markup` of each of `parts` (worksheets)."""
    return _copy_with(data, lambda name, content: plain_markup(content) if name in parts else content)
