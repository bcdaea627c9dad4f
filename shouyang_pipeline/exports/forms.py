"""The form a department fills in next: `shouyang template DATASET --period P [--submitter S]`
(WAREHOUSE.md, "For the departments that send the files").

`write_template(settings, dataset, period, submitter, output)` writes an XLSX named as the file
should be named (`<P>__<S>.xlsx`, `<P>.xlsx` without a submitter) with three sheets:

- `填报说明`: written from the dataset's declaration: what the report is, the period, who sends
  it, how to name and send the file and by when (the reporting calendar, reference.submitters),
  what was pre-filled, that 备注 explains a figure that does not fit the previous period, then
  one line per column (header, other accepted headers, required or not, kind, unit, the rules'
  descriptions, the meaning).
- the data sheet (named by the dataset's title): the title row (`2023年1-5月重点项目进展情况表`),
  the `填报单位：…　　单位：万元` row, the declared headers with 备注 last, then the rows.
  Every column whose values come from a list has a drop-down (Excel data validation of type
  list): the `one_of` choices, the reference lists (chains, parks, townships, mines, the villages
  of the township), 是/否; numeric columns a number validation (whole numbers for counts, ≥ 0 or
  > 0 where a rule says so), dates a date validation (not after the period's end where a rule
  says so), codes a length validation; each column a prompt saying what to write. The header
  is frozen; the sheet prints on A4 landscape, one page wide, the header rows on every page.
- `下拉选项` (hidden), only when a list is too long to be written into the validation itself
  (Excel's limit: 255 characters) or holds a comma or a quotation mark: the list, referenced by
  range, under a first row naming each list `<列名>的可选值`. The ingest knows this sheet by its
  name and that first row (`ingest.layout.TEMPLATE_LIST_SHEET`, `TEMPLATE_LIST_MARK`) and does
  not tell the clerk it was not read; any other hidden sheet with content it names.

The rows are pre-filled from the published warehouse (read only): the latest period of the same
year before P that it holds for that submitter (the current files whose calendar line, or else
whose `__<submitter>`, is S), or when there is none (January; a quarterly dataset's March) the
latest period of the year before. Which columns are pre-filled (`carried`):

- every text, yes/no and date column (codes, names, level, sector, chain, park, township,
  status, responsible unit, start and completion dates, 5G, the main income source, the mine,
  the face type): they change rarely, and the clerk corrects the few that did;
- the plan figures (`Field.plan_figure`): a project's total investment always; the annual plan
  (`ANNUAL_FIGURES`) only from a period of the same year, not from the year before;
- never: the year-to-date figures (`Field.cumulative`), the other figures reported afresh each
  period (a park's enterprise and employee counts, the city's indicator value), and 备注.

With nothing to pre-fill from, the rows that are known anyway are written: the villages of the
township when the submitter is a township (village_income: always from the reference list, the
earlier period's other columns carried by village), the park when the submitter is a park
(zone_operations), and every combination of the key's choices when each key column is a choice
(the talent field × kind grid, the city's indicators).

The lists come from the warehouse's reference tables, or from the reference dir when there is no
warehouse yet. Nothing from the data becomes a formula: every text is written as a string (a
name starting with `=`, `+`, `-` or `@` stays text) and text columns are formatted as text.
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import XlsxWriterException

from ..catalog.datasets import DATASETS, Dataset, Field
from ..catalog.datasets.base import KIND_NAMES_ZH
from ..catalog.rules import (ColumnComparison, CreditCode, Digits, Ge0, Gt0, Lookup, MaxLen, NotAfterPeriod, OneOf,
                             Rule)
from ..catalog.tables import REFERENCE, STAGING, UNREAD_KEY_PART
from ..config import Settings
from ..errors import SetupError, os_reason
from ..reference import SENDER_LISTS, Reference, parse_months, read_reference_csv
from ..text import norm
from ..warehouse import queries
from ..warehouse.connection import connect
from .workbook import column_width, display_width

GUIDE_SHEET = "填报说明"
LIST_SHEET = "下拉选项"  # = ingest.layout.TEMPLATE_LIST_SHEET (this room imports no reader)
LIST_MARK = "的可选值"  # = ingest.layout.TEMPLATE_LIST_MARK: the first row says `<列名>的可选值`
# Rows below the pre-filled ones that carry the validations and formats, for rows the clerk adds.
ROOM = 200
INLINE_LIMIT = 255  # characters of a list written into the validation itself (Excel's limit)
HEADER_ROW = 2  # 0-based: title, 填报单位, header
FIRST_DATA_ROW = HEADER_ROW + 1
EARLIEST_DATE = date(1990, 1, 1)
LATEST_DATE = date(2099, 12, 31)
NUMERIC = ("money", "integer", "percent")
YES, NO = "是", "否"

# Plan figures fixed for one year only: pre-filled from a period of the same year, never from the
# year before (a project's total investment holds across years; its annual plan does not).
ANNUAL_FIGURES: dict[str, tuple[str, ...]] = {"key_projects": ("annual_plan_investment",)}

# The canonical name column of each reference list a `lookup` rule names, and the columns whose
# values are other spellings of it (a code, `;`-separated aliases).
_LIST_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "townships": ("township_name", ()),
    "industry_chains": ("chain_name", ("chain_code",)),
    "zones": ("zone_name", ("zone_code", "aliases")),
    "mines": ("mine_name", ("mine_code", "aliases")),
}
_FORBIDDEN_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


@dataclass(frozen=True)
class Template:
    """What `write_template` wrote, for the CLI to say."""

    path: Path
    dataset: str
    period: str
    submitter: str | None
    rows: int  # pre-filled rows
    source_period: str | None  # the period the rows were taken from (None: none in the warehouse)
    carried: tuple[str, ...]  # the headers of the pre-filled columns
    lists_from: str  # where the drop-down lists come from, in Chinese
    due: str  # the due date, in Chinese


def template_name(period: str, submitter: str | None) -> str:
    """`2023-05__发改局.xlsx`, or `2023-05.xlsx` without a submitter (SUBMISSIONS.md 1)."""
    return f"{period}__{submitter}.xlsx" if submitter else f"{period}.xlsx"


def carried(dataset: Dataset, f: Field, same_year: bool) -> bool:
    """Whether column `f` is pre-filled from an earlier period (of the same year, or not)."""
    if f.name == "remarks" or f.cumulative:
        return False
    if f.kind in NUMERIC:
        return f.plan_figure and (same_year or f.name not in ANNUAL_FIGURES.get(dataset.name, ()))
    return True


# ------------------------------------------------------------------ the reference lists


@dataclass
class Lists:
    """The county's lists the template needs, from the warehouse or the reference dir."""

    frames: dict[str, pd.DataFrame]
    source: str  # said to the operator: where they came from

    def _frame(self, name: str) -> pd.DataFrame:
        return self.frames[name].astype(object).where(self.frames[name].notna(), "").astype(str)

    def names(self, list_name: str) -> list[str]:
        """The canonical names of a list, in its order, each once."""
        column, _ = _LIST_COLUMNS[list_name]
        return list(dict.fromkeys(v.strip() for v in self._frame(list_name)[column] if v.strip()))

    def canonical(self, list_name: str, value: str | None) -> str | None:
        """The canonical name `value` spells (by name, code or alias), or None."""
        if not value:
            return None
        key = norm(value).casefold()
        column, others = _LIST_COLUMNS[list_name]
        for row in self._frame(list_name).to_dict("records"):
            spellings = [row[column], *(s for o in others for s in row[o].split(";"))]
            if key in {norm(s).casefold() for s in spellings if s.strip()}:
                return row[column].strip()
        return None

    def villages(self, township: str | None) -> list[tuple[str, str, str]]:
        """(code, name, township) of the villages of `township` (all of them for None), in list order."""
        frame = self._frame("villages")
        return [(r.village_code.strip(), r.village_name.strip(), r.township_name.strip())
                for r in frame.itertuples() if township is None or r.township_name.strip() == township]

    def calendar(self) -> Reference:
        """The reporting calendar as `Reference.expected_submitter` reads it, with the lists whose
        names are senders' (`SENDER_LISTS`: `__平头融合区` is 平头融合发展区's)."""
        ref = Reference()
        for row in self._frame("submitters").itertuples():
            ref.submitters.setdefault(row.dataset, []).append(
                (norm(row.submitter).casefold(), norm(row.department).casefold(), row.submitter))
        for list_name in SENDER_LISTS:
            if list_name not in self.frames:
                continue
            column, others = _LIST_COLUMNS[list_name]
            for row in self._frame(list_name).to_dict("records"):
                ref.add_spellings(list_name, row[column].strip(), [s for o in others for s in row[o].split(";")])
        return ref

    def only_sender(self, dataset: str) -> str | None:
        """The calendar's one sender of `dataset` (县发改局's 发改局; 平头融合发展区, the one park the
        calendar expects a 园区运行情况表 from), None when it has several (every township's village
        figures) or none: a template asked for without a sender is named, headed, pre-filled and
        dated as that sender's, as a file sent without a sender's name is read as its (SUBMISSIONS.md 7)."""
        frame = self._frame("submitters")
        senders = frame.loc[frame["dataset"] == dataset, "submitter"].unique()
        return str(senders[0]) if len(senders) == 1 else None

    def calendar_line(self, dataset: str, submitter: str | None) -> dict | None:
        """The calendar's line for `submitter`'s files of `dataset` (SUBMISSIONS.md 7), or None."""
        name = self.calendar().expected_submitter(dataset, submitter)
        frame = self._frame("submitters")
        lines = frame[(frame["dataset"] == dataset) & (frame["submitter"] == name)].to_dict("records")
        return lines[0] if lines and name is not None else None


