"""Run one command and record its wall time and peak resident memory.

    python -m shouyang_pipeline_bench.timed OUT.json -- CMD ARG...

This process is a fresh intermediary with exactly one child, so RUSAGE_CHILDREN's ru_maxrss
(a maximum over all waited-for children of the calling process) is the peak RSS of that one
command, and not of some earlier, bigger one.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    out, sep, *cmd = argv
    assert sep == "--" and cmd, "usage: timed OUT.json -- CMD ..."
    t0 = time.perf_counter()
    rc = subprocess.call(cmd)
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"returncode": rc, "wall_s": round(wall, 3), "peak_rss_mb": round(ru.ru_maxrss / 1024, 1),
                   "user_s": round(ru.ru_utime, 2), "sys_s": round(ru.ru_stime, 2)}, f)
    return rc


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
