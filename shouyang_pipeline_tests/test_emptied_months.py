"""Months as partitions after a run: a month whose files were all removed stops being a partition
once the run that removed its data has ended (the run decides, from the raw dir and the
published warehouse); a month that still has files or data keeps it. And a range run's check
results give each month's figures (`by_month`), since Dagster 1.13 records a check result per
run, not per month, in a run over several months.
"""

from __future__ import annotations

import dagster as dg

from shouyang_pipeline.defs import build_definitions
from shouyang_pipeline.defs.partitions import add_months, months_of

from conftest import KP_HEADER, kp_row, write_csv

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def write_month(raw, period: str, codes=("XM001", "XM002"), *, bad: str | None = None) -> None:
    rows = [kp_row(code, total=1000, plan=500, ytd=100) for code in codes]
    if bad:
        rows.append(kp_row(bad, level="国家级"))  # not a level the contract knows: the row is rejected
    write_csv(raw / "key_projects" / f"{period}__发改局.csv", [KP_HEADER, *rows])


def run(settings, instance, months: list[str]):
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    add_months(instance, months)
    tags = {"dagster/asset_partition_range_start": months[0], "dagster/asset_partition_range_end": months[-1]}
    return job.execute_in_process(instance=instance, tags=tags, run_config=QUIET, raise_on_error=False)


def checks(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {f"{e.asset_key.to_user_string()}:{e.check_name}": e for e in result.get_asset_check_evaluations()}


def test_a_month_emptied_by_its_run_stops_being_a_partition_and_range_checks_give_each_month(settings):
    write_month(settings.raw_dir, "2023-02", bad="XM009")
    write_month(settings.raw_dir, "2023-03")
    write_month(settings.raw_dir, "2023-04")
    instance = dg.DagsterInstance.ephemeral()
    result = run(settings, instance, ["2023-02", "2023-03", "2023-04"])
    assert result.success
    assert months_of(instance) == ["2023-02", "2023-03", "2023-04"]  # every month has files and data

    # One result per check for the three months, with a row per month in its by_month table.
    found = checks(result)
    rejected = found["staging/key_projects:no_rejected_rows"]
    assert not rejected.passed and rejected.partition is None
    table = rejected.metadata["by_month"].value
    lines = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
             for line in table.splitlines() if line.startswith("| 2023-")}
    assert lines == {"2023-02": ["1", "1", "0", "1"], "2023-03": ["1", "0", "0", "0"], "2023-04": ["1", "0", "0", "0"]}
    for key in ("staging/key_projects:row_accounting", "staging/key_projects:totals_match",
                "audit/cross_period_flags:flags_explained", "marts/target_scorecard:targets_met"):
        assert all(m in found[key].metadata["by_month"].value for m in ("2023-02", "2023-03", "2023-04")), key
    spec_descriptions = {spec.key.name: spec.description for spec in build_definitions(settings)
                         .resolve_assets_def(dg.AssetKey(["staging", "key_projects"])).check_specs}
    assert "by_month" in spec_descriptions["no_rejected_rows"]

    # Every file of March removed. A run that fails before it changes anything keeps the month
    # (its data is still published); the run that removes its data removes the partition.
    (settings.raw_dir / "key_projects" / "2023-03__发改局.csv").unlink()
    townships = settings.reference_dir / "townships.csv"
    townships.rename(townships.with_suffix(".bak"))  # a set-up error: the run changes nothing
    assert not run(settings, instance, ["2023-03"]).success
    assert months_of(instance) == ["2023-02", "2023-03", "2023-04"]
    townships.with_suffix(".bak").rename(townships)
    assert run(settings, instance, ["2023-03"]).success
    assert months_of(instance) == ["2023-02", "2023-04"]
