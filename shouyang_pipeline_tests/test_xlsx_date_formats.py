"""Numbers in a date, time or duration format that python-calamine would misread.

calamine turns a number into a date when its cell has a date format, and mishandles the numbers
outside Excel's dates: -1 becomes 00:00:00, NaN 1899-12-30, -1e12 panics in Rust (the panic text
printed on stderr, the whole file rejected as damaged), a duration of 1e12 days overflows. Such
cells are read as the number they store (xlsx_limits: misread_date_cells, general_format_copy).
The files are real workbooks (xlsxwriter, some values then written into the sheet XML by hand).
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from datetime import date, datetime, time

import pytest

from shouyang_pipeline.ingest import xlsx_limits
from shouyang_pipeline.ingest.read import read_xlsx
from shouyang_pipeline.ingest.xlsx_limits import (
    date_styles, general_format_copy, inspect_xlsx, is_date_format, misread_date_cells,
)
from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, patch

SHEET1 = "xl/worksheets/sheet1.xml"
START = KP_HEADER.index("开工时间")
NAME = KP_HEADER.index("项目名称")
TOTAL = KP_HEADER.index("总投资")


def workbook(rows: list[list], formats: dict[tuple[int, int], str] | None = None) -> bytes:
    """A one-sheet workbook (xlsxwriter, as Excel writes it: shared strings, styles): `formats`
    gives some cells (0-based row, column) a number format; a date is written as a date."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.calc_on_load = False  # as Excel saves it: a formula's stored value is the one computed
    ws = wb.add_worksheet("Sheet1")
    styles = {}
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            code = (formats or {}).get((r, c)) or ("yyyy-mm-dd" if isinstance(value, date) else None)
            fmt = styles.setdefault(code, wb.add_format({"num_format": code})) if code else None
            if isinstance(value, date):
                ws.write_datetime(r, c, datetime(value.year, value.month, value.day), fmt)
            elif isinstance(value, (int, float)):
                ws.write_number(r, c, value, fmt)
            else:
                ws.write(r, c, value, fmt)
    wb.close()
    return buf.getvalue()


def set_value(data: bytes, old: bytes, new: bytes) -> bytes:
    """The same workbook with one stored `<v>` value replaced (what xlsxwriter will not write)."""
    def edit(body: bytes) -> bytes:
        assert body.count(b"<v>" + old + b"</v>") == 1
        return body.replace(b"<v>" + old + b"</v>", b"<v>" + new + b"</v>")

    return patch(data, SHEET1, edit)


def key_projects(raw, data: bytes, name: str = "2023-02.xlsx") -> str:
    (raw / "key_projects").mkdir(exist_ok=True)
    (raw / "key_projects" / name).write_bytes(data)
    return f"key_projects/{name}"


def rows_with(*bad: tuple[str, int, object]) -> tuple[list[list], dict]:
    """A key-projects sheet of XM001-XM004 with real start dates; each (code, column, value) puts
    `value` in a cell of that row formatted yyyy-mm-dd."""
    rows = [KP_HEADER] + [kp_row(f"XM00{i}", start=date(2023, 3, i)) for i in range(1, 5)]
    formats = {}
    for code, column, value in bad:
        r = next(i for i, row in enumerate(rows) if row[0] == code)
        rows[r][column] = value
        formats[(r, column)] = "yyyy-mm-dd"
    return rows, formats




# ------------------------------------------------------------------ which formats are dates

@pytest.mark.parametrize("code, expected", [
    ("yyyy-mm-dd", True), ("hh:mm:ss", True), ("mm:ss.0", True), ("yyyy-mm-dd hh:mm", True),
    ("[h]:mm:ss", True), ("[mm]", True), ("[Red][ss].00", True), ('yyyy"年"m"月"d"日"', True),
    ("yyyy年m月d日", True), ('h"时"mm"分"', True), ("上午/下午h时mm分", True), ("ee/mm/dd", True),
    ("[$-804]dddd", True), ('"合计："0;yyyy', True),  # a later section counts too
    ("0.00", False), ("#,##0", False), ("0.0%", False), ("General", False), ("0.00E+00", False),
    ("@", False), ('"年"0', False), ('0"天"', False), (r"0.00\d", False), ("[Red]0.00", False),
    ("[$-804]0.00", False), ("[DBNum1][$-804]General", False), ("#,##0.00_);[Red](#,##0.00)", False),
    ('#,##0.0 "万元"', False),
])
def test_date_and_time_formats_are_told_from_number_formats(code, expected):
    assert is_date_format(code) is expected


