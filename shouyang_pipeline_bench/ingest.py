"""Ingest alone, in-process: every dataset-period of a raw dir through `ingest_period`, timed.

    python -m shouyang_pipeline_bench.ingest RAW_DIR REFERENCE_DIR [--rooms] [--only key_projects/2023-12]
        [--profile OUT.pstats] [--dump OUT.pkl]
    python -m shouyang_pipeline_bench.ingest --compare A.pkl B.pkl

No warehouse, no Dagster, no archive copy (`archive=False`): the rooms this measures are read,
layout, parse, validate and the result frames, which is what column-wise parsing changes.
--rooms times each room by wrapping its function (no cProfile overhead). With --dump the frames
of every dataset-period (staging, rejected, warnings, log without its time columns) are
pickled, to compare two versions of the code cell for cell (--compare). Run a version of the
code from its own directory (`cd that/tree && python -m shouyang_pipeline_bench.ingest ...`):
the working directory comes first on sys.path.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pickle
import sys
import time
from pathlib import Path

# Columns that hold the time of the run or of the file on disk, not what was read.
TIME_COLUMNS = {"received_at", "loaded_at", "ingested_at", "checked_at", "run_at"}


# (module, function) timed as a room when --rooms is given: looked up as module globals at call
# time, so wrapping them times every call without cProfile's overhead. parse.row_kinds runs
# inside parse.parse_file and parse.parse_lines, parse.text_columns inside parse.parse_lines:
# the parse rooms below are net of them.
ROOMS = {
    "read cells (read_grids)": ("period", "read_grids"),
    "read lines, columnar (csv_lines)": ("period", "csv_lines"),
    "read columns, columnar (text_columns, inside parse_lines)": ("parse", "text_columns"),
    "layout: header (find_layout)": ("period", "find_layout"),
    "layout: row kinds (row_kinds, inside parse_file and parse_lines)": ("parse", "row_kinds"),
    "parse values, totals (parse_file and parse_lines less row kinds and text_columns)": ("period", "parse_file"),
    "validate: canonicalise": ("period", "_canonicalise"),
    "validate: rules (values_frame, pandera)": ("period", "_apply_rules"),
    "validate: duplicate keys": ("period", "_reject_duplicate_keys"),
    "result frames: staging": ("period", "_staging_frame"),
    "result frames: rejected, warnings": ("period", "_issue_frame"),
}
# Functions timed into a room above as well (the columnar reading's parse).
MORE_IN_ROOM = {("period", "parse_lines"): "parse values, totals (parse_file and parse_lines less row kinds and text_columns)"}


def _time_rooms() -> dict[str, float]:
    import functools

    from shouyang_pipeline.ingest import parse, period

    spent: dict[str, float] = {room: 0.0 for room in ROOMS}
    timed_rooms = [(room, place) for room, place in ROOMS.items()] + [(room, place) for place, room in MORE_IN_ROOM.items()]
    for room, (module, name) in timed_rooms:
        mod = {"period": period, "parse": parse}[module]
        fn = getattr(mod, name)

        @functools.wraps(fn)
        def timed(*args, _fn=fn, _room=room, **kwargs):
            t = time.perf_counter()
            try:
                return _fn(*args, **kwargs)
            finally:
                spent[_room] += time.perf_counter() - t

        setattr(mod, name, timed)
    return spent


def run(raw_dir: Path, reference_dir: Path, *, profile: Path | None = None, dump: Path | None = None,
        rooms: bool = False, only: list[str] | None = None) -> dict:
    from shouyang_pipeline.collector import collector_paused
    from shouyang_pipeline.pipeline import ingest_workers
    from shouyang_pipeline.config import Settings
    from shouyang_pipeline.ingest.discover import discover
    from shouyang_pipeline.ingest.period import ingest_period
    from shouyang_pipeline.reference import Reference

    spent = _time_rooms() if rooms else None

    settings = Settings(raw_dir=raw_dir, warehouse=Path("/nonexistent/w.duckdb"), export_dir=Path("/nonexistent"),
                        archive_dir=Path("/nonexistent"), reference_dir=reference_dir)
    reference = Reference.load(reference_dir)
    files = discover(raw_dir)
    groups: dict[tuple[str, str], list] = {}
    for f in files:
        if f.dataset_period is not None and (not only or "/".join(f.dataset_period) in only
                                             or f.dataset_period[0] in only):
            groups.setdefault(f.dataset_period, []).append(f)
    prof = cProfile.Profile() if profile else None
    frames = {}
    rows = 0
    t0, c0 = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    # As the run does each dataset-period: the collector held off until its rows are released,
    # then, as a reading worker (`pipeline.ingest_parts`, for runs of INGEST_WORKERS_FROM_BYTES
    # and more), one collection; the run's own process (`pipeline.ingest_and_load`) leaves it to
    # the collector's own time.
    size = sum(f.path.stat().st_size for fs in groups.values() for f in fs)
    collect = ingest_workers(len(groups), size) > 0
    for (dataset, period), fs in sorted(groups.items()):
        with collector_paused(collect_after=collect):
            result = ingest_period(settings, dataset, period, reference, fs, archive=False)
            rows += int(result.log["rows_read"].sum())
            if dump:
                frames[f"{dataset}/{period}"] = {
                    "staging": result.staging, "rejected": result.rejected, "warnings": result.warnings,
                    "log": result.log.drop(columns=[c for c in result.log.columns if c in TIME_COLUMNS]),
                }
            result.release()
            del result
    if prof:
        prof.disable()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if prof:
        prof.dump_stats(str(profile))
    if dump:
        with open(dump, "wb") as f:
            pickle.dump(frames, f)
    import resource

    out = {"dataset_periods": len(groups), "rows_read": rows, "ingest_s": round(wall, 2),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
           "cpu_s": round(cpu, 2), "us_per_row": round(1e6 * wall / max(rows, 1), 1),
           "cpu_us_per_row": round(1e6 * cpu / max(rows, 1), 1)}
    if spent is not None:
        parse_room = "parse values, totals (parse_file and parse_lines less row kinds and text_columns)"
        spent[parse_room] -= (spent["layout: row kinds (row_kinds, inside parse_file and parse_lines)"]
                              + spent["read columns, columnar (text_columns, inside parse_lines)"])
        spent["the rest (discover, archive, village checks, log)"] = wall - sum(spent.values())
        out["rooms_s"] = {k: round(v, 2) for k, v in spent.items()}
    return out


def compare(a: Path, b: Path) -> list[str]:
    """Differences between two dumps, frame by frame (empty: identical)."""
    import pandas as pd

    with open(a, "rb") as f:
        left = pickle.load(f)
    with open(b, "rb") as f:
        right = pickle.load(f)
    out = []
    if left.keys() != right.keys():
        out.append(f"dataset-periods differ: {sorted(left.keys() ^ right.keys())}")
    for key in sorted(left.keys() & right.keys()):
        for name, x in left[key].items():
            y = right[key][name]
            try:
                pd.testing.assert_frame_equal(x, y, check_exact=True)
            except AssertionError as exc:
                out.append(f"{key} {name}: {str(exc).splitlines()[0:6]}")
                continue
            # assert_frame_equal treats -0.0 and 0.0, and 1 and 1.0 in object columns, as equal: compare reprs too.
            if [list(map(repr, r)) for r in x.itertuples(index=False)] != \
                    [list(map(repr, r)) for r in y.itertuples(index=False)]:
                out.append(f"{key} {name}: values equal but reprs differ")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m shouyang_pipeline_bench.ingest")
    ap.add_argument("raw_dir", type=Path, nargs="?")
    ap.add_argument("reference_dir", type=Path, nargs="?")
    ap.add_argument("--profile", type=Path)
    ap.add_argument("--dump", type=Path)
    ap.add_argument("--rooms", action="store_true", help="time the rooms of ingest (no cProfile)")
    ap.add_argument("--only", help="comma-separated datasets or dataset/period keys (default: all)")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"))
    args = ap.parse_args(argv)
    if args.compare:
        diffs = compare(*args.compare)
        print("\n".join(diffs) if diffs else f"identical: {args.compare[0]} == {args.compare[1]}")
        return 1 if diffs else 0
    only = args.only.split(",") if args.only else None
    print(json.dumps(run(args.raw_dir, args.reference_dir, profile=args.profile, dump=args.dump, rooms=args.rooms,
                         only=only),
                     ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
