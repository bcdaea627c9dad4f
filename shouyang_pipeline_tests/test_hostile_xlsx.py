"""Hostile XLSX files: cells far away, zip bombs, encrypted and renamed files, hidden sheets.

Each file is written here: a workbook from openpyxl whose parts are then edited byte by byte
(zipfile), for what no library would write. A file that would make python-calamine allocate
hundreds of GB is only ever read in a child process with a memory limit, so that a regression
fails a test instead of aborting the test run.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import time
import warnings
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from python_calamine import CalamineWorkbook

from shouyang_pipeline.catalog.datasets import DATASETS
from shouyang_pipeline.ingest import read as read_module
from shouyang_pipeline.ingest import xlsx_limits
from shouyang_pipeline.ingest.layout import find_layout, unread_sheets_note
from shouyang_pipeline.catalog.tables import UNREAD_SHEETS_NOTE
from shouyang_pipeline.ingest.read import FileRejected, read_grids, read_xlsx
from shouyang_pipeline.ingest.xlsx_limits import (
    MAX_COLUMNS, MAX_ROWS, XlsxRejected, inspect_xlsx, sheet_extent,
)

from shouyang_pipeline_tests.conftest import KP_HEADER, csv_bytes, kp_row, patch

SHEET1 = "xl/worksheets/sheet1.xml"
TRIM = "删除表格右侧或下方多余的单元格后重新保存"


# ------------------------------------------------------------------ writing hostile files

def book(sheets: dict[str, list[list]] | None = None, *, hidden: dict[str, str] | None = None,
         pct: tuple[str, str] | None = None) -> bytes:
    """A workbook (openpyxl) with the given sheets in order; `hidden` maps a name to its sheet_state."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in (sheets or {"Sheet1": [KP_HEADER, kp_row("XM001")]}).items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        if hidden and name in hidden:
            ws.sheet_state = hidden[name]
    if pct:
        sheet, cell = pct
        wb[sheet][cell].number_format = "0.0%"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def add_rows(data: bytes, rows_xml: bytes, member: str = SHEET1) -> bytes:
    """Append raw `<row>` XML at the end of a sheet's data."""
    return patch(data, member, lambda x: x.replace(b"</sheetData>", rows_xml + b"</sheetData>"))


def set_dimension(data: bytes, ref: bytes, member: str = SHEET1) -> bytes:
    import re
    return patch(data, member, lambda x: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + ref + b'"', x))


def sheet_xml(body: bytes, *, dimension: bytes | None = b"A1:XFD1048576") -> bytes:
    dim = b'<dimension ref="' + dimension + b'"/>' if dimension else b""
    return (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + dim + b"<sheetData>" + body + b"</sheetData></worksheet>")


def with_sheet(body: bytes, **kw) -> bytes:
    """A one-sheet workbook whose sheet XML is exactly `sheet_xml(body)` (inline strings, no shared strings)."""
    return patch(book(), SHEET1, lambda _: sheet_xml(body, **kw))


def far_value(ref: str) -> bytes:
    row = "".join(ch for ch in ref if ch.isdigit())
    return f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>'.encode()


