"""A run's months written by worker processes (`pipeline.write_months_in_workers`) give the same
exports as written in the run's own process, and a worker that fails fails the step with the
month named."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from shouyang_pipeline import pipeline
from shouyang_pipeline.config import Settings
from shouyang_pipeline.errors import SetupError
from shouyang_pipeline.warehouse.publish import staging_dir

MONTHS = ["2023-10", "2023-12"]  # two months: the fewest the workers take, both with receipts


def _copy(settings: Settings, to: Path) -> Settings:
    """The sample's year as its run left it (raw dir, archive, warehouse and its work file, exports)."""
    for name in ("raw_dir", "archive_dir", "export_dir"):
        shutil.copytree(getattr(settings, name), to / name)
    shutil.copytree(settings.warehouse.parent, to / "warehouse")
    return Settings(to / "raw_dir", to / "warehouse" / settings.warehouse.name, to / "export_dir",
                    to / "archive_dir", settings.reference_dir, clock=settings.clock)


def _staged(settings: Settings, monkeypatch, workers: int, ahead=None, months=MONTHS, force=True):
    monkeypatch.setattr(pipeline, "export_workers", lambda months: min(workers, months))
    staged = pipeline.stage_exports_for(settings, settings.work_warehouse, lambda: pipeline.open_work(settings),
                                        months, "run-under-test", force=force, ahead=ahead)
    return staged, staging_dir(settings.export_dir)


def _cells(path: Path) -> dict:
    """Every sheet's cells (value and number format), its comments and fills."""
    wb = load_workbook(path)
    return {ws.title: [(c.coordinate, c.value, c.number_format, c.comment.text if c.comment else None,
                        c.fill.fgColor.rgb if c.fill and c.fill.fill_type else None)
                       for row in ws.iter_rows() for c in row if c.value is not None or c.comment]
            for ws in wb.worksheets}


def test_workers_write_what_one_process_writes(sample_year, tmp_path, monkeypatch):
    one = _copy(sample_year, tmp_path / "one")
    two = _copy(sample_year, tmp_path / "two")
    alone, alone_dir = _staged(one, monkeypatch, 1)
    # the workers a run starts ahead, while it reads its files (`ahead_export_workers`)
    ahead = pipeline.start_export_workers(2)
    shared, shared_dir = _staged(two, monkeypatch, 1, ahead=ahead)
    assert all(p.returncode is not None for p in ahead._procs)  # stopped once done

    rel = lambda paths, base: [p.relative_to(base).as_posix() for p in paths]  # noqa: E731
    assert rel(shared.written, two.export_dir) == rel(alone.written, one.export_dir)
    assert rel(shared.receipts, two.export_dir) == rel(alone.receipts, one.export_dir)
    assert shared.months_written == alone.months_written == MONTHS
    assert sorted(shared.to_delete) == sorted(alone.to_delete)
    assert shared.pdf_warnings == alone.pdf_warnings
    assert shared.briefings == alone.briefings and "2023年" in shared.briefings[max(shared.briefings)]
    names = rel(alone.written, one.export_dir)
    assert {f"briefing_{m}.md" for m in MONTHS} | {f"marts_{m}.xlsx" for m in MONTHS} <= set(names)
    assert any(n.startswith("receipts/2023-1") for n in names)
    for name in names:
        a, b = alone_dir / name, shared_dir / name
        if name.endswith((".md", ".html")):
            assert a.read_bytes() == b.read_bytes(), name
        elif name.endswith(".xlsx"):
            assert _cells(a) == _cells(b), name
    # the months' digests, taken beside the workers on a read-only connection, are those the run's
    # own process takes; each file's sha256, hashed by the worker that wrote it, is the file's
    from shouyang_pipeline.ingest.discover import file_sha256
    from shouyang_pipeline.warehouse.digests import read_export_digests

    # (no digests staged: those published are the run's, its files coming out the same bytes)
    kept_alone = read_export_digests(alone_dir) or read_export_digests(one.export_dir)
    kept_shared = read_export_digests(shared_dir) or read_export_digests(two.export_dir)
    assert sorted(kept_shared) == sorted(kept_alone) and set(MONTHS) <= set(kept_shared)
    for month, entry in kept_shared.items():
        assert entry["digest"] == kept_alone[month]["digest"], month
        assert sorted(entry["files"]) == sorted(kept_alone[month]["files"]), month
        if month in MONTHS:  # (the others were not written now: their files are published ones)
            assert entry["files"] == {n: file_sha256(shared_dir / n) for n in entry["files"]}, month


