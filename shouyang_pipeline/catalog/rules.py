"""Every rule code a row or a cell can get in the audit tables, with its Chinese name, and the
rules a dataset declares on its columns.

The codes are stable (analysts filter on them); the names are what the county office reads in
the briefing. Every code is spelled once, below, as a constant: the code that emits it refers to
the constant, and a test proves each constant and each rule class has a name here.

A declared rule is an object (`Rule`): its code and Chinese reason, the description the data
dictionary prints, the check pandera runs (`ingest.validate`) and the canonical spelling it folds
values to before checking (`ingest.period`). Adding a kind of rule is adding one class.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar, Protocol

from stdnum.cn import uscc

from ..text import norm

if TYPE_CHECKING:
    import pandas as pd

# The codes. A cell that cannot be read as its kind (`ingest.values`):
NOT_A_NUMBER = "not_a_number"
NOT_AN_INTEGER = "not_an_integer"
NOT_A_DATE = "not_a_date"
NOT_A_BOOLEAN = "not_a_boolean"
# A required cell left empty, a formula whose result no one computed, text that looks garbled, a
# CSV row in another encoding (`ingest.parse`):
REQUIRED = "required"
UNCOMPUTED_FORMULA = "uncomputed_formula"
NOTE_READ_AS_DATA = "note_read_as_data"  # a 注：/填表人 line with data rows after it (`layout.row_kinds`)
GARBLED_TEXT = "garbled_text"
MIXED_ENCODING = "mixed_encoding"
# The declared rules (below), and a value beyond its kind's limit (`ingest.values`):
NOT_POSITIVE = "not_positive"
NEGATIVE = "negative"
OUT_OF_RANGE = "out_of_range"
NOT_IN_LIST = "not_in_list"
BAD_CREDIT_CODE = "bad_credit_code"
BAD_CODE = "bad_code"
TOO_LONG = "too_long"
# A key repeated in one period (`ingest.period`), a village against its list (`ingest.villages`):
DUPLICATE_KEY = "duplicate_key"
UNKNOWN_VILLAGE = "unknown_village"
UNKNOWN_CODE = "unknown_code"
MISMATCH = "mismatch"
# A date after the reporting month, a date left out where the row says it is wanted:
FUTURE_DATE = "future_date"
MISSING_DATE = "missing_date"
# Figures that do not fit the previous period (SUBMISSIONS.md 8; audit.cross_period_flags):
YTD_DECREASED = "ytd_decreased"
PLAN_CHANGED = "plan_changed"
MISSING_KEY = "missing_key"

# In the order the data dictionary lists them.
RULE_NAMES: dict[str, str] = {
    REQUIRED: "必填项为空",
    UNCOMPUTED_FORMULA: "公式没有计算结果",
    NOTE_READ_AS_DATA: "说明文字夹在数据行中间",
    NOT_A_NUMBER: "不是有效数字",
    NOT_AN_INTEGER: "不是整数",
    NOT_A_DATE: "不是有效日期",
    NOT_A_BOOLEAN: "不是“是”或“否”",
    NOT_POSITIVE: "金额不大于0",
    NEGATIVE: "金额为负数",
    OUT_OF_RANGE: "数值超出允许范围",
    NOT_IN_LIST: "取值不在规定范围或名录中",
    BAD_CREDIT_CODE: "统一社会信用代码有误",
    BAD_CODE: "代码格式有误",
    TOO_LONG: "内容过长",
    DUPLICATE_KEY: "同一对象重复填报",
    UNKNOWN_VILLAGE: "村名不在行政村名录中",
    UNKNOWN_CODE: "代码不在名录中",
    MISMATCH: "与名录不一致",
    FUTURE_DATE: "日期晚于报告期",
    MISSING_DATE: "缺少日期",
    YTD_DECREASED: "累计数比上期减少",
    PLAN_CHANGED: "计划数与上期不同",
    MISSING_KEY: "上期在报本期未报",
    MIXED_ENCODING: "同一文件混用两种编码",
    GARBLED_TEXT: "疑似乱码",
}


def rule_name(code: str) -> str:
    """The Chinese name of a rule code (the code itself only for a code nobody registered)."""
    return RULE_NAMES.get(code, code)


class ReferenceLists(Protocol):
    """What a rule needs to know besides the values: the county's reference lists
    (`reference.Reference`) and the last day of the reporting month (`ingest.validate.RuleContext`)."""

    period_end: date | None

    def canonical(self, list_name: str, value: str) -> str | None: ...

    def choices(self, list_name: str) -> set[str]: ...

    def names(self, list_name: str) -> list[str]: ...


@dataclass(frozen=True)
class Rule:
    """A constraint on one column's parsed values.

    A subclass sets `code` (a registered code: the class is refused otherwise) and `reason`, a
    Chinese template with `{header}` (the column as headed in the file) and `{value}` (as
    written), and implements `describe` and `check`; it overrides `canonical` when spellings of
    a value fold to one. A rule comparing two columns of a row derives from `ColumnComparison`.
    Checks see parsed values (floats, ints, text); pandera passes NULLs whatever a check says.
    """

    code: ClassVar[str]
    is_comparison: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if code is not None and code not in RULE_NAMES:
            raise TypeError(f"{cls.__name__}: rule code {code!r} has no Chinese name in RULE_NAMES")

    @property
    def name(self) -> str:
        """The Chinese name of the rule's code."""
        return RULE_NAMES[self.code]

    @property
    def reason(self) -> str:
        raise NotImplementedError(type(self).__name__)

    def describe(self) -> str:
        """A short Chinese description for the data dictionary."""
        raise NotImplementedError(type(self).__name__)

    def check(self, series: pd.Series, reference: ReferenceLists) -> pd.Series:
        """True where the value keeps the rule."""
        raise NotImplementedError(f"{type(self).__name__} is not a column check")

    def canonical(self, value: object, reference: ReferenceLists) -> object:
        """The canonical spelling of `value`; an unknown value comes back unchanged."""
        return value

    def reason_fields(self, reference: ReferenceLists) -> dict[str, str]:
        """Values for the placeholders of `reason` beyond {header} and {value} (and a comparison's
        {other} and {other_value}) that come from outside the row: the reporting month, a list."""
        return {}

    @property
    def canonicalises(self) -> bool:
        """Whether `canonical` can change a value (only then are the rows walked for it)."""
        return type(self).canonical is not Rule.canonical


