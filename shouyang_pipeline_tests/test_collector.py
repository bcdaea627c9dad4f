"""The garbage collector held off while a dataset-period is read or a month's part written
(`collector.collector_paused`), and given back as it was, an error or not."""

from __future__ import annotations

import gc

import pytest

from shouyang_pipeline import pipeline
from shouyang_pipeline.collector import collector_paused


class _Cycle:
    def __init__(self):
        self.me = self


def test_paused_inside_given_back_after_even_on_error():
    assert gc.isenabled()
    with pytest.raises(ValueError):
        with collector_paused():
            assert not gc.isenabled()
            raise ValueError("a part that fails")
    assert gc.isenabled()


def test_only_the_outermost_gives_it_back():
    with collector_paused():
        with collector_paused(collect_after=True):
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a caller that held it off keeps it off
    finally:
        gc.enable()


def test_collect_after_frees_the_cycles_made_inside():
    import weakref

    gc.collect()
    with collector_paused(collect_after=True):
        made = weakref.ref(_Cycle())
        assert made() is not None  # a cycle: not freed while the collector is off
    assert made() is None
    with collector_paused():
        kept = weakref.ref(_Cycle())
    assert kept() is not None  # without collect_after, left to the collector's own time
    gc.collect()
    assert kept() is None


def test_each_part_of_a_month_is_written_with_the_collector_off(monkeypatch, tmp_path):
    seen = {}

    def part(name):
        def write(settings, conn, stage_dir, period):
            seen[name] = gc.isenabled()
            return pipeline.MonthExports(period, files=[name])
        return write

    monkeypatch.setattr(pipeline, "EXPORT_PARTS", {name: part(name) for name in pipeline.EXPORT_PARTS})
    done = pipeline.write_month_exports(None, None, tmp_path, "2023-03")
    assert seen == {name: False for name in pipeline.EXPORT_PARTS}
    assert done.files == list(pipeline.EXPORT_PARTS) and gc.isenabled()


def test_rows_read_by_the_run_are_loaded_and_released_with_the_collector_off(monkeypatch, settings, raw, tmp_path):
    import duckdb

    from shouyang_pipeline.warehouse.load import load_reference
    from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, write_csv

    write_csv(raw / "key_projects" / "2023-03__发改局.csv", [KP_HEADER, kp_row("XM001"), kp_row("XM002")])
    seen = []
    real_load, real_release = pipeline.load_period, pipeline.PeriodIngest.release

    def load(conn, result, **kwargs):
        seen.append(("load", gc.isenabled()))
        return real_load(conn, result, **kwargs)

    def release(self):
        seen.append(("release", gc.isenabled()))
        return real_release(self)

    monkeypatch.setattr(pipeline, "load_period", load)
    monkeypatch.setattr(pipeline.PeriodIngest, "release", release)
    with duckdb.connect(str(tmp_path / "t.duckdb")) as conn:
        load_reference(conn, settings.reference_dir)
        outcome = pipeline.ingest_and_load(settings, conn, "key_projects", ["2023-03"])
    assert seen == [("load", False), ("release", False)] and gc.isenabled()
    assert outcome.staging_rows == 2
