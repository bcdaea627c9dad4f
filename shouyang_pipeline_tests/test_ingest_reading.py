"""SUBMISSIONS.md 2: CSV encodings and what XLSX files really look like."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest

from shouyang_pipeline.ingest.xlsx_limits import is_percent_format
from shouyang_pipeline_tests.conftest import (
    KP_HEADER, VI_HEADER, Formula, Pct, assert_consistent_counts, kp_row, patch, write_csv, write_xlsx,
    write_xlsx_cached,
)

TITLE = "2023年1-2月全县重点项目进展情况表"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(raw, run_period, encoding):
    write_csv(raw / "key_projects/2023-02.csv", [KP_HEADER, kp_row("XM001", name="寿阳县造纸项目（一期）")], encoding)
    run = run_period("key_projects", "2023-02")
    assert run.log("key_projects/2023-02.csv")["status"] == "loaded"
    (row,) = run.staging("key_projects")
    assert (row["project_name"], row["level"], row["township"]) == ("寿阳县造纸项目（一期）", "省级", "平头镇")
    assert row["source_row"] == 2  # header is record 1


def test_undecodable_csv_is_rejected(raw, run_period):
    (raw / "key_projects").mkdir()
    (raw / "key_projects/2023-02.csv").write_bytes("项目编号,总投资\n".encode("utf-8") + b"\xff\xfe\xff\x80\x80\n")
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02.csv")
    assert log["status"] == "rejected" and "编码无法识别" in log["message"]
    assert run.staging("key_projects") == []


def test_damaged_xlsx_is_rejected(raw, run_period):
    (raw / "key_projects").mkdir()
    (raw / "key_projects/2023-02.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02.xlsx")
    assert log["status"] == "rejected" and "无法打开" in log["message"]


def test_real_looking_xlsx(raw, run_period):
    """Instructions sheet first, merged title, unit in the title, totals, blank, footer rows."""
    rows = [
        [TITLE] + [None] * 13,
        ["填报单位：县发改局　　　　单位：亿元"],
        KP_HEADER,
        kp_row("XM001", total=1.5, plan=0.5, ytd=0.25),
        kp_row("XM002", total=2, plan=1, ytd=0.5),
        ["合计", None, None, None, None, None, None, 3.5, 1.5, 0.75],
        [],
        ["填表人：张三　审核人：李四"],
        ["注：金额为本年累计数。"],
    ]
    write_xlsx(raw / "key_projects/2023-02.xlsx", rows, merges=("A1:N1",),
               sheets_before={"填报说明": [["填报说明"], ["1. 金额单位为亿元"], ["项目编号", "项目名称为必填"]]})
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02.xlsx")
    assert (log["status"], log["rows_read"], log["rows_loaded"]) == ("loaded", 2, 2)
    assert (log["rows_totals"], log["rows_blank"], log["rows_footer"], log["rows_skipped"]) == (1, 1, 2, 4)
    assert log["totals_check"] == "ok"
    rows = run.staging("key_projects")
    assert [(r["source_row"], r["total_investment"], r["ytd_investment"]) for r in rows] == [
        (4, Decimal("15000.0000"), Decimal("2500.0000")), (5, Decimal("20000.0000"), Decimal("5000.0000"))]


@pytest.mark.parametrize("title, factor", [("单位：亿元", 10000), ("单位:元", Decimal("0.0001")),
                                          ("单位：万元", 1), ("（单位: 元）", Decimal("0.0001")),
                                          # read as 万元, without a word, before
                                          ("单位（亿元）", 10000), ("单位 亿元", 10000), ("单位：人民币亿元", 10000),
                                          ("填报单位：元宝村委会　单位：亿元", 10000), ("填报单位：开元煤业", 1),
                                          ("各单位元旦慰问金发放表", 1), ("填表单位：元亨公司", 1),
                                          ("申报单位：千元村委会", 1), ("单位：亿元人民币", 10000)])
def test_unit_in_title_row(raw, run_period, title, factor):
    write_xlsx(raw / "key_projects/2023-02.xlsx", [[TITLE], [title], KP_HEADER, kp_row(total=30000, plan=20000, ytd=10000)])
    run = run_period("key_projects", "2023-02")
    (row,) = run.staging("key_projects")
    assert row["total_investment"] == 30000 * factor
    assert row["annual_plan_investment"] == 20000 * factor


@pytest.mark.parametrize("title", ["单位：千元", "单位：百万元", "单位：万美元"])
def test_a_unit_in_the_title_the_figures_cannot_be_read_in_rejects_the_file(raw, run_period, title):
    """Read as 万元 before: a file in 千元 loaded ten times too large. With every money column's unit
    in its header, the title's counts for nothing."""
    write_xlsx(raw / "key_projects/2023-02.xlsx", [[TITLE], [title], KP_HEADER, kp_row(total=30000, plan=20000, ytd=10000)])
    header = [f"{h}（万元）" if h in ("总投资", "年度计划投资", "本年累计完成投资") else h for h in KP_HEADER]
    write_xlsx(raw / "key_projects/2023-02__县能源局.xlsx", [[TITLE], [title], header, kp_row("XM002", total=3000)])
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02.xlsx")
    assert log["status"] == "rejected" and f"标题中的金额单位“{title[3:]}”无法识别" in log["message"]
    assert [(r["project_code"], r["total_investment"]) for r in run.staging("key_projects")] == [("XM002", 3000)]


