"""SUBMISSIONS.md 4.5-4.7: smart_mines, zone_operations and talent, ingested and rejected exactly as
the contract says, in every accepted form (sections 1-3) and against hostile cells; the tables
checked are the real ones (staging.*, audit.*), after a run of real files."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from click.testing import CliRunner

from shouyang_pipeline.cli import main
from shouyang_pipeline_tests.conftest import assert_consistent_counts, csv_bytes, write_csv, write_xlsx

CJK = re.compile(r"[\u4e00-\u9fff]")
CODE_NAMES = re.compile(r"[a-z]+_[a-z_]+")  # a rule code or column name leaking into a clerk's text

# ------------------------------------------------------------------ headers and rows

SM_HEADER = ["煤矿名称", "工作面编号", "工作面名称", "工作面类型", "建设状态", "建成时间", "是否5G覆盖", "本年累计完成投资"]
#             A           B            C            D            E          F          G             H


def sm_row(code="DW-01", mine="段王煤矿", ftype="采煤", status="在建", done=None, g5="是", inv=100, name=None):
    return [mine, code, name if name is not None else f"{code}工作面", ftype, status, done, g5, inv]


ZO_HEADER = ["园区名称", "固定资产投资本年累计", "税收收入本年累计", "营业性收入本年累计", "“四上”企业数",
             "本年新增“四上”企业", "从业人员"]
#             A  B  C  D  E  F  G


def zo_row(zone="平头融合发展区", fai=1000, tax=200, rev=3000, above=12, new=2, emp=800):
    return [zone, fai, tax, rev, above, new, emp]


TA_HEADER = ["产业领域", "人才类别", "本年累计对接人数", "本年累计引进培育人数"]


def ta_row(field="数字经济", kind="领军人才", connected=10, recruited=3):
    return [field, kind, connected, recruited]


SM = "smart_mines/2023-05.xlsx"
SM_CSV = "smart_mines/2023-05.csv"
ZO = "zone_operations/2023-05.xlsx"
ZO_CSV = "zone_operations/2023-05.csv"
TA = "talent/2023-06.xlsx"
TA_CSV = "talent/2023-06.csv"


def _cell(r):
    return (r["source_row"], r["source_cell"], r["column"], r["value"], r["rule"])


def _only(issues):
    assert len(issues) == 1, issues
    return issues[0]


def _counts(log):
    return (log["status"], log["rows_read"], log["rows_loaded"], log["rows_rejected"])


def _clerk_text(text):
    """A reason a clerk reads: Chinese, no code names."""
    assert CJK.search(text), text
    assert not CODE_NAMES.search(text), text


def _sm(run):
    return [(r["mine"], r["face_code"], r["face_type"], r["status"], r["completed_on"], r["has_5g"],
             r["investment_ytd"]) for r in run.staging("smart_mines")]


# ================================================================== 1. the XLSX template, each dataset

INSTRUCTIONS = {"填报说明": [["填报说明"], ["1. 每月5日前报送本年1月至本月累计数"], ["2. 已建成的工作面请填写建成时间"]]}


def _sm_template(total):
    return [
        ["2023年1-5月煤矿智能化工作面建设进展表"],
        ["填报单位：县能源局　　　　单位：亿元"],
        SM_HEADER,
        ["段王煤矿", "DW-01", "15101综采工作面", "综采", "已建成", datetime(2023, 3, 15), "是", 0.12],  # 4
        [None, "DW-02", "15102掘进工作面", "综掘", "施工中", None, "否", 0.30],                   # 5
        [None, "DW-03", "15103掘进工作面", "掘进工作面", "未开工", None, None, None],               # 6
        ["开元矿", "KY-01", "9号煤采煤工作面", "采", "完工", date(2023, 5, 31), "√", 0.05],         # 7
        ["合计", None, None, None, None, None, None, total],                                         # 8
        [None],                                                                                      # 9
        ["填表人：张三　审核人：李四"],                                                                # 10
        ["注：本表投资为本年1月至报告月累计数"],                                                       # 11
    ]


def test_smart_mines_xlsx_template_loads_with_merges_units_dates_and_totals(raw, run_period):
    write_xlsx(raw / SM, _sm_template(0.47), merges=("A1:H1", "A4:A6"), sheets_before=INSTRUCTIONS)
    run = run_period("smart_mines", "2023-05")
    assert _sm(run) == [
        ("段王煤矿", "DW-01", "采煤", "已建成", date(2023, 3, 15), True, Decimal("1200")),
        ("段王煤矿", "DW-02", "掘进", "在建", None, False, Decimal("3000")),
        ("段王煤矿", "DW-03", "掘进", "未开工", None, False, None),
        ("开元煤矿", "KY-01", "采煤", "已建成", date(2023, 5, 31), True, Decimal("500")),
    ]
    assert [r["source_row"] for r in run.staging("smart_mines")] == [4, 5, 6, 7]
    log = run.log(SM)
    assert _counts(log) == ("loaded", 4, 4, 0)
    assert (log["rows_totals"], log["rows_footer"], log["totals_check"]) == (1, 2, "ok")
    assert "合计行核对一致" in log["message"]
    assert run.rejected() == [] and run.warnings() == []


def test_smart_mines_totals_mismatch_warns_in_the_columns_unit(raw, run_period):
    write_xlsx(raw / SM, _sm_template(0.5), merges=("A1:H1", "A4:A6"), sheets_before=INSTRUCTIONS)
    run = run_period("smart_mines", "2023-05")
    log = run.log(SM)
    assert _counts(log) == ("loaded", 4, 4, 0) and log["totals_check"] == "mismatch"
    assert "合计行与明细不符：本年累计完成投资合计为0.5亿元，明细行相加为0.47亿元（第8行）" in log["message"]


def _zo_template(tax_total):
    return [
        ["2023年1-5月园区运行情况表"],
        ["填报单位：县发改局　　单位：亿元"],
        ["园区名称", "固定资产投资本年累计", "税收收入本年累计（万元）", "营业性收入本年累计", "“四上”企业数",
         "本年新增“四上”企业", "从业人员", "备注"],
        ["平头融合区", 12.5, 3200, 40.25, 35, 4, "5,600", None],            # 4
        ["朝阳煤机专业镇", 3, 800, 9.5, 12, 0, 1800, "新增2家入统"],         # 5
        [None],                                                              # 6
        ["景尚农业园", 0.8, 50, 1.2, 3, None, None, None],                  # 7
        ["合计", 16.3, tax_total, 50.95, 50, 4, 7400, None],                 # 8
        ["填报人：王五"],                                                     # 9
    ]


def test_zone_operations_xlsx_template_loads_in_wan_yuan(raw, run_period):
    write_xlsx(raw / ZO, _zo_template(4050), merges=("A1:H1",), sheets_before=INSTRUCTIONS)
    run = run_period("zone_operations", "2023-05")
    got = [(r["zone"], r["fixed_asset_investment_ytd"], r["tax_revenue_ytd"], r["operating_revenue_ytd"],
            r["above_scale_enterprises"], r["new_above_scale_enterprises"], r["employees"], r["remarks"], r["source_row"])
           for r in run.staging("zone_operations")]
    assert got == [
        ("平头融合发展区", Decimal("125000"), Decimal("3200"), Decimal("402500"), 35, 4, 5600, None, 4),
        ("朝阳煤机制造专业镇", Decimal("30000"), Decimal("800"), Decimal("95000"), 12, 0, 1800, "新增2家入统", 5),
        ("景尚农业现代化产业园", Decimal("8000"), Decimal("50"), Decimal("12000"), 3, None, None, None, 7),
    ]
    log = run.log(ZO)
    assert _counts(log) == ("loaded", 3, 3, 0)
    assert (log["rows_totals"], log["rows_blank"], log["rows_footer"], log["totals_check"]) == (1, 1, 1, "ok")
    assert run.warnings() == [] and run.rejected() == []


def test_zone_operations_totals_mismatch_names_the_column_in_its_own_unit(raw, run_period):
    write_xlsx(raw / ZO, _zo_template(4100), sheets_before=INSTRUCTIONS)
    run = run_period("zone_operations", "2023-05")
    log = run.log(ZO)
    assert log["totals_check"] == "mismatch" and log["status"] == "loaded"
    assert "税收收入本年累计合计为4,100万元，明细行相加为4,050万元（第8行）" in log["message"]


def test_talent_xlsx_template_with_merged_field_cells(raw, run_period):
    rows = [["2023年1-6月人才引育情况表"],
            ["填报单位：县委组织部"],
            TA_HEADER,
            ["数字经济", "领军人才", 5, 2],          # 4
            [None, "实用型人才", 120, 45],            # 5
            ["医疗康养", "领军型人才", 3, 1],         # 6
            [None, "实用人才", "1,234", "１２３"],    # 7
            ["合计", None, 1362, 171],                # 8
            [],
            ["注：只填人数，不填个人信息"]]
    write_xlsx(raw / TA, rows, merges=("A1:D1", "A4:A5", "A6:A7"), sheets_before=INSTRUCTIONS)
    run = run_period("talent", "2023-06")
    got = [(r["field"], r["talent_kind"], r["connected_ytd"], r["recruited_ytd"], r["source_row"])
           for r in run.staging("talent")]
    assert got == [("数字经济", "领军人才", 5, 2, 4), ("数字经济", "实用型人才", 120, 45, 5),
                   ("医疗康养", "领军人才", 3, 1, 6), ("医疗康养", "实用型人才", 1234, 123, 7)]
    log = run.log(TA)
    assert _counts(log) == ("loaded", 4, 4, 0)
    assert (log["rows_totals"], log["rows_footer"]) == (1, 1)
    assert log["totals_check"] is None  # no money column: counts are not totals-checked (SUBMISSIONS.md 2)


# ================================================================== 2. CSV encodings and aliases

ENCODINGS = ("utf-8", "utf-8-sig", "gbk")

# For each column, every spelling the contract accepts (header first, then its aliases).
SM_SPELLINGS = {
    "mine": ["煤矿名称", "矿井名称", "矿井", "煤矿"],
    "face_code": ["工作面编号", "工作面代码", "编号"],
    "face_name": ["工作面名称", "工作面"],
    "face_type": ["工作面类型", "类型", "采掘类型"],
    "status": ["建设状态", "进展情况", "状态"],
    "completed_on": ["建成时间", "建成日期", "验收时间"],
    "has_5g": ["是否5G覆盖", "5G覆盖"],
    "investment_ytd": ["本年累计完成投资", "累计完成投资"],
}
ZO_SPELLINGS = {
    "zone": ["园区名称", "园区", "所在园区"],
    "fixed_asset_investment_ytd": ["固定资产投资本年累计", "固定资产投资", "本年固定资产投资"],
    "tax_revenue_ytd": ["税收收入本年累计", "税收收入", "税收"],
    "operating_revenue_ytd": ["营业性收入本年累计", "营业性收入", "营业收入"],
    "above_scale_enterprises": ["“四上”企业数", "四上企业数", "四上企业"],
    "new_above_scale_enterprises": ["本年新增“四上”企业", "新增四上企业", "新增“四上”企业数"],
    "employees": ["从业人员", "从业人数", "就业人数"],
}
TA_SPELLINGS = {
    "field": ["产业领域", "领域", "行业"],
    "talent_kind": ["人才类别", "类别", "人才类型"],
    "connected_ytd": ["本年累计对接人数", "对接人数", "累计对接"],
    "recruited_ytd": ["本年累计引进培育人数", "引进培育人数", "引育人数", "累计引进"],
}


def _spelled(spellings, i):
    return [names[i % len(names)] for names in spellings.values()]


def test_every_spelling_of_the_contract_is_declared():
    """The contract's header and aliases, in its order; a declaration may accept more spellings
    (`本年新增“四上”企业数`), never fewer."""
    from shouyang_pipeline.catalog.datasets import DATASETS

    for name, spellings in (("smart_mines", SM_SPELLINGS), ("zone_operations", ZO_SPELLINGS), ("talent", TA_SPELLINGS)):
        declared = {f.name: [f.header, *f.aliases] for f in DATASETS[name].fields}
        assert declared.keys() == spellings.keys(), name
        for column, contract in spellings.items():
            assert declared[column][:len(contract)] == contract, (name, column)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("spelling", [0, 1, 2, 3])
def test_smart_mines_csv_every_encoding_and_alias(raw, run_period, encoding, spelling):
    header = _spelled(SM_SPELLINGS, spelling)
    write_csv(raw / SM_CSV, [header, sm_row("DW-01", mine="段王", status="建成", done="2023/4/8", inv="1,200.5"),
                             sm_row("PS-01", mine="平舒煤业", ftype="综掘", g5="否", inv="")], encoding=encoding)
    run = run_period("smart_mines", "2023-05")
    assert _sm(run) == [("段王煤矿", "DW-01", "采煤", "已建成", date(2023, 4, 8), True, Decimal("1200.5")),
                        ("平舒煤矿", "PS-01", "掘进", "在建", None, False, None)]
    assert [r["face_name"] for r in run.staging("smart_mines")] == ["DW-01工作面", "PS-01工作面"]
    assert _counts(run.log(SM_CSV)) == ("loaded", 2, 2, 0)
    assert run.rejected() == [] and run.warnings() == []


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("spelling", [0, 1, 2])
def test_zone_operations_csv_every_encoding_and_alias(raw, run_period, encoding, spelling):
    header = _spelled(ZO_SPELLINGS, spelling)
    write_csv(raw / ZO_CSV, [header, zo_row("平头融合区", fai="1,000", tax="２００", rev=" 3000.5 ", above=12, new=2, emp=800)],
              encoding=encoding)
    run = run_period("zone_operations", "2023-05")
    (row,) = run.staging("zone_operations")
    assert (row["zone"], row["fixed_asset_investment_ytd"], row["tax_revenue_ytd"], row["operating_revenue_ytd"],
            row["above_scale_enterprises"], row["new_above_scale_enterprises"], row["employees"]) == (
        "平头融合发展区", Decimal("1000"), Decimal("200"), Decimal("3000.5"), 12, 2, 800)
    assert run.log(ZO_CSV)["status"] == "loaded" and run.warnings() == []


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("spelling", [0, 1, 2, 3])
def test_talent_csv_every_encoding_and_alias(raw, run_period, encoding, spelling):
    header = _spelled(TA_SPELLINGS, spelling)
    write_csv(raw / TA_CSV, [header, ta_row("交通物流", "领军型人才", "1,234", "１２"), ta_row("其他", "实用人才", 0, 0)],
              encoding=encoding)
    run = run_period("talent", "2023-06")
    assert [(r["field"], r["talent_kind"], r["connected_ytd"], r["recruited_ytd"]) for r in run.staging("talent")] == [
        ("交通物流", "领军人才", 1234, 12), ("其他", "实用型人才", 0, 0)]
    assert run.log(TA_CSV)["status"] == "loaded"


def test_english_column_names_are_accepted_case_insensitively(raw, run_period):
    write_csv(raw / TA_CSV, [["FIELD", "Talent_Kind", "connected_ytd", "RECRUITED_YTD"], ta_row()])
    run = run_period("talent", "2023-06")
    assert run.log(TA_CSV)["status"] == "loaded" and len(run.staging("talent")) == 1


# ------------------------------------------------------------------ units in header brackets

def test_units_in_header_brackets_override_the_title_unit(raw, run_period):
    write_csv(raw / ZO_CSV, [
        ["单位：万元"],
        ["园区名称", "固定资产投资（亿元）", "税收收入(元)", "营业性收入\n（万元）", "四上企业数（家）", "从业人员（人）"],
        ["平头融合发展区", "1.25", "3,456,700", 800, 30, 1200]])
    run = run_period("zone_operations", "2023-05")
    (row,) = run.staging("zone_operations")
    assert (row["fixed_asset_investment_ytd"], row["tax_revenue_ytd"], row["operating_revenue_ytd"],
            row["above_scale_enterprises"], row["employees"], row["source_row"]) == (
        Decimal("12500"), Decimal("345.67"), Decimal("800"), 30, 1200, 3)


def test_smart_mines_investment_in_yuan_from_the_header(raw, run_period):
    header = list(SM_HEADER)
    header[7] = "本年累计完成投资(元)"
    write_csv(raw / SM_CSV, [header, sm_row(inv="1,234,500")])
    run = run_period("smart_mines", "2023-05")
    assert run.staging("smart_mines")[0]["investment_ytd"] == Decimal("123.45")


# ------------------------------------------------------------------ quotation marks in headers

QUOTE_VARIANTS = ["“四上”企业数", '"四上"企业数', "四上企业数", "「四上」企业数", "『四上』企业数", "‘四上’企业数",
                  "＂四上＂企业数"]


@pytest.mark.parametrize("header", QUOTE_VARIANTS)
@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_quotation_marks_in_the_four_above_headers_are_ignored(raw, run_period, header, form):
    new = "本年新增" + header.removesuffix("数")
    rows = [["园区名称", "固定资产投资", "税收收入", "营业性收入", header, new], ["平头融合发展区", 1, 2, 3, 30, 4]]
    path = ZO if form == "xlsx" else ZO_CSV
    (write_xlsx if form == "xlsx" else write_csv)(raw / path, rows)
    run = run_period("zone_operations", "2023-05")
    (row,) = run.staging("zone_operations")
    assert (row["above_scale_enterprises"], row["new_above_scale_enterprises"]) == (30, 4)
    assert run.log(path)["ignored_columns"] is None


def test_csv_quoted_quote_headers(raw, run_period):
    body = ('园区名称,固定资产投资,税收收入,营业性收入,"""四上""企业数","本年新增""四上""企业",'
            '"新增""四上""企业数"\r\n平头融合发展区,1,2,3,30,4,\r\n')
    (raw / "zone_operations").mkdir()
    (raw / ZO_CSV).write_bytes(body.encode("utf-8"))
    run = run_period("zone_operations", "2023-05")
    # two headers for one column (本年新增"四上"企业 and 新增"四上"企业数): the file is rejected naming both
    log = run.log(ZO_CSV)
    assert log["status"] == "rejected"
    assert '表头“本年新增"四上"企业”和“新增"四上"企业数”都对应' in log["message"]
    (raw / ZO_CSV).write_bytes(body.replace(',"新增""四上""企业数"', "").replace("4,\r\n", "4\r\n").encode("utf-8"))
    run = run_period("zone_operations", "2023-05")
    (row,) = run.staging("zone_operations")
    assert (row["above_scale_enterprises"], row["new_above_scale_enterprises"]) == (30, 4)


