"""The briefing and the workbook, generated from the small hand-made warehouse of test_marts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import openpyxl
import pytest

try:
    from .test_marts import load_example
except ImportError:  # rootdir-style imports (no package __init__)
    from test_marts import load_example

from shouyang_pipeline.exports.briefing import industrial_sentence, month_range, write_briefing
from shouyang_pipeline.exports.workbook import AUDIT_SHEETS, header, write_workbook
from shouyang_pipeline.catalog.marts import MARTS
from shouyang_pipeline.marts.build import build_all

LOG_COLUMNS = ("file_path", "dataset", "period", "submitter", "sha256", "status", "rows_read", "rows_loaded",
               "rows_rejected", "message", "is_current")


def _log(conn, *rows):
    """Ingest-log rows of files placed in their partition (dataset/period), as a run writes them."""
    for r in rows:
        conn.execute(
            f"INSERT INTO audit.ingest_log ({', '.join(LOG_COLUMNS)}, ingested_at, partition_key) VALUES "
            f"({', '.join('?' for _ in LOG_COLUMNS)}, now(), ?)", [*r, f"{r[1]}/{r[2]}"])


def _rejected(conn, file_path, dataset, period, source_row, column, value, rule, reason):
    conn.execute(
        "INSERT INTO audit.rejected_rows (file_path, dataset, period, source_row, source_cell, \"column\", "
        "source_column, value, rule, reason, raw_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [file_path, dataset, period, source_row, f"H{source_row}", column, column, value, rule, reason,
         json.dumps({"项目编号": "X"}, ensure_ascii=False)])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("briefing") / "warehouse.duckdb"
    conn = duckdb.connect(str(path))
    load_example(conn)
    kp = "key_projects/2023-02__县发改局.xlsx"
    _log(
        conn,
        (kp, "key_projects", "2023-02", "县发改局", "a1", "partial", 6, 3, 3, "3行被拒", True),
        # an older version of the same path: not current, must not be reported
        (kp, "key_projects", "2023-02", "县发改局", "a0", "rejected", 0, 0, 0, "旧版本", False),
        ("industrial_output/2023-02__县统计局.csv", "industrial_output", "2023-02", "县统计局", "b1",
         "loaded", 3, 3, 0, None, True),
        ("city_indicators/2023-02__县统计局.csv", "city_indicators", "2023-02", "县统计局", "c1",
         "rejected", 0, 0, 0, "缺少必填列“全市数值”，整个文件被退回", True),
        ("key_projects/2023-06__县发改局.xlsx", "key_projects", "2023-06", "县发改局", "d1",
         "loaded", 5, 5, 0, None, True),
        # 2023-03: April's briefing uses March's village data, so it reports the village file, not this one
        ("industrial_output/2023-03__统计局副本.csv", "industrial_output", "2023-03", "统计局副本", "e1",
         "rejected", 0, 0, 0, "重复提交", True),
        ("village_income/2023-03__朝阳镇.csv", "village_income", "2023-03", "朝阳镇", "f1",
         "partial", 3, 2, 1, None, True),
    )
    _rejected(conn, "village_income/2023-03__朝阳镇.csv", "village_income", "2023-03", 5, "village_name", "幸福村",
              "unknown_village", "村名称“幸福村”不是朝阳镇的行政村")
    _rejected(conn, kp, "key_projects", "2023-02", 12, "total_investment", "-5", "negative",
              "总投资不能为负数（当前值：-5）")
    _rejected(conn, kp, "key_projects", "2023-02", 14, "ytd_investment", "暂无", "not_a_number",
              "本年累计完成投资“暂无”不是数字")
    _rejected(conn, kp, "key_projects", "2023-02", 15, "ytd_investment", "-1", "negative",
              "本年累计完成投资不能为负数（当前值：-1）")
    build_all(conn)
    conn.close()
    return path


@pytest.fixture(scope="module")
def con(warehouse):
    conn = duckdb.connect(str(warehouse), read_only=True)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def feb(con, tmp_path_factory):
    out = tmp_path_factory.mktemp("exports")
    md, html = write_briefing(con, "2023-02", out)
    return md.read_text(encoding="utf-8"), html.read_text(encoding="utf-8"), out


def test_month_range():
    assert month_range("2023-01") == "1月"
    assert month_range("2023-02") == "1—2月"
    assert month_range("2023-12") == "1—12月"


def test_industrial_sentence_variants():
    row = dict(enterprises=3, value_added_ytd_yi="25.02", yoy_growth_pct=__import__("decimal").Decimal("10.6"),
               city_yoy_growth_pct=__import__("decimal").Decimal("9.5"), gap_pp=__import__("decimal").Decimal("1.1"))
    assert industrial_sentence(row, "2023-02") == "1—2月，全县规模以上工业增加值累计完成25.02亿元，同比增长10.6%，高于全市1.1个百分点。"
    D = __import__("decimal").Decimal
    assert industrial_sentence({**row, "gap_pp": D("-0.4")}, "2023-02").endswith("低于全市0.4个百分点。")
    assert industrial_sentence({**row, "yoy_growth_pct": D("-3.0")}, "2023-01").startswith("1月，") 
    assert "同比下降3.0%" in industrial_sentence({**row, "yoy_growth_pct": D("-3.0")}, "2023-01")
    missing_city = industrial_sentence({**row, "city_yoy_growth_pct": None, "gap_pp": None}, "2023-03")
    assert missing_city == "1—3月，全县规模以上工业增加值累计完成25.02亿元，同比增长10.6%，全市同期增速暂未报送，无法与全市比较。"
    # January is published with February: not "not yet reported"
    assert industrial_sentence(None, "2023-01") == "1月规上工业数据不单独发布，与2月合并为1—2月累计数。"
    assert industrial_sentence(None, "2023-04") == "1—4月，全县规模以上工业数据尚未报送。"


def test_briefing_files(feb):
    md, html, out = feb
    assert (out / "briefing_2023-02.md").exists() and (out / "briefing_2023-02.html").exists()
    for text in (md, html):
        assert "1—2月，全县规模以上工业增加值累计完成25.02亿元，同比增长10.6%，高于全市1.1个百分点。" in text
        # key projects (hand-computed in test_marts): 3 projects, 4.00 亿元, 开复工 2 (66.7%)
        # one fact per sentence: size and kinds of projects, then money, then 开复工
        assert "全县重点项目3个，总投资4.00亿元，其中亿元以上项目2个、生产性项目1个。" in text
        assert "年度计划投资0.60亿元，1—2月累计完成投资0.17亿元，完成年度计划的27.5%。" in text
        assert "开复工项目2个，开复工率66.7%。" in text
        assert "市级及以上重点项目2个（其中省级重点项目1个），总投资3.00亿元" in text
        assert "数据来源" in text


def test_briefing_data_quality(feb):
    md, _, _ = feb
    quality = md[md.index("、数据质量\n"):]
    assert "本期共读到报送文件3个，其中1个全部入库、未发现问题，1个整体退回，1个部分数据行被退回，具体如下。" in quality
    assert "县发改局报送的《key_projects/2023-02__县发改局.xlsx》（重点项目进展情况表）" in quality
    assert "读到数据行6行，入库3行，退回3行。退回原因：" in quality
    assert "金额为负数：2行（如第12行：总投资不能为负数（当前值：-5））" in quality
    assert "不是有效数字：1行" in quality
    assert "县统计局报送的《city_indicators/2023-02__县统计局.csv》" in quality
    assert "整个文件被退回，不计入任何数据。原因：缺少必填列“全市数值”" in quality
    assert "旧版本" not in quality  # only current versions
    assert "industrial_output/2023-02__县统计局.csv》" not in quality  # loaded cleanly: listed in the table only


def test_briefing_html_is_offline_with_charts(feb):
    _, html, _ = feb
    assert html.count("<svg") >= 2
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", html)
    assert "Noto Sans CJK SC" in html
    assert "<text" in html and "全部" in html  # chart labels stay text

def test_briefing_markdown_tables_are_contiguous(feb):
    md, _, _ = feb
    lines = md.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("| ---") or line.startswith("|---"):
            assert lines[i - 1].startswith("| ") and lines[i + 1].startswith("| ")
    assert "| 全部 | 3 | 4.00 | 0.60 | 0.17 | 27.5 | 2 | 66.7 | 2 | 1 |" in md


def test_briefing_villages_and_scorecard(con, tmp_path):
    md, html = (p.read_text(encoding="utf-8") for p in write_briefing(con, "2023-04", tmp_path))
    # April: the latest village data of the year is 2023-03
    assert "据各乡镇报送的2023年3月数据（本月无新报送，沿用最近一期），全县6个行政村中已报送5个" in md
    assert "达到40万元以上的1个，占全部行政村的16.7%" in md
    assert "景尚乡（应报1个，已报0个）" in md
    assert "距目标最远的村：朝阳镇东村（经营性收入5.00万元，差35.01万元）" in md
    # one village did not report, four reported below the target: said apart
    assert "2023-03：1/6个村达标，1个村未报送，4个村未达标" in md
    assert "未报送或未达标" not in md
    assert "| 全县 | 6 | 5 | 1 | 16.7 | 99.99 | 100.01 |" in md
    # targets whose data is not yet submitted: the department that has not reported, in words,
    # never a dataset's code or `>=`
    assert "| 建设26个智能化工作面（5采21掘） | 无数据 | 县能源局2023-04的报表未报送 |" in md
    assert "smart_mines" not in md and "talent" not in md and "zone_operations" not in md
    assert ">=" not in md and "&gt;=" not in md and "&gt;=" not in html
    assert "1—4月，全县规模以上工业数据尚未报送。" in md
    quality = md[md.index("、数据质量\n"):]
    assert "朝阳镇报送的《village_income/2023-03__朝阳镇.csv》" in quality
    assert "村名不在行政村名录中：1行（如第5行：村名称“幸福村”不是朝阳镇的行政村）" in quality
    assert "统计局副本" not in quality  # a 2023-03 file of another dataset belongs to March's briefing
    assert "（含各乡镇2023年3月报送的村级集体经济收入情况表1个）" in quality
    assert html.count("<svg") >= 2


def test_briefing_january_without_village_or_industry(con, tmp_path):
    md, html = (p.read_text(encoding="utf-8") for p in write_briefing(con, "2023-01", tmp_path))
    # January's industry figures are not due (published with February): said so, and the chains
    # table shows their key projects, not columns of zeros
    assert "1月规上工业数据不单独发布，与2月合并为1—2月累计数。" in md
    assert "**八大产业链重点项目**" in md and "规上企业（家）" not in md and "累计增加值" not in md
    assert "本年尚无村级集体经济收入数据" in md
    assert "1月累计完成投资0.13亿元" in md
    assert html.count("<svg") >= 2


def test_workbook(con, tmp_path):
    path = write_workbook(con, "2023-03", tmp_path)
    assert path == tmp_path / "marts_2023-03.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "说明" and len(wb.sheetnames) == 1 + len(MARTS) + len(AUDIT_SHEETS)
    town = wb["乡镇村集体经济收入汇总"]
    headers = [c.value for c in town[1]]
    assert headers == [header(c) for c in MARTS["township_income_summary"].columns]
    assert headers[:4] == ["报告期（YYYY-MM）", "乡镇", "乡镇代码", "应报村数（个）"]
    last = [c.value for c in town[town.max_row]]
    assert last[1] == "全县" and last[3] == 6 and last[7] == pytest.approx(99.99)
    ind = wb["规上工业汇总"]
    assert [c.value for c in ind[1]][2] == "本年累计工业增加值（亿元）"
    assert ind.max_row == 2 and ind.cell(2, 5).value == pytest.approx(10.6)  # only 2023-03 rows
    vil = wb["村集体经济收入"]
    flags = {r[2]: r[6] for r in vil.iter_rows(min_row=2, values_only=True)}
    assert flags["黑水村"] == "是" and flags["西村"] == "否"


def test_a_sheet_with_more_rows_than_excel_holds_says_so(con, tmp_path, monkeypatch):
    """Rows past Excel's last are left out of the sheet (no workbook can hold them): the 说明
    sheet says how many there are, how many are listed, and where all of them are."""
    from shouyang_pipeline.exports import xlsx_rows

    monkeypatch.setattr(xlsx_rows, "ROW_LIMIT", 4)  # a sheet of a header and 3 rows
    wb = openpyxl.load_workbook(write_workbook(con, "2023-03", tmp_path))
    about = {r[0]: r for r in wb["说明"].iter_rows(min_row=4, values_only=True)}
    vil = wb["村集体经济收入"]
    count = about["村集体经济收入"][3]
    assert count > 3 and vil.max_row == 4  # the header and three rows
    assert about["村集体经济收入"][5] == (f"共{count:,}行，超过Excel工作表的行数上限，本表只列出前3行；"
                                     "全部数据请在数据仓库中查询marts.village_income")
    assert vil.auto_filter.ref == vil.dimensions  # the filter over the rows listed
    small = next(name for name, row in about.items() if row[3] and row[3] <= 3)
    assert "上限" not in (about[small][5] or "")


# --- what the briefing reads instead of computing ------------------------------------------


def test_village_period_is_the_scorecards(con):
    from shouyang_pipeline.exports.briefing import village_data_period

    cards = dict(con.execute("SELECT period, data_period FROM marts.target_scorecard "
                             "WHERE target_key = 'village_operating_income_min'").fetchall())
    assert cards == {"2023-01": None, "2023-02": None, "2023-03": "2023-03", "2023-04": "2023-03", "2023-06": "2023-06"}
    for period, data_period in cards.items():
        assert village_data_period(con, period) == data_period
    # a month without data of its own has no scorecard row: the same rule over the village mart
    assert village_data_period(con, "2023-05") == "2023-03"
    assert village_data_period(con, "2024-01") is None


def _rebuilt(warehouse: Path, tmp_path: Path, *statements: str) -> duckdb.DuckDBPyConnection:
    """A copy of the briefing warehouse with `statements` run and the marts rebuilt."""
    import shutil

    path = tmp_path / "w.duckdb"
    shutil.copy(warehouse, path)
    conn = duckdb.connect(str(path))
    for stmt in statements:
        conn.execute(stmt)
    build_all(conn)
    return conn


def test_village_target_is_read_from_reference_targets(warehouse, tmp_path):
    conn = _rebuilt(warehouse, tmp_path,
                    "UPDATE reference.targets SET target_value = 50 WHERE target_key = 'village_operating_income_min'")
    md, html = (p.read_text(encoding="utf-8") for p in write_briefing(conn, "2023-04", tmp_path / "out"))
    assert "村集体经济经营性收入达到50万元以上的0个，占全部行政村的0.0%" in md
    assert "达标（不低于50万元）" in html  # the chart's legend, in words
    assert "达到40万元" not in md  # (the target_name in reference.targets still says 均超40万元)
    # a month with no data of its own (no scorecard row) states the same target
    md = write_briefing(conn, "2023-05", tmp_path / "out")[0].read_text(encoding="utf-8")
    assert "达到50万元以上的0个" in md and "（本月无新报送，沿用最近一期）" in md
    md = write_briefing(conn, "2023-01", tmp_path / "out")[0].read_text(encoding="utf-8")
    assert "暂无法对照经营性收入50万元的目标。" in md
    # the marts follow it too: the bands are cut at the target
    bands = dict(conn.execute("SELECT village_name, income_band FROM marts.village_income WHERE period = '2023-06'").fetchall())
    assert set(bands.values()) == {"10-50万"}  # 41 万元 each
    conn.close()


def test_village_section_without_a_village_target(warehouse, tmp_path):
    conn = _rebuilt(warehouse, tmp_path, "DELETE FROM reference.targets WHERE target_key = 'village_operating_income_min'")
    md, html = (p.read_text(encoding="utf-8") for p in write_briefing(conn, "2023-04", tmp_path / "out"))
    assert "据各乡镇报送的2023年3月数据（本月无新报送，沿用最近一期），全县6个行政村中已报送5个，村集体经济经营性收入目标尚未设定。" in md
    assert "达到40万元" not in md and "达标（≥" not in html
    md = write_briefing(conn, "2023-01", tmp_path / "out")[0].read_text(encoding="utf-8")
    assert "本年尚无村级集体经济收入数据（各乡镇按季度报送），暂无法对照经营性收入目标。" in md
    conn.close()


# --- what a file's state is, in the data-quality section ------------------------------------


def test_cell_warnings_and_totals_mismatches_are_reported(warehouse, tmp_path):
    """A township stored as NULL after a cell warning, and a 合计 row that disagrees with its
    details, are named with the file: the briefing does not say every file passed."""
    kp = "key_projects/2023-06__县发改局.xlsx"
    conn = _rebuilt(
        warehouse, tmp_path,
        f"""INSERT INTO audit.cell_warnings (file_path, dataset, period, source_row, source_cell, "column",
            source_column, value, rule, reason, raw_row) VALUES ('{kp}', 'key_projects', '2023-06', 6, 'H6',
            'township', '所在乡镇', '宗爱镇', 'not_in_list', '所在乡镇“宗爱镇”不在乡镇名录中，请核对名称', '{{}}')""",
        f"""UPDATE audit.ingest_log SET totals_check = 'mismatch', message = '读取5行数据，全部入库；合计行与明细不符：'
            || '本年计划投资合计为1,481,970万元，明细行相加为1,480,970万元（第114行）；已忽略无法识别的列：序号'
            WHERE file_path = '{kp}'""",
    )
    md, html = (p.read_text(encoding="utf-8") for p in write_briefing(conn, "2023-06", tmp_path / "out"))
    quality = md[md.index("、数据质量\n"):]
    assert "本期共读到报送文件1个，其中1个已入库但有需要核实之处，具体如下。" in quality
    assert ("县发改局报送的《key_projects/2023-06__县发改局.xlsx》（重点项目进展情况表）：数据行5行全部入库。"
            "另有1个单元格无法采用，已按空值入库（所在行照常入库），请核实：取值不在规定范围或名录中1处"
            "（如第6行H6单元格：所在乡镇“宗爱镇”不在乡镇名录中，请核对名称）。"
            "合计行与明细不符：本年计划投资合计为1,481,970万元，明细行相加为1,480,970万元（第114行），请核对。") in quality
    # the file table says it too: one cell to check, 合计 不符
    assert "| key_projects/2023-06__县发改局.xlsx | 县发改局 | 全部入库 | 5 | 5 | 0 | 1 | 不符 |" in md
    assert "需核实单元格" in html and "不符" in html
    conn.close()


def test_a_clean_month_says_so_and_names_the_sender_not_the_file_label(warehouse, tmp_path):
    conn = _rebuilt(warehouse, tmp_path,
                    "UPDATE audit.ingest_log SET submitter = '统计局副本' WHERE file_path LIKE 'industrial_output/2023-02%'")
    md = write_briefing(conn, "2023-02", tmp_path / "out")[0].read_text(encoding="utf-8")
    # the copy's file name says 统计局副本; the department that sends this report is 县统计局
    assert "| industrial_output/2023-02__县统计局.csv | 县统计局 | 全部入库 | 3 | 3 | 0 | 0 | 无合计行 |" in md
    # (this hand-made log matches no file to the calendar: 报送情况 lists them as their names say)
    assert "统计局副本" not in md[md.index("、数据质量\n"):]
    md = write_briefing(conn, "2023-06", tmp_path / "out")[0].read_text(encoding="utf-8")
    assert ("本期共读到报送文件1个，均全部入库，未发现被退回的文件或数据行、需要核实的单元格或与明细不符的合计行。"
            in md)
    conn.close()


def test_a_file_rejected_for_its_name_is_said_without_the_naming_rule(warehouse, tmp_path):
    """The naming rule ends the log's message (文件应放在：<数据集>/…，数据集为 key_projects、…):
    for the sender's receipt. The office reads why the file was not taken, without the folders'
    code names."""
    from shouyang_pipeline.ingest.discover import classify_as

    old_excel = tmp_path / "2023-06__发改局.xls"
    old_excel.write_bytes(b"\xd0\xcf\x11\xe0")
    raw = classify_as(old_excel, "key_projects/2023-06__发改局.xls")
    assert "数据集为 key_projects" in raw.naming_problem
    conn = _rebuilt(warehouse, tmp_path)
    conn.execute("""INSERT INTO audit.ingest_log (file_path, dataset, period, submitter, sha256, status, rows_read,
                    rows_loaded, rows_rejected, message, is_current, ingested_at, partition_key) VALUES
                    ('key_projects/2023-06__发改局.xls', 'key_projects', '2023-06', '发改局', 'x1', 'rejected', 0, 0, 0,
                     ?, TRUE, now(), 'key_projects/2023-06')""", [raw.naming_problem])
    build_all(conn)
    md = write_briefing(conn, "2023-06", tmp_path / "out")[0].read_text(encoding="utf-8")
    assert "原因：不接受旧版Excel（.xls）文件，请另存为.xlsx" in md
    assert "文件应放在" not in md and "数据集为" not in md and "industrial_output" not in md
    conn.close()


def test_the_quarters_files_the_briefing_uses_are_in_its_data_quality(sample_year):
    """July's briefing speaks of June's villages and June's talent (quarterly): both quarters'
    files with problems are listed, as the files of July are."""
    md = (sample_year.export_dir / "briefing_2023-07.md").read_text(encoding="utf-8")
    quality = md[md.index("、数据质量\n"):]
    assert "《village_income/2023-06__南燕竹镇.csv》" in quality and "《talent/2023-06__组织部.csv》" in quality
    assert "县委组织部2023年6月报送的人才引育情况表1个" in quality and "各乡镇2023年6月报送的村级集体经济收入情况表" in quality


def test_files_no_period_could_hold_are_in_their_own_months_briefing_or_every_one(warehouse, tmp_path):
    conn = _rebuilt(warehouse, tmp_path)
    log = ("INSERT INTO audit.ingest_log (file_path, dataset, period, submitter, sha256, status, rows_read, rows_loaded, "
           "rows_rejected, message, is_current, ingested_at, partition_key) VALUES (?, ?, ?, NULL, ?, 'rejected', 0, 0, 0, "
           "'无法判断属于哪个数据集', TRUE, now(), NULL)")
    conn.execute(log, ["foo/2023-02.csv", None, "2023-02", "u1"])  # its month has a briefing
    conn.execute(log, ["key_projects/2030-01__发改局.csv", "key_projects", "2030-01", "u2"])  # a month with no data
    conn.execute(log, ["readme.xlsx", None, None, "u3"])  # no month at all
    build_all(conn)
    february = write_briefing(conn, "2023-02", tmp_path / "out")[0].read_text(encoding="utf-8")
    march = write_briefing(conn, "2023-03", tmp_path / "out")[0].read_text(encoding="utf-8")
    assert "foo/2023-02.csv" in february and "foo/2023-02.csv" not in march
    assert "readme.xlsx" in february and "readme.xlsx" in march
    assert "2030-01__发改局.csv" in february and "2030-01__发改局.csv" in march  # no briefing of its own
    conn.close()


def test_a_file_whose_every_row_failed_says_why_without_a_table_name(warehouse, tmp_path):
    """The log's message for such a file sends analysts to audit.rejected_rows; the briefing says
    it in the office's words, the reasons following (WAREHOUSE.md: never a table's code name)."""
    kp = "key_projects/2023-06__县发改局.xlsx"
    conn = _rebuilt(
        warehouse, tmp_path,
        f"""UPDATE audit.ingest_log SET status = 'rejected', rows_loaded = 0, rows_rejected = 1, rows_read = 1,
            message = '全部1行数据均未通过校验，整个文件未入库，请按audit.rejected_rows中的原因改正后重新报送；'
                      || '合计行核对一致；已忽略无法识别的列：本年完成投资额（万元）',
            ignored_columns = '本年完成投资额（万元）'
            WHERE file_path = '{kp}'""",
        f"""INSERT INTO audit.rejected_rows (file_path, dataset, period, source_row, source_cell, "column",
            source_column, value, rule, reason, raw_row) VALUES ('{kp}', 'key_projects', '2023-06', 2, 'E2',
            'total_investment', '总投资', '-18', 'negative', '总投资不能为负数（当前值：-18）', '{{}}')""",
        # a talent file named by the department without 县委: still 县委组织部, as 报送情况 names it
        """INSERT INTO audit.ingest_log (file_path, dataset, period, submitter, sha256, status, rows_read,
           rows_loaded, rows_rejected, message, is_current, ingested_at, partition_key) VALUES
           ('talent/2023-06__组织部.csv', 'talent', '2023-06', '组织部', 't1', 'rejected', 0, 0, 0,
            '缺少必填列“领军人才对接数”，整个文件被退回', TRUE, now(), 'talent/2023-06')""",
    )
    md = write_briefing(conn, "2023-06", tmp_path / "out")[0].read_text(encoding="utf-8")
    quality = md[md.index("、数据质量\n"):]
    assert ("县发改局报送的《key_projects/2023-06__县发改局.xlsx》（重点项目进展情况表）：整个文件被退回，不计入任何数据"
            "（读到数据行1行）。原因：全部1行数据均未通过校验；已忽略无法识别的列：本年完成投资额（万元）。退回原因：金额为负数：1行"
            "（如第2行：总投资不能为负数（当前值：-18））。") in quality
    assert "县委组织部报送的《talent/2023-06__组织部.csv》" in quality and "原因：缺少必填列“领军人才对接数”" in quality
    assert "audit." not in md and "合计行核对一致" not in quality  # the totals are no reason it was sent back
    conn.close()


def test_the_samples_file_whose_every_row_failed_is_said_without_a_table_name(sample_year):
    """The sample's 2023-09 park file has one row, which fails: the message the run wrote (not a
    hand-made one) is recognised and said in the office's words."""
    md = (sample_year.export_dir / "briefing_2023-09.md").read_text(encoding="utf-8")
    line = next(x for x in md.splitlines() if "2023-09__景尚农业现代化产业园.csv" in x and "报送的《" in x)
    assert "整个文件被退回，不计入任何数据（读到数据行1行）。原因：全部1行数据均未通过校验。退回原因：金额为负数：1行" in line
    assert "audit." not in md
