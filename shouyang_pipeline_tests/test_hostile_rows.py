"""Valid rows never disappear without a trace: row kinds read in the first cell, footers that end
the table, unclosed CSV quotes, mixed encodings and mojibake, and an audit that accounts for
every record below the header."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from shouyang_pipeline.ingest.layout import classify_row, row_kinds
from shouyang_pipeline.ingest.parse import garbled_reading
from shouyang_pipeline.ingest.read import FileRejected, read_csv, read_grids
from shouyang_pipeline.sample import names as N

from shouyang_pipeline_tests.conftest import (
    KP_HEADER, Formula, assert_consistent_counts, csv_bytes, kp_row, write_csv, write_xlsx, write_xlsx_cached,
)

REPO = Path(__file__).resolve().parents[1]
N_COLS = len(KP_HEADER)
KP_COLUMNS = set(range(N_COLS))


def _codes(run, path: str | None = None) -> list[str]:
    return [r["project_code"] for r in run.staging("key_projects") if path is None or r["source_file"] == path]


# ------------------------------------------------------------------ 1. markers in the first cell

@pytest.mark.parametrize("cells, kind", [
    (["小计", None, None, 2000], "subtotal"),
    ([None, " 小 计 ", None, 2000], "subtotal"),
    ([None, "其中：省级项目", None, 1000], "subtotal"),
    (["其中:市级项目", 1000], "subtotal"),
    (["XM001", "造纸项目", "省级", "其中省级补助资金500万元"], None),  # a remark is no marker
    (["XM001", "造纸项目", "其中：县发改局"], None),
    (["XM001", "小计"], None),
    (["合计", None, 3000], "totals"),
    (["XM001", "合计"], None),
])
def test_markers_are_read_in_the_first_non_empty_cell(cells, kind):
    assert classify_row(cells) == kind
    assert classify_row(cells, data_columns=set(range(len(cells)))) == kind


def test_a_sequence_number_before_a_marker_is_passed_over_only_outside_the_dataset_columns():
    # column 0 is a 序号 (not a dataset column): `3 | 小计` is a subtotal, `5 | 合计` a totals row
    assert classify_row([3, "小计", None, 2000], data_columns={1, 2, 3}) == "subtotal"
    assert classify_row(["4", "其中：省级项目", None, 1000], data_columns={1, 2, 3}) == "subtotal"
    assert classify_row([5.0, "合计", None, 3000], data_columns={1, 2, 3}) == "totals"
    # a number in a dataset column is a value: the row is data, whatever follows it
    assert classify_row([3, "小计", None, 2000], data_columns={0, 1, 2, 3}) is None
    # only bare whole numbers are passed over
    assert classify_row(["XM001", "小计"], data_columns={1}) is None
    assert classify_row([3.5, "小计"], data_columns={1}) is None


def test_a_remark_or_unit_starting_like_a_subtotal_is_loaded(raw, run_period):
    path = "key_projects/2023-02.xlsx"
    rows = [KP_HEADER + ["备注"],
            kp_row("XM001") + ["其中省级补助资金500万元"],
            kp_row("XM002", unit="其中：县发改局") + [None],
            kp_row("XM003", unit="小计") + ["小计"],
            [None, "其中：省级项目", None, None, None, None, None, 2000],
            ["小计", None, None, None, None, None, None, 3000]]
    write_xlsx(raw / path, rows)
    run = run_period("key_projects", "2023-02")
    log = run.log(path)
    assert (log["status"], log["rows_read"], log["rows_loaded"], log["rows_subtotal"]) == ("loaded", 3, 3, 2)
    got = {r["project_code"]: (r["responsible_unit"], r["remarks"]) for r in run.staging("key_projects")}
    assert got == {"XM001": ("县发改局", "其中省级补助资金500万元"), "XM002": ("其中：县发改局", None),
                   "XM003": ("小计", "小计")}


def test_sequence_column_before_subtotal_rows(raw, run_period):
    path = "key_projects/2023-02.csv"
    rows = [["序号"] + KP_HEADER,
            [1] + kp_row("XM001"),
            [2] + kp_row("XM002"),
            [3, "小计", None, None, None, None, None, None, 2000],
            [None, "其中：省级项目", None, None, None, None, None, None, 1000],
            [4] + kp_row("XM003")]
    write_csv(raw / path, rows)
    run = run_period("key_projects", "2023-02")
    log = run.log(path)
    assert (log["status"], log["rows_read"], log["rows_subtotal"]) == ("loaded", 3, 2)
    assert _codes(run) == ["XM001", "XM002", "XM003"]


# ------------------------------------------------------------------ 2. a footer ends the table

def _kinds(rows):
    return row_kinds(rows, data_columns=KP_COLUMNS)


def test_footer_marker_with_data_after_it_is_a_data_row():
    data = kp_row()
    assert _kinds([data, ["注：以下为新增项目"], data, ["填表人：张三"]]) == [None, None, None, "footer"]
    assert _kinds([data, ["说明：xx"] * N_COLS, data]) == [None, None, None]


def test_footer_block_keeps_its_continuations_and_label_lines():
    data = kp_row()
    rows = [data, [], ["注：1、金额为累计数"], ["2、本表金额单位为万元"], ["    3. 本表为累计数"],
            ["（三）另附说明"] * N_COLS,  # a note merged across the row
            ["联系电话：", "0354-1234567"], ["填报日期:", "2023-03-05"], ["合计", None, 3], [], ["某某"]]
    assert _kinds(rows) == [None, "blank", "footer", "footer", "footer", "footer", "footer", "footer", "footer",
                            "blank", "footer"]


def test_a_lone_value_after_the_data_with_no_footer_stays_a_data_row():
    assert _kinds([kp_row(), ["某某项目"]]) == [None, None]


def test_mid_data_notes_never_hide_the_rows_below(raw, run_period):
    path = "key_projects/2023-02.xlsx"
    rows = [["2023年1-2月全县重点项目进展情况表"], KP_HEADER,
            kp_row("XM001"),
            ["注：以下为新增项目"],                                     # 4: data follows -> a data row
            kp_row("XM002"),
            ["说明：以下项目由县住建局负责"] + [None] * (N_COLS - 1),   # 6: merged across -> a data row
            kp_row("XM003"),
            [],
            ["填表人：张三", None, "审核人：李四"],                      # 9.. footer
            ["注：1、金额为累计数"],
            ["2、本表金额单位为万元"],
            ["联系电话：", "0354-1234567"]]
    write_xlsx(raw / path, rows, merges=(f"A6:{chr(64 + N_COLS)}6",))
    run = run_period("key_projects", "2023-02")
    log = run.log(path)
    assert _codes(run) == ["XM001", "XM002", "XM003"]
    assert (log["status"], log["rows_read"], log["rows_loaded"], log["rows_rejected"]) == ("partial", 5, 3, 2)
    assert (log["rows_footer"], log["rows_blank"]) == (4, 1)
    rejected = run.rejected()
    assert {r["source_row"] for r in rejected} == {4, 6}
    assert {r["rule"] for r in rejected if r["source_row"] == 4} == {"required", "note_read_as_data"}
    assert rejected[0]["raw_row"]["项目编号"] == "注：以下为新增项目"
    # each such row says why it was read as data, and where a note goes
    said = [r for r in rejected if r["rule"] == "note_read_as_data"]
    assert [(r["source_row"], r["source_cell"]) for r in said] == [(4, None), (6, None)]
    assert said[0]["reason"] == ("本行“注：以下为新增项目”像是写在表格下方的说明，但它后面还有数据行，所以按数据行读取："
                                 "说明文字请写在最后一行数据之后，或删去")
    assert said[1]["reason"].startswith("本行“说明：以下项目由县住建局…”像是写在表格下方的说明")
    # the merge copies the note into every cell: each one that cannot be its column says so
    assert {r["rule"] for r in rejected if r["source_row"] == 6} >= {"not_a_number", "not_a_date"}
    assert_consistent_counts(run)


def test_mid_data_note_in_a_csv(raw, run_period):
    path = "key_projects/2023-02.csv"
    write_csv(raw / path, [KP_HEADER, kp_row("XM001"), ["注:下列项目为续建"], kp_row("XM002"), ["填报人：王五"]],
              "gbk")
    run = run_period("key_projects", "2023-02")
    log = run.log(path)
    assert _codes(run) == ["XM001", "XM002"]
    assert (log["rows_read"], log["rows_rejected"], log["rows_footer"]) == (3, 1, 1)
    assert {r["source_row"] for r in run.rejected()} == {3}


# ------------------------------------------------------------------ 3. a quote never closed

def _raw_csv(raw: Path, path: str, text: str, encoding: str = "utf-8") -> None:
    (raw / path).parent.mkdir(parents=True, exist_ok=True)
    (raw / path).write_bytes(text.encode(encoding))


def _line(row: list) -> str:
    return ",".join("" if v is None else str(v) for v in row)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_unclosed_quote_rejects_the_file_naming_its_row(raw, run_period, encoding):
    path = "key_projects/2023-02.csv"
    broken = kp_row("XM002")
    broken[1] = '"寿阳县造纸项目'
    text = "\r\n".join([_line(KP_HEADER), _line(kp_row("XM001")), _line(broken), _line(kp_row("XM003")),
                        _line(kp_row("XM004"))]) + "\r\n"
    _raw_csv(raw, path, text, encoding)
    run = run_period("key_projects", "2023-02")
    log = run.log(path)
    assert log["status"] == "rejected" and log["rows_read"] == 0
    assert log["message"] == "第3行的引号没有闭合，其后的内容都被当成了一个单元格：请检查该行的双引号"
    assert run.staging("key_projects") == []


def test_unclosed_quote_on_the_last_line(raw, run_period):
    path = "key_projects/2023-02.csv"
    _raw_csv(raw, path, _line(KP_HEADER) + "\n" + _line(kp_row("XM001")) + '\n"填表人：张三')
    run = run_period("key_projects", "2023-02")
    assert "第3行的引号没有闭合" in run.log(path)["message"]


def test_quoted_line_breaks_and_doubled_quotes_still_read(raw, run_period):
    path = "key_projects/2023-02.csv"
    rows = [KP_HEADER,
            kp_row("XM001", name="寿阳县“造纸”项目\n（一期）"),
            kp_row("XM002", name='他称"二期"', unit="县发改局\r\n县工信局"),
            kp_row("XM003")]
    write_csv(raw / path, rows)
    run = run_period("key_projects", "2023-02")
    assert run.log(path)["status"] == "loaded"
    got = [(r["source_row"], r["project_name"]) for r in run.staging("key_projects")]
    assert got == [(2, "寿阳县“造纸”项目\n（一期）"), (3, '他称"二期"'), (4, "测试项目")]


def test_a_stray_quote_inside_an_unquoted_cell_is_text():
    (grid,) = read_csv('a,b\r\nx"y,"z""w"q\r\n"end"\r\n'.encode())
    assert grid.rows == [(1, ["a", "b"]), (2, ['x"y', 'z"wq']), (3, ["end"])]


def test_unclosed_quote_is_a_file_problem_at_the_reader():
    with pytest.raises(FileRejected, match="第2行的引号没有闭合"):
        read_csv(b'a,b\r\n"x,y\r\nc,d\r\n')


# ------------------------------------------------------------------ 4. mixed encodings

def test_gbk_file_with_one_utf8_row(raw, run_period):
    path = "key_projects/2023-02.csv"
    data = (csv_bytes([KP_HEADER, kp_row("XM001")], "gbk")
            + csv_bytes([kp_row("XM002", name="寿阳县新建项目")], "utf-8")
            + csv_bytes([kp_row("XM003")], "gbk"))
    (raw / "key_projects").mkdir()
    (raw / path).write_bytes(data)
    run = run_period("key_projects", "2023-02")
    log = run.log(path)
    assert (log["status"], log["rows_loaded"]) == ("loaded", 3)
    rows = run.staging("key_projects")
    assert [(r["project_code"], r["project_name"], r["township"]) for r in rows] == [
        ("XM001", "测试项目", "平头镇"), ("XM002", "寿阳县新建项目", "平头镇"), ("XM003", "测试项目", "平头镇")]
    warnings = run.warnings()
    assert {w["rule"] for w in warnings} == {"mixed_encoding"} and {w["source_row"] for w in warnings} == {3}
    # every cell whose reading depends on the encoding, none of the ASCII ones (code, amounts, date)
    assert [w["source_cell"] for w in warnings] == ["B3", "C3", "D3", "E3", "F3", "G3", "K3", "L3", "M3"]
    (name,) = [w for w in warnings if w["source_cell"] == "B3"]
    assert name["value"] == "寿阳县新建项目"
    assert "UTF-8" in name["reason"] and "GBK" in name["reason"] and "同一种编码" in name["reason"]
    assert "寿阳县新建项目" in name["reason"]


def test_utf8_file_with_one_gbk_row(raw, run_period):
    path = "key_projects/2023-02.csv"
    data = (csv_bytes([KP_HEADER, kp_row("XM001"), kp_row("XM002")], "utf-8-sig")
            + csv_bytes([kp_row("XM003", name="胡家堙村道路硬化", unit="县交通局")], "gbk"))
    (raw / "key_projects").mkdir()
    (raw / path).write_bytes(data)
    run = run_period("key_projects", "2023-02")
    assert run.log(path)["status"] == "loaded"
    (row,) = [r for r in run.staging("key_projects") if r["project_code"] == "XM003"]
    assert (row["project_name"], row["responsible_unit"]) == ("胡家堙村道路硬化", "县交通局")
    warnings = run.warnings()
    assert {(w["source_row"], w["rule"]) for w in warnings} == {(4, "mixed_encoding")}
    assert "以GBK编码保存" in warnings[0]["reason"]


def test_a_row_in_the_other_encoding_that_is_rejected_lists_it_too(raw, run_period):
    path = "key_projects/2023-02.csv"
    data = csv_bytes([KP_HEADER, kp_row("XM001")], "gbk") + csv_bytes([kp_row("XM002", total="暂无")], "utf-8")
    (raw / "key_projects").mkdir()
    (raw / path).write_bytes(data)
    run = run_period("key_projects", "2023-02")
    rules = {r["rule"] for r in run.rejected(source_row=3)}
    assert rules == {"not_a_number", "mixed_encoding"}


def test_a_row_whose_other_encoding_shows_only_in_an_ignored_column_is_named_as_a_row(raw, run_period):
    path = "key_projects/2023-02.csv"
    data = (csv_bytes([KP_HEADER + ["联系人"], kp_row("XM001") + ["张三"]], "gbk")
            + csv_bytes([["XM002", "Project B", "", "", "", "", "", 10, 5, 1, "", "", "", ""] + ["李四"]], "utf-8"))
    (raw / "key_projects").mkdir()
    (raw / path).write_bytes(data)
    run = run_period("key_projects", "2023-02")
    (issue,) = [r for r in run.rejected(source_row=3) if r["rule"] == "mixed_encoding"]
    assert (issue["source_cell"], issue["column"]) == (None, None)
    assert issue["reason"].startswith("本行是以UTF-8编码保存的，与文件其余各行（GBK）不同")


def test_a_quoted_line_break_in_the_other_encoding_marks_its_record():
    data = (csv_bytes([["名称", "单位"], ["甲", "乙"]], "gbk") + '"丙\n丁",戊\r\n'.encode("utf-8")
            + csv_bytes([["己", "庚"]], "gbk"))
    (grid,) = read_csv(data)
    assert [r for _, r in grid.rows] == [["名称", "单位"], ["甲", "乙"], ["丙\n丁", "戊"], ["己", "庚"]]
    assert (grid.encoding, grid.other_encoding) == ("GBK", {3: "UTF-8"})


def test_one_encoding_throughout_marks_nothing():
    for encoding in ("utf-8", "utf-8-sig", "gbk", "gb18030"):
        (grid,) = read_csv(csv_bytes([KP_HEADER, kp_row(), ["×", "—"], ["a", "b"]], encoding))
        assert grid.other_encoding == {}, encoding
        assert grid.rows[2][1] == ["×", "—"]


def test_a_line_in_neither_encoding_still_rejects_the_file():
    with pytest.raises(FileRejected, match="编码无法识别"):
        read_csv("项目编号,总投资\n".encode("gbk") + "寿阳,1\n".encode("utf-8") + b"\xff\xfe\n")


def _with_bad_byte(data: bytes, line: int, after: bytes) -> bytes:
    """`data` with a byte 0xFF (neither UTF-8 nor GB18030 reads it) put in line `line` (from 1)
    right after the first `after` in it."""
    lines = data.splitlines(keepends=True)
    at = lines[line - 1].index(after) + len(after)
    lines[line - 1] = lines[line - 1][:at] + b"\xff" + lines[line - 1][at:]
    return b"".join(lines)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
@pytest.mark.parametrize("rows", [3, 6000])  # (6,000 lines: a file read in columns when it can be)
def test_a_line_in_neither_encoding_is_named_by_its_row_and_cell(encoding, rows):
    """The clerk is told where the unreadable bytes are: the row, the column and the cell, in a
    file of a few rows or of thousands, wherever its lines are of an encoding."""
    data = csv_bytes([KP_HEADER] + [kp_row(f"XM{i:05d}", name=f"项目{i}") for i in range(1, rows)], encoding)
    row = rows // 2 + 1
    bad = _with_bad_byte(data, row, f"项目{row - 1}".encode("utf-8" if encoding != "gbk" else "gbk"))
    column = KP_HEADER.index("项目名称") + 1
    with pytest.raises(FileRejected) as rejected:
        read_csv(bad)
    cell = f"{chr(ord('A') + column - 1)}{row}"
    assert f"第{row}行第{column}列（{cell}）有既不是UTF-8也不是GBK/GB18030的字节（FF）" in str(rejected.value)
    assert "编码无法识别" in str(rejected.value)


def test_a_line_in_neither_encoding_is_counted_as_the_files_rows_are():
    """Rows are records: a quoted cell over two lines before it is one row; inside such a cell,
    the row it belongs to is named (its column is not told)."""
    before = '项目编号,名称\r\nXM1,"甲\r\n乙"\r\nXM2,丙'.encode("gbk")
    with pytest.raises(FileRejected, match=r"第3行第2列（B3）有.*（FF）"):
        read_csv(before + b"\xff\r\n")
    with pytest.raises(FileRejected, match=r"文件编码无法识别：第2行有既不是"):
        read_csv('项目编号,名称\r\nXM1,"甲\r\n'.encode() + b"\xff" + '乙"\r\n'.encode())
    # lines before it that the file's reading would refuse (a row of 600 fields): still counted
    with pytest.raises(FileRejected, match=r"第3行第1列（A3）有.*（FF）"):
        read_csv("项目编号,名称\r\n".encode() + b"x," * 600 + b"x\r\n" + b"\xff,1\r\n")


# ------------------------------------------------------------------ 4. mojibake

GBK_MOJIBAKE = "椤圭洰鍚嶇О"  # 项目名称 written in UTF-8, read as GBK
LATIN_MOJIBAKE = "é¡¹ç›®"  # 项目 written in UTF-8, read as cp1252
EXCEL_MOJIBAKE = "县发改局".encode("utf-8").decode("gbk", errors="replace").replace("\ufffd", "?")


def test_mojibake_is_recognised():
    assert garbled_reading(GBK_MOJIBAKE) == "项目名称"
    assert garbled_reading(LATIN_MOJIBAKE) == "项目"
    assert garbled_reading("鍙戞敼灞€") == "发改局"
    assert garbled_reading(EXCEL_MOJIBAKE) is not None
    assert garbled_reading("XM001锟斤拷") is not None
    assert garbled_reading("平头镇\ufffd") is not None


def _real_strings() -> set[str]:
    found: set[str] = set()

    def walk(x):
        if isinstance(x, str):
            found.add(x)
        elif isinstance(x, (list, tuple, set, frozenset)):
            for y in x:
                walk(y)
        elif isinstance(x, dict):
            for k, y in x.items():
                walk(k)
                walk(y)

    for value in vars(N).values():
        walk(value)
    for path in sorted((REPO / "data" / "raw").rglob("*")):
        if path.suffix.lower() in (".csv", ".xlsx"):
            for grid in read_grids(path.read_bytes(), path.suffix.lower(), percent_formats=False):
                for _, cells in grid.rows:
                    walk([c for c in cells if isinstance(c, str)])
    for path in sorted((REPO / "data" / "reference").glob("*.csv")):
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            walk(row)
    return {s for s in found if not s.isascii()}


def test_genuine_chinese_is_never_taken_for_mojibake():
    strings = _real_strings()
    assert len(strings) > 500
    assert [s for s in strings if garbled_reading(s) is not None] == []
    # and every one of them, garbled, is recognised
    chinese = [s for s in strings if any("\u4e00" <= ch <= "\u9fff" for ch in s)]
    garbled = [s.encode("utf-8").decode("gb18030", errors="replace") for s in chinese]
    assert [g for g in garbled if garbled_reading(g) is None] == []


def test_garbled_cells_warn_and_keep_their_value(raw, run_period):
    write_xlsx(raw / "key_projects/2023-02.xlsx", [
        KP_HEADER + ["备注"],
        kp_row("XM001", name=GBK_MOJIBAKE) + [None],
        kp_row("XM002", unit=EXCEL_MOJIBAKE) + [LATIN_MOJIBAKE],
        kp_row("XM003", name="胡家堙村道路硬化") + ["其中省级补助500万元"],
        kp_row("XM005", name="项目{名}".encode("utf-8").decode("gb18030")) + [None],
    ])
    write_csv(raw / "key_projects/2023-02__b.csv", [KP_HEADER, kp_row("XM004", name="鍙戞敼灞€")], "gb18030")
    run = run_period("key_projects", "2023-02")
    assert [r["status"] for r in run.log()] == ["loaded", "loaded"]
    staged = {r["project_code"]: (r["project_name"], r["responsible_unit"], r["remarks"])
              for r in run.staging("key_projects")}
    assert staged["XM001"][0] == GBK_MOJIBAKE
    assert staged["XM002"][1:] == (EXCEL_MOJIBAKE, LATIN_MOJIBAKE)
    assert staged["XM004"][0] == "鍙戞敼灞€"
    got = [(w["file_path"], w["source_cell"], w["rule"], w["value"]) for w in run.warnings()]
    assert got == [
        ("key_projects/2023-02.xlsx", "B2", "garbled_text", GBK_MOJIBAKE),
        ("key_projects/2023-02.xlsx", "M3", "garbled_text", EXCEL_MOJIBAKE),
        ("key_projects/2023-02.xlsx", "O3", "garbled_text", LATIN_MOJIBAKE),
        ("key_projects/2023-02.xlsx", "B5", "garbled_text", "椤圭洰{鍚峿"),
        ("key_projects/2023-02__b.csv", "B2", "garbled_text", "鍙戞敼灞€"),
    ]
    reasons = [w["reason"] for w in run.warnings()]
    assert reasons[0] == "项目名称“椤圭洰鍚嶇О”疑似乱码（文件编码有误，按UTF-8重新解读为“项目名称”），已按原样保存，请检查文件编码后重新报送"
    assert "“项目{名}”" in reasons[3]


def test_long_garbled_notes_warn_on_their_own_rows(raw, run_period):
    """30,000-character 备注s garbled on every character (UTF-8 read as GBK), three different ones,
    in a GBK CSV among plain rows: each is warned of at its own row and column, stored whole, and
    every row is loaded."""
    notes = {n: ("项目名称" * 4999 + f"-{n}").encode("utf-8").decode("gb18030") for n in (20, 40, 60)}
    assert {len(v) for v in notes.values()} == {29997}
    rows = [KP_HEADER + ["备注"]]
    for i in range(1, 61):
        rows.append(kp_row(f"XM{i:03d}") + [notes.get(i, "其中省级补助500万元")])
    write_csv(raw / "key_projects/2023-02.csv", rows, "gb18030")
    run = run_period("key_projects", "2023-02")
    assert [r["status"] for r in run.log()] == ["loaded"]
    remarks = {r["project_code"]: r["remarks"] for r in run.staging("key_projects")}
    assert len(remarks) == 60 and remarks["XM020"] == notes[20] and remarks["XM021"] == "其中省级补助500万元"
    column = chr(ord("A") + len(KP_HEADER))
    got = [(w["source_cell"], w["rule"], w["value"]) for w in run.warnings()]
    assert got == [(f"{column}{n + 1}", "garbled_text", notes[n][:1000] + "…（共29,997字，此处只记前1000字）")
                   for n in (20, 40, 60)]  # the audit keeps the head of a long value
    assert "3个单元格疑似乱码" in run.log()[0]["message"]

# ------------------------------------------------------------------ 5. every record accounted for

def _records_below_header(path: Path, encoding: str = "utf-8") -> tuple[int, int]:
    """(all records below the header, the non-blank ones), read back with csv / openpyxl."""
    if path.suffix == ".csv":
        rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))
    else:
        wb = openpyxl.load_workbook(path)
        rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if "项目编号" in r and "总投资" in r)
    below = rows[header + 1:]
    filled = [r for r in below if any(c is not None and str(c).strip() for c in r)]
    return len(below), len(filled)


def _hostile_files(raw: Path) -> dict[str, tuple[Path, str, set[str]]]:
    """path -> (file, encoding, the project codes of its valid data rows)."""
    last = chr(64 + N_COLS)
    files = {}

    p = raw / "key_projects/2023-02__a.xlsx"
    write_xlsx(p, [
        ["2023年1-2月全县重点项目进展情况表"] + [None] * (N_COLS - 1),
        ["填报单位：县发改局　　　　单位：万元"],
        [],
        KP_HEADER + ["备注"],
        ["一、产业转型类项目"] + [None] * (N_COLS - 1),
        kp_row("A01", total=100, plan=50, ytd=10) + ["其中省级补助资金500万元"],
        kp_row("A02", total=200, plan=50, ytd=10, unit="其中：县发改局"),
        ["小计", None, None, None, None, None, None, 300],
        [None, "其中：省级项目", None, None, None, None, None, 100],
        [None] * N_COLS,
        ["（二）城市建设类项目"] * N_COLS,
        kp_row("A03", total=300, plan=50, ytd=10),
        ["注：以下为新增项目"],
        kp_row("A04", total=400, plan=50, ytd=10),
        ["合计", None, None, None, None, None, None, 1000],
        [],
        ["填表人：张三", None, None, "审核人：李四"],
        ["注：1、金额为累计数"],
        ["2、本表金额单位为万元"],
        ["联系电话：", "0354-1234567"],
    ], merges=(f"A1:{last}1", f"A5:{last}5", f"A11:{last}11"))
    files["key_projects/2023-02__a.xlsx"] = (p, "utf-8", {"A01", "A02", "A03", "A04"})

    p = raw / "key_projects/2023-02__b.csv"
    write_csv(p, [
        ["2023年1-2月重点项目"],
        ["序号"] + KP_HEADER,
        ["1、产业转型类"],
        [1] + kp_row("B01"),
        [2] + kp_row("B02", unit="其中：县住建局"),
        [3, "小计", None, None, None, None, None, None, 2000],
        [None] * (N_COLS + 1),
        [],
        ["说明：以下两个项目为续建"],
        [4] + kp_row("B03"),
        [5] + kp_row("B04", total="暂无"),  # rejected, but read
        [None, "全县合计", None, None, None, None, None, None, 4000],
        ["审核人：李四"],
        ["", "", "联系电话：", "0354-7654321"],
        ["注:金额单位万元"],
    ])
    files["key_projects/2023-02__b.csv"] = (p, "utf-8", {"B01", "B02", "B03"})

    p = raw / "key_projects/2023-02__c.csv"
    write_csv(p, [
        KP_HEADER,
        ["第一类 产业项目"],
        kp_row("C01"),
        ["注：下列项目在平头镇"],
        [],
        kp_row("C02"),
        ["其中:省级", None, None, None, None, None, None, 1000],
        kp_row("C03"),
        ["  填报人：王五  "],
    ], "gbk")
    files["key_projects/2023-02__c.csv"] = (p, "gbk", {"C01", "C02", "C03"})

    p = raw / "key_projects/2023-02__d.xlsx"
    write_xlsx_cached(p, [
        ["重点项目进展表"],
        KP_HEADER,
        kp_row("D01", total=100, plan=50, ytd=10),
        kp_row("D02", total=Formula("=100+100", 200), plan=50, ytd=10),
        ["小计", None, None, None, None, None, None, Formula("=SUM(H3:H4)", 300)],
        [],
        [],
        ["（二）城市建设"] * N_COLS,
        kp_row("D03", total=300, plan=50, ytd=10),
        ["合计", None, None, None, None, None, None, Formula("=H5+H9", 600)],
        ["注：本表为累计数"] + [None] * (N_COLS - 1),
        ["（一）金额为万元"] + [None] * (N_COLS - 1),
    ], merges=(f"A11:{last}11", f"A12:{last}12"))
    files["key_projects/2023-02__d.xlsx"] = (p, "utf-8", {"D01", "D02", "D03"})
    return files


def test_every_record_below_the_header_is_accounted_for(raw, run_period):
    files = _hostile_files(raw)
    run = run_period("key_projects", "2023-02")
    assert_consistent_counts(run)
    for rel, (path, encoding, valid) in files.items():
        log = run.log(rel)
        total, filled = _records_below_header(path, encoding)
        assert log["rows_read"] + (log["rows_skipped"] - log["rows_blank"]) == filled, (rel, log)
        assert log["rows_read"] + log["rows_skipped"] == total, (rel, log)
        kinds = sum(log[f"rows_{k}"] for k in ("blank", "footer", "totals", "subtotal", "section"))
        assert kinds == log["rows_skipped"], rel
        # every valid data row is loaded; every row read and not loaded is in rejected_rows
        assert set(_codes(run, rel)) == valid, rel
        rejected_rows = {r["source_row"] for r in run.rejected(file_path=rel)}
        assert len(rejected_rows) == log["rows_rejected"] == log["rows_read"] - len(valid), rel
    assert all(r["status"] in ("loaded", "partial") for r in run.log())


# ------------------------------------------------------------------ quotes and sizes that swallow or swamp


def test_a_quote_closed_several_rows_later_rejects_the_file_instead_of_swallowing_rows(raw, run_period):
    lines = [",".join(KP_HEADER + ["备注"])]
    for i in range(1, 7):
        row = [str(v) for v in kp_row(f"XM{i:03d}")]
        remark = '"已完工' if i == 2 else ('见附件"' if i == 5 else "")
        lines.append(",".join(row + [remark]))
    path = raw / "key_projects" / "2023-02.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes("\n".join(lines).encode("utf-8"))
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02.csv")
    assert log["status"] == "rejected" and "第3行" in log["message"] and "双引号" in log["message"]


def test_a_remark_with_a_line_break_and_a_comma_still_loads(raw, run_period):
    write_csv(raw / "key_projects" / "2023-02.csv",
              [KP_HEADER + ["备注"], kp_row("XM001") + ["第一行，说明\n第二行, 另一说明"], kp_row("XM002") + [""]])
    run = run_period("key_projects", "2023-02")
    assert run.log("key_projects/2023-02.csv")["status"] == "loaded"


def test_a_csv_of_too_many_lines_is_rejected_before_it_is_parsed(raw, run_period, monkeypatch):
    from shouyang_pipeline.ingest import read as read_module

    monkeypatch.setattr(read_module, "MAX_CSV_LINES", 50)
    path = raw / "key_projects" / "2023-02.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(csv_bytes([KP_HEADER, kp_row("XM001")]) + b"\r\n" * 100)
    log = run_period("key_projects", "2023-02").log("key_projects/2023-02.csv")
    assert log["status"] == "rejected" and "超过上限50行" in log["message"]


def test_a_csv_of_lines_ending_in_a_carriage_return_alone_is_counted_so(monkeypatch):
    from shouyang_pipeline.ingest import read as read_module

    monkeypatch.setattr(read_module, "MAX_CSV_LINES", 50)
    with pytest.raises(FileRejected, match="超过上限50行"):
        read_csv(",".join(KP_HEADER).encode() + b"\r" * 100)
    assert len(read_csv(b"a,b\r\n" * 20 + b"c,d\r" * 20 + b"e,f\n" * 9)[0].rows) == 49
    with pytest.raises(FileRejected, match="文件有60行，超过上限50行"):  # each count 30, the lines 60
        read_csv(b"c,d\r" * 30 + b"e,f\n" * 30)


def test_a_csv_row_of_trailing_commas_loses_them_and_one_wider_than_a_sheet_is_rejected(raw, run_period):
    """A row of 18,000 fields made the grid 18,000 columns wide: a 19 KB file a traceback (no
    column letter past ZZZ) that failed the whole month's step, a 400 KB one gigabytes."""
    path = raw / "key_projects" / "2023-02.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(csv_bytes([KP_HEADER, kp_row("XM001"), kp_row("XM002")]).rstrip(b"\r\n") + b"," * 100_000 + b"\r\n")
    (grid,) = read_csv(path.read_bytes())
    assert [len(cells) for _, cells in grid.rows] == [N_COLS, N_COLS, N_COLS]
    other = raw / "key_projects" / "2023-02__县能源局.csv"
    other.write_bytes(csv_bytes([KP_HEADER, kp_row("XM003"), kp_row("XM004", total=-5)]).rstrip(b"\r\n")
                      + b"," * 18_300 + b"x\r\n")
    run = run_period("key_projects", "2023-02")
    assert sorted(_codes(run)) == ["XM001", "XM002"]  # the other files of the month are loaded
    log = run.log("key_projects/2023-02__县能源局.csv")
    assert log["status"] == "rejected" and "第3行有18,314列，超过上限500列" in log["message"]


