"""A py-spy profile of a whole run, summed by process and room (BENCHMARKS.md, Where the CPU goes).

    py-spy record --subprocesses --rate 50 --format raw -o profile.txt -- shouyang run
    python -m shouyang_pipeline_bench.rooms profile.txt [--rate 50] [--deepest]

py-spy is not in the lock (a profiler, not a dependency): install it in a venv of its own. Each
sample is given to the run's own process or to a kind of worker (reading or export, told by the
handler its command line names), and to the first room below whose mark is in its stack (a
function's samples include what it calls); `--deepest` lists instead the deepest frame of the
package in each stack, the function that was running.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict

# (room, a mark in the stack), the first that matches wins: the exports' parts before what they call
ROOMS = [
    ("exports: the analysts' workbook", "write_workbook"),
    ("exports: receipts", "_write_receipts_part"),
    ("exports: the PDF", "write_pdf"),
    ("exports: charts", "exports/charts.py"),
    ("exports: the briefing's sections", "briefing_context"),
    ("ingest: reading CSV", "read_csv"),
    ("ingest: reading CSV", "csv_lines"),  # a big CSV read in columns: its lines, then Polars' columns
    ("ingest: reading CSV", "text_columns"),
    ("ingest: reading XLSX", "read_xlsx"),
    ("ingest: parsing values, row kinds, totals", "parse_file"),
    ("ingest: parsing values, row kinds, totals", "parse_lines"),
    ("ingest: the rules", "ingest/validate.py"),
    ("ingest: the rest", "shouyang_pipeline/ingest/"),
    ("loading into DuckDB", "warehouse/load.py"),
    ("the marts", "build_all"),
    ("the cross-period flags", "marts/flags.py"),
    ("imports", "_find_and_load"),
]
_PROCESS = re.compile(r'process \d+:"([^"]*)"')


def process_kind(stack: str) -> str:
    """The run's own process, or the kind of worker (`workers.serve` names its handler)."""
    commands = _PROCESS.findall(stack)
    command = commands[-1] if commands else ""
    if "serve()" not in command:
        return "the run's own process"
    return "export workers" if "export_parts" in command else "reading workers" if "ingest_parts" in command else "workers"


def summarise(path: str, *, deepest: bool = False) -> dict[str, Counter]:
    """process kind -> room (or deepest frame) -> samples."""
    found: dict[str, Counter] = defaultdict(Counter)
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not count.isdigit():
                continue
            if deepest:
                frames = [f for f in stack.split(";") if "shouyang_pipeline/" in f]
                key = frames[-1] if frames else "(outside the package)"
            else:
                key = next((room for room, mark in ROOMS if mark in stack), "the rest")
            found[process_kind(stack)][key] += int(count)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", help="py-spy's raw output (--format raw)")
    parser.add_argument("--rate", type=float, default=50.0, help="the sampling rate it was recorded at")
    parser.add_argument("--deepest", action="store_true", help="the deepest frame of the package instead of rooms")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    found = summarise(args.profile, deepest=args.deepest)
    for kind, rooms in sorted(found.items(), key=lambda kv: -sum(kv[1].values())):
        print(f"{kind}: {sum(rooms.values()) / args.rate:.1f} s")
        for room, samples in rooms.most_common(args.top):
            print(f"  {samples / args.rate:7.1f} s  {room}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
