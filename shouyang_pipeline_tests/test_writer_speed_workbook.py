"""The analysts' workbook's faster paths write what the plain ones wrote (issue 14): the widths from
the extremes and distinct values, the width of a text without a per-glyph sum, and the data rows
written as XML by `xlsx_rows` give the same file, byte for byte, as `write_row` on xlsxwriter's own
worksheet, except for a text that looks like rich-text XML, which xlsxwriter writes unescaped."""

from __future__ import annotations

import io
import math
import random
import re
import struct
import unicodedata
import zipfile
import zlib
from xml.etree.ElementTree import ParseError
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from isal import isal_zlib
from openpyxl import load_workbook

from shouyang_pipeline.catalog.marts import MARTS
import pytest

from shouyang_pipeline.catalog.tables import Column
from shouyang_pipeline.marts.build import build_all
from shouyang_pipeline.exports import xlsx_rows
from shouyang_pipeline.exports.workbook import (
    COUNT_FORMAT, DATE_FORMAT, MONEY_FORMAT, PERCENT_FORMAT, _converter, _lines_of, _row_lines, content_width, data_rows_of,
    display_width, lines_needed, number_format, row_height, shown, widest, write_workbook,
)
from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, write_csv


def per_glyph(text: str) -> int:
    """display_width as it was: the float sum of 2.2 per wide glyph and 1 per other character."""
    return math.ceil(sum(2.2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text))


def test_display_width_is_the_per_glyph_sum_also_where_it_is_whole():
    # 20 wide glyphs make 44.00000000000001 in floats, which rounds up to 45: kept as it was
    texts = [""] + ["项" * w + "a" * n for w in range(0, 31) for n in (0, 1, 3)]
    texts += ["ＡＢ（）１", "\u3000缩进", "emoji😀", "x\ny", "é" * 7, "项目" * 50 + "Ab1"]
    rng = random.Random(14)
    alphabet = "项目投资亿元ａＢ１（）、，。 aZ09-.\n😀é\u3000"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(2000)]
    assert [display_width(t) for t in texts] == [per_glyph(t) for t in texts]
    assert display_width("项" * 20) == per_glyph("项" * 20) == 45 and display_width("项" * 5) == 11


def every_value(values, fmt):
    return max((display_width(shown(v, fmt)) for v in values), default=0)


def test_content_width_is_the_widest_value_shown():
    rng = random.Random(5)
    numbers = [Decimal(rng.randint(-10**9, 10**9)) / 10000 for _ in range(500)]
    cases = [
        [], [None, None],
        numbers, numbers + [None], [Decimal("999.995"), Decimal("-0.001")], [Decimal("0.004"), Decimal("-0.004")],
        [0.0, -0.0], [-0.0, 0.0, None], [1e300, -1e-300, 3.5], [float("nan"), 12345.678], [float("inf"), 1.5, -2.25],
        [-float("inf"), 12345678.9], [1, 22, -333], [Decimal("1.0"), Decimal("1.00"), 10**20],
        ["项目", "a", "", "项目名称很长很长", "x\ny"], [True, False, None], [date(2023, 5, 1)], [datetime(2023, 5, 1, 8)],
    ]
    formats = [MONEY_FORMAT, PERCENT_FORMAT, COUNT_FORMAT, "0", "#,##0.0000", None, DATE_FORMAT]
    for values in cases:
        for fmt in formats:
            assert content_width(values, fmt) == every_value(values, fmt), (values[:5], fmt)


def test_row_lines_are_lines_needed_per_row():
    remarks = ["短", None, "很长的备注" * 12, "", "两行\n第二行", "很长的备注" * 12, "a" * 80]
    codes = ["XM1", None, "XM3", "XM4", "XM5", "XM6", "XM7"]
    columns, widths = [codes, remarks, [1.5] * 7], [8, 28, 10]
    expected = {}
    for i in range(7):
        lines = max(lines_needed(str(columns[j][i] or ""), widths[j]) for j in (0, 1))
        if lines > 1:
            expected[i] = lines
    assert _row_lines(columns, [0, 1], widths) == expected and expected


