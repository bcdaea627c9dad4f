"""Worker processes for a run's pure-Python work, one per core: reading and checking the
departments' files (ingest) and writing the months' exports.

Both are pure Python (the parsers, xlsxwriter, openpyxl, matplotlib), so a process per
core is what uses the cores. A `Pool` starts its workers with `python -P -c`, this very package's
folder first on their path (never another checkout the working directory holds). Each worker
imports the handler named (`module:function`, a context manager taking the job and giving the
function that does one item) and runs its warm-up when one is named (the imports and caches its
first item would otherwise wait for), gets the job once and sets up with the handler, then does
one item at a time: an item on its stdin, one answer on its stdout. A pool can be started before
its job is known (`Pool(...)`, then `begin(job, items)`): the workers get ready meanwhile. Items
and answers are pickled (the same code at both ends), base64 in a line that starts with a
marker, so a line a library prints is never taken for an answer (the worker's own stdout goes to
its stderr anyway). A worker exits at once when the process that started it is gone (killed
outright, its pipes may stay open), and runs at a lower priority than the run (`NICENESS`).
"""

from __future__ import annotations

import base64
import importlib
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Hashable
from contextlib import ExitStack
from pathlib import Path

from .collector import exit_now

# At most this many workers at once: each holds a month's rows and its writers or parsers (a few
# hundred MB at a province's size), so more would cost memory for little time.
MAX_WORKERS = 4

# A worker's answers start with this, so that a line anything else prints is never taken for one.
ANSWER = b"\x1eshouyang-worker "

# How much lower a worker's scheduling priority is than the run's (`os.nice`, Unix): the run's own
# process loads what the reading workers read and then builds the audit and the marts alone, so
# whatever of its work is left when they are done is the run's critical path; with the workers
# niced it gets a core when it needs one, and has less left. The independent shape's whole run
# (BENCHMARKS.md), four pairs: 28.1-28.4 s against 28.7-28.9 s. Other programs on the machine
# (an analyst's query, the UI) also keep their share of it while a run reads and writes.
NICENESS = 10


def usable_cores(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The cores this process may use: its CPU affinity, and a container's CPU quota (cgroup v2
    `cpu.max`, `<quota> <period>` or `max <period>`, rounded up) when it has one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text(encoding="ascii").split()[:2]
        if quota != "max":
            cores = min(cores, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return cores


def pack(obj: object) -> bytes:
    """One line of the protocol: the marker and the pickled object in base64."""
    return ANSWER + base64.b64encode(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)) + b"\n"


def unpack(stream) -> object | None:
    """The next marked line's object (None at the end of the stream); other lines are skipped."""
    for line in stream:
        if line.startswith(ANSWER):
            return pickle.loads(base64.b64decode(line[len(ANSWER):]))
    return None


class Failure:
    """An item that failed: what was being done, its error's traceback and, when it could be
    carried over, the exception itself (None when the worker ended without answering)."""

    def __init__(self, item: Hashable, what: str, message: str, error: BaseException | None):
        self.item, self.what, self.message, self.error = item, what, message, error

    def __str__(self) -> str:
        return f"{self.what}：{self.message}"


def _call(callback: Callable[[], None]) -> None:
    """A `Pool.when_done` callback called; what it raises is logged (a fault of the program's: it
    may be on a feeding thread, where nothing would say it), not raised."""
    try:
        callback()
    except Exception:  # noqa: BLE001
        logging.getLogger(__name__).exception("工作进程全部完成后的后续操作出错（程序错误，不影响本次运行的结果）")


class PoolFailed(RuntimeError):
    """Items failed: the message has one line per failure, in the items' order of `describe`,
    then the workers' stderr; `failures` has them, with the exceptions themselves."""

    def __init__(self, failures: list[Failure], stderr: str):
        self.failures = failures
        super().__init__("\n".join(str(f) for f in failures) + (f"\n{stderr}" if stderr else ""))

    def first_error(self, kind: type[BaseException]) -> BaseException | None:
        """The exception of `kind` the first of the failures carries (a set-up error a worker met,
        for the caller to raise as itself), None when none does."""
        return next((f.error for f in self.failures if isinstance(f.error, kind)), None)


