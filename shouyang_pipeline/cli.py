"""`shouyang`: build the warehouse from the raw dir, check a file, see who has not reported, regenerate the sample.

Everything it prints is Chinese, help and usage errors included (Click's own English is
replaced here), and fits the terminal: text is wrapped by display width (a Chinese character
takes two columns), between characters of Chinese but never inside a path, a code or an option.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import sys
import uuid
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable
from rich.text import Text

from .collector import exit_now
from .config import BEIJING, Settings, project_dir
from .catalog.datasets import DATASETS
from .catalog.marts import (NOT_YET_DUE, OVERDUE, PARTLY_LOADED, SENT_BACK, SUBMISSION_STATUSES, SUBMITTED,
                            UNLISTED)
from .errors import SetupError, os_reason

if TYPE_CHECKING:
    from .pipeline import Submission


def _make_console() -> Console:
    """In a terminal rich measures it. Elsewhere (a pipe, a log file) there is no screen to fit:
    200 columns unless COLUMNS says otherwise, rather than rich's 80, so lines stay whole."""
    console = Console()
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(width=200)
    return console


console = _make_console()

# Dagster's step logs go to the run in the instance (see `make ui`); the terminal gets the summary.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


# ------------------------------------------------------------------ Chinese text that fits the terminal

# A line may not start with closing punctuation, nor end with opening punctuation.
_NO_LINE_START = set("，。、；：？！）》」』”’…%,.;:?!)]}")
_NO_LINE_END = set("（《「『“‘([{")
# What is never broken: a path to a file, Chinese names in it included (`key_projects/2023-02__发改局.xlsx`,
# up to its extension), or a run of printable ASCII (a word, a code, an option); then white
# space, or any other character.
_STOP = r"\s/，。；：、（）“”‘’《》"
_UNIT = re.compile(rf"[!-~]*(?:/[^{_STOP}]+?)*/[^{_STOP}]*?\.[A-Za-z0-9]{{1,5}}(?![A-Za-z0-9])[!-~]*"
                   r"|[!-~]+|\s+|.", re.S)


def wrap_text(text: str, width: int, initial_indent: str = "", subsequent_indent: str = "") -> list[str]:
    """The lines of `text` at most `width` display columns wide (each of its own lines wrapped
    on its own). Chinese breaks between any two characters, except before closing or after
    opening punctuation; ASCII words (paths, codes, options) break only at spaces, unless one
    is longer than a line."""
    out: list[str] = []
    for source in text.split("\n"):
        units: list[str] = []
        for u in _UNIT.findall(source):
            # a number stays with the character before it (第121行, 空行1)
            if units and not u.isspace() and not units[-1].isspace() and (
                    u[0] in _NO_LINE_START or units[-1][-1] in _NO_LINE_END or u[0].isdigit()):
                units[-1] += u
            else:
                units.append(u)
        indent = subsequent_indent if out else initial_indent
        line: list[str] = []
        used = 0
        for u in units:
            room = max(width - cell_len(indent), 8)
            if u.isspace():
                if line:
                    line.append(u)
                    used += cell_len(u)
                continue
            if line and used + cell_len(u) > room:
                out.append(indent + "".join(line).rstrip())
                indent, line, used = subsequent_indent, [], 0
                room = max(width - cell_len(indent), 8)
            while cell_len(u) > room:  # longer than a whole line: cut it
                cut = 1
                while cell_len(u[:cut + 1]) <= room:
                    cut += 1
                out.append(indent + u[:cut])
                indent, u = subsequent_indent, u[cut:]
                room = max(width - cell_len(indent), 8)
            line.append(u)
            used += cell_len(u)
        out.append((indent + "".join(line)).rstrip())
    return out


def say(text: str, style: str | None = None, *, indent: int = 0) -> None:
    """Print text from the data (never read as markup), wrapped to the terminal's width."""
    pad = " " * indent
    for line in wrap_text(text, console.width, pad, pad):
        console.print(line, style=style, markup=False, highlight=False, soft_wrap=True)


def _fitted(text: str, width: int) -> str:
    return "\n".join(wrap_text(text, width))


# ------------------------------------------------------------------ Click, in Chinese


