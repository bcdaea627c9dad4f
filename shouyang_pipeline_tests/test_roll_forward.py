"""A run killed after its commit record is finished by whoever looks next, not weeks later by the
next run: every `shouyang` command that reads or writes data, the sensor's tick and the start
of any Dagster run. Never while a run holds the run lock; an analyst holding the published file
read-write leaves it for later, and the command still works and says so in one line.

The committed-but-not-applied state is made once, by a real run whose publish stops right after
step (b) (`publish._checkpoint("committed")` raises), and copied for each test.
"""

from __future__ import annotations

import csv
import fcntl
import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner

from shouyang_pipeline.cli import main
from shouyang_pipeline.config import Settings
from shouyang_pipeline.defs import build_definitions
from shouyang_pipeline.defs.partitions import add_months
from shouyang_pipeline.exports import briefing as briefing_module
from shouyang_pipeline.warehouse import publish

from conftest import KP_HEADER, PROJECT_REFERENCE, VILLAGES, kp_row, write_csv
from test_automation import sensor_context
from test_faults import hold

PERIOD = "2023-02"
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def settings_at(root: Path) -> Settings:
    return Settings(root / "raw", root / "warehouse" / "warehouse.duckdb", root / "exports", root / "archive",
                    root / "reference", clock=None)


def write_period(raw: Path, total: float) -> None:
    write_csv(raw / "key_projects" / f"{PERIOD}__发改局.csv", [
        KP_HEADER, kp_row("XM001", total=total, plan=5000, ytd=800), kp_row("XM002", total=8000, plan=2000, ytd=0)])
    write_csv(raw / "city_indicators" / f"{PERIOD}.csv", [["指标名称", "全市数值"], ["规模以上工业增加值增速", "9.5%"]])


def materialize(settings: Settings):
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, [PERIOD])
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    return job.execute_in_process(partition_key=PERIOD, instance=instance, raise_on_error=False, run_config=QUIET)


class StoppedAfterCommit(RuntimeError):
    pass


