"""marts.submission_status (WAREHOUSE.md; SUBMISSIONS.md 7): who reports what, and by when.

Real files in tmp_path, ingested and loaded into a real DuckDB as a run does (`run_period`), the
project's reporting calendar (data/reference/submitters.csv), and the mart built at a clock the
test sets (`build_mart(now=...)`, what `Settings.now()` / SHOUYANG_NOW gives a run).
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from shouyang_pipeline.catalog.marts import MART_CHECKS, MARTS, SUBMISSION_STATUSES
from shouyang_pipeline.marts.build import build_mart, mart_rows_at, status_check_rows
from shouyang_pipeline_tests.conftest import (
    CREDIT_CODES, IO_HEADER, KP_HEADER, VI_HEADER, csv_bytes, kp_row, write_csv,
)

BEIJING = ZoneInfo("Asia/Shanghai")
TOWNSHIPS = 14  # village_income lines of the calendar


def _touch(path: Path, when: datetime) -> Path:
    """The file's modification time, Beijing time."""
    stamp = when.replace(tzinfo=BEIJING).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def _kp(raw: Path, rel: str, received: datetime | None = None, **row) -> Path:
    path = write_csv(raw / rel, [KP_HEADER, kp_row(**row)])
    return _touch(path, received or datetime(2023, 1, 1))


def _vi(raw: Path, rel: str, township: str, received: datetime | None = None, rows=None) -> Path:
    rows = rows or [["140725103201", "黑水村", township, 45, 60, "光伏"]]
    path = write_csv(raw / rel, [VI_HEADER, *rows])
    return _touch(path, received or datetime(2023, 1, 1))


def _register(raw: Path, lines: list[list[str]]) -> None:
    (raw / "收文登记.csv").write_bytes(csv_bytes([["文件", "收到时间"], *lines]))


def _status(conn, now: datetime) -> list[dict]:
    build_mart(conn, "submission_status", now=now)
    cur = conn.execute("SELECT * FROM marts.submission_status")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _one(rows: list[dict], period: str, dataset: str, submitter: str | None = None, status: str | None = None) -> dict:
    mine = [r for r in rows if r["period"] == period and r["dataset"] == dataset
            and (submitter is None or r["submitter"] == submitter) and (status is None or r["status"] == status)]
    assert len(mine) == 1, (period, dataset, submitter, mine)
    return mine[0]


# ------------------------------------------------------------------ nothing received: not yet due, then overdue


def test_a_township_that_did_not_send_is_not_yet_due_then_overdue(raw, run_period):
    _vi(raw, "village_income/2023-09__平头镇.csv", "平头镇", datetime(2023, 10, 8, 9, 0))
    conn = run_period("village_income", "2023-09").conn
    before = _status(conn, datetime(2023, 10, 10, 23, 59))  # due 2023-10-10: the last minute of the due day
    zongai = _one(before, "2023-09", "village_income", "宗艾镇")
    assert zongai["status"] == "未到期" and zongai["due_date"] == date(2023, 10, 10)
    assert zongai["department"] == "宗艾镇人民政府" and zongai["dataset_title"] == "村级集体经济收入情况表"
    assert zongai["file_path"] is None and zongai["first_received_at"] is None and zongai["is_late"] is None
    assert (zongai["rows_loaded"], zongai["rows_rejected"], zongai["open_flags"]) == (0, 0, 0)
    after = _status(conn, datetime(2023, 10, 11, 0, 0))
    assert _one(after, "2023-09", "village_income", "宗艾镇")["status"] == "逾期未报"
    pingtou = _one(after, "2023-09", "village_income", "平头镇")
    assert pingtou["status"] == "已报送" and pingtou["file_path"] == "village_income/2023-09__平头镇.csv"
    assert pingtou["is_late"] is False and pingtou["rows_loaded"] == 1
    # one row per expected submission of the period: fourteen townships, and every monthly line
    assert len([r for r in after if r["period"] == "2023-09" and r["dataset"] == "village_income"]) == TOWNSHIPS
    assert {r["dataset"] for r in after if r["period"] == "2023-09"} == {
        "key_projects", "industrial_output", "city_indicators", "village_income", "smart_mines",
        "zone_operations", "talent"}