def set_central_sizes(data: bytes, sizes: dict[str, int]) -> bytes:
    """Rewrite the uncompressed size the central directory declares for some parts."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos != -1:
        name_len, extra_len, comment_len = struct.unpack("<HHH", out[pos + 28:pos + 34])
        name = out[pos + 46:pos + 46 + name_len].decode()
        if name in sizes:
            out[pos + 24:pos + 28] = struct.pack("<I", sizes[name])
        pos = out.find(b"PK\x01\x02", pos + 46 + name_len + extra_len + comment_len)
    return bytes(out)


def ole_file(stream_name: str, payload: bytes = b"\x09\x08" + b"\x00" * 4094) -> bytes:
    """A minimal but valid OLE compound file (version 3, 512-byte sectors) with one stream of
    4096 bytes: what an .xls (stream "Workbook") or a .doc ("WordDocument") is made of."""
    assert len(payload) == 4096
    endchain, free, nostream, fatsect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFD
    header = bytearray(512)
    header[0:8] = xlsx_limits.OLE_MAGIC
    struct.pack_into("<HHHHH", header, 24, 0x003E, 0x0003, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 0x1000, endchain, 0, endchain, 0)
    struct.pack_into("<I", header, 76, 0)  # the FAT is sector 0
    for i in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * i, free)
    fat = [fatsect, endchain] + [3, 4, 5, 6, 7, 8, 9, endchain] + [free] * 118  # dir: 1; stream: 2..9
    fat_sector = struct.pack("<128I", *fat)

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        e = bytearray(128)
        encoded = (name + "\0").encode("utf-16-le") if name else b""
        e[0:len(encoded)] = encoded
        struct.pack_into("<HBBIII", e, 64, len(encoded), kind, 1, nostream, nostream, child)
        struct.pack_into("<II", e, 116, start, size)
        return bytes(e)

    directory = (entry("Root Entry", 5, 1, endchain, 0) + entry(stream_name, 2, nostream, 2, 4096)
                 + entry("", 0, nostream, 0, 0) * 2)
    return bytes(header) + fat_sector + directory + payload


# A child process reads files with python-calamine under a 4 GB address-space limit: a value in
# XFD1048576 that got through would abort the child (allocation of 512 GB), not the tests.
_CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
from shouyang_pipeline.ingest.read import FileRejected, read_xlsx
out = {}
for path in sys.argv[1:]:
    try:
        grids = read_xlsx(open(path, "rb").read())
        out[path] = ["read", [len(g.rows) for g in grids]]
    except FileRejected as exc:
        out[path] = ["rejected", str(exc)]
print(json.dumps(out, ensure_ascii=False))
"""


