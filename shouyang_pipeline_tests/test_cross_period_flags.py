"""Figures that do not fit the previous period (SUBMISSIONS.md 8): audit.cross_period_flags.

Real files in tmp_path, ingested and loaded as a run does (`run_period`), then the flags
recomputed as the run's audit step does (`pipeline.cross_period_flags`); the correction of a
month and the asset check through Dagster itself.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from shouyang_pipeline.catalog.datasets import DATASETS, Dataset
from shouyang_pipeline.config import Settings
from shouyang_pipeline.defs import build_definitions
from shouyang_pipeline.defs.partitions import add_months
from shouyang_pipeline.pipeline import cross_period_flags, run_summary

from conftest import CREDIT_CODES, write_csv, write_xlsx

# One good row of each dataset with cumulative columns or keys to follow, by canonical column.
GOOD_ROWS: dict[str, dict] = {
    "key_projects": dict(project_code="XM001", project_name="甲项目", level="省级", sector="产业转型",
                         industry_chain="造纸产业链", zone="平头融合发展区", township="平头镇",
                         total_investment=52000, annual_plan_investment=5000, ytd_investment=1000, status="续建",
                         is_productive="是", responsible_unit="县发改局", start_date="2023-01-15"),
    "industrial_output": dict(credit_code=CREDIT_CODES[0], enterprise_name="甲造纸公司", industry_chain="造纸产业链",
                              township="平头镇", value_added_ytd=1200, value_added_prev_ytd=1100,
                              output_value_ytd=5000, is_digital_core="否"),
    "village_income": dict(village_code="140725103201", village_name="黑水村", township="平头镇",
                           operating_income=30, total_income=50, main_source="光伏"),
    "smart_mines": dict(mine="段王煤矿", face_code="DW-01", face_name="1201综采工作面", face_type="采煤",
                        status="在建", has_5g="是", investment_ytd=800),
    "zone_operations": dict(zone="平头融合发展区", fixed_asset_investment_ytd=1000, tax_revenue_ytd=200,
                            operating_revenue_ytd=3000, above_scale_enterprises=12, new_above_scale_enterprises=2,
                            employees=800),
    "talent": dict(field="数字经济", talent_kind="领军人才", connected_ytd=10, recruited_ytd=3),
    "city_indicators": dict(indicator="规上工业增加值增速", value="9.5"),
}
FILE_NAMES = {"village_income": "{}__平头镇.csv", "zone_operations": "{}__平头融合发展区.csv"}
CUMULATIVE = [d for d in DATASETS.values() if d.cumulative_fields]


def two_periods(dataset: Dataset) -> tuple[str, str]:
    return ("2023-03", "2023-06") if dataset.cadence == "quarterly" else ("2023-04", "2023-05")


def row(dataset: str, **changes) -> dict:
    return {**GOOD_ROWS[dataset], **changes}


def path_of(dataset: str, period: str) -> str:
    return f"{dataset}/{FILE_NAMES.get(dataset, '{}.csv').format(period)}"


def write(raw: Path, dataset: str, period: str, rows: list[dict]) -> str:
    """A CSV headed with the declared headers (备注 last), one line per row: its relative path."""
    fields = DATASETS[dataset].all_fields
    rel = path_of(dataset, period)
    write_csv(raw / rel, [[f.header for f in fields]] + [[r.get(f.name) for f in fields] for r in rows])
    return rel


def flags_after(run_period, loads: list[tuple[str, str]]) -> list[dict]:
    """Load each (dataset, period) in turn, recompute the flags as the run's audit step does; every flag."""
    for dataset, period in loads:
        run = run_period(dataset, period)
    cross_period_flags(run.conn, sorted({p for _, p in loads}))
    return run.q('SELECT * FROM audit.cross_period_flags ORDER BY period, dataset, "key", "column"')


# ------------------------------------------------------------------ ytd_decreased