def test_unit_in_header_brackets_wins_over_title(raw, run_period):
    header = list(KP_HEADER)
    header[7] = "总投资（亿元）"
    header[8] = "年度计划投资(元)"
    header[9] = "本年累计完成投资\n（万元）"  # line break inside the cell
    write_xlsx(raw / "key_projects/2023-02.xlsx", [[TITLE, None, "单位：亿元"], header,
                                                   kp_row(total=2, plan=10_000_000, ytd=300)])
    run = run_period("key_projects", "2023-02")
    (row,) = run.staging("key_projects")
    assert (row["total_investment"], row["annual_plan_investment"], row["ytd_investment"]) == (20000, 1000, 300)


def test_unit_in_brackets_for_village_income(raw, run_period):
    write_csv(raw / "village_income/2023-03__平头镇.csv",
              [["村名称", "所属乡镇", "经营性收入(元)", "集体经济总收入（元）"], ["黑水村", "平头镇", "405,000", "1,000,000"]])
    run = run_period("village_income", "2023-03")
    (row,) = run.staging("village_income")
    assert (row["operating_income"], row["total_income"]) == (Decimal("40.5"), Decimal("100"))


def test_formula_cells_count_as_their_cached_value(raw, run_period):
    rows = [
        KP_HEADER,
        kp_row("XM001", total=Formula("=200+800", 1000), plan=Formula("=H2/2", 500), ytd=100),
        kp_row("XM002", total=400, plan=200, ytd=Formula("=10*5", 50)),
        ["合计", None, None, None, None, None, None, Formula("=SUM(H2:H3)", 1400), Formula("=SUM(I2:I3)", 700)],
    ]
    write_xlsx_cached(raw / "key_projects/2023-02.xlsx", rows)
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02.xlsx")
    assert (log["status"], log["totals_check"]) == ("loaded", "ok")
    assert [(r["total_investment"], r["annual_plan_investment"], r["ytd_investment"])
            for r in run.staging("key_projects")] == [(1000, 500, 100), (400, 200, 50)]


def test_formula_without_cached_value_is_an_empty_cell(raw, run_period):
    header = KP_HEADER + ["备注"]
    rows = [header,
            kp_row("XM001", total=Formula("=200+800")) + [None],
            kp_row("XM002", start=Formula("=DATE(2023,3,1)")) + [Formula('="见附件"')]]
    write_xlsx(raw / "key_projects/2023-02.xlsx", rows)
    run = run_period("key_projects", "2023-02")
    # said as a formula without its result (Excel shows a figure there), not as a blank cell
    (rej,) = run.rejected()
    assert (rej["source_cell"], rej["rule"], rej["column"]) == ("H2", "uncomputed_formula", "total_investment")
    assert rej["reason"].startswith("总投资是公式，文件中没有Excel算出的结果") and "不能入库" in rej["reason"]
    assert [(w["source_cell"], w["rule"]) for w in run.warnings()] == [
        ("N3", "uncomputed_formula"), ("O3", "uncomputed_formula")]
    (row,) = run.staging("key_projects")
    assert (row["project_code"], row["start_date"], row["remarks"]) == ("XM002", None, None)
    assert run.log("key_projects/2023-02.xlsx")["status"] == "partial"


