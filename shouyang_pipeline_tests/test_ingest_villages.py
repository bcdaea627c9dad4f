"""SUBMISSIONS.md 4.4: village rows against the reference list of villages."""

from __future__ import annotations

from decimal import Decimal

from shouyang_pipeline_tests.conftest import VI_HEADER, assert_consistent_counts, write_csv, write_xlsx

PATH = "village_income/2023-03__平头镇.csv"


def _run(raw, run_period, *rows, header=VI_HEADER, path=PATH):
    write_csv(raw / path, [header, *rows])
    return run_period("village_income", "2023-03")


def _cell(r):
    return (r["source_row"], r["source_cell"], r["column"], r["value"], r["rule"])


def test_good_rows_get_canonical_name_and_code(raw, run_period):
    run = _run(raw, run_period,
               ["140725103201", "黑水村", "平头镇", 45, 60, "光伏"],
               [None, "山底", "平头镇", 12, 20, "土地流转"],          # trailing 村 left out, no code
               ["", "龙　栖　村", " 平　头　镇 ", "3.5", "5", None])   # spaces inside
    assert [(r["village_code"], r["village_name"], r["township"], r["operating_income"])
            for r in run.staging("village_income")] == [
        ("140725103201", "黑水村", "平头镇", Decimal("45")), ("140725103202", "山底村", "平头镇", Decimal("12")),
        ("140725103203", "龙栖村", "平头镇", Decimal("3.5"))]
    assert run.rejected() == [] and run.warnings() == []


def test_unknown_village_is_rejected(raw, run_period):
    run = _run(raw, run_period, [None, "幸福村", "平头镇", 1, 2, None], [None, "黑水村", "平头镇", 1, 2, None])
    (rej,) = run.rejected()
    assert _cell(rej) == (2, "B2", "village_name", "幸福村", "unknown_village")
    assert "幸福村" in rej["reason"] and "平头镇" in rej["reason"]


def test_village_of_another_township_is_a_mismatch(raw, run_period):
    run = _run(raw, run_period, [None, "宗艾村", "平头镇", 1, 2, None], [None, "黑水村", "平头镇", 1, 2, None])
    (rej,) = run.rejected()
    assert _cell(rej) == (2, "B2", "village_name", "宗艾村", "mismatch")
    assert rej["reason"] == "村名称“宗艾村”不属于平头镇，参考名录中它属于宗艾镇，请核对乡镇"


def test_code_of_another_village_is_a_mismatch(raw, run_period):
    run = _run(raw, run_period,
               ["140725103202", "黑水村", "平头镇", 1, 2, None],   # 山底村's code
               ["140725102201", "龙栖村", "平头镇", 1, 2, None],   # 宗艾镇宗艾村's code
               ["140725103204", "胡家堙村", "平头镇", 1, 2, None])
    rej = run.rejected()
    assert [_cell(r) for r in rej] == [(2, "A2", "village_code", "140725103202", "mismatch"),
                                       (3, "A3", "village_code", "140725102201", "mismatch")]
    assert rej[0]["reason"] == "村代码140725103202是平头镇山底村的代码，与村名称黑水村（平头镇，代码140725103201）不符，请核对"
    assert "宗艾镇宗艾村" in rej[1]["reason"]
    assert [r["village_name"] for r in run.staging("village_income")] == ["胡家堙村"]


def test_unknown_or_malformed_code_is_a_warning(raw, run_period):
    run = _run(raw, run_period, ["140725103299", "黑水村", "平头镇", 1, 2, None],
               ["1407251032", "山底村", "平头镇", 1, 2, None])
    assert [(r["village_name"], r["village_code"]) for r in run.staging("village_income")] == [
        ("黑水村", "140725103201"), ("山底村", "140725103202")]
    warns = run.warnings()
    assert [_cell(w) for w in warns] == [(2, "A2", "village_code", "140725103299", "unknown_code"),
                                         (3, "A3", "village_code", "1407251032", "bad_code")]
    assert "140725103299" in warns[0]["reason"] and "140725103201" in warns[0]["reason"]
    assert warns[1]["reason"] == "村代码应为12位数字（当前值：1407251032）"
    assert run.rejected() == []


