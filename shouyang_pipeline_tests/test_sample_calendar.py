"""The bundled sample's reporting calendar and cross-period checks (SAMPLE.md, last rows of its
second part; SUBMISSIONS.md 7 and 8): run whole, every submission of 2023 is in and on time
except what the sample plants, and the only flags are the planted ones.

The clock is set to 2024-01-20 09:00 (Beijing time), ten days after the last due date of 2023
(the 2023-12 files are due by 10 January 2024). Every 2023 period is then past due, so a
submission that is missing is 逾期未报 rather than 未到期, and "the period now due" (the month
before the clock's month) is 2023-12, which the warehouse holds anyway: the mart has exactly the
2023 periods. With the machine's clock the mart would add a row per expected submission for
whatever month is due on the day the tests run, all of them 逾期未报, and the test would depend
on the date.

The received times come from the register the sample ships (`data/raw/收文登记.csv`): the files
copied here carry today's modification time, which would make every one of them late.
"""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from shouyang_pipeline.config import Settings
from shouyang_pipeline.defs import build_definitions
from shouyang_pipeline.defs.partitions import add_months
from shouyang_pipeline.ingest.register import read_register
from shouyang_pipeline.sample import write_sample

from conftest import SAMPLE_CLOCK

ROOT = Path(__file__).resolve().parents[1]
MONTHS = [f"2023-{m:02d}" for m in range(1, 13)]
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
CLOCK = SAMPLE_CLOCK  # conftest: the shared run of the sample is judged at this time
REGISTER = "收文登记.csv"

# What the sample plants (data/SAMPLE_README.md)
MISSING = ("2023-09", "village_income", "羊头崖乡")
LATE = ("2023-11", "industrial_output", "统计局", "industrial_output/2023-11__统计局.xlsx", datetime(2023, 12, 12, 10, 20))
UNEXPLAINED = ("2023-06", "key_projects", "ytd_investment", "ytd_decreased")
EXPLAINED = ("2023-09", "key_projects", "ytd_investment", "ytd_decreased")
DROPPED = ("2023-08", "key_projects", None, "missing_key")
FLAG_COLUMNS = ("period", "dataset", "key", "key_name", "column", "rule", "explained", "remarks", "file_path",
                "source_row", "previous_period")


@pytest.fixture(scope="module")
def run(sample_year) -> Settings:
    """The bundled data/raw, every month of 2023 in one run (conftest.sample_year, shared)."""
    return sample_year


@pytest.fixture(scope="module")
def generated(sample_generated) -> dict:
    """The generator's summary (conftest.sample_generated, shared)."""
    return sample_generated


def rows(settings: Settings, sql: str, *args) -> list[dict]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        cur = conn.execute(sql, list(args))
        names = [d[0] for d in cur.description]
        out = cur.fetchall()
    return [{k: (float(v) if hasattr(v, "as_tuple") else v) for k, v in zip(names, r)} for r in out]


def expected_submissions() -> set[tuple[str, str, str]]:
    """(period, dataset, submitter) of every line of reference/submitters.csv due in 2023."""
    out = set()
    for r in csv.DictReader((ROOT / "data/reference/submitters.csv").open(encoding="utf-8")):
        spec = r["months"]
        months = (range(int(spec.split("-")[0]), int(spec.split("-")[1]) + 1) if "-" in spec
                  else [int(m) for m in spec.split(",")])
        out |= {(f"2023-{m:02d}", r["dataset"], r["submitter"]) for m in months}
    return out


# ------------------------------------------------------------------ the register
def test_the_register_is_not_a_submission(run):
    assert (run.raw_dir / REGISTER).is_file()
    assert read_register(run.raw_dir).problems == []
    for table in ("audit.ingest_log", "audit.rejected_rows", "audit.cell_warnings"):
        got = rows(run, f"SELECT file_path FROM {table} WHERE file_path LIKE '%收文登记%'")
        assert got == [], table


