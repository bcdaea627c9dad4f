"""Where things are: every path comes from the environment, relative to the working directory.

Without SHOUYANG_DATA_DIR, the data folder is `data` in the working directory, or, when there is
none, that of the project the working directory is inside (`project_dir`: the nearest folder
above it holding `workspace.yaml` and `data/`): `shouyang check 2023-02__发改局.xlsx` run in
`data/raw/key_projects` finds the reference lists as it does in the project's folder, and a run
started there keeps its Dagster history in the project's `.dagster_home`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .errors import SetupError

BEIJING = ZoneInfo("Asia/Shanghai")

# Each default is a name inside SHOUYANG_DATA_DIR (default `data`): setting that one variable
# points a run at another data set without touching the default exports or archive.
DATA_DIR_DEFAULT = "data"
ENV_DEFAULTS = {
    "SHOUYANG_RAW_DIR": "raw",
    "SHOUYANG_WAREHOUSE": "warehouse.duckdb",
    "SHOUYANG_EXPORT_DIR": "exports",
    "SHOUYANG_ARCHIVE_DIR": "archive",
    "SHOUYANG_REFERENCE_DIR": "reference",
}


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    warehouse: Path
    export_dir: Path
    archive_dir: Path
    reference_dir: Path
    # The reporting calendar's clock (SUBMISSIONS.md 7): Beijing time without zone. None: the
    # machine's clock. `SHOUYANG_NOW=2023-10-11T09:30` sets it (tests, or judging a past month).
    clock: datetime | None = None

    PATHS = ("raw_dir", "warehouse", "export_dir", "archive_dir", "reference_dir")

    def now(self) -> datetime:
        """Now, Beijing time, without zone: what due dates are compared with."""
        return self.clock or datetime.now(BEIJING).replace(tzinfo=None, microsecond=0)

    @property
    def work_warehouse(self) -> Path:
        """The private file runs write; the published `warehouse` is replaced from it atomically."""
        return self.warehouse.parent / ".work" / self.warehouse.name

    @property
    def run_lock(self) -> Path:
        """Held by the run that writes the work file; a second run waits for it or refuses."""
        return self.work_warehouse.parent / "run.lock"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        data_dir = Path(env.get("SHOUYANG_DATA_DIR") or _default_data_dir())

        def get(key: str) -> Path:
            return Path(env.get(key) or data_dir / ENV_DEFAULTS[key])

        return cls(
            raw_dir=get("SHOUYANG_RAW_DIR"),
            warehouse=get("SHOUYANG_WAREHOUSE"),
            export_dir=get("SHOUYANG_EXPORT_DIR"),
            archive_dir=get("SHOUYANG_ARCHIVE_DIR"),
            reference_dir=get("SHOUYANG_REFERENCE_DIR"),
            clock=_clock(env.get("SHOUYANG_NOW")),
        )


PROJECT_MARKER = "workspace.yaml"  # beside `data/` in the project's folder (what `make ui` serves)


def project_dir() -> Path:
    """The folder the default paths are in: the working directory (`.`) when it holds `data`;
    else the nearest folder above it holding the project's marker and `data/`, absolute; else the
    working directory (each command then says that what it needs is not there, naming it). A
    folder that cannot be looked into is passed over."""
    here = Path(".")
    try:
        if (here / DATA_DIR_DEFAULT).is_dir():
            return here
        cwd = Path.cwd()
    except OSError:  # the working directory was removed, or cannot be read
        return here
    for folder in cwd.parents:
        try:
            if (folder / PROJECT_MARKER).is_file() and (folder / DATA_DIR_DEFAULT).is_dir():
                return folder
        except OSError:
            continue
    return here


def _default_data_dir() -> Path:
    return project_dir() / DATA_DIR_DEFAULT


def _clock(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise SetupError(f"环境变量 SHOUYANG_NOW 的值“{text}”不是时间，应写成 2023-10-11T09:30（北京时间）；"
                         "不设置时按本机时钟") from None
