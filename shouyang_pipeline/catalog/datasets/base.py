"""The declaration vocabulary: one `Dataset` per submission type, one `Field` per column.

Everything else is derived from these declarations: the header matcher and value parsers
(`ingest`), the pandera schema (`ingest.validate`), the DuckDB DDL with `COMMENT ON`
(`warehouse.ddl`), the Dagster column schema (`defs`) and the data dictionary (`docs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
class Rule:
    """A constraint on a parsed value.

    `code` is the stable rule code written to the audit tables; `reason` is a Chinese
    template with `{header}` (the column as headed in the file), `{value}` (as written)
    and, for column comparisons, `{other}` (the other column's Chinese name) and
    `{other_value}` (the other cell as written).
    `kind` says how the rule is checked:
      - "gt0", "ge0": numeric bounds;
      - "max_len": text length at most `arg`;
      - "one_of": value (after folding `synonyms`) in `choices`;
      - "lookup": value found in the reference list `arg` (canonicalised by `ingest.reference`);
      - "le_col" / "ge_col": compared with another column `arg` of the same row;
      - "credit_code": a GB 32100-2015 unified social credit code;
      - "digits": exactly `arg` digits.
    """

    kind: str
    code: str
    reason: str
    arg: object = None
    choices: tuple[str, ...] = ()
    synonyms: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        """A short Chinese description for the data dictionary."""
        if self.kind == "gt0":
            return "大于0"
        if self.kind == "ge0":
            return "不小于0"
        if self.kind == "max_len":
            return f"不超过{self.arg}个字符"
        if self.kind == "one_of":
            extra = "；".join(f"{a}视同{b}" for a, b in self.synonyms)
            return "取值：" + "、".join(self.choices) + (f"（{extra}）" if extra else "")
        if self.kind == "lookup":
            return f"须在参考名录 {self.arg} 中"
        if self.kind == "le_col":
            return f"不大于 {self.arg}"
        if self.kind == "ge_col":
            return f"不小于 {self.arg}"
        if self.kind == "credit_code":
            return "18位统一社会信用代码，校验位正确（GB 32100-2015）"
        if self.kind == "digits":
            return f"{self.arg}位数字"
        return self.code


def gt0() -> Rule:
    return Rule("gt0", "not_positive", "{header}必须大于0（当前值：{value}）")


def ge0() -> Rule:
    return Rule("ge0", "negative", "{header}不能为负数（当前值：{value}）")


def max_len(n: int) -> Rule:
    return Rule("max_len", "too_long", "{header}不能超过%d个字符（当前值：{value}）" % n, arg=n)


def one_of(*choices: str, synonyms: dict[str, str] | None = None) -> Rule:
    listed = "、".join(choices)
    return Rule(
        "one_of",
        "not_in_list",
        "{header}只能填写" + listed + "之一（当前值：{value}）",
        choices=tuple(choices),
        synonyms=tuple((synonyms or {}).items()),
    )


def lookup(reference: str, what: str) -> Rule:
    return Rule(
        "lookup",
        "not_in_list",
        "{header}“{value}”不在" + what + "名录中，请核对名称",
        arg=reference,
    )


def le_col(other: str) -> Rule:
    return Rule("le_col", "out_of_range", "{header}不能大于{other}（当前值：{value}，{other}：{other_value}）", arg=other)


def ge_col(other: str) -> Rule:
    return Rule("ge_col", "out_of_range", "{header}不能小于{other}（当前值：{value}，{other}：{other_value}）", arg=other)


def credit_code() -> Rule:
    return Rule(
        "credit_code",
        "bad_credit_code",
        "{header}“{value}”不是有效的18位统一社会信用代码（长度或校验位错误），请核对营业执照",
    )


def digits(n: int) -> Rule:
    return Rule("digits", "bad_code", "{header}应为%d位数字（当前值：{value}）" % n, arg=n)


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
    # (`ingest.partition.ROW_CHECKS`), e.g. "village": the village against villages.csv.
    row_checks: tuple[str, ...] = ()

    @property
    def all_fields(self) -> tuple[Field, ...]:
        """The declared fields plus the optional 备注 column every dataset accepts."""
        return self.fields + (REMARKS,)

    def field(self, name: str) -> Field:
        for f in self.all_fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def accepts_period(self, month: int) -> bool:
        return self.cadence == "monthly" or month in (3, 6, 9, 12)