def test_the_period_now_due_has_its_rows_even_without_any_file(raw, run_period):
    _kp(raw, "key_projects/2023-05__发改局.csv", datetime(2023, 6, 2, 9, 0))
    conn = run_period("key_projects", "2023-05").conn
    rows = _status(conn, datetime(2023, 10, 11, 9, 30))
    assert {r["period"] for r in rows} == {"2023-05", "2023-09"}
    assert _one(rows, "2023-09", "key_projects")["status"] == "逾期未报"  # due 2023-10-05
    assert _one(rows, "2023-09", "village_income", "朝阳镇")["status"] == "逾期未报"  # due 2023-10-10
    # in January the period now due is last December
    assert "2022-12" in {r["period"] for r in _status(conn, datetime(2023, 1, 3, 8, 0))}


# ------------------------------------------------------------------ received late, or in the last minute


def test_late_by_the_register_or_the_modification_time_and_the_last_minute_is_on_time(raw, run_period):
    # key_projects is due on the 5th of the following month
    _kp(raw, "key_projects/2023-05__发改局.csv", datetime(2023, 6, 1, 9, 0))       # register: 6-05 23:59
    _kp(raw, "key_projects/2023-06__发改局.csv", datetime(2023, 7, 1, 9, 0))       # register: 7-06 00:00
    _kp(raw, "key_projects/2023-07__发改局.csv", datetime(2023, 8, 5, 23, 59, 59))  # modification time
    _kp(raw, "key_projects/2023-08__发改局.csv", datetime(2023, 9, 6, 0, 0))       # modification time
    _register(raw, [["key_projects/2023-05__发改局.csv", "2023-06-05 23:59"],
                    ["key_projects/2023-06__发改局.csv", "2023-07-06 00:00"]])
    for period in ("2023-05", "2023-06", "2023-07", "2023-08"):
        run = run_period("key_projects", period)
    rows = _status(run.conn, datetime(2023, 10, 11, 9, 30))
    late = {r["period"]: (r["first_received_at"], r["is_late"]) for r in rows if r["dataset"] == "key_projects"}
    assert late["2023-05"] == (datetime(2023, 6, 5, 23, 59), False)
    assert late["2023-06"] == (datetime(2023, 7, 6, 0, 0), True)
    assert late["2023-07"] == (datetime(2023, 8, 5, 23, 59, 59), False)
    assert late["2023-08"] == (datetime(2023, 9, 6, 0, 0), True)
    assert {r["status"] for r in rows if r["dataset"] == "key_projects" and r["period"] != "2023-09"} == {"已报送"}


def test_a_corrected_version_keeps_the_first_versions_received_time(raw, run_period):
    path = _kp(raw, "key_projects/2023-09__发改局.csv", datetime(2023, 10, 4, 16, 0), total="暂无")
    run = run_period("key_projects", "2023-09")
    first = _one(_status(run.conn, datetime(2023, 10, 11)), "2023-09", "key_projects")
    assert first["status"] == "被退回" and first["is_late"] is False  # in on time, but sent back
    _kp(raw, "key_projects/2023-09__发改局.csv", datetime(2023, 10, 9, 10, 0))  # the corrected file, after the 5th
    run = run_period("key_projects", "2023-09")
    assert len(run.log(current=False)) == 2
    row = _one(_status(run.conn, datetime(2023, 10, 11)), "2023-09", "key_projects")
    assert row["status"] == "已报送" and row["file_path"] == str(path.relative_to(raw))
    assert row["first_received_at"] == datetime(2023, 10, 4, 16, 0) and row["is_late"] is False


# ------------------------------------------------------------------ whose file it is


def test_a_sender_found_by_its_departments_name_and_a_file_without_submitter(raw, run_period):
    _kp(raw, "key_projects/2023-05__县发改局.csv", datetime(2023, 6, 1))
    _kp(raw, "key_projects/2023-06.csv", datetime(2023, 7, 1))  # no submitter: the dataset's only line
    run_period("key_projects", "2023-05")
    conn = run_period("key_projects", "2023-06").conn
    rows = _status(conn, datetime(2023, 10, 11))
    may = _one(rows, "2023-05", "key_projects")
    assert (may["submitter"], may["department"], may["status"]) == ("发改局", "县发改局", "已报送")
    assert may["file_path"] == "key_projects/2023-05__县发改局.csv"
    june = _one(rows, "2023-06", "key_projects")
    assert (june["submitter"], june["status"], june["file_path"]) == ("发改局", "已报送", "key_projects/2023-06.csv")
    assert not [r for r in rows if r["status"] == "名单外"]