class _Formatter(click.HelpFormatter):
    """Click's help page with Chinese headings, wrapped by display width."""

    HEADINGS = {"Options": "选项", "Commands": "命令", "Positional arguments": "参数"}

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{self.HEADINGS.get(heading, heading)}：\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        self.write("\n".join(wrap_text(text, self.width, indent, indent)) + "\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        if not rows:
            return
        first_col = min(max(cell_len(first) for first, _ in rows), col_max) + col_spacing
        hang = " " * (first_col + self.current_indent)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if cell_len(first) <= first_col - col_spacing:
                self.write(" " * (first_col - cell_len(first)))
            else:
                self.write("\n" + hang)
            lines = wrap_text(second, max(self.width - first_col - self.current_indent, 10))
            self.write(lines[0] + "\n" + "".join(hang + line + "\n" for line in lines[1:]))


class _Context(click.Context):
    formatter_class = _Formatter


class _Chinese:
    """What every command of `shouyang` shares: Chinese help pages."""

    context_class = _Context

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        if isinstance(self, click.Group):
            kwargs.setdefault("subcommand_metavar", "命令 [参数…]")
        super().__init__(*args, **kwargs)

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = "显示此帮助并退出"
        return option

    def get_short_help_str(self, limit: int = 45) -> str:
        """The first sentence of the help, whole (Click would cut it after 45 characters)."""
        if self.short_help:
            return self.short_help
        return (self.help or "").strip().split("。")[0]


class _Command(_Chinese, click.Command):
    pass


def _param_label(param: click.Parameter | None) -> str:
    if param is None:
        return "参数"
    if isinstance(param, click.Option):
        return "/".join(param.opts)
    return param.metavar or (param.name or "参数").upper()


def _usage_error_text(exc: click.UsageError) -> str:
    """Click's usage errors, said in Chinese (the messages of our own types are Chinese already)."""
    if isinstance(exc, click.NoSuchOption):
        near = f"（是不是 {'、'.join(exc.possibilities)}？）" if exc.possibilities else ""
        return f"没有 {exc.option_name} 这个选项{near}"
    if isinstance(exc, click.exceptions.NoSuchCommand):
        near = f"（是不是 {'、'.join(exc.possibilities)}？）" if exc.possibilities else ""
        return f"没有 {exc.command_name} 这个命令{near}"
    if isinstance(exc, click.BadOptionUsage):
        if "does not take a value" in exc.message:
            return f"选项 {exc.option_name} 后面不用写值"
        return f"选项 {exc.option_name} 后面要写一个值"
    if isinstance(exc, click.MissingParameter):
        return f"缺少{_param_label(exc.param)}"
    if isinstance(exc, click.BadParameter):
        return f"{_param_label(exc.param)}：{exc.message}"
    extra = re.match(r"Got unexpected extra arguments? \((.*)\)$", exc.message)
    if extra:
        return f"多余的参数：{extra.group(1)}（文件名中有空格时请加引号）"
    if exc.message == "Missing command.":
        return "缺少命令"
    return exc.format_message()


class _Group(_Chinese, click.Group):
    command_class = _Command

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        # The command line's own process (args None; a test's runner passes them) ends without
        # the interpreter's teardown once the command is done (`collector.exit_now`).
        end = exit_now if args is None else sys.exit
        with _log_to_terminal():
            self._main(args, prog_name, complete_var, end, **extra)

    def _main(self, args, prog_name, complete_var, end, **extra):
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            click.echo(f"错误：{_usage_error_text(exc)}", err=True)
            if exc.ctx is not None:
                click.echo(exc.ctx.get_usage(), err=True)
                click.echo(f"运行“{exc.ctx.command_path} --help”可查看每个选项的说明。", err=True)
            end(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"错误：{exc.format_message()}", err=True)
            end(exc.exit_code)
        except click.Abort:
            click.echo("已中断。", err=True)
            end(INTERRUPTED)
        except SystemExit as exc:  # a command's own exit code (2: a set-up problem)
            if exc.code is None or isinstance(exc.code, int):
                end(exc.code or 0)
            raise
        except SetupError as exc:  # a set-up problem a command did not say itself
            click.echo(f"错误：{exc}", err=True)
            end(2)
        except Exception as exc:  # noqa: BLE001 - a fault of the program's own: said, its traceback kept
            logging.getLogger("shouyang_pipeline").error(
                f"错误：程序内部出错（{type(exc).__name__}），命令未能完成；这不是您的文件或操作的问题", exc_info=exc)
            end(1)
        end(rv if isinstance(rv, int) else 0)


class _TerminalLog(logging.Handler):
    """The package's warnings in the terminal as their message alone; a fault's traceback (a file
    a reader or a check failed on: that file is sent back, the run goes on) written to a file
    for the people who keep the program, and the message names it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.path: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        import tempfile

        try:
            line = record.getMessage()
            if record.exc_info or record.exc_text:  # (a reading worker's record: its traceback as text)
                if self.path is None:
                    fd, self.path = tempfile.mkstemp(prefix="shouyang-error-", suffix=".txt")
                    os.close(fd)
                with open(self.path, "a", encoding="utf-8") as fh:
                    fh.write(f"{datetime.now(BEIJING):%Y-%m-%d %H:%M:%S} {logging.Formatter().format(record)}\n\n")
                line += f"（详细信息已写入 {self.path}，请交给县里的技术人员）"
            sys.stderr.write(line + "\n")
        except Exception:  # noqa: BLE001 - logging never stops a command
            self.handleError(record)


@contextmanager
def _log_to_terminal():
    """The package's log through `_TerminalLog` while a command runs."""
    package = logging.getLogger("shouyang_pipeline")
    handler = _TerminalLog()
    package.addHandler(handler)
    try:
        yield
    finally:
        package.removeHandler(handler)


class _DatasetType(click.ParamType):
    name = "dataset"

    def convert(self, value, param, ctx):
        if value in DATASETS:
            return value
        self.fail(f"“{value}”不是已知的数据集，可选：" + "、".join(DATASETS), param, ctx)


class _Scale(click.ParamType):
    name = "scale"

    def convert(self, value, param, ctx):
        try:
            n = int(value)
        except (TypeError, ValueError):
            n = 0
        if n < 1:
            self.fail(f"“{value}”不是正整数", param, ctx)
        return n


# The command line's runs keep no compute logs (the steps' stdout and stderr copied into files):
# what the steps print is the terminal's already, and capturing it starts a `tail` and a watcher
# interpreter for every step, which print tracebacks of their own at Ctrl-C. Runs of the UI, the
# schedule and the sensor keep them, as the instance's settings say.
_CLI_INSTANCE = {"compute_logs": {"module": "dagster._core.storage.noop_compute_log_manager",
                                  "class": "NoOpComputeLogManager", "config": {}}}


def _instance():
    """The Dagster instance at DAGSTER_HOME (default the project's .dagster_home, `config.project_dir`),
    so `make ui` shows these runs. A DAGSTER_HOME without settings gets the project's
    (`dagster_instance.yaml`, as `make` copies them), or, without the project's, telemetry off;
    the command line's own runs keep no compute logs (`_CLI_INSTANCE`)."""
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    project = project_dir()
    home = Path(os.environ.setdefault("DAGSTER_HOME", str((project / ".dagster_home").resolve())))
    try:
        home.mkdir(parents=True, exist_ok=True)
        home = home.resolve()
        os.environ["DAGSTER_HOME"] = str(home)  # (a relative one, as Dagster's own commands need it)
        config = home / "dagster.yaml"
        if not config.exists():
            settings = project / "dagster_instance.yaml"
            config.write_text(settings.read_text(encoding="utf-8") if settings.is_file() else "telemetry:\n  enabled: false\n",
                              encoding="utf-8")
        return DagsterInstance.from_ref(InstanceRef.from_dir(str(home), overrides=_CLI_INSTANCE))
    except OSError as exc:
        raise SetupError(f"无法使用Dagster的运行记录目录 {home}（{os_reason(exc)}）：请把环境变量 DAGSTER_HOME "
                         "指向一个可写的文件夹。本次运行未做任何改动。") from exc


_DATASET_LIST = "、".join(f"{name}（{d.title}）" for name, d in DATASETS.items())


@click.group(cls=_Group, context_settings={"max_content_width": 120, "help_option_names": ["-h", "--help"]},
             help="寿阳县重点工作数据管道（shouyang-pipeline）：读取各部门的月度报送表格，校验、入库，"
                  "计算指标并写出月度简报。\n\n"
                  "所用位置来自环境变量：SHOUYANG_DATA_DIR（默认 data，下列各项默认都在其中）、"
                  "SHOUYANG_RAW_DIR（报送文件，默认 data/raw）、SHOUYANG_WAREHOUSE（数据仓库，默认 data/warehouse.duckdb）、"
                  "SHOUYANG_EXPORT_DIR（简报与工作簿，默认 data/exports）、SHOUYANG_ARCHIVE_DIR（每个文件版本的存档，默认 data/archive）、"
                  "SHOUYANG_REFERENCE_DIR（县里的固定名录，默认 data/reference）。\n\n"
                  "运行“shouyang 命令 --help”可查看该命令的说明。")
@click.version_option(package_name="shouyang-pipeline", prog_name="shouyang", message="%(prog)s %(version)s",
                      help="显示版本号并退出")
def main() -> None:
    pass


@main.command(help="读取原始数据目录中每个报告期的全部文件，校验、入库、计算指标、写简报并发布数据仓库。"
                   "被拒的文件和行是数据问题，不是故障：照常以0退出并列出。目录、参考名录、权限等设置问题以2退出，"
                   "管道本身出错以1退出。")
@click.option("--period", "periods", multiple=True, metavar="YYYY-MM",
              help="只运行从最早到最晚的这些报告期（可重复）；默认为原始数据目录中的全部报告期。")
@click.option("--allow-empty", is_flag=True,
              help="确认原始数据目录中确实没有任何文件、要把这些报告期的数据全部移出数据仓库（否则拒绝运行）。")
@click.option("--force", is_flag=True,
              help="全部重做：每个文件重新读取入库、每张指标表按全部报告期重建、每个月的简报、工作簿和回执重新写出，"
                   "即使自上次运行以来文件、参考名录和程序都没有变化（默认只做有变化的部分，没有任何变化时不运行）。")
def run(periods: tuple[str, ...], allow_empty: bool, force: bool) -> None:
    from .pipeline import (
        ALLOW_EMPTY_TAG, FORCE_TAG, check_work_file, nothing_to_run, parse_period, periods_to_run, precheck,
        preflight, published_files, reading_early, refuse_wipe, remember_run, run_inputs, run_lock,
        unchanged_since_last_run,
    )
    from .ingest.discover import hashes_remembered

    try:
        settings = Settings.from_env()
        asked = sorted({parse_period(p, settings.current_period()) for p in periods})
        settings.refuse_shared_outputs()  # before anything is written, a pending publish's exports too
        finish_committed_publish(settings)
        precheck(settings)  # before the lock file is made: a set-up error changes nothing at all
        if (unplaceable := nothing_to_run(settings)) is not None:  # (nor a first run with no file: no folder made)
            say(f"{settings.raw_dir} 下没有可处理的文件" + (f"（报告期 {asked[0]} … {asked[-1]}）" if asked else "") + "。",
                "yellow")
            _print_unplaceable(unplaceable)
            return
        with run_lock(settings), hashes_remembered():
            files = preflight(settings)
            if note := check_work_file(settings):
                console.print(f"[yellow]{escape(note)}[/]")
            # The months with a file, or with data in the warehouse (their files were removed).
            todo = periods_to_run(settings, files)
            if asked:
                todo = [p for p in todo if asked[0] <= p <= asked[-1]]
                if empty := [p for p in asked if p not in todo]:
                    say(f"报告期 {'、'.join(empty)} 没有任何报送文件，数据仓库中也没有该期的数据：不运行，"
                        "Dagster 中也不记录这些月份。", "yellow")
            refuse_wipe(settings, files, todo, allow_empty)
            if not todo:
                if not asked:
                    say(f"{settings.raw_dir} 下没有可处理的文件。", "yellow")
                else:  # (a month a failed run added, whose files were removed since: no partition)
                    _forget_months(asked[0], asked[-1])
                return
            # A run of every period with nothing changed since the last one is not run (`--force` runs it).
            inputs = None if asked else run_inputs(settings, files)
            if not force and unchanged_since_last_run(settings, inputs):
                say(f"自上次运行（报告期 {todo[0]} … {todo[-1]}）以来，报送文件、收文登记、参考名录和程序都没有变化，"
                    "今天的报送情况也已判定过：不必重新运行，已发布的数据仓库和简报就是最新结果"
                    "（如需重新运行，加 --force）。", "green")
                summarize(settings)
                return
            tags = {**({ALLOW_EMPTY_TAG: "true"} if allow_empty else {}), **({FORCE_TAG: "true"} if force else {})}
            before = published_files(settings)
            with reading_early(settings, todo, force=force):  # the files read while Dagster sets the run up
                result, label = _execute(settings, todo, tags, scope=(asked[0], asked[-1]) if asked else None)
            if result.success and not asked:
                remember_run(settings, inputs)
    except SetupError as exc:
        console.print(f"[red]{exc}[/]")
        sys.exit(2)
    mark = "[green]✓[/]" if result.success else "[red]✗[/]"
    console.print(f"{mark} {label}  run {result.run_id[:8]}")
    if result.success:
        _print_changes(settings, before)
    summarize(settings)
    if result.success:
        from .exports.pdf import pdf_unavailable

        if reason := pdf_unavailable():  # the briefings were written without their PDF
            say(f"简报PDF未生成：{reason}。简报的Markdown和HTML版本照常写出。", "yellow")
    for note in dict.fromkeys(_materialization_notes(result, "stale_wal_note")):  # (one a month: said once)
        say(note, "yellow")
    if not result.success and _interrupted(result):
        for message in _failure_messages(result, interruptions=False):  # what failed before the Ctrl-C
            console.print(f"[red]{message}[/]")
        console.print(f"[yellow]已中断（报告期 {label}）：本次运行没有做完，下一次运行时重做；已发布的数据仓库和简报"
                      "是最近一次做完的运行的结果。[/]")
        sys.exit(INTERRUPTED)
    if not result.success:
        for message in _failure_messages(result):
            console.print(f"[red]{message}[/]")
        console.print(f"[red]管道运行失败（报告期 {label}），详见 make ui 中 run {result.run_id[:8]} 的日志；"
                      "已发布的数据仓库和简报仍是上一次成功运行的结果。[/]")
        sys.exit(1)


# The files of a kind a run's summary names one by one; more are counted.
_CHANGES_LISTED = 20


def _print_unplaceable(files) -> None:
    """The files a run with nothing to do found but could not place in any month, each with why
    (a file is never passed over in silence, SUBMISSIONS.md 1), and where files belong, once."""
    from .catalog.tables import NAMING_MARK
    from .ingest.discover import NAMING_HINT

    if not files:
        return
    say(f"以下 {len(files)} 个文件无法归入任何数据集和报告期，未读取：")
    for f in files[:_CHANGES_LISTED]:
        say(f"{f.rel_path}：{(f.naming_problem or '').removesuffix(NAMING_MARK + NAMING_HINT)}", indent=2)
    if len(files) > _CHANGES_LISTED:
        say(f"……另有 {len(files) - _CHANGES_LISTED} 个", indent=2)
    say(f"文件应放在：{NAMING_HINT}", indent=2)


def _version_text(v) -> str:
    return STATUS_TEXT.get(v.status, v.status) + (f"，入库{v.rows_loaded}行" if v.rows_loaded else "") + (
        f"，拒收{v.rows_rejected}行" if v.rows_rejected else "")


def _print_changes(settings: Settings, before) -> None:
    """What this run changed among the submitted files, before the summary of every file: which
    were sent for the first time, sent again, judged otherwise or taken out (a run that reads one
    corrected file says which, not only the warehouse's totals)."""
    from .pipeline import published_files, version_changes

    after = published_files(settings)
    if after is None:
        return
    if before is None:
        say(f"本次是这个数据仓库的第一次运行：读入 {len(after)} 个文件（情况见下）。")
        return
    changes = version_changes(before, after)
    if not changes:
        say("本次运行没有新报送、重新报送或撤下的文件。")
        return
    kinds = [("新报送", [(p, _version_text(v)) for p, v in changes.new]),
             ("重新报送（内容有改动）", [(p, _version_text(v)) for p, v in changes.resent]),
             ("内容未改、重新核对后结果有变（同期其他文件、参考名录或程序有变化）",
              [(p, f"{_version_text(b)} → {_version_text(a)}") for p, b, a in changes.rejudged]),
             ("已不在报送目录、从数据仓库撤下", [(p, "") for p in changes.removed])]
    say("本次运行处理的文件：" + "，".join(f"{kind} {len(items)} 个" for kind, items in kinds if items))
    for kind, items in kinds:
        if not items:
            continue
        say(f"{kind}：", indent=2)
        for path, text in items[:_CHANGES_LISTED]:
            say(f"{path}" + (f"：{text}" if text else ""), indent=4)
        if len(items) > _CHANGES_LISTED:
            say(f"……另有 {len(items) - _CHANGES_LISTED} 个（见 audit.ingest_log）", indent=4)


def finish_committed_publish(settings: Settings) -> None:
    """Before a command reads or writes data: the publish of a run killed after its commit is
    finished (`pipeline.finish_committed_publish`; skipped while a run is under way), said in
    one line; when it cannot be finished now (an analyst holds the published file read-write),
    one line says so and the command goes on."""
    from .pipeline import finish_committed_publish as finish

    done = finish(settings)
    if done.note:
        say(done.note, "yellow")
    elif done.rolled_forward:
        say(f"上次运行在发布途中中断（已提交）：已补完发布，{settings.warehouse} 和简报目录现为该次运行的结果。", "yellow")
        if done.wal_note:
            say(done.wal_note, "yellow")


def _forget_months(first: str, last: str) -> None:
    """The months from `first` to `last` (none with a file or data) are not partitions any more."""
    from .defs.partitions import months_of, remove_months

    instance = _instance()
    try:
        remove_months(instance, [m for m in months_of(instance) if first <= m <= last])
    finally:
        instance.dispose()


def _execute(settings: Settings, todo: list[str], extra_tags: dict[str, str], *,
             scope: tuple[str, str] | None = None):
    """One Dagster run of the months `todo`, every month with a file or data in `scope` (the
    months asked for, first and last; None: every month)."""
    from .defs import build_definitions
    from .run_processes import PROCESS_TAG, process_tag
    from .defs.partitions import add_months, months_of, remove_months
    from .defs.storage import kept_open

    instance = _instance()
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    # A month of the scope with no file and no data is no partition (a failed run added it, and
    # its files were removed since); the months become partitions (kept in calendar order, so
    # the range below is these months).
    remove_months(instance, [m for m in months_of(instance) if m not in todo
                             and (scope is None or scope[0] <= m <= scope[1])])
    add_months(instance, todo)
    first, last = min(todo), max(todo)
    # One Dagster run for the whole range (a single-run backfill): every asset handles all its months.
    run_id = str(uuid.uuid4())
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last,
            PROCESS_TAG: process_tag(run_id), **extra_tags}
    label = first if first == last else f"{first} … {last}"
    with console.status(f"运行报告期 {label}"), kept_open(instance, run_id):
        result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=QUIET, tags=tags,
                                        run_id=run_id)
    return result, label