# ------------------------------------------------------------------ two headers for one column

@pytest.mark.parametrize("dataset, path, header, row, first, second", [
    ("smart_mines", SM_CSV, ["煤矿名称", "工作面编号", "工作面类型", "建设状态", "矿井"], ["段王", "F1", "采", "在建", "段王"],
     "煤矿名称", "矿井"),
    ("smart_mines", SM_CSV, ["煤矿名称", "工作面编号", "编号", "工作面类型", "建设状态"], ["段王", "F1", "F1", "采", "在建"],
     "工作面编号", "编号"),
    ("zone_operations", ZO_CSV, ["园区名称", "固定资产投资本年累计", "固定资产投资（亿元）", "税收收入", "营业性收入"],
     ["平头融合区", 1, 1, 2, 3], "固定资产投资本年累计", "固定资产投资（亿元）"),
    ("zone_operations", ZO_CSV, ["园区名称", "固定资产投资", "税收收入", "营业性收入", "“四上”企业数", "四上企业"],
     ["平头融合区", 1, 2, 3, 4, 4], "“四上”企业数", "四上企业"),
    ("talent", TA_CSV, ["产业领域", "行业", "人才类别", "对接人数", "引育人数"], ["其他", "其他", "领军人才", 1, 1],
     "产业领域", "行业"),
])
def test_two_headers_for_one_column_reject_the_file(raw, run_period, dataset, path, header, row, first, second):
    write_csv(raw / path, [header, row])
    run = run_period(dataset, path.split("/")[1][:7])
    log = run.log(path)
    assert (log["status"], log["rows_read"]) == ("rejected", 0)
    assert f"表头“{first}”和“{second}”都对应" in log["message"] and "请删除其中一列" in log["message"]
    assert run.staging(dataset) == []


