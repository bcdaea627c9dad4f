"""Generator of the bundled sample submissions (data/raw) and data/reference/villages.csv.

The sample is made-up data built around the real figures of the county's bulletins
(contract: SAMPLE.md). ``write_sample(raw_dir, reference_dir)`` with scale=1 writes the bundled
sample; larger scales multiply projects, enterprises and villages for benchmarks.

The second part of SAMPLE.md (smart_mines, zone_operations, talent) is drawn from its own random
stream after the first part, so adding it left the first part's files byte for byte as they were.
At larger scales only the working faces multiply: the parks are the reference list's and the
talent table is one row per field and kind.

The reporting calendar (SUBMISSIONS.md 7, 8): the register `收文登记.csv` with a line per file
shipped, one file late (LATE_FILE), one township's 2023-09 file withheld (MISSING_VILLAGE_FILE),
and the key projects' cross-period flags (`plant_cross_period`). Each draws from its own random
stream or from none, and a row left out still draws what it would have (`_ghost`), so every file
the plants do not touch is byte for byte as it was.
"""

from __future__ import annotations

import csv
import io
import random
import shutil
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_col_to_name

from . import names as N
from .model import (C, CITY_GROWTH, QUARTERS, STARTED, Enterprise, Face, Project, TalentRow, Village, ZoneOps,
                    bad_credit_code, build_enterprises, build_faces, build_projects, build_talent, build_villages,
                    build_zone_ops, fill_village_income, make_credit_code)
from .writers import Formula, Pct, Sheet, write_csv, write_xlsx

DATASETS = ("key_projects", "industrial_output", "city_indicators", "village_income", "smart_mines",
            "zone_operations", "talent")
BIG_XLSX_ROWS = 5000  # above this many rows, xlsxwriter runs in constant_memory mode
# From this scale on (benchmarks only: 1000x is over two million rows), the datasets whose rows
# grow with the scale are written as CSV in UTF-8 with BOM, each month keeping its other styles
# (title and unit rows, aliases, units, sections, static totals, footers, text numbers, date
# styles; no merges, which CSV cannot hold): xlsxwriter writes some 10^5 cells a second, which
# would take most of an hour at that size. The small datasets keep their XLSX months.
CSV_FROM_SCALE = 200
SCALED_DATASETS = ("key_projects", "industrial_output", "village_income", "smart_mines")
# The reporting calendar the 2023 sample plants (SAMPLE.md, SUBMISSIONS.md 7): one township's
# 2023-09 village file never sent, and one file received after its due date.
MISSING_VILLAGE_FILE = (9, "羊头崖乡")
LATE_FILE = ("industrial_output/2023-11__统计局.", datetime(2023, 12, 12, 10, 20))


@dataclass(frozen=True)
class Style:
    fmt: str = "xlsx"            # xlsx | csv
    encoding: str = "utf-8"      # csv: utf-8 | utf-8-sig | gbk
    headers: str = "canon"       # canon | alias
    unit: str = "万元"            # 万元 | 亿元 | 元
    unit_in_header: bool = False  # 总投资（亿元）
    header_breaks: bool = False  # 总投资\n（万元）
    title: bool = False          # title row + 填报单位/单位 row
    totals: str | None = None    # formula | static
    sections: bool = False       # 一、产业转型类项目 rows
    footer: bool = False         # blank rows, 填表人, 注：
    instructions: bool = False   # a 填报说明 sheet first
    bools: str = "是否"          # 是否 | check | YN
    dates: str = "iso"           # excel | iso | slash | cn_month | cn_day | dot | mixed
    levels: str = "级"           # 级 | 重点
    chains: str = "name"         # name | code | mixed
    zones: str = "name"          # name | alias | mixed
    spaced_townships: bool = False
    text_numbers: bool = False   # a few money cells as "12,345.60" or full-width digits
    township_col: str = "repeat"  # village_income: merged | repeat | none
    codes: str = "text"          # village_income: text | number | none
    drop_cun: bool = False       # village_income: some names without the trailing 村
    pct: str = "pct_cell"        # city_indicators: pct_cell | number | percent_text | fullwidth
    indicator_alias: bool = False
    # smart_mines, zone_operations, talent
    merged: bool = False         # the first grouping column merged down each group (煤矿名称, 产业领域)
    mines: str = "name"          # name | alias | mixed
    face_types: str = "canon"    # canon | zong (综采/综掘) | short (采/掘) | long (采煤工作面) | mixed
    statuses: str = "canon"      # canon | alt (建成/施工中)
    kinds: str = "canon"         # talent: canon | alt (领军型人才/实用人才) | mixed
    zone_col: bool = True        # zone_operations: a 园区名称 column (else the zone is the submitter)


KP_STYLES = {
    1: Style(fmt="csv", encoding="utf-8-sig", dates="iso"),
    2: Style(title=True, unit_in_header=True, header_breaks=True, sections=True, totals="formula", footer=True,
             dates="excel"),
    3: Style(title=True, instructions=True, headers="alias", totals="static", footer=True, bools="check",
             dates="cn_month", levels="重点"),
    4: Style(fmt="csv", encoding="gbk", unit="亿元", unit_in_header=True, dates="slash", levels="重点",
             chains="mixed"),
    5: Style(title=True, chains="code", zones="alias", spaced_townships=True, dates="mixed", footer=True),
    6: Style(fmt="csv", encoding="utf-8", text_numbers=True, zones="mixed", dates="dot"),
    7: Style(title=True, sections=True, totals="formula", unit_in_header=True, header_breaks=True, footer=True,
             dates="excel"),
    8: Style(title=True, headers="alias", totals="static", footer=True, bools="YN", dates="cn_day"),
    9: Style(fmt="csv", encoding="gbk", headers="alias", bools="check", dates="iso"),
    10: Style(title=True, unit="亿元", sections=True, totals="static", footer=True, dates="excel", levels="重点"),
    11: Style(fmt="csv", encoding="utf-8-sig", chains="mixed", zones="mixed", text_numbers=True, dates="mixed"),
    12: Style(title=True, sections=True, totals="formula", footer=True, dates="excel"),
}
IO_STYLES = {
    2: Style(title=True, totals="formula", footer=True),
    3: Style(title=True, headers="alias", totals="static", footer=True, bools="check"),
    4: Style(fmt="csv", encoding="gbk"),
    5: Style(fmt="csv", encoding="utf-8-sig", chains="code"),
    6: Style(title=True, instructions=True, totals="static", footer=True),
    7: Style(fmt="csv", encoding="gbk", text_numbers=True),
    8: Style(title=True, totals="formula", footer=True, spaced_townships=True),
    9: Style(title=True, unit="亿元", totals="static", footer=True),
    10: Style(fmt="csv", encoding="utf-8", bools="YN"),
    11: Style(title=True, unit_in_header=True, totals="formula", footer=True, chains="mixed"),
    12: Style(fmt="csv", encoding="gbk", chains="mixed"),
}
CITY_STYLES = {
    2: Style(title=True, pct="pct_cell"),
    3: Style(fmt="csv", headers="alias", pct="number"),
    4: Style(fmt="csv", encoding="gbk", pct="percent_text"),
    5: Style(title=True, pct="pct_cell"),
    6: Style(fmt="csv", encoding="utf-8-sig", pct="fullwidth", indicator_alias=True),
    7: Style(title=True, pct="number", unit_in_header=True),
    8: Style(title=True, pct="pct_cell"),
    9: Style(fmt="csv", pct="percent_text"),
    10: Style(pct="pct_cell", indicator_alias=True),
    11: Style(fmt="csv", encoding="gbk", pct="number"),
    12: Style(title=True, pct="number", unit_in_header=True),
}
_V1 = Style(title=True, township_col="merged", codes="text", totals="static", footer=True)
_V2 = Style(title=True, township_col="none", unit="元", unit_in_header=True, drop_cun=True, totals="formula",
            footer=True, headers="alias")
_V3 = Style(fmt="csv", encoding="utf-8-sig", headers="alias", codes="text")
_V4 = Style(fmt="csv", encoding="gbk", title=True, unit="元", codes="none")
_V5 = Style(headers="alias", codes="none")
VILLAGE_STYLES = {
    "朝阳镇": _V1, "南燕竹镇": _V3, "宗艾镇": _V4, "平头镇": _V1, "松塔镇": _V2, "西洛镇": _V3,
    "尹灵芝镇": _V5, "平舒乡": _V4, "解愁乡": _V2, "温家庄乡": replace(_V3, encoding="utf-8", codes="none"),
    "景尚乡": replace(_V1, codes="number", totals="formula"), "上湖乡": _V4,
    "羊头崖乡": replace(_V2, unit="万元", drop_cun=False), "马首乡": _V5,
}

