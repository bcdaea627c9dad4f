"""Read a submission's cells: CSV in UTF-8 or GB18030, XLSX with merges, formulas and percent formats.

A `Grid` is what every later step sees, whatever the format: rows of plain Python values
(str, int, float, datetime, bool or None) with the row number a person sees.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import load_workbook
from python_calamine import CalamineWorkbook
from openpyxl.utils import get_column_letter


class FileProblem(Exception):
    """A problem that rejects the whole file; the message is Chinese, for the clerk."""


@dataclass
class Grid:
    sheet: str | None
    rows: list[tuple[int, list[object]]]  # (row number as Excel shows it / CSV record number, cells)
    percent_cells: set[tuple[int, int]] = field(default_factory=set)  # (row number, column index)
    merge_copies: set[tuple[int, int]] = field(default_factory=set)  # cells filled from a merge's top-left


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


def _has_error_cells(data: bytes) -> bool:
    """Whether any worksheet stores an error value (`#DIV/0!`: a cell of type "e")."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return any(b't="e"' in zf.read(name) for name in zf.namelist()
                   if name.startswith("xl/worksheets/") and name.endswith(".xml"))


def _openpyxl_extras(data: bytes, *, percent: bool, errors: bool) -> list[tuple[set, dict]]:
    """Per worksheet, what calamine does not report: the numeric cells formatted as percentages,
    and error values (calamine reads `#DIV/0!` as empty). One streaming pass of openpyxl."""
    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        found = []
        for ws in wb.worksheets:
            pct, errs = set(), {}
            for row in ws.iter_rows():
                for cell in row:
                    value = getattr(cell, "value", None)
                    if value is None:
                        continue
                    if errors and cell.data_type == "e":
                        errs[(cell.row, cell.column - 1)] = value
                    elif (percent and isinstance(value, (int, float)) and not isinstance(value, bool)
                          and "%" in (cell.number_format or "")):
                        pct.add((cell.row, cell.column - 1))
            found.append((pct, errs))
        return found
    finally:
        wb.close()


def _sheet_grid(sheet, percent: set[tuple[int, int]], errors: dict[tuple[int, int], str]) -> Grid:
    values = [[None if v == "" else v for v in row] for row in sheet.to_python(skip_empty_area=False)]
    for (r, c), value in errors.items():
        if r - 1 < len(values) and c < len(values[r - 1]):
            values[r - 1][c] = value
    copies: set[tuple[int, int]] = set()
    for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or []:
        if r0 >= len(values):
            continue
        top = values[r0][c0] if c0 < len(values[r0]) else None
        is_pct = (r0 + 1, c0) in percent
        for r in range(r0, min(r1, len(values) - 1) + 1):
            for c in range(c0, min(c1, len(values[r]) - 1) + 1):
                values[r][c] = top
                if (r, c) != (r0, c0):
                    copies.add((r + 1, c))
                if is_pct:
                    percent.add((r + 1, c))
    rows = [(i + 1, cells) for i, cells in enumerate(values)]
    return Grid(sheet=sheet.name, rows=rows, percent_cells=percent, merge_copies=copies)


def read_xlsx(data: bytes, *, percent_formats: bool = True) -> list[Grid]:
    """Every worksheet, in order, read with python-calamine: merged cells expanded, formula cells
    as the value Excel last computed (empty when none is stored).

    Number formats and error values are not in calamine's reach: openpyxl streams the file once
    more when they matter, for datasets with percent columns or files that store an error value.
    """
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [book.get_sheet_by_index(i) for i in range(len(book.sheet_names))]
        errors = _has_error_cells(data)
        if percent_formats or errors:
            extras = _openpyxl_extras(data, percent=percent_formats, errors=errors)
        else:
            extras = [(set(), {}) for _ in sheets]
    except Exception as exc:  # the readers raise many types for a damaged file
        raise FileProblem(f"Excel文件已损坏或不是有效的.xlsx文件，无法打开（{type(exc).__name__}）") from exc
    return [_sheet_grid(sheet, pct, errs) for sheet, (pct, errs) in zip(sheets, extras)]


def read_grids(data: bytes, suffix: str, *, percent_formats: bool = True) -> list[Grid]:
    if suffix == ".csv":
        return read_csv(data)
    return read_xlsx(data, percent_formats=percent_formats)


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
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
