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
    # The variables of the folders a run writes for people (exports, archive) left to their
    # defaults in the data dir while SHOUYANG_WAREHOUSE points elsewhere: a run refuses that
    # (`refuse_shared_outputs`), or it would overwrite the default warehouse's briefings and receipts.
    left_to_default: tuple[str, ...] = ()

    PATHS = ("raw_dir", "warehouse", "export_dir", "archive_dir", "reference_dir")

    def now(self) -> datetime:
        """Now, Beijing time, without zone: what due dates are compared with."""
        return self.clock or datetime.now(BEIJING).replace(tzinfo=None, microsecond=0)

    def current_period(self) -> str:
        """The latest month a file may be for (`2023-12`): the later of `now`'s and the machine's.
        A SHOUYANG_NOW ahead of the machine accepts its month's files; one behind it (rebuilding
        a past month's status) does not make the warehouse's later months "from the future"."""
        return max(f"{self.now():%Y-%m}", f"{datetime.now(BEIJING):%Y-%m}")

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

        warehouse = get("SHOUYANG_WAREHOUSE")
        moved = bool(env.get("SHOUYANG_WAREHOUSE")) and not _same_path(warehouse, data_dir / ENV_DEFAULTS["SHOUYANG_WAREHOUSE"])
        return cls(
            raw_dir=get("SHOUYANG_RAW_DIR"),
            warehouse=warehouse,
            export_dir=get("SHOUYANG_EXPORT_DIR"),
            archive_dir=get("SHOUYANG_ARCHIVE_DIR"),
            reference_dir=get("SHOUYANG_REFERENCE_DIR"),
            clock=_clock(env.get("SHOUYANG_NOW")),
            left_to_default=tuple(k for k in ("SHOUYANG_EXPORT_DIR", "SHOUYANG_ARCHIVE_DIR") if moved and not env.get(k)),
        )

    def refuse_shared_outputs(self) -> None:
        """A run pointed at another warehouse must not write the default exports or archive
        (WAREHOUSE.md): a set-up error naming the variables to set."""
        if not self.left_to_default:
            return
        folders = {"SHOUYANG_EXPORT_DIR": self.export_dir, "SHOUYANG_ARCHIVE_DIR": self.archive_dir}
        names = "、".join(self.left_to_default)
        defaults = "、".join(str(folders[k]) for k in self.left_to_default)
        raise SetupError(
            f"环境变量 SHOUYANG_WAREHOUSE 指向另一个数据仓库（{self.warehouse}），但 {names} 没有设置，仍是默认的 "
            f"{defaults}：这样运行会用另一份数据改写默认数据仓库的简报、工作簿和回执。请同时设置 {names}，指向另外的文件夹；"
            "或者不设这些变量，只设置 SHOUYANG_DATA_DIR（其下的 raw、warehouse.duckdb、exports、archive 一起使用）。"
            "本次运行未做任何改动。")


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


def _same_path(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):  # a loop of links, a folder that cannot be looked into
        return a == b


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
