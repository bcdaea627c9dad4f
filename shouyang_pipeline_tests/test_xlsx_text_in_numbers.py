"""Numeric cells that store no number: NaN, inf, abc, 12,5 in a `<v>` without a text type.

Excel never writes them, programs do. openpyxl (the percent and error pass) raised ValueError on
them and calamine failed on text in a cell marked `t="n"`: the whole file was rejected as damaged
without naming the cell. Such cells are read as the text they store (xlsx_limits:
text_in_number_cells, general_format_copy), and the value parser names them. The files are real
workbooks (xlsxwriter), the odd cells then written into the sheet XML by hand.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from decimal import Decimal

import pytest

from shouyang_pipeline.ingest import xlsx_limits
from shouyang_pipeline.ingest.read import read_xlsx
from shouyang_pipeline.ingest.xlsx_limits import (general_format_copy, inspect_xlsx, text_in_number_cells,
                                                  text_type_edits)
from shouyang_pipeline_tests.conftest import KP_HEADER, Formula, Pct, kp_row, patch, write_xlsx_cached
from shouyang_pipeline_tests.test_xlsx_date_formats import workbook

SHEET1 = "xl/worksheets/sheet1.xml"


def with_cells(data: bytes, cells: dict[str, bytes]) -> bytes:
    """The same workbook with some cells of its first sheet written by hand: address -> the whole
    `<c>` element (what xlsxwriter will not write)."""
    def edit(body: bytes) -> bytes:
        for ref, element in cells.items():
            cell = re.compile(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', re.S)
            body, n = cell.subn(element, body)
            assert n == 1, ref
        return body

    return patch(data, SHEET1, edit)


def sheet_xml(data: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(SHEET1)


# ------------------------------------------------------------------ which cells are made text

def made_text(cells: bytes, prefix: bytes = b"") -> dict[str, bytes]:
    """Address -> the cell's start tag after the edits, for each cell `text_in_number_cells` changes."""
    xml = (b"<worksheet><sheetData><%srow r=\"1\">" % prefix + cells + b"</%srow></sheetData></worksheet>" % prefix)
    edits = list(text_type_edits(text_in_number_cells(xml)))
    pieces, at = [], 0
    for start, end, replacement in edits:
        pieces += (xml[at:start], replacement)
        at = end
    edited = b"".join(pieces) + xml[at:]
    changed = {}
    for tag in re.findall(rb"<(?:x:)?c\s[^>]*>", edited):
        ref = re.search(rb"""\sr=["'](\w+)""", tag).group(1).decode()
        if tag not in xml:
            changed[ref] = tag
    assert len(changed) == len(edits)
    return changed


def test_numeric_cells_storing_no_number_become_text_cells():
    cells = (b'<c r="A1"><v>NaN</v></c><c r="B1" s="3"><v>abc</v></c><c r="C1" s="3" t="n"><v>inf</v></c>'
             b'<c r="D1"><v>-inf</v></c><c r="E1"><v>Infinity</v></c><c r="F1"><v>12,5</v></c>'
             b'<c r="G1"><v>1.2.3</v></c><c r="H1"><v> </v></c><c r="I1"><v>1e999</v></c>'
             b'<c r="J1"><v>a&amp;b&lt;c</v></c><c r="K1" t="n"><v> 12 </v></c><c r="L1"><v>1_000</v></c>')
    assert made_text(cells) == {
        "A1": b'<c r="A1" t="str">', "B1": b'<c r="B1" s="3" t="str">', "C1": b'<c r="C1" s="3" t="str">',
        "D1": b'<c r="D1" t="str">', "E1": b'<c r="E1" t="str">', "F1": b'<c r="F1" t="str">',
        "G1": b'<c r="G1" t="str">', "H1": b'<c r="H1" t="str">', "I1": b'<c r="I1" t="str">',
        "J1": b'<c r="J1" t="str">', "K1": b'<c r="K1" t="str">', "L1": b'<c r="L1" t="str">'}


