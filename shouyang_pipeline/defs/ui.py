"""`make ui`: Dagster's UI for this project, quiet on start and prompt to stop.

It runs `dagster dev` (the webserver, and the daemon that runs the schedule, the sensor and the
runs launched in the UI) and adds two things:

- `dagster dev` 1.13 warns on every start that it is superseded by `dg dev` (another package,
  `dagster-dg-cli`, not in the pinned set); that one warning is filtered out. And the instance's
  settings lacking one of dagster_instance.yaml's that came later (`make` never overwrites a
  `DAGSTER_HOME`'s own) are said, in Chinese, with what is lost without them.
- A stop that is prompt whatever asked for it. `dagster dev` stops its services on SIGINT, and on
  SIGTERM only when SIGINT was not ignored at its start (`dagster._utils.interrupts` maps SIGTERM
  to SIGINT's handler: a `make ui &` from a script ignores both). And a run in progress keeps its
  code server, and the process, alive until the run ends, long after the terminal came back. Here
  Ctrl-C, SIGTERM or a closed terminal (SIGHUP) interrupt every process `dagster dev` started, as
  Ctrl-C in a terminal would (a run in progress is recorded as failed and publishes nothing, as
  any interrupted run), and whatever is still there after `GRACE_SECONDS`, or at a second
  Ctrl-C, is killed. While it stops, only Dagster's own log lines are passed on: the tracebacks
  its processes print as they are interrupted (its log watchers' KeyboardInterrupt, the stack of
  the interrupted run) are left out, and one Chinese line says so (`StopFilter`); the run's
  failure and its stack stay in the UI's run log.

Run as a script, so that starting it does not load the definitions (`python -P` keeps this
folder off `sys.path`); it imports nothing of the project:

    python -P shouyang_pipeline/defs/ui.py --host 127.0.0.1 --port 3000 --workspace workspace.yaml
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

# The message of the SupersessionWarning `dagster dev` emits on every start (a -W filter matches
# the start of the message).
SUPERSEDED = "ignore:Function `dev_command` is superseded"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_SECONDS = 20


def dagster_dev_command(host: str, port: str, workspace: str) -> list[str]:
    return [sys.executable, "-W", SUPERSEDED, "-m", "dagster", "dev", "-h", host, "-p", str(port), "-w", workspace]


def port_taken(host: str, port: int) -> bool:
    """Whether another program listens there (`dagster dev` would then run without its webserver,
    saying so once among its logs)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, signo: int) -> None:
    try:
        os.killpg(pgid, signo)
    except (ProcessLookupError, PermissionError):
        pass


def stop(proc: subprocess.Popen, grace: float = GRACE_SECONDS, hurry=lambda: False) -> float:
    """Interrupt every process of `proc`'s group, wait for them (at most `grace` seconds, or until
    `hurry()`), kill what is left; the seconds it took."""
    started = time.monotonic()
    _signal_group(proc.pid, signal.SIGINT)
    while time.monotonic() - started < grace and not hurry():
        proc.poll()  # reap `dagster dev` itself: a zombie still counts as a member of the group
        if not _group_alive(proc.pid):
            break
        time.sleep(0.1)
    else:
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
    return time.monotonic() - started


# Settings of dagster_instance.yaml that an instance's dagster.yaml made before them lacks (`make`
# copies the file only where DAGSTER_HOME has none): the keys that work together, and what is
# lost without them.
LATER_SETTINGS = [
    (("run_launcher", "run_monitoring"),
     "被中断的运行（make ui 被强行结束、机器重启）不会被自动标记为失败，其后排队的运行会一直等待"),
]


def missing_settings(dagster_home: str | None) -> list[str]:
    """What the instance's settings (`$DAGSTER_HOME/dagster.yaml`) lack of dagster_instance.yaml's,
    said in Chinese, one line each (none when there is no such file yet: `make` copies it)."""
    if not dagster_home:
        return []
    try:
        text = open(os.path.join(dagster_home, "dagster.yaml"), encoding="utf-8").read()
    except (OSError, UnicodeDecodeError):
        return []
    keys = {line.split(":", 1)[0] for line in text.splitlines() if line[:1].isalpha()}
    said = []
    for together, lost in LATER_SETTINGS:
        if missing := [key for key in together if key not in keys]:
            said.append(f"{os.path.join(dagster_home, 'dagster.yaml')} 缺少 dagster_instance.yaml 中的 "
                        f"{'、'.join(missing)} 设置：{lost}；请把这些段从 dagster_instance.yaml 复制过去（见 docs/ENGINEERS.md）")
    return said


