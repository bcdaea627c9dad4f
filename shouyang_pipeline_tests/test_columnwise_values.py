"""Column-wise parsing (`values.parse_column`) gives, cell for cell, what the per-cell parser
(`values.parse_value`) gives: the same value of the same type (0.0 and -0.0, 1 and 1.0 told
apart), EMPTY where it says EMPTY, the same rule and reason where it finds a problem. The fast
paths decide whole columns at once and must never decide a cell differently."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

import pytest

from shouyang_pipeline.ingest.values import (
    EMPTY, CellProblem, cell_types, is_empty, parse_column, parse_number, parse_numbers, parse_value,
)

KINDS = ("money", "integer", "percent", "date", "boolean", "text")


def _same(a: object, b: object) -> bool:
    if a is EMPTY or b is EMPTY:
        return a is b
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b)  # -0.0 is not 0.0; nan is nan
    return a == b


def _columnwise(kind: str, cells: list, unit: str, percent: set[int]) -> list:
    values, odd = parse_column(kind, cells, unit=unit, percent_formatted=percent)
    assert len(values) == len(cells)
    assert set(odd) <= set(range(len(cells)))
    for i, result in odd.items():
        assert values[i] is None
        assert result is EMPTY or isinstance(result, CellProblem)
    got = [odd.get(i, v) for i, v in enumerate(values)]
    if all(c is None or type(c) is str for c in cells):  # a CSV's column: read the same, told it holds only texts
        values, odd = parse_column(kind, cells, unit=unit, percent_formatted=percent, texts_only=True)
        as_texts = [odd.get(i, v) for i, v in enumerate(values)]
        assert all(_same(a, b) for a, b in zip(got, as_texts)), (cells[:5], got[:5], as_texts[:5])
    return got


@pytest.mark.parametrize("cells", [[], [None], [None] * 3, ["a"], ["a", None, "b"], ["", None], ["x"] * 4])
def test_the_types_of_a_column_of_texts_are_counted_as_they_are(cells):
    assert cell_types(cells, texts_only=True) == set(map(type, cells)) == cell_types(cells)
    assert cell_types(tuple(cells), texts_only=True) == set(map(type, cells))


_PER_CELL: dict[tuple, object] = {}


def _per_cell(kind: str, cell: object, unit: str, percent: bool) -> object:
    """`parse_value` of the cell, each (kind, type, spelling, unit, format) once a session."""
    key = (kind, type(cell), repr(cell), unit, percent)
    if key not in _PER_CELL:
        _PER_CELL[key] = parse_value(kind, cell, unit=unit, percent_formatted=percent)
    return _PER_CELL[key]


def assert_agrees(kind: str, cells: list, *, unit: str = "万元", percent: set[int] = frozenset()) -> None:
    got = _columnwise(kind, cells, unit, percent)
    want = [_per_cell(kind, c, unit, i in percent) for i, c in enumerate(cells)]
    bad = [(i, cells[i], g, w) for i, (g, w) in enumerate(zip(got, want)) if not _same(g, w)]
    assert not bad, f"{kind}: column-wise differs from per-cell at {bad[:5]}"


# Every kind of cell a clerk's file has been seen to hold, and some it should never hold.
TRICKY = [
    None, "", " ", "\u3000", "-", "—", "——", "--", "/", "／", "无", " - ", "\u200b", "\u200b-\u200b", "\ufeff无",
    # numbers: plain, signed, full-width, thousands, units written in, spaces and invisible characters
    "0", "-0", "+0", "0.0", "-0.0", "00012", "12.", ".5", "-.5", "+5", "1234.5", "-200", " 1234.5 ",
    "\u30001234.5\u3000", "１２３．５", "１，２３４", "1,234,567.8", "1,23,4", "12,345", "1.2.3", "+-1", "1-2",
    "12万", "12万元", "12元", "暂无", "约10", "1e5", "1E5", "1e308", "1e309", "-1e309", "inf", "-inf", "nan",
    "NaN", "1_000", "١٢٣", "12\u200b", "1 2", "9" * 400, "0." + "0" * 400 + "1", "123456789", "1000000000",
    "1000000001", "999999999.0", "12.5", "10000000000", "10000000000.0001", "99999999999",
    # floats, ints and the rest as a workbook gives them
    0.0, -0.0, 1.0, 12.0, 12.5, -200.0, 1e308, 1e10, 1e10 + 1e-6, -1e10, 1e9, 1e9 + 1, 2.5, 0.106, math.inf,
    -math.inf, math.nan, 140725100201.0, 0, 1, -1, 12, 10**9, 10**9 + 1, 10**20, True, False,
    # percentages
    "10.6%", "10.6", "１０．６％", "10.6％", "%", "-5%", "10000%", "10001", " 9.5 % ",
    # dates: text in every style, Excel dates, serials
    "2023-03-15", "2023/3/5", "2023.3.5", "2023年3月", "2023年3月15日", "2023-02-30", "2023年13月", "1899-12-31",
    "2101-01-01", "２０２３－０３－１５", "2023-3-15 ", "2023-03-15 00:00:00", "45000", 45000.0, 45000,
    datetime(2023, 3, 15), datetime(2023, 3, 15, 10, 30), datetime(1800, 1, 1), date(2023, 3, 15),
    # booleans
    "是", "否", "√", "✓", "✔", "×", "✗", "对", "Y", "y", "N", "yes", "No", "TRUE", "false", "1", "0", "待定", " 是 ",
    # text: names, codes written as numbers, blanks around, invisible and blank-looking characters
    "ab", "abc", "项目", "项目名称", " 项目名称", "项目名称 ", "\u3000项目名称\u3000", "项目\u200b名称", "项\u3164目",
    "\u3164", "ㅤㅤㅤ", "SY2023-001", "ＳＹ２０２３－００１", "140725100201.0", "140725100201.00", "1.0", "12.50",
    "a\tb", "a\nb", "line\r\n", "\x00abc", "abc\x7f", "é¡¹ç›®", "椤圭洰鍚嶇О", "锟斤拷", "abc\ufffd", "x" * 32767,
    "x" * 32768, "中" * 40000, "   abc", "abc   ", "a  b", "\u00a0abc", "abc\u00a0", "\u2028abc",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("unit", ["万元", "元", "亿元"])
def test_tricky_cells_agree(kind, unit):
    assert_agrees(kind, TRICKY, unit=unit)


@pytest.mark.parametrize("kind", KINDS)
def test_tricky_cells_agree_percent_formatted(kind):
    # every other cell formatted as a percentage, as a workbook's number format marks it
    assert_agrees(kind, TRICKY, percent=set(range(0, len(TRICKY), 2)))


@pytest.mark.parametrize("kind", KINDS)
def test_each_tricky_cell_alone_and_among_plain_ones(kind):
    """A column that is all plain but for one cell (the fast path decides the column at once,
    then finds the one cell), at the start, in the middle and at the end."""
    plain = {"money": "1234.5", "integer": "12", "percent": "10.6", "date": "2023-03-15", "boolean": "是",
             "text": "县城智慧停车场项目"}[kind]
    for cell in TRICKY:
        assert_agrees(kind, [cell])
        assert_agrees(kind, [cell, plain, plain])
        assert_agrees(kind, [plain, cell, plain])
        assert_agrees(kind, [plain, plain, cell])


def test_plain_columns_are_decided_whole():
    money = ["1234.5", "-200", "0", "12", "3.25"] * 200
    values, odd = parse_column("money", money, unit="元")
    assert not odd and values[:2] == [1234.5 * 0.0001, -200 * 0.0001]
    values, odd = parse_column("integer", ["12", 3.0, 7] * 100)
    assert not odd and values[:3] == [12, 3, 7] and all(type(v) is int for v in values)
    values, odd = parse_column("text", ["县城智慧停车场项目", "SY2023-001", "140725100201.0", 140725100201.0, None])
    assert values == ["县城智慧停车场项目", "SY2023-001", "140725100201", "140725100201", None] and odd == {4: EMPTY}


@pytest.mark.parametrize("kind", ["money", "integer", "percent"])
def test_an_int_too_large_for_a_float_fails_alike(kind):
    """No reader gives such an int (a workbook's numbers are floats); if one did, both ways fail alike."""
    with pytest.raises(OverflowError):
        parse_value(kind, 10**400)
    with pytest.raises(OverflowError):
        parse_column(kind, ["12", 10**400])


def test_problems_keep_their_rule_and_reason():
    values, odd = parse_column("money", ["12", "暂无", None, "1e309", "9" * 20])
    assert values == [12.0, None, None, None, None]
    assert odd[1].rule == "not_a_number" and odd[2] is EMPTY
    assert odd[3] == parse_value("money", "1e309") and odd[3].rule == "not_a_number"
    assert odd[4] == parse_value("money", "9" * 20) and odd[4].rule == "out_of_range"
    assert "100万亿元" in odd[4].reason


# The long columns a department's file has: a spelling repeated down the column (a status, a
# township, a date, a yes/no mark: decided once a distinct cell) or a text on every row that differs
# from every other (a code, a name: decided at once when every one is plain).
PLAIN = {"money": "1234.5", "integer": "12", "percent": "10.6", "date": "2023-03-15", "boolean": "是",
         "text": "县城智慧停车场项目"}


def _distinct_cells(kind: str) -> list[str]:
    """280 cells of the kind, no two alike: codes, amounts, counts, percentages, dates."""
    return {"text": [f"SY2023-{i:06d}" for i in range(280)], "money": [f"{i}.25" for i in range(280)],
            "integer": [str(i) for i in range(280)], "percent": [f"{i / 10}%" for i in range(280)],
            "date": [(date(2023, 1, 1) + timedelta(days=i)).isoformat() for i in range(280)],
            "boolean": ["是", "否"] * 140}[kind]


def _long_columns(kind: str, cell: object, rng: random.Random) -> list[list]:
    """A tricky cell among 70 cells of one repeated spelling (or of two, with blanks between), and
    among 280 distinct ones: at the start, within the first 256 (what a column is judged by) and after."""
    repeated = [rng.choice(["续建", "竣工", "2023年3月", "是", "否", "12", "10.6%"]) for _ in range(70)]
    with_blanks = [None if rng.random() < 0.4 else rng.choice(["宗艾镇", "平舒乡"]) for _ in range(70)]
    out = []
    for column in (repeated, with_blanks, _distinct_cells(kind)):
        for at in (0, 65, len(column) - 1):
            out.append(column[:at] + [cell] + column[at:])
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_long_columns_agree(kind):
    rng = random.Random(5)
    for cell in TRICKY:
        for column in _long_columns(kind, cell, rng):
            assert_agrees(kind, column)
    # the same with number formats on some cells (they tell only how a number cell reads)
    for cell in TRICKY[::7]:
        for column in _long_columns(kind, cell, rng):
            assert_agrees(kind, column, percent=set(range(0, len(column), 3)))


def test_long_columns_are_told_by_their_distinct_cells():
    """A long column of repeated spellings gives each cell the one value of its spelling, and the
    blanks and problems are found where they are."""
    levels = ["省级", "县级", None, "续 建", "\u3000县级"] * 100
    values, odd = parse_column("text", levels)
    assert values[:5] == ["省级", "县级", None, "续 建", "县级"] and len(values) == 500
    assert set(odd) == set(range(2, 500, 5)) and all(v is EMPTY for v in odd.values())
    marks = ["是", "否", None, "待定"] * 50
    values, odd = parse_column("boolean", marks)
    assert values[:4] == [True, False, False, None]
    assert set(odd) == set(range(3, 200, 4)) and odd[3].rule == "not_a_boolean"
    dates = ["2023年3月", "2023-02-30", None] * 40
    values, odd = parse_column("date", dates)
    assert values[0] == date(2023, 3, 1) and values[1] is None
    assert {i for i, r in odd.items() if r is EMPTY} == set(range(2, 120, 3))
    assert {i for i, r in odd.items() if r is not EMPTY} == set(range(1, 120, 3))
    codes = [f"SY2023-{i:06d}" for i in range(300)] + [None, "x" * 32768]
    values, odd = parse_column("text", codes)
    assert values[:300] == codes[:300] and odd[300] is EMPTY and odd[301].rule == "out_of_range"


def test_equal_spellings_share_one_value():
    """Each spelling of a column decided by its distinct cells is one object in every row it is
    in (the checks after hash and compare it once, and a worker's result pickles it once), also
    when every spelling is its own value (two-character levels and statuses)."""
    column = ["".join(["续", "建"]) if i % 2 else "".join(["省", "级"]) for i in range(600)]
    values, _ = parse_column("text", column)
    assert values == column and len(set(map(id, values))) == 2


def _fuzz_cell(rng: random.Random) -> object:
    pick = rng.random()
    if pick < 0.1:
        return rng.choice([None, True, False, rng.randint(-10**12, 10**12), rng.uniform(-1e12, 1e12),
                           float(rng.randint(-10**6, 10**6)), datetime(rng.randint(1800, 2200), 1, 1)])
    alphabet = "0123456789" * 4 + ".,+-%eE年月日/： \u3000\u200b０１２３．，％－是否无√YNyn项目名称ㅤ\ufeff\t"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


@pytest.mark.parametrize("seed", range(6))
def test_fuzzed_columns_agree(seed):
    rng = random.Random(seed)
    for _ in range(40):
        cells = [_fuzz_cell(rng) for _ in range(rng.randint(1, 60))]
        pct = {i for i in range(len(cells)) if rng.random() < 0.3}
        for kind in KINDS:
            assert_agrees(kind, cells, unit=rng.choice(["万元", "元", "亿元"]), percent=pct)


def test_random_numbers_agree_to_the_last_bit():
    """float() reads the plain digits; every digit string, long or short, as the per-cell parser reads it."""
    rng = random.Random(7)
    cells = [f"{rng.uniform(-1e7, 1e7):.{rng.randint(0, 8)}f}" for _ in range(3000)]
    cells += ["".join(rng.choice("0123456789") for _ in range(rng.randint(1, 30))) + "."
              + "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 30))) for _ in range(1000)]
    for unit in ("万元", "元", "亿元"):
        assert_agrees("money", cells, unit=unit)
    assert_agrees("integer", cells)


def test_parse_numbers_is_the_totals_reading():
    cells = TRICKY + [_fuzz_cell(random.Random(i)) for i in range(300)]
    got = parse_numbers(cells)
    want = [EMPTY if is_empty(c) else parse_number(c) for c in cells]
    assert all(_same(g, w) for g, w in zip(got, want))


def test_parse_numbers_of_plain_columns():
    """Columns of nothing but plain numbers and blanks (read at once) give what each cell gives."""
    columns = [["1234.5", None, "-200", "0", "12.", ".5", "9" * 400], [1.0, -0.0, None, 12, 2.5],
               [1.0, math.inf, None], [1.0, math.nan], ["1", "-"], [None, None], ["+-1", "2"], [True, 1.0]]
    for cells in columns:
        got = parse_numbers(cells)
        want = [EMPTY if is_empty(c) else parse_number(c) for c in cells]
        assert all(_same(g, w) for g, w in zip(got, want)), cells


def test_reads_as_written_never_hides_garbled_text():
    """The quick test that lets a column of Chinese names skip `garbled_reading` says True only
    where `garbled_reading` finds nothing."""
    from shouyang_pipeline.ingest.parse import garbled_reading, reads_as_written

    samples = ["寿阳县朝阳镇农产品冷链仓储项目", "项目名称（二期）", "朝阳镇：集中供热改造项目 SY-9", "羊头崖乡",
               "椤圭洰鍚嶇О", "锟斤拷", "é¡¹ç›®", "abc", "×", "—“”", "涓浗", "鍚嶇О", "项目\ufffd", "黑水村", "宗爱镇"]
    for text in samples:
        if reads_as_written(text):
            assert garbled_reading.__wrapped__(text) is None, text
    # mojibake of every kind of Chinese text is caught by the full check, never passed over
    for meant in ["项目名称", "寿阳县朝阳镇", "县城智慧停车场项目", "平头融合发展区"]:
        for wrong in (meant.encode("utf-8").decode("gb18030", errors="replace"),
                      meant.encode("utf-8").decode("cp1252", errors="replace")):
            if garbled_reading.__wrapped__(wrong) is not None:
                assert not reads_as_written(wrong), wrong
    rng = random.Random(3)
    alphabet = "项目名称寿阳县朝阳镇椤圭洰鍚嶇О锟斤拷涓浗×—“”、（）ａＡ１ab1 -é¡¹ç›®鍖栧伐"
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10)))
        if reads_as_written(text):
            assert garbled_reading.__wrapped__(text) is None, text
