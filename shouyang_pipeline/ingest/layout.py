"""Find the header row and tell data rows from title, totals, subtotal, section, footer and blank rows."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..datasets import Dataset, Field
from ..text import norm
from .read import FileProblem, Grid

HEADER_SEARCH_ROWS = 10
_UNIT_SUFFIX = re.compile(r"^(?P<name>.+?)\((?P<unit>元|万元|亿元|%|个|人|家|户)\)$")
_TITLE_UNIT = re.compile(r"单位[:：](万元|亿元|元)")
TOTALS = {"合计", "总计", "全县合计"}
FOOTERS = ("填表人", "填报人", "审核人", "负责人", "注:", "说明:")
# 一、… / （一）… / 第一类… / 1、…: the numbering of a heading (1.5 is a number, so "1." is not).
_SECTION = re.compile(r"^([一二三四五六七八九十百]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|第[一二三四五六七八九十\d]+[类部批项章节]|\d+、)")

ROW_KINDS = ("blank", "footer", "totals", "subtotal", "section")


def split_header(text: object) -> tuple[str, str | None]:
    """(normalised name, unit named in brackets at its end, if any). `总投资\n（亿元）` -> ('总投资', '亿元')."""
    name = norm(text)
    m = _UNIT_SUFFIX.match(name)
    if m:
        return m.group("name"), m.group("unit")
    return name, None


def header_lookup(dataset: Dataset) -> dict[str, Field]:
    """Every accepted spelling of every column, normalised; English ones compared case-insensitively."""
    table: dict[str, Field] = {}
    for f in dataset.all_fields:
        for spelling in (f.header, f.name, *f.aliases):
            table[norm(spelling).casefold()] = f
    return table


@dataclass
class ColumnMap:
    field: Field
    index: int
    header: str  # as headed in the file
    unit: str | None  # from the header, else the title row, else None


@dataclass
class Layout:
    grid: Grid
    header_row: int  # index into grid.rows
    columns: list[ColumnMap]
    ignored: list[str]
    title_unit: str | None

    def column(self, name: str) -> ColumnMap | None:
        return self._by_name.get(name)

    def __post_init__(self) -> None:
        self._by_name = {c.field.name: c for c in self.columns}


def _find_header(grid: Grid, lookup: dict[str, Field]) -> int | None:
    for i, (_, cells) in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
        hits = {lookup[key].name for key in (split_header(c)[0].casefold() for c in cells if c is not None) if key in lookup}
        if len(hits) >= 2:
            return i
    return None


def find_layout(grids: list[Grid], dataset: Dataset) -> Layout:
    """The first sheet with a header row; raises FileProblem when there is none or the header is bad."""
    lookup = header_lookup(dataset)
    for grid in grids:
        header_index = _find_header(grid, lookup)
        if header_index is None:
            continue
        title_unit = None
        for _, cells in grid.rows[:header_index]:
            for cell in cells:
                m = _TITLE_UNIT.search(norm(cell))
                if m and title_unit is None:
                    title_unit = m.group(1)
        columns: list[ColumnMap] = []
        ignored: list[str] = []
        seen: dict[str, ColumnMap] = {}
        header_number = grid.rows[header_index][0]
        for idx, cell in enumerate(grid.rows[header_index][1]):
            if cell is None or norm(cell) == "" or (header_number, idx) in grid.merge_copies:
                continue  # a header merged across columns names only its first column
            name, unit = split_header(cell)
            f = lookup.get(name.casefold())
            written = str(cell).strip()
            if f is None:
                ignored.append(written)
                continue
            if f.name in seen:
                raise FileProblem(
                    f"表头“{seen[f.name].header}”和“{written}”都对应“{f.header}”这一列，请删除其中一列后重新报送"
                )
            cm = ColumnMap(f, idx, written, unit)
            seen[f.name] = cm
            columns.append(cm)
        return Layout(grid, header_index, columns, ignored, title_unit)
    where = "任何工作表的" if len(grids) > 1 else ""
    expected = "、".join(f.header for f in dataset.fields if f.required)
    raise FileProblem(
        f"在{where}前{HEADER_SEARCH_ROWS}行中找不到表头行（至少两个单元格应为已知列名，如：{expected}），请使用{dataset.title}的模板"
    )


def money_unit(layout: Layout, cm: ColumnMap) -> str:
    if cm.unit in ("元", "万元", "亿元"):
        return cm.unit
    return layout.title_unit or "万元"


def classify_row(cells: list[object], after_footer: bool) -> str | None:
    """The kind of a non-data row, or None for a data row.

    Runs on every row: only text cells that could be a marker are normalised.
    """
    filled = [c for c in cells if c is not None and (not isinstance(c, str) or c.strip())]
    if not filled:
        return "blank"
    first = norm(filled[0])
    if after_footer or first.startswith(FOOTERS) or first.startswith(("注：", "说明：")):
        return "footer"
    if first in TOTALS:
        return "totals"
    if any(isinstance(c, str) and ("小" in c or "其" in c) and (norm(c) == "小计" or norm(c).startswith("其中"))
           for c in filled):
        return "subtotal"
    if _SECTION.match(first) and len({norm(c) for c in filled}) == 1:
        return "section"
    return None
