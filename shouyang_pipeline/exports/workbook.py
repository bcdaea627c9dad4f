"""The marts of one period as an Excel workbook, for analysts who live in Excel.

`write_workbook(conn, period, export_dir)` writes `<export_dir>/marts_<period>.xlsx`: a 说明
sheet listing the sheets, then one sheet per mart with that period's rows. Headers are the
Chinese titles (with units) of the mart declarations in `catalog.marts`, money
and percentages are numbers with a fixed number of decimals, flags read 是/否.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import xlsxwriter

from ..catalog.marts import MARTS
from ..catalog.tables import Column, Table
from ..warehouse.ddl import ident

_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def header(column: Column) -> str:
    """The column's Chinese title with its unit: 总投资（亿元）."""
    return column.heading


def sheet_name(table: Table) -> str:
    return _INVALID_SHEET_CHARS.sub("_", table.title)[:31]


def _decimals(sql_type: str) -> int | None:
    m = re.fullmatch(r"DECIMAL\(\d+,(\d+)\)", sql_type)
    return int(m.group(1)) if m else None


def _converter(column: Column):
    """How a value of this column is written: flags as 是/否, decimals as numbers, text as text."""
    if column.sql_type == "BOOLEAN":
        return lambda v: "是" if v else "否"
    if column.sql_type.startswith("DECIMAL") or column.sql_type in ("DOUBLE", "INTEGER", "BIGINT"):
        return float
    if column.sql_type in ("DATE", "TIMESTAMP"):
        return lambda v: v
    return str


def _column_format(column: Column, num_fmts: dict, date_fmt):
    """The number format of a column (applied by xlsxwriter to every unformatted cell in it)."""
    d = _decimals(column.sql_type)
    if d is not None:
        return num_fmts[min(d, 4)]
    if column.sql_type in ("DATE", "TIMESTAMP"):
        return date_fmt
    return None


def write_workbook(conn: duckdb.DuckDBPyConnection, period: str, export_dir: str | Path) -> Path:
    """Write marts_<period>.xlsx (one sheet per mart, rows of that period); return its path."""
    export_dir = Path(export_dir)
    export_dir.mkdir(parents=True, exist_ok=True)
    path = export_dir / f"marts_{period}.xlsx"
    tmp = export_dir / f".marts_{period}.xlsx.tmp"

    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False,
                                        "strings_to_urls": False, "constant_memory": True})
    try:
        head = wb.add_format({"bold": True, "bg_color": "#EDF2F7", "border": 1, "text_wrap": True, "valign": "top"})
        title = wb.add_format({"bold": True, "font_size": 14})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        num_fmts = {d: wb.add_format({"num_format": "0" if d == 0 else "0." + "0" * d}) for d in range(0, 5)}

        about = wb.add_worksheet("说明")
        about.write(0, 0, f"寿阳县重点工作数据仓库 · 指标表（{period}）", title)
        about.write_row(2, 0, ["工作表", "数据表", "说明", "行数"], head)
        about.set_column(0, 0, 24)
        about.set_column(1, 1, 34)
        about.set_column(2, 2, 90, wrap)
        about.set_column(3, 3, 8)

        for i, (name, table) in enumerate(MARTS.items()):
            cols = table.columns
            sql = (f"SELECT {', '.join(ident(c.name) for c in cols)} FROM {table.qualified} "
                   "WHERE period = ?")
            data = conn.execute(sql, [period]).fetchall()
            sname = sheet_name(table)
            about.write_row(3 + i, 0, [sname, f"marts.{name}", table.comment, len(data)])

            ws = wb.add_worksheet(sname)
            ws.freeze_panes(1, 0)
            ws.set_row(0, 32)
            for j, c in enumerate(cols):
                ws.write(0, j, header(c), head)
                ws.write_comment(0, j, f"{c.name}（{c.sql_type}）\n{c.comment}", {"x_scale": 2, "y_scale": 1.5})
                width = max(8, min(40, len(header(c)) * 2 + 2))
                ws.set_column(j, j, width, _column_format(c, num_fmts, date_fmt))
            converters = [_converter(c) for c in cols]
            for r, row in enumerate(data, start=1):
                ws.write_row(r, 0, [None if v is None else conv(v) for conv, v in zip(converters, row)])
            if cols:
                ws.autofilter(0, 0, max(len(data), 1), len(cols) - 1)
    finally:
        wb.close()
    os.replace(tmp, path)
    return path
