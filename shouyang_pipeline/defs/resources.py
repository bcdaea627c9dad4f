"""The one Dagster resource: where the project's files are, and a guarded warehouse connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from ..config import Settings
from ..errors import SetupError
from ..pipeline import emptied_periods, finish_committed_publish, open_work, run_lock
from ..warehouse import connection
from ..run_processes import mark_interrupted_runs, record_process
from .storage import kept_open

# A run started while another holds the warehouse waits this long, then fails saying so.
LOCK_WAIT_SECONDS = 600


class WarehouseResource(DuckDBResource):
    """DuckDBResource on the private work file, plus the paths of `config.Settings`.

    `database` is the work file runs write; `warehouse` is the file analysts open, replaced
    atomically by the `exports/published_warehouse` asset at the end of a run.
    """

    raw_dir: str
    warehouse: str
    export_dir: str
    archive_dir: str
    reference_dir: str
    clock: str = ""  # Settings.clock as ISO text; "" for the machine's clock
    left_to_default: str = ""  # Settings.left_to_default, comma-separated: a run refuses them
    _run_lock: ExitStack | None = PrivateAttr(default=None)
    _run_begun: bool = PrivateAttr(default=False)
    _export_workers: object = PrivateAttr(default=None)  # a workers.Pool started ahead for the exports step

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """A run holds the run lock from its first step to its last (sensors and schedules do not),
        and Dagster's SQLite files open (`storage.kept_open`: a run launched from the UI too).

        Dagster sets a resource up once per run here (the in-process executor), so it also keeps
        whether the run's first step has done the run's checks (`assets.begin_once`)."""
        self._run_begun = False
        if context.dagster_run is None:
            return
        if context.instance is not None:  # this run's process, before it may wait for the lock (up to
            try:  # LOCK_WAIT_SECONDS): a run killed while it waits is then told from a live one
                record_process(context.instance, context.dagster_run.run_id)
            except Exception as exc:  # noqa: BLE001 -- the run's outcome never depends on this tidying
                if context.log is not None:
                    context.log.warning(f"未能记录本次运行的进程（{type(exc).__name__}: {exc}）")
        stack = ExitStack()
        try:
            stack.enter_context(run_lock(self.settings, wait_seconds=LOCK_WAIT_SECONDS))
        except SetupError as exc:  # said as a line of the run's log of its own too: in the UI the
            if context.log is not None:  # failure of a resource's set-up is Dagster's wrapper and its stack
                context.log.error(str(exc))
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        self._run_lock = stack
        if context.instance is not None:  # Dagster's files held open while the run stores its events
            try:
                stack.enter_context(kept_open(context.instance, context.dagster_run.run_id))
            except Exception:  # noqa: BLE001 -- only time is at stake
                pass
        if context.instance is not None:  # the runs Dagster would show as running for good
            try:
                for run_id in mark_interrupted_runs(context.instance, context.dagster_run.run_id):
                    if context.log is not None:
                        context.log.warning(f"运行 {run_id[:8]} 的进程已不存在（被中断），已标记为失败")
            except Exception as exc:  # noqa: BLE001 -- the run's outcome never depends on this tidying
                if context.log is not None:
                    context.log.warning(f"未能检查被中断的运行（{type(exc).__name__}: {exc}）")
        # A run killed after its commit record is published: put it in place before this run
        # reads anything, whatever this run's own checks will say (its raw dir may be missing).
        pending = finish_committed_publish(self.settings, in_run=True)
        if pending.note and context.log is not None:
            context.log.warning(pending.note)
        elif pending.rolled_forward and context.log is not None:
            context.log.info("上次运行在发布途中中断（已提交）：已补完发布")
            if pending.wal_note:
                context.log.warning(pending.wal_note)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        try:
            if (workers := self.take_export_workers()) is not None:  # the run ended before its exports
                workers.close()
            if self._run_lock is not None and context.dagster_run is not None and context.instance is not None:
                self._drop_emptied_months(context)
        finally:
            if self._run_lock is not None:
                self._run_lock.close()
                self._run_lock = None

    def _drop_emptied_months(self, context: dg.InitResourceContext) -> None:
        """The run's months that no longer have a file or data (every file of the month was
        removed, and this run removed its data) stop being partitions: the run decides, from
        the raw dir and the published warehouse, never the UI. A failed run whose month is
        still published keeps it."""
        from .partitions import months_of_run, remove_months

        try:
            months = months_of_run(context.instance, context.dagster_run.tags)
            gone = remove_months(context.instance, emptied_periods(self.settings, months))
        except Exception as exc:  # noqa: BLE001 -- the run's outcome never depends on this tidying
            if context.log is not None:
                context.log.warning(f"未能整理分区（{type(exc).__name__}: {exc}）")
            return
        if gone and context.log is not None:
            context.log.info("这些月份已没有任何文件和数据，不再作为分区：" + "、".join(gone))

    @property
    def run_begun(self) -> bool:
        return self._run_begun

    def mark_run_begun(self) -> None:
        self._run_begun = True

    def keep_export_workers(self, pool) -> None:
        """Export workers started ahead (`pipeline.ahead_export_workers`), for the run's exports
        step to take; the run's end stops them if it never does."""
        if self._export_workers is not None:
            self._export_workers.close()
        self._export_workers = pool

    def take_export_workers(self):
        pool, self._export_workers = self._export_workers, None
        return pool

    @classmethod
    def from_settings(cls, settings: Settings) -> "WarehouseResource":
        return cls(
            database=str(settings.work_warehouse),
            connection_config=dict(connection.PIPELINE_CONFIG),
            **{name: str(getattr(settings, name)) for name in Settings.PATHS},
            clock=settings.clock.isoformat() if settings.clock else "",
            left_to_default=",".join(settings.left_to_default),
        )

    @property
    def settings(self) -> Settings:
        return Settings(**{name: Path(getattr(self, name)) for name in Settings.PATHS},
                        clock=datetime.fromisoformat(self.clock) if self.clock else None,
                        left_to_default=tuple(filter(None, self.left_to_default.split(","))))

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Unlike the parent's, closes the connection (and frees the file lock) when the body raises."""
        connection.ensure_work_copy(Path(self.database), Path(self.warehouse))
        try:
            with open_work(self.settings) as conn:
                yield conn
        except SetupError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
