"""SUBMISSIONS.md 3: every accepted form of every kind, and what empty means."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from shouyang_pipeline.ingest.values import EMPTY, CellProblem, parse_value
from shouyang_pipeline_tests.conftest import (
    CREDIT_CODES, IO_HEADER, KP_HEADER, assert_consistent_counts, kp_row, write_csv, write_xlsx,
)


@pytest.mark.parametrize("raw, unit, expected", [
    ("1234.5", "万元", 1234.5),
    (" 1234.5 ", "万元", 1234.5),
    ("１２３．５", "万元", 123.5),
    ("1,234,567.8", "万元", 1234567.8),
    ("１，２３４", "万元", 1234),
    (1234, "万元", 1234),
    (2.5, "亿元", 25000),
    ("12,345", "元", 1.2345),
    ("0", "万元", 0),
    ("-200", "万元", -200),
    ("\u3000300\u3000", "万元", 300),
    ("1 234 567.8", "万元", 1234567.8),  # a space between groups of three digits: a thousands separator
    ("-1\u3000200", "万元", -1200),
    ("- 5", "万元", -5), ("+ 1,234", "万元", 1234), ("-\u30001 000.5", "万元", -1000.5),  # a space after the sign
])
def test_money_forms(raw, unit, expected):
    assert parse_value("money", raw, unit=unit) == pytest.approx(expected)


@pytest.mark.parametrize("raw", ["暂无", "1,23,4", "12万", "1.2.3", datetime(2023, 1, 1), True,
                                 "1200 1500", "1200\u30001500", "12 5", "3 5.5", "1,2 00", "1 2000", "- 1 2", "1 -5"])
def test_money_unreadable(raw):
    """A space inside a number is a thousands separator or nothing: `1200 1500` (two figures in one
    cell) was read as 12001500 without a word."""
    got = parse_value("money", raw)
    assert isinstance(got, CellProblem) and got.rule == "not_a_number"


def test_integer_forms():
    assert parse_value("integer", "１，２００") == 1200
    assert parse_value("integer", 12.0) == 12
    assert parse_value("integer", "12.5").rule == "not_an_integer"


@pytest.mark.parametrize("raw, pct_format, expected", [
    ("10.6", False, 10.6), ("10.6%", False, 10.6), ("１０．６％", False, 10.6), (" 10.6 % ", False, 10.6),
    (10.6, False, 10.6), (0.106, True, 10.6), ("-2.1", False, -2.1),
])
def test_percent_forms(raw, pct_format, expected):
    assert parse_value("percent", raw, percent_formatted=pct_format) == pytest.approx(expected)


def test_percent_unreadable():
    assert parse_value("percent", "约10%").rule == "not_a_number"
    assert parse_value("percent", "1 0.6%").rule == "not_a_number"


@pytest.mark.parametrize("raw", ["是", "Y", "y", "yes", "1", 1, 1.0, True, "true", "TRUE", "√", "✓", " 是 ", "有"])
def test_boolean_yes(raw):
    assert parse_value("boolean", raw) is True


@pytest.mark.parametrize("raw", ["否", "N", "n", "0", 0, False, "false", "False", "×", "无",
                                 None, "", "-", "—", "/", "／", "\u3000"])
def test_boolean_no_and_blank_is_false(raw):
    assert parse_value("boolean", raw) is False


def test_boolean_unreadable():
    assert parse_value("boolean", "待定").rule == "not_a_boolean"


@pytest.mark.parametrize("raw, expected", [
    ("2023-03-15", date(2023, 3, 15)), ("2023/3/15", date(2023, 3, 15)), ("2023.3.15", date(2023, 3, 15)),
    ("2023年3月15日", date(2023, 3, 15)), ("2023年3月", date(2023, 3, 1)), ("２０２３年３月", date(2023, 3, 1)),
    (datetime(2023, 3, 15), date(2023, 3, 15)), (date(2023, 3, 15), date(2023, 3, 15)),
])
def test_date_forms(raw, expected):
    assert parse_value("date", raw) == expected


@pytest.mark.parametrize("raw", ["2023年13月", "2023-02-30", "三月", "45000"])
def test_date_unreadable(raw):
    assert parse_value("date", raw).rule == "not_a_date"


@pytest.mark.parametrize("raw, expected", [
    ("  平头镇\u3000", "平头镇"), (140725103201.0, "140725103201"), ("140725103201.0", "140725103201"),
    (140725103201, "140725103201"), ("XM-001", "XM-001"), ("2023.10", "2023.10"),
])
def test_text_forms(raw, expected):
    assert parse_value("text", raw) == expected


@pytest.mark.parametrize("kind", ["text", "money", "percent", "date", "integer"])
@pytest.mark.parametrize("raw", [None, "", "  ", "-", "—", "／", "/", "无", "\u3000"])
def test_empty_marks(kind, raw):
    assert parse_value(kind, raw) is EMPTY


def _io_row(code, va=100, prev=90, out=500, digital=None, chain="化工产业链", township="朝阳镇", name="企业"):
    return [code, name, chain, township, va, prev, out, digital]


def test_values_end_to_end_in_staging(raw, run_period):
    """Full-width digits, thousands separators, booleans and empty optional cells as stored."""
    rows = [
        IO_HEADER,
        _io_row(CREDIT_CODES[0], va="１２３．５", prev="1,000.25", out="—", digital="√"),
        _io_row(CREDIT_CODES[1], va=" 12 ", prev="0", out=None, digital=None),
        _io_row(CREDIT_CODES[2], va="3", prev="2", out="／", digital="待定", chain="/", township="无"),
    ]
    write_csv(raw / "industrial_output/2023-02.csv", rows, "gbk")
    run = run_period("industrial_output", "2023-02")
    got = [(r["credit_code"], r["value_added_ytd"], r["value_added_prev_ytd"], r["output_value_ytd"],
            r["is_digital_core"], r["industry_chain"], r["township"]) for r in run.staging("industrial_output")]
    assert got == [
        (CREDIT_CODES[0], Decimal("123.5"), Decimal("1000.25"), None, True, "化工产业链", "朝阳镇"),
        (CREDIT_CODES[1], Decimal("12"), Decimal("0"), None, False, "化工产业链", "朝阳镇"),
        (CREDIT_CODES[2], Decimal("3"), Decimal("2"), None, None, None, None),
    ]
    (warn,) = run.warnings()
    assert (warn["source_row"], warn["source_cell"], warn["rule"], warn["value"]) == (4, "H4", "not_a_boolean", "待定")
    assert "待定" in warn["reason"] and "是" in warn["reason"]


def test_bad_optional_date_is_a_warning_and_row_loads(raw, run_period):
    write_csv(raw / "key_projects/2023-02.csv", [KP_HEADER, kp_row("XM001", start="2023年13月"),
                                                  kp_row("XM002", start="2023年3月")])
    run = run_period("key_projects", "2023-02")
    assert [(r["project_code"], r["start_date"]) for r in run.staging("key_projects")] == [
        ("XM001", None), ("XM002", date(2023, 3, 1))]
    (warn,) = run.warnings()
    assert (warn["source_row"], warn["source_cell"], warn["column"], warn["source_column"], warn["rule"]) == \
        (2, "N2", "start_date", "开工时间", "not_a_date")
    assert warn["reason"] == "开工时间不是有效日期，应填写如2023-03-15或2023年3月（当前值：2023年13月）"
    assert warn["raw_row"]["开工时间"] == "2023年13月"
    assert run.log("key_projects/2023-02.csv")["status"] == "loaded"
    assert run.rejected() == []


@pytest.mark.parametrize("mark", ["", "-", "—", "／", "/", "无"])
def test_required_empty_cell_rejects_the_row(raw, run_period, mark):
    write_csv(raw / "key_projects/2023-02.csv", [KP_HEADER, kp_row("XM001", ytd=mark), kp_row("XM002")])
    run = run_period("key_projects", "2023-02")
    (rej,) = run.rejected()
    assert (rej["source_row"], rej["source_cell"], rej["rule"], rej["column"]) == (2, "J2", "required", "ytd_investment")
    assert rej["reason"] == "本年累计完成投资为必填项，不能为空（如为零请填0）"
    assert rej["value"] == (mark or None)
    log = run.log("key_projects/2023-02.csv")
    assert (log["status"], log["rows_read"], log["rows_loaded"], log["rows_rejected"]) == ("partial", 2, 1, 1)


def test_required_text_empty(raw, run_period):
    write_csv(raw / "key_projects/2023-02.csv", [KP_HEADER, kp_row("XM001", name="  "), kp_row("XM002")])
    run = run_period("key_projects", "2023-02")
    (rej,) = run.rejected()
    assert (rej["source_cell"], rej["rule"], rej["reason"]) == ("B2", "required", "项目名称为必填项，不能为空")


@pytest.mark.parametrize("rows", [3, 6000])  # (6,000: a file read in columns)
def test_a_number_in_scientific_notation_is_said_to_be_one(raw, run_period, rows):
    """`1.23457E+17` is what Excel shows, and saves in a CSV, of a long number in a General column:
    its last digits are gone. It is not read (SUBMISSIONS.md lists no such form), and the clerk is
    told why; `1e` or `e5` is no number at all, and said so as before."""
    body = [kp_row(f"XM{i:05d}") for i in range(1, rows)]
    body[0] = kp_row("XM00001", total="1.23457E+17")
    body[-1] = kp_row(f"XM{rows - 1:05d}", total="e5")
    write_csv(raw / "key_projects/2023-02.csv", [KP_HEADER, *body])
    run = run_period("key_projects", "2023-02")
    reasons = {r["source_cell"]: (r["rule"], r["reason"]) for r in run.rejected()}
    assert reasons["H2"] == ("not_a_number", "总投资应填写完整的数字，不能写成科学计数法（当前值：1.23457E+17）："
                                             "请在Excel中把该列设为数值格式、显示出全部数字后重新报送")
    assert reasons[f"H{rows}"] == ("not_a_number", "总投资应填写数字（当前值：e5）")
    assert_consistent_counts(run)


def test_required_unreadable_money_rejects(raw, run_period):
    write_xlsx(raw / "key_projects/2023-02.xlsx", [KP_HEADER, kp_row("XM001", total="暂无"), kp_row("XM002")])
    run = run_period("key_projects", "2023-02")
    (rej,) = run.rejected()
    assert (rej["source_cell"], rej["rule"], rej["reason"]) == ("H2", "not_a_number", "总投资应填写数字（当前值：暂无）")
    assert_consistent_counts(run)