def test_the_date_styles_of_a_styles_part():
    styles = (
        b'<x:styleSheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<x:numFmts count="3"><x:numFmt numFmtId="164" formatCode="yyyy&quot;\xe5\xb9\xb4&quot;m&quot;\xe6\x9c\x88&quot;"/>'
        b'<x:numFmt numFmtId="165" formatCode="#,##0.00&quot;\xe4\xb8\x87\xe5\x85\x83&quot;"/>'
        b'<x:numFmt formatCode="General" numFmtId="166"/></x:numFmts>'
        b'<x:cellStyleXfs count="2"><x:xf numFmtId="0"/><x:xf numFmtId="14"/></x:cellStyleXfs>'
        b'<x:cellXfs count="8"><x:xf numFmtId="0" xfId="0"/><x:xf numFmtId="14" xfId="0" applyNumberFormat="1"/>'
        b'<x:xf xfId="0" numFmtId="164"><x:alignment horizontal="center"/></x:xf><x:xf numFmtId="165"/>'
        b'<x:xf numFmtId="31"/><x:xf numFmtId="46"/><x:xf numFmtId="166"/><x:xf/></x:cellXfs>'
        b'<x:cellStyles count="1"><x:cellStyle name="Normal" xfId="0" builtinId="0"/></x:cellStyles></x:styleSheet>')
    assert date_styles(styles) == {1, 2, 4, 5}
    assert date_styles(b"") == frozenset() and date_styles(b"<styleSheet><cellXfs") == frozenset()


# ------------------------------------------------------------------ which cells calamine would misread

def stripped(body: bytes, styles=frozenset({1})) -> set[str]:
    """The cells of a sheet whose style `misread_date_cells` removes."""
    xml = b"<worksheet><sheetData><row r=\"1\">" + body + b"</row></sheetData></worksheet>"
    spans = misread_date_cells(xml, styles)
    return {re.search(rb"""\sr=["'](\w+)""", xml[xml.rfind(b"<", 0, start):xml.find(b">", start)]).group(1).decode()
            for start in spans[0::2]}


def test_the_cells_calamine_would_misread():
    body = (b'<c r="A1" s="1"><v>-1</v></c><c r="B1" s="0"><v>-1</v></c><c r="C1" s="1" t="s"><v>3</v></c>'
            b'<c r="D1" s="1" t="str"><v>abc</v></c><c r="E1" s="1" t="n"><v>NaN</v></c>'
            b'<c r="F1" s="1"><f>A1-1</f><v>-2</v></c><c r="G1" s="1"><v>45000</v></c>'
            b'<c r="H1" s="1"><v>3000000</v></c><c r="I1" s="1"><v>2958465</v></c><c r="J1" s="1"><v>1E5</v></c>'
            b'<c r="K1" s="1"><v>1e12</v></c><c r="L1" s="1"><v>inf</v></c><c r="M1"><v>-1</v></c>'
            b'<c r="N1" s="1" t="e"><v>#NUM!</v></c><c r="O1" s="1"><v>0.5</v></c><c r="P1" s="1"><v>2958466</v></c>')
    assert stripped(body) == {"A1", "E1", "F1", "H1", "K1", "L1", "P1"}
    # the cells whose style is told in C (`s` last, or `s` then `t="n"` as openpyxl writes it)
    assert stripped(b'<c r="A1" s="12"><v>-1</v></c><c r="B1" s="2"><v>-1</v></c><c r="C1" s="1" t="n"><v>-7</v></c>'
                    b'<c r="D1" s="0" t="n"><v>-7</v></c><c r="E1" s="123"><v>-1</v></c><c r="F1" s="1" t="n"><v>45000</v></c>',
                    frozenset({1, 12})) == {"A1", "C1"}
    assert stripped(body, frozenset()) == set()
    # a namespace prefix, single quotes, the style before the address, a quoted `s` that is no attribute
    assert stripped(b"<x:c r='A1' s='1'><x:v>-1e15</x:v></x:c><c s=\"1\" r=\"B1\"><v>-3</v></c>"
                    b'<c r="C1" foo="s=&quot;1&quot; s=\'1\'" s="0"><v>-1</v></c>') == {"A1", "B1"}


