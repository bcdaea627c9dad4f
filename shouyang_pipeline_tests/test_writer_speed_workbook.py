"""The analysts' workbook's faster paths write what the plain ones wrote (issue 14): the widths from
the extremes and distinct values, the width of a text without a per-glyph sum, and the rows written
by column type (`_write_rows`) give the same file, byte for byte, as `write_row` on
xlsxwriter's own worksheet."""

from __future__ import annotations

import math
import random
import unicodedata
import zipfile
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from openpyxl import load_workbook

from shouyang_pipeline.catalog.marts import MARTS
from shouyang_pipeline.exports.workbook import (
    COUNT_FORMAT, DATE_FORMAT, MONEY_FORMAT, PERCENT_FORMAT, _converter, _row_lines, _write_rows,
    content_width, display_width, lines_needed, number_format, row_height, shown,
)


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


# Every kind of value a row of project_progress can hold, including what xlsxwriter escapes or
# keeps specially (control characters, `_xHHHH_`, `&<>`, a rich-string look-alike, spaces at either
# end, a full-width space, a line break, quotes) and a text longer than a cell holds (the rest of
# its row is not written, as write_row does).
TEXTS = ["普通文本", "a&b<c>d", "<r>像富文本</r>", " 前有空格", "后有空格 ", "\u3000全角空格", "_x0041_", "控制\x01字符",
         "换行\n第二行", '"引号"', "", "=SUM(A1)", "http://example.com", "1234", "项" * 40, "\ufffe"]


def project_rows(n: int, *, long_text_at: int | None = None):
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
                row.append(TEXTS[(i + len(row)) % len(TEXTS)])
        rows.append(tuple(row))
    if long_text_at is not None:
        row = list(rows[long_text_at])
        row[2] = "长" * 40000  # project_name: over 32,767 characters
        rows[long_text_at] = tuple(row)
    return cols, rows


def write_both(tmp_path, cols, rows):
    """The same sheet written as before (write_row of the converted values on xlsxwriter's
    worksheet) and as now (`_write_rows`)."""
    paths = []
    heights = {i: 1 + i % 3 for i in range(len(rows)) if i % 3}
    for fast in (False, True):
        path = tmp_path / f"{'fast' if fast else 'plain'}.xlsx"
        wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                             "strings_to_urls": False, "constant_memory": True})
        wb.set_properties({"created": datetime(2023, 6, 1)})
        ws = wb.add_worksheet("数据")
        for j, c in enumerate(cols):
            code = number_format(c)
            ws.set_column(j, j, 10 + j, wb.add_format({"valign": "top", **({"num_format": code} if code else {})}))
            ws.write(0, j, c.title)
        ws.write_comment(0, 0, "批注")
        if fast:
            _write_rows(ws, rows, cols, heights)
        else:
            converters = [_converter(c) for c in cols]
            for r, row in enumerate(rows, start=1):
                if r - 1 in heights:
                    ws.set_row(r, row_height(heights[r - 1]))
                ws.write_row(r, 0, [None if v is None else conv(v) for conv, v in zip(converters, row)])
        wb.close()
        paths.append(path)
    return paths


def members(path):
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_rows_written_by_column_type_are_the_same_file(tmp_path):
    cols, rows = project_rows(300, long_text_at=7)
    plain, fast = write_both(tmp_path, cols, rows)
    a, b = members(plain), members(fast)
    assert a.keys() == b.keys()
    assert [name for name in a if a[name] != b[name]] == []
    ws = load_workbook(fast)["数据"]
    # what the file holds: text as text (never a formula or a link), flags as 是/否, figures as numbers
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert any(v == "=SUM(A1)" for row in values for v in row)
    assert {type(v) for row in values for v in row} >= {str, float}
    assert values[7][3:] == [None] * (len(values[7]) - 3)  # the row stopped at the long text, cut
    assert ws.cell(row=9, column=3).value == "长" * 32767 and values[8][3:] != [None] * (len(values[8]) - 3)
