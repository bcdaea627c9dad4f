"""Work only where something changed (issue 14): a dataset-period whose inputs are as they were
is not read again, and a month whose exports' inputs are as they were is not written again.

Real runs of the Dagster job on small files in tmp_path; which dataset-periods were read is seen
by wrapping `pipeline.ingest_period`, which exports were written by their bytes and mtime_ns.
The first run of the three months is made once for the module and copied into each test's
tmp_path (`first_run`, `county`).
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from shouyang_pipeline import pipeline
from shouyang_pipeline.config import Settings
from shouyang_pipeline.defs import build_definitions
from shouyang_pipeline.defs.partitions import add_months
from shouyang_pipeline.warehouse import digests
from shouyang_pipeline.warehouse.connection import connect

from conftest import KP_HEADER, kp_row, make_settings, write_csv

MONTHS = ["2023-04", "2023-05", "2023-06"]
# industrial_output of 2023-06 (never sent here) is due 2023-07-08: not yet due at this clock
BEFORE_DUE = datetime(2023, 7, 7, 9, 0)
AFTER_DUE = datetime(2023, 7, 9, 9, 0)
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def write_month(raw: Path, period: str, ytd: float = 100) -> Path:
    return write_csv(raw / "key_projects" / f"{period}__发改局.csv", [
        KP_HEADER,
        kp_row("XM001", total=1000, plan=500, ytd=ytd),
        kp_row("XM002", name="第二个项目", total=3000, plan=800, ytd=200, level="县级"),
    ])


def run(settings: Settings, months: list[str] = MONTHS) -> None:
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, months)
    tags = {"dagster/asset_partition_range_start": months[0], "dagster/asset_partition_range_end": months[-1]}
    assert job.execute_in_process(instance=instance, run_config=QUIET, tags=tags).success


def exports(settings: Settings) -> dict[str, tuple[int, bytes]]:
    """Every file of the export dir (receipts and the digests included): (mtime_ns, bytes)."""
    return {p.relative_to(settings.export_dir).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(settings.export_dir.rglob("*")) if p.is_file()}


def tables(settings: Settings) -> dict[str, list]:
    with connect(settings.warehouse, read_only=True) as conn:
        names = conn.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL").fetchall()
        return {f"{s}.{t}": sorted(map(repr, conn.execute(f'SELECT * FROM "{s}"."{t}"').fetchall())) for s, t in names}


def of_month(files: dict, period: str) -> dict:
    return {k: v for k, v in files.items() if period in k}


@pytest.fixture
def reads(monkeypatch) -> list[tuple[str, str]]:
    """The dataset-periods ingest reads, in order."""
    seen: list[tuple[str, str]] = []
    real = pipeline.ingest_period

    def recording(settings, dataset, period, *args, **kwargs):
        seen.append((dataset, period))
        return real(settings, dataset, period, *args, **kwargs)

    monkeypatch.setattr(pipeline, "ingest_period", recording)
    return seen


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[Path, list[tuple[str, str]]]:
    """The county's three months, run once for the module: the root of its folders (the
    `settings` fixture's layout) and the dataset-periods that run read, in order."""
    root = tmp_path_factory.mktemp("county")
    settings = replace(make_settings(root), clock=BEFORE_DUE)
    for i, period in enumerate(MONTHS):
        write_month(settings.raw_dir, period, ytd=100 + 50 * i)
    seen: list[tuple[str, str]] = []
    real = pipeline.ingest_period

    def recording(settings, dataset, period, *args, **kwargs):
        seen.append((dataset, period))
        return real(settings, dataset, period, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "ingest_period", recording)
        run(settings)
    return root, seen


@pytest.fixture
def county(settings: Settings, tmp_path: Path, first_run) -> Settings:
    """The county after its first run of the three months: the module's run copied into this
    test's tmp_path (files with their content and modification times; every digest a run keeps
    names files relative to their folder, and the reference lists by content)."""
    for name in ("raw", "warehouse", "exports", "archive"):
        shutil.copytree(first_run[0] / name, tmp_path / name, symlinks=True, dirs_exist_ok=True)
    return replace(settings, clock=BEFORE_DUE)


def test_a_second_run_with_nothing_changed_reads_and_rewrites_nothing(county, reads, first_run):
    first_reads = first_run[1]
    assert ("key_projects", "2023-05") in first_reads and len(first_reads) > len(MONTHS)
    first_exports, first_tables = exports(county), tables(county)
    assert {"briefing_2023-05.md", "marts_2023-05.xlsx", ".digests.json"} <= set(first_exports)
    recorded = json.loads(first_exports[".digests.json"][1])["months"]
    assert sorted(recorded) == MONTHS and "marts_2023-06.xlsx" in recorded["2023-06"]["files"]

    reads.clear()
    run(county)
    assert reads == []  # no dataset-period read again
    assert exports(county) == first_exports  # same bytes, same mtime_ns: nothing rewritten
    assert tables(county) == first_tables


def test_a_changed_file_is_read_again_and_its_month_and_later_months_rewritten(county, reads):
    before = exports(county)
    reads.clear()
    write_month(county.raw_dir, "2023-05", ytd=175)
    run(county)
    assert reads == [("key_projects", "2023-05")]
    after = exports(county)
    assert of_month(after, "2023-04") == of_month(before, "2023-04")  # untouched
    for period in ("2023-05", "2023-06"):  # 2023-06's briefing reads May's figures
        for name in (f"briefing_{period}.md", f"briefing_{period}.html", f"marts_{period}.xlsx"):
            # written again: a file whose bytes are those published is left in place, its time too
            assert (after[name][0] != before[name][0]) == (after[name][1] != before[name][1]), name
    for name in ("briefing_2023-05.md", "briefing_2023-05.html", "marts_2023-05.xlsx", "marts_2023-06.xlsx"):
        assert after[name][0] != before[name][0], name  # (May's figures, and a workbook's time: its newest file's)
    assert after[".digests.json"] != before[".digests.json"]
    with connect(county.warehouse, read_only=True) as conn:
        assert conn.execute("SELECT ytd_investment FROM staging.key_projects WHERE period = '2023-05' "
                            "AND project_code = 'XM001'").fetchone()[0] == 175