_LISTS_NEEDED = ("townships", "villages", "industry_chains", "zones", "mines", "submitters")


def _read_lists(settings: Settings, conn: duckdb.DuckDBPyConnection | None) -> Lists:
    frames: dict[str, pd.DataFrame] = {}
    from_warehouse = []
    for name in _LISTS_NEEDED:
        table = REFERENCE[name]
        if conn is not None and queries.has_table(conn, table):
            frames[name] = queries.reference_rows(conn, table)
            from_warehouse.append(name)
        else:
            frames[name] = read_reference_csv(settings.reference_dir, name)
    if len(from_warehouse) == len(_LISTS_NEEDED):
        source = f"数据仓库 {settings.warehouse} 的参考表（上次运行时读入的参考名录）"
    elif not from_warehouse:
        source = f"参考名录目录 {settings.reference_dir}"
    else:
        source = f"数据仓库 {settings.warehouse} 的参考表和参考名录目录 {settings.reference_dir}"
    return Lists(frames, source)


# ------------------------------------------------------------------ the rows


@dataclass
class Prefill:
    rows: list[dict] = field(default_factory=list)  # column name -> value, the carried columns only
    source_period: str | None = None
    same_year: bool = True
    carried: tuple[str, ...] = ()  # field names


def _belongs(f: queries.SubmittedFile, line: str | None, submitter: str | None, calendar: Reference,
             dataset: str) -> bool:
    """Whether a file in the warehouse is one of the submitter's: its calendar line (as the run
    recorded it in audit.ingest_log.expected_submitter, else as the calendar reads its name) is
    the submitter's, or (a submitter the calendar does not list) its `__<submitter>` is the same."""
    if line is not None:
        return (f.expected_submitter or calendar.expected_submitter(dataset, f.submitter)) == line
    return norm(f.submitter or "").casefold() == norm(submitter or "").casefold()


