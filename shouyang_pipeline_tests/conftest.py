"""Shared fixtures for the ingest tests: real files written into tmp_path, ingested and loaded.

Files are written the way departments write them: XLSX through openpyxl (titles, merges,
percent formats, dates, formulas without a cached value) and xlsxwriter (formulas *with* the
value Excel computed), CSV as UTF-8, UTF-8 with BOM or GBK bytes. `run_period` ingests one
dataset-period and loads it into a DuckDB file under tmp_path, exactly as a run does.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from shouyang_pipeline.config import Settings
from shouyang_pipeline.ingest.discover import discover
from shouyang_pipeline.ingest.period import ingest_period, unplaced_log
from shouyang_pipeline.reference import Reference
from shouyang_pipeline.warehouse.load import load_period, load_reference, load_unplaced

PROJECT_REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"

# pytest-xdist's workers (`make test` runs two) inherit COLUMNS=80 from execnet: the CLI would
# wrap its lines at 80 columns there and at its own width (200, output not a terminal) in a
# plain run. The tests read the CLI's output as a plain run prints it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)

# The tests' own village list: fixed, so that they do not depend on the county's (placeholder)
# list. 黑水村 exists in two townships on purpose (village/township mismatch).
VILLAGES = [
    ("140725103201", "黑水村", "平头镇"),
    ("140725103202", "山底村", "平头镇"),
    ("140725103203", "龙栖村", "平头镇"),
    ("140725103204", "胡家堙村", "平头镇"),
    ("140725102201", "宗艾村", "宗艾镇"),
    ("140725102202", "下黑水村", "宗艾镇"),
    ("140725102203", "石家庄村", "宗艾镇"),
]

# ------------------------------------------------------------------ headers and good rows

KP_HEADER = ["项目编号", "项目名称", "项目级别", "项目类别", "所属产业链", "所在园区", "所在乡镇",
             "总投资", "年度计划投资", "本年累计完成投资", "建设状态", "是否生产性项目", "责任单位", "开工时间"]


def kp_row(code="XM001", name="测试项目", level="省级", total=1000, plan=500, ytd=100, status="续建",
           sector="产业转型", chain="造纸产业链", zone="平头融合发展区", township="平头镇",
           productive="是", unit="县发改局", start="2023-03-15"):
    return [code, name, level, sector, chain, zone, township, total, plan, ytd, status, productive, unit, start]


IO_HEADER = ["统一社会信用代码", "企业名称", "所属产业链", "所在乡镇", "本年累计工业增加值",
             "上年同期累计工业增加值", "本年累计工业总产值", "是否数字经济核心产业"]
# valid GB 32100-2015 codes
CREDIT_CODES = ["91140725MA0K2X3Y4P", "91110000100000000R", "91140725MA0GRFJK1D"]

VI_HEADER = ["村代码", "村名称", "所属乡镇", "经营性收入", "集体经济总收入", "主要收入来源"]


# ------------------------------------------------------------------ writing files

@dataclass(frozen=True)
class Formula:
    """A formula cell; `cached` is the value Excel computed (None: the file stores none)."""

    text: str
    cached: object = None


@dataclass(frozen=True)
class Pct:
    """A number in a cell formatted as a percentage (Excel stores 0.106 for 10.6 %), or in `fmt`."""

    value: float
    fmt: str = "0.0%"


def write_xlsx(path: Path, rows: list[list], *, merges: tuple[str, ...] = (), sheets_before: dict | None = None,
               sheet_name: str = "Sheet1") -> Path:
    """An XLSX written with openpyxl. Cells may be Formula (no cached value), Pct, date or datetime.

    `sheets_before` maps sheet names to rows written as worksheets before the data sheet
    (a 填报说明 sheet). `merges` are ranges like "A1:H1" on the data sheet.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    wb.remove(wb.active)
    for name, extra in (sheets_before or {}).items():
        ws = wb.create_sheet(name)
        for r in extra:
            ws.append(r)
    ws = wb.create_sheet(sheet_name)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is None:
                continue
            cell = ws.cell(row=r, column=c)
            if isinstance(value, Formula):
                assert value.cached is None, "cached formula values need write_xlsx_cached"
                cell.value = value.text
            elif isinstance(value, Pct):
                cell.value = value.value
                cell.number_format = value.fmt
            elif isinstance(value, (date, datetime)):
                cell.value = value
                cell.number_format = "yyyy-mm-dd"
            else:
                cell.value = value
    for rng in merges:
        ws.merge_cells(rng)
    wb.save(path)
    return path


