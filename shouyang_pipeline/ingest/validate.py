"""Check every declared rule with a pandera schema derived from the dataset.

Values are parsed first (`values`) and canonicalised by their rules (`Rule.canonical`), so pandera
sees clean types and every failure it reports carries the row index; each check is the rule's own
(`Rule.check`, or `Rule.frame_check` for a column comparison), named `<column>#<rule number>` to
map it back to the rule.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from ..catalog.datasets import Dataset, Field, Rule
from ..reference import Reference

# pandera is imported where a schema is made: a process that checks nothing (an export worker,
# whose handler's module imports this one) spends no 0.2 s on it.
if TYPE_CHECKING:
    import pandera.pandas as pa

# Nullable boolean: blank is FALSE, but an unreadable optional cell is NULL (SUBMISSIONS.md 3).
PANDERA_DTYPES = {"money": "float64", "percent": "float64", "integer": "Int64", "boolean": "boolean"}


@dataclass(frozen=True)
class RuleContext:
    """What the rules see besides the values: the reference lists, and the last day of the
    reporting month (None when checking outside a period)."""

    reference: Reference
    period_end: date | None = None

    @classmethod
    def for_period(cls, reference: Reference, period: str | None) -> "RuleContext":
        if not period:
            return cls(reference)
        year, month = int(period[:4]), int(period[5:7])
        return cls(reference, date(year, month, calendar.monthrange(year, month)[1]))

    def canonical(self, list_name: str, value: str) -> str | None:
        return self.reference.canonical(list_name, value)

    def choices(self, list_name: str) -> set[str]:
        return self.reference.choices(list_name)

    def names(self, list_name: str) -> list[str]:
        return self.reference.names(list_name)


def _check(field: Field, number: int, rule: Rule, reference: RuleContext) -> pa.Check:
    """The rule as a pandera check named `<column>#<rule number>`; NULLs pass (ignore_na).

    A column comparison checks the whole frame (its failures still carry the row index) and passes
    a row with a NULL on either side itself (`ColumnComparison.frame_check`): pandera's ignore_na
    would only add the rows whose every column is NULL, which such a check passes already, at the
    cost of testing every cell of the frame for NULL once a comparison (1.4 s of a 1000x run's
    reading, most of it the text columns). (pandera then lists a failing row's NULL cells among its
    failure cases too: `rule_failures` takes each row and rule once.)"""
    import pandera.pandas as pa

    if rule.is_comparison:
        return pa.Check(lambda df: rule.frame_check(df, field.name), name=f"{field.name}#{number}", ignore_na=False)
    return pa.Check(lambda s: rule.check(s, reference), name=f"{field.name}#{number}")


def pandera_schema(dataset: Dataset, reference: RuleContext) -> pa.DataFrameSchema:
    import pandera.pandas as pa

    columns, frame_checks = {}, []
    for f in dataset.all_fields:
        checks = []
        for number, rule in enumerate(f.rules):
            (frame_checks if rule.is_comparison else checks).append(_check(f, number, rule, reference))
        columns[f.name] = pa.Column(PANDERA_DTYPES.get(f.kind), checks=checks, nullable=True, required=False)
    return pa.DataFrameSchema(columns, checks=frame_checks, name=dataset.name, strict=False)


def values_frame(dataset: Dataset, columns: Mapping[str, list], rows: int) -> pd.DataFrame:
    """The values of `rows` rows (`columns`: every field -> its values, in row order) as a frame
    of the dataset's fields in their declared types."""
    return pd.DataFrame({f.name: pd.Series(columns[f.name], dtype=PANDERA_DTYPES.get(f.kind, "object"))
                         for f in dataset.all_fields}, index=pd.RangeIndex(rows))


def rule_failures(dataset: Dataset, frame: pd.DataFrame, reference: Reference,
                  period: str | None = None) -> list[tuple[int, Field, Rule]]:
    """(row position, field, rule) for every value that breaks a declared rule (`period`, the
    reporting month, for the rules that compare a date with it)."""
    from pandera.errors import SchemaErrors

    try:
        # inplace: the frame is not copied first (the schema coerces nothing, adds no column and
        # sets no default: only the checks read it), 0.4 s of a 1000x run's reading
        pandera_schema(dataset, RuleContext.for_period(reference, period)).validate(frame, lazy=True, inplace=True)
        return []
    except SchemaErrors as exc:
        cases = exc.failure_cases
    out: list[tuple[int, Field, Rule]] = []
    for check, index in zip(cases["check"], cases["index"]):
        if not isinstance(check, str) or "#" not in check or index is None or pd.isna(index):
            raise RuntimeError(f"unexpected pandera failure: {check!r} at {index!r}")
        column, number = check.rsplit("#", 1)
        f = dataset.field(column)
        out.append((int(index), f, f.rules[int(number)]))
    # Row, column, then the order the rules are declared in: the same messages in the same order every run.
    return sorted(set(out), key=lambda t: (t[0], t[1].name, t[1].rules.index(t[2])))
