"""The declaration vocabulary: one `Dataset` per submission type, one `Field` per column, whose
rules are `catalog.rules` objects.

Everything else is derived from these declarations: the header matcher and value parsers
(`ingest`), the pandera schema (`ingest.validate`), the DuckDB DDL with `COMMENT ON`
(`warehouse.ddl`), the Dagster column schema (`defs`) and the data dictionary (`docs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..rules import Rule

Kind = Literal["text", "money", "integer", "percent", "boolean", "date"]
Cadence = Literal["monthly", "quarterly"]

# DuckDB type of each kind, as stored in staging (money in 万元).
SQL_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "money": "DECIMAL(18,4)",
    "integer": "INTEGER",
    "percent": "DECIMAL(9,4)",
    "boolean": "BOOLEAN",
    "date": "DATE",
}

KIND_NAMES_ZH: dict[str, str] = {
    "text": "文本",
    "money": "金额",
    "integer": "整数",
    "percent": "百分数",
    "boolean": "是/否",
    "date": "日期",
}


@dataclass(frozen=True)
class Field:
    """One column of a submission, as departments head it and as the warehouse stores it."""

    name: str
    header: str
    kind: Kind
    description: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    # When the file has no such column, take the value from the submitter in the file name
    # (`2023-03__平头镇.xlsx`) if it is on this reference list.
    from_submitter: str | None = None
    # Cross-period checks (SUBMISSIONS.md 8): a year-to-date figure, which must not fall from one
    # period to the next (`ytd_decreased`); a plan figure, whose change must be explained (`plan_changed`).
    cumulative: bool = False
    plan_figure: bool = False

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]

    @property
    def unit(self) -> str | None:
        if self.kind == "money":
            return "万元"
        if self.kind == "percent":
            return "%"
        return None

    @property
    def comment(self) -> str:
        """The warehouse COMMENT: Chinese name, unit, meaning."""
        unit = f"（{self.unit}）" if self.unit else ""
        return f"{self.header}{unit}：{self.description}"


REMARKS = Field("remarks", "备注", "text", "填报单位的备注，原样保存")

# The headers of a row-number column, which every template has and nothing stores: recognised
# and passed over without being listed as unknown. Compared after normalisation, English ones
# case-insensitively; a dataset's own column (编号 is an alias of 项目编号) always wins.
SEQUENCE_HEADERS: tuple[str, ...] = ("序号", "序", "No.", "No")


@dataclass(frozen=True)
class Dataset:
    """One kind of department submission: the folder under the raw dir, its columns and key."""

    name: str
    title: str
    department: str
    cadence: Cadence
    description: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    # Checks that span columns and the reference lists, run on every parsed row by name
    # (`ingest.period.ROW_CHECKS`), e.g. "village": the village against villages.csv.
    row_checks: tuple[str, ...] = ()
    # Cross-period checks (SUBMISSIONS.md 8): whether a key of the previous period missing from
    # this one is flagged (`missing_key`); the column naming a row for people (key_name), and the
    # word for what a row is (项目, 企业) in the flag's reason.
    flags_missing_keys: bool = True
    name_field: str | None = None
    item_word: str = ""

    @property
    def all_fields(self) -> tuple[Field, ...]:
        """The declared fields plus the optional 备注 column every dataset accepts."""
        return self.fields + (REMARKS,)

    def field(self, name: str) -> Field:
        for f in self.all_fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def has_money(self) -> bool:
        """Whether any column is an amount (万元): its file's 合计 row is checked against its rows
        (SUBMISSIONS.md 2), and its title may say the unit."""
        return any(f.kind == "money" for f in self.fields)

    @property
    def cumulative_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.cumulative)

    @property
    def plan_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.plan_figure)

    def accepts_period(self, month: int) -> bool:
        return self.cadence == "monthly" or month in (3, 6, 9, 12)
