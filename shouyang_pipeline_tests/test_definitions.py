"""The Dagster definitions load, and every table the warehouse promises has its asset, schema and checks."""

import dagster as dg

from shouyang_pipeline.catalog.datasets import DATASETS
from shouyang_pipeline.defs import defs
from shouyang_pipeline.catalog.marts import MARTS
from shouyang_pipeline.catalog.tables import AUDIT, REFERENCE


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("monthly_refresh").partitions_def is not None


def test_asset_keys_equal_schema_slash_table():
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    expected = (
        {f"reference/{n}" for n in REFERENCE}
        | {f"staging/{n}" for n in DATASETS}
        | {f"audit/{n}" for n in AUDIT}
        | {f"marts/{n}" for n in MARTS}
        | {"exports/briefing", "exports/published_warehouse"}
    )
    assert keys == expected


def test_every_table_asset_carries_its_column_schema():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        if key.path[0] == "exports":
            continue
        node = graph.get(key)
        schema = node.metadata["dagster/column_schema"]
        assert schema.columns, key
        assert all(c.description for c in schema.columns), key


def test_checks_schedule_and_sensor_are_defined():
    graph = defs.resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    for name in DATASETS:
        for check in ("row_accounting", "no_rejected_rows", "totals_match"):
            assert (f"staging/{name}", check) in checks
    assert ("marts/target_scorecard", "targets_met") in checks
    assert defs.resolve_schedule_def("monthly_schedule").execution_timezone == "Asia/Shanghai"
    assert defs.resolve_sensor_def("raw_files_sensor") is not None


def test_schedule_requests_the_previous_month():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    schedule = defs.resolve_schedule_def("monthly_schedule")
    ctx = dg.build_schedule_context(
        scheduled_execution_time=datetime(2024, 1, 5, 8, tzinfo=ZoneInfo("Asia/Shanghai")),
        repository_def=defs.get_repository_def(),
    )
    request = schedule.evaluate_tick(ctx).run_requests[0]
    assert request.partition_key == "2023-12"
