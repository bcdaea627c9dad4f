"""The bundled sample, run through the pipeline, prints the bulletins' own figures (SAMPLE.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from shouyang_pipeline.config import Settings
from shouyang_pipeline.defs import build_definitions
from shouyang_pipeline.defs.partitions import add_months

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample_warehouse(sample_year) -> Settings:
    """The bundled sample, every month of 2023 in one run (conftest.sample_year, shared with the
    modules of the sample's other figures)."""
    return sample_year


def one(settings: Settings, sql: str, *args) -> dict:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        cur = conn.execute(sql, list(args))
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    assert len(rows) == 1, rows
    return {k: (float(v) if hasattr(v, "as_tuple") else v) for k, v in zip(names, rows[0])}


def test_industrial_sentence_figures(sample_warehouse):
    row = one(sample_warehouse, "SELECT * FROM marts.industrial_output_summary WHERE period = '2023-02'")
    assert row["value_added_ytd_yi"] == 25.02
    assert row["yoy_growth_pct"] == 10.6
    assert row["city_yoy_growth_pct"] == 9.5
    assert row["gap_pp"] == 1.1


def test_key_project_figures(sample_warehouse):
    q = "SELECT * FROM marts.project_summary WHERE period = '2023-02' AND scope = ?"
    everything = one(sample_warehouse, q, "全部")
    assert (everything["projects"], everything["total_investment_yi"]) == (110, 536.08)
    city = one(sample_warehouse, q, "市级及以上")
    assert (city["projects"], city["total_investment_yi"], city["annual_plan_yi"]) == (14, 266.04, 48.83)
    assert (city["started_projects"], city["start_rate_pct"]) == (11, 78.6)
    assert one(sample_warehouse, q, "省级")["projects"] == 6


def test_pingtou_zone_figures(sample_warehouse):
    row = one(sample_warehouse, "SELECT * FROM marts.zone_project_summary WHERE period = '2023-02' AND zone_name = '平头融合发展区'")
    assert (row["projects"], row["total_investment_yi"], row["projects_over_100m"], row["productive_projects"]) == (20, 102.0, 11, 3)


def test_eight_chains_with_at_least_seven_reporting(sample_warehouse):
    for period in ("2023-02", "2023-03", "2023-12"):
        row = one(sample_warehouse, "SELECT count(*) AS chains, count(*) FILTER (enterprises > 0) AS reporting "
                                    "FROM marts.industry_chain_summary WHERE period = ?", period)
        assert row["chains"] == 8 and row["reporting"] >= 7


def test_villages_all_report_and_the_target_is_visibly_not_met(sample_warehouse):
    row = one(sample_warehouse, "SELECT * FROM marts.township_income_summary WHERE period = '2023-12' AND township = '全县'")
    assert row["villages_reported"] == row["villages_expected"] >= 150
    assert 55 <= row["share_meeting_target_pct"] <= 80
    card = one(sample_warehouse, "SELECT * FROM marts.target_scorecard WHERE period = '2023-12' "
                                 "AND target_key = 'village_operating_income_min'")
    assert card["status"] == "未达标"


def test_planted_errors_are_rejected_and_every_row_is_accounted_for(sample_warehouse):
    row = one(sample_warehouse, "SELECT count(*) FILTER (rows_read <> rows_loaded + rows_rejected) AS unbalanced, "
                                "sum(rows_rejected) AS rejected FROM audit.ingest_log WHERE is_current AND period = '2023-02'")
    assert row["unbalanced"] == 0 and row["rejected"] >= 4
    rules = {r for (r,) in duckdb.connect(str(sample_warehouse.warehouse), read_only=True).execute(
        "SELECT DISTINCT rule FROM audit.rejected_rows WHERE period = '2023-02'").fetchall()}
    assert {"not_positive", "not_a_number", "duplicate_key", "bad_credit_code"} <= rules


def test_briefing_states_the_figures(sample_warehouse):
    text = (sample_warehouse.export_dir / "briefing_2023-02.md").read_text(encoding="utf-8")
    assert "1—2月，全县规模以上工业增加值累计完成25.02亿元，同比增长10.6%，高于全市1.1个百分点。" in text
    for figure in ("110", "536.08", "14", "266.04", "48.83", "11", "78.6%", "6", "平头融合发展区", "102.00"):
        assert figure in text, figure
    html = (sample_warehouse.export_dir / "briefing_2023-02.html").read_text(encoding="utf-8")
    assert "<svg" in html and "https://" not in html and "http://" not in html
