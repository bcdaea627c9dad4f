"""`make ui`: the port is a variable, `dagster dev` starts without warnings, and SIGTERM stops it
and everything it started within seconds, even when it was started in the background (SIGINT
ignored, where `dagster dev` alone ignores SIGTERM too) and while a run is in progress."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
LAUNCHER = PROJECT / "shouyang_pipeline" / "defs" / "ui.py"
STARTUP_TIMEOUT = 120
STOP_LIMIT = 30  # seconds; 4 to 8 on a busy 2-core machine, where it used to be never, or a minute


def test_make_ui_takes_the_port_as_a_variable(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "PORT": "8080"}
    default = subprocess.run(["make", "-n", "ui"], cwd=PROJECT, env=env, capture_output=True, text=True, check=True)
    chosen = subprocess.run(["make", "-n", "ui", "PORT=3001"], cwd=PROJECT, env=env, capture_output=True, text=True,
                            check=True)
    assert "--port 3000" in default.stdout  # the environment's PORT (set by other tools) is not used
    assert "--port 3001" in chosen.stdout
    assert "defs/ui.py" in chosen.stdout
    assert not (PROJECT / "dagster.yaml").exists()  # `dagster dev` warns about one beside workspace.yaml


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    """Every living process below `pid` (any session)."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True, check=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        p, pp = map(int, line.split())
        children.setdefault(pp, []).append(p)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _graphql(url: str, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(f"{url}/graphql", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)["data"]


LAUNCH_RUN = """
mutation ($params: ExecutionParams!) {
  launchRun(executionParams: $params) { __typename ... on LaunchRunSuccess { run { runId } } }
}
"""


@pytest.mark.alone  # `make test` runs it after the others: its stop in time is judged on a machine not busy with them
@pytest.mark.skipif(shutil.which("ps") is None or not Path("/proc/self/stat").exists(), reason="needs ps and /proc")
def test_make_ui_starts_quietly_and_stops_promptly_on_sigterm(settings, tmp_path):
    from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, write_csv

    for month in range(2, 13):
        write_csv(settings.raw_dir / "key_projects" / f"2023-{month:02d}.csv", [KP_HEADER, kp_row("XM001")])
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "dagster_instance.yaml", home / "dagster.yaml")  # what `make` does
    import dagster as dg

    from shouyang_pipeline.defs.partitions import add_months

    with dg.DagsterInstance.from_config(str(home)) as instance:
        add_months(instance, [f"2023-{m:02d}" for m in range(2, 13)])
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SHOUYANG_RAW_DIR": str(settings.raw_dir),
        "SHOUYANG_WAREHOUSE": str(settings.warehouse),
        "SHOUYANG_EXPORT_DIR": str(settings.export_dir),
        "SHOUYANG_ARCHIVE_DIR": str(settings.archive_dir),
        "SHOUYANG_REFERENCE_DIR": str(settings.reference_dir),
    }
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "ui.log"

    def as_a_background_job() -> None:  # `make ui &` from a script: SIGINT ignored
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    with open(log, "wb") as out:
        # As the Makefile runs it, from the project root (where workspace.yaml is).
        proc = subprocess.Popen([sys.executable, "-P", str(LAUNCHER), "--port", str(port)], cwd=PROJECT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=as_a_background_job)
    family: set[int] = set()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")
            try:
                urllib.request.urlopen(f"{url}/server_info", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.5)
        started = log.read_text(errors="replace")
        assert "Serving dagster-webserver" in started or "Launching Dagster services" in started, started
        assert not re.search(r"warning", started, re.I), started  # neither the supersession nor the dagster.yaml one

        # A run in progress: `dagster dev` would keep its code server, and the run, going to its end.
        repo = _graphql(url, "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }")
        repo = repo["repositoriesOrError"]["nodes"][0]
        launched = _graphql(url, LAUNCH_RUN, {"params": {
            "selector": {"repositoryName": repo["name"], "repositoryLocationName": repo["location"]["name"],
                         "jobName": "monthly_refresh"},
            "executionMetadata": {"tags": [{"key": "dagster/asset_partition_range_start", "value": "2023-02"},
                                           {"key": "dagster/asset_partition_range_end", "value": "2023-12"}]}}})
        assert launched["launchRun"]["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["launchRun"]["run"]["runId"]
        deadline = time.monotonic() + 60
        while _graphql(url, "query ($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }",
                       {"id": run_id})["runOrError"]["status"] in ("QUEUED", "STARTING", "NOT_STARTED"):
            assert time.monotonic() < deadline
            time.sleep(0.5)

        family = _descendants(proc.pid)
        assert len(family) >= 4  # dagster dev, webserver, daemon, code server(s), the run
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=STOP_LIMIT + 30)
        took = time.monotonic() - began
        assert took < STOP_LIMIT, (took, log.read_text(errors="replace"))
        assert proc.returncode == 0
        assert _alive(family) == set(), log.read_text(errors="replace")
        stopped = log.read_text(errors="replace")
        assert "Dagster 已停止" in stopped
        assert "Traceback" not in stopped and "Stack Trace" not in stopped, stopped  # left out (StopFilter)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            run = instance.get_run_by_id(run_id)
            assert run.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED, dg.DagsterRunStatus.SUCCESS)
    finally:
        family |= _descendants(proc.pid)
        if proc.poll() is None:
            proc.kill()
        for pid in _alive(family):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _launcher_module():
    """ui.py as `make ui` runs it: a script, loaded without the package's definitions."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("ui_launcher", LAUNCHER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_ui_says_which_later_settings_an_older_instance_lacks(tmp_path):
    """`make` never overwrites a DAGSTER_HOME's own dagster.yaml: one made before run monitoring
    was a setting is told so at the UI's start, in Chinese, with what it loses."""
    ui = _launcher_module()
    current = (PROJECT / "dagster_instance.yaml").read_text(encoding="utf-8")
    older = current.split("\nrun_launcher:")[0].split("\n# A run whose process is gone")[0] + "\n"
    assert "run_monitoring" not in older and "nux:" in older
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "dagster.yaml").write_text(older, encoding="utf-8")
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "dagster.yaml").write_text(current, encoding="utf-8")
    (said,) = ui.missing_settings(str(tmp_path / "old"))
    assert "run_monitoring" in said and "排队的运行会一直等待" in said and str(tmp_path / "old") in said
    assert ui.missing_settings(str(tmp_path / "new")) == []
    (tmp_path / "half").mkdir()  # run monitoring copied, the launcher that answers it not
    (tmp_path / "half" / "dagster.yaml").write_text(current.replace("run_launcher:", "# run_launcher:"), encoding="utf-8")
    (said,) = ui.missing_settings(str(tmp_path / "half"))
    assert "run_launcher 设置" in said and "run_monitoring" not in said
    assert ui.missing_settings(str(tmp_path / "none")) == [] and ui.missing_settings(None) == []


