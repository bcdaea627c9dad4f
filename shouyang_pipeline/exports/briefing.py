"""The county's monthly briefing, in Chinese, written from the marts and the audit tables alone.

It computes nothing the marts have: the figures, the village period a month uses (the
scorecard's data_period), the month range (`marts.sentences.month_range`, as in the scorecard's
sentences), the village target (reference.targets, as the marts read it).

`write_briefing(conn, period, export_dir)` writes `briefing_<period>.md` and
`briefing_<period>.html` (templates in `templates/`; the HTML carries inline SVG charts and
no external resource, so it opens offline). The HTML has an A4 print stylesheet (its own page
header and page numbers, no table or chart cut in two); `exports.pdf` typesets
`briefing_<period>.pdf` from the same sections (`briefing_context`) in the same look.

The sections, numbered in the order shown: industry, key projects, parks' key projects, village
collective income, then, each only when its data is there, the intelligent working faces against
5采21掘 (by mine, with a chart), the parks' operating figures against the 200亿 cluster, and the
"十百千" talent counts against 百名/千名 (the latest quarter of the year, as for the villages); then
the targets, the reporting calendar (报送情况: who sent this period's reports on time, late, sent
back, overdue or not yet due, with due dates, from marts.submission_status; then the figures that
do not fit the previous period still waiting for an explanation, from audit.cross_period_flags)
and the data quality (why files and rows were sent back: the calendar refers to it rather than
repeating it).

The sentences follow the county office's own bulletins, e.g.
`1—2月，全县规模以上工业增加值累计完成25.02亿元，同比增长10.6%，高于全市1.1个百分点。`: one fact
per sentence, Chinese names of departments and reports (never a table's, a dataset's or a rule's
code name), comparisons in words, the department that sends a report rather than the label of a
file name, and what was not due said so (January's industry figures come with February's).

Everything the sections put together (sentences, table cells, captions) is plain text that
carries names, file paths, messages and reasons from the data. The templates escape it once, on
output: the HTML by Jinja2's autoescaping, the Markdown by `md_text` (the `finalize` of its
environment; table cells through the `md_cell` filter), so no value can add a heading, a list,
a link, a table column or raw HTML to the county's briefing. Markdown syntax lives only in
`templates/briefing.md.j2`.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..catalog.datasets import DATASETS
from ..catalog.marts import NOT_YET_DUE, OVERDUE, PARTLY_LOADED, SENT_BACK, SUBMITTED, UNLISTED
from ..catalog.rules import GARBLED_TEXT, MIXED_ENCODING, PLAN_CHANGED, YTD_DECREASED, rule_name
from ..catalog.tables import ALL_ROWS_REJECTED_NOTE, FIRST_PERIOD, NAMING_MARK, UNREAD_SHEETS_NOTE
from ..marts.sentences import month_range, no_industry_data
from . import charts
from .fonts import CSS_FONT_FAMILY

VILLAGE_TARGET_KEY = "village_operating_income_min"


# --- small helpers --------------------------------------------------------------------


def numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十: a section's number (1 to 99)."""
    digits = "零一二三四五六七八九"
    tens, ones = divmod(n, 10)
    return ((digits[tens] if tens > 1 else "") + ("十" if tens else "") + (digits[ones] if ones else "")) or digits[0]


def month_of(period: str) -> int:
    return int(period[5:7])


def period_zh(period: str) -> str:
    return f"{int(period[:4])}年{month_of(period)}月"


def num(value: Any, none: str = "—") -> str:
    """A mart figure as printed: the mart has already rounded it. Never with an exponent: a
    DOUBLE is `{:g}` (40, 0.5) unless that needs one (1e+20 is printed in full)."""
    if value is None:
        return none
    if isinstance(value, float):
        text = f"{value:g}"
        if "e" in text and math.isfinite(value):
            text = format(Decimal(repr(value)), "f")
        return text
    return str(value)


def growth_phrase(pct: Decimal | None, what: str = "同比") -> str:
    if pct is None:
        return f"{what}无可比数据"
    return f"{what}增长{pct}%" if pct >= 0 else f"{what}下降{-pct}%"


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = conn.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


@dataclass
class Section:
    title: str  # without its number: briefing_context numbers the sections it shows (一、工业经济)
    paragraphs: list[str] = field(default_factory=list)
    tables: list[dict] = field(default_factory=list)  # see _table
    charts: list[str] = field(default_factory=list)  # inline SVG (HTML only)
    more: list[Block] = field(default_factory=list)  # what follows the tables, in order


@dataclass
class Block:
    """Paragraphs and their tables after a section's own (报送情况: the flags after the calendar's table)."""

    paragraphs: list[str] = field(default_factory=list)
    tables: list[dict] = field(default_factory=list)


_FIGURE = re.compile(r"-?\d[\d,]*(\.\d+)?%?|—")
# A table of at most this many rows is kept on one printed page (a longer one breaks between rows,
# its header repeated).
KEEP_TOGETHER_ROWS = 30


def _table(caption: str, headers: list[str], rows: list[list[Any]]) -> dict:
    """A table of the briefing: caption, headers, cells as printed, and per column its HTML
    classes: `n` for a column of figures (right-aligned), `nw` for one short enough never to wrap."""
    cells = [[num(c) for c in r] for r in rows]
    classes = []
    for j in range(len(headers)):
        column = [r[j] for r in cells]
        figures = j > 0 and bool(column) and all(_FIGURE.fullmatch(c) for c in column)
        short = max((len(c) for c in column), default=0) <= 12
        classes.append(" ".join(k for k, on in (("n", figures), ("nw", short)) if on))
    return {"caption": caption, "headers": headers, "rows": cells, "classes": classes,
            "keep": len(cells) <= KEEP_TOGETHER_ROWS}


# --- the sections ---------------------------------------------------------------------


def industrial_sentence(row: dict | None, period: str) -> str:
    """The bulletin's sentence on industry above designated size."""
    mr = month_range(period)
    if row is None or not row["enterprises"]:
        if month_of(period) == 1:
            return f"{no_industry_data(period)}。"
        return f"{mr}，全县规模以上工业数据尚未报送。"
    parts = [f"{mr}，全县规模以上工业增加值累计完成{row['value_added_ytd_yi']}亿元"]
    yoy, city, gap = row["yoy_growth_pct"], row["city_yoy_growth_pct"], row["gap_pp"]
    parts.append("上年同期无可比数据" if yoy is None else growth_phrase(yoy))
    if city is None:
        parts.append("全市同期增速暂未报送，无法与全市比较")
    elif gap is not None:
        if gap > 0:
            parts.append(f"高于全市{gap}个百分点")
        elif gap < 0:
            parts.append(f"低于全市{-gap}个百分点")
        else:
            parts.append("与全市持平")
    return "，".join(parts) + "。"


