"""The quick paths of ingest (issue 14) decide only what the slow ones would decide the same:
plain data rows told without `classify_row`, texts vouched for without `reads_as_written`, whole
columns of texts and numbers parsed in C, CSV records read in one call, duplicate keys found
without a tuple a row, the frames built column by column. Each test puts the quick path next
to the one it stands in for, on cells chosen to tempt it, and checks that the quick path is
taken at all on plain input (a shortcut that never fires would pass the rest)."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from shouyang_pipeline.catalog.datasets import DATASETS
from shouyang_pipeline.ingest import layout, period, read, values
from shouyang_pipeline.ingest.layout import classify_row, row_kinds
from shouyang_pipeline.ingest.parse import _UNCOMMON, _lines_holding, _not_vouched_for, garbled_reading, reads_as_written
from shouyang_pipeline.ingest.read import FileRejected, read_csv
from shouyang_pipeline.ingest.validate import PANDERA_DTYPES, values_frame
from shouyang_pipeline.ingest.values import EMPTY, CellProblem, parse_column, parse_value

from shouyang_pipeline_tests.conftest import PROJECT_REFERENCE, csv_bytes

# ------------------------------------------------------------------ row kinds

# Cells that are, or look like, or hide a marker: totals, subtotals, footers, section numbering
# (also as NFKC spells it from ㈠ ⑴ ⒈ and full-width forms), sequence numbers of every type,
# spaces and invisible characters around them, and plain data.
MARKERS = [
    "合计", "总计", "全县合计", "小计", "其中", "其中：省级", "其中:市级", "填表人：张三", "填报人", "审核人", "负责人",
    "注:本表", "注：本表", "说明:", "说明：见附件", "一、产业转型类项目", "（一）续建", "(二)新建", "(3)其他", "第一类",
    "第2批", "1、续建项目", "十、其他", "㈠新建", "⑴其他", "⒈续建", "１、续建", "（１）其他", "合 计", " 小计", "小计 ",
    "合\u3000计", "\u200b合计", "合\u200b计", "小计\u3164", "ㅤ", "其\ufeff中", "\u3000", " ", "\t", "",
    "1", "2", "３", "10", "1.5", "-1", 1, 2, 3.0, 3.5, -2, True, False, float("nan"), float("inf"),
    date(2023, 1, 5), datetime(2023, 1, 5, 8, 0), None, None, None,
    "SY2023-000001", "91140725MA0P7AKM1P", "XM(01)", "(备注)", "项目名称", "宗艾镇", "造纸项目（一期）",
    "Ⅰ类", "ｘｍ001", "x\u00a0y", "a b", "是", "续建", "省重点", "17.07", "2022-07-10",
]


def _fuzz_row(rng: random.Random) -> list[object]:
    width = rng.randint(0, 6)
    row = [rng.choice(MARKERS) for _ in range(width)]
    if row and rng.random() < 0.5:
        row[0] = rng.choice(["1", 2, 3.0, "4", None])  # a 序号 before the marker
    return row


@pytest.mark.parametrize("seed", range(4))
def test_surely_data_only_where_classify_row_says_data(seed):
    rng = random.Random(seed)
    checked = quick = 0
    for _ in range(6000):
        cells = _fuzz_row(rng)
        width = len(cells)
        for columns in (None, set(range(width)), set(range(1, width)), {width - 1}, set()):
            checked += 1
            if layout._surely_data(cells, columns):
                quick += 1
                assert classify_row(cells, data_columns=columns) is None, (cells, columns)
    assert quick > checked // 20  # the quick path does fire on these rows


def test_plain_rows_take_the_quick_path_and_markers_do_not():
    columns = set(range(1, 5))
    assert layout._surely_data(["1", "SY2023-000001", "开元煤矿5G智能化改造项目", "省重点", "17.07"], columns)
    assert layout._surely_data([1, "91140725MA0P7AKM1P", "山西天成煤业有限公司", 40151.5], columns)
    assert layout._surely_data([None, "宗艾镇", "黑水村", 12.5], None)
    for row in (["1", "合计", None, 3000], [3, "小计", None, 2000], ["一、产业转型类项目"], ["注：本表单位为万元"],
                ["填表人：张三", "审核人：李四"], ["(一)新建"], ["㈠新建"], [None, None], ["合 计", 1]):
        assert not layout._surely_data(row, columns), row
    assert not layout._surely_data(["1", 2.0], {2, 3})  # nothing but 序号: classify_row reads it


# First cells that come close to what `_all_surely_data` lets through: ASCII codes and digits, and
# what must stop it (a bracketed number, a space, a control or full-width character, a blank, a
# float, a bool, a marker).
CODES = ["SY2023-000001", "XM01", "91140725MA0P7AKM1P", "140725100201", "A", "x-y_z.1", "#1", "=1", "XM(01)",
         "(1)", "(备注)", "(a", "SY 1", "SY\t1", "SY\n1", "ＳＹ1", "合计", "注:", "一、", "1、续建", "", None, 1, 1.0, True]
SEQUENCES = ["1", "2", "10", "007", "1.5", "-1", "１", "", None, 1, 2, -3, 3.0, True, "a", "合计", "(1)"]


@pytest.mark.parametrize("seed", range(4))
def test_a_table_surely_data_only_where_every_row_is(seed):
    """`_all_surely_data` (a whole table told at once) against `_surely_data` of each row, on
    tables of plain rows with a tempting cell put in now and then; and it fires on plain tables."""
    rng = random.Random(200 + seed)
    fired = 0
    for _ in range(3000):
        n = rng.randint(1, 8)
        rows = [[str(i + 1), f"SY2023-{i:06d}", "造纸项目", "12.5"] for i in range(n)]
        for _ in range(rng.choice([0, 0, 1, 2])):
            row = rng.choice(rows)
            row[rng.choice([0, 1])] = rng.choice(SEQUENCES + CODES)
        if rng.random() < 0.1:
            rng.choice(rows)[:] = rng.choice([[], ["1"], [None]])
        for columns in (None, {1, 2, 3}, {0, 1, 2, 3}, {2, 3}, set()):
            told = layout._all_surely_data(rows, columns)
            fired += told
            if told:
                assert all(layout._surely_data(r, columns) for r in rows), (rows, columns)
    assert fired > 3000  # plain tables are told at once
    plain = [["1", "SY2023-000001", "开元煤矿5G智能化改造项目"], [2, "SY2023-000002", "段王煤矿"]]
    assert not layout._all_surely_data(plain, {1, 2})  # a 序号 column of strings and ints: row by row
    assert layout._all_surely_data([[str(i), f"SY{i}", "名称"] for i in range(1, 5)], {1, 2})
    assert layout._all_surely_data([[i, f"SY{i}", "名称"] for i in range(1, 5)], {1, 2})
    assert layout._all_surely_data([[f"SY{i}", "名称"] for i in range(1, 5)], None)


# Names after a 序号 (a mine's, a village's) and what must stop a table of them being told at once:
# a marker anywhere in it (计, a line starting 其中), a text that is not its own NFKC or holds an
# invisible or spacing character, a section's or footer's look (harmless here: not a first cell).
NAMES = ["段王煤矿", "上湖乡", "前庄七村", "开元煤矿5G智能化改造项目", "x矿", "其中：省级", "其中", "中其矿", "合计", "小计",
         "全镇合计", "累计完成", "ｱ煤矿", "Ⅳ矿", "e\u0301矿", "煤\u200b矿", "宗艾 镇", "宗艾\u3000镇", "①", "一、", "(一)",
         "注：本表", "填表人", "㈠新建", "１２", "", None, 1, 2.5]


@pytest.mark.parametrize("seed", range(4))
def test_a_table_of_names_after_a_sequence_number_is_told_at_once_only_where_every_row_is(seed):
    """`_all_surely_data` of tables whose rows are a 序号 then a name (not ASCII) in a data column:
    True only where `_surely_data` is of every row, and True of plain ones."""
    rng = random.Random(400 + seed)
    fired = 0
    for _ in range(3000):
        n = rng.randint(1, 8)
        rows = [[str(i + 1), rng.choice(NAMES[:5]), f"DW-C{i:02d}", "12.5"] for i in range(n)]
        for _ in range(rng.choice([0, 0, 1, 2])):
            rng.choice(rows)[1] = rng.choice(NAMES)
        for columns in ({1, 2, 3}, {0, 1, 2, 3}, None, {2, 3}):
            told = layout._all_surely_data(rows, columns)
            fired += told
            if told:
                assert all(layout._surely_data(r, columns) for r in rows), (rows, columns)
            if columns == {1, 2, 3}:
                assert row_kinds(rows, data_columns=columns) == kinds_row_by_row(rows, columns), rows
    assert fired > 1500
    assert layout._all_surely_data([[str(i), "段王煤矿", "DW-C01"] for i in range(1, 5)], {1, 2})
    assert not layout._all_surely_data([["段王煤矿", "DW-C01"] for i in range(1, 5)], {0, 1})  # a first cell: row by row
    for tempting in ("合计", "其中：省级", "ｱ煤矿", "煤\u200b矿", "累计完成"):
        assert not layout._all_surely_data([["1", "段王煤矿", "A"], ["2", tempting, "B"]], {1, 2}), tempting


def kinds_row_by_row(rows: list[list[object]], columns) -> list[str | None]:
    """`row_kinds`' rule with `classify_row` alone on every row: the footer starts at the first
    footer row after the last substantial data row."""
    want = [classify_row(r, data_columns=columns) for r in rows]
    last = next((i for i in range(len(rows) - 1, -1, -1)
                 if want[i] is None and layout._is_substantial(rows[i], columns)), -1)
    start = next((i for i in range(last + 1, len(rows)) if want[i] == "footer"), len(rows))
    return [("blank" if k == "blank" else "footer") if i >= start else (None if k == "footer" else k)
            for i, k in enumerate(want)]


@pytest.mark.parametrize("seed", range(3))
def test_row_kinds_are_those_of_classify_row_row_by_row(seed):
    """`row_kinds` with its quick path against the same rule applied with `classify_row` alone,
    on tables of data rows with markers, footers and blank rows among them."""
    rng = random.Random(100 + seed)
    plain = [["1", "SY-1", "造纸项目", 10.0], [2, "SY-2", "供热项目", "12"], ["3", "SY-3", "宗艾镇", None]]
    for _ in range(300):
        rows = [list(rng.choice(plain)) if rng.random() < 0.7 else _fuzz_row(rng) for _ in range(rng.randint(1, 12))]
        for columns in (None, {1, 2, 3}):
            want = kinds_row_by_row(rows, columns)
            assert row_kinds(rows, data_columns=columns) == want, rows


@pytest.mark.parametrize("seed", range(3))
def test_row_kinds_of_plain_tables_with_rows_around_them(seed, monkeypatch):
    """Tables of plain coded rows with a title's, a totals', a subtotal's, a footer's or a tempting
    row above, below or among them: `row_kinds` tells the plain middle at once
    (`_all_surely_data`) and the rest row by row, with the kinds `classify_row` gives row by row."""
    rng = random.Random(300 + seed)
    told = []
    real = layout._all_surely_data
    monkeypatch.setattr(layout, "_all_surely_data",  # (the tables' middles counted, not the rows asked one by one)
                        lambda rows, columns: (r := real(rows, columns)) and len(rows) > 1 and told.append(r) or r)
    extra = [["合计", None, None, "30"], [None, "小计", None, "20"], ["注：本表单位为万元"], ["填表人：张三", None, "审核人"],
             [], [None], ["(一)", "新建"], ["1", "(1)", "造纸", "1"], ["1", "SY 1", "造纸", "1"], ["1", "ＳＹ1", "造纸", "1"],
             ["x", "SY-9", "造纸", "1"], [1, "SY-8", "供热", "2"]]
    for _ in range(300):
        rows = [[str(i + 1), f"SY-{i}", "造纸项目", "10"] for i in range(rng.randint(1, 10))]
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            rows.insert(rng.choice([0, len(rows), rng.randint(0, len(rows))]), list(rng.choice(extra)))
        for columns in (None, {1, 2, 3}, {0, 1, 2, 3}):
            want = kinds_row_by_row(rows, columns)
            assert row_kinds(rows, data_columns=columns) == want, (rows, columns)
    assert len(told) > 300  # the plain middle is told at once


def test_a_section_among_plain_rows_costs_one_block_row_by_row(monkeypatch):
    """A big table of plain coded rows with a section's row (`二、城市建设类项目`) in its middle, as a
    key-projects file is sent: the kinds `classify_row` gives row by row, the blocks without the
    section told at once (`PLAIN_BLOCK_ROWS`), only the section's block asked row by row."""
    block = layout.PLAIN_BLOCK_ROWS
    rows = [["一、产业转型类项目", None, None, None]]
    rows += [[str(i), f"SY2023-{i:06d}", "造纸项目", "10"] for i in range(1, 3 * block)]
    rows.insert(block + 7, ["二、城市建设类项目", None, None, None])
    rows += [["合计", None, None, "30"], ["填表人：张三", None, "审核人"]]
    asked = []
    real = layout._surely_data
    monkeypatch.setattr(layout, "_surely_data", lambda cells, columns: asked.append(1) or real(cells, columns))
    got = row_kinds(rows, data_columns={1, 2, 3})
    assert got == kinds_row_by_row(rows, {1, 2, 3})
    assert got[block + 7] == "section" and got.count(None) == 3 * block - 1
    assert 0 < len(asked) <= block + layout.PLAIN_SPAN_EDGE


