"""Runs whose process is gone: a run killed outright (kill -9, out of memory, the machine
restarted, `make ui` killed) never says it ended, and Dagster would show it as running for good;
with one run at a time (dagster_instance.yaml's queue) every run the UI, the schedule or the sensor
asks for would then wait behind it for good. Each run records its process in a tag when it starts
(`PROCESS_TAG`: the run's id, then the host and its pid namespace, the pid and the process's start
time, so a pid used again by another process is not taken for it; `shouyang run` tags its run when
it creates it). Two things mark a run still shown as running whose process is surely gone as
failed, with a message in Chinese:

- the next run, under the run lock (`mark_interrupted_runs`);
- under `make ui`, Dagster's run monitoring (the daemon, every `poll_interval_seconds` of
  dagster_instance.yaml), asking the instance's run launcher, `ProcessRunLauncher`: Dagster's own
  launcher, which answers that question from the tag (Dagster's has no answer for a run in a
  process of its code server). This module is light, as the UI's processes import it with the
  instance: no definitions, no pipeline.

A run of another host or pid namespace, one without the tag, or one whose tag names another run
(Dagster copies a run's tags into its re-execution) is left as it is."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dagster as dg
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus

PROCESS_TAG = "shouyang/process"

# Why a run was marked failed; `by`: who found it (the run after it, or Dagster's run monitoring).
INTERRUPTED = ("该次运行的进程已不存在（被中断、被系统终止或机器重启），运行未正常结束；由{by}发现并标记为失败。"
               "若它中断前已提交发布，其发布由之后的命令补完（该命令会说明）；否则它没有发布任何东西，"
               "已发布的数据仓库和简报仍是此前最后一次成功运行的结果。")

# NOT_STARTED: a `shouyang run` killed while Dagster was still creating its run (the CLI tags it
# at creation, a run launched from the UI gets its tag only when it starts)
_RUNNING = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
            dg.DagsterRunStatus.CANCELING]


def _start_time(pid: int) -> str:
    """The process's start time (clock ticks after boot, /proc/<pid>/stat), "" when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _machine() -> str:
    """The host name and this process's pid namespace (two containers of one host name do not
    see each other's processes)."""
    try:
        namespace = "".join(c for c in os.readlink("/proc/self/ns/pid") if c.isdigit())
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}/{namespace}"


def process_identity(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{_machine()}:{pid}:{_start_time(pid)}"


def process_tag(run_id: str) -> str:
    """The value of PROCESS_TAG for run `run_id` done by this process."""
    return f"{run_id}@{process_identity()}"


def process_gone(identity: str) -> bool:
    """True only when the process named is surely not running: same host, and no process of that
    pid, or one started at another time."""
    try:
        host, pid_text, started = identity.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != _machine() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process: alive
        pass
    now = _start_time(pid)
    return bool(started and now and now != started)


def run_process_gone(run: dg.DagsterRun) -> bool:
    """Whether the process that did `run` (its own tag, not one copied from another run) is surely gone."""
    owner, _, identity = run.tags.get(PROCESS_TAG, "").partition("@")
    return owner == run.run_id and process_gone(identity)


def mark_interrupted_runs(instance: dg.DagsterInstance, current_run_id: str) -> list[str]:
    """Every other run shown as running whose process is gone, reported failed; their ids."""
    marked = []
    for run in instance.get_runs(dg.RunsFilter(statuses=_RUNNING)):
        if run.run_id == current_run_id or not run_process_gone(run):
            continue
        instance.report_run_failed(run, INTERRUPTED.format(by=f"其后的运行 {current_run_id[:8]} "))
        marked.append(run.run_id)
    return marked


FOUND_BY_MONITORING = INTERRUPTED.format(by="Dagster的运行监控") + "排队的运行随后开始。"


class ProcessRunLauncher(DefaultRunLauncher):
    """Dagster's default launcher (runs in a process of the code server), which also tells run
    monitoring whether a run's process is still there: FAILED when surely gone (`run_process_gone`),
    else RUNNING (a run not tagged yet, of another host, or alive). Named in dagster_instance.yaml."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        if run_process_gone(run):
            return CheckRunHealthResult(WorkerStatus.FAILED, FOUND_BY_MONITORING)
        return CheckRunHealthResult(WorkerStatus.RUNNING)


def record_process(instance: dg.DagsterInstance, run_id: str) -> None:
    instance.add_run_tags(run_id, {PROCESS_TAG: process_tag(run_id)})