def test_row_lines_take_each_row_s_most_wrapped_cell_of_every_kind_of_column():
    """Random columns of texts (with blanks, line breaks, names past `LINES_AT_ONCE_FROM`), of
    numbers and of mixed values: each row's most lines over the wrapped columns, the rows taking
    one left out, in the rows' order."""
    import random

    rng = random.Random(14)
    rows = 7000
    glyphs = "项目名称寿阳县重点工程ab12 （）—"
    texts = [None if rng.random() < 0.1 else "".join(rng.choice(glyphs) for _ in range(rng.randint(1, 40)))
             for _ in range(rows)]
    breaks = [rng.choice([None, "一行", "两行\n第二行很长很长很长很长很长很长", "x" * rng.randint(1, 30)]) for _ in range(rows)]
    numbers = [rng.choice([None, 1.5, 123456789.25, -3]) for _ in range(rows)]
    mixed = [rng.choice([None, "长文本" * rng.randint(1, 9), 12.5, True]) for _ in range(rows)]
    columns, widths = [texts, breaks, numbers, mixed], [14, 12, 8, 10]
    for wrapped in ([0], [1, 0], [2], [3, 0, 1], [0, 1, 2, 3], []):
        expected = {}
        for i in range(rows):
            lines = max((lines_needed(str(columns[j][i] or ""), widths[j]) for j in wrapped), default=1)
            if lines > 1:
                expected[i] = lines
        got = _row_lines(columns, wrapped, widths)
        assert got == expected and list(got) == sorted(got), wrapped
        assert all(type(i) is int and type(n) is int for i, n in got.items())


@pytest.fixture(autouse=True)
def nothing_measured_yet(monkeypatch):
    """Each test measures its texts itself: none remembered from another's (`workbook._MEASURED`)."""
    monkeypatch.setattr("shouyang_pipeline.exports.workbook._MEASURED", {})


def test_row_lines_measure_a_text_once_a_process(monkeypatch):
    """The texts a worker measured for one month's workbook are not measured again for the
    next's (the same projects' names), with the same lines; a text of that width not seen before
    is; past MEASURED_KEPT texts a width forgets them."""
    names = [f"寿阳县重点项目第{i}号工程建设" for i in range(12)] + [None, "短"]
    measured: list[int] = []
    real = lines_needed

    def counted(text, width):
        measured.append(width)
        return real(text, width)

    monkeypatch.setattr("shouyang_pipeline.exports.workbook.lines_needed", counted)
    first = _row_lines([names], [0], [12])
    assert first and len(measured) == 12
    names_next_month = names[::-1] + ["寿阳县重点项目第99号工程建设"]
    assert _row_lines([names_next_month], [0], [12]) == {
        i: n for i, t in enumerate(names_next_month) if t and (n := real(t, 12)) > 1}
    assert len(measured) == 13  # only the new one
    _row_lines([names], [0], [14])  # another width: its own lines
    assert len(measured) == 25
    monkeypatch.setattr("shouyang_pipeline.exports.workbook.MEASURED_KEPT", 5)
    _row_lines([names[:6]], [0], [12])  # 13 kept at width 12: forgotten, then these 6 measured
    assert len(measured) == 31


@pytest.mark.parametrize("at_once_from", [0, 10**9])
def test_row_lines_at_every_width_and_length(monkeypatch, at_once_from):
    """The one-line shortcut of `_row_lines` against `lines_needed`, where 2.2 a wide glyph sums
    to just above a whole number (5, 10, 20 CJK characters) and around each width's edge; the texts
    measured at once (`_lines_of`) or one by one."""
    monkeypatch.setattr("shouyang_pipeline.exports.workbook.LINES_AT_ONCE_FROM", at_once_from)
    texts = ["项" * n + "a" * m for n in range(0, 26) for m in (0, 1, 2)] + ["a" * n for n in range(60)] + ["项\n项"]
    for width in range(6, 51):
        expected = {i: n for i, t in enumerate(texts) if (n := lines_needed(t, width)) > 1}
        assert _row_lines([texts], [0], [width]) == expected, width