# ------------------------------------------------------------------ texts vouched for

TEXTS = ["开元煤矿5G智能化改造项目", "宗艾镇", "项目×二期", "é¡¹ç›®", "椤圭洰鍚嶇О", "锟斤拷", "名称\ufffd", "Café™",
         "×", "·", "—", "℃", "‰", "№", "←", "温度℃", "第1行\n第2行", "鍚嶇\nО", "中文😀", "ｘｍ", "县级", "\u00a0", "煤\u3000矿", "𠀀",
         "孤\ud800", "甲\r乙", "é\r项"]  # a lone surrogate, a carriage return inside a text


@pytest.mark.parametrize("seed", range(3))
def test_not_vouched_for_is_reads_as_written_of_each(seed):
    rng = random.Random(seed)
    for _ in range(400):
        texts = set(rng.sample(TEXTS, rng.randint(0, 6)))
        assert sorted(_not_vouched_for(texts)) == sorted(v for v in texts if not reads_as_written(v)), texts
    # common Chinese only: every text vouched for in one pass; a latin-1 mojibake among it is not
    assert _not_vouched_for({"宗艾镇", "开元煤矿项目"}) == []
    assert _not_vouched_for({"宗艾镇", "é¡¹ç›®"}) == ["é¡¹ç›®"]
    # common characters up to ™ and nothing beyond: not vouched for (℃ U+2103, × U+00D7); beyond it (←): vouched
    assert sorted(_not_vouched_for({"宗艾镇", "℃", "×", "←", "温度℃"})) == ["×", "℃"]
    assert garbled_reading("é¡¹ç›®") == "项目"


