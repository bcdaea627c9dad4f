"""The run's files read ahead by worker processes (`pipeline.ingest_ahead`) load exactly what the
run's own process loads: the same staging rows, rejections, warnings and log; a file changed
after it was read ahead is read again; a killed run's spool is removed by the next."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from datetime import datetime

import dagster as dg
import duckdb
import pytest

from shouyang_pipeline import pipeline
from shouyang_pipeline.config import Settings
from shouyang_pipeline.warehouse.connection import connect
from shouyang_pipeline.warehouse.ddl import ensure_tables

from conftest import KP_HEADER, PROJECT_REFERENCE, SAMPLE_CLOCK, kp_row, write_csv

MONTHS = ["2023-11", "2023-12"]
# What differs between two runs of the same files: when they ran.
RUN_TIME = {"ingested_at", "loaded_at", "computed_at", "run_id"}


def _tables(path, months: list[str]) -> dict[str, list]:
    """Every staging and audit table's rows of `months` (cross-period flags, which depend on the
    months around, left out), without the run's times."""
    out = {}
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = conn.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN "
                              "('staging', 'audit') AND table_name <> 'cross_period_flags'").fetchall()
        for schema, name in tables:
            cols = [c for (c,) in conn.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                "ORDER BY column_index", [schema, name]).fetchall() if c not in RUN_TIME]
            where = ("WHERE period IN (SELECT unnest(?))" if "period" in cols else "")
            sql = f'SELECT {", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)} FROM "{schema}"."{name}" {where}'
            rows = conn.execute(sql, [months] if where else []).fetchall()
            out[f"{schema}.{name}"] = sorted(rows, key=repr)
    return out


def test_reading_ahead_loads_what_reading_in_turn_loads(sample_year, tmp_path, monkeypatch):
    """The sample's last two months run with two reading workers, against the sample's year run
    in one process (its 1 MB is under the size worth workers)."""
    from shouyang_pipeline.defs import build_definitions
    from shouyang_pipeline.defs.partitions import add_months

    shutil.copytree(PROJECT_REFERENCE.parent / "raw", tmp_path / "raw")
    settings = Settings(tmp_path / "raw", tmp_path / "warehouse.duckdb", tmp_path / "exports", tmp_path / "archive",
                        PROJECT_REFERENCE, clock=SAMPLE_CLOCK)
    used = []

    def two(dataset_periods: int, size: int) -> int:
        used.append(dataset_periods)
        return 2

    monkeypatch.setattr(pipeline, "ingest_workers", two)
    monkeypatch.setattr(pipeline, "export_workers", lambda months: 1)
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, MONTHS)
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    tags = {"dagster/asset_partition_range_start": MONTHS[0], "dagster/asset_partition_range_end": MONTHS[-1]}
    assert job.execute_in_process(instance=instance, run_config=quiet, tags=tags).success
    assert used and used[0] >= 8  # the datasets of both months, read ahead

    ahead, in_turn = _tables(settings.warehouse, MONTHS), _tables(sample_year.warehouse, MONTHS)
    assert ahead.keys() == in_turn.keys()
    for table in ahead:
        assert ahead[table] == in_turn[table], table
    assert len(ahead["staging.key_projects"]) > 100 and ahead["audit.rejected_rows"]
    assert not list(settings.work_warehouse.parent.glob(f"{pipeline.INGEST_SPOOL_PREFIX}*"))  # spool removed


def _factory(conn):
    @contextmanager
    def factory():
        yield conn
    return factory


PERIODS = ["2023-02", "2023-03"]