# ------------------------------------------------------------------ read as the number stored

@pytest.mark.parametrize("code", ["yyyy-mm-dd", "hh:mm:ss", "mm:ss.0", "yyyy-mm-dd hh:mm", "[h]:mm:ss",
                                  'yyyy"年"m"月"d"日"', 14])
@pytest.mark.parametrize("value", [-1, -100000, -1e12, -1e15, 1e12])
def test_a_number_outside_excel_dates_is_read_as_the_number(code, value, capfd):
    rows = [["数值"], [value], [date(2023, 3, 15)]]
    (grid,) = read_xlsx(workbook(rows, {(1, 0): code}))
    assert grid.rows[1][1] == [value] and type(grid.rows[1][1][0]) is float
    assert grid.rows[2][1][0] == date(2023, 3, 15)
    assert capfd.readouterr().err == ""


def test_real_dates_are_still_read_as_dates_and_the_file_is_not_copied():
    rows = [["日期", "时间", "金额"], [date(2023, 3, 15), 0.5, -12.5], [date(9999, 12, 31), 0.75, -3]]
    data = workbook(rows, {(1, 1): "hh:mm", (2, 1): "hh:mm"})
    inspection = inspect_xlsx(data)
    assert inspection.misread_dates == {} and general_format_copy(data, inspection) is data
    (grid,) = read_xlsx(data)
    assert [cells for _, cells in grid.rows[1:]] == [
        [date(2023, 3, 15), time(12), -12.5], [date(9999, 12, 31), time(18), -3.0]]


# ------------------------------------------------------------------ end to end: what the sender sees

def test_a_date_cell_far_outside_excel_dates_is_a_cell_problem_and_the_file_loads(raw, run_period, capfd):
    rows, formats = rows_with(("XM002", START, -1e15), ("XM003", NAME, -5), ("XM004", TOTAL, -5))
    path = key_projects(raw, workbook(rows, formats))
    run = run_period("key_projects", "2023-02")
    assert capfd.readouterr().err == ""  # no Rust panic text on the terminal
    log = run.log(path)
    assert (log["status"], log["rows_loaded"], log["rows_rejected"]) == ("partial", 3, 1)
    assert [(r["project_code"], r["project_name"], r["start_date"]) for r in run.staging("key_projects")] == [
        ("XM001", "测试项目", date(2023, 3, 1)), ("XM002", "测试项目", None), ("XM003", "-5", date(2023, 3, 3))]
    (warning,) = run.warnings()
    assert (warning["source_cell"], warning["reason"]) == (
        "N3", "开工时间不是有效日期，应填写如2023-03-15或2023年3月（当前值：-1000000000000000）")
    (rejected,) = run.rejected()
    assert (rejected["source_cell"], rejected["reason"]) == ("H5", "总投资必须大于0（当前值：-5）")


def test_nan_in_a_date_cell_and_a_huge_duration(raw, run_period, capfd):
    rows, formats = rows_with(("XM002", START, 123456.25), ("XM003", START, -1))
    rows[4][KP_HEADER.index("年度计划投资")] = 1e12
    formats[(4, KP_HEADER.index("年度计划投资"))] = "[h]:mm:ss"
    path = key_projects(raw, set_value(workbook(rows, formats), b"123456.25", b"NaN"))
    run = run_period("key_projects", "2023-02")
    assert capfd.readouterr().err == ""
    assert run.log(path)["status"] == "partial"
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001", "XM002", "XM003"]
    assert [(w["source_cell"], w["reason"]) for w in run.warnings()] == [
        ("N3", "开工时间不是有效日期，应填写如2023-03-15或2023年3月（当前值：NaN）"),
        ("N4", "开工时间不是有效日期，应填写如2023-03-15或2023年3月（当前值：-1）")]
    (rejected,) = run.rejected()
    assert rejected["source_cell"] == "I5" and rejected["reason"].startswith("年度计划投资数值过大，")