def test_a_cumulative_figure_lower_than_last_month_is_flagged_with_the_contracts_reason(raw, run_period):
    write(raw, "key_projects", "2023-04", [row("key_projects", ytd_investment=1500)])
    write(raw, "key_projects", "2023-05", [row("key_projects", ytd_investment=1200)])
    (flag,) = flags_after(run_period, [("key_projects", "2023-04"), ("key_projects", "2023-05")])
    assert flag == {
        "period": "2023-05", "dataset": "key_projects", "key": "XM001", "key_name": "甲项目",
        "column": "ytd_investment", "value": Decimal("1200"), "previous_period": "2023-04",
        "previous_value": Decimal("1500"), "rule": "ytd_decreased",
        "reason": "本年累计完成投资比上期减少（本期：1200，2023-04：1500），累计数不应下降，请核实",
        "explained": False, "remarks": None, "file_path": "key_projects/2023-05.csv", "source_row": 2,
    }


def test_the_reason_writes_decimals_plainly(raw, run_period):
    write(raw, "key_projects", "2023-04", [row("key_projects", ytd_investment="1500.25")])
    write(raw, "key_projects", "2023-05", [row("key_projects", ytd_investment="1200.5")])
    (flag,) = flags_after(run_period, [("key_projects", "2023-04"), ("key_projects", "2023-05")])
    assert flag["reason"] == "本年累计完成投资比上期减少（本期：1200.5，2023-04：1500.25），累计数不应下降，请核实"


def test_a_decrease_explained_in_remarks_is_flagged_as_explained(raw, run_period):
    write(raw, "key_projects", "2023-04", [row("key_projects", ytd_investment=1500)])
    note = "4月多报300万元，本月更正"
    write(raw, "key_projects", "2023-05", [row("key_projects", ytd_investment=1200, remarks=note)])
    (flag,) = flags_after(run_period, [("key_projects", "2023-04"), ("key_projects", "2023-05")])
    assert (flag["rule"], flag["explained"], flag["remarks"]) == ("ytd_decreased", True, note)


@pytest.mark.parametrize("may", [1500, 1600, "1500.0000"])
def test_an_equal_or_higher_figure_is_not_flagged(raw, run_period, may):
    write(raw, "key_projects", "2023-04", [row("key_projects", ytd_investment=1500)])
    write(raw, "key_projects", "2023-05", [row("key_projects", ytd_investment=may)])
    assert flags_after(run_period, [("key_projects", "2023-04"), ("key_projects", "2023-05")]) == []


def test_a_blank_optional_cumulative_figure_is_not_a_decrease(raw, run_period):
    write(raw, "industrial_output", "2023-04", [row("industrial_output", output_value_ytd=5000)])
    write(raw, "industrial_output", "2023-05", [row("industrial_output", output_value_ytd=None, value_added_ytd=1300,
                                                    value_added_prev_ytd=1200)])
    write(raw, "industrial_output", "2023-06", [row("industrial_output", output_value_ytd=6000, value_added_ytd=1400,
                                                    value_added_prev_ytd=1300)])
    assert flags_after(run_period, [("industrial_output", p) for p in ("2023-04", "2023-05", "2023-06")]) == []


@pytest.mark.parametrize("dataset", CUMULATIVE, ids=lambda d: d.name)
def test_every_declared_cumulative_column_is_compared(raw, run_period, dataset):
    first, second = two_periods(dataset)
    columns = [f.name for f in dataset.cumulative_fields]
    before = {c: 100 + 10 * i for i, c in enumerate(columns)}
    write(raw, dataset.name, first, [row(dataset.name, **before)])
    write(raw, dataset.name, second, [row(dataset.name, **{c: v - 1 for c, v in before.items()})])
    flags = flags_after(run_period, [(dataset.name, first), (dataset.name, second)])
    assert sorted(f["column"] for f in flags) == sorted(columns)
    key = "/".join(str(GOOD_ROWS[dataset.name][k]) for k in dataset.key)
    for f in flags:
        header = dataset.field(f["column"]).header
        before_value = before[f["column"]]
        assert (f["period"], f["previous_period"], f["rule"], f["key"]) == (second, first, "ytd_decreased", key)
        assert (f["value"], f["previous_value"]) == (before_value - 1, before_value)
        assert f["reason"] == (f"{header}比上期减少（本期：{before_value - 1}，{first}：{before_value}），"
                               "累计数不应下降，请核实")
        assert f["key_name"] == (GOOD_ROWS[dataset.name][dataset.name_field] if dataset.name_field else None)
        assert (f["file_path"], f["source_row"]) == (path_of(dataset.name, second), 2)


