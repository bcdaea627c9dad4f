"""SUBMISSIONS.md 4 and 5: every declared rule, required cells reject the row, optional ones warn."""

from __future__ import annotations

import re
from decimal import Decimal

from shouyang_pipeline_tests.conftest import (
    CREDIT_CODES, IO_HEADER, KP_HEADER, assert_consistent_counts, kp_row, write_csv, write_xlsx,
)

KP = "key_projects/2023-02.xlsx"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _kp(raw, run_period, *rows):
    write_xlsx(raw / KP, [KP_HEADER, *rows])
    return run_period("key_projects", "2023-02")


def _only(issues):
    assert len(issues) == 1, issues
    return issues[0]


def _cell(r):
    return (r["source_row"], r["source_cell"], r["column"], r["value"], r["rule"])


def test_not_positive(raw, run_period):
    run = _kp(raw, run_period, kp_row("XM001", total=-200), kp_row("XM002", total=0), kp_row("XM003"))
    rej = run.rejected()
    assert [_cell(r) for r in rej] == [(2, "H2", "total_investment", "-200", "not_positive"),
                                       (3, "H3", "total_investment", "0", "not_positive")]
    assert [r["reason"] for r in rej] == ["总投资必须大于0（当前值：-200）", "总投资必须大于0（当前值：0）"]
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM003"]
    log = run.log(KP)
    assert (log["status"], log["rows_read"], log["rows_loaded"], log["rows_rejected"]) == ("partial", 3, 1, 2)


def test_negative(raw, run_period):
    run = _kp(raw, run_period, kp_row("XM001", plan=-1), kp_row("XM002", ytd="-5.5"), kp_row("XM003", ytd=0, plan=0))
    rej = run.rejected()
    assert [_cell(r) for r in rej] == [(2, "I2", "annual_plan_investment", "-1", "negative"),
                                       (3, "J3", "ytd_investment", "-5.5", "negative")]
    assert rej[1]["reason"] == "本年累计完成投资不能为负数（当前值：-5.5）"
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM003"]


def test_annual_plan_above_total_is_out_of_range(raw, run_period):
    run = _kp(raw, run_period, kp_row("XM001", total=1000, plan=1200), kp_row("XM002", total=1000, plan=1000))
    rej = _only(run.rejected())
    assert _cell(rej) == (2, "I2", "annual_plan_investment", "1200", "out_of_range")
    assert rej["reason"] == "年度计划投资不能大于总投资（当前值：1200，总投资：1000）"
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM002"]


def test_out_of_range_compares_in_one_unit(raw, run_period):
    header = list(KP_HEADER)
    header[7] = "总投资（亿元）"  # 0.1 亿元 = 1000 万元
    write_xlsx(raw / KP, [header, kp_row("XM001", total=0.1, plan=999), kp_row("XM002", total=0.1, plan=1001)])
    run = run_period("key_projects", "2023-02")
    rej = _only(run.rejected())
    assert rej["source_row"] == 3
    # the figures as written are in different units: the reason says which is which
    assert rej["reason"] == "年度计划投资不能大于总投资（当前值：1001万元，总投资：0.1亿元）"
    assert run.staging("key_projects")[0]["total_investment"] == Decimal("1000")


def test_a_title_unit_beside_a_column_unit_is_named_in_a_comparison(raw, run_period):
    """单位：亿元 in the title, 总投资（万元） in its header: 年度计划投资 is in 亿元, 总投资 in 万元, and
    the reason for 35960 > 181000 says so."""
    header = list(KP_HEADER)
    header[7] = "总投资（万元）"
    write_csv(raw / "key_projects/2023-02.csv",
              [["2023年重点项目进展情况表"], ["填报单位：发改局", "单位：亿元"], header,
               kp_row("XM001", total=181000, plan=35960)], encoding="gbk")
    run = run_period("key_projects", "2023-02")
    rej = _only(run.rejected())
    assert rej["reason"] == "年度计划投资不能大于总投资（当前值：35960亿元，总投资：181000万元）"


def test_total_income_below_operating_income(raw, run_period):
    write_csv(raw / "village_income/2023-03__平头镇.csv", [
        ["村名称", "经营性收入", "集体经济总收入"], ["黑水村", 50, 40], ["山底村", 40, 40], ["龙栖村", -1, 40]])
    run = run_period("village_income", "2023-03")
    rej = run.rejected()
    assert [_cell(r) for r in rej] == [(2, "C2", "total_income", "40", "out_of_range"),
                                       (4, "B4", "operating_income", "-1", "negative")]
    assert rej[0]["reason"] == "集体经济总收入不能小于经营性收入（当前值：40，经营性收入：50）"
    assert [r["village_name"] for r in run.staging("village_income")] == ["山底村"]


def test_required_not_in_list_rejects(raw, run_period):
    run = _kp(raw, run_period, kp_row("XM001", level="乡级"), kp_row("XM002", status="在建"), kp_row("XM003"))
    rej = run.rejected()
    assert [_cell(r) for r in rej] == [(2, "C2", "level", "乡级", "not_in_list"), (3, "K3", "status", "在建", "not_in_list")]
    assert rej[0]["reason"] == "项目级别只能填写省级、市级、县级之一（当前值：乡级）"
    assert rej[1]["reason"] == "建设状态只能填写未开工、新开工、复工、续建、竣工之一（当前值：在建）"