# ------------------------------------------------------------------ hostile parts: no quadratic scans
# (a lazy `.*?` or a backtracking number looked again from every opening; what each gives is the
# same as the regex it replaced, on random parts)

_P = xlsx_limits._P
_LAZY_SHARED = re.compile(rb"<" + _P + rb"si[\s>/].*?</" + _P + rb"si>|<" + _P + rb"si\s*/>", re.S)
_LAZY_CELL_XFS = re.compile(rb"<" + _P + rb"cellXfs[\s>].*?</" + _P + rb"cellXfs\s*>", re.S)
_BACKTRACKING_NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_OLD_LITERAL = re.compile(r'"[^"]*"|\\.|_.|\[([^\]]*)\]|General|[eE][+-]', re.S | re.I)
_OLD_DATE_PART = re.compile(r"[ymdhse年月日时時分秒]|a.*[pm/]", re.I | re.S)


def _old_is_date_format(code: str) -> bool:
    duration = False

    def literal(m):
        nonlocal duration
        if m.group(1) is not None and xlsx_limits._DURATION.fullmatch(m.group(1)):
            duration = True
        return "a" if m.group(0).lower() == "general" else " "

    return duration or _OLD_DATE_PART.search(_OLD_LITERAL.sub(literal, code)) is not None


def _random_parts(pieces: list[bytes], seed: int, n: int = 400) -> list[bytes]:
    rng = random.Random(seed)
    return [b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(n)]


def test_shared_string_items_as_the_lazy_regex_found_them_and_each_close_looked_for_once(monkeypatch):
    pieces = [b"<si>", b"</si>", b"<si/>", b"<si />", b'<si t="x">', b"<x:si>", b"</x:si>", b"<t>a</t>", b"b",
              b"<sis>", b"</s>", b" "]
    for part in _random_parts(pieces, 1):
        assert xlsx_limits._shared_string_sizes(part) == [m.end() - m.start() for m in _LAZY_SHARED.finditer(part)]

    class Counting:
        def __init__(self, pattern):
            self.pattern, self.calls = pattern, 0

        def search(self, *args):
            self.calls += 1
            return self.pattern.search(*args)

    closes = Counting(xlsx_limits._SHARED_CLOSE)
    monkeypatch.setattr(xlsx_limits, "_SHARED_CLOSE", closes)
    part = b"<si>" * 20_000 + b"<si>x</si>" + b"<si>" * 20_000
    assert xlsx_limits._shared_string_sizes(part) == [80_010]  # as the lazy regex: the first to the close
    assert closes.calls == 2  # not one per opening left open: none after the first that found none


def test_cell_format_blocks_as_the_lazy_regex_found_them():
    pieces = [b"<cellXfs>", b"</cellXfs>", b"</cellXfs >", b'<cellXfs count="2">', b"<x:cellXfs>", b"</x:cellXfs>",
              b'<xf numFmtId="14"/>', b"<cellXfsX>", b"x"]
    for part in _random_parts(pieces, 2):
        assert list(xlsx_limits._cell_xfs_blocks(part)) == [m.group(0) for m in _LAZY_CELL_XFS.finditer(part)]
    assert list(xlsx_limits._cell_xfs_blocks(b"<cellXfs>" * 100_000)) == []


def test_numbers_and_format_codes_told_as_before():
    for value in _random_parts([b"1", b"0", b".", b"-", b"+", b"e", b"E", b"x", b" "], 3, 2000):
        assert bool(xlsx_limits._NUMBER.fullmatch(value)) == bool(_BACKTRACKING_NUMBER.fullmatch(value)), value
    rng = random.Random(4)
    alphabet = list('[]"\\_aApPmM/yYdhHsSe0#.,;@ 年Generl')
    for _ in range(3000):
        code = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        assert is_date_format(code) == _old_is_date_format(code), code
    for hostile in ("[" * 50_000, "a" * 50_000, '"' + "a" * 50_000):  # once quadratic: longer than Excel's
        assert is_date_format(hostile)  # 255 characters, taken for a date's (a number in it read as such)
    assert not is_date_format("0.00" + " " * 251) and is_date_format("0.00" + " " * 252)
    assert xlsx_limits._NUMBER.fullmatch(b"1" * 50_000 + b"x") is None