def write_xlsx_cached(path: Path, rows: list[list], *, merges: tuple[str, ...] = (),
                      computed_on_load: bool = False) -> Path:
    """An XLSX as Excel saves one, each formula with its computed value (`Formula.cached`),
    written with xlsxwriter. `computed_on_load`: as xlsxwriter writes one by default, asking Excel
    to compute every formula on opening (`fullCalcOnLoad`: the values stored are not Excel's)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    wb.calc_on_load = computed_on_load
    ws = wb.add_worksheet("Sheet1")
    pct = wb.add_format({"num_format": "0.0%"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, Formula):
                ws.write_formula(r, c, value.text, None, "" if value.cached is None else value.cached)
            elif isinstance(value, Pct):
                ws.write_number(r, c, value.value, pct)
            else:
                ws.write(r, c, value)
    for rng in merges:
        first, last = rng.split(":")
        ws.merge_range(f"{first}:{last}", None)
    wb.close()
    return path


def patch(data: bytes, member: str, edit) -> bytes:
    """The same archive (an XLSX) with one part's bytes replaced by `edit(bytes)`: what a
    spreadsheet library will not write."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info)
            z.writestr(info.filename, edit(body) if info.filename == member else body)
    return out.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows([["" if v is None else v for v in r] for r in rows])
    return buf.getvalue().encode(encoding)


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8") -> Path:
    """CSV as UTF-8, UTF-8 with BOM ("utf-8-sig") or GBK bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(rows, encoding))
    return path


# ------------------------------------------------------------------ settings and runs

def make_settings(root: Path) -> Settings:
    """The tests' layout under `root`: reference/ (the project's lists with the tests' villages),
    an empty raw/, and warehouse/warehouse.duckdb, exports/, archive/ (made by the first run)."""
    reference = root / "reference"
    shutil.copytree(PROJECT_REFERENCE, reference)
    with open(reference / "villages.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["village_code", "village_name", "township_name"])
        w.writerows(VILLAGES)
    raw = root / "raw"
    raw.mkdir()
    return Settings(
        raw_dir=raw,
        warehouse=root / "warehouse" / "warehouse.duckdb",
        export_dir=root / "exports",
        archive_dir=root / "archive",
        reference_dir=reference,
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def raw(settings: Settings) -> Path:
    return settings.raw_dir


def rows(con, sql: str, params=()) -> list[dict]:
    """The rows of a query as dicts."""
    return _dicts(con.execute(sql, list(params)))


def one(con, sql: str, params=()) -> dict:
    """The single row of a query as a dict."""
    result = rows(con, sql, params)
    assert len(result) == 1, result
    return result[0]


def _dicts(cur) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


class Run:
    """The warehouse after one or more partition runs, with the queries the tests need."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, result=None):
        self.conn = conn
        self.result = result

    def q(self, sql: str, *args) -> list[dict]:
        return _dicts(self.conn.execute(sql, list(args)))

    def log(self, file_path: str | None = None, *, current: bool = True) -> list[dict] | dict:
        """Ingest-log rows (current ones by default); one dict when a file path is given."""
        where = "WHERE is_current" if current else "WHERE true"
        rows = self.q(f"SELECT * FROM audit.ingest_log {where} ORDER BY file_path, ingested_at")
        if file_path is None:
            return rows
        mine = [r for r in rows if r["file_path"] == file_path]
        assert len(mine) == 1, (file_path, rows)
        return mine[0]

    def staging(self, dataset: str) -> list[dict]:
        return self.q(f"SELECT * FROM staging.{dataset} ORDER BY source_file, source_row")

    def rejected(self, **where) -> list[dict]:
        return self._issues("rejected_rows", where)

    def warnings(self, **where) -> list[dict]:
        return self._issues("cell_warnings", where)

    def _issues(self, table: str, where: dict) -> list[dict]:
        rows = self.q(f"SELECT * FROM audit.{table} ORDER BY file_path, source_row, source_cell")
        for r in rows:
            r["raw_row"] = json.loads(r["raw_row"]) if isinstance(r["raw_row"], str) else r["raw_row"]
        return [r for r in rows if all(r[k] == v for k, v in where.items())]

    def snapshot(self) -> dict[str, list]:
        """Every staging and audit table's content (ingested_at left out), for comparing runs."""
        out = {}
        for (schema, name) in self.conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ('staging', 'audit')"
        ).fetchall():
            cols = [c for (c,) in self.conn.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
                [schema, name]).fetchall()]
            sel = ", ".join(f'"{c}"' for c in cols)
            rows = self.conn.execute(f'SELECT {sel} FROM "{schema}"."{name}"').fetchall()
            out[f"{schema}.{name}"] = sorted(rows, key=repr)
        return out

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def run_period(settings: Settings):
    """run_period(dataset, period) -> Run: ingest, load into a DuckDB of this test (plus unplaced files).

    Every call of one test loads into the same database, as successive runs do.
    """
    conns: list[duckdb.DuckDBPyConnection] = []
    state: dict = {}

    def _run(dataset: str, period: str, *, now_period: str | None = None) -> Run:
        if "conn" not in state:
            # In memory: the same SQL as the published file, several times faster to set up.
            state["conn"] = duckdb.connect(":memory:")
            conns.append(state["conn"])
            load_reference(state["conn"], settings.reference_dir)
        conn = state["conn"]
        reference = Reference.load(settings.reference_dir)
        files = discover(settings.raw_dir, now_period)
        result = ingest_period(settings, dataset, period, reference,
                                  files=[f for f in files if f.dataset_period == (dataset, period)])
        load_period(conn, result)
        load_unplaced(conn, unplaced_log(settings, files))
        return Run(conn, result)

    yield _run
    for c in conns:
        c.close()


