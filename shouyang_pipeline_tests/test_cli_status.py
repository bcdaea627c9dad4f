"""`shouyang status`: who has not reported, who is late, whose files were sent back, in Chinese.

The published warehouse is made from real files in tmp_path, as a run loads them (or by a real
`shouyang run` in the last test); the clock is SHOUYANG_NOW, as the office would set it to look
at a past morning.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
from click.testing import CliRunner
from rich.cells import cell_len
from rich.console import Console

from shouyang_pipeline import cli
from shouyang_pipeline.cli import main
from shouyang_pipeline.ingest.discover import discover
from shouyang_pipeline.ingest.period import ingest_period
from shouyang_pipeline.marts.build import build_mart
from shouyang_pipeline.reference import Reference
from shouyang_pipeline.warehouse.ddl import ensure_tables
from shouyang_pipeline.warehouse.load import load_period, load_reference
from shouyang_pipeline_tests.conftest import KP_HEADER, VI_HEADER, csv_bytes, kp_row, write_csv
from shouyang_pipeline_tests.test_cli import _env

BEIJING = ZoneInfo("Asia/Shanghai")
CLICK_ENGLISH = ("Usage:", "Error:", "Traceback", "Invalid value")


def _touch(path: Path, when: datetime) -> Path:
    stamp = when.replace(tzinfo=BEIJING).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def _files(raw: Path) -> None:
    """2023-09: 发改局 late by the register, 平头镇 on time, 宗艾镇 (and the other townships) missing,
    能源局 sent back; 2023-06: 发改局's file partly loaded."""
    _touch(write_csv(raw / "key_projects/2023-09__发改局.csv", [KP_HEADER, kp_row()]), datetime(2023, 10, 2))
    (raw / "收文登记.csv").write_bytes(csv_bytes([["文件", "收到时间"],
                                                ["key_projects/2023-09__发改局.csv", "2023-10-06 14:20"]]))
    _touch(write_csv(raw / "village_income/2023-09__平头镇.csv",
                     [VI_HEADER, ["140725103201", "黑水村", "平头镇", 45, 60, "光伏"]]), datetime(2023, 10, 9, 17, 0))
    _touch(write_csv(raw / "smart_mines/2023-09__能源局.csv", [["煤矿", "说明"], ["某矿", "无"]]), datetime(2023, 10, 4))
    _touch(write_csv(raw / "key_projects/2023-06__发改局.csv", [KP_HEADER, kp_row("XM001"), kp_row("XM002", total="暂无")]),
           datetime(2023, 7, 3))


def _publish(settings, now: datetime) -> None:
    """Load every dataset-period of the raw dir into the published warehouse and build the mart
    at `now`, as a run does."""
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(settings.warehouse))
    try:
        ensure_tables(conn)
        load_reference(conn, settings.reference_dir)
        reference = Reference.load(settings.reference_dir)
        files = discover(settings.raw_dir)
        for dataset, period in sorted({f.dataset_period for f in files if f.dataset_period}):
            mine = [f for f in files if f.dataset_period == (dataset, period)]
            load_period(conn, ingest_period(settings, dataset, period, reference, files=mine))
        build_mart(conn, "submission_status", now=now)
    finally:
        conn.close()


def _status(settings, tmp_path, now: str, *args: str):
    env = {**_env(settings, tmp_path), "SHOUYANG_NOW": now}
    return CliRunner().invoke(main, ["status", *args], env=env, prog_name="shouyang")


