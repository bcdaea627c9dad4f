"""Turn one file's grid into parsed data rows, skipped-row counts and the totals check."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..datasets import Dataset, Field
from ..reference import Reference
from .layout import ROW_KINDS, ColumnMap, Layout, classify_row, money_unit, split_header
from openpyxl.utils import get_column_letter

from .read import as_written, cell_name
from .values import EMPTY, Problem, is_empty, parse_number, parse_value

TOTALS_TOLERANCE = 0.01


@dataclass
class Issue:
    """One failing cell (or a whole-row problem when `column` is None)."""

    source_row: int
    source_cell: str | None
    column: str | None
    source_column: str | None
    value: str | None
    rule: str
    reason: str


@dataclass
class Row:
    file: "ParsedFile"
    number: int  # row number a person sees
    values: dict[str, object]  # canonical column -> parsed value (None when empty or dropped)
    cells: list[object] = field(default_factory=list, repr=False)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def is_rejected(self) -> bool:
        return bool(self.errors)

    @property
    def raw(self) -> dict[str, str | None]:
        """The original row: header as written (or the column letter) -> cell as written."""
        headers = self.file.layout.grid.rows[self.file.layout.header_row][1]
        raw = {}
        for idx, cell in enumerate(self.cells):
            header = headers[idx] if idx < len(headers) else None
            key = str(header).strip() if header is not None else get_column_letter(idx + 1)
            if header is not None or cell is not None:
                raw[key] = as_written(cell)
        return raw

    def raw_json(self) -> str:
        return json.dumps(self.raw, ensure_ascii=False)


@dataclass
class ParsedFile:
    rel_path: str
    layout: Layout
    rows: list[Row] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=lambda: {k: 0 for k in ROW_KINDS})
    totals_check: str | None = None
    totals_notes: list[str] = field(default_factory=list)

    def column_map(self, name: str) -> ColumnMap | None:
        return self.layout.column(name)


def display_name(cm: ColumnMap) -> str:
    """The column as the clerk headed it, without the unit: used inside reasons."""
    return split_header(cm.header)[0]


def issue(row_number: int, cm: ColumnMap | None, raw: object, rule: str, reason: str, **fmt) -> Issue:
    header = display_name(cm) if cm else ""
    written = as_written(raw)
    text = reason.format(header=header, value="" if written is None else written, **fmt)
    return Issue(
        source_row=row_number,
        source_cell=cell_name(row_number, cm.index) if cm else None,
        column=cm.field.name if cm else None,
        source_column=cm.header if cm else None,
        value=written,
        rule=rule,
        reason=text,
    )


def _required_reason(f: Field) -> str:
    hint = "（如为零请填0）" if f.kind in ("money", "integer", "percent") else ""
    return "{header}为必填项，不能为空" + hint


def parse_file(rel_path: str, layout: Layout, dataset: Dataset, reference: Reference) -> ParsedFile:
    pf = ParsedFile(rel_path, layout)
    grid = layout.grid
    after_footer = False
    # A column the file does not have reads as blank cells (NULL, or FALSE for a boolean).
    absent = {f.name: parse_value(f.kind, None) for f in dataset.all_fields if layout.column(f.name) is None}
    absent = {k: (None if v is EMPTY else v) for k, v in absent.items()}
    units = {cm.index: money_unit(layout, cm) if cm.field.kind == "money" else "万元" for cm in layout.columns}
    totals_rows: list[tuple[int, list[object]]] = []
    for number, cells in grid.rows[layout.header_row + 1:]:
        kind = classify_row(cells, after_footer)
        if kind is not None:
            pf.skipped[kind] += 1
            after_footer = after_footer or kind == "footer"
            if kind == "totals":
                totals_rows.append((number, cells))
            continue
        row = Row(pf, number, dict(absent), cells)
        for cm in layout.columns:
            f = cm.field
            value = cells[cm.index] if cm.index < len(cells) else None
            parsed = parse_value(
                f.kind, value,
                unit=units[cm.index],
                percent_formatted=(number, cm.index) in grid.percent_cells,
            )
            if parsed is EMPTY:
                row.values[f.name] = None
                if f.required:
                    row.errors.append(issue(number, cm, value, "required", _required_reason(f)))
            elif isinstance(parsed, Problem):
                row.values[f.name] = None
                target = row.errors if f.required else row.warnings
                target.append(issue(number, cm, value, parsed.rule, parsed.reason))
            else:
                row.values[f.name] = parsed
        pf.rows.append(row)
    _check_totals(pf, dataset, totals_rows)
    return pf


def _check_totals(pf: ParsedFile, dataset: Dataset, totals_rows: list[tuple[int, list[object]]]) -> None:
    """Compare each money column's 合计 with the sum of its readable cells over all data rows."""
    if not totals_rows or not pf.rows:
        return  # a file with no data rows is rejected for that; its 合计 says nothing more
    layout = pf.layout
    mismatch = False
    for number, cells in totals_rows:
        for cm in layout.columns:
            if cm.field.kind != "money" or cm.index >= len(cells) or is_empty(cells[cm.index]):
                continue  # a blank (or `-`) total is not checked
            stated = parse_number(cells[cm.index])
            unit = money_unit(layout, cm)
            if isinstance(stated, Problem):
                pf.totals_notes.append(
                    f"合计行{cell_name(number, cm.index)}（{display_name(cm)}）“{as_written(cells[cm.index])}”不是数字，未核对"
                )
                continue
            total, unreadable = 0.0, []
            for row in pf.rows:
                value = row.cells[cm.index] if cm.index < len(row.cells) else None
                if is_empty(value):
                    continue
                n = parse_number(value)
                if isinstance(n, Problem):
                    unreadable.append(f"{cell_name(row.number, cm.index)}“{as_written(value)}”")
                else:
                    total += n
            if abs(total - stated) > TOTALS_TOLERANCE + 1e-9:
                mismatch = True
                note = (f"合计行与明细不符：{display_name(cm)}合计为{_fmt(stated)}{unit}，"
                        f"明细行相加为{_fmt(total)}{unit}（第{number}行）")
                if unreadable:
                    note += "；未计入无法识别的单元格：" + "、".join(unreadable)
                pf.totals_notes.append(note)
    pf.totals_check = "mismatch" if mismatch else "ok"


def _fmt(x: float) -> str:
    return f"{x:,.4f}".rstrip("0").rstrip(".")
