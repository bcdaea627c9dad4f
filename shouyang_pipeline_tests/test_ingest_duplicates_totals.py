"""Duplicate keys within and across files (SUBMISSIONS.md 4), the totals check (2), file statuses (5)."""

from __future__ import annotations

from shouyang_pipeline.exports.briefing import totals_name
from shouyang_pipeline_tests.conftest import (
    KP_HEADER, Formula, assert_consistent_counts, kp_row, write_csv, write_xlsx, write_xlsx_cached,
)

KP = "key_projects/2023-02.xlsx"


def _totals(*values):
    return ["合计", None, None, None, None, None, None, *values]


def test_duplicate_key_within_a_file_rejects_every_row(raw, run_period):
    rows = [KP_HEADER, kp_row("XM001"), kp_row("XM002"), kp_row("XM001", name="另一个项目"), kp_row("XM001", total=-5)]
    write_xlsx(raw / KP, rows)
    run = run_period("key_projects", "2023-02")
    dup = run.rejected(rule="duplicate_key")
    # a whole row's problem (WAREHOUSE.md): no cell, no column; the key as written, the other rows
    # of the same file named by row number only
    assert [(r["source_row"], r["source_cell"], r["column"], r["source_column"], r["value"]) for r in dup] == [
        (2, None, None, None, "XM001"), (4, None, None, None, "XM001"), (5, None, None, None, "XM001")]
    assert dup[0]["reason"] == ("项目编号“XM001”在本期重复出现（另见：本文件第4行；本文件第5行），"
                                "重复的各行均不入库，请核对后只保留一行")
    assert "第2行" in dup[1]["reason"] and "第5行" in dup[1]["reason"] and "第4行" not in dup[1]["reason"]
    assert dup[0]["raw_row"]["项目名称"] == "测试项目" and dup[1]["raw_row"]["项目名称"] == "另一个项目"
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM002"]
    log = run.log(KP)
    assert (log["status"], log["rows_read"], log["rows_loaded"], log["rows_rejected"]) == ("partial", 4, 1, 3)


def test_duplicate_key_across_two_submitters(raw, run_period):
    write_csv(raw / "key_projects/2023-02__发改局.csv", [KP_HEADER, kp_row("XM001"), kp_row("XM002")])
    write_csv(raw / "key_projects/2023-02__工信局.csv", [KP_HEADER, kp_row("XM003"), kp_row(" XM002 ")])
    run = run_period("key_projects", "2023-02")
    dup = run.rejected(rule="duplicate_key")
    assert [(r["file_path"], r["source_row"]) for r in dup] == [
        ("key_projects/2023-02__发改局.csv", 3), ("key_projects/2023-02__工信局.csv", 3)]
    assert "key_projects/2023-02__工信局.csv 第3行" in dup[0]["reason"]
    assert "key_projects/2023-02__发改局.csv 第3行" in dup[1]["reason"]
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001", "XM003"]
    assert_consistent_counts(run)


def test_duplicate_after_folding_synonyms(raw, run_period):
    write_csv(raw / "city_indicators/2023-02.csv",
              [["指标名称", "全市数值"], ["规上工业增加值增速", 9.5], ["规模以上工业增加值增速", "9.6%"]])
    run = run_period("city_indicators", "2023-02")
    assert [r["source_row"] for r in run.rejected(rule="duplicate_key")] == [2, 3]
    log = run.log("city_indicators/2023-02.csv")
    assert log["status"] == "rejected" and "全部2行数据均未通过校验" in log["message"]
    assert run.staging("city_indicators") == []


def test_all_rows_rejected_is_a_rejected_file_with_its_rows_listed(raw, run_period):
    write_xlsx(raw / KP, [KP_HEADER, kp_row("XM001", total=-1), kp_row("XM002", level="乡级")])
    run = run_period("key_projects", "2023-02")
    log = run.log(KP)
    assert (log["status"], log["rows_read"], log["rows_loaded"], log["rows_rejected"]) == ("rejected", 2, 0, 2)
    assert [r["source_row"] for r in run.rejected()] == [2, 3]
    assert run.staging("key_projects") == []


def test_file_without_data_rows_is_rejected(raw, run_period):
    write_xlsx(raw / KP, [["2023年1-2月全县重点项目进展情况表"], KP_HEADER, [], _totals(0), ["填表人：张三"]])
    run = run_period("key_projects", "2023-02")
    log = run.log(KP)
    assert log["status"] == "rejected" and "没有数据行" in log["message"]
    assert (log["rows_read"], log["rows_loaded"], log["rows_rejected"]) == (0, 0, 0)
    assert (log["rows_blank"], log["rows_totals"], log["rows_footer"]) == (1, 1, 1)


