"""The marts of the smart mines, the parks and talent (WAREHOUSE.md), and the scorecard's four
targets on them, from real submissions.

The files are written as the departments write them (XLSX with title, unit and footer rows, GBK
and UTF-8 CSV, aliases and synonyms, a park taken from the file name), each dataset-period
ingested and loaded exactly as a run does (conftest's run_period), then every mart built. Every
expected figure below was worked out by hand from the valid rows (see the comments); the rows
planted to be rejected are checked to be rejected, and counted nowhere.

Periods (no industrial or village data at all; one key-projects month):
    2022-06  parks (last year's figures for June's growth)    2022-12  talent (last year)
    2023-02  parks (朝阳 only)    2023-04  key projects only    2023-05  mines
    2023-06  mines, parks, talent    2023-07  mines, parks    2023-08  mines, parks    2023-09  talent
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from shouyang_pipeline.catalog.datasets.talent import FIELDS, KINDS
from shouyang_pipeline.catalog.marts import MARTS
from shouyang_pipeline.marts.build import build_all, build_mart, built_columns
from shouyang_pipeline.marts.lineage import mart_inputs
from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, one, rows, write_csv, write_xlsx

PT, CY, JS = "平头融合发展区", "朝阳煤机制造专业镇", "景尚农业现代化产业园"
DW, KY, PS = "段王煤矿", "开元煤矿", "平舒煤矿"
LEAD, PRAC = "领军人才", "实用型人才"

SM_HEADER = ["煤矿名称", "工作面编号", "工作面名称", "工作面类型", "建设状态", "建成时间", "是否5G覆盖", "本年累计完成投资"]
ZO_HEADER = ["园区名称", "固定资产投资本年累计", "税收收入本年累计", "营业性收入本年累计", "“四上”企业数",
             "本年新增“四上”企业", "从业人员"]
TA_HEADER = ["产业领域", "人才类别", "本年累计对接人数", "本年累计引进培育人数"]

NEW_MARTS = ("smart_mine_summary", "zone_operations_summary", "talent_summary")


# --- the submissions -----------------------------------------------------------------------


def faces(plan: list[tuple[str, str, str, int]], start: int = 1) -> list[list]:
    """CSV rows of faces: (mine as written, type as written, status as written, how many)."""
    out, n = [], start
    for mine, kind, status, count in plan:
        for _ in range(count):
            built = status in ("已建成", "建成", "完工")
            out.append([mine, f"GZM{n:03d}", f"{n}号工作面", kind, status, "2023-03-01" if built else "", "否", "1"])
            n += 1
    return out


def write_smart_mines(raw) -> None:
    # 2023-05, XLSX as 县能源局 sends it: title, unit and footer rows, synonyms for type and status.
    #   段王煤矿  F01 采煤 built 5G 100.005; F02 掘进 built (no date: a warning, still counted) 5G 200;
    #            F03 掘进 在建 50.5; F04 掘进 未开工, investment −5 (an optional cell that breaks its
    #            rule: a warning, stored blank, not summed)
    #            → faces 4, built 2 (采煤 1, 掘进 1), 在建 1, 未开工 1, 5G 2, 350.505 → 350.51 (四舍五入)
    #   开元煤矿  F05 采煤 built 0.006; F06 掘进 在建 5G 10 → faces 2, built 1 (采煤), 5G 1, 10.006 → 10.01
    #   平舒煤矿  nothing → zeros
    #   全县      faces 6, built 3 (采煤 2, 掘进 1), 在建 2, 未开工 1, 5G 3,
    #            360.511 → 360.51 (not 350.51 + 10.01 = 360.52: summed before rounding)
    #   rejected: F07 (a status not on the list), F08 (a mine not on the list)
    write_xlsx(raw / "smart_mines" / "2023-05__县能源局.xlsx", [
        ["2023年5月煤矿智能化工作面建设进展表"],
        ["填报单位：县能源局　　　　单位：万元"],
        SM_HEADER,
        ["段王", "F01", "1号综采", "综采", "已建成", date(2023, 3, 10), "是", 100.005],
        ["段王煤业", "F02", "2号综掘", "掘进", "建成", None, "是", 200],
        ["段王煤矿", "F03", "3号综掘", "综掘", "施工中", None, "否", 50.5],
        ["段王矿", "F04", "4号掘进", "掘", "未开工", None, None, -5],
        ["开元", "F05", "5号综采", "采煤", "完工", date(2023, 2, 1), "否", 0.006],
        ["开元矿业", "F06", "6号掘进", "掘进工作面", "在建", None, "是", 10],
        ["段王煤矿", "F07", "7号综采", "采煤", "停建", date(2023, 4, 1), "是", 5],
        ["王家庄煤矿", "F08", "8号综采", "采煤", "已建成", date(2023, 4, 1), "是", 5],
        ["填表人：张三　　审核人：李四"],
    ], merges=("A1:H1",))
    # 2023-06, GBK CSV: 30 built but only 4 采煤 (4采26掘): 5采21掘 is judged per type → 未达标
    write_csv(raw / "smart_mines" / "2023-06__县能源局.csv", [
        SM_HEADER,
        *faces([("段王", "采煤", "已建成", 4), ("段王", "掘进", "已建成", 10), ("开元", "综掘", "建成", 8),
                ("平舒", "掘", "完工", 8), ("平舒", "掘进", "在建", 1)]),
    ], encoding="gbk")
    # 2023-07: exactly 5采21掘 → 达标
    write_csv(raw / "smart_mines" / "2023-07__县能源局.csv", [
        SM_HEADER,
        *faces([("段王", "采煤", "已建成", 5), ("开元", "掘进", "已建成", 21)]),
    ])
    # 2023-08: 26 built, but 6采20掘 → 未达标
    write_csv(raw / "smart_mines" / "2023-08__县能源局.csv", [
        SM_HEADER,
        *faces([("段王", "采煤", "已建成", 6), ("开元", "掘进", "已建成", 20), ("平舒", "掘进", "在建", 1)]),
    ])


def write_zone_operations(raw) -> None:
    # 2022-06: last year's June. 平头 600000 万元; 朝阳 100000; 景尚 0
    write_csv(raw / "zone_operations" / "2022-06__县发改局.csv", [
        ZO_HEADER,
        [PT, "150000", "18000", "600000", "", "", ""],
        ["朝阳煤机专业镇", "40000", "5000", "100000", "", "", ""],
        ["景尚农业园", "1000", "10", "0", "", "", ""],
    ])
    # 2023-02: 朝阳 only (平头 has not reported)
    write_csv(raw / "zone_operations" / "2023-02__朝阳煤机制造专业镇.csv", [
        ZO_HEADER, [CY, "10000", "1000", "30000", "12", "1", "800"],
    ])
    # 2023-06: 平头 in its own XLSX without a 园区 column (the park from the file name):
    #   200000 → 20.00亿; tax 21550 → 2.155 → 2.16 (四舍五入); 750000 → 75.00; 40, 6, 3200;
    #   growth 750000 ÷ 600000 − 1 = 25.0 %
    write_xlsx(raw / "zone_operations" / "2023-06__平头融合发展区.xlsx", [
        ["平头融合发展区2023年1—6月运行情况"],
        ["单位：万元、家、人"],
        ZO_HEADER[1:],
        [200000, 21550, 750000, 40, 6, 3200],
    ])
    # 2023-06, the other parks (GBK CSV, aliases):
    #   朝阳: 110550 vs 100000 → 10.55 % → 10.6; integers blank → NULL; 52000 → 5.20; 8000 → 0.80
    #   景尚: 12345 → 1.2345 → 1.23; last year 0 → growth NULL
    write_csv(raw / "zone_operations" / "2023-06__园区汇总.csv", [
        ["园区", "固定资产投资", "税收", "营业收入", "四上企业数", "新增四上企业", "从业人数"],
        ["朝阳煤机专业镇", "52000", "8000", "110550", "", "", ""],
        ["景尚农业园", "0.5", "0.004", "12345", "3", "0", "45"],
    ], encoding="gbk")
    # 2023-07: 平头 1999999.99 万元 = 199.999999 亿元, shown 200.00 but below 200; no 2022-07 → growth NULL.
    #   朝阳's row is rejected (negative tax): 2023-07 has 平头 only.
    write_csv(raw / "zone_operations" / "2023-07__园区汇总.csv", [
        ZO_HEADER,
        [PT, "210000", "22000", "1999999.99", "41", "7", "3300"],
        [CY, "60000", "-5", "120000", "", "", ""],
    ])
    # 2023-08: 平头 exactly 200亿元
    write_csv(raw / "zone_operations" / "2023-08__平头融合发展区.csv", [
        ZO_HEADER, ["平头融合区", "220000", "23000", "2000000", "42", "8", "3400"],
    ])


def write_talent(raw) -> None:
    # 2022-12: last year's (500 领军): never counted for 2023
    write_csv(raw / "talent" / "2022-12__县委组织部.csv", [TA_HEADER, ["数字经济", LEAD, "500", "9"]])
    # 2023-06 (UTF-8 with BOM, synonyms of the kinds):
    #   领军人才: 数字经济 30/5, 智能制造 20/2, 其他 40/1 → 合计 90/8
    #   实用型人才: 数字经济 100/300, 现代农业 50/250 → 合计 150/550
    #   rejected: 文化旅游 实用型人才 with a negative count
    write_csv(raw / "talent" / "2023-06__县委组织部.csv", [
        TA_HEADER,
        ["数字经济", "领军型人才", "30", "5"],
        ["智能制造", LEAD, "20", "2"],
        ["其他", LEAD, "40", "1"],
        ["数字经济", "实用人才", "100", "300"],
        ["现代农业", PRAC, "50", "250"],
        ["文化旅游", PRAC, "-3", "900"],
    ], encoding="utf-8-sig")
    # 2023-09: exactly 100 领军 connected and 1000 实用型 recruited → both 达标
    write_csv(raw / "talent" / "2023-09__县委组织部.csv", [
        TA_HEADER,
        ["数字经济", LEAD, "60", "10"],
        ["交通物流", LEAD, "40", "0"],
        ["医疗康养", PRAC, "300", "999"],
        ["其他", PRAC, "0", "1"],
    ])


DATASET_PERIODS = [
    ("key_projects", "2023-04"),
    ("smart_mines", "2023-05"), ("smart_mines", "2023-06"), ("smart_mines", "2023-07"), ("smart_mines", "2023-08"),
    ("zone_operations", "2022-06"), ("zone_operations", "2023-02"), ("zone_operations", "2023-06"),
    ("zone_operations", "2023-07"), ("zone_operations", "2023-08"),
    ("talent", "2022-12"), ("talent", "2023-06"), ("talent", "2023-09"),
]
PERIODS = ["2022-06", "2022-12", "2023-02", "2023-04", "2023-05", "2023-06", "2023-07", "2023-08", "2023-09"]


@pytest.fixture
def warehouse(raw, run_period):
    """Every dataset-period above ingested and loaded as a run does; every mart built."""
    write_xlsx(raw / "key_projects" / "2023-04__县发改局.xlsx", [KP_HEADER, kp_row("XM001")])
    write_smart_mines(raw)
    write_zone_operations(raw)
    write_talent(raw)
    for dataset, period in DATASET_PERIODS:
        run = run_period(dataset, period)
    build_all(run.conn)
    return run


# --- the loads the marts are computed from ---------------------------------------------------


def test_the_planted_rows_are_rejected_and_the_rest_loaded(warehouse):
    rejected = {(r["dataset"], r["period"], r["source_row"], r["rule"])
                for r in warehouse.q("SELECT * FROM audit.rejected_rows")}
    assert rejected == {
        ("smart_mines", "2023-05", 10, "not_in_list"),  # F07: 停建
        ("smart_mines", "2023-05", 11, "not_in_list"),  # F08: 王家庄煤矿
        ("zone_operations", "2023-07", 3, "negative"),  # 朝阳's tax
        ("talent", "2023-06", 7, "negative"),  # 文化旅游 实用型人才
    }
    assert warehouse.conn.execute(
        "SELECT count(*) FROM staging.smart_mines WHERE period = '2023-05'").fetchone()[0] == 6  # F01–F06
    warned = warehouse.warnings(dataset="smart_mines")
    # F02 built without a date, F04's negative investment: both rows loaded
    assert [(w["source_row"], w["rule"]) for w in warned] == [(5, "missing_date"), (7, "negative")]


# --- smart_mine_summary ----------------------------------------------------------------------


def mines(con, period):
    return rows(con, "SELECT * FROM marts.smart_mine_summary WHERE period = ?", [period])


def test_smart_mine_summary_by_mine_and_county(warehouse):
    got = mines(warehouse.conn, "2023-05")
    assert [r["mine_name"] for r in got] == [DW, KY, PS, "全县"]  # the reference list's order, then 全县
    by = {r["mine_name"]: r for r in got}
    assert by[DW] == dict(
        period="2023-05", mine_name=DW, mine_code="DUANWANG", faces=4, faces_built=2, mining_faces_built=1,
        heading_faces_built=1, faces_under_construction=1, faces_not_started=1, faces_with_5g=2,
        investment_ytd_wan=D("350.51"),  # 350.505, half away from zero
        mining_faces=1, heading_faces=3,
    )
    assert by[KY] == dict(
        period="2023-05", mine_name=KY, mine_code="KAIYUAN", faces=2, faces_built=1, mining_faces_built=1,
        heading_faces_built=0, faces_under_construction=1, faces_not_started=0, faces_with_5g=1,
        investment_ytd_wan=D("10.01"), mining_faces=1, heading_faces=1,
    )
    assert by[PS] == dict(  # no face that month: zeros
        period="2023-05", mine_name=PS, mine_code="PINGSHU", faces=0, faces_built=0, mining_faces_built=0,
        heading_faces_built=0, faces_under_construction=0, faces_not_started=0, faces_with_5g=0,
        investment_ytd_wan=D("0.00"), mining_faces=0, heading_faces=0,
    )
    assert by["全县"] == dict(
        period="2023-05", mine_name="全县", mine_code=None, faces=6, faces_built=3, mining_faces_built=2,
        heading_faces_built=1, faces_under_construction=2, faces_not_started=1, faces_with_5g=3,
        investment_ytd_wan=D("360.51"),  # 360.511 summed unrounded; not 350.51 + 10.01
        mining_faces=2, heading_faces=4,
    )


def test_smart_mine_summary_periods_and_county_rows(warehouse):
    con = warehouse.conn
    assert con.execute("SELECT period, count(*) FROM marts.smart_mine_summary GROUP BY period ORDER BY period"
                       ).fetchall() == [(p, 4) for p in ("2023-05", "2023-06", "2023-07", "2023-08")]
    county = {r["period"]: r for r in rows(con, "SELECT * FROM marts.smart_mine_summary WHERE mine_name = '全县'")}
    assert (county["2023-06"]["faces"], county["2023-06"]["faces_built"], county["2023-06"]["mining_faces_built"],
            county["2023-06"]["heading_faces_built"], county["2023-06"]["faces_under_construction"]) == (31, 30, 4, 26, 1)
    assert county["2023-06"]["investment_ytd_wan"] == D("31.00")
    ps = one(con, "SELECT * FROM marts.smart_mine_summary WHERE period = '2023-06' AND mine_name = ?", [PS])
    assert (ps["faces"], ps["faces_built"], ps["heading_faces_built"], ps["faces_under_construction"]) == (9, 8, 8, 1)
    assert (county["2023-07"]["faces_built"], county["2023-07"]["mining_faces_built"],
            county["2023-07"]["heading_faces_built"]) == (26, 5, 21)
    assert (county["2023-08"]["faces_built"], county["2023-08"]["mining_faces_built"],
            county["2023-08"]["heading_faces_built"]) == (26, 6, 20)


# --- zone_operations_summary -----------------------------------------------------------------


def test_zone_operations_summary(warehouse):
    con = warehouse.conn
    got = rows(con, "SELECT * FROM marts.zone_operations_summary WHERE period = '2023-06'")
    assert [r["zone_name"] for r in got] == [PT, CY, JS]  # the parks that reported, in the list's order
    by = {r["zone_name"]: r for r in got}
    assert by[PT] == dict(
        period="2023-06", zone_name=PT, fixed_asset_investment_yi=D("20.00"), tax_revenue_yi=D("2.16"),  # 2.155
        operating_revenue_yi=D("75.00"), above_scale_enterprises=40, new_above_scale_enterprises=6,
        employees=3200, operating_revenue_yoy_pct=D("25.0"),  # 750000 ÷ 600000 − 1
    )
    assert by[CY] == dict(
        period="2023-06", zone_name=CY, fixed_asset_investment_yi=D("5.20"), tax_revenue_yi=D("0.80"),
        operating_revenue_yi=D("11.06"),  # 11.055
        above_scale_enterprises=None, new_above_scale_enterprises=None, employees=None,  # blank: not 0
        operating_revenue_yoy_pct=D("10.6"),  # 10.55 %, half away from zero
    )
    assert by[JS] == dict(
        period="2023-06", zone_name=JS, fixed_asset_investment_yi=D("0.00"), tax_revenue_yi=D("0.00"),
        operating_revenue_yi=D("1.23"), above_scale_enterprises=3, new_above_scale_enterprises=0, employees=45,
        operating_revenue_yoy_pct=None,  # last year's revenue 0
    )


def test_zone_operations_summary_only_parks_that_reported(warehouse):
    con = warehouse.conn
    assert con.execute("SELECT period, zone_name FROM marts.zone_operations_summary").fetchall() == [
        ("2022-06", PT), ("2022-06", CY), ("2022-06", JS), ("2023-02", CY), ("2023-06", PT), ("2023-06", CY),
        ("2023-06", JS), ("2023-07", PT), ("2023-08", PT)]
    jul = one(con, "SELECT * FROM marts.zone_operations_summary WHERE period = '2023-07'")  # 朝阳's row rejected
    assert jul["zone_name"] == PT and jul["operating_revenue_yi"] == D("200.00")  # 199.999999 shown
    assert jul["operating_revenue_yoy_pct"] is None  # 2022-07 not held
    last_year = one(con, "SELECT * FROM marts.zone_operations_summary WHERE period = '2022-06' AND zone_name = ?", [PT])
    assert last_year["operating_revenue_yoy_pct"] is None and last_year["operating_revenue_yi"] == D("60.00")


# --- talent_summary --------------------------------------------------------------------------


def test_talent_summary_every_kind_and_field_with_totals(warehouse):
    con = warehouse.conn
    got = rows(con, "SELECT talent_kind, field, connected_ytd, recruited_ytd FROM marts.talent_summary "
                    "WHERE period = '2023-06'")
    # every kind × every field of the declared list, in its order, each kind closed by 合计
    assert [(r["talent_kind"], r["field"]) for r in got] == [
        (k, f) for k in KINDS.choices for f in (*FIELDS.choices, "合计")]
    assert KINDS.choices == (LEAD, PRAC) and len(FIELDS.choices) == 7
    counts = {(r["talent_kind"], r["field"]): (r["connected_ytd"], r["recruited_ytd"]) for r in got}
    assert counts[(LEAD, "数字经济")] == (30, 5)  # 领军型人才 folded
    assert counts[(LEAD, "智能制造")] == (20, 2)
    assert counts[(LEAD, "其他")] == (40, 1)
    assert counts[(LEAD, "合计")] == (90, 8)
    assert counts[(PRAC, "数字经济")] == (100, 300)  # 实用人才 folded
    assert counts[(PRAC, "现代农业")] == (50, 250)
    assert counts[(PRAC, "文化旅游")] == (0, 0)  # its row was rejected: not counted
    assert counts[(PRAC, "合计")] == (150, 550)
    zeros = [k for k, v in counts.items() if v == (0, 0)]
    assert len(zeros) == 16 - 7  # nothing reported: zeros, never missing
    assert con.execute("SELECT period, count(*) FROM marts.talent_summary GROUP BY period ORDER BY period"
                       ).fetchall() == [("2022-12", 16), ("2023-06", 16), ("2023-09", 16)]


def test_talent_summary_takes_its_lists_from_the_declaration(warehouse):
    # the SQL names no field: the macro declared_choices is made from catalog/datasets/talent.py
    from shouyang_pipeline.marts.build import mart_sql

    sql = mart_sql("talent_summary")
    assert "declared_choices('talent', 'field')" in sql
    assert not any(f"'{f}'" in sql for f in FIELDS.choices + KINDS.choices)
    assert mart_inputs("talent_summary") == ("staging/talent",)


# --- the tables as declared --------------------------------------------------------------------


@pytest.mark.parametrize("name", NEW_MARTS)
def test_new_marts_match_their_declarations_with_comments(warehouse, name):
    con, table = warehouse.conn, MARTS[name]
    assert built_columns(con, table) == [(c.name, c.sql_type) for c in table.columns]
    comments = dict(con.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'marts' AND table_name = ?",
        [name]).fetchall())
    assert comments == {c.name: c.comment for c in table.columns}
    for c in table.columns:
        assert "：" in c.comment and not c.comment.isascii(), c.comment  # 名称（单位）：含义, in Chinese
        if c.name.endswith(("_yi", "_wan")):
            assert c.sql_type == "DECIMAL(38,2)" and c.unit in ("亿元", "万元")
        if c.name.endswith("_pct"):
            assert c.sql_type == "DECIMAL(38,1)" and c.unit == "%"


def test_a_new_mart_rebuilt_alone_gives_the_same_rows(warehouse):
    con = warehouse.conn
    for name in NEW_MARTS:
        before = con.execute(f"SELECT * FROM marts.{name}").fetchall()
        assert build_mart(con, name) == len(before)
        assert con.execute(f"SELECT * FROM marts.{name}").fetchall() == before


# --- target_scorecard ------------------------------------------------------------------------


def card(con, period, key):
    return one(con, "SELECT * FROM marts.target_scorecard WHERE period = ? AND target_key = ?", [period, key])


def test_scorecard_covers_the_periods_of_the_new_datasets(warehouse):
    con = warehouse.conn
    assert [r[0] for r in con.execute("SELECT DISTINCT period FROM marts.target_scorecard ORDER BY 1").fetchall()
            ] == PERIODS
    assert con.execute("SELECT count(*) FROM marts.target_scorecard").fetchone()[0] == len(PERIODS) * 7
    for r in rows(con, "SELECT * FROM marts.target_scorecard"):
        assert not any(code in (r["detail"] or "") for code in ("smart_mines", "zone_operations", "talent", "_"))
        assert r["detail"], r


def test_scorecard_smart_working_faces(warehouse):
    con = warehouse.conn
    may = card(con, "2023-05", "smart_working_faces")
    assert (may["actual_value"], may["actual_unit"], may["status"], may["data_period"], may["target_value"]) == (
        3.0, "个", "未达标", "2023-05", 26.0)
    assert may["detail"] == "2023-05：已建成智能化工作面3个（采煤2个、掘进1个），目标26个（5采21掘）"
    jun = card(con, "2023-06", "smart_working_faces")  # 30 built ≥ 26, but 4 采煤 < 5
    assert (jun["actual_value"], jun["status"]) == (30.0, "未达标")
    assert jun["detail"] == "2023-06：已建成智能化工作面30个（采煤4个、掘进26个），目标26个（5采21掘）"
    jul = card(con, "2023-07", "smart_working_faces")  # exactly 5采21掘
    assert (jul["actual_value"], jul["status"]) == (26.0, "达标")
    assert jul["detail"] == "2023-07：已建成智能化工作面26个（采煤5个、掘进21个），目标26个（5采21掘）"
    aug = card(con, "2023-08", "smart_working_faces")  # 26 built, but 20 掘进 < 21
    assert (aug["actual_value"], aug["status"]) == (26.0, "未达标")
    assert aug["detail"] == "2023-08：已建成智能化工作面26个（采煤6个、掘进20个），目标26个（5采21掘）"
    for period in ("2023-04", "2023-09", "2022-06"):
        r = card(con, period, "smart_working_faces")
        assert (r["status"], r["actual_value"], r["data_period"]) == ("无数据", None, None)
        assert r["detail"] == f"县能源局{period}的报表未报送"


def test_scorecard_talent(warehouse):
    con = warehouse.conn
    lead, prac = card(con, "2023-06", "leading_talent"), card(con, "2023-06", "practical_talent")
    assert (lead["actual_value"], lead["actual_unit"], lead["status"], lead["data_period"]) == (90.0, "人", "未达标", "2023-06")
    assert lead["detail"] == "2023-06：累计对接领军人才90名，目标100名，尚差10名"
    assert (prac["actual_value"], prac["actual_unit"], prac["status"]) == (550.0, "人", "未达标")
    assert prac["detail"] == "2023-06：累计培育引进实用型人才550名，目标1000名，尚差450名"
    # 2023-07 and 2023-08 use the latest talent period up to them in the same year, and name it
    for period in ("2023-07", "2023-08"):
        r = card(con, period, "leading_talent")
        assert (r["actual_value"], r["data_period"], r["detail"]) == (
            90.0, "2023-06", "2023-06：累计对接领军人才90名，目标100名，尚差10名")
    # 2023-09: exactly the targets → 达标
    lead, prac = card(con, "2023-09", "leading_talent"), card(con, "2023-09", "practical_talent")
    assert (lead["actual_value"], lead["status"], lead["detail"]) == (
        100.0, "达标", "2023-09：累计对接领军人才100名，目标100名，已达到目标")
    assert (prac["actual_value"], prac["status"], prac["detail"]) == (
        1000.0, "达标", "2023-09：累计培育引进实用型人才1000名，目标1000名，已达到目标")
    # last year's figures are last year's
    old = card(con, "2022-12", "leading_talent")
    assert (old["actual_value"], old["status"], old["data_period"]) == (500.0, "达标", "2022-12")
    assert card(con, "2022-12", "practical_talent")["detail"] == "2022-12：累计培育引进实用型人才0名，目标1000名，尚差1000名"


def test_scorecard_talent_without_data_names_the_department(warehouse):
    con = warehouse.conn
    for key in ("leading_talent", "practical_talent"):
        # 2023-04 and 2023-05: the first quarter's report is missing (2022-12 is last year's)
        for period in ("2023-04", "2023-05"):
            r = card(con, period, key)
            assert (r["status"], r["actual_value"], r["data_period"]) == ("无数据", None, None)
            assert r["detail"] == "县委组织部2023-03的报表未报送"
        # February: nothing due yet this year (quarterly)
        assert card(con, "2023-02", key)["detail"] == "县委组织部本年尚未报送人才引育情况表（按季度报送，首期为2023-03）"
        assert card(con, "2022-06", key)["detail"] == "县委组织部2022-06的报表未报送"


def test_scorecard_pingtou_industry_cluster(warehouse):
    con = warehouse.conn
    jun = card(con, "2023-06", "pingtou_industry_cluster")
    assert (jun["actual_value"], jun["actual_unit"], jun["status"], jun["data_period"]) == (75.0, "亿元", "未达标", "2023-06")
    assert jun["detail"] == "1—6月平头融合发展区营业性收入累计75.00亿元，目标200亿元，尚差125.00亿元"
    # 199.999999 亿元 is shown 200.00 but judged unrounded: below 200
    jul = card(con, "2023-07", "pingtou_industry_cluster")
    assert (jul["actual_value"], jul["status"]) == (200.0, "未达标")
    assert jul["detail"] == "1—7月平头融合发展区营业性收入累计200.00亿元，目标200亿元，尚差0.00亿元"
    aug = card(con, "2023-08", "pingtou_industry_cluster")
    assert (aug["actual_value"], aug["status"]) == (200.0, "达标")
    assert aug["detail"] == "1—8月平头融合发展区营业性收入累计200.00亿元，目标200亿元，已达到目标"
    last_year = card(con, "2022-06", "pingtou_industry_cluster")
    assert (last_year["actual_value"], last_year["status"]) == (60.0, "未达标")
    # no row of 平头 that month (朝阳 alone in February; none at all in April): its committee
    for period in ("2023-02", "2023-04", "2023-05", "2023-09"):
        r = card(con, period, "pingtou_industry_cluster")
        assert (r["status"], r["actual_value"], r["data_period"]) == ("无数据", None, None)
        assert r["detail"] == f"平头融合发展区管委会{period}的报表未报送"


def test_scorecard_old_targets_without_their_data(warehouse):
    # the periods that only the new datasets have still carry the other targets, as 无数据
    con = warehouse.conn
    for period in ("2023-07", "2023-09"):
        for key in ("village_operating_income_min", "industrial_growth_above_city", "digital_economy_core_output"):
            assert card(con, period, key)["status"] == "无数据"


def test_scorecard_split_of_the_faces_target_comes_from_its_name(warehouse):
    # the county renames the target to 6采20掘: 2023-08 (6 采煤, 20 掘进) then meets it, 2023-07 does not
    con = warehouse.conn
    con.execute("UPDATE reference.targets SET target_name = '建设26个智能化工作面（6采20掘）' "
                "WHERE target_key = 'smart_working_faces'")
    build_mart(con, "target_scorecard")
    assert card(con, "2023-08", "smart_working_faces")["status"] == "达标"
    jul = card(con, "2023-07", "smart_working_faces")
    assert jul["status"] == "未达标" and jul["detail"].endswith("目标26个（6采20掘）")
