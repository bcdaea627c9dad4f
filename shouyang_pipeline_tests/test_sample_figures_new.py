"""The bundled sample's second part (SAMPLE.md): smart mines, parks and talent, run through the
whole pipeline for 2023, print the bulletins' figures, and the marts agree with the generator's own
hand computation (`write_sample(...)["figures"]`) from the valid rows."""

from __future__ import annotations

import calendar
import re
import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from shouyang_pipeline.config import Settings
from shouyang_pipeline.defs import build_definitions
from shouyang_pipeline.defs.partitions import add_months
from shouyang_pipeline.sample import write_sample

ROOT = Path(__file__).resolve().parents[1]
MONTHS = [f"2023-{m:02d}" for m in range(1, 13)]
QUARTERS = ["2023-03", "2023-06", "2023-09", "2023-12"]
MINES = ["段王煤矿", "开元煤矿", "平舒煤矿"]
FIELDS = ["交通物流", "数字经济", "医疗康养", "智能制造", "现代农业", "文化旅游", "其他"]
PINGTOU = "平头融合发展区"
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@pytest.fixture(scope="module")
def year_warehouse(sample_year) -> Settings:
    """The bundled data/raw, every month of 2023 in one run (conftest.sample_year, shared)."""
    return sample_year


@pytest.fixture(scope="module")
def generated(sample_generated) -> dict:
    """The generator's summary (conftest.sample_generated, shared)."""
    return sample_generated


def rows(settings: Settings, sql: str, *args) -> list[dict]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        cur = conn.execute(sql, list(args))
        names = [d[0] for d in cur.description]
        out = cur.fetchall()
    return [{k: (float(v) if hasattr(v, "as_tuple") else v) for k, v in zip(names, r)} for r in out]


def one(settings: Settings, sql: str, *args) -> dict:
    got = rows(settings, sql, *args)
    assert len(got) == 1, got
    return got[0]


# ------------------------------------------------------------------ smart mines (staging)
def test_26_faces_on_the_list_every_month_5_mining_21_heading(year_warehouse):
    for period in MONTHS:
        faces = rows(year_warehouse, "SELECT * FROM staging.smart_mines WHERE period = ?", period)
        assert len(faces) == 26 and len({f["face_code"] for f in faces}) == 26, period
        assert {f["mine"] for f in faces} == set(MINES), period
        kinds = [f["face_type"] for f in faces]
        assert (kinds.count("采煤"), kinds.count("掘进")) == (5, 21), period


def test_faces_built_grow_every_month_and_stay_below_5_and_21(year_warehouse):
    built = []
    for period in MONTHS:
        y, m = map(int, period.split("-"))
        end = date(y, m, calendar.monthrange(y, m)[1])
        faces = rows(year_warehouse, "SELECT * FROM staging.smart_mines WHERE period = ?", period)
        done = [f for f in faces if f["status"] == "已建成"]
        built.append(len(done))
        assert all(f["completed_on"] is None or f["completed_on"] <= end for f in faces), period
        if period == "2023-12":
            mining = sum(1 for f in done if f["face_type"] == "采煤")
            heading = sum(1 for f in done if f["face_type"] == "掘进")
            assert mining < 5 or heading < 21
            assert (mining, heading) == (5, 18)
    assert all(a < b for a, b in zip(built, built[1:])), built
    assert built[-1] < 26


def test_face_investment_is_cumulative_within_the_year(year_warehouse):
    got = rows(year_warehouse, "SELECT face_code, period, investment_ytd FROM staging.smart_mines "
                               "ORDER BY face_code, period")
    last: dict[str, float] = {}
    for r in got:
        assert r["investment_ytd"] is not None and r["investment_ytd"] >= last.get(r["face_code"], 0), r
        last[r["face_code"]] = r["investment_ytd"]


# ------------------------------------------------------------------ smart mines (mart, scorecard)
SMART_COLUMNS = ("faces", "faces_built", "mining_faces_built", "heading_faces_built", "faces_under_construction",
                 "faces_not_started", "faces_with_5g", "investment_ytd_wan")


def test_smart_mine_summary_every_month(year_warehouse, generated):
    built = []
    for period in MONTHS:
        got = {r["mine_name"]: r for r in rows(year_warehouse, "SELECT * FROM marts.smart_mine_summary "
                                                               "WHERE period = ?", period)}
        assert set(got) == set(MINES) | {"全县"}, period
        assert got["全县"]["faces"] == 26
        built.append(got["全县"]["faces_built"])
        want = generated["figures"]["smart_mine_summary"][period]
        for mine, figures in got.items():
            assert {c: figures[c] for c in SMART_COLUMNS} == {c: want[mine][c] for c in SMART_COLUMNS}, (period, mine)
    assert all(a < b for a, b in zip(built, built[1:])), built
    dec = one(year_warehouse, "SELECT * FROM marts.smart_mine_summary WHERE period = '2023-12' AND mine_name = '全县'")
    assert dec["mining_faces_built"] < 5 or dec["heading_faces_built"] < 21
    assert (dec["faces_built"], dec["mining_faces_built"], dec["heading_faces_built"]) == (23, 5, 18)