def industry_section(conn, period: str) -> Section:
    s = Section("工业经济")
    row = next(iter(_rows(conn, "SELECT * FROM marts.industrial_output_summary WHERE period = ?", [period])), None)
    s.paragraphs.append(industrial_sentence(row, period))
    has_industry = row is not None and bool(row["enterprises"])
    if has_industry:
        facts = [f"纳入统计的规上工业企业{row['enterprises']}家。"]
        if row["city_yoy_growth_pct"] is not None:
            facts.append(f"全市同期规上工业增加值{growth_phrase(row['city_yoy_growth_pct'])}。")
        facts.append(f"数字经济核心产业产值累计完成{row['digital_core_output_yi']}亿元。")
        s.paragraphs.append("".join(facts))
    chains = _rows(conn, "SELECT * FROM marts.industry_chain_summary WHERE period = ?", [period])
    if not chains:
        return s
    reported = [c for c in chains if c["enterprises"]] if has_industry else []
    if reported:
        ranked = sorted(reported, key=lambda c: c["value_added_ytd_yi"], reverse=True)
        bits = [
            f"{c['chain_name']}{c['enterprises']}家企业累计完成增加值{c['value_added_ytd_yi']}亿元"
            + (f"，{growth_phrase(c['yoy_growth_pct'])}" if c["yoy_growth_pct"] is not None else "")
            for c in ranked
        ]
        none = [c["chain_name"] for c in chains if not c["enterprises"]]
        tail = f"；{'、'.join(none)}暂无规上工业企业" if none else ""
        s.paragraphs.append("分产业链看，" + "；".join(bits) + tail + "。")
    if has_industry:
        s.tables.append(_table(
            "八大产业链",
            ["产业链", "规上企业（家）", "累计增加值（亿元）", "同比（%）", "重点项目（个）", "项目总投资（亿元）", "项目累计完成（亿元）"],
            [[c["chain_name"], c["enterprises"], c["value_added_ytd_yi"], c["yoy_growth_pct"], c["projects"],
              c["project_total_investment_yi"], c["project_ytd_investment_yi"]] for c in chains],
        ))
    else:
        # no industry figures this month (January is published with February): the chains' key
        # projects only, not a column of zeros for figures that were not due
        s.tables.append(_table(
            "八大产业链重点项目",
            ["产业链", "重点项目（个）", "项目总投资（亿元）", "项目累计完成（亿元）"],
            [[c["chain_name"], c["projects"], c["project_total_investment_yi"], c["project_ytd_investment_yi"]]
             for c in chains],
        ))
    if reported:
        s.charts.append(charts.hbar_chart(
            "chart-chains", f"{month_range(period)}各产业链规上工业增加值（亿元）",
            [c["chain_name"] for c in chains], [float(c["value_added_ytd_yi"]) for c in chains], "亿元",
        ))
    return s


# The projects behind schedule a briefing names (the rest are counted).
BEHIND_LISTED = 10


def projects_section(conn, period: str) -> Section:
    s = Section("重点项目")
    mr = month_range(period)
    scopes = {r["scope"]: r for r in _rows(conn, "SELECT * FROM marts.project_summary WHERE period = ?", [period])}
    if not scopes:
        s.paragraphs.append("本期重点项目进展情况表尚未报送。")
        return s

    def completion(r: dict) -> str:
        return f"，完成年度计划的{r['plan_completion_pct']}%" if r["plan_completion_pct"] is not None else ""

    a = scopes["全部"]
    s.paragraphs.append(
        f"全县重点项目{a['projects']}个，总投资{a['total_investment_yi']}亿元，其中亿元以上项目{a['projects_over_100m']}个、"
        f"生产性项目{a['productive_projects']}个。年度计划投资{a['annual_plan_yi']}亿元，"
        f"{mr}累计完成投资{a['ytd_investment_yi']}亿元{completion(a)}。"
        f"开复工项目{a['started_projects']}个，开复工率{num(a['start_rate_pct'])}%。"
    )
    c, p = scopes["市级及以上"], scopes["省级"]
    s.paragraphs.append(
        f"市级及以上重点项目{c['projects']}个（其中省级重点项目{p['projects']}个），总投资{c['total_investment_yi']}亿元，"
        f"年度计划投资{c['annual_plan_yi']}亿元，累计完成投资{c['ytd_investment_yi']}亿元{completion(c)}；"
        f"现已开复工项目{c['started_projects']}个，占比{num(c['start_rate_pct'])}%。"
    )
    s.tables.append(_table(
        "重点项目分级汇总",
        ["范围", "项目（个）", "总投资（亿元）", "年度计划（亿元）", "累计完成（亿元）", "计划完成率（%）",
         "开复工（个）", "开复工率（%）", "亿元以上（个）", "生产性（个）"],
        [[r["scope"], r["projects"], r["total_investment_yi"], r["annual_plan_yi"], r["ytd_investment_yi"],
          r["plan_completion_pct"], r["started_projects"], r["start_rate_pct"], r["projects_over_100m"],
          r["productive_projects"]] for r in scopes.values()],
    ))
    # The first BEHIND_LISTED of the projects behind schedule, each with how many there are (a
    # city's tens of thousands are counted in DuckDB, not fetched).
    behind = _rows(conn, """
        SELECT project_name, level, status, plan_completion_pct, count(*) OVER () AS behind_count
        FROM marts.project_progress WHERE period = ? AND behind_schedule
        ORDER BY CASE level WHEN '省级' THEN 1 WHEN '市级' THEN 2 ELSE 3 END, plan_completion_pct NULLS FIRST, project_code
        LIMIT ?
    """, [period, BEHIND_LISTED])
    elapsed = Decimal(month_of(period) * 100) / 12
    if behind:
        names = "、".join(
            f"{b['project_name']}（{b['level']}，{b['status']}"
            + (f"，完成{b['plan_completion_pct']}%" if b["plan_completion_pct"] is not None else "") + "）"
            for b in behind
        )
        count = behind[0]["behind_count"]
        more = f"，按级别列前{BEHIND_LISTED}个" if count > BEHIND_LISTED else ""
        s.paragraphs.append(
            f"按时间进度（{elapsed.quantize(Decimal('0.1'))}%）衡量，进度滞后的项目{count}个{more}：{names}。"
        )
    else:
        s.paragraphs.append("本期无进度滞后项目。")
    s.charts.append(charts.hbar_chart(
        "chart-scopes", f"{mr}重点项目年度计划完成率（%）",
        list(scopes), [float(r["plan_completion_pct"] or 0) for r in scopes.values()], "%",
        reference=float(elapsed), reference_label=f"时间进度{elapsed:.1f}%",
    ))
    return s


def zones_section(conn, period: str) -> Section:
    s = Section("重点园区")
    zones = _rows(conn, "SELECT * FROM marts.zone_project_summary WHERE period = ?", [period])
    if not zones:
        s.paragraphs.append("本期重点项目进展情况表尚未报送，暂无各园区重点项目情况。")
        return s
    sentences = []
    for z in zones:
        if z["projects"]:
            sentences.append(
                f"{z['zone_name']}共有重点项目{z['projects']}个，总投资{z['total_investment_yi']}亿元，"
                f"其中亿元以上项目{z['projects_over_100m']}个、生产性项目{z['productive_projects']}个，"
                f"本年累计完成投资{z['ytd_investment_yi']}亿元。"
            )
        else:
            sentences.append(f"{z['zone_name']}暂无列入县重点项目清单的项目。")
    s.paragraphs.append("".join(sentences))
    s.tables.append(_table(
        "园区重点项目",
        ["园区", "项目（个）", "总投资（亿元）", "亿元以上（个）", "生产性（个）", "累计完成（亿元）"],
        [[z["zone_name"], z["projects"], z["total_investment_yi"], z["projects_over_100m"], z["productive_projects"],
          z["ytd_investment_yi"]] for z in zones],
    ))
    s.charts.append(charts.hbar_chart(
        "chart-zones", "各园区重点项目总投资（亿元）",
        [z["zone_name"] for z in zones], [float(z["total_investment_yi"]) for z in zones], "亿元", color=charts.ORANGE,
    ))
    return s


def village_data_period(conn, period: str) -> str | None:
    """The village period the briefing of `period` speaks of: the one its scorecard row used
    (target_scorecard.data_period of the village target: the latest village period up to this
    one in the same year). A month the scorecard has no such row for (no data of its own, or no
    village target in reference.targets) looks that period up in marts.township_income_summary
    by the same rule."""
    card = conn.execute(
        "SELECT data_period FROM marts.target_scorecard WHERE period = ? AND target_key = ?",
        [period, VILLAGE_TARGET_KEY],
    ).fetchone()
    if card is not None:
        return card[0]
    r = conn.execute(
        "SELECT max(period) FROM marts.township_income_summary WHERE period <= ? AND substr(period, 1, 4) = ?",
        [period, period[:4]],
    ).fetchone()
    return r[0] if r else None


