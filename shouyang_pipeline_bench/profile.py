"""Where the time goes: `shouyang run` in-process under cProfile, summarised by room.

    python -m shouyang_pipeline_bench.profile [--scale 100] [--out bench_out] [--periods 2023-11,2023-12|all]

Uses the submissions the bench generated under <out>/scale_<N>/ (generating them if missing), a
fresh warehouse, archive, export dir and DAGSTER_HOME under <out>/profile_<N>/, and writes
profile.pstats, rooms.json and rooms.md there. Rooms are measured on call edges (a callee's
cumulative time under a given caller), so they do not overlap; "Dagster and the rest" is the
run's total minus the rooms. cProfile slows pure-Python code more than C code (DuckDB, hashing),
so Python-heavy rooms are somewhat overstated; the shares are what matters.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import time
from pathlib import Path

from .__main__ import fresh_state, generate, pipeline_env

PKG = "shouyang_pipeline/"

# room -> [(callee file suffix, callee function, caller file suffix or None, caller function or None)]
# A caller of None: the callee's whole cumulative time, wherever it is called from (each such
# callee is called from one place in a run). The ingest rooms are edges below ingest_period.
ROOMS: dict[str, list[tuple[str, str, str | None, str | None]]] = {
    "ingest: discover files": [(PKG + "ingest/discover.py", "discover", PKG + "ingest/period.py", "ingest_period")],
    "ingest: read bytes, sha256, archive copy": [(PKG + "ingest/discover.py", "take", PKG + "ingest/period.py", "_read_one")],
    "ingest: read cells (CSV decode / calamine / openpyxl)": [(PKG + "ingest/read.py", "read_grids", PKG + "ingest/period.py", "_read_one")],
    "ingest: read a big CSV's lines (csv_lines)": [(PKG + "ingest/read.py", "csv_lines", PKG + "ingest/period.py", "_read_one")],
    "ingest: read a big CSV's columns (Polars, in parse_lines)": [
        (PKG + "ingest/read.py", "text_columns", PKG + "ingest/parse.py", "parse_lines")],
    "ingest: layout (header)": [(PKG + "ingest/layout.py", "find_layout", PKG + "ingest/period.py", "_read_one")],
    "ingest: row kinds (layout.row_kinds, in parse_file and parse_lines)": [
        (PKG + "ingest/layout.py", "row_kinds", PKG + "ingest/parse.py", "parse_file"),
        (PKG + "ingest/layout.py", "row_kinds", PKG + "ingest/parse.py", "parse_lines"),
    ],
    "ingest: parse values, totals (parse_file and parse_lines less row kinds)": [
        (PKG + "ingest/parse.py", "parse_file", PKG + "ingest/period.py", "_read_one"),
        (PKG + "ingest/parse.py", "parse_lines", PKG + "ingest/period.py", "_read_one"),
    ],
    "ingest: validate (canonicalise, pandera, villages, duplicate keys)": [
        (PKG + "ingest/period.py", "_canonicalise", PKG + "ingest/period.py", "ingest_period"),
        (PKG + "ingest/period.py", "_apply_rules", PKG + "ingest/period.py", "ingest_period"),
        (PKG + "ingest/villages.py", "check_village", PKG + "ingest/period.py", "ingest_period"),
        (PKG + "ingest/period.py", "_reject_duplicate_keys", PKG + "ingest/period.py", "ingest_period"),
    ],
    "ingest: result frames (staging, rejected, log)": [
        (PKG + "ingest/period.py", "_staging_frame", PKG + "ingest/period.py", "ingest_period"),
        (PKG + "ingest/period.py", "_issue_frame", PKG + "ingest/period.py", "ingest_period"),
        (PKG + "ingest/period.py", "_log_row", PKG + "ingest/period.py", "<listcomp>"),
        (PKG + "ingest/period.py", "_log_row", PKG + "ingest/period.py", "ingest_period"),
    ],
    "ingest: reference look-ups (Reference.load)": [(PKG + "reference.py", "load", PKG + "pipeline.py", None)],
    "audit: unplaced files (re-discovers the raw dir)": [(PKG + "ingest/period.py", "unplaced_log", None, None)],
    "audit: cross-period flags": [(PKG + "pipeline.py", "cross_period_flags", None, None)],
    "warehouse: load (partition, reference, audit log)": [
        (PKG + "warehouse/load.py", "load_period", None, None),
        (PKG + "warehouse/load.py", "load_reference", None, None),
        (PKG + "warehouse/load.py", "load_unplaced", None, None),
        (PKG + "warehouse/ddl.py", "ensure_tables", PKG + "pipeline.py", None),
    ],
    "warehouse: connect/close per step": [(PKG + "defs/resources.py", "get_connection", None, None)],
    "marts: build (mart SQL)": [(PKG + "marts/build.py", "build_mart", None, None)],
    "exports: briefing (md/html, SVG charts)": [(PKG + "exports/briefing.py", "write_briefing", None, None)],
    "exports: briefing PDF": [(PKG + "exports/pdf.py", "write_pdf", None, None)],
    "exports: Excel workbook": [(PKG + "exports/workbook.py", "write_workbook", None, None)],
    "exports: receipts (回执, files read again)": [(PKG + "pipeline.py", "month_receipts", None, None)],
    "publish (warehouse copy + exports moved into place)": [(PKG + "pipeline.py", "publish", None, None)],
    "checks before the run (begin_run)": [(PKG + "pipeline.py", "begin_run", None, None)],
    "asset metadata (previews, markdown, row counts)": [
        (PKG + "defs/metadata.py", "preview", PKG + "defs/assets.py", None),
        (PKG + "defs/metadata.py", "previews", PKG + "defs/assets.py", None),
        (PKG + "defs/metadata.py", "markdown", PKG + "defs/assets.py", None),
        (PKG + "warehouse/queries.py", "rows_by_period", PKG + "defs/assets.py", None),
    ],
    "start-up: build_definitions": [(PKG + "defs/__init__.py", "build_definitions", None, None)],
}
# A room whose callee runs another room's: reported net of it.
NET_OF = {"ingest: parse values, totals (parse_file and parse_lines less row kinds)": [
    "ingest: row kinds (layout.row_kinds, in parse_file and parse_lines)",
    "ingest: read a big CSV's columns (Polars, in parse_lines)"]}


def _match(key: tuple, suffix: str | None, func: str | None) -> bool:
    filename, _, name = key
    return (suffix is None or filename.replace(os.sep, "/").endswith(suffix)) and (func is None or name == func)


def rooms(stats: pstats.Stats) -> tuple[float, dict[str, float]]:
    raw = stats.stats  # (file, line, func) -> (cc, nc, tt, ct, callers{caller: (cc, nc, tt, ct)})
    total = max((v[3] for k, v in raw.items() if _match(k, PKG + "cli.py", "run")), default=0.0)
    out = {}
    for room, edges in ROOMS.items():
        t = 0.0
        for callee_file, callee, caller_file, caller in edges:
            for key, (_, _, _, ct, callers) in raw.items():
                if not _match(key, callee_file, callee):
                    continue
                if caller_file is None and caller is None:
                    t += ct
                    continue
                for ckey, cval in callers.items():
                    if _match(ckey, caller_file, caller):
                        t += cval[3]
        out[room] = t
    for room, inner in NET_OF.items():
        out[room] -= sum(out[r] for r in inner)
    return total, out


def by_package(stats: pstats.Stats) -> dict[str, float]:
    """Self time by the package the code lives in (C calls of a package counted under it)."""
    out: dict[str, float] = {}
    for (filename, _, name), (_, _, tt, _, _) in stats.stats.items():
        path = filename.replace(os.sep, "/")
        if "site-packages/" in path:
            pkg = path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
        elif PKG in path:
            pkg = "shouyang_pipeline." + path.split(PKG, 1)[1].split("/", 1)[0].removesuffix(".py")
        elif filename == "~":
            pkg = ("duckdb (C)" if "duckdb" in name.lower() else "builtins/C: " + name.split(" of ")[-1].split("'")[1]
                   if " of '" in name else "builtins/C")
        else:
            pkg = "stdlib: " + Path(path).stem
        out[pkg] = out.get(pkg, 0.0) + tt
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m shouyang_pipeline_bench.profile")
    ap.add_argument("--scale", type=int, default=100)
    ap.add_argument("--out", type=Path, default=Path("bench_out"))
    ap.add_argument("--periods", default="last2", help="comma-separated periods, 'last2' or 'all'")
    args = ap.parse_args(argv)
    data = generate(args.scale, (args.out / f"scale_{args.scale}").resolve(), all_years=False, regenerate=False)
    src = (args.out / f"scale_{args.scale}").resolve()
    pdir = (args.out / f"profile_{args.scale}").resolve()
    pdir.mkdir(parents=True, exist_ok=True)
    home = fresh_state(pdir)
    env = pipeline_env(pdir, home)
    env["SHOUYANG_RAW_DIR"] = str(src / "raw")
    env["SHOUYANG_REFERENCE_DIR"] = str(src / "reference")
    os.environ.update(env)
    periods = (data["periods"] if args.periods == "all" else data["periods"][-2:] if args.periods == "last2"
               else args.periods.split(","))
    cli_args = ["run", *[a for p in periods for a in ("--period", p)]]

    from shouyang_pipeline import cli, pipeline

    # cProfile sees only this process: the files are read and the months written here, not by
    # the reading and export workers (the profile is of the work, not of how it is spread over
    # the cores).
    pipeline.ingest_workers = lambda dataset_periods, size: 0
    pipeline.export_workers = lambda months: 1
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    try:
        cli.main(cli_args, standalone_mode=False)
    finally:
        prof.disable()
    wall = time.perf_counter() - t0
    prof.dump_stats(str(pdir / "profile.pstats"))
    stats = pstats.Stats(prof)
    total, room_s = rooms(stats)
    rest = total - sum(room_s.values())
    table = {**room_s, "Dagster and the rest (execution, event log, storage, checks)": rest}
    packages = by_package(stats)
    report = {"scale": args.scale, "periods": periods, "wall_s_profiled": round(wall, 2),
              "run_total_s": round(total, 2), "rooms_s": {k: round(v, 2) for k, v in table.items()},
              "self_time_by_package_s": {k: round(v, 2) for k, v in list(packages.items())[:25]}}
    (pdir / "rooms.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    lines = [f"cProfile of `shouyang run` at {args.scale}x, periods {', '.join(periods)} "
             f"(fresh warehouse): {total:.1f} s profiled", "", "| room | s | % |", "| --- | ---: | ---: |"]
    for k, v in sorted(table.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {k} | {v:.1f} | {100 * v / total:.1f} |")
    lines += ["", "| self time by package | s | % |", "| --- | ---: | ---: |"]
    for k, v in list(packages.items())[:20]:
        lines.append(f"| {k} | {v:.1f} | {100 * v / total:.1f} |")
    lines += ["", "Top 30 functions by cumulative time:", "", "```"]
    import io

    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(60)
    lines += [buf.getvalue().split("\n\n", 2)[-1][:12000], "```"]
    (pdir / "rooms.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines[: 8 + len(table) + 24]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