def _materialization_notes(result, key: str) -> list[str]:
    """The texts a run's materialisations carry under metadata `key` (a note for the operator,
    such as the publish's of a `.wal` set aside), in the order they came."""
    notes = []
    for event in result.all_events:
        if event.is_step_materialization:
            entry = event.step_materialization_data.materialization.metadata.get(key)
            if entry is not None:
                notes.append(str(getattr(entry, "value", entry)))
    return notes


# The exit code of a command stopped by Ctrl-C (SIGINT), as a shell gives it.
INTERRUPTED = 130


# What a step stopped by Ctrl-C fails with: Dagster's own error, or, when the signal came while
# DuckDB ran a query, DuckDB's (which takes the interrupt for its query's).
_INTERRUPTIONS = {"DagsterExecutionInterruptedError", "KeyboardInterrupt", "InterruptException"}
_INTERRUPTED_QUERY = ("Query interrupted", "INTERRUPT Error")


def _interrupt_error(error) -> bool:
    """Whether a step's error (`SerializableErrorInfo`), or any error it came from, is an interruption."""
    seen = 0
    while error is not None and seen < 20:
        if error.cls_name in _INTERRUPTIONS or any(words in (error.message or "") for words in _INTERRUPTED_QUERY):
            return True
        error = error.cause or error.context
        seen += 1
    return False