def assert_consistent_counts(run: Run) -> None:
    """rows_read = rows_loaded + rows_rejected for every current file."""
    for r in run.log():
        assert r["rows_read"] == r["rows_loaded"] + r["rows_rejected"], r


# ------------------------------------------------------------------ the bundled sample, run once

SAMPLE_MONTHS = [f"2023-{m:02d}" for m in range(1, 13)]
# Ten days after the last due date of 2023 (10 January): every 2023 period is past due, and the
# period due then (2023-12) is held anyway, so what the tests see does not depend on the day.
SAMPLE_CLOCK = datetime(2024, 1, 20, 9, 0)


@pytest.fixture(scope="session")
def sample_year(tmp_path_factory) -> Settings:
    """The bundled data/raw (with its register), every month of 2023 in one run as `shouyang run`
    does it, the clock at SAMPLE_CLOCK: shared by the modules that check the sample's figures.

    Under pytest-xdist the workers share one run (pytest-xdist's documented pattern): the first
    worker to ask makes it under a file lock in the session's temporary folder, the others wait
    for it and use its folder. Its users only read it (DuckDB files opened read-only, never a file
    written in its folders); a test that writes copies it first (test_export_workers)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _sample_year_run(tmp_path_factory.mktemp("sample_year"))
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # the session's folder, above each worker's own
    done = shared / "sample_year.done"
    with FileLock(str(shared / "sample_year.lock")):
        if done.is_file():
            return _sample_year_settings(Path(done.read_text(encoding="utf-8")))
        settings = _sample_year_run(tmp_path_factory.mktemp("sample_year"))
        done.write_text(str(settings.raw_dir.parent), encoding="utf-8")  # written only once the run succeeded
    return settings


def _sample_year_settings(tmp: Path) -> Settings:
    return Settings(tmp / "raw", tmp / "warehouse.duckdb", tmp / "exports", tmp / "archive",
                    PROJECT_REFERENCE, clock=SAMPLE_CLOCK)


def _sample_year_run(tmp: Path) -> Settings:
    import dagster as dg

    from shouyang_pipeline.defs import build_definitions
    from shouyang_pipeline.defs.partitions import add_months

    shutil.copytree(PROJECT_REFERENCE.parent / "raw", tmp / "raw")
    settings = _sample_year_settings(tmp)
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, SAMPLE_MONTHS)
    tags = {"dagster/asset_partition_range_start": SAMPLE_MONTHS[0],
            "dagster/asset_partition_range_end": SAMPLE_MONTHS[-1]}
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    assert job.execute_in_process(instance=instance, run_config=quiet, tags=tags).success
    return settings


@pytest.fixture(scope="session")
def sample_generated(tmp_path_factory) -> dict:
    """The generator's summary for the bundled sample (the same files as data/raw): its figures,
    planted errors, register and planted flags."""
    from shouyang_pipeline.sample import write_sample

    tmp = tmp_path_factory.mktemp("sample_gen")
    return write_sample(tmp / "raw", tmp / "ref")