def test_every_file_was_received_at_its_register_time(run, generated):
    register = {e["file"]: datetime.strptime(e["received_at"], "%Y-%m-%d %H:%M")
                for e in generated["register"]["lines"]}
    log = rows(run, "SELECT file_path, received_at, received_from FROM audit.ingest_log WHERE is_current")
    assert {r["file_path"] for r in log} == set(register)
    for r in log:
        assert (r["received_at"], r["received_from"]) == (register[r["file_path"]], "收文登记"), r


# ------------------------------------------------------------------ marts.submission_status
def test_every_expected_submission_of_2023_is_in_and_on_time_except_the_planted_ones(run):
    got = rows(run, "SELECT * FROM marts.submission_status WHERE status <> '名单外'")
    assert {(r["period"], r["dataset"], r["submitter"]) for r in got} == expected_submissions()
    assert {r["period"] for r in got} == set(MONTHS)
    others = [r for r in got if (r["period"], r["dataset"], r["submitter"]) not in (MISSING, LATE[:3])]
    assert len(others) == len(got) - 2
    for r in others:
        assert r["status"] in ("已报送", "部分入库") and r["is_late"] is False, r
        assert r["first_received_at"] <= datetime.combine(r["due_date"], datetime.max.time()), r
    # 部分入库: the files with the planted rejected rows, nothing else
    partly = {(r["period"], r["dataset"]) for r in others if r["status"] == "部分入库"}
    assert all(r["rows_rejected"] > 0 for r in others if r["status"] == "部分入库")
    assert all(r["rows_rejected"] == 0 for r in others if r["status"] == "已报送")
    assert ("2023-02", "key_projects") in partly and ("2023-12", "village_income") in partly


def test_the_township_that_never_sent_2023_09_is_overdue(run):
    got = rows(run, "SELECT * FROM marts.submission_status WHERE period = ? AND dataset = ? AND submitter = ?",
               *MISSING)
    assert len(got) == 1
    row = got[0]
    assert row["status"] == "逾期未报" and row["department"] == "羊头崖乡人民政府"
    assert str(row["due_date"]) == "2023-10-10"
    assert row["file_path"] is None and row["first_received_at"] is None and row["rows_loaded"] == 0
    # a submission not in is the calendar's to report: none of its villages is missing_key
    assert row["open_flags"] == 0
    assert rows(run, "SELECT * FROM audit.cross_period_flags WHERE dataset = 'village_income'") == []
    # every other township sent its 2023-09 file
    sent = rows(run, "SELECT submitter, status FROM marts.submission_status WHERE period = '2023-09' "
                     "AND dataset = 'village_income' AND submitter <> '羊头崖乡'")
    assert len(sent) == 13 and all(r["status"] in ("已报送", "部分入库") for r in sent)


def test_the_late_file_is_late(run):
    period, dataset, submitter, path, received = LATE
    got = rows(run, "SELECT * FROM marts.submission_status WHERE period = ? AND dataset = ? AND submitter = ?",
               period, dataset, submitter)
    assert len(got) == 1
    row = got[0]
    assert row["status"] == "已报送" and row["is_late"] is True
    assert row["file_path"] == path and row["first_received_at"] == received
    assert str(row["due_date"]) == "2023-12-08"
    assert rows(run, "SELECT count(*) AS n FROM marts.submission_status WHERE is_late")[0]["n"] == 1


def test_files_from_no_expected_sender_are_listed_not_errors(run):
    """The parks other than 平头 send files the calendar does not expect, and 统计局 sent its
    2023-03 file twice (the copy as 统计局副本): 名单外, never late, never overdue."""
    got = rows(run, "SELECT * FROM marts.submission_status WHERE status = '名单外'")
    assert {r["submitter"] for r in got} == {"朝阳煤机制造专业镇", "景尚农业现代化产业园", "统计局副本"}
    assert all(r["is_late"] is None and r["due_date"] is None for r in got)


# ------------------------------------------------------------------ audit.cross_period_flags
def _flags(run) -> list[dict]:
    return rows(run, "SELECT * FROM audit.cross_period_flags ORDER BY period, dataset, \"key\"")


def _one_flag(run, period, dataset, column, rule) -> dict:
    got = [f for f in _flags(run) if (f["period"], f["dataset"], f["column"], f["rule"]) == (period, dataset, column,
                                                                                              rule)]
    assert len(got) == 1, got
    return got[0]


