"""Read a submission's cells: CSV in UTF-8 or GB18030, XLSX with merges, formulas and percent formats.

A `Grid` is what every later step sees, whatever the format: rows of plain Python values
(str, int, float, datetime, bool or None) with the row number a person sees.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter


class FileProblem(Exception):
    """A problem that rejects the whole file; the message is Chinese, for the clerk."""


@dataclass
class Grid:
    sheet: str | None
    rows: list[tuple[int, list[object]]]  # (row number as Excel shows it / CSV record number, cells)
    percent_cells: set[tuple[int, int]] = field(default_factory=set)  # (row number, column index)
    merge_copies: set[tuple[int, int]] = field(default_factory=set)  # cells filled from a merge's top-left

    @property
    def width(self) -> int:
        return max((len(cells) for _, cells in self.rows), default=0)


def cell_name(row_number: int, col_index: int) -> str:
    """`I48` for column index 8 (0-based) of row 48."""
    return f"{get_column_letter(col_index + 1)}{row_number}"


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM) tried strictly first, then GB18030 (which covers GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem("文件编码无法识别：既不是UTF-8也不是GBK/GB18030，请在Excel中另存为“CSV UTF-8”")


def read_csv(data: bytes) -> list[Grid]:
    text = decode_csv(data)
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise FileProblem(f"CSV文件格式有误，无法读取：{exc}") from exc
    rows = [(i, [c if c != "" else None for c in rec]) for i, rec in enumerate(records, start=1)]
    return [Grid(sheet=None, rows=rows)]


def _sheet_grid(ws) -> Grid:
    max_row, max_col = ws.max_row, ws.max_column
    values: list[list[object]] = [[None] * max_col for _ in range(max_row)]
    percent: set[tuple[int, int]] = set()
    for row in ws.iter_rows(min_row=1, max_row=max_row, max_col=max_col):
        for cell in row:
            if cell.value is None:
                continue
            r, c = cell.row - 1, cell.column - 1
            values[r][c] = cell.value
            fmt = cell.number_format or ""
            if "%" in fmt and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                percent.add((cell.row, c))
    copies: set[tuple[int, int]] = set()
    for merged in ws.merged_cells.ranges:
        top = values[merged.min_row - 1][merged.min_col - 1]
        is_pct = (merged.min_row, merged.min_col - 1) in percent
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                if r - 1 < max_row and c - 1 < max_col:
                    values[r - 1][c - 1] = top
                    if (r, c) != (merged.min_row, merged.min_col):
                        copies.add((r, c - 1))
                    if is_pct:
                        percent.add((r, c - 1))
    rows = [(i + 1, cells) for i, cells in enumerate(values)]
    return Grid(sheet=ws.title, rows=rows, percent_cells=percent, merge_copies=copies)


def read_xlsx(data: bytes) -> list[Grid]:
    """Every worksheet, in order. Formula cells hold the value Excel last computed (or None)."""
    try:
        wb = load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise FileProblem(f"Excel文件已损坏或不是有效的.xlsx文件，无法打开（{type(exc).__name__}）") from exc
    try:
        return [_sheet_grid(ws) for ws in wb.worksheets]
    finally:
        wb.close()


def read_grids(data: bytes, suffix: str) -> list[Grid]:
    if suffix == ".csv":
        return read_csv(data)
    return read_xlsx(data)


def as_written(value: object) -> str | None:
    """The cell as a person would read it back: 1234.0 -> '1234', dates as YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    return str(value)
