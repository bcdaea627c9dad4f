"""End to end: the Dagster assets materialised on real files into a tmp_path warehouse."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import duckdb

from shouyang_pipeline.config import Settings
from shouyang_pipeline.defs import build_definitions
from shouyang_pipeline.defs.partitions import add_months, months_of

from conftest import CREDIT_CODES, IO_HEADER, KP_HEADER, kp_row, write_csv, write_xlsx

PERIOD = "2023-02"


def write_period(raw: Path, *, total_of_first: float = 20000) -> None:
    write_xlsx(raw / "key_projects" / f"{PERIOD}__发改局.xlsx", [
        ["2023年1-2月全县重点项目进展情况表"],
        ["填报单位：县发改局　　　　单位：万元"],
        KP_HEADER,
        kp_row("XM001", total=total_of_first, plan=5000, ytd=800, level="省级"),
        kp_row("XM002", total=8000, plan=2000, ytd=0, level="市重点", status="未开工", zone="景尚农业园"),
        kp_row("XM003", total=-200, plan=0, ytd=0, level="县级"),
        ["合计", None, None, None, None, None, None, total_of_first + 8000 - 200, 7000, 800],
        ["填表人：张三　审核人：李四"],
    ], merges=("A1:N1",))
    write_csv(raw / "industrial_output" / f"{PERIOD}.csv", [
        IO_HEADER,
        [CREDIT_CODES[0], "甲造纸公司", "造纸产业链", "平头镇", "12000", "10000", "50000", "否"],
        [CREDIT_CODES[1], "乙化工公司", "CHEMICAL", "朝阳镇", "8000", "7500", "30000", "是"],
    ], encoding="gbk")
    write_csv(raw / "city_indicators" / f"{PERIOD}.csv", [["指标名称", "全市数值"], ["规模以上工业增加值增速", "9.5%"]])


def materialize(settings: Settings, period: str = PERIOD) -> dg.ExecuteInProcessResult:
    defs = build_definitions(settings)
    job = defs.resolve_job_def("monthly_refresh")
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, [period])  # what `shouyang run`, the schedule and the sensor do first
    return job.execute_in_process(partition_key=period, instance=instance)


def read(settings: Settings, sql: str, *args):
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return conn.execute(sql, list(args)).fetchall()


def test_materialize_builds_and_publishes_the_warehouse(settings):
    write_period(settings.raw_dir)
    result = materialize(settings)
    assert result.success
    assert read(settings, "SELECT count(*) FROM staging.key_projects")[0][0] == 2
    assert read(settings, "SELECT count(*) FROM staging.industrial_output")[0][0] == 2
    summary = dict(read(settings, "SELECT scope, projects FROM marts.project_summary WHERE period = ?", PERIOD))
    assert summary == {"全部": 2, "市级及以上": 2, "省级": 1}
    growth = read(settings, "SELECT yoy_growth_pct, city_yoy_growth_pct, gap_pp FROM marts.industrial_output_summary")
    assert [tuple(float(x) for x in row) for row in growth] == [(14.3, 9.5, 4.8)]  # 20000/17500 = +14.29 %
    assert (settings.export_dir / f"briefing_{PERIOD}.md").exists()
    assert (settings.export_dir / f"briefing_{PERIOD}.html").exists()

    checks = {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}
    assert checks[("staging/key_projects", "row_accounting")].passed
    assert checks[("staging/key_projects", "row_accounting")].severity == dg.AssetCheckSeverity.ERROR
    # A department's bad row is a warning (the UI's yellow sign), said so in the result's description.
    rejected = checks[("staging/key_projects", "no_rejected_rows")]
    assert not rejected.passed  # XM003 is rejected
    assert rejected.severity == dg.AssetCheckSeverity.WARN
    assert rejected.description.startswith("警告（不是运行故障）") and PERIOD in rejected.description
    assert checks[("staging/industrial_output", "no_rejected_rows")].passed
    assert "全部入库" in checks[("staging/industrial_output", "no_rejected_rows")].description
    assert all(e.severity == dg.AssetCheckSeverity.WARN for (_, name), e in checks.items() if name != "row_accounting")

    # The reference lists are not partitioned; every other asset is materialised for the month.
    partitions = {m.asset_key.to_user_string(): m.partition for m in result.get_asset_materialization_events()}
    assert partitions["reference/villages"] is None
    assert {p for k, p in partitions.items() if not k.startswith("reference/")} == {PERIOD}

    mats = {m.asset_key.to_user_string(): m for m in result.get_asset_materialization_events()
            for m in [m.event_specific_data.materialization]}
    assert mats["staging/key_projects"].metadata["dagster/row_count"].value == 2
    assert "partial" in mats["staging/key_projects"].metadata["file_status"].value

    # The published file opens in the 1.x CLI that analysts and DBeaver use.
    cli = Path(sys.executable).with_name("duckdb")
    if cli.exists():
        out = subprocess.run([str(cli), "-readonly", str(settings.warehouse), "-csv", "-c",
                              "SELECT count(*) FROM marts.project_summary"], capture_output=True, text=True, check=True)
        assert out.stdout.strip().splitlines()[-1] == "3"


def _snapshot(settings: Settings) -> dict:
    tables = read(settings, "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL")
    return {f"{s}.{t}": sorted(map(repr, read(settings, f'SELECT * FROM "{s}"."{t}"'))) for s, t in tables}


def test_running_the_same_period_twice_changes_nothing(settings):
    write_period(settings.raw_dir)
    assert materialize(settings).success
    first = _snapshot(settings)
    assert materialize(settings).success
    assert _snapshot(settings) == first


READER = textwrap.dedent("""
    import sys, time, duckdb
    conn = duckdb.connect(sys.argv[1], read_only=True)
    print(conn.execute("SELECT sum(total_investment) FROM staging.key_projects").fetchone()[0], flush=True)
    time.sleep(60)
