"""The briefing's sections on the county's other targets, from real submissions: the intelligent
working faces against 5采21掘 (县能源局), the parks' operating figures against the 200亿 cluster (the
parks' management committees) and the "十百千" talent counts against 百名/千名 (县委组织部); each only
when the period has its data. And the analysts' workbook's sheets of those marts.

The files are written as departments write them (a title row, a unit row, aliases, a 合计 row and
a footer in the XLSX, GBK and UTF-8 CSV, the park taken from the file name), ingested and loaded
as a run does (conftest), the marts built, the briefing and the workbook written from them.
"""

from __future__ import annotations

import csv
import html as htmllib
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest

from shouyang_pipeline.catalog.marts import MARTS
from shouyang_pipeline.config import Settings
from shouyang_pipeline.exports.briefing import write_briefing
from shouyang_pipeline.exports.workbook import AUDIT_SHEETS, COUNT_FORMAT, MONEY_FORMAT, PERCENT_FORMAT, header, sheet_name, write_workbook
from shouyang_pipeline.ingest.discover import discover
from shouyang_pipeline.ingest.period import ingest_period
from shouyang_pipeline.marts.build import build_all
from shouyang_pipeline.reference import Reference
from shouyang_pipeline.warehouse.load import load_period, load_reference

from conftest import KP_HEADER, PROJECT_REFERENCE, VILLAGES, kp_row, write_csv, write_xlsx

SM_HEADER = ["煤矿名称", "工作面编号", "工作面名称", "工作面类型", "建设状态", "建成时间", "是否5G覆盖", "本年累计完成投资", "备注"]
ZO_HEADER = ["固定资产投资本年累计", "税收收入本年累计", "营业性收入本年累计", "“四上”企业数", "本年新增\"四上\"企业",
             "从业人员", "备注"]
TA_HEADER = ["产业领域", "人才类别", "本年累计对接人数", "本年累计引进培育人数"]

FACE_NAME = "<script>alert('face')</script>**x**|"
REMARK = "**x**| <script>alert('remark')</script> [点我](http://evil.example)"


# --- the submissions ---------------------------------------------------------------------


def faces_2023_06() -> list[list]:
    """26 faces of 3 mines: 23 built (采煤 5, 掘进 18), 2 在建, 1 未开工; 20 with 5G."""
    plan = [  # mine as written, 采煤 built, 掘进 built, 掘进 在建, 掘进 未开工, faces with 5G
        ("段王", 2, 8, 1, 1, 9),
        ("开元煤矿", 2, 6, 0, 0, 8),
        ("平舒煤业", 1, 4, 1, 0, 3),
    ]
    rows, n = [], 0
    for mine, mining, heading, building, waiting, with_5g in plan:
        kinds = ([("综采", "已建成")] * mining + [("掘进", "建成")] * heading + [("综掘", "施工中")] * building
                 + [("掘", "未开工")] * waiting)
        for i, (kind, status) in enumerate(kinds):
            n += 1
            built = status in ("已建成", "建成")
            rows.append([mine, f"GZM{n:03d}", f"{mine}{n}号工作面", kind, status,
                         date(2023, 3, 1 + n % 28) if built else None, "是" if i < with_5g else "否",
                         10 if n == 1 else 11.5, None])
    rows[0][2] = FACE_NAME  # a hostile face name: never printed, and harmless if it were
    rows[0][8] = REMARK
    return rows