# ================================================================== 3. smart_mines

def _sm_csv(raw, run_period, *rows, header=SM_HEADER, path=SM_CSV):
    write_csv(raw / path, [header, *rows])
    return run_period("smart_mines", "2023-05")


@pytest.mark.parametrize("written, stored", [
    ("采煤", "采煤"), ("综采", "采煤"), ("采煤工作面", "采煤"), ("采", "采煤"), (" 综 采 ", "采煤"), ("采　煤", "采煤"),
    ("掘进", "掘进"), ("综掘", "掘进"), ("掘进工作面", "掘进"), ("掘", "掘进"), ("掘进　工作面", "掘进"),
])
def test_face_type_synonyms_are_stored_canonically(raw, run_period, written, stored):
    run = _sm_csv(raw, run_period, sm_row(ftype=written))
    assert [r["face_type"] for r in run.staging("smart_mines")] == [stored]


@pytest.mark.parametrize("written, stored", [
    ("未开工", "未开工"), ("在建", "在建"), ("施工中", "在建"), ("已建成", "已建成"), ("建成", "已建成"),
    ("完工", "已建成"), ("已完成", "已建成"), ("已 完 成", "已建成"),
])
def test_status_synonyms_are_stored_canonically(raw, run_period, written, stored):
    run = _sm_csv(raw, run_period, sm_row(status=written, done="2023-05-02"))
    assert [r["status"] for r in run.staging("smart_mines")] == [stored]
    assert run.warnings() == []