KP_HEADERS = {
    "canon": {"seq": "序号", "code": "项目编号", "name": "项目名称", "level": "项目级别", "sector": "项目类别",
              "chain": "所属产业链", "zone": "所在园区", "township": "所在乡镇", "total": "总投资",
              "plan": "年度计划投资", "ytd": "本年累计完成投资", "status": "建设状态",
              "productive": "是否生产性项目", "start": "开工时间", "unit": "责任单位", "remarks": "备注"},
    "alias": {"seq": "序号", "code": "项目代码", "name": "项目名称", "level": "级别", "sector": "所属领域",
              "chain": "产业链", "zone": "所属园区", "township": "乡镇", "total": "计划总投资",
              "plan": "本年计划投资", "ytd": "累计完成投资", "status": "项目状态",
              "productive": "生产性项目", "start": "开工日期", "unit": "牵头单位", "remarks": "备注"},
}
IO_HEADERS = {
    "canon": {"seq": "序号", "code": "统一社会信用代码", "name": "企业名称", "chain": "所属产业链",
              "township": "所在乡镇", "ytd": "本年累计工业增加值", "prev": "上年同期累计工业增加值",
              "output": "本年累计工业总产值", "digital": "是否数字经济核心产业", "remarks": "备注"},
    "alias": {"seq": "序号", "code": "信用代码", "name": "单位名称", "chain": "产业链", "township": "乡镇",
              "ytd": "工业增加值", "prev": "上年同期", "output": "工业总产值", "digital": "数字经济核心产业",
              "remarks": "备注"},
}
VI_HEADERS = {
    "canon": {"seq": "序号", "township": "所属乡镇", "code": "村代码", "name": "村名称", "op": "经营性收入",
              "total": "集体经济总收入", "source": "主要收入来源", "remarks": "备注"},
    "alias": {"seq": "序号", "township": "乡镇", "code": "统计用区划代码", "name": "村名", "op": "集体经营性收入",
              "total": "总收入", "source": "收入来源", "remarks": "备注"},
}
KP_MONEY = ("total", "plan", "ytd")
IO_MONEY = ("ytd", "prev", "output")
VI_MONEY = ("op", "total")
# smart_mines (县能源局, monthly)
SM_STYLES = {
    1: Style(title=True, merged=True, totals="formula", footer=True, dates="excel"),
    2: Style(fmt="csv", encoding="utf-8", headers="alias", mines="alias", dates="iso", bools="YN"),
    3: Style(fmt="csv", encoding="gbk", unit_in_header=True, face_types="zong", dates="slash"),
    4: Style(title=True, merged=True, headers="alias2", totals="static", footer=True, dates="excel", bools="check"),
    5: Style(fmt="csv", encoding="utf-8-sig", face_types="short", statuses="alt", dates="cn_day", mines="mixed"),
    6: Style(title=True, unit="亿元", merged=True, totals="formula", footer=True, dates="excel"),
    7: Style(fmt="csv", encoding="gbk", mines="mixed", dates="dot", headers="alias2"),
    8: Style(merged=True, headers="alias", mines="alias", dates="slash", face_types="long"),
    9: Style(fmt="csv", encoding="utf-8-sig", unit="亿元", unit_in_header=True, headers="alias2", statuses="alt"),
    10: Style(title=True, instructions=True, merged=True, totals="formula", footer=True, face_types="long",
              dates="excel"),
    11: Style(fmt="csv", encoding="gbk", title=True, dates="iso", face_types="mixed", bools="check"),
    12: Style(title=True, merged=True, totals="formula", footer=True, dates="excel", face_types="mixed",
              statuses="alt", mines="mixed"),
}
SM_HEADERS = {
    "canon": {"seq": "序号", "mine": "煤矿名称", "code": "工作面编号", "name": "工作面名称", "type": "工作面类型",
              "status": "建设状态", "date": "建成时间", "g5": "是否5G覆盖", "inv": "本年累计完成投资",
              "remarks": "备注"},
    "alias": {"seq": "序号", "mine": "矿井名称", "code": "工作面代码", "name": "工作面", "type": "采掘类型",
              "status": "进展情况", "date": "建成日期", "g5": "5G覆盖", "inv": "累计完成投资", "remarks": "备注"},
    "alias2": {"seq": "序号", "mine": "煤矿", "code": "编号", "name": "工作面名称", "type": "类型", "status": "状态",
               "date": "验收时间", "g5": "是否5G覆盖", "inv": "本年累计完成投资", "remarks": "备注"},
}
FACE_TYPE_WORDS = {"canon": {"采煤": "采煤", "掘进": "掘进"}, "zong": {"采煤": "综采", "掘进": "综掘"},
                   "short": {"采煤": "采", "掘进": "掘"}, "long": {"采煤": "采煤工作面", "掘进": "掘进工作面"}}
STATUS_ALT = {"已建成": "建成", "在建": "施工中", "未开工": "未开工"}

# zone_operations (each park, monthly): 平头融合发展区 every month, the others for some months
_ZC_X = Style(title=True, headers="alias", footer=True)
_ZC_C = Style(fmt="csv", encoding="gbk", headers="ascii", zone_col=False)
ZO_STYLES = {
    "PINGTOU": {
        1: Style(title=True, footer=True),
        2: Style(fmt="csv", encoding="utf-8", headers="alias", zone_col=False),
        3: Style(fmt="csv", encoding="gbk", headers="ascii", unit="亿元", unit_in_header=True),
        4: Style(title=True, unit="亿元", zones="alias", footer=True),
        5: Style(fmt="csv", encoding="utf-8-sig", headers="alias", zone_col=False),
        6: Style(title=True, instructions=True, headers="ascii", footer=True),
        7: Style(title=True, zones="alias", footer=True),
        8: Style(fmt="csv", encoding="gbk", zone_col=False),
        9: Style(headers="alias", unit="亿元", unit_in_header=True),
        10: Style(fmt="csv", encoding="utf-8", headers="ascii", zones="alias"),
        11: Style(title=True, headers="alias", zone_col=False, footer=True),
        12: Style(title=True, unit="亿元", unit_in_header=True, footer=True),
    },
    "CHAOYANG_COAL_MACHINERY": {m: (_ZC_X if m % 2 == 0 else _ZC_C) for m in range(4, 13)},
    "JINGSHANG_AGRI": {m: Style(fmt="csv", encoding="utf-8-sig", zones="alias") for m in (3, 6, 9, 12)},
}
ZO_HEADERS = {
    "canon": {"seq": "序号", "zone": "园区名称", "fai": "固定资产投资本年累计", "tax": "税收收入本年累计",
              "rev": "营业性收入本年累计", "above": "“四上”企业数", "new": "本年新增“四上”企业", "emp": "从业人员",
              "remarks": "备注"},
    "alias": {"seq": "序号", "zone": "园区", "fai": "固定资产投资", "tax": "税收收入", "rev": "营业性收入",
              "above": "四上企业数", "new": "新增四上企业", "emp": "从业人数", "remarks": "备注"},
    "ascii": {"seq": "序号", "zone": "所在园区", "fai": "本年固定资产投资", "tax": "税收", "rev": "营业收入",
              "above": '"四上"企业数', "new": '新增"四上"企业数', "emp": "就业人数", "remarks": "备注"},
}
ZO_MONEY = ("fai", "tax", "rev")

# talent (县委组织部, quarterly)
TA_STYLES = {
    3: Style(title=True, merged=True, totals="formula", footer=True),
    6: Style(fmt="csv", encoding="gbk", headers="alias", kinds="alt"),
    9: Style(fmt="csv", encoding="utf-8-sig", headers="alias2", kinds="mixed"),
    12: Style(title=True, merged=True, totals="static", footer=True, kinds="mixed"),
}
TA_HEADERS = {
    "canon": {"seq": "序号", "field": "产业领域", "kind": "人才类别", "conn": "本年累计对接人数",
              "rec": "本年累计引进培育人数", "remarks": "备注"},
    "alias": {"seq": "序号", "field": "领域", "kind": "类别", "conn": "对接人数", "rec": "引进培育人数",
              "remarks": "备注"},
    "alias2": {"seq": "序号", "field": "行业", "kind": "人才类型", "conn": "累计对接", "rec": "引育人数",
               "remarks": "备注"},
}
SECTION_NO = {"产业转型": "一", "城市建设": "二", "社会民生": "三", "基础设施": "四"}
FOOTER = "填表人：张三　审核人：李四"
FULLWIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


