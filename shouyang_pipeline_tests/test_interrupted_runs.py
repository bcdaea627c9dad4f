"""A run killed outright is not shown as running for good: the next run marks it failed, in
Chinese, when its process is surely gone; a run whose process lives, or of another host, or
without the tag, is left as it is."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
from click.testing import CliRunner

from shouyang_pipeline.cli import main
from shouyang_pipeline.run_processes import (PROCESS_TAG, ProcessRunLauncher, _machine, mark_interrupted_runs,
                                            process_gone, process_identity, process_tag)
from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, write_csv
from shouyang_pipeline_tests.test_cli import _env

PROJECT = Path(__file__).resolve().parents[1]


def _dead_identity() -> str:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{_machine()}:{proc.pid}:1"


def _started_run(instance: dg.DagsterInstance, process: str | None, status=dg.DagsterRunStatus.STARTED,
                 tags: dict | None = None) -> str:
    """A run shown as `status`, done by the process named (its tag, as a run records it)."""
    run_id = str(uuid.uuid4())
    tags = dict(tags or {}, **({PROCESS_TAG: f"{run_id}@{process}"} if process else {}))
    instance.add_run(dg.DagsterRun(job_name="monthly_refresh", run_id=run_id, status=status, tags=tags))
    return run_id


def test_a_process_is_gone_only_when_surely_so():
    assert not process_gone(process_identity())
    assert process_gone(_dead_identity())
    me = process_identity()
    host, pid, started = me.rsplit(":", 2)
    if started:  # /proc: the same pid started at another time is another process
        assert process_gone(f"{host}:{pid}:{int(started) + 1}")
    assert not process_gone(f"another-host/1:{pid}:{started}")
    assert not process_gone("garbage") and not process_gone("")


def test_only_runs_whose_process_is_gone_are_marked_failed(tmp_path):
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        dead = _started_run(instance, _dead_identity())
        alive = _started_run(instance, process_identity())
        untagged = _started_run(instance, None)
        elsewhere = _started_run(instance, f"another-host/1:{os.getpid()}:1")
        # `shouyang run` killed while Dagster was creating its run; a UI launch not started yet (no tag)
        created = _started_run(instance, _dead_identity(), dg.DagsterRunStatus.NOT_STARTED)
        launched = _started_run(instance, None, dg.DagsterRunStatus.NOT_STARTED)
        # a re-execution of the dead run, waiting for the run lock: Dagster copied its parent's tags
        copied = _started_run(instance, None, tags={**instance.get_run_by_id(dead).tags,
                                                    "dagster/parent_run_id": dead})
        assert sorted(mark_interrupted_runs(instance, "current-run-id")) == sorted([dead, created])
        assert instance.get_run_by_id(created).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(launched).status == dg.DagsterRunStatus.NOT_STARTED
        failed = instance.get_run_by_id(dead)
        assert failed.status == dg.DagsterRunStatus.FAILURE
        messages = [e.message for e in instance.all_logs(dead) if e.is_dagster_event]
        assert any("进程已不存在" in (m or "") and "current-" in m for m in messages)
        for run_id in (alive, untagged, elsewhere, copied):
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED


def test_the_next_shouyang_run_marks_a_killed_run_and_records_its_own_process(settings, tmp_path):
    env = _env(settings, tmp_path)
    write_csv(settings.raw_dir / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    home = env["DAGSTER_HOME"]
    os.makedirs(home, exist_ok=True)
    with dg.DagsterInstance.from_config(home) as instance:
        killed = _started_run(instance, _dead_identity())
    result = CliRunner().invoke(main, ["run"], env=env)
    assert result.exit_code == 0, result.output
    with dg.DagsterInstance.from_config(home) as instance:
        assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
        latest = [r for r in instance.get_runs() if r.run_id != killed][0]
        assert latest.status == dg.DagsterRunStatus.SUCCESS
        assert latest.tags[PROCESS_TAG] == process_tag(latest.run_id)  # `shouyang run` is this process


def _interrupted_result(how: str = "dagster", *, also_failed: bool = False):
    """What a run stopped by Ctrl-C gives: Dagster stops the step going with
    DagsterExecutionInterruptedError (`how` "dagster"), or DuckDB, running a query then, takes
    the interrupt for its query's ("duckdb"); and the run fails. `also_failed`: another step
    had failed for a reason of its own before."""
    from dagster._core.errors import DagsterExecutionInterruptedError

    @dg.op
    def going():
        if how == "duckdb":
            raise RuntimeError("Query interrupted")
        raise DagsterExecutionInterruptedError()

    @dg.op
    def full_disk():
        raise OSError(28, "No space left on device")

    @dg.job
    def stopped():
        if also_failed:
            full_disk()
        going()

    return stopped.execute_in_process(raise_on_error=False)


def test_a_failure_of_the_pipelines_own_is_said_without_its_class():
    """A step that failed with one of the pipeline's own errors (a worker that ended, PoolFailed)
    is said in its Chinese words alone; a fault of the program's keeps its class."""
    from shouyang_pipeline import cli, workers

    @dg.op
    def staging_tables():
        raise workers.PoolFailed([workers.Failure(("key_projects", "2023-03"), "重点项目2023-03的文件未能读取",
                                                  "读取进程意外退出（退出码 -9）", None)], "")

    @dg.op
    def full_disk():
        raise workers.PoolFailed([workers.Failure("2023-05", "2023-05的简报未能写出",
                                                  "OSError: [Errno 28] No space left on device", None)], "")

    @dg.op
    def broken():
        raise KeyError("x")

    @dg.job
    def failing():
        staging_tables()
        full_disk()
        broken()

    messages = cli._failure_messages(failing.execute_in_process(raise_on_error=False))
    assert "staging_tables：重点项目2023-03的文件未能读取：读取进程意外退出（退出码 -9）" in messages
    assert "full_disk：磁盘空间已满，请清理空间后重新运行（2023-05的简报未能写出：OSError: [Errno 28] No space left on device）" in messages
    assert "broken：KeyError: 'x'" in messages
    assert not any("PoolFailed" in m or "shouyang_pipeline." in m for m in messages)