def _two_months(settings, monkeypatch, feb: dict, mar: dict, *, workers: int = 2):
    """key_projects of February and March (one row each, `kp_row`'s keywords), read by `workers`."""
    write_csv(settings.raw_dir / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM001", **feb)])
    write_csv(settings.raw_dir / "key_projects" / "2023-03.csv", [KP_HEADER, kp_row("XM001", **mar)])
    if workers:
        monkeypatch.setattr(pipeline, "ingest_workers", lambda dataset_periods, size: workers)
    settings.work_warehouse.parent.mkdir(parents=True)


@contextmanager
def _work(settings):
    """The work file, its tables made."""
    with connect(settings.work_warehouse) as conn:
        ensure_tables(conn)
        yield conn


def test_a_file_changed_after_it_was_read_ahead_is_read_again(settings, monkeypatch):
    _two_months(settings, monkeypatch, {"ytd": 100}, {"ytd": 200})
    with _work(settings) as conn:
        with pipeline.ingest_ahead(settings, _factory(conn), ["key_projects"], PERIODS) as ahead:
            assert ahead is not None
            write_csv(settings.raw_dir / "key_projects" / "2023-03.csv",
                      [KP_HEADER, kp_row("XM001", ytd=300)])  # the clerk sent it again
            outcome = pipeline.ingest_and_load(settings, conn, "key_projects", PERIODS, ahead=ahead)
        got = dict(conn.execute("SELECT period, ytd_investment FROM staging.key_projects").fetchall())
        spool = list(settings.work_warehouse.parent.glob(f"{pipeline.INGEST_SPOOL_PREFIX}*"))
    assert got == {"2023-02": 100, "2023-03": 300}
    assert outcome.log.rows_loaded.sum() == 2
    assert spool == []


def test_few_bytes_or_one_core_read_in_turn(settings, monkeypatch):
    _two_months(settings, monkeypatch, {}, {}, workers=0)
    assert pipeline.ingest_workers(2, 1_000_000) == 0  # the sample's size
    assert pipeline.ingest_workers(1, 10**9) == 0  # one dataset-period
    monkeypatch.setattr("shouyang_pipeline.workers.usable_cores", lambda: 1)
    assert pipeline.ingest_workers(12, 10**9) == 0
    monkeypatch.setattr("shouyang_pipeline.workers.usable_cores", lambda: 8)
    assert pipeline.ingest_workers(12, 10**9) == 4 and pipeline.ingest_workers(3, 10**9) == 3
    with _work(settings) as conn:
        with pipeline.ingest_ahead(settings, _factory(conn), ["key_projects"], PERIODS) as ahead:
            assert ahead is None


def test_early_reading_takes_one_worker_for_few_bytes(monkeypatch):
    """Read early, while the run's process sets Dagster up on one core, one worker reads what is
    too little for workers otherwise (a month's files); a big run takes what `ingest_workers` says;
    a single core or a single dataset-period takes none."""
    monkeypatch.setattr("shouyang_pipeline.workers.usable_cores", lambda: 2)
    assert pipeline.early_reading_workers(7, 2_000_000) == 1 and pipeline.ingest_workers(7, 2_000_000) == 0
    assert pipeline.early_reading_workers(84, 10**9) == 2
    assert pipeline.early_reading_workers(1, 10**9) == 0
    monkeypatch.setattr("shouyang_pipeline.workers.usable_cores", lambda: 1)
    assert pipeline.early_reading_workers(7, 2_000_000) == 0 and pipeline.early_reading_workers(84, 10**9) == 0


def test_a_killed_runs_spool_is_removed_by_the_next_run(settings):
    spool = settings.work_warehouse.parent / f"{pipeline.INGEST_SPOOL_PREFIX}x1y2"
    spool.mkdir(parents=True)
    (spool / "key_projects.2023-02.pickle").write_bytes(b"half")
    pipeline.preflight(settings)
    assert not spool.exists()


@pytest.mark.parametrize("change", ["register", "reference"])
def test_a_register_line_or_reference_list_changed_after_the_reading_is_read_again(settings, monkeypatch, change):
    """The workers read the register and the reference lists when they read; the digest kept is
    of those the load finds. A change between the two is read again, else the next run would
    hold rows read with the old ones as if read with the new."""
    _two_months(settings, monkeypatch, {"zone": "新建园区"}, {"zone": "新建园区"})
    with _work(settings) as conn:
        with pipeline.ingest_ahead(settings, _factory(conn), ["key_projects"], PERIODS) as ahead:
            ahead._pool.results()  # both read before the change
            if change == "register":
                (settings.raw_dir / "收文登记.csv").write_text(
                    "文件,收到时间\nkey_projects/2023-03.csv,2023-04-05 09:30\n", encoding="utf-8")
            else:
                zones = settings.reference_dir / "zones.csv"
                zones.write_text(zones.read_text(encoding="utf-8").rstrip("\n") + "\nXINJIAN,新建园区,\n",
                                 encoding="utf-8")
            pipeline.ingest_and_load(settings, conn, "key_projects", PERIODS, ahead=ahead)
        log = conn.execute("SELECT received_from, received_at FROM audit.ingest_log WHERE period = '2023-03'").fetchall()
        zones_loaded = {z for (z,) in conn.execute("SELECT zone FROM staging.key_projects").fetchall()}
    if change == "register":
        assert log == [("收文登记", datetime(2023, 4, 5, 9, 30))]
    else:
        assert zones_loaded == {"新建园区"}


def test_a_reading_that_raises_in_a_worker_is_read_by_the_step_itself(settings, monkeypatch, tmp_path):
    """A worker that cannot write its frames (the spool's file name taken by a folder): the step
    reads that dataset-period, and the rest, itself, and the run goes on."""
    import tempfile

    _two_months(settings, monkeypatch, {"ytd": 100}, {"ytd": 200})
    spool = tmp_path / "spool"
    (spool / "key_projects.2023-02.pickle").mkdir(parents=True)
    monkeypatch.setattr(tempfile, "mkdtemp", lambda **kw: str(spool))
    with _work(settings) as conn:
        with pipeline.ingest_ahead(settings, _factory(conn), ["key_projects"], PERIODS) as ahead:
            outcome = pipeline.ingest_and_load(settings, conn, "key_projects", PERIODS, ahead=ahead)
        got = dict(conn.execute("SELECT period, ytd_investment FROM staging.key_projects").fetchall())
    assert got == {"2023-02": 100, "2023-03": 200}
    assert list(outcome.log.status) == ["loaded", "loaded"]
    assert not spool.exists()


def test_workers_started_before_the_hashing_are_stopped_when_all_is_held(settings, monkeypatch):
    """The reading workers start while the files are hashed; when every dataset-period turns out
    held (loaded from these very files), there is nothing to read ahead: they are stopped, and
    no spool is left."""
    from shouyang_pipeline import workers

    _two_months(settings, monkeypatch, {"ytd": 100}, {"ytd": 200})
    started = []

    class Recorded(workers.Pool):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(workers, "Pool", Recorded)
    with _work(settings) as conn:
        pipeline.ingest_and_load(settings, conn, "key_projects", PERIODS)  # loaded and its inputs kept
        monkeypatch.setattr(pipeline, "ingest_workers", lambda dataset_periods, size: 2 if dataset_periods else 0)
        with pipeline.ingest_ahead(settings, _factory(conn), ["key_projects"], PERIODS) as ahead:
            assert ahead is None
    pool, = started
    assert pool._procs and all(p.poll() is not None for p in pool._procs)  # started, then stopped
    assert list(settings.work_warehouse.parent.glob(f"{pipeline.INGEST_SPOOL_PREFIX}*")) == []


def test_a_workers_staging_rows_come_as_parquet_and_go_once_loaded(settings, monkeypatch):
    """A reading worker hands a period's staging rows over as a Parquet file beside its pickle
    (`write_parquet`); the load takes them from it, and the file is gone once loaded, each
    period's before the next period's is loaded (a 1000× year's would fill the disk otherwise)."""
    from shouyang_pipeline.catalog.tables import PeriodFrames

    _two_months(settings, monkeypatch, {"ytd": 100}, {"ytd": 200})
    seen = []
    real_take = pipeline.IngestAhead.take

    def take(self, plan):
        frames = real_take(self, plan)
        spool = settings.work_warehouse.parent
        seen.append((type(frames).__name__, frames.staging, sorted(p.name for p in spool.glob("ingest-spool.*/*.parquet"))))
        return frames

    monkeypatch.setattr(pipeline.IngestAhead, "take", take)
    with _work(settings) as conn:
        with pipeline.ingest_ahead(settings, _factory(conn), ["key_projects"], PERIODS) as ahead:
            ahead._pool.results()  # both read before the first is loaded
            pipeline.ingest_and_load(settings, conn, "key_projects", PERIODS, ahead=ahead)
            left = list(settings.work_warehouse.parent.glob(f"{pipeline.INGEST_SPOOL_PREFIX}*/*.parquet"))
        got = dict(conn.execute("SELECT period, ytd_investment FROM staging.key_projects").fetchall())
    assert got == {"2023-02": 100, "2023-03": 200} and left == []
    (kind, feb, files_feb), (_, mar, files_mar) = seen
    assert kind == PeriodFrames.__name__ and feb.suffix == mar.suffix == ".parquet"
    assert files_feb == ["key_projects.2023-02.parquet", "key_projects.2023-03.parquet"]
    assert files_mar == ["key_projects.2023-03.parquet"]  # February's removed once loaded


def test_reading_started_early_is_taken_over_by_the_runs_staging_step(sample_year, tmp_path, monkeypatch):
    """`reading_early` around the job's execution (as `shouyang run` does): the workers begin
    before Dagster sets the run up; the run's first step (its check for leftovers among them)
    leaves their spool and archive copies alone, the staging step takes their reading over
    (no reading of its own started), and the warehouse is the one read in turn."""
    from shouyang_pipeline.defs import build_definitions
    from shouyang_pipeline.defs.partitions import add_months

    shutil.copytree(PROJECT_REFERENCE.parent / "raw", tmp_path / "raw")
    settings = Settings(tmp_path / "raw", tmp_path / "warehouse.duckdb", tmp_path / "exports", tmp_path / "archive",
                        PROJECT_REFERENCE, clock=SAMPLE_CLOCK)
    monkeypatch.setattr(pipeline, "ingest_workers", lambda dataset_periods, size: 2 if dataset_periods > 1 else 0)
    monkeypatch.setattr(pipeline, "export_workers", lambda months: 1)
    started, removed = [], []
    real_start, real_remove = pipeline.start_reading, pipeline._remove_leftovers
    monkeypatch.setattr(pipeline, "start_reading", lambda *a, **k: started.append(a[3]) or real_start(*a, **k))

    def leftovers(settings):
        removed.append({a.spool for a in pipeline._EARLY.values()})
        real_remove(settings)
        assert all(a.spool.is_dir() for a in pipeline._EARLY.values())

    monkeypatch.setattr(pipeline, "_remove_leftovers", leftovers)
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, MONTHS)
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    tags = {"dagster/asset_partition_range_start": MONTHS[0], "dagster/asset_partition_range_end": MONTHS[-1]}
    with pipeline.reading_early(settings, MONTHS):
        early = dict(pipeline._EARLY)
        assert len(early) == 1
        assert job.execute_in_process(instance=instance, run_config=quiet, tags=tags).success
        assert pipeline._EARLY == {}  # taken
    assert started == [MONTHS]  # the early start only
    assert removed and removed[0]  # the run's first step looked for leftovers while the early reading went on
    ahead, = early.values()
    assert not ahead.spool.exists() and all(p.poll() is not None for p in ahead._pool._procs)
    assert not list(settings.archive_dir.glob("*.part"))
    got, in_turn = _tables(settings.warehouse, MONTHS), _tables(sample_year.warehouse, MONTHS)
    assert got.keys() == in_turn.keys()
    for table in got:
        assert got[table] == in_turn[table], table