class Raw(str):
    """A cell written exactly as given (a planted unreadable value such as 暂无)."""


# ------------------------------------------------------------------------------ helpers
def round_half_up(x: float | Decimal, places: int) -> float:
    q = Decimal(1).scaleb(-places)
    return float(Decimal(str(x)).quantize(q, rounding=ROUND_HALF_UP))


def money(cents: int, unit: str) -> float | int:
    if unit == "万元":
        return round(cents / C, 2)
    if unit == "亿元":
        return round(cents / (C * 10_000), 6)
    if unit == "元":
        return cents * 100
    raise ValueError(unit)


def period_label(m: int) -> str:
    return "1月" if m == 1 else f"1-{m}月"


def fmt_date(d: date, style: str, rng: random.Random, fmt: str) -> Any:
    if style == "mixed":
        style = rng.choice(["excel", "iso", "slash", "cn_month", "cn_day", "dot"])
    if style == "excel":
        return d if fmt == "xlsx" else d.isoformat()
    return {
        "iso": d.isoformat(),
        "slash": f"{d.year}/{d.month}/{d.day}",
        "cn_month": f"{d.year}年{d.month}月",
        "cn_day": f"{d.year}年{d.month}月{d.day}日",
        "dot": f"{d.year}.{d.month}.{d.day}",
    }[style]


def fmt_bool(b: bool, style: str) -> str | None:
    if style == "check":
        return "√" if b else None
    if style == "YN":
        return "Y" if b else "N"
    return "是" if b else "否"


def fmt_chain(code: str | None, style: str, rng: random.Random) -> str | None:
    if code is None:
        return None
    if style == "code" or (style == "mixed" and rng.random() < 0.3):
        return code
    return N.CHAIN_NAME[code]


def fmt_zone(code: str | None, style: str, rng: random.Random) -> str | None:
    if code is None:
        return None
    name, aliases = N.ZONES[code]
    if style == "alias":
        return aliases[0]
    if style == "mixed":
        return rng.choice([name] + aliases)
    return name


def fmt_town(name: str | None, style: Style, rng: random.Random) -> str | None:
    if name and style.spaced_townships and rng.random() < 0.2:
        return "\u3000".join(name)
    return name


def fmt_mine(code: str, style: str, rng: random.Random) -> str:
    name, aliases = N.MINES[code]
    if style == "alias":
        return aliases[0]
    if style == "mixed":
        return rng.choice([name] + aliases)
    return name


def fmt_face_type(kind: str, style: str, rng: random.Random) -> str:
    if style == "mixed":
        style = rng.choice(list(FACE_TYPE_WORDS))
    return FACE_TYPE_WORDS[style][kind]


def fmt_kind(kind: str, style: str, rng: random.Random) -> str:
    if style == "alt" or (style == "mixed" and rng.random() < 0.5):
        return N.TALENT_KIND_ALT[kind]
    return kind


def money_header(label: str, style: Style) -> str:
    if not style.unit_in_header:
        return label
    if style.header_breaks:
        return f"{label}\n（{style.unit}）"
    return f"{label}（{style.unit}）" if style.unit != "元" else f"{label}({style.unit})"


@dataclass
class Table:
    """A rendered sheet plus where each data record landed (0-based row) and the column indexes."""

    sheet: Sheet
    record_rows: list[int]
    col_index: dict[str, int]
    headers: dict[str, str]
    totals: dict[str, float | int]


def build_table(*, name: str, keys: list[str], headers: dict[str, str], money_keys: tuple[str, ...],
                records: list[dict[str, Any]], style: Style, rng: random.Random, title: str, unit_line: str,
                merge_key: str | None = None, totals_offset: dict[str, int] | None = None,
                merge_runs: bool = False, count_keys: tuple[str, ...] = ()) -> Table:
    """merge_key: merge that column down all data rows (XLSX), or, with merge_runs, down each run
    of consecutive records holding the same value. count_keys: counts summed in the 合计 row as
    they are (no unit). A record with `_ghost` set is not written (its record_rows entry is None)
    but draws from rng as if it were, so that leaving a row out changes no other cell of the sample."""
    ncol = len(keys)
    hdr = {k: (money_header(headers[k], style) if k in money_keys else headers[k]) for k in keys}
    sheet = Sheet(name=name, widths=[6] + [14] * (ncol - 1))
    rows = sheet.rows
    if style.title:
        rows.append([title] + [None] * (ncol - 1))
        if style.fmt == "xlsx":
            sheet.merges.append((0, 0, 0, ncol - 1))
        sheet.styles[0] = "title"
        rows.append([unit_line] + [None] * (ncol - 1))
        sheet.styles[1] = "unit"
    sheet.styles[len(rows)] = "header"
    rows.append([hdr[k] for k in keys])
    record_rows: list[int] = []
    sums = {k: 0 for k in money_keys + count_keys}
    section = None
    seq = 0
    first_data = len(rows)
    for rec in records:
        if rec.get("_ghost"):
            for k in keys:
                v = rec.get(k)
                if k in money_keys and v is not None and not isinstance(v, str) and style.text_numbers:
                    if rng.random() < 0.04:
                        rng.random()
            record_rows.append(None)
            continue
        if style.sections and rec.get("_section") and rec["_section"] != section:
            section = rec["_section"]
            r = len(rows)
            rows.append([section] + [None] * (ncol - 1))
            if style.fmt == "xlsx":
                sheet.merges.append((r, 0, r, ncol - 1))
            sheet.styles[r] = "section"
        seq += 1
        row: list[Any] = []
        for k in keys:
            v = rec.get(k)
            if k == "seq":
                v = seq
            elif k in money_keys and v is not None and not isinstance(v, str):
                sums[k] += v
                v = money(v, style.unit)
                if style.text_numbers and rng.random() < 0.04:
                    v = f"{v:,.2f}" if rng.random() < 0.6 else f"{v:.2f}".translate(FULLWIDTH)
            elif k in count_keys and isinstance(v, int):
                sums[k] += v
            row.append(v)
        record_rows.append(len(rows))
        rows.append(row)
    last_data = len(rows) - 1
    written = [r for r in record_rows if r is not None]
    if merge_key and merge_runs and style.fmt == "xlsx":
        c = keys.index(merge_key)
        start = 0
        for i in range(1, len(written) + 1):
            if i < len(written) and rows[written[i]][c] == rows[written[start]][c]:
                continue
            if i - 1 > start:
                for r in written[start + 1:i]:
                    rows[r][c] = None
                sheet.merges.append((written[start], c, written[i - 1], c))
            start = i
    elif merge_key and style.fmt == "xlsx" and len(written) > 1:
        c = keys.index(merge_key)
        for r in written[1:]:
            rows[r][c] = None
        sheet.merges.append((written[0], c, written[-1], c))
    totals: dict[str, float | int] = {}
    if style.totals:
        r = len(rows)
        trow: list[Any] = [None] * ncol
        trow[0] = "合计"
        for k in money_keys:
            if k not in keys:
                continue
            total = money(sums[k] + (totals_offset or {}).get(k, 0), style.unit)
            if style.unit == "亿元":
                total = round(total, 6)
            totals[k] = total
            c = keys.index(k)
            col = xl_col_to_name(c)
            if style.totals == "formula" and style.fmt == "xlsx":
                trow[c] = Formula(f"=SUM({col}{first_data + 1}:{col}{last_data + 1})", total)
            else:
                trow[c] = total
        for k in count_keys:
            c = keys.index(k)
            col = xl_col_to_name(c)
            totals[k] = sums[k]
            trow[c] = (Formula(f"=SUM({col}{first_data + 1}:{col}{last_data + 1})", sums[k])
                       if style.totals == "formula" and style.fmt == "xlsx" else sums[k])
        rows.append(trow)
        sheet.styles[r] = "total"
    if style.footer:
        rows.append([None] * ncol)
        rows.append([FOOTER] + [None] * (ncol - 1))
        rows.append([f"注：本表数据为{title[:4]}年{title[5:].split('月')[0]}月累计数。"] + [None] * (ncol - 1))
    return Table(sheet, record_rows, {k: i for i, k in enumerate(keys)}, hdr, totals)


INSTRUCTIONS = [
    "填报说明",
    "1．本表由各责任单位按月填报，次月5日前报送。",
    "2．金额保留两位小数；数据均为本年1月至报告月累计数。",
    "3．请勿修改表头，不要插入合并单元格以外的格式。",
    "4．如有疑问请联系县政府办公室信息科。",
]


def instructions_sheet() -> Sheet:
    return Sheet(name="填报说明", rows=[[line] for line in INSTRUCTIONS], styles={0: "title"}, widths=[60])