def test_long_garbled_texts_are_each_searched_once_past_their_first_match():
    """A 30,000-character mojibake 备注 holds a match at every character: after the first, the
    search goes on from the next line, so it is asked once per garbled text, not once per match."""
    texts = {"é" * 30000 + f"{i:06d}" for i in range(20)} | {"宗艾镇", "项目×" * 5000, "开元煤矿"}
    assert sorted(_not_vouched_for(texts)) == sorted(v for v in texts if not reads_as_written(v))

    class Counting:
        searches = 0

        def search(self, text, pos=0):
            Counting.searches += 1
            return _UNCOMMON.search(text, pos)

    joined = "\n".join(sorted(texts))
    assert _lines_holding(Counting(), joined) == {v for v in texts if _UNCOMMON.search(v)}
    assert Counting.searches <= len(texts) + 1


# ------------------------------------------------------------------ whole columns

def _same(a: object, b: object) -> bool:
    if a is EMPTY or b is EMPTY:
        return a is b
    return type(a) is type(b) and (repr(a) == repr(b) if isinstance(a, float) else a == b)


def _agrees(kind: str, cells: list, unit: str = "万元") -> None:
    got, odd = parse_column(kind, cells, unit=unit)
    got = [odd.get(i, v) for i, v in enumerate(got)]
    want = [parse_value(kind, c, unit=unit) for c in cells]
    bad = [(c, g, w) for c, g, w in zip(cells, got, want) if not _same(g, w)]
    assert not bad, bad[:5]


