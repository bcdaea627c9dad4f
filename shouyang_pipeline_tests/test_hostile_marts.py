"""The marts and the exports on the most extreme content staging accepts.

Staging holds money as DECIMAL(18,4) 万元 with |x| ≤ 1e10 (and down to 0.0001), percentages as
DECIMAL(9,4) with |x| ≤ 10000. Whatever rows within those bounds are loaded, and however many,
no mart may fail to build (a DuckDB conversion error stops the whole run) and every figure must
be right and finite. The rules of the datasets (shouyang_pipeline/catalog/datasets/) say what is
possible: every money column is ≥ 0 (total investment > 0, annual plan ≤ total investment, total
income ≥ operating income); the year-to-date figure may fall from one month to the next; the
city's growth rate has no rule, so it may be −10000.

`hostile` is a real DuckDB file with rows at those bounds, chosen so that the former types
overflowed: a completion rate of ytd ÷ 0.0001 summed over 20 projects (2e17 %, beyond
DECIMAL(18,1)), a growth rate over 100 enterprises with last year's sum 0.0001 (1e18 %), a
million villages at 1e10 万元 in one township (1e16 万元, beyond DECIMAL(18,2)). The datasets of
smart mines, parks and talent (2023-08, a month of their own) are at their bounds too: a thousand
faces at 1e10 万元, a park at 1e10 万元 whose last year was 0.0001, every talent count at the
largest INTEGER.
`test_marts_hold_the_largest_sums_a_table_can_make` goes to the end: one row carrying the sum of
2^63 rows at 1e10 万元 (no table can hold more rows), on staging columns widened to DECIMAL(38,4).
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from decimal import Decimal as D
from decimal import localcontext
from pathlib import Path

import duckdb
import openpyxl
import pytest

try:
    from .test_marts import CHAINS, TARGETS, TOWNSHIPS, VILLAGES, ZONES
except ImportError:  # rootdir-style imports (no package __init__)
    from test_marts import CHAINS, TARGETS, TOWNSHIPS, VILLAGES, ZONES

from shouyang_pipeline.catalog.datasets import DATASETS
from shouyang_pipeline.exports.briefing import write_briefing
from shouyang_pipeline.exports.workbook import write_workbook
from shouyang_pipeline.catalog.marts import MARTS
from shouyang_pipeline.marts.flags import recompute_flags
from shouyang_pipeline.marts.build import build_all, build_mart, built_columns, check_matches_declaration
from shouyang_pipeline.marts.lineage import build_order
from shouyang_pipeline.warehouse.ddl import ensure_tables
from shouyang_pipeline_tests.conftest import one, rows

MAX = "10000000000.0000"  # 1e10 万元, the largest money value staging accepts
MIN = "0.0001"  # the smallest positive one
PT, COALM, CHEM = "平头融合发展区", "煤机制造产业链", "化工产业链"

MANY_PROJECTS = 1000  # 2023-06: every money column at its maximum
MANY_ENTERPRISES = 100  # 2023-06: last year's sum 0.0001
MANY_VILLAGES = 1_000_000  # 2023-09: one township, 1e16 万元

ROWS_OF_A_FULL_TABLE = 2**63 - 1  # DuckDB's row ids are BIGINT
MAX_INT = 2**31 - 1  # the largest count staging's INTEGER columns hold
MANY_FACES = 1000  # 2023-08: 200 采煤 and 800 掘进, all built

MINES = [
    ("DUANWANG", "段王煤矿", "段王;段王煤业;段王矿", "平头镇"),
    ("KAIYUAN", "开元煤矿", "开元;开元矿业;开元矿", "朝阳镇"),
    ("PINGSHU", "平舒煤矿", "平舒;平舒煤业;平舒矿", "平舒乡"),
]


def _reference(conn) -> None:
    ensure_tables(conn)
    conn.executemany("INSERT INTO reference.industry_chains VALUES (?, ?, true)", CHAINS)
    conn.executemany("INSERT INTO reference.zones VALUES (?, ?, ?)", ZONES)
    conn.executemany("INSERT INTO reference.townships VALUES (?, ?, ?)", TOWNSHIPS)
    conn.executemany("INSERT INTO reference.villages VALUES (?, ?, ?)", VILLAGES)
    conn.executemany("INSERT INTO reference.mines VALUES (?, ?, ?, ?)", MINES)
    conn.executemany("INSERT INTO reference.targets VALUES (?, ?, ?, ?, ?, ?, ?, 'x.txt', '')", TARGETS)


def _rows(conn, table: str, n: int, **columns: str) -> None:
    """n rows of staging.<table>, each column a SQL expression of i (1..n)."""
    columns = {"source_file": f"'{table}/x.csv'", "source_row": "CAST(i + 1 AS INTEGER)", **columns}
    conn.execute(
        f"INSERT INTO staging.{table} ({', '.join(columns)}) "
        f"SELECT {', '.join(columns.values())} FROM range(1, {n} + 1) AS t(i)")


def load_hostile(conn) -> None:
    _reference(conn)
    # 2023-06: 1000 省级 projects, every money column 1e10 万元
    _rows(conn, "key_projects", MANY_PROJECTS, period="'2023-06'", project_code="printf('M%04d', i)",
          project_name="'项目' || i", level="'省级'", total_investment=MAX, annual_plan_investment=MAX,
          ytd_investment=MAX, status="'续建'", zone=f"'{PT}'", industry_chain=f"'{COALM}'", is_productive="true")
    # 2023-07: 20 省级 projects at 1e10 万元 ytd whose plans sum to 0.0001 (one plan of 0.0001, the
    # others 0); M0001 falls back to 0 (ytd −1e10 since June); S01 is the smallest project there is.
    _rows(conn, "key_projects", 20, period="'2023-07'", project_code="printf('T%02d', i)",
          project_name="'项目T' || i", level="'省级'", total_investment=MAX,
          annual_plan_investment=f"CASE WHEN i = 1 THEN {MIN} ELSE 0 END", ytd_investment=MAX,
          status="'续建'", zone=f"'{PT}'", industry_chain=f"'{CHEM}'")
    _rows(conn, "key_projects", 1, period="'2023-07'", project_code="'M0001'", project_name="'项目1'",
          level="'县级'", total_investment=MAX, annual_plan_investment=MAX, ytd_investment="0", status="'续建'")
    _rows(conn, "key_projects", 1, period="'2023-07'", project_code="'S01'", project_name="'最小项目'",
          level="'县级'", total_investment=MIN, annual_plan_investment=MIN, ytd_investment="0", status="'续建'")

    # 2023-06: 100 enterprises at 1e10 万元 whose last year sums to 0.0001; the city at −10000 %
    _rows(conn, "industrial_output", MANY_ENTERPRISES, period="'2023-06'", credit_code="printf('C%03d', i)",
          enterprise_name="'企业' || i", industry_chain=f"'{COALM}'", value_added_ytd=MAX,
          value_added_prev_ytd=f"CASE WHEN i = 1 THEN {MIN} ELSE 0 END", output_value_ytd=MAX,
          is_digital_core="true")
    # 2023-07: ten enterprises fall from 1e10 to 0 (−100 %); the city at +10000 %
    _rows(conn, "industrial_output", 10, period="'2023-07'", credit_code="printf('D%03d', i)",
          enterprise_name="'企业D' || i", industry_chain=f"'{CHEM}'", value_added_ytd="0",
          value_added_prev_ytd=MAX, output_value_ytd=MAX, is_digital_core="false")
    _rows(conn, "city_indicators", 1, period="'2023-06'", indicator="'规上工业增加值增速'", value="-10000")
    _rows(conn, "city_indicators", 1, period="'2023-07'", indicator="'规上工业增加值增速'", value="10000")

    # 2023-06: villages at the smallest incomes; 2023-09: a million villages at 1e10 万元 in 平头镇
    _rows(conn, "village_income", 1, period="'2023-06'", village_code="'140725103201'", village_name="'黑水村'",
          township="'平头镇'", operating_income=MIN, total_income=MIN)
    _rows(conn, "village_income", 1, period="'2023-06'", village_code="'140725103202'", village_name="'山底村'",
          township="'平头镇'", operating_income="0", total_income=MAX)
    _rows(conn, "village_income", MANY_VILLAGES, period="'2023-09'", village_code="printf('9%011d', i)",
          village_name="'村' || i", township="'平头镇'", operating_income=MAX, total_income=MAX)

    # 2023-08: a thousand built faces of one mine at 1e10 万元 each (every fifth 采煤)
    _rows(conn, "smart_mines", MANY_FACES, period="'2023-08'", mine="'段王煤矿'", face_code="printf('F%04d', i)",
          face_type="CASE WHEN i % 5 = 0 THEN '采煤' ELSE '掘进' END", status="'已建成'", has_5g="true",
          investment_ytd=MAX)
    # 2023-08: 平头 at 1e10 万元 and the largest counts; its 2022-08 revenue 0.0001 万元
    _rows(conn, "zone_operations", 1, period="'2023-08'", zone=f"'{PT}'", fixed_asset_investment_ytd=MAX,
          tax_revenue_ytd=MAX, operating_revenue_ytd=MAX, above_scale_enterprises=str(MAX_INT),
          new_above_scale_enterprises=str(MAX_INT), employees=str(MAX_INT))
    _rows(conn, "zone_operations", 1, period="'2022-08'", zone=f"'{PT}'", fixed_asset_investment_ytd="0",
          tax_revenue_ytd="0", operating_revenue_ytd=MIN)
    # 2023-08: every field and kind of talent at the largest INTEGER
    conn.execute(
        "INSERT INTO staging.talent (period, field, talent_kind, connected_ytd, recruited_ytd, source_file, source_row) "
        f"SELECT '2023-08', f, k, {MAX_INT}, {MAX_INT}, 'talent/x.csv', 2 "
        "FROM unnest(['交通物流', '数字经济', '医疗康养', '智能制造', '现代农业', '文化旅游', '其他']) AS a(f), "
        "unnest(['领军人才', '实用型人才']) AS b(k)")

    # The reporting calendar: key projects' files of 2023-06/07 at the largest counts, one of them
    # received long after its due day, a village file of 2023-09 sent back, a sender off the list;
    # and the flags of the months above (M0001 falls from 1e10 to 0 万元).
    conn.execute("INSERT INTO reference.submitters VALUES ('key_projects', '发改局', '县发改局', '1-12', 5), "
                 "('village_income', '平头镇', '平头镇人民政府', '3,6,9,12', 10)")
    conn.execute(
        "INSERT INTO audit.ingest_log (file_path, dataset, period, submitter, sha256, status, rows_read, rows_loaded, "
        "rows_rejected, is_current, ingested_at, received_at, received_from, expected_submitter, partition_key) VALUES "
        f"('key_projects/2023-06__发改局.csv', 'key_projects', '2023-06', '发改局', 'a', 'partial', {MAX_INT}, "
        f"{MAX_INT - 1}, 1, true, TIMESTAMP '2023-07-03 09:00', TIMESTAMP '2023-07-03 09:00', '收文登记', '发改局', 'key_projects/2023-06'), "
        f"('key_projects/2023-07__发改局.csv', 'key_projects', '2023-07', '发改局', 'b', 'loaded', {MAX_INT}, {MAX_INT}, 0, "
        "true, TIMESTAMP '2099-12-31 23:59', TIMESTAMP '2099-12-31 23:59', '文件修改时间', '发改局', 'key_projects/2023-07'), "
        "('village_income/2023-09__平头镇.csv', 'village_income', '2023-09', '平头镇', 'c', 'rejected', 0, 0, 0, "
        "true, TIMESTAMP '2023-10-09 09:00', TIMESTAMP '2023-10-09 09:00', '收文登记', '平头镇', 'village_income/2023-09'), "
        "('key_projects/2023-07__交通局.csv', 'key_projects', '2023-07', '交通局', 'd', 'loaded', 1, 1, 0, "
        "true, TIMESTAMP '2023-08-01 09:00', TIMESTAMP '2023-08-01 09:00', '收文登记', NULL, 'key_projects/2023-07')")
    recompute_flags(conn)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hostile_marts") / "warehouse.duckdb"
    conn = duckdb.connect(str(path))
    try:
        load_hostile(conn)
        build_all(conn, now=datetime(2024, 1, 20, 9, 0))
    finally:
        conn.close()
    return path


@pytest.fixture(scope="module")
def con(hostile):
    conn = duckdb.connect(str(hostile), read_only=True)
    yield conn
    conn.close()


def close(value, expected, rel=1e-12) -> bool:
    """A figure that went through a DOUBLE quotient: right to its 15 significant digits."""
    return value is not None and math.isclose(float(value), float(expected), rel_tol=rel)


def assert_finite_and_typed(con, name: str) -> None:
    """Every number of marts.<name> is finite and has exactly its column's decimals."""
    table = MARTS[name]
    for c in table.columns:
        m = re.fullmatch(r"DECIMAL\(\d+,(\d+)\)", c.sql_type)
        if not (m or c.sql_type in ("DOUBLE", "BIGINT", "INTEGER")):
            continue
        col = f'"{c.name}"'
        lo, hi, bad = con.execute(
            f"SELECT min({col}), max({col}), "
            f"count(*) FILTER (WHERE NOT isfinite(CAST({col} AS DOUBLE))) FROM {table.qualified}").fetchone()
        assert bad == 0, (name, c.name)
        for v in (lo, hi):
            if isinstance(v, D):
                assert v.is_finite() and m and v.as_tuple().exponent == -int(m.group(1)), (name, c.name, v)
            elif v is not None:
                assert math.isfinite(v), (name, c.name, v)