def test_scorecard_smart_working_faces_not_met(year_warehouse):
    card = one(year_warehouse, "SELECT * FROM marts.target_scorecard WHERE period = '2023-12' "
                               "AND target_key = 'smart_working_faces'")
    assert card["status"] == "未达标" and card["actual_value"] == 23
    for period in MONTHS:
        assert one(year_warehouse, "SELECT status FROM marts.target_scorecard WHERE period = ? "
                                   "AND target_key = 'smart_working_faces'", period)["status"] == "未达标"


# ------------------------------------------------------------------ parks
def test_pingtou_2023_12_figures(year_warehouse):
    row = one(year_warehouse, "SELECT * FROM marts.zone_operations_summary WHERE period = '2023-12' "
                              "AND zone_name = ?", PINGTOU)
    assert row["operating_revenue_yi"] == 75.00
    assert row["fixed_asset_investment_yi"] == 20.00
    assert row["tax_revenue_yi"] > 2.00
    assert row["new_above_scale_enterprises"] == 6
    staged = one(year_warehouse, "SELECT * FROM staging.zone_operations WHERE period = '2023-12' AND zone = ?", PINGTOU)
    assert (staged["operating_revenue_ytd"], staged["fixed_asset_investment_ytd"]) == (750_000, 200_000)
    assert staged["tax_revenue_ytd"] > 20_000 and staged["new_above_scale_enterprises"] == 6


def test_pingtou_reports_every_month_and_its_year_to_date_figures_grow(year_warehouse):
    got = rows(year_warehouse, "SELECT * FROM staging.zone_operations WHERE zone = ? ORDER BY period", PINGTOU)
    assert [r["period"] for r in got] == MONTHS
    for col in ("fixed_asset_investment_ytd", "tax_revenue_ytd", "operating_revenue_ytd"):
        values = [r[col] for r in got]
        assert all(a < b for a, b in zip(values, values[1:])), col
    news = [r["new_above_scale_enterprises"] for r in got]
    assert news == sorted(news) and news[-1] == 6
    others = {r["zone"] for r in rows(year_warehouse, "SELECT DISTINCT zone FROM staging.zone_operations")}
    assert len(others - {PINGTOU}) >= 1


def test_zone_operations_summary_matches_the_valid_rows(year_warehouse, generated):
    cols = ("fixed_asset_investment_yi", "tax_revenue_yi", "operating_revenue_yi", "above_scale_enterprises",
            "new_above_scale_enterprises", "employees")
    for period in MONTHS:
        got = {r["zone_name"]: {c: r[c] for c in cols}
               for r in rows(year_warehouse, "SELECT * FROM marts.zone_operations_summary WHERE period = ?", period)}
        assert got == generated["figures"]["zone_operations_summary"][period], period


def test_scorecard_pingtou_cluster_not_met(year_warehouse):
    card = one(year_warehouse, "SELECT * FROM marts.target_scorecard WHERE period = '2023-12' "
                               "AND target_key = 'pingtou_industry_cluster'")
    assert card["status"] == "未达标" and card["actual_value"] == 75.0


# ------------------------------------------------------------------ talent
def test_talent_staging_quarterly_and_cumulative(year_warehouse):
    periods = [r["period"] for r in rows(year_warehouse, "SELECT DISTINCT period FROM staging.talent ORDER BY 1")]
    assert periods == QUARTERS
    last: dict[tuple[str, str], tuple[int, int]] = {}
    for period in QUARTERS:
        got = rows(year_warehouse, "SELECT * FROM staging.talent WHERE period = ?", period)
        assert {(r["field"], r["talent_kind"]) for r in got} == {(f, k) for f in FIELDS
                                                                  for k in ("领军人才", "实用型人才")}
        for r in got:
            key = (r["field"], r["talent_kind"])
            prev = last.get(key, (0, 0))
            assert r["connected_ytd"] >= prev[0] and r["recruited_ytd"] >= prev[1], (period, key)
            last[key] = (r["connected_ytd"], r["recruited_ytd"])


def test_talent_summary_every_quarter(year_warehouse, generated):
    totals = []
    for period in QUARTERS:
        got = rows(year_warehouse, "SELECT * FROM marts.talent_summary WHERE period = ?", period)
        want = generated["figures"]["talent_summary"][period]
        assert {(r["talent_kind"], r["field"]) for r in got} == {(k, f) for k in want for f in want[k]}
        for r in got:
            assert {"connected_ytd": r["connected_ytd"], "recruited_ytd": r["recruited_ytd"]} == \
                want[r["talent_kind"]][r["field"]], (period, r)
        totals.append((want["领军人才"]["合计"]["connected_ytd"], want["实用型人才"]["合计"]["recruited_ytd"]))
    assert totals == sorted(totals) and totals[-1] == (86, 1046)


