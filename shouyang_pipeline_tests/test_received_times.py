"""When each file was received and whose it is (SUBMISSIONS.md 7): the office's register
`收文登记.csv`, the file's modification time, the expected submitter of the reporting calendar,
and the calendar and clock themselves checked before a run."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from shouyang_pipeline.config import Settings
from shouyang_pipeline.errors import SetupError
from shouyang_pipeline.ingest.discover import discover
from shouyang_pipeline.ingest.register import REGISTER_NAME, parse_time, read_register
from shouyang_pipeline.reference import Reference, check_reference, parse_months

from conftest import KP_HEADER, csv_bytes, kp_row, write_csv, write_xlsx

KP = "key_projects/2023-05__发改局.csv"


def _kp(raw: Path, rel: str = KP, **row) -> Path:
    return write_csv(raw / rel, [KP_HEADER, kp_row(**row)])


def _register(raw: Path, lines: list[list[str]], encoding: str = "utf-8") -> Path:
    path = raw / REGISTER_NAME
    path.write_bytes(csv_bytes([["文件", "收到时间"], *lines], encoding))
    return path


def _touch(path: Path, when: datetime) -> None:
    """Set the modification time to `when`, Beijing time."""
    stamp = when.replace(tzinfo=__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).timestamp()
    os.utime(path, (stamp, stamp))


# ------------------------------------------------------------------ the register

def test_the_register_is_not_a_submission(raw, run_period):
    _kp(raw)
    _register(raw, [[KP, "2023-06-04 09:30"]])
    assert [f.rel_path for f in discover(raw)] == [KP]
    run = run_period("key_projects", "2023-05")
    assert [r["file_path"] for r in run.q("SELECT file_path FROM audit.ingest_log")] == [KP]


def test_a_register_in_a_dataset_folder_is_an_ordinary_misplaced_file(raw):
    (raw / "key_projects").mkdir()
    (raw / "key_projects" / REGISTER_NAME).write_text("文件,收到时间\n", encoding="utf-8")
    found = discover(raw)
    assert [f.rel_path for f in found] == [f"key_projects/{REGISTER_NAME}"]
    assert found[0].naming_problem


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_the_register_line_gives_the_received_time(raw, run_period, encoding):
    _touch(_kp(raw), datetime(2026, 12, 1, 8, 0))
    _register(raw, [[KP, "2023-06-04 09:30"]], encoding)
    log = run_period("key_projects", "2023-05").log(KP)
    assert log["received_at"] == datetime(2023, 6, 4, 9, 30)
    assert log["received_from"] == "收文登记"


def test_without_a_register_line_the_modification_time_counts(raw, run_period):
    path = _kp(raw)
    _touch(path, datetime(2023, 6, 5, 23, 59))
    _register(raw, [["key_projects/2023-04__发改局.csv", "2023-05-04 09:30"]])  # a file that is not there
    log = run_period("key_projects", "2023-05").log(KP)
    assert log["received_at"] == datetime(2023, 6, 5, 23, 59)
    assert log["received_from"] == "文件修改时间"


def test_a_version_keeps_its_first_modification_time_and_a_new_version_gets_its_own(raw, run_period):
    path = _kp(raw)
    _touch(path, datetime(2023, 6, 3, 10, 0))
    run_period("key_projects", "2023-05")
    _touch(path, datetime(2023, 6, 20, 10, 0))  # copied again, same content
    assert run_period("key_projects", "2023-05").log(KP)["received_at"] == datetime(2023, 6, 3, 10, 0)
    _kp(raw, total=2000)  # a corrected version
    _touch(path, datetime(2023, 6, 8, 16, 0))
    run = run_period("key_projects", "2023-05")
    versions = run.log(current=False)
    assert [(v["is_current"], v["received_at"]) for v in versions] == [
        (False, datetime(2023, 6, 3, 10, 0)), (True, datetime(2023, 6, 8, 16, 0))]


def test_a_register_line_added_later_wins_over_the_modification_time(raw, run_period):
    _touch(_kp(raw), datetime(2026, 12, 1, 8, 0))
    run_period("key_projects", "2023-05")
    _register(raw, [[KP, "2023-06-02 11:15"]])
    log = run_period("key_projects", "2023-05").log(KP)
    assert (log["received_at"], log["received_from"]) == (datetime(2023, 6, 2, 11, 15), "收文登记")


def test_register_paths_and_times_in_the_ways_people_write_them(raw):
    _register(raw, [
        ["key_projects\\2023-05__发改局.csv", "2023/6/4 9:30"],
        ["./village_income/2023-03__平头镇.xlsx", "2023.4.8"],
        ["village_income/2023-03__平头镇.xlsx", "2023-04-07 17:00"],  # the earliest line counts
    ])
    register = read_register(raw)
    assert register.times == {KP: datetime(2023, 6, 4, 9, 30),
                              "village_income/2023-03__平头镇.xlsx": datetime(2023, 4, 7, 17, 0)}
    assert register.problems == []


def test_unreadable_register_lines_are_reported_and_the_rest_used(raw):
    _register(raw, [[KP, "六月四日"], ["", "2023-06-04 09:30"], [KP, "2023-02-30 10:00"],
                    ["key_projects/2023-06__发改局.csv", "2023-07-05 08:00"]])
    register = read_register(raw)
    assert register.times == {"key_projects/2023-06__发改局.csv": datetime(2023, 7, 5, 8, 0)}
    assert len(register.problems) == 3
    assert all("收文登记.csv第" in p and "2023-10-11 09:30" in p for p in register.problems)
    assert "第2行" in register.problems[0]


def test_a_register_without_its_header_or_not_a_file_is_not_used(raw):
    (raw / REGISTER_NAME).write_text("path,time\nkey_projects/x.csv,2023-01-01\n", encoding="utf-8")
    register = read_register(raw)
    assert register.times == {} and "表头" in register.problems[0]
    (raw / REGISTER_NAME).unlink()
    (raw / REGISTER_NAME).mkdir()
    assert read_register(raw).times == {}
    (raw / REGISTER_NAME).rmdir()
    assert read_register(raw).times == {} and read_register(raw).problems == []


def test_a_register_that_is_a_link_is_not_followed(raw, tmp_path):
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_bytes(csv_bytes([["文件", "收到时间"], [KP, "2023-06-04 09:30"]]))
    (raw / REGISTER_NAME).symlink_to(elsewhere)
    assert read_register(raw).times == {}
    assert discover(raw) == []


@pytest.mark.parametrize("text, expected", [
    ("2023-06-04 09:30", datetime(2023, 6, 4, 9, 30)),
    ("2023-06-04T09:30:15", datetime(2023, 6, 4, 9, 30, 15)),
    ("  2023/6/4  ", datetime(2023, 6, 4)),
    ("2023-13-01 10:00", None),
    ("2023-06-04 25:00", None),
    ("昨天", None),
])
def test_register_times(text, expected):
    assert parse_time(text) == expected


# ------------------------------------------------------------------ whose file it is

@pytest.mark.parametrize("name, expected", [
    ("2023-05__发改局.csv", "发改局"),
    ("2023-05__县发改局.csv", "发改局"),       # the department's full name
    ("2023-05__ 县发改局 .csv", "发改局"),     # spaces, as in section 2
    ("2023-05.csv", "发改局"),                 # no submitter: the dataset's only calendar line
    ("2023-05__交通局.csv", None),             # 名单外
])
def test_the_expected_submitter_of_a_file(raw, run_period, name, expected):
    _kp(raw, f"key_projects/{name}")
    run = run_period("key_projects", "2023-05")
    assert run.log()[0]["expected_submitter"] == expected


def test_a_township_file_is_matched_by_its_government_name_and_a_village_file_without_submitter_is_not(settings):
    reference = Reference.load(settings.reference_dir)
    assert reference.expected_submitter("village_income", "平头镇人民政府") == "平头镇"
    assert reference.expected_submitter("village_income", "平头镇") == "平头镇"
    assert reference.expected_submitter("village_income", None) is None  # fourteen townships report it
    assert reference.expected_submitter("zone_operations", "平头融合发展区管委会") == "平头融合发展区"


def test_an_unplaced_file_has_a_received_time_and_no_submitter(raw, run_period):
    write_xlsx(raw / "roads" / "2023-05__交通局.xlsx", [["a", "b"]])
    _kp(raw)
    run = run_period("key_projects", "2023-05")
    unplaced = run.log("roads/2023-05__交通局.xlsx")
    assert unplaced["received_at"] is not None and unplaced["expected_submitter"] is None


# ------------------------------------------------------------------ the calendar and the clock, checked first

def _calendar(settings: Settings, line: str) -> None:
    path = settings.reference_dir / "submitters.csv"
    path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")


@pytest.mark.parametrize("line, words", [
    ("roads,交通局,县交通局,1-12,5", "数据集“roads”不存在"),
    ("key_projects,发改局2,县发改局,1-12,31", "due_day“31”"),
    ("key_projects,发改局2,县发改局,1-12,五", "due_day“五”"),
    ("key_projects,发改局2,县发改局,13,5", "months“13”"),
    ("key_projects,发改局2,县发改局,12-1,5", "months“12-1”"),
])
def test_a_malformed_calendar_is_a_set_up_error_naming_its_line(settings, line, words):
    _calendar(settings, line)
    with pytest.raises(SetupError) as exc:
        check_reference(settings.reference_dir)
    assert words in str(exc.value) and "submitters.csv" in str(exc.value) and "行" in str(exc.value)


@pytest.mark.parametrize("text, months", [
    ("1-12", tuple(range(1, 13))), ("2-12", tuple(range(2, 13))), ("3,6,9,12", (3, 6, 9, 12)),
    ("３，６，９，１２", (3, 6, 9, 12)), ("3、6、9、12", (3, 6, 9, 12)), (" 1 - 3 , 12 ", (1, 2, 3, 12)),
    ("0-12", ()), ("", ()), ("季度", ()),
])
def test_calendar_months(text, months):
    assert parse_months(text) == months


def test_the_clock_comes_from_shouyang_now(tmp_path):
    assert Settings.from_env({"SHOUYANG_NOW": "2023-10-11T09:30"}).now() == datetime(2023, 10, 11, 9, 30)
    assert Settings.from_env({"SHOUYANG_NOW": "2023-10-11 09:30"}).now() == datetime(2023, 10, 11, 9, 30)
    real = Settings.from_env({}).now()
    assert real.tzinfo is None and abs((real - datetime.utcnow()).total_seconds() - 8 * 3600) < 120
    with pytest.raises(SetupError) as exc:
        Settings.from_env({"SHOUYANG_NOW": "下周一"})
    assert "SHOUYANG_NOW" in str(exc.value) and "2023-10-11T09:30" in str(exc.value)


def test_the_register_with_its_extension_in_capitals_is_still_the_register(raw, run_period):
    _touch(_kp(raw), datetime(2026, 12, 1, 8, 0))
    path = _register(raw, [[KP, "2023-06-04 09:30"]])
    path.rename(raw / "收文登记.CSV")
    assert [f.rel_path for f in discover(raw)] == [KP]
    assert run_period("key_projects", "2023-05").log(KP)["received_at"] == datetime(2023, 6, 4, 9, 30)