@pytest.mark.parametrize("cells", [
    ["12.5", "1000", "-3", "0", ".5", "12.", "+7"],  # strings of plain digits: one float() call a column
    ["12.5", None, "1000", None],
    ["12.5", "1.2.3", "7"], ["-", "12"], ["+", None, "3"], ["1e5", "2"], ["12 ", "3"], ["１２", "3"],
    [12.5, 3, None, -0.0, 0, 10**9, 10**9 + 1, 10**20, 2.5], [1e300, 1e308, float("nan"), float("inf")],
    [True, 1, 1.0], ["12", 12, None], [None, None], [],
])
@pytest.mark.parametrize("kind", ["money", "integer"])
@pytest.mark.parametrize("unit", ["万元", "元", "亿元"])
def test_number_columns_parsed_whole_agree_cell_for_cell(cells, kind, unit):
    _agrees(kind, cells, unit)


@pytest.mark.parametrize("cells", [
    ["宗艾镇", "开元煤矿项目", None, "SY-001"],  # plain: taken whole
    ["县级", "县级", "省重点", None, "县级"],  # a two-character text is not plain: each spelling once
    ["无", "-", "宗艾镇", None, " 宗艾镇 ", "宗\u200b艾镇"],  # empty marks and cleaning among them
    ["140725100201.0", "x" * 40000, "\u3000宗艾镇", "宗艾镇\t"], [None, None], [],
    ["宗艾镇", 140725100201.0, 12.5, None, True, datetime(2023, 1, 5)],  # not all texts: cell by cell
])
def test_text_columns_parsed_whole_agree_cell_for_cell(cells):
    _agrees("text", cells)


@pytest.mark.parametrize("seed", range(4))
def test_fuzzed_homogeneous_columns_agree(seed):
    """Columns of one type and blanks, as a CSV or a workbook gives them, where the whole-column
    paths apply, with now and then a cell that must send the column back to the cell-by-cell path."""
    rng = random.Random(seed)
    pools = {
        "str_numbers": ["12.5", "1000", "-3", "0", "7.25", "1,234", "-", "1.2.3", "+", "无", "１２"],
        "floats": [12.5, 1000.0, -3.0, 0.0, -0.0, 7, 10**9, 1e11, 1e16],
        "texts": ["宗艾镇", "开元煤矿项目", "县级", "-", "无", " 宗艾镇", "SY-001", "é¡¹ç›®", "140725100201.0"],
    }
    for _ in range(300):
        pool = rng.choice(list(pools.values()))
        common = pool[:4]
        cells = [rng.choice(pool) if rng.random() < 0.05 else (None if rng.random() < 0.2 else rng.choice(common))
                 for _ in range(rng.randint(0, 30))]
        for kind in ("money", "integer", "text"):
            _agrees(kind, cells)


def test_plain_columns_are_taken_whole(monkeypatch):
    """The whole-column paths fire: neither the per-cell parser nor per-cell type sorting runs."""
    def no(*args, **kwargs):
        raise AssertionError("per-cell parser called on a plain column")

    monkeypatch.setattr(values, "parse_value", no)
    monkeypatch.setattr(values, "_plain_text", no)
    got, odd = parse_column("money", ["12.5", None, "1000"], unit="亿元")
    assert got == [125000.0, None, 10000000.0] and odd == {1: EMPTY}
    got, odd = parse_column("integer", [3, None, 4.0])
    assert got == [3, None, 4] and all(type(v) is int for v in (got[0], got[2])) and odd == {1: EMPTY}
    got, odd = parse_column("text", ["宗艾镇", None, "SY-001"])
    assert got == ["宗艾镇", None, "SY-001"] and odd == {1: EMPTY}


# ------------------------------------------------------------------ CSV records

def _by_csv_module(data: bytes) -> list[list[object]]:
    text = data.decode("utf-8-sig")
    return [[c if c != "" else None for c in rec] for rec in csv.reader(io.StringIO(text, newline=""))]


