"""Faults of the machine or the operator: a Chinese message naming the path or value, exit code 2,
nothing changed. A raw dir that is missing, or suddenly empty, never wipes the warehouse."""

from __future__ import annotations

import csv
import hashlib
import logging
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner

from shouyang_pipeline.cli import main
from shouyang_pipeline.defs import build_definitions
from shouyang_pipeline.defs.automation import raw_files_sensor
from shouyang_pipeline.defs.partitions import add_months
from shouyang_pipeline.defs.resources import WarehouseResource
from shouyang_pipeline.errors import SetupError
from shouyang_pipeline.ingest.discover import discover
from shouyang_pipeline.pipeline import parse_period, remember_run, run_inputs, run_lock
from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, make_settings, write_csv
from shouyang_pipeline_tests.test_cli import _env


def _state(settings) -> dict[str, str]:
    """Every file the run may write, by content: what must not change after a refused run."""
    out = {}
    for root in (settings.warehouse.parent, settings.export_dir, settings.archive_dir):
        for p in sorted(root.rglob("*")) if root.exists() else []:
            if p.is_file() and p.name != "run.lock":
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _run(env, *args):
    return CliRunner().invoke(main, ["run", *args], env=env)


# What a run writes under the `settings` fixture's root: raw/ is the input, the rest the run's.
BUILT_FOLDERS = ("raw", "warehouse", "exports", "archive", "dagster_home")


