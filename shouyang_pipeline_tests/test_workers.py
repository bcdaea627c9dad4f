"""The worker processes' pool (`workers.Pool`): answers only from marked lines, the exception an
item raised carried back, workers that stop when their run is gone, as many as the cores."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time

import duckdb
import pytest

from shouyang_pipeline import pipeline, workers
from shouyang_pipeline.config import Settings
from shouyang_pipeline.errors import SetupError


def test_only_marked_lines_are_answers():
    stream = io.BytesIO(b"printed by a library at start-up\n" + workers.pack({"period": "2023-01"}))
    assert workers.unpack(stream) == {"period": "2023-01"}
    assert workers.unpack(stream) is None


def test_a_worker_whose_run_is_gone_stops(tmp_path):
    """A run killed outright (its stdin pipes stay open) leaves no worker holding the work file."""
    duckdb.connect(str(tmp_path / "work.duckdb")).close()
    settings = Settings(*(tmp_path / n for n in Settings.PATHS))
    code = "from shouyang_pipeline.workers import serve; serve()"
    # its "run" is a process that is not its parent: as if the parent had died and it was re-parented
    worker = subprocess.Popen([sys.executable, "-P", "-c", code, "shouyang_pipeline.pipeline:export_parts", "1"],
                              stdin=subprocess.PIPE)
    worker.stdin.write(workers.pack({"settings": settings, "work": tmp_path / "work.duckdb", "stage_dir": tmp_path}))
    worker.stdin.flush()
    try:
        assert worker.wait(timeout=60) == 1
    finally:
        worker.kill()
    duckdb.connect(str(tmp_path / "work.duckdb")).close()  # no reader left on it


def test_an_items_error_comes_back_as_itself(tmp_path):
    """A reading worker whose reference lists are gone: the step can tell the set-up error itself
    (its Chinese message), with the worker's traceback beside it."""
    settings = Settings(tmp_path / "raw", tmp_path / "w.duckdb", tmp_path / "exports", tmp_path / "archive",
                        tmp_path / "no-reference")
    job = {"settings": settings, "spool": tmp_path, "files": {("key_projects", "2023-02"): [],
                                                              ("key_projects", "2023-03"): []}}
    with workers.Pool("shouyang_pipeline.pipeline:ingest_parts", 1, name="读取进程") as pool:
        pool.begin(job, list(job["files"]), describe=lambda item: f"{item[1]}的文件未能读取")
        with pytest.raises(workers.PoolFailed) as caught:
            pool.get(("key_projects", "2023-02"))
    failure, = caught.value.failures
    assert failure.item == ("key_projects", "2023-02")
    assert isinstance(failure.error, SetupError) and "找不到参考名录目录" in str(failure.error)
    assert str(caught.value).startswith("2023-02的文件未能读取：")
    assert "SetupError" in str(caught.value)  # the traceback, for the developers


class _Dies:
    """A job's part whose unpickling ends the worker's process (as if killed), with exit code 3."""

    def __reduce__(self):
        import os

        return os._exit, (3,)


def test_a_worker_that_dies_names_the_item_and_its_exit(tmp_path):
    job = {"settings": _Dies(), "work": tmp_path / "work.duckdb", "stage_dir": tmp_path}
    with workers.Pool("shouyang_pipeline.pipeline:export_parts", 1, name="导出进程") as pool:
        pool.begin(job, [("2023-01", "briefing")], describe=lambda item: f"{item[0]}的简报未能写出")
        with pytest.raises(workers.PoolFailed) as caught:
            pool.results()
    assert str(caught.value).startswith("2023-01的简报未能写出：导出进程意外退出（退出码 3）")
    assert caught.value.failures[0].error is None


@pytest.mark.parametrize("case", ["missing", "not a database"])
def test_an_export_worker_that_cannot_open_the_work_file_says_so_in_chinese(tmp_path, case):
    """The work file gone or unreadable when the workers open it: every month's part is answered
    with the set-up error, and the step is failed with its Chinese message (no traceback, no
    DuckDB English as the message)."""
    settings = Settings(*(tmp_path / n for n in Settings.PATHS))
    work = tmp_path / "work.duckdb"
    if case == "not a database":
        work.write_bytes(b"not a database file" * 100)
    with pytest.raises(SetupError) as caught:
        pipeline.write_months_in_workers(settings, work, tmp_path / "stage", ["2023-01", "2023-02"], 2)
    message = str(caught.value)
    assert message.startswith("导出进程无法以只读方式打开本次运行的工作副本") and str(work) in message
    assert "重新运行" in message and "Traceback" not in message
    assert isinstance(caught.value.__cause__, workers.PoolFailed)  # the workers' tracebacks, for the developers