def read_in_child(tmp_path: Path, files: dict[str, bytes]) -> dict[str, list]:
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / f"{name}.xlsx"
        paths[name].write_bytes(data)
    done = subprocess.run([sys.executable, "-c", _CHILD, *map(str, paths.values())],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    return {name: out[str(path)] for name, path in paths.items()}


# ------------------------------------------------------------------ cells far away

def test_a_value_in_xfd1048576_is_rejected_before_anything_is_allocated(tmp_path):
    files = {
        "corner": add_rows(book(), far_value("XFD1048576")),
        "prefixed": with_sheet(b'<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>x</x:t></x:is></x:c></x:row>'
                               b'<x:row r="1048576"><x:c r="XFD1048576"><x:v>1</x:v></x:c></x:row>'),
        # calamine takes the last `r` of a tag, and a `/>` inside a quoted value does not end it
        "second_r": with_sheet(b'<row r="1"><c r="A1" r="XFD1048576"><v>1</v></c></row>'),
        "quoted_gt": with_sheet(b'<row r="1"><c foo="/>" r="XFD1048576"><v>1</v></c></row>'),
    }
    out = read_in_child(tmp_path, files)
    assert all(verdict == "rejected" for verdict, _ in out.values()), out
    message = out["corner"][1]
    assert "工作表“Sheet1”" in message and "单元格XFD1048576" in message
    assert f"上限{MAX_ROWS}行" in message and f"上限{MAX_COLUMNS}列" in message and TRIM in message
    assert "XFD1048576" in out["prefixed"][1] and "XFD1048576" in out["quoted_gt"][1]
    assert "无法打开" in out["second_r"][1]  # two `r` attributes: not well-formed XML


def test_a_value_in_a1048576_is_rejected_naming_the_cell(raw, run_period):
    (raw / "key_projects").mkdir()
    (raw / "key_projects/2023-02.xlsx").write_bytes(add_rows(book(), far_value("A1048576")))
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02.xlsx")
    assert log["status"] == "rejected"
    assert log["message"] == (
        "工作表“Sheet1”中有内容的区域从A1一直延伸到单元格N1048576，超过了可读取的范围："
        f"最下方有内容的单元格是A1048576（第1048576行，上限{MAX_ROWS}行）。"
        "请删除表格右侧或下方多余的单元格后重新保存报送"
    )


def test_column_limit_and_area_limit(tmp_path):
    last_allowed = add_rows(book(), b'<row r="3"><c r="SF3"><v>1</v></c></row>')  # column 500
    too_wide = add_rows(book(), b'<row r="3"><c r="SG3"><v>1</v></c></row>')  # column 501
    too_big = add_rows(book(), far_value("AY200000"))  # 200,000 rows x 51 columns > 10 million cells
    assert inspect_xlsx(last_allowed).extents[SHEET1].columns == 500
    with pytest.raises(XlsxRejected, match=r"最右侧有内容的单元格是SG3（第501列，上限500列）"):
        inspect_xlsx(too_wide)
    with pytest.raises(XlsxRejected, match=r"共200000行×51列，上限10,000,000个单元格"):
        inspect_xlsx(too_big)
    assert inspect_xlsx(add_rows(book(), far_value(f"N{MAX_ROWS}"))).extents[SHEET1].rows == MAX_ROWS


def test_empty_styled_cells_and_a_lying_dimension_change_nothing(raw, run_period):
    data = add_rows(book({"Sheet1": [KP_HEADER, kp_row("XM001"), kp_row("XM002")]}),
                    b'<row r="9999"><c r="Z9999" s="0"/><c r="AA9999" s="0"></c></row>'
                    b'<row r="1048576"><c r="XFD1048576" s="0"/></row>')
    data = set_dimension(data, b"A1:XFD1048576")
    (grid,) = read_xlsx(data)
    assert len(grid.rows) == 3 and len(grid.rows[0][1]) == len(KP_HEADER)
    (raw / "key_projects").mkdir()
    (raw / "key_projects/2023-02.xlsx").write_bytes(data)
    run = run_period("key_projects", "2023-02")
    assert run.log("key_projects/2023-02.xlsx")["status"] == "loaded"
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001", "XM002"]


def test_openpyxl_is_bounded_by_the_cells_calamine_found():
    # openpyxl pads every row to the declared dimension and walks every missing row up to the
    # last row element: with A1:XFD1048576 and a styled row at the bottom that is 17 billion
    # cells. The percent formats must still be found, in well under a second.
    data = book({"Sheet1": [["指标名称", "全市数值"], ["规上工业增加值增速", 0.106]]}, pct=("Sheet1", "B2"))
    data = add_rows(data, b'<row r="1048576" s="0" customFormat="1"><c r="XFD1048576" s="0"/></row>')
    data = set_dimension(data, b"A1:XFD1048576")
    started = time.perf_counter()
    (grid,) = read_xlsx(data, percent_formats=True)
    assert time.perf_counter() - started < 10
    assert grid.percent_cells == {(2, 1)} and grid.rows[1][1] == ["规上工业增加值增速", 0.106]


def test_namespace_prefixed_cells_are_read(raw, run_period):
    def cells(r, values):
        return b"".join(
            f'<x:c r="{chr(65 + i)}{r}" t="inlineStr"><x:is><x:t>{v}</x:t></x:is></x:c>'.encode()
            if isinstance(v, str) else f'<x:c r="{chr(65 + i)}{r}"><x:v>{v}</x:v></x:c>'.encode()
            for i, v in enumerate(values))
    body = b"".join(b'<x:row r="%d">' % r + cells(r, v) + b"</x:row>"
                    for r, v in enumerate([KP_HEADER, kp_row("XM001"), kp_row("XM002")], start=1))
    data = patch(book(), SHEET1, lambda _: sheet_xml(body).replace(b"<sheetData>", b"<x:sheetData>")
                 .replace(b"</sheetData>", b"</x:sheetData>"))
    assert inspect_xlsx(data).extents[SHEET1].columns == len(KP_HEADER)
    (raw / "key_projects").mkdir()
    (raw / "key_projects/2023-02.xlsx").write_bytes(data)
    run = run_period("key_projects", "2023-02")
    assert run.log("key_projects/2023-02.xlsx")["status"] == "loaded"
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001", "XM002"]


def test_rows_and_cells_without_an_address(raw, run_period, tmp_path):
    # calamine counts a cell without `r` after the previous one, a row without `r` after the
    # previous row, and `<row/>` as a row: 300,000 of them put a value in row 300,001.
    def row(values):
        return b"<row>" + b"".join(
            f'<c t="inlineStr"><is><t>{v}</t></is></c>'.encode() if isinstance(v, str) else f"<c><v>{v}</v></c>".encode()
            for v in values) + b"</row>"
    body = row(KP_HEADER) + b"<row/>" + row(kp_row("XM001")) + b"<row><c/><c/></row>" + row(kp_row("XM002"))
    (raw / "key_projects").mkdir()
    (raw / "key_projects/2023-02.xlsx").write_bytes(with_sheet(body, dimension=None))
    run = run_period("key_projects", "2023-02")
    assert [(r["source_row"], r["project_code"]) for r in run.staging("key_projects")] == [(3, "XM001"), (5, "XM002")]

    bomb = with_sheet(row(KP_HEADER) + b"<row/>" * 300_000 + b"<row><c><v>1</v></c></row>", dimension=None)
    (verdict, message), = read_in_child(tmp_path, {"bomb": bomb}).values()
    assert verdict == "rejected" and "最下方有内容的单元格是A300002" in message


@pytest.mark.parametrize("body", [
    b'<row r="1"><c r="A1" foo="x>y"><v>1</v></c><c foo="/>" r="D3"><v>2</v></c></row>',
    b'<row/><row/><row/><row><c/><c/><c><v>1</v></c></row>',
    b'<row r="7"><c r="B7"><v>1</v></c><c/><c><v>1</v></c></row><row><c><v>2</v></c></row>',
    b'<row r="1"><c r="d4"><v>1</v></c><c r = "E9" ><v>1</v></c><c s="0" r="G2"><v>1</v></c></row>',
    b"<row r='1'><c r='E9'><v>1</v></c></row>",
    b'<row r="1"><c r="E6" t="str"><v></v></c><c r="F7" t="inlineStr"><is></is></c><c r="B2"><v>2</v></c></row>',
    b'<row r="1"><x:c r="F3"><x:v>1</x:v></x:c></row><x:row/><x:row><x:c/><x:c><x:v>1</x:v></x:c></x:row>',
    b'<row r="1"><!-- <c r="E9"><v>1</v></c> --><c r="B2"><v>2</v></c><c r="K9"><f>1</f></c></row>',
    b'<row r="1"><c r="B2"><v>2</v></c></row><row r="99"><c r="Z99" s="0"/><c r="ZZ99" s="0"></c></row>',
])
def test_the_extent_found_is_never_less_than_what_calamine_builds(body):
    xml = sheet_xml(body)
    ours = sheet_extent(xml)
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(with_sheet(body))).get_sheet_by_index(0)
    built = (sheet.end[0] + 1, sheet.end[1] + 1) if sheet.end else (0, 0)
    assert ours.rows >= built[0] and ours.columns >= built[1]


