"""A run's months written by worker processes (`pipeline.write_months_in_workers`) give the same
exports as written in the run's own process, and a worker that fails fails the step with the
month named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from shouyang_pipeline import pipeline
from shouyang_pipeline.config import Settings
from shouyang_pipeline.warehouse.publish import staging_dir

MONTHS = ["2023-10", "2023-12"]  # two months: the fewest the workers take, both with receipts


def _copy(settings: Settings, to: Path) -> Settings:
    """The sample's year as its run left it (raw dir, archive, warehouse and its work file, exports)."""
    for name in ("raw_dir", "archive_dir", "export_dir"):
        shutil.copytree(getattr(settings, name), to / name)
    shutil.copytree(settings.warehouse.parent, to / "warehouse")
    return Settings(to / "raw_dir", to / "warehouse" / settings.warehouse.name, to / "export_dir",
                    to / "archive_dir", settings.reference_dir, clock=settings.clock)


def _staged(settings: Settings, monkeypatch, workers: int):
    monkeypatch.setattr(pipeline, "export_workers", lambda months: min(workers, months))
    staged = pipeline.stage_exports_for(settings, settings.work_warehouse, lambda: pipeline.open_work(settings),
                                        MONTHS, "run-under-test", force=True)
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
    shared, shared_dir = _staged(two, monkeypatch, 2)

    rel = lambda paths, base: [p.relative_to(base).as_posix() for p in paths]  # noqa: E731
    assert rel(shared.written, two.export_dir) == rel(alone.written, one.export_dir)
    assert rel(shared.receipts, two.export_dir) == rel(alone.receipts, one.export_dir)
    assert shared.months_written == alone.months_written == MONTHS
    assert sorted(shared.to_delete) == sorted(alone.to_delete)
    assert shared.pdf_warnings == alone.pdf_warnings
    assert shared.latest_briefing == alone.latest_briefing and "2023年" in shared.latest_briefing
    names = rel(alone.written, one.export_dir)
    assert {f"briefing_{m}.md" for m in MONTHS} | {f"marts_{m}.xlsx" for m in MONTHS} <= set(names)
    assert any(n.startswith("receipts/2023-1") for n in names)
    for name in names:
        a, b = alone_dir / name, shared_dir / name
        if name.endswith((".md", ".html")):
            assert a.read_bytes() == b.read_bytes(), name
        elif name.endswith(".xlsx"):
            assert _cells(a) == _cells(b), name


def test_a_failing_worker_fails_with_the_month_named(tmp_path):
    settings = Settings(tmp_path / "raw", tmp_path / "w" / "warehouse.duckdb", tmp_path / "exports",
                        tmp_path / "archive", tmp_path / "reference")
    (tmp_path / "stage").mkdir()
    with pytest.raises(RuntimeError) as caught:
        pipeline.write_months_in_workers(settings, tmp_path / "no-such.duckdb", tmp_path / "stage",
                                         ["2023-01", "2023-02"], 2)
    text = str(caught.value)
    assert text.startswith("2023-01的分析用Excel工作簿未能写出：导出进程意外退出（退出码 1）")
    assert "no-such.duckdb" in text  # the worker's own error, from its stderr


def test_a_package_of_the_same_name_in_the_working_directory_is_not_what_workers_run(tmp_path, monkeypatch):
    """Workers run this very package, never one the directory the run started in happens to hold."""
    (tmp_path / "cwd" / "shouyang_pipeline").mkdir(parents=True)
    (tmp_path / "cwd" / "shouyang_pipeline" / "__init__.py").write_text("raise ImportError('another checkout')\n")
    monkeypatch.chdir(tmp_path / "cwd")
    settings = Settings(tmp_path / "raw", tmp_path / "w" / "warehouse.duckdb", tmp_path / "exports",
                        tmp_path / "archive", tmp_path / "reference")
    (tmp_path / "stage").mkdir()
    with pytest.raises(RuntimeError) as caught:
        pipeline.write_months_in_workers(settings, tmp_path / "no-such.duckdb", tmp_path / "stage", ["2023-01"], 1)
    assert "no-such.duckdb" in str(caught.value) and "another checkout" not in str(caught.value)