""")


def test_a_reader_holding_the_warehouse_open_does_not_block_a_corrected_run(settings):
    write_period(settings.raw_dir)
    assert materialize(settings).success
    reader = subprocess.Popen([sys.executable, "-c", READER, str(settings.warehouse)], stdout=subprocess.PIPE, text=True)
    try:
        assert float(reader.stdout.readline()) == 28000.0
        write_period(settings.raw_dir, total_of_first=30000)  # the corrected file, same path
        assert materialize(settings).success
        assert reader.poll() is None  # the reader is still connected
    finally:
        reader.kill()
        reader.wait()
    assert float(read(settings, "SELECT sum(total_investment) FROM staging.key_projects")[0][0]) == 38000.0
    versions = read(settings, "SELECT is_current FROM audit.ingest_log WHERE file_path = ? ORDER BY ingested_at",
                    f"key_projects/{PERIOD}__发改局.xlsx")
    assert sorted(v for (v,) in versions) == [False, True]


KILLED_RUN = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    import dagster as dg
    from shouyang_pipeline.config import Settings
    from shouyang_pipeline.warehouse import load
    from shouyang_pipeline.defs import build_definitions

    original = load._insert
    def slow_insert(conn, table, frame):
        original(conn, table, frame)
        if table.schema == "staging":
            print("inside-transaction", flush=True)
            time.sleep(60)
    load._insert = slow_insert

    from shouyang_pipeline.defs.partitions import add_months

    tmp = Path(sys.argv[1])
    settings = Settings(tmp / "raw", tmp / "warehouse" / "warehouse.duckdb", tmp / "exports", tmp / "archive", tmp / "reference")
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, ["2023-02"])
    build_definitions(settings).resolve_job_def("monthly_refresh").execute_in_process(
        partition_key="2023-02", instance=instance)
""")