def test_lines_of_texts_at_once_are_lines_needed_of_each():
    """`_lines_of` counts the wide glyphs of all one-line texts in one pass: the same lines as
    `lines_needed` of each, for wide, full-width, emoji, combining and narrow characters alike."""
    rng = random.Random(29)
    alphabet = "项目投资亿元ａＢ１（）、，。 aZ09-.😀é\u3000\u0301ｶ한\n"
    texts = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))) for _ in range(3000)}
    texts |= {"项" * n for n in range(1, 40)}
    for width in (6, 9, 28, 50):
        assert _lines_of(texts, width) == {t: lines_needed(t, width) for t in texts}, width


# Every kind of value a row of project_progress can hold, including what xlsxwriter escapes or
# keeps specially (control characters, `_xHHHH_`, `&<>`, spaces at either end, a full-width space, a
# line break, quotes, non-characters) and a text longer than a cell holds (the rest of its row is
# not written, as write_row does), one of them cut in the middle of a surrogate pair.
TEXTS = ["普通文本", "a&b<c>d", " 前有空格", "后有空格 ", "\u3000全角空格", "_x0041_", "控制\x01字符", "\x1f",
         "换行\n第二行", '"引号"', "", "=SUM(A1)", "http://example.com", "1234", "项" * 40, "\ufffe", "\uffff末",
         "\t制表", "尾\u2029", "_x005F_x0041_", "<r>", "</r>", "r>像<r"]
RICH_LOOKING = "<r>像富文本</r>"  # xlsxwriter's constant_memory mode writes this as XML


def project_rows(n: int, *, long_text_at: int | None = None, texts=TEXTS):
    cols = MARTS["project_progress"].columns
    rng = random.Random(n)
    rows = []
    for i in range(n):
        row = []
        for c in cols:
            conv = _converter(c)
            if rng.random() < 0.1:
                row.append(None)
            elif c.sql_type == "BOOLEAN":
                row.append(rng.random() < 0.5)
            elif c.sql_type == "DATE":
                row.append(date(2023, 1, 1 + i % 28))
            elif conv is float:
                row.append(Decimal(rng.randint(-10**8, 10**8)) / 100 if c.sql_type.startswith("DECIMAL") else i)
            else:
                row.append(texts[(i + len(row)) % len(texts)])
        rows.append(tuple(row))
    if long_text_at is not None:
        row = list(rows[long_text_at])
        row[2] = "长" * 40000  # project_name: over 32,767 characters
        rows[long_text_at] = tuple(row)
        row = list(rows[long_text_at + 2])
        row[5] = "长" * 32766 + "😀" + "尾"  # the cut falls inside the emoji's surrogate pair
        rows[long_text_at + 2] = tuple(row)
    return cols, rows


def headed_sheet(target, cols):
    """A workbook (xlsxwriter, constant_memory) of one sheet, 数据, with its columns' formats and
    widths, a header row and a comment on it."""
    wb = xlsxwriter.Workbook(target, {"strings_to_numbers": False, "strings_to_formulas": False,
                                      "strings_to_urls": False, "constant_memory": True})
    wb.set_properties({"created": datetime(2023, 6, 1)})
    ws = wb.add_worksheet("数据")
    for j, c in enumerate(cols):
        code = number_format(c)
        ws.set_column(j, j, 10 + j, wb.add_format({"valign": "top", **({"num_format": code} if code else {})}))
        ws.write(0, j, c.title)
    ws.write_comment(0, 0, "批注")
    return wb, ws