def _step_errors(result) -> list:
    return [event.step_failure_data.error for event in result.all_events
            if event.is_step_failure and event.step_failure_data and event.step_failure_data.error]


def _interrupted(result) -> bool:
    """Whether the run failed because it was interrupted (Ctrl-C: Dagster stops the step going)."""
    return any(map(_interrupt_error, _step_errors(result)))


def _failure_messages(result, *, interruptions: bool = True) -> list[str]:
    """What failed, as the step said it (a Dagster Failure's description), without the traceback;
    `interruptions`: also the steps stopped by Ctrl-C."""
    messages = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            if not interruptions and _interrupt_error(error):
                continue
            while error.cause is not None and error.cls_name in ("DagsterExecutionStepExecutionError",):
                error = error.cause
            text = _OWN_ERROR.sub("", error.message.strip(), count=1)
            line = text.splitlines()[0] if text else error.cls_name
            for words, chinese in _MACHINE_FAULTS.items():
                if words in line:
                    line = f"{chinese}（{line}）"
                    break
            messages.append(f"{event.step_key}：{line}")
    return messages


# The class an error's message starts with (`module.Class: `), when it is a Dagster `Failure` or
# one of the pipeline's own: its words are the Chinese after it. Any other (a fault of the
# program's, `KeyError: 'x'`) keeps its class, which says what it was.
_OWN_ERROR = re.compile(r"^(?:dagster\._core\.definitions\.events\.Failure|shouyang_pipeline(?:\.\w+)+): ")


