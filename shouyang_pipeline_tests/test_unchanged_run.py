"""`shouyang run` with nothing changed since its last run of every period does not run again:
no Dagster run, no file rewritten, the summary of what is published. Anything a run reads that
changed (a file's content, a new file of no dataset, the register, the reference lists, the day
the reporting calendar is judged on), a run of some months in between, or `--force`, runs it.

Real `shouyang run` commands on a small raw dir in tmp_path; Dagster's runs are counted in the
instance under DAGSTER_HOME.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
from click.testing import CliRunner

from shouyang_pipeline import pipeline
from shouyang_pipeline.config import BEIJING
from shouyang_pipeline.cli import main
from shouyang_pipeline.ingest.discover import discover

from conftest import KP_HEADER, kp_row, write_csv
from test_cli import _env
from test_faults import hold, release

SKIPPED = "不必重新运行"


def _runs(env: dict[str, str]) -> int:
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        return len(instance.get_run_records())


def _rebuilt_from(env: dict[str, str], mart: str) -> str:
    """What the last run did to marts.<mart> (its materialisation's `rebuilt_from`)."""
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["marts", mart]))
        return event.asset_materialization.metadata["rebuilt_from"].value


def _exports(settings) -> dict[str, int]:
    return {p.relative_to(settings.export_dir).as_posix(): p.stat().st_mtime_ns
            for p in settings.export_dir.rglob("*") if p.is_file()}


def _write(settings, period: str, ytd: float = 100) -> Path:
    return write_csv(settings.raw_dir / "key_projects" / f"{period}__发改局.csv",
                     [KP_HEADER, kp_row("XM001", total=1000, plan=500, ytd=ytd)])


def test_a_second_run_with_nothing_changed_does_not_run(settings, tmp_path):
    _write(settings, "2023-04")
    _write(settings, "2023-05", ytd=150)
    env = {**_env(settings, tmp_path), "SHOUYANG_NOW": "2023-06-20 09:00"}
    Path(env["DAGSTER_HOME"]).mkdir()
    cli = CliRunner()

    first = cli.invoke(main, ["run"], env=env)
    assert first.exit_code == 0, first.output
    assert SKIPPED not in first.output
    runs, written = _runs(env), _exports(settings)
    assert runs == 1 and any(name.startswith("briefing_2023-05") for name in written)

    second = cli.invoke(main, ["run"], env=env)
    assert second.exit_code == 0, second.output
    assert SKIPPED in second.output and "--force" in second.output
    assert "入库 2" in second.output  # the summary of what is published, as after a run
    assert _runs(env) == 1 and _exports(settings) == written

    # The next day the calendar may judge a report overdue: the run happens.
    next_day = cli.invoke(main, ["run"], env={**env, "SHOUYANG_NOW": "2023-06-21 09:00"})
    assert next_day.exit_code == 0, next_day.output
    assert SKIPPED not in next_day.output and _runs(env) == 2
    # nothing the marts read changed but the clock: the calendar alone is built again
    assert _rebuilt_from(env, "project_progress") == "未变（输入与上次重建时相同）"
    assert _rebuilt_from(env, "submission_status") == "全部报告期"

    forced = cli.invoke(main, ["run", "--force"], env={**env, "SHOUYANG_NOW": "2023-06-21 09:00"})
    assert SKIPPED not in forced.output and _runs(env) == 3
    assert _rebuilt_from(env, "project_progress") == "全部报告期"  # --force builds every mart whole

    # A run of some months forgets the record: the next run of every period happens.
    some = cli.invoke(main, ["run", "--period", "2023-05"], env={**env, "SHOUYANG_NOW": "2023-06-21 09:00"})
    assert some.exit_code == 0, some.output
    after = cli.invoke(main, ["run"], env={**env, "SHOUYANG_NOW": "2023-06-21 09:00"})
    assert SKIPPED not in after.output and _runs(env) == 5