# --- every mart builds, as declared, with finite figures ---------------------------------


@pytest.mark.parametrize("name", list(MARTS))
def test_every_mart_builds_as_declared_with_finite_figures(con, name):
    check_matches_declaration(con, name)
    assert con.execute(f"SELECT count(*) FROM marts.{name}").fetchone()[0] > 0
    assert_finite_and_typed(con, name)


# --- the figures -------------------------------------------------------------------------


def test_project_summary_sums_stay_exact(con):
    june = one(con, "SELECT * FROM marts.project_summary WHERE period = '2023-06' AND scope = '全部'")
    # 1000 × 1e10 万元 = 1e13 万元 = 1e9 亿元, exactly (DECIMAL all the way)
    assert june["projects"] == MANY_PROJECTS
    assert june["total_investment_yi"] == june["annual_plan_yi"] == june["ytd_investment_yi"] == D("1000000000.00")
    assert june["plan_completion_pct"] == D("100.0") and june["start_rate_pct"] == D("100.0")
    assert june["projects_over_100m"] == june["productive_projects"] == MANY_PROJECTS


def test_completion_over_a_plan_of_one_hundredth_of_a_yuan(con):
    # 省级 2023-07: 20 × 1e10 万元 ytd over plans summing to 0.0001 万元: 2e17 %
    prov = one(con, "SELECT * FROM marts.project_summary WHERE period = '2023-07' AND scope = '省级'")
    assert prov["ytd_investment_yi"] == D("20000000.00")
    assert prov["annual_plan_yi"] == D("0.00")  # 0.0001 万元 = 0.00000001 亿元
    assert close(prov["plan_completion_pct"], 2e17)
    # 全部: 2e11 ÷ (1e10 + 0.0002) × 100 = 1999.99999996 → 2000.0
    assert one(con, "SELECT plan_completion_pct FROM marts.project_summary "
                    "WHERE period = '2023-07' AND scope = '全部'")["plan_completion_pct"] == D("2000.0")