def test_formula_without_cached_value_via_xlsxwriter(raw, run_period):
    write_xlsx_cached(raw / "key_projects/2023-02.xlsx", [KP_HEADER, kp_row("XM001", total=Formula("=1+1"))])
    run = run_period("key_projects", "2023-02")
    (rej,) = run.rejected()
    assert (rej["source_cell"], rej["rule"]) == ("H2", "uncomputed_formula")


def test_a_program_s_placeholder_results_are_not_figures(raw, run_period):
    """A workbook written by a program that leaves its formulas to Excel (xlsxwriter's default:
    `<v>0</v>` and `fullCalcOnLoad`) holds no computed figure: each formula cell reads as empty,
    said as a formula without its result (a required cell rejects its row, an optional one is
    NULL with a warning), and a formula 合计 is not compared; the plain cells load."""
    path = raw / "key_projects/2023-02.xlsx"
    write_xlsx_cached(path, [KP_HEADER,
                             kp_row("XM001", ytd=Formula("=100+200", 0)),
                             kp_row("XM002", start=Formula("=DATE(2023,3,15)", 0)),
                             ["合计", None, None, None, None, None, None, Formula("=H2+H3", 0)]],
                      computed_on_load=True)
    run = run_period("key_projects", "2023-02")
    (rej,) = run.rejected()
    assert (rej["source_cell"], rej["rule"], rej["column"], rej["value"]) == ("J2", "uncomputed_formula", "ytd_investment", None)
    assert rej["reason"] == ("本年累计完成投资是公式，文件中没有Excel算出的结果（文件由程序生成，未在Excel中保存过），"
                             "不能入库：请用Excel打开文件并保存后重新报送")
    (warn,) = run.warnings()
    assert (warn["source_cell"], warn["rule"], warn["column"]) == ("N3", "uncomputed_formula", "start_date")
    assert "已存为空值" in warn["reason"]
    (row,) = run.staging("key_projects")
    assert (row["project_code"], row["start_date"], row["total_investment"]) == ("XM002", None, Decimal("1000"))
    log = run.log("key_projects/2023-02.xlsx")
    assert log["totals_check"] is None and "合计行为公式且未保存计算结果，未核对（H4（总投资））" in log["message"]
    # the same file as Excel saves it: the figures are those it stored
    path.unlink()
    write_xlsx_cached(path, [KP_HEADER, kp_row("XM001", ytd=Formula("=100+200", 300))])
    (row,) = run_period("key_projects", "2023-02").staging("key_projects")
    assert row["ytd_investment"] == Decimal("300")


def test_a_program_s_stored_figures_are_taken_and_its_placeholders_are_found_wherever_they_are(raw, run_period):
    """In a workbook asking Excel to compute its formulas on opening, a value the program stored
    other than 0 is its figure (a title's unit, a total computed by the program); an array
    formula's 0s are placeholders over its whole range (only its first cell holds the formula),
    and a merge whose first cell is one shows that in every cell it covers."""
    import xlsxwriter

    path = raw / "key_projects/2023-02.xlsx"
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(path))  # fullCalcOnLoad, as xlsxwriter writes by default
    ws = wb.add_worksheet("Sheet1")
    ws.write_formula(0, 0, '="2023年1-2月重点项目（单位："&"元）"', None, "2023年1-2月重点项目（单位：元）")
    ws.write_row(1, 0, KP_HEADER)
    rows = [kp_row("XM001", total=10_000_000, plan=5_000_000), kp_row("XM002", total=8_000_000, plan=3_000_000),
            kp_row("XM003", total=6_000_000, plan=2_000_000), kp_row("XM004", total=4_000_000, plan=1_000_000),
            kp_row("XM005", total=2_000_000, plan=1_000_000)]
    for r, row in enumerate(rows, start=2):
        ws.write_row(r, 0, row)
    ws.write_array_formula("J3:J4", "{=H3:H4/10}", None, 0)  # ytd of XM001, XM002: placeholders
    ws.write_formula(4, 9, "=H5/10", None, 600_000)  # ytd of XM003: the program's figure
    ws.merge_range("J6:J7", None)  # the ytd of XM004 and XM005, one formula
    ws.write_formula(5, 9, "=H6/10", None, 0)
    wb.close()
    run = run_period("key_projects", "2023-02")
    staged = {r["project_code"]: r for r in run.staging("key_projects")}
    assert list(staged) == ["XM003"]
    assert (staged["XM003"]["total_investment"], staged["XM003"]["ytd_investment"]) == (Decimal("600"), Decimal("60"))
    assert [(r["source_cell"], r["rule"]) for r in run.rejected()] == [
        ("J3", "uncomputed_formula"), ("J4", "uncomputed_formula"), ("J6", "uncomputed_formula"),
        ("J7", "uncomputed_formula")]