def test_formulas_quotes_prefixes_and_value_attributes():
    cells = (b'<c r="A1"><f>B1*2</f><v>NaN</v></c><c r="B1" s="2"><f t="shared" si="0"/><v>abc</v></c>'
             b'<c r="C1" t="str"><f>IF(A1&gt;0,"yes","no")</f><v>yes</v></c><c r="D1" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
             b"<c r='E1' t='n' s='1'><v>nan</v></c><c r='F1' t='str'><v>abc</v></c>"
             b'<c s="1" r="G1"><v xml:space="preserve">NaN</v></c><c r="H1" foo="t=&quot;s&quot; t=\'s\'"><v>x</v></c>')
    assert made_text(cells) == {
        "A1": b'<c r="A1" t="str">', "B1": b'<c r="B1" s="2" t="str">', "E1": b"<c r='E1' t=\"str\" s='1'>",
        "G1": b'<c s="1" r="G1" t="str">', "H1": b'<c r="H1" foo="t=&quot;s&quot; t=\'s\'" t="str">'}
    prefixed = (b'<x:c r="A1" s="1"><x:v>12,5</x:v></x:c><x:c r="B1" t="s"><x:v>0</x:v></x:c>'
                b'<x:c r="C1"><x:f>A1</x:f><x:v>-inf</x:v></x:c><x:c r="D1" t="n"><x:v>-1.5E-3</x:v></x:c>'
                b'<x:c r="E1" t="str"><x:v>abc</x:v></x:c>')
    assert made_text(prefixed, b"x:") == {"A1": b'<x:c r="A1" s="1" t="str">', "C1": b'<x:c r="C1" t="str">'}


def test_other_types_numbers_and_empty_values_are_left_alone():
    cells = (b'<c r="A1" t="s"><v>3</v></c><c r="B1" t="str"><v>abc</v></c><c r="C1" t="b"><v>1</v></c>'
             b'<c r="D1" t="e"><v>#N/A</v></c><c r="E1" t="inlineStr"><is><t>NaN</t></is></c>'
             b'<c r="F1" t="d"><v>2023-03-15T00:00:00</v></c><c r="G1" t="b"><v>abc</v></c>'
             b'<c r="H1"><v></v></c><c r="I1"><v/></c><c r="J1" t="n"><v></v></c><c r="K1" s="1"/>'
             b'<c r="L1"><f>A1</f><v></v></c><c r="M1"><v>-12.5</v></c><c r="N1"><v>1.5E-3</v></c>'
             b'<c r="O1"><v>1e+20</v></c><c r="P1"><v>+5</v></c><c r="Q1"><v>.5</v></c><c r="R1"><v>5.</v></c>'
             b'<c r="S1"><v>1E+300</v></c><c r="T1"><v>' + b"9" * 30 + b'</v></c><c r="U1" t="n"><v>-0</v></c>'
             b'<c r="V1"><v>1.5e-05</v></c><c r="W1"><v>45000</v></c><c r="X1" t="n"><v>1.7976931348623157E+308</v></c>')
    assert made_text(cells) == {}


# ------------------------------------------------------------------ a normal file

def test_a_normal_file_is_not_copied_and_reads_as_before(tmp_path, capfd):
    rows = [["数值", "百分比", "日期", "文字"], [1234.5, 0.106, date(2023, 3, 15), "abc"],
            [-7, -0.25, date(9999, 12, 31), "NaN"], [0.0015, 1e20, 45000, "12,5"], [1.5e-05, -1e-30, 0, "x"]]
    data = workbook(rows, {(r, 1): "0.0%" for r in range(1, 5)})
    data = with_cells(data, {"A4": b'<c r="A4"><v>1.5E-3</v></c>', "B5": b'<c r="B5" s="1" t="n"><v>-1e-30</v></c>'})
    xml = sheet_xml(data)
    assert b"<v>1.5E-05</v>" in xml and b"<v>1E+20</v>" in xml  # as xlsxwriter writes them
    assert xlsx_limits._TEXT_VALUE.search(xml) is None  # every cell passed over in C: no Python call
    inspection = inspect_xlsx(data)
    assert inspection.text_numbers == {} and general_format_copy(data, inspection) is data
    (grid,) = read_xlsx(data)
    assert [cells for _, cells in grid.rows[1:]] == [
        [1234.5, 0.106, date(2023, 3, 15), "abc"], [-7.0, -0.25, date(9999, 12, 31), "NaN"],
        [0.0015, 1e20, 45000.0, "12,5"], [1.5e-05, -1e-30, 0.0, "x"]]
    assert grid.percent_cells == {(r, 1) for r in range(2, 6)}
    assert capfd.readouterr().err == ""