def test_reading_started_early_and_not_taken_is_stopped(settings, monkeypatch):
    """A run that ends before its staging step (or whose months are others): the early reading is
    stopped on leaving, its workers ended and its spool removed. A published warehouse without
    a work file (the run starts one from it) or a work file that cannot be opened: no early
    reading, and nothing is in the way of the run."""
    _two_months(settings, monkeypatch, {"ytd": 100}, {"ytd": 200})
    with pipeline.reading_early(settings, PERIODS):
        ahead, = pipeline._EARLY.values()
        assert ahead.spool.is_dir()
    assert pipeline._EARLY == {} and not ahead.spool.exists()
    assert all(p.poll() is not None for p in ahead._pool._procs)
    with pipeline.ingest_ahead(settings, lambda: _work(settings), ["key_projects"], PERIODS) as own:
        assert own is not None and own is not ahead  # nothing early left to take: its own
    settings.work_warehouse.unlink()
    settings.warehouse.write_bytes(b"")  # published, and no work file
    with pipeline.reading_early(settings, PERIODS):
        assert pipeline._EARLY == {}
    settings.work_warehouse.write_bytes(b"not a duckdb file")
    with pipeline.reading_early(settings, PERIODS):
        assert pipeline._EARLY == {}
    assert not list(settings.work_warehouse.parent.glob(f"{pipeline.INGEST_SPOOL_PREFIX}*"))