def _sent_back_files(conn, dataset: Dataset) -> list[queries.SubmittedFile]:
    """The current files of `dataset` sent back with every row rejected (their rows are in
    audit.rejected_rows, none in staging)."""
    try:
        return [queries.SubmittedFile(*r) for r in conn.execute(
            """SELECT file_path, period, submitter, expected_submitter FROM audit.ingest_log l
               WHERE is_current AND partition_key IS NOT NULL AND dataset = ? AND status = 'rejected'
                 AND EXISTS (SELECT 1 FROM audit.rejected_rows r WHERE r.file_path = l.file_path AND r.period = l.period)
               ORDER BY file_path""", [dataset.name]).fetchall()]
    except duckdb.Error:  # a warehouse of an older version
        return []


def _rejected_keys(conn, dataset: Dataset, period: str, paths: list[str]) -> list[dict]:
    """The keys of the rows of `paths` that were sent back in `period`, as rows holding the key
    columns (and where they were): the project or village stays on next month's form. A key
    with a part that could not be read (`*/黑水村`, audit.rejected_rows.row_key) is left out."""
    try:
        found = conn.execute(
            """SELECT file_path, min(source_row), row_key FROM audit.rejected_rows
               WHERE period = ? AND file_path IN (SELECT unnest(?)) AND row_key IS NOT NULL
               GROUP BY file_path, row_key ORDER BY 1, 2""", [period, list(paths)]).fetchall()
    except duckdb.Error:  # a warehouse of an older version
        return []
    rows = []
    for file_path, source_row, key in found:
        parts = key.split("/")
        if len(parts) == len(dataset.key) and UNREAD_KEY_PART not in parts and all(p.strip() for p in parts):
            rows.append({"source_file": file_path, "source_row": source_row, **dict(zip(dataset.key, parts))})
    return rows