# ------------------------------------------------------------------ read as the text stored

@pytest.mark.parametrize("kind", [b"", b' t="n"'])
@pytest.mark.parametrize("stored, read", [
    (b"NaN", "NaN"), (b"nan", "nan"), (b"inf", "inf"), (b"-inf", "-inf"), (b"Infinity", "Infinity"),
    (b"abc", "abc"), (b"12,5", "12,5"), (b"1.2.3", "1.2.3"), (b" ", " "), (b"a&amp;b", "a&b"), (b"", None),
])
def test_a_numeric_cell_storing_no_number_is_read_as_its_text(kind, stored, read, capfd):
    # both readers: a percent column makes openpyxl read the file too, an error value as well
    rows = [["百分比", "公式"], [0.5, 1], [0.25, 2]]
    data = workbook(rows, {(1, 0): "0.0%", (2, 0): "0.0%"})
    data = with_cells(data, {"A2": b'<c r="A2" s="1"' + kind + b"><v>" + stored + b"</v></c>",
                             "B3": b'<c r="B3" t="e"><f>1/0</f><v>#DIV/0!</v></c>'})
    (grid,) = read_xlsx(data, percent_formats=True)
    assert grid.rows[1][1] == [read, 1.0] and grid.rows[2][1] == [0.25, "#DIV/0!"]
    assert grid.percent_cells == {(3, 0)}  # the text is no percentage; the other cell still one
    assert capfd.readouterr().err == ""


def test_text_in_a_date_cell_loses_its_style_and_is_read_as_text(capfd):
    # -inf in a date format panicked in calamine; both edits go into one tag
    data = workbook([["日期"], [date(2023, 3, 15)], [date(2023, 3, 16)]])
    data = with_cells(data, {"A3": b'<c r="A3" s="1" t="n"><v>-inf</v></c>'})
    inspection = inspect_xlsx(data)
    assert inspection.misread_dates and inspection.text_numbers
    assert b'<c r="A3"  t="str"><v>-inf</v></c>' in sheet_xml(general_format_copy(data, inspection))
    (grid,) = read_xlsx(data, percent_formats=True)
    assert [cells for _, cells in grid.rows[1:]] == [[date(2023, 3, 15)], ["-inf"]]
    assert capfd.readouterr().err == ""


# ------------------------------------------------------------------ end to end: what the sender sees

def test_a_percent_dataset_file_with_nan_and_text_loads_its_other_rows(raw, run_period, capfd):
    path = raw / "city_indicators/2023-02.xlsx"
    write_xlsx_cached(path, [["指标名称", "全市数值"], ["规上工业增加值增速", Pct(0.106)],
                             ["全市GDP增速", Pct(0.25)], ["全市投资增速", 7.5]])
    path.write_bytes(with_cells(path.read_bytes(), {"B3": b'<c r="B3" s="1"><v>NaN</v></c>',
                                                    "B4": b'<c r="B4"><v>abc</v></c>'}))
    run = run_period("city_indicators", "2023-02")
    assert capfd.readouterr().err == ""
    log = run.log("city_indicators/2023-02.xlsx")
    assert (log["status"], log["rows_loaded"], log["rows_rejected"]) == ("partial", 1, 2)
    assert [(r["indicator"], r["value"]) for r in run.staging("city_indicators")] == [
        ("规上工业增加值增速", Decimal("10.6"))]  # its percent format still read
    assert [(r["source_cell"], r["reason"]) for r in run.rejected(rule="not_a_number")] == [
        ("B3", "全市数值应填写百分数，如10.6或10.6%（当前值：NaN）"),
        ("B4", "全市数值应填写百分数，如10.6或10.6%（当前值：abc）")]


