"""The bare-DuckDB baseline: the same rows, the same mart SQL, no parsing, validation or Dagster.

    python -m shouyang_pipeline_bench.baseline CSV_DIR REFERENCE_DIR DATABASE OUT.json [--monthly]

CSV_DIR/<dataset>/<period>.csv are staging-shaped CSVs holding exactly the rows the pipeline
loaded (written by the bench from the pipeline's staging tables, one file per dataset and
period, XLSX-born rows included). This process: creates the staging tables from their
declarations, `read_csv`s every file into them, loads the reference lists with the pipeline's
own `load_reference`, loads the audit tables as the run left them (CSV_DIR/audit/<table>.csv:
the calendar's marts read audit.ingest_log and audit.cross_period_flags), and builds every mart
once with `marts.build.build_all` (the same SQL files, each mart whole, `track=False`: none of
the pipeline's digests of what each month was built from), into a fresh on-disk DuckDB file. Timed from interpreter start (the bench wraps it in
`timed`), so Python and duckdb start-up count, as they do for `shouyang run`.

With --monthly it loads month by month instead: for each period in order, load that period's
files and rebuild every mart whole over all periods loaded so far (12 mart builds for 12
periods), still with no parsing, validation, Dagster or publishing. (The pipeline rebuilds the
marts from the month whose inputs changed only, since 2026-12-05: this baseline stays as it was,
so that its figures compare with the earlier runs'.)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

T0 = time.perf_counter()


def main(argv: list[str]) -> int:
    monthly = "--monthly" in argv
    csv_dir, ref_dir, db, out = (Path(a) for a in argv if a != "--monthly")
    import duckdb

    from shouyang_pipeline.marts.build import build_all
    from shouyang_pipeline.warehouse.ddl import ensure_tables, ident, literal
    from shouyang_pipeline.warehouse.load import load_reference
    from shouyang_pipeline.catalog.tables import AUDIT, STAGING

    phases: dict[str, float] = {"import": time.perf_counter() - T0}
    db.unlink(missing_ok=True)
    conn = duckdb.connect(str(db))
    ensure_tables(conn, [*STAGING.values(), *AUDIT.values()])
    t = time.perf_counter()
    load_reference(conn, ref_dir)
    phases["reference"] = time.perf_counter() - t
    # The audit tables as the run left them (the calendar's marts read two of them): loaded once.
    t = time.perf_counter()
    for name, table in AUDIT.items():
        path = csv_dir / "audit" / f"{name}.csv"
        if path.exists():
            types = "{" + ", ".join(f"{literal(c.name)}: {literal(c.sql_type)}" for c in table.columns) + "}"
            cols = ", ".join(ident(c) for c in table.column_names)
            conn.execute(f"INSERT INTO {table.qualified} ({cols}) SELECT {cols} FROM read_csv("
                         f"{literal(str(path))}, header = true, columns = {types})")
    phases["audit"] = time.perf_counter() - t
    files = {name: sorted((csv_dir / name).glob("*.csv")) for name in STAGING}
    batches = ([sorted({f.stem for fs in files.values() for f in fs})] if not monthly
               else [[p] for p in sorted({f.stem for fs in files.values() for f in fs})])
    phases["read_csv"] = phases["marts"] = 0.0
    marts: dict = {}  # no period at all (a run that loaded nothing): no build
    for periods in batches:
        t = time.perf_counter()
        for name, table in STAGING.items():
            chosen = [f for f in files[name] if f.stem in periods]
            if not chosen:
                continue
            types = "{" + ", ".join(f"{literal(c.name)}: {literal(c.sql_type)}" for c in table.columns) + "}"
            cols = ", ".join(ident(c) for c in table.column_names)
            conn.execute(
                f"INSERT INTO {table.qualified} ({cols}) SELECT {cols} FROM read_csv("
                f"[{', '.join(literal(str(f)) for f in chosen)}], header = true, columns = {types})"
            )
        phases["read_csv"] += time.perf_counter() - t
        t = time.perf_counter()
        marts = build_all(conn, track=False)  # whole, as bare DuckDB would: no digests of the inputs
        phases["marts"] += time.perf_counter() - t
    rows = {name: conn.execute(f"SELECT count(*) FROM {table.qualified}").fetchone()[0]
            for name, table in STAGING.items()}
    conn.execute("CHECKPOINT")
    conn.close()
    phases["total_in_process"] = time.perf_counter() - T0
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"mode": "monthly" if monthly else "once", "mart_builds": len(batches),
                   "phases_s": {k: round(v, 3) for k, v in phases.items()}, "staging_rows": rows,
                   "mart_rows": marts}, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