def test_unknown_township_is_rejected(raw, run_period):
    run = _run(raw, run_period, [None, "黑水村", "太原镇", 1, 2, None], [None, "黑水村", "平头镇", 1, 2, None])
    (rej,) = run.rejected()
    assert _cell(rej) == (2, "C2", "township", "太原镇", "not_in_list")
    assert "太原镇" in rej["reason"]


def test_township_from_submitter_when_no_column(raw, run_period):
    header = ["村名", "集体经营性收入", "总收入"]
    run = _run(raw, run_period, ["黑水", 45, 60], ["宗艾村", 1, 2], header=header)
    assert [(r["village_name"], r["township"]) for r in run.staging("village_income")] == [("黑水村", "平头镇")]
    (rej,) = run.rejected()
    assert (rej["rule"], rej["value"]) == ("mismatch", "宗艾村")


def test_no_township_column_and_submitter_not_a_township(raw, run_period):
    run = _run(raw, run_period, ["黑水村", 45, 60], header=["村名称", "经营性收入", "集体经济总收入"],
               path="village_income/2023-03__农业农村局.csv")
    log = run.log("village_income/2023-03__农业农村局.csv")
    assert log["status"] == "rejected" and "缺少必填列" in log["message"] and "所属乡镇" in log["message"]


def test_merged_township_in_xlsx_with_title(raw, run_period):
    rows = [["2023年1-3月平头镇村级集体经济收入情况表"], ["填报单位：平头镇　单位：元"], VI_HEADER,
            [None, "黑水村", "平头镇", 450000, 600000, "光伏"], [None, "山底村", None, 120000, 200000, None],
            ["合计", None, None, 570000, 800000]]
    write_xlsx(raw / "village_income/2023-03__平头镇.xlsx", rows, merges=("C4:C5",))
    run = run_period("village_income", "2023-03")
    log = run.log("village_income/2023-03__平头镇.xlsx")
    assert (log["status"], log["totals_check"], log["rows_totals"]) == ("loaded", "ok", 1)
    assert [(r["village_name"], r["township"], r["operating_income"]) for r in run.staging("village_income")] == [
        ("黑水村", "平头镇", Decimal("45")), ("山底村", "平头镇", Decimal("12"))]


def test_same_village_in_two_files_is_a_duplicate_even_spelt_differently(raw, run_period):
    write_csv(raw / "village_income/2023-03__平头镇.csv", [VI_HEADER, [None, "黑水村", "平头镇", 1, 2, None],
                                                          [None, "山底村", "平头镇", 1, 2, None]])
    write_csv(raw / "village_income/2023-03__平头镇补报.csv", [VI_HEADER, [None, "黑水", "平头镇", 3, 4, None]])
    write_csv(raw / "village_income/2023-03__宗艾镇.csv", [VI_HEADER, [None, "宗艾村", "宗艾镇", 1, 2, None]])
    run = run_period("village_income", "2023-03")
    rej = run.rejected()
    # a whole row's problem, its value the village as written (the key is township and village)
    assert [(r["file_path"], r["source_row"], r["rule"], r["source_cell"], r["column"], r["value"]) for r in rej] == [
        ("village_income/2023-03__平头镇.csv", 2, "duplicate_key", None, None, "黑水村"),
        ("village_income/2023-03__平头镇补报.csv", 2, "duplicate_key", None, None, "黑水")]
    assert "village_income/2023-03__平头镇补报.csv 第2行" in rej[0]["reason"]
    assert "village_income/2023-03__平头镇.csv 第2行" in rej[1]["reason"]
    assert "黑水村" in rej[0]["reason"]
    assert run.log("village_income/2023-03__平头镇补报.csv")["status"] == "rejected"
    assert run.log("village_income/2023-03__平头镇.csv")["status"] == "partial"
    assert sorted(r["village_name"] for r in run.staging("village_income")) == ["宗艾村", "山底村"]
    assert_consistent_counts(run)