def test_every_dataset_with_cumulative_columns_has_a_row_here():
    assert {d.name for d in DATASETS.values()} <= set(GOOD_ROWS)
    assert {d.name for d in CUMULATIVE} == {
        "key_projects", "industrial_output", "village_income", "smart_mines", "zone_operations", "talent"}


def test_a_quarterly_dataset_is_compared_with_the_previous_quarter(raw, run_period):
    write(raw, "talent", "2023-03", [row("talent", connected_ytd=12, recruited_ytd=3)])
    write(raw, "talent", "2023-06", [row("talent", connected_ytd=10, recruited_ytd=3)])
    (flag,) = flags_after(run_period, [("talent", "2023-03"), ("talent", "2023-06")])
    assert (flag["period"], flag["previous_period"], flag["key"]) == ("2023-06", "2023-03", "数字经济/领军人才")
    assert flag["reason"] == "本年累计对接人数比上期减少（本期：10，2023-03：12），累计数不应下降，请核实"


# ------------------------------------------------------------------ plan_changed


def test_a_changed_total_investment_is_flagged(raw, run_period):
    write(raw, "key_projects", "2023-04", [row("key_projects", total_investment=52000)])
    write(raw, "key_projects", "2023-05", [row("key_projects", total_investment=48000)])
    (flag,) = flags_after(run_period, [("key_projects", "2023-04"), ("key_projects", "2023-05")])
    assert (flag["rule"], flag["column"], flag["value"], flag["previous_value"]) == (
        "plan_changed", "total_investment", Decimal("48000"), Decimal("52000"))
    assert flag["reason"] == "总投资由上期的52000调整为48000，请说明调整原因"
    assert (flag["file_path"], flag["source_row"], flag["explained"]) == ("key_projects/2023-05.csv", 2, False)


def test_a_changed_annual_plan_is_flagged_even_by_a_ten_thousandth(raw, run_period):
    write(raw, "key_projects", "2023-04", [row("key_projects", annual_plan_investment=5000)])
    write(raw, "key_projects", "2023-05", [row("key_projects", annual_plan_investment="5000.0001", remarks="调增")])
    (flag,) = flags_after(run_period, [("key_projects", "2023-04"), ("key_projects", "2023-05")])
    assert (flag["rule"], flag["column"], flag["explained"], flag["remarks"]) == (
        "plan_changed", "annual_plan_investment", True, "调增")
    assert flag["reason"] == "年度计划投资由上期的5000调整为5000.0001，请说明调整原因"


def test_a_plan_written_differently_but_equal_is_not_flagged(raw, run_period):
    write(raw, "key_projects", "2023-04", [row("key_projects", total_investment=52000, annual_plan_investment=5000)])
    write(raw, "key_projects", "2023-05", [row("key_projects", total_investment="52000.00",
                                               annual_plan_investment="5,000")])
    assert flags_after(run_period, [("key_projects", "2023-04"), ("key_projects", "2023-05")]) == []


# ------------------------------------------------------------------ missing_key


def test_a_project_dropped_from_the_list_is_missing_with_last_months_file_and_row(raw, run_period):
    write(raw, "key_projects", "2023-04", [row("key_projects"),
                                           row("key_projects", project_code="SY2023-045", project_name="某某项目")])
    write(raw, "key_projects", "2023-05", [row("key_projects", ytd_investment=1100)])
    (flag,) = flags_after(run_period, [("key_projects", "2023-04"), ("key_projects", "2023-05")])
    assert flag == {
        "period": "2023-05", "dataset": "key_projects", "key": "SY2023-045", "key_name": "某某项目",
        "column": None, "value": None, "previous_period": "2023-04", "previous_value": None,
        "rule": "missing_key", "reason": "项目SY2023-045（某某项目）上期在报，本期未报送",
        "explained": False, "remarks": None, "file_path": "key_projects/2023-04.csv", "source_row": 3,
    }


