"""The marts, on a small hand-made warehouse whose figures were computed by hand.

`make_warehouse(path)` builds a real DuckDB file with `ensure_tables`, a small reference list
and staging rows chosen for the edge cases of WAREHOUSE.md; it is also used by the briefing
test. Every expected figure below was worked out by hand from those rows (see the comments).
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from shouyang_pipeline.marts.build import (
    MARTS,
    build_all,
    build_mart,
    built_columns,
    mart_sql,
)
from shouyang_pipeline.marts.lineage import mart_inputs
from shouyang_pipeline.warehouse.ddl import ensure_tables
from shouyang_pipeline_tests.conftest import one, rows

CHAINS = [
    ("CORN", "玉米全产业链"), ("SPECIALTY_AGRI", "特优农产产业链"), ("PAPER", "造纸产业链"),
    ("CHEMICAL", "化工产业链"), ("COAL_MACHINERY", "煤机制造产业链"),
    ("BUILDING_MATERIALS", "建筑材料产业链"), ("COAL", "煤炭全产业链"), ("LOGISTICS", "现代物流产业链"),
]
ZONES = [
    ("PINGTOU", "平头融合发展区", "太晋一体化平头融合发展区;平头融合区"),
    ("CHAOYANG_COAL_MACHINERY", "朝阳煤机制造专业镇", "朝阳煤机专业镇"),
    ("JINGSHANG_AGRI", "景尚农业现代化产业园", "景尚农业园"),
]
TOWNSHIPS = [
    ("140725100", "朝阳镇", "镇"),
    ("140725103", "平头镇", "镇"),
    ("140725105", "西洛镇", "镇"),  # no village in the (test) reference list
    ("140725203", "景尚乡", "乡"),  # one village, which never reports
]
VILLAGES = [
    ("140725103201", "黑水村", "平头镇"),
    ("140725103202", "山底村", "平头镇"),
    ("140725103203", "龙栖村", "平头镇"),
    ("140725100201", "东村", "朝阳镇"),
    ("140725100202", "西村", "朝阳镇"),
    ("140725203201", "北村", "景尚乡"),
]
TARGETS = [
    ("village_operating_income_min", "村集体经济经营性收入均超40万元", "village_income", ">=", 40, "万元", "每个行政村"),
    ("industrial_growth_above_city", "规上工业增加值增速高于全市", "industrial_output", ">", 0, "个百分点", "全县"),
    ("digital_economy_core_output", "数字经济核心产业产值达到10亿元", "industrial_output", ">=", 10, "亿元", "全县"),
    ("smart_working_faces", "建设26个智能化工作面（5采21掘）", "smart_mines", ">=", 26, "个", "全县"),
    ("leading_talent", "对接百名领军人才", "talent", ">=", 100, "人", "全县"),
    ("practical_talent", "培育引进千名实用型人才", "talent", ">=", 1000, "人", "全县"),
    ("pingtou_industry_cluster", "平头融合发展区打造200亿产业集群", "zone_operations", ">=", 200, "亿元", "平头融合发展区"),
]

PT, CY, JS = "平头融合发展区", "朝阳煤机制造专业镇", "景尚农业现代化产业园"
COALM, CHEM = "煤机制造产业链", "化工产业链"


def kp(period, code, level, total, plan, ytd, status, *, zone=None, chain=None, productive=None):
    return dict(period=period, project_code=code, project_name=f"项目{code}", level=level,
                total_investment=D(str(total)), annual_plan_investment=D(str(plan)),
                ytd_investment=D(str(ytd)), status=status, zone=zone, industry_chain=chain,
                is_productive=productive)


KEY_PROJECTS = [
    # 2023-01: 全部 ytd 125 + 0 + 1125 = 1250 万元 = 0.125 亿元 → 0.13 (四舍五入)
    kp("2023-01", "P1", "省级", 20000, 5000, 125, "续建", zone=PT, chain=COALM, productive=True),
    kp("2023-01", "P2", "市级", 10000, 0, 0, "未开工"),  # exactly 1亿元 → 亿元以上; plan 0
    kp("2023-01", "P3", "县级", "9999.9999", 1000, 1125, "竣工", zone=PT),  # just below 1亿元
    # 2023-02: P1 completion 527.5/5000 = 10.55 % → 10.6; P3 change 0.125 万元 → 0.13
    kp("2023-02", "P1", "省级", 20000, 5000, "527.5", "续建", zone=PT, chain=COALM, productive=True),
    kp("2023-02", "P2", "市级", 10000, 0, 0, "未开工"),
    kp("2023-02", "P3", "县级", "9999.9999", 1000, "1125.125", "竣工", zone=PT),
    # 2023-04 (no 2023-03 file): no 省级 project at all; P2 alone in 市级及以上 with plan 0
    kp("2023-04", "P2", "市级", 10000, 0, 0, "未开工"),
    kp("2023-04", "P3", "县级", "9999.9999", 1000, 1200, "竣工", zone=PT),
    # 2023-06: share of year elapsed 50 %, so behind below 35 %
    kp("2023-06", "P1", "省级", 20000, 5000, 3000, "续建", zone=PT, chain=COALM, productive=True),
    kp("2023-06", "P2", "市级", 10000, 0, 0, "未开工"),  # 未开工 in June → behind
    kp("2023-06", "P3", "县级", "9999.9999", 1000, 100, "竣工", zone=PT),  # 10 % but 竣工 → never behind
    kp("2023-06", "P4", "县级", 5000, 5000, 1750, "新开工", zone=CY),  # exactly 35 % → not behind
    kp("2023-06", "P5", "县级", 5000, 5000, "1749.99", "续建", zone=CY),  # 34.9998 % → behind
]


def io(period, code, va, prev, *, chain=None, output=None, digital=None):
    return dict(period=period, credit_code=code, enterprise_name=f"企业{code}", industry_chain=chain,
                value_added_ytd=D(str(va)), value_added_prev_ytd=D(str(prev)),
                output_value_ytd=None if output is None else D(str(output)), is_digital_core=digital)


INDUSTRIAL = [
    # 2023-02: 250200 万元 = 25.02 亿元; 250200/226227 − 1 = 10.597 % → 10.6; city 9.5 → gap 1.097 → 1.1
    io("2023-02", "E1", 100000, 90000, chain=COALM, output=50000, digital=True),
    io("2023-02", "E2", 150200, 136227, chain=CHEM, output=30000, digital=False),
    io("2023-02", "E3", 0, 0),
    # 2023-03: 110550/100000 − 1 = 10.55 % → 10.6; no city figure; digital exactly 10 亿元
    io("2023-03", "E1", 110550, 100000, chain=COALM, output=100000, digital=True),
    io("2023-03", "E2", 0, 0, chain=CHEM),  # chain with last year's value 0 → NULL growth
    # 2023-06: 90000/100000 − 1 = −10 %; city 5.0 → −15 pp
    io("2023-06", "E1", 90000, 100000, chain=COALM, output=20000, digital=True),
]

CITY = [
    dict(period="2023-02", indicator="规上工业增加值增速", value=D("9.5")),
    dict(period="2023-04", indicator="规上工业增加值增速", value=D("4.0")),  # no county figure
    dict(period="2023-06", indicator="规上工业增加值增速", value=D("5.0")),
]


def vi(period, code, name, township, op, total=None):
    return dict(period=period, village_code=code, village_name=name, township=township,
                operating_income=D(str(op)), total_income=D(str(total if total is not None else op)),
                main_source="光伏")


VILLAGE_ROWS = [
    # 2023-03: 北村 (景尚乡) never reports
    vi("2023-03", "140725103201", "黑水村", "平头镇", 40, 60),  # exactly 40 → meets
    vi("2023-03", "140725103202", "山底村", "平头镇", 10),  # exactly 10 → 10-40万
    vi("2023-03", "140725103203", "龙栖村", "平头镇", 5),  # exactly 5 → 5-10万
    vi("2023-03", "140725100201", "东村", "朝阳镇", "4.995"),  # shows 5.00 but is <5万; shortfall 35.005 → 35.01
    vi("2023-03", "140725100202", "西村", "朝阳镇", "39.995"),  # shortfall 0.005 → 0.01
    # 2023-06: every village reports and meets the target
    *[vi("2023-06", c, n, t, 41) for c, n, t in VILLAGES],
]


def _insert(conn, table: str, rows: list[dict], *, source: str) -> None:
    for i, row in enumerate(rows, start=2):
        row = {"source_file": f"{table}/{row['period']}__{source}.csv", "source_row": i, **row}
        cols = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        conn.execute(f"INSERT INTO staging.{table} ({cols}) VALUES ({marks})", list(row.values()))


def load_example(conn: duckdb.DuckDBPyConnection) -> None:
    ensure_tables(conn)
    conn.executemany("INSERT INTO reference.industry_chains VALUES (?, ?, true)", CHAINS)
    conn.executemany("INSERT INTO reference.zones VALUES (?, ?, ?)", ZONES)
    conn.executemany("INSERT INTO reference.townships VALUES (?, ?, ?)", TOWNSHIPS)
    conn.executemany("INSERT INTO reference.villages VALUES (?, ?, ?)", VILLAGES)
    conn.executemany(
        "INSERT INTO reference.targets VALUES (?, ?, ?, ?, ?, ?, ?, 'x.txt', '')", TARGETS)
    _insert(conn, "key_projects", KEY_PROJECTS, source="县发改局")
    _insert(conn, "industrial_output", INDUSTRIAL, source="县统计局")
    _insert(conn, "city_indicators", CITY, source="县统计局")
    _insert(conn, "village_income", VILLAGE_ROWS, source="平头镇")


def make_warehouse(path: Path) -> Path:
    """A DuckDB file with the example reference/staging rows and every mart built."""
    conn = duckdb.connect(str(path))
    try:
        load_example(conn)
        build_all(conn)
    finally:
        conn.close()
    return path


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    path = make_warehouse(tmp_path_factory.mktemp("marts") / "warehouse.duckdb")
    conn = duckdb.connect(str(path), read_only=True)
    yield conn
    conn.close()


# --- the tables themselves -------------------------------------------------------------


@pytest.mark.parametrize("name", list(MARTS))
def test_built_table_matches_declaration(con, name):
    table = MARTS[name]
    assert built_columns(con, table) == [(c.name, c.sql_type) for c in table.columns]
    comments = dict(con.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'marts' AND table_name = ?",
        [name]).fetchall())
    assert comments == {c.name: c.comment for c in table.columns}
    assert all("：" in c.comment for c in table.columns), "comment must read 名称：含义"
    table_comment = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = ?", [name]).fetchone()[0]
    assert table_comment == table.comment


def test_declarations_and_dependencies_cover_every_mart():
    # the lineage itself is tested in test_mart_lineage.py
    for name in MARTS:
        sql = mart_sql(name)
        for dep in mart_inputs(name):
            schema, table = dep.split("/")
            assert f"{schema}.{table}" in sql, (name, dep)
        assert MARTS[name].schema == "marts"


def forget_what_marts_were_built_from(conn) -> None:
    """The SQL is replaced by the test, not in the package's files (whose digest a build compares):
    without this the build finds nothing changed and keeps the table without running any SQL."""
    conn.execute("DELETE FROM internal.mart_inputs")


def test_rebuild_is_idempotent_and_returns_row_count(tmp_path):
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_example(conn)
    assert build_mart(conn, "project_summary") == 4 * 3
    assert build_mart(conn, "project_summary") == 4 * 3
    conn.execute("DELETE FROM staging.key_projects WHERE period = '2023-06'")
    assert build_mart(conn, "project_summary") == 3 * 3
    conn.close()


def test_failed_build_leaves_previous_table(tmp_path, monkeypatch):
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_example(conn)
    build_mart(conn, "project_summary")
    from shouyang_pipeline.marts import build as b

    forget_what_marts_were_built_from(conn)
    monkeypatch.setattr(b, "mart_sql", lambda name: "SELECT no_such_column FROM staging.key_projects")
    with pytest.raises(duckdb.Error):
        b.build_mart(conn, "project_summary")
    assert conn.execute("SELECT count(*) FROM marts.project_summary").fetchone()[0] == 12
    conn.close()


def test_a_mart_that_drifts_from_its_declaration_fails_and_leaves_the_previous_table(tmp_path, monkeypatch):
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_example(conn)
    build_mart(conn, "project_summary")
    before = conn.execute("SELECT * FROM marts.project_summary").fetchall()
    from shouyang_pipeline.marts import build as b

    forget_what_marts_were_built_from(conn)
    sql = mart_sql("project_summary")
    monkeypatch.setattr(b, "mart_sql", lambda name: sql.replace("AS BIGINT)", "AS INTEGER)"))
    with pytest.raises(AssertionError, match="marts.project_summary does not match its declaration"):
        b.build_mart(conn, "project_summary")
    assert built_columns(conn, MARTS["project_summary"])[2] == ("projects", "BIGINT")
    assert conn.execute("SELECT * FROM marts.project_summary").fetchall() == before
    conn.close()


# --- project_summary -------------------------------------------------------------------


def test_project_summary_scopes(con):
    got = {r["scope"]: r for r in rows(con, "SELECT * FROM marts.project_summary WHERE period = '2023-01'")}
    assert list(got) == ["全部", "市级及以上", "省级"]
    assert got["全部"] == dict(
        period="2023-01", scope="全部", projects=3,
        total_investment_yi=D("4.00"),  # 39999.9999 万元
        annual_plan_yi=D("0.60"),
        ytd_investment_yi=D("0.13"),  # 0.125 → 0.13
        plan_completion_pct=D("20.8"),  # 1250/6000
        started_projects=2, start_rate_pct=D("66.7"),
        projects_over_100m=2,  # 20000 and exactly 10000; not 9999.9999
        productive_projects=1,  # NULL counts as 否
    )
    assert got["市级及以上"] == dict(
        period="2023-01", scope="市级及以上", projects=2, total_investment_yi=D("3.00"),
        annual_plan_yi=D("0.50"), ytd_investment_yi=D("0.01"), plan_completion_pct=D("2.5"),
        started_projects=1, start_rate_pct=D("50.0"), projects_over_100m=2, productive_projects=1,
    )
    assert got["省级"]["projects"] == 1 and got["省级"]["start_rate_pct"] == D("100.0")


def test_project_summary_empty_scope_and_zero_plan(con):
    got = {r["scope"]: r for r in rows(con, "SELECT * FROM marts.project_summary WHERE period = '2023-04'")}
    assert got["省级"] == dict(
        period="2023-04", scope="省级", projects=0, total_investment_yi=D("0.00"), annual_plan_yi=D("0.00"),
        ytd_investment_yi=D("0.00"), plan_completion_pct=None, started_projects=0, start_rate_pct=None,
        projects_over_100m=0, productive_projects=0,
    )
    assert got["市级及以上"]["projects"] == 1
    assert got["市级及以上"]["plan_completion_pct"] is None  # annual plan 0
    assert [r[0] for r in con.execute("SELECT DISTINCT period FROM marts.project_summary ORDER BY 1").fetchall()] == [
        "2023-01", "2023-02", "2023-04", "2023-06"]


# --- zone_project_summary ---------------------------------------------------------------


def test_zone_project_summary(con):
    got = rows(con, "SELECT * FROM marts.zone_project_summary WHERE period = '2023-01'")
    assert [r["zone_name"] for r in got] == [PT, CY, JS]  # reference order, every zone
    assert got[0] == dict(period="2023-01", zone_name=PT, projects=2, total_investment_yi=D("3.00"),
                          projects_over_100m=1, productive_projects=1, ytd_investment_yi=D("0.13"),
                          annual_plan_yi=D("0.60"))
    for r in got[1:]:  # zones with no project: zeros; P2 (no zone) is not counted anywhere
        assert (r["projects"], r["total_investment_yi"], r["projects_over_100m"], r["productive_projects"],
                r["ytd_investment_yi"]) == (0, D("0.00"), 0, 0, D("0.00"))
    jun = {r["zone_name"]: r for r in rows(con, "SELECT * FROM marts.zone_project_summary WHERE period = '2023-06'")}
    assert jun[CY]["projects"] == 2 and jun[CY]["total_investment_yi"] == D("1.00")
    assert con.execute("SELECT count(*) FROM marts.zone_project_summary").fetchone()[0] == 4 * 3


# --- project_progress -------------------------------------------------------------------


def progress(con, period, code):
    return one(con, "SELECT * FROM marts.project_progress WHERE period = ? AND project_code = ?", [period, code])


def test_project_progress_completion_and_change(con):
    p1 = progress(con, "2023-02", "P1")
    assert p1["plan_completion_pct"] == D("10.6")  # 10.55 → 10.6
    assert p1["ytd_investment_change_wan"] == D("402.50")
    assert p1["ytd_investment"] == D("527.5000") and p1["level"] == "省级" and p1["zone"] == PT
    assert p1["source_file"] == "key_projects/2023-02__县发改局.csv"
    assert progress(con, "2023-02", "P3")["ytd_investment_change_wan"] == D("0.13")  # 0.125 → 0.13
    assert progress(con, "2023-01", "P1")["ytd_investment_change_wan"] is None  # January
    assert progress(con, "2023-04", "P3")["ytd_investment_change_wan"] is None  # no 2023-03 row
    assert progress(con, "2023-06", "P2")["ytd_investment_change_wan"] is None  # no 2023-05 row
    assert progress(con, "2023-02", "P2")["plan_completion_pct"] is None  # annual plan 0
    assert progress(con, "2023-01", "P3")["plan_completion_pct"] == D("112.5")


def test_project_progress_behind_schedule(con):
    behind = dict(con.execute(
        "SELECT period || ' ' || project_code, behind_schedule FROM marts.project_progress").fetchall())
    assert behind["2023-02 P2"] is False  # 未开工 before June, plan 0
    assert behind["2023-06 P2"] is True  # 未开工 from June on
    assert behind["2023-06 P3"] is False  # 竣工 is never behind (10 % < 35 %)
    assert behind["2023-06 P4"] is False  # exactly 15 points below 50 % is not "more than"
    assert behind["2023-06 P5"] is True  # 34.9998 %
    assert behind["2023-06 P1"] is False  # 60 %
    assert behind["2023-01 P1"] is False  # 2.5 % vs 8.33 % − 15 < 0
    assert None not in behind.values()


# --- industrial_output_summary ----------------------------------------------------------


def test_industrial_output_summary(con):
    got = {r["period"]: r for r in rows(con, "SELECT * FROM marts.industrial_output_summary")}
    assert list(got) == ["2023-02", "2023-03", "2023-04", "2023-06"]
    assert got["2023-02"] == dict(
        period="2023-02", enterprises=3, value_added_ytd_yi=D("25.02"), value_added_prev_ytd_yi=D("22.62"),
        yoy_growth_pct=D("10.6"), city_yoy_growth_pct=D("9.5"), gap_pp=D("1.1"), digital_core_output_yi=D("5.00"),
    )
    mar = got["2023-03"]
    assert mar["yoy_growth_pct"] == D("10.6")  # 10.55 → 10.6, not 10.5
    assert mar["city_yoy_growth_pct"] is None and mar["gap_pp"] is None
    assert mar["digital_core_output_yi"] == D("10.00")
    apr = got["2023-04"]  # only the city's figure
    assert (apr["enterprises"], apr["value_added_ytd_yi"], apr["yoy_growth_pct"], apr["gap_pp"]) == (0, None, None, None)
    assert apr["city_yoy_growth_pct"] == D("4.0")
    assert (got["2023-06"]["yoy_growth_pct"], got["2023-06"]["gap_pp"]) == (D("-10.0"), D("-15.0"))


def test_gap_is_taken_from_unrounded_growth(tmp_path):
    # county 10.549 %, city 10.45 %: rounded figures would give 10.5 − 10.5 = 0.0,
    # the unrounded gap 0.099 rounds to 0.1.
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_tables(conn)
    _insert(conn, "industrial_output", [io("2023-05", "E9", "110549", 100000)], source="县统计局")
    _insert(conn, "city_indicators", [dict(period="2023-05", indicator="规上工业增加值增速", value=D("10.45"))],
            source="县统计局")
    build_mart(conn, "industrial_output_summary")
    r = one(conn, "SELECT yoy_growth_pct, city_yoy_growth_pct, gap_pp FROM marts.industrial_output_summary")
    assert r == dict(yoy_growth_pct=D("10.5"), city_yoy_growth_pct=D("10.5"), gap_pp=D("0.1"))
    conn.close()


# --- industry_chain_summary -------------------------------------------------------------


def test_industry_chain_summary(con):
    periods = con.execute(
        "SELECT period, count(*) FROM marts.industry_chain_summary GROUP BY period ORDER BY period").fetchall()
    # every period with industrial_output OR key_projects rows, eight chains each
    assert periods == [(p, 8) for p in ("2023-01", "2023-02", "2023-03", "2023-04", "2023-06")]
    feb = {r["chain_name"]: r for r in rows(con, "SELECT * FROM marts.industry_chain_summary WHERE period = '2023-02'")}
    assert list(feb) == [n for _, n in CHAINS]
    assert feb[COALM] == dict(
        period="2023-02", chain_name=COALM, chain_code="COAL_MACHINERY", enterprises=1,
        value_added_ytd_yi=D("10.00"), value_added_prev_ytd_yi=D("9.00"), yoy_growth_pct=D("11.1"),
        projects=1, project_total_investment_yi=D("2.00"), project_ytd_investment_yi=D("0.05"),
    )
    assert feb[CHEM]["yoy_growth_pct"] == D("10.3") and feb[CHEM]["value_added_prev_ytd_yi"] == D("13.62")
    corn = feb["玉米全产业链"]
    assert (corn["enterprises"], corn["value_added_ytd_yi"], corn["yoy_growth_pct"], corn["projects"],
            corn["project_total_investment_yi"]) == (0, D("0.00"), None, 0, D("0.00"))
    mar_chem = one(con, "SELECT * FROM marts.industry_chain_summary WHERE period = '2023-03' AND chain_name = ?", [CHEM])
    assert mar_chem["enterprises"] == 1 and mar_chem["yoy_growth_pct"] is None  # last year 0
    jan = one(con, "SELECT * FROM marts.industry_chain_summary WHERE period = '2023-01' AND chain_name = ?", [COALM])
    assert (jan["enterprises"], jan["projects"]) == (0, 1)


# --- village_income ---------------------------------------------------------------------


def test_village_income_bands_and_target(con):
    got = {r["village_name"]: r for r in rows(con, "SELECT * FROM marts.village_income WHERE period = '2023-03'")}
    assert set(got) == {"黑水村", "山底村", "龙栖村", "东村", "西村"}  # only villages that reported
    expect = {
        "黑水村": (D("40.00"), True, D("0.00"), "≥40万"),
        "山底村": (D("10.00"), False, D("30.00"), "10-40万"),
        "龙栖村": (D("5.00"), False, D("35.00"), "5-10万"),
        "东村": (D("5.00"), False, D("35.01"), "<5万"),  # 4.995: shown 5.00, band from the unrounded value
        "西村": (D("40.00"), False, D("0.01"), "10-40万"),  # 39.995 does not meet 40
    }
    for name, (op, meets, short, band) in expect.items():
        r = got[name]
        assert (r["operating_income_wan"], r["meets_target"], r["shortfall_wan"], r["income_band"]) == (op, meets, short, band), name
    assert got["黑水村"]["total_income_wan"] == D("60.00")
    assert got["黑水村"]["village_code"] == "140725103201" and got["黑水村"]["township"] == "平头镇"


# --- township_income_summary ------------------------------------------------------------


def test_township_income_summary(con):
    got = rows(con, "SELECT * FROM marts.township_income_summary WHERE period = '2023-03'")
    assert [r["township"] for r in got] == ["朝阳镇", "平头镇", "西洛镇", "景尚乡", "全县"]
    by = {r["township"]: r for r in got}
    assert by["平头镇"] == dict(period="2023-03", township="平头镇", township_code="140725103", villages_expected=3,
                               villages_reported=3, villages_meeting_target=1, share_meeting_target_pct=D("33.3"),
                               operating_income_wan=D("55.00"), shortfall_wan=D("65.00"))
    assert by["朝阳镇"]["operating_income_wan"] == D("44.99")  # 4.995 + 39.995
    assert by["朝阳镇"]["shortfall_wan"] == D("35.01")  # 35.005 + 0.005, summed before rounding
    assert by["朝阳镇"]["share_meeting_target_pct"] == D("0.0")
    assert (by["景尚乡"]["villages_expected"], by["景尚乡"]["villages_reported"],
            by["景尚乡"]["operating_income_wan"]) == (1, 0, D("0.00"))
    assert by["西洛镇"]["villages_expected"] == 0 and by["西洛镇"]["share_meeting_target_pct"] is None
    assert by["全县"] == dict(period="2023-03", township="全县", township_code=None, villages_expected=6,
                             villages_reported=5, villages_meeting_target=1, share_meeting_target_pct=D("16.7"),
                             operating_income_wan=D("99.99"), shortfall_wan=D("100.01"))
    assert [r[0] for r in con.execute(
        "SELECT DISTINCT period FROM marts.township_income_summary ORDER BY 1").fetchall()] == ["2023-03", "2023-06"]


# --- target_scorecard -------------------------------------------------------------------


def card(con, period, key):
    return one(con, "SELECT * FROM marts.target_scorecard WHERE period = ? AND target_key = ?", [period, key])


def test_scorecard_shape(con):
    n = con.execute("SELECT count(*), count(DISTINCT period) FROM marts.target_scorecard").fetchone()
    assert n == (5 * 7, 5)  # every target × every period any mart has (01, 02, 03, 04, 06)
    assert [r[0] for r in con.execute(
        "SELECT target_key FROM marts.target_scorecard WHERE period = '2023-01'").fetchall()] == [t[0] for t in TARGETS]


def test_scorecard_industrial_growth(con):
    feb = card(con, "2023-02", "industrial_growth_above_city")
    assert (feb["actual_value"], feb["actual_unit"], feb["status"], feb["comparator"], feb["target_value"]) == (
        1.1, "个百分点", "达标", ">", 0.0)
    assert feb["detail"] == "1—2月全县规上工业增加值累计同比增长10.6%，全市9.5%，高于全市1.1个百分点"
    mar = card(con, "2023-03", "industrial_growth_above_city")  # no city figure
    assert (mar["status"], mar["actual_value"]) == ("无数据", None)
    assert "全市增速未报送" in mar["detail"] and "1—3月" in mar["detail"]
    jun = card(con, "2023-06", "industrial_growth_above_city")
    assert (jun["status"], jun["actual_value"]) == ("未达标", -15.0)
    assert jun["detail"].endswith("同比下降10.0%，全市5.0%，低于全市15.0个百分点")
    jan = card(con, "2023-01", "industrial_growth_above_city")
    assert jan["status"] == "无数据" and jan["detail"].startswith("1月")
    assert card(con, "2023-04", "industrial_growth_above_city")["status"] == "无数据"  # city only


def test_scorecard_digital_core(con):
    mar = card(con, "2023-03", "digital_economy_core_output")
    assert (mar["actual_value"], mar["actual_unit"], mar["status"]) == (10.0, "亿元", "达标")  # exactly 10 meets >=
    feb = card(con, "2023-02", "digital_economy_core_output")
    assert (feb["actual_value"], feb["status"]) == (5.0, "未达标")
    assert feb["detail"] == "1—2月数字经济核心产业产值累计5.00亿元，全年目标10.00亿元，尚差5.00亿元"
    assert card(con, "2023-01", "digital_economy_core_output")["status"] == "无数据"


def test_scorecard_village_target(con):
    assert card(con, "2023-02", "village_operating_income_min")["status"] == "无数据"  # none yet this year
    mar = card(con, "2023-03", "village_operating_income_min")
    assert (mar["actual_value"], mar["actual_unit"], mar["status"], mar["data_period"]) == (1.0, "个村", "未达标", "2023-03")
    assert mar["detail"] == "2023-03：1/6个村达标，1个村未报送，4个村未达标"
    apr = card(con, "2023-04", "village_operating_income_min")  # latest village period ≤ 2023-04
    assert apr["detail"] == "2023-03：1/6个村达标，1个村未报送，4个村未达标" and apr["data_period"] == "2023-03"
    jun = card(con, "2023-06", "village_operating_income_min")
    assert (jun["actual_value"], jun["status"], jun["detail"]) == (6.0, "达标", "2023-06：6/6个村达标")


def test_scorecard_village_target_needs_every_village(tmp_path):
    # every village that reported meets the target, but one did not report: 未达标
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_example(conn)
    conn.execute("DELETE FROM staging.village_income WHERE period = '2023-06' AND village_name = '北村'")
    build_all(conn)  # the scorecard reads other marts: build them all, in order
    r = one(conn, "SELECT * FROM marts.target_scorecard WHERE period = '2023-06' AND target_key = 'village_operating_income_min'")
    assert (r["actual_value"], r["status"], r["detail"]) == (5.0, "未达标", "2023-06：5/6个村达标，1个村未报送")
    conn.close()


def test_scorecard_village_uses_same_year_only(tmp_path):
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_example(conn)
    _insert(conn, "key_projects", [kp("2024-01", "P1", "省级", 20000, 6000, 100, "续建")], source="县发改局")
    build_all(conn)  # the scorecard reads other marts: build them all, in order
    r = one(conn, "SELECT * FROM marts.target_scorecard WHERE period = '2024-01' AND target_key = 'village_operating_income_min'")
    assert (r["status"], r["data_period"]) == ("无数据", None)
    conn.close()


@pytest.mark.parametrize("key,dataset,january,june", [
    ("smart_working_faces", "smart_mines", "县能源局2023-01的报表未报送", "县能源局2023-06的报表未报送"),
    ("leading_talent", "talent", "县委组织部本年尚未报送人才引育情况表（按季度报送，首期为2023-03）",
     "县委组织部2023-06的报表未报送"),
    ("practical_talent", "talent", "县委组织部本年尚未报送人才引育情况表（按季度报送，首期为2023-03）",
     "县委组织部2023-06的报表未报送"),
    ("pingtou_industry_cluster", "zone_operations", "平头融合发展区管委会2023-01的报表未报送",
     "平头融合发展区管委会2023-06的报表未报送"),
])
def test_scorecard_new_targets_without_their_data_name_the_department(con, key, dataset, january, june):
    # this warehouse has no smart-mine, park or talent row: the four targets are 无数据, and the
    # detail names the department that has not reported, never the dataset's code name (their
    # figures: test_marts_new_datasets.py)
    for period, detail in (("2023-01", january), ("2023-06", june)):
        r = card(con, period, key)
        assert (r["status"], r["actual_value"], r["data_period"]) == ("无数据", None, None)
        assert dataset not in r["detail"] and r["detail"] == detail


@pytest.mark.parametrize("key,dataset,path,sender,detail", [
    ("smart_working_faces", "smart_mines", "smart_mines/2023-06__能源局.xlsx", "能源局", "县能源局2023-06的报表被退回，尚未重新报送"),
    ("leading_talent", "talent", "talent/2023-06__组织部.csv", "组织部", "县委组织部2023-06的报表被退回，尚未重新报送"),
    ("pingtou_industry_cluster", "zone_operations", "zone_operations/2023-06__平头融合发展区.xlsx", "平头融合发展区",
     "平头融合发展区管委会2023-06的报表被退回，尚未重新报送"),
    # only another park's file sent back: 平头's was not sent
    ("pingtou_industry_cluster", "zone_operations", None, None, "平头融合发展区管委会2023-06的报表未报送"),
])
def test_scorecard_says_a_file_sent_back_was_sent_back(tmp_path, key, dataset, path, sender, detail):
    # the department did send the file due, and it was sent back whole: the detail says so (the
    # briefing's 报送情况 says 被退回 of the same file), not 未报送; another park's file sent back,
    # or a file of another year, does not count
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_example(conn)
    log = ("INSERT INTO audit.ingest_log (file_path, dataset, period, submitter, sha256, status, rows_read, rows_loaded, "
           "rows_rejected, is_current, ingested_at, partition_key) VALUES (?, ?, ?, ?, 'x', 'rejected', 1, 0, 1, TRUE, "
           "now(), ?)")
    if path is not None:
        conn.execute(log, [path, dataset, "2023-06", sender, f"{dataset}/2023-06"])
        conn.execute(log, [path.replace("2023-06", "2022-12"), dataset, "2022-12", sender, f"{dataset}/2022-12"])
    conn.execute(log, ["zone_operations/2023-06__朝阳煤机制造专业镇.xlsx", "zone_operations", "2023-06", "朝阳煤机制造专业镇",
                       "zone_operations/2023-06"])
    build_all(conn)
    june = one(conn, "SELECT * FROM marts.target_scorecard WHERE period = '2023-06' AND target_key = ?", [key])
    assert (june["status"], june["detail"]) == ("无数据", detail)
    january = one(conn, "SELECT * FROM marts.target_scorecard WHERE period = '2023-01' AND target_key = ?", [key])
    assert "被退回" not in january["detail"]  # a later month's file, and last year's, are not this one's
    conn.close()


def test_a_month_whose_every_file_was_sent_back_has_its_scorecard(tmp_path):
    # May has no loaded row of any dataset, only a file sent back: the month is in the warehouse
    # (its briefing is written), so it has its scorecard, each target saying why it has no data
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_example(conn)
    conn.execute("INSERT INTO audit.ingest_log (file_path, dataset, period, submitter, sha256, status, rows_read, "
                 "rows_loaded, rows_rejected, is_current, ingested_at, partition_key) VALUES "
                 "('smart_mines/2023-05__能源局.xlsx', 'smart_mines', '2023-05', '能源局', 'x', 'rejected', 3, 0, 3, TRUE, "
                 "now(), 'smart_mines/2023-05'), "
                 # a file no dataset-period holds (a subfolder): no submission of the calendar's
                 "('talent/old/2023-03__组织部.csv', 'talent', '2023-03', '组织部', 'y', 'rejected', 0, 0, 0, TRUE, "
                 "now(), NULL)")
    build_all(conn)
    may = {r["target_key"]: r for r in
           [one(conn, "SELECT * FROM marts.target_scorecard WHERE period = '2023-05' AND target_key = ?", [k])
            for (k, *_) in TARGETS]}
    assert len(may) == len(TARGETS) and {r["status"] for r in may.values()} <= {"无数据", "达标", "未达标"}
    assert may["smart_working_faces"]["detail"] == "县能源局2023-05的报表被退回，尚未重新报送"
    assert may["leading_talent"]["detail"] == "县委组织部2023-03的报表未报送"
    conn.close()


def test_scorecard_target_with_no_computation(tmp_path):
    # a target the scorecard has no figure for says so in words
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_example(conn)
    conn.execute("INSERT INTO reference.targets VALUES ('new_target', '新目标', 'talent', '>=', 1, '个', '全县', 'x.txt', '')")
    conn.execute("INSERT INTO reference.targets VALUES ('later_target', '以后的目标', 'not_yet', '>=', 1, '个', '全县', 'x.txt', '')")
    build_all(conn)
    new = one(conn, "SELECT * FROM marts.target_scorecard WHERE period = '2023-06' AND target_key = 'new_target'")
    assert (new["status"], new["detail"]) == ("无数据", "暂未设定该目标的计算口径，无数据")
    later = one(conn, "SELECT * FROM marts.target_scorecard WHERE period = '2023-06' AND target_key = 'later_target'")
    assert (later["status"], later["detail"]) == ("无数据", "所需数据尚未纳入月度报送，暂无法对照")
    conn.close()


def test_scorecard_signs_and_status_come_from_unrounded_figures(tmp_path):
    # county −0.04998 % (shown 0.0), city −0.05: the gap +0.00002 is shown 0.0 but is above 0;
    # digital output 9.9999 亿元 is shown 10.00 but stays below 10
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_tables(conn)
    conn.executemany("INSERT INTO reference.targets VALUES (?, ?, ?, ?, ?, ?, ?, 'x.txt', '')", TARGETS)
    _insert(conn, "industrial_output", [io("2023-04", "E1", 100000, 100050, output="99999", digital=True)],
            source="县统计局")
    _insert(conn, "city_indicators", [dict(period="2023-04", indicator="规上工业增加值增速", value=D("-0.05"))],
            source="县统计局")
    build_all(conn)
    growth = one(conn, "SELECT * FROM marts.target_scorecard WHERE target_key = 'industrial_growth_above_city'")
    assert (growth["actual_value"], growth["status"]) == (0.0, "达标")
    assert growth["detail"] == "1—4月全县规上工业增加值累计同比下降0.0%，全市-0.1%，高于全市0.0个百分点"
    digital = one(conn, "SELECT * FROM marts.target_scorecard WHERE target_key = 'digital_economy_core_output'")
    assert (digital["actual_value"], digital["status"]) == (10.0, "未达标")
    assert digital["detail"] == "1—4月数字经济核心产业产值累计10.00亿元，全年目标10.00亿元，尚差0.00亿元"
    conn.close()