def test_large_canonical_sheets_get_a_quick_bound_made_exact_when_it_matters():
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c><c r="C%d" s="0"/></row>' % (r, r, r)
                    for r in range(1, 12_001))
    quick = sheet_extent(sheet_xml(rows))
    exact = sheet_extent(sheet_xml(rows), exact=True)
    assert (quick.exact, quick.rows >= 12_000, quick.columns >= 1) == (False, True, True)
    assert (exact.exact, exact.rows, exact.columns) == (True, 12_000, 1)


# ------------------------------------------------------------------ the archive

def test_parts_declared_too_large_are_rejected_before_inflating():
    data = book()
    big = set_central_sizes(data, {SHEET1: 300 << 20})
    with pytest.raises(XlsxRejected, match=r"工作表“Sheet1”解压后有300 MB，超过上限256 MB"):
        inspect_xlsx(big)
    members = [n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n != SHEET1][:3]
    with pytest.raises(XlsxRejected, match=r"文件解压后共有600 MB，超过上限512 MB"):
        inspect_xlsx(set_central_sizes(data, {n: 200 << 20 for n in members}))


def test_a_part_that_inflates_beyond_its_declared_size_is_damaged(raw, run_period):
    data = book()
    actual = zipfile.ZipFile(io.BytesIO(data)).getinfo(SHEET1).file_size
    (raw / "key_projects").mkdir()
    (raw / "key_projects/2023-02.xlsx").write_bytes(set_central_sizes(data, {SHEET1: actual - 10}))
    run = run_period("key_projects", "2023-02")
    message = run.log("key_projects/2023-02.xlsx")["message"]
    assert "无法打开" in message and "解压后的大小与记录不符" in message


def test_a_real_bomb_is_rejected_naming_the_part(monkeypatch):
    monkeypatch.setattr(xlsx_limits, "MAX_MEMBER_BYTES", 1 << 20)
    bomb = patch(book(), SHEET1, lambda x: x.replace(b"<sheetData>", b"<sheetData>" + b" " * (3 << 20)))
    assert len(bomb) < 20_000
    with pytest.raises(FileRejected, match=r"工作表“Sheet1”解压后有3 MB，超过上限1 MB.*压缩炸弹"):
        read_xlsx(bomb)


