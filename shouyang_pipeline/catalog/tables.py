"""Table declarations: every table and column of the warehouse with its type, title and meaning.

Staging tables are derived from the dataset declarations; reference and audit tables are
declared here; marts declare theirs in `catalog.marts`. A column's COMMENT is built from its
title, unit and description (never parsed back): `warehouse.ddl` turns a table into CREATE
TABLE + COMMENT ON, `defs` into a Dagster column schema, `docs` into the data dictionary,
`exports.workbook` into Chinese headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .datasets import DATASETS, Dataset

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    title: str  # the Chinese name, as a header in a workbook: 总投资
    description: str = ""  # what it means and how it is computed
    unit: str | None = None  # 亿元, 万元, %, 个 …

    @property
    def heading(self) -> str:
        """`总投资（亿元）`: the title with its unit, as people read it in a table's header."""
        return f"{self.title}（{self.unit}）" if self.unit else self.title

    @property
    def comment(self) -> str:
        """The COMMENT ON COLUMN: `总投资（亿元）：项目计划总投资之和`."""
        return f"{self.heading}：{self.description}" if self.description else self.heading


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    title: str  # 重点项目汇总
    description: str
    columns: tuple[Column, ...]

    @property
    def comment(self) -> str:
        """The COMMENT ON TABLE: `重点项目汇总：每个报告期按范围…`."""
        return f"{self.title}：{self.description}" if self.description else self.title

    @property
    def qualified(self) -> str:
        return f'"{self.schema}"."{self.name}"'

    @property
    def key(self) -> str:
        """The Dagster asset key path and the analysts' name: schema/table."""
        return f"{self.schema}/{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def declared_columns(self) -> list[tuple[str, str]]:
        """(name, SQL type) of each column, in order: what DuckDB lists for the table built as declared."""
        return [(c.name, c.sql_type) for c in self.columns]


# The rows below a header that are not data (SUBMISSIONS.md 2), each skipped and counted in
# audit.ingest_log's rows_<kind>: kind -> (its name in a summary, its column's title).
ROW_KINDS: dict[str, tuple[str, str]] = {
    "blank": ("空行", "跳过的空行数"),
    "footer": ("表尾", "跳过的表尾行数（填表人、注等）"),
    "totals": ("合计", "跳过的合计行数"),
    "subtotal": ("小计", "跳过的小计行数"),
    "section": ("分类标题", "跳过的分节标题行数"),
}

PROVENANCE = (
    Column("period", "VARCHAR", "报告期（YYYY-MM），数据为本年1月至该月累计", ""),
    Column("source_file", "VARCHAR", "来源文件，相对于原始数据目录的路径", ""),
    Column("source_row", "INTEGER", "来源行号", "Excel显示的行号，或CSV的记录号（表头为第1行）"),
)


def staging_table(dataset: Dataset) -> Table:
    cols = tuple(Column(f.name, f.sql_type, f.header, f.description, unit=f.unit) for f in dataset.all_fields)
    return Table(
        "staging",
        dataset.name,
        f"{dataset.title}（{dataset.department}报送）",
        f"通过校验的行，统一为规范列名和单位（金额为万元）。{dataset.description}",
        cols + PROVENANCE,
    )


STAGING: dict[str, Table] = {name: staging_table(d) for name, d in DATASETS.items()}