def kp_file(raw, cells: dict[str, bytes], rows: list[list] | None = None) -> str:
    path = raw / "key_projects/2023-02.xlsx"
    write_xlsx_cached(path, rows or [KP_HEADER] + [kp_row(f"XM00{i}") for i in range(1, 6)])
    path.write_bytes(with_cells(path.read_bytes(), cells))
    return "key_projects/2023-02.xlsx"


def test_key_projects_with_text_in_number_cells_loads_its_other_rows(raw, run_period, capfd):
    # no percent column, no error value: calamine alone reads the file (it failed on `t="n"` text)
    path = kp_file(raw, {"H3": b'<c r="H3" t="n"><v>abc</v></c>', "I4": b'<c r="I4"><v>NaN</v></c>',
                         "J5": b'<c r="J5" t="n"><v>12,5</v></c>', "J6": b'<c r="J6" t="n"><v> </v></c>'})
    run = run_period("key_projects", "2023-02")
    assert capfd.readouterr().err == ""
    log = run.log(path)
    assert (log["status"], log["rows_loaded"], log["rows_rejected"]) == ("partial", 1, 4)
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001"]
    assert [(r["source_cell"], r["reason"]) for r in run.rejected()] == [
        ("H3", "总投资应填写数字（当前值：abc）"), ("I4", "年度计划投资应填写数字（当前值：NaN）"),
        ("J5", "本年累计完成投资应填写数字（当前值：12,5）"),
        ("J6", "本年累计完成投资为必填项，不能为空（如为零请填0）")]  # a value of a space is an empty cell


def test_key_projects_with_an_error_value_and_a_formula_storing_nan(raw, run_period, capfd):
    # an error value makes openpyxl read the file too (it raised ValueError on NaN)
    rows = [KP_HEADER, kp_row("XM001"), kp_row("XM002", total=Formula("=1/0", "#DIV/0!")),
            kp_row("XM003"), kp_row("XM004")]
    path = kp_file(raw, {"I4": b'<c r="I4"><f>H4/2</f><v>NaN</v></c>', "J5": b'<c r="J5"><v>-inf</v></c>'}, rows)
    run = run_period("key_projects", "2023-02")
    assert capfd.readouterr().err == ""
    log = run.log(path)
    assert (log["status"], log["rows_loaded"], log["rows_rejected"]) == ("partial", 1, 3)
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001"]
    assert [(r["source_cell"], r["reason"]) for r in run.rejected()] == [
        ("H3", "总投资应填写数字（当前值：#DIV/0!）"), ("I4", "年度计划投资应填写数字（当前值：NaN）"),
        ("J5", "本年累计完成投资应填写数字（当前值：-inf）")]


def test_a_colon_v_in_a_text_is_no_prefixed_tag():
    """`备注a:v b` in a text once sent both scans to the prefixed regexes (about 40 times slower);
    only a `<prefix:v>` tag does."""
    from shouyang_pipeline.ingest.xlsx_limits import has_prefixed_values

    text = '<c r="A1" t="inlineStr"><is><t>备注a:v b</t></is></c><c r="B1"><v>NaN</v></c>'.encode()
    assert not has_prefixed_values(text) and has_prefixed_values(b'<x:c r="A1"><x:v>NaN</x:v></x:c>')
    assert has_prefixed_values(b"<t>a:v b</t>" * 3 + b'<ns0.a-b:v xml:space="preserve">1</ns0.a-b:v>')
    assert made_text(text) == {"B1": b'<c r="B1" t="str">'}
    assert made_text(b'<x:c r="A1"><x:v>NaN</x:v></x:c><x:c r="B1" t="inlineStr"><x:is><x:t>a:v</x:t></x:is></x:c>',
                     b"x:") == {"A1": b'<x:c r="A1" t="str">'}