def _earlier_rows(conn, dataset: Dataset, period: str, submitter: str | None,
                  lists: Lists) -> tuple[str | None, bool, list[dict]]:
    """(the period, whether of the same year, its rows) the template is pre-filled from: the
    staged rows of the submitter's files of that period and the keys of their rows that were sent
    back (`_rejected_keys`), in the order of the file."""
    calendar = lists.calendar()
    line = calendar.expected_submitter(dataset.name, submitter)
    files = [f for f in [*queries.loaded_files(conn, dataset.name), *_sent_back_files(conn, dataset)]
             if _belongs(f, line, submitter, calendar, dataset.name)]
    year = int(period[:4])
    for same_year, wanted in ((True, str(year)), (False, str(year - 1))):
        earlier = [f for f in files if f.period[:4] == wanted and f.period < period]
        if earlier:
            source = max(f.period for f in earlier)
            paths = [f.file_path for f in earlier if f.period == source]
            rows = queries.staging_rows_of_files(conn, STAGING[dataset.name], source, paths)
            rows += _rejected_keys(conn, dataset, source, paths)
            rows.sort(key=lambda r: (str(r.get("source_file") or ""), r.get("source_row") or 0))
            return source, same_year, rows
    return None, True, []


def _named(dataset: Dataset, submitter: str | None, lists: Lists) -> tuple[Field, str] | None:
    """The column the submitter names and its value (the township of a village file, the park of a
    park's file: `Field.from_submitter`), the submitter read as its calendar line says
    (`宗艾镇人民政府` is 宗艾镇), or None."""
    who = lists.calendar().expected_submitter(dataset.name, submitter) or submitter
    for f in dataset.fields:
        if f.from_submitter and (value := lists.canonical(f.from_submitter, who)):
            return f, value
    return None


def _key(dataset: Dataset, row: dict) -> tuple:
    return tuple(row.get(k) for k in dataset.key)


def _prefill(conn, dataset: Dataset, period: str, submitter: str | None, lists: Lists) -> Prefill:
    source, same_year, staged = (None, True, []) if conn is None else _earlier_rows(
        conn, dataset, period, submitter, lists)
    keep = [f.name for f in dataset.all_fields if carried(dataset, f, same_year)]
    rows: list[dict] = []
    seen: set[tuple] = set()
    for r in staged:
        if _key(dataset, r) in seen:
            continue
        seen.add(_key(dataset, r))
        rows.append({name: r.get(name) for name in keep})
    fixed = _named(dataset, submitter, lists)
    if "village" in dataset.row_checks and fixed is not None:
        # the township's villages from the reference list, the earlier period's columns carried by
        # village (a village no longer on the list is left out: it would be sent back)
        f, township = fixed
        before = {(r.get(f.name), norm(r.get("village_name") or "")): r for r in rows}
        listed = []
        for code, name, town in lists.villages(township):
            earlier = before.pop((town, norm(name)), {})
            listed.append({**{k: None for k in keep}, **earlier, "village_code": code, "village_name": name,
                           f.name: town})
        rows = listed
    elif not rows and fixed is not None and dataset.key == (fixed[0].name,):
        rows = [{fixed[0].name: fixed[1]}]
    elif not rows:
        choices = [next((r.choices for r in dataset.field(k).rules if isinstance(r, OneOf)), None)
                   for k in dataset.key]
        if all(choices):
            rows = [dict(zip(dataset.key, combo)) for combo in itertools.product(*choices)]
    return Prefill(rows, source, same_year, tuple(keep))


# ------------------------------------------------------------------ the words


def _label(period: str) -> str:
    y, m = int(period[:4]), int(period[5:7])
    return f"{y}年1月" if m == 1 else f"{y}年1-{m}月"


def _header_of(dataset: Dataset, name: str) -> str:
    try:
        return dataset.field(name).header
    except KeyError:
        return name


def rule_text(dataset: Dataset, rule: Rule) -> str:
    """A rule's description in Chinese, other columns named by their headers."""
    text = rule.describe()
    if isinstance(rule, ColumnComparison):
        text = re.sub(rf"\s*{re.escape(rule.other)}", f"“{_header_of(dataset, rule.other)}”", text)
    if isinstance(rule, Lookup):
        text = f"须为{rule.what}名录中的名称（参考名录 {rule.list_name}，见下拉列表）"
    return text


def _unit(f: Field) -> str:
    return f.unit or ""


def _requirements(dataset: Dataset, f: Field, choices: list[str] | None) -> str:
    parts = [rule_text(dataset, r) for r in f.rules]
    if f.kind == "boolean":
        parts.append("选“是”或“否”，空白视为否")
    if f.kind == "date":
        parts.append("写成2023-03-15这样的日期（只知道月份时写该月1日）")
    if f.kind == "integer":
        parts.append("整数")
    if f.kind == "money":
        parts.append("数字，不带单位（万元）")
    if choices is not None and not any(isinstance(r, (OneOf, Lookup)) for r in f.rules) and f.kind != "boolean":
        parts.append("从下拉列表中选择")
    return "；".join(parts)


