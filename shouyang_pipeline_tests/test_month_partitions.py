"""The Dagster partitions are the months that have data: `shouyang run` adds the months it runs
(in calendar order) and runs nothing for a month without files or data; every run does its
checks first, whichever of its steps comes first."""

from __future__ import annotations

import dagster as dg
import duckdb
from click.testing import CliRunner

from shouyang_pipeline.cli import main
from shouyang_pipeline.defs import build_definitions
from shouyang_pipeline.defs.assets import REFERENCE_KEYS
from shouyang_pipeline.defs.partitions import PARTITIONS_NAME, add_months, months_of
from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, write_csv
from shouyang_pipeline_tests.test_cli import _env


def _instance(tmp_path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(tmp_path / "dagster_home"))


def _run(env, *args):
    return CliRunner().invoke(main, ["run", *args], env=env)


def test_a_month_without_files_is_said_and_not_run(settings, tmp_path):
    env = _env(settings, tmp_path)
    write_csv(settings.raw_dir / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    assert _run(env).exit_code == 0
    with _instance(tmp_path) as instance:
        runs_before = len(instance.get_runs())
        assert months_of(instance) == ["2023-02"]
    result = _run(env, "--period", "2024-05")
    assert result.exit_code == 0, result.output
    assert "2024-05" in result.output and "没有任何报送文件" in result.output
    assert "✓" not in result.output and "文件：" not in result.output  # no run, no warehouse-wide totals
    with _instance(tmp_path) as instance:
        assert len(instance.get_runs()) == runs_before
        assert months_of(instance) == ["2023-02"]


def test_a_month_a_failed_run_added_and_whose_files_went_is_no_partition_after_a_run(settings, tmp_path):
    """The sensor adds a month before its run; the run fails, the file is taken away: the month
    has no file and no data, and the next run (of it by name, or of every month) forgets it."""
    env = _env(settings, tmp_path)
    write_csv(settings.raw_dir / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    assert _run(env).exit_code == 0
    with _instance(tmp_path) as instance:
        add_months(instance, ["2023-04", "2023-05", "2023-06"])  # as the sensor's ticks did; their runs failed
    result = _run(env, "--period", "2023-04", "--period", "2023-05")
    assert result.exit_code == 0 and "Dagster 中也不记录这些月份" in result.output
    with _instance(tmp_path) as instance:
        assert months_of(instance) == ["2023-02", "2023-06"]
    assert _run(env, "--force").exit_code == 0
    with _instance(tmp_path) as instance:
        assert months_of(instance) == ["2023-02"]


def test_a_range_runs_its_months_that_have_files_or_data(settings, tmp_path):
    env = _env(settings, tmp_path)
    for month in ("2023-02", "2023-05"):
        write_csv(settings.raw_dir / "key_projects" / f"{month}.csv", [KP_HEADER, kp_row("XM001")])
    assert _run(env, "--period", "2023-05").exit_code == 0
    result = _run(env, "--period", "2023-01", "--period", "2023-05")
    assert result.exit_code == 0, result.output
    assert "2023-01" in result.output and "没有任何报送文件" in result.output  # the month asked for by name
    with _instance(tmp_path) as instance:
        assert months_of(instance) == ["2023-02", "2023-05"]  # the older month put before the newer one
        (last, *_) = instance.get_runs(limit=1)
        assert (last.tags["dagster/asset_partition_range_start"], last.tags["dagster/asset_partition_range_end"]) == (
            "2023-02", "2023-05")
        materialized = instance.get_materialized_partitions(dg.AssetKey(["staging", "key_projects"]))
        assert materialized == {"2023-02", "2023-05"}


def test_a_month_whose_files_were_removed_is_still_run_to_remove_its_data(settings, tmp_path):
    env = _env(settings, tmp_path)
    for month in ("2023-02", "2023-03"):
        write_csv(settings.raw_dir / "key_projects" / f"{month}.csv", [KP_HEADER, kp_row("XM001")])
    assert _run(env).exit_code == 0
    (settings.raw_dir / "key_projects" / "2023-03.csv").unlink()
    result = _run(env, "--period", "2023-03")
    assert result.exit_code == 0, result.output
    assert "没有任何报送文件" not in result.output
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT DISTINCT period FROM staging.key_projects").fetchall() == [("2023-02",)]


def test_a_run_of_the_months_without_the_reference_step_still_checks_first(settings, tmp_path):
    """A backfill of every asset launched in the UI is split by Dagster into a run of the
    (unpartitioned) reference lists and a run of the months: that one does the checks too."""
    import dataclasses

    write_csv(settings.raw_dir / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    definitions = build_definitions(settings)
    job = definitions.resolve_job_def("monthly_refresh")
    months_only = [k for k in definitions.resolve_asset_graph().get_all_asset_keys() if k not in REFERENCE_KEYS]
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, ["2023-02"])

    broken = dataclasses.replace(settings, raw_dir=tmp_path / "gone")
    failed = build_definitions(broken).resolve_job_def("monthly_refresh").execute_in_process(
        partition_key="2023-02", instance=instance, asset_selection=months_only, raise_on_error=False)
    assert not failed.success
    failures = [e for e in failed.all_events if e.is_step_failure]
    # The first steps of that run (the datasets' staging steps) stop with the message, nothing after them runs.
    assert failures and all(f.step_key.startswith("staging") for f in failures)
    assert all("不存在" in f.step_failure_data.error.message for f in failures)
    assert not settings.warehouse.exists()

    result = job.execute_in_process(partition_key="2023-02", instance=instance, asset_selection=months_only)
    assert result.success
    assert settings.warehouse.exists()


def test_a_partition_added_by_hand_that_is_not_a_month_fails_the_run_first(settings):
    write_csv(settings.raw_dir / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(PARTITIONS_NAME, ["2023-13"])  # the UI's "Add partition" takes anything
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    result = job.execute_in_process(partition_key="2023-13", instance=instance, raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "reference_tables" and "2023-13" in failure.step_failure_data.error.message
    assert not settings.warehouse.exists()


def test_a_run_of_some_assets_says_that_it_publishes_nothing(settings):
    """A run of assets chosen in the UI without `exports/published_warehouse` writes the work file
    only: its log says so, and the published warehouse is not touched; a run of the whole job
    does not say it."""
    from shouyang_pipeline.defs import assets
    from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, write_csv

    write_csv(settings.raw_dir / "key_projects" / "2023-02__发改局.csv", [KP_HEADER, kp_row("XM001")])
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, ["2023-02"])
    some = job.execute_in_process(partition_key="2023-02", instance=instance,
                                  asset_selection=[*assets.REFERENCE_KEYS, dg.AssetKey(["staging", "key_projects"])])
    assert some.success and not settings.warehouse.exists()
    said = [e.user_message for e in instance.all_logs(some.run_id)]
    assert sum("不含 exports/published_warehouse" in m for m in said) == 1
    whole = job.execute_in_process(partition_key="2023-02", instance=instance)
    assert whole.success and settings.warehouse.exists()
    assert not any("不含 exports/published_warehouse" in e.user_message for e in instance.all_logs(whole.run_id))