def write_submissions(raw: Path) -> None:
    # 县发改局: a key project each month, so that the months are ordinary ones
    for period in ("2023-02", "2023-05", "2023-06"):
        write_xlsx(raw / "key_projects" / f"{period}__县发改局.xlsx", [KP_HEADER, kp_row("XM001")])

    # 县能源局: June only, an XLSX with title, unit, 合计 and footer rows
    faces = faces_2023_06()
    write_xlsx(raw / "smart_mines" / "2023-06__县能源局.xlsx", [
        ["2023年6月煤矿智能化工作面建设进展表"],
        ["填报单位：县能源局　　　　单位：万元"],
        SM_HEADER,
        *faces,
        ["合计", None, None, None, None, None, None, sum(r[7] for r in faces)],
        ["填表人：王五"],
    ], merges=("A1:I1",))

    # the parks: 平头 in its own file without a 园区 column (the zone from the file name), in 万元;
    # 朝阳 a GBK CSV with the column; June 2022 for 平头's growth
    write_xlsx(raw / "zone_operations" / "2023-06__平头融合发展区.xlsx", [
        ["平头融合发展区2023年1-6月运行情况"],
        ZO_HEADER,
        [200000, 21500, 750000, 40, 6, 3200, REMARK],
    ])
    write_xlsx(raw / "zone_operations" / "2022-06__平头融合区.xlsx", [
        ZO_HEADER[:3], [150000, 18000, 600000],
    ])
    write_csv(raw / "zone_operations" / "2023-06__朝阳煤机专业镇.csv", [
        ["园区名称", "固定资产投资（亿元）", "税收收入（亿元）", "营业收入（亿元）", "四上企业", "新增四上企业", "从业人数", "备注"],
        ["朝阳煤机专业镇", "5.2", "0.8", "18.3", "", "", "", "<b>粗</b>"],
    ], encoding="gbk")

    # 县委组织部: March and June (quarterly), aliases for the kinds, fields left out are zero
    write_csv(raw / "talent" / "2023-03__县委组织部.csv", [
        TA_HEADER,
        ["数字经济", "领军型人才", "30", "5"],
        ["智能制造", "领军人才", "20", "2"],
        ["数字经济", "实用人才", "100", "300"],
        ["现代农业", "实用型人才", "50", "250"],
    ], encoding="utf-8-sig")
    write_csv(raw / "talent" / "2023-06__县委组织部.csv", [
        TA_HEADER,
        *[[f, "领军人才", c, r] for f, c, r in (
            ("交通物流", 20, 4), ("数字经济", 25, 6), ("医疗康养", 15, 3), ("智能制造", 18, 5), ("现代农业", 5, 1),
            ("文化旅游", 3, 1))],
        *[[f, "实用型人才", c, r] for f, c, r in (
            ("交通物流", 100, 200), ("数字经济", 120, 150), ("医疗康养", 80, 120), ("智能制造", 90, 130),
            ("现代农业", 150, 220), ("文化旅游", 60, 80), ("其他", 10, 12))],
    ])


# --- a warehouse built from them -------------------------------------------------------------


def make_settings(base: Path) -> Settings:
    reference = base / "reference"
    shutil.copytree(PROJECT_REFERENCE, reference)
    with open(reference / "villages.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["village_code", "village_name", "township_name"])
        w.writerows(VILLAGES)
    raw = base / "raw"
    raw.mkdir()
    return Settings(raw_dir=raw, warehouse=base / "warehouse" / "warehouse.duckdb", export_dir=base / "exports",
                    archive_dir=base / "archive", reference_dir=reference)


def build(settings: Settings) -> duckdb.DuckDBPyConnection:
    """Every dataset-period of the raw dir ingested and loaded, then the marts built."""
    conn = duckdb.connect(":memory:")
    load_reference(conn, settings.reference_dir)
    reference = Reference.load(settings.reference_dir)
    files = discover(settings.raw_dir, "2023-12")
    for dataset, period in sorted({f.dataset_period for f in files if f.dataset_period}):
        result = ingest_period(settings, dataset, period, reference,
                               files=[f for f in files if f.dataset_period == (dataset, period)])
        load_period(conn, result)
    build_all(conn)
    return conn


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("new_sections"))
    write_submissions(settings.raw_dir)
    conn = build(settings)
    yield conn, settings
    conn.close()


@pytest.fixture(scope="module")
def briefings(warehouse) -> dict[str, tuple[str, str]]:
    """period → (markdown, html)."""
    conn, settings = warehouse
    out = {}
    for period in ("2023-02", "2023-05", "2023-06"):
        md, html = write_briefing(conn, period, settings.export_dir)
        out[period] = (md.read_text(encoding="utf-8"), html.read_text(encoding="utf-8"))
    return out