@pytest.fixture(scope="module")
def committed(tmp_path_factory) -> Path:
    """A published run (XM001 total 20000), then a run whose publish stopped right after its
    commit record (XM001 total 30000): published and exports are the first run's, the record and
    the committed files are there."""
    root = tmp_path_factory.mktemp("committed")
    shutil.copytree(PROJECT_REFERENCE, root / "reference")
    with open(root / "reference" / "villages.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["village_code", "village_name", "township_name"])
        w.writerows(VILLAGES)
    settings = settings_at(root)
    write_period(settings.raw_dir, 20000)
    assert materialize(settings).success
    write_period(settings.raw_dir, 30000)

    def stop(point: str) -> None:
        if point == "committed":
            raise StoppedAfterCommit(point)

    original = publish._checkpoint
    publish._checkpoint = stop
    try:
        assert not materialize(settings).success
    finally:
        publish._checkpoint = original
    assert publish.record_path(settings.warehouse).exists()
    assert published_total(settings) == 28000.0  # still the first run's
    return root


@pytest.fixture
def state(committed, tmp_path) -> Settings:
    root = tmp_path / "data"
    shutil.copytree(committed, root)
    return settings_at(root)


def published_total(settings: Settings) -> float:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return float(conn.execute("SELECT sum(total_investment) FROM staging.key_projects").fetchone()[0])


def assert_rolled_forward(settings: Settings, tmp_path: Path) -> None:
    """The committed run is in place, warehouse and exports alike, and nothing of the publish is left."""
    assert not publish.record_path(settings.warehouse).exists()
    assert published_total(settings) == 38000.0
    fresh = tmp_path / "fresh"
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        briefing_module.write_briefing(conn, PERIOD, fresh)
    for name in (f"briefing_{PERIOD}.md", f"briefing_{PERIOD}.html"):
        assert (settings.export_dir / name).read_text(encoding="utf-8") == (fresh / name).read_text(encoding="utf-8")
    assert not publish.staging_dir(settings.export_dir).exists()
    assert list(settings.warehouse.parent.glob(".*.tmp")) == []


def assert_not_rolled_forward(settings: Settings) -> None:
    assert publish.record_path(settings.warehouse).exists()
    assert published_total(settings) == 28000.0


def cli(settings: Settings, *args: str):
    env = {"SHOUYANG_RAW_DIR": str(settings.raw_dir), "SHOUYANG_WAREHOUSE": str(settings.warehouse),
           "SHOUYANG_EXPORT_DIR": str(settings.export_dir), "SHOUYANG_ARCHIVE_DIR": str(settings.archive_dir),
           "SHOUYANG_REFERENCE_DIR": str(settings.reference_dir), "SHOUYANG_NOW": "2023-03-20T09:00",
           "SHOUYANG_DATA_DIR": str(settings.raw_dir.parent), "COLUMNS": "200",
           "DAGSTER_HOME": str(settings.raw_dir.parent / "dagster_home")}
    return CliRunner().invoke(main, list(args), env=env, prog_name="shouyang")


@pytest.mark.parametrize("command", ["status", "template", "check"])
def test_a_command_that_reads_data_finishes_a_committed_publish(state, tmp_path, command):
    args = {
        "status": ["status", "--period", PERIOD],
        "template": ["template", "key_projects", "--period", "2023-03", "--submitter", "发改局",
                     "-o", str(tmp_path / "模板.xlsx")],
        "check": ["check", str(state.raw_dir / "key_projects" / f"{PERIOD}__发改局.csv")],
    }[command]
    result = cli(state, *args)
    assert result.exit_code == 0, result.output
    assert "已补完发布" in result.output
    assert "Traceback" not in result.output
    assert_rolled_forward(state, tmp_path)


def test_run_finishes_a_committed_publish_first_and_says_when_no_pdf_could_be_made(state, tmp_path, monkeypatch):
    from shouyang_pipeline.exports import pdf

    monkeypatch.setattr(pdf, "pdf_unavailable", lambda: "本机没有可显示中文的字体（测试）")
    write_period(state.raw_dir, 30000)  # unchanged: the committed run's files
    result = cli(state, "run")
    assert result.exit_code == 0, result.output
    text = result.output.replace("\n", "")
    assert "已补完发布" in text
    assert "简报PDF未生成：本机没有可显示中文的字体（测试）。简报的Markdown和HTML版本照常写出。" in text
    assert_rolled_forward(state, tmp_path)


def test_status_while_an_analyst_holds_the_published_file_says_so_and_reads_the_committed_run(state, tmp_path):
    analyst, seen = hold(state.warehouse, "rw", "SELECT sum(total_investment) FROM staging.key_projects")
    try:
        assert float(seen) == 28000.0
        result = cli(state, "status", "--period", PERIOD)
        assert result.exit_code == 0, result.output
        text = result.output.replace("\n", "")  # one sentence, wrapped to the terminal
        assert text.count("以读写方式打开") == 1
        assert f"进程号 {analyst.pid}" in text and "上次运行的结果已提交" in text
        assert "报送情况：2023-02" in result.output  # the status itself, read from the committed warehouse
        assert publish.record_path(state.warehouse).exists()  # left for later
    finally:
        analyst.stdin.close()
        assert analyst.wait(timeout=60) == 0
    result = cli(state, "status", "--period", PERIOD)
    assert result.exit_code == 0, result.output
    assert "已补完发布" in result.output
    assert_rolled_forward(state, tmp_path)


def test_a_run_in_progress_is_never_raced(state, tmp_path):
    """Another process's run holds the run lock (a separate open file description here, which
    flock treats as another holder): the command leaves the publish to that run, silently."""
    state.run_lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(state.run_lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = cli(state, "status", "--period", PERIOD)
        assert result.exit_code == 0, result.output
        assert "已补完发布" not in result.output and "已提交" not in result.output
        assert_not_rolled_forward(state)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert cli(state, "status", "--period", PERIOD).exit_code == 0
    assert_rolled_forward(state, tmp_path)


def test_a_sensor_tick_finishes_a_committed_publish(state, tmp_path):
    with dg.instance_for_test() as instance:
        sensor = build_definitions(state).resolve_sensor_def("raw_files_sensor")
        with sensor_context(state, instance) as context:
            result = sensor.evaluate_tick(context)
    assert_rolled_forward(state, tmp_path)
    # and the tick read the committed warehouse: the files it holds are not asked for again
    assert result.run_requests == []


def test_a_schedule_tick_finishes_a_committed_publish(state, tmp_path):
    from datetime import datetime

    from shouyang_pipeline.defs.resources import WarehouseResource

    definitions = build_definitions(state)
    schedule = definitions.resolve_schedule_def("monthly_schedule")
    with dg.instance_for_test() as instance:
        with dg.build_schedule_context(
                instance=instance, scheduled_execution_time=datetime(2023, 3, 5, 8, 0),
                repository_def=definitions.get_repository_def(),
                resources={"warehouse": WarehouseResource.from_settings(state)}) as context:
            schedule.evaluate_tick(context)
    assert_rolled_forward(state, tmp_path)


def test_a_run_finishes_a_committed_publish_even_when_its_own_checks_stop_it(state, tmp_path):
    """The resource finishes it when the run starts: a run whose raw dir went missing fails
    (exit 2 material), but the committed run is in place all the same."""
    shutil.rmtree(state.raw_dir)
    result = materialize(state)
    assert not result.success
    assert_rolled_forward(state, tmp_path)