def test_a_csv_of_more_cells_than_a_sheet_may_hold_is_rejected(monkeypatch):
    from shouyang_pipeline.ingest import read as read_module

    monkeypatch.setattr(read_module, "MAX_SHEET_CELLS", 100)
    with pytest.raises(FileRejected, match="11行、最宽10列，超过上限100个单元格"):
        read_csv(b"a,b,c,d,e,f,g,h,i,j\n" * 11)
    assert len(read_csv(b"a,b,c,d,e,f,g,h,i,j\n" * 10)[0].rows) == 10
    # Excel pads a CSV's every row to the widest: the empty fields at the end are no cells
    (grid,) = read_csv(b"a,b\n" * 30 + b"a,b,,,,,,,,,,,\n" + b"a,b,,,\n" * 18)
    assert len(grid.rows) == 49 and {len(cells) for _, cells in grid.rows} == {2}


def test_a_csv_field_written_as_excels_text_formula_is_the_text_excel_shows(raw, run_period):
    """`="XM001"` (systems export codes so, for Excel to keep their leading zeros) was loaded as
    `="XM001"`: a project code that matches nothing, without a word."""
    path = raw / "key_projects" / "2023-02.csv"
    path.parent.mkdir(parents=True)
    rows = [kp_row("XM001"), kp_row("XM002"), kp_row("XM003")]
    path.write_bytes(csv_bytes([KP_HEADER] + rows).replace(b"XM001", b'="XM001"').replace(b"XM002", b'"=""XM002"""'))
    (grid,) = read_csv(path.read_bytes())
    assert [cells[0] for _, cells in grid.rows] == ["项目编号", "XM001", "XM002", "XM003"]
    assert _codes(run_period("key_projects", "2023-02")) == ["XM001", "XM002", "XM003"]
    (grid,) = read_csv('a,b,c,d\n="a""b",=SUM(A1),"=""x"" y",="\n'.encode())
    assert grid.rows[1][1] == ['a"b', "=SUM(A1)", '="x" y', '="']  # a quote inside, a formula, no text: as written