def test_project_progress_extremes(con):
    got = {r["project_code"]: r for r in rows(con, "SELECT * FROM marts.project_progress WHERE period = '2023-07'")}
    assert close(got["T01"]["plan_completion_pct"], 1e16)  # 1e10 ÷ 0.0001 × 100
    assert got["T02"]["plan_completion_pct"] is None  # plan 0
    assert got["M0001"]["ytd_investment_change_wan"] == D("-10000000000.00")  # 0 after 1e10 in June
    assert got["M0001"]["behind_schedule"] is True
    smallest = got["S01"]
    assert smallest["total_investment"] == D("0.0001") and smallest["plan_completion_pct"] == D("0.0")
    assert smallest["behind_schedule"] is True
    assert got["T01"]["behind_schedule"] is False


def test_industrial_growth_over_a_last_year_of_one_hundredth_of_a_yuan(con):
    june = one(con, "SELECT * FROM marts.industrial_output_summary WHERE period = '2023-06'")
    # (100 × 1e10 − 0.0001) ÷ 0.0001 × 100 = 1e18 − 100 %
    assert june["enterprises"] == MANY_ENTERPRISES
    assert june["value_added_ytd_yi"] == june["digital_core_output_yi"] == D("100000000.00")
    assert june["value_added_prev_ytd_yi"] == D("0.00")
    assert close(june["yoy_growth_pct"], 1e18)
    assert june["city_yoy_growth_pct"] == D("-10000.0")
    assert close(june["gap_pp"], 1e18 + 10000)
    july = one(con, "SELECT * FROM marts.industrial_output_summary WHERE period = '2023-07'")
    assert july["yoy_growth_pct"] == D("-100.0") and july["city_yoy_growth_pct"] == D("10000.0")
    assert july["gap_pp"] == D("-10100.0") and july["value_added_prev_ytd_yi"] == D("10000000.00")
    chain = one(con, "SELECT * FROM marts.industry_chain_summary WHERE period = '2023-06' AND chain_name = ?", [COALM])
    assert chain["enterprises"] == MANY_ENTERPRISES and close(chain["yoy_growth_pct"], 1e18)
    assert chain["value_added_ytd_yi"] == D("100000000.00") and chain["project_total_investment_yi"] == D("1000000000.00")