class Pool:
    """`workers` processes running `handler`, started at once (each runs the warm-up `warm`,
    `module:function`, when given), then given a job and items with `begin`.

    `get(item)` waits for one item's answer, `results()` for all of them. Items are handed out in
    their order. A failed item stops the handing out; the items being done are finished, the
    workers stopped, and `PoolFailed` raised with every failure. `describe(item)` says what an
    item is, in Chinese (`2023-05的回执未能写出`), and `name` what the workers are (`导出进程`), for
    the messages. Use it as a context manager: leaving it stops the workers (begun or not)."""

    def __init__(self, handler: str, workers: int, *, name: str, warm: str | None = None):
        root = str(Path(__file__).resolve().parents[1])  # where this very package was imported from
        code = f"import sys; sys.path.insert(0, {root!r}); from shouyang_pipeline.workers import serve; serve()"
        self._name = name
        self._describe: Callable[[Hashable], str] = str
        self._queue: deque = deque()
        self._results: dict = {}
        self._failures: list[Failure] = []
        self._cv = threading.Condition()
        args = [handler, str(os.getpid())] + ([warm] if warm else [])
        self._closed = False
        self._procs: list[subprocess.Popen] = []
        try:
            for _ in range(max(1, workers)):
                self._procs.append(subprocess.Popen([sys.executable, "-P", "-c", code, *args], stdin=subprocess.PIPE,
                                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        except BaseException:  # no process left behind by a pool that could not be made
            for proc in self._procs:
                proc.kill()
                proc.wait()
            raise
        self._stderr = [b"" for _ in self._procs]
        self._feeding = 0
        self._feeds: list[threading.Thread] = []
        self._done_callbacks: list[Callable[[], None]] = []
        self._drains = [threading.Thread(target=self._drain, args=(i,), daemon=True) for i in range(len(self._procs))]
        for t in self._drains:
            t.start()

    @property
    def workers(self) -> int:
        return len(self._procs)

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self._procs]

    def begin(self, job: object, items: list, *, describe: Callable[[Hashable], str]) -> "Pool":
        """Hands `job` to every worker, then `items` one at a time to whichever is free (once)."""
        if self._feeds or self._closed:
            raise RuntimeError(f"{self._name}已在工作或已关闭")
        packed = pack(job)
        self._describe = describe
        self._queue.extend(items)
        self._feeding = len(self._procs)
        self._feeds = [threading.Thread(target=self._feed, args=(proc, packed), daemon=True) for proc in self._procs]
        for t in self._feeds:
            t.start()
        return self

    def when_done(self, callback: Callable[[], None]) -> None:
        """`callback()` once every item is answered without a failure (at once if they are), from
        the thread that got the last answer; never after a failure or `close` (one asked for after
        them is dropped). A callback that raises is logged, and the others are still called."""
        with self._cv:
            if self._failures or self._closed:
                return
            finished = bool(self._feeds) and not self._feeding
            if not finished:
                self._done_callbacks.append(callback)
        if finished:
            _call(callback)

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _drain(self, i: int) -> None:  # a worker's stderr, read as it comes (a full pipe would block it)
        self._stderr[i] = self._procs[i].stderr.read()

    def _feed(self, proc: subprocess.Popen, job: bytes) -> None:
        try:
            self._feed_items(proc, job)
        finally:  # whatever happened, `get`/`results` must not wait for this feeder any more
            try:
                proc.stdin.close()
            except OSError:
                pass
            with self._cv:
                self._feeding -= 1
                self._cv.notify_all()
                done = self._done_callbacks if not (self._feeding or self._failures or self._closed) else []
                if not self._feeding:
                    self._done_callbacks = []
            for callback in done:  # (outside the lock: it may start processes)
                _call(callback)

    def _feed_items(self, proc: subprocess.Popen, job: bytes) -> None:
        try:
            proc.stdin.write(job)
        except (OSError, ValueError):  # it ended, or `close` closed its input first
            pass
        while True:
            with self._cv:
                if self._failures or not self._queue:
                    break
                item = self._queue.popleft()
            reply = bad = None
            try:
                proc.stdin.write(pack(item))
                proc.stdin.flush()
            except (OSError, ValueError):  # it ended (or `close` closed its input)
                pass
            else:
                try:
                    reply = unpack(proc.stdout)
                except Exception as exc:  # noqa: BLE001 - a marked line this process cannot read
                    bad = f"{type(exc).__name__}: {exc}"[:300]
            if reply is None:  # it ended, or answered nonsense: stopped, outside the lock
                if bad is not None and proc.poll() is None:
                    proc.kill()  # alive, but nothing it says can be trusted (not "killed by the system")
                else:
                    bad = None  # it ended by itself: its exit code says more
                try:
                    code = proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    code = proc.wait()
            with self._cv:
                if bad is not None:
                    self._fail(item, f"{self._name}的答复无法读取（{bad}）", None)
                elif reply is None:
                    killed = "，可能是内存不足被系统终止" if code == -9 else ""
                    self._fail(item, f"{self._name}意外退出（退出码 {code}{killed}）", None)
                elif reply[0] == "error":  # its last line (`OSError: [Errno 28] No space left…`) first
                    lines = [line for line in reply[1].splitlines() if line.strip()]
                    self._fail(item, f"{lines[-1] if lines else ''}\n{reply[1]}", reply[2])
                else:
                    self._results[item] = reply[1]
                self._cv.notify_all()

    def _fail(self, item, message: str, error: BaseException | None) -> None:
        self._failures.append(Failure(item, self._describe(item), message, error))

    def get(self, item: Hashable) -> object:
        """The answer for `item`, once it is done (it is then forgotten here)."""
        self._begun()
        with self._cv:
            while item not in self._results and not self._failures and self._feeding:
                self._cv.wait()
            if item in self._results:
                return self._results.pop(item)
        self._raise()
        raise RuntimeError(f"{self._describe(item)}：{self._name}未处理此项")  # not one of the items

    def results(self) -> dict:
        """Every item's answer, once all are done."""
        self._begun()
        with self._cv:
            while self._feeding:
                self._cv.wait()
        self._raise()
        return dict(self._results)

    def _begun(self) -> None:
        if not self._feeds:
            raise RuntimeError(f"{self._name}尚未得到任务（begin）")

    def _raise(self) -> None:
        with self._cv:
            failed = bool(self._failures)
        if not failed:
            return
        for t in self._feeds:  # the items being done are finished first
            t.join()
        self.close()
        stderr = "\n".join(e.decode("utf-8", "replace")[-4000:] for e in self._stderr if e.strip())
        raise PoolFailed(sorted(self._failures, key=lambda f: f.what), stderr)

    def close(self) -> None:
        """Stops the workers: those still busy, or never given a job (their warm-up is of no use
        now), are killed, the others end with their input."""
        with self._cv:
            self._queue.clear()
            self._done_callbacks = []
            self._closed = True
        for i, proc in enumerate(self._procs):
            if not self._feeds or self._feeds[i].is_alive():  # busy with an item nobody will take
                proc.kill()
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for t in self._drains:
            t.join(timeout=5)


def serve() -> None:
    """A worker of `Pool` (argv: the handler `module:function`, the pid of the process that started
    it, and the warm-up `module:function` when there is one): runs the warm-up, then reads the
    job, then items, from stdin; answers each with ("done", value) or ("error", traceback, the
    exception when it can be pickled). A handler that fails to set up (the work file cannot be
    opened) answers every item with that error; a warm-up that fails only says so on stderr (the
    items meet the problem themselves)."""
    handler, parent, warm = sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, not into the answers
    sys.stdout = sys.stderr

    def orphaned() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    if hasattr(os, "nice"):  # (Linux sets it for this thread: before the libraries start theirs)
        try:
            os.nice(NICENESS)
        except OSError:  # (a sandbox that refuses it: the worker runs at the run's priority)
            pass
    threading.Thread(target=orphaned, daemon=True).start()
    module, function = handler.split(":")
    start = getattr(importlib.import_module(module), function)
    if warm:
        try:
            warm_module, warm_function = warm.split(":")
            getattr(importlib.import_module(warm_module), warm_function)()
        except Exception:  # noqa: BLE001 - only time is at stake here
            traceback.print_exc()
    job = unpack(sys.stdin.buffer)
    if job is None:
        exit_now(0)
    with ExitStack() as stack:
        try:
            do = stack.enter_context(start(job))
        except Exception as exc:  # noqa: BLE001 - every item is answered with it: the run can tell what it was
            do, failed = None, ("error", traceback.format_exc(), _carried(exc))
        while (item := unpack(sys.stdin.buffer)) is not None:
            if do is None:
                reply = failed
            else:
                try:
                    reply = ("done", do(item))
                except Exception as exc:  # noqa: BLE001 - the run's step fails with it (Pool)
                    reply = ("error", traceback.format_exc(), _carried(exc))
            answers.write(pack(reply))
            answers.flush()
    # Its input ended: its handler is closed (the ExitStack), every item answered. The run waits
    # for it to end (`Pool.close`): no teardown of its modules and objects meanwhile.
    exit_now(0)


def _carried(exc: BaseException) -> BaseException | None:
    """The exception, when it survives pickling (then the run can tell what it was)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - anything unpicklable stays behind
        return None
    return exc
