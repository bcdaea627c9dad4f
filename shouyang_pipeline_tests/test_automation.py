"""The file sensor: which changes under the raw dir start a run, for which period, and that run works;
the months it runs become partitions, in calendar order.

(The schedule's January tick -> previous December is in test_definitions.py.)
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from shouyang_pipeline.config import Settings
from shouyang_pipeline.defs import build_definitions
from shouyang_pipeline.defs.partitions import add_months, months_of
from shouyang_pipeline.defs.resources import WarehouseResource

from conftest import KP_HEADER, kp_row, write_csv, write_xlsx

PERIOD = "2023-02"
KP_FILE = f"key_projects/{PERIOD}__发改局.xlsx"


def write_kp(raw: Path, rel_path: str = KP_FILE, *, codes=("XM001", "XM002"), total: float = 1000) -> Path:
    return write_xlsx(raw / rel_path, [
        ["2023年1-2月全县重点项目进展情况表"],
        KP_HEADER,
        *[kp_row(code, name=f"项目{code}", total=total, plan=500, ytd=100) for code in codes],
    ], merges=("A1:N1",))


def sensor_context(settings: Settings, instance: dg.DagsterInstance, cursor: str | None = None,
                   last_run_key: str | None = None) -> dg.SensorEvaluationContext:
    """As Dagster's code server makes it: with the instance's ref (a run request for a dynamic
    partition is checked against the instance's partitions only then), and as a context manager,
    since the resource has a run-time lifecycle."""
    return dg.SensorEvaluationContext(
        instance_ref=instance.get_ref(),
        instance=instance,
        cursor=cursor,
        last_run_key=last_run_key,
        definitions=build_definitions(settings),
        resources={"warehouse": WarehouseResource.from_settings(settings)},
    )


def evaluate(settings: Settings, cursor: str | None = None, *, last_run_key: str | None = None,
             instance: dg.DagsterInstance | None = None):
    """One sensor tick, given the cursor and the last run key as the sensor daemon passes them."""
    defs = build_definitions(settings)
    with ExitStack() as stack:
        instance = instance or stack.enter_context(dg.instance_for_test())
        with sensor_context(settings, instance, cursor, last_run_key) as context:
            data = defs.resolve_sensor_def("raw_files_sensor").evaluate_tick(context)
    return data.run_requests or [], data.cursor


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


class Daemon:
    """The sensor daemon in miniature: it keeps the cursor and the last run key between ticks and
    (as Dagster does) skips a run request whose run_key an earlier run of the sensor already used."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.cursor: str | None = None
        self.last_run_key: str | None = None
        self.used_keys: set[str] = set()

    def tick(self) -> list[dg.RunRequest]:
        requests, self.cursor = evaluate(self.settings, self.cursor, last_run_key=self.last_run_key)
        if requests:
            self.last_run_key = requests[-1].run_key
        launched = [r for r in requests if r.run_key not in self.used_keys]
        self.used_keys |= {r.run_key for r in requests}
        return launched


def periods(requests) -> list[str]:
    return [r.partition_key for r in requests]


def test_a_new_file_requests_a_run_of_its_period(settings, instance):
    write_kp(settings.raw_dir)
    requests, cursor = evaluate(settings, instance=instance)
    assert periods(requests) == [PERIOD]
    assert months_of(instance) == [PERIOD]  # the month is a partition before its run is asked for
    request = requests[0]
    assert request.job_name in (None, "monthly_refresh")
    assert request.run_key and request.run_key.startswith(f"files:{PERIOD}:")
    assert KP_FILE in request.tags["shouyang/changed_files"]
    seen = json.loads(cursor)
    assert set(seen) == {KP_FILE}
    assert len(seen[KP_FILE]) == 64  # sha256 hex of the file's bytes


def test_an_unchanged_file_never_triggers_again(settings):
    write_kp(settings.raw_dir)
    _, cursor = evaluate(settings)
    requests, again = evaluate(settings, cursor)
    assert requests == []
    assert json.loads(again) == json.loads(cursor)
    # Touching the file without changing its bytes is not a change either.
    path = settings.raw_dir / KP_FILE
    path.write_bytes(path.read_bytes())
    assert evaluate(settings, again)[0] == []


def test_a_corrected_file_at_the_same_path_requests_a_new_run(settings):
    write_kp(settings.raw_dir)
    (first,), cursor = evaluate(settings)
    write_kp(settings.raw_dir, total=2000)  # the department's corrected file
    requests, cursor2 = evaluate(settings, cursor)
    assert periods(requests) == [PERIOD]
    assert requests[0].run_key != first.run_key
    assert json.loads(cursor2)[KP_FILE] != json.loads(cursor)[KP_FILE]


def test_a_removed_file_requests_a_run_of_its_period(settings, instance):
    write_kp(settings.raw_dir)
    write_kp(settings.raw_dir, "key_projects/2023-03.xlsx")
    _, cursor = evaluate(settings)
    (settings.raw_dir / KP_FILE).unlink()
    # a fresh instance (e.g. a new DAGSTER_HOME): the month comes back as a partition
    requests, cursor2 = evaluate(settings, cursor, instance=instance)
    assert periods(requests) == [PERIOD]
    assert months_of(instance) == [PERIOD]
    assert "removed" in requests[0].tags["shouyang/changed_files"]
    assert set(json.loads(cursor2)) == {"key_projects/2023-03.xlsx"}
    assert evaluate(settings, cursor2)[0] == []


def test_a_file_named_in_full_width_digits_is_its_months_both_sent_and_removed(settings, instance):
    # rejected in the month its name means (as a .xls is): its arrival and its removal ask for that month
    odd = "key_projects/２０２３-０２__发改局.xlsx"
    write_kp(settings.raw_dir, odd)
    requests, cursor = evaluate(settings, instance=instance)
    assert periods(requests) == [PERIOD] and set(json.loads(cursor)) == {odd}
    (settings.raw_dir / odd).unlink()
    requests, _ = evaluate(settings, cursor, instance=instance)
    assert periods(requests) == [PERIOD] and "removed" in requests[0].tags["shouyang/changed_files"]


@pytest.mark.parametrize("rel_path", [
    "unknown_dataset/2023-02.xlsx",        # unknown folder
    "2023-02.xlsx",                         # raw dir root: no dataset
    "key_projects/sub/2023-02.xlsx",        # nested folder
    "key_projects/二月报表.xlsx",            # no period in the name
    "key_projects/2099-01.xlsx",            # a future period
    "key_projects/2019-12.xlsx",            # before the first partition
    "village_income/2023-02.xlsx",          # quarterly dataset, not a quarter's month
    "key_projects/~$2023-02.xlsx",          # Excel lock file
    "key_projects/.2023-02.xlsx",           # hidden file
])
def test_a_file_no_partition_can_hold_requests_nothing(settings, rel_path):
    write_kp(settings.raw_dir, rel_path)
    requests, cursor = evaluate(settings)
    assert requests == []
    assert json.loads(cursor) == {}


def test_one_request_per_period_however_many_files_changed(settings, instance):
    write_kp(settings.raw_dir)
    write_csv(settings.raw_dir / "city_indicators" / f"{PERIOD}.csv",
              [["指标名称", "全市数值"], ["规模以上工业增加值增速", "9.5%"]])
    write_kp(settings.raw_dir, "key_projects/2023-05.xlsx")
    requests, _ = evaluate(settings, instance=instance)
    assert periods(requests) == [PERIOD, "2023-05"]
    assert months_of(instance) == [PERIOD, "2023-05"]
    assert len({r.run_key for r in requests}) == 2
    assert "city_indicators/2023-02.csv" in requests[0].tags["shouyang/changed_files"]


def test_a_file_the_run_rejects_still_triggers_its_period(settings):
    # A wrong format in a dataset folder belongs to the partition: the run logs it as rejected.
    (settings.raw_dir / "key_projects").mkdir()
    (settings.raw_dir / "key_projects" / f"{PERIOD}.txt").write_text("不是表格", encoding="utf-8")
    requests, _ = evaluate(settings)
    assert periods(requests) == [PERIOD]


def test_every_change_is_launched_even_when_a_state_comes_back(settings):
    """Dagster skips a request whose run_key was used before: a reverted correction or a file put
    back after being removed must still get run keys of their own, or the warehouse goes stale."""
    daemon = Daemon(settings)
    write_kp(settings.raw_dir)
    assert periods(daemon.tick()) == [PERIOD]        # new file (version A)
    assert daemon.tick() == []                        # unchanged
    write_kp(settings.raw_dir, total=2000)
    assert periods(daemon.tick()) == [PERIOD]        # corrected (version B)
    write_kp(settings.raw_dir)
    assert periods(daemon.tick()) == [PERIOD]        # back to version A
    (settings.raw_dir / KP_FILE).unlink()
    assert periods(daemon.tick()) == [PERIOD]        # removed
    write_kp(settings.raw_dir)
    assert periods(daemon.tick()) == [PERIOD]        # put back (version A again)
    (settings.raw_dir / KP_FILE).unlink()
    assert periods(daemon.tick()) == [PERIOD]        # removed again
    assert daemon.tick() == []


def test_a_retried_tick_keeps_its_run_keys(settings):
    """Re-evaluating the same tick (same cursor, same last run key) asks for the same runs, so
    Dagster's run_key check keeps a retried tick from launching them twice."""
    write_kp(settings.raw_dir)
    first, _ = evaluate(settings, None, last_run_key="files:2023-01:0123456789abcdef")
    second, _ = evaluate(settings, None, last_run_key="files:2023-01:0123456789abcdef")
    assert [r.run_key for r in first] == [r.run_key for r in second]


def _published_rows(settings: Settings) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return conn.execute(
            "SELECT project_code, period, source_file FROM staging.key_projects ORDER BY project_code").fetchall()


def test_the_sensors_run_request_runs_and_publishes_the_files_rows(settings, instance):
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("raw_files_sensor")
    write_kp(settings.raw_dir)

    with sensor_context(settings, instance) as context:
        result = sensor.evaluate_tick(context)
    (request,) = result.run_requests
    assert request.partition_key == PERIOD

    job = defs.resolve_job_def("monthly_refresh")
    assert sensor.job_name == job.name
    run = job.execute_in_process(partition_key=request.partition_key, tags=request.tags, instance=instance)
    assert run.success
    assert run.dagster_run.tags["dagster/partition"] == PERIOD
    assert _published_rows(settings) == [("XM001", PERIOD, KP_FILE), ("XM002", PERIOD, KP_FILE)]

    # The corrected file: the sensor asks again, and the rerun replaces the period's rows.
    write_kp(settings.raw_dir, codes=("XM001", "XM002", "XM003"))
    with sensor_context(settings, instance, result.cursor) as context:
        (request2,) = sensor.evaluate_tick(context).run_requests
    assert request2.run_key != request.run_key
    run = job.execute_in_process(partition_key=request2.partition_key, tags=request2.tags, instance=instance)
    assert run.success
    assert [code for code, *_ in _published_rows(settings)] == ["XM001", "XM002", "XM003"]


def _a_correction_asked_for(settings: Settings, instance: dg.DagsterInstance):
    """The sensor's tick (cursor, last run key -> its result) and the job, after a file the
    sensor asked for was run and published and then corrected; and the tick asking for the correction."""
    defs = build_definitions(settings)
    sensor, job = defs.resolve_sensor_def("raw_files_sensor"), defs.resolve_job_def("monthly_refresh")

    def tick(cursor, last_run_key=None):
        with sensor_context(settings, instance, cursor, last_run_key) as context:
            return sensor.evaluate_tick(context)

    write_kp(settings.raw_dir)
    first = tick(None)
    assert job.execute_in_process(partition_key=PERIOD, tags=first.run_requests[0].tags, instance=instance).success
    write_kp(settings.raw_dir, codes=("XM001", "XM002", "XM003"))  # a correction
    return tick, job, tick(first.cursor, first.run_requests[0].run_key)


def test_a_change_whose_run_failed_is_asked_for_again_a_while_after(settings, instance, monkeypatch):
    from shouyang_pipeline.defs import automation

    from test_faults import hold, release

    tick, job, second = _a_correction_asked_for(settings, instance)
    (request,) = second.run_requests
    analyst, _ = hold(settings.warehouse, "rw", "SELECT 1")  # the run fails: nothing is published
    try:
        failed = job.execute_in_process(partition_key=PERIOD, tags=request.tags, instance=instance, raise_on_error=False)
    finally:
        release(analyst)
    assert not failed.success
    assert [code for code, *_ in _published_rows(settings)] == ["XM001", "XM002"]

    # Right after the failure: not yet (a lasting cause would fail a run every tick).
    quiet = tick(second.cursor, request.run_key)
    assert quiet.run_requests == [] and "本次不运行" in quiet.skip_message
    # Once the failure is old enough: the month again, under a key of its own.
    monkeypatch.setattr(automation, "RETRY_FAILED_AFTER_SECONDS", 0)
    (retry,) = tick(quiet.cursor, request.run_key).run_requests
    assert retry.partition_key == PERIOD and retry.run_key != request.run_key
    assert job.execute_in_process(partition_key=PERIOD, tags=retry.tags, instance=instance).success
    assert [code for code, *_ in _published_rows(settings)] == ["XM001", "XM002", "XM003"]
    assert tick(quiet.cursor, retry.run_key).run_requests == []  # published: nothing more to ask for


def test_the_sensor_gives_up_after_its_retries_and_never_retries_others_runs(settings, instance, monkeypatch):
    from shouyang_pipeline.defs import automation

    from test_faults import hold, release

    monkeypatch.setattr(automation, "RETRY_FAILED_AFTER_SECONDS", 0)
    monkeypatch.setattr(automation, "RETRIES", 1)
    tick, job, asked = _a_correction_asked_for(settings, instance)

    def fails(tags=None):
        return not job.execute_in_process(partition_key=PERIOD, tags=tags or {}, instance=instance,
                                          raise_on_error=False).success

    (request,) = asked.run_requests
    analyst, _ = hold(settings.warehouse, "rw", "SELECT 1")  # left open: every run fails
    try:
        # A run of the month started by hand (the UI, no tag of the sensor's) that failed: not retried.
        assert fails()
        assert tick(asked.cursor, request.run_key).run_requests == []
        assert fails(request.tags)  # the sensor's own run
        retried = tick(asked.cursor, request.run_key)
        (retry,) = retried.run_requests  # its one retry (RETRIES = 1)
        assert retry.run_key != request.run_key and fails(retry.tags)
        last = tick(retried.cursor, retry.run_key)
    finally:
        release(analyst)
    assert last.run_requests == []
    assert "连续失败2次，不再自动重试" in last.skip_message and PERIOD in last.skip_message
    assert tick(last.cursor, retry.run_key).run_requests == []  # given up until someone runs the month
    # A run canceled by hand is not asked for again either.
    canceled = instance.get_runs(limit=1)[0]
    instance.report_run_canceled(canceled)
    assert tick(last.cursor, retry.run_key).run_requests == []


def test_switching_the_sensor_on_after_a_run_requests_only_what_changed_since(settings):
    write_kp(settings.raw_dir)
    write_csv(settings.raw_dir / "city_indicators" / "2023-03.csv", [["指标名称", "全市数值"], ["规上工业增加值增速", "9.1"]])
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    for period in ("2023-02", "2023-03"):
        instance = dg.DagsterInstance.ephemeral()
        add_months(instance, [period])
        assert job.execute_in_process(partition_key=period, instance=instance).success
    requests, _ = evaluate(settings)  # first tick: no cursor yet
    assert requests == []
    write_csv(settings.raw_dir / "city_indicators" / "2023-04.csv", [["指标名称", "全市数值"], ["规上工业增加值增速", "9.0"]])
    requests, _ = evaluate(settings)
    assert periods(requests) == ["2023-04"]


def test_a_late_month_takes_its_place_among_the_partitions_and_in_a_range_run(settings, instance):
    """A correction of an older month arrives after newer months ran: Dagster keeps dynamic
    partitions in the order they were added and a range run takes the keys between its ends in
    that order, so the sensor puts the month in its place."""
    write_kp(settings.raw_dir, "key_projects/2023-04.xlsx")
    write_kp(settings.raw_dir, "key_projects/2023-06.xlsx")
    _, cursor = evaluate(settings, instance=instance)
    assert months_of(instance) == ["2023-04", "2023-06"]
    write_kp(settings.raw_dir, "key_projects/2023-03.xlsx")
    write_kp(settings.raw_dir, "key_projects/2023-05.xlsx")
    requests, _ = evaluate(settings, cursor, instance=instance)
    assert periods(requests) == ["2023-03", "2023-05"]
    assert months_of(instance) == ["2023-03", "2023-04", "2023-05", "2023-06"]

    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    tags = {"dagster/asset_partition_range_start": "2023-03", "dagster/asset_partition_range_end": "2023-05"}
    result = job.execute_in_process(instance=instance, tags=tags)
    assert result.success
    staged = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "staging/key_projects"]
    assert sorted(e.partition for e in staged) == ["2023-03", "2023-04", "2023-05"]
    # The step saw its months in calendar order (the marts speak of the last one as the latest).
    periods_seen = staged[0].event_specific_data.materialization.metadata["run_periods"].value
    assert periods_seen == "2023-03, 2023-04, 2023-05"


def test_add_months_keeps_calendar_order_and_what_was_materialised(settings):
    instance = dg.DagsterInstance.ephemeral()
    assert add_months(instance, ["2023-05", "2023-02"]) == ["2023-02", "2023-05"]
    write_kp(settings.raw_dir, "key_projects/2023-05.xlsx")
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    assert job.execute_in_process(partition_key="2023-05", instance=instance).success
    assert add_months(instance, ["2023-05"]) == []  # already there: nothing moves
    assert add_months(instance, ["2023-03", "2023-01"]) == ["2023-01", "2023-03"]
    assert months_of(instance) == ["2023-01", "2023-02", "2023-03", "2023-05"]
    # 2023-05 was deleted and added back: its materialisation is still known.
    key = dg.AssetKey(["staging", "key_projects"])
    assert instance.get_materialized_partitions(key) == {"2023-05"}
    with pytest.raises(ValueError):
        add_months(instance, ["2023-13"])
