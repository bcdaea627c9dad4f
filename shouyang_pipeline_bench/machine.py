"""What the figures were measured on."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                   if line.startswith("MemTotal:")), 0)
    versions = {}
    for dist in ("duckdb", "dagster", "pandas", "pandera", "polars", "openpyxl", "python-calamine", "isal", "matplotlib",
                 "typst"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
    }


# A fixed piece of pure-Python work (about two seconds here: long enough to see a host that lets
# two processes run side by side in short bursts only), run by fresh interpreters.
_SPIN = "n = 0\nfor i in range({loops}): n += i\n"
SPIN_LOOPS = 25_000_000


def _spin(processes: int, loops: int) -> float:
    """Wall seconds for `processes` interpreters started at once, each doing the same work."""
    import subprocess
    import sys
    import time

    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-S", "-c", _SPIN.format(loops=loops)]) for _ in range(processes)]
    failed = [proc.args[0] for proc in procs if proc.wait() != 0]
    if failed:
        raise RuntimeError(f"{failed[0]} -S -c … exited with an error")
    return time.perf_counter() - started


def parallel_throughput(loops: int = SPIN_LOOPS) -> dict:
    """How much of two cores the machine gives two processes at this moment: the same work done by
    one process, then by two at once. `cores_effective` is 2 × one's
    time ÷ two's: 2.0 where two processes run truly side by side, 1.0 where they only take turns (a
    virtual machine whose host is busy). The pipeline's workers and DuckDB's threads gain only
    what this gives."""
    try:
        one, two = _spin(1, loops), _spin(2, loops)
    except (OSError, RuntimeError) as exc:  # the probe says so; the bench goes on
        return {"cores_effective": None, "error": f"{type(exc).__name__}: {exc}"}
    return {"one_process_s": round(one, 3), "two_processes_s": round(two, 3), "cores_effective": round(2 * one / two, 2)}
