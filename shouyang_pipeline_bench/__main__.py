"""`make bench`: the full `shouyang run` at 1x, 10x, 100x and 1000x the bundled sample's rows, and on an independent shape, against bare DuckDB.

For each scale N (a multiple of the bundled sample's data rows):

1. **Generate** with the sample generator, `write_sample(raw, reference, scale=N, years=[2023])`:
   N times the projects, enterprises and faces (villages up to 999 a township), the same 131
   files (CSV and XLSX in the sample's proportions, the same planted errors), the sample's year
   only (unless `--all-years`), so every scale has the same 12 periods. From scale 200 on the
   datasets that grow are written as CSV (`generate.CSV_FROM_SCALE`): 1000x is 2.2 million rows.
2. **Full run**: `shouyang run` as a subprocess into a fresh warehouse, export dir, archive and
   DAGSTER_HOME under the out dir: wall time, peak RSS (see `timed`), rows per second.
3. **Second run**: `shouyang run` again with no file changed: its time against the first.
4. **Baseline**: bare DuckDB (`baseline`) reads staging-shaped CSVs of exactly the rows the
   pipeline loaded and runs the same mart SQL once (and month by month): wall time, peak RSS, ratio.
5. **Incremental**: the newest month is withdrawn (its files moved aside, `shouyang run --period P`
   untimed), then dropped back in and `shouyang run --period P` is timed against the full warehouse.

Then the **marginal cost per row**: the slope of the full run's wall time over rows read between
two scales, against the baseline's own slope (`marginal`). Figures go to <out>/results.json and
two tables on stdout.

`contract` among the scales (last by default) measures the same five steps on the
independent shape of BENCHMARKS.md instead of a multiple of the sample: contract-valid CSV only,
two years, 20,000 projects and 40,000 enterprises a month, written by `contract_csv` (a generator
that knows the contract and not the pipeline). It has no slope with the scales (another shape).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .machine import machine, parallel_throughput

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE_ROWS_NOTE = ("rows = data rows the pipeline read (sum of rows_read over the current files in audit.ingest_log); "
                    "data.rows = the generator's own count of data rows written")


# What `generate` writes; data generated under another layout is regenerated.
DATA_LAYOUT = "years-written-3"  # 3: formulas as Excel saves them (no fullCalcOnLoad)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def shouyang_cmd() -> list[str]:
    script = Path(sys.executable).parent / "shouyang"
    return [str(script)] if script.exists() else [sys.executable, "-m", "shouyang_pipeline.cli"]


def timed(cmd: list[str], out_json: Path, *, env: dict | None = None, cwd: Path | None = None,
          log_file: Path | None = None, timeline: Path | None = None) -> dict:
    """Run cmd under a fresh `timed` intermediary; return wall time and peak RSS (and write the
    RSS timeline to `timeline`)."""
    extra = ["--rss-timeline", str(timeline)] if timeline else []
    full = [sys.executable, "-m", "shouyang_pipeline_bench.timed", str(out_json), *extra, "--", *cmd]
    run_env = dict(os.environ if env is None else env)
    run_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), run_env.get("PYTHONPATH")]))
    with open(log_file or os.devnull, "w", encoding="utf-8") as out:
        rc = subprocess.call(full, env=run_env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    result = json.loads(out_json.read_text(encoding="utf-8"))
    if rc != 0 or result["returncode"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {result['returncode']}; see {log_file}")
    return result


# ------------------------------------------------------------------------------ data
def generate(scale: int, sdir: Path, *, all_years: bool, regenerate: bool) -> dict:
    """The submissions of one scale under sdir/raw, the reference lists under sdir/reference."""
    meta_path = sdir / "generated.json"
    if meta_path.exists() and not regenerate:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("all_years") == all_years and meta.get("layout") == DATA_LAYOUT:
            log(f"{scale}x: reusing {sdir / 'raw'} ({meta['rows']} rows)")
            return meta
    from shouyang_pipeline.sample import write_sample
    from shouyang_pipeline.sample.generate import years_for

    for d in ("raw", "reference"):
        shutil.rmtree(sdir / d, ignore_errors=True)
    (sdir / "reference").mkdir(parents=True)
    for f in (PROJECT / "data" / "reference").glob("*.csv"):
        shutil.copy2(f, sdir / "reference" / f.name)  # villages.csv is then rewritten at this scale
    t = time.perf_counter()
    # Only the sample's year is written unless --all-years: every scale then has the same periods.
    summary = write_sample(sdir / "raw", sdir / "reference", scale=scale,
                           years=None if all_years else [max(years_for(scale))])
    gen_s = time.perf_counter() - t
    kept = summary["files"]
    by_format: dict[str, dict[str, int]] = {}
    for f in kept:
        fmt = "xlsx" if f["format"] == "xlsx" else "csv"
        b = by_format.setdefault(fmt, {"files": 0, "rows": 0})
        b["files"] += 1
        b["rows"] += f["data_rows"]
    rows_by_dataset: dict[str, int] = {}
    for f in kept:
        rows_by_dataset[f["dataset"]] = rows_by_dataset.get(f["dataset"], 0) + f["data_rows"]
    meta = {
        "scale": scale, "all_years": all_years, "layout": DATA_LAYOUT, "years_kept": summary["years"],
        "generate_s": round(gen_s, 1), "files": len(kept), "rows": sum(rows_by_dataset.values()),
        "rows_by_dataset": rows_by_dataset, "by_format": by_format, "villages": summary["villages"],
        "periods": sorted({f["path"].split("/")[1][:7] for f in kept}),
        "raw_bytes": sum((sdir / "raw" / f["path"]).stat().st_size for f in kept),
    }
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    log(f"{scale}x: generated {meta['files']} files, {meta['rows']} rows in {gen_s:.0f}s")
    return meta


CONTRACT = "contract"  # the independent shape's name among the scales
CONTRACT_LAYOUT = "contract-csv-1"


def generate_contract(sdir: Path, *, regenerate: bool, options: tuple[str, ...] = ()) -> dict:
    """The independent shape's submissions under sdir/raw and reference lists under sdir/reference,
    written by `contract_csv` in a process of its own (its printed summary kept); `options`: its
    own (`--projects N`, …), for a smaller shape."""
    meta_path = sdir / "generated.json"
    if meta_path.exists() and not regenerate:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("layout") == CONTRACT_LAYOUT and meta.get("options", []) == list(options):
            log(f"{CONTRACT}: reusing {sdir / 'raw'} ({meta['rows']} rows)")
            return meta
    t = time.perf_counter()
    written = subprocess.run([sys.executable, "-m", "shouyang_pipeline_bench.contract_csv", str(sdir), *options],
                             cwd=PROJECT, check=True, capture_output=True, text=True)
    gen_s = time.perf_counter() - t
    summary = json.loads(written.stdout.strip().splitlines()[-1])
    files = sorted(p for p in (sdir / "raw").rglob("*.csv") if p.parent != sdir / "raw")
    meta = {
        "scale": CONTRACT, "layout": CONTRACT_LAYOUT, "options": list(options), "generate_s": round(gen_s, 1),
        "files": len(files),
        "rows": summary["total_rows"], "rows_by_dataset": summary["rows"],
        "by_format": {"csv": {"files": len(files), "rows": summary["total_rows"]}},
        "periods": sorted({p.name[:7] for p in files}), "raw_bytes": summary["bytes"],
    }
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    log(f"{CONTRACT}: generated {meta['files']} files, {meta['rows']} rows in {gen_s:.0f}s")
    return meta


def run_steps(home: Path, timeline: Path, started: float, wall_s: float) -> list[dict]:
    """Each step of the newest Dagster run under `home`: its wall time, the peak RSS sampled
    while it ran and the cores' worth of CPU all the run's processes used meanwhile (from
    `timeline`: 2.0 is both cores busy throughout on this machine), plus what came before the
    first step (interpreter, imports, checks) and after the last (the CLI's summary). The same
    run may hold a step twice (retries do not happen here): its times add up."""
    import sqlite3
    from datetime import datetime, timezone

    # only a run of this command (a `shouyang run` with nothing changed starts none)
    dbs = sorted((p for p in (home / "history" / "runs").glob("*.db")
                  if p.name != "index.db" and p.stat().st_mtime >= started),
                 key=lambda p: p.stat().st_mtime)
    if not dbs:
        return []
    with sqlite3.connect(dbs[-1]) as conn:
        events = conn.execute(
            "SELECT dagster_event_type, step_key, timestamp FROM event_logs WHERE dagster_event_type IN "
            "('STEP_START', 'STEP_SUCCESS', 'STEP_FAILURE') ORDER BY id").fetchall()
    samples = [tuple(map(float, line.split())) for line in timeline.read_text(encoding="ascii").splitlines()]

    def epoch(text: str) -> float:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()

    def peak(t0: float, t1: float) -> float:
        return max((mb for t, mb, _ in samples if t0 - 0.25 <= t <= t1 + 0.25), default=0.0)

    def cpu_at(when: float) -> float:
        """The CPU used by then: at the last sample before `when` (0 before the first)."""
        return max((cpu for t, _, cpu in samples if t <= when), default=0.0)

    spans: list[tuple[str, float, float]] = []
    open_at: dict[str, float] = {}
    for kind, step, ts in events:
        if kind == "STEP_START":
            open_at[step] = epoch(ts)
        elif step in open_at:
            spans.append((step, open_at.pop(step), epoch(ts)))
    if not spans:
        return []
    ended = started + wall_s
    steps = [{"step": "start-up (interpreter, imports, checks, Dagster run set-up)", "s": spans[0][1] - started,
              "peak_rss_mb": peak(started, spans[0][1]), "cpu_s": cpu_at(spans[0][1])}]
    by_step: dict[str, dict] = {}
    for step, t0, t1 in spans:
        entry = by_step.setdefault(step, {"step": step, "s": 0.0, "peak_rss_mb": 0.0, "cpu_s": 0.0})
        entry["s"] += t1 - t0
        entry["peak_rss_mb"] = max(entry["peak_rss_mb"], peak(t0, t1))
        entry["cpu_s"] += cpu_at(t1) - cpu_at(t0)
    steps += list(by_step.values())
    steps.append({"step": "after the last step (run summary)", "s": ended - spans[-1][2],
                  "peak_rss_mb": peak(spans[-1][2], ended), "cpu_s": (samples[-1][2] if samples else 0.0) - cpu_at(spans[-1][2])})
    return [{**e, "s": round(e["s"], 2), "peak_rss_mb": round(e["peak_rss_mb"]), "cpu_s": round(e["cpu_s"], 2),
             "cores": round(e["cpu_s"] / e["s"], 2) if e["s"] > 0.05 else None} for e in steps]


def pipeline_env(sdir: Path, home: Path) -> dict:
    env = dict(os.environ)
    env.update({
        "SHOUYANG_RAW_DIR": str(sdir / "raw"),
        "SHOUYANG_WAREHOUSE": str(sdir / "warehouse" / "warehouse.duckdb"),
        "SHOUYANG_EXPORT_DIR": str(sdir / "exports"),
        "SHOUYANG_ARCHIVE_DIR": str(sdir / "archive"),
        "SHOUYANG_REFERENCE_DIR": str(sdir / "reference"),
        "DAGSTER_HOME": str(home),
    })
    return env


def fresh_state(sdir: Path) -> Path:
    for d in ("warehouse", "exports", "archive", "dagster_home", "baseline", "baseline_monthly", "staging_csv",
              "holdout"):
        shutil.rmtree(sdir / d, ignore_errors=True)
    home = sdir / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy2(PROJECT / "dagster_instance.yaml", home / "dagster.yaml")
    return home


def export_staging(warehouse: Path, csv_dir: Path) -> dict[str, int]:
    """Staging-shaped CSVs of exactly what the pipeline loaded, one per dataset and period, and
    the audit tables as the run left them (the calendar's marts read audit.ingest_log and
    audit.cross_period_flags: a few hundred rows), one file each under csv_dir/audit/."""
    import duckdb

    from shouyang_pipeline.warehouse.ddl import literal
    from shouyang_pipeline.catalog.tables import AUDIT, STAGING

    rows = {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for name, table in STAGING.items():
            (csv_dir / name).mkdir(parents=True, exist_ok=True)
            periods = [p for (p,) in conn.execute(f"SELECT DISTINCT period FROM {table.qualified}").fetchall()]
            for p in periods:
                conn.execute(f"COPY (SELECT * FROM {table.qualified} WHERE period = {literal(p)}) "
                             f"TO {literal(str(csv_dir / name / f'{p}.csv'))} (HEADER)")
            rows[name] = conn.execute(f"SELECT count(*) FROM {table.qualified}").fetchone()[0]
        (csv_dir / "audit").mkdir(parents=True, exist_ok=True)
        for name, table in AUDIT.items():
            cols = ", ".join(f'"{c}"' for c in table.column_names)
            conn.execute(f"COPY (SELECT {cols} FROM {table.qualified}) "
                         f"TO {literal(str(csv_dir / 'audit' / f'{name}.csv'))} (HEADER)")
    return rows


def ingest_totals(warehouse: Path) -> dict:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as conn:
        read, loaded, rejected, files = conn.execute(
            "SELECT sum(rows_read), sum(rows_loaded), sum(rows_rejected), count(*) "
            "FROM audit.ingest_log WHERE is_current").fetchone()
    return {"rows_read": int(read or 0), "rows_loaded": int(loaded or 0),
            "rows_rejected": int(rejected or 0), "files": int(files)}


def run_baseline(sdir: Path, *, monthly: bool) -> dict:
    """Bare DuckDB over the staging-shaped CSVs (see `baseline`), in a fresh timed process."""
    name = "baseline_monthly" if monthly else "baseline"
    work = sdir / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    cmd = [sys.executable, "-m", "shouyang_pipeline_bench.baseline", str(sdir / "staging_csv"),
           str(sdir / "reference"), str(work / "baseline.duckdb"), str(work / "phases.json")]
    result = timed(cmd + (["--monthly"] if monthly else []), sdir / f"{name}.json", cwd=sdir,
                   log_file=sdir / f"{name}.log")
    result.update(json.loads((work / "phases.json").read_text(encoding="utf-8")))
    return result


# ------------------------------------------------------------------------------ one scale
def bench_scale(scale: int | str, out: Path, *, all_years: bool, regenerate: bool, incremental: bool) -> dict:
    """The five steps at one scale of the sample, or on the independent shape (`CONTRACT`)."""
    sdir = (out / (CONTRACT if scale == CONTRACT else f"scale_{scale}")).resolve()
    sdir.mkdir(parents=True, exist_ok=True)
    data = (generate_contract(sdir, regenerate=regenerate) if scale == CONTRACT
            else generate(scale, sdir, all_years=all_years, regenerate=regenerate))
    name = label(scale)
    home = fresh_state(sdir)
    env = pipeline_env(sdir, home)
    warehouse = Path(env["SHOUYANG_WAREHOUSE"])

    cores = parallel_throughput()  # what the machine gives two processes now: its busy hours differ
    log(f"{name}: {cores['cores_effective'] or cores.get('error')} cores' worth for two processes; "
        f"full run of {len(data['periods'])} periods ...")
    started = time.time()
    full = timed([*shouyang_cmd(), "run"], sdir / "full.json", env=env, cwd=sdir, log_file=sdir / "full.log",
                 timeline=sdir / "full.rss")
    full["steps"] = run_steps(home, sdir / "full.rss", started, full["wall_s"])
    totals = ingest_totals(warehouse)
    full["rows_per_s"] = round(totals["rows_read"] / full["wall_s"], 1)
    full["ms_per_period"] = round(1000 * full["wall_s"] / len(data["periods"]))
    full["warehouse_mb"] = round(warehouse.stat().st_size / 2**20, 1)
    log(f"{name}: full run {full['wall_s']:.1f}s, peak {full['peak_rss_mb']:.0f} MB")

    log(f"{name}: second run, no file changed ...")
    started = time.time()
    again = timed([*shouyang_cmd(), "run"], sdir / "second.json", env=env, cwd=sdir, log_file=sdir / "second.log",
                  timeline=sdir / "second.rss")
    again["steps"] = run_steps(home, sdir / "second.rss", started, again["wall_s"])
    again["share_of_full"] = round(again["wall_s"] / full["wall_s"], 3)
    log(f"{name}: second run {again['wall_s']:.1f}s = {100 * again['share_of_full']:.1f}% of the first")

    staging_rows = export_staging(warehouse, sdir / "staging_csv")
    base = run_baseline(sdir, monthly=False)
    base["rows_per_s"] = round(totals["rows_read"] / base["wall_s"], 1)
    log(f"{name}: baseline {base['wall_s']:.2f}s, peak {base['peak_rss_mb']:.0f} MB")
    base_m = run_baseline(sdir, monthly=True)
    log(f"{name}: baseline, month by month {base_m['wall_s']:.2f}s, peak {base_m['peak_rss_mb']:.0f} MB")

    result = {"scale": scale, "data": data, "ingest": totals, "staging_rows": staging_rows,
              "parallel_before": cores, "parallel_after": parallel_throughput(),
              "full_run": full, "second_run": again, "baseline": base, "baseline_monthly": base_m,
              "ratio_full_to_baseline": round(full["wall_s"] / base["wall_s"], 1),
              "ratio_full_to_baseline_monthly": round(full["wall_s"] / base_m["wall_s"], 1)}

    if incremental:
        period = data["periods"][-1]
        new_files = sorted(p for p in (sdir / "raw").rglob(f"{period}*") if p.is_file())
        holdout = sdir / "holdout"
        for p in new_files:
            dest = holdout / p.relative_to(sdir / "raw")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(p, dest)
        log(f"{name}: withdrawing {period} ({len(new_files)} files), untimed ...")
        timed([*shouyang_cmd(), "run", "--period", period], sdir / "withdraw.json", env=env, cwd=sdir,
              log_file=sdir / "withdraw.log")
        for p in new_files:
            shutil.move(holdout / p.relative_to(sdir / "raw"), p)
        log(f"{name}: incremental run of {period} ...")
        started = time.time()
        inc = timed([*shouyang_cmd(), "run", "--period", period], sdir / "incremental.json", env=env,
                    cwd=sdir, log_file=sdir / "incremental.log", timeline=sdir / "incremental.rss")
        inc["steps"] = run_steps(home, sdir / "incremental.rss", started, inc["wall_s"])
        inc["period"] = period
        inc["files"] = len(new_files)
        inc["share_of_full"] = round(inc["wall_s"] / full["wall_s"], 3)
        result["incremental"] = inc
        log(f"{name}: incremental {inc['wall_s']:.1f}s = {100 * inc['share_of_full']:.1f}% of the full run")
    return result


def label(scale: int | str) -> str:
    """`1000x` for a multiple of the sample, `contract` for the independent shape."""
    return scale if scale == CONTRACT else f"{scale}x"


# ------------------------------------------------------------------------------ report
def marginal(results: list[dict]) -> list[dict]:
    """The cost of one more row: the slope of wall time over rows read between two scales of the
    sample, of the full run and of the once baseline, and their ratio (the fixed costs drop out of
    a slope; the independent shape is another shape, so not on the line)."""
    out = []
    by_rows = sorted((r for r in results if r["scale"] != CONTRACT), key=lambda r: r["ingest"]["rows_read"])
    for a, b in zip(by_rows, by_rows[1:]):
        rows = b["ingest"]["rows_read"] - a["ingest"]["rows_read"]
        if rows <= 0:
            continue
        run_us = 1e6 * (b["full_run"]["wall_s"] - a["full_run"]["wall_s"]) / rows
        base_us = 1e6 * (b["baseline"]["wall_s"] - a["baseline"]["wall_s"]) / rows
        out.append({"from": f"{a['scale']}x", "to": f"{b['scale']}x", "rows": rows,
                    "run_us_per_row": round(run_us, 2), "baseline_us_per_row": round(base_us, 3),
                    "ratio": round(run_us / base_us, 1) if base_us > 0 else None})
    return out


def _render(lines: list[list[str]]) -> str:
    widths = [max(len(row[c]) for row in lines) for c in range(len(lines[0]))]
    return "\n".join("  ".join(cell.ljust(w) if c == 0 else cell.rjust(w) for c, (cell, w) in enumerate(zip(row, widths)))
                     for row in lines)


def table(results: list[dict]) -> str:
    head = ["scale", "rows", "files x/c", "periods", "full s", "rows/s", "peak MB", "base s", "base MB",
            "ratio", "base-m s", "ratio-m", "2nd s", "2nd %", "incr s", "incr %"]
    lines = [head]
    for r in results:
        d, f, b, i, a = r["data"], r["full_run"], r["baseline"], r.get("incremental"), r.get("second_run")
        fmt = d["by_format"]
        lines.append([
            label(r["scale"]), str(r["ingest"]["rows_read"]), f"{fmt.get('xlsx', {}).get('files', 0)}/{fmt.get('csv', {}).get('files', 0)}",
            str(len(d["periods"])), f"{f['wall_s']:.1f}", f"{f['rows_per_s']:.0f}", f"{f['peak_rss_mb']:.0f}",
            f"{b['wall_s']:.2f}", f"{b['peak_rss_mb']:.0f}", f"{r['ratio_full_to_baseline']:.1f}x",
            f"{r['baseline_monthly']['wall_s']:.2f}" if "baseline_monthly" in r else "-",
            f"{r['ratio_full_to_baseline_monthly']:.1f}x" if "baseline_monthly" in r else "-",
            f"{a['wall_s']:.1f}" if a else "-", f"{100 * a['share_of_full']:.1f}" if a else "-",
            f"{i['wall_s']:.1f}" if i else "-", f"{100 * i['share_of_full']:.1f}" if i else "-",
        ])
    out = _render(lines)
    big = max(results, key=lambda r: r["ingest"]["rows_read"])
    if big["full_run"].get("steps"):
        lines = [[f"{label(big['scale'])} full run: step", "s", "peak MB", "cores"]]
        for e in sorted(big["full_run"]["steps"], key=lambda e: -e["s"])[:12]:
            cores = e.get("cores")  # (None: too short to tell; missing in results of before it was measured)
            lines.append([e["step"], f"{e['s']:.1f}", str(e["peak_rss_mb"]), "-" if cores is None else f"{cores:.2f}"])
        out += "\n\n" + _render(lines)
    slopes = marginal(results)
    if slopes:
        lines = [["marginal", "rows", "run us/row", "baseline us/row", "ratio"]]
        for m in slopes:
            lines.append([f"{m['from']}->{m['to']}", str(m["rows"]), f"{m['run_us_per_row']:.2f}",
                          f"{m['baseline_us_per_row']:.3f}", f"{m['ratio']:.1f}x" if m["ratio"] else "-"])
        out += "\n\n" + _render(lines)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m shouyang_pipeline_bench", description=__doc__.split("\n")[0])
    ap.add_argument("--scales", default=f"1,10,100,1000,{CONTRACT}",
                    help=f"comma-separated multiples of the sample's rows, and `{CONTRACT}` for the independent shape")
    ap.add_argument("--out", type=Path, default=Path("bench_out"))
    ap.add_argument("--all-years", action="store_true",
                    help="keep every year the generator writes (more periods) instead of the sample's year only")
    ap.add_argument("--regenerate", action="store_true", help="regenerate submissions even if the out dir has them")
    ap.add_argument("--no-incremental", dest="incremental", action="store_false")
    args = ap.parse_args(argv)
    scales = [s.strip() if s.strip() == CONTRACT else int(s) for s in args.scales.split(",") if s.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    report = {"measured_at": time.strftime("%Y-%m-%d %H:%M:%S %z"), "machine": machine(),
              "command": " ".join(["python -m shouyang_pipeline_bench", *(argv if argv is not None else sys.argv[1:])]),
              "rows_are": SAMPLE_ROWS_NOTE, "results": []}
    for scale in scales:
        report["results"].append(bench_scale(scale, args.out, all_years=args.all_years,
                                             regenerate=args.regenerate, incremental=args.incremental))
        report["marginal"] = marginal(report["results"])
        results_path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print()
    print(table(report["results"]))
    print(f"\nfigures: {results_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
