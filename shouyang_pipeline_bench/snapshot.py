"""Compare two warehouses table by table: every staging and audit table, less its time columns.

    python -m shouyang_pipeline_bench.snapshot A.duckdb B.duckdb [--schemas staging,audit]

For proving that a change to ingest left its results alone: run the same raw dir into two fresh
warehouses with the code before and after, then compare. Columns of a time type (TIMESTAMP,
DATE columns are kept: they are data) and columns named in TIME_COLUMNS (the run's clock, a
file's modification time) are left out; every other column is compared as DuckDB holds it,
as a multiset of rows (EXCEPT ALL both ways) and by row count. Exit 1 on any difference.
"""

from __future__ import annotations

import argparse
import sys

TIME_COLUMNS = {"received_at", "loaded_at", "ingested_at", "checked_at", "run_at", "published_at", "run_id"}


def compare(a: str, b: str, schemas: list[str]) -> tuple[list[str], list[str]]:
    import duckdb

    conn = duckdb.connect()
    conn.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    conn.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    diffs, checked = [], []
    tables = {}
    for db in ("a", "b"):
        tables[db] = {(s, t) for s, t in conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name IN "
            f"({', '.join('?' for _ in schemas)})", [db, *schemas]).fetchall()}
    for missing in sorted(tables["a"] ^ tables["b"]):
        diffs.append(f"{missing[0]}.{missing[1]}: only in {'A' if missing in tables['a'] else 'B'}")
    for schema, table in sorted(tables["a"] & tables["b"]):
        cols = {db: conn.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
            "AND table_name = ? ORDER BY column_index", [db, schema, table]).fetchall() for db in ("a", "b")}
        if cols["a"] != cols["b"]:
            diffs.append(f"{schema}.{table}: columns differ: {cols['a']} / {cols['b']}")
            continue
        kept = [c for c, t in cols["a"] if c not in TIME_COLUMNS and not t.startswith("TIMESTAMP")]
        left_out = [c for c, _ in cols["a"] if c not in kept]
        select = ", ".join(f'"{c}"' for c in kept)
        n_a, n_b = (conn.execute(f'SELECT count(*) FROM {db}."{schema}"."{table}"').fetchone()[0] for db in ("a", "b"))
        only_a = conn.execute(f'SELECT count(*) FROM (SELECT {select} FROM a."{schema}"."{table}" EXCEPT ALL '
                              f'SELECT {select} FROM b."{schema}"."{table}")').fetchone()[0]
        only_b = conn.execute(f'SELECT count(*) FROM (SELECT {select} FROM b."{schema}"."{table}" EXCEPT ALL '
                              f'SELECT {select} FROM a."{schema}"."{table}")').fetchone()[0]
        checked.append(f"{schema}.{table}: {n_a} rows, {len(kept)} columns compared"
                       + (f" (left out: {', '.join(left_out)})" if left_out else ""))
        if n_a != n_b or only_a or only_b:
            diffs.append(f"{schema}.{table}: {n_a} / {n_b} rows, {only_a} only in A, {only_b} only in B")
    return diffs, checked


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m shouyang_pipeline_bench.snapshot")
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--schemas", default="staging,audit")
    args = ap.parse_args(argv)
    diffs, checked = compare(args.a, args.b, args.schemas.split(","))
    print("\n".join(checked))
    print("\n".join(diffs) if diffs else f"identical: {len(checked)} tables")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