# What the machine said, for the operator: the system's words are kept in brackets.
_MACHINE_FAULTS = {
    "No space left on device": "磁盘空间已满，请清理空间后重新运行",
    "Permission denied": "权限不足，请检查文件和目录的权限",
    "Read-only file system": "文件系统只读，无法写入",
    "Input/output error": "读写出错（磁盘或网络共享故障）",
}


def _readonly_hint(settings: Settings) -> str:
    """How to open the published warehouse read-only with what this machine has: `make sql` in
    the project, the DuckDB CLI the venv installs (or one on PATH), else Python."""
    target = shlex.quote(str(settings.warehouse))
    duckdb_cli = Path(sys.executable).parent / "duckdb"
    if duckdb_cli.exists():
        try:
            shown = str(duckdb_cli.relative_to(Path.cwd()))
        except ValueError:
            shown = str(duckdb_cli)
        command = f"{shlex.quote(shown)} -readonly {target}"
    elif shutil.which("duckdb"):
        command = f"duckdb -readonly {target}"
    else:
        return f"Python 中 duckdb.connect({str(settings.warehouse)!r}, read_only=True)"
    makefile = Path("Makefile")
    if makefile.exists() and re.search(r"^sql:", makefile.read_text(encoding="utf-8", errors="replace"), re.M):
        return f"make sql，即 {command}"
    return command


STATUS_TEXT = {"loaded": "全部入库", "partial": "部分入库", "rejected": "被拒"}


def summarize(settings: Settings) -> None:
    """What the run left in the published warehouse: the files to look at (not wholly loaded,
    with cells to look at, a totals row that disagrees or was not checked), the non-data rows,
    the counts, and every place the run used."""
    import duckdb

    from .pipeline import SKIPPED_KINDS, run_summary

    try:
        summary = run_summary(settings)
    except duckdb.Error as exc:
        say(f"无法读取已发布的数据仓库 {settings.warehouse}（{str(exc).splitlines()[0]}）：若有人以读写方式打开了它，"
            f"请关闭后改用只读方式打开（{_readonly_hint(settings)}）。", "yellow")
        return
    if summary is not None:
        _print_summary(summary, SKIPPED_KINDS)
    say(f"数据仓库：{settings.warehouse}（只读打开：{_readonly_hint(settings)}）")
    say(f"简报与工作簿：{settings.export_dir}")
    say(f"存档（读到的每个文件版本）：{settings.archive_dir}")
    say(f"工作目录（运行时写入的工作副本和运行锁）：{settings.work_warehouse.parent}")
    if os.environ.get("DAGSTER_HOME"):
        say(f"运行记录（make ui 中可查看）：{os.environ['DAGSTER_HOME']}")


# A table whose wrapped column (说明, 原因) would get fewer columns than this is printed as a list.
_MIN_TEXT_COLUMN = 30


def _table_or_none(title: str, headers: tuple[str, ...], rows: list[tuple[str, ...]], *,
                   right: tuple[str, ...] = ()) -> bool:
    """Print rows as a table whose last column (free text) is wrapped to what the terminal leaves
    it, the other columns keeping their width; False (nothing printed) when the terminal is too
    narrow for that."""
    widths = [max([cell_len(h)] + [cell_len(line) for row in rows for line in row[i].split("\n")])
              for i, h in enumerate(headers[:-1])]
    rest = console.width - sum(widths) - 3 * len(headers) - 1
    if rest < _MIN_TEXT_COLUMN:
        return False
    text_width = min(rest, max(cell_len(line) for row in rows for line in (row[-1] or " ").split("\n")))
    table = RichTable(title=title, title_justify="left")
    for h in headers:
        table.add_column(h, no_wrap=True, overflow="fold", justify="right" if h in right else "left")
    for row in rows:  # Text: what the data says is never read as markup
        table.add_row(*map(Text, row[:-1]), Text(_fitted(row[-1], max(text_width, cell_len(headers[-1])))))
    console.print(table, soft_wrap=False)
    return True


def _print_summary(summary, kinds_named: dict[str, str]) -> None:
    by = summary.by_status
    files = {s: by.get(s, (0, 0, 0))[0] for s in STATUS_TEXT}
    loaded = sum(v[1] for v in by.values())
    rejected = sum(v[2] for v in by.values())
    if summary.to_look_at:
        title = "需要处理或留意的文件（说明即 audit.ingest_log.message）"
        rows = [(f.file_path, STATUS_TEXT.get(f.status, f.status), str(f.rows_rejected or ""), str(f.warnings or ""),
                 f.message or "") for f in summary.to_look_at]
        if not _table_or_none(title, ("文件", "状态", "拒收行", "留意单元格", "说明"), rows, right=("拒收行", "留意单元格")):
            say(title + "：", "bold")
            for f in summary.to_look_at:
                counts = "".join([f"，拒收{f.rows_rejected}行" if f.rows_rejected else "",
                                  f"，{f.warnings}个单元格需要留意" if f.warnings else ""])
                say(f"{f.file_path}：{STATUS_TEXT.get(f.status, f.status)}{counts}", indent=2)
                say(f.message or "", indent=4)
    if summary.skipped:  # one line per dataset: at a city's size a line per file would be hundreds
        title = "未作为数据读取的行（不是错误，不入库；按数据集汇总，逐个文件见 audit.ingest_log 的 rows_* 列）"
        names = [kinds_named[k] for k in summary.kinds]
        totals: dict[str, list[int]] = {}
        for path, *counts in summary.skipped:
            dataset = path.split("/", 1)[0]
            row = totals.setdefault(DATASETS[dataset].title if dataset in DATASETS else dataset, [0] * (len(counts) + 1))
            row[0] += 1
            for i, n in enumerate(counts, start=1):
                row[i] += n or 0
        wide = (max(cell_len(name) for name in totals) + 6 + sum(cell_len(n) for n in names)
                + 3 * (len(names) + 2) + 1)
        if wide <= console.width:
            kinds = RichTable(title=title, title_justify="left")
            kinds.add_column("数据集", no_wrap=True, overflow="fold")
            for name in ("文件", *names):
                kinds.add_column(name, justify="right", no_wrap=True)
            for name, (count, *counts) in totals.items():
                kinds.add_row(Text(name), str(count), *(str(n or "") for n in counts))
            console.print(kinds, soft_wrap=False)
        else:
            say(title + "：", "bold")
            for name, (count, *counts) in totals.items():
                say(f"{name}（{count}个文件）：" + "，".join(f"{kind}{n}行" for kind, n in zip(names, counts) if n),
                    indent=2)
    say(f"文件：全部入库 {files['loaded']}，部分入库 {files['partial']}，被拒 {files['rejected']}；"
        f"数据行：入库 {loaded}，被拒 {rejected}")
    say(f"需要留意的单元格：{summary.warnings} 个（所在行已入库，见 audit.cell_warnings）；"
        f"合计行与明细不符的文件：{summary.count_totals('mismatch')} 个；"
        f"合计行未能核对的文件：{summary.count_totals('unchecked')} 个")
    periods = summary.unexplained_periods
    say(f"与上期对不上、尚待说明的数字：{summary.flags_unexplained} 处"
        + (f"（报告期 {'、'.join(periods)}）" if periods else "")
        + f"；共 {summary.flags} 处，见 audit.cross_period_flags；各单位报送情况：shouyang status")
    for problem in summary.register_problems:
        say(problem, "yellow")
    if summary.receipts:
        say(f"回执（给报送单位，标出需改正或核实的单元格）：{len(summary.receipts)} 份，在简报目录的 receipts/ 下")
    if summary.scorecard:
        period = summary.scorecard[0][0]
        rows = [(name, status, detail) for _, name, status, detail in summary.scorecard]
        title = f"目标任务对照（{period}，见 marts.target_scorecard 和该期简报）"
        if not _table_or_none(title, ("目标", "状态", "说明"), rows):
            say(title + "：", "bold")
            for name, status, detail in rows:
                say(f"{name}：{status}。{detail}", indent=2)


