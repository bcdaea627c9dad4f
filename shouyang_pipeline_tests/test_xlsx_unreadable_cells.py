"""Cells whose type the readers cannot read: a boolean storing `abc`, an error value calamine does
not know (Excel 365's `#SPILL!`), an ISO date that is none, a type that does not exist, a style
index that is not one. Each made calamine or openpyxl fail on the whole file ("Excel文件已损坏",
no cell named). Such a file is read again from a copy in which those cells are text
(`xlsx_limits.unreadable_cells_copy`), and the value parser names them by row and column. A text
cell pointing past the shared strings is still a damaged file, now rejected naming the cell.
A value holding a comment, a CDATA section or a processing instruction, which calamine read
wrongly without a word (`<v>12<!-- x -->00</v>` as 12), is read from a copy without them; a cell
whose attributes have spaces around their `=` (`t ="s"`), from a copy with them written `t="s"`.
The files are real workbooks (xlsxwriter), the odd cells written into the sheet XML by hand.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from shouyang_pipeline.ingest import read as read_module
from shouyang_pipeline.ingest import xlsx_limits
from shouyang_pipeline.ingest.read import FileRejected, read_xlsx
from shouyang_pipeline_tests.conftest import patch
from shouyang_pipeline_tests.test_xlsx_date_formats import workbook
from shouyang_pipeline_tests.test_xlsx_text_in_numbers import kp_file, with_cells

ROWS = [["名称", "数值"], ["甲", 1], ["乙", 2], ["丙", 3], ["丁", 4], ["戊", 5], ["己", 6], ["庚", 7]]


# openpyxl streams a workbook after calamine only when it has a percentage format (read.read_xlsx)
PERCENT_HEADER = {(0, 0): "0.0%"}


@pytest.mark.parametrize("percent_formats", [False, True])  # calamine alone, and openpyxl after it
def test_cells_of_a_type_no_reader_reads_are_read_as_the_text_they_store(percent_formats, capfd):
    data = with_cells(workbook(ROWS, PERCENT_HEADER if percent_formats else None), {
        "B2": b'<c r="B2" t="b"><v>abc</v></c>',  # calamine: Unrecognized boolean cell value
        "B3": b'<c r="B3" t="b"><v>2</v></c>',
        "B4": b'<c r="B4" t="e"><v>#SPILL!</v></c>',  # calamine: Unsupported cell error value
        "B5": b'<c r="B5" t="zz"><v>200</v></c>',  # calamine: Unknown cell 't' attribute
        "B6": b'<c r="B6" t="d"><v>notadate</v></c>',  # openpyxl: ValueError
        "B7": b'<c r="B7" s="abc"><v>7.5</v></c>',  # openpyxl: ValueError (int of the style)
        "B8": b'<c r="B8" s="999"><v>8</v></c>',  # a style index past the styles
    })
    (grid,) = read_xlsx(data, percent_formats=percent_formats)
    assert [cells for _, cells in grid.rows] == [
        ["名称", "数值"], ["甲", "abc"], ["乙", "2"], ["丙", "#SPILL!"], ["丁", "200"], ["戊", "notadate"],
        ["己", 7.5], ["庚", 8.0]]
    assert capfd.readouterr().err == ""


def test_each_such_cell_failed_the_readers_on_the_whole_file_before():
    """What the copy spares: the first reading fails on each of these cells alone."""
    for ref, cell in {"B2": b'<c r="B2" t="b"><v>abc</v></c>', "B4": b'<c r="B4" t="e"><v>#CALC!</v></c>',
                      "B5": b'<c r="B5" t="zz"><v>200</v></c>', "B6": b'<c r="B6" t="d"><v>2023-13-45</v></c>',
                      "B7": b'<c r="B7" s="abc"><v>7.5</v></c>'}.items():
        data = with_cells(workbook(ROWS, PERCENT_HEADER), {ref: cell})  # (openpyxl's pass too)
        with pytest.raises(Exception):
            read_module._read_xlsx(data, True)
        assert xlsx_limits.unreadable_cells_copy(data) is not None
        (grid,) = read_xlsx(data)
        assert len(grid.rows) == len(ROWS), ref


def test_readable_cells_of_every_type_are_left_as_they_are():
    data = with_cells(workbook(ROWS), {
        "B2": b'<c r="B2" t="b"><v>1</v></c>', "B3": b'<c r="B3" t="e"><v>#N/A</v></c>',
        "B4": b'<c r="B4" t="d"><v>2023-03-15</v></c>', "B5": '<c r="B5" t="str"><v>文字</v></c>'.encode(),
        "B6": '<c r="B6" t="inlineStr"><is><t>内联</t></is></c>'.encode(), "B7": b'<c r="B7" s="0"><v>7</v></c>'})
    assert xlsx_limits.unreadable_cells_copy(data) is None
    (grid,) = read_xlsx(data)
    assert [cells[1] for _, cells in grid.rows[1:7]] == [True, "#N/A", date(2023, 3, 15), "文字", "内联", 7.0]


def test_a_file_that_reads_is_not_looked_at_again(monkeypatch):
    def never(data):
        raise AssertionError("looked at again")

    monkeypatch.setattr(read_module, "unreadable_cells_copy", never)
    (grid,) = read_xlsx(workbook(ROWS))
    assert len(grid.rows) == len(ROWS)


@pytest.mark.parametrize("index", [b"999", b"x", b"1.0", b"-1", b"12345678901", b"<f>1</f><v>x"])
def test_a_text_cell_pointing_past_the_shared_strings_rejects_the_file_naming_the_cell(index):
    data = with_cells(workbook(ROWS), {"B5": b'<c r="B5" t="s"><v>' + index + b"</v></c>"})
    with pytest.raises(FileRejected) as caught:
        read_xlsx(data)
    assert "工作表“Sheet1”的单元格B5指向不存在的文字" in str(caught.value)
    assert f"共享字符串第{index.decode().rpartition('>')[2]}项" in str(caught.value)


def test_a_value_after_a_self_closing_cell_is_no_cells_and_the_copy_stays_xml():
    """`<c r="B5"/><v>abc</v>`: the value belongs to no cell (both readers pass it over); the
    text-in-number scan once wrote `<c r="B5"/ t="str">` there, and the file was rejected."""
    data = with_cells(workbook(ROWS), {"B5": b'<c r="B5"/><v>abc</v>', "B6": b'<c r="B6"><v>NaN</v></c>'})
    (grid,) = read_xlsx(data)
    assert [cells for _, cells in grid.rows[4:6]] == [["丁", None], ["戊", "NaN"]]


def test_a_style_index_of_thousands_of_digits_is_no_style():
    """`int()` of a 5,000-digit text raises ValueError (Python's limit): the whole file was rejected."""
    data = with_cells(workbook(ROWS, {(1, 1): "yyyy-mm-dd"}),
                      {"B2": b'<c r="B2" s="' + b"1" * 5000 + b'"><v>-1</v></c>'})
    (grid,) = read_xlsx(data)
    assert grid.rows[1][1] == ["甲", -1.0]


def test_key_projects_with_such_cells_loads_its_other_rows_naming_each(raw, run_period, capfd):
    path = kp_file(raw, {"H3": b'<c r="H3" t="e"><v>#SPILL!</v></c>', "I4": b'<c r="I4" t="b"><v>abc</v></c>',
                         "J5": b'<c r="J5"/><v>abc</v>'})
    run = run_period("key_projects", "2023-02")
    assert capfd.readouterr().err == ""
    log = run.log(path)
    assert (log["status"], log["rows_loaded"], log["rows_rejected"]) == ("partial", 2, 3)
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001", "XM005"]
    assert [(r["source_cell"], r["reason"]) for r in run.rejected()] == [
        ("H3", "总投资应填写数字（当前值：#SPILL!）"), ("I4", "年度计划投资应填写数字（当前值：abc）"),
        ("J5", "本年累计完成投资为必填项，不能为空（如为零请填0）")]


# ------------------------------------------------------------------ comments, CDATA, instructions

@pytest.mark.parametrize("cell, read", [
    (b'<c r="B2"><v><![CDATA[1200]]></v></c>', 1200.0),  # calamine alone read it as empty
    (b'<c r="B2"><v>12<!-- x -->00</v></c>', 1200.0),  # as 12
    (b'<c r="B2"><v>12<?pi x?>00</v></c>', 1200.0),  # as 12
    (b'<c r="B2" t="str"><v><![CDATA[a&b<c>]]></v></c>', "a&b<c>"),  # as empty
    (b'<c r="B2"><!-- x --><v>NaN</v></c>', "NaN"),  # the text-in-number scan did not find the cell
    (b'<c r="B2" t="inlineStr"><is><t>a<!--<![CDATA[-->b</t></is></c>', "ab"),  # a CDATA opening in a comment
])
@pytest.mark.parametrize("percent_formats", [False, True])
def test_a_sheet_with_comments_cdata_or_instructions_is_read_without_them(cell, read, percent_formats, capfd):
    data = with_cells(workbook(ROWS, PERCENT_HEADER if percent_formats else None), {"B2": cell})
    assert xlsx_limits.has_other_markup(zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml"))
    (grid,) = read_xlsx(data, percent_formats=percent_formats)
    assert grid.rows[1][1] == ["甲", read] and grid.rows[2][1] == ["乙", 2.0]
    assert capfd.readouterr().err == ""


def test_a_sheet_without_them_is_not_copied(monkeypatch):
    def never(data, parts):
        raise AssertionError("copied")

    monkeypatch.setattr(read_module, "plain_markup_copy", never)
    data = workbook(ROWS)
    assert zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").startswith(b"<?xml")
    (grid,) = read_xlsx(data)
    assert len(grid.rows) == len(ROWS)


def test_plain_markup_keeps_the_declaration_and_leaves_an_unclosed_one():
    assert xlsx_limits.plain_markup(b'\xef\xbb\xbf<?xml version="1.0"?><a><!--x--><b><![CDATA[<&>]]></b><?p?></a>') == \
        b'\xef\xbb\xbf<?xml version="1.0"?><a><b>&lt;&amp;&gt;</b></a>'
    assert xlsx_limits.plain_markup(b"<a>1<!-- 2</a>") == b"<a>1<!-- 2</a>"
    assert not xlsx_limits.has_other_markup(b'<?xml version="1.0"?><a>1</a>')


@pytest.mark.parametrize("cell, read", [
    (b'<c r="B5" t ="s"><v> 3 </v></c>', "乙"),  # calamine: the first string (名称), the index scan missed it
    (b"<c r='B5' t= 's'><v>+3</v></c>", "乙"),
    (b'<c r="B5"\tt\n=\n"s"><v>3</v></c>', "乙"),
    (b'<c r="B5" t = "e"><v>#N/A</v></c>', "#N/A"),  # read as empty: the error cells were not looked for
    (b'<c r = "B5" s = "0" t = "str"><v>x = y</v></c>', "x = y"),
])
@pytest.mark.parametrize("percent_formats", [False, True])
def test_an_attribute_with_spaces_around_its_equals_is_read_as_any_other(cell, read, percent_formats, capfd):
    """XML allows `t ="s"`; no program writes it, a hand-made file may. The sheet is read from a
    copy with its attributes written `t="s"`, as every other."""
    data = with_cells(workbook(ROWS), {"B5": cell})
    assert xlsx_limits.has_other_markup(zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml"))
    (grid,) = read_xlsx(data, percent_formats=percent_formats)
    assert grid.rows[4][1] == ["丁", read] and grid.rows[5][1] == ["戊", 5.0]
    assert capfd.readouterr().err == ""


def test_spaces_around_an_equals_outside_an_attribute_are_left_alone():
    spaced = xlsx_limits.has_spaced_attribute
    assert not spaced(b'<c r="A1" t="inlineStr"><is><t>a = b, t ="s"</t></is></c>')  # a text
    assert not spaced(b"<c r=\"A1 = 'x'\" t='s'><v>1</v></c>")  # inside a value
    assert not spaced(b'<c r="A1"><v>1</v></c>' + b" = " * 10000)
    assert spaced(b'<row r="1"><c r="A1"\n  t = "s"><v>1</v></c></row>') and spaced(b"<c s= '1'/>")
    assert xlsx_limits.plain_markup(b'<?xml version = "1.0"?><a x = "1 = 2"\ty= \'3\'><b>c = d</b><e f ="g"/></a>') == \
        b'<?xml version = "1.0"?><a x="1 = 2"\ty=\'3\'><b>c = d</b><e f="g"/></a>'
    plain = b'<a x="1"><b>c = d</b></a>'
    assert not xlsx_limits.has_other_markup(plain) and xlsx_limits.plain_markup(plain) == plain


@pytest.mark.parametrize("value, read", [(b"<v> 3 </v>", "乙"), (b"<v>\n2\n</v>", "甲"), (b"<v> </v>", None),
                                         (b"<v></v>", None), (b"<v>3</v>", "乙"), (b"<v>&#51;</v>", "乙"),
                                         (b"<v>+3</v>", "乙"), (b"<v>00000000003</v>", "乙"),
                                         (b"<f>1</f><v> 3</v>", "乙"), (b"<v> 3<!-- x --></v>", "乙")])
@pytest.mark.parametrize("before_type", [b" ", b"\n", b"\t", b"\r\n", b' x="' + b"a" * 300 + b'" '])
def test_a_shared_string_index_with_spaces_is_read_as_openpyxl_reads_it(value, read, before_type):
    """calamine read ` 3 ` (and `-1`) as the first shared string, without a word; openpyxl as the
    fourth. The file is read with the index without its spaces (a value of spaces: empty),
    whatever white space stands before the cell's type."""
    for after_type in (b"", b' y="' + b"b" * 300 + b'"', b"><is/"):  # (a cell's text, in a text cell: no reader reads it)
        data = with_cells(workbook(ROWS), {"B5": b'<c r="B5"' + before_type + b't="s"' + after_type + b">" + value + b"</c>"})
        for percent_formats in (False, True):  # calamine alone, and openpyxl after it
            (grid,) = read_xlsx(data, percent_formats=percent_formats)
            assert grid.rows[4][1] == ["丁", read] and grid.rows[5][1] == ["戊", 5.0]


def test_odd_shared_index_is_told_by_the_cells_type():
    odd = xlsx_limits.odd_shared_index
    assert odd(b'<c r="A1" t="s"><v> 1</v></c>') and odd(b"<c r='A1' t='s' s='2'><v>x</v></c>")
    assert not odd(b'<c r="A1" t="s"><v>1</v></c>') and not odd(b'<c r="A1" t="s"><v></v></c>')
    assert not odd(b'<c r="A1" x="s"><v> 1</v></c>')  # another attribute of value s
    assert not odd(b'<c r="A1" t="str"><v>"s"></v></c>')
    assert odd(b'<c r="A1" t="s"><f>1</f><v>x</v></c>')  # a formula before the value (calamine: the first string)
    assert odd(b'<c r="A1"\nt="s"><v> 1</v></c>') and odd(b"<c r='A1'\tt='s'><v>x</v></c>")
    assert odd(b'<c r="A1"\r\nt="s"><v>-1</v></c>') and not odd(b'<c r="A1"\nt="s"><v>1</v></c>')
    assert not odd(b'<c r="A1" t="inlineStr"><is><t>' + b' t="s"' * 5000 + b"</t></is></c>")  # a text, however long
    assert not odd(b'<c r="A1" t="inlineStr"><is><t>t="s"</t></is></c><c r="A2" t="s"><v>1</v></c>')
    long = b' x="' + b"a" * 300 + b'"'  # (the scan before looked 100 bytes past the type, no further)
    assert odd(b'<c r="A1" t="s"' + long + b"><v> 1</v></c>") and not odd(b'<c r="A1" t="s"' + long + b"><v>1</v></c>")
    assert odd(b'<c r="A1" t="s">' + b" " * 300 + b"<v> 1</v></c>") and odd(b'<c r="A1" t="s"><is/><v>x</v></c>')
    assert not odd(b'<c r="A1" t="s">\n  <v>1</v>\n</c>') and not odd(b"<c r='A1' s='2' t='s'><v></v></c>")
    assert odd(b'<c r="A1" t="s"><v>1</v><v> 1</v></c>') and odd(b'<c r="A1" t="s"><v>1</v><v>2</v></c>')
    assert not odd(b'<x:c r="A1" t="s"><x:v>1</x:v></x:c>') and odd(b'<x:c r="A1" t="s"><x:v> 1</x:v></x:c>')


def test_a_text_cell_of_two_values_rejects_the_file_naming_the_cell():
    """calamine read the last (`<v> 1</v>`: the first string, without a word), openpyxl the first:
    which text the cell meant cannot be told."""
    data = with_cells(workbook(ROWS), {"B5": b'<c r="B5" t="s"><v>3</v><v> 1</v></c>'})
    with pytest.raises(FileRejected, match="单元格B5存有不止一个值"):
        read_xlsx(data)


def test_a_sheet_too_large_is_rejected_for_its_size_before_its_odd_index_is_looked_at():
    far = xlsx_limits.MAX_ROWS + 5
    data = patch(with_cells(workbook(ROWS), {"B5": b'<c r="B5" t="s"><v> 3 </v></c>'}), "xl/worksheets/sheet1.xml",
                 lambda xml: xml.replace(b"</sheetData>", b'<row r="%d"><c r="A%d"><v>1</v></c></row></sheetData>' % (far, far)))
    with pytest.raises(FileRejected, match="行"):
        read_xlsx(data)
    with pytest.raises(xlsx_limits.XlsxRejected):
        xlsx_limits.inspect_xlsx(data)  # (not OddSharedIndex: the size is said first)


# ------------------------------------------------------------------ openpyxl only where a percentage can be

NUMBERS = [["名称", "增速"], ["甲", 0.106], ["乙", 2]]


@pytest.mark.parametrize("code, may, percent", [
    (None, False, False),  # no number format at all
    ("#,##0.00", False, False),
    ('0.0"%"', True, False),  # the % is text (10.6 shows as 10.6%): openpyxl is asked, and says so
    ("0.0\\%", True, False),
    ("0%", True, True),  # a built-in percentage (number format 9)
    ("0.00%", True, True),  # built-in 10
    ("0.0%", True, True),  # a custom one
    ("[红色]0.0%;-0.0%", True, True),
])
def test_openpyxl_reads_a_workbook_again_only_when_it_may_have_a_percentage_format(code, may, percent, monkeypatch):
    data = workbook(NUMBERS, {(1, 1): code} if code else None)
    assert xlsx_limits.inspect_xlsx(data).has_percent_styles is may
    calls = []
    real = read_module._openpyxl_extras
    monkeypatch.setattr(read_module, "_openpyxl_extras", lambda *a, **k: calls.append(1) or real(*a, **k))
    (grid,) = read_xlsx(data, percent_formats=True)
    assert bool(calls) is may
    assert grid.percent_cells == ({(2, 1)} if percent else set())
    assert [cells for _, cells in grid.rows] == NUMBERS


def test_a_style_numbered_as_a_percentage_with_another_code_still_reads_the_cells(monkeypatch):
    """A custom format given number 9 (a built-in percentage's): looked at with openpyxl, which
    reads the custom code; a superset is safe, a miss would not be."""
    data = workbook(NUMBERS, {(1, 1): "0.000"})
    data = patch(data, "xl/styles.xml", lambda x: x.replace(b'numFmtId="164"', b'numFmtId="9"'))
    assert xlsx_limits.inspect_xlsx(data).has_percent_styles
    (grid,) = read_xlsx(data, percent_formats=True)
    assert [cells for _, cells in grid.rows] == NUMBERS


@pytest.mark.parametrize("xf", [
    b'<xf numFmtId="9"/>', b'<xf numFmtId="+9"/>', b'<xf numFmtId="09"/>', b'<xf numFmtId=" 9"/>',
    b'<xf numFmtId="&#57;"/>', b"<xf numFmtId='10'/>", b'<x:xf numFmtId="9"/>', b'<xf numFmtId="0_9"/>',
    b'<xf numFmtId="164"/><!-- </cellXfs> -->',
    b'<xf numFmtId="164"><numFmtId>9</numFmtId></xf>',  # openpyxl takes a child element for the attribute
])
def test_a_percentage_however_its_number_is_written_is_not_missed(xf):
    """Found by the raw bytes, not by parsing them: a built-in percentage written oddly, behind an
    entity, a prefix or a comment still counts (openpyxl reads each as format 9 or 10)."""
    styles = b'<styleSheet><cellXfs count="2"><xf numFmtId="0"/>' + xf + b"</cellXfs></styleSheet>"
    assert xlsx_limits.may_show_percentages(styles)


@pytest.mark.parametrize("numfmts", [
    b'<numFmts count="1"><numFmt numFmtId="164" formatCode="0.0%"/></numFmts>',
    b'<numFmts count="1"><numFmt numFmtId="0164" formatCode="0.0&#37;"/></numFmts>',
    b"<numFmts count=\"1\"><numFmt numFmtId='164' formatCode='0.0&#x25;'/></numFmts>",
])
def test_a_custom_percentage_is_not_missed(numfmts):
    styles = b"<styleSheet>" + numfmts + b'<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs></styleSheet>'
    assert xlsx_limits.may_show_percentages(styles)


def test_styles_with_plain_numbers_and_no_percentage_are_passed_over():
    styles = (b'<styleSheet><numFmts count="1"><numFmt numFmtId="164" formatCode="#,##0.00"/></numFmts>'
              b'<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/><xf numFmtId="3"/>'
              b"</cellXfs></styleSheet>")
    assert not xlsx_limits.may_show_percentages(styles)
    assert xlsx_limits.may_show_percentages(styles.decode().encode("utf-16"))  # read by none of the scans here