def village_target_wan(conn) -> Decimal | None:
    """The village operating-income target (万元) of reference.targets; None if it is not set."""
    r = conn.execute("SELECT target_value FROM reference.targets WHERE target_key = ?", [VILLAGE_TARGET_KEY]).fetchone()
    return None if r is None or r[0] is None else Decimal(str(r[0]))


def villages_section(conn, period: str) -> Section:
    s = Section("村级集体经济")
    dp = village_data_period(conn, period)
    target = village_target_wan(conn)
    target_txt = None if target is None else f"{target.normalize():f}"
    if dp is None:
        goal = "目标" if target_txt is None else f"{target_txt}万元的目标"
        s.paragraphs.append(f"本年尚无村级集体经济收入数据（各乡镇按季度报送），暂无法对照经营性收入{goal}。")
        return s
    towns = _rows(conn, "SELECT * FROM marts.township_income_summary WHERE period = ?", [dp])
    county = next(t for t in towns if t["township"] == "全县")
    towns = [t for t in towns if t["township"] != "全县"]
    lead = f"据各乡镇报送的{period_zh(dp)}数据" + ("" if dp == period else "（本月无新报送，沿用最近一期）")
    everyone = county["villages_reported"] == county["villages_expected"]
    if everyone:
        reporting = f"全县{county['villages_expected']}个行政村全部报送"
    else:
        reporting = f"全县{county['villages_expected']}个行政村中已报送{county['villages_reported']}个"
    if target_txt is None:
        meeting = "村集体经济经营性收入目标尚未设定"
    else:
        below = county["villages_reported"] - county["villages_meeting_target"]
        meeting = (f"村集体经济经营性收入达到{target_txt}万元以上的{county['villages_meeting_target']}个，"
                   f"占全部行政村的{num(county['share_meeting_target_pct'])}%"
                   + (f"，已报送的村中尚有{below}个未达到" if below and not everyone
                      else f"，尚有{below}个未达到" if below else ""))
    income = (f"全县村集体经营性收入累计{county['operating_income_wan']}万元" if everyone
              else f"已报送村经营性收入累计{county['operating_income_wan']}万元")
    gap = (f"，未达标村距目标合计还差{county['shortfall_wan']}万元" if county["shortfall_wan"] else "")
    s.paragraphs.append(f"{lead}，{reporting}，{meeting}。{income}{gap}。")
    missing = [t for t in towns if t["villages_expected"] and t["villages_reported"] < t["villages_expected"]]
    if missing:
        s.paragraphs.append("尚有村未报送的乡镇：" + "、".join(
            f"{t['township']}（应报{t['villages_expected']}个，已报{t['villages_reported']}个）" for t in missing) + "。")
    full = [t["township"] for t in towns if t["villages_expected"] and t["villages_meeting_target"] == t["villages_expected"]]
    if full:
        s.paragraphs.append("所有行政村均已达标的乡镇：" + "、".join(full) + "。")
    worst = _rows(conn, """
        SELECT village_name, township, operating_income_wan, shortfall_wan
        FROM marts.village_income WHERE period = ? AND NOT meets_target
        ORDER BY shortfall_wan DESC, township, village_name LIMIT 5
    """, [dp])
    if worst:
        s.paragraphs.append("距目标最远的村：" + "、".join(
            f"{w['township']}{w['village_name']}（经营性收入{w['operating_income_wan']}万元，差{w['shortfall_wan']}万元）"
            for w in worst) + "。")
    s.tables.append(_table(
        f"分乡镇村集体经济经营性收入（{period_zh(dp)}）",
        ["乡镇", "应报村（个）", "已报村（个）", "达标村（个）", "达标率（%）", "经营性收入（万元）", "距目标差额（万元）"],
        [[t["township"], t["villages_expected"], t["villages_reported"], t["villages_meeting_target"],
          t["share_meeting_target_pct"], t["operating_income_wan"], t["shortfall_wan"]] for t in [*towns, county]],
    ))
    shown = [t for t in towns if t["villages_expected"]]
    s.charts.append(charts.stacked_hbar_chart(
        "chart-villages", f"各乡镇行政村经营性收入达标情况（{period_zh(dp)}）",
        [t["township"] for t in shown],
        [
            ("达标" if target_txt is None else f"达标（不低于{target_txt}万元）",
             [t["villages_meeting_target"] for t in shown], charts.GREEN),
            ("已报未达标", [t["villages_reported"] - t["villages_meeting_target"] for t in shown], charts.ORANGE),
            ("未报送", [t["villages_expected"] - t["villages_reported"] for t in shown], charts.GREY),
        ],
        "行政村（个）", counts=True,
    ))
    return s


# --- the county's other targets: smart mines, parks, talent (each only with its data) ---------

SMART_FACES_KEY = "smart_working_faces"
CLUSTER_KEY = "pingtou_industry_cluster"
LEADING_TALENT_KEY = "leading_talent"
PRACTICAL_TALENT_KEY = "practical_talent"
COUNTY = "全县"  # the county's row of a mart (smart_mine_summary.mine_name)
TALENT_TOTAL = "合计"  # the all-fields row of marts.talent_summary
LEADING, PRACTICAL = "领军人才", "实用型人才"
CLUSTER_ZONE = "平头融合发展区"  # the 200亿 cluster's park, when reference.targets does not name it

# 5采21掘: the faces of each type the county's plan builds, read as the scorecard reads them
# (target_scorecard.sql): "N采M掘" in the target's name, WAREHOUSE.md's 5 and 21 when it has none
FACE_SPLIT = re.compile(r"(\d+)采(\d+)掘")
FACE_SPLIT_DEFAULT = (5, 21)
MINE_COLOURS = [charts.BLUE, charts.GREEN, charts.ORANGE, "#6b46c1", "#319795", "#b7791f"]


def target_row(conn, key: str) -> dict | None:
    """A target of reference.targets (as the marts read it), or None when it is not set."""
    return next(iter(_rows(conn, "SELECT * FROM reference.targets WHERE target_key = ?", [key])), None)


def _target_number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _plain(value: Decimal) -> str:
    """A target as the office writes it: 200, 40, 0.5 (no trailing zeros, no exponent)."""
    return f"{value.normalize():f}"