def test_statuses_and_counts_across_files(raw, run_period):
    write_csv(raw / "key_projects/2023-02__a.csv", [KP_HEADER, kp_row("A1"), kp_row("A2")])
    write_csv(raw / "key_projects/2023-02__b.csv", [KP_HEADER, kp_row("B1"), kp_row("B2", total=0)])
    write_csv(raw / "key_projects/2023-02__c.csv", [KP_HEADER, kp_row("C1", total=0)])
    write_csv(raw / "key_projects/2023-02__d.csv", [["项目编号", "项目名称"], ["D1", "缺列"]])
    run = run_period("key_projects", "2023-02")
    got = {r["file_path"][-5]: (r["status"], r["rows_read"], r["rows_loaded"], r["rows_rejected"]) for r in run.log()}
    assert got == {"a": ("loaded", 2, 2, 0), "b": ("partial", 2, 1, 1), "c": ("rejected", 1, 0, 1),
                   "d": ("rejected", 0, 0, 0)}
    assert [r["project_code"] for r in run.staging("key_projects")] == ["A1", "A2", "B1"]
    assert_consistent_counts(run)


def test_totals_ok_within_tolerance(raw, run_period):
    rows = [KP_HEADER, kp_row("XM001", total=1000.004, plan=500, ytd=100.1),
            kp_row("XM002", total=2000, plan=500, ytd=200.2), _totals(3000, 1000, 300.3)]
    write_xlsx(raw / KP, rows)
    run = run_period("key_projects", "2023-02")
    log = run.log(KP)
    assert log["totals_check"] == "ok" and "合计行核对一致" in log["message"]


def test_totals_mismatch_names_column_and_figures_and_warns_only(raw, run_period):
    rows = [KP_HEADER, kp_row("XM001", total=1000), kp_row("XM002", total="暂无"), kp_row("XM003", total=-200),
            kp_row("XM004", total=2000), _totals(3000.02, None, "-")]
    write_xlsx(raw / KP, rows)
    run = run_period("key_projects", "2023-02")
    log = run.log(KP)
    assert log["totals_check"] == "mismatch"
    # the rejected rows' readable cells count (-200), the unreadable one is named
    assert "合计行与明细不符：总投资合计为3,000.02万元，明细行相加为2,800万元（第6行）" in log["message"]
    assert "未计入无法识别的单元格：H3“暂无”" in log["message"]
    assert "年度计划投资" not in log["message"] and "本年累计完成投资" not in log["message"]  # blank, '-': not checked
    assert (log["status"], log["rows_loaded"], log["rows_rejected"]) == ("partial", 2, 2)


def test_totals_tolerance_is_in_the_columns_own_unit(raw, run_period):
    header = list(KP_HEADER)
    header[7] = "总投资（亿元）"
    ok = [header, kp_row("XM001", total=1.234, plan=1), kp_row("XM002", total=2.001, plan=1), _totals(3.24)]
    bad = [header, kp_row("XM001", total=1.234, plan=1), kp_row("XM002", total=2.001, plan=1), _totals(3.25)]
    write_xlsx(raw / "key_projects/2023-02__ok.xlsx", ok)
    write_xlsx(raw / "key_projects/2023-03__bad.xlsx", bad)
    run_period("key_projects", "2023-02")
    run = run_period("key_projects", "2023-03")
    assert run.log("key_projects/2023-02__ok.xlsx")["totals_check"] == "ok"
    bad_log = run.log("key_projects/2023-03__bad.xlsx")
    assert bad_log["totals_check"] == "mismatch" and "总投资合计为3.25亿元，明细行相加为3.235亿元" in bad_log["message"]


def test_totals_unit_from_title(raw, run_period):
    rows = [["单位：元"], KP_HEADER, kp_row("XM001", total=10_000_000, plan=0, ytd=0),
            kp_row("XM002", total=5_000_000, plan=0, ytd=0), _totals(15_000_000.01, 0, 0)]
    write_xlsx(raw / KP, rows)
    run = run_period("key_projects", "2023-02")
    assert run.log(KP)["totals_check"] == "ok"


def test_unreadable_total_is_noted_not_checked(raw, run_period):
    write_xlsx(raw / KP, [KP_HEADER, kp_row("XM001"), _totals("见附表")])
    run = run_period("key_projects", "2023-02")
    log = run.log(KP)
    assert "合计行H3（总投资）“见附表”不是数字，未核对" in log["message"]
    assert "核对一致" not in log["message"] and log["totals_check"] is None  # nothing was compared
    assert log["status"] == "loaded"


def test_no_totals_row_means_no_check(raw, run_period):
    write_xlsx(raw / KP, [KP_HEADER, kp_row("XM001")])
    run = run_period("key_projects", "2023-02")
    assert run.log(KP)["totals_check"] is None
    assert totals_name(run.log(KP)) == "无合计行"  # the briefing's file table


def test_formula_totals_without_computed_values_are_said_not_checked(raw, run_period):
    # openpyxl stores a formula without the value Excel would compute: nothing can be compared
    rows = [KP_HEADER, kp_row("XM001"), kp_row("XM002"),
            _totals(Formula("=SUM(H2:H3)"), Formula("=SUM(I2:I3)"), Formula("=SUM(J2:J3)"))]
    write_xlsx(raw / KP, rows)
    run = run_period("key_projects", "2023-02")
    log = run.log(KP)
    assert log["totals_check"] is None and log["status"] == "loaded"
    assert ("合计行为公式且未保存计算结果，未核对（H4（总投资）、I4（年度计划投资）、J4（本年累计完成投资））："
            "请在Excel中打开文件、保存后重新报送") in log["message"]
    assert "核对一致" not in log["message"]
    assert totals_name(log) == "未核对"  # the briefing's file table: it has a 合计 row, not checked


