"""The briefing's 报送情况 section and the workbook's sheets of the reporting calendar and of the
figures that do not fit the previous period, from real submissions.

The raw dir holds files as departments send them, the office's register `收文登记.csv` gives the
received times, the calendar (`reference/submitters.csv`) is a small one of the test's own, and the
clock is set (`Settings(clock=...)`): files are ingested and loaded as a run does, the cross-period
flags recomputed (`pipeline.cross_period_flags`), the marts built at the settings' clock, the
briefing and the workbook written from them.

2023-08: every report on time. 2023-09 at 15 October: 县发改局 on time (two year-to-date figures
fell, one explained in 备注, and a project dropped from the list), 县统计局's industry report late
(received 12 October), its city indicators sent back, 宗艾镇 in at 23:59 of the due day with one row
rejected, 平头镇 overdue (the calendar reports it; its June village is no missing_key flag: a
submission not in flags nothing); a file from a sender on no list, its name full of markup. 2023-01: no
report is due in January on this calendar, and one came anyway.
"""

from __future__ import annotations

import csv
import html as htmllib
import os
import re
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import openpyxl
import pytest

from shouyang_pipeline.catalog.marts import MARTS
from shouyang_pipeline.catalog.tables import AUDIT
from shouyang_pipeline.config import Settings
from shouyang_pipeline.exports.briefing import write_briefing
from shouyang_pipeline.exports.workbook import DATETIME_FORMAT, DATE_FORMAT, header, sheet_name, write_workbook
from shouyang_pipeline.ingest.discover import discover
from shouyang_pipeline.ingest.period import ingest_period, unplaced_log
from shouyang_pipeline.marts.build import build_all
from shouyang_pipeline.pipeline import cross_period_flags
from shouyang_pipeline.reference import Reference
from shouyang_pipeline.warehouse.load import load_period, load_reference, load_unplaced

from conftest import (CREDIT_CODES, IO_HEADER, KP_HEADER, PROJECT_REFERENCE, VI_HEADER, VILLAGES, csv_bytes, kp_row,
                      write_csv, write_xlsx)

CALENDAR = """dataset,submitter,department,months,due_day
key_projects,发改局,县发改局,2-12,5
industrial_output,统计局,县统计局,2-12,8
city_indicators,统计局,县统计局,2-12,10
village_income,平头镇,平头镇人民政府,"3,6,9,12",10
village_income,宗艾镇,宗艾镇人民政府,"3,6,9,12",10
"""

HOSTILE_PROJECT = "<script>alert('p')</script>|**粗**"
HOSTILE_REMARK = "+口径调整 <script>alert('r')</script> | **说明** =1+1"
HOSTILE_SENDER = "# 某公司 <img src=x onerror=alert(1)> **粗** [点我](javascript:alert(1))"
HOSTILE_FILE = f"key_projects/2023-09__{HOSTILE_SENDER}.csv"
KP_WITH_REMARKS = [*KP_HEADER, "备注"]
IO_ROW = [CREDIT_CODES[0], "甲企业", "造纸产业链", "平头镇"]

REGISTER = [  # file, received (Beijing time)
    ("key_projects/2023-08__发改局.xlsx", "2023-09-04 09:00"),
    ("industrial_output/2023-08__县统计局.csv", "2023-09-07 10:00"),
    ("city_indicators/2023-08__统计局.csv", "2023-09-08 10:00"),
    ("key_projects/2023-09__发改局.xlsx", "2023-10-04 09:00"),
    ("industrial_output/2023-09__县统计局.csv", "2023-10-12 16:20"),  # due 8 October: late
    ("city_indicators/2023-09__统计局.csv", "2023-10-09 10:00"),
    ("village_income/2023-06__平头镇.csv", "2023-07-08 10:00"),
    ("village_income/2023-09__宗艾镇.csv", "2023-10-10 23:59"),  # the last minute of the due day
    ("key_projects/2023-01__发改局.xlsx", "2023-02-03 09:00"),
]


