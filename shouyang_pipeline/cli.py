"""`shouyang`: build the warehouse from the raw dir, regenerate the sample, check a file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table as RichTable

from .config import Settings
from .catalog.datasets import DATASETS
from .errors import SetupError

console = Console()

# Dagster's step logs go to the run in the instance (see `make ui`); the terminal gets the summary.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _instance():
    """The Dagster instance at DAGSTER_HOME (default .dagster_home here), so `make ui` shows these runs."""
    from dagster import DagsterInstance

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster_home").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():  # `make` copies the project's dagster.yaml; called directly, keep it quiet
        config.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return DagsterInstance.get()


@click.group(help="寿阳县重点工作数据管道（shouyang-pipeline）。路径来自环境变量 SHOUYANG_RAW_DIR、"
                  "SHOUYANG_WAREHOUSE、SHOUYANG_EXPORT_DIR、SHOUYANG_ARCHIVE_DIR（默认在 data/ 下）。")
def main() -> None:
    pass


@main.command(help="读取原始数据目录中每个报告期的全部文件，校验、入库、计算指标、写简报并发布数据仓库。"
                   "被拒的文件和行是数据问题，不是故障：照常以0退出并列出。目录、参考名录、权限等设置问题以2退出，"
                   "管道本身出错以1退出。")
@click.option("--period", "periods", multiple=True, metavar="YYYY-MM",
              help="只运行从最早到最晚的这些报告期（可重复）；默认为原始数据目录中的全部报告期。")
@click.option("--allow-empty", is_flag=True,
              help="确认原始数据目录中确实没有任何文件、要把这些报告期的数据全部移出数据仓库（否则拒绝运行）。")
def run(periods: tuple[str, ...], allow_empty: bool) -> None:
    from .pipeline import ALLOW_EMPTY_TAG, check_work_file, parse_period, periods_to_run, preflight, refuse_wipe, run_lock

    settings = Settings.from_env()
    try:
        asked = sorted({parse_period(p) for p in periods})
        with run_lock(settings):
            files = preflight(settings)
            check_work_file(settings)
            todo = asked or periods_to_run(settings, files)
            refuse_wipe(settings, files, todo, allow_empty)
            if not todo:
                console.print(f"[yellow]{settings.raw_dir} 下没有可处理的文件。[/]")
                return
            result, label = _execute(settings, todo, {ALLOW_EMPTY_TAG: "true"} if allow_empty else {})
    except SetupError as exc:
        console.print(f"[red]{exc}[/]")
        sys.exit(2)
    mark = "[green]✓[/]" if result.success else "[red]✗[/]"
    console.print(f"{mark} {label}  run {result.run_id[:8]}")
    summarize(settings)
    if not result.success:
        for message in _failure_messages(result):
            console.print(f"[red]{message}[/]")
        console.print(f"[red]管道运行失败（报告期 {label}），详见 make ui 中 run {result.run_id[:8]} 的日志；"
                      "已发布的数据仓库和简报仍是上一次成功运行的结果。[/]")
        sys.exit(1)


def _execute(settings: Settings, todo: list[str], extra_tags: dict[str, str]):
    from .defs import build_definitions

    instance = _instance()
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    first, last = min(todo), max(todo)
    # One Dagster run for the whole range (a single-run backfill): every asset handles all its months.
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last, **extra_tags}
    label = first if first == last else f"{first} … {last}"
    with console.status(f"运行报告期 {label}"):
        result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=QUIET, tags=tags)
    return result, label


def _failure_messages(result) -> list[str]:
    """What failed, as the step said it (a Dagster Failure's description), without the traceback."""
    messages = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None and error.cls_name in ("DagsterExecutionStepExecutionError",):
                error = error.cause
            text = error.message.strip().removeprefix("dagster._core.definitions.events.Failure: ")
            messages.append(f"{event.step_key}：{text.splitlines()[0] if text else error.cls_name}")
    return messages


def summarize(settings: Settings) -> None:
    import duckdb

    from .pipeline import SKIPPED_KINDS, run_summary

    try:
        summary = run_summary(settings)
    except duckdb.Error as exc:
        console.print(f"[yellow]无法读取已发布的数据仓库 {settings.warehouse}（{str(exc).splitlines()[0]}）："
                      "若有人以读写方式打开了它，请关闭后改用 duckdb -readonly 打开。[/]")
        return
    if summary is None:
        return
    by, bad, skipped = summary.by_status, summary.not_loaded, summary.skipped
    files = {s: by.get(s, (0, 0, 0))[0] for s in ("loaded", "partial", "rejected")}
    loaded = sum(v[1] for v in by.values())
    rejected = sum(v[2] for v in by.values())
    table = RichTable(title="被拒或部分入库的文件", show_lines=False)
    for col in ("文件", "状态", "拒收行", "说明"):
        table.add_column(col, overflow="fold")
    for path, status, n, message in bad:
        table.add_row(path, status, str(n), (message or "")[:120])
    if bad:
        console.print(table)
    if skipped:
        kinds = RichTable(title="未作为数据读取的行（按文件、按类别；见 audit.ingest_log 的 rows_* 列）")
        kinds.add_column("文件", overflow="fold")
        for k in summary.kinds:
            kinds.add_column(SKIPPED_KINDS[k], justify="right")
        for path, *counts in skipped:
            kinds.add_row(path, *(str(n or "") for n in counts))
        console.print(kinds)
    console.print(
        f"文件：入库 {files['loaded']}，部分入库 {files['partial']}，被拒 {files['rejected']}；"
        f"数据行：入库 {loaded}，被拒 {rejected}"
    )
    console.print(f"数据仓库：{settings.warehouse}（只读打开：duckdb -readonly {settings.warehouse}）")
    console.print(f"简报与工作簿：{settings.export_dir}")


@main.command(help="报送前自查一个文件：按报送规范逐行校验，列出每个出错的单元格及原因（不入库、不归档）。"
                   "文件全部通过时以0退出，否则以1退出。")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dataset", type=click.Choice(sorted(DATASETS)),
              help="数据集；默认取文件所在目录名")