def test_an_interruption_is_told_from_other_failures():
    from shouyang_pipeline import cli

    assert cli._interrupted(_interrupted_result("dagster"))
    assert cli._interrupted(_interrupted_result("duckdb"))
    both = _interrupted_result(also_failed=True)
    assert cli._interrupted(both)
    assert [m.split("：")[0] for m in cli._failure_messages(both, interruptions=False)] == ["full_disk"]

    @dg.op
    def broken():
        raise ValueError("a bug")

    @dg.job
    def failed():
        broken()

    assert not cli._interrupted(failed.execute_in_process(raise_on_error=False))


def test_a_run_stopped_with_ctrl_c_says_so_and_exits_130(settings, tmp_path, monkeypatch):
    from shouyang_pipeline import cli

    write_csv(settings.raw_dir / "key_projects" / "2023-04__发改局.csv", [KP_HEADER, kp_row("XM001")])
    result = _interrupted_result(also_failed=True)
    assert cli._interrupted(result) and not result.success
    monkeypatch.setattr(cli, "_execute", lambda settings, todo, tags, **scope: (result, "2023-04"))
    env = {**_env(settings, tmp_path), "SHOUYANG_NOW": "2023-06-20 09:00"}
    ran = CliRunner().invoke(main, ["run"], env=env)
    assert ran.exit_code == cli.INTERRUPTED == 130, ran.output
    said = "".join(ran.output.split())
    assert "已中断（报告期2023-04）" in said and "DagsterExecutionInterruptedError" not in said
    assert "管道运行失败" not in said and "Traceback" not in ran.output
    assert said.index("磁盘空间已满") < said.index("已中断")  # what failed before the Ctrl-C is said too


def test_the_command_lines_runs_start_no_compute_log_processes(tmp_path, monkeypatch):
    """A step's stdout is the terminal's already: no `tail` and watcher interpreter a step, whose
    own tracebacks a Ctrl-C would print."""
    from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager

    from shouyang_pipeline import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", "home")  # relative: made absolute, as Dagster's own commands need
    instance = cli._instance()
    try:
        assert isinstance(instance.compute_log_manager, NoOpComputeLogManager)
        assert (tmp_path / "home" / "dagster.yaml").is_file()  # the instance's own settings, for the UI
        assert os.environ["DAGSTER_HOME"] == str((tmp_path / "home").resolve())
    finally:
        instance.dispose()


def _project_instance(home) -> dg.DagsterInstance:
    """An instance with the project's settings (dagster_instance.yaml, as `make` copies it)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT / "dagster_instance.yaml", home / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(home))


def test_run_monitoring_under_the_ui_marks_a_run_whose_process_is_gone(tmp_path):
    """`make ui`'s daemon monitors the runs shown as running (dagster_instance.yaml): Dagster's own
    monitoring, asking the project's launcher, fails a run whose process is gone, so that the runs
    queued behind it (one at a time) start; a live, untagged or foreign run is left running."""
    from dagster._daemon.monitoring.run_monitoring import monitor_started_run

    with _project_instance(tmp_path / "home") as instance:
        assert isinstance(instance.run_launcher, ProcessRunLauncher)
        assert instance.run_monitoring_enabled and instance.run_monitoring_max_resume_run_attempts == 0
        dead = _started_run(instance, _dead_identity())
        alive = _started_run(instance, process_identity())
        untagged = _started_run(instance, None)
        elsewhere = _started_run(instance, f"another-host/1:{os.getpid()}:1")
        copied = _started_run(instance, None, tags={**instance.get_run_by_id(dead).tags,
                                                    "dagster/parent_run_id": dead})
        for run_id in (dead, alive, untagged, elsewhere, copied):
            record = instance.get_run_records(dg.RunsFilter(run_ids=[run_id]))[0]
            monitor_started_run(instance, None, record, logging.getLogger("test"))
        assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
        messages = [e.message or "" for e in instance.all_logs(dead) if e.is_dagster_event]
        assert any("进程已不存在" in m and "运行监控" in m for m in messages)
        for run_id in (alive, untagged, elsewhere, copied):
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED


def test_the_launcher_module_loads_without_the_pipeline():
    """The UI's webserver and daemon import the launcher with the instance: nothing of the pipeline
    (its definitions, DuckDB, pandas) comes with it."""
    code = ("import sys, shouyang_pipeline.run_processes; "
            "print(sorted(m for m in sys.modules if m.startswith('shouyang_pipeline') or m in ('duckdb', 'pandas')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['shouyang_pipeline', 'shouyang_pipeline.run_processes']"