def test_unknown_face_type_or_status_rejects_the_row(raw, run_period):
    run = _sm_csv(raw, run_period, sm_row("F1", ftype="综放"), sm_row("F2", status="验收中"), sm_row("F3"))
    rej = run.rejected()
    assert [_cell(r) for r in rej] == [(2, "D2", "face_type", "综放", "not_in_list"),
                                       (3, "E3", "status", "验收中", "not_in_list")]
    assert rej[0]["reason"] == "工作面类型只能填写采煤、掘进之一（当前值：综放）"
    assert rej[1]["reason"] == "建设状态只能填写未开工、在建、已建成之一（当前值：验收中）"
    assert [r["face_code"] for r in run.staging("smart_mines")] == ["F3"]


@pytest.mark.parametrize("written, stored", [
    ("段王煤矿", "段王煤矿"), ("段王", "段王煤矿"), ("段王煤业", "段王煤矿"), ("段王矿", "段王煤矿"),
    ("开元", "开元煤矿"), ("开元矿业", "开元煤矿"), ("开元矿", "开元煤矿"),
    ("平舒", "平舒煤矿"), ("平舒煤业", "平舒煤矿"), ("平舒矿", "平舒煤矿"),
    ("DUANWANG", "段王煤矿"), ("kaiyuan", "开元煤矿"), ("平　舒　煤　矿", "平舒煤矿"), ("\u3000段王煤业 ", "段王煤矿"),
])
def test_mine_aliases_are_stored_as_the_mine_name(raw, run_period, written, stored):
    run = _sm_csv(raw, run_period, sm_row(mine=written))
    assert [r["mine"] for r in run.staging("smart_mines")] == [stored]
    assert run.rejected() == [] and run.warnings() == []


def test_unknown_mine_rejects_the_row(raw, run_period):
    run = _sm_csv(raw, run_period, sm_row("F1", mine="王家庄煤矿"), sm_row("F2", mine=""), sm_row("F3"))
    rej = run.rejected()
    assert [_cell(r) for r in rej] == [(2, "A2", "mine", "王家庄煤矿", "not_in_list"), (3, "A3", "mine", None, "required")]
    # the clerk sees what may be written
    assert rej[0]["reason"] == ("煤矿名称“王家庄煤矿”不在智能化建设煤矿名录中，应为段王煤矿、开元煤矿、平舒煤矿之一"
                                "（也可写名录中的简称），请核对名称")
    assert rej[1]["reason"] == "煤矿名称为必填项，不能为空"
    assert rej[0]["raw_row"]["工作面编号"] == "F1"
    assert [r["face_code"] for r in run.staging("smart_mines")] == ["F3"]
    assert _counts(run.log(SM_CSV)) == ("partial", 3, 1, 2)


def test_face_code_too_long(raw, run_period):
    code = "DW-" + "0" * 30
    run = _sm_csv(raw, run_period, sm_row(code), sm_row("D" * 32))
    rej = _only(run.rejected())
    assert _cell(rej) == (2, "B2", "face_code", code, "too_long")
    assert rej["reason"] == f"工作面编号不能超过32个字符（当前值：{code}）"
    assert [r["face_code"] for r in run.staging("smart_mines")] == ["D" * 32]


def test_duplicate_face_code_rejects_every_row_carrying_it(raw, run_period):
    run = _sm_csv(raw, run_period, sm_row("DW-01"), sm_row("DW-02"), sm_row("ＤＷ－０１", mine="开元"), sm_row("DW-01 "))
    rej = run.rejected()
    assert [(r["source_row"], r["source_cell"], r["rule"]) for r in rej] == [
        (2, None, "duplicate_key"), (4, None, "duplicate_key"), (5, None, "duplicate_key")]
    assert rej[0]["reason"] == ("工作面编号“DW-01”在本期重复出现（另见：本文件第4行；本文件第5行），"
                                "重复的各行均不入库，请核对后只保留一行")
    assert "本文件第2行" in rej[1]["reason"] and "本文件第5行" in rej[1]["reason"]
    assert [r["face_code"] for r in run.staging("smart_mines")] == ["DW-02"]
    assert_consistent_counts(run)


# ------------------------------------------------------------------ future_date

@pytest.mark.parametrize("written", ["2023-05-31", "2023/5/31", "2023.5.1", "2023年5月31日", "2023年5月", "2020-01-01"])
def test_a_date_in_or_before_the_reporting_month_is_accepted(raw, run_period, written):
    run = _sm_csv(raw, run_period, sm_row(status="已建成", done=written))
    (row,) = run.staging("smart_mines")
    assert row["completed_on"] is not None and row["completed_on"] <= date(2023, 5, 31)
    assert run.warnings() == [] and run.rejected() == []


@pytest.mark.parametrize("written", ["2023-06-01", "2023年6月", "2024年1月1日", "2023.12.31"])
def test_a_date_after_the_reporting_month_is_a_cell_warning(raw, run_period, written):
    run = _sm_csv(raw, run_period, sm_row("F1", status="已建成", done=written), sm_row("F2"))
    (row, _) = run.staging("smart_mines")
    assert (row["face_code"], row["status"], row["completed_on"]) == ("F1", "已建成", None)
    w = _only(run.warnings())
    assert _cell(w) == (2, "F2", "completed_on", written, "future_date")
    assert written in w["reason"] and "2023-05-31" in w["reason"] and w["reason"].startswith("建成时间")
    _clerk_text(w["reason"])
    assert run.rejected() == [] and _counts(run.log(SM_CSV)) == ("loaded", 2, 2, 0)
    assert "1个单元格无法识别或不符合规则，已存为空值" in run.log(SM_CSV)["message"]