def test_formula_totals_with_computed_values_are_checked(raw, run_period):
    rows = [KP_HEADER, kp_row("XM001"), kp_row("XM002"),
            _totals(Formula("=SUM(H2:H3)", 2000), Formula("=SUM(I2:I3)", 1000), Formula("=SUM(J2:J3)", 201))]
    write_xlsx_cached(raw / KP, rows)
    run = run_period("key_projects", "2023-02")
    log = run.log(KP)
    assert log["totals_check"] == "mismatch"
    assert log["message"] == ("读取2行数据，全部入库；合计行与明细不符：本年累计完成投资合计为201万元，"
                              "明细行相加为200万元（第4行）")


def test_a_blank_totals_row_is_said_not_checked(raw, run_period):
    write_xlsx(raw / KP, [KP_HEADER, kp_row("XM001"), _totals()])
    log = run_period("key_projects", "2023-02").log(KP)
    assert log["totals_check"] is None
    assert log["message"] == "读取1行数据，全部入库；合计行未填写金额，未核对"


def test_totals_partly_checked_say_which_were_not(raw, run_period):
    write_xlsx(raw / KP, [KP_HEADER, kp_row("XM001", plan=500), _totals("见附表", 500)])
    log = run_period("key_projects", "2023-02").log(KP)
    assert log["totals_check"] == "ok"
    assert log["message"] == ("读取1行数据，全部入库；合计行H3（总投资）“见附表”不是数字，未核对；"
                              "合计行其余各列核对一致")


def test_warnings_of_loaded_rows_are_in_the_message(raw, run_period):
    write_xlsx(raw / KP, [KP_HEADER, kp_row("XM001", township="火星镇"), kp_row("XM002")])
    log = run_period("key_projects", "2023-02").log(KP)
    assert log["status"] == "loaded"
    assert log["message"] == ("读取2行数据，全部入库；另有1个单元格无法识别或不符合规则，已存为空值"
                              "（见audit.cell_warnings）")


def test_warnings_of_several_kinds_are_counted_by_kind(raw, run_period):
    rows = [KP_HEADER, kp_row("XM001", township="火星镇", start="2023年13月"), kp_row("XM002", unit="鍘垮彂鏀瑰眬"),
            kp_row("XM003", total=-1, township="火星镇")]
    write_xlsx(raw / KP, rows)
    run = run_period("key_projects", "2023-02")
    log = run.log(KP)
    assert log["status"] == "partial"
    # the rejected row's warning is among its rejected cells, not counted here
    assert log["message"] == ("读取3行数据，入库2行，拒收1行（原因见audit.rejected_rows）；"
                              "另有3处需要留意（见audit.cell_warnings）：2个单元格无法识别或不符合规则（已存为空值）、"
                              "1个单元格疑似乱码（已按原样保存）")
    assert len(run.warnings()) == 3


def test_formula_cells_without_a_stored_value_are_found_in_the_sheet_xml():
    from shouyang_pipeline.ingest.xlsx_limits import uncomputed_formula_cells

    xml = (b'<sheetData><row r="5">'
           b'<c r="H5"><f>SUM(H2:H4)</f><v /></c>'                 # openpyxl: no value
           b'<c r="I5" s="2"><f t="shared" si="0"/></c>'           # a shared formula, no value
           b'<c r="J5"><f>SUM(J2:J4)</f><v>300</v></c>'            # Excel: the value it computed
           b'<c r="K5" t="str"><f>IF(1,"","")</f><v></v></c>'      # computed, as an empty text
           b'<c r="L5" t="s"><v>3</v></c></row></sheetData>')
    assert uncomputed_formula_cells(xml) == {(5, 7), (5, 8)}
    prefixed = b'<x:sheetData><x:row r="9"><x:c r="AA9"><x:f>A1</x:f></x:c></x:row></x:sheetData>'
    assert uncomputed_formula_cells(prefixed) == {(9, 26)}


def test_a_totals_row_of_a_dataset_without_amounts_needs_no_check(raw, run_period):
    """Only amounts are checked against a 合计 row (SUBMISSIONS.md 2): a talent file's 合计 row is
    skipped, and the briefing's file table says 无需核对, not 未核对 (which asks the clerk to act)."""
    write_csv(raw / "talent/2023-03__组织部.csv", [
        ["产业领域", "人才类别", "本年累计对接人数", "本年累计引进培育人数"],
        ["智能制造", "领军人才", 3, 1], ["智能制造", "实用型人才", 20, 8], ["合计", None, 23, 9]])
    run = run_period("talent", "2023-03")
    log = run.log("talent/2023-03__组织部.csv")
    assert (log["status"], log["rows_totals"], log["totals_check"]) == ("loaded", 1, None)
    assert totals_name(log) == "无需核对"