def test_leftovers_of_other_runs_are_removed_and_the_early_readings_kept(settings, monkeypatch):
    """`_remove_leftovers` (a killed run's spool and half-written archive copies) spares the spool
    and the copies being written by the workers of the reading started early for this run."""
    _two_months(settings, monkeypatch, {"ytd": 100}, {"ytd": 200})
    settings.archive_dir.mkdir(parents=True, exist_ok=True)
    killed = settings.work_warehouse.parent / f"{pipeline.INGEST_SPOOL_PREFIX}killed"
    killed.mkdir()
    old_part = settings.archive_dir / "abc.csv.999999.part"
    old_part.write_bytes(b"half")
    with pipeline.reading_early(settings, PERIODS):
        ahead, = pipeline._EARLY.values()
        ahead._pool.results()
        parts = [settings.archive_dir / f"def.csv.{pid}.part" for pid in ahead.pids]
        for part in parts:
            part.write_bytes(b"being written")
        pipeline._remove_leftovers(settings)
        assert ahead.spool.is_dir() and all(p.exists() for p in parts)
        assert not killed.exists() and not old_part.exists()


def test_the_early_readings_spool_is_spared_under_relative_paths(tmp_path, monkeypatch):
    """`make run` names the work folder relatively (`data/.work`): the spool's path as `mkdtemp`
    gives it (absolute from Python 3.12 on, as made here) and as the folder's glob gives it
    (relative) are the same folder, spared."""
    import os
    import tempfile

    from test_receipts import make_settings

    made = make_settings(tmp_path)
    monkeypatch.chdir(tmp_path)
    settings = Settings(Path("raw"), Path("warehouse") / "warehouse.duckdb", Path("exports"), Path("archive"),
                        made.reference_dir)
    _two_months(settings, monkeypatch, {"ytd": 100}, {"ytd": 200})
    real = tempfile.mkdtemp
    monkeypatch.setattr(tempfile, "mkdtemp", lambda *a, **k: os.path.abspath(real(*a, **k)))
    with pipeline.reading_early(settings, PERIODS):
        ahead, = pipeline._EARLY.values()
        assert ahead.spool.is_absolute()
        pipeline._remove_leftovers(settings)
        assert ahead.spool.is_dir()
    assert not ahead.spool.exists()