def test_a_row_sent_but_rejected_is_not_missing(raw, run_period):
    """The project was reported this month, wrongly: audit.rejected_rows says so, and
    上期在报，本期未报送 would be untrue. Its rejected row carries its key."""
    write(raw, "key_projects", "2023-04", [row("key_projects"), row("key_projects", project_code="XM002")])
    write(raw, "key_projects", "2023-05", [row("key_projects", ytd_investment=1100),
                                           row("key_projects", project_code="XM002", total_investment=-5)])
    assert flags_after(run_period, [("key_projects", "2023-04"), ("key_projects", "2023-05")]) == []
    rejected = run_period("key_projects", "2023-05").rejected()
    assert {r["row_key"] for r in rejected} == {"XM002"}


def test_a_village_row_rejected_keeps_its_township_in_its_key(raw, run_period):
    write(raw, "village_income", "2023-03", [row("village_income"),
                                             row("village_income", village_code="140725103202", village_name="山底村")])
    write(raw, "village_income", "2023-06", [row("village_income"),
                                             row("village_income", village_code="140725103202", village_name="山底村",
                                                 operating_income="暂无")])
    assert flags_after(run_period, [("village_income", "2023-03"), ("village_income", "2023-06")]) == []
    rejected = run_period("village_income", "2023-06").rejected()
    assert {r["row_key"] for r in rejected} == {"平头镇/山底村"}


def test_a_missing_key_is_never_explained_by_an_old_remark(raw, run_period):
    """This period has no row to hold a 备注, and last period's 备注 was about something else:
    a dropped key is always for the county office to check."""
    write(raw, "key_projects", "2023-04", [row("key_projects"),
                                           row("key_projects", project_code="XM002", project_name="乙项目",
                                               remarks="核减重复统计")])
    write(raw, "key_projects", "2023-05", [row("key_projects")])
    (flag,) = flags_after(run_period, [("key_projects", "2023-04"), ("key_projects", "2023-05")])
    assert (flag["rule"], flag["explained"], flag["remarks"]) == ("missing_key", False, None)


def test_no_missing_key_for_a_sender_whose_file_has_not_come_in(raw, run_period):
    """宗艾镇 sent March, not yet June (or it is overdue): the calendar reports the submission;
    its villages are not dropped keys. 平头镇 sent June without 山底村: that one is."""
    write_csv(raw / "village_income" / "2023-03__宗艾镇.csv",
              [["村名称", "经营性收入", "集体经济总收入"], ["宗艾村", 30, 50]])
    write(raw, "village_income", "2023-03", [row("village_income"),
                                             row("village_income", village_code="140725103202", village_name="山底村")])
    write(raw, "village_income", "2023-06", [row("village_income")])
    flags = flags_after(run_period, [("village_income", "2023-03"), ("village_income", "2023-06")])
    assert [(f["key"], f["rule"]) for f in flags] == [("平头镇/山底村", "missing_key")]


def test_no_missing_key_for_a_file_sent_back_whole(raw, run_period):
    """June is held (宗艾镇 sent it), but 平头镇's June file was sent back whole: 被退回 in the
    calendar, not two dropped villages."""
    for period in ("2023-03", "2023-06"):
        write_csv(raw / "village_income" / f"{period}__宗艾镇.csv",
                  [["村名称", "经营性收入", "集体经济总收入"], ["宗艾村", 30, 50]])
    write(raw, "village_income", "2023-03", [row("village_income"),
                                             row("village_income", village_code="140725103202", village_name="山底村")])
    write_csv(raw / path_of("village_income", "2023-06"), [["名称", "备注"], ["黑水村", ""]])  # no header it knows
    assert flags_after(run_period, [("village_income", "2023-03"), ("village_income", "2023-06")]) == []