def test_synonyms_and_spellings_fold_to_canonical_values(raw, run_period):
    run = _kp(raw, run_period,
              kp_row("XM001", level="省重点", sector="产业转型类", chain="PAPER", zone="平头融合区", township="平　头　镇"),
              kp_row("XM002", level="市重点", sector="城市建设", chain="coal", zone="太晋一体化平头融合发展区"),
              kp_row("XM003", level=" 县重点 ", sector="基础设施类", chain="煤机制造产业链", zone="PINGTOU"))
    assert [(r["level"], r["sector"], r["industry_chain"], r["zone"], r["township"]) for r in run.staging("key_projects")] == [
        ("省级", "产业转型", "造纸产业链", "平头融合发展区", "平头镇"),
        ("市级", "城市建设", "煤炭全产业链", "平头融合发展区", "平头镇"),
        ("县级", "基础设施", "煤机制造产业链", "平头融合发展区", "平头镇"),
    ]
    assert run.warnings() == [] and run.rejected() == []


def test_optional_not_in_list_is_null_with_a_warning(raw, run_period):
    run = _kp(raw, run_period,
              kp_row("XM001", sector="其他", chain="光伏产业链", zone="开发区", township="太原市"))
    (row,) = run.staging("key_projects")
    assert (row["sector"], row["industry_chain"], row["zone"], row["township"]) == (None, None, None, None)
    warns = run.warnings()
    assert [_cell(w) for w in warns] == [
        (2, "D2", "sector", "其他", "not_in_list"), (2, "E2", "industry_chain", "光伏产业链", "not_in_list"),
        (2, "F2", "zone", "开发区", "not_in_list"), (2, "G2", "township", "太原市", "not_in_list")]
    assert warns[1]["reason"] == "所属产业链“光伏产业链”不在产业链名录中，请核对名称"
    assert all(w["raw_row"]["项目编号"] == "XM001" for w in warns)
    assert run.log(KP)["status"] == "loaded" and run.rejected() == []


def test_a_rejected_row_lists_its_optional_problems_too(raw, run_period):
    run = _kp(raw, run_period, kp_row("XM001", total=-1, sector="其他"), kp_row("XM002"))
    assert [(_cell(r)[1], r["rule"]) for r in run.rejected()] == [("D2", "not_in_list"), ("H2", "not_positive")]
    assert run.warnings() == []


def test_too_long(raw, run_period):
    code = "XM" + "0" * 31
    run = _kp(raw, run_period, kp_row(code), kp_row("X" * 32))
    rej = _only(run.rejected())
    assert _cell(rej) == (2, "A2", "project_code", code, "too_long")
    assert rej["reason"] == f"项目编号不能超过32个字符（当前值：{code}）"


def test_credit_codes(raw, run_period):
    rows = [IO_HEADER,
            [CREDIT_CODES[0], "甲", None, None, 1, 1, None, None],
            [CREDIT_CODES[1].lower(), "乙", None, None, 1, 1, None, None],          # case folded
            [CREDIT_CODES[2][:-1] + "0", "丙", None, None, 1, 1, None, None],     # wrong check character
            ["9114072512345", "丁", None, None, 1, 1, None, None]]                 # wrong length
    write_csv(raw / "industrial_output/2023-02.csv", rows)
    run = run_period("industrial_output", "2023-02")
    assert [r["credit_code"] for r in run.staging("industrial_output")] == [CREDIT_CODES[0], CREDIT_CODES[1]]
    rej = run.rejected()
    assert [_cell(r) for r in rej] == [
        (4, "A4", "credit_code", CREDIT_CODES[2][:-1] + "0", "bad_credit_code"),
        (5, "A5", "credit_code", "9114072512345", "bad_credit_code")]
    assert CREDIT_CODES[2][:-1] + "0" in rej[0]["reason"] and "统一社会信用代码" in rej[0]["reason"]


def test_city_indicator_list(raw, run_period):
    write_csv(raw / "city_indicators/2023-02.csv", [["指标名称", "全市数值"], ["规模以上工业增加值增速", "9.5%"],
                                                     ["GDP增速", "5.0"]])
    run = run_period("city_indicators", "2023-02")
    assert [(r["indicator"], r["value"]) for r in run.staging("city_indicators")] == [("规上工业增加值增速", Decimal("9.5"))]
    assert _cell(_only(run.rejected())) == (3, "A3", "indicator", "GDP增速", "not_in_list")


def test_a_figure_too_large_in_a_column_headed_shuzhi_is_said_once(raw, run_period):
    """`{header}数值过大` (从业人员数值过大), but a column headed 数值 is not 数值数值过大."""
    write_csv(raw / "city_indicators/2023-02.csv", [["指标名称", "数值(%)"], ["规模以上工业增加值增速", "1000000"]])
    run = run_period("city_indicators", "2023-02")
    assert _only(run.rejected())["reason"] == ("数值过大，超出可接受的范围（绝对值不超过10000%），请核对数值和单位"
                                               "（当前值：1000000）")
    write_csv(raw / "city_indicators/2023-03.csv", [["指标名称", "全市数值"], ["规模以上工业增加值增速", "1000000"]])
    run = run_period("city_indicators", "2023-03")
    assert _only(run.rejected(period="2023-03"))["reason"].startswith("全市数值过大，")


def test_every_reason_is_chinese_and_names_the_value(raw, run_period):
    run = _kp(raw, run_period,
              kp_row("XM001", total=-200, level="乡级", status="在建", start="2023年13月"),
              kp_row("XM002", plan=5000), kp_row("XM003", ytd="暂无", sector="其他"), kp_row("XM004"))
    issues = run.rejected() + run.warnings()
    assert len(issues) == 7  # 4 in row 2 (the plan is not compared with a bad total), 1 in row 3, 2 in row 4
    for i in issues:
        assert CJK.search(i["reason"]) and i["value"] in i["reason"], i
        assert re.fullmatch(r"[A-Z]+\d+", i["source_cell"])
    assert_consistent_counts(run)