def test_percent_formatted_cells(raw, run_period):
    rows = [["指标名称", "全市数值"], ["规上工业增加值增速", Pct(0.106)]]
    write_xlsx(raw / "city_indicators/2023-02.xlsx", rows)
    run = run_period("city_indicators", "2023-02")
    (row,) = run.staging("city_indicators")
    assert row["value"] == Decimal("10.6")


@pytest.mark.parametrize("stored, fmt, read", [(10.6, '0.0"%"', "10.6"), (-3.5, "0.0\\%", "-3.5"),
                                               (0.052, "0.0%;[Red]-0.0%", "5.2"), (7.25, "[$%-804]0.00", "7.25"),
                                               (0.0725, '"增长"0.00%', "7.25")])
def test_a_percent_sign_written_as_text_in_the_format_scales_nothing(raw, run_period, stored, fmt, read):
    """`0.0"%"` and `0.0\\%` show the number stored (10.6) with a % after it, as Excel does: it is
    not multiplied by 100 as under `0.0%` (it was, to 1060)."""
    write_xlsx(raw / "city_indicators/2023-02.xlsx", [["指标名称", "全市数值"], ["规上工业增加值增速", Pct(stored, fmt)]])
    (row,) = run_period("city_indicators", "2023-02").staging("city_indicators")
    assert row["value"] == Decimal(read)
    assert not is_percent_format("0.0_%") and not is_percent_format(None)


def test_percent_formatted_cells_xlsxwriter_and_plain_numbers(raw, run_period):
    rows = [["指标", "数值"], ["规上工业增加值增速", Pct(0.095)]]
    write_xlsx_cached(raw / "city_indicators/2023-02__a.xlsx", rows)
    write_xlsx(raw / "city_indicators/2023-03.xlsx", [["指标", "数值"], ["规模以上工业增加值增速", 9.5]])
    run = run_period("city_indicators", "2023-02")
    run = run_period("city_indicators", "2023-03")
    assert [(r["period"], r["indicator"], r["value"]) for r in run.staging("city_indicators")] == [
        ("2023-02", "规上工业增加值增速", Decimal("9.5")), ("2023-03", "规上工业增加值增速", Decimal("9.5"))]


def test_excel_date_cells(raw, run_period):
    rows = [KP_HEADER, kp_row("XM001", start=datetime(2023, 3, 15)), kp_row("XM002", start=date(2022, 11, 1))]
    write_xlsx(raw / "key_projects/2023-02.xlsx", rows)
    run = run_period("key_projects", "2023-02")
    assert [r["start_date"] for r in run.staging("key_projects")] == [date(2023, 3, 15), date(2022, 11, 1)]


def test_merged_township_cells_apply_to_every_village(raw, run_period):
    rows = [
        ["2023年1-3月村级集体经济收入情况表"],
        ["单位：万元"],
        VI_HEADER,
        [140725103201, "黑水村", "平头镇", 45, 60, "光伏"],
        [None, "山底村", None, 12, 20, "土地流转"],
        [None, "龙栖村", None, 3, 5, None],
        [None, "宗艾村", "宗艾镇", 50, 80, None],
    ]
    write_xlsx(raw / "village_income/2023-03.xlsx", rows, merges=("C4:C6", "A1:F1"))
    run = run_period("village_income", "2023-03")
    assert run.log("village_income/2023-03.xlsx")["status"] == "loaded"
    assert [(r["village_name"], r["township"], r["village_code"]) for r in run.staging("village_income")] == [
        ("黑水村", "平头镇", "140725103201"), ("山底村", "平头镇", "140725103202"),
        ("龙栖村", "平头镇", "140725103203"), ("宗艾村", "宗艾镇", "140725102201")]


def test_code_read_as_float_is_its_digits(raw, run_period):
    write_xlsx(raw / "village_income/2023-03.xlsx", [VI_HEADER, [140725103201.0, "黑水村", "平头镇", 45, 60, None]])
    run = run_period("village_income", "2023-03")
    (row,) = run.staging("village_income")
    assert row["village_code"] == "140725103201"
    assert run.warnings() == []