REFERENCE: dict[str, Table] = {
    t.name: t
    for t in (
        Table("reference", "townships", "乡镇名录（14个乡镇）", "", (
            Column("township_code", "VARCHAR", "乡镇统计用区划代码（9位）", ""),
            Column("township_name", "VARCHAR", "乡镇名称", ""),
            Column("township_type", "VARCHAR", "镇或乡", ""),
        )),
        Table("reference", "villages", "行政村名录", "村代码、村名称、所属乡镇（除平头镇四村外为占位名录，待县里提供正式名录）", (
            Column("village_code", "VARCHAR", "村统计用区划代码（12位）", ""),
            Column("village_name", "VARCHAR", "行政村名称", ""),
            Column("township_name", "VARCHAR", "所属乡镇名称", ""),
        )),
        Table("reference", "industry_chains", "八大产业链（均成立联合党委）", "", (
            Column("chain_code", "VARCHAR", "产业链代码", ""),
            Column("chain_name", "VARCHAR", "产业链名称", ""),
            Column("has_joint_party_committee", "BOOLEAN", "是否成立联合党委", ""),
        )),
        Table("reference", "zones", "园区名录及其别名", "", (
            Column("zone_code", "VARCHAR", "园区代码", ""),
            Column("zone_name", "VARCHAR", "园区名称", ""),
            Column("aliases", "VARCHAR", "园区别名，以分号分隔", ""),
        )),
        Table("reference", "mines", "智能化建设煤矿名录及其别名", "", (
            Column("mine_code", "VARCHAR", "煤矿代码", ""),
            Column("mine_name", "VARCHAR", "煤矿名称", ""),
            Column("aliases", "VARCHAR", "煤矿别名，以分号分隔", ""),
            Column("township_name", "VARCHAR", "所在乡镇名称", ""),
        )),
        Table("reference", "submitters", "报送日历：谁在哪些月份报送哪张表、何时到期", "SUBMISSIONS.md 第7节", (
            Column("dataset", "VARCHAR", "数据集", ""),
            Column("submitter", "VARCHAR", "报送单位（文件名中 __ 之后应写的名称）", ""),
            Column("department", "VARCHAR", "报送单位全称", "文件名中写全称也视为该单位"),
            Column("months", "VARCHAR", "需要报送的月份", "1-12、2-12 或 3,6,9,12 这样的列表"),
            Column("due_day", "INTEGER", "截止日", "报告期次月的第几日（北京时间当日24时前）"),
        )),
        Table("reference", "targets", "县里规划和会议确定的目标值", "", (
            Column("target_key", "VARCHAR", "目标代码", ""),
            Column("target_name", "VARCHAR", "目标名称", ""),
            Column("dataset", "VARCHAR", "判断该目标所用的数据集", ""),
            Column("comparator", "VARCHAR", "比较方式", ">= 或 >"),
            Column("target_value", "DOUBLE", "目标值", ""),
            Column("unit", "VARCHAR", "目标值单位", ""),
            Column("scope", "VARCHAR", "目标适用范围", ""),
            Column("source_file", "VARCHAR", "目标出处（简报文件）", ""),
            Column("source_quote", "VARCHAR", "出处原文", ""),
        )),
    )
}

# In audit.rejected_rows.row_key, a key column whose cell broke a rule (a misspelt township: `*/黑水村`).
UNREAD_KEY_PART = "*"

_ROW_ISSUE_COLUMNS = (
    Column("file_path", "VARCHAR", "来源文件，相对于原始数据目录的路径", ""),
    Column("dataset", "VARCHAR", "数据集", ""),
    Column("period", "VARCHAR", "报告期（YYYY-MM）", ""),
    Column("source_row", "INTEGER", "Excel显示的行号，或CSV的记录号（表头为第1行）", ""),
    Column("source_cell", "VARCHAR", "单元格，如I48；整行问题为空", ""),
    Column("column", "VARCHAR", "规范列名；整行问题（如编号重复）为空", ""),
    Column("source_column", "VARCHAR", "文件中的表头原文；整行问题为空", ""),
    Column("value", "VARCHAR", "单元格原值", ""),
    Column("rule", "VARCHAR", "规则代码（中文名称见数据字典）", "required、not_a_number、not_positive、negative、out_of_range、not_in_list、bad_credit_code、duplicate_key、unknown_village、mismatch、garbled_text、mixed_encoding 等"),
    Column("reason", "VARCHAR", "中文原因，填报人据此改正", ""),
    Column("raw_row", "JSON", "原始整行（表头 → 单元格原值）", ""),
    Column("row_key", "VARCHAR", "该行的主键", "写法同 cross_period_flags.key（项目编号、信用代码、乡镇/村……）；主键中出错的那一列写作 *（如 */黑水村）；主键各列都读不出时为空"),
)