def test_a_park_or_township_named_by_another_of_its_names_or_its_department(raw, run_period):
    """`__平头融合区` (an alias in zones.csv) is the park's file, as `__平头融合发展区管委会` (its
    calendar department) is, and a village file `__平头镇人民政府` without a 乡镇 column is 平头镇's:
    each loads, its column filled from the sender, and the calendar counts it sent."""
    zone = ["固定资产投资本年累计", "税收收入本年累计", "营业性收入本年累计"]
    _touch(write_csv(raw / "zone_operations/2023-05__平头融合区.csv", [zone, [100, 20, 300]]), datetime(2023, 6, 1))
    _touch(write_csv(raw / "zone_operations/2023-06__平头融合发展区管委会.csv", [zone, [120, 25, 350]]),
           datetime(2023, 7, 1))
    _touch(write_csv(raw / "village_income/2023-06__平头镇人民政府.csv",
                     [["村名称", "经营性收入", "集体经济总收入"], ["黑水村", 41, 50]]), datetime(2023, 7, 1))
    run_period("zone_operations", "2023-05")
    run_period("zone_operations", "2023-06")
    run = run_period("village_income", "2023-06")
    assert [(r["file_path"].split("/")[1], r["status"], r["expected_submitter"]) for r in run.log()] == [
        ("2023-06__平头镇人民政府.csv", "loaded", "平头镇"),
        ("2023-05__平头融合区.csv", "loaded", "平头融合发展区"),
        ("2023-06__平头融合发展区管委会.csv", "loaded", "平头融合发展区")]
    assert [(r["period"], r["zone"]) for r in run.staging("zone_operations")] == [
        ("2023-05", "平头融合发展区"), ("2023-06", "平头融合发展区")]
    assert [(r["township"], r["village_name"]) for r in run.staging("village_income")] == [("平头镇", "黑水村")]
    rows = _status(run.conn, datetime(2023, 7, 20))
    assert _one(rows, "2023-05", "zone_operations", "平头融合发展区")["status"] == "已报送"
    assert _one(rows, "2023-06", "zone_operations", "平头融合发展区")["status"] == "已报送"
    assert _one(rows, "2023-06", "village_income", "平头镇")["status"] == "已报送"
    assert not [r for r in rows if r["status"] == "名单外"]


def test_a_file_from_an_unknown_sender_is_unlisted_never_an_error(raw, run_period):
    _kp(raw, "key_projects/2023-09__县财政局.csv", datetime(2023, 10, 3))
    _vi(raw, "village_income/2023-09.csv", "平头镇", datetime(2023, 10, 3))  # fourteen lines: no submitter is no one's
    run_period("key_projects", "2023-09")
    conn = run_period("village_income", "2023-09").conn
    rows = _status(conn, datetime(2023, 10, 11))
    unlisted = [r for r in rows if r["status"] == "名单外"]
    assert [(r["dataset"], r["submitter"], r["department"], r["file_path"]) for r in unlisted] == [
        ("key_projects", "县财政局", None, "key_projects/2023-09__县财政局.csv"),
        ("village_income", None, None, "village_income/2023-09.csv"),
    ]
    assert all(r["due_date"] is None and r["is_late"] is None and r["rows_loaded"] == 1 for r in unlisted)
    assert unlisted[0]["first_received_at"] == datetime(2023, 10, 3)
    assert unlisted[0]["dataset_title"] == "重点项目进展情况表"
    # the expected submission is still overdue
    assert _one(rows, "2023-09", "key_projects", "发改局")["status"] == "逾期未报"
    # the unlisted rows come after the calendar's
    assert [r["status"] for r in rows if r["period"] == "2023-09"][-2:] == ["名单外", "名单外"]