def test_future_date_as_an_excel_date_cell(raw, run_period):
    write_xlsx(raw / SM, [SM_HEADER, sm_row("F1", status="已建成", done=datetime(2023, 6, 1)),
                          sm_row("F2", status="已建成", done=datetime(2023, 5, 31))])
    run = run_period("smart_mines", "2023-05")
    assert [r["completed_on"] for r in run.staging("smart_mines")] == [None, date(2023, 5, 31)]
    w = _only(run.warnings())
    assert _cell(w) == (2, "F2", "completed_on", "2023-06-01", "future_date")


def test_the_reporting_month_sets_the_limit(raw, run_period):
    write_csv(raw / "smart_mines/2023-06.csv", [SM_HEADER, sm_row(status="已建成", done="2023-06-30")])
    write_csv(raw / "smart_mines/2023-02.csv", [SM_HEADER, sm_row(status="已建成", done="2023-02-28"),
                                               sm_row("F2", status="已建成", done="2023-03-01")])
    run = run_period("smart_mines", "2023-06")
    assert run.warnings() == []
    run = run_period("smart_mines", "2023-02")
    assert [(w["source_cell"], w["rule"]) for w in run.warnings()] == [("F3", "future_date")]


# ------------------------------------------------------------------ missing_date

@pytest.mark.parametrize("status", ["已建成", "建成", "完工", "已完成"])
def test_a_built_face_without_its_date_is_loaded_with_a_warning(raw, run_period, status):
    run = _sm_csv(raw, run_period, sm_row("F1", status=status, done=None), sm_row("F2", status=status, done="—"))
    assert [(r["status"], r["completed_on"]) for r in run.staging("smart_mines")] == [("已建成", None)] * 2
    warns = run.warnings()
    assert [_cell(w) for w in warns] == [(2, "F2", "completed_on", None, "missing_date"),
                                         (3, "F3", "completed_on", "—", "missing_date")]
    assert warns[0]["reason"] == f"建设状态为“{status}”时应填写建成时间（当前为空），请补填"
    assert _counts(run.log(SM_CSV)) == ("loaded", 2, 2, 0) and run.rejected() == []


@pytest.mark.parametrize("status", ["在建", "施工中", "未开工"])
def test_a_face_not_built_needs_no_date(raw, run_period, status):
    run = _sm_csv(raw, run_period, sm_row(status=status, done=None))
    assert run.warnings() == [] and len(run.staging("smart_mines")) == 1


def test_a_built_face_in_a_file_without_the_date_column_is_warned_by_name(raw, run_period):
    header = [h for h in SM_HEADER if h != "建成时间"]
    row = sm_row(status="已建成")
    del row[5]
    run = _sm_csv(raw, run_period, row, header=header)
    w = _only(run.warnings())
    assert (w["source_row"], w["rule"], w["column"]) == (2, "missing_date", "completed_on")
    assert "建成时间" in w["reason"] and w["reason"].startswith("建设状态为“已建成”时应填写建成时间")
    assert run.log(SM_CSV)["status"] == "loaded"


@pytest.mark.parametrize("status", ["已建成", "在建"])
def test_an_unreadable_date_gets_one_warning_only(raw, run_period, status):
    run = _sm_csv(raw, run_period, sm_row(status=status, done="2023年13月"))
    w = _only(run.warnings())
    assert _cell(w) == (2, "F2", "completed_on", "2023年13月", "not_a_date")
    assert w["reason"] == "建成时间不是有效日期，应填写如2023-03-15或2023年3月（当前值：2023年13月）"
    assert run.staging("smart_mines")[0]["completed_on"] is None


def test_a_rejected_built_row_lists_its_date_warning_once(raw, run_period):
    run = _sm_csv(raw, run_period, sm_row("F1", mine="王家庄", status="已建成", done="2023年13月"), sm_row("F2"))
    assert [(r["source_cell"], r["rule"]) for r in run.rejected()] == [("A2", "not_in_list"), ("F2", "not_a_date")]


def test_negative_investment_is_a_warning(raw, run_period):
    run = _sm_csv(raw, run_period, sm_row("F1", inv=-5), sm_row("F2", inv="暂无"), sm_row("F3", g5="待定"))
    assert [(r["face_code"], r["investment_ytd"], r["has_5g"]) for r in run.staging("smart_mines")] == [
        ("F1", None, True), ("F2", None, True), ("F3", Decimal("100"), None)]
    warns = run.warnings()
    assert [_cell(w) for w in warns] == [(2, "H2", "investment_ytd", "-5", "negative"),
                                         (3, "H3", "investment_ytd", "暂无", "not_a_number"),
                                         (4, "G4", "has_5g", "待定", "not_a_boolean")]
    assert warns[0]["reason"] == "本年累计完成投资不能为负数（当前值：-5）"
    assert run.rejected() == [] and _counts(run.log(SM_CSV)) == ("loaded", 3, 3, 0)


def test_required_cells_reject_the_row(raw, run_period):
    run = _sm_csv(raw, run_period, sm_row("F1", ftype=""), sm_row("", status="/"), sm_row("F3"))
    assert [_cell(r) for r in run.rejected()] == [(2, "D2", "face_type", None, "required"),
                                                  (3, "B3", "face_code", None, "required"),
                                                  (3, "E3", "status", "/", "required")]


# ================================================================== 4. zone_operations

def _zo_csv(raw, run_period, *rows, header=ZO_HEADER, path=ZO_CSV):
    write_csv(raw / path, [header, *rows])
    return run_period("zone_operations", "2023-05")


def test_zone_aliases_are_canonicalised(raw, run_period):
    run = _zo_csv(raw, run_period, zo_row("太晋一体化平头融合发展区"), zo_row("朝阳煤机专业镇"), zo_row("JINGSHANG_AGRI"))
    assert [r["zone"] for r in run.staging("zone_operations")] == ["平头融合发展区", "朝阳煤机制造专业镇", "景尚农业现代化产业园"]


def test_unknown_zone_rejects_the_row(raw, run_period):
    run = _zo_csv(raw, run_period, zo_row("开发区"), zo_row())
    rej = _only(run.rejected())
    assert _cell(rej) == (2, "A2", "zone", "开发区", "not_in_list")
    assert rej["reason"].startswith("园区名称“开发区”不在园区名录中")


ZO_NO_ZONE = [h for h in ZO_HEADER if h != "园区名称"]


@pytest.mark.parametrize("name", ["2023-05__平头融合发展区.xlsx", "2023-05__平头融合区.csv",
                                  "2023-05__太晋一体化平头融合发展区.csv", "2023-05__平头融合区.CSV",
                                  # the calendar's department of the park: the same sender (SUBMISSIONS.md 7)
                                  "2023-05__平头融合发展区管委会.csv"])
