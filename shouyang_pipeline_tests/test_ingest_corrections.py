"""Corrections, removals, is_current, the archive, and that a run is a function of the files (SUBMISSIONS.md 1)."""

from __future__ import annotations

import hashlib

from shouyang_pipeline_tests.conftest import (
    KP_HEADER, assert_consistent_counts, csv_bytes, kp_row, write_csv,
)

PATH = "key_projects/2023-02__发改局.csv"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_corrected_file_replaces_the_earlier_version(raw, settings, run_period):
    v1 = csv_bytes([KP_HEADER, kp_row("XM001", total=-200), kp_row("XM002", ytd=100)])
    v2 = csv_bytes([KP_HEADER, kp_row("XM001", total=2000), kp_row("XM002", ytd=150), kp_row("XM003")])
    (raw / "key_projects").mkdir()
    (raw / PATH).write_bytes(v1)
    run = run_period("key_projects", "2023-02")
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM002"]
    assert len(run.rejected()) == 1

    (raw / PATH).write_bytes(v2)
    run = run_period("key_projects", "2023-02")
    assert [(r["project_code"], r["total_investment"], r["ytd_investment"]) for r in run.staging("key_projects")] == [
        ("XM001", 2000, 100), ("XM002", 1000, 150), ("XM003", 1000, 100)]
    assert run.rejected() == []  # only current versions have rows there
    versions = run.q("SELECT sha256, status, is_current FROM audit.ingest_log WHERE file_path = ? ORDER BY ingested_at",
                     PATH)
    assert sorted((v["sha256"], v["status"], v["is_current"]) for v in versions) == sorted(
        [(_sha(v1), "partial", False), (_sha(v2), "loaded", True)])
    assert sorted(p.name for p in settings.archive_dir.iterdir()) == sorted([f"{_sha(v1)}.csv", f"{_sha(v2)}.csv"])
    assert (settings.archive_dir / f"{_sha(v1)}.csv").read_bytes() == v1
    assert_consistent_counts(run)


def test_rejected_correction_takes_the_file_out(raw, run_period):
    write_csv(raw / PATH, [KP_HEADER, kp_row("XM001")])
    run_period("key_projects", "2023-02")
    write_csv(raw / PATH, [["项目编号", "项目名称"], ["XM001", "缺列"]])
    run = run_period("key_projects", "2023-02")
    assert run.staging("key_projects") == []
    log = run.log(PATH)
    assert log["status"] == "rejected"
    assert run.q("SELECT count(*) AS n FROM audit.ingest_log WHERE file_path = ?", PATH)[0]["n"] == 2


def test_back_to_an_earlier_version(raw, run_period):
    a = [KP_HEADER, kp_row("XM001", ytd=10)]
    write_csv(raw / PATH, a)
    first = run_period("key_projects", "2023-02").log(PATH)
    write_csv(raw / PATH, [KP_HEADER, kp_row("XM001", ytd=20)])
    run_period("key_projects", "2023-02")
    write_csv(raw / PATH, a)
    run = run_period("key_projects", "2023-02")
    rows = run.q("SELECT sha256, is_current, ingested_at FROM audit.ingest_log WHERE file_path = ?", PATH)
    assert len(rows) == 2 and sum(r["is_current"] for r in rows) == 1
    current = run.log(PATH)
    assert (current["sha256"], current["ingested_at"]) == (first["sha256"], first["ingested_at"])
    assert run.staging("key_projects")[0]["ytd_investment"] == 10


def test_removed_file_is_not_current_and_its_rows_leave(raw, run_period):
    write_csv(raw / "key_projects/2023-02__a.csv", [KP_HEADER, kp_row("A1"), kp_row("A2", total=0)])
    write_csv(raw / "key_projects/2023-02__b.csv", [KP_HEADER, kp_row("B1", sector="其他")])
    write_csv(raw / "key_projects/2023-2.csv", [KP_HEADER, kp_row("X")])  # unplaced
    run = run_period("key_projects", "2023-02")
    assert len(run.staging("key_projects")) == 2 and len(run.rejected()) == 1 and len(run.warnings()) == 1
    (raw / "key_projects/2023-02__a.csv").unlink()
    (raw / "key_projects/2023-02__b.csv").unlink()
    (raw / "key_projects/2023-2.csv").unlink()
    run = run_period("key_projects", "2023-02")
    assert run.staging("key_projects") == [] and run.rejected() == [] and run.warnings() == []
    assert run.log() == []
    everything = run.q("SELECT file_path, is_current FROM audit.ingest_log ORDER BY file_path")
    assert everything == [{"file_path": "key_projects/2023-02__a.csv", "is_current": False},
                          {"file_path": "key_projects/2023-02__b.csv", "is_current": False},
                          {"file_path": "key_projects/2023-2.csv", "is_current": False}]


def test_other_periods_are_untouched(raw, run_period):
    write_csv(raw / "key_projects/2023-02.csv", [KP_HEADER, kp_row("XM001")])
    write_csv(raw / "key_projects/2023-03.csv", [KP_HEADER, kp_row("XM001"), kp_row("XM002", total=0)])
    run_period("key_projects", "2023-02")
    run_period("key_projects", "2023-03")
    (raw / "key_projects/2023-03.csv").unlink()
    run = run_period("key_projects", "2023-02")
    assert [r["period"] for r in run.staging("key_projects")] == ["2023-02", "2023-03"]
    assert [r["source_row"] for r in run.rejected()] == [3]


def test_running_a_partition_twice_changes_nothing(raw, run_period):
    write_csv(raw / "key_projects/2023-02__a.csv", [KP_HEADER, kp_row("A1"), kp_row("A2", total=0, start="2023年13月")])
    write_csv(raw / "key_projects/2023-02__b.csv", [KP_HEADER, kp_row("B1", sector="其他"), kp_row("A1")])
    (raw / "key_projects/2023-02__c.csv").write_bytes((raw / "key_projects/2023-02__a.csv").read_bytes())
    (raw / "key_projects/2023-02.xls").write_bytes(b"old")
    write_csv(raw / "nowhere/2023-02.csv", [KP_HEADER])
    run = run_period("key_projects", "2023-02")
    before = run.snapshot()
    assert before["staging.key_projects"] and before["audit.rejected_rows"] and before["audit.cell_warnings"]
    run = run_period("key_projects", "2023-02")
    assert run.snapshot() == before
    assert_consistent_counts(run)


def test_ingested_at_is_on_the_county_clock_as_received_at(raw, settings, run_period):
    """Both times of a file version are Beijing time, whatever the machine's own zone (a server
    kept on UTC): `received_at` from the file's modification time, `ingested_at` the run's."""
    import os
    import time
    from datetime import datetime, timedelta

    from shouyang_pipeline.catalog.tables import RECEIVED_FROM_MTIME
    from shouyang_pipeline.config import BEIJING

    zone = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        write_csv(raw / PATH, [KP_HEADER, kp_row("XM001")])
        run = run_period("key_projects", "2023-02")
    finally:
        if zone is None:
            os.environ.pop("TZ")
        else:
            os.environ["TZ"] = zone
        time.tzset()
    (row,) = run.q("SELECT ingested_at, received_at, received_from FROM audit.ingest_log WHERE file_path = ?", PATH)
    now = datetime.now(BEIJING).replace(tzinfo=None)
    assert row["received_from"] == RECEIVED_FROM_MTIME
    assert abs(row["ingested_at"] - now) < timedelta(minutes=5)
    assert abs(row["ingested_at"] - row["received_at"]) < timedelta(minutes=5)