def write_both(tmp_path, cols, rows, lines=None):
    """The same sheet written as before (write_row of the converted values on xlsxwriter's
    worksheet) and as now (the rows added by `xlsx_rows.splice`)."""
    paths = []
    lines = {i: 1 + i % 3 for i in range(len(rows)) if i % 3} if lines is None else lines
    for fast in (False, True):
        path = tmp_path / f"{'fast' if fast else 'plain'}.xlsx"
        target = io.BytesIO() if fast else str(path)
        wb, ws = headed_sheet(target, cols)
        if fast:
            data = data_rows_of(ws, list(zip(*rows)) if rows else [() for _ in cols], cols, lines)
        else:
            converters = [_converter(c) for c in cols]
            for r, row in enumerate(rows, start=1):
                if r - 1 in lines:
                    ws.set_row(r, row_height(lines[r - 1]))
                ws.write_row(r, 0, [None if v is None else conv(v) for conv, v in zip(converters, row)])
        wb.close()
        if fast:
            xlsx_rows.splice(target.getvalue(), path, {1: data})
        paths.append(path)
    return paths


def members(path):
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def assert_same_members(plain, fast):
    a, b = members(plain), members(fast)
    assert list(a) == list(b)
    assert [name for name in a if a[name] != b[name]] == []


@pytest.mark.parametrize("chunk", [7, 2000])
def test_rows_written_as_xml_are_the_same_file(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(xlsx_rows, "_ROWS_PER_CHUNK", chunk)  # rows are built a chunk at a time
    cols, rows = project_rows(300, long_text_at=7)
    plain, fast = write_both(tmp_path, cols, rows)
    assert_same_members(plain, fast)
    ws = load_workbook(fast)["数据"]
    # what the file holds: text as text (never a formula or a link), flags as 是/否, figures as numbers
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert any(v == "=SUM(A1)" for row in values for v in row)
    assert {type(v) for row in values for v in row} >= {str, float}
    assert values[7][3:] == [None] * (len(values[7]) - 3)  # the row stopped at the long text, cut
    assert ws.cell(row=9, column=3).value == "长" * 32767 and values[8][3:] != [None] * (len(values[8]) - 3)
    assert ws.cell(row=11, column=6).value == "长" * 32766 and values[9][6:] == [None] * (len(values[9]) - 6)
    texts = {v for row in values for v in row if isinstance(v, str)}
    # Excel's escapes, which openpyxl leaves as they are (Excel and LibreOffice read the characters)
    assert {" 前有空格", "a&b<c>d", "控制_x0001_字符", "_x005F_x0041_", "_xFFFE_"} <= texts


@pytest.mark.parametrize("case", ["empty", "blank rows at the end", "one column", "tall rows only", "dates"])
def test_rows_written_as_xml_at_the_edges(tmp_path, case):
    """No rows; rows with nothing written (the sheet's dimension ends at the last written one, or
    at the last row with a height); a one-column sheet; dates and times around Excel's false
    29 February 1900 and its day 0."""
    cols = MARTS["project_progress"].columns
    lines: dict[int, int] | None = None
    if case == "empty":
        rows = []
    elif case == "blank rows at the end":
        _, rows = project_rows(20)
        rows += [tuple("" if _converter(c) is str and j % 2 else None for j, c in enumerate(cols))] * 3
    elif case == "one column":
        cols = cols[2:3]
        rows = [("名称",), (None,), ("",), ("末行",)]
    elif case == "tall rows only":
        rows = [tuple([None] * len(cols))] * 5
        lines = {1: 3, 3: 2}
    else:
        cols = [Column("d", "DATE", "日期", ""), Column("t", "TIMESTAMP", "时间", "")]
        days = [date(1900, 1, 1), date(1900, 2, 28), date(1900, 3, 1), date(1899, 12, 31), date(2023, 12, 31),
                date(9999, 12, 31)]
        times = [datetime(1900, 1, 1, 12), datetime(1900, 1, 1), datetime(1900, 2, 28, 23, 59, 59, 999999),
                 datetime(1900, 3, 1, 0, 0, 1), datetime(2023, 6, 30, 17, 45, 12, 250000), datetime(1900, 1, 2, 6)]
        rows = list(zip(days, times))
    plain, fast = write_both(tmp_path, cols, rows, lines)
    assert_same_members(plain, fast)


def test_a_text_that_looks_like_rich_text_is_written_as_text(tmp_path):
    """xlsxwriter's constant_memory mode writes a text starting with <r> and ending with </r> into
    the sheet as XML, so that a submitted name could break the analysts' workbook: the rows written
    as XML escape it like any other text."""
    hostile = ["<r>像富文本</r>", "<r></t></is></c></row></sheetData><x/><sheetData><row><c><is><t>y</r>",
               "<r><t>粗体</t></r>"]
    cols, rows = project_rows(12, texts=hostile)
    plain, fast = write_both(tmp_path, cols, rows)
    ws = load_workbook(fast)["数据"]
    written = {c.value for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)}
    assert set(hostile) <= written
    with pytest.raises(ParseError):  # the file as xlsxwriter writes it does not even open
        load_workbook(plain)