def test_while_stopping_only_dagsters_log_lines_are_passed_on():
    """What `dagster dev` prints goes through as it is until the stop; then the tracebacks its
    interrupted processes print are left out, counted, and said in one Chinese line."""
    import io
    import threading

    ui = _launcher_module()
    out, stopping = io.BytesIO(), threading.Event()
    output = ui.StopFilter(out, stopping)
    log = b"\x1b[32m2026-12-04 13:20:27 +0000\x1b[0m - dagster - \x1b[34mINFO\x1b[0m - Launching Dagster services...\n"
    plain_log = b"2026-12-04 13:21:00 +0000 - dagster - ERROR - monthly_refresh - 889d2166 - RUN_FAILURE - Execution failed.\n"
    traceback = [b"Traceback (most recent call last):\n", b'  File "watch_orphans.py", line 38, in watch\n',
                 b"KeyboardInterrupt\n", b"\n", b"Stack Trace:\n"]
    output.forward(io.BytesIO(log + b"".join(traceback)))  # before the stop: everything, as it was
    assert out.getvalue() == log + b"".join(traceback) and output.summary() is None
    stopping.set()
    out.seek(0), out.truncate()
    output.forward(io.BytesIO(traceback[0] + log + b"".join(traceback[1:]) + plain_log))
    assert out.getvalue() == log + plain_log
    assert output.left_out == 5 and "5行已略去" in output.summary() and "未发布任何内容" in output.summary()


def test_output_that_cannot_be_written_is_still_drained():
    """A terminal gone (or a full disk) does not stop the reading: `dagster dev` would block on a full pipe."""
    import io
    import threading

    class Gone(io.RawIOBase):
        def write(self, data):
            raise OSError(5, "Input/output error")

    ui = _launcher_module()
    lines = io.BytesIO(b"".join(b"2026-12-04 13:21:00 +0000 - dagster - INFO - line %d\n" % i for i in range(10_000)))
    ui.StopFilter(Gone(), threading.Event()).forward(lines)
    assert lines.tell() == len(lines.getvalue())  # read to the end


def test_a_colour_left_open_by_a_line_left_out_is_reset():
    """Dagster colours an ERROR's message and resets the colour at the end of its last line: when
    that line is left out, the reset comes before the next line passed on (or the summary)."""
    import io
    import threading

    ui = _launcher_module()
    out, stopping = io.BytesIO(), threading.Event()
    output = ui.StopFilter(out, stopping)
    stopping.set()
    error = b"\x1b[32m2026-12-04 13:21:00 +0000\x1b[0m - dagster.daemon - \x1b[34mERROR\x1b[0m - \x1b[31mCaught error:\n"
    output.forward(io.BytesIO(error + b"Traceback (most recent call last):\n" + b"OSError: gone\x1b[0m\n"))
    assert out.getvalue() == error and output.summary().startswith("\x1b[0m（")
    after = b"2026-12-04 13:21:01 +0000 - dagster - INFO - Dagster services shut down.\n"
    output.pass_on(after)
    assert out.getvalue() == error + ui.RESET + after and not output.summary().startswith("\x1b[0m")


def test_a_stop_that_cannot_be_said_still_stops_dagster(tmp_path):
    """Its messages unwritable (stderr on a full disk, a terminal gone), `make ui` still stops
    every process it started, and exits 0."""
    alive = tmp_path / "alive"
    script = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("ui_launcher", {str(LAUNCHER)!r})
ui = importlib.util.module_from_spec(spec); spec.loader.exec_module(ui)
child = "import pathlib, time; pathlib.Path({str(alive)!r}).write_text('x'); time.sleep(120)"
ui.dagster_dev_command = lambda *args: [sys.executable, "-c", child]
sys.exit(ui.main(["--port", "{_free_port()}"]))
"""
    with open("/dev/full", "wb") as full:
        proc = subprocess.Popen([sys.executable, "-c", script], stderr=full, stdout=full, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not alive.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        family = _descendants(proc.pid)
        assert family
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert _alive(family) == set()
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in _alive(_descendants(proc.pid)):
            os.kill(pid, signal.SIGKILL)