@dataclass(frozen=True)
class ColumnComparison(Rule):
    """A rule comparing the column with column `other` of the same row. Its `reason` may also use
    `{other}` (the other column as headed), `{other_value}` (the other cell as written), and
    `{unit}` and `{other_unit}`: each cell's unit where the two are amounts read in different units
    (`总投资（万元）` beside a title's 单位：亿元), empty otherwise."""

    other: str
    is_comparison: ClassVar[bool] = True
    TOLERANCE: ClassVar[float] = 1e-9

    def frame_check(self, frame: pd.DataFrame, field_name: str) -> pd.Series:
        """True on the rows where column `field_name` keeps the rule (either value NULL passes)."""
        a, b = frame[field_name], frame[self.other]
        return a.isna() | b.isna() | self.compare(a, b)

    def compare(self, a: pd.Series, b: pd.Series) -> pd.Series:
        raise NotImplementedError(type(self).__name__)


@dataclass(frozen=True)
class Gt0(Rule):
    """`gt0()`: the number is greater than 0."""

    code = NOT_POSITIVE
    reason = "{header}必须大于0（当前值：{value}）"

    def describe(self) -> str:
        return "大于0"

    def check(self, series, reference):
        return series > 0


@dataclass(frozen=True)
class Ge0(Rule):
    """`ge0()`: the number is not negative."""

    code = NEGATIVE
    reason = "{header}不能为负数（当前值：{value}）"

    def describe(self) -> str:
        return "不小于0"

    def check(self, series, reference):
        return series >= 0


@dataclass(frozen=True)
class MaxLen(Rule):
    """`max_len(n)`: the text has at most `n` characters."""

    n: int
    code = TOO_LONG

    @property
    def reason(self) -> str:
        return "{header}不能超过%d个字符（当前值：{value}）" % self.n

    def describe(self) -> str:
        return f"不超过{self.n}个字符"

    def check(self, series, reference):
        return series.str.len() <= self.n


@dataclass(frozen=True)
class OneOf(Rule):
    """`one_of(*choices, synonyms=...)`: the value is one of `choices`, once `synonyms` and other
    spellings (white space, full-width forms) are folded to them."""

    choices: tuple[str, ...]
    synonyms: tuple[tuple[str, str], ...] = ()
    code = NOT_IN_LIST

    @property
    def reason(self) -> str:
        return "{header}只能填写" + "、".join(self.choices) + "之一（当前值：{value}）"

    def describe(self) -> str:
        extra = "；".join(f"{a}视同{b}" for a, b in self.synonyms)
        return "取值：" + "、".join(self.choices) + (f"（{extra}）" if extra else "")

    def check(self, series, reference):
        return series.isin(frozenset(self.choices))

    def canonical(self, value, reference):
        if not isinstance(value, str):
            return value
        key = norm(value)
        synonyms = {norm(a): b for a, b in self.synonyms}
        if key in synonyms:
            return synonyms[key]
        return next((c for c in self.choices if norm(c) == key), value)


@dataclass(frozen=True)
class Lookup(Rule):
    """`lookup(list_name, what)`: the value is on the reference list `list_name`, once folded to its
    canonical spelling there; `what` names the list in the reason."""

    list_name: str
    what: str
    # Whether the reason lists the names the clerk may write (a short list: the mines, the parks).
    listed: bool = False
    code = NOT_IN_LIST

    @property
    def reason(self) -> str:
        if self.listed:
            return "{header}“{value}”不在" + self.what + "名录中，应为{names}之一（也可写名录中的简称），请核对名称"
        return "{header}“{value}”不在" + self.what + "名录中，请核对名称"

    def reason_fields(self, reference):
        return {"names": "、".join(reference.names(self.list_name))} if self.listed else {}

    def describe(self) -> str:
        return f"须在参考名录 {self.list_name} 中"

    def check(self, series, reference):
        return series.isin(frozenset(reference.choices(self.list_name)))

    def canonical(self, value, reference):
        if not isinstance(value, str):
            return value
        return reference.canonical(self.list_name, value) or value