def test_a_rejected_row_whose_key_cell_broke_a_rule_still_says_which_village(raw, run_period):
    write(raw, "village_income", "2023-03", [row("village_income"),
                                             row("village_income", village_code="140725103202", village_name="山底村")])
    write(raw, "village_income", "2023-06", [row("village_income"),
                                             row("village_income", village_code="140725103202", village_name="山底村",
                                                 township="平头填")])
    assert flags_after(run_period, [("village_income", "2023-03"), ("village_income", "2023-06")]) == []
    assert {r["row_key"] for r in run_period("village_income", "2023-06").rejected()} == {"*/山底村"}


def test_a_village_dropped_is_missing_under_its_township(raw, run_period):
    write(raw, "village_income", "2023-03", [row("village_income"),
                                             row("village_income", village_code="140725103202", village_name="山底村")])
    write(raw, "village_income", "2023-06", [row("village_income", village_code="140725103202", village_name="山底村",
                                                 operating_income=40, total_income=60)])
    (flag,) = flags_after(run_period, [("village_income", "2023-03"), ("village_income", "2023-06")])
    assert (flag["rule"], flag["key"], flag["key_name"], flag["previous_period"]) == (
        "missing_key", "平头镇/黑水村", "黑水村", "2023-03")
    assert flag["reason"] == "平头镇/黑水村上期在报，本期未报送"
    assert (flag["file_path"], flag["source_row"]) == ("village_income/2023-03__平头镇.csv", 2)


def test_an_enterprise_not_reported_is_missing(raw, run_period):
    other = row("industrial_output", credit_code=CREDIT_CODES[1], enterprise_name="乙化工公司")
    write(raw, "industrial_output", "2023-04", [row("industrial_output"), other])
    write(raw, "industrial_output", "2023-05", [row("industrial_output", value_added_ytd=1300, value_added_prev_ytd=1200,
                                                    output_value_ytd=6000)])
    (flag,) = flags_after(run_period, [("industrial_output", "2023-04"), ("industrial_output", "2023-05")])
    assert flag["reason"] == f"企业{CREDIT_CODES[1]}（乙化工公司）上期在报，本期未报送"


def test_a_zone_not_reported_is_not_a_missing_key(raw, run_period):
    """zone_operations (and city_indicators) declare flags_missing_keys=False: a park's report is
    followed by the reporting calendar, not by this flag."""
    assert {d.name for d in DATASETS.values() if not d.flags_missing_keys} == {"city_indicators", "zone_operations"}
    write(raw, "zone_operations", "2023-04", [row("zone_operations")])
    write_csv(raw / "zone_operations" / "2023-04__朝阳煤机制造专业镇.csv",
              [["园区名称", "固定资产投资本年累计", "税收收入本年累计", "营业性收入本年累计"],
               ["朝阳煤机制造专业镇", "500", "50", "900"]])
    write(raw, "zone_operations", "2023-05", [row("zone_operations", fixed_asset_investment_ytd=1100)])
    run = run_period("zone_operations", "2023-04")
    assert run.q("SELECT count(*) AS n FROM staging.zone_operations") == [{"n": 2}]
    assert flags_after(run_period, [("zone_operations", "2023-05")]) == []


# ------------------------------------------------------------------ which period is compared


def test_january_is_never_compared_with_the_previous_december(raw, run_period):
    write(raw, "key_projects", "2022-12", [row("key_projects", ytd_investment=50000),
                                           row("key_projects", project_code="XM002", project_name="乙项目")])
    write(raw, "key_projects", "2023-01", [row("key_projects", ytd_investment=100)])
    assert flags_after(run_period, [("key_projects", "2022-12"), ("key_projects", "2023-01")]) == []


def test_a_period_whose_previous_month_is_not_held_is_compared_with_the_latest_held(raw, run_period):
    write(raw, "key_projects", "2023-03", [row("key_projects", ytd_investment=1500)])
    # April's file is wholly rejected (no project code column): April is not held.
    write_csv(raw / "key_projects" / "2023-04.csv", [["项目名称", "本年累计完成投资"], ["甲项目", "1600"]])
    write(raw, "key_projects", "2023-05", [row("key_projects", ytd_investment=1200)])
    flags = flags_after(run_period, [("key_projects", p) for p in ("2023-03", "2023-04", "2023-05")])
    (flag,) = flags
    assert (flag["period"], flag["previous_period"]) == ("2023-05", "2023-03")
    assert flag["reason"] == "本年累计完成投资比上期减少（本期：1200，2023-03：1500），累计数不应下降，请核实"