@main.command(help="报送前自查一个文件：按报送规范逐行校验，列出每个有错或需要留意的单元格（行号、单元格、原值、原因），"
                   "文件不入库、不存档，数据仓库不受影响。\n\n"
                   "文件能全部入库时以0退出；有不能入库的行或整个文件不能入库时以1退出；"
                   "命令用法有误（找不到文件、选项的值无效、无法判断数据集或报告期）时以2退出，文件未检查；"
                   "--receipt 指定的回执无法写出时也以2退出。")
@click.argument("path", metavar="文件", type=click.Path(path_type=Path), help="要检查的报送文件（.xlsx 或 .csv）")
@click.option("--dataset", type=_DatasetType(), metavar="数据集",
              help=f"这是哪一种报表：{_DATASET_LIST}。默认取文件所在文件夹的名称")
@click.option("--period", metavar="YYYY-MM", help="报告期，如 2023-02；默认取文件名开头的 YYYY-MM")
@click.option("--receipt", "receipt_path", metavar="回执.xlsx", type=click.Path(path_type=Path),
              help="同时写出回执（与运行后发回报送单位的回执相同）：第一个工作表“问题清单”，第二个工作表是原表，"
                   "有错的单元格标红、需要留意或核实的标黄，原因写在批注中")
def check(path: Path, dataset: str | None, period: str | None, receipt_path: Path | None) -> None:
    from .catalog.rules import rule_name
    from .pipeline import check_file, parse_period

    try:
        settings = Settings.from_env()
        if receipt_path is not None:
            _check_receipt_path(receipt_path, path)
        if period:
            try:
                period = parse_period(period, in_range=False)
            except SetupError as exc:
                raise SetupError(f"--period {period}：{exc}") from None
        finish_committed_publish(settings)  # the previous period's figures come from the published warehouse
        result = check_file(settings, path, dataset, period)
    except SetupError as exc:
        say(str(exc), "red")
        sys.exit(2)
    colour = {"loaded": "green", "partial": "yellow", "rejected": "red"}[result.status]
    say(f"{path.name}：{result.status_text}", f"bold {colour}")
    say(result.message, indent=2)
    if any(result.skipped.values()):
        from .pipeline import SKIPPED_KINDS

        say("未作为数据读取的行（不是错误，不入库）：" + "，".join(
            f"{SKIPPED_KINDS[kind]}{n}行" for kind, n in result.skipped.items() if n), indent=2)
    tables = (("不能入库的行", "请改正这些单元格后再报送", result.rejected),
              ("需要留意的单元格", "所在行可以入库；无法识别的可选单元格入库时存为空值", result.warnings))
    for title, note, frame in tables:
        if frame is None or frame.empty:
            continue
        shown = frame[["source_row", "source_cell", "source_column", "value", "rule", "reason"]]
        shown = shown.astype(object).where(shown.notna(), "")
        # (a whole row's problem, such as a duplicate key, has no cell)
        issues = [(str(r.source_row), str(r.source_cell) or ("整行" if str(r.source_row) else ""),
                   re.sub(r"\s+", "", str(r.source_column)), str(r.value),
                   rule_name(str(r.rule)), str(r.reason)) for r in shown.itertuples(index=False)]
        rows = [(row, cell, _fitted(column, 16), _fitted(value, 16), _fitted(rule, 16), reason)
                for row, cell, column, value, rule, reason in issues]
        if not _table_or_none(f"{title}（{note}）", ("行", "单元格", "列", "原值", "问题", "原因"), rows, right=("行",)):
            say(f"{title}（{note}）：", "bold")
            for row, cell, column, value, rule, reason in issues:
                where = "，".join(p for p in (f"第{row}行", cell, column) if p)
                say(f"{where}：“{value}”（{rule}）" if value else f"{where}（{rule}）", indent=2)
                say(reason, indent=4)
    receipt = None
    if receipt_path is not None or (result.flags is not None and not result.flags.empty):
        from .pipeline import check_receipt

        receipt = check_receipt(result)
        flagged = [p for p in receipt.problems if p.action == "请核实"]
        title = "与上期对不上的数字（请核实：改正，或在该行备注中说明原因）"
        issues = [(str(p.row or ""), p.cell or "", re.sub(r"\s+", "", p.column or ""), p.value or "",
                   rule_name(p.rule or ""), p.reason) for p in flagged]
        rows = [(row, cell, _fitted(column, 16), _fitted(value, 16), _fitted(rule, 16), reason)
                for row, cell, column, value, rule, reason in issues]
        if rows and not _table_or_none(title, ("行", "单元格", "列", "原值", "问题", "原因"), rows, right=("行",)):
            say(title + "：", "bold")
            for row, cell, column, value, rule, reason in issues:
                where = "，".join(p for p in (f"第{row}行" if row else "", cell, column) if p)
                say(f"{where}：“{value}”（{rule}）" if value else f"{where}（{rule}）", indent=2)
                say(reason, indent=4)
    if receipt_path is not None:
        from .exports.receipts import write_receipt

        try:
            write_receipt(receipt, receipt_path)
        except OSError as exc:
            say(f"无法写出回执 {receipt_path}（{os_reason(exc)}）：请检查该位置是否可写、文件是否正被Excel打开，"
                "或换一个位置。", "red")
            sys.exit(2)
        say(f"回执已写出：{receipt_path}")
    sys.exit(0 if result.status == "loaded" else 1)