def test_a_deleted_export_or_a_pending_month_means_running_again(settings, tmp_path):
    _write(settings, "2023-04")
    env = {**_env(settings, tmp_path), "SHOUYANG_NOW": "2023-06-20 09:00"}
    Path(env["DAGSTER_HOME"]).mkdir()
    cli = CliRunner()
    assert cli.invoke(main, ["run"], env=env).exit_code == 0
    inputs = pipeline.run_inputs(replace(settings, clock=datetime(2023, 6, 20, 9, 0)), discover(settings.raw_dir))
    assert pipeline.unchanged_since_last_run(settings, inputs)

    (settings.export_dir / "briefing_2023-04.md").unlink()
    assert not pipeline.unchanged_since_last_run(settings, inputs)
    again = cli.invoke(main, ["run"], env=env)
    assert SKIPPED not in again.output and (settings.export_dir / "briefing_2023-04.md").is_file()
    assert pipeline.unchanged_since_last_run(settings, inputs)

    # A briefing edited by hand (same name, other content) is written again by the next run.
    md = settings.export_dir / "briefing_2023-04.md"
    written = md.read_bytes()
    md.write_bytes(written + "篡改".encode())
    assert not pipeline.unchanged_since_last_run(settings, inputs)
    assert SKIPPED not in cli.invoke(main, ["run"], env=env).output
    assert md.read_bytes() == written and pipeline.unchanged_since_last_run(settings, inputs)

    # --force writes every export again, unchanged or not.
    before = _exports(settings)
    assert cli.invoke(main, ["run", "--force"], env=env).exit_code == 0
    after = _exports(settings)
    assert after["briefing_2023-04.md"] > before["briefing_2023-04.md"]
    assert after["marts_2023-04.xlsx"] > before["marts_2023-04.xlsx"]

    # An analyst who wrote to the published file: the run happens (and publishes the run's own).
    with duckdb.connect(str(settings.warehouse)) as conn:
        conn.execute("DELETE FROM staging.key_projects")
    assert not pipeline.unchanged_since_last_run(settings, inputs)
    assert SKIPPED not in cli.invoke(main, ["run"], env=env).output
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM staging.key_projects").fetchone()[0] == 1
    assert pipeline.unchanged_since_last_run(settings, inputs)

    pipeline.mark_unpublished(settings, ["2023-04"])  # a run whose publish did not happen
    assert not pipeline.unchanged_since_last_run(settings, inputs)


def _write_and_die(database: Path, sql: str) -> None:
    """A read-write session that writes `sql` and dies before closing (a crash, a killed window):
    its writes are left in the `.wal` beside the file."""
    code = ("import duckdb, os, sys; c = duckdb.connect(sys.argv[1]); c.execute(sys.argv[2]); "
            "sys.stdout.flush(); os._exit(0)")
    subprocess.run([sys.executable, "-c", code, str(database), sql], check=True, timeout=120)


def test_a_wal_left_by_a_dead_session_means_running_again_and_is_said(settings, tmp_path):
    _write(settings, "2023-04")
    _write(settings, "2023-05")
    env = {**_env(settings, tmp_path), "SHOUYANG_NOW": "2023-06-20 09:00"}
    Path(env["DAGSTER_HOME"]).mkdir()
    cli = CliRunner()
    assert cli.invoke(main, ["run"], env=env).exit_code == 0
    inputs = pipeline.run_inputs(replace(settings, clock=datetime(2023, 6, 20, 9, 0)), discover(settings.raw_dir))
    assert pipeline.unchanged_since_last_run(settings, inputs)

    _write_and_die(settings.warehouse, "DELETE FROM staging.key_projects")
    wal = settings.warehouse.with_name(settings.warehouse.name + ".wal")
    assert wal.is_file()
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:  # every reader sees the deletion
        assert conn.execute("SELECT count(*) FROM staging.key_projects").fetchone()[0] == 0
    assert not pipeline.unchanged_since_last_run(settings, inputs)

    again = cli.invoke(main, ["run"], env=env)
    assert again.exit_code == 0, again.output
    assert SKIPPED not in again.output and _runs(env) == 2
    said = " ".join(again.output.split())
    assert said.count(".wal 日志") == 1 and "stale-wal-" in said  # where the session's writes went, said once
    assert not wal.exists()
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM staging.key_projects").fetchone()[0] == 2
    kept = sorted(settings.work_warehouse.parent.glob("stale-wal-*.duckdb"))
    assert len(kept) == 1
    # named in Beijing time, as every time the pipeline writes, whatever the machine's zone
    named = datetime.strptime(kept[0].name[len("stale-wal-"):][:15], "%Y%m%dT%H%M%S")
    assert abs(datetime.now(BEIJING).replace(tzinfo=None) - named) < timedelta(minutes=5)
    with duckdb.connect(str(kept[0]), read_only=True) as conn:  # the session's writes are not lost
        assert conn.execute("SELECT count(*) FROM staging.key_projects").fetchone()[0] == 0
    assert pipeline.unchanged_since_last_run(settings, inputs)


