"""The one Dagster resource: where the project's files are, and a guarded warehouse connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

import duckdb
from dagster_duckdb import DuckDBResource

from ..config import Settings
from ..warehouse import connection


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

    @classmethod
    def from_settings(cls, settings: Settings) -> "WarehouseResource":
        return cls(
            database=str(settings.work_warehouse),
            connection_config={"storage_compatibility_version": connection.STORAGE_COMPATIBILITY},
            **{f.name: str(getattr(settings, f.name)) for f in fields(Settings)},
        )

    @property
    def settings(self) -> Settings:
        return Settings(**{f.name: Path(getattr(self, f.name)) for f in fields(Settings)})

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Unlike the parent's, closes the connection (and frees the file lock) when the body raises."""
        connection.ensure_work_copy(Path(self.database), Path(self.warehouse))
        with connection.connect(Path(self.database)) as conn:
            yield conn