def _check_receipt_path(path: Path, checked: Path) -> None:
    """Where `check --receipt` is to write, checked before the file is: SetupError (exit 2) when it
    cannot be written, or when it is the file being checked (the clerk's own file is never overwritten)."""
    if path.exists() and checked.exists() and path.resolve() == checked.resolve():
        raise SetupError(f"--receipt {path}：这是要检查的文件本身，写回执会覆盖它；请另起一个文件名，如 --receipt 回执.xlsx")
    if path.is_dir():
        raise SetupError(f"--receipt {path}：这是一个文件夹，请指定回执的文件名，如 {path / '回执.xlsx'}")
    if path.suffix.lower() != ".xlsx":
        raise SetupError(f"--receipt {path}：回执是Excel工作簿，文件名应以.xlsx结尾，如 --receipt 回执.xlsx")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise SetupError(f"--receipt {path}：文件夹 {folder} 不存在，请先建立该文件夹或换一个位置")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise SetupError(f"--receipt {path}：没有写入 {path if path.exists() else folder} 的权限，请换一个位置")


# ------------------------------------------------------------------ shouyang status: who has not reported


def _period_due(now: datetime) -> str:
    """The period now due: the month before the current month."""
    return f"{now.year - (now.month == 1)}-{(now.month - 2) % 12 + 1:02d}"


_PROBLEMS = (OVERDUE, SENT_BACK, PARTLY_LOADED)


def _section(title: str, rows: list[tuple[str, str, str, str]]) -> None:
    """Rows of (单位, 报表, 截止日期, 说明): a table when the terminal is wide enough, else a list."""
    if not rows:
        return
    console.print()
    if _table_or_none(title, ("报送单位", "报表", "截止日期", "说明"), rows):
        return
    say(title + "：", "bold")
    for who, title_, due, detail in rows:
        say(f"{who}，{title_}（截止 {due}）：{detail}" if due != "—" else f"{who}，{title_}：{detail}", indent=2)


def _days(n: int) -> str:
    return f"{n}天"


def print_submission_status(rows: list[Submission], period: str, now: datetime, published: datetime,
                            now_due: str) -> None:
    mine = [r for r in rows if r.period == period]
    expected = [r for r in mine if r.status != UNLISTED]
    unlisted = [r for r in mine if r.status == UNLISTED]
    label = "（当前应报的报告期）" if period == now_due else ""
    say(f"报送情况：{period}{label}", "bold")
    say(f"是否逾期按现在 {now:%Y-%m-%d %H:%M}（北京时间）判断；收到的文件截至上次运行（{published:%Y-%m-%d %H:%M}），"
        "此后收到的文件在下次运行后才计入。")
    if not expected and not unlisted:
        say(f"报送日历上 {period} 没有需要报送的报表。")
    else:
        counts = {s: sum(r.status == s for r in expected) for s in SUBMISSION_STATUSES if s != UNLISTED}
        late = sum(bool(r.is_late) for r in expected)
        say(f"应报 {len(expected)} 项：" + "，".join(f"{s} {n}" for s, n in counts.items())
            + f"；其中逾期报送 {late} 项；名单外文件 {len(unlisted)} 个。")
    today = now.date()
    _section("逾期未报（截止日期已过，截至上次运行仍未收到文件，请催报）", [
        (r.who, r.dataset_title, r.due, f"已逾期{_days((today - r.due_date).days)}")
        for r in expected if r.status == OVERDUE])
    _section("被退回（文件整个未能入库，请报送单位按回执改正后重新报送）", [
        (r.who, r.dataset_title, r.due, f"{r.file_path}" + ("；首次报送已逾期" if r.is_late else ""))
        for r in expected if r.status == SENT_BACK])
    _section("逾期报送（首次收到时间晚于截止日期当日24时）", [
        (r.who, r.dataset_title, r.due,
         f"{r.first_received_at:%Y-%m-%d %H:%M}收到，晚{_days((r.first_received_at.date() - r.due_date).days)}")
        for r in expected if r.is_late])
    _section("部分入库（有数据行被拒，请报送单位改正后重新报送）", [
        (r.who, r.dataset_title, r.due, f"{r.file_path}：入库{r.rows_loaded}行，被拒{r.rows_rejected}行")
        for r in expected if r.status == PARTLY_LOADED])
    _section("与上期对不上、尚待说明的数字（请报送单位在备注中说明或改正）", [
        (r.who, r.dataset_title, r.due, f"{r.open_flags}处") for r in mine if r.open_flags])
    _section("名单外（报送日历上没有的文件：不算错误，照常处理）", [
        (r.submitter or "（文件名未写报送单位）", r.dataset_title, r.due,
         f"{r.file_path}：" + (f"{r.department}该月不需报送此表" if r.department else "报送单位不在该报表的报送日历上")
         + (f"；入库{r.rows_loaded}行" if r.rows_loaded else "；未入库") + (f"，被拒{r.rows_rejected}行" if r.rows_rejected else ""))
        for r in unlisted])
    _section("未到期（还未收到，截止日期未到）", [
        (r.who, r.dataset_title, r.due,
         "今天截止" if r.due_date == today else f"还有{_days((r.due_date - today).days)}")
        for r in expected if r.status == NOT_YET_DUE])
    if expected and all(r.status == SUBMITTED and not r.is_late and not r.open_flags for r in expected) and not unlisted:
        say("该报告期应报的报表都已按时报送并全部入库。", "green")
    others = []
    for other in sorted({r.period for r in rows} - {period}):
        theirs = [r for r in rows if r.period == other and r.status != UNLISTED]
        counts = {s: sum(r.status == s for r in theirs) for s in _PROBLEMS}
        flags = sum(r.open_flags for r in rows if r.period == other)
        parts = [f"{s}{n}项" for s, n in counts.items() if n] + ([f"待说明的数字{flags}处"] if flags else [])
        if parts:
            others.append(f"{other}：" + "，".join(parts))
    if others:
        console.print()
        say("其他报告期仍有问题（运行 shouyang status --period YYYY-MM 查看详情）：", "bold")
        for line in others:
            say(line, indent=2)


