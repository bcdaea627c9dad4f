"""SUBMISSIONS.md 2: finding the header row, normalising and matching headers, kinds of non-data rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shouyang_pipeline_tests.conftest import (
    KP_HEADER, assert_consistent_counts, kp_row, write_csv, write_xlsx,
)

PATH = "key_projects/2023-02.xlsx"


def _run(raw, run_period, rows, merges=(), path=PATH):
    if path.endswith(".csv"):
        write_csv(raw / path, rows)
    else:
        write_xlsx(raw / path, rows, merges=merges)
    return run_period("key_projects", "2023-02")


def test_header_found_below_title_rows(raw, run_period):
    rows = [["2023年1-2月全县重点项目进展情况表"], ["填报单位：县发改局"], [], ["（截至2月底）"], KP_HEADER, kp_row()]
    run = _run(raw, run_period, rows)
    assert run.log(PATH)["status"] == "loaded"
    assert run.staging("key_projects")[0]["source_row"] == 6


def test_no_header_in_first_ten_rows_rejects_the_file(raw, run_period):
    rows = [["标题"]] + [[f"说明{i}"] for i in range(10)] + [KP_HEADER, kp_row()]
    run = _run(raw, run_period, rows)
    log = run.log(PATH)
    assert log["status"] == "rejected" and "找不到表头行" in log["message"] and "项目编号" in log["message"]
    assert run.staging("key_projects") == []


def test_one_known_name_is_not_a_header(raw, run_period):
    # A row with a single known name (a title that is just "项目名称") is not taken as the header.
    rows = [["项目名称"], KP_HEADER, kp_row()]
    run = _run(raw, run_period, rows)
    assert run.staging("key_projects")[0]["source_row"] == 3


def test_header_normalisation_and_aliases(raw, run_period):
    header = ["项　目　编　号", " 名称 ", "项目层级", "所属领域", "产业链", "园区", "乡镇",
              "计划总投资", "本年计划\n投资", "累计完成投资", "项目状态", "生产性项目", "牵头单位", "开工日期"]
    run = _run(raw, run_period, [header, kp_row()])
    log = run.log(PATH)
    assert log["status"] == "loaded" and log["ignored_columns"] is None
    (row,) = run.staging("key_projects")
    assert (row["project_code"], row["total_investment"], row["annual_plan_investment"], row["start_date"].isoformat()) \
        == ("XM001", 1000, 500, "2023-03-15")


def test_english_column_names_case_insensitive(raw, run_period):
    header = ["PROJECT_CODE", "Project_Name", "level", "Sector", "industry_chain", "ZONE", "Township",
              "Total_Investment", "ANNUAL_PLAN_INVESTMENT", "ytd_investment", "Status", "is_productive",
              "Responsible_Unit", "start_date"]
    run = _run(raw, run_period, [header, kp_row()], path="key_projects/2023-02.csv")
    (row,) = run.staging("key_projects")
    assert (row["project_code"], row["level"], row["is_productive"]) == ("XM001", "省级", True)


def test_two_headers_for_one_column_reject_the_file_naming_both(raw, run_period):
    header = KP_HEADER + ["计划总投资"]
    run = _run(raw, run_period, [header, kp_row() + [1000]])
    log = run.log(PATH)
    assert log["status"] == "rejected"
    assert "“总投资”和“计划总投资”" in log["message"]
    assert run.staging("key_projects") == [] and run.rejected() == []


def test_required_column_missing_rejects_the_file(raw, run_period):
    header = [h for h in KP_HEADER if h not in ("总投资", "建设状态")]
    row = [v for h, v in zip(KP_HEADER, kp_row()) if h not in ("总投资", "建设状态")]
    run = _run(raw, run_period, [header, row])
    log = run.log(PATH)
    assert log["status"] == "rejected"
    assert "缺少必填列" in log["message"]
    assert "总投资（也可写作：计划总投资、总投资额）" in log["message"] and "建设状态" in log["message"]
    assert run.staging("key_projects") == []


@pytest.mark.parametrize("written,unit", [("总投资（千元）", "千元"), ("总投资（单位：美元）", "美元"), ("总投资/千元", "千元"),
                                          ("总投资/万元/亿元", "万元/亿元")])
def test_a_header_with_a_unit_the_rules_cannot_read_says_so(raw, run_period, written, unit):
    # 总投资 is in the header, with a unit no figure can be read in: not "missing" without a word
    header = list(KP_HEADER)
    header[7] = written
    run = _run(raw, run_period, [header, kp_row()])
    log = run.log(PATH)
    assert log["status"] == "rejected" and "缺少必填列：总投资" in log["message"]
    assert f"表头“{written}”中的单位“{unit}”无法识别：总投资的单位只能是元、万元或亿元中的一个" in log["message"]
    assert "其他单位的金额请换算后重新报送" in log["message"]


@pytest.mark.parametrize("written", ["总投资【亿元】", "总投资[亿元]", "总投资（单位：亿元）", "总投资/亿元", "总投资 (亿元)"])
def test_a_unit_in_any_bracket_or_after_a_slash_is_the_columns_unit(raw, run_period, written):
    header = list(KP_HEADER)
    header[7] = written
    run = _run(raw, run_period, [header, kp_row(total=2)])
    (row,) = run.staging("key_projects")
    assert row["total_investment"] == Decimal("20000") and run.log(PATH)["status"] == "loaded"


def test_optional_columns_may_be_missing(raw, run_period):
    header = ["项目编号", "项目名称", "项目级别", "总投资", "年度计划投资", "本年累计完成投资", "建设状态"]
    run = _run(raw, run_period, [header, ["XM001", "项目", "县级", 10, 5, 1, "未开工"]])
    (row,) = run.staging("key_projects")
    assert (row["sector"], row["zone"], row["is_productive"], row["remarks"]) == (None, None, False, None)


def test_unknown_columns_are_ignored_and_listed(raw, run_period):
    # 序号 is in every template: recognised and passed over, not listed as unknown
    header = ["序号"] + KP_HEADER + ["联系电话", "备注"]
    run = _run(raw, run_period, [header, [1] + kp_row() + ["13800000000", "已报市发改委"]])
    log = run.log(PATH)
    assert log["status"] == "loaded"
    assert log["ignored_columns"] == "联系电话"
    assert "已忽略无法识别的列：联系电话" in log["message"] and "序号" not in log["message"]
    (row,) = run.staging("key_projects")
    assert row["remarks"] == "已报市发改委"


def test_sequence_columns_are_recognised_and_never_taken_from_a_dataset(raw, run_period):
    # 序号, 序 and No. are row numbers; 编号 stays the alias of 项目编号 it is in key_projects
    header = ["序号", "序", "NO.", "编号"] + KP_HEADER[1:]
    run = _run(raw, run_period, [header, [1, 1, 1] + kp_row("XM009")])
    log = run.log(PATH)
    assert log["status"] == "loaded" and log["ignored_columns"] is None
    assert "已忽略" not in log["message"]
    (row,) = run.staging("key_projects")
    assert row["project_code"] == "XM009"
    assert run.result.files[0].parsed.layout.sequence == ["序号", "序", "NO."]


def test_row_kinds_are_skipped_and_counted(raw, run_period):
    n = len(KP_HEADER)
    rows = [
        ["2023年1-2月全县重点项目进展情况表"],                 # 1 title
        KP_HEADER,                                               # 2
        ["一、产业转型类项目"],                                  # 3 section, one cell
        kp_row("XM001"),                                         # 4
        ["（二）城市建设类项目"] * n,                            # 5 section, merged across
        kp_row("XM002"),                                         # 6
        ["小计", None, None, None, None, None, None, 2000],      # 7 subtotal
        [None, "其中：省级项目", None, None, None, None, None, 1000],  # 8 subtotal
        [None, None, None, None, None, None, None, None],        # 9 blank
        ["第三类 社会民生"],                                      # 10 section
        kp_row("XM003"),                                         # 11
        [None, "总计", None, None, None, None, None, 3000],      # 12 totals (first non-empty cell)
        ["全县合计", None, None, None, None, None, None, 3000],  # 13 totals
        [],                                                      # 14 blank
        ["填表人：张三", None, "审核人：李四"],                  # 15 footer
        ["注：金额单位为万元"],                                   # 16 footer
        ["  1. 本表为累计数"],                                   # 17 footer (after a footer)
    ]
    run = _run(raw, run_period, rows, merges=("A5:N5",))
    log = run.log(PATH)
    assert (log["rows_read"], log["rows_loaded"], log["rows_rejected"]) == (3, 3, 0)
    assert (log["rows_section"], log["rows_subtotal"], log["rows_totals"], log["rows_blank"], log["rows_footer"]) \
        == (3, 2, 2, 2, 3)
    assert log["rows_skipped"] == 12
    assert [r["source_row"] for r in run.staging("key_projects")] == [4, 6, 11]
    assert log["totals_check"] == "ok"


@pytest.mark.parametrize("label", ["全镇合计", "全乡合计", "全区合计", "全园区合计", "总合计", "合计：", "合 计", "总计:"])
def test_a_totals_row_worded_as_a_township_or_a_park_words_it_is_a_totals_row(raw, run_period, label):
    # not a data row sent back with 项目编号为必填项 and the file 部分入库
    path = "key_projects/2023-02__平头镇.csv"
    write_csv(raw / path, [KP_HEADER, kp_row("XM001", total=1000), kp_row("XM002", total=500),
                           [label, None, None, None, None, None, None, 1500, 1000, 200]])
    run = run_period("key_projects", "2023-02")
    log = run.log(path)
    assert (log["status"], log["rows_read"], log["rows_totals"], log["totals_check"]) == ("loaded", 2, 1, "ok"), label
    assert run.rejected() == []


@pytest.mark.parametrize("name", ["合计村", "全镇合计收入", "小合计"])
def test_a_name_holding_the_word_is_no_totals_row(raw, run_period, name):
    write_csv(raw / PATH.replace(".xlsx", ".csv"), [KP_HEADER, kp_row("XM001"), [name, "项目", "县级", None, None, None, None, 10]])
    run = run_period("key_projects", "2023-02")
    assert run.log(PATH.replace(".xlsx", ".csv"))["rows_totals"] == 0 and run.rejected() != []


def test_every_footer_form(raw, run_period):
    footers = ["填表人：张三", "填报人：王五", "审核人：李四", "负责人：赵六", "注：单位万元", "注:单位万元",
               "说明：略", "说明:略"]
    for i, text in enumerate(footers):
        path = f"key_projects/2023-02__{i}.csv"
        write_csv(raw / path, [KP_HEADER, kp_row(f"XM{i:03d}"), [text]])
    run = run_period("key_projects", "2023-02")
    for i in range(len(footers)):
        log = run.log(f"key_projects/2023-02__{i}.csv")
        assert (log["status"], log["rows_footer"], log["rows_read"]) == ("loaded", 1, 1), footers[i]


def test_raw_row_and_source_column_as_written(raw, run_period):
    header = list(KP_HEADER)
    header[7] = "总投资\n（万元）"
    run = _run(raw, run_period, [["序号"] + header, [7] + kp_row(total="暂无")])
    (rej,) = run.rejected()
    assert (rej["source_cell"], rej["source_column"], rej["column"], rej["value"], rej["rule"]) == \
        ("I2", "总投资\n（万元）", "total_investment", "暂无", "not_a_number")
    assert rej["reason"] == "总投资应填写数字（当前值：暂无）"
    assert rej["raw_row"]["序号"] == "7" and rej["raw_row"]["项目编号"] == "XM001"
    assert rej["raw_row"]["总投资\n（万元）"] == "暂无"
    assert_consistent_counts(run)


def test_money_in_yuan_header_keeps_four_decimals(raw, run_period):
    header = list(KP_HEADER)
    header[9] = "本年累计完成投资（元）"
    run = _run(raw, run_period, [header, kp_row(ytd=12345)])
    (row,) = run.staging("key_projects")
    assert row["ytd_investment"] == Decimal("1.2345")


def test_csv_with_title_rows_and_a_line_break_in_a_header(raw, run_period):
    """CSV row numbers are record numbers, as Excel shows them: a quoted line break stays in its record."""
    header = list(KP_HEADER)
    header[7] = "总投资\n（万元）"
    rows = [["2023年1-2月全县重点项目进展情况表"], ["填报单位：县发改局", "单位：亿元"], header,
            kp_row("XM001", total=20000, plan=1, ytd=0.5), kp_row("XM002", total=0, plan=0, ytd=0)]
    run = _run(raw, run_period, rows, path="key_projects/2023-02.csv")
    (row,) = run.staging("key_projects")
    # the header names its unit (万元), which wins over the title's 亿元 for that column only
    assert (row["source_row"], row["total_investment"], row["annual_plan_investment"]) == (4, 20000, 10000)
    (rej,) = run.rejected()
    assert (rej["source_row"], rej["source_cell"], rej["source_column"]) == (5, "H5", "总投资\n（万元）")


def test_a_header_merged_across_two_columns_names_only_its_first(raw, run_period):
    # 备注 merged over O3:P3: one column, not "two headers for one column"; P holds nothing useful.
    rows = [["标题"], ["填报单位：县发改局"], KP_HEADER + ["备注", None], kp_row() + ["已核", "x"]]
    run = _run(raw, run_period, rows, merges=("A1:N1", "O3:P3"))
    assert run.log(PATH)["status"] == "loaded"
    assert run.staging("key_projects")[0]["remarks"] == "已核"


def test_only_beizhu_is_remarks_and_shuoming_is_an_unknown_column(raw, run_period):
    rows = [KP_HEADER + ["备注", "说明"], kp_row() + ["已核", "另附"]]
    run = _run(raw, run_period, rows)
    log = run.log(PATH)
    assert log["status"] == "loaded" and log["ignored_columns"] == "说明"
    assert run.staging("key_projects")[0]["remarks"] == "已核"


def test_a_section_numbered_in_the_sequence_column_is_a_section(raw, run_period):
    """`一 | 产业转型类项目` with its heading merged across the row: a section, as
    `一、产业转型类项目` is. A heading in one cell is read as a data row and sent back (it cannot
    be told from a row of a name alone, `二 | 丁家坪村`, whose figures are missing), and so is a
    row numbered so with figures of its own, or a number for heading."""
    header = ["序号", *KP_HEADER]
    n = len(header)
    rows = [header,
            ["一", "产业转型类项目"] + [None] * (n - 2),                 # 2 section (merged B:O)
            [1, *kp_row("XM001")],
            ["（二）", "城市建设类项目"] + [None] * (n - 2),             # 4 section (merged B:O)
            [2, *kp_row("XM002")],
            ["三", *kp_row("XM003")],                                    # 6 a data row numbered 三
            ["四", "2023"],                                              # 7 no heading: a data row
            ["五", "社会民生类项目"]]                                    # 8 one cell: a data row, sent back
    run = _run(raw, run_period, rows, merges=(f"B2:{chr(64 + n)}2", f"B4:{chr(64 + n)}4"))
    log = run.log(PATH)
    assert log["rows_section"] == 2
    assert (log["rows_read"], log["rows_loaded"], log["rows_rejected"]) == (5, 3, 2)
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001", "XM002", "XM003"]
    assert {r["source_row"] for r in run.rejected()} == {7, 8}


def test_a_village_numbered_in_chinese_with_its_figures_missing_is_sent_back(raw, run_period):
    path = "village_income/2023-03__平头镇.csv"
    write_csv(raw / path, [["序号", "村名称", "经营性收入", "集体经济总收入"], ["一", "黑水村", 45, 60],
                           ["二", "山底村", None, None]])
    run = run_period("village_income", "2023-03")
    log = run.log(path)
    assert (log["rows_read"], log["rows_loaded"], log["rows_rejected"], log["rows_section"]) == (2, 1, 1, 0)
    assert {r["rule"] for r in run.rejected(source_row=3)} == {"required"}


def test_arabic_numbered_heading_is_a_section_but_a_lone_name_is_a_data_row(raw, run_period):
    rows = [KP_HEADER, ["1、产业转型类项目"], kp_row("XM001"), ["某某项目"]]
    run = _run(raw, run_period, rows)
    log = run.log(PATH)
    assert log["rows_section"] == 1
    assert (log["rows_read"], log["rows_loaded"], log["rows_rejected"]) == (2, 1, 1)
    assert {r["rule"] for r in run.rejected(source_row=4)} == {"required"}