# ------------------------------------------------------------------------------ writer
class SampleWriter:
    def __init__(self, raw_dir: Path, reference_dir: Path, scale: int, seed: int):
        self.raw = Path(raw_dir)
        self.ref = Path(reference_dir)
        self.scale = scale
        self.seed = seed
        self.files: list[dict[str, Any]] = []
        self.planted: list[dict[str, Any]] = []
        self.flags: list[dict[str, Any]] = []     # the cross-period flags the sample should raise
        self.withheld: list[dict[str, Any]] = []  # expected submissions the sample does not ship
        self.rows = {d: 0 for d in DATASETS}

    # -- output
    def style(self, st: Style, dataset: str) -> Style:
        """The month's style, or at CSV_FROM_SCALE and above the same as CSV for a scaled dataset.
        Draws nothing from any random stream: the cells are those the XLSX would have held."""
        if self.scale < CSV_FROM_SCALE or st.fmt == "csv" or dataset not in SCALED_DATASETS:
            return st
        return replace(st, fmt="csv", encoding="utf-8-sig", instructions=False)

    def _path(self, dataset: str, year: int, m: int, submitter: str, ext: str) -> Path:
        return self.raw / dataset / f"{year}-{m:02d}__{submitter}.{ext}"

    def _emit(self, path: Path, table: Table, style: Style, dataset: str, n_records: int) -> None:
        if style.fmt == "csv":
            write_csv(path, table.sheet, style.encoding)
            kind = f"csv/{style.encoding}"
        else:
            sheets = ([instructions_sheet()] if style.instructions else []) + [table.sheet]
            write_xlsx(path, sheets, constant_memory=len(table.sheet.rows) > BIG_XLSX_ROWS)
            kind = "xlsx"
        self.rows[dataset] += n_records
        self.files.append({"path": path.relative_to(self.raw).as_posix(), "dataset": dataset, "format": kind,
                           "data_rows": n_records})

    def _plant(self, path: Path, table: Table, idx: int, key: str | None, value: Any, rule: str,
               effect: str, expected: str, fmt: str) -> None:
        r = table.record_rows[idx]
        entry = {"file": path.relative_to(self.raw).as_posix(), "row": r + 1,
                 "row_kind": "Excel row" if fmt == "xlsx" else "CSV record (header = 1)",
                 "cell": None, "column": None, "value": value, "rule": rule, "effect": effect,
                 "expected": expected}
        if key is not None:
            c = table.col_index[key]
            entry["cell"] = f"{xl_col_to_name(c)}{r + 1}"
            entry["column"] = table.headers[key].replace("\n", "")
        self.planted.append(entry)

    # -- key projects
    def key_projects(self, rng: random.Random, year: int, projects: list[Project], main: bool) -> None:
        keys = ["seq", "code", "name", "level", "sector", "chain", "zone", "township", "total", "plan", "ytd",
                "status", "productive", "start", "unit", "remarks"]
        n_real = len(projects)
        width = len(projects[0].code.split("-")[1])

        def extra_code(k: int) -> str:
            return f"SY{year}-{n_real + k:0{width}d}"

        for m in range(1, 13):
            st = self.style(KP_STYLES[m], "key_projects")
            records = []
            for p in projects:
                status = p.status(m)
                level = p.level if st.levels == "级" else p.level.replace("级", "重点")
                started = status in STARTED
                remarks = None
                if status == "未开工":
                    remarks = "前期手续办理中" if m > 3 else None
                elif status == "竣工":
                    remarks = "已竣工"
                remarks = p.remarks.get(m, remarks)
                records.append({
                    "code": p.code, "name": p.name, "level": level, "sector": p.sector,
                    "chain": fmt_chain(p.chain, st.chains, rng), "zone": fmt_zone(p.zone, st.zones, rng),
                    "township": fmt_town(p.township, st, rng), "total": p.total, "plan": p.plan,
                    "ytd": p.reported_ytd(m), "status": status, "productive": fmt_bool(p.productive, st.bools),
                    "start": fmt_date(p.start_date, st.dates, rng, st.fmt) if started and p.start_date else None,
                    "unit": p.unit, "remarks": remarks, "_section": f"{SECTION_NO[p.sector]}、{p.sector}类项目",
                    "_ghost": not p.on_list(m),
                })
            plants: list[tuple[int, str | None, Any, str, str, str]] = []
            last_section = records[-1]["_section"]

            def extra(**kw: Any) -> int:
                rec = {"level": "县级" if st.levels == "级" else "县重点", "sector": "基础设施",
                       "township": None, "status": "新开工", "productive": fmt_bool(False, st.bools),
                       "unit": "县发改局", "_section": last_section}
                rec.update(kw)
                records.append(rec)
                return len(records) - 1

            if main and m == 2:
                i = extra(code=extra_code(1), name="县应急物资储备库项目", total=-200 * C, plan=0, ytd=0,
                          status="未开工")
                plants.append((i, "total", money(-200 * C, st.unit), "not_positive", "rejected",
                               "总投资必须大于0（当前值：-200）; row rejected"))
                i = extra(code=extra_code(2), name="朝阳镇农产品冷链仓储项目", total=3_500 * C, plan=1_200 * C,
                          ytd=Raw("暂无"), township="朝阳镇")
                plants.append((i, "ytd", "暂无", "not_a_number", "rejected",
                               "本年累计完成投资不是数字（暂无）：如为零请填0; row rejected"))
                for nm in ("松塔镇分布式光伏发电项目", "松塔镇分布式光伏发电项目（二期）"):
                    i = extra(code=extra_code(3), name=nm, total=2_600 * C, plan=800 * C, ytd=120 * C,
                              township="松塔镇")
                    plants.append((i, None, extra_code(3), "duplicate_key", "rejected",
                                   f"项目编号{extra_code(3)}重复出现（两行都被拒收，原因中列出另一行）"))
            if main and m == 5:
                i = next(i for i, p in enumerate(projects) if p.township == "宗艾镇" and p.zone is None)
                records[i]["township"] = "宗爱镇"
                plants.append((i, "township", "宗爱镇", "not_in_list", "cell warning (row loads, township NULL)",
                               f"所在乡镇“宗爱镇”不在乡镇名录中；该格存为空并记入 cell_warnings，"
                               f"项目{projects[i].code}照常入库"))
            if main and m == 7:
                i = extra(code=extra_code(4), name="县城智慧停车场项目", total=2_000 * C, plan=2_500 * C,
                          ytd=300 * C, sector="城市建设")
                plants.append((i, "plan", money(2_500 * C, st.unit), "out_of_range", "rejected",
                               "年度计划投资（2500）不能大于总投资（2000）; row rejected"))
            if main and m == 10:
                i = extra(code=extra_code(5), name="县第二污水处理厂项目", total=8_000 * C, plan=3_000 * C,
                          ytd=1_500 * C, status="在建")
                plants.append((i, "status", "在建", "not_in_list", "rejected",
                               "建设状态“在建”不在可选值（未开工、新开工、复工、续建、竣工）中; row rejected"))
            offset = {"plan": 1_000 * C} if main and m == 8 else None
            title = f"{year}年{period_label(m)}全县重点项目进展情况表"
            unit_line = f"填报单位：县发改局　　　　单位：{st.unit}"
            table = build_table(name=f"{m}月", keys=keys, headers=KP_HEADERS[st.headers], money_keys=KP_MONEY,
                                records=records, style=st, rng=rng, title=title, unit_line=unit_line,
                                totals_offset=offset)
            path = self._path("key_projects", year, m, "发改局", "xlsx" if st.fmt == "xlsx" else "csv")
            self._emit(path, table, st, "key_projects", len(records) - sum(1 for r in records if r.get("_ghost")))
            self._key_project_flags(path, table, projects, m, st.unit)
            for i, key, value, rule, effect, expected in plants:
                self._plant(path, table, i, key, value, rule, effect, expected, st.fmt)
            if offset:
                r = len(table.sheet.rows) - 4  # the 合计 row (then blank, 填表人, 注)
                c = table.col_index["plan"]
                self.planted.append({
                    "file": path.relative_to(self.raw).as_posix(), "row": r + 1, "row_kind": "Excel row",
                    "cell": f"{xl_col_to_name(c)}{r + 1}", "column": table.headers["plan"],
                    "value": table.totals["plan"], "rule": "totals_mismatch",
                    "effect": "warning (totals_check = mismatch, nothing rejected)",
                    "expected": f"合计行年度计划投资{table.totals['plan']}与明细合计"
                                f"{money(sum(p.plan for p in projects if p.on_list(m)), st.unit)}不符（相差1000万元）"})

    def _key_project_flags(self, path: Path, table: Table, projects: list[Project], m: int, unit: str) -> None:
        """The cross-period flags this month's file should raise (SUBMISSIONS.md 8), as planted."""
        rel = path.relative_to(self.raw).as_posix()
        for i, p in enumerate(projects):
            row = table.record_rows[i]
            if row is not None and m > 1 and p.reported_ytd(m) < p.reported_ytd(m - 1):
                remarks = p.remarks.get(m)
                self.flags.append({
                    "period": f"{path.stem[:7]}", "dataset": "key_projects", "key": p.code, "key_name": p.name,
                    "column": "ytd_investment", "value": p.reported_ytd(m) / C,
                    "previous_value": p.reported_ytd(m - 1) / C, "rule": "ytd_decreased",
                    "explained": remarks is not None, "remarks": remarks, "file": rel, "row": row + 1,
                    "unit": unit, "cause": "planted: " + ("a correction explained in 备注" if remarks else
                                                          "the month's own investment written as the year's")})
            if row is not None and p.off_list_from == m + 1:
                self.flags.append({
                    "period": f"{path.stem[:4]}-{m + 1:02d}", "dataset": "key_projects", "key": p.code,
                    "key_name": p.name, "column": None, "value": None, "previous_value": None,
                    "rule": "missing_key", "explained": False, "remarks": None, "file": rel, "row": row + 1,
                    "unit": unit, "cause": f"planted: dropped from the list from {path.stem[:4]}-{m + 1:02d} "
                                           "without a word (file and row: the last month it was reported)"})

    # -- industrial output
    def industrial_output(self, rng: random.Random, year: int, ents: list[Enterprise], main: bool) -> None:
        keys = ["seq", "code", "name", "chain", "township", "ytd", "prev", "output", "digital", "remarks"]
        for m in range(2, 13):
            st = self.style(IO_STYLES[m], "industrial_output")
            records = [{"code": e.credit_code, "name": e.name, "chain": fmt_chain(e.chain, st.chains, rng),
                        "township": fmt_town(e.township, st, rng), "ytd": e.ytd[m], "prev": e.prev[m],
                        "output": e.output[m], "digital": fmt_bool(e.digital, st.bools)} for e in ents]
            plants = []
            if main and m == 2:
                code = bad_credit_code(rng)
                records.append({"code": code, "name": "寿阳县宏达商贸有限公司", "chain": None, "township": "朝阳镇",
                                "ytd": 310 * C, "prev": 280 * C, "output": 950 * C,
                                "digital": fmt_bool(False, st.bools)})
                plants.append((len(records) - 1, "code", code, "bad_credit_code", "rejected",
                               f"统一社会信用代码{code}校验位不正确; row rejected"))
            if main and m == 8:
                records.append({"code": make_credit_code(rng), "name": "寿阳县瑞丰新材料有限公司",
                                "chain": fmt_chain("CHEMICAL", st.chains, rng), "township": "松塔镇",
                                "ytd": Raw("-"), "prev": 410 * C, "output": 1_300 * C,
                                "digital": fmt_bool(False, st.bools), "remarks": "本月新入规"})
                plants.append((len(records) - 1, "ytd", "-", "required", "rejected",
                               "本年累计工业增加值为必填项（如为零请填0）; row rejected"))
            title = f"{year}年{period_label(m)}规模以上工业企业主要指标"
            unit_line = f"填报单位：县统计局　　　　单位：{st.unit}"
            table = build_table(name="规上工业", keys=keys, headers=IO_HEADERS[st.headers], money_keys=IO_MONEY,
                                records=records, style=st, rng=rng, title=title, unit_line=unit_line)
            path = self._path("industrial_output", year, m, "统计局", "xlsx" if st.fmt == "xlsx" else "csv")
            self._emit(path, table, st, "industrial_output", len(records))
            for i, key, value, rule, effect, expected in plants:
                self._plant(path, table, i, key, value, rule, effect, expected, st.fmt)
            if main and m == 3:
                copy = self._path("industrial_output", year, m, "统计局副本", path.suffix[1:])  # CSV at CSV_FROM_SCALE
                shutil.copyfile(path, copy)
                self.files.append({"path": copy.relative_to(self.raw).as_posix(), "dataset": "industrial_output",
                                   "format": self.files[-1]["format"], "data_rows": len(records)})
                self.planted.append({
                    "file": copy.relative_to(self.raw).as_posix(), "row": None, "row_kind": "file",
                    "cell": None, "column": None, "value": None, "rule": "duplicate_file",
                    "effect": "file rejected (the original loads)",
                    "expected": f"重复提交：与{path.relative_to(self.raw).as_posix()}内容完全相同"})

    # -- city indicators
    def city_indicators(self, rng: random.Random, year: int, growth: dict[int, float]) -> None:
        for m in range(2, 13):
            st = CITY_STYLES[m]
            g = growth[m]
            name = "规模以上工业增加值增速" if st.indicator_alias else "规上工业增加值增速"
            if st.pct == "pct_cell":
                value: Any = Pct(round(g / 100, 6)) if st.fmt == "xlsx" else f"{g}%"
            elif st.pct == "number":
                value = g
            elif st.pct == "percent_text":
                value = f"{g}%"
            else:
                value = f"{g}%".translate(FULLWIDTH).replace("%", "％")
            hdr_value = ("数值" if st.headers == "alias" else "全市数值")
            if st.unit_in_header or st.headers == "alias":
                hdr_value += "（%）" if st.fmt == "xlsx" else "(%)"
            headers = {"indicator": "指标" if st.headers == "alias" else "指标名称", "value": hdr_value,
                       "remarks": "备注"}
            records = [{"indicator": name, "value": value, "remarks": f"全市{period_label(m)}累计增速"}]
            title = f"{year}年{period_label(m)}晋中市主要经济指标（规上工业）"
            table = build_table(name="全市指标", keys=["indicator", "value", "remarks"], headers=headers,
                                money_keys=(), records=records, style=st, rng=rng, title=title,
                                unit_line="填报单位：县统计局（摘自市统计局月度数据）")
            path = self._path("city_indicators", year, m, "统计局", "xlsx" if st.fmt == "xlsx" else "csv")
            self._emit(path, table, st, "city_indicators", 1)

    # -- village income
    def village_income(self, rng: random.Random, year: int, villages: list[Village], main: bool) -> None:
        by_town: dict[str, list[Village]] = {}
        for v in villages:
            by_town.setdefault(v.township, []).append(v)
        last: dict[str, tuple[Path, Table]] = {}
        for q in QUARTERS:
            for town in N.TOWNSHIP_NAMES:
                st = self.style(VILLAGE_STYLES[town], "village_income")
                keys = ["seq"]
                if st.township_col != "none":
                    keys.append("township")
                if st.codes != "none":
                    keys.append("code")
                keys += ["name", "op", "total", "source", "remarks"]
                records = []
                for v in by_town[town]:
                    name = v.name
                    if st.drop_cun and rng.random() < 0.35:
                        name = name[:-1]
                    code: Any = v.code if st.codes == "text" else int(v.code)
                    records.append({"township": town, "code": code, "name": name, "op": v.op[q],
                                    "total": v.total[q], "source": v.source})
                plants = []
                if main and q == 6 and town == "南燕竹镇":
                    records.append({"township": "南燕竺镇", "code": None, "name": N.NEW_VILLAGE_MISSPELT,
                                    "op": 12 * C, "total": 30 * C, "source": "土地流转"})
                    plants.append((len(records) - 1, "township", "南燕竺镇", "not_in_list", "rejected",
                                   "所属乡镇“南燕竺镇”不在乡镇名录中（应为南燕竹镇）; row rejected "
                                   "(新建村 cannot be matched to the village list either)"))
                if main and q == 12 and town == "平头镇":
                    records.append({"township": town, "code": None, "name": N.UNKNOWN_VILLAGE, "op": 45 * C,
                                    "total": 60 * C, "source": "乡村旅游", "remarks": "新设村"})
                    plants.append((len(records) - 1, "name", N.UNKNOWN_VILLAGE, "unknown_village", "rejected",
                                   f"{N.UNKNOWN_VILLAGE}不在平头镇的行政村名录中; row rejected"))
                title = f"{year}年{period_label(q)}{town}村级集体经济收入情况表"
                unit_line = f"填报单位：{town}人民政府　　　　单位：{st.unit}"
                table = build_table(name=town, keys=keys, headers=VI_HEADERS[st.headers], money_keys=VI_MONEY,
                                    records=records, style=st, rng=rng, title=title, unit_line=unit_line,
                                    merge_key="township" if st.township_col == "merged" else None)
                path = self._path("village_income", year, q, town, "xlsx" if st.fmt == "xlsx" else "csv")
                if main and (q, town) == MISSING_VILLAGE_FILE:
                    self._withhold(path, year, q, town)
                    continue
                last[town] = (path, table)
                self._emit(path, table, st, "village_income", len(records))
                for i, key, value, rule, effect, expected in plants:
                    self._plant(path, table, i, key, value, rule, effect, expected, st.fmt)

    # -- the office's register of received files
    def register(self, seed: int) -> dict[str, Any]:
        """`<raw dir>/收文登记.csv` (SUBMISSIONS.md 7): a line for every file the sample ships, so
        that a fresh clone (where every file's modification time is the clone's) judges lateness by
        the register. Each file arrives on a working day between the 1st of the following month and
        its due day (later days likelier), in office hours; the one planted late file
        (LATE_FILE) after its due date; the re-sent copy minutes after its original."""
        rng = random.Random(f"{seed}:{self.scale}:register")
        lines: dict[str, datetime] = {}
        out = []
        for f in self.files:
            rel = f["path"]
            dataset, name = rel.split("/")
            y, m = int(name[:4]), int(name[5:7])
            due = date(y + m // 12, m % 12 + 1, N.DUE_DAY[dataset])
            original = rel.replace("副本.", ".")
            if y == 2023 and rel.startswith(LATE_FILE[0]):
                when = LATE_FILE[1]
            elif original != rel and original in lines:
                when = lines[original] + timedelta(minutes=rng.randint(3, 40))
            else:
                when = _received(rng, due)
            lines[rel] = when
            out.append({"file": rel, "received_at": when.strftime("%Y-%m-%d %H:%M"), "due_date": due.isoformat(),
                        "late": when.date() > due})
        out.sort(key=lambda e: (e["received_at"], e["file"]))
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(["文件", "收到时间"])
        for e in out:
            w.writerow([e["file"], e["received_at"]])
        self.raw.mkdir(parents=True, exist_ok=True)
        (self.raw / N.REGISTER_NAME).write_bytes(buf.getvalue().encode("utf-8-sig"))
        return {"path": N.REGISTER_NAME, "lines": out}

    def _withhold(self, path: Path, year: int, q: int, town: str) -> None:
        """The township's file is not sent: 逾期未报. Its villages are not missing keys (SUBMISSIONS.md 8
        as the pipeline reads it: a submission not in is the calendar's to report, not a dropped key).
        A copy left by an earlier sample is removed, so that regenerating over it plants the gap too."""
        path.unlink(missing_ok=True)
        self.withheld.append({"file": path.relative_to(self.raw).as_posix(), "dataset": "village_income",
                              "period": f"{year}-{q:02d}", "submitter": town, "status": "逾期未报"})

    # -- smart mines
    def smart_mines(self, rng: random.Random, year: int, faces: list[Face], main: bool) -> dict[str, Any]:
        keys = ["seq", "mine", "code", "name", "type", "status", "date", "g5", "inv", "remarks"]
        order = {code: i for i, code in enumerate(N.MINES)}
        faces = sorted(faces, key=lambda f: (order[f.mine], f.code.split("-")[0], f.kind != "采煤", f.code))
        figures: dict[str, Any] = {}
        for m in range(1, 13):
            st = self.style(SM_STYLES[m], "smart_mines")
            file_mine = {code: fmt_mine(code, st.mines, rng) for code in N.MINES}
            records = []
            for f in faces:
                status = f.status(m)
                built = status == "已建成"
                remarks = None
                if f.built_month == m:
                    remarks = "本月通过验收"
                elif status == "未开工":
                    remarks = "设计审批中"
                records.append({
                    "mine": file_mine[f.mine] if st.merged else fmt_mine(f.mine, st.mines, rng),
                    "code": f.code, "name": f.name, "type": fmt_face_type(f.kind, st.face_types, rng),
                    "status": STATUS_ALT[status] if st.statuses == "alt" else status,
                    "date": fmt_date(f.completed_on, st.dates, rng, st.fmt) if built and f.completed_on else None,
                    "g5": fmt_bool(f.has_5g(m), st.bools), "inv": f.invest[m], "remarks": remarks})
            plants: list[tuple[int, str | None, Any, str, str, str]] = []

            def extra(**kw: Any) -> int:
                rec = {"type": fmt_face_type("掘进", st.face_types, rng), "status": "在建" if st.statuses != "alt"
                       else "施工中", "g5": fmt_bool(False, st.bools)}
                rec.update(kw)
                records.append(rec)
                return len(records) - 1

            if main and m == 4:
                i = next(i for i, f in enumerate(faces) if f.built_month == 4)
                records[i]["date"] = None
                plants.append((i, "date", None, "missing_date", "cell warning (row loads, 建成时间 NULL)",
                               f"建设状态为“已建成”时应填写建成时间（当前为空）；工作面{faces[i].code}照常入库"))
            if main and m == 5:
                under_way = [i for i, f in enumerate(faces) if f.status(5) == "在建"]
                i = next((i for i in under_way if (faces[i].built_month or 0) >= 7), under_way[0])
                planned = faces[i].completed_on or date(year, 11, 30)
                value = fmt_date(planned, st.dates, rng, st.fmt)
                records[i]["date"] = value
                plants.append((i, "date", value, "future_date", "cell warning (row loads, 建成时间 NULL)",
                               f"建成时间晚于本期报告月的最后一天（当前值：{value}，在建工作面填了计划建成时间）；"
                               f"工作面{faces[i].code}照常入库"))
            if main and m == 6:
                code = "KY-J08"
                for nm in ("9号煤辅助运输巷掘进工作面", "9号煤回风大巷掘进工作面"):
                    i = extra(mine=fmt_mine("KAIYUAN", st.mines, rng), code=code, name=nm, inv=150 * C)
                    plants.append((i, "code", code, "duplicate_key", "rejected",
                                   f"工作面编号{code}重复出现（两行都被拒收，原因中列出另一行）"))
            if main and m == 9:
                i = extra(mine=N.UNKNOWN_MINE, code="FHL-C01", name="2101综采工作面",
                          type=fmt_face_type("采煤", st.face_types, rng), inv=420 * C)
                plants.append((i, "mine", N.UNKNOWN_MINE, "not_in_list", "rejected",
                               f"煤矿名称“{N.UNKNOWN_MINE}”不在智能化建设煤矿名录中; row rejected"))
            title = f"{year}年{period_label(m)}煤矿智能化工作面建设进展表"
            unit_line = f"填报单位：县能源局　　单位：{st.unit}"
            table = build_table(name="智能化工作面", keys=keys, headers=SM_HEADERS[st.headers], money_keys=("inv",),
                                records=records, style=st, rng=rng, title=title, unit_line=unit_line,
                                merge_key="mine" if st.merged else None, merge_runs=True)
            path = self._path("smart_mines", year, m, "能源局", "xlsx" if st.fmt == "xlsx" else "csv")
            self._emit(path, table, st, "smart_mines", len(records))
            for i, key, value, rule, effect, expected in plants:
                self._plant(path, table, i, key, value, rule, effect, expected, st.fmt)
            figures[f"{year}-{m:02d}"] = _smart_mine_figures(faces, m)
        return figures

    # -- zone operations
    def zone_operations(self, rng: random.Random, year: int, zones: list[ZoneOps], main: bool) -> dict[str, Any]:
        figures: dict[str, Any] = {}
        for m in range(1, 13):
            period_figures: dict[str, Any] = {}
            for z in zones:
                if m not in z.months:
                    continue
                st = ZO_STYLES[z.zone][m]
                name = N.ZONES[z.zone][0]
                keys = ["seq"] + (["zone"] if st.zone_col else []) + ["fai", "tax", "rev", "above", "new", "emp",
                                                                      "remarks"]
                rec: dict[str, Any] = {"zone": fmt_zone(z.zone, st.zones, rng), "fai": z.fai[m], "tax": z.tax[m],
                                       "rev": z.revenue[m], "above": z.above[m], "new": z.new[m],
                                       "emp": z.employees[m]}
                if z.new[m] > z.new.get(m - 1, 0):
                    rec["remarks"] = f"本月新增“四上”企业{z.new[m] - z.new.get(m - 1, 0)}家"
                records = [rec]
                fig: dict[str, Any] | None = _zone_ops_figures(z, m)
                plants: list[tuple[int, str | None, Any, str, str, str]] = []
                if main and z.zone == "PINGTOU" and m == 7:
                    records.append({"zone": N.UNKNOWN_ZONE, "fai": 38_600 * C, "tax": 2_150 * C, "rev": 41_200 * C,
                                    "above": 5, "new": 1, "emp": 620, "remarks": "园中园，单独列报"})
                    plants.append((1, "zone", N.UNKNOWN_ZONE, "not_in_list", "rejected",
                                   f"园区名称“{N.UNKNOWN_ZONE}”不在园区名录中（它是平头融合发展区内的园中园）; "
                                   "row rejected, 平头融合发展区's own row loads"))
                if main and z.zone == "CHAOYANG_COAL_MACHINERY" and m == 6:
                    rec["new"] = 21
                    fig["new_above_scale_enterprises"] = None
                    plants.append((0, "new", 21, "out_of_range", "cell warning (row loads, 新增“四上”企业 NULL)",
                                   f"本年新增“四上”企业不能大于“四上”企业数（当前值：21，“四上”企业数：{rec['above']}）"))
                if main and z.zone == "JINGSHANG_AGRI" and m == 3:
                    rec["emp"] = Raw("暂无")
                    fig["employees"] = None
                    plants.append((0, "emp", "暂无", "not_a_number", "cell warning (row loads, 从业人员 NULL)",
                                   "从业人员不是数字（暂无）：可选项，存为空并记入 cell_warnings"))
                if main and z.zone == "JINGSHANG_AGRI" and m == 9:
                    rec["tax"] = -18 * C
                    fig = None
                    plants.append((0, "tax", money(-18 * C, st.unit), "negative", "rejected (the file's only row: "
                                   "file rejected)", "税收收入本年累计不能为负数（当前值：-18）; row rejected"))
                title = f"{year}年{period_label(m)}{name}运行情况表"
                unit_line = f"填报单位：{name}管委会　　单位：{st.unit}"
                table = build_table(name="园区运行", keys=keys, headers=ZO_HEADERS[st.headers], money_keys=ZO_MONEY,
                                    records=records, style=st, rng=rng, title=title, unit_line=unit_line)
                path = self._path("zone_operations", year, m, name, "xlsx" if st.fmt == "xlsx" else "csv")
                self._emit(path, table, st, "zone_operations", len(records))
                for i, key, value, rule, effect, expected in plants:
                    self._plant(path, table, i, key, value, rule, effect, expected, st.fmt)
                if fig is not None:
                    period_figures[name] = fig
            figures[f"{year}-{m:02d}"] = period_figures
        return figures

    # -- talent
    def talent(self, rng: random.Random, year: int, rows: list[TalentRow], main: bool) -> dict[str, Any]:
        keys = ["seq", "field", "kind", "conn", "rec", "remarks"]
        rows = sorted(rows, key=lambda t: (N.TALENT_FIELDS.index(t.field), N.TALENT_KINDS.index(t.kind)))
        figures: dict[str, Any] = {}
        for q in QUARTERS:
            st = TA_STYLES[q]
            records: list[dict[str, Any]] = [{"field": t.field, "kind": fmt_kind(t.kind, st.kinds, rng),
                                              "conn": t.connected[q], "rec": t.recruited[q]} for t in rows]
            plants: list[tuple[int, str | None, Any, str, str, str]] = []
            if main and q == 6:
                records.append({"field": N.UNKNOWN_TALENT_FIELD, "kind": fmt_kind("实用型人才", st.kinds, rng),
                                "conn": 35, "rec": 28, "remarks": "光伏运维"})
                plants.append((len(records) - 1, "field", N.UNKNOWN_TALENT_FIELD, "not_in_list", "rejected",
                               f"产业领域只能填写{'、'.join(N.TALENT_FIELDS)}之一（当前值：{N.UNKNOWN_TALENT_FIELD}）; "
                               "row rejected"))
            title = f"{year}年{period_label(q)}人才引育情况表"
            unit_line = "填报单位：县委组织部　　单位：人"
            table = build_table(name="人才引育", keys=keys, headers=TA_HEADERS[st.headers], money_keys=(),
                                records=records, style=st, rng=rng, title=title, unit_line=unit_line,
                                merge_key="field" if st.merged else None, merge_runs=True, count_keys=("conn", "rec"))
            path = self._path("talent", year, q, "组织部", "xlsx" if st.fmt == "xlsx" else "csv")
            self._emit(path, table, st, "talent", len(records))
            for i, key, value, rule, effect, expected in plants:
                self._plant(path, table, i, key, value, rule, effect, expected, st.fmt)
            figures[f"{year}-{q:02d}"] = _talent_figures(rows, q)
        return figures

    # -- reference
    def villages_csv(self, villages: list[Village]) -> Path:
        self.ref.mkdir(parents=True, exist_ok=True)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["village_code", "village_name", "township_name"])
        for v in villages:
            w.writerow([v.code, v.name, v.township])
        path = self.ref / "villages.csv"
        path.write_text(buf.getvalue(), encoding="utf-8")
        return path