@main.command(help="查看报送情况：按报送日历（参考名录 submitters.csv），列出某个报告期哪些单位逾期未报、逾期报送、"
                   "文件被退回或部分入库，名单外的文件，以及各自的截止日期。只读打开已发布的数据仓库，不影响正在进行的运行"
                   "（上次运行若在发布途中中断、已提交，先补完发布；有运行在进行时不动）；"
                   "收到的文件截至上次运行，是否逾期按现在的时间判断（环境变量 SHOUYANG_NOW 可设定“现在”，如 2023-10-11T09:30）。"
                   "\n\n只是查看：照常以0退出；用法有误、数据仓库还不存在或无法读取时以2退出。")
@click.option("--period", metavar="YYYY-MM",
              help="查看哪个报告期，如 2023-09；默认为当前应报的报告期（本月的上一个月），并列出其他仍有问题的报告期")
def status(period: str | None) -> None:
    from .ingest.discover import FIRST_PERIOD
    from .pipeline import parse_period, read_submission_status

    try:
        settings = Settings.from_env()
        now = settings.now()
        now_due = _period_due(now)
        if period:
            try:
                period = parse_period(period, in_range=False)
            except SetupError as exc:
                raise SetupError(f"--period {period}：{exc}") from None
            if period < FIRST_PERIOD:
                raise SetupError(f"--period {period}：报告期不能早于{FIRST_PERIOD}（报送规范接受的最早报告期）")
        period = period or now_due
        finish_committed_publish(settings)
        rows, published = read_submission_status(settings, period, now, readonly_hint=_readonly_hint(settings))
    except SetupError as exc:
        say(str(exc), "red")
        sys.exit(2)
    print_submission_status(rows, period, now, published, now_due)


@main.command(help="为报送单位生成下一期的填报模板（.xlsx）：按应有的文件名命名，带填报说明、下拉列表和数字校验，"
                   "预填该单位上一期不随月份变化的各列。\n\n"
                   "预填取自已发布的数据仓库（只读打开）中该单位本年最近一期的报送，1月（季度报表的3月）取上年最后一期，"
                   "本年累计等本期数字留空；还没有数据仓库时只写出能确定的行（乡镇的行政村、园区、人才的领域和类别），"
                   "下拉列表取自参考名录。\n\n"
                   "写成时以0退出；数据集、报告期、报送单位或输出位置有误时以2退出，不写任何文件。")
@click.argument("dataset", metavar="数据集", type=_DatasetType(), help=f"哪一种报表：{_DATASET_LIST}")
@click.option("--period", metavar="YYYY-MM",
              help="模板的报告期，如 2023-05；季度报表（talent、village_income）只能是3、6、9、12月")
@click.option("--submitter", metavar="报送单位",
              help="报送单位，写在文件名的 __ 之后，如 发改局、平头镇；据此预填该单位上一期的行。不写时：只有一个单位报送的表（如重点项目表由发改局报送）按报送日历取该单位，几个单位分别报送的表文件名为 YYYY-MM.xlsx")
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="文件",
              help="写到哪个文件（.xlsx）或哪个文件夹；默认为当前目录下的 YYYY-MM__报送单位.xlsx")
def template(dataset: str, period: str, submitter: str | None, output: Path | None) -> None:
    from .exports.forms import write_template
    from .pipeline import parse_period

    if period is None:
        raise click.UsageError("缺少 --period：请写出模板的报告期，如 --period 2023-05")
    try:
        settings = Settings.from_env()
        try:  # the current month as a run judges it: SHOUYANG_NOW when set
            period = parse_period(period, f"{settings.now():%Y-%m}")  # (the calendar's clock: SHOUYANG_NOW)
        except SetupError as exc:
            raise SetupError(f"--period {period}：{exc}") from None
        finish_committed_publish(settings)  # the rows are pre-filled from the published warehouse
        made = write_template(settings, dataset, period, submitter, output)
    except SetupError as exc:
        say(str(exc), "red")
        sys.exit(2)
    say(f"已写入模板：{made.path}", "green")
    if made.rows and made.source_period:
        say(f"预填{made.rows}行，取自 {made.source_period} 的报送：{'、'.join(made.carried)}；本期数字留空，由报送单位填写。")
    elif made.rows:
        say(f"预填{made.rows}行（取自参考名录或报表规定的取值）；数据仓库中没有该单位本年或上年的报送。")
    else:
        say("数据仓库中没有该单位本年或上年的报送，模板只有表头。")
    say(f"下拉列表取自{made.lists_from}。")
    say(f"截止时间：{made.due}")


@main.command(help="重新生成随附的样例数据：原始数据目录下一年（2023年）的模拟报送文件，以及参考名录中的 villages.csv。"
                   "同名文件会被覆盖。")
@click.option("--raw-dir", type=click.Path(path_type=Path), default=None, metavar="目录",
              help="样例报送文件写到哪里；默认为 SHOUYANG_RAW_DIR（data/raw）")
@click.option("--reference-dir", type=click.Path(path_type=Path), default=None, metavar="目录",
              help="villages.csv 写到哪里；默认为 SHOUYANG_REFERENCE_DIR（data/reference）")
@click.option("--scale", type=_Scale(), default=1, metavar="倍数",
              help="规模倍数：1（默认）为随附的样例；10、100 为基准测试（make bench）用的放大版，年份也相应增加")
def sample(raw_dir: Path | None, reference_dir: Path | None, scale: int) -> None:
    from .sample import write_sample

    settings = Settings.from_env()
    raw_dir, reference_dir = raw_dir or settings.raw_dir, reference_dir or settings.reference_dir
    summary = write_sample(raw_dir, reference_dir, scale=scale)
    files = summary["files"]
    rows = sum(f.get("data_rows", 0) for f in files)
    say(f"已写入样例：{len(files)} 个报送文件（{rows} 行数据）到 {raw_dir}，{summary['villages']} 个行政村到 "
        f"{summary['villages_csv']}")


@main.command(help="重新生成数据字典（来自各数据集和各表的声明：列名、单位、规则、说明）。")
@click.option("--output", type=click.Path(path_type=Path), default=Path("docs/DATA_DICTIONARY.md"), metavar="文件",
              help="写到哪个文件；默认 docs/DATA_DICTIONARY.md")
def docs(output: Path) -> None:
    from .docs import data_dictionary

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(data_dictionary(), encoding="utf-8")
    say(f"已写入 {output}")


if __name__ == "__main__":
    main()