def test_each_dataset_follows_its_own_held_periods(raw, run_period):
    """key_projects of May is compared with April even though industrial_output has no April."""
    write(raw, "key_projects", "2023-04", [row("key_projects", ytd_investment=1500)])
    write(raw, "key_projects", "2023-05", [row("key_projects", ytd_investment=1200)])
    write(raw, "industrial_output", "2023-03", [row("industrial_output")])
    write(raw, "industrial_output", "2023-05", [row("industrial_output", value_added_ytd=1000)])
    flags = flags_after(run_period, [("key_projects", "2023-04"), ("key_projects", "2023-05"),
                                     ("industrial_output", "2023-03"), ("industrial_output", "2023-05")])
    assert sorted((f["dataset"], f["previous_period"]) for f in flags) == [
        ("industrial_output", "2023-03"), ("key_projects", "2023-04")]


def test_nothing_is_flagged_on_a_clean_two_period_set(raw, run_period):
    loads = []
    for dataset in DATASETS.values():
        first, second = two_periods(dataset)
        grown = {f.name: GOOD_ROWS[dataset.name][f.name] + 5 for f in dataset.cumulative_fields}
        write(raw, dataset.name, first, [row(dataset.name)])
        write(raw, dataset.name, second, [row(dataset.name, **grown)])
        loads += [(dataset.name, first), (dataset.name, second)]
    run = None
    for dataset, period in loads:
        run = run_period(dataset, period)
    assert run.q("SELECT count(*) AS n FROM audit.rejected_rows") == [{"n": 0}]
    cross_period_flags(run.conn, ["2023-03", "2023-04", "2023-05", "2023-06"])
    assert run.q("SELECT * FROM audit.cross_period_flags") == []


def test_the_flags_of_a_run_are_those_of_its_periods_and_the_next_held_one(raw, run_period):
    for period, ytd in (("2023-04", 1500), ("2023-05", 1200), ("2023-06", 1100), ("2023-07", 1000)):
        write(raw, "key_projects", period, [row("key_projects", ytd_investment=ytd)])
        run = run_period("key_projects", period)
    every = ["2023-04", "2023-05", "2023-06", "2023-07"]
    assert cross_period_flags(run.conn, every).total == 3  # May, June and July decreased
    run.conn.execute("DELETE FROM audit.cross_period_flags WHERE period IN ('2023-05', '2023-07')")

    summary = cross_period_flags(run.conn, ["2023-05"])
    assert summary.periods == ["2023-05", "2023-06"]
    assert sorted(summary.flags["period"]) == ["2023-05", "2023-06"]
    # a run of some months recomputes the flags it can change, and only those
    assert sorted(r["period"] for r in run.q("SELECT period FROM audit.cross_period_flags")) == ["2023-05", "2023-06"]
    # a run of every period recomputes them all
    cross_period_flags(run.conn, every)
    assert run.q("SELECT count(*) AS n FROM audit.cross_period_flags") == [{"n": 3}]


# ------------------------------------------------------------------ through Dagster


def materialize(settings: Settings, periods: list[str]) -> dg.ExecuteInProcessResult:
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, periods)
    if len(periods) == 1:
        return job.execute_in_process(partition_key=periods[0], instance=instance)
    tags = {"dagster/asset_partition_range_start": periods[0], "dagster/asset_partition_range_end": periods[-1]}
    return job.execute_in_process(instance=instance, tags=tags)