@click.option("--period", metavar="YYYY-MM", help="报告期；默认取文件名开头的YYYY-MM")
def check(path: Path, dataset: str | None, period: str | None) -> None:
    from .pipeline import check_file, parse_period

    settings = Settings.from_env()
    try:
        if period:
            period = parse_period(period, in_range=False)  # an out-of-range month is the file's problem
        raw, result = check_file(settings, path, dataset, period)
    except SetupError as exc:
        console.print(f"[red]{exc}[/]")
        sys.exit(2)
    if result is None:
        console.print(f"[red]{path.name}：rejected[/]  {raw.naming_problem}（自查时可用 --dataset 和 --period 指定）")
        sys.exit(1)
    log = result.log.iloc[0]
    colour = {"loaded": "green", "partial": "yellow", "rejected": "red"}[log.status]
    console.print(f"[{colour}]{path.name}：{log.status}[/]  {log.message}")
    for title, frame in (("被拒的行", result.rejected), ("需要留意的单元格（行照常入库；无法识别的可选单元格存为空值）", result.warnings)):
        if frame.empty:
            continue
        table = RichTable(title=title)
        for col in ("行", "单元格", "列", "原值", "规则", "原因"):
            table.add_column(col, overflow="fold")
        shown = frame[["source_row", "source_cell", "source_column", "value", "rule", "reason"]]
        for values in shown.astype(object).where(shown.notna(), "").itertuples(index=False):
            table.add_row(*(str(v) for v in values))
        console.print(table)
    sys.exit(0 if log.status == "loaded" else 1)


@main.command(help="重新生成随附的样例数据（data/raw 与 data/reference/villages.csv）。")
@click.option("--raw-dir", type=click.Path(path_type=Path), default=None)
@click.option("--reference-dir", type=click.Path(path_type=Path), default=None)
@click.option("--scale", type=int, default=1, show_default=True, help="规模倍数（基准测试用）")
def sample(raw_dir: Path | None, reference_dir: Path | None, scale: int) -> None:
    from .sample import write_sample

    settings = Settings.from_env()
    summary = write_sample(raw_dir or settings.raw_dir, reference_dir or settings.reference_dir, scale=scale)
    console.print(f"已写入样例：{summary.get('files', summary)}")


@main.command(help="生成数据字典 docs/DATA_DICTIONARY.md（来自各数据集和表的声明）。")
@click.option("--output", type=click.Path(path_type=Path), default=Path("docs/DATA_DICTIONARY.md"), show_default=True)
def docs(output: Path) -> None:
    from .docs import data_dictionary

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(data_dictionary(), encoding="utf-8")
    console.print(f"已写入 {output}")


if __name__ == "__main__":
    main()