def test_months_outside_a_lines_months_give_no_row_and_a_file_of_such_a_month_is_unlisted(raw, run_period):
    # the statistics bureau reports from February (2-12); the quarterly lines only in 3, 6, 9, 12
    _kp(raw, "key_projects/2023-01__发改局.csv", datetime(2023, 2, 1))
    io = write_csv(raw / "industrial_output/2023-01__统计局.csv",
                   [IO_HEADER, [CREDIT_CODES[0], "企业甲", "造纸产业链", "平头镇", 100, 90, 300, "否"]])
    _touch(io, datetime(2023, 2, 7))
    run_period("key_projects", "2023-01")
    conn = run_period("industrial_output", "2023-01").conn
    january = [r for r in _status(conn, datetime(2023, 10, 11)) if r["period"] == "2023-01"]
    assert {r["dataset"] for r in january if r["status"] != "名单外"} == {
        "key_projects", "smart_mines", "zone_operations"}
    unlisted = _one(january, "2023-01", "industrial_output", status="名单外")
    assert (unlisted["submitter"], unlisted["department"], unlisted["due_date"]) == ("统计局", "县统计局", None)
    assert unlisted["rows_loaded"] == 1
    assert _one(january, "2023-01", "key_projects")["status"] == "已报送"
    _kp(raw, "key_projects/2023-05__发改局.csv", datetime(2023, 6, 1))
    conn = run_period("key_projects", "2023-05").conn
    may = {r["dataset"] for r in _status(conn, datetime(2023, 10, 11)) if r["period"] == "2023-05"}
    assert may == {"key_projects", "industrial_output", "city_indicators", "smart_mines", "zone_operations"}


# ------------------------------------------------------------------ sent back, partly loaded


def test_a_rejected_current_version_is_sent_back_and_rows_rejected_is_partly_loaded(raw, run_period):
    # 平头镇: the whole file rejected (its only row is wrong); 宗艾镇: one row of two rejected
    _vi(raw, "village_income/2023-09__平头镇.csv", "平头镇", rows=[["140725103201", "黑水村", "平头镇", "暂无", 60, "光伏"]])
    _vi(raw, "village_income/2023-09__宗艾镇.csv", "宗艾镇", rows=[
        ["140725102201", "宗艾村", "宗艾镇", 45, 60, "光伏"], ["140725102202", "下黑水村", "宗艾镇", "暂无", 60, "光伏"]])
    conn = run_period("village_income", "2023-09").conn
    rows = _status(conn, datetime(2023, 10, 11))
    pingtou = _one(rows, "2023-09", "village_income", "平头镇")
    assert pingtou["status"] == "被退回" and pingtou["file_path"] == "village_income/2023-09__平头镇.csv"
    assert (pingtou["rows_loaded"], pingtou["rows_rejected"]) == (0, 1)
    zongai = _one(rows, "2023-09", "village_income", "宗艾镇")
    assert zongai["status"] == "部分入库" and (zongai["rows_loaded"], zongai["rows_rejected"]) == (1, 1)


def test_several_current_files_of_one_submission(raw, run_period):
    # the department sends two files (short and full name): one rejected, one loaded → 部分入库
    _kp(raw, "key_projects/2023-09__发改局.csv", datetime(2023, 10, 6, 8, 0), code="XM001")
    write_csv(raw / "key_projects/2023-09__县发改局.csv", [KP_HEADER[:3], ["XM002", "项目", "省级"]])
    _touch(raw / "key_projects/2023-09__县发改局.csv", datetime(2023, 10, 3, 8, 0))
    conn = run_period("key_projects", "2023-09").conn
    row = _one(_status(conn, datetime(2023, 10, 11)), "2023-09", "key_projects")
    assert row["status"] == "部分入库"
    assert row["file_path"] == "key_projects/2023-09__县发改局.csv、key_projects/2023-09__发改局.csv"
    assert row["first_received_at"] == datetime(2023, 10, 3, 8, 0) and row["is_late"] is False
    assert (row["rows_loaded"], row["rows_rejected"]) == (1, 0)  # a file without its columns has no row read