def test_the_zone_is_taken_from_the_submitter(raw, run_period, name):
    path = f"zone_operations/{name}"
    rows = [ZO_NO_ZONE, zo_row()[1:]]
    (write_xlsx if name.endswith(".xlsx") else write_csv)(raw / path, rows)
    run = run_period("zone_operations", "2023-05")
    (row,) = run.staging("zone_operations")
    assert (row["zone"], row["fixed_asset_investment_ytd"], row["source_row"]) == ("平头融合发展区", Decimal("1000"), 2)
    assert run.log(path)["status"] == "loaded"


@pytest.mark.parametrize("name", ["2023-05__发改局.csv", "2023-05.csv", "2023-05__平头管委会.csv"])
def test_no_zone_column_and_no_zone_submitter_rejects_the_file(raw, run_period, name):
    # a submitter that is neither a zone's name or alias nor its department in the calendar gives no zone
    path = f"zone_operations/{name}"
    write_csv(raw / path, [ZO_NO_ZONE, zo_row()[1:]])
    run = run_period("zone_operations", "2023-05")
    log = run.log(path)
    assert (log["status"], log["rows_read"]) == ("rejected", 0)
    assert log["message"].startswith("缺少必填列：园区名称（也可写作：园区、所在园区）。只报一个园区时也可不设此列，"
                                     "而在文件名中写明园区，如“2023-05__平头融合发展区.csv”")
    submitter = name[9:-4]
    assert (f"（文件名中的“{submitter}”不在园区名录中）" in log["message"]) == bool(submitter)
    assert run.staging("zone_operations") == []


def test_a_zone_column_wins_over_the_submitter(raw, run_period):
    path = "zone_operations/2023-05__平头融合发展区.csv"
    write_csv(raw / path, [ZO_HEADER, zo_row("景尚农业园")])
    run = run_period("zone_operations", "2023-05")
    assert [r["zone"] for r in run.staging("zone_operations")] == ["景尚农业现代化产业园"]


def test_new_enterprises_above_the_total_is_a_warning_naming_both_columns(raw, run_period):
    run = _zo_csv(raw, run_period, zo_row(above=3, new=5), zo_row("朝阳煤机专业镇", above=3, new=3))
    w = _only(run.warnings())
    assert _cell(w) == (2, "F2", "new_above_scale_enterprises", "5", "out_of_range")
    assert w["reason"] == "本年新增“四上”企业不能大于“四上”企业数（当前值：5，“四上”企业数：3）"
    got = [(r["zone"], r["above_scale_enterprises"], r["new_above_scale_enterprises"]) for r in run.staging("zone_operations")]
    assert got == [("平头融合发展区", 3, None), ("朝阳煤机制造专业镇", 3, 3)]
    assert _counts(run.log(ZO_CSV)) == ("loaded", 2, 2, 0)


def test_negative_tax_rejects_the_row(raw, run_period):
    run = _zo_csv(raw, run_period, zo_row(tax=-20), zo_row("朝阳煤机专业镇"))
    rej = _only(run.rejected())
    assert _cell(rej) == (2, "C2", "tax_revenue_ytd", "-20", "negative")
    assert rej["reason"] == "税收收入本年累计不能为负数（当前值：-20）"
    assert _counts(run.log(ZO_CSV)) == ("partial", 2, 1, 1)


def test_text_in_a_money_column_rejects_the_row(raw, run_period):
    run = _zo_csv(raw, run_period, zo_row(rev="暂无"), zo_row("朝阳煤机专业镇", fai=""))
    rej = run.rejected()
    assert [_cell(r) for r in rej] == [(2, "D2", "operating_revenue_ytd", "暂无", "not_a_number"),
                                       (3, "B3", "fixed_asset_investment_ytd", None, "required")]
    assert rej[0]["reason"] == "营业性收入本年累计应填写数字（当前值：暂无）"
    assert rej[1]["reason"] == "固定资产投资本年累计为必填项，不能为空（如为零请填0）"
    assert run.log(ZO_CSV)["status"] == "rejected"  # every data row rejected


def test_fractions_in_count_columns_are_warnings(raw, run_period):
    run = _zo_csv(raw, run_period, zo_row(above=1.5, new=1, emp="-3"))
    assert [_cell(w) for w in run.warnings()] == [(2, "E2", "above_scale_enterprises", "1.5", "not_an_integer"),
                                                  (2, "G2", "employees", "-3", "negative")]
    assert run.warnings()[0]["reason"] == "“四上”企业数应填写整数（当前值：1.5）"
    (row,) = run.staging("zone_operations")
    assert (row["above_scale_enterprises"], row["new_above_scale_enterprises"], row["employees"]) == (None, 1, None)


def test_a_zone_in_two_files_of_one_period_rejects_both(raw, run_period):
    a = "zone_operations/2023-05__平头融合发展区.csv"
    b = "zone_operations/2023-05__县发改局.xlsx"
    write_csv(raw / a, [ZO_NO_ZONE, zo_row()[1:]])
    write_xlsx(raw / b, [ZO_HEADER, zo_row("朝阳煤机专业镇"), zo_row("平头融合区", fai=999)])
    run = run_period("zone_operations", "2023-05")
    rej = run.rejected(rule="duplicate_key")
    assert [(r["file_path"], r["source_row"], r["source_cell"], r["column"]) for r in rej] == [
        (b, 3, None, None), (a, 2, None, None)]  # by path: 县 (U+53BF) sorts before 平 (U+5E73)
    assert f"另见：{a} 第2行" in rej[0]["reason"] and f"另见：{b} 第3行" in rej[1]["reason"]
    assert rej[1]["reason"].startswith("园区名称“平头融合发展区”在本期重复出现")
    assert _counts(run.log(a)) == ("rejected", 1, 0, 1)
    assert _counts(run.log(b)) == ("partial", 2, 1, 1)
    assert [r["zone"] for r in run.staging("zone_operations")] == ["朝阳煤机制造专业镇"]
    assert_consistent_counts(run)


# ================================================================== 5. talent

def _ta_csv(raw, run_period, *rows, header=TA_HEADER, path=TA_CSV):
    write_csv(raw / path, [header, *rows])
    return run_period("talent", "2023-06")


def test_every_field_and_kind_spelling_is_stored_canonically(raw, run_period):
    fields = ["交通物流", "数字经济", "医疗康养", "智能制造", "现代农业", "文化旅游", "其他"]
    rows = [ta_row(f, k) for f in fields for k in ("领军型人才", "实用人才")]
    rows[0][0] = " 交通　物流 "
    run = _ta_csv(raw, run_period, *rows)
    got = [(r["field"], r["talent_kind"]) for r in run.staging("talent")]
    assert got == [(f, k) for f in fields for k in ("领军人才", "实用型人才")]
    assert run.rejected() == []


