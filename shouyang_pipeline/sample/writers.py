"""Low-level writers for the sample submissions: one neutral sheet model, written as XLSX or CSV.

A sheet is a list of rows; a cell is ``None`` (empty), ``str``, ``int``/``float``, ``datetime.date``
(an Excel date cell; an ISO string in CSV), :class:`Formula` (a formula with its cached value) or
:class:`Pct` (a percent-formatted cell holding a fraction).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter

# xlsxwriter stores the creation time in docProps/core.xml: pin it so the bytes are reproducible.
FIXED_CREATED = datetime(2023, 1, 1)


@dataclass(frozen=True)
class Formula:
    expr: str
    value: float


@dataclass(frozen=True)
class Pct:
    """A percent-formatted Excel cell: ``Pct(0.095)`` shows as 9.5%."""

    fraction: float


@dataclass
class Sheet:
    name: str
    rows: list[list[Any]] = field(default_factory=list)
    # (first_row, first_col, last_row, last_col); the value is rows[first_row][first_col]
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    # row index -> style name ('title', 'unit', 'header', 'section', 'total', 'note')
    styles: dict[int, str] = field(default_factory=dict)
    widths: list[float] | None = None


def fmt_number(v: float | int) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    s = f"{v:.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, Formula):
        return fmt_number(v.value)
    if isinstance(v, Pct):
        return fmt_number(round(v.fraction * 100, 4)) + "%"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (int, float)):
        return fmt_number(v)
    return str(v)


def write_csv(path: Path, sheet: Sheet, encoding: str) -> None:
    """encoding: 'utf-8', 'utf-8-sig' (with BOM) or 'gbk'. Records end in CRLF like Excel's."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for row in sheet.rows:
        cells = [_csv_cell(v) for v in row]
        while cells and cells[-1] == "":
            cells.pop()
        w.writerow(cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))


def write_xlsx(path: Path, sheets: list[Sheet], *, constant_memory: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory})
    wb.set_properties({"created": FIXED_CREATED, "author": "寿阳县", "title": path.stem})
    # As Excel saves a workbook: its formulas' values computed (`Formula.value`), not to be computed
    # again on opening (xlsxwriter's `fullCalcOnLoad`, which says the stored values are not Excel's).
    wb.calc_on_load = False
    f_title = wb.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
    f_unit = wb.add_format({"font_size": 10})
    f_header = wb.add_format({"bold": True, "text_wrap": True, "align": "center", "valign": "vcenter",
                              "border": 1, "bg_color": "#D9E1F2"})
    f_section = wb.add_format({"bold": True, "align": "left"})
    f_total = wb.add_format({"bold": True, "num_format": "0.00"})
    f_money = wb.add_format({"num_format": "0.00"})
    f_date = wb.add_format({"num_format": "yyyy-mm-dd"})
    f_pct = wb.add_format({"num_format": "0.0%"})
    by_style = {"title": f_title, "unit": f_unit, "header": f_header, "section": f_section,
                "total": f_total, "note": None}

    for sheet in sheets:
        ws = wb.add_worksheet(sheet.name)
        if sheet.widths:
            for c, wdt in enumerate(sheet.widths):
                ws.set_column(c, c, wdt)
        merges_at: dict[int, list[tuple[int, int, int, int]]] = {}
        for m in sheet.merges:
            merges_at.setdefault(m[0], []).append(m)
        for r, row in enumerate(sheet.rows):
            style = by_style.get(sheet.styles.get(r, ""))
            merged_first = {(m[0], m[1]) for m in merges_at.get(r, [])}
            for c, v in enumerate(row):
                if v is None or (r, c) in merged_first:
                    continue
                if isinstance(v, Formula):
                    ws.write_formula(r, c, v.expr, style or f_money, v.value)
                elif isinstance(v, Pct):
                    ws.write_number(r, c, v.fraction, f_pct)
                elif isinstance(v, (datetime, date)):
                    dt = v if isinstance(v, datetime) else datetime(v.year, v.month, v.day)
                    ws.write_datetime(r, c, dt, f_date)
                elif isinstance(v, bool):
                    ws.write_string(r, c, "是" if v else "否", style)
                elif isinstance(v, (int, float)):
                    ws.write_number(r, c, v, style if style is f_total else (f_money if isinstance(v, float) else None))
                else:
                    ws.write_string(r, c, str(v), style)
            for m in merges_at.get(r, []):
                v = sheet.rows[m[0]][m[1]]
                # In constant_memory mode a format would make xlsxwriter write blanks into later rows
                # (and lose the rest of this row), so vertical merges go without one there.
                fmt = None if constant_memory and m[2] > m[0] else style
                ws.merge_range(m[0], m[1], m[2], m[3], v, fmt)
    wb.close()