def test_the_same_content_sent_twice_is_sent_not_partly_loaded(raw, run_period):
    # the department sends one file under its short and its full name: the copy is sent back as
    # 重复提交 (SUBMISSIONS.md 1), every row of the content is loaded: 已报送; a copy of a file
    # that was itself sent back leaves the submission 被退回
    _kp(raw, "key_projects/2023-09__发改局.csv", datetime(2023, 10, 6, 8, 0), code="XM001")
    _kp(raw, "key_projects/2023-09__县发改局.csv", datetime(2023, 10, 7, 8, 0), code="XM001")
    _vi(raw, "village_income/2023-09__平头镇.csv", "平头镇", rows=[["140725103201", "黑水村", "平头镇", "暂无", 60, "光伏"]])
    _vi(raw, "village_income/2023-09__平头镇人民政府.csv", "平头镇", rows=[["140725103201", "黑水村", "平头镇", "暂无", 60, "光伏"]])
    run_period("village_income", "2023-09")
    run = run_period("key_projects", "2023-09")
    # (县 U+53BF sorts before 发 U+53D1: the full name's file loads, the short name's is the copy)
    assert run.log("key_projects/2023-09__发改局.csv")["message"].startswith("重复提交")
    rows = _status(run.conn, datetime(2023, 10, 11))
    row = _one(rows, "2023-09", "key_projects")
    assert row["status"] == "已报送" and (row["rows_loaded"], row["rows_rejected"]) == (1, 0)
    assert row["file_path"] == "key_projects/2023-09__县发改局.csv、key_projects/2023-09__发改局.csv"
    assert _one(rows, "2023-09", "village_income", "平头镇")["status"] == "被退回"


# ------------------------------------------------------------------ unexplained cross-period flags


def _flag(conn, period, dataset, file_path, rule="ytd_decreased", explained=False, key="XM001"):
    conn.execute(
        "INSERT INTO audit.cross_period_flags (period, dataset, key, rule, reason, explained, file_path, previous_period) "
        "VALUES (?, ?, ?, ?, '测试', ?, ?, '2023-08')", [period, dataset, key, rule, explained, file_path])


def test_open_flags_count_the_unexplained_flags_of_its_files(raw, run_period):
    _kp(raw, "key_projects/2023-08__发改局.csv", datetime(2023, 9, 1))
    _kp(raw, "key_projects/2023-09__发改局.csv", datetime(2023, 10, 1))
    _vi(raw, "village_income/2023-09__平头镇.csv", "平头镇", datetime(2023, 10, 1))
    run_period("key_projects", "2023-08")
    run_period("key_projects", "2023-09")
    conn = run_period("village_income", "2023-09").conn
    kp9 = "key_projects/2023-09__发改局.csv"
    _flag(conn, "2023-09", "key_projects", kp9)                              # counts
    _flag(conn, "2023-09", "key_projects", kp9, rule="plan_changed")         # counts
    _flag(conn, "2023-09", "key_projects", kp9, explained=True)              # explained by 备注
    _flag(conn, "2023-09", "key_projects", "key_projects/2023-08__发改局.csv", rule="missing_key", key="XM009")  # counts
    _flag(conn, "2023-08", "key_projects", "key_projects/2023-08__发改局.csv")  # another period
    _flag(conn, "2023-09", "village_income", "village_income/2023-09__平头镇.csv", key="140725103201")
    rows = _status(conn, datetime(2023, 10, 11))
    assert _one(rows, "2023-09", "key_projects")["open_flags"] == 3
    assert _one(rows, "2023-08", "key_projects")["open_flags"] == 1
    assert _one(rows, "2023-09", "village_income", "平头镇")["open_flags"] == 1
    assert _one(rows, "2023-09", "village_income", "宗艾镇")["open_flags"] == 0


def test_a_missing_key_counts_for_the_submitter_of_the_previous_file_even_when_nothing_came(raw, run_period):
    _vi(raw, "village_income/2023-06__平头镇.csv", "平头镇", datetime(2023, 7, 1))
    conn = run_period("village_income", "2023-06").conn
    _vi(raw, "village_income/2023-09__宗艾镇.csv", "宗艾镇", datetime(2023, 10, 1),
        rows=[["140725102201", "宗艾村", "宗艾镇", 45, 60, "光伏"]])
    run_period("village_income", "2023-09")
    _flag(conn, "2023-09", "village_income", "village_income/2023-06__平头镇.csv", rule="missing_key",
          key="140725103201")
    rows = _status(conn, datetime(2023, 10, 11))
    assert _one(rows, "2023-09", "village_income", "平头镇")["open_flags"] == 1
    assert _one(rows, "2023-09", "village_income", "平头镇")["status"] == "逾期未报"
    assert _one(rows, "2023-09", "village_income", "宗艾镇")["open_flags"] == 0