def _due_text(lists: Lists, dataset: Dataset, period: str, submitter: str | None) -> str:
    line = lists.calendar_line(dataset.name, submitter)
    if line is None:
        who = f"“{submitter}”" if submitter else "未写报送单位的文件"
        return f"报送日历（参考名录 submitters）中没有{who}报送{dataset.title}的安排，截止日期请向县里确认"
    y, m = int(period[:4]), int(period[5:7])
    if m not in parse_months(line["months"]):
        return f"按报送日历，{line['department']}在{m}月不需报送{dataset.title}（应报月份：{line['months']}）"
    ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
    return f"{ny}年{nm}月{int(line['due_day'])}日24时前（北京时间；报送日历：报告期次月{int(line['due_day'])}日前）"


def _guide_lines(dataset: Dataset, period: str, submitter: str | None, name: str, due: str,
                 fill: Prefill, data_sheet: str) -> list[tuple[str, str]]:
    y, m = int(period[:4]), int(period[5:7])
    cadence = "每月一报" if dataset.cadence == "monthly" else "按季度报送（3、6、9、12月）"
    money = "，金额单位为万元" if dataset.has_money else ""
    carried_headers = "、".join(dataset.field(n).header for n in fill.carried if n != "remarks")
    blank = "、".join(f.header for f in dataset.fields if f.name not in fill.carried)
    if fill.rows and fill.source_period:
        year_note = "" if fill.same_year else f"（本年尚无报送，取上年{fill.source_period}的报送，上年的数字不带入）"
        prefilled = (f"已按{fill.source_period}的报送预填{len(fill.rows)}行{year_note}：{carried_headers}。"
                     f"{blank}留空，请逐行填写本期的数字；预填的内容如有变化请直接改正。")
    elif fill.rows:
        prefilled = f"已预填{len(fill.rows)}行（来自参考名录或报表的规定取值）：请逐行填写其余各列。"
    else:
        prefilled = "数据仓库中没有该单位本年（或上年）的报送，未预填：请从第4行起逐行填写。"
    return [
        ("报表", f"{dataset.title}（{dataset.name}），{dataset.department}报送，{cadence}。{dataset.description}"),
        ("报告期", f"{period}：填写{y}年1月至{m}月的累计数{money}。"),
        ("填报单位", submitter or "（请填写）"),
        ("文件名", f"{name}（报送时请用这个文件名；保存为.xlsx格式，不要另存为.xls）"),
        ("如何报送", f"在“{data_sheet}”工作表中填写后保存，按原文件名报送县里汇总（县里将其放入原始数据目录的"
                     f" {dataset.name} 文件夹）。发现错误时改正后用同一文件名重新报送，新文件替换旧文件。"),
        ("截止时间", due),
        ("预填内容", prefilled + "新增的行接在下面的空行中填写；不再填报的行整行删除。"),
        ("备注", "与上期相比对不上的数字（累计数比上期减少、计划数调整）请在该行“备注”列写明原因，写明原因的"
                 "不再提示；上期在报、本期不再报送的行，整行删除即可，县里会逐一核实。其他情况备注可不填。"),
        ("填写方法", "标题行、填报单位行和表头请勿修改或删除；表头为橙色的列必填。带下拉箭头的列请从列表中选择；"
                     "数字不带单位；日期写成2023-03-15；请勿合并单元格。"),
        ("各列说明", "见下表（“也可写作”是县里也认可的表头写法；数据类型和要求由报送规范规定，不合要求的必填项整行退回）。"),
    ]


# ------------------------------------------------------------------ writing


def _safe_sheet_name(text: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "_", text)[:31]


def _cell_value(f: Field, value):
    """A stored value as the template's cell holds it."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if f.kind == "boolean":
        return YES if value else NO
    if f.kind in NUMERIC:
        return int(value) if f.kind == "integer" else float(Decimal(str(value)))
    if f.kind == "date":
        return value if isinstance(value, date) else pd.Timestamp(value).date()
    return str(value)


def _choices(dataset: Dataset, f: Field, lists: Lists, township: str | None) -> list[str] | None:
    """The values a column's drop-down lists, or None for a column without one."""
    if f.kind == "boolean":
        return [YES, NO]
    for rule in f.rules:
        if isinstance(rule, OneOf):
            return list(rule.choices)
        if isinstance(rule, Lookup) and rule.list_name in _LIST_COLUMNS:
            return lists.names(rule.list_name)
    if f.name == "village_name" and "village" in dataset.row_checks:
        return list(dict.fromkeys(name for _, name, _ in lists.villages(township)))
    return None