def test_duplicate_parts_truncated_and_non_zip_files_are_damaged():
    data = book()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name it is asked to write
        twice = io.BytesIO(data)
        with zipfile.ZipFile(twice, "a") as z:
            z.writestr(SHEET1, sheet_xml(far_value("XFD1048576")))
    for bad in (twice.getvalue(), data[: len(data) // 2], b"", b"\x00" * 100, "项目编号,总投资".encode()):
        with pytest.raises(FileRejected, match="Excel文件已损坏或不是有效的.xlsx文件，无法打开"):
            read_xlsx(bad)


# ------------------------------------------------------------------ not a zip at all

def test_an_encrypted_workbook_says_so(raw, run_period):
    from msoffcrypto.format.ooxml import OOXMLFile

    encrypted = io.BytesIO()
    OOXMLFile(io.BytesIO(book())).encrypt("mima123", encrypted)
    assert encrypted.getvalue()[:8] == xlsx_limits.OLE_MAGIC
    (raw / "key_projects").mkdir()
    (raw / "key_projects/2023-02.xlsx").write_bytes(encrypted.getvalue())
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02.xlsx")
    assert (log["status"], log["message"]) == ("rejected", "文件设置了打开密码（已加密），无法读取，请取消密码后重新保存报送")


def test_an_xls_renamed_xlsx_and_other_ole_files():
    import olefile

    xls = ole_file("Workbook")
    assert olefile.OleFileIO(io.BytesIO(xls)).listdir() == [["Workbook"]]  # a well-formed compound file
    with pytest.raises(FileRejected, match=r"旧版Excel 97-2003（.xls）格式.*请另存为.xlsx"):
        read_xlsx(xls)
    with pytest.raises(FileRejected, match="旧版Office复合文档格式，不是.xlsx工作簿"):
        read_xlsx(ole_file("WordDocument"))


# ------------------------------------------------------------------ sheets

def _layout(data: bytes, dataset: str = "key_projects"):
    return find_layout(read_xlsx(data), DATASETS[dataset])


def test_only_visible_sheets_are_read_and_every_other_sheet_with_data_is_named():
    data = book({
        "上月": [KP_HEADER, kp_row("OLD01")],  # hidden, with a header: never read
        "填报说明": [["填报说明"], ["金额单位为万元"]],
        "Sheet1": [KP_HEADER, kp_row("XM001")],
        "Sheet2": [["备用"]],
        "空白": [],
        "空格": [["  "]],
        "深藏": [["x"]],
    }, hidden={"上月": "hidden", "深藏": "veryHidden"})
    layout = _layout(data)
    assert layout.grid.sheet == "Sheet1" and layout.grid.rows[1][1][0] == "XM001"
    # 填报说明 comes before the sheet read: it was looked at and has no header, so it is not named.
    assert layout.unread_sheets == ["上月", "Sheet2", "深藏"]
    assert layout.hidden_sheets == ["上月", "深藏"]
    assert unread_sheets_note(layout) == (
        "工作表“上月”（隐藏）、“Sheet2”、“深藏”（隐藏）中也有数据，未读取；只读取了“Sheet1”")
    # as the briefing finds it in the file's message, among the other notes
    message = f"全部2行数据均未通过校验；{unread_sheets_note(layout)}；已忽略无法识别的列：备用"
    assert UNREAD_SHEETS_NOTE.findall(message) == [unread_sheets_note(layout)]


def test_a_single_sheet_or_csv_has_no_note():
    assert unread_sheets_note(_layout(book())) is None
    csv_layout = find_layout(read_grids(csv_bytes([KP_HEADER, kp_row()]), ".csv"), DATASETS["key_projects"])
    assert csv_layout.unread_sheets == [] and unread_sheets_note(csv_layout) is None


def test_a_header_only_on_a_hidden_sheet_is_a_file_problem(raw, run_period):
    data = book({"说明": [["请填写第二页"]], "数据": [KP_HEADER, kp_row("XM001")]}, hidden={"数据": "hidden"})
    (raw / "key_projects").mkdir()
    (raw / "key_projects/2023-02.xlsx").write_bytes(data)
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02.xlsx")
    assert log["status"] == "rejected"
    assert log["message"].startswith("表头所在的工作表“数据”是隐藏的，只读取可见的工作表") and "取消隐藏" in log["message"]


def test_percent_formats_follow_their_sheet_past_a_chartsheet(raw, run_period):
    # calamine lists chart sheets, openpyxl's worksheets do not: the extras go by sheet name.
    from openpyxl.chart import BarChart, Reference

    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["指标名称", "全市数值"])
    ws.append(["规上工业增加值增速", 0.106])
    ws["B2"].number_format = "0.0%"
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=2))
    wb.create_chartsheet("图表", 0).add_chart(chart)
    (raw / "city_indicators").mkdir()
    wb.save(raw / "city_indicators/2023-02.xlsx")
    run = run_period("city_indicators", "2023-02")
    assert [r["value"] for r in run.staging("city_indicators")] == [Decimal("10.6")]


