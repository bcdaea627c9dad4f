"""The bench's probe of what the machine gives two processes (`shouyang_pipeline_bench.machine`):
its figures come from interpreters that did the work, and a probe that cannot run says why instead
of giving a figure. (What it measures is timed by `make bench`, not here.)"""

from __future__ import annotations

import sys

from shouyang_pipeline_bench import machine


def test_the_probe_gives_one_and_two_processes_times():
    found = machine.parallel_throughput(loops=1000)
    assert set(found) == {"one_process_s", "two_processes_s", "cores_effective"}
    assert found["one_process_s"] > 0 and found["two_processes_s"] > 0
    assert isinstance(found["cores_effective"], float) and found["cores_effective"] > 0


def test_a_probe_whose_interpreter_fails_gives_no_figure(monkeypatch, tmp_path):
    failing = tmp_path / "python"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(failing))
    assert machine.parallel_throughput(loops=1000) == {
        "cores_effective": None, "error": f"RuntimeError: {failing} -S -c … exited with an error"}
    monkeypatch.setattr(sys, "executable", str(tmp_path / "missing"))
    found = machine.parallel_throughput(loops=1000)
    assert found["cores_effective"] is None and found["error"].startswith("FileNotFoundError")
