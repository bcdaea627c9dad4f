"""The garbage collector held off while a dataset-period is read or a month's part written
(`collector.collector_paused`), and given back as it was, an error or not; a process ended
without the interpreter's teardown, its exit functions run (`collector.exit_now`)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap

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


def test_collect_after_walks_only_what_was_made_inside():
    """The collection on leaving is of the youngest generation: it frees every cycle made inside
    however much was made (nothing is promoted while the collector is off), and does not walk the
    objects alive before, which earlier collections put in the older generations."""
    import weakref

    seen = []

    def record(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    gc.collect()
    gc.callbacks.append(record)
    try:
        with collector_paused(collect_after=True):
            made = weakref.ref(_Cycle())
            alive = [[i] for i in range(100_000)]  # far beyond the young generation's threshold
        assert made() is None and len(alive) == 100_000
    finally:
        gc.callbacks.remove(record)
    assert seen == [0]


def test_each_part_of_a_month_is_written_with_the_collector_off(monkeypatch, tmp_path):
    from shouyang_pipeline.exports import briefing, pdf, workbook

    seen = {}

    def spy(name, result):
        def write(*args, **kwargs):
            seen[name] = gc.isenabled()
            return result(*args)
        return write

    monkeypatch.setattr(briefing, "briefing_context", spy("sections", lambda conn, period: {"period": period}))
    monkeypatch.setattr(briefing, "write_briefing_text", spy("briefing", lambda ctx, d: (d / "b.md", d / "b.html")))
    monkeypatch.setattr(pdf, "write_pdf", spy("pdf", lambda ctx, path: pdf.PdfOutcome(path.with_name("b.pdf"))))
    monkeypatch.setattr(workbook, "write_workbook", spy("workbook", lambda conn, period, d: d / "w.xlsx"))
    done = pipeline.write_month_exports(None, None, tmp_path, "2023-03", ("briefing", "workbook"))
    assert seen == {"sections": False, "briefing": False, "pdf": False, "workbook": False} and gc.isenabled()
    assert done.files == ["b.md", "b.html", "b.pdf", "w.xlsx"]


def test_receipts_are_written_one_at_a_time_each_one_s_garbage_freed(monkeypatch, settings, tmp_path):
    """A month may need many receipts, each leaving tens of thousands of cyclic objects behind:
    they are freed receipt by receipt, not when the month is done."""
    import weakref

    from shouyang_pipeline.exports import receipts

    records = [receipts.FileRecord(f"key_projects/2023-03__单位{i}.csv", "key_projects", "2023-03", "rejected")
               for i in range(3)]
    assert all(r.needs_receipt for r in records)
    monkeypatch.setattr(receipts, "period_files", lambda conn, period: records)
    monkeypatch.setattr(pipeline, "receipt_of", lambda settings, record: record.file_path)
    left: list = []
    seen = []

    def write(receipt, path):
        seen.append((gc.isenabled(), [ref() is None for ref in left]))
        garbage = _Cycle()
        left.append(weakref.ref(garbage))
        path.write_bytes(b"receipt")
        return path

    monkeypatch.setattr(receipts, "write_receipt", write)
    gc.collect()
    written, _ = pipeline.month_receipts(settings, None, tmp_path, "2023-03")
    assert len(written) == 3
    assert seen == [(False, []), (False, [True]), (False, [True, True])]  # off, and the last one's freed
    assert gc.isenabled() and all(ref() is None for ref in left)


def test_a_receipt_s_rows_are_freed_before_the_collection_that_follows_it(monkeypatch, settings, tmp_path):
    """The collection after each receipt walks what is left of it (openpyxl's cycles), not the
    file's rows it held (a million objects for a city's file): the receipt is let go first."""
    import dataclasses
    import weakref

    from shouyang_pipeline.exports import receipts

    class Rows(list):  # (a list itself cannot be weakly referenced)
        pass

    records = [receipts.FileRecord(f"key_projects/2023-03__单位{i}.csv", "key_projects", "2023-03", "rejected")
               for i in range(2)]
    monkeypatch.setattr(receipts, "period_files", lambda conn, period: records)
    made: list = []

    def receipt_of(settings, record):  # a receipt holding their rows (a stand-in for their sheet)
        rows = Rows([[f"{record.file_path}:{i}"] for i in range(1000)])
        made.append(weakref.ref(rows))
        return dataclasses.replace(receipts.build_receipt(record, None, None), data=rows)

    def write(receipt, path):
        path.write_bytes(b"receipt")
        return path

    at_collection = []
    real_collect = gc.collect

    def collect(*args):
        at_collection.append([ref() is None for ref in made])
        return real_collect(*args)

    monkeypatch.setattr(pipeline, "receipt_of", receipt_of)
    monkeypatch.setattr(receipts, "write_receipt", write)
    monkeypatch.setattr(gc, "collect", collect)
    written, _ = pipeline.month_receipts(settings, None, tmp_path, "2023-03")
    assert len(written) == 2
    assert at_collection == [[True], [True, True]]


def test_rows_read_by_the_run_are_loaded_and_released_with_the_collector_off(monkeypatch, settings, raw, tmp_path):
    import duckdb

    from shouyang_pipeline.ingest.period import PeriodIngest
    from shouyang_pipeline.warehouse.load import load_reference
    from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, write_csv

    write_csv(raw / "key_projects" / "2023-03__发改局.csv", [KP_HEADER, kp_row("XM001"), kp_row("XM002")])
    seen = []
    real_load, real_release = pipeline.load_period, PeriodIngest.release

    def load(conn, result, **kwargs):
        seen.append(("load", gc.isenabled()))
        return real_load(conn, result, **kwargs)

    def release(self):
        seen.append(("release", gc.isenabled()))
        return real_release(self)

    monkeypatch.setattr(pipeline, "load_period", load)
    monkeypatch.setattr(PeriodIngest, "release", release)
    with duckdb.connect(str(tmp_path / "t.duckdb")) as conn:
        load_reference(conn, settings.reference_dir)
        outcome = pipeline.ingest_and_load(settings, conn, "key_projects", ["2023-03"])
    assert seen == [("load", False), ("release", False)] and gc.isenabled()
    assert outcome.staging_rows == 2


# ------------------------------------------------------------------------- the end of a process
# `exit_now` is tried in child processes: it ends the process it is called in.

def _child(code: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)


def test_exit_now_runs_the_exit_functions_and_flushes_the_output(tmp_path):
    """The code, everything printed (buffered, not flushed by the caller), the exit functions
    (a temporary folder's clean-up, an atexit function) all as at an ordinary exit."""
    done = _child("""
        import atexit, sys, tempfile
        from pathlib import Path
        from shouyang_pipeline.collector import exit_now
        kept = tempfile.TemporaryDirectory(dir=".")
        Path(kept.name, "part").write_text("x")
        atexit.register(lambda: Path("atexit-ran").write_text("yes"))
        print("out", end="")
        sys.stderr.write("err")
        exit_now(3)
        print("never")
    """, tmp_path)
    assert done.returncode == 3
    assert done.stdout == "out" and done.stderr == "err"
    assert (tmp_path / "atexit-ran").read_text() == "yes"
    assert [p.name for p in tmp_path.iterdir()] == ["atexit-ran"]  # the temporary folder removed


def test_exit_now_waits_for_a_thread_still_at_work(tmp_path):
    """A thread that is not a daemon still running: the usual exit, which waits for it."""
    done = _child("""
        import threading, time
        from pathlib import Path
        from shouyang_pipeline.collector import exit_now
        def work():
            time.sleep(0.5)
            Path("written-by-the-thread").write_text("done")
        threading.Thread(target=work).start()
        exit_now(4)
    """, tmp_path)
    assert done.returncode == 4
    assert (tmp_path / "written-by-the-thread").read_text() == "done"


def test_exit_now_exits_as_usual_under_a_profiler(tmp_path):
    """A profiler (or a debugger) writes what it found at the usual exit: there `exit_now` is
    `sys.exit`, which runs the caller's `finally` too; otherwise the process ends before it."""
    code = """
        import sys
        from shouyang_pipeline.collector import exit_now
        {setup}
        try:
            exit_now(5)
        finally:
            print("finally ran")
    """
    profiled = _child(code.format(setup="sys.setprofile(lambda *args: None)"), tmp_path)
    assert profiled.returncode == 5 and profiled.stdout == "finally ran\n"
    plain = _child(code.format(setup="pass"), tmp_path)
    assert plain.returncode == 5 and plain.stdout == ""


def test_the_command_line_ends_with_its_code_and_its_output(tmp_path):
    """`shouyang` as run from a shell: the version, a usage error (2, in Chinese) and a set-up
    error (2) end with their codes and every line they print."""
    env = {**os.environ, "SHOUYANG_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path / "dh")}

    def shouyang(*args):
        return subprocess.run([sys.executable, "-m", "shouyang_pipeline.cli", *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=300)

    version = shouyang("--version")
    assert version.returncode == 0 and version.stdout.startswith("shouyang ")
    usage = shouyang("run", "--no-such-option")
    assert usage.returncode == 2 and usage.stderr.startswith("错误：") and "--help" in usage.stderr
    setup = shouyang("run")  # no raw folder
    assert setup.returncode == 2 and "找不到参考名录目录" in setup.stdout