# ------------------------------------------------------------------ whatever goes wrong is a FileRejected

def test_overlapping_merges_are_a_file_problem():
    data = book({"Sheet1": [KP_HEADER] + [kp_row(f"XM{i:03d}") for i in range(20)]})
    merges = b'<mergeCells count="50">' + b'<mergeCell ref="A1:N21"/>' * 50 + b"</mergeCells>"
    data = patch(data, SHEET1, lambda x: x.replace(b"</sheetData>", b"</sheetData>" + merges))
    with pytest.raises(FileRejected, match="工作表“Sheet1”中的合并单元格相互重叠"):
        read_xlsx(data)


class PanicException(BaseException):
    """What a Rust panic inside python-calamine arrives as (pyo3's PanicException, by that name)."""


@pytest.mark.parametrize("error", [MemoryError, OverflowError, zipfile.BadZipFile, zipfile.LargeZipFile, PanicException])
def test_any_reader_error_ends_as_a_file_problem(monkeypatch, error):
    class Exploding:
        @staticmethod
        def from_filelike(_):
            raise error("boom")

    monkeypatch.setattr(read_module, "CalamineWorkbook", Exploding)
    with pytest.raises(FileRejected) as caught:
        read_xlsx(book())
    # the clerk reads Chinese; the reader's own error, a class name, stays the exception's cause
    assert str(caught.value) == "Excel文件已损坏或不是有效的.xlsx文件，无法打开（文件中的工作表内容无法解析）"
    assert isinstance(caught.value.__cause__, error)


@pytest.mark.parametrize("interrupt", ["DagsterExecutionInterruptedError", "KeyboardInterrupt", "SystemExit"])
def test_an_interrupt_while_reading_is_no_file_problem(monkeypatch, interrupt):
    """Ctrl-C during a step arrives as Dagster's DagsterExecutionInterruptedError (a BaseException):
    it stops the run, and the file being read is not sent back as damaged."""
    from dagster._core.errors import DagsterExecutionInterruptedError

    error = {"DagsterExecutionInterruptedError": DagsterExecutionInterruptedError,
             "KeyboardInterrupt": KeyboardInterrupt, "SystemExit": SystemExit}[interrupt]

    class Interrupted:
        @staticmethod
        def from_filelike(_):
            raise error()

    monkeypatch.setattr(read_module, "CalamineWorkbook", Interrupted)
    with pytest.raises(error):
        read_xlsx(book())


def test_the_child_reader_has_a_memory_limit():
    # The guard the tests above rely on: in the child, a 5 GB allocation fails.
    code = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
            "try:\n    bytearray(5 << 30)\nexcept MemoryError:\n    print('limited')")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "limited"


# ------------------------------------------------------------------ amplification: a small file, a huge expansion


def test_a_long_shared_string_copied_into_many_cells_is_rejected_before_expansion(monkeypatch, raw, run_period):
    monkeypatch.setattr(xlsx_limits, "MAX_TEXT_BYTES", 2 * 1024 * 1024)
    long_text = "很长的备注" * 4000  # 20,000 characters, stored once in the shared-string table
    rows = [KP_HEADER + ["备注"]] + [kp_row(f"XM{i:03d}") + [long_text] for i in range(200)]
    path = raw / "key_projects" / "2023-02.xlsx"
    path.parent.mkdir(parents=True)
    import xlsxwriter  # writes a shared-string table, as Excel does (openpyxl writes inline strings)

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Sheet1")
    for r, row in enumerate(rows):
        ws.write_row(r, 0, row)
    wb.close()
    assert path.stat().st_size < 100_000  # small on disk: 12 MB of text once expanded
    (raw / "key_projects" / "2023-02__乙.csv").write_bytes(csv_bytes([KP_HEADER, kp_row("XM999")]))
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02.xlsx")
    assert log["status"] == "rejected" and "展开后的文字超过" in log["message"] and "工作表" in log["message"]
    assert run.log("key_projects/2023-02__乙.csv")["status"] == "loaded"  # the other file goes on