def test_a_million_villages_at_the_maximum(con):
    town = one(con, "SELECT * FROM marts.township_income_summary WHERE period = '2023-09' AND township = '平头镇'")
    county = one(con, "SELECT * FROM marts.township_income_summary WHERE period = '2023-09' AND township = '全县'")
    for r in (town, county):
        assert r["villages_reported"] == r["villages_meeting_target"] == MANY_VILLAGES
        assert r["operating_income_wan"] == D("10000000000000000.00")  # 1e6 × 1e10 万元, exactly
        assert r["shortfall_wan"] == D("0.00")
    assert town["share_meeting_target_pct"] == D("33333333.3")  # 1e6 of the 3 villages expected


def test_villages_at_the_smallest_incomes(con):
    got = {r["village_name"]: r for r in rows(con, "SELECT * FROM marts.village_income WHERE period = '2023-06'")}
    assert got["黑水村"]["operating_income_wan"] == D("0.00") and got["黑水村"]["shortfall_wan"] == D("40.00")  # 39.9999
    assert got["山底村"]["total_income_wan"] == D("10000000000.00") and got["山底村"]["shortfall_wan"] == D("40.00")
    assert {r["income_band"] for r in got.values()} == {"<5万"}


def test_target_scorecard_on_extremes(con):
    cards = {(r["period"], r["target_key"]): r for r in rows(con, "SELECT * FROM marts.target_scorecard")}
    growth = cards[("2023-06", "industrial_growth_above_city")]
    assert growth["status"] == "达标" and close(growth["actual_value"], 1e18)
    assert "增长" in growth["detail"] and "全市-10000.0%" in growth["detail"]
    assert not re.search(r"\de[+-]?\d|inf|nan", growth["detail"], re.I), growth["detail"]
    fall = cards[("2023-07", "industrial_growth_above_city")]
    assert fall["status"] == "未达标" and fall["actual_value"] == -10100.0
    assert fall["detail"].endswith("同比下降100.0%，全市10000.0%，低于全市10100.0个百分点")
    digital = cards[("2023-06", "digital_economy_core_output")]
    assert digital["status"] == "达标" and digital["actual_value"] == 100000000.0
    assert "100000000.00亿元" in digital["detail"]
    villages = cards[("2023-09", "village_operating_income_min")]
    assert villages["actual_value"] == MANY_VILLAGES and villages["status"] == "未达标"  # 1e6 reported ≠ 6 expected


