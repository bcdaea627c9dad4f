"""`make bench`: the full `shouyang run` at 1x, 10x and 100x the bundled sample's rows, against bare DuckDB.

For each scale N (a multiple of the bundled sample's data rows):

1. **Generate** with the sample generator, `write_sample(raw, reference, scale=N)`: N times the
   projects, enterprises and villages, the same 91 files (CSV and XLSX in the sample's
   proportions, the same planted errors). At N >= 10 the generator also writes earlier years;
   only the sample's year is kept (unless `--all-years`), so the rows are N x the sample's and
   the periods the same 12.
2. **Full run**: `shouyang run` as a subprocess into a fresh warehouse, export dir, archive and
   DAGSTER_HOME under the out dir: wall time, peak RSS (see `timed`), rows per second.
3. **Baseline**: bare DuckDB (`baseline`) reads staging-shaped CSVs of exactly the rows the
   pipeline loaded and runs the same mart SQL once: its wall time and peak RSS, and the ratio.
4. **Incremental**: the newest month is withdrawn (its files moved aside, `shouyang run --period P`
   untimed), then dropped back in and `shouyang run --period P` is timed against the full warehouse.

Figures go to <out>/results.json and a table on stdout.
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

from .machine import machine

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE_ROWS_NOTE = ("rows = data rows the pipeline read (sum of rows_read over the current files in audit.ingest_log); "
                    "data.rows = the generator's own count of data rows written")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def shouyang_cmd() -> list[str]:
    script = Path(sys.executable).parent / "shouyang"
    return [str(script)] if script.exists() else [sys.executable, "-m", "shouyang_pipeline.cli"]


def timed(cmd: list[str], out_json: Path, *, env: dict | None = None, cwd: Path | None = None,
          log_file: Path | None = None) -> dict:
    """Run cmd under a fresh `timed` intermediary; return wall time and peak RSS."""
    full = [sys.executable, "-m", "shouyang_pipeline_bench.timed", str(out_json), "--", *cmd]
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
        if meta.get("all_years") == all_years:
            log(f"{scale}x: reusing {sdir / 'raw'} ({meta['rows']} rows)")
            return meta
    from shouyang_pipeline.sample import write_sample

    for d in ("raw", "reference"):
        shutil.rmtree(sdir / d, ignore_errors=True)
    (sdir / "reference").mkdir(parents=True)
    for f in (PROJECT / "data" / "reference").glob("*.csv"):
        shutil.copy2(f, sdir / "reference" / f.name)  # villages.csv is then rewritten at this scale
    t = time.perf_counter()
    summary = write_sample(sdir / "raw", sdir / "reference", scale=scale)
    gen_s = time.perf_counter() - t
    keep_year = max(summary["years"])
    kept = []
    for f in summary["files"]:
        if all_years or f["path"].split("/")[1].startswith(f"{keep_year}-"):
            kept.append(f)
        else:
            (sdir / "raw" / f["path"]).unlink()
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
        "scale": scale, "all_years": all_years, "generator_years": summary["years"],
        "years_kept": summary["years"] if all_years else [keep_year],
        "generate_s": round(gen_s, 1), "files": len(kept), "rows": sum(rows_by_dataset.values()),
        "rows_by_dataset": rows_by_dataset, "by_format": by_format, "villages": summary["villages"],
        "periods": sorted({f["path"].split("/")[1][:7] for f in kept}),
        "raw_bytes": sum((sdir / "raw" / f["path"]).stat().st_size for f in kept),
    }
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    log(f"{scale}x: generated {meta['files']} files, {meta['rows']} rows in {gen_s:.0f}s")
    return meta


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
    """Staging-shaped CSVs of exactly what the pipeline loaded, one per dataset and period."""
    import duckdb

    from shouyang_pipeline.warehouse.ddl import literal
    from shouyang_pipeline.catalog.tables import STAGING

    rows = {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for name, table in STAGING.items():
            (csv_dir / name).mkdir(parents=True, exist_ok=True)
            periods = [p for (p,) in conn.execute(f"SELECT DISTINCT period FROM {table.qualified}").fetchall()]
            for p in periods:
                conn.execute(f"COPY (SELECT * FROM {table.qualified} WHERE period = {literal(p)}) "
                             f"TO {literal(str(csv_dir / name / f'{p}.csv'))} (HEADER)")
            rows[name] = conn.execute(f"SELECT count(*) FROM {table.qualified}").fetchone()[0]
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
def bench_scale(scale: int, out: Path, *, all_years: bool, regenerate: bool, incremental: bool) -> dict:
    sdir = (out / f"scale_{scale}").resolve()
    sdir.mkdir(parents=True, exist_ok=True)
    data = generate(scale, sdir, all_years=all_years, regenerate=regenerate)
    home = fresh_state(sdir)
    env = pipeline_env(sdir, home)
    warehouse = Path(env["SHOUYANG_WAREHOUSE"])

    log(f"{scale}x: full run of {len(data['periods'])} periods ...")
    full = timed([*shouyang_cmd(), "run"], sdir / "full.json", env=env, cwd=sdir, log_file=sdir / "full.log")
    totals = ingest_totals(warehouse)
    full["rows_per_s"] = round(totals["rows_read"] / full["wall_s"], 1)
    full["ms_per_period"] = round(1000 * full["wall_s"] / len(data["periods"]))
    full["warehouse_mb"] = round(warehouse.stat().st_size / 2**20, 1)
    log(f"{scale}x: full run {full['wall_s']:.1f}s, peak {full['peak_rss_mb']:.0f} MB")

    staging_rows = export_staging(warehouse, sdir / "staging_csv")
    base = run_baseline(sdir, monthly=False)
    base["rows_per_s"] = round(totals["rows_read"] / base["wall_s"], 1)
    log(f"{scale}x: baseline {base['wall_s']:.2f}s, peak {base['peak_rss_mb']:.0f} MB")
    base_m = run_baseline(sdir, monthly=True)
    log(f"{scale}x: baseline, month by month {base_m['wall_s']:.2f}s, peak {base_m['peak_rss_mb']:.0f} MB")

    result = {"scale": scale, "data": data, "ingest": totals, "staging_rows": staging_rows,
              "full_run": full, "baseline": base, "baseline_monthly": base_m,
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
        log(f"{scale}x: withdrawing {period} ({len(new_files)} files), untimed ...")
        timed([*shouyang_cmd(), "run", "--period", period], sdir / "withdraw.json", env=env, cwd=sdir,
              log_file=sdir / "withdraw.log")
        for p in new_files:
            shutil.move(holdout / p.relative_to(sdir / "raw"), p)
        log(f"{scale}x: incremental run of {period} ...")
        inc = timed([*shouyang_cmd(), "run", "--period", period], sdir / "incremental.json", env=env,
                    cwd=sdir, log_file=sdir / "incremental.log")
        inc["period"] = period
        inc["files"] = len(new_files)
        inc["share_of_full"] = round(inc["wall_s"] / full["wall_s"], 3)
        result["incremental"] = inc
        log(f"{scale}x: incremental {inc['wall_s']:.1f}s = {100 * inc['share_of_full']:.1f}% of the full run")
    return result


# ------------------------------------------------------------------------------ report
def table(results: list[dict]) -> str:
    head = ["scale", "rows", "files x/c", "periods", "full s", "rows/s", "peak MB", "base s", "base MB",
            "ratio", "base-m s", "ratio-m", "incr s", "incr %"]
    lines = [head]
    for r in results:
        d, f, b, i = r["data"], r["full_run"], r["baseline"], r.get("incremental")
        fmt = d["by_format"]
        lines.append([
            f"{r['scale']}x", str(r["ingest"]["rows_read"]), f"{fmt.get('xlsx', {}).get('files', 0)}/{fmt.get('csv', {}).get('files', 0)}",
            str(len(d["periods"])), f"{f['wall_s']:.1f}", f"{f['rows_per_s']:.0f}", f"{f['peak_rss_mb']:.0f}",
            f"{b['wall_s']:.2f}", f"{b['peak_rss_mb']:.0f}", f"{r['ratio_full_to_baseline']:.1f}x",
            f"{r['baseline_monthly']['wall_s']:.2f}" if "baseline_monthly" in r else "-",
            f"{r['ratio_full_to_baseline_monthly']:.1f}x" if "baseline_monthly" in r else "-",
            f"{i['wall_s']:.1f}" if i else "-", f"{100 * i['share_of_full']:.1f}" if i else "-",
        ])
    widths = [max(len(row[c]) for row in lines) for c in range(len(head))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m shouyang_pipeline_bench", description=__doc__.split("\n")[0])
    ap.add_argument("--scales", default="1,10,100", help="comma-separated multiples of the sample's rows")
    ap.add_argument("--out", type=Path, default=Path("bench_out"))
    ap.add_argument("--all-years", action="store_true",
                    help="keep every year the generator writes (more periods) instead of the sample's year only")
    ap.add_argument("--regenerate", action="store_true", help="regenerate submissions even if the out dir has them")
    ap.add_argument("--no-incremental", dest="incremental", action="store_false")
    args = ap.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    report = {"measured_at": time.strftime("%Y-%m-%d %H:%M:%S %z"), "machine": machine(),
              "command": " ".join(["python -m shouyang_pipeline_bench", *(argv if argv is not None else sys.argv[1:])]),
              "rows_are": SAMPLE_ROWS_NOTE, "results": []}
    for scale in scales:
        report["results"].append(bench_scale(scale, args.out, all_years=args.all_years,
                                             regenerate=args.regenerate, incremental=args.incremental))
        results_path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print()
    print(table(report["results"]))
    print(f"\nfigures: {results_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