# A line of Dagster's own log: its time (after the colour code of `--log-format colored`), then " - ".
LOG_LINE = re.compile(rb"^(?:\x1b\[[0-9;]*m)?\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}(?:\x1b\[[0-9;]*m)? - ")
LEFT_OUT = ("（停止时各进程打印的错误堆栈共{lines}行已略去；若有运行正在进行，它已被中断并记为失败，未发布任何内容，"
            "详情见 UI 中该次运行的日志）")
RESET = b"\x1b[0m"  # the end of a coloured log message (Dagster's `colored` format colours an ERROR's message)


class StopFilter:
    """What `dagster dev` prints, passed on line by line to `out` (bytes, colours kept): all of it
    until `stopping` is set, then Dagster's log lines alone (`LOG_LINE`), counting the others."""

    def __init__(self, out, stopping: threading.Event):
        self.out, self.stopping, self.left_out = out, stopping, 0
        self.reset_owed = False  # a colour's reset was in a line left out: written before the next line

    def pass_on(self, line: bytes) -> None:
        if self.stopping.is_set() and not LOG_LINE.match(line):
            self.left_out += 1
            self.reset_owed = self.reset_owed or RESET in line
            return
        if self.reset_owed:
            line, self.reset_owed = RESET + line, False
        try:
            self.out.write(line)
            self.out.flush()
        except (OSError, ValueError):  # the terminal gone, a full disk: still drained, or `dagster dev` would block
            pass

    def forward(self, stream) -> None:
        for line in iter(stream.readline, b""):
            self.pass_on(line)

    def summary(self) -> str | None:
        """The Chinese line saying what was left out (None: nothing), after a colour's reset owed."""
        if not self.left_out:
            return None
        return (RESET.decode() if self.reset_owed else "") + LEFT_OUT.format(lines=self.left_out)


def say(text: str) -> None:
    """A line of its own on stderr; nothing when it cannot be written (the terminal gone, a full
    disk): stopping `dagster dev` must not depend on it."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Dagster UI (dagster dev) for shouyang-pipeline")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="3000")
    parser.add_argument("--workspace", default="workspace.yaml")
    args = parser.parse_args(argv)
    if port_taken(args.host, int(args.port)):
        say(f"端口 {args.port} 已被占用（另一个 make ui 或别的程序）：请关掉它，或换一个端口，如 make ui PORT={int(args.port) + 1}")
        return 2

    for line in missing_settings(os.environ.get("DAGSTER_HOME")):
        say(f"注意：{line}")

    asked: list[int] = []

    def on_signal(signo, _frame) -> None:
        asked.append(signo)

    # Installed before the start: a caught signal is reset to its default in the child, so
    # `dagster dev` gets a working SIGINT even when this process was started with it ignored.
    for signo in STOP_SIGNALS:
        signal.signal(signo, on_signal)
    # Its own process group: every process it starts (webserver, daemon, code server, run
    # workers) can be reached at once, and a Ctrl-C in the terminal reaches only this process.
    # Its output through this process (unbuffered, so that lines come as they are printed), to
    # leave out what its processes print as they are interrupted (`StopFilter`).
    proc = subprocess.Popen(dagster_dev_command(args.host, args.port, args.workspace), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    stopping = threading.Event()
    output = StopFilter(sys.stderr.buffer, stopping)
    forwarder = threading.Thread(target=output.forward, args=(proc.stdout,), daemon=True)
    forwarder.start()
    while proc.poll() is None and not asked:
        time.sleep(0.2)
    if not asked:  # `dagster dev` ended by itself (a port in use, say): nothing of it is left behind either
        stop(proc, grace=5)
        forwarder.join(timeout=2)
        return proc.returncode
    stopping.set()
    say(f"正在停止 Dagster（收到 {signal.Signals(asked[0]).name}；再按一次 Ctrl-C 立即结束）……")
    took = stop(proc, hurry=lambda: len(asked) > 1)
    forwarder.join(timeout=2)  # (a process that left the group may hold the pipe: not waited for)
    if note := output.summary():
        say(note)
    say(f"Dagster 已停止（{took:.1f} 秒）。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