def test_new_datasets_at_their_bounds(con):
    county = one(con, "SELECT * FROM marts.smart_mine_summary WHERE period = '2023-08' AND mine_name = '全县'")
    assert (county["faces"], county["faces_built"], county["mining_faces_built"], county["heading_faces_built"],
            county["faces_with_5g"]) == (MANY_FACES, MANY_FACES, 200, 800, MANY_FACES)
    assert county["investment_ytd_wan"] == D("10000000000000.00")  # 1000 × 1e10 万元, exactly
    park = one(con, "SELECT * FROM marts.zone_operations_summary WHERE period = '2023-08'")
    assert park["operating_revenue_yi"] == park["tax_revenue_yi"] == D("1000000.00")
    assert park["employees"] == park["above_scale_enterprises"] == MAX_INT
    assert close(park["operating_revenue_yoy_pct"], 1e16 - 100)  # (1e10 − 0.0001) ÷ 0.0001 × 100
    talent = {(r["talent_kind"], r["field"]): r for r in rows(
        con, "SELECT * FROM marts.talent_summary WHERE period = '2023-08'")}
    assert talent[("领军人才", "合计")]["connected_ytd"] == talent[("实用型人才", "合计")]["recruited_ytd"] == 7 * MAX_INT
    cards = {r["target_key"]: r for r in rows(con, "SELECT * FROM marts.target_scorecard WHERE period = '2023-08'")}
    assert cards["smart_working_faces"]["status"] == "达标" and cards["smart_working_faces"]["actual_value"] == MANY_FACES
    assert cards["pingtou_industry_cluster"]["status"] == "达标"
    assert cards["pingtou_industry_cluster"]["detail"] == "1—8月平头融合发展区营业性收入累计1000000.00亿元，目标200亿元，已达到目标"
    assert cards["leading_talent"]["actual_value"] == 7 * MAX_INT
    assert cards["practical_talent"]["detail"] == f"2023-08：累计培育引进实用型人才{7 * MAX_INT}名，目标1000名，已达到目标"