def test_the_note_on_a_wal_set_aside_names_the_copy_only_when_there_is_one(tmp_path):
    from shouyang_pipeline.warehouse.publish import stale_wal_note

    kept = tmp_path / "stale-wal-20231204T090000.duckdb.wal"
    kept.write_bytes(b"")
    assert "不能建立硬链接，只保留了日志本身" in stale_wal_note(kept)
    (tmp_path / "stale-wal-20231204T090000.duckdb").write_bytes(b"")
    said = stale_wal_note(kept)
    assert f"打开同目录的 {tmp_path / 'stale-wal-20231204T090000.duckdb'} 可看到" in said and "硬链接" not in said


def test_a_run_refused_for_a_read_write_session_says_that_nothing_ran(settings, tmp_path):
    _write(settings, "2023-04")
    env = {**_env(settings, tmp_path), "SHOUYANG_NOW": "2023-06-20 09:00"}
    Path(env["DAGSTER_HOME"]).mkdir()
    cli = CliRunner()
    assert cli.invoke(main, ["run"], env=env).exit_code == 0
    work = settings.work_warehouse.read_bytes()
    _write(settings, "2023-04", ytd=175)  # a correction
    analyst, seen = hold(settings.warehouse, "rw", "SELECT count(*) FROM staging.key_projects")
    try:
        assert seen == "1"
        refused = cli.invoke(main, ["run"], env=env)
        said = "".join(refused.output.split())
        assert refused.exit_code == 2, refused.output
        assert f"进程号{analyst.pid}" in said and "本次运行没有开始，什么都没有改动" in said
        assert "保存在工作文件" not in said and "会话关闭后重新运行即可" in said
        assert settings.work_warehouse.read_bytes() == work and _runs(env) == 1  # nothing ran indeed
    finally:
        release(analyst)
    assert cli.invoke(main, ["run"], env=env).exit_code == 0
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT sum(ytd_investment) FROM staging.key_projects").fetchone()[0] == 175


def test_a_publish_without_its_staged_exports_leaves_the_months_to_the_next_run(settings, tmp_path):
    _write(settings, "2023-04")
    env = {**_env(settings, tmp_path), "SHOUYANG_NOW": "2023-06-20 09:00"}
    Path(env["DAGSTER_HOME"]).mkdir()
    assert CliRunner().invoke(main, ["run"], env=env).exit_code == 0
    pipeline.mark_unpublished(settings, ["2023-04"])
    # the run's staging folder is gone (cleaned by someone) when its publish comes
    done = pipeline.publish(settings, settings.work_warehouse, "a-run-whose-stage-vanished")
    assert not done.stage_found
    assert pipeline.unpublished_periods(settings) == {"2023-04"}


def test_every_input_of_a_run_is_in_its_digest(settings):
    path = _write(settings, "2023-04")
    clocked = replace(settings, clock=datetime(2023, 6, 20, 9, 0))

    def inputs(s=clocked) -> str:
        return pipeline.run_inputs(s, discover(s.raw_dir))

    before = inputs()
    assert inputs() == before
    path.write_bytes(path.read_bytes().replace(b"100", b"101"))
    changed = inputs()
    assert changed != before
    (settings.raw_dir / "notes").mkdir()
    (settings.raw_dir / "notes" / "说明.txt").write_text("不是报送文件", encoding="utf-8")  # fits no dataset
    assert inputs() != changed
    changed = inputs()
    (settings.raw_dir / "收文登记.csv").write_text("文件,收到时间\n", encoding="utf-8")
    assert inputs() != changed
    changed = inputs()
    (settings.raw_dir / "收文登记.csv").rename(settings.raw_dir / "收文登记.CSV")  # read in any case
    changed = inputs()
    (settings.raw_dir / "收文登记.CSV").write_text("文件,收到时间\nkey_projects/2023-04__发改局.csv,2023-05-04 10:00\n",
                                               encoding="utf-8")
    assert inputs() != changed
    changed = inputs()
    with open(settings.reference_dir / "townships.csv", "a", encoding="utf-8") as fh:
        fh.write("\n")
    assert inputs() != changed
    changed = inputs()
    assert inputs(replace(settings, clock=datetime(2023, 6, 20, 23, 59))) == changed  # the same day
    assert inputs(replace(settings, clock=datetime(2023, 6, 21, 0, 0))) != changed