def published(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def _check(result) -> dg.AssetCheckEvaluation:
    (check,) = [e for e in result.get_asset_check_evaluations()
                if e.asset_key.to_user_string() == "audit/cross_period_flags"]
    return check


def test_a_correction_of_may_rerun_alone_clears_junes_flag_and_the_check_follows(settings):
    raw = settings.raw_dir
    (raw / "收文登记.csv").write_text("文件,收到时间\nkey_projects/2023-06.xlsx,昨天下午\n", encoding="utf-8")
    xm002 = dict(project_code="XM002", project_name="乙项目")
    write(raw, "key_projects", "2023-05", [row("key_projects", ytd_investment=1500),
                                           row("key_projects", **xm002, ytd_investment=900)])
    # June as an XLSX with a title row: the flag names its file and Excel row.
    fields = DATASETS["key_projects"].all_fields
    june = [row("key_projects", ytd_investment=1200),
            row("key_projects", **xm002, ytd_investment=800, remarks="5月误将外省资金计入，本月核减")]
    write_xlsx(raw / "key_projects" / "2023-06.xlsx",
               [["2023年1-6月重点项目进展情况表"], [f.header for f in fields]] + [[r.get(f.name) for f in fields] for r in june])

    result = materialize(settings, ["2023-05", "2023-06"])
    assert result.success
    flagged = [e for e in result.get_asset_materialization_events()
               if e.asset_key.to_user_string() == "audit/cross_period_flags"]
    # one per partition of the run, each with its month's flags (June's, against May)
    figures = {e.partition: tuple(e.event_specific_data.materialization.metadata[k].value
                                  for k in ("dagster/row_count", "ytd_decreased", "unexplained", "explained"))
               for e in flagged}
    assert figures == {"2023-05": (0, 0, 0, 0), "2023-06": (2, 2, 1, 1)}
    check = _check(result)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.description.startswith("警告（不是运行故障）") and "2023-06" in check.description
    assert published(settings, "SELECT period, \"key\", explained, file_path, source_row FROM audit.cross_period_flags "
                               "ORDER BY \"key\"") == [("2023-06", "XM001", False, "key_projects/2023-06.xlsx", 3),
                                                      ("2023-06", "XM002", True, "key_projects/2023-06.xlsx", 4)]
    summary = run_summary(settings)
    assert (summary.flags, summary.flags_unexplained, summary.unexplained_periods) == (2, 1, ("2023-06",))
    assert len(summary.register_problems) == 1 and "收文登记.csv第2行无法识别" in summary.register_problems[0]

    # May was wrong: corrected, and only May is run again. June's flag of XM001 goes; the one 备注 explains stays.
    write(raw, "key_projects", "2023-05", [row("key_projects", ytd_investment=1100),
                                           row("key_projects", **xm002, ytd_investment=900)])
    result = materialize(settings, ["2023-05"])
    assert result.success
    assert published(settings, "SELECT period, \"key\", explained FROM audit.cross_period_flags") == [
        ("2023-06", "XM002", True)]
    check = _check(result)
    assert check.passed and "均已在备注中说明" in check.description and "2023-06" in check.description
    assert run_summary(settings).flags_unexplained == 0


def test_a_run_without_flags_passes_the_check(settings):
    write(settings.raw_dir, "key_projects", "2023-05", [row("key_projects")])
    result = materialize(settings, ["2023-05"])
    assert result.success
    assert "audit/cross_period_flags" in {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    check = _check(result)
    assert check.passed and check.description == "报告期 2023-05：没有与上期对不上的数字"
    summary = run_summary(settings)
    assert (summary.flags, summary.flags_unexplained, summary.register_problems) == (0, 0, ())


def test_a_key_sent_twice_is_a_duplicate_not_a_missing_key(raw, run_period):
    write(raw, "key_projects", "2023-04", [row("key_projects"), row("key_projects", project_code="XM002")])
    write(raw, "key_projects", "2023-05", [row("key_projects"), row("key_projects", project_code="XM002"),
                                           row("key_projects", project_code="XM002", ytd_investment=1200)])
    assert flags_after(run_period, [("key_projects", "2023-04"), ("key_projects", "2023-05")]) == []
    rejected = run_period("key_projects", "2023-05").rejected(rule="duplicate_key")
    assert len(rejected) == 2 and {r["row_key"] for r in rejected} == {"XM002"}
