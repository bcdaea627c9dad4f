"""The bench's account of a run by step (`shouyang_pipeline_bench.__main__.run_steps`) and the
timeline it reads (`shouyang_pipeline_bench.timed`): each step's wall time, peak memory and the
cores' worth of CPU the run's processes used meanwhile, from a real timeline of a real command.
(What a run costs is measured by `make bench`, not here.)"""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import datetime, timezone

from shouyang_pipeline_bench import timed
from shouyang_pipeline_bench.__main__ import run_steps


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).replace(tzinfo=None).isoformat()


def _run_db(home, name: str, started: float, steps: list[tuple[str, float, float]]) -> None:
    """A Dagster run's event log under `home` holding the start and end of each step (seconds after `started`)."""
    runs = home / "history" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(runs / f"{name}.db") as conn:
        conn.execute("CREATE TABLE event_logs (id INTEGER PRIMARY KEY, dagster_event_type TEXT, step_key TEXT, "
                     "timestamp TEXT)")
        for step, t0, t1 in steps:
            for kind, t in (("STEP_START", t0), ("STEP_SUCCESS", t1)):
                conn.execute("INSERT INTO event_logs (dagster_event_type, step_key, timestamp) VALUES (?, ?, ?)",
                             [kind, step, _iso(started + t)])


def test_each_step_has_the_cores_its_processes_kept_busy(tmp_path):
    """Two steps, one with both cores busy and one idle, between a start-up and a summary."""
    started = 1_700_000_000.0
    timeline = tmp_path / "full.rss"
    # (seconds after the start, MB, CPU used so far): one core until 1 s, two until 3 s, none until 4 s
    points = [(0.0, 50, 0.0), (1.0, 80, 1.0), (2.0, 300, 3.0), (3.0, 400, 5.0), (4.0, 100, 5.0), (4.5, 90, 5.2)]
    timeline.write_text("".join(f"{started + t:.2f} {mb} {cpu}\n" for t, mb, cpu in points), encoding="ascii")
    _run_db(tmp_path, "run1", started, [("busy", 1.0, 3.0), ("idle", 3.0, 4.0)])
    # the command started a second before its timeline's first sample and ended 5.5 s after it
    steps = {s["step"]: s for s in run_steps(tmp_path, timeline, started - 1, 6.5)}
    assert list(steps) == ["start-up (interpreter, imports, checks, Dagster run set-up)", "busy", "idle",
                           "after the last step (run summary)"]
    start_up = steps["start-up (interpreter, imports, checks, Dagster run set-up)"]
    assert (start_up["s"], start_up["cpu_s"], start_up["cores"]) == (2.0, 1.0, 0.5)
    assert (steps["busy"]["s"], steps["busy"]["cpu_s"], steps["busy"]["cores"]) == (2.0, 4.0, 2.0)
    assert (steps["busy"]["peak_rss_mb"], steps["idle"]["cores"]) == (400, 0.0)
    assert steps["after the last step (run summary)"]["cpu_s"] == 0.2


def test_the_timeline_counts_the_cpu_of_every_process_the_command_started(tmp_path):
    """A command whose two children each spin on the CPU: the timeline's CPU grows past what one
    process could use in the time, and ends near what the command's children used in all."""
    spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass\n"
    script = tmp_path / "spin.py"
    script.write_text(spin)
    out, line = tmp_path / "o.json", tmp_path / "t.rss"
    code = (f"import subprocess, sys; ps = [subprocess.Popen([sys.executable, {str(script)!r}]) for _ in range(2)]; "
            "[p.wait() for p in ps]")
    assert timed.main([str(out), "--rss-timeline", str(line), "--", sys.executable, "-c", code]) == 0
    samples = [tuple(map(float, row.split())) for row in line.read_text(encoding="ascii").splitlines()]
    assert len(samples) >= 2 and all(len(s) == 3 for s in samples)
    cpus = [cpu for _, _, cpu in samples]
    assert cpus == sorted(cpus)  # what a process used stays counted once it has ended
    used = json.loads(out.read_text())
    assert 0.7 <= cpus[-1] <= used["user_s"] + used["sys_s"] + 0.05  # both spinners' 1.2 s, but the last 0.2 s unread