def test_a_failing_worker_fails_with_the_month_named(tmp_path):
    settings = Settings(tmp_path / "raw", tmp_path / "w" / "warehouse.duckdb", tmp_path / "exports",
                        tmp_path / "archive", tmp_path / "reference")
    (tmp_path / "stage").mkdir()
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()  # opens, but holds no mart
    with pytest.raises(RuntimeError) as caught:
        pipeline.write_months_in_workers(settings, tmp_path / "empty.duckdb", tmp_path / "stage",
                                         ["2023-01", "2023-02"], 2)
    text = str(caught.value)
    assert text.startswith("2023-01的分析用Excel工作簿未能写出：") and "CatalogException" in text
    assert "2023-02的分析用Excel工作簿未能写出：" in text  # each month's part, in order


def test_a_package_of_the_same_name_in_the_working_directory_is_not_what_workers_run(tmp_path, monkeypatch):
    """Workers run this very package, never one the directory the run started in happens to hold."""
    (tmp_path / "cwd" / "shouyang_pipeline").mkdir(parents=True)
    (tmp_path / "cwd" / "shouyang_pipeline" / "__init__.py").write_text("raise ImportError('another checkout')\n")
    monkeypatch.chdir(tmp_path / "cwd")
    settings = Settings(tmp_path / "raw", tmp_path / "w" / "warehouse.duckdb", tmp_path / "exports",
                        tmp_path / "archive", tmp_path / "reference")
    (tmp_path / "stage").mkdir()
    with pytest.raises(SetupError) as caught:  # this package's own words about the missing work file
        pipeline.write_months_in_workers(settings, tmp_path / "no-such.duckdb", tmp_path / "stage", ["2023-01"], 1)
    assert "no-such.duckdb" in str(caught.value) and "another checkout" not in str(caught.value.__cause__)


def test_workers_started_ahead_write_a_single_month_and_stop_when_nothing_is_written(sample_year, tmp_path,
                                                                                    monkeypatch):
    settings = _copy(sample_year, tmp_path / "copy")
    ahead = pipeline.start_export_workers(2)
    staged, stage = _staged(settings, monkeypatch, 1, ahead=ahead, months=["2023-12"])
    assert staged.months_written == ["2023-12"]
    assert {"briefing_2023-12.md", "marts_2023-12.xlsx"} <= {p.name for p in staged.written}
    assert all(p.returncode is not None for p in ahead._procs)
    # the month's exports are current (the copy's): the workers are stopped unused
    unused = pipeline.start_export_workers(2)
    staged, _ = _staged(_copy(sample_year, tmp_path / "again"), monkeypatch, 1, ahead=unused,
                        months=["2023-12"], force=False)
    assert staged.months_written == [] and staged.months_unchanged == ["2023-12"]
    assert all(p.returncode is not None for p in unused._procs)


def test_how_many_export_workers_a_run_starts_ahead():
    several = pipeline.export_workers(2)
    assert pipeline.ahead_export_workers(["2023-05"]) == 0  # a single month: written in the run
    assert pipeline.ahead_export_workers(["2023-05", "2023-06"]) == (several if several > 1 else 0)


def test_workers_started_ahead_are_stopped_when_the_run_ends_before_its_exports():
    import dagster as dg

    from shouyang_pipeline.defs.resources import WarehouseResource

    resource = WarehouseResource.from_settings(Settings(*(Path("/nonexistent") / n for n in Settings.PATHS)))
    ahead = pipeline.start_export_workers(1)
    resource.keep_export_workers(ahead)
    resource.teardown_after_execution(dg.build_init_resource_context())
    assert all(p.returncode is not None for p in ahead._procs)
    assert resource.take_export_workers() is None


def test_a_run_of_several_months_writes_them_with_the_workers_it_started_while_reading(settings, tmp_path,
                                                                                        monkeypatch):
    from click.testing import CliRunner

    from shouyang_pipeline.cli import main
    from shouyang_pipeline.defs import assets
    from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, write_csv
    from shouyang_pipeline_tests.test_cli import _env

    started, used = [], []
    real_write = pipeline.write_months_in_workers

    def start(workers):
        started.append(pipeline.start_export_workers(workers))
        return started[-1]

    def write(settings, work, stage_dir, months, workers, pool=None, meanwhile=None):
        used.append((months, pool))
        return real_write(settings, work, stage_dir, months, workers, pool=pool, meanwhile=meanwhile)

    monkeypatch.setattr(assets, "start_export_workers", start)
    monkeypatch.setattr(pipeline, "write_months_in_workers", write)
    for period in ("2023-02", "2023-03"):
        write_csv(settings.raw_dir / "key_projects" / f"{period}.csv", [KP_HEADER, kp_row("XM001")])
    result = CliRunner().invoke(main, ["run"], env=_env(settings, tmp_path))
    assert result.exit_code == 0, result.output
    if pipeline.export_workers(2) < 2:  # a single core: no workers at all
        assert started == [] and used == []
        return
    assert len(started) == 1 and used == [(["2023-02", "2023-03"], started[0])]
    assert all(p.returncode is not None for p in started[0]._procs)
    assert {"briefing_2023-02.md", "marts_2023-03.xlsx"} <= {p.name for p in settings.export_dir.iterdir()}