def test_a_submitted_name_that_looks_like_rich_text_reaches_the_workbook(raw, run_period, tmp_path):
    """A key-projects file whose project names are rich-text XML look-alikes: the month's analysts'
    workbook opens, and shows the names as they were sent."""
    names = ["<r></t></is></c></row></sheetData><x/><sheetData><row><c><is><t>y</r>", "<r><t>粗体</t></r>"]
    (raw / "key_projects").mkdir()
    write_csv(raw / "key_projects" / "2023-02__发改局.csv",
              [KP_HEADER] + [kp_row(f"XM00{i}", name=n) for i, n in enumerate(names, start=1)])
    run = run_period("key_projects", "2023-02")
    build_all(run.conn)
    ws = load_workbook(write_workbook(run.conn, "2023-02", tmp_path))["重点项目进度"]
    heads = [c.value for c in ws[1]]
    shown_names = [row[heads.index("项目名称")] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert sorted(shown_names) == sorted(names)


def test_a_figure_that_is_not_finite_fails_as_in_xlsxwriter():
    rows = xlsx_rows.RowsXml([[1.5, float("nan")]], [xlsx_rows.NUMBER])
    with pytest.raises(TypeError, match="NAN/INF"):
        list(rows.chunks([None]))


def test_splice_takes_only_sheets_without_data_rows(tmp_path):
    target = io.BytesIO()
    wb = xlsxwriter.Workbook(target, {"constant_memory": True})
    ws = wb.add_worksheet()
    ws.write(0, 0, "表头")
    ws.write(1, 0, "已写的行")
    wb.close()
    with pytest.raises(ValueError, match="header rows alone"):
        xlsx_rows.splice(target.getvalue(), tmp_path / "x.xlsx", {1: xlsx_rows.RowsXml([["甲"]], [xlsx_rows.TEXT])})


def test_leading_empty_cells_number_the_formats_otherwise_but_format_every_cell_alike(tmp_path):
    """xlsxwriter numbers a column's format when its first cell is written; the rows written as XML
    leave the numbering to the `<cols>` element, in column order. Where a sheet's first rows have
    empty cells the numbers (styles.xml) differ from before; every cell's value and format do not."""
    cols, rows = project_rows(40)
    rows = [tuple(None if j % 3 == 0 else v for j, v in enumerate(row)) if i < 5 else row
            for i, row in enumerate(rows)]
    plain, fast = write_both(tmp_path, cols, rows)

    def cells(path):
        ws = load_workbook(path)["数据"]
        return [[(c.value, c.number_format, c.alignment.vertical, c.alignment.wrap_text, c.font.b)
                 for c in row] for row in ws.iter_rows()]

    assert cells(plain) == cells(fast)


def test_rows_beyond_excels_last_are_not_written(monkeypatch):
    monkeypatch.setattr(xlsx_rows, "ROW_LIMIT", 10)
    rows = xlsx_rows.RowsXml([[f"第{i}行" for i in range(20)]], [xlsx_rows.TEXT])
    xml = "".join(rows.chunks([None]))
    assert 'r="A10"' in xml and 'r="A11"' not in xml and rows.last_row() == 9


def local_header(path, name: str) -> bytes:
    """A zip member's local header as written: its 30 fixed bytes, its name and its extra field."""
    with zipfile.ZipFile(path) as z:
        at = z.getinfo(name).header_offset
    data = path.read_bytes()
    name_len, extra_len = struct.unpack("<HH", data[at + 26:at + 30])
    return data[at:at + 30 + name_len + extra_len]


def test_a_sheet_is_zip64_only_when_it_needs_to_be(tmp_path, monkeypatch):
    """A sheet's XML goes straight into its member (`splice`), its size unknown when the member's
    header is written: not zip64 (version 20, no zip64 extra), the sizes put in afterwards."""
    monkeypatch.setattr(xlsx_rows, "DEFLATE_BYTES", 4096)  # the sheet in many blocks
    cols, rows = project_rows(50)
    plain, fast = write_both(tmp_path, cols, rows)
    assert_same_members(plain, fast)
    local = local_header(fast, "xl/worksheets/sheet1.xml")
    assert local[:4] == b"PK\x03\x04" and int.from_bytes(local[4:6], "little") == 20  # no zip64 header
    assert len(local) == 30 + len("xl/worksheets/sheet1.xml")  # no extra field
    with zipfile.ZipFile(fast) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
        assert z.testzip() is None and info.file_size > 4 * 4096 and info.file_size == len(z.read(info))
        assert struct.unpack("<LLL", local[14:26]) == (info.CRC, info.compress_size, info.file_size)


def test_a_sheet_beyond_the_zip_limit_is_written_again_as_zip64(tmp_path, monkeypatch):
    """A sheet found beyond the zip limit as its member closes (zipfile refuses it) makes the file
    written again, that sheet's member zip64 from the start and the others as they were."""
    cols, rows = project_rows(50)
    target = io.BytesIO()
    wb = xlsxwriter.Workbook(target, {"constant_memory": True})
    sheets = {}
    for number, n in ((1, 50), (2, 2)):
        ws = wb.add_worksheet(f"表{number}")
        ws.write_row(0, 0, [c.name for c in cols])
        sheets[number] = (ws, rows[:n])
    data = {number: data_rows_of(ws, list(zip(*part)), cols, {}) for number, (ws, part) in sheets.items()}
    wb.close()
    opened = []
    real_open = zipfile.ZipFile.open

    def counting_open(self, name, mode="r", pwd=None, *, force_zip64=False):
        if mode == "w" and getattr(name, "filename", "").startswith("xl/worksheets/sheet"):
            opened.append((name.filename, force_zip64))
        return real_open(self, name, mode, pwd, force_zip64=force_zip64)

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    size_of_first = len("".join(data[1].sheet(_sheet_xml(target, 1), "xl/worksheets/sheet1.xml")).encode())
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", size_of_first - 1)  # the first sheet just beyond, the second within
    path = tmp_path / "x.xlsx"
    xlsx_rows.splice(target.getvalue(), path, data)
    assert opened == [("xl/worksheets/sheet1.xml", False),  # refused as it closed
                      ("xl/worksheets/sheet1.xml", True), ("xl/worksheets/sheet2.xml", False)]
    first, second = (local_header(path, f"xl/worksheets/sheet{n}.xml") for n in (1, 2))
    assert int.from_bytes(first[4:6], "little") == 45 and int.from_bytes(second[4:6], "little") == 20
    monkeypatch.undo()
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
    book = load_workbook(path)
    assert book["表1"].max_row == 51 and book["表2"].max_row == 3


def _sheet_xml(target: io.BytesIO, number: int) -> str:
    with zipfile.ZipFile(io.BytesIO(target.getvalue())) as z:
        return z.read(f"xl/worksheets/sheet{number}.xml").decode("utf-8")


def test_widest_is_the_widest_display_width():
    assert widest({"中" * 20, "a" * 44}) == display_width("中" * 20) == 45
    rng = random.Random(3)
    alphabet = "项目投资亿元ａＢ１（）、，。 aZ09-.😀é\u3000"
    for _ in range(300):
        texts = {"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(rng.randint(0, 20))}
        assert widest(texts) == max(map(display_width, texts), default=0)


def test_texts_of_other_types_are_written_as_their_own_text():
    """1, True and 1.0 are one key of a dict: each is written as its own text all the same."""
    rows = xlsx_rows.RowsXml([[1, True, 1.0, "1", None, ""]], [xlsx_rows.TEXT])
    xml = "".join(rows.chunks([None]))
    assert re.findall(r"<t>(.*?)</t>", xml) == ["1", "True", "1.0", "1"] and xml.count("<row ") == 4


def raw_member(path, name: str) -> bytes:
    """A zip member's bytes as stored (compressed), read past its local header."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    data = path.read_bytes()
    at = info.header_offset
    name_len, extra_len = struct.unpack("<HH", data[at + 26:at + 30])
    start = at + 30 + name_len + extra_len
    return data[start:start + info.compress_size]


def test_spliced_sheets_are_deflated_by_isal_and_read_as_before(tmp_path):
    """The sheets `splice` writes are compressed by ISA-L (`fast_deflate`): a plain raw DEFLATE
    stream (zlib inflates it) of the very XML xlsxwriter's own rows make."""
    cols, rows = project_rows(3000)
    plain, fast = write_both(tmp_path, cols, rows)
    name = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(fast) as z:
        assert z.testzip() is None
        assert z.getinfo(name).compress_type == zipfile.ZIP_DEFLATED
        xml = z.read(name)
    stored = raw_member(fast, name)
    isal = isal_zlib.compressobj(xlsx_rows.FAST_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    chunks = [xml[i:i + (1 << 20)] for i in range(0, len(xml), 1 << 20)]  # as `splice` copies the sheet
    assert stored == b"".join(map(isal.compress, chunks)) + isal.flush()  # ISA-L's stream, not zlib's
    assert stored != zlib.compress(xml, 1, wbits=-zlib.MAX_WBITS)
    assert zlib.decompress(stored, -zlib.MAX_WBITS) == xml
    with zipfile.ZipFile(plain) as z:
        assert z.read(name) == xml
    assert load_workbook(fast)["数据"].max_row == 3001


def test_fast_deflate_leaves_a_member_it_cannot_take_to_zipfile():
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as z:
        stored = zipfile.ZipInfo("stored.xml")  # no compressor at all
        with z.open(stored, "w") as out:
            assert not xlsx_rows.fast_deflate(out)
            out.write(b"<a/>")
        deflated = zipfile.ZipInfo("deflated.xml")
        deflated.compress_type = zipfile.ZIP_DEFLATED
        with z.open(deflated, "w") as out:
            assert xlsx_rows.fast_deflate(out)
            out.write(b"<b/>" * 10_000)
        late = zipfile.ZipInfo("late.xml")  # already written to: left to zlib, whose stream it began
        late.compress_type = zipfile.ZIP_DEFLATED
        with z.open(late, "w") as out:
            out.write(b"<c/>" * 10_000)
            assert not xlsx_rows.fast_deflate(out)
            out.write(b"<d/>" * 10_000)
    with zipfile.ZipFile(target) as z:
        assert z.testzip() is None
        assert z.read("stored.xml") == b"<a/>" and z.read("deflated.xml") == b"<b/>" * 10_000
        assert z.read("late.xml") == b"<c/>" * 10_000 + b"<d/>" * 10_000
