"""Declared rules are objects: each built-in kind keeps its texts, and a new kind is one class.

The new kind below is declared here only: nothing in `ingest` knows it, yet its values are
canonicalised, checked by the pandera schema and mapped back to the rule, as the built-in ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pandas as pd
import pytest

from shouyang_pipeline.catalog import rules as codes
from shouyang_pipeline.catalog.datasets import Dataset, Field
from shouyang_pipeline.catalog.rules import (
    ColumnComparison, Rule, credit_code, digits, ge0, ge_col, gt0, le_col, lookup, max_len, one_of,
)
from shouyang_pipeline.ingest.period import _canonicalise
from shouyang_pipeline.ingest.validate import pandera_schema, rule_failures, values_frame
from shouyang_pipeline.reference import Reference


@pytest.mark.parametrize("rule, code, reason, described", [
    (gt0(), "not_positive", "{header}必须大于0（当前值：{value}）", "大于0"),
    (ge0(), "negative", "{header}不能为负数（当前值：{value}）", "不小于0"),
    (max_len(32), "too_long", "{header}不能超过32个字符（当前值：{value}）", "不超过32个字符"),
    (one_of("省级", "市级", synonyms={"省重点": "省级"}), "not_in_list",
     "{header}只能填写省级、市级之一（当前值：{value}）", "取值：省级、市级（省重点视同省级）"),
    (one_of("竣工"), "not_in_list", "{header}只能填写竣工之一（当前值：{value}）", "取值：竣工"),
    (lookup("zones", "园区"), "not_in_list", "{header}“{value}”不在园区名录中，请核对名称", "须在参考名录 zones 中"),
    (le_col("total_investment"), "out_of_range",
     "{header}不能大于{other}（当前值：{value}{unit}，{other}：{other_value}{other_unit}）", "不大于 total_investment"),
    (ge_col("operating_income"), "out_of_range",
     "{header}不能小于{other}（当前值：{value}{unit}，{other}：{other_value}{other_unit}）", "不小于 operating_income"),
    (credit_code(), "bad_credit_code",
     "{header}“{value}”不是有效的18位统一社会信用代码（长度或校验位错误），请核对营业执照",
     "18位统一社会信用代码，校验位正确（GB 32100-2015）"),
    (digits(12), "bad_code", "{header}应为12位数字（当前值：{value}）", "12位数字"),
])
def test_built_in_rules_keep_their_texts(rule, code, reason, described):
    assert (rule.code, rule.reason, rule.describe()) == (code, reason, described)
    assert rule.name == codes.RULE_NAMES[code]


def test_which_rules_canonicalise_and_compare():
    assert [r.canonicalises for r in (one_of("a"), lookup("zones", "园区"), credit_code())] == [True] * 3
    assert [r.canonicalises for r in (gt0(), ge0(), max_len(3), digits(3), le_col("x"))] == [False] * 5
    assert [r.is_comparison for r in (le_col("x"), ge_col("x"), gt0(), one_of("a"))] == [True, True, False, False]
    assert le_col("total_investment").other == "total_investment"


@dataclass(frozen=True)
class Even(Rule):
    """A made-up kind: an even number."""

    code = codes.OUT_OF_RANGE
    reason = "{header}应为偶数（当前值：{value}）"

    def describe(self) -> str:
        return "偶数"

    def check(self, series, reference):
        return series % 2 == 0


@dataclass(frozen=True)
class Letter(Rule):
    """A made-up kind that canonicalises: one of `letters`, in upper case."""

    letters: str
    code = codes.NOT_IN_LIST

    @property
    def reason(self) -> str:
        return "{header}只能是" + self.letters + "中的一个字母（当前值：{value}）"

    def describe(self) -> str:
        return f"{self.letters}之一"

    def check(self, series, reference):
        return series.isin(set(self.letters))

    def canonical(self, value, reference):
        return value.upper() if isinstance(value, str) else value


@dataclass(frozen=True)
class AtMostTwice(ColumnComparison):
    """A made-up comparison: at most twice column `other`."""

    code = codes.OUT_OF_RANGE
    reason = "{header}不能超过{other}的两倍（当前值：{value}，{other}：{other_value}）"

    def describe(self) -> str:
        return f"不超过 {self.other} 的两倍"

    def compare(self, a, b):
        return a <= 2 * b


MADE_UP = Dataset(
    name="made_up", title="试验表", department="县政府办", cadence="monthly", description="只在本测试中使用",
    key=("n",),
    fields=(
        Field("n", "数量", "integer", "偶数", required=True, rules=(Even(),)),
        Field("cap", "上限", "integer", "上限"),
        Field("used", "用量", "integer", "不超过上限的两倍", rules=(AtMostTwice("cap"),)),
        Field("letter", "字母", "text", "A或B", rules=(Letter("AB"),)),
    ),
)


def test_a_new_rule_kind_is_one_class():
    files = [{"n": [2, 3], "cap": [5, 5], "used": [10, 11], "letter": ["a", "c"]},
             {"n": [None], "cap": [None], "used": [7], "letter": [None]}]  # NULLs pass every rule
    _canonicalise(MADE_UP, files, Reference())
    assert [f["letter"] for f in files] == [["A", "C"], [None]]

    schema = pandera_schema(MADE_UP, Reference())
    assert [c.name for c in schema.columns["n"].checks] == ["n#0"]
    assert [c.name for c in schema.checks] == ["used#0"]  # a comparison checks the frame
    columns = {f.name: files[0].get(f.name, [None] * 2) + files[1].get(f.name, [None]) for f in MADE_UP.all_fields}
    frame = values_frame(MADE_UP, columns, 3)
    before = frame.copy()
    failures = rule_failures(MADE_UP, frame, Reference())
    assert [(position, f.name, rule) for position, f, rule in failures] == [
        (1, "letter", Letter("AB")), (1, "n", Even()), (1, "used", AtMostTwice("cap"))]
    # pandera checks the frame in place (no copy): it must leave it as it was (a schema that coerced
    # or added a column would change it here): values, types, columns, index
    pd.testing.assert_frame_equal(frame, before)
    assert [rule.name for _, _, rule in failures] == ["取值不在规定范围或名录中", "数值超出允许范围", "数值超出允许范围"]


def test_canonicalising_keeps_blanks_and_values_it_does_not_know():
    files = [{"n": [2], "letter": ["a"]}, {"n": [4, 5], "letter": [None, None]},
             {"n": [6, 8, 10], "letter": ["B", 1.5, "a"]}]
    _canonicalise(MADE_UP, files, Reference())
    assert [f["letter"] for f in files] == [["A"], [None, None], ["B", 1.5, "A"]]
    assert [f["n"] for f in files] == [[2], [4, 5], [6, 8, 10]]  # a column without such a rule as it was


def test_equal_spellings_across_files_are_canonicalised_once_and_stay_one_object():
    calls = []

    @dataclass(frozen=True)
    class Counted(Letter):
        def canonical(self, value, reference):
            calls.append(value)
            return super().canonical(value, reference)

    counted = Dataset(name="counted", title="试验表", department="县政府办", cadence="monthly", description="只在本测试中使用",
                      key=("letter",), fields=(Field("letter", "字母", "text", "A或B", rules=(Counted("AB"),)),))
    a1, a2 = "ax", "".join(["a", "x"])
    assert a1 == a2 and a1 is not a2
    files = [{"letter": [a1, "b", a1]}, {"letter": [a2, None]}]
    _canonicalise(counted, files, Reference())
    assert files == [{"letter": ["AX", "B", "AX"]}, {"letter": ["AX", None]}]
    assert calls == ["ax", "b", None]  # each spelling once, over both files, in row order
    assert files[0]["letter"][0] is files[1]["letter"][0]


def test_a_credit_codes_canonical_form_is_stdnums_compact_form():
    """The shortcut for a code already written as it should be gives what python-stdnum gives."""
    from stdnum.cn import uscc

    rule = credit_code()
    for written in ("91140725MA0K6XYB3N", "91140725ma0k6xyb3n", "9114 0725-MA0K6XYB3N", "９１140725MA0K6XYB3N",
                    "91140725MA0K6XYB3", "91140725MA0K6XYB3N ", "911407250000000000", "91140725MA0K6XYB3Ｎ"):
        compact = uscc.compact(written)
        assert rule.canonical(written, None) == (compact if len(compact) == 18 else written), written


def test_a_comparison_passes_a_row_of_nulls_by_itself():
    """pandera's ignore_na is off for the comparisons (`validate._check`): a row whose every value
    is NULL must pass each comparison of the catalogue (and of a new kind, `AtMostTwice`) by the
    rule's own test, and a frame of such rows has no failure."""
    from shouyang_pipeline.catalog.datasets import DATASETS

    checked = 0
    for dataset in [*DATASETS.values(), MADE_UP]:
        frame = values_frame(dataset, {f.name: [None] * 3 for f in dataset.all_fields}, 3)
        for f in dataset.all_fields:
            for rule in f.rules:
                if rule.is_comparison:
                    assert rule.frame_check(frame, f.name).tolist() == [True] * 3, (dataset.name, f.name, rule)
                    checked += 1
        assert rule_failures(dataset, frame, Reference(), "2023-06") == []
    assert checked >= 5
    schema = pandera_schema(MADE_UP, Reference())
    assert [c.ignore_na for c in schema.checks] == [False]
    assert all(c.ignore_na for c in schema.columns["n"].checks)