def test_a_run_without_the_exports_starts_no_export_workers(settings, monkeypatch):
    import dagster as dg

    from shouyang_pipeline.defs import assets, build_definitions
    from shouyang_pipeline.defs.partitions import add_months
    from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, write_csv

    started = []
    monkeypatch.setattr(assets, "start_export_workers", lambda workers: started.append(workers))
    for period in ("2023-02", "2023-03"):
        write_csv(settings.raw_dir / "key_projects" / f"{period}.csv", [KP_HEADER, kp_row("XM001")])
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, ["2023-02", "2023-03"])
    result = job.execute_in_process(
        instance=instance, asset_selection=[*assets.REFERENCE_KEYS, dg.AssetKey(["staging", "key_projects"])],
        tags={"dagster/asset_partition_range_start": "2023-02", "dagster/asset_partition_range_end": "2023-03"})
    assert result.success
    assert started == []


def test_export_workers_that_cannot_be_started_ahead_do_not_fail_the_run(settings, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from shouyang_pipeline.cli import main
    from shouyang_pipeline.defs import assets
    from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, write_csv
    from shouyang_pipeline_tests.test_cli import _env

    def refuse(workers):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(assets, "start_export_workers", refuse)
    for period in ("2023-02", "2023-03"):
        write_csv(settings.raw_dir / "key_projects" / f"{period}.csv", [KP_HEADER, kp_row("XM001")])
    result = CliRunner().invoke(main, ["run"], env=_env(settings, tmp_path))
    assert result.exit_code == 0, result.output
    assert {"briefing_2023-02.md", "marts_2023-03.xlsx"} <= {p.name for p in settings.export_dir.iterdir()}


def test_the_export_workers_ahead_are_started_once_whoever_asks_first(monkeypatch):
    """The reading workers done (a feeding thread) and the staging step's end both ask for the
    export workers: they are started once; one that cannot be started is kept as the error to say."""
    import threading

    from shouyang_pipeline.defs import assets

    kept = []

    class Warehouse:
        def keep_export_workers(self, pool):
            kept.append(pool)

    monkeypatch.setattr(assets, "start_export_workers", lambda workers: f"pool of {workers}")
    ahead = assets._ExportsAhead(Warehouse(), 2)
    threads = [threading.Thread(target=ahead.start) for _ in range(8)]
    for t in threads:
        t.start()
    ahead.start()
    for t in threads:
        t.join()
    assert kept == ["pool of 2"] and ahead.error is None

    none = assets._ExportsAhead(Warehouse(), 0)  # a run without exports, or of a single month
    none.start()
    assert kept == ["pool of 2"]

    def refuse(workers):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(assets, "start_export_workers", refuse)
    refused = assets._ExportsAhead(Warehouse(), 2)
    refused.start()
    refused.start()
    assert isinstance(refused.error, OSError) and kept == ["pool of 2"]

    # the staging step failed: none started from then on, and one being started by the reading's
    # thread is waited for, kept by the warehouse before the step's failure goes on (the run's end
    # stops what it keeps)
    starting, go_on = threading.Event(), threading.Event()

    def slow(workers):
        starting.set()
        go_on.wait(30)
        return "started by the reading's thread"

    monkeypatch.setattr(assets, "start_export_workers", slow)
    failing = assets._ExportsAhead(Warehouse(), 2)
    reading = threading.Thread(target=failing.start)
    reading.start()
    assert starting.wait(30)
    threading.Timer(0.2, go_on.set).start()
    failing.never()
    assert kept[-1] == "started by the reading's thread"
    failing.start()
    reading.join()
    assert kept.count("started by the reading's thread") == 1
    after = assets._ExportsAhead(Warehouse(), 2)
    after.never()
    after.start()
    assert len(kept) == 2