def _share_pct(part: Any, whole: Decimal) -> str:
    """part ÷ whole × 100, to one decimal, half away from zero (四舍五入)."""
    return str((Decimal(str(part)) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _mine_short(name: str) -> str:
    """段王煤矿 → 段王, as the bulletin names the mines in a list (段王、开元、平舒3个智能化矿井)."""
    return name[:-2] if name.endswith("煤矿") and len(name) > 2 else name


def face_targets(conn) -> tuple[tuple[str, str, int], ...]:
    """(type, the mart's built column, faces to build) for 采煤 and 掘进: 5采21掘."""
    target = target_row(conn, SMART_FACES_KEY)
    m = FACE_SPLIT.search(target["target_name"] or "") if target else None
    mining, heading = (int(m.group(1)), int(m.group(2))) if m else FACE_SPLIT_DEFAULT
    return ("采煤", "mining_faces_built", mining), ("掘进", "heading_faces_built", heading)


def faces_gap(county: dict, targets: tuple[tuple[str, str, int], ...]) -> str:
    """How far the faces built are from 5采21掘, per type (a type above its target does not make up
    for the other): `距5采21掘目标尚差3个`, naming the type when that is not plain from the figures."""
    goal = "".join(f"{n}{kind[0]}" for kind, _, n in targets) + "目标"
    short = [(kind, max(0, n - (county[col] or 0))) for kind, col, n in targets]
    missing = [(kind, k) for kind, k in short if k]
    if not missing:
        return f"已完成{goal}"
    total = sum(k for _, k in missing)
    if len(missing) > 1:
        return f"距{goal}尚差{total}个（" + "、".join(f"{kind}{k}个" for kind, k in missing) + "）"
    over = any((county[col] or 0) > n for _, col, n in targets)
    return f"距{goal}尚差{missing[0][0]}工作面{total}个" if over else f"距{goal}尚差{total}个"


def smart_mines_section(conn, period: str) -> Section:
    """The intelligent working faces (县能源局, monthly): built against 5采21掘, by mine. Nothing
    when the period has no smart-mine data."""
    s = Section("煤矿智能化")
    rows = _rows(conn, "SELECT * FROM marts.smart_mine_summary WHERE period = ?", [period])
    county = next((r for r in rows if r["mine_name"] == COUNTY and r["mine_code"] is None), None)
    if county is None:
        return s
    mines = [r for r in rows if r is not county]
    targets = face_targets(conn)
    m = month_of(period)
    listed = [r for r in mines if r["faces"]]
    names = "、".join(_mine_short(r["mine_name"]) for r in listed)
    s.paragraphs.append(
        f"{names}{len(listed)}个智能化矿井共{county['faces']}个智能化工作面，截至{m}月已建成{county['faces_built']}个"
        f"（采煤{county['mining_faces_built']}个、掘进{county['heading_faces_built']}个），{faces_gap(county, targets)}。"
    )
    facts = []
    rest = [f"{what}{county[col]}个" for what, col in (("在建", "faces_under_construction"), ("未开工", "faces_not_started"))
            if county[col]]
    if rest:
        facts.append(f"其余工作面中{'、'.join(rest)}。")
    facts.append(f"已实现5G覆盖的工作面{county['faces_with_5g']}个。")
    if county["investment_ytd_wan"] is not None:
        facts.append(f"{month_range(period)}累计完成智能化建设投资{county['investment_ytd_wan']}万元。")
    s.paragraphs.append("".join(facts))
    if listed:
        s.paragraphs.append("分煤矿看，" + "；".join(
            f"{r['mine_name']}{r['faces']}个工作面"
            + ("已全部建成" if r["faces_built"] == r["faces"] else f"已建成{r['faces_built']}个")
            for r in listed) + "。")
    s.tables.append(_table(
        f"分煤矿智能化工作面建设情况（截至{m}月）",
        ["煤矿", "工作面（个）", "已建成（个）", "其中采煤（个）", "其中掘进（个）", "在建（个）", "未开工（个）",
         "5G覆盖（个）", "本年累计投资（万元）"],
        [[r["mine_name"], r["faces"], r["faces_built"], r["mining_faces_built"], r["heading_faces_built"],
          r["faces_under_construction"], r["faces_not_started"], r["faces_with_5g"], r["investment_ytd_wan"]]
         for r in [*mines, county]],
    ))
    built_mines = [r for r in mines if any(r[col] for _, col, _ in targets)]
    series = [(r["mine_name"], [r[col] or 0 for _, col, _ in targets], MINE_COLOURS[i % len(MINE_COLOURS)])
              for i, r in enumerate(built_mines)]
    series.append(("距目标尚差", [max(0, n - (county[col] or 0)) for _, col, n in targets], charts.GREY))
    goal = "".join(f"{n}{kind[0]}" for kind, _, n in targets)
    s.charts.append(charts.stacked_hbar_chart(
        "chart-mines", f"智能化工作面建成情况对照{goal}目标（截至{m}月）",
        [f"{kind}（目标{n}个）" for kind, _, n in targets], series, "已建成工作面（个）", counts=True,
    ))
    return s


def _zone_facts(z: dict) -> list[str]:
    """A park's investment, tax, "四上" enterprises and employees, the parts it reported."""
    facts = [f"固定资产投资累计完成{z['fixed_asset_investment_yi']}亿元", f"税收收入累计{z['tax_revenue_yi']}亿元"]
    total, new = z["above_scale_enterprises"], z["new_above_scale_enterprises"]
    if total is not None:
        facts.append(f"“四上”企业{total}家" + (f"，其中本年新增{new}家" if new is not None else ""))
    elif new is not None:
        facts.append(f"本年新增“四上”企业{new}家")
    if z["employees"] is not None:
        facts.append(f"从业人员{z['employees']}人")
    return facts


def zone_operations_section(conn, period: str) -> Section:
    """The parks' operating figures (each park's management committee, monthly, cumulative): 平头
    融合发展区's operating revenue against the 200亿 cluster, its investment, tax and "四上"
    enterprises, and the other parks that reported. Nothing when no park reported."""
    s = Section("园区运行")
    zones = _rows(conn, "SELECT * FROM marts.zone_operations_summary WHERE period = ?", [period])
    if not zones:
        return s
    mr = month_range(period)
    target = target_row(conn, CLUSTER_KEY)
    goal = _target_number(target["target_value"]) if target else None
    main_name = (target["scope"] if target and target["scope"] else None) or CLUSTER_ZONE
    main = next((z for z in zones if z["zone_name"] == main_name), None)
    others = [z for z in zones if z is not main]
    if main is not None:
        revenue = f"{mr}，{main_name}实现营业性收入{main['operating_revenue_yi']}亿元"
        if main["operating_revenue_yoy_pct"] is not None:
            revenue += f"，{growth_phrase(main['operating_revenue_yoy_pct'])}"
        if goal:
            unit = target["unit"] or "亿元"
            # met or not as the scorecard decided it (on the unrounded revenue), else on the figure shown
            card = conn.execute("SELECT status FROM marts.target_scorecard WHERE period = ? AND target_key = ?",
                                [period, CLUSTER_KEY]).fetchone()
            met = card[0] == "达标" if card and card[0] in ("达标", "未达标") else main["operating_revenue_yi"] >= goal
            if met:
                revenue += f"，已达到{_plain(goal)}{unit}产业集群目标"
            else:
                revenue += f"，占{_plain(goal)}{unit}产业集群目标的{_share_pct(main['operating_revenue_yi'], goal)}%"
        s.paragraphs.append(revenue + "。" + "，".join(_zone_facts(main)) + "。")
    else:
        s.paragraphs.append(f"{main_name}管委会本期园区运行情况表未报送，暂无法对照产业集群目标。")
    if others:
        s.paragraphs.append(("其他园区中，" if main is not None else "已报送的园区中，") + "；".join(
            f"{z['zone_name']}实现营业性收入{z['operating_revenue_yi']}亿元，"
            f"固定资产投资{z['fixed_asset_investment_yi']}亿元，税收收入{z['tax_revenue_yi']}亿元"
            for z in others) + "。")
    s.tables.append(_table(
        f"各园区运行情况（{mr}累计）",
        ["园区", "营业性收入（亿元）", "同比（%）", "固定资产投资（亿元）", "税收收入（亿元）", "“四上”企业（家）",
         "本年新增“四上”企业（家）", "从业人员（人）"],
        [[z["zone_name"], z["operating_revenue_yi"], z["operating_revenue_yoy_pct"], z["fixed_asset_investment_yi"],
          z["tax_revenue_yi"], z["above_scale_enterprises"], z["new_above_scale_enterprises"], z["employees"]]
         for z in ([main] if main is not None else []) + others],
    ))
    return s


def talent_data_period(conn, period: str) -> str | None:
    """The talent period the briefing of `period` speaks of (quarterly): the one its scorecard row
    used (target_scorecard.data_period of the leading-talent target: the latest talent period up to
    this one in the same year), or by the same rule over marts.talent_summary."""
    card = conn.execute(
        "SELECT data_period FROM marts.target_scorecard WHERE period = ? AND target_key = ?",
        [period, LEADING_TALENT_KEY],
    ).fetchone()
    if card is not None and card[0] is not None:
        return card[0]
    r = conn.execute(
        "SELECT max(period) FROM marts.talent_summary WHERE period <= ? AND substr(period, 1, 4) = ?",
        [period, period[:4]],
    ).fetchone()
    return r[0] if r else None


def _talent_against(conn, key: str, what: str, count: int) -> str:
    target = target_row(conn, key)
    goal = _target_number(target["target_value"]) if target else None
    if not goal:
        return ""
    if count >= goal:
        return f"{what}已完成全年{_plain(goal)}名的目标"
    return f"{what}距全年{_plain(goal)}名的目标尚差{_plain(goal - count)}名"


def talent_section(conn, period: str) -> Section:
    """The "十百千" action (县委组织部, quarterly): 领军人才 connected against 百名, 实用型人才 brought
    in and trained against 千名, by field, from the latest quarter of the year up to this month.
    Nothing when the year has no talent data yet."""
    s = Section("人才引育")
    dp = talent_data_period(conn, period)
    if dp is None:
        return s
    rows = _rows(conn, "SELECT * FROM marts.talent_summary WHERE period = ?", [dp])
    by = {(r["talent_kind"], r["field"]): r for r in rows}
    leading, practical = by.get((LEADING, TALENT_TOTAL)), by.get((PRACTICAL, TALENT_TOTAL))
    if leading is None or practical is None:
        return s
    department = DATASETS["talent"].department
    lead = f"截至{month_of(dp)}月"
    if dp != period:
        lead = f"据{department}报送的{period_zh(dp)}数据（按季度报送，本月无新报送，沿用最近一期），{lead}"
    connected, recruited = leading["connected_ytd"], practical["recruited_ytd"]
    against = [x for x in (_talent_against(conn, LEADING_TALENT_KEY, f"对接{LEADING}", connected),
                           _talent_against(conn, PRACTICAL_TALENT_KEY, f"引进培育{PRACTICAL}", recruited)) if x]
    s.paragraphs.append(f"{lead}，全县对接{LEADING}{connected}名，引进培育{PRACTICAL}{recruited}名。"
                        + ("，".join(against) + "。" if against else ""))
    fields = list(dict.fromkeys(r["field"] for r in rows if r["field"] != TALENT_TOTAL))

    def top(kind: str, col: str) -> str:
        ranked = sorted((by[(kind, f)] for f in fields if (kind, f) in by and by[(kind, f)][col]),
                        key=lambda r: r[col], reverse=True)[:3]
        return "、".join(f"{r['field']}（{r[col]}名）" for r in ranked)

    parts = [f"{what}较多的领域是{names}" for what, names in
             ((f"对接{LEADING}", top(LEADING, "connected_ytd")), (f"引进培育{PRACTICAL}", top(PRACTICAL, "recruited_ytd")))
             if names]
    if parts:
        s.paragraphs.append("分领域看，" + "；".join(parts) + "。")

    def cell(kind: str, f: str, col: str) -> Any:
        r = by.get((kind, f))
        return None if r is None else r[col]

    s.tables.append(_table(
        f"分领域人才引育情况（截至{month_of(dp)}月）",
        ["产业领域", "领军人才对接（名）", "领军人才引进培育（名）", "实用型人才对接（名）", "实用型人才引进培育（名）"],
        [[f, cell(LEADING, f, "connected_ytd"), cell(LEADING, f, "recruited_ytd"),
          cell(PRACTICAL, f, "connected_ytd"), cell(PRACTICAL, f, "recruited_ytd")] for f in [*fields, TALENT_TOTAL]],
    ))
    return s


def scorecard_section(conn, period: str) -> Section:
    """The targets of reference.targets against this month's figures: how many are met, which,
    and one row each with the scorecard's own sentence (target_scorecard.detail), which states
    the figure and the target in words."""
    s = Section("目标任务对照")
    cards = _rows(conn, "SELECT * FROM marts.target_scorecard WHERE period = ?", [period])
    if not cards:
        return s
    by = {k: [c for c in cards if c["status"] == k] for k in ("达标", "未达标", "无数据")}
    met, unmet, none = by["达标"], by["未达标"], by["无数据"]
    lead = f"对照县委、县政府确定的{len(cards)}项目标（累计数对照全年目标），"
    if met or unmet:
        lead += f"本期有数据的{len(met) + len(unmet)}项中，达标{len(met)}项，未达标{len(unmet)}项"
        lead += f"；另有{len(none)}项暂无数据。" if none else "。"
    else:
        lead += "本期均无可对照的数据。"
    s.paragraphs.append(lead)
    if met:
        s.paragraphs.append("已达标：" + "、".join(c["target_name"] for c in met) + "。")
    if unmet:
        s.paragraphs.append("未达标：" + "；".join(
            c["target_name"] + (f"（{c['detail']}）" if c["detail"] else "") for c in unmet) + "。")
    if none and (met or unmet):
        s.paragraphs.append("暂无数据：" + "、".join(c["target_name"] for c in none) + "，原因见下表。")
    s.tables.append(_table(
        "目标对照表",
        ["目标", "状态", "完成情况"],
        [[c["target_name"], c["status"], c["detail"] or "—"] for c in cards],
    ))
    return s


STATUS_NAMES = {"loaded": "全部入库", "partial": "部分入库", "rejected": "整体退回"}
TOTALS_NAMES = {"ok": "一致", "mismatch": "不符"}  # NULL: no 合计 row, or none with a figure to compare
# Cell warnings whose value was kept as read (the others were stored as NULL)
KEPT_AS_READ = {GARBLED_TEXT, MIXED_ENCODING}
_TOTALS_NOTE = re.compile(r"合计行与明细不符：[^；。]*")


def totals_name(f: dict) -> str:
    """The 合计 check of a file, in words: 一致, 不符, 未核对 (a 合计 row without an amount that could
    be compared: blank, not a number, a formula saved without its result), 无需核对 (a 合计 row of a
    dataset without amounts: only amounts are checked), 无合计行 (— for a file not read)."""
    if f["status"] == "rejected":
        return "—"
    if f["totals_check"] is None:
        if not f["rows_totals"]:
            return "无合计行"
        dataset = DATASETS.get(f["dataset"] or "")
        return "未核对" if dataset is not None and dataset.has_money else "无需核对"
    return TOTALS_NAMES.get(f["totals_check"], f["totals_check"])


def sender(f: dict) -> str:
    """Who sent a file, as the office names them: the department of a dataset one department
    sends (`县统计局`, also for `__统计局副本`, a copy it sent again), the township of a dataset each
    township sends (`平头镇`), or the name the file gives when it is nobody's we know."""
    ds = DATASETS.get(f["dataset"] or "")
    submitter = f["submitter"]
    if ds is not None and not ds.department.startswith("各"):
        if not submitter or ds.department.removeprefix("县委").removeprefix("县") in submitter:
            return ds.department
    return submitter or (ds.department if ds else "报送单位不明")


def _issues(conn, table: str, file_path: str) -> list[dict]:
    return _rows(conn, f"""
        SELECT rule, count(*) AS cells, count(DISTINCT source_row) AS n, min(source_row) AS first_row,
               arg_min(reason, source_row) AS example, arg_min(source_cell, source_row) AS cell
        FROM audit.{table} WHERE file_path = ?
        GROUP BY rule ORDER BY n DESC, rule
    """, [file_path])


def _file_paragraph(conn, f: dict) -> str:
    ds = DATASETS.get(f["dataset"] or "")
    head = f"{sender(f)}报送的《{f['file_path']}》（{ds.title if ds else '无法识别的报表'}）"
    sentences = []
    rejected = _issues(conn, "rejected_rows", f["file_path"])
    if f["status"] == "rejected":
        text = "整个文件被退回，不计入任何数据"
        if f["rows_read"]:
            text += f"（读到数据行{f['rows_read']}行）"
        # (a file rejected for its name: the naming rule, which names the folders by their code, is
        # for the sender's receipt, not the office)
        message = (f["message"] or "").split(NAMING_MARK)[0].rstrip("。")
        if rejected and ALL_ROWS_REJECTED_NOTE.match(message):
            # every row failed, the reasons follow (退回原因): the log's message sends analysts to
            # the audit table; said in the office's words, with what may explain it (columns not
            # recognised, sheets not read; the totals have a sentence of their own below)
            message = "；".join([f"全部{f['rows_read']}行数据均未通过校验",
                                 *([f"已忽略无法识别的列：{f['ignored_columns']}"] if f["ignored_columns"] else []),
                                 *UNREAD_SHEETS_NOTE.findall(message)])
        if message:
            text += f"。原因：{message}"
        sentences.append(text)
    elif f["rows_rejected"]:
        sentences.append(f"读到数据行{f['rows_read']}行，入库{f['rows_loaded']}行，退回{f['rows_rejected']}行")
    else:
        sentences.append(f"数据行{f['rows_read']}行全部入库")
    if rejected:
        sentences.append("退回原因：" + "；".join(
            f"{rule_name(r['rule'])}：{r['n']}行（如第{r['first_row']}行：{(r['example'] or '').rstrip('。')}）"
            for r in rejected[:3]) + ("等" if len(rejected) > 3 else ""))
    warnings = _issues(conn, "cell_warnings", f["file_path"]) if f["status"] != "rejected" else []
    for kept in (False, True):
        group = [w for w in warnings if (w["rule"] in KEPT_AS_READ) == kept]
        if not group:
            continue
        n = sum(w["cells"] for w in group)
        what = ("疑似乱码或编码有误，已按读到的内容入库" if kept
                else "无法采用，已按空值入库（所在行照常入库）")
        sentences.append(f"另有{n}个单元格{what}，请核实：" + "；".join(
            f"{rule_name(w['rule'])}{w['cells']}处（如第{w['first_row']}行"
            + (f"{w['cell']}单元格" if w["cell"] else "")
            + f"：{(w['example'] or '').rstrip('。')}）" for w in group[:3]) + ("等" if len(group) > 3 else ""))
    if f["totals_check"] == "mismatch":
        notes = _TOTALS_NOTE.findall(f["message"] or "")
        sentences.append(("；".join(notes) if notes else "合计行与明细数之和不符") + "，请核对")
    return f"{head}：" + "。".join(sentences) + "。"


def quality_section(conn, period: str, village_period: str | None) -> Section:
    """Every current file of this period, the quarterly files of the quarter the briefing speaks
    of (villages, talent), and the files no period could hold: in the briefing of the month their
    name gives (`foo/2023-06.csv`), and in every briefing when their name gives no month, or one
    before 2020 or after the briefing's year (`2099-01`: no briefing of its own to be in). (A
    briefing's digest counts the rows of such files in every month: `warehouse.digests`.) For
    each: how many went in whole, and for the others what was sent back, which cells were stored
    empty or kept as read (cell warnings), and which 合计 rows disagree with their details."""
    s = Section("数据质量")
    files = _rows(conn, """
        SELECT l.*, coalesce(w.cells, 0) AS warned_cells
        FROM audit.ingest_log AS l
        LEFT JOIN (SELECT file_path, count(*) AS cells FROM audit.cell_warnings GROUP BY file_path) AS w
          ON w.file_path = l.file_path
        WHERE l.is_current
          AND (l.period = $period
               OR (l.dataset = 'village_income' AND l.period = $village)
               OR (l.dataset = 'talent' AND l.period = $talent)
               OR (l.partition_key IS NULL AND (l.period IS NULL OR l.period < $first
                                                OR l.period > substr($period, 1, 4) || '-12')))
        ORDER BY l.dataset NULLS LAST, l.period, l.file_path
    """, {"period": period, "village": village_period, "talent": talent_data_period(conn, period),
          "first": FIRST_PERIOD})
    if not files:
        s.paragraphs.append("本期未读到任何报送文件。")
        return s
    for f in files:
        if f["status"] == "rejected":
            f["warned_cells"] = 0  # nothing of a rejected file is in the warehouse
    kinds = {
        "整体退回": [f for f in files if f["status"] == "rejected"],
        "部分数据行被退回": [f for f in files if f["status"] == "partial"],
        "已入库但有需要核实之处": [f for f in files if f["status"] == "loaded"
                          and (f["warned_cells"] or f["totals_check"] == "mismatch")],
    }
    problems = [f for group in kinds.values() for f in group]
    clean = len(files) - len(problems)
    earlier = [f for f in files if f["period"] != period and f["partition_key"] is not None]  # the quarter's
    quarters = "、".join(f"{DATASETS[d].department}{period_zh(p)}报送的{DATASETS[d].title}{n}个" for (d, p), n in
                         Counter((f["dataset"], f["period"]) for f in earlier).items())
    count = f"本期共读到报送文件{len(files)}个" + (f"（含{quarters}）" if earlier else "")
    if not problems:
        s.paragraphs.append(f"{count}，均全部入库，未发现被退回的文件或数据行、需要核实的单元格或与明细不符的合计行。")
    else:
        parts = ([f"{clean}个全部入库、未发现问题"] if clean else []) + [
            f"{len(group)}个{kind}" for kind, group in kinds.items() if group]
        s.paragraphs.append(f"{count}，其中{'，'.join(parts)}，具体如下。")
        s.paragraphs.extend(_file_paragraph(conn, f) for f in problems)
    s.tables.append(_table(
        "报送文件一览",
        ["文件", "报送单位", "状态", "数据行", "入库", "退回", "需核实单元格", "合计行核对"],
        [[f["file_path"], sender(f), STATUS_NAMES.get(f["status"], f["status"]), f["rows_read"], f["rows_loaded"],
          f["rows_rejected"], f["warned_cells"], totals_name(f)] for f in files],
    ))
    waiting = conn.execute("SELECT count(*) FROM audit.cross_period_flags WHERE period = ? AND NOT explained",
                           [period]).fetchone()[0]
    if waiting:  # listed in the 报送情况 section, before this one
        s.paragraphs.append(f"此外，本期有{waiting}处数字与上期对不上、尚待报送单位说明，见上文报送情况部分。")
    return s


# --- 报送情况: the reporting calendar and the figures that do not fit the previous period -------

# marts.submission_status.status (WAREHOUSE.md; catalog.marts.SUBMISSION_STATUSES)
RECEIVED = (SUBMITTED, PARTLY_LOADED)
PARTLY = PARTLY_LOADED
# The flags' table lists at most this many (the receipts and the workbook list them all).
FLAGS_LISTED = 50
# A group of reports not yet due names at most this many senders (`朝阳镇、南燕竹镇、宗艾镇等14个单位`);
# the table below lists them all.
WAITING_NAMED = 3


def due_year(period: str) -> int:
    """The year of the month a period's reports are due in (2023-12's: 2024)."""
    return int(period[:4]) + (month_of(period) == 12)


def day_zh(d: Any, year: int | None = None) -> str:
    """`11月10日`, with the year (`2024年1月3日`) when it is not `year`; — for none."""
    if d is None:
        return "—"
    text = f"{d.month}月{d.day}日"
    return text if year is None or d.year == year else f"{d.year}年{text}"


def unit_name(department: str | None, submitter: str | None = None) -> str:
    """A sender as the office names it: its department (`县统计局`), a township without
    `人民政府` (`平头镇`); the name in the file's name when it is on no list."""
    name = department or submitter or "报送单位不明"
    return name.removesuffix("人民政府") if len(name) > len("人民政府") else name


def _report(r: dict) -> str:
    """`平头镇村级集体经济收入情况表`: who sends which report."""
    return f"{unit_name(r['department'], r['submitter'])}{r['dataset_title'] or '报表'}"


def _by_report_and_due(rows: list[dict], most: int | None = None) -> str:
    """`平头镇、宗艾镇村级集体经济收入情况表，应于10月10日前报送；…`: the senders of one report and
    due date together (`朝阳镇、南燕竹镇、宗艾镇等14个单位…` past `most` names)."""
    groups: dict[tuple, list[str]] = {}
    for r in rows:
        groups.setdefault((r["dataset_title"] or "报表", r["due_date"]), []).append(
            unit_name(r["department"], r["submitter"]))
    parts = []
    for (title, due), units in groups.items():
        names = ("、".join(units) if most is None or len(units) <= most
                 else f"{'、'.join(units[:most])}等{len(units)}个单位的")
        parts.append(f"{names}{title}" + (f"，应于{day_zh(due)}前报送" if due else ""))
    return "；".join(parts)


def _unlisted_item(r: dict) -> str:
    """A file from no expected submission, and why it is none."""
    title = r["dataset_title"] or "无法识别的报表"
    if r["department"]:
        why = f"按报送日历{unit_name(r['department'])}本期不需报送该表"
    elif r["submitter"]:
        why = f"文件名中的报送单位“{r['submitter']}”不在报送日历中"
    else:
        why = "文件名中未写报送单位"
    return f"《{r['file_path']}》（{title}，{why}）"


def calendar_paragraphs(rows: list[dict], period: str) -> list[str]:
    """The sentences on this period's expected submissions (rows of marts.submission_status)."""
    expected = [r for r in rows if r["status"] != UNLISTED]
    unlisted = [r for r in rows if r["status"] == UNLISTED]
    received = [r for r in expected if r["status"] in RECEIVED]
    late = [r for r in received if r["is_late"]]
    back = [r for r in expected if r["status"] == SENT_BACK]
    overdue = [r for r in expected if r["status"] == OVERDUE]
    out = []
    if not expected:
        out.append("按报送日历，本期没有应报送的报表。")
    else:
        kinds = [  # (what, rows, detail), in the order the office reads them
            ("已按时报送", [r for r in received if not r["is_late"]], ""),
            ("逾期报送", late, "；".join(
                f"{_report(r)}，{day_zh(r['first_received_at'], due_year(period))}收到" for r in late)),
            (SENT_BACK, back, "、".join(_report(r) for r in back)),
            (OVERDUE, overdue, _by_report_and_due(overdue)),
            ("尚未到期", [r for r in expected if r["status"] == NOT_YET_DUE],
             _by_report_and_due([r for r in expected if r["status"] == NOT_YET_DUE], WAITING_NAMED)),
        ]
        kinds = [k for k in kinds if k[1]]
        head = f"本期应报送报表{len(expected)}份，"
        if len(kinds) == 1:  # all alike: 均已按时报送
            what, _, detail = kinds[0]
            out.append(f"{head}均{what}" + (f"（{detail}）" if detail else "") + "。")
        else:
            out.append(head + "，".join(f"{what}{len(group)}份" + (f"（{detail}）" if detail else "")
                                        for what, group, detail in kinds) + "。")
        follow = []
        partly = [r for r in received if r["status"] == PARTLY]
        if partly:
            follow.append(f"已报送的报表中有{len(partly)}份部分入库（{'、'.join(_report(r) for r in partly)}），"
                          "被退回的数据行及原因见数据质量部分。")
        if back:
            follow.append("被退回的报表请报送单位改正后重新报送，退回原因见数据质量部分。")
        if overdue:
            follow.append("逾期未报的，请报送单位尽快报送。")
        if follow:
            out.append("".join(follow))
    if unlisted:
        out.append(f"另收到报送日历以外的文件{len(unlisted)}个：{'；'.join(_unlisted_item(r) for r in unlisted)}。"
                   "请核实报送单位。")
    return out


def calendar_table(rows: list[dict], period: str) -> dict:
    def sent_by(r: dict) -> str:
        if r["status"] == UNLISTED and not r["department"]:
            return r["submitter"] or "未写报送单位"
        return unit_name(r["department"], r["submitter"])

    return _table(
        "分单位报送情况",
        ["报送单位", "报表", "截止时间", "收到时间", "状态", "待说明数字（处）"],
        [[sent_by(r), r["dataset_title"] or "无法识别的报表",
          f"{day_zh(r['due_date'])}前" if r["due_date"] else "—",
          day_zh(r["first_received_at"], due_year(period)),
          r["status"] + ("（逾期报送）" if r["is_late"] else ""),
          r["open_flags"] or 0] for r in rows],
    )


def _flag_rows(conn, period: str) -> list[dict]:
    """The period's cross-period flags, each with who sent its file: the department of the
    calendar's row the file was matched to (for a key missing this period, the previous period's
    file), else the name in the file's name."""
    return _rows(conn, """
        SELECT f.*, s.department, l.submitter
        FROM audit.cross_period_flags AS f
        LEFT JOIN (SELECT DISTINCT file_path, submitter, expected_submitter FROM audit.ingest_log WHERE is_current) AS l
          ON l.file_path = f.file_path
        LEFT JOIN reference.submitters AS s ON s.dataset = f.dataset AND s.submitter = l.expected_submitter
        WHERE f.period = ?
        ORDER BY f.dataset, CASE f.rule WHEN ? THEN 1 WHEN ? THEN 2 ELSE 3 END, f.file_path, f.source_row, f."column"
    """, [period, YTD_DECREASED, PLAN_CHANGED])


def _flag_sender(f: dict) -> str:
    if f["department"]:
        return unit_name(f["department"])
    return sender({"dataset": f["dataset"], "submitter": f["submitter"]})


def _flag_object(f: dict) -> str:
    """`三号项目（XM003）`: the project, enterprise, village … a flag is about (`羊头崖乡/西庄村`
    alone when the key already says the name)."""
    if f["key_name"] and f["key"] and f["key_name"] not in f["key"]:
        return f"{f['key_name']}（{f['key']}）"
    return f["key"] or f["key_name"] or "—"


def flags_block(conn, period: str) -> Block:
    """The figures of this period that do not fit the previous one (audit.cross_period_flags):
    those still waiting for the sender's explanation, counted by sender and report with the
    kinds of flag, one table row each with its reason; how many 备注 explained (已说明).
    (A report not in this period has no flags: a key missing is only flagged in a file its
    sender did send, `marts.flags`; the calendar reports the rest.)"""
    b = Block()
    flags = _flag_rows(conn, period)
    waiting = [f for f in flags if not f["explained"]]
    explained = len(flags) - len(waiting)
    if not flags and month_of(period) == 1:
        b.paragraphs.append("1月为本年第一期，累计数不与上年12月比对。")
        return b
    if not flags:
        b.paragraphs.append("与上期数据比对，未发现累计数比上期减少、计划数与上期不同或上期在报本期未报的情况。")
        return b
    if not waiting:
        b.paragraphs.append(f"与上期数据比对，有{explained}处数字与上期不一致，均已由报送单位在备注中说明。")
        return b
    groups: dict[tuple[str, str], list[dict]] = {}
    for f in waiting:
        ds = DATASETS.get(f["dataset"])
        groups.setdefault((_flag_sender(f), ds.title if ds else "报表"), []).append(f)
    parts, listed = [], []
    for (unit, title), group in groups.items():
        kinds: dict[str, int] = {}
        for f in group:
            kinds[rule_name(f["rule"])] = kinds.get(rule_name(f["rule"]), 0) + 1
        why = "、".join(f"{k}{n}处" for k, n in kinds.items())
        listed.extend(group)
        parts.append(f"{unit}{title}{len(group)}处（{why}）")
    b.paragraphs.append(f"与上期数据比对，本期有{len(waiting)}处数字尚待报送单位核实说明：{'；'.join(parts)}。"
                        + (f"另有{explained}处已由报送单位在备注中说明。" if explained else ""))
    if listed:
        first = f"，列前{FLAGS_LISTED}处" if len(listed) > FLAGS_LISTED else ""
        b.tables.append(_table(
            f"待核实说明的数字（共{len(listed)}处{first}）",
            ["报送单位", "文件", "行号", "对象", "问题", "情况"],
            [[_flag_sender(f), f["file_path"], f["source_row"], _flag_object(f), rule_name(f["rule"]),
              (f["reason"] or "").rstrip("。")] for f in listed[:FLAGS_LISTED]],
        ))
    return b


def status_section(conn, period: str) -> Section:
    """Who has sent this period's reports (marts.submission_status): how many were due, which
    came in on time, late (the day received), were sent back, are overdue (the due day) or not
    yet due, the files from no one on the calendar; a table by sender. Then the figures that do
    not fit the previous period (`flags_block`). Why a file or a row was sent back is the
    data-quality section's: this one refers to it."""
    s = Section("报送情况")
    # in the mart's order, the county's calendar's (the files from no one on it last)
    rows = sorted(_rows(conn, "SELECT * FROM marts.submission_status WHERE period = ?", [period]),
                  key=lambda r: r["status"] == UNLISTED)
    s.paragraphs.extend(calendar_paragraphs(rows, period))
    if rows:
        s.tables.append(calendar_table(rows, period))
    s.more.append(flags_block(conn, period))
    return s


def briefing_context(conn: duckdb.DuckDBPyConnection, period: str) -> dict:
    industry = industry_section(conn, period)
    vp = village_data_period(conn, period)
    sections = [
        industry,
        projects_section(conn, period),
        zones_section(conn, period),
        villages_section(conn, period),
        smart_mines_section(conn, period),
        zone_operations_section(conn, period),
        talent_section(conn, period),
        scorecard_section(conn, period),
        status_section(conn, period),
        quality_section(conn, period, vp),
    ]
    shown = [s for s in sections if s.paragraphs or s.tables]
    for number, s in enumerate(shown, start=1):
        s.title = f"{numeral(number)}、{s.title}"
    departments = sorted({d.department for d in DATASETS.values()})
    title = f"寿阳县重点工作数据简报（{period_zh(period)}）"
    return {
        "period": period,
        "title": title,
        "subtitle": f"{period[:4]}年{month_range(period)}",
        "lead": industry.paragraphs[0],
        "sections": shown,
        "source": f"数据来源：{'、'.join(departments)}报送的统计报表，经校验汇总；金额单位为亿元或万元，四舍五入；"
                  "增速为按现价计算的名义增速。",
        "font_family": CSS_FONT_FAMILY,
        "page_header": css_string(title),
    }


def css_string(text: str) -> str:
    """`text` as a quoted CSS string (a page header's `content`): quotes, backslashes, line breaks
    and `<` escaped, so it can end neither the string nor the <style> element."""
    out = []
    for ch in text:
        if ch in '"\\<>&' or ord(ch) < 0x20 or ch in "\u2028\u2029":
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


# --- escaping --------------------------------------------------------------------------

# Escaped wherever they are (CommonMark lets any ASCII punctuation be backslash-escaped):
# code spans, emphasis, links and images, table cells, strikethrough, braces of extensions.
# `&` and `<` become entities, as in HTML: no tag, comment, autolink or entity can start.
_MD_INLINE = {**{c: "\\" + c for c in "\\`*[]{}()!|~"}, "&": "&amp;", "<": "&lt;"}
# What starts a block at the start of a line: a heading, a quote, a list item, a break.
_MD_LIST_ITEM = re.compile(r"[-+](?=[-+ \t]|$)")
_MD_ORDERED_ITEM = re.compile(r"^(\d{1,9})\.(?=[ \t]|$)")


def _in_word(ch: str) -> bool:
    """A letter, digit or CJK character: not whitespace, punctuation, symbol or control."""
    return unicodedata.category(ch)[0] not in "PSZC"


def md_text(value: Any, *, cell: bool = False) -> str:
    """`value` as inert Markdown text: shown as it is, never read as markup.

    Line breaks become spaces (the text stays one line) and surrounding blanks go (they
    would indent a code block); `&` and `<` become entities, so there is no raw HTML; the
    characters that are markup anywhere in a line are backslash-escaped (\\ ` * [ ] { } ( ) ! | ~),
    `_` too unless it is inside a word (`key_projects/2023-02__县发改局.xlsx` cannot start
    emphasis and is left as it is). Unless `cell` (a table cell, which never starts a line),
    what would start a block at the start of a line is escaped too: `#`, `>`, `-`/`+` list
    markers and breaks, `1.` ordered items. `#`, `>`, `-`, `+` and `.` inside a line are text
    (`>` ends a tag only after a `<`, which is always escaped) and stay as they are, so numbers,
    dates, file paths, `>= 40万元` and ordinary sentences keep their bytes.
    """
    text = " ".join(str(value).splitlines()).strip(" \t")
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == "_":
            j = i
            while j < n and text[j] == "_":
                j += 1
            in_word = i > 0 and j < n and _in_word(text[i - 1]) and _in_word(text[j])
            out.append(text[i:j] if in_word else "\\_" * (j - i))
            i = j
            continue
        out.append(_MD_INLINE.get(text[i], text[i]))
        i += 1
    text = "".join(out)
    if not cell:
        if text.startswith("#") or _MD_LIST_ITEM.match(text):
            text = "\\" + text
        elif text.startswith(">"):
            text = "&gt;" + text[1:]
        else:
            text = _MD_ORDERED_ITEM.sub(r"\1\\.", text, count=1)
    return text


class _Markdown(str):
    """Text already escaped by `md_text` (what the `md_cell` filter returns)."""


def _md_finalize(value: Any) -> str:
    """Every `{{ ... }}` of the Markdown template goes through here: escaped as a line."""
    return value if isinstance(value, _Markdown) else md_text(value)


# A table cell shows at most this many characters of a text (a submitted name, a remark): a cell
# of thousands of characters would fill pages with one table row (and took the PDF's former
# typesetter, WeasyPrint, minutes to hours), and the whole text is in the warehouse.
CELL_CHARS = 200


def cell_text(value: Any) -> Any:
    """A table cell's value, a text longer than CELL_CHARS cut there with "…"."""
    if isinstance(value, str) and len(value) > CELL_CHARS:
        return value[: CELL_CHARS - 1] + "…"
    return value


def _md_cell(value: Any) -> _Markdown:
    return _Markdown(md_text(cell_text(value), cell=True))


_OPTIONS = dict(
    loader=PackageLoader("shouyang_pipeline.exports", "templates"),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV = Environment(autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False), **_OPTIONS)
_MD_ENV = Environment(autoescape=False, finalize=_md_finalize, **_OPTIONS)
_MD_ENV.filters["md_cell"] = _md_cell
_ENV.filters["cell_text"] = cell_text


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_briefing(conn: duckdb.DuckDBPyConnection, period: str, export_dir: str | Path) -> list[Path]:
    """Write briefing_<period>.md and briefing_<period>.html into export_dir; return both paths.
    (A run writes the PDF from the same sections: `write_briefing_text` and `exports.pdf.write_pdf`.)"""
    return write_briefing_text(briefing_context(conn, period), export_dir)


def write_briefing_text(ctx: dict, export_dir: str | Path) -> list[Path]:
    """The Markdown and the HTML of a briefing's sections (`briefing_context`); returns both paths."""
    export_dir = Path(export_dir)
    export_dir.mkdir(parents=True, exist_ok=True)
    md = export_dir / f"briefing_{ctx['period']}.md"
    html = export_dir / f"briefing_{ctx['period']}.html"
    _write(md, _MD_ENV.get_template("briefing.md.j2").render(**ctx))
    _write(html, _ENV.get_template("briefing.html.j2").render(**ctx))
    return [md, html]