def test_a_changed_reference_list_or_code_reads_everything_again(county, reads, monkeypatch, first_run):
    read_first = sorted(first_run[1])
    path = county.reference_dir / "villages.csv"
    with open(path, "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow(["140725999999", "新增测试村", "平头镇"])
    run(county)
    assert sorted(reads) == read_first

    reads.clear()
    monkeypatch.setattr(digests, "code_digest", lambda: "another version of the pipeline")
    before = exports(county)
    run(county)
    assert sorted(reads) == read_first
    after = exports(county)
    # every month written again (its digest holds the code's): what comes out the same bytes (this
    # "version" changes no figure or word) is left in place, its time too; the digests are new
    months = json.loads(after[".digests.json"][1])["months"]
    assert months != json.loads(before[".digests.json"][1])["months"]
    assert {m["digest"] for m in months.values()}.isdisjoint(
        {m["digest"] for m in json.loads(before[".digests.json"][1])["months"].values()})
    assert {n: v for n, v in after.items() if n != ".digests.json"} == {
        n: v for n, v in before.items() if n != ".digests.json"}


def test_a_clock_that_makes_a_report_overdue_rewrites_that_months_briefing(county):
    before = exports(county)
    # the energy bureau's and a zone's reports of June are overdue already; industrial output's is not yet
    assert "逾期未报2份" in before["briefing_2023-06.md"][1].decode("utf-8")
    later = replace(county, clock=AFTER_DUE)
    run(later)
    after = exports(later)
    assert "逾期未报3份" in after["briefing_2023-06.md"][1].decode("utf-8")
    assert after["briefing_2023-06.md"][0] != before["briefing_2023-06.md"][0]
    assert of_month(after, "2023-04") == of_month(before, "2023-04")


def test_a_month_whose_files_are_removed_loses_its_exports_and_its_digest(county):
    (county.raw_dir / "key_projects" / "2023-06__发改局.csv").unlink()
    before = exports(county)
    run(county)
    after = exports(county)
    assert not of_month(after, "2023-06")
    assert of_month(after, "2023-04") == of_month(before, "2023-04")
    assert "2023-06" not in json.loads(after[".digests.json"][1])["months"]


def test_a_damaged_digest_or_a_missing_export_is_written_again(county, reads):
    (county.export_dir / "marts_2023-04.xlsx").unlink()
    before = exports(county)
    run(county)
    after = exports(county)
    assert "marts_2023-04.xlsx" in after and after["briefing_2023-04.md"] == before["briefing_2023-04.md"]
    assert of_month(after, "2023-05") == of_month(before, "2023-05")
    # a digest table that does not match what the warehouse holds: read again, not trusted
    with connect(county.work_warehouse) as conn:
        conn.execute("UPDATE audit.ingest_log SET sha256 = 'x' WHERE partition_key = 'key_projects/2023-04'")
    reads.clear()
    run(county)
    assert reads == [("key_projects", "2023-04")]


def test_the_inputs_digest_is_kept_with_the_rows_in_the_work_file(county):
    with duckdb.connect(str(county.warehouse), read_only=True) as conn:
        held = dict(conn.execute("SELECT partition_key, inputs_digest FROM internal.ingest_inputs").fetchall())
        comment = conn.execute("SELECT comment FROM duckdb_tables() WHERE schema_name = 'internal'").fetchone()[0]
    assert {f"key_projects/{p}" for p in MONTHS} <= set(held) and all(len(d) == 64 for d in held.values())
    assert "内部" in comment


def test_a_receipt_of_an_unchanged_file_in_a_month_written_again_is_left_in_place(county):
    """June is written again because May changed (its briefing reads May's figures); the receipt
    of June's file, which did not change, comes out the same bytes (stamped with the file's time)
    and the published one is left in place: a department is not sent a receipt that looks new."""
    import hashlib

    june = county.raw_dir / "key_projects" / "2023-06__发改局.csv"
    write_csv(june, [KP_HEADER, kp_row("XM001", total=1000, plan=500, ytd=200),
                     kp_row("XM002", name="第二个项目", total="暂无", plan=800, ytd=200, level="县级")])
    run(county)
    receipt = "receipts/2023-06/2023-06__发改局__回执.xlsx"
    before = exports(county)
    assert receipt in before
    write_csv(county.raw_dir / "key_projects" / "2023-05__发改局.csv", [
        KP_HEADER, kp_row("XM001", total=1000, plan=500, ytd=150),
        kp_row("XM002", name="第二个项目（调整后名称）", total=3000, plan=800, ytd=200, level="县级")])
    run(county)
    after = exports(county)
    assert after["marts_2023-05.xlsx"][0] != before["marts_2023-05.xlsx"][0]
    assert after["marts_2023-06.xlsx"][0] != before["marts_2023-06.xlsx"][0]  # June written again
    assert after[receipt] == before[receipt]  # the same bytes and the same time: left in place
    recorded = json.loads(after[".digests.json"][1])["months"]["2023-06"]["files"]
    assert recorded[receipt] == hashlib.sha256(after[receipt][1]).hexdigest()