@dataclass(frozen=True)
class LeCol(ColumnComparison):
    """`le_col(other)`: the number is not greater than column `other` of the row."""

    code = OUT_OF_RANGE
    reason = "{header}不能大于{other}（当前值：{value}{unit}，{other}：{other_value}{other_unit}）"

    def describe(self) -> str:
        return f"不大于 {self.other}"

    def compare(self, a, b):
        return a <= b + self.TOLERANCE


@dataclass(frozen=True)
class GeCol(ColumnComparison):
    """`ge_col(other)`: the number is not less than column `other` of the row."""

    code = OUT_OF_RANGE
    reason = "{header}不能小于{other}（当前值：{value}{unit}，{other}：{other_value}{other_unit}）"

    def describe(self) -> str:
        return f"不小于 {self.other}"

    def compare(self, a, b):
        return a + self.TOLERANCE >= b


@dataclass(frozen=True)
class CreditCode(Rule):
    """`credit_code()`: a GB 32100-2015 unified social credit code, 18 characters with the right
    check character; spaces and dashes are removed and letters upper-cased first."""

    code = BAD_CREDIT_CODE
    reason = ("{header}“{value}”不是有效的18位统一社会信用代码（长度或校验位错误），"
              "请核对营业执照")

    def describe(self) -> str:
        return "18位统一社会信用代码，校验位正确（GB 32100-2015）"

    def check(self, series, reference):
        return series.map(_valid_credit_code).astype(bool)

    def canonical(self, value, reference):
        if not isinstance(value, str):
            return value
        if len(value) == 18 and value.isascii() and value.isalnum() and value == value.upper():
            return value  # what `compact` would give back (it only cleans, removes ' -' and upper-cases)
        compact = uscc.compact(value)
        return compact if len(compact) == 18 else value


@lru_cache(maxsize=1 << 18)
def _valid_credit_code(value: object) -> bool:
    """python-stdnum's check of a code, remembered: the same enterprises report every month, and
    a province's 260,000 codes fit (the check is 8 µs a code, the look-up well under one)."""
    return uscc.is_valid(value)


@dataclass(frozen=True)
class Digits(Rule):
    """`digits(n)`: exactly `n` digits."""

    n: int
    code = BAD_CODE

    @property
    def reason(self) -> str:
        return "{header}应为%d位数字（当前值：{value}）" % self.n

    def describe(self) -> str:
        return f"{self.n}位数字"

    def check(self, series, reference):
        return series.str.fullmatch(r"\d{%d}" % self.n).astype(bool)


@dataclass(frozen=True)
class NotAfterPeriod(Rule):
    """`not_after_period()`: the date is not after the last day of the reporting month (a face
    reported built in May cannot have been built in July)."""

    code = FUTURE_DATE
    reason = "{header}晚于本期报告期末（{period_end}），不能填写尚未到来的日期（当前值：{value}），请核对年份和月份"

    def reason_fields(self, reference):
        end = reference.period_end
        return {"period_end": end.isoformat() if end else "报告月的最后一天"}

    def describe(self) -> str:
        return "不晚于报告月的最后一天"

    def check(self, series, reference):
        end = reference.period_end
        if end is None:
            return series.map(lambda _: True).astype(bool)
        return series.map(lambda d: d <= end).astype(bool)


@dataclass(frozen=True)
class FilledWhen(ColumnComparison):
    """`filled_when(other, value)`: the cell is filled on every row whose column `other` reads
    `value` (a face 已建成 needs its 建成时间). Meant for optional columns: a blank cell is a
    warning, and the row is loaded."""

    value: str = ""
    code = MISSING_DATE

    @property
    def reason(self) -> str:
        return "{other}为“{other_value}”时应填写{header}（当前为空），请补填"

    def describe(self) -> str:
        return f"{self.other} 为“{self.value}”时应填写（未填提醒）"

    def frame_check(self, frame, field_name):
        return frame[field_name].notna() | (frame[self.other] != self.value).fillna(True).astype(bool)


# The names the dataset declarations use.

def gt0() -> Rule:
    return Gt0()


def ge0() -> Rule:
    return Ge0()


def max_len(n: int) -> Rule:
    return MaxLen(n)


def one_of(*choices: str, synonyms: dict[str, str] | None = None) -> Rule:
    return OneOf(tuple(choices), tuple((synonyms or {}).items()))


def lookup(list_name: str, what: str, *, listed: bool = False) -> Rule:
    return Lookup(list_name, what, listed)


def le_col(other: str) -> Rule:
    return LeCol(other)


def ge_col(other: str) -> Rule:
    return GeCol(other)


def credit_code() -> Rule:
    return CreditCode()


def digits(n: int) -> Rule:
    return Digits(n)


def not_after_period() -> Rule:
    return NotAfterPeriod()


def filled_when(other: str, value: str) -> Rule:
    return FilledWhen(other, value)