@pytest.mark.parametrize("rows", [
    [["项目编号", "项目名称", "总投资"], ["SY-1", "造纸项目", "12.5"], ["SY-2", "", ""], [], ["SY-3", "供热", "3"]],
    [["项目编号", "项目名称", "备注"], ["SY-1", "造纸项目", "第一行\n第二行"], ["SY-2", "", "引号\"内\"容"]],
    [["项目编号", "项目名称", "备注"], ["SY-1", "造纸项目", "回车\r换行\r\n"], ["SY-2", "供热", ""]],
])
def test_csv_cells_are_those_of_the_csv_module(rows):
    data = csv_bytes(rows)
    grid = read_csv(data)[0]
    assert [cells for _, cells in grid.rows] == _by_csv_module(data)
    assert [number for number, _ in grid.rows] == list(range(1, len(grid.rows) + 1))


def test_a_csvs_cells_are_texts_and_blanks_alone():
    """What parse_file tells `parse_column` of a CSV's columns (`texts_only`): the bundled sample's
    CSVs, one with a line in another encoding and one with quoted line breaks."""
    grids = [read_csv(path.read_bytes())[0] for path in sorted((PROJECT_REFERENCE.parent / "raw").rglob("*.csv"))]
    grids.append(read_csv("项目编号,项目名称\nSY-1,造纸\n".encode() + "SY-2,供热\n".encode("gbk"))[0])
    grids.append(read_csv('项目编号,备注\nSY-1,"第一行\n第二行"\nSY-2,\n'.encode())[0])
    assert len(grids) > 20 and grids[-2].other_encoding
    assert {type(c) for g in grids for _, cells in g.rows for c in cells} == {str, type(None)}


def test_csv_problems_still_found_on_the_slow_path():
    header = "项目编号,项目名称,总投资,本年累计完成投资,建设状态\n"
    swallowed = (header + 'SY-1,"造纸项目,1,2,续建\nSY-2,供热,3,4,续建\nSY-3,燃气,5,6,续建\nSY-4,道路",7,8,续建\n')
    with pytest.raises(FileRejected, match="第2行某个单元格的双引号没有在本行闭合，其后的3行都被并进了这一个单元格"):
        read_csv(swallowed.encode())
    # only the records over several lines are looked at: one over two lines, after a plain one,
    # among headers over two lines (a unit under each header, as the sample writes them)
    two_lines = ('"项目编号\n",项目名称,"总投资\n（万元）",本年累计完成投资,建设状态\nSY-0,道路,1,2,续建\n'
                 'SY-1,"造纸项目,1,2,续建\nSY-2,供热,3,4,续建",5,6,续建\nSY-3,燃气,7,8,续建\n')
    with pytest.raises(FileRejected, match="第3行某个单元格的双引号没有在本行闭合，其后的1行都被并进了这一个单元格"):
        read_csv(two_lines.encode())
    assert len(read_csv(two_lines.replace("SY-2,供热,3,4,续建", "二期").encode())[0].rows) == 4
    with pytest.raises(FileRejected, match="第3行的引号没有闭合"):
        read_csv((header + 'SY-1,造纸,1,2,续建\nSY-2,"供热,3,4,续建\n').encode())
    with pytest.raises(FileRejected, match=r"第2行有一个单元格超过"):
        limit = csv.field_size_limit(10)
        try:
            read_csv((header + "SY-1," + "很" * 20 + ",1,2,续建\n").encode())
        finally:
            csv.field_size_limit(limit)


def _csv_module_records(lines: list[str]) -> tuple[list[list[str]], list[int]]:
    """What the csv module reads from the lines, record by record, with each record's first line."""
    reader = csv.reader(lines)
    records, first, consumed = [], [], 0
    for record in reader:
        records.append(record)
        first.append(consumed)
        consumed = reader.line_num
    return records, first


_PIECES = ["a", "寿阳", ",", ",", '"', '""', "\n", "\r", "\r\n", " ", "", "\x00", "x" * 40, "\u3000", "'"]


@pytest.mark.parametrize("seed", range(300))
def test_csv_records_are_those_of_the_csv_module_line_by_line(seed):
    """Quote-free lines split at their commas, a record starting on a line with a quote read by
    the csv module: the same records, the same first lines, on texts of quotes opened and closed
    over lines, quotes inside fields, blank lines, lone carriage returns, NUL, no final line break."""
    rng = random.Random(seed)
    text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 120)))
    lines = io.StringIO(text, newline="").readlines()
    records, first = read._records(lines)
    assert (records, list(first)) == _csv_module_records(lines)


def test_csv_records_beyond_the_field_limit_are_the_csv_module_s():
    """A quote-free line longer than the csv module's field limit is left to it: an error where a
    field is too long, the same record where the line is long but no field is."""
    limit = csv.field_size_limit(10)
    try:
        lines = ["a,bbbbbbbb,c\n", "dddd,eeee,ffff,gggg\n"]
        assert read._records(lines) == ([["a", "bbbbbbbb", "c"], ["dddd", "eeee", "ffff", "gggg"]], range(2))
        with pytest.raises(FileRejected, match="第2行有一个单元格超过10个字符"):
            read._records(["a\n", "x" * 11 + "\n"])
    finally:
        csv.field_size_limit(limit)


_UNQUOTED_PIECES = ["a", "寿阳", ",", ",,", "\n", "\r", "\r\n", " ", "", "\x00", "x" * 40, "\u3000",
                    "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029", "'", "\t"]