def test_the_unexplained_decrease(run):
    f = _one_flag(run, *UNEXPLAINED)
    assert f["explained"] is False and f["remarks"] is None
    assert f["previous_period"] == "2023-05" and f["value"] < f["previous_value"]
    assert f["file_path"] == "key_projects/2023-06__发改局.csv"
    assert "累计数不应下降" in f["reason"]
    status = rows(run, "SELECT open_flags FROM marts.submission_status WHERE period = '2023-06' "
                       "AND dataset = 'key_projects'")
    assert status == [{"open_flags": 1}]


def test_the_decrease_explained_by_remarks(run):
    f = _one_flag(run, *EXPLAINED)
    assert f["explained"] is True and f["remarks"].startswith("核减重复统计的投资")
    assert f["previous_period"] == "2023-08" and f["value"] < f["previous_value"]
    # the correction carries on: 2023-10 is compared with the corrected 2023-09 and does not fall
    later = rows(run, "SELECT period, ytd_investment FROM staging.key_projects WHERE project_code = ? "
                      "ORDER BY period", f["key"])
    values = [r["ytd_investment"] for r in later if r["period"] >= "2023-09"]
    assert values == sorted(values) and len(values) == 4
    status = rows(run, "SELECT open_flags FROM marts.submission_status WHERE period = '2023-09' "
                       "AND dataset = 'key_projects'")
    assert status == [{"open_flags": 0}]


def test_the_project_dropped_from_the_list(run):
    f = _one_flag(run, *DROPPED)
    assert f["explained"] is False and f["previous_period"] == "2023-07"
    assert f["file_path"] == "key_projects/2023-07__发改局.xlsx"  # the previous period's row
    assert f["key"] in f["reason"] and "上期在报，本期未报送" in f["reason"]
    held = {r["period"] for r in rows(run, "SELECT period FROM staging.key_projects WHERE project_code = ?", f["key"])}
    assert held == set(MONTHS[:7])


def test_the_flags_are_the_planted_ones_and_nothing_else(run, generated):
    """Nothing else is flagged: no plan_changed (the plan figures are exact in every unit), no
    cumulative figure that dips through rounding, no key lost to a planted rejected row. 羊头崖乡's
    missing 2023-09 file flags none of its villages (a submission not in is the calendar's to
    report): the flags are exactly the three planted in key_projects."""
    flags = _flags(run)
    got = {tuple(f[c] for c in FLAG_COLUMNS) for f in flags}
    assert {(f["period"], f["key"], f["rule"], f["explained"]) for f in flags} == {
        ("2023-06", "SY2023-029", "ytd_decreased", False),
        ("2023-08", "SY2023-041", "missing_key", False),
        ("2023-09", "SY2023-051", "ytd_decreased", True),
    }
    assert {f["dataset"] for f in flags} == {"key_projects"} and len(got) == 3
    # every field as planted; the generator's planted flags of the withheld file are not raised
    withheld = {(w["period"], w["dataset"], w["submitter"]) for w in generated["withheld"]}
    assert withheld == {MISSING}
    want, not_raised = set(), set()
    for f in generated["planted_flags"]:
        previous = (f"2023-{int(f['period'][5:]) - (3 if f['dataset'] == 'village_income' else 1):02d}")
        planted = (f["period"], f["dataset"], f["key"], f["key_name"], f["column"], f["rule"], f["explained"],
                   f["remarks"], f["file"], f["row"], previous)
        if (f["period"], f["dataset"], f["key"].split("/")[0]) in withheld:
            not_raised.add(planted)
        else:
            want.add(planted)
    assert got == want
    assert not got & not_raised
    missing = next(f for f in flags if f["rule"] == "missing_key")
    assert missing["remarks"] is None and missing["explained"] is False  # never explained: no row to hold a 备注
    for f in generated["planted_flags"]:
        if f["rule"] == "ytd_decreased":
            flag = next(x for x in _flags(run) if (x["period"], x["key"]) == (f["period"], f["key"]))
            assert (flag["value"], flag["previous_value"]) == (f["value"], f["previous_value"])