def test_leaving_the_pool_stops_a_busy_worker(tmp_path):
    """A step that fails while workers are busy stops them at once."""
    settings = Settings(*(tmp_path / n for n in Settings.PATHS))
    duckdb.connect(str(tmp_path / "work.duckdb")).close()
    job = {"settings": settings, "work": tmp_path / "work.duckdb", "stage_dir": tmp_path}
    pool = workers.Pool("shouyang_pipeline.pipeline:export_parts", 1, name="导出进程")
    pool.begin(job, [("2023-01", "briefing")], describe=str)
    pids = [p.pid for p in pool._procs]
    pool.close()
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped: no process left behind
    duckdb.connect(str(tmp_path / "work.duckdb")).close()


def test_a_containers_cpu_quota_bounds_the_workers(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    quota = tmp_path / "cpu.max"
    quota.write_text("150000 100000\n")  # 1.5 cores: 2
    assert workers.usable_cores(quota) == min(affinity, 2)
    quota.write_text("50000 100000\n")  # half a core: 1
    assert workers.usable_cores(quota) == 1
    for unbounded in ("max 100000\n", "garbage\n", ""):
        quota.write_text(unbounded)
        assert workers.usable_cores(quota) == affinity
    assert workers.usable_cores(tmp_path / "no-such-file") == affinity


def test_an_answer_this_process_cannot_read_fails_its_item(tmp_path, monkeypatch):
    """An answer that does not unpickle here (the worker's code is not this process's: a class
    only its path has) fails its item instead of leaving `results` waiting for ever."""
    (tmp_path / "far_handler.py").write_text(
        "from contextlib import contextmanager\n"
        "class Far:\n    pass\n"
        "@contextmanager\n"
        "def start(job):\n    yield lambda item: Far()\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the workers' path, not this process's
    with workers.Pool("far_handler:start", 1, name="测试进程") as pool:
        pool.begin({}, ["a", "b"], describe=lambda item: f"{item}未能完成")
        with pytest.raises(workers.PoolFailed) as caught:
            pool.results()
    assert str(caught.value).startswith("a未能完成：测试进程的答复无法读取（ModuleNotFoundError")


def _write_module(folder, name: str, text: str) -> None:
    (folder / f"{name}.py").write_text(text, encoding="utf-8")


def test_workers_get_ready_before_their_job_and_a_failed_warm_up_only_costs_time(tmp_path, monkeypatch):
    """A pool started ahead runs its warm-up before it is given anything; the items are done the
    same whether the warm-up worked or raised (its traceback goes to the worker's stderr)."""
    _write_module(tmp_path, "near_handler",
                  "import os\nfrom contextlib import contextmanager\n"
                  "def warm():\n    open(os.environ['READY_FILE'] + str(os.getpid()), 'w').close()\n"
                  "def broken():\n    raise ImportError('no such writer')\n"
                  "@contextmanager\ndef start(job):\n    yield lambda item: (job, item, os.getpid())\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("READY_FILE", str(tmp_path / "ready."))
    with workers.Pool("near_handler:start", 2, name="测试进程", warm="near_handler:warm") as pool:
        pids = {p.pid for p in pool._procs}
        for _ in range(600):  # nothing handed to them yet
            if {int(f.suffix[1:]) for f in tmp_path.glob("ready.*")} == pids:
                break
            time.sleep(0.1)
        assert {int(f.suffix[1:]) for f in tmp_path.glob("ready.*")} == pids
        answers = pool.begin("job", ["a", "b", "c"], describe=str).results()
    assert {item: answer[:2] for item, answer in answers.items()} == {i: ("job", i) for i in "abc"}
    assert {answer[2] for answer in answers.values()} <= pids
    with workers.Pool("near_handler:start", 1, name="测试进程", warm="near_handler:broken") as pool:
        assert pool.begin("job", ["a"], describe=str).results()["a"][:2] == ("job", "a")
    assert b"no such writer" in pool._stderr[0]


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no process priorities here")
def test_workers_run_at_a_lower_priority_than_the_run_and_every_thread_they_start_too(tmp_path, monkeypatch):
    """A worker lowers its own priority (`workers.NICENESS`) before its libraries start their
    threads (Linux keeps a priority a thread), so that the run's own process gets a core first."""
    _write_module(tmp_path, "nice_handler",
                  "import os, threading\nfrom contextlib import contextmanager\n"
                  "@contextmanager\ndef start(job):\n"
                  "    def both(item):\n"
                  "        seen = []\n"
                  "        t = threading.Thread(target=lambda: seen.append(os.nice(0)))\n"
                  "        t.start(); t.join()\n"
                  "        return os.nice(0), seen[0]\n"
                  "    yield both\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    mine = os.nice(0)
    with workers.Pool("nice_handler:start", 1, name="测试进程") as pool:
        answer = pool.begin("job", ["a"], describe=str).results()["a"]
    assert workers.NICENESS > 0
    assert answer == (min(mine + workers.NICENESS, 19), min(mine + workers.NICENESS, 19))
    assert os.nice(0) == mine  # the run's own priority is left as it was


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no process priorities here")
def test_a_worker_refused_a_lower_priority_works_at_the_runs(tmp_path, monkeypatch):
    """A sandbox that refuses `setpriority` (a seccomp policy) costs the run only the priority."""
    _write_module(tmp_path, "sitecustomize", "import os\n"
                  "def _refused(increment):\n    raise PermissionError(1, 'Operation not permitted')\n"
                  "os.nice = _refused\n")
    _write_module(tmp_path, "plain_handler", "import os\nfrom contextlib import contextmanager\n"
                  "@contextmanager\ndef start(job):\n    yield lambda item: (item, os.getpriority(os.PRIO_PROCESS, 0))\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with workers.Pool("plain_handler:start", 1, name="测试进程") as pool:
        answer = pool.begin("job", ["a"], describe=str).results()["a"]
    assert answer == ("a", os.getpriority(os.PRIO_PROCESS, 0))


def test_a_pool_never_given_its_job_stops_when_closed(tmp_path):
    pool = workers.Pool("shouyang_pipeline.pipeline:export_parts", 2, name="导出进程",
                        warm="shouyang_pipeline.pipeline:warm_exports")
    pids = [p.pid for p in pool._procs]
    with pytest.raises(RuntimeError, match="尚未得到任务"):
        pool.results()
    pool.close()  # at once, whether or not they are ready
    assert all(p.returncode is not None for p in pool._procs)
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_pool_that_cannot_start_all_its_workers_leaves_none(monkeypatch):
    real = subprocess.Popen
    started = []

    def popen(*args, **kwargs):
        if started:
            raise OSError(11, "Resource temporarily unavailable")
        started.append(real(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(workers.subprocess, "Popen", popen)
    with pytest.raises(OSError):
        workers.Pool("shouyang_pipeline.pipeline:export_parts", 2, name="导出进程")
    assert started and started[0].returncode is not None  # killed and reaped


def test_a_closed_pool_takes_no_job():
    pool = workers.Pool("shouyang_pipeline.pipeline:export_parts", 1, name="导出进程")
    pool.close()
    with pytest.raises(RuntimeError, match="已关闭"):
        pool.begin({}, ["a"], describe=str)


def test_a_pool_says_once_when_every_item_is_answered(tmp_path, monkeypatch):
    """`when_done`: called once all items are answered (from the thread that got the last answer),
    at once when they already are; never for a pool whose item failed, nor after `close`."""
    import threading

    _write_module(tmp_path, "slow_handler",
                  "import time\nfrom contextlib import contextmanager\n"
                  "@contextmanager\ndef start(job):\n"
                  "    def do(item):\n        time.sleep(job)\n"
                  "        if item == 'bad':\n            raise ValueError(item)\n        return item\n"
                  "    yield do\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    calls = []
    done = threading.Event()

    def told():
        calls.append((threading.current_thread() is threading.main_thread(), sorted(pool._results)))
        done.set()

    with workers.Pool("slow_handler:start", 2, name="测试进程") as pool:
        pool.begin(0.3, ["a", "b", "c"], describe=str)
        pool.when_done(told)
        assert done.wait(60)
        assert calls == [(False, ["a", "b", "c"])]  # every answer in, told from a feeding thread
        pool.when_done(told)  # asked again once done: told at once, in the caller's thread
        assert calls[1] == (True, ["a", "b", "c"])
        assert sorted(pool.results()) == ["a", "b", "c"]
    assert len(calls) == 2

    failed = []
    with workers.Pool("slow_handler:start", 1, name="测试进程") as pool:
        pool.begin(0, ["bad", "a"], describe=str)
        pool.when_done(lambda: failed.append("told"))
        with pytest.raises(workers.PoolFailed):
            pool.results()
    assert failed == []

    closed = []
    pool = workers.Pool("slow_handler:start", 1, name="测试进程")
    pool.begin(5, ["a"], describe=str)
    pool.when_done(lambda: closed.append("told"))
    pool.close()  # the item unanswered: the worker is stopped, nobody told
    pool.when_done(lambda: closed.append("told after close"))
    assert closed == []


def test_a_callback_that_raises_is_logged_and_the_others_are_called(tmp_path, monkeypatch, caplog):
    import logging
    import threading

    _write_module(tmp_path, "quick_handler", "from contextlib import contextmanager\n"
                  "@contextmanager\ndef start(job):\n    yield lambda item: item\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    told = threading.Event()

    def broken():
        raise ValueError("a fault of the program's")

    with caplog.at_level(logging.ERROR, logger="shouyang_pipeline.workers"):
        with workers.Pool("quick_handler:start", 1, name="测试进程") as pool:
            pool.when_done(broken)  # (asked before the job: kept until every item is answered)
            pool.when_done(told.set)
            pool.begin("job", ["a"], describe=str)
            assert told.wait(60)
            assert pool.results() == {"a": "a"}
    assert "a fault of the program's" in caplog.text and "后续操作出错" in caplog.text