@pytest.mark.parametrize("seed", range(400))
def test_a_quote_free_file_is_split_at_once_into_the_records_of_its_lines(seed):
    """`_unquoted_records` (a file without a quote, split at once) gives exactly the records
    `_records` gives of its lines, or hands the file to it (None): lone carriage returns, blank
    lines, no final line break, and the line breaks `str.splitlines` knows and the csv module does
    not (form feed, NEL, U+2028), in the middle and at the very end."""
    rng = random.Random(seed)
    text = "".join(rng.choice(_UNQUOTED_PIECES) for _ in range(rng.randint(0, 120)))
    lines = io.StringIO(text, newline="").readlines()
    at_once = read._unquoted_records(text)
    if at_once is not None:
        assert at_once == read._records(lines)[0]
    else:
        assert any(c in text for c in read._OTHER_LINE_BREAKS)


def test_a_file_the_split_at_once_does_not_take_is_read_line_by_line(monkeypatch):
    assert read._unquoted_records("a,b\r\nc,d\r\n\r\ne") == [["a", "b"], ["c", "d"], [], ["e"]]
    assert read._unquoted_records("") == [] and read._unquoted_records("\n") == [[]]
    assert read._unquoted_records('a,"b"\n') is None  # a quote
    assert read._unquoted_records("a\x0cb\n") is None and read._unquoted_records("a,b\x85") is None  # other breaks
    assert read._unquoted_records("a,b\n" * 3) == [["a", "b"]] * 3
    monkeypatch.setattr(read, "MAX_CSV_LINES", 2)
    assert read._unquoted_records("a,b\n" * 3) is None  # too many lines: `read_csv` says so
    monkeypatch.setattr(read, "MAX_CSV_LINES", 200_000)
    monkeypatch.setattr(read, "MAX_COLUMNS", 3)
    assert read._unquoted_records("a,b,c\n") == [["a", "b", "c"]]
    assert read._unquoted_records("a,b,c,,\n") is None  # too wide: `_records` tells it, without its empty end
    assert read_csv("a,b,c,,\n".encode())[0].rows == [(1, ["a", "b", "c"])]
    with pytest.raises(FileRejected, match="第2行有4列"):
        read_csv("a\na,b,c,d\n".encode())
    limit = csv.field_size_limit(10)
    try:
        assert read._unquoted_records("a,bbbbbbbbb\n") is None  # as long as the field limit: the csv module's
        assert read._unquoted_records("a,bbbbbbb\n") == [["a", "bbbbbbb"]]
        with pytest.raises(FileRejected, match="第1行有一个单元格超过10个字符"):
            read_csv(("x" * 11 + "\n").encode())
    finally:
        csv.field_size_limit(limit)


def test_a_quote_free_file_is_read_without_its_lines(monkeypatch):
    """`read_csv` of a quote-free file takes the split at once (the lines are not made), and gives
    the grid the lines would: blanks None, record numbers, a row in another encoding still told."""
    made = []
    real = read._lines
    monkeypatch.setattr(read, "_lines", lambda text: made.append(1) or real(text))
    grid = read_csv("编号,名称\r\n1,寿阳\r\n\r\n2,\r\n".encode())[0]
    assert grid.rows == [(1, ["编号", "名称"]), (2, ["1", "寿阳"]), (3, []), (4, ["2", None])] and made == []
    mixed = "编号,名称\n".encode("gb18030") + "1,寿阳\n".encode() + "2,平头\n".encode("gb18030")
    grid = read_csv(mixed)[0]
    assert grid.encoding == "GBK" and grid.other_encoding == {2: "UTF-8"} and grid.rows[2] == (3, ["2", "平头"])
    assert made == [1]  # the lines only to place the row in the other encoding


def test_quote_free_lines_do_not_go_through_the_csv_module(monkeypatch):
    calls = []
    real = csv.reader
    monkeypatch.setattr(read.csv, "reader", lambda lines, *a, **k: calls.append(1) or real(lines, *a, **k))
    records, first = read._records(["编号,名称\n", "1,寿阳\n", '2,"平头,镇"\n', "3,宗艾\r\n"])
    assert records == [["编号", "名称"], ["1", "寿阳"], ["2", "平头,镇"], ["3", "宗艾"]] and first == range(4)
    assert len(calls) == 1  # the one line with a quote
    calls.clear()
    quoted = ['"编号","名称"\n', '"1","寿阳"\n', '"2","平头\n', '镇"\n', '"3","宗艾"\n', "4,无引号\n", '"5","马首"\n']
    records, first = read._records(quoted)
    assert records == [["编号", "名称"], ["1", "寿阳"], ["2", "平头\n镇"], ["3", "宗艾"], ["4", "无引号"], ["5", "马首"]]
    assert first == [0, 1, 2, 4, 5, 6]
    assert len(calls) == 1  # quoted throughout: one reader from the first quote to the end
    calls.clear()
    lines = [f"{i},寿阳\n" for i in range(40)]
    lines[3], lines[12] = '3,"平头,镇"\n', '12,"宗艾\n'
    lines[13] = '镇"\n'
    records, first = read._records(lines)
    assert (records, list(first)) == _csv_module_records(lines)
    assert len(calls) == 2 + 1  # a reader for each of the two quoted records (and the comparison's)


# ------------------------------------------------------------------ period: keys and frames