# --- the exports -------------------------------------------------------------------------

_EXPONENT = re.compile(r"\d[eE][+-]?\d|\binf\b|\bnan\b", re.I)


@pytest.mark.parametrize("period", ["2023-06", "2023-07", "2023-09"])
def test_briefing_renders_extremes_in_full(con, tmp_path, period):
    md_path, html_path = write_briefing(con, period, tmp_path)
    md, html = md_path.read_text(encoding="utf-8"), html_path.read_text(encoding="utf-8")
    assert not _EXPONENT.search(md), _EXPONENT.search(md)
    texts = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", html))  # the charts' labels
    body = re.sub(r"<[^>]*>", " ", re.sub(r"<(style|svg)\b.*?</\1>", "", html, flags=re.S))  # the text
    assert not _EXPONENT.search(body) and not re.search(r"\de\+\d", texts)
    if period == "2023-06":
        assert "全县重点项目1000个，总投资1000000000.00亿元" in md
        assert "数字经济核心产业产值累计100000000.00亿元" in md
        assert "100000000亿元" in texts  # the chain chart's label, every digit
    if period == "2023-09":
        assert "已报送村经营性收入累计10000000000000000.00万元" in md


@pytest.mark.parametrize("period", ["2023-06", "2023-07"])
def test_workbook_holds_extremes(con, tmp_path, period):
    wb = openpyxl.load_workbook(write_workbook(con, period, tmp_path))
    for ws in wb.worksheets[1:]:
        for row in ws.iter_rows(min_row=2, values_only=True):
            assert all(math.isfinite(v) for v in row if isinstance(v, float)), (ws.title, row)
    if period == "2023-06":
        ind = wb["规上工业汇总"]
        assert math.isclose(ind.cell(2, 5).value, 1e18, rel_tol=1e-12)