def test_the_same_strings_in_ordinary_amounts_are_read():
    rows = [KP_HEADER + ["备注"]] + [kp_row(f"XM{i:03d}") + ["同一段备注文字"] for i in range(2000)]
    grids = read_xlsx(book({"Sheet1": rows}))
    assert grids[0].rows[-1][1][-1] == "同一段备注文字"


def test_a_merge_over_a_huge_block_is_rejected_before_the_sheet_is_expanded(raw, run_period):
    wb = Workbook()
    ws = wb.active
    ws.append(KP_HEADER)
    ws.append(kp_row("XM001"))
    ws["A3"] = "合并"
    ws["AA20002"] = "远处的值"  # the sheet now reaches row 20002, so the merge is not clipped
    ws.merge_cells("A3:Z20002")  # 520,000 cells filled with one value
    path = raw / "key_projects" / "2023-02.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02.xlsx")
    assert log["status"] == "rejected"
    assert "合并单元格共覆盖520,000个单元格" in log["message"] and "A3:Z20002" in log["message"]
    assert run.rejected() == []  # not 20,000 rejected rows of copies


@pytest.mark.parametrize("junk", [b"<f " * 100_000, b"<c " + b"A" * 100_000 + b"><v>1</v></c>", b"<c " * 100_000,
                                  b'<c r="A1" t="s" ' + b'x"x"' * 100_000 + b"><v>0</v></c>",  # each quote a name's start
                                  b'<c r="A1"><f/>' + b" " * 400_000 + b"<v>1</v>"])  # spaces tried in every split
def test_a_small_file_of_tags_left_open_is_scanned_once(junk):
    """A few KB of `<f ` without a `>`, or a tag of one long word without `=`: the scans looked from
    each `<f` (each letter) to the end of the sheet, minutes for a 6 KB file. Now each stops at the
    next `<` or `>` (or tries a word once), and the file is read or rejected as damaged at once.
    (With a percentage format openpyxl reads it as well, and refuses the XML; calamine alone reads
    its cells, which the junk after them does not touch.)"""
    for pct in (("Sheet1", "H2"), None):
        data = patch(book(pct=pct), SHEET1, lambda xml: xml.replace(b"</worksheet>", junk + b"</worksheet>"))
        assert len(data) < 20_000
        if pct:
            with pytest.raises(FileRejected, match="已损坏"):
                read_xlsx(data)
        else:
            (grid,) = read_xlsx(data)
            assert [cells for _, cells in grid.rows] == [KP_HEADER, kp_row("XM001")]


def test_the_scans_stop_at_the_next_tag():
    formula = xlsx_limits._NO_VALUE_AFTER_FORMULA.search(b'<c r="A1"><f <f>SUM(1)</f></c>')
    assert formula.start() == len(b'<c r="A1"><f ')  # the second `<f`, not the first left open
    assert xlsx_limits._attrs(b'AAAA r="A1"t="s" q=\'1\'') == {b"r": b"A1", b"t": b"s", b"q": b"1"}
    assert xlsx_limits._attrs(b'x"x"x"x" r="A1"') == {b"r": b"A1"}  # (a name holds no quote)
    cell = b'<c r="B2" s="1" t="s"><v>7</v></c>'
    assert [m.group(1) for m in xlsx_limits._SHARED_CELL.finditer(b"<c " + b't="s" ' * 50 + cell)] == [b"7"]


def test_a_zip_whose_directory_cannot_be_read_is_said_in_chinese():
    """A file that starts as a zip but has no directory (cut short, or garbage after the first
    bytes): the reason is Chinese, without the zip module's class name."""
    with pytest.raises(FileRejected) as caught:
        read_xlsx(b"PK\x03\x04" + bytes(200))
    assert str(caught.value) == "Excel文件已损坏或不是有效的.xlsx文件，无法打开（压缩包目录无法读取）"
