"""A reading worker's staging rows handed over as Parquet (`warehouse.load.write_parquet`) load
exactly what the frame itself loads, whatever the values: blanks, NaN, missing integers and
flags, dates, NUL and long texts, -0.0, a column of nothing but blanks."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd

from shouyang_pipeline.catalog.tables import STAGING, PeriodFrames
from shouyang_pipeline.warehouse.ddl import ensure_tables
from shouyang_pipeline.warehouse.load import _insert, write_parquet


def _frame(rows: int) -> pd.DataFrame:
    table = STAGING["key_projects"]
    texts = ["寿阳", None, "", "a\x00b", "长" * 40000, " 前后空格 ", "'; DROP TABLE x; --", "😀"]
    frame = pd.DataFrame({c.name: pd.Series([texts[i % len(texts)] for i in range(rows)], dtype=object)
                          for c in table.columns if c.sql_type == "VARCHAR"})
    frame["remarks"] = pd.Series([None] * rows, dtype=object)  # nothing but blanks: DuckDB's NULL type
    frame["total_investment"] = [[np.nan, -0.0, 99999999999.9999, 12.3456][i % 4] for i in range(rows)]
    frame["annual_plan_investment"] = np.nan
    frame["ytd_investment"] = [float(i) / 3 for i in range(rows)]
    frame["is_productive"] = pd.array([[True, None, False][i % 3] for i in range(rows)], dtype="boolean")
    frame["start_date"] = pd.Series([[date(2023, 1, 5), None][i % 2] for i in range(rows)], dtype=object)
    frame["source_row"] = pd.array([[i, None][i % 5 == 4] for i in range(rows)], dtype="Int64")
    return frame


def _loaded(path, source) -> list[tuple]:
    table = STAGING["key_projects"]
    with duckdb.connect(str(path)) as conn:
        ensure_tables(conn)
        _insert(conn, table, source)
        return conn.execute(f"SELECT * FROM {table.qualified}").fetchall()


def test_a_frame_loads_the_same_from_its_parquet_file(tmp_path):
    frame = _frame(3000)
    parquet = write_parquet(frame, tmp_path / "it's a 文件.parquet")  # a quote and CJK in the path
    from_frame, from_parquet = _loaded(tmp_path / "a.duckdb", frame), _loaded(tmp_path / "b.duckdb", parquet)
    assert len(from_frame) == 3000 and from_parquet == from_frame
    assert {r[1] for r in from_frame} >= {"寿阳", None, "", "a\x00b", "'; DROP TABLE x; --"}
    assert any(r[7] is None for r in from_frame) and any(r[11] is None for r in from_frame)


def test_released_frames_remove_their_parquet_file(tmp_path):
    frame = _frame(10)
    parquet = write_parquet(frame, tmp_path / "x.parquet")
    empty = pd.DataFrame()
    handed = PeriodFrames("key_projects", "2023-02", parquet, empty, empty, empty)
    handed.release()
    assert not parquet.exists()
    kept = PeriodFrames("key_projects", "2023-02", frame, empty, empty, empty)
    kept.release()  # a frame: nothing to remove
    assert kept.staging is frame