def _section(output: str, title: str) -> str:
    """The lines of one section of the output (from its title to the next blank line)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return "\n".join(lines[start:end])


def test_the_period_now_due_names_the_overdue_township_the_late_department_and_the_due_dates(settings, tmp_path):
    _files(settings.raw_dir)
    _publish(settings, datetime(2023, 10, 11, 9, 30))
    result = _status(settings, tmp_path, "2023-10-11T09:30")
    assert result.exit_code == 0, result.output
    out = result.output
    assert not [w for w in CLICK_ENGLISH if w in out], out
    assert "报送情况：2023-09（当前应报的报告期）" in out
    assert "按现在 2023-10-11 09:30（北京时间）判断" in out and "截至上次运行" in out
    overdue = _section(out, "逾期未报")
    assert "宗艾镇人民政府" in overdue and "村级集体经济收入情况表" in overdue and "2023-10-10" in overdue
    assert "已逾期1天" in overdue and "平头镇人民政府" not in overdue
    assert "县统计局" in overdue and "规上工业企业主要指标" in overdue and "2023-10-08" in overdue
    late = _section(out, "逾期报送")
    assert "县发改局" in late and "重点项目进展情况表" in late and "2023-10-05" in late
    assert "2023-10-06 14:20收到，晚1天" in late
    sent_back = _section(out, "被退回")
    assert "县能源局" in sent_back and "smart_mines/2023-09__能源局.csv" in sent_back
    assert "应报 20 项：已报送 2，部分入库 0，被退回 1，逾期未报 17，未到期 0；其中逾期报送 1 项" in out
    # earlier periods with open problems, one line each (in 2023-06 only 发改局 sent a file)
    assert "其他报告期仍有问题" in out and "2023-06：逾期未报19项，部分入库1项" in out


def test_not_yet_due_and_overdue_are_judged_at_the_current_clock_not_the_last_runs(settings, tmp_path):
    _files(settings.raw_dir)
    _publish(settings, datetime(2023, 10, 11, 9, 30))  # the last run judged every township overdue
    result = _status(settings, tmp_path, "2023-10-09T08:00")
    assert result.exit_code == 0, result.output
    # only 统计局's industrial file (due 2023-10-08) and the park's (due 2023-10-05) are overdue
    assert "逾期未报 2，未到期 15" in result.output
    waiting = _section(result.output, "未到期")
    assert "宗艾镇人民政府" in waiting and "还有1天" in waiting and "2023-10-10" in waiting
    assert "宗艾镇人民政府" not in _section(result.output, "逾期未报")
    # and the other way round: a run at the start of the month, read after the due day
    _publish(settings, datetime(2023, 10, 2, 8, 0))
    result = _status(settings, tmp_path, "2023-10-12T08:00", "--period", "2023-09")
    assert "宗艾镇人民政府" in _section(result.output, "逾期未报")


def test_a_period_without_any_file_lists_every_expected_submission(settings, tmp_path):
    _files(settings.raw_dir)
    _publish(settings, datetime(2023, 10, 11, 9, 30))
    result = _status(settings, tmp_path, "2023-10-11T09:30", "--period", "2023-05")
    assert result.exit_code == 0, result.output
    assert "报送情况：2023-05\n" in result.output
    overdue = _section(result.output, "逾期未报")
    assert "县发改局" in overdue and "2023-06-05" in overdue and "县统计局" in overdue
    assert "村级集体经济收入情况表" not in result.output  # not one of 3, 6, 9, 12
    assert "应报 5 项：已报送 0，部分入库 0，被退回 0，逾期未报 5" in result.output


def test_a_clean_period_says_so(settings, tmp_path):
    # a calendar of one line: 发改局's monthly file, in on time
    (settings.reference_dir / "submitters.csv").write_text(
        "dataset,submitter,department,months,due_day\nkey_projects,发改局,县发改局,1-12,5\n", encoding="utf-8")
    _touch(write_csv(settings.raw_dir / "key_projects/2023-01__发改局.csv", [KP_HEADER, kp_row()]), datetime(2023, 2, 1))
    _publish(settings, datetime(2023, 2, 10))
    result = _status(settings, tmp_path, "2023-02-03T08:00")
    assert result.exit_code == 0, result.output
    assert "报送情况：2023-01（当前应报的报告期）" in result.output
    assert "应报 1 项：已报送 1，部分入库 0，被退回 0，逾期未报 0，未到期 0" in result.output
    assert "该报告期应报的报表都已按时报送并全部入库。" in result.output
    assert "其他报告期" not in result.output


def test_unlisted_files_are_shown_never_as_errors(settings, tmp_path):
    _touch(write_csv(settings.raw_dir / "key_projects/2023-09__县财政局.csv", [KP_HEADER, kp_row()]), datetime(2023, 10, 3))
    _publish(settings, datetime(2023, 10, 11))
    result = _status(settings, tmp_path, "2023-10-11T09:30")
    assert result.exit_code == 0, result.output
    unlisted = _section(result.output, "名单外")
    assert "县财政局" in unlisted and "key_projects/2023-09__县财政局.csv" in unlisted and "入库1行" in unlisted
    assert "名单外文件 1 个" in result.output


def test_a_narrow_terminal_gets_lines_that_fit(settings, tmp_path, monkeypatch):
    _files(settings.raw_dir)
    _publish(settings, datetime(2023, 10, 11, 9, 30))
    monkeypatch.setattr(cli, "console", Console(width=50))
    result = _status(settings, tmp_path, "2023-10-11T09:30")
    assert result.exit_code == 0, result.output
    assert all(cell_len(line) <= 50 for line in result.output.splitlines()), result.output
    assert "宗艾镇人民政府" in result.output and "smart_mines/2023-09__能源局.csv" in result.output


def test_without_a_warehouse_it_says_so_and_exits_2(settings, tmp_path):
    result = _status(settings, tmp_path, "2023-10-11T09:30")
    assert result.exit_code == 2
    assert "数据仓库" in result.output and "还不存在" in result.output and "shouyang run" in result.output
    assert not settings.warehouse.exists()


def test_usage_errors_exit_2_in_chinese(settings, tmp_path):
    _files(settings.raw_dir)
    _publish(settings, datetime(2023, 10, 11, 9, 30))
    for args, words in ((["--period", "2023-13"], "报告期“2023-13”无效"), (["--period", "九月"], "应写作YYYY-MM"),
                        (["--perod", "2023-09"], "没有 --perod 这个选项"),
                        (["--period", "2019-05"], "不能早于2020-01")):
        result = _status(settings, tmp_path, "2023-10-11T09:30", *args)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output, result.output
        assert not [w for w in CLICK_ENGLISH if w in result.output], result.output
    result = _status(settings, tmp_path, "十月十一日")
    assert result.exit_code == 2 and "SHOUYANG_NOW" in result.output


def test_it_reads_the_published_warehouse_without_blocking_a_writer(settings, tmp_path):
    _files(settings.raw_dir)
    _publish(settings, datetime(2023, 10, 11, 9, 30))
    reader = duckdb.connect(str(settings.warehouse), read_only=True)  # an analyst's read-only session
    try:
        assert _status(settings, tmp_path, "2023-10-11T09:30").exit_code == 0
    finally:
        reader.close()
    _status(settings, tmp_path, "2023-10-11T09:30")
    writer = duckdb.connect(str(settings.warehouse))  # status left no lock behind
    writer.close()


def test_after_a_real_run(settings, tmp_path):
    _files(settings.raw_dir)
    env = {**_env(settings, tmp_path), "SHOUYANG_NOW": "2023-10-11T09:30"}
    run = CliRunner().invoke(main, ["run"], env=env, prog_name="shouyang")
    assert run.exit_code == 0, run.output
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        stored = dict(conn.execute("SELECT department, status FROM marts.submission_status "
                                   "WHERE period = '2023-09' AND dataset = 'village_income'").fetchall())
    assert stored["宗艾镇人民政府"] == "逾期未报" and stored["平头镇人民政府"] == "已报送"
    result = CliRunner().invoke(main, ["status"], env=env, prog_name="shouyang")
    assert result.exit_code == 0, result.output
    assert "宗艾镇人民政府" in _section(result.output, "逾期未报")
    assert "县发改局" in _section(result.output, "逾期报送")