def _period(dataset: str, month: str):
    """One dataset-period of the bundled sample, read in place (no archive: nothing is written)."""
    from shouyang_pipeline.config import Settings
    from shouyang_pipeline.reference import Reference

    settings = Settings(PROJECT_REFERENCE.parent / "raw", Path("/nonexistent/w.duckdb"), Path("/nonexistent"),
                        Path("/nonexistent"), PROJECT_REFERENCE)
    return period.ingest_period(settings, dataset, month, Reference.load(PROJECT_REFERENCE), archive=False)


def test_frames_are_those_of_values_frame():
    result = _period("key_projects", "2023-02")  # four of its rows rejected
    rows = [row for o in result.files for row in o.rows]
    assert len(rows) > 20
    dataset = DATASETS["key_projects"]
    columns = {f.name: [r.values[f.name] for r in rows] for f in dataset.all_fields}
    pd.testing.assert_frame_equal(values_frame(dataset, columns, len(rows)),
                                  _values_frame_per_row(dataset, [dict(r.values) for r in rows]), check_exact=True)
    loaded = [r for o in result.files if not o.rejection for r in o.rows if not r.is_rejected]
    assert len(result.staging) == len(loaded) and list(result.staging["source_row"]) == [r.number for r in loaded]
    assert len(loaded) < len(rows)  # some rows rejected: the staging frame leaves their values out
    frame = _values_frame_per_row(dataset, [dict(r.values) for r in loaded])
    pd.testing.assert_frame_equal(result.staging[frame.columns].reset_index(drop=True), frame, check_exact=True)
    pd.testing.assert_frame_equal(values_frame(dataset, {f.name: [] for f in dataset.all_fields}, 0),
                                  _values_frame_per_row(dataset, []))


def test_a_rows_values_are_its_files_columns():
    result = _period("key_projects", "2023-03")
    o = next(o for o in result.files if len(o.rows) > 3)
    row = o.rows[2]
    assert set(row.values) == {f.name for f in DATASETS["key_projects"].all_fields} == set(o.parsed.columns)
    assert row.values["project_code"] == o.parsed.columns["project_code"][2] == row.values.get("project_code")
    assert row.values.get("no_such_column", "none") == "none" and "no_such_column" not in row.values
    row.values["project_name"] = "改过的名称"
    assert o.parsed.columns["project_name"][2] == "改过的名称" and o.rows[1].values["project_name"] != "改过的名称"
    assert dict(row.values) == {name: column[2] for name, column in o.parsed.columns.items()}


def _values_frame_per_row(dataset, rows):
    """The frame of rows' values built row by row, as it was before ingest kept its values in columns."""
    return pd.DataFrame({f.name: pd.Series([r.get(f.name) for r in rows], dtype=PANDERA_DTYPES.get(f.kind, "object"))
                         for f in dataset.all_fields})


class _Row:
    def __init__(self, n: int, values: dict):
        self.number, self.values = n, values


@pytest.mark.parametrize("key", [("project_code",), ("township", "village_name")])
def test_repeated_keys_are_the_groups_of_whole_keys(key):
    rng = random.Random(7)
    choices = ["A", "B", "C", "", None, 1, 1.0, float("nan")]
    rows = [_Row(i, {k: rng.choice(choices) for k in key}) for i in range(400)]
    want: dict[tuple, list] = {}
    for r in rows:
        k = tuple(r.values.get(name) for name in key)
        if all(v is not None and v != "" for v in k):
            want.setdefault(k, []).append(r)
    want = {k: g for k, g in want.items() if len(g) > 1}
    got = period._repeated_keys(key, rows, {name: [r.values.get(name) for r in rows] for name in key})
    assert {k: [r.number for r in g] for k, g in got.items()} == {k: [r.number for r in g] for k, g in want.items()}
    assert got and all(isinstance(k, tuple) and len(k) == len(key) for k in got)


def test_blanks_become_none_and_nothing_else_does():
    from shouyang_pipeline.ingest.read import _blanks_to_none

    wide = [""] * 16384  # a row as wide as a sheet, every cell blank
    wide[16383] = "末列"
    rows = [["", "a", "", 0, False, 0.0, None, " ", ""], wide, [], ["x"]]
    _blanks_to_none(rows)
    assert rows[0] == [None, "a", None, 0, False, 0.0, None, " ", None]
    assert type(rows[0][4]) is bool and type(rows[0][3]) is int  # 0 and False are values, not blanks
    assert rows[1][:16383] == [None] * 16383 and rows[1][16383] == "末列"
    assert rows[2:] == [[], ["x"]]


# ------------------------------------------------------------------ the garbage collector held off

def test_ingest_holds_the_collector_off_and_gives_it_back(monkeypatch):
    import gc

    seen = []
    real = period._canonicalise

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(period, "_canonicalise", spy)
    assert gc.isenabled()
    _period("key_projects", "2023-03")
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:  # a caller that holds it off itself keeps it off
        _period("key_projects", "2023-03")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_released_rows_are_freed_without_the_collector():
    import gc
    import weakref

    def files_of(release: bool) -> list:
        result = _period("key_projects", "2023-03")
        assert sum(len(o.rows) for o in result.files) > 20
        parsed = [weakref.ref(o.parsed) for o in result.files if o.parsed is not None]
        staging = result.staging
        if release:
            result.release()
        del result
        assert len(staging) > 20  # the frames are what a release keeps
        return parsed

    gc.disable()
    try:
        assert all(p() is None for p in files_of(release=True))  # freed as soon as dropped
        assert all(p() is not None for p in files_of(release=False))  # a row and its file hold each other
    finally:
        gc.enable()
        gc.collect()


