"""Where things are: every path comes from the environment, relative to the working directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_DEFAULTS = {
    "SHOUYANG_RAW_DIR": "data/raw",
    "SHOUYANG_WAREHOUSE": "data/warehouse.duckdb",
    "SHOUYANG_EXPORT_DIR": "data/exports",
    "SHOUYANG_ARCHIVE_DIR": "data/archive",
    "SHOUYANG_REFERENCE_DIR": "data/reference",
}


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    warehouse: Path
    export_dir: Path
    archive_dir: Path
    reference_dir: Path

    @property
    def work_warehouse(self) -> Path:
        """The private file runs write; the published `warehouse` is replaced from it atomically."""
        return self.warehouse.parent / ".work" / self.warehouse.name

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env

        def get(key: str) -> Path:
            return Path(env.get(key) or ENV_DEFAULTS[key])

        return cls(
            raw_dir=get("SHOUYANG_RAW_DIR"),
            warehouse=get("SHOUYANG_WAREHOUSE"),
            export_dir=get("SHOUYANG_EXPORT_DIR"),
            archive_dir=get("SHOUYANG_ARCHIVE_DIR"),
            reference_dir=get("SHOUYANG_REFERENCE_DIR"),
        )
