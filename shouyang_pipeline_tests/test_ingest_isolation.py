"""A fault while checking one file's rows together with the period's others (a rule, the
duplicate keys, the audit's rows: code that no reader's guard covers) stops only that file.

The fault is injected where the audit writes a failing row's key (`period.row_key_text`), and
fires on one row's content, so it only shows once the files are checked together; the files are
real CSVs loaded into a real DuckDB (`run_period`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from shouyang_pipeline.cli import main
from shouyang_pipeline.ingest import period
from shouyang_pipeline_tests.conftest import KP_HEADER, assert_consistent_counts, kp_row, write_csv

TRIGGER = "触发故障的项目"
GOOD = "key_projects/2023-02__发改局.csv"
BAD = "key_projects/2023-02__工信局.csv"


@pytest.fixture
def faulty_key(monkeypatch):
    """row_key_text raising on the row named TRIGGER, as an unforeseen bug would: in this process,
    so a run reads its files here (no reading worker started early, which would not have it)."""
    from shouyang_pipeline import pipeline

    monkeypatch.setattr(pipeline, "early_reading_workers", lambda dataset_periods, size: 0)
    real = period.row_key_text

    def key_text(dataset, row):
        if row.values.get("project_name") == TRIGGER:
            raise RuntimeError("injected fault")
        return real(dataset, row)

    monkeypatch.setattr(period, "row_key_text", key_text)


def test_a_fault_checking_one_file_rejects_that_file_alone(raw, run_period, faulty_key):
    # the good file has a rejected row of its own, and a key the faulty file repeats
    write_csv(raw / GOOD, [KP_HEADER, kp_row("XM001"), kp_row("XM002"), kp_row("XM005", total=-5)])
    write_csv(raw / BAD, [KP_HEADER, kp_row("XM003"), kp_row("XM004", name=TRIGGER, total=-5), kp_row("XM002")])
    run = run_period("key_projects", "2023-02")

    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001", "XM002"]
    good, bad = run.log(GOOD), run.log(BAD)
    assert (good["status"], good["rows_read"], good["rows_loaded"], good["rows_rejected"]) == ("partial", 3, 2, 1)
    assert bad["status"] == "rejected" and bad["rows_loaded"] == 0
    assert bad["message"].startswith("文件内容异常，无法读取（RuntimeError）")
    # the good file's rows are checked afresh: its own problem listed once, no duplicate of XM002
    # with the rejected file's row, and nothing of the rejected file's rows
    assert [(r["file_path"], r["source_row"], r["rule"]) for r in run.rejected()] == [(GOOD, 4, "not_positive")]
    assert_consistent_counts(run)


def test_without_the_fault_the_same_files_check_together(raw, run_period):
    write_csv(raw / GOOD, [KP_HEADER, kp_row("XM001"), kp_row("XM002"), kp_row("XM005", total=-5)])
    write_csv(raw / BAD, [KP_HEADER, kp_row("XM003"), kp_row("XM004", name=TRIGGER, total=-5), kp_row("XM002")])
    run = run_period("key_projects", "2023-02")
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001", "XM003"]
    assert sorted((r["file_path"], r["source_row"], r["rule"]) for r in run.rejected()) == [
        (GOOD, 3, "duplicate_key"), (GOOD, 4, "not_positive"), (BAD, 3, "not_positive"), (BAD, 4, "duplicate_key")]


@pytest.mark.parametrize("files", [[BAD], [GOOD, BAD]])
def test_a_fault_no_file_checks_alone_without_fails_the_period(raw, run_period, faulty_key, files):
    """When no file of the period checks alone (one file, or a fault every file meets: a bug of
    the pipeline's own, as likely as the file's), the period fails as it did: its files are not
    sent back as unreadable, nor is the period published empty."""
    for name in files:
        write_csv(raw / name, [KP_HEADER, kp_row("XM001" if name == GOOD else "XM004", name=TRIGGER, total=-5),
                               kp_row("XM006" if name == GOOD else "XM007")])
    with pytest.raises(RuntimeError, match="injected fault"):
        run_period("key_projects", "2023-02")


# ------------------------------------------------------------------ what the terminal shows

def _report(output: str) -> Path:
    (name,) = set(re.findall(r"详细信息已写入 (\S+?)，请交给县里的技术人员", output))
    return Path(name)


def test_a_run_sending_one_file_back_for_a_fault_says_so_in_chinese_and_keeps_the_traceback(
        tmp_path, faulty_key):
    from test_receipts import env_of, make_settings

    settings = make_settings(tmp_path)
    write_csv(settings.raw_dir / GOOD, [KP_HEADER, kp_row("XM001"), kp_row("XM002")])
    write_csv(settings.raw_dir / BAD, [KP_HEADER, kp_row("XM003"), kp_row("XM004", name=TRIGGER, total=-5)])
    result = CliRunner().invoke(main, ["run", "--period", "2023-02"], env=env_of(settings, tmp_path))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert f"单独校验{BAD}时程序出错" in result.output
    report = _report(result.output)
    assert "RuntimeError: injected fault" in report.read_text(encoding="utf-8")
    report.unlink()


def test_a_check_failing_for_a_fault_of_the_program_says_so_and_exits_1(tmp_path, faulty_key):
    path = write_csv(tmp_path / "2023-02__工信局.csv", [KP_HEADER, kp_row("XM004", name=TRIGGER, total=-5)])
    result = CliRunner().invoke(main, ["check", str(path), "--dataset", "key_projects", "--period", "2023-02"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "错误：程序内部出错（RuntimeError），命令未能完成；这不是您的文件或操作的问题" in result.output
    report = _report(result.output)
    assert report.read_text(encoding="utf-8").count("RuntimeError: injected fault") >= 2
    report.unlink()


def test_a_set_up_problem_a_command_does_not_say_itself_is_said_with_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["sample"], env={"SHOUYANG_DATA_DIR": str(tmp_path / "data"),
                                                      "SHOUYANG_NOW": "yesterday"})
    assert result.exit_code == 2
    assert "环境变量 SHOUYANG_NOW 的值“yesterday”不是时间" in result.output
    assert "程序内部出错" not in result.output and "Traceback" not in result.output


def test_a_fault_is_in_the_runs_log_in_the_ui_under_the_projects_instance_settings(tmp_path, faulty_key):
    """With DAGSTER_HOME's dagster.yaml as `make` writes it (dagster_instance.yaml), the package's
    warnings are also events of the run, which the UI shows in its log; the terminal still has
    the line once."""
    import shutil

    import dagster as dg

    from test_receipts import env_of, make_settings

    settings = make_settings(tmp_path)
    env = env_of(settings, tmp_path)
    Path(env["DAGSTER_HOME"]).mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "dagster_instance.yaml", Path(env["DAGSTER_HOME"]) / "dagster.yaml")
    write_csv(settings.raw_dir / GOOD, [KP_HEADER, kp_row("XM001"), kp_row("XM002")])
    write_csv(settings.raw_dir / BAD, [KP_HEADER, kp_row("XM003"), kp_row("XM004", name=TRIGGER, total=-5)])
    result = CliRunner().invoke(main, ["run", "--period", "2023-02"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.count(f"单独校验{BAD}时程序出错") == 1
    _report(result.output).unlink()
    with dg.instance_for_test(temp_dir=env["DAGSTER_HOME"]) as instance:
        (run,) = instance.get_runs()
        logged = [e.message for e in instance.all_logs(run.run_id) if e.dagster_event is None]
    assert any(f"单独校验{BAD}时程序出错" in m for m in logged), logged


def test_a_fault_met_by_a_reading_worker_is_said_by_the_run_with_its_traceback(tmp_path, faulty_key, capsys):
    """What a reading worker logs while it reads (`pipeline.ingest_parts`: the file sent back for a
    fault, with its traceback) comes back with its answer, in a form that pickles, and is said by
    the run's own process when it takes the period (`IngestAhead.take`): in the terminal with the
    report file, as when the run reads the files itself. (The worker's reading is called here, in
    this process, where the fault is injected.)"""
    import pickle

    from shouyang_pipeline import pipeline
    from shouyang_pipeline.cli import _log_to_terminal
    from shouyang_pipeline.ingest.discover import raw_files
    from test_receipts import make_settings

    settings = make_settings(tmp_path)
    write_csv(settings.raw_dir / GOOD, [KP_HEADER, kp_row("XM001"), kp_row("XM002")])
    write_csv(settings.raw_dir / BAD, [KP_HEADER, kp_row("XM003"), kp_row("XM004", name=TRIGGER, total=-5)])
    files = sorted((f for f in raw_files(settings) if f.dataset_period == ("key_projects", "2023-02")),
                   key=lambda f: f.rel_path)
    spool = tmp_path / "spool"
    spool.mkdir()
    key = ("key_projects", "2023-02")
    with pipeline.ingest_parts({"settings": settings, "spool": spool, "files": {key: files}}) as read:
        answer = read(key)
    path, records = pickle.loads(pickle.dumps(answer))  # (as it comes from the worker)
    assert [r.getMessage() for r in records] == ["校验key_projects 2023-02的文件时程序出错，正逐个文件重新校验",
                                                 f"单独校验{BAD}时程序出错"]
    assert all(r.exc_info is None and "RuntimeError: injected fault" in r.exc_text for r in records)

    class Answered:
        def get(self, item):
            return path, records

    plan = pipeline._PeriodPlan("key_projects", "2023-02", files, {}, False, None)
    ahead = pipeline.IngestAhead(Answered(), {key: plan}, spool)
    with _log_to_terminal():
        frames = ahead.take(plan)
    assert list(frames.log.status) == ["loaded", "rejected"]
    said = capsys.readouterr().err
    assert f"单独校验{BAD}时程序出错" in said
    report = _report(said)
    assert "RuntimeError: injected fault" in report.read_text(encoding="utf-8")
    report.unlink()