def test_credit_codes_remembered_are_stdnum_s_answer():
    from stdnum.cn import uscc

    from shouyang_pipeline.catalog.rules import CreditCode

    codes = ["91140725MA0P7AKM1P", "91140725MA0P7AKM1Q", "9114072SMA0P7AKM1P", "", "91140725MA0P7AKM1", None]
    series = pd.Series(codes * 3, dtype="object")
    got = CreditCode().check(series.dropna(), None)
    assert list(got) == [uscc.is_valid(c) for c in series.dropna()]
    assert got.any() and not got.all()


def test_a_table_without_plain_codes_is_not_looked_through_for_them(monkeypatch):
    """A table whose codes are not plain (its names spaced with U+3000) is told row by row as
    before, and costs the quick path no more than the rows near its two ends."""
    asked = []
    real = layout._all_surely_data
    monkeypatch.setattr(layout, "_all_surely_data", lambda rows, columns: asked.append(len(rows)) or real(rows, columns))
    rows = [[str(i), "宗艾\u3000镇", f"村{i}", "12.5"] for i in range(1, 5001)]
    assert row_kinds(rows, data_columns={1, 2, 3}) == [None] * len(rows)
    assert len(asked) <= layout.PLAIN_SPAN_EDGE
    rows[0:0] = [["合计", None, None, "9"]] * (layout.PLAIN_SPAN_EDGE + 1)  # plain rows beyond the edge: row by row
    rows += [[str(i), f"SY-{i}", "造纸", "1"] for i in range(3)]
    assert row_kinds(rows, data_columns={1, 2, 3}) == kinds_row_by_row(rows, {1, 2, 3})


def test_the_staging_rows_taken_from_the_checked_values_are_those_made_again(tmp_path, monkeypatch):
    """`_staging_frame` takes the loaded rows from the values `_apply_rules` checked (the values it
    dropped dropped there too, after every rule was told) instead of making a frame of the
    columns again: every dataset-period of the bundled sample (its planted errors: rejected rows,
    optional values dropped, duplicate keys, files sent back whole), and a file with a money and a
    text of loaded rows dropped, give the same staging rows, dtypes and problems both ways."""
    import shutil

    import pandas as pd

    from shouyang_pipeline.config import Settings
    from shouyang_pipeline.ingest import period as ingest
    from shouyang_pipeline.ingest.discover import raw_files
    from shouyang_pipeline.reference import Reference
    from conftest import IO_HEADER, PROJECT_REFERENCE, SAMPLE_CLOCK, write_csv

    shutil.copytree(PROJECT_REFERENCE.parent / "raw", tmp_path / "raw")
    write_csv(tmp_path / "raw" / "industrial_output" / "2023-02__统计局.csv",
              [IO_HEADER, ["91140725MA0K2X3Y4P", "甲企业", "造纸产业链", "平头镇", "10", "8", "-5", "是"],
               ["91110000100000000R", "乙企业", "不存在的链", "平头镇", "12", "9", "30", "否"]])
    settings = Settings(tmp_path / "raw", tmp_path / "w.duckdb", tmp_path / "exports", tmp_path / "archive",
                        PROJECT_REFERENCE, clock=SAMPLE_CLOCK)
    reference = Reference.load(settings.reference_dir)
    keys = sorted({f.dataset_period for f in raw_files(settings) if f.dataset_period})
    real, made = ingest._staging_frame, ingest.values_frame
    frames_made: list[int] = []  # frames of values made by an ingest_period
    monkeypatch.setattr(ingest, "values_frame", lambda *a: frames_made.append(1) or made(*a))
    dropped, reused = None, 0
    for dataset, month in keys:
        frames_made.clear()
        taken = ingest.ingest_period(settings, dataset, month, reference, archive=False)
        once = len(frames_made)
        monkeypatch.setattr(ingest, "_staging_frame", lambda d, p, outcomes, loaded=None: real(d, p, outcomes))
        frames_made.clear()
        again = ingest.ingest_period(settings, dataset, month, reference, archive=False)
        monkeypatch.setattr(ingest, "_staging_frame", real)
        if len(taken.staging) and dataset != "village_income":  # (a row check: made again)
            assert (once, len(frames_made)) == (1, 2), (dataset, month)
            reused += 1
        pd.testing.assert_frame_equal(taken.staging, again.staging, check_exact=True)
        for name in ("rejected", "warnings", "log"):
            pd.testing.assert_frame_equal(getattr(taken, name), getattr(again, name), check_exact=True)
        if (dataset, month) == ("industrial_output", "2023-02"):
            mine = taken.staging[taken.staging["source_file"] == "industrial_output/2023-02__统计局.csv"]
            dropped = (mine["output_value_ytd"].isna().tolist(), mine["industry_chain"].isna().tolist())
    assert len(keys) > 60 and reused > 50
    assert dropped == ([True, False], [False, True])  # a money and a text dropped, each row loaded
