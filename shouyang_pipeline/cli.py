"""`shouyang`: build the warehouse from the raw dir, regenerate the sample, check a file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table as RichTable

from .config import Settings
from .datasets import DATASETS

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


def periods_to_run(settings: Settings) -> list[str]:
    """Every period with a file under the raw dir, plus periods whose files have since been removed."""
    from .ingest.discover import discover
    from .warehouse.connection import connect, ensure_work_copy

    periods = {f.period for f in discover(settings.raw_dir) if f.partition}
    ensure_work_copy(settings.work_warehouse, settings.warehouse)  # the run will start from it too
    if settings.work_warehouse.exists():
        with connect(settings.work_warehouse) as conn:
            has_log = conn.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'audit' AND table_name = 'ingest_log'"
            ).fetchone()[0]
            if has_log:
                periods |= {p for (p,) in conn.execute(
                    "SELECT DISTINCT period FROM audit.ingest_log WHERE is_current AND partition_key IS NOT NULL"
                ).fetchall()}
    return sorted(periods)


@click.group(help="寿阳县重点工作数据管道（shouyang-pipeline）。路径来自环境变量 SHOUYANG_RAW_DIR、"
                  "SHOUYANG_WAREHOUSE、SHOUYANG_EXPORT_DIR、SHOUYANG_ARCHIVE_DIR（默认在 data/ 下）。")
def main() -> None:
    pass


@main.command(help="读取原始数据目录中每个报告期的全部文件，校验、入库、计算指标、写简报并发布数据仓库。"
                   "被拒的文件和行是数据问题，不是故障：照常以0退出并列出。")
@click.option("--period", "periods", multiple=True, metavar="YYYY-MM",
              help="只运行从最早到最晚的这些报告期（可重复）；默认为原始数据目录中的全部报告期。")
def run(periods: tuple[str, ...]) -> None:
    from .defs import build_definitions

    settings = Settings.from_env()
    todo = list(periods) or periods_to_run(settings)
    if not todo:
        console.print(f"[yellow]{settings.raw_dir} 下没有可处理的文件。[/]")
        return
    instance = _instance()
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    first, last = min(todo), max(todo)
    # One Dagster run for the whole range (a single-run backfill): every asset handles all its months.
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    label = first if first == last else f"{first} … {last}"
    with console.status(f"运行报告期 {label}"):
        result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=QUIET, tags=tags)
    mark = "[green]✓[/]" if result.success else "[red]✗[/]"
    console.print(f"{mark} {label}  run {result.run_id[:8]}")
    summarize(settings)
    if not result.success:
        console.print(f"[red]管道运行失败（报告期 {label}），详见 make ui 中 run {result.run_id[:8]} 的日志[/]")
        sys.exit(1)


def summarize(settings: Settings) -> None:
    from .warehouse.connection import connect

    if not settings.warehouse.exists():
        return
    with connect(settings.warehouse, read_only=True) as conn:
        rows = conn.execute(
            """SELECT status, count(*), sum(rows_loaded), sum(rows_rejected)
               FROM audit.ingest_log WHERE is_current GROUP BY status ORDER BY status"""
        ).fetchall()
        bad = conn.execute(
            """SELECT file_path, status, rows_rejected, message FROM audit.ingest_log
               WHERE is_current AND status <> 'loaded' ORDER BY file_path"""
        ).fetchall()
    by = {s: (n, loaded or 0, rejected or 0) for s, n, loaded, rejected in rows}
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
    import tempfile

    from .ingest.discover import classify_as
    from .ingest.partition import ingest_partition
    from .reference import Reference

    settings = Settings.from_env()
    if not (settings.reference_dir / "townships.csv").exists():
        console.print(f"[red]找不到参考名录目录 {settings.reference_dir}：请在项目目录中运行，或设置 SHOUYANG_REFERENCE_DIR。[/]")
        sys.exit(2)
    # Judge the file exactly as a run would, as if it lay at <dataset>/<name> under the raw dir.
    name = path.name
    if period:
        suffix = path.suffix
        submitter = name[:len(name) - len(suffix)].partition("__")[2]
        name = f"{period}{'__' + submitter if submitter else ''}{suffix}"
    raw = classify_as(path, f"{dataset or path.parent.name}/{name}")
    if raw.partition is None:
        console.print(f"[red]{path.name}：rejected[/]  {raw.problem}（自查时可用 --dataset 和 --period 指定）")
        sys.exit(1)
    with tempfile.TemporaryDirectory() as scratch:
        scratch_settings = Settings(settings.raw_dir, settings.warehouse, settings.export_dir, Path(scratch),
                                    settings.reference_dir)
        result = ingest_partition(scratch_settings, raw.dataset, raw.period,
                                  Reference.load(settings.reference_dir), files=[raw])
    log = result.log.iloc[0]
    colour = {"loaded": "green", "partial": "yellow", "rejected": "red"}[log.status]
    console.print(f"[{colour}]{path.name}：{log.status}[/]  {log.message}")
    for title, frame in (("被拒的行", result.rejected), ("已存为空值的单元格（行照常入库）", result.warnings)):
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
