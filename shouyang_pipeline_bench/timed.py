"""Run one command and record its wall time and peak resident memory.

    python -m shouyang_pipeline_bench.timed OUT.json [--rss-timeline FILE] -- CMD ARG...

This process is a fresh intermediary with exactly one child, so RUSAGE_CHILDREN's ru_maxrss
(a maximum over all waited-for children of the calling process) is the peak RSS of that one
command, and not of some earlier, bigger one.

With --rss-timeline, the resident memory of the command (and of any process it starts) is also
read from /proc every 0.2 s and written as `epoch_seconds rss_mb` lines: the bench lines it up
with the Dagster run's step events to say which step holds the peak. `peak_rss_mb` is then the
larger of ru_maxrss and the timeline's peak (the run's export workers run beside it:
`largest_process_rss_mb` is ru_maxrss alone).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time

SAMPLE_EVERY_S = 0.2


def _rss_kb(pid: int) -> int:
    """VmRSS of pid and its descendants, in kB (0 once gone)."""
    total = 0
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                total += sum(_rss_kb(int(child)) for child in f.read().split())
    except (OSError, ValueError):
        pass
    return total


def _sample(pid: int, out: list[tuple[float, float]], stop: threading.Event) -> None:
    while not stop.is_set():
        out.append((time.time(), _rss_kb(pid) / 1024))
        stop.wait(SAMPLE_EVERY_S)


def main(argv: list[str]) -> int:
    out, *rest = argv
    timeline_path = None
    if rest[:1] == ["--rss-timeline"]:
        timeline_path, rest = rest[1], rest[2:]
    sep, *cmd = rest
    assert sep == "--" and cmd, "usage: timed OUT.json [--rss-timeline FILE] -- CMD ..."
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd)
    sampler = None
    if timeline_path:
        sampler = threading.Thread(target=_sample, args=(child.pid, samples, stop), daemon=True)
        sampler.start()
    rc = child.wait()
    wall = time.perf_counter() - t0
    stop.set()
    if sampler:
        sampler.join()
        with open(timeline_path, "w", encoding="ascii") as f:
            f.writelines(f"{t:.2f} {mb:.1f}\n" for t, mb in samples)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    # ru_maxrss is the largest single process; a run that writes its months in worker processes
    # holds several at once, so the peak is the larger of it and the timeline's sum over the tree.
    largest = ru.ru_maxrss / 1024
    tree = max((mb for _, mb in samples), default=0.0)
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"returncode": rc, "wall_s": round(wall, 3), "peak_rss_mb": round(max(largest, tree), 1),
                   "largest_process_rss_mb": round(largest, 1), "user_s": round(ru.ru_utime, 2),
                   "sys_s": round(ru.ru_stime, 2)}, f)
    return rc


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