def test_an_xlsx_named_csv_says_so(raw, run_period):
    from openpyxl import Workbook

    path = raw / "key_projects" / "2023-02.csv"
    path.parent.mkdir(parents=True)
    wb = Workbook()
    wb.active.append(KP_HEADER)
    wb.save(path)
    log = run_period("key_projects", "2023-02").log("key_projects/2023-02.csv")
    assert log["status"] == "rejected" and "扩展名却是.csv" in log["message"]


def test_a_giant_field_is_a_chinese_message(raw, run_period):
    path = raw / "key_projects" / "2023-02.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(csv_bytes([KP_HEADER]) + b'XM001,"' + b"x" * 140_000 + b'",\n')
    log = run_period("key_projects", "2023-02").log("key_projects/2023-02.csv")
    assert log["status"] == "rejected" and "131,072个字符" in log["message"] and "field" not in log["message"]


def test_a_row_whose_first_cell_reads_like_a_label_after_a_note_is_data(raw, run_period):
    path = raw / "key_projects" / "2023-02.xlsx"
    write_xlsx(path, [
        KP_HEADER,
        kp_row("XM001"), kp_row("XM002"),
        ["注：以下项目为新增"],
        kp_row("XM009", name="朝阳镇：集中供热改造项目")[1:2] + kp_row("XM009")[0:1] + kp_row("XM009")[2:],
        ["填表人：张三", None, "联系电话：", "0354-1234567"],
    ])
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02.xlsx")
    # The note is not a footer (a data row follows): it is read as a row and rejected, visibly.
    assert log["rows_read"] == 4 and log["rows_footer"] == 1
    assert run.rejected(source_row=4)  # the 注 line
    assert len(run.staging("key_projects")) == 3  # the row after the note is loaded