AUDIT: dict[str, Table] = {
    t.name: t
    for t in (
        Table("audit", "ingest_log", "每个读到的文件版本一行", "状态、行数统计与说明", (
            Column("file_path", "VARCHAR", "文件路径，相对于原始数据目录", ""),
            Column("dataset", "VARCHAR", "数据集（目录名无法识别时为空）", ""),
            Column("period", "VARCHAR", "报告期（YYYY-MM；文件名无法识别时为空）", ""),
            Column("submitter", "VARCHAR", "报送单位（文件名中 __ 之后的部分）", ""),
            Column("sha256", "VARCHAR", "文件内容的SHA-256，归档副本以此命名", ""),
            Column("status", "VARCHAR", "loaded（全部入库）、partial（部分行被拒）或 rejected（整个文件被拒）", ""),
            Column("rows_read", "INTEGER", "读到的数据行数", ""),
            Column("rows_loaded", "INTEGER", "入库的数据行数", ""),
            Column("rows_rejected", "INTEGER", "被拒的数据行数", ""),
            Column("rows_skipped", "INTEGER", "跳过的非数据行数（空行、表尾、合计、小计、分节行之和）", ""),
            *(Column(f"rows_{kind}", "INTEGER", title, "") for kind, (_, title) in ROW_KINDS.items()),
            Column("ignored_columns", "VARCHAR", "文件中无法识别、已忽略的列", ""),
            Column("totals_check", "VARCHAR", "合计行核对", "ok（已核对的合计都一致）、mismatch（有合计与明细不符）；无合计行，或合计行没有可核对的数字（空白、不是数字、公式未保存计算结果，原因见message）时为空"),
            Column("message", "VARCHAR", "中文说明", ""),
            Column("is_current", "BOOLEAN", "是否为该路径最新读到的版本", ""),
            Column("ingested_at", "TIMESTAMP", "首次读到该版本的时间（北京时间）", ""),
            Column("received_at", "TIMESTAMP", "收到该版本的时间（北京时间）", "收文登记（原始数据目录下的 收文登记.csv）中有该文件时取登记的时间，否则取首次读到该版本时文件的修改时间"),
            Column("received_from", "VARCHAR", "收到时间的来源", "收文登记 或 文件修改时间"),
            Column("expected_submitter", "VARCHAR", "对应的报送日历单位", "reference.submitters 中与文件名的报送单位（或全称，或园区、乡镇的别名）相符的 submitter；不属于任何应报单位（名单外）时为空"),
            Column("partition_key", "VARCHAR", "处理该文件的分区（数据集/报告期）；无法归入分区的文件为空", ""),
        )),
        Table("audit", "cross_period_flags", "与上期对不上的数字", "SUBMISSIONS.md 第8节：累计数比上期减少、计划数调整、上期在报本期未报；只提示、不拒收，备注中已说明的记为已说明", (
            Column("period", "VARCHAR", "报告期（YYYY-MM）", ""),
            Column("dataset", "VARCHAR", "数据集", ""),
            Column("key", "VARCHAR", "对象", "该行的主键（项目编号、信用代码、乡镇/村、工作面编号、园区、领域/类别）"),
            Column("key_name", "VARCHAR", "对象名称", "项目、企业、村或工作面名称；没有时为空"),
            Column("column", "VARCHAR", "列（标准列名）", "missing_key 时为空"),
            Column("value", "DECIMAL(38,4)", "本期数", "金额为万元；missing_key 时为空"),
            Column("previous_period", "VARCHAR", "上期（YYYY-MM）", "同年该数据集的上一个报告期"),
            Column("previous_value", "DECIMAL(38,4)", "上期数", "金额为万元；missing_key 时为空"),
            Column("rule", "VARCHAR", "规则代码", "ytd_decreased、plan_changed 或 missing_key"),
            Column("reason", "VARCHAR", "中文说明", ""),
            Column("explained", "BOOLEAN", "是否已说明", "该行的备注不为空；missing_key 本期没有这一行可写备注，总是未说明，由县里核实"),
            Column("remarks", "VARCHAR", "备注", "填报单位写的说明；missing_key 时为空"),
            Column("file_path", "VARCHAR", "来源文件", "本期该行的文件；missing_key 时为上期的文件"),
            Column("source_row", "INTEGER", "来源行号", "本期该行的行号；missing_key 时为上期的行号"),
        )),
        Table("audit", "rejected_rows", "被拒数据行", "每个出错单元格一行，附原始整行", _ROW_ISSUE_COLUMNS),
        Table("audit", "cell_warnings", "所在行照常入库、但需要填报单位留意的单元格", "可选单元格无法识别或不合规则（已存为空值），或疑似乱码、混用编码（保留读到的值）", _ROW_ISSUE_COLUMNS),
    )
}


