"""The one Dagster resource: where the project's files are, and a guarded warehouse connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster_duckdb import DuckDBResource

from ..config import Settings
from ..warehouse import connection


class WarehouseResource(DuckDBResource):
    """DuckDBResource on the private work file, plus the other paths of `config.Settings`.

    `database` is the work file runs write; `published` is the file analysts open, replaced
    atomically by the `exports/published_warehouse` asset at the end of a run.
    """

    published: str
    raw_dir: str
    export_dir: str
    archive_dir: str
    reference_dir: str

    @classmethod
    def from_settings(cls, settings: Settings) -> "WarehouseResource":
        return cls(
            database=str(settings.work_warehouse),
            connection_config={"storage_compatibility_version": connection.STORAGE_COMPATIBILITY},
            published=str(settings.warehouse),
            raw_dir=str(settings.raw_dir),
            export_dir=str(settings.export_dir),
            archive_dir=str(settings.archive_dir),
            reference_dir=str(settings.reference_dir),
        )

    @property
    def settings(self) -> Settings:
        return Settings(
            raw_dir=Path(self.raw_dir),
            warehouse=Path(self.published),
            export_dir=Path(self.export_dir),
            archive_dir=Path(self.archive_dir),
            reference_dir=Path(self.reference_dir),
        )

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Unlike the parent's, closes the connection (and frees the file lock) when the body raises."""
        connection.ensure_work_copy(Path(self.database), Path(self.published))
        with connection.connect(Path(self.database)) as conn:
            yield conn