def test_a_run_reads_each_file_once_to_hash_it(tmp_path, monkeypatch):
    """Inside `hashes_remembered` (a run's span) a file not changed since it was hashed there, and
    last written well before, is not read again; one written since is, even at the same size and
    modification time; outside it nothing is remembered."""
    import hashlib
    import os

    from shouyang_pipeline.ingest import discover as d

    read: list[str] = []
    real = hashlib.file_digest
    monkeypatch.setattr(hashlib, "file_digest", lambda fh, name: read.append(fh.name) or real(fh, name))
    path = tmp_path / "2023-05__发改局.csv"
    path.write_bytes(b"a,b\n1,2\n")
    first = d.file_sha256(path)
    assert d.file_sha256(path) == first and len(read) == 2  # outside: read every time
    with d.hashes_remembered():
        assert d.file_sha256(path) == first and len(read) == 3
        assert d.file_sha256(path) == first and len(read) == 4  # written just now: not remembered
        monkeypatch.setattr(d, "RACY_NS", 0)  # (as if written long before)
        assert d.file_sha256(path) == first and len(read) == 5
        assert d.file_sha256(path) == first and len(read) == 5
        with d.hashes_remembered():  # (nested: the same memory)
            assert d.file_sha256(path) == first and len(read) == 5
        stat = path.stat()
        path.write_bytes(b"a,b\n1,3\n")  # the same size, its modification time put back
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        second = d.file_sha256(path)
        assert second != first and len(read) == 6 and second == hashlib.sha256(b"a,b\n1,3\n").hexdigest()
        assert d.file_sha256(path) == second and len(read) == 6
    assert d.file_sha256(path) == second and len(read) == 7  # after: read again
    assert d.file_sha256(tmp_path / "missing.csv") is None


def test_a_file_rewritten_within_its_clocks_tick_is_hashed_again(tmp_path, monkeypatch):
    """On a filesystem whose times move in whole seconds (a network share's, an old kernel's tick),
    a file rewritten in place at the same size right after it was hashed keeps every time it had:
    it was written too recently to be remembered, so its new content is read."""
    import os

    from shouyang_pipeline.ingest import discover as d

    real_fstat = os.fstat

    def coarse(fd):
        st = real_fstat(fd)
        values = list(st)
        for i in (7, 8, 9):  # st_atime, st_mtime, st_ctime as whole seconds
            values[i] = int(values[i])
        extra = {name: getattr(st, name) // 10**9 * 10**9 for name in ("st_atime_ns", "st_mtime_ns", "st_ctime_ns")}
        return type("Stat", (), {**{n: getattr(st, n) for n in ("st_dev", "st_ino", "st_size")}, **extra})()

    monkeypatch.setattr(d.os, "fstat", coarse)
    path = tmp_path / "2023-05__发改局.csv"
    path.write_bytes(b"a,b\n1,2\n")
    with d.hashes_remembered():
        first = d.file_sha256(path)
        with open(path, "r+b") as fh:
            fh.write(b"a,b\n1,3\n")
        assert d.file_sha256(path) != first


def test_hashes_are_remembered_in_their_own_context_only(tmp_path, monkeypatch):
    """Another thread sees nothing of a run's memory, and spans that end out of order leave none
    behind (the memory is a context variable, not a module's global)."""
    import threading

    from shouyang_pipeline.ingest import discover as d

    monkeypatch.setattr(d, "RACY_NS", 0)
    seen = []
    with d.hashes_remembered():
        thread = threading.Thread(target=lambda: seen.append(d._remembered.get()))
        thread.start()
        thread.join()
        assert d._remembered.get() == {}
    assert seen == [None] and d._remembered.get() is None