def _fits_inline(values: list[str]) -> bool:
    return (len(",".join(values)) <= INLINE_LIMIT and not any(ch in v for v in values for ch in ',"')
            and all(values))


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _validation(dataset: Dataset, f: Field, period_end: date, list_ref) -> dict:
    """The data validation of a column (without its input message)."""
    if list_ref is not None:
        return {"validate": "list", "source": list_ref, "error_title": "不在可选范围内",
                "error_message": _clip(f"{f.header}请从下拉列表中选择。", 255)}
    rules = {type(r) for r in f.rules}
    if f.kind in NUMERIC:
        kind = "integer" if f.kind == "integer" else "decimal"
        what = "整数" if f.kind == "integer" else "数字"
        if Gt0 in rules:
            return {"validate": kind, "criteria": ">", "value": 0, "error_title": "数字有误",
                    "error_message": f"{f.header}应为大于0的{what}（不带单位）。"}
        if Ge0 in rules:
            return {"validate": kind, "criteria": ">=", "value": 0, "error_title": "数字有误",
                    "error_message": f"{f.header}应为不小于0的{what}（不带单位）。"}
        return {"validate": kind, "criteria": "between", "minimum": -10 ** 12, "maximum": 10 ** 12,
                "error_title": "数字有误", "error_message": f"{f.header}应为{what}（不带单位）。"}
    if f.kind == "date":
        latest = period_end if NotAfterPeriod in rules else LATEST_DATE
        return {"validate": "date", "criteria": "between", "minimum": EARLIEST_DATE, "maximum": latest,
                "error_title": "日期有误",
                "error_message": f"{f.header}应为{EARLIEST_DATE:%Y-%m-%d}至{latest:%Y-%m-%d}之间的日期，如2023-03-15。"}
    for rule in f.rules:
        if isinstance(rule, MaxLen):
            return {"validate": "length", "criteria": "<=", "value": rule.n, "error_title": "内容过长",
                    "error_message": f"{f.header}不能超过{rule.n}个字符。"}
        if isinstance(rule, (Digits, CreditCode)):
            n = rule.n if isinstance(rule, Digits) else 18
            return {"validate": "length", "criteria": "==", "value": n, "error_title": "位数不对",
                    "error_message": f"{f.header}应为{n}位（{rule.describe()}）。"}
    return {"validate": "any"}


def _resolve_output(output: Path | None, name: str) -> Path:
    path = Path.cwd() / name if output is None else Path(output)
    if path.is_dir() or not path.suffix:  # a folder (made when missing)
        path = path / name
    if path.suffix.lower() != ".xlsx":
        raise SetupError(f"模板文件 {path} 应以 .xlsx 结尾（如 {name}）：报送只接受.xlsx或.csv文件")
    return path


def _open_warehouse(settings: Settings):
    path = settings.warehouse
    if not path.exists():
        return None
    if not path.is_file():
        raise SetupError(f"数据仓库的位置 {path} 不是一个文件：请用环境变量 SHOUYANG_WAREHOUSE 指向数据仓库文件。")
    return connect(path, read_only=True)