def test_a_run_killed_mid_load_leaves_the_published_warehouse_as_it_was(settings, tmp_path):
    write_period(settings.raw_dir)
    assert materialize(settings).success
    before = _snapshot(settings)
    write_period(settings.raw_dir, total_of_first=30000)
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        line = ""
        while time.time() < deadline and "inside-transaction" not in line:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
        assert "inside-transaction" in line
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert _snapshot(settings) == before  # the published file is untouched
    assert materialize(settings).success  # and the next run completes normally
    assert float(read(settings, "SELECT sum(total_investment) FROM staging.key_projects")[0][0]) == 38000.0


def test_a_lost_work_file_is_restored_from_the_published_warehouse(settings):
    write_period(settings.raw_dir)
    assert materialize(settings).success
    write_csv(settings.raw_dir / "city_indicators" / "2023-03.csv", [["指标名称", "全市数值"], ["规上工业增加值增速", "9.1"]])
    shutil.rmtree(settings.work_warehouse.parent)
    assert materialize(settings, "2023-03").success
    periods = [p for (p,) in read(settings, "SELECT DISTINCT period FROM staging.city_indicators ORDER BY 1")]
    assert periods == ["2023-02", "2023-03"]
    assert read(settings, "SELECT count(*) FROM staging.key_projects WHERE period = '2023-02'")[0][0] == 2


def test_one_run_covers_a_range_of_months(settings):
    write_period(settings.raw_dir)
    write_csv(settings.raw_dir / "city_indicators" / "2023-04.csv", [["指标名称", "全市数值"], ["规上工业增加值增速", "9.1"]])
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, ["2023-04"])
    add_months(instance, ["2023-02"])  # a month older than the last one added still comes first
    assert months_of(instance) == ["2023-02", "2023-04"]
    tags = {"dagster/asset_partition_range_start": "2023-02", "dagster/asset_partition_range_end": "2023-04"}
    result = job.execute_in_process(instance=instance, tags=tags)
    assert result.success
    staged = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "staging/city_indicators"]
    assert sorted(e.partition for e in staged) == ["2023-02", "2023-04"]  # the months that are partitions
    assert staged[0].event_specific_data.materialization.metadata["run_periods"].value == "2023-02, 2023-04"
    references = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "reference/villages"]
    assert [e.partition for e in references] == [None]  # the reference lists once per run
    assert read(settings, "SELECT period, value::DOUBLE FROM staging.city_indicators ORDER BY 1") == [
        ("2023-02", 9.5), ("2023-04", 9.1)]
    assert sorted(p.name for p in settings.export_dir.glob("briefing_*.md")) == ["briefing_2023-02.md", "briefing_2023-04.md"]


def test_a_month_whose_only_file_is_rejected_still_gets_a_briefing_saying_so(settings):
    write_period(settings.raw_dir)
    (settings.raw_dir / "key_projects" / "2023-03__发改局.csv").write_bytes(b"\xff\xfe\x00bad bytes \x81\x00")
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, ["2023-02", "2023-03"])
    tags = {"dagster/asset_partition_range_start": "2023-02", "dagster/asset_partition_range_end": "2023-03"}
    assert job.execute_in_process(instance=instance, tags=tags).success
    text = (settings.export_dir / "briefing_2023-03.md").read_text(encoding="utf-8")
    assert "key_projects/2023-03__发改局.csv" in text and "编码" in text


def test_files_no_month_can_hold_are_named_in_the_briefing(settings):
    write_period(settings.raw_dir)
    write_csv(settings.raw_dir / "key_projects" / "2099-01.csv", [KP_HEADER, kp_row("XM001")])
    write_csv(settings.raw_dir / "village_income" / "2023-02__平头镇.csv", [["村名称", "经营性收入", "集体经济总收入"]])
    assert materialize(settings).success
    quality = (settings.export_dir / f"briefing_{PERIOD}.md").read_text(encoding="utf-8").split("、数据质量\n")[1]
    assert "key_projects/2099-01.csv" in quality and "village_income/2023-02__平头镇.csv" in quality