def test_a_style_with_a_leading_zero_and_a_value_with_attributes_are_looked_at():
    # calamine reads s="01" as style 1; a <v> may carry xml:space
    xml = (b'<sheetData><row r="1"><c r="A1" s="01"><v>-1</v></c><c r="B1" s="1"><v xml:space="preserve">'
           b'-1e15</v></c><c r="C1" s="2"><v>-1</v></c></row></sheetData>')
    spans = misread_date_cells(xml, frozenset({1}))
    assert [xml[a:b] for a, b in zip(spans[0::2], spans[1::2])] == [b's="01"', b's="1"']


def test_only_the_styles_part_calamine_reads_gives_the_date_styles():
    data = workbook([[-5.0, "x"]], {(0, 0): "0.00%"})
    src = zipfile.ZipFile(io.BytesIO(data))
    styles = src.read("xl/styles.xml")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            z.writestr(info, src.read(info))
        # another part named styles.xml, every format a date's: not the workbook's styles
        z.writestr("customXml/styles.xml", re.sub(rb'numFmtId="\d+"', b'numFmtId="14"', styles))
    assert inspect_xlsx(out.getvalue()).misread_dates == {}


def test_a_date_cell_written_as_excel_writes_it_is_told_without_reading_its_tag(monkeypatch):
    """A sheet of many odd numbers in a date format (a column of negative amounts formatted as
    dates) costs no look at each cell's tag, and keeps its spans in an array, not a tuple each."""
    calls = []
    real = xlsx_limits._enclosing_cell
    monkeypatch.setattr(xlsx_limits, "_enclosing_cell", lambda *a: calls.append(1) or real(*a))
    cells = b"".join(b'<c r="A%d" s="1"><v>-%d</v></c><c r="B%d" s="12" t="n"><v>-1e15</v></c>' % (i, i, i)
                     for i in range(1, 1001))
    xml = b"<worksheet><sheetData><row>" + cells + b"</row></sheetData></worksheet>"
    spans = misread_date_cells(xml, frozenset({1, 12}))
    assert calls == [] and spans.typecode == "q"
    assert [xml[a:b] for a, b in zip(spans[0::2], spans[1::2])] == [b's="1"', b's="12"'] * 1000


def test_the_quick_way_finds_what_reading_each_tag_finds(monkeypatch):
    rng = random.Random(5)
    sheets = []
    for _ in range(300):
        cells = []
        for i in range(rng.randint(1, 30)):
            style = rng.choice([b"", b' s="1"', b' s="2"', b' s="01"', b" s='1'", b' s="11"'])
            kind = rng.choice([b"", b' t="n"'])
            attrs = style + kind if rng.random() < 0.5 else kind + style
            formula = rng.choice([b"", b"<f>A1</f>"])
            value = rng.choice([b"-1", b"5", b"NaN", b"1e20", b"-1e15", b"3000000", b"45000", b"-0.5"])
            cells.append(b'<c r="A%d"%s>%s<v>%s</v></c>' % (i + 1, attrs, formula, value))
        sheets.append(b"<worksheet><sheetData><row>" + b"".join(cells) + b"</row></sheetData></worksheet>")
    quick = [list(misread_date_cells(xml, frozenset({1, 11}))) for xml in sheets]
    # every hit looked at in Python, through the tag: the way for more than 64 date styles
    monkeypatch.setattr(xlsx_limits, "_odd_values",
                        lambda styles: re.compile(xlsx_limits._VALUE_TAG + xlsx_limits._PLAIN_VALUE))
    assert quick == [list(misread_date_cells(xml, frozenset({1, 11}))) for xml in sheets]
    assert sum(map(len, quick)) > 500