def write_template(settings: Settings, dataset_name: str, period: str, submitter: str | None = None,
                   output: Path | None = None) -> Template:
    """Write the template of `dataset_name` for `period` (and `submitter`); see the module's doc.

    Raises SetupError (nothing written) for an unknown dataset, a period the dataset is not
    reported for, a submitter that cannot be part of a file name, an output that cannot be
    written, and a warehouse that cannot be read."""
    if dataset_name not in DATASETS:
        raise SetupError(f"“{dataset_name}”不是已知的数据集，可选：" + "、".join(DATASETS))
    dataset = DATASETS[dataset_name]
    if not re.fullmatch(r"\d{4}-\d{2}", period, re.ASCII) or not 1 <= int(period[5:7]) <= 12:
        raise SetupError(f"报告期“{period}”无效：应写作YYYY-MM，月份为01至12，如2023-02")
    if not dataset.accepts_period(int(period[5:7])):
        raise SetupError(f"{dataset.title}按季度报送，报告期只能是3、6、9、12月，不能是{period}")
    submitter = submitter.strip() if submitter and submitter.strip() else None
    if submitter and (_FORBIDDEN_IN_NAME.search(submitter) or submitter.startswith(".") or "__" in submitter):
        raise SetupError(f"报送单位“{submitter}”不能用在文件名中：不能含有 \\ / : * ? \" < > | 、连续两个下划线，"
                         "也不能以点开头")
    try:
        opened = _open_warehouse(settings)
        if opened is None:
            lists = _read_lists(settings, None)
            submitter = submitter or lists.only_sender(dataset.name)
            fill = _prefill(None, dataset, period, submitter, lists)
        else:
            with opened as conn:
                lists = _read_lists(settings, conn)
                submitter = submitter or lists.only_sender(dataset.name)
                fill = _prefill(conn, dataset, period, submitter, lists)
    except duckdb.Error as exc:
        raise SetupError(f"无法读取数据仓库 {settings.warehouse}（{str(exc).splitlines()[0]}）：若有人以读写方式打开了它，"
                         "请关闭后再试。模板未生成。") from None
    due = _due_text(lists, dataset, period, submitter)
    name = template_name(period, submitter)
    path = _resolve_output(output, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
        try:
            _write(tmp, dataset, period, submitter, name, due, fill, lists)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except (OSError, XlsxWriterException) as exc:
        cause = exc if isinstance(exc, OSError) else (exc.__context__ if isinstance(exc.__context__, OSError) else None)
        reason = os_reason(cause) if cause is not None else str(exc)
        raise SetupError(f"无法写入模板 {path}（{reason}）：请用 -o 指定一个可写的位置。") from None
    headers = tuple(dataset.field(n).header for n in fill.carried if fill.rows)
    return Template(path, dataset.name, period, submitter, len(fill.rows), fill.source_period, headers,
                    lists.source, due)


def _write(path: Path, dataset: Dataset, period: str, submitter: str | None, name: str, due: str,
           fill: Prefill, lists: Lists) -> None:
    fields = dataset.all_fields
    y, m = int(period[:4]), int(period[5:7])
    period_end = (pd.Timestamp(y, m, 1) + pd.offsets.MonthEnd(0)).date()
    named = _named(dataset, submitter, lists)
    fixed = named[1] if named else None
    township = fixed if named and named[0].from_submitter == "townships" else None
    data_sheet = _safe_sheet_name(dataset.title)
    title = f"{_label(period)}{fixed or ''}{dataset.title}"
    unit_line = f"填报单位：{submitter or ''}" + ("　　单位：万元" if dataset.has_money else "")

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    wb.calc_on_load = False  # as Excel saves a workbook: a formula the clerk adds keeps its computed value
    try:
        wb.set_properties({"title": f"{title}（填报模板）", "author": "寿阳县", "comments": name})
        f_title = wb.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
        f_unit = wb.add_format({"align": "left", "valign": "vcenter"})
        f_head = wb.add_format({"bold": True, "border": 1, "text_wrap": True, "align": "center", "valign": "vcenter",
                                "bg_color": "#EDF2F7"})
        f_head_req = wb.add_format({"bold": True, "border": 1, "text_wrap": True, "align": "center",
                                    "valign": "vcenter", "bg_color": "#F8CBAD"})
        f_wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        f_label = wb.add_format({"bold": True, "valign": "top"})
        f_guide_head = wb.add_format({"bold": True, "border": 1, "bg_color": "#EDF2F7", "text_wrap": True,
                                      "valign": "top"})
        f_guide_cell = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})

        number_formats = {"money": "#,##0.00", "integer": "0", "percent": "0.0##", "date": "yyyy-mm-dd",
                          "text": "@", "boolean": "@"}
        col_formats = {k: wb.add_format({"num_format": v, "valign": "top"}) for k, v in number_formats.items()}
        cell_formats = {(k, to_fill): wb.add_format({"num_format": v, "border": 1, "valign": "top",
                                                      **({"bg_color": "#FFF2CC"} if to_fill else {})})
                        for k, v in number_formats.items() for to_fill in (False, True)}

        # ---- 填报说明
        guide = wb.add_worksheet(GUIDE_SHEET)
        data = wb.add_worksheet(data_sheet)
        listed = None  # the hidden sheet, made when a list needs it
        guide.set_column(0, 0, 12)
        guide.set_column(1, 1, 18)
        guide.set_column(2, 2, 10)
        guide.set_column(3, 3, 8)
        guide.set_column(4, 4, 8)
        guide.set_column(5, 5, 6)
        guide.set_column(6, 6, 40)
        guide.set_column(7, 7, 40)
        guide.merge_range(0, 0, 0, 7, "", f_title)
        guide.write_string(0, 0, f"{dataset.title}填报说明（{period}）", f_title)
        guide.set_row(0, 28)
        lines = _guide_lines(dataset, period, submitter, name, due, fill, data_sheet)
        for i, (label, text) in enumerate(lines, start=2):
            guide.write_string(i, 0, label, f_label)
            guide.merge_range(i, 1, i, 7, "", f_wrap)
            guide.write_string(i, 1, text, f_wrap)
            guide.set_row(i, 16 * max(1, -(-display_width(text) // 150)))
        top = 2 + len(lines) + 1
        heads = ["列名", "也可写作", "是否必填", "数据类型", "单位", "所在列", "填写要求", "含义"]
        for j, h in enumerate(heads):
            guide.write_string(top, j, h, f_guide_head)
        choices_of = {f.name: _choices(dataset, f, lists, township) for f in fields}
        for i, f in enumerate(fields, start=1):
            row = [f.header, "、".join(f.aliases), "必填" if f.required else "选填", KIND_NAMES_ZH[f.kind], _unit(f),
                   xlsxwriter.utility.xl_col_to_name(i - 1), _requirements(dataset, f, choices_of[f.name]),
                   f.description]
            for j, v in enumerate(row):
                guide.write_string(top + i, j, v, f_guide_cell)
        guide.set_landscape()
        guide.set_paper(9)
        guide.fit_to_pages(1, 0)
        guide.repeat_rows(top, top)
        guide.set_footer("&C第 &P 页，共 &N 页")

        # ---- the data sheet
        last_col = len(fields) - 1
        data.merge_range(0, 0, 0, max(last_col, 1), "", f_title)
        data.write_string(0, 0, title, f_title)
        data.set_row(0, 28)
        data.merge_range(1, 0, 1, max(last_col, 1), "", f_unit)
        data.write_string(1, 0, unit_line, f_unit)
        rows = [[_cell_value(f, r.get(f.name)) for f in fields] for r in fill.rows]
        for j, f in enumerate(fields):
            values = [_shown(v) for v in (row[j] for row in rows) if v is not None]
            width, _ = column_width(f.header, values, 40)
            width = max(width, {"money": 12, "integer": 10, "percent": 10, "date": 12}.get(f.kind, 8))
            data.set_column(j, j, width, col_formats[f.kind])
            data.write_string(HEADER_ROW, j, f.header, f_head_req if f.required else f_head)
        data.set_row(HEADER_ROW, 32)
        for i, row in enumerate(rows):
            r = FIRST_DATA_ROW + i
            for j, (f, v) in enumerate(zip(fields, row)):
                fmt = cell_formats[(f.kind, v is None and f.required)]
                if v is None:
                    data.write_blank(r, j, None, fmt)
                elif isinstance(v, str):
                    data.write_string(r, j, v, fmt)  # never a formula, whatever it starts with
                elif isinstance(v, date):
                    data.write_datetime(r, j, pd.Timestamp(v).to_pydatetime(), fmt)
                else:
                    data.write_number(r, j, v, fmt)
        last_row = FIRST_DATA_ROW + len(rows) + ROOM - 1
        list_col = 0
        for j, f in enumerate(fields):
            choices = choices_of[f.name]
            ref = None
            if choices:
                if _fits_inline(choices):
                    ref = choices
                else:
                    if listed is None:
                        listed = wb.add_worksheet(LIST_SHEET)
                        listed.hide()
                    listed.write_string(0, list_col, f"{f.header}{LIST_MARK}")
                    for k, v in enumerate(choices, start=1):
                        listed.write_string(k, list_col, v)
                    letter = xlsxwriter.utility.xl_col_to_name(list_col)
                    ref = f"='{LIST_SHEET}'!${letter}$2:${letter}${len(choices) + 1}"
                    listed.set_column(list_col, list_col, 24)
                    list_col += 1
            rule = _validation(dataset, f, period_end, ref)
            prompt = "；".join(p for p in (("必填" if f.required else "选填") + f"，{KIND_NAMES_ZH[f.kind]}"
                                            + (f"（{f.unit}）" if f.unit else ""),
                                            _requirements(dataset, f, choices)) if p)
            rule.update({"input_title": _clip(f.header, 32), "input_message": _clip(prompt, 255),
                         "ignore_blank": True})
            if rule["validate"] == "any":
                rule.pop("ignore_blank")
            data.data_validation(FIRST_DATA_ROW, j, last_row, j, rule)
        data.freeze_panes(FIRST_DATA_ROW, 0)
        data.set_landscape()
        data.set_paper(9)
        data.fit_to_pages(1, 0)
        data.repeat_rows(0, HEADER_ROW)
        data.center_horizontally()
        data.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        data.set_footer("&C第 &P 页，共 &N 页")
        data.activate()
    finally:
        wb.close()


def _shown(value) -> str:
    if isinstance(value, date):
        return "0000-00-00"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)