def test_xlsx_cell_addresses_are_excel_rows(raw, run_period):
    rows = [[TITLE], ["填报单位：县发改局"], [], KP_HEADER, kp_row("XM001"), kp_row("XM002", total=-200)]
    write_xlsx(raw / "key_projects/2023-02.xlsx", rows)
    run = run_period("key_projects", "2023-02")
    (rej,) = run.rejected()
    assert (rej["source_row"], rej["source_cell"], rej["value"], rej["rule"]) == (6, "H6", "-200", "not_positive")
    assert rej["reason"] == "总投资必须大于0（当前值：-200）"
    assert_consistent_counts(run)


def test_a_formula_whose_computed_value_is_an_error_is_not_a_number(raw, run_period):
    # Excel computed #DIV/0! for the 总投资 formula: the clerk is told that, not "empty".
    write_xlsx_cached(raw / "key_projects/2023-02.xlsx", [
        KP_HEADER,
        kp_row("XM001"),
        kp_row("XM002", total=Formula("=1/0", "#DIV/0!")),
    ])
    run = run_period("key_projects", "2023-02")
    (issue,) = run.rejected(source_row=3)
    assert (issue["source_cell"], issue["rule"], issue["value"]) == ("H3", "not_a_number", "#DIV/0!")


def test_array_formulas_far_away_cost_no_more_than_a_sheet(raw, run_period):
    """A few bytes of XML can name array ranges of millions of cells: only those within a
    sheet's limits are taken, up to ARRAY_CELLS_MAX cells for the sheet."""
    from shouyang_pipeline.ingest.xlsx_limits import ARRAY_CELLS_MAX, formula_cells

    cells = b"".join(b'<c r="C%d"><f t="array" ref="A%d:AX%d">1</f><v>0</v></c>'
                     % (i, 300_000 + i * 2_000, 302_000 + i * 2_000) for i in range(1, 200))
    assert len(formula_cells(b"<sheetData><row>" + cells + b"</row></sheetData>")) == 199  # beyond the rows
    near = b"".join(b'<c r="C%d"><f t="array" ref="D%d:ALL%d">1</f><v>0</v></c>' % (i, i * 200, i * 200 + 199)
                    for i in range(1, 200))
    found = formula_cells(b"<sheetData><row>" + near + b"</row></sheetData>")
    assert 199 < len(found) <= ARRAY_CELLS_MAX + 199


def test_a_date_formula_s_placeholder_is_a_formula_without_its_value(raw, run_period):
    import xlsxwriter

    path = raw / "key_projects/2023-02.xlsx"
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(path))  # fullCalcOnLoad
    ws = wb.add_worksheet("Sheet1")
    ws.write_row(0, 0, KP_HEADER)
    ws.write_row(1, 0, kp_row("XM001", start=None))
    ws.write_formula(1, KP_HEADER.index("开工时间"), "=DATE(2023,3,15)", wb.add_format({"num_format": "yyyy-mm-dd"}), 0)
    wb.close()
    run = run_period("key_projects", "2023-02")
    (warn,) = run.warnings()
    assert (warn["source_cell"], warn["rule"]) == ("N2", "uncomputed_formula")
    (row,) = run.staging("key_projects")
    assert row["start_date"] is None


@pytest.mark.parametrize("calc, asks", [
    (None, True),  # xlsxwriter's own: <calcPr calcId="124519" fullCalcOnLoad="1"/>
    (b'<calcPr calcId="191029"/>', False),  # as Excel saves it
    (b"<x:calcPr calcId='1' fullCalcOnLoad = 'true'/>", True),
    (b'<calcPr fullCalcOnLoad="0" calcId="1"/>', False),
    (b'<calcPrX fullCalcOnLoad="1"/>', False),
])
def test_a_workbook_asking_for_its_formulas_to_be_computed_on_opening_is_told(tmp_path, calc, asks):
    import zipfile

    from shouyang_pipeline.ingest.xlsx_limits import computed_on_load

    path = write_xlsx_cached(tmp_path / "a.xlsx", [KP_HEADER], computed_on_load=True)
    data = path.read_bytes()
    if calc is not None:
        data = patch(data, "xl/workbook.xml", lambda xml: re.sub(rb"<calcPr[^>]*/>", calc, xml))
    assert computed_on_load(zipfile.ZipFile(io.BytesIO(data))) is asks
