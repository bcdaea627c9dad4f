"""The real Dagster webserver serves the definitions: assets, groups, checks, schedule and sensor,
and the months of the instance as the partitions.

`dagster-webserver` is started in a subprocess on a free loopback port, with DAGSTER_HOME and
every SHOUYANG_* path inside tmp_path, and asked over GraphQL what the UI would show.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from shouyang_pipeline.catalog.datasets import DATASETS
from shouyang_pipeline.defs import defs
from shouyang_pipeline.defs.partitions import add_months
from shouyang_pipeline.catalog.marts import MARTS
from shouyang_pipeline.catalog.tables import AUDIT, REFERENCE

PROJECT = Path(__file__).resolve().parents[1]
WEBSERVER = Path(sys.executable).with_name("dagster-webserver")
STARTUP_TIMEOUT = 90
STAGING_CHECKS = {"row_accounting", "no_rejected_rows", "totals_match"}
MONTHS = ["2023-02", "2023-03", "2023-12"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, proc: subprocess.Popen, log: Path):
        self.url, self.proc, self.log = url, proc, log

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(f"{self.url}/graphql", data=body,
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:
            payload = json.load(resp)
        assert "errors" not in payload, payload["errors"]
        return payload["data"]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
    # The webserver's code server runs in the session started for it; make sure nothing outlives the test.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture
def server(settings, tmp_path: Path):
    if not WEBSERVER.exists():
        pytest.skip("dagster-webserver is not installed in this environment")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "dagster_instance.yaml", home / "dagster.yaml")  # telemetry off, as `make ui`
    # Months some runs made partitions (the last one added before an older one, as a late file does).
    with dg.DagsterInstance.from_config(str(home)) as instance:
        add_months(instance, ["2023-03", "2023-12"])
        add_months(instance, ["2023-02"])
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "workspace.yaml").write_text(
        "load_from:\n  - python_module:\n      module_name: shouyang_pipeline.defs\n      working_directory: .\n",
        encoding="utf-8")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SHOUYANG_RAW_DIR": str(settings.raw_dir),
        "SHOUYANG_WAREHOUSE": str(settings.warehouse),
        "SHOUYANG_EXPORT_DIR": str(settings.export_dir),
        "SHOUYANG_ARCHIVE_DIR": str(settings.archive_dir),
        "SHOUYANG_REFERENCE_DIR": str(settings.reference_dir),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")])),
    }
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "webserver.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(WEBSERVER), "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"dagster-webserver exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=5) as resp:
                    info = json.load(resp)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
                if time.monotonic() > deadline:
                    pytest.fail(f"dagster-webserver did not serve within {STARTUP_TIMEOUT}s:\n"
                                f"{log.read_text(errors='replace')}")
                time.sleep(0.5)
        assert info["dagster_version"] == info["dagster_graphql_version"]
        yield Server(url, proc, log)
    finally:
        _stop(proc)


REPOSITORIES = """
{ repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } } }
    ... on PythonError { message stack }
} }
"""

REPOSITORY = """
query ($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    __typename
    ... on Repository { jobs { name description } assetGroups { groupName } }
    ... on PythonError { message }
  }
  schedulesOrError(repositorySelector: $selector) {
    __typename
    ... on Schedules { results { name cronSchedule executionTimezone pipelineName defaultStatus } }
    ... on PythonError { message }
  }
  sensorsOrError(repositorySelector: $selector) {
    __typename
    ... on Sensors { results { name minIntervalSeconds defaultStatus targets { pipelineName } } }
    ... on PythonError { message }
  }
}
"""

ASSET_NODES = """
{ assetNodes {
    assetKey { path }
    groupName
    description
    isPartitioned
    partitionDefinition { type name }
    partitionKeys
    jobNames
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name description } }
    }
} }
"""


def _expected_groups() -> dict[str, str]:
    groups = {f"reference/{n}": "reference" for n in REFERENCE}
    groups |= {f"staging/{n}": "staging" for n in DATASETS}
    groups |= {f"audit/{n}": "audit" for n in AUDIT}
    groups |= {f"marts/{n}": "marts" for n in MARTS}
    groups |= {"exports/briefing": "exports", "exports/published_warehouse": "exports"}
    return groups


def test_webserver_serves_assets_checks_schedule_and_sensor(server):
    repos = server.graphql(REPOSITORIES)["repositoriesOrError"]
    assert repos["__typename"] == "RepositoryConnection", repos
    assert len(repos["nodes"]) == 1, repos
    repo = repos["nodes"][0]
    assert repo["location"]["name"] == "shouyang_pipeline.defs"
    # no "join the community" sign-up dialog over the first page (dagster_instance.yaml: nux)
    assert server.graphql("{ shouldShowNux }")["shouldShowNux"] is False
    selector = {"repositoryName": repo["name"], "repositoryLocationName": repo["location"]["name"]}

    # ---- assets: key (schema/table), group, description, partitioned by month but the reference
    # lists, in the monthly job; the partitions are the months of the instance, in calendar order
    nodes = {"/".join(n["assetKey"]["path"]): n for n in server.graphql(ASSET_NODES)["assetNodes"]}
    code_keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    expected_groups = _expected_groups()
    assert code_keys == set(expected_groups)
    assert set(nodes) == code_keys
    graph = defs.resolve_asset_graph()
    for key, group in expected_groups.items():
        node = nodes[key]
        assert node["groupName"] == group, key
        assert node["description"], key
        assert node["description"] == graph.get(dg.AssetKey.from_user_string(key)).description, key
        if group == "reference":
            assert not node["isPartitioned"] and node["partitionKeys"] == [], key
        else:
            assert node["isPartitioned"], key
            assert node["partitionDefinition"] == {"type": "DYNAMIC", "name": "period"}, key
            assert node["partitionKeys"] == MONTHS, key
        assert "monthly_refresh" in node["jobNames"], key

    # ---- asset checks, exactly those of the code
    served_checks = set()
    for key, node in nodes.items():
        checks = node["assetChecksOrError"]
        assert checks["__typename"] == "AssetChecks", (key, checks)
        for c in checks["checks"]:
            assert c["description"], (key, c["name"])
            served_checks.add((key, c["name"]))
    expected_checks = {(f"staging/{n}", c) for n in DATASETS for c in STAGING_CHECKS}
    expected_checks |= {("marts/target_scorecard", "targets_met"), ("marts/submission_status", "submissions_in"),
                        ("audit/cross_period_flags", "flags_explained")}
    code_checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert code_checks == expected_checks
    assert served_checks == expected_checks

    # ---- job, groups, schedule, sensor
    data = server.graphql(REPOSITORY, {"selector": selector})
    repository = data["repositoryOrError"]
    assert repository["__typename"] == "Repository", repository
    jobs = {j["name"]: j for j in repository["jobs"]}
    assert "monthly_refresh" in jobs and jobs["monthly_refresh"]["description"]
    assert {g["groupName"] for g in repository["assetGroups"]} == {"reference", "staging", "audit", "marts", "exports"}

    schedules = data["schedulesOrError"]
    assert schedules["__typename"] == "Schedules", schedules
    assert [s["name"] for s in schedules["results"]] == ["monthly_schedule"]
    schedule = schedules["results"][0]
    code_schedule = defs.resolve_schedule_def("monthly_schedule")
    assert schedule["cronSchedule"] == code_schedule.cron_schedule == "0 8 5 * *"
    assert schedule["executionTimezone"] == "Asia/Shanghai"
    assert schedule["pipelineName"] == "monthly_refresh"
    assert schedule["defaultStatus"] == "STOPPED"  # off until switched on under Automation

    sensors = data["sensorsOrError"]
    assert sensors["__typename"] == "Sensors", sensors
    assert [s["name"] for s in sensors["results"]] == ["raw_files_sensor"]
    sensor = sensors["results"][0]
    assert sensor["minIntervalSeconds"] == 30
    assert sensor["defaultStatus"] == "STOPPED"
    assert [t["pipelineName"] for t in sensor["targets"]] == ["monthly_refresh"]