def test_unknown_field_or_kind_rejects_the_row(raw, run_period):
    run = _ta_csv(raw, run_period, ta_row("新能源"), ta_row(kind="技能人才"), ta_row("其他"))
    rej = run.rejected()
    assert [_cell(r) for r in rej] == [(2, "A2", "field", "新能源", "not_in_list"),
                                       (3, "B3", "talent_kind", "技能人才", "not_in_list")]
    assert rej[0]["reason"] == "产业领域只能填写交通物流、数字经济、医疗康养、智能制造、现代农业、文化旅游、其他之一（当前值：新能源）"
    assert rej[1]["reason"] == "人才类别只能填写领军人才、实用型人才之一（当前值：技能人才）"


def test_a_repeated_field_and_kind_rejects_both_rows(raw, run_period):
    run = _ta_csv(raw, run_period, ta_row("数字经济", "领军人才"), ta_row("数字经济", "实用人才"),
                  ta_row("数字经济", "领军型人才", 4, 1))
    rej = run.rejected()
    assert [(r["source_row"], r["source_cell"], r["rule"]) for r in rej] == [(2, None, "duplicate_key"),
                                                                            (4, None, "duplicate_key")]
    assert rej[0]["reason"] == ("产业领域、人才类别“数字经济、领军人才”在本期重复出现（另见：本文件第4行），"
                                "重复的各行均不入库，请核对后只保留一行")
    assert [(r["field"], r["talent_kind"]) for r in run.staging("talent")] == [("数字经济", "实用型人才")]


@pytest.mark.parametrize("name", ["2023-05.csv", "2023-04__组织部.xlsx"])
def test_talent_outside_the_quarter_months_is_rejected(raw, run_period, name):
    path = f"talent/{name}"
    write_csv(raw / path, [TA_HEADER, ta_row()]) if name.endswith(".csv") else write_xlsx(raw / path, [TA_HEADER, ta_row()])
    run = run_period("talent", name[:7])
    log = run.log(path)
    assert log["status"] == "rejected"
    assert f"人才引育情况表按季度报送，报告期只能是3、6、9、12月，不能是{name[:7]}" in log["message"]
    assert run.staging("talent") == []


def test_talent_counts_required_and_whole(raw, run_period):
    run = _ta_csv(raw, run_period, ta_row(connected=""), ta_row("其他", recruited="2.5"), ta_row("智能制造", connected="-1"),
                  ta_row("现代农业", connected="１，２３４", recruited=" 12 "))
    rej = run.rejected()
    assert [_cell(r) for r in rej] == [(2, "C2", "connected_ytd", None, "required"),
                                       (3, "D3", "recruited_ytd", "2.5", "not_an_integer"),
                                       (4, "C4", "connected_ytd", "-1", "negative")]
    assert rej[0]["reason"] == "本年累计对接人数为必填项，不能为空（如为零请填0）"
    assert [(r["field"], r["connected_ytd"], r["recruited_ytd"]) for r in run.staging("talent")] == [("现代农业", 1234, 12)]


# ================================================================== 6. hostile cells

def test_a_giant_count_is_out_of_range(raw, run_period):
    run = _ta_csv(raw, run_period, ta_row(connected="99,999,999,999"), ta_row("其他", recruited=2**40), ta_row("智能制造"))
    rej = run.rejected()
    assert [_cell(r) for r in rej] == [(2, "C2", "connected_ytd", "99,999,999,999", "out_of_range"),
                                       (3, "D3", "recruited_ytd", str(2**40), "out_of_range")]
    assert rej[0]["reason"] == ("本年累计对接人数数值过大，超出可接受的范围（绝对值不超过1,000,000,000），"
                                "请核对数值和单位（当前值：99,999,999,999）")
    assert [r["field"] for r in run.staging("talent")] == ["智能制造"]
    run = _zo_csv(raw, run_period, zo_row(emp="3000000000", above="2147483648"))
    assert [(w["source_cell"], w["rule"]) for w in run.warnings()] == [("E2", "out_of_range"), ("G2", "out_of_range")]
    (row,) = run.staging("zone_operations")
    assert (row["employees"], row["above_scale_enterprises"]) == (None, None)


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_formula_like_text_is_stored_as_text(raw, run_period, form):
    rows = [SM_HEADER, sm_row("F1", name="=1+1"), sm_row("F2", name="+cmd|' /C calc'!A0"), sm_row("F3", name="@SUM(1)")]
    if form == "csv":
        path = SM_CSV
        write_csv(raw / path, rows)
    else:
        path = SM
        write_xlsx(raw / path, rows)
        wb = openpyxl.load_workbook(raw / path)
        ws = wb.active
        ws["C2"].value, ws["C2"].data_type = "=1+1", "s"  # a text cell, as Excel keeps '=1+1
        wb.save(raw / path)
    run = run_period("smart_mines", "2023-05")
    assert [r["face_name"] for r in run.staging("smart_mines")] == ["=1+1", "+cmd|' /C calc'!A0", "@SUM(1)"]


def test_zero_width_characters_in_a_mine_name_still_match(raw, run_period):
    run = _sm_csv(raw, run_period, sm_row("F1", mine="段\u200b王煤矿"), sm_row("F2", mine="\ufeff开元\u200d矿"),
                  sm_row("F3", mine="平舒\u00ad煤业\u2060"))
    assert [r["mine"] for r in run.staging("smart_mines")] == ["段王煤矿", "开元煤矿", "平舒煤矿"]
    assert run.rejected() == []