def _workday(d: date) -> bool:
    iso = d.isoformat()
    return iso in N.WORKED_WEEKENDS or (d.weekday() < 5 and iso not in N.HOLIDAYS)


def _received(rng: random.Random, due: date) -> datetime:
    """A plausible time a file was received: a working day from the 1st to the due day (any day of
    them when none is a working day, as over the National Day holiday), in office hours."""
    days = [due.replace(day=d) for d in range(1, due.day + 1)]
    work = [d for d in days if _workday(d)] or days
    day = rng.choices(work, [1 + i for i in range(len(work))])[0]
    minute = rng.choice([rng.randint(8 * 60 + 30, 11 * 60 + 59), rng.randint(14 * 60 + 30, 17 * 60 + 59)])
    return datetime(day.year, day.month, day.day, minute // 60, minute % 60)


def plant_cross_period(projects: list[Project], rng: random.Random) -> None:
    """The key projects' figures that do not fit the previous month (SAMPLE.md, SUBMISSIONS.md 8),
    each on a 县级 project outside the parks that is under way (续建, no 备注) in the months around
    it, so that no figure SAMPLE.md requires moves (they are of 2023-02):

    - ytd_decreased, unexplained: 2023-06 states the month's own investment as 本年累计完成投资
      (lower than May's); July is right again.
    - ytd_decreased, explained: 2023-09 deducts an amount counted twice, with 备注
      `核减重复统计的投资N万元`; the later months carry the correction.
    - missing_key: a project on the list until 2023-07 is absent from 2023-08 on.
    """
    warned = next(p for p in projects if p.township == "宗艾镇" and p.zone is None)  # the 2023-05 cell warning

    def plain(p: Project, months: range) -> bool:
        return (p.group == "E" and p.zone is None and p.kind != "never" and p.complete_month is None
                and p is not warned and not p.ytd_written and p.off_list_from is None
                and all(p.status(m) == "续建" for m in months))

    p = rng.choice([p for p in projects if plain(p, range(5, 8)) and 0 < p.ytd_at(6) - p.ytd_at(5) < p.ytd_at(5)])
    p.ytd_written[6] = p.ytd_at(6) - p.ytd_at(5)

    step = 100 * C
    cands = []
    for p in projects:
        if plain(p, range(8, 13)) and p.ytd_at(8) >= 1_000 * C:
            cut = -(-(p.ytd_at(9) - p.ytd_at(8) + p.ytd_at(8) // 5) // step) * step
            if cut < p.ytd_at(9):
                cands.append((p, cut))
    p, cut = rng.choice(cands)
    for m in range(9, 13):
        p.ytd_written[m] = p.ytd_at(m) - cut
    p.remarks[9] = f"核减重复统计的投资{cut // C}万元"

    p = rng.choice([p for p in projects if plain(p, range(6, 8)) and p.ytd_at(7) > 0])
    p.off_list_from = 8


def years_for(scale: int) -> list[int]:
    if scale >= 100:
        return [2021, 2022, 2023]
    if scale >= 10:
        return [2022, 2023]
    return [2023]


def _project_figures(projects: list[Project], m: int) -> dict[str, dict[str, Any]]:
    out = {}
    projects = [p for p in projects if p.on_list(m)]
    scopes = {"全部": projects, "市级及以上": [p for p in projects if p.level in ("省级", "市级")],
              "省级": [p for p in projects if p.level == "省级"]}
    for scope, ps in scopes.items():
        n = len(ps)
        started = sum(1 for p in ps if p.status(m) in STARTED)
        out[scope] = {
            "projects": n,
            "total_investment_yi": round_half_up(Decimal(sum(p.total for p in ps)) / (C * 10_000), 2),
            "annual_plan_yi": round_half_up(Decimal(sum(p.plan for p in ps)) / (C * 10_000), 2),
            "ytd_investment_yi": round_half_up(Decimal(sum(p.reported_ytd(m) for p in ps)) / (C * 10_000), 2),
            "started_projects": started,
            "start_rate_pct": round_half_up(Decimal(started * 100) / n, 1) if n else None,
            "projects_over_100m": sum(1 for p in ps if p.total >= 10_000 * C),
            "productive_projects": sum(1 for p in ps if p.productive),
        }
    return out


def _zone_figures(projects: list[Project], m: int) -> dict[str, Any]:
    ps = [p for p in projects if p.zone == "PINGTOU" and p.on_list(m)]
    return {"projects": len(ps),
            "total_investment_yi": round_half_up(Decimal(sum(p.total for p in ps)) / (C * 10_000), 2),
            "projects_over_100m": sum(1 for p in ps if p.total >= 10_000 * C),
            "productive_projects": sum(1 for p in ps if p.productive),
            "ytd_investment_yi": round_half_up(Decimal(sum(p.reported_ytd(m) for p in ps)) / (C * 10_000), 2)}


def _industrial_figures(ents: list[Enterprise], m: int, city: float) -> dict[str, Any]:
    ytd = Decimal(sum(e.ytd[m] for e in ents))
    prev = Decimal(sum(e.prev[m] for e in ents))
    growth = (ytd / prev - 1) * 100
    chains = {}
    for code, cname in N.CHAINS:
        es = [e for e in ents if e.chain == code]
        chains[cname] = len(es)
    return {"enterprises": len(ents),
            "value_added_ytd_yi": round_half_up(ytd / (C * 10_000), 2),
            "value_added_prev_ytd_yi": round_half_up(prev / (C * 10_000), 2),
            "yoy_growth_pct": round_half_up(growth, 1),
            "yoy_growth_pct_unrounded": float(round(growth, 6)),
            "city_yoy_growth_pct": city,
            "gap_pp": round_half_up(growth - Decimal(str(city)), 1),
            "digital_core_output_yi": round_half_up(
                Decimal(sum(e.output[m] for e in ents if e.digital)) / (C * 10_000), 2),
            "enterprises_by_chain": chains}


def _village_figures(villages: list[Village], q: int, missing_town: str | None = None) -> dict[str, Any]:
    """share_meeting_target_pct is of the villages expected; a township that sent nothing counts
    among them, not among the villages reported."""
    reported = [v for v in villages if v.township != missing_town]
    meeting = sum(1 for v in reported if v.op[q] >= 40 * C)
    return {"villages_expected": len(villages), "villages_reported": len(reported),
            "villages_meeting_target": meeting,
            "share_meeting_target_pct": round_half_up(Decimal(meeting * 100) / len(villages), 1),
            "operating_income_wan": round_half_up(Decimal(sum(v.op[q] for v in reported)) / C, 2)}


def _yi(cents: int) -> float:
    return round_half_up(Decimal(cents) / (C * 10_000), 2)


def _smart_mine_figures(faces: list[Face], m: int) -> dict[str, Any]:
    def summary(fs: list[Face]) -> dict[str, Any]:
        st = [f.status(m) for f in fs]
        return {"faces": len(fs), "faces_built": st.count("已建成"),
                "mining_faces_built": sum(1 for f, s in zip(fs, st) if s == "已建成" and f.kind == "采煤"),
                "heading_faces_built": sum(1 for f, s in zip(fs, st) if s == "已建成" and f.kind == "掘进"),
                "faces_under_construction": st.count("在建"), "faces_not_started": st.count("未开工"),
                "faces_with_5g": sum(1 for f in fs if f.has_5g(m)),
                "mining_faces": sum(1 for f in fs if f.kind == "采煤"),
                "heading_faces": sum(1 for f in fs if f.kind == "掘进"),
                "investment_ytd_wan": round_half_up(Decimal(sum(f.invest[m] for f in fs)) / C, 2)}
    out = {name: summary([f for f in faces if f.mine == code]) for code, (name, _) in N.MINES.items()}
    out["全县"] = summary(faces)
    return out


def _zone_ops_figures(z: ZoneOps, m: int) -> dict[str, Any]:
    return {"fixed_asset_investment_yi": _yi(z.fai[m]), "tax_revenue_yi": _yi(z.tax[m]),
            "operating_revenue_yi": _yi(z.revenue[m]), "above_scale_enterprises": z.above[m],
            "new_above_scale_enterprises": z.new[m], "employees": z.employees[m]}


def _talent_figures(rows: list[TalentRow], q: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in N.TALENT_KINDS:
        ks = [t for t in rows if t.kind == kind]
        out[kind] = {t.field: {"connected_ytd": t.connected[q], "recruited_ytd": t.recruited[q]} for t in ks}
        out[kind]["合计"] = {"connected_ytd": sum(t.connected[q] for t in ks),
                           "recruited_ytd": sum(t.recruited[q] for t in ks)}
    return out


def write_sample(raw_dir: Path, reference_dir: Path, *, scale: int = 1, seed: int = 2023,
                 years: list[int] | None = None) -> dict:
    """Write the sample submissions under raw_dir/<dataset>/<period>[__<submitter>].<csv|xlsx>
    and reference_dir/villages.csv. Returns a summary dict (files written, rows, planted errors).

    `years`: a subset of `years_for(scale)` to write (benchmarks keep the sample's year only);
    each year draws from its own random streams, so its files are those the full set holds,
    except for the register's received times, drawn in one stream over every file written."""
    if scale < 1:
        raise ValueError("scale must be >= 1")
    if years is not None and not set(years) <= set(years_for(scale)):
        raise ValueError(f"years must be among {years_for(scale)}")
    raw_dir, reference_dir = Path(raw_dir), Path(reference_dir)
    w = SampleWriter(raw_dir, reference_dir, scale, seed)
    villages = build_villages(scale)
    ref_path = w.villages_csv(villages)
    figures: dict[str, Any] = {"key_projects": {}, "zone_project_summary": {}, "industrial_output": {},
                               "village_income": {}, "smart_mine_summary": {}, "zone_operations_summary": {},
                               "talent_summary": {}}
    for year in (years_for(scale) if years is None else sorted(years)):
        main = year == 2023
        factor = 0.9 ** (2023 - year)
        rng = random.Random(f"{seed}:{year}:{scale}")
        projects = build_projects(rng, year, scale, factor)
        if main:
            plant_cross_period(projects, random.Random(f"{seed}:{year}:{scale}:flags"))
        ents = build_enterprises(rng, year, scale, factor, list(range(2, 13)))
        fill_village_income(villages, rng, factor)
        growth = dict(CITY_GROWTH) if main else {m: round(g + rng.uniform(-1.5, 1.5), 1)
                                                 for m, g in CITY_GROWTH.items()}
        w.key_projects(rng, year, projects, main)
        w.industrial_output(rng, year, ents, main)
        w.city_indicators(rng, year, growth)
        w.village_income(rng, year, villages, main)
        for m in range(1, 13):
            figures["key_projects"][f"{year}-{m:02d}"] = _project_figures(projects, m)
            figures["zone_project_summary"][f"{year}-{m:02d}"] = {"平头融合发展区": _zone_figures(projects, m)}
        for m in range(2, 13):
            figures["industrial_output"][f"{year}-{m:02d}"] = _industrial_figures(ents, m, growth[m])
        for q in QUARTERS:
            missing = MISSING_VILLAGE_FILE[1] if main and q == MISSING_VILLAGE_FILE[0] else None
            figures["village_income"][f"{year}-{q:02d}"] = _village_figures(villages, q, missing)
        # The second part (SAMPLE.md): its own random streams, so the first part's files stay as they were.
        rng2 = random.Random(f"{seed}:{year}:{scale}:second")
        faces = build_faces(rng2, year, scale)
        zones = build_zone_ops(rng2, factor)
        talent = build_talent(rng2, factor)
        figures["smart_mine_summary"].update(w.smart_mines(rng2, year, faces, main))
        figures["zone_operations_summary"].update(w.zone_operations(rng2, year, zones, main))
        figures["talent_summary"].update(w.talent(rng2, year, talent, main))
    register = w.register(seed)
    return {
        "raw_dir": str(raw_dir), "reference_dir": str(reference_dir), "scale": scale, "seed": seed,
        "years": years_for(scale) if years is None else sorted(years),
        "files": w.files,
        "villages_csv": str(ref_path), "villages": len(villages),
        "rows": w.rows,
        "planted_errors": w.planted,
        "register": register,
        "withheld": w.withheld,
        "planted_flags": w.flags,
        "figures": figures,
    }
