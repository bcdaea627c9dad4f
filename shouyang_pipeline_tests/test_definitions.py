"""The Dagster definitions load, and every table the warehouse promises has its asset, schema and checks."""

import dagster as dg

from shouyang_pipeline.catalog.datasets import DATASETS
from shouyang_pipeline.defs import defs
from shouyang_pipeline.catalog.marts import MARTS
from shouyang_pipeline.catalog.tables import AUDIT, REFERENCE


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)
    partitions = defs.resolve_job_def("monthly_refresh").partitions_def
    # The months that have data (added by runs), not a calendar from 2020-01 to now.
    assert isinstance(partitions, dg.DynamicPartitionsDefinition) and partitions.name == "period"


def test_the_reference_lists_are_not_partitioned_and_everything_else_is():
    graph = defs.resolve_asset_graph()
    job = defs.resolve_job_def("monthly_refresh")
    in_job = set(job.asset_layer.selected_asset_keys)
    for key in graph.get_all_asset_keys():
        partitions = graph.get(key).partitions_def
        if key.path[0] == "reference":
            assert partitions is None, key
        else:
            assert partitions == job.partitions_def, key
        assert key in in_job, key  # one job holds both


def test_a_check_of_the_pipeline_is_an_error_and_a_check_of_the_data_a_warning():
    graph = defs.resolve_asset_graph()
    for check_key in graph.asset_check_keys:
        description = graph.get_check_spec(check_key).description
        if check_key.name == "row_accounting":
            assert "运行故障" in description
        elif check_key.asset_key.path[0] == "staging":
            assert "警告级" in description and "不是运行故障" in description


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


def _schedule_tick(settings, instance, when):
    from shouyang_pipeline.defs import build_definitions
    from shouyang_pipeline.defs.resources import WarehouseResource

    definitions = build_definitions(settings)
    schedule = definitions.resolve_schedule_def("monthly_schedule")
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=when,
                                   repository_def=definitions.get_repository_def(),
                                   resources={"warehouse": WarehouseResource.from_settings(settings)}) as ctx:
        return schedule.evaluate_tick(ctx)


def test_schedule_requests_the_previous_month(settings):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from conftest import KP_HEADER, kp_row, write_csv
    from shouyang_pipeline.defs.partitions import months_of

    write_csv(settings.raw_dir / "key_projects" / "2023-12.csv", [KP_HEADER, kp_row("XM001")])
    with dg.instance_for_test() as instance:
        data = _schedule_tick(settings, instance, datetime(2024, 1, 5, 8, tzinfo=ZoneInfo("Asia/Shanghai")))
        (request,) = data.run_requests
        assert request.partition_key == "2023-12"
        assert months_of(instance) == ["2023-12"]  # a partition before the run is asked for


def test_schedule_skips_a_month_nobody_submitted_for(settings):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from shouyang_pipeline.defs.partitions import months_of

    (settings.raw_dir / "key_projects").mkdir(parents=True)
    with dg.instance_for_test() as instance:
        data = _schedule_tick(settings, instance, datetime(2024, 6, 5, 8, tzinfo=ZoneInfo("Asia/Shanghai")))
        assert not data.run_requests
        assert "2024-05" in data.skip_message and "没有任何报送文件" in data.skip_message
        assert months_of(instance) == []