def test_a_mine_name_in_a_gbk_csv(raw, run_period):
    data = csv_bytes([["2023年1-5月煤矿智能化工作面建设进展表"], SM_HEADER,
                      sm_row("F1", mine="段王煤业", status="完工", done="2023年4月"),
                      sm_row("F2", mine="开元矿", ftype="综掘")], encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # what Excel on a Chinese Windows writes
    (raw / "smart_mines").mkdir()
    (raw / SM_CSV).write_bytes(data)
    run = run_period("smart_mines", "2023-05")
    assert _sm(run) == [("段王煤矿", "F1", "采煤", "已建成", date(2023, 4, 1), True, Decimal("100")),
                        ("开元煤矿", "F2", "掘进", "在建", None, True, Decimal("100"))]
    assert [r["source_row"] for r in run.staging("smart_mines")] == [3, 4]
    assert run.warnings() == []


def test_merged_mine_cells_with_a_subtotal_per_mine(raw, run_period):
    rows = [["煤矿智能化工作面建设进展表"], ["单位：万元"], SM_HEADER,
            ["段王煤矿", "DW-01", "15101", "综采", "在建", None, "是", 100],      # 4
            [None, "DW-02", "15102", "综掘", "在建", None, "是", 50],             # 5
            ["小计", None, None, None, None, None, None, 150],                    # 6
            ["开元煤矿", "KY-01", "9101", "综采", "已建成", "2023-04-30", "是", 80],  # 7
            [None, "KY-02", "9102", "综掘", "在建", None, "否", 20],             # 8
            [None, "小计", None, None, None, None, None, 100],                    # 9: the merge covers it
            ["合计", None, None, None, None, None, None, 250]]                    # 10
    write_xlsx(raw / SM, rows, merges=("A4:A5", "A7:A9"))
    run = run_period("smart_mines", "2023-05")
    assert [(r["mine"], r["face_code"], r["source_row"]) for r in run.staging("smart_mines")] == [
        ("段王煤矿", "DW-01", 4), ("段王煤矿", "DW-02", 5), ("开元煤矿", "KY-01", 7), ("开元煤矿", "KY-02", 8)]
    log = run.log(SM)
    assert _counts(log) == ("loaded", 4, 4, 0)
    assert (log["rows_subtotal"], log["rows_totals"], log["totals_check"]) == (2, 1, "ok")
    assert run.rejected() == [] and run.warnings() == []


@pytest.mark.parametrize("cells, copies, kind", [
    (["段王煤矿", "小计", None, 150], {0}, "subtotal"),
    (["段王煤矿", "合计", None, 150], {0}, "totals"),
    (["段王煤矿", "其中：掘进", None, 50], {0}, "subtotal"),
    (["段王煤矿", "DW-02", "综掘", 50], {0}, None),
    (["段王煤矿", None, None, None], {0}, "blank"),          # the merge reaches a spare row
    (["合计", None, None, 150], {0}, "totals"),              # 合计 merged down two rows, figures in the second
    (["段王煤矿", "小计", None, 150], set(), None),          # not a merge: 段王煤矿 is the first cell
])
def test_merge_copies_are_passed_over_when_reading_markers(cells, copies, kind):
    from shouyang_pipeline.ingest.layout import classify_row

    assert classify_row(cells, data_columns={0, 1, 2, 3}, copies=copies) == kind


def test_a_merged_cell_reaching_a_spare_row_is_a_blank_row(raw, run_period):
    rows = [SM_HEADER,
            ["段王煤矿", "DW-01", "15101", "综采", "在建", None, "是", 100],  # 2
            [None, "DW-02", "15102", "综掘", "在建", None, "是", 50],          # 3
            [None],                                                            # 4: inside the merge, nothing else
            ["平舒煤矿", "PS-01", "8101", "综采", "在建", None, "是", 10]]      # 5
    write_xlsx(raw / SM, rows, merges=("A2:A4",))
    run = run_period("smart_mines", "2023-05")
    assert [r["face_code"] for r in run.staging("smart_mines")] == ["DW-01", "DW-02", "PS-01"]
    log = run.log(SM)
    assert (_counts(log), log["rows_blank"]) == (("loaded", 3, 3, 0), 1)


def test_talent_subtotals_under_a_merged_field(raw, run_period):
    rows = [TA_HEADER,
            ["数字经济", "领军人才", 5, 2],       # 2
            [None, "实用型人才", 20, 8],           # 3
            [None, "小计", 25, 10],                # 4 (inside the merge)
            ["其他", "领军人才", 1, 1],            # 5
            ["合计", None, 26, 11]]                # 6
    write_xlsx(raw / TA, rows, merges=("A2:A4",))
    run = run_period("talent", "2023-06")
    assert [(r["field"], r["talent_kind"]) for r in run.staging("talent")] == [
        ("数字经济", "领军人才"), ("数字经济", "实用型人才"), ("其他", "领军人才")]
    log = run.log(TA)
    assert (_counts(log), log["rows_subtotal"], log["rows_totals"]) == (("loaded", 3, 3, 0), 1, 1)


def test_every_reason_of_the_new_datasets_is_for_a_clerk(raw, run_period):
    run = _sm_csv(raw, run_period,
                  sm_row("F1", mine="王家庄", ftype="综放", status="完工", done=None, inv=-1),
                  sm_row("F2", status="已建成", done="2023-07-01", g5="待定"),
                  sm_row("F2"), sm_row("X" * 40))
    issues = run.rejected() + run.warnings()
    assert {i["rule"] for i in issues} >= {"not_in_list", "future_date", "duplicate_key", "too_long", "negative",
                                           "not_a_boolean"}
    for i in issues:
        _clerk_text(i["reason"])
        # a cell for every problem but a whole row's (a duplicate key)
        assert (i["source_cell"] is None) if i["rule"] == "duplicate_key" else re.fullmatch(r"[A-Z]+\d+", i["source_cell"]), i
    assert_consistent_counts(run)


# ================================================================== 7. shouyang check, as a clerk reads it

def _env(settings, tmp_path):
    return {"SHOUYANG_RAW_DIR": str(settings.raw_dir), "SHOUYANG_WAREHOUSE": str(settings.warehouse),
            "SHOUYANG_EXPORT_DIR": str(settings.export_dir), "SHOUYANG_ARCHIVE_DIR": str(settings.archive_dir),
            "SHOUYANG_REFERENCE_DIR": str(settings.reference_dir), "DAGSTER_HOME": str(tmp_path / "dagster_home"),
            "COLUMNS": "200"}


def test_check_of_a_smart_mines_file_reads_well(settings, tmp_path):
    path = write_xlsx(tmp_path / "clerk" / "智能化工作面5月.xlsx", [
        ["2023年1-5月煤矿智能化工作面建设进展表"], ["填报单位：县能源局　单位：万元"], SM_HEADER,
        sm_row("F1", status="已建成", done=datetime(2023, 6, 1)),
        sm_row("F2", status="完工", done=None),
        sm_row("F3", mine="王家庄煤矿"),
        sm_row("F4", status="已建成", done="2023年13月"),
        sm_row("F5")])
    result = CliRunner().invoke(main, ["check", str(path), "--dataset", "smart_mines", "--period", "2023-05"],
                                env=_env(settings, tmp_path))
    out = result.output
    assert result.exit_code == 1, out
    # the rule's Chinese name (a long one wraps inside its table cell)
    for shown in ("日期晚于报告期", "缺少日期", "取值不在规定范围", "不是有效日期", "F4", "F5", "A6", "王家庄煤矿",
                  "2023-05-31"):
        assert shown in out, (shown, out)
    for code in ("future_date", "missing_date", "not_in_list", "not_a_date", "completed_on", "smart_mines."):
        assert code not in out, (code, out)
    assert "读取5行数据，4行可以入库，1行有错、不能入库" in out
    assert not settings.warehouse.exists() and not settings.archive_dir.exists()


def test_check_of_a_zone_file_named_by_its_zone(settings, tmp_path):
    path = write_csv(tmp_path / "clerk" / "2023-05__平头融合区.csv", [ZO_NO_ZONE, zo_row(above=1, new=3)[1:]])
    result = CliRunner().invoke(main, ["check", str(path), "--dataset", "zone_operations"], env=_env(settings, tmp_path))
    assert result.exit_code == 0, result.output
    assert "数值超出允许范围" in result.output and "out_of_range" not in result.output