@pytest.fixture(scope="module")
def built_once(tmp_path_factory) -> Path:
    """One `shouyang run` of one good file, done once for the module: the root of its folders
    (the `settings` fixture's layout), copied by `built` into each test's own tmp_path."""
    root = tmp_path_factory.mktemp("built")
    settings = make_settings(root)
    write_csv(settings.raw_dir / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    result = _run(_env(settings, root))
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def built(settings, tmp_path, built_once):
    """A warehouse built from one good file, and the environment that built it: the module's one
    run copied into this test's tmp_path (files with their content and modification times, the
    Dagster instance with its run and partitions), as if the run had been made here.

    A copy differs from a run made here in where it is: the record of the last full run
    (`.work/last_run.json`) holds the run's places and the published file's inode, so it is
    written again for this place the way the CLI writes it after a run of every period; a run
    with nothing changed is then skipped here as it would be after a run made here. The Dagster
    run's own records (its event log) name the module's folders: nothing reads them back."""
    for name in BUILT_FOLDERS:
        shutil.copytree(built_once / name, tmp_path / name, symlinks=True, dirs_exist_ok=True)
    remember_run(settings, run_inputs(settings, discover(settings.raw_dir)))
    return _env(settings, tmp_path)


def test_a_missing_or_empty_raw_dir_changes_nothing(settings, tmp_path, built):
    before = _state(settings)
    assert any("briefing_2023-02.md" in p for p in before)

    missing = _run({**built, "SHOUYANG_RAW_DIR": str(tmp_path / "rwa")})  # a typo
    assert missing.exit_code == 2, missing.output
    assert "原始数据目录" in missing.output and "rwa" in missing.output and "不存在" in missing.output
    assert "Traceback" not in missing.output
    assert _state(settings) == before

    empty = tmp_path / "unmounted"
    empty.mkdir()
    refused = _run({**built, "SHOUYANG_RAW_DIR": str(empty)})
    assert refused.exit_code == 2 and "--allow-empty" in refused.output and "key_projects/2023-02.csv" in refused.output
    assert _state(settings) == before

    (settings.raw_dir / "key_projects" / "2023-02.csv").unlink()
    confirmed = _run(built, "--allow-empty")
    assert confirmed.exit_code == 0, confirmed.output
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM staging.key_projects").fetchone()[0] == 0
    assert not (settings.export_dir / "briefing_2023-02.md").exists()


def test_losing_one_period_of_several_is_the_removed_file_of_the_contract(settings, tmp_path, built):
    write_csv(settings.raw_dir / "key_projects" / "2023-03.csv", [KP_HEADER, kp_row("XM001")])
    assert _run(built).exit_code == 0
    (settings.raw_dir / "key_projects" / "2023-02.csv").unlink()
    result = _run(built)
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT DISTINCT period FROM staging.key_projects").fetchall() == [("2023-03",)]


@pytest.mark.parametrize("breakage, words", [
    ("no_reference_dir", ["参考名录目录", "SHOUYANG_REFERENCE_DIR"]),
    ("no_villages", ["villages.csv", "缺少"]),
    ("villages_wrong_columns", ["villages.csv", "缺少列", "village_code"]),
    ("targets_not_numbers", ["targets.csv", "target_value"]),
    ("archive_is_a_file", ["存档目录", "SHOUYANG_ARCHIVE_DIR"]),
])
def test_set_up_errors_exit_2_with_a_message_and_change_nothing(settings, tmp_path, built, breakage, words):
    env = dict(built)
    ref = settings.reference_dir
    if breakage == "no_reference_dir":
        env["SHOUYANG_REFERENCE_DIR"] = str(tmp_path / "nowhere")
    elif breakage == "no_villages":
        (ref / "villages.csv").unlink()
    elif breakage == "villages_wrong_columns":
        (ref / "villages.csv").write_text("代码,名称\n1,甲村\n", encoding="utf-8")
    elif breakage == "targets_not_numbers":
        rows = list(csv.reader((ref / "targets.csv").open(encoding="utf-8")))
        rows[1][4] = "四十"
        with (ref / "targets.csv").open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(rows)
    elif breakage == "archive_is_a_file":
        blocker = tmp_path / "archive_file"
        blocker.write_text("not a folder")
        env["SHOUYANG_ARCHIVE_DIR"] = str(blocker / "archive")
    before = _state(settings)
    result = _run(env)
    assert result.exit_code == 2, result.output
    assert all(w in result.output for w in words), result.output
    assert "Traceback" not in result.output
    assert _state(settings) == before


@pytest.mark.parametrize("period", ["2023-13", "2023-2", "23-02", "2019-12", "2999-01"])
def test_a_period_that_is_not_a_month_is_refused(settings, tmp_path, period):
    result = _run(_env(settings, tmp_path), "--period", period)
    assert result.exit_code == 2 and period in result.output and "报告期" in result.output
    assert not settings.warehouse.exists()


def test_parse_period_accepts_a_month():
    assert parse_period("2023-02", "2023-12") == "2023-02"
    with pytest.raises(SetupError):
        parse_period("2023-00")


def _hold(code: str, ready: Path) -> subprocess.Popen:
    """Another process doing `code`, signalling `ready` once it holds what it holds."""
    script = textwrap.dedent(code) + f"\nimport pathlib, time\npathlib.Path({str(ready)!r}).touch()\ntime.sleep(60)\n"
    proc = subprocess.Popen([sys.executable, "-c", script])
    for _ in range(200):
        if ready.exists():
            return proc
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the other process never got ready")


def test_another_process_holding_the_work_file_is_a_message(settings, tmp_path, built):
    work = settings.work_warehouse
    proc = _hold(f"import duckdb\nconn = duckdb.connect({str(work)!r})\n", tmp_path / "ready")
    try:
        before = _state(settings)
        result = _run(built)
        assert result.exit_code == 2, result.output
        assert "工作文件" in result.output and str(proc.pid) in result.output and "-readonly" in result.output
        assert _state(settings) == before
    finally:
        proc.kill()
        proc.wait()


def _hold_the_lock(settings, ready: Path) -> subprocess.Popen:
    """Another process holding the run lock of `settings`."""
    code = f"""
        from pathlib import Path
        from shouyang_pipeline.config import Settings
        from shouyang_pipeline.pipeline import run_lock
        settings = Settings(*[Path(p) for p in {[str(p) for p in (settings.raw_dir, settings.warehouse,
                              settings.export_dir, settings.archive_dir, settings.reference_dir)]!r}])
        lock = run_lock(settings)
        lock.__enter__()
    """
    return _hold(code, ready)


def test_a_second_run_refuses_while_the_first_holds_the_lock(settings, tmp_path, built):
    proc = _hold_the_lock(settings, tmp_path / "ready")
    try:
        result = _run(built)
        assert result.exit_code == 2, result.output
        assert "另一次运行正在进行" in result.output and str(proc.pid) in result.output
    finally:
        proc.kill()
        proc.wait()
    assert _run(built).exit_code == 0  # the lock goes with its process


def test_a_dagster_run_waiting_for_the_lock_has_recorded_its_process(settings, tmp_path, built, monkeypatch):
    """A run launched by the UI, the schedule or the sensor tags its process before it waits for
    the run lock (up to LOCK_WAIT_SECONDS): killed while it waits, it is then told from a live one
    (run_processes) instead of keeping the UI's one-at-a-time queue blocked for good."""
    from shouyang_pipeline.defs import resources
    from shouyang_pipeline.run_processes import PROCESS_TAG, process_tag

    monkeypatch.setattr(resources, "LOCK_WAIT_SECONDS", 1)
    proc = _hold_the_lock(settings, tmp_path / "ready")
    try:
        job = build_definitions(settings).resolve_job_def("monthly_refresh")
        with dg.DagsterInstance.ephemeral() as instance:
            add_months(instance, ["2023-02"])
            result = job.execute_in_process(partition_key="2023-02", instance=instance, raise_on_error=False)
            assert not result.success
            said = " ".join(str(e.dagster_event) for e in instance.all_logs(result.run_id) if e.is_dagster_event)
            assert "另一次运行正在进行" in said  # it waited for the lock, and gave up
            logged = [e.user_message for e in instance.all_logs(result.run_id)
                      if not e.is_dagster_event and e.level == logging.ERROR]
            assert any(m.startswith("另一次运行正在进行") for m in logged)  # a line of its own in the UI's log
            tags = instance.get_run_by_id(result.run_id).tags
            assert tags[PROCESS_TAG] == process_tag(result.run_id)
    finally:
        proc.kill()
        proc.wait()


def test_the_run_lock_is_reentrant_in_one_process(settings):
    with run_lock(settings):
        with run_lock(settings):
            pass
        assert settings.run_lock.read_text(encoding="utf-8").startswith("进程")


def test_a_dagster_run_with_a_missing_raw_dir_fails_with_the_message_and_publishes_nothing(settings, tmp_path, built):
    import dataclasses

    before = _state(settings)
    broken = dataclasses.replace(settings, raw_dir=tmp_path / "gone")
    job = build_definitions(broken).resolve_job_def("monthly_refresh")
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, ["2023-02"])
    result = job.execute_in_process(partition_key="2023-02", instance=instance,
                                    raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "reference_tables" and "不存在" in failure.step_failure_data.error.message
    assert _state(settings) == before


def test_the_sensor_skips_while_the_raw_dir_is_missing(settings, tmp_path):
    import dataclasses

    broken = dataclasses.replace(settings, raw_dir=tmp_path / "gone")
    with dg.build_sensor_context(resources={"warehouse": WarehouseResource.from_settings(broken)}) as context:
        result = raw_files_sensor(context)
    assert isinstance(result, dg.SkipReason) and "不存在" in result.skip_message


def test_a_month_whose_publish_failed_gets_its_exports_with_the_next_publish(settings, tmp_path, built, monkeypatch):
    import errno

    from shouyang_pipeline.warehouse import publish as publish_module

    write_csv(settings.raw_dir / "key_projects" / "2023-03.csv", [KP_HEADER, kp_row("XM001")])
    assert _run(built).exit_code == 0
    # A correction of February whose publish fails (a full disk at the copy).
    write_csv(settings.raw_dir / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM001"), kp_row("XM777", name="更正新增项目")])
    real_copy = publish_module.copy_file

    def full_disk(src, dst, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(publish_module, "copy_file", full_disk)
    before = _state(settings)
    failed = _run(built, "--period", "2023-02")
    assert failed.exit_code == 1 and "磁盘空间已满" in failed.output, failed.output
    published = lambda state: {k: v for k, v in state.items() if ".work" not in k and "archive" not in k}  # noqa: E731
    assert published(_state(settings)) == published(before)  # the archive keeps the new version, nothing else moved
    # The next run is of March only; February's changed figures go out with their briefing.
    monkeypatch.setattr(publish_module, "copy_file", real_copy)
    assert _run(built, "--period", "2023-03").exit_code == 0
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM staging.key_projects WHERE period = '2023-02'").fetchone()[0] == 2
    assert "2个" in (settings.export_dir / "briefing_2023-02.md").read_text(encoding="utf-8") or \
        "XM777" in (settings.export_dir / "briefing_2023-02.md").read_text(encoding="utf-8")


def test_a_raw_dir_that_lost_several_periods_at_once_needs_confirming(settings, tmp_path, built):
    write_csv(settings.raw_dir / "key_projects" / "2023-03.csv", [KP_HEADER, kp_row("XM001")])
    assert _run(built).exit_code == 0
    before = _state(settings)
    wrong = tmp_path / "wrong_folder"  # holds one file of another month: not the county's raw dir
    write_csv(wrong / "key_projects" / "2023-05.csv", [KP_HEADER, kp_row("XM001")])
    refused = _run({**built, "SHOUYANG_RAW_DIR": str(wrong)})
    assert refused.exit_code == 2, refused.output
    assert "2个报告期" in refused.output and "--allow-empty" in refused.output
    assert _state(settings) == before
    # One period's files removed is an ordinary correction.
    (settings.raw_dir / "key_projects" / "2023-03.csv").unlink()
    assert _run(built).exit_code == 0


@pytest.mark.parametrize("breakage, words", [
    ("warehouse_is_a_folder", ["数据仓库文件的位置", "SHOUYANG_WAREHOUSE"]),
    ("work_dir_is_a_file", ["运行锁文件"]),
    ("dagster_home_is_a_file", ["DAGSTER_HOME"]),
    ("villages_is_a_folder", ["villages.csv", "不是一个文件"]),
])
def test_more_set_up_errors_exit_2_without_a_traceback(settings, tmp_path, breakage, words):
    write_csv(settings.raw_dir / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    env = _env(settings, tmp_path)
    if breakage == "warehouse_is_a_folder":
        settings.warehouse.mkdir(parents=True)
    elif breakage == "work_dir_is_a_file":
        settings.warehouse.parent.mkdir(parents=True)
        (settings.warehouse.parent / ".work").write_text("not a folder")
    elif breakage == "dagster_home_is_a_file":
        blocker = tmp_path / "dh_file"
        blocker.write_text("x")
        env["DAGSTER_HOME"] = str(blocker)
    elif breakage == "villages_is_a_folder":
        (settings.reference_dir / "villages.csv").unlink()
        (settings.reference_dir / "villages.csv").mkdir()
    result = _run(env)
    assert result.exit_code == 2, result.output
    assert all(w in result.output for w in words), result.output
    assert "Traceback" not in result.output


def test_a_damaged_work_file_is_set_aside_and_the_run_rebuilds(settings, tmp_path, built):
    work = settings.work_warehouse
    work.write_bytes(b"\x00" * 4096 + b"not a duckdb file")
    result = _run(built)
    assert result.exit_code == 0, result.output
    assert "已损坏" in result.output and "重新开始" in result.output
    assert list(work.parent.glob("damaged-*"))
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM staging.key_projects").fetchone()[0] == 1


def test_a_file_that_vanishes_mid_run_stops_the_run_before_anything_is_published(settings, tmp_path, built, monkeypatch):
    from shouyang_pipeline import pipeline

    write_csv(settings.raw_dir / "key_projects" / "2023-03.csv", [KP_HEADER, kp_row("XM001")])
    assert _run(built).exit_code == 0
    before = _state(settings)
    real_mark = pipeline.mark_unpublished

    def first_step_done_then_the_share_drops(s, periods):  # the end of the run's first step
        real_mark(s, periods)
        for f in s.raw_dir.rglob("*.csv"):
            f.unlink()

    monkeypatch.setattr(pipeline, "mark_unpublished", first_step_done_then_the_share_drops)
    result = _run(built, "--force")  # nothing changed before the run: it would not run otherwise
    assert result.exit_code == 1 and "不见了" in result.output, result.output
    published = lambda state: {k: v for k, v in state.items() if ".work" not in k}  # noqa: E731
    assert published(_state(settings)) == published(before)


def test_a_correction_of_one_month_rewrites_the_later_months_briefings(settings, tmp_path, built):
    for month in ("2023-03", "2023-04"):
        write_csv(settings.raw_dir / "key_projects" / f"{month}.csv", [KP_HEADER, kp_row("XM001")])
    assert _run(built).exit_code == 0
    april = settings.export_dir / "briefing_2023-04.md"
    april_written = april.stat().st_mtime_ns
    march = (settings.export_dir / "briefing_2023-03.md").read_bytes()
    # March gains a project: April's briefing (which compares with March) is written again too.
    write_csv(settings.raw_dir / "key_projects" / "2023-03.csv", [KP_HEADER, kp_row("XM001"), kp_row("XM002", ytd=900)])
    assert _run(built, "--period", "2023-03").exit_code == 0
    assert (settings.export_dir / "briefing_2023-03.md").read_bytes() != march
    assert april.stat().st_mtime_ns > april_written  # written again by a run of March only


def test_a_run_pointed_at_another_warehouse_does_not_write_the_default_exports(settings, tmp_path, built):
    """WAREHOUSE.md: a run pointed at another raw dir and warehouse must not overwrite the default
    exports or archive. With the warehouse moved and the exports and archive left to the data
    dir's defaults, the run refuses, naming the variables; with them set, it runs elsewhere."""
    data_dir = tmp_path  # as the default data dir, its exports/ and archive/ are the built ones
    before = _state(settings)
    other = tmp_path / "other"
    write_csv(other / "raw" / "key_projects" / "2023-03.csv", [KP_HEADER, kp_row("XM009")])
    env = {"SHOUYANG_DATA_DIR": str(data_dir), "SHOUYANG_REFERENCE_DIR": str(settings.reference_dir),
           "SHOUYANG_RAW_DIR": str(other / "raw"), "SHOUYANG_WAREHOUSE": str(other / "wh.duckdb"),
           "DAGSTER_HOME": built["DAGSTER_HOME"], "COLUMNS": "200"}
    refused = _run(env)
    assert refused.exit_code == 2, refused.output
    said = "".join(refused.output.split())
    assert "SHOUYANG_EXPORT_DIR、SHOUYANG_ARCHIVE_DIR没有设置" in said and "本次运行未做任何改动" in said
    assert "Traceback" not in refused.output
    assert _state(settings) == before and not (other / "wh.duckdb").exists() and not (other / ".work").exists()

    # only the archive left to its default: refused, naming that one
    only_archive = _run({**env, "SHOUYANG_EXPORT_DIR": str(other / "exports")})
    assert only_archive.exit_code == 2 and "但SHOUYANG_ARCHIVE_DIR没有设置" in "".join(only_archive.output.split())

    # set apart: it runs, writing only there
    ok = _run({**env, "SHOUYANG_EXPORT_DIR": str(other / "exports"), "SHOUYANG_ARCHIVE_DIR": str(other / "archive")})
    assert ok.exit_code == 0, ok.output
    assert _state(settings) == before
    assert (other / "exports" / "briefing_2023-03.md").is_file() and (other / "wh.duckdb").is_file()

    # a run of the UI, the schedule or the sensor refuses it as well (the resource keeps what was left)
    from shouyang_pipeline.config import Settings

    moved = Settings.from_env(env)
    assert WarehouseResource.from_settings(moved).settings.left_to_default == moved.left_to_default != ()
    job = build_definitions(moved).resolve_job_def("monthly_refresh")
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, ["2023-03"])
    result = job.execute_in_process(partition_key="2023-03", instance=instance, raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "SHOUYANG_EXPORT_DIR、SHOUYANG_ARCHIVE_DIR 没有设置" in failure.step_failure_data.error.message
    assert _state(settings) == before

    # the default warehouse named by its own path is not "another": no refusal
    same = {**env, "SHOUYANG_WAREHOUSE": str(data_dir / "." / "warehouse.duckdb"), "SHOUYANG_RAW_DIR": str(settings.raw_dir)}
    assert Settings.from_env(same).left_to_default == ()