# audit.ingest_log.received_from: where a version's received time comes from (SUBMISSIONS.md 7).
RECEIVED_FROM_REGISTER = "收文登记"
RECEIVED_FROM_MTIME = "文件修改时间"

# Columns of audit.ingest_log the warehouse keeps across file versions; ingest fills the others.
LOG_STATE_COLUMNS = ("is_current", "ingested_at")
# (received_at and received_from are filled by ingest; the warehouse keeps a version's first
# modification time when no register line names it: `warehouse.load`.)
FILE_LOG_COLUMNS = [c for c in AUDIT["ingest_log"].column_names if c not in LOG_STATE_COLUMNS]


def file_digests(log) -> list[str | None]:
    """The `sha256` of each row of a file log (a frame of FILE_LOG_COLUMNS), None for a file not
    read (a link, a FIFO): pandas holds such a None as NaN in a column of texts beside digests,
    which DuckDB would take as the text 'nan' (or fail on as a number) and which equals nothing."""
    return [s if isinstance(s, str) else None for s in log["sha256"]]


# Notes of audit.ingest_log.message that its readers (the briefing, the receipts) recognise: how
# the message of a file whose every row failed starts (`ingest.period._all_rejected`), the note on
# sheets with data that were not read (`ingest.layout.unread_sheets_note`), and how the message
# of a file rejected for its name or place goes on to the naming rule (`ingest.discover`).
NAMING_MARK = "。文件应放在："
FIRST_PERIOD = "2020-01"  # the earliest reporting month accepted (SUBMISSIONS.md 1)
ALL_ROWS_REJECTED_NOTE = re.compile(r"^全部\d+行数据均未通过校验")
UNREAD_SHEETS_NOTE = re.compile(r"工作表[^；]*中也有数据，未读取；只读取了“[^”]*”")
ISSUE_COLUMNS = AUDIT["rejected_rows"].column_names


def dataset_period_key(dataset: str, period: str) -> str:
    """`key_projects/2023-02`: the dataset-period that read a file (audit.ingest_log.partition_key)."""
    return f"{dataset}/{period}"


@dataclass
class PeriodFrames:
    """What ingesting one dataset-period hands to the warehouse: plain frames whose columns this
    catalogue declares (`STAGING[dataset]`, `ISSUE_COLUMNS` twice, `FILE_LOG_COLUMNS`)."""

    dataset: str
    period: str
    staging: "pd.DataFrame | Path"  # or a Parquet file of it, handed over by a reading worker
    rejected: "pd.DataFrame"
    warnings: "pd.DataFrame"
    log: "pd.DataFrame"

    @property
    def key(self) -> str:
        return dataset_period_key(self.dataset, self.period)

    def release(self) -> None:
        """Lets go of what the frames hold besides themselves, once loaded: the Parquet file of the
        staging rows a reading worker handed over (`warehouse.load.write_parquet`)."""
        if isinstance(self.staging, Path):
            self.staging.unlink(missing_ok=True)


def all_tables() -> list[Table]:
    return [*REFERENCE.values(), *STAGING.values(), *AUDIT.values()]