# ------------------------------------------------------------------ the calendar as written, the check


def test_months_written_with_full_width_characters_and_spaces(raw, run_period, settings):
    path = settings.reference_dir / "submitters.csv"
    text = path.read_text(encoding="utf-8")
    assert 'talent,组织部,县委组织部,"3,6,9,12",10' in text and "smart_mines,能源局,县能源局,1-12,5" in text
    text = text.replace('talent,组织部,县委组织部,"3,6,9,12",10', 'talent,组织部,县委组织部,"３， ６、9 ,１２",10')
    text = text.replace("smart_mines,能源局,县能源局,1-12,5", "smart_mines,能源局,县能源局,２－１２,5")
    path.write_text(text, encoding="utf-8")
    _kp(raw, "key_projects/2023-01__发改局.csv", datetime(2023, 2, 1))
    _kp(raw, "key_projects/2023-06__发改局.csv", datetime(2023, 7, 1))
    run_period("key_projects", "2023-01")
    conn = run_period("key_projects", "2023-06").conn
    rows = _status(conn, datetime(2023, 10, 11))
    assert {r["dataset"] for r in rows if r["period"] == "2023-01"} == {"key_projects", "zone_operations"}
    assert {"talent", "smart_mines"} <= {r["dataset"] for r in rows if r["period"] == "2023-06"}


def test_the_declaration_the_statuses_and_the_check(raw, run_period):
    _kp(raw, "key_projects/2023-09__发改局.csv", datetime(2023, 10, 4), total="暂无")
    conn = run_period("key_projects", "2023-09").conn
    rows = _status(conn, datetime(2023, 10, 11))
    assert {r["status"] for r in rows} <= set(SUBMISSION_STATUSES)
    comments = dict(conn.execute("SELECT column_name, comment FROM duckdb_columns() "
                                 "WHERE schema_name = 'marts' AND table_name = 'submission_status'").fetchall())
    assert comments == {c.name: c.comment for c in MARTS["submission_status"].columns}
    (check,) = MART_CHECKS["submission_status"]
    shown = status_check_rows(conn, "submission_status", check, "2023-09")
    flagged = shown[shown[check.column].isin(check.warn_on)]
    assert "县发改局" in set(flagged["department"]) and "县能源局" in set(flagged["department"])
    assert len(flagged) == len([r for r in rows if r["period"] == "2023-09" and r["status"] in ("逾期未报", "被退回")])
    # before the due dates, only the file sent back is a warning
    build_mart(conn, "submission_status", now=datetime(2023, 10, 4, 12, 0))
    shown = status_check_rows(conn, "submission_status", check, "2023-09")
    assert list(shown[shown[check.column].isin(check.warn_on)]["department"]) == ["县发改局"]


def test_a_reader_recomputes_at_its_own_clock_from_a_read_only_warehouse(raw, run_period, tmp_path):
    _kp(raw, "key_projects/2023-09__发改局.csv", datetime(2023, 10, 4))
    run = run_period("key_projects", "2023-09")
    path = tmp_path / "published.duckdb"
    run.conn.execute(f"ATTACH '{path}' AS published")
    run.conn.execute("COPY FROM DATABASE memory TO published")
    run.conn.execute("DETACH published")
    conn = duckdb.connect(str(path), read_only=True)
    try:
        early = mart_rows_at(conn, "submission_status", datetime(2023, 10, 3))
        late = mart_rows_at(conn, "submission_status", datetime(2023, 11, 20))
    finally:
        conn.close()
    assert set(early.period) == {"2023-09"} and set(late.period) == {"2023-09", "2023-10"}
    smart = early[(early.period == "2023-09") & (early.dataset == "smart_mines")].iloc[0]
    assert smart.status == "未到期"
    smart = late[(late.period == "2023-09") & (late.dataset == "smart_mines")].iloc[0]
    assert smart.status == "逾期未报"


@pytest.mark.parametrize("now", [datetime(2023, 10, 11), None])
def test_the_mart_builds_on_an_empty_warehouse(now):
    from shouyang_pipeline.warehouse.ddl import ensure_tables

    conn = duckdb.connect()
    ensure_tables(conn)
    assert build_mart(conn, "submission_status", now=now) == 0  # no calendar: nothing expected
    conn.close()