# --- the end of the range: the largest sum any table can make ------------------------------


def test_marts_hold_the_largest_sums_a_table_can_make(tmp_path):
    """One row carrying what 2^63 − 1 rows at 1e10 万元 would sum to (staging's money columns
    widened to DECIMAL(38,4) to hold it; a sum of DECIMAL(18,4) is DECIMAL(38,4) too), over plans
    and last years of 0.0001. project_progress, one row per staging row, copies the widened
    staging columns; its own columns are as declared."""
    with localcontext(prec=80):  # Python's own decimals: 28 digits by default
        _largest_sums(tmp_path)


def _largest_sums(tmp_path):
    total = D(ROWS_OF_A_FULL_TABLE) * D(MAX)  # ≈ 9.2e28 万元
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    _reference(conn)
    for name, d in DATASETS.items():
        for f in d.all_fields:
            if f.kind == "money":
                conn.execute(f"ALTER TABLE staging.{name} ALTER COLUMN {f.name} TYPE DECIMAL(38,4)")
    big = f"CAST('{total}' AS DECIMAL(38,4))"
    _rows(conn, "key_projects", 1, period="'2023-12'", project_code="'P1'", project_name="'项目'", level="'省级'",
          total_investment=big, annual_plan_investment=MIN, ytd_investment=big, status="'续建'",
          zone=f"'{PT}'", industry_chain=f"'{COALM}'", is_productive="true")
    _rows(conn, "industrial_output", 1, period="'2023-12'", credit_code="'C1'", enterprise_name="'企业'",
          industry_chain=f"'{COALM}'", value_added_ytd=big, value_added_prev_ytd=MIN, output_value_ytd=big,
          is_digital_core="true")
    _rows(conn, "city_indicators", 1, period="'2023-12'", indicator="'规上工业增加值增速'", value="-10000")
    _rows(conn, "village_income", 1, period="'2023-12'", village_code="'140725103201'", village_name="'黑水村'",
          township="'平头镇'", operating_income=big, total_income=big)
    _rows(conn, "smart_mines", 1, period="'2023-12'", mine="'段王煤矿'", face_code="'F1'", face_type="'采煤'",
          status="'已建成'", investment_ytd=big)
    _rows(conn, "zone_operations", 1, period="'2023-12'", zone=f"'{PT}'", fixed_asset_investment_ytd=big,
          tax_revenue_ytd=big, operating_revenue_ytd=big)
    _rows(conn, "zone_operations", 1, period="'2022-12'", zone=f"'{PT}'", fixed_asset_investment_ytd="0",
          tax_revenue_ytd="0", operating_revenue_ytd=MIN)
    widened = {f.name for f in DATASETS["key_projects"].all_fields if f.kind == "money"}
    # project_progress copies the widened staging columns, so it cannot match its declaration:
    # a build checks that and fails, leaving nothing behind; here it is built unchecked
    with pytest.raises(AssertionError, match="does not match its declaration"):
        build_mart(conn, "project_progress")
    assert not conn.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'project_progress'").fetchone()[0]
    for name in build_order():
        table = MARTS[name]
        build_mart(conn, name, check=name != "project_progress")
        if name == "project_progress":
            assert built_columns(conn, table) == [
                (c.name, "DECIMAL(38,4)" if c.name in widened else c.sql_type) for c in table.columns]
        else:
            check_matches_declaration(conn, name)
        assert_finite_and_typed(conn, name)

    yi = (total / 10000).quantize(D("0.01"))
    ps = one(conn, "SELECT * FROM marts.project_summary WHERE scope = '全部'")
    assert ps["total_investment_yi"] == ps["ytd_investment_yi"] == yi  # exact, 25 digits
    assert close(ps["plan_completion_pct"], total * 100 / D(MIN), rel=1e-9)  # ≈ 9.2e34 %
    pp = one(conn, "SELECT * FROM marts.project_progress")
    assert close(pp["plan_completion_pct"], total * 100 / D(MIN), rel=1e-9) and pp["behind_schedule"] is False
    io = one(conn, "SELECT * FROM marts.industrial_output_summary")
    assert io["value_added_ytd_yi"] == io["digital_core_output_yi"] == yi
    assert close(io["yoy_growth_pct"], (total - D(MIN)) * 100 / D(MIN), rel=1e-9)
    assert close(io["gap_pp"], (total - D(MIN)) * 100 / D(MIN) + 10000, rel=1e-9)
    town = one(conn, "SELECT * FROM marts.township_income_summary WHERE township = '平头镇'")
    assert town["operating_income_wan"] == total.quantize(D("0.01"))  # 29 digits, exact
    mines = one(conn, "SELECT * FROM marts.smart_mine_summary WHERE mine_name = '全县'")
    assert mines["investment_ytd_wan"] == total.quantize(D("0.01"))
    park = one(conn, "SELECT * FROM marts.zone_operations_summary WHERE period = '2023-12'")
    assert park["operating_revenue_yi"] == yi
    assert close(park["operating_revenue_yoy_pct"], (total - D(MIN)) * 100 / D(MIN), rel=1e-9)
    cluster = one(conn, "SELECT * FROM marts.target_scorecard "
                        "WHERE period = '2023-12' AND target_key = 'pingtou_industry_cluster'")
    assert cluster["status"] == "达标" and f"{yi}亿元" in cluster["detail"]
    card = one(conn, "SELECT * FROM marts.target_scorecard "
                     "WHERE period = '2023-12' AND target_key = 'digital_economy_core_output'")
    assert card["status"] == "达标" and close(card["actual_value"], yi)
    assert f"{yi}亿元" in card["detail"]
    write_briefing(conn, "2023-12", tmp_path / "exports")  # the briefing prints them too
    md = (tmp_path / "exports" / "briefing_2023-12.md").read_text(encoding="utf-8")
    assert f"总投资{yi}亿元" in md and not _EXPONENT.search(md)
    conn.close()