def write_submissions(raw: Path) -> None:
    write_xlsx(raw / "key_projects/2023-08__发改局.xlsx", [
        KP_WITH_REMARKS,
        [*kp_row("XM001", name=HOSTILE_PROJECT, ytd=500), None],
        [*kp_row("XM002", name="二号项目", ytd=300), None],
        [*kp_row("XM003", name="三号项目"), None],
    ])
    write_xlsx(raw / "key_projects/2023-09__发改局.xlsx", [
        KP_WITH_REMARKS,
        [*kp_row("XM001", name=HOSTILE_PROJECT, ytd=400), None],  # fell, unexplained
        [*kp_row("XM002", name="二号项目", ytd=200), HOSTILE_REMARK],  # fell, explained in 备注
    ])  # XM003 dropped from the list
    write_csv(raw / "industrial_output/2023-08__县统计局.csv", [IO_HEADER, [*IO_ROW, 100, 90, 300, "否"]])
    write_csv(raw / "industrial_output/2023-09__县统计局.csv", [IO_HEADER, [*IO_ROW, 110, 95, 330, "否"]])
    write_csv(raw / "city_indicators/2023-08__统计局.csv", [["指标", "全市数值"], ["规上工业增加值增速", "5.1"]])
    write_csv(raw / "city_indicators/2023-09__统计局.csv", [["名称", "数"], ["x", "y"]])  # no header: sent back
    write_csv(raw / "village_income/2023-06__平头镇.csv", [VI_HEADER, ["140725103201", "黑水村", "平头镇", 45, 50, "光伏"]])
    write_csv(raw / "village_income/2023-09__宗艾镇.csv", [
        VI_HEADER, ["140725102201", "宗艾村", "宗艾镇", 50, 60, "租赁"],
        ["140725102299", "幸福村", "宗艾镇", 10, 12, "租赁"],  # not a village of 宗艾镇: rejected
    ])
    hostile = write_csv(raw / HOSTILE_FILE, [KP_HEADER, kp_row("XM009", name="九号项目")])
    stamp = datetime(2023, 10, 3, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    os.utime(hostile, (stamp, stamp))  # not in the register: received when it was last modified
    write_xlsx(raw / "key_projects/2023-01__发改局.xlsx", [KP_HEADER, kp_row("XM001", ytd=10)])
    (raw / "收文登记.csv").write_bytes(csv_bytes([["文件", "收到时间"], *map(list, REGISTER)]))


def make_settings(base: Path, clock: datetime) -> Settings:
    reference = base / "reference"
    shutil.copytree(PROJECT_REFERENCE, reference)
    with open(reference / "villages.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["village_code", "village_name", "township_name"])
        w.writerows(VILLAGES)
    (reference / "submitters.csv").write_text(CALENDAR, encoding="utf-8")
    raw = base / "raw"
    raw.mkdir()
    return Settings(raw_dir=raw, warehouse=base / "warehouse" / "warehouse.duckdb", export_dir=base / "exports",
                    archive_dir=base / "archive", reference_dir=reference, clock=clock)


def build(settings: Settings) -> duckdb.DuckDBPyConnection:
    """Every dataset-period of the raw dir ingested and loaded, the flags recomputed, the marts
    built at the settings' clock."""
    conn = duckdb.connect(":memory:")
    load_reference(conn, settings.reference_dir)
    reference = Reference.load(settings.reference_dir)
    files = discover(settings.raw_dir, "2023-12")
    periods = sorted({f.dataset_period for f in files if f.dataset_period})
    for dataset, period in periods:
        result = ingest_period(settings, dataset, period, reference,
                               files=[f for f in files if f.dataset_period == (dataset, period)])
        load_period(conn, result)
    load_unplaced(conn, unplaced_log(settings, files))
    cross_period_flags(conn, sorted({p for _, p in periods}))
    build_all(conn, now=settings.now())
    return conn


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("status"), datetime(2023, 10, 15, 9, 0))
    write_submissions(settings.raw_dir)
    conn = build(settings)
    yield conn, settings
    conn.close()


@pytest.fixture(scope="module")
def briefings(warehouse) -> dict[str, tuple[str, str]]:
    """period → (markdown, html)."""
    conn, settings = warehouse
    out = {}
    for period in ("2023-01", "2023-08", "2023-09"):
        md, html = write_briefing(conn, period, settings.export_dir)
        out[period] = (md.read_text(encoding="utf-8"), html.read_text(encoding="utf-8"))
    return out


def section(md: str, title: str) -> str:
    """The text of the section titled `title` (whatever its number), up to the next section."""
    m = re.search(rf"^## [一二三四五六七八九十]+、{title}\n(.*?)(?=^## |^---$)", md, flags=re.M | re.S)
    assert m, f"no section {title}"
    return m.group(1)


def paragraphs(text: str) -> list[str]:
    """The section's paragraphs (not its tables or captions), in order."""
    return [p.strip() for p in text.split("\n\n") if p.strip() and not p.lstrip().startswith(("|", "**"))]


def text_of(html: str) -> str:
    body = re.sub(r"<(style|svg)\b.*?</\1>", "", html, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", "", body))


def _pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)(?:\\\\)*\|", line))


# --- the warehouse the section is written from -------------------------------------------------


def test_the_marts_hold_what_the_section_says(warehouse):
    conn, _ = warehouse
    status = {(p, d, s): (st, late) for p, d, s, st, late in conn.execute(
        "SELECT period, dataset, submitter, status, is_late FROM marts.submission_status").fetchall()}
    assert status[("2023-09", "industrial_output", "统计局")] == ("已报送", True)
    assert status[("2023-09", "city_indicators", "统计局")] == ("被退回", False)
    assert status[("2023-09", "village_income", "平头镇")] == ("逾期未报", None)
    assert status[("2023-09", "village_income", "宗艾镇")] == ("部分入库", False)
    assert status[("2023-09", "key_projects", HOSTILE_SENDER)][0] == "名单外"
    flags = conn.execute("SELECT key, rule, explained FROM audit.cross_period_flags WHERE period = '2023-09' "
                         "ORDER BY key").fetchall()
    # 平头镇's 2023-09 file is not in: its June village is not missing_key (the calendar says 逾期未报)
    assert flags == [("XM001", "ytd_decreased", False), ("XM002", "ytd_decreased", True),
                     ("XM003", "missing_key", False)]
    open_flags = dict(conn.execute("SELECT submitter, open_flags FROM marts.submission_status "
                                   "WHERE period = '2023-09' AND dataset = 'village_income'").fetchall())
    assert open_flags == {"平头镇": 0, "宗艾镇": 0}


# --- the section ------------------------------------------------------------------------------


def test_section_comes_before_data_quality(briefings):
    md, _ = briefings["2023-09"]
    titles = re.findall(r"^## (.+)$", md, flags=re.M)
    assert [t.split("、", 1)[1] for t in titles[-3:]] == ["目标任务对照", "报送情况", "数据质量"]


def test_all_in_on_time(briefings):
    md, html = briefings["2023-08"]
    status = section(md, "报送情况")
    assert paragraphs(status) == [
        "本期应报送报表3份，均已按时报送。",
        "与上期数据比对，未发现累计数比上期减少、计划数与上期不同或上期在报本期未报的情况。",
    ]
    assert "| 县发改局 | 重点项目进展情况表 | 9月5日前 | 9月4日 | 已报送 | 0 |" in status
    assert "| 县统计局 | 规上工业企业主要指标 | 9月8日前 | 9月7日 | 已报送 | 0 |" in status
    assert "| 县统计局 | 全市对标指标 | 9月10日前 | 9月8日 | 已报送 | 0 |" in status
    assert "本期应报送报表3份，均已按时报送。" in text_of(html)
    # nothing waits for an explanation: the data-quality section does not refer to any
    assert "尚待报送单位说明" not in section(md, "数据质量")


LEAD_0915 = ("本期应报送报表5份，已按时报送2份，逾期报送1份（县统计局规上工业企业主要指标，10月12日收到），"
             "被退回1份（县统计局全市对标指标），逾期未报1份（平头镇村级集体经济收入情况表，应于10月10日前报送）。")


def test_late_sent_back_partly_loaded_and_overdue(briefings):
    md, html = briefings["2023-09"]
    status = section(md, "报送情况")
    assert paragraphs(status)[:2] == [
        LEAD_0915,
        "已报送的报表中有1份部分入库（宗艾镇村级集体经济收入情况表），被退回的数据行及原因见数据质量部分。"
        "被退回的报表请报送单位改正后重新报送，退回原因见数据质量部分。逾期未报的，请报送单位尽快报送。",
    ]
    assert LEAD_0915 in text_of(html)
    # by sender in the calendar's order, the due day and the day received; the file from no list last
    rows = [line for line in status.split("**待核实说明的数字")[0].splitlines() if line.startswith("| ")]
    assert rows == [
        "| 报送单位 | 报表 | 截止时间 | 收到时间 | 状态 | 待说明数字（处） |",
        "| --- | --- | --- | --- | --- | --- |",
        "| 县发改局 | 重点项目进展情况表 | 10月5日前 | 10月4日 | 已报送 | 2 |",
        "| 县统计局 | 规上工业企业主要指标 | 10月8日前 | 10月12日 | 已报送（逾期报送） | 0 |",
        "| 县统计局 | 全市对标指标 | 10月10日前 | 10月9日 | 被退回 | 0 |",
        "| 平头镇 | 村级集体经济收入情况表 | 10月10日前 | — | 逾期未报 | 0 |",
        "| 宗艾镇 | 村级集体经济收入情况表 | 10月10日前 | 10月10日 | 部分入库 | 0 |",
        "| # 某公司 &lt;img src=x onerror=alert\\(1\\)> \\*\\*粗\\*\\* \\[点我\\]\\(javascript:alert\\(1\\)\\) "
        "| 重点项目进展情况表 | — | 10月3日 | 名单外 | 0 |",
    ]
    # why the file was sent back is said once, in the data-quality section
    assert "找不到表头行" not in status and "找不到表头行" in section(md, "数据质量")


def test_before_the_due_day_a_missing_report_is_not_yet_due(tmp_path):
    settings = make_settings(tmp_path, datetime(2023, 10, 10, 23, 59))
    write_submissions(settings.raw_dir)
    conn = build(settings)
    try:
        md = write_briefing(conn, "2023-09", tmp_path / "out")[0].read_text(encoding="utf-8")
    finally:
        conn.close()
    assert paragraphs(section(md, "报送情况"))[0] == (
        "本期应报送报表5份，已按时报送2份，逾期报送1份（县统计局规上工业企业主要指标，10月12日收到），"
        "被退回1份（县统计局全市对标指标），尚未到期1份（平头镇村级集体经济收入情况表，应于10月10日前报送）。")
    assert "逾期未报" not in md


def test_flags_waiting_for_an_explanation_are_listed_the_explained_counted(briefings):
    md, html = briefings["2023-09"]
    status = section(md, "报送情况")
    flags = status[status.index("与上期数据比对"):]
    assert paragraphs(flags) == [
        "与上期数据比对，本期有2处数字尚待报送单位核实说明：县发改局重点项目进展情况表2处"
        "（累计数比上期减少1处、上期在报本期未报1处）。另有1处已由报送单位在备注中说明。",
    ]
    assert "**待核实说明的数字（共2处）**" in flags
    rows = [line for line in flags.splitlines() if line.startswith("| ")]
    assert rows[0] == "| 报送单位 | 文件 | 行号 | 对象 | 问题 | 情况 |"
    assert rows[2] == ("| 县发改局 | key_projects/2023-09__发改局.xlsx | 2 | &lt;script>alert\\('p'\\)&lt;/script>\\|"
                       "\\*\\*粗\\*\\*（XM001） | 累计数比上期减少 | 本年累计完成投资比上期减少（本期：400，2023-08：500），"
                       "累计数不应下降，请核实 |")
    assert rows[3] == ("| 县发改局 | key_projects/2023-08__发改局.xlsx | 4 | 三号项目（XM003） | 上期在报本期未报 | "
                       "项目XM003（三号项目）上期在报，本期未报送 |")
    assert len(rows) == 4
    # 平头镇's report has not come in: the calendar says so, its village is no flag
    assert "黑水村" not in status and "尚未报送" not in flags
    # the explained one is counted, not listed; its 备注 is printed nowhere
    assert "XM002" not in status and "二号项目" not in status
    assert "口径调整" not in md and "口径调整" not in text_of(html)
    # the data-quality section refers to the list instead of repeating it
    assert "此外，本期有2处数字与上期对不上、尚待报送单位说明，见上文报送情况部分。" in section(md, "数据质量")
    # the flags come after the calendar's table, in the HTML too
    text = text_of(html)
    assert text.index("分单位报送情况") < text.index("与上期数据比对") < text.index("待核实说明的数字")


def test_a_period_with_no_expected_report(briefings):
    md, html = briefings["2023-01"]
    status = section(md, "报送情况")
    assert paragraphs(status) == [
        "按报送日历，本期没有应报送的报表。",
        "另收到报送日历以外的文件1个：《key_projects/2023-01__发改局.xlsx》（重点项目进展情况表，"
        "按报送日历县发改局本期不需报送该表）。请核实报送单位。",
        "1月为本年第一期，累计数不与上年12月比对。",
    ]
    assert "| 县发改局 | 重点项目进展情况表 | — | 2月3日 | 名单外 | 0 |" in status
    assert "按报送日历，本期没有应报送的报表。" in text_of(html)


def test_unlisted_file_is_named_as_text(briefings):
    md, _ = briefings["2023-09"]
    assert paragraphs(section(md, "报送情况"))[2] == (
        "另收到报送日历以外的文件1个：《key_projects/2023-09\\_\\_# 某公司 &lt;img src=x onerror=alert\\(1\\)> "
        "\\*\\*粗\\*\\* \\[点我\\]\\(javascript:alert\\(1\\)\\).csv》（重点项目进展情况表，文件名中的报送单位"
        "“# 某公司 &lt;img src=x onerror=alert\\(1\\)> \\*\\*粗\\*\\* \\[点我\\]\\(javascript:alert\\(1\\)\\)”"
        "不在报送日历中）。请核实报送单位。")


def test_no_code_names_or_symbols_in_the_section(briefings):
    for period, (md, _) in briefings.items():
        status = section(md, "报送情况")
        for code in ("submission_status", "cross_period_flags", "ytd_decreased", "plan_changed", "missing_key",
                     "village_income", "industrial_output", "city_indicators", "ytd_investment", "名单外文件",
                     ">=", "is_late", "True", "False", "None"):
            assert code not in status.replace("key_projects/", ""), (period, code)


# --- nothing from the data becomes markup -------------------------------------------------------


def test_hostile_names_and_remarks_are_not_markup(briefings):
    for period, (md, html) in briefings.items():
        assert "<" not in md, period
        assert [h for h in md.splitlines() if h.startswith("#")][1:] == [
            h for h in md.splitlines() if h.startswith("## ")], period
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
        lower = html.lower()
        assert "<script" not in lower and "<img" not in lower and "<b>" not in lower, period
        assert "<a " not in lower, period  # no link
    md, html = briefings["2023-09"]
    text = text_of(html)
    assert HOSTILE_FILE in text and HOSTILE_PROJECT in text
    assert "&lt;script&gt;alert(&#39;p&#39;)&lt;/script&gt;|**粗**（XM001）" in html


# --- the analysts' workbook -------------------------------------------------------------------


@pytest.fixture(scope="module")
def workbook(warehouse):
    conn, settings = warehouse
    return openpyxl.load_workbook(write_workbook(conn, "2023-09", settings.export_dir))


def _sheet(ws) -> list[dict]:
    head = [c.value for c in ws[1]]
    return [dict(zip(head, r)) for r in ws.iter_rows(min_row=2, values_only=True)]


def test_workbook_has_the_calendar_sheet(workbook):
    table = MARTS["submission_status"]
    ws = workbook[sheet_name(table)]
    assert ws.title == "报送情况"
    assert [c.value for c in ws[1]] == [header(c) for c in table.columns]
    rows = _sheet(ws)
    by = {(r["报送单位"], r["数据集"]): r for r in rows}
    assert len(rows) == 6 and {r["报告期（YYYY-MM）"] for r in rows} == {"2023-09"}
    late = by[("统计局", "industrial_output")]
    assert late["报送状态"] == "已报送" and late["是否逾期报送"] == "是"
    assert late["截止日期"] == datetime(2023, 10, 8)
    assert late["首次收到时间（北京时间）"] == datetime(2023, 10, 12, 16, 20)
    assert by[("平头镇", "village_income")]["报送状态"] == "逾期未报"
    assert by[("平头镇", "village_income")]["现行文件"] is None
    assert by[(HOSTILE_SENDER, "key_projects")]["现行文件"] == HOSTILE_FILE
    columns = [c.name for c in table.columns]
    cell = ws.cell(2, columns.index("due_date") + 1)
    assert cell.number_format == DATE_FORMAT
    cell = ws.cell(2, columns.index("first_received_at") + 1)
    assert cell.number_format == DATETIME_FORMAT and cell.is_date
    # wide enough for a date and time
    letter = openpyxl.utils.get_column_letter(columns.index("first_received_at") + 1)
    assert ws.column_dimensions[letter].width >= len("0000-00-00 00:00")


def test_workbook_has_the_periods_flags(workbook):
    table = AUDIT["cross_period_flags"]
    ws = workbook["与上期对不上的数字"]
    assert [c.value for c in ws[1]] == [header(c) for c in table.columns]
    rows = _sheet(ws)
    assert [(r["对象"], r["规则代码"], r["是否已说明"]) for r in rows] == [
        ("XM003", "missing_key", "否"), ("XM001", "ytd_decreased", "否"), ("XM002", "ytd_decreased", "是")]
    dropped = rows[0]  # never explained: this period has no row to hold a 备注
    assert dropped["备注"] is None and dropped["来源文件"] == "key_projects/2023-08__发改局.xlsx"
    fell = rows[1]
    assert (fell["本期数"], fell["上期数"], fell["上期（YYYY-MM）"]) == (400, 500, "2023-08")
    assert fell["对象名称"] == HOSTILE_PROJECT
    # a 备注 that starts with + and holds =1+1 is text, not a formula
    explained = next(c for c in ws[4] if c.value == HOSTILE_REMARK)
    assert explained.data_type == "s"
    for row in ws.iter_rows():
        for c in row:
            assert c.data_type != "f", c.coordinate
    about = {r[0]: r for r in workbook["说明"].iter_rows(min_row=4, values_only=True)}
    assert about["与上期对不上的数字"][1] == "audit.cross_period_flags" and about["与上期对不上的数字"][3] == 3
    assert about["报送情况"][1] == "marts.submission_status" and about["报送情况"][3] == 6


def test_workbook_says_when_no_figure_was_flagged(warehouse, tmp_path):
    conn, _ = warehouse
    wb = openpyxl.load_workbook(write_workbook(conn, "2023-08", tmp_path))
    assert wb["与上期对不上的数字"].max_row == 1
    about = {r[0]: r for r in wb["说明"].iter_rows(min_row=4, values_only=True)}
    assert about["与上期对不上的数字"][3] == 0 and about["与上期对不上的数字"][5] == "本期未发现与上期对不上的数字"