def section(md: str, title: str) -> str:
    """The text of the section titled `title` (whatever its number), up to the next section."""
    m = re.search(rf"^## [一二三四五六七八九十]+、{title}\n(.*?)(?=^## |^---$)", md, flags=re.M | re.S)
    assert m, f"no section {title}"
    return m.group(1)


def text_of(html: str) -> str:
    """The HTML's text as a reader sees it (charts and styles left out, entities decoded)."""
    body = re.sub(r"<(style|svg)\b.*?</\1>", "", html, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", "", body))


def test_the_loads_are_what_the_briefing_is_written_from(warehouse):
    conn, _ = warehouse
    log = dict(conn.execute("SELECT file_path, status FROM audit.ingest_log WHERE is_current").fetchall())
    assert all(status == "loaded" for status in log.values()), log
    assert conn.execute("SELECT count(*) FROM staging.smart_mines").fetchone()[0] == 26


# --- 煤矿智能化 ------------------------------------------------------------------------------


MINES_SENTENCE = ("段王、开元、平舒3个智能化矿井共26个智能化工作面，截至6月已建成23个（采煤5个、掘进18个），"
                  "距5采21掘目标尚差3个。")


def test_smart_mines_section(briefings):
    md, html = briefings["2023-06"]
    mines = section(md, "煤矿智能化")
    assert MINES_SENTENCE in mines
    assert ("其余工作面中在建2个、未开工1个。已实现5G覆盖的工作面20个。1—6月累计完成智能化建设投资297.50万元。"
            in mines)
    assert "分煤矿看，段王煤矿12个工作面已建成10个；开元煤矿8个工作面已全部建成；平舒煤矿6个工作面已建成5个。" in mines
    assert "**分煤矿智能化工作面建设情况（截至6月）**" in mines
    assert "| 段王煤矿 | 12 | 10 | 2 | 8 | 1 | 1 | 9 | 136.50 |" in mines
    assert "| 全县 | 26 | 23 | 5 | 18 | 2 | 1 | 20 | 297.50 |" in mines
    assert MINES_SENTENCE in text_of(html)


def test_the_mines_chart_is_inline_svg(briefings):
    _, html = briefings["2023-06"]
    chart = re.search(r'<figure><svg id="chart-mines".*?</svg></figure>', html, flags=re.S)
    assert chart, "the mines chart"
    labels = [htmllib.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", chart.group(0))]
    joined = " ".join(labels)
    # built against the target per type, each mine its own part of the bar, the shortfall in grey
    assert "采煤（目标5个）" in joined and "掘进（目标21个）" in joined
    assert {"段王煤矿", "开元煤矿", "平舒煤矿", "距目标尚差"} <= set(labels)
    assert "http" not in chart.group(0) and "<image" not in chart.group(0)


# --- 园区运行 --------------------------------------------------------------------------------


ZONES_SENTENCE = ("1—6月，平头融合发展区实现营业性收入75.00亿元，同比增长25.0%，占200亿元产业集群目标的37.5%。"
                  "固定资产投资累计完成20.00亿元，税收收入累计2.15亿元，“四上”企业40家，其中本年新增6家，从业人员3200人。")


def test_zone_operations_section(briefings):
    md, html = briefings["2023-06"]
    zones = section(md, "园区运行")
    assert ZONES_SENTENCE in zones
    assert "其他园区中，朝阳煤机制造专业镇实现营业性收入18.30亿元，固定资产投资5.20亿元，税收收入0.80亿元。" in zones
    assert "| 平头融合发展区 | 75.00 | 25.0 | 20.00 | 2.15 | 40 | 6 | 3200 |" in zones
    assert "| 朝阳煤机制造专业镇 | 18.30 | — | 5.20 | 0.80 | — | — | — |" in zones
    assert ZONES_SENTENCE in text_of(html)


def test_zone_section_when_pingtou_has_not_reported(warehouse, tmp_path):
    conn, _ = warehouse
    md = _briefing_without(conn, tmp_path, "平头融合发展区")
    zones = section(md, "园区运行")
    assert "平头融合发展区管委会本期园区运行情况表未报送，暂无法对照产业集群目标。" in zones
    assert "已报送的园区中，朝阳煤机制造专业镇实现营业性收入18.30亿元" in zones


def _briefing_without(conn, tmp_path: Path, zone: str) -> str:
    """June's briefing from a copy of the warehouse whose zone mart lacks `zone`."""
    path = tmp_path / "copy.duckdb"
    conn.execute(f"ATTACH '{path}' AS copy")
    try:
        conn.execute("COPY FROM DATABASE memory TO copy")
    finally:
        conn.execute("DETACH copy")
    other = duckdb.connect(str(path))
    try:
        other.execute("DELETE FROM marts.zone_operations_summary WHERE zone_name = ?", [zone])
        md, _ = write_briefing(other, "2023-06", tmp_path / "out")
        return md.read_text(encoding="utf-8")
    finally:
        other.close()


# --- 人才引育 --------------------------------------------------------------------------------


TALENT_SENTENCE = ("截至6月，全县对接领军人才86名，引进培育实用型人才912名。"
                   "对接领军人才距全年100名的目标尚差14名，引进培育实用型人才距全年1000名的目标尚差88名。")


def test_talent_section(briefings):
    md, html = briefings["2023-06"]
    talent = section(md, "人才引育")
    assert TALENT_SENTENCE in talent
    assert ("分领域看，对接领军人才较多的领域是数字经济（25名）、交通物流（20名）、智能制造（18名）；"
            "引进培育实用型人才较多的领域是现代农业（220名）、交通物流（200名）、数字经济（150名）。") in talent
    assert "**分领域人才引育情况（截至6月）**" in talent
    assert "| 数字经济 | 25 | 6 | 120 | 150 |" in talent
    assert "| 其他 | 0 | 0 | 10 | 12 |" in talent  # no 领军人才 row for 其他: zero
    assert "| 合计 | 86 | 20 | 610 | 912 |" in talent
    assert TALENT_SENTENCE in text_of(html)


def test_a_month_between_quarters_uses_the_latest_quarter(briefings):
    md, _ = briefings["2023-05"]
    talent = section(md, "人才引育")
    assert talent.lstrip().startswith(
        "据县委组织部报送的2023年3月数据（按季度报送，本月无新报送，沿用最近一期），截至3月，"
        "全县对接领军人才50名，引进培育实用型人才550名。")
    assert "| 合计 | 50 | 7 | 150 | 550 |" in talent


# --- each only with its data, in order -------------------------------------------------------


def test_sections_appear_only_with_their_data_and_are_numbered_in_order(briefings):
    titles = {p: re.findall(r"^## (.+)$", md, flags=re.M) for p, (md, _) in briefings.items()}
    assert titles["2023-06"] == ["一、工业经济", "二、重点项目", "三、重点园区", "四、村级集体经济", "五、煤矿智能化",
                                 "六、园区运行", "七、人才引育", "八、目标任务对照", "九、报送情况", "十、数据质量"]
    # May: no mines or parks reported; talent from March
    assert titles["2023-05"] == ["一、工业经济", "二、重点项目", "三、重点园区", "四、村级集体经济", "五、人才引育",
                                 "六、目标任务对照", "七、报送情况", "八、数据质量"]
    # February: none of the three (talent comes quarterly, from March)
    assert titles["2023-02"] == ["一、工业经济", "二、重点项目", "三、重点园区", "四、村级集体经济", "五、目标任务对照",
                                 "六、报送情况", "七、数据质量"]
    for period in ("2023-02", "2023-05"):
        md, html = briefings[period]
        assert "智能化工作面建设情况" not in md and "chart-mines" not in html
        assert "各园区运行情况" not in md and "各园区运行情况" not in html
    assert "分领域人才引育情况" not in briefings["2023-02"][0]


def test_no_code_names_or_symbols_in_the_new_sections(briefings):
    md, html = briefings["2023-06"]
    new = section(md, "煤矿智能化") + section(md, "园区运行") + section(md, "人才引育")
    for code in ("smart_mines", "zone_operations", "talent", "smart_working_faces", "pingtou_industry_cluster",
                 "leading_talent", "practical_talent", "mining_faces_built", ">=", "&gt;"):
        assert code not in new, code


# --- nothing from the data becomes markup -----------------------------------------------------


def _pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)(?:\\\\)*\|", line))


def test_hostile_face_names_and_remarks_are_not_markup(briefings):
    for period, (md, html) in briefings.items():
        assert "<" not in md, period
        lower = html.lower()
        assert "<script" not in lower and "<b>" not in lower, period
        assert "alert('face')" not in text_of(html) and "alert('remark')" not in text_of(html)  # not in any mart
        tables: list[list[str]] = []
        previous = ""
        for line in md.splitlines():
            if line.startswith("|"):
                if not previous.startswith("|"):
                    tables.append([])
                tables[-1].append(line)
            previous = line
        for rows in tables:
            assert all(_pipes(r) == _pipes(rows[0]) for r in rows), rows


HOSTILE_MINE = "平舒**x**|<script>alert('mine')</script>煤矿"
HOSTILE_ZONE = "# 假园区 <img src=x onerror=alert(1)> |**y**"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The same submissions, with a mine and a park of the reference lists given hostile names."""
    base = tmp_path_factory.mktemp("hostile_new_sections")
    settings = make_settings(base)
    for name, column, old, new in (("mines.csv", "mine_name", "平舒煤矿", HOSTILE_MINE),
                                   ("zones.csv", "zone_name", "朝阳煤机制造专业镇", HOSTILE_ZONE)):
        path = settings.reference_dir / name
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        for r in rows:
            if r[column] == old:
                r[column] = new
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    write_submissions(settings.raw_dir)
    conn = build(settings)
    try:
        md, html = write_briefing(conn, "2023-06", settings.export_dir)
        return md.read_text(encoding="utf-8"), html.read_text(encoding="utf-8")
    finally:
        conn.close()


def test_hostile_mine_and_park_names_are_shown_as_text(hostile):
    md, html = hostile
    assert "<" not in md
    mines, zones = section(md, "煤矿智能化"), section(md, "园区运行")
    # the mine: its ** and | escaped, in the sentence and as a table cell (the row keeps its columns)
    assert "段王、开元、平舒\\*\\*x\\*\\*\\|&lt;script>alert\\('mine'\\)&lt;/script>3个智能化矿井" in mines
    row = next(line for line in mines.splitlines() if line.startswith("| 平舒"))
    assert _pipes(row) == 10
    # the park: # does not start a heading inside a sentence or a cell, the pipe splits no cell
    assert "其他园区中，# 假园区 &lt;img src=x onerror=alert\\(1\\)> \\|\\*\\*y\\*\\*实现营业性收入18.30亿元" in zones
    assert [h for h in md.splitlines() if h.startswith("#")][1:] == [
        h for h in md.splitlines() if h.startswith("## ")]
    lower = html.lower()
    assert "<script" not in lower and "<img" not in lower
    assert "&lt;script&gt;alert(&#39;mine&#39;)&lt;/script&gt;" in html
    assert HOSTILE_MINE in text_of(html) and HOSTILE_ZONE in text_of(html)
    # the chart's legend names the mine as text
    chart = re.search(r'<svg id="chart-mines".*?</svg>', html, flags=re.S).group(0)
    assert "<script" not in chart
    assert HOSTILE_MINE in [htmllib.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", chart)]


# --- the analysts' workbook ----------------------------------------------------------------


def test_workbook_has_the_new_marts(warehouse):
    conn, settings = warehouse
    wb = openpyxl.load_workbook(write_workbook(conn, "2023-06", settings.export_dir / "wb"))
    assert len(wb.sheetnames) == 1 + len(MARTS) + len(AUDIT_SHEETS) and len(set(wb.sheetnames)) == len(wb.sheetnames)

    def sheet(name: str):
        ws = wb[sheet_name(MARTS[name])]
        heads = [c.value for c in ws[1]]
        assert heads == [header(c) for c in MARTS[name].columns]
        assert all(re.search(r"[\u4e00-\u9fff]", h) for h in heads)  # Chinese headers, not column codes
        return ws, heads, [dict(zip(heads, r)) for r in ws.iter_rows(min_row=2, values_only=True)]

    cols = {name: {c.name: header(c) for c in MARTS[name].columns}
            for name in ("smart_mine_summary", "zone_operations_summary", "talent_summary")}

    ws, heads, rows = sheet("smart_mine_summary")
    c = cols["smart_mine_summary"]
    county = next(r for r in rows if r[c["mine_name"]] == "全县")
    assert (county[c["faces"]], county[c["faces_built"]], county[c["mining_faces_built"]],
            county[c["heading_faces_built"]], county[c["faces_with_5g"]]) == (26, 23, 5, 18, 20)
    assert county[c["investment_ytd_wan"]] == pytest.approx(297.5)
    assert {r[c["mine_name"]] for r in rows} == {"段王煤矿", "开元煤矿", "平舒煤矿", "全县"}
    j = heads.index(c["investment_ytd_wan"]) + 1
    assert ws.cell(2, j).number_format == MONEY_FORMAT
    assert ws.cell(2, heads.index(c["faces"]) + 1).number_format == COUNT_FORMAT

    ws, heads, rows = sheet("zone_operations_summary")
    c = cols["zone_operations_summary"]
    pingtou = next(r for r in rows if r[c["zone_name"]] == "平头融合发展区")
    assert pingtou[c["operating_revenue_yi"]] == pytest.approx(75.0)
    assert pingtou[c["fixed_asset_investment_yi"]] == pytest.approx(20.0)
    assert pingtou[c["tax_revenue_yi"]] == pytest.approx(2.15)
    assert pingtou[c["new_above_scale_enterprises"]] == 6
    assert pingtou[c["operating_revenue_yoy_pct"]] == pytest.approx(25.0)
    assert ws.cell(2, heads.index(c["operating_revenue_yi"]) + 1).number_format == MONEY_FORMAT
    assert ws.cell(2, heads.index(c["operating_revenue_yoy_pct"]) + 1).number_format == PERCENT_FORMAT
    assert len(rows) == 2

    ws, heads, rows = sheet("talent_summary")
    c = cols["talent_summary"]
    totals = {r[c["talent_kind"]]: r for r in rows if r[c["field"]] == "合计"}
    assert totals["领军人才"][c["connected_ytd"]] == 86 and totals["实用型人才"][c["recruited_ytd"]] == 912
    assert len(rows) == 2 * 8  # two kinds × (seven fields + 合计)
    # every column as wide as its header needs on two lines, at least
    for j, h in enumerate(heads, start=1):
        width = ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width
        assert width >= 6, h


def test_workbook_between_quarters_shows_the_latest_talent_quarter(warehouse):
    conn, settings = warehouse
    wb = openpyxl.load_workbook(write_workbook(conn, "2023-05", settings.export_dir / "wb"))
    ws = wb[sheet_name(MARTS["talent_summary"])]
    assert {r[0] for r in ws.iter_rows(min_row=2, values_only=True)} == {"2023-03"}
    assert "数据报告期：2023-03（沿用）" in ws.oddHeader.right.text
    mines = wb[sheet_name(MARTS["smart_mine_summary"])]
    assert mines.max_row == 1  # no smart-mine data in May: the header only
    about = {r[0]: r for r in wb["说明"].iter_rows(min_row=4, values_only=True)}
    assert about[sheet_name(MARTS["smart_mine_summary"])][3:5] == (0, "—")
