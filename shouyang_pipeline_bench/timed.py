"""Run one command and record its wall time and peak resident memory.

    python -m shouyang_pipeline_bench.timed OUT.json [--rss-timeline FILE] -- CMD ARG...

This process is a fresh intermediary with exactly one child, so RUSAGE_CHILDREN's ru_maxrss
(a maximum over all waited-for children of the calling process) is the peak RSS of that one
command, and not of some earlier, bigger one.

With --rss-timeline, the resident memory of the command (and of any process it starts) is also
read from /proc every 0.2 s and written as `epoch_seconds rss_mb cpu_s` lines (`cpu_s`: the user
and system CPU the command and every process it started have used so far, each process's as last
read): the bench lines it up with the Dagster run's step events to say which step holds the peak,
and how many cores' worth each step kept busy. `peak_rss_mb` is then the
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


def _rss_kb(members: list[int]) -> int:
    """VmRSS of these processes together, in kB (0 for one gone)."""
    total = 0
    for member in members:
        try:
            with open(f"/proc/{member}/status", encoding="ascii", errors="replace") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError):
            pass
    return total


_TICKS = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """pid and its descendants (those alive)."""
    found = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                for child in f.read().split():
                    found += _tree(int(child))
    except (OSError, ValueError):
        pass
    return found


def _cpu_s(pid: int) -> float | None:
    """User and system CPU seconds of one process (its own, not its children's), None once gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15 of proc(5))


def _sample(pid: int, out: list[tuple[float, float, float]], stop: threading.Event) -> None:
    used: dict[int, float] = {}  # every process seen -> its CPU as last read (an ended one keeps its last)
    while not stop.is_set():
        members = _tree(pid)
        for member in members:
            if (cpu := _cpu_s(member)) is not None:
                used[member] = cpu
        out.append((time.time(), _rss_kb(members) / 1024, sum(used.values())))
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
            f.writelines(f"{t:.2f} {mb:.1f} {cpu:.2f}\n" for t, mb, cpu in samples)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    # ru_maxrss is the largest single process; a run that writes its months in worker processes
    # holds several at once, so the peak is the larger of it and the timeline's sum over the tree.
    largest = ru.ru_maxrss / 1024
    tree = max((mb for _, mb, _ in samples), default=0.0)
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"returncode": rc, "wall_s": round(wall, 3), "peak_rss_mb": round(max(largest, tree), 1),
                   "largest_process_rss_mb": round(largest, 1), "user_s": round(ru.ru_utime, 2),
                   "sys_s": round(ru.ru_stime, 2)}, f)
    return rc


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