def test_scorecard_talent_targets_have_data(year_warehouse):
    cards = {r["target_key"]: r for r in rows(year_warehouse, "SELECT * FROM marts.target_scorecard WHERE period = "
                                                               "'2023-12' AND target_key IN ('leading_talent', "
                                                               "'practical_talent')")}
    assert (cards["leading_talent"]["status"], cards["leading_talent"]["actual_value"]) == ("未达标", 86)
    assert (cards["practical_talent"]["status"], cards["practical_talent"]["actual_value"]) == ("达标", 1046)


def test_scorecard_2023_12_has_no_missing_data(year_warehouse):
    got = rows(year_warehouse, "SELECT target_key, status FROM marts.target_scorecard WHERE period = '2023-12'")
    assert len(got) == 7 and all(r["status"] != "无数据" for r in got), got


# ------------------------------------------------------------------ planted mistakes
def test_planted_mistakes_of_the_new_datasets_land_where_the_summary_says(year_warehouse, generated):
    new = ("smart_mines/", "zone_operations/", "talent/")
    planted = [e for e in generated["planted_errors"] if e["file"].startswith(new)]
    rejected = {(r["file_path"], r["source_row"], r["rule"])
                for r in rows(year_warehouse, "SELECT file_path, source_row, rule FROM audit.rejected_rows")}
    warned = {(r["file_path"], r["source_row"], r["source_cell"], r["rule"])
              for r in rows(year_warehouse, "SELECT file_path, source_row, source_cell, rule FROM audit.cell_warnings")}
    for e in planted:
        if e["effect"].startswith("rejected"):
            assert (e["file"], e["row"], e["rule"]) in rejected, e
        else:
            assert (e["file"], e["row"], e["cell"], e["rule"]) in warned, e
    assert {e["rule"] for e in planted} >= {"future_date", "missing_date", "duplicate_key", "not_in_list",
                                            "out_of_range", "negative", "not_a_number"}
    ours = {(f, r) for f, r, _ in rejected if f.startswith(new)}
    assert ours == {(e["file"], e["row"]) for e in planted if e["effect"].startswith("rejected")}
    log = one(year_warehouse, "SELECT status FROM audit.ingest_log WHERE is_current "
                              "AND file_path = 'zone_operations/2023-09__景尚农业现代化产业园.csv'")
    assert log["status"] == "rejected"


# ------------------------------------------------------------------ briefing
def test_briefing_2023_12_states_the_new_figures(year_warehouse):
    text = (year_warehouse.export_dir / "briefing_2023-12.md").read_text(encoding="utf-8")
    for word in ("智能化工作面", PINGTOU, "领军人才", "实用型人才"):
        assert word in text, word
    assert re.search(r"23个", text)
    assert re.search(r"75(\.00)?亿元", text) and re.search(r"20(\.00)?亿元", text)


# ------------------------------------------------------------------ the first part, every period (after the calendar plants)
def test_project_summary_every_month_matches_the_generator(year_warehouse, generated):
    """The cross-period plants (a project off the list from 2023-08, a fall in 2023-06, a correction
    from 2023-09) move the later months' figures, never 2023-02's; the marts follow the files."""
    for period in MONTHS:
        want = generated["figures"]["key_projects"][period]
        for r in rows(year_warehouse, "SELECT * FROM marts.project_summary WHERE period = ?", period):
            assert {c: r[c] for c in want[r["scope"]]} == want[r["scope"]], (period, r["scope"])
        zone = one(year_warehouse, "SELECT * FROM marts.zone_project_summary WHERE period = ? AND zone_name = ?",
                   period, PINGTOU)
        want = generated["figures"]["zone_project_summary"][period][PINGTOU]
        assert {c: zone[c] for c in want} == want, period
    assert generated["figures"]["key_projects"]["2023-02"]["全部"]["projects"] == 110
    assert generated["figures"]["key_projects"]["2023-12"]["全部"]["projects"] == 109


def test_township_income_summary_every_quarter_matches_the_generator(year_warehouse, generated):
    """羊头崖乡 never sent 2023-09: 191 of 203 villages reported that quarter; every village in 2023-12."""
    for period in QUARTERS:
        got = one(year_warehouse, "SELECT * FROM marts.township_income_summary WHERE period = ? "
                                  "AND township = '全县'", period)
        want = generated["figures"]["village_income"][period]
        assert {c: got[c] for c in want} == want, period
    assert generated["figures"]["village_income"]["2023-09"]["villages_reported"] == 191
    town = one(year_warehouse, "SELECT * FROM marts.township_income_summary WHERE period = '2023-09' "
                               "AND township = '羊头崖乡'")
    assert (town["villages_expected"], town["villages_reported"]) == (12, 0)