def test_the_calendar_at_the_bounds(con):
    """Counts at the largest INTEGER, a file received in 2099, a village file sent back, a sender
    off the calendar, and the flags of a fall from 1e10 万元 to 0."""
    got = {(r["period"], r["submitter"]): r for r in rows(con, "SELECT * FROM marts.submission_status")}
    june, july = got[("2023-06", "发改局")], got[("2023-07", "发改局")]
    assert (june["status"], june["rows_loaded"], june["rows_rejected"], june["is_late"]) == ("部分入库", MAX_INT - 1, 1, False)
    assert (july["status"], july["rows_loaded"], july["is_late"]) == ("已报送", MAX_INT, True)
    assert got[("2023-09", "平头镇")]["status"] == "被退回"
    assert got[("2023-07", "交通局")]["status"] == "名单外"
    assert got[("2023-12", "发改局")]["status"] == "逾期未报"  # the period due at the clock (2024-01-20)
    fall = one(con, "SELECT * FROM audit.cross_period_flags WHERE \"key\" = 'M0001' AND rule = 'ytd_decreased'")
    assert (fall["value"], fall["previous_value"]) == (D(0), D(MAX))
    assert fall["reason"] == "本年累计完成投资比上期减少（本期：0，2023-06：10000000000），累计数不应下降，请核实"
