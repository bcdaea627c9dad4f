"""Canonicalise listed values and check every declared rule with a pandera schema derived from the dataset.

Values are parsed first (`values`), so pandera sees clean types and every failure it reports
carries the row index; each check is named `<column>#<rule number>` to map it back to the rule.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors
from stdnum.cn import uscc

from ..catalog.datasets import Dataset, Field, Rule
from ..reference import Reference
from ..text import norm

# Nullable boolean: blank is FALSE, but an unreadable optional cell is NULL (SUBMISSIONS.md 3).
PANDERA_DTYPES = {"money": "float64", "percent": "float64", "integer": "Int64", "boolean": "boolean"}


def canonical_value(rule: Rule, value: object, reference: Reference) -> object:
    """Fold synonyms and spellings to the canonical value; unknown values come back unchanged."""
    if value is None or not isinstance(value, str):
        return value
    if rule.kind == "one_of":
        key = norm(value)
        synonyms = {norm(a): b for a, b in rule.synonyms}
        if key in synonyms:
            return synonyms[key]
        return next((c for c in rule.choices if norm(c) == key), value)
    if rule.kind == "lookup":
        return reference.canonical(str(rule.arg), value) or value
    if rule.kind == "credit_code":
        return uscc.compact(value) if len(uscc.compact(value)) == 18 else value
    return value


def _check(field: Field, number: int, rule: Rule, reference: Reference) -> pa.Check:
    """A pandera check named `<column>#<rule number>`; NULLs pass (ignore_na)."""
    if rule.kind == "gt0":
        fn = lambda s: s > 0  # noqa: E731
    elif rule.kind == "ge0":
        fn = lambda s: s >= 0  # noqa: E731
    elif rule.kind == "max_len":
        fn = lambda s, n=int(rule.arg): s.str.len() <= n  # noqa: E731
    elif rule.kind in ("one_of", "lookup"):
        allowed = set(rule.choices) if rule.kind == "one_of" else reference.choices(str(rule.arg))
        fn = lambda s, allowed=frozenset(allowed): s.isin(allowed)  # noqa: E731
    elif rule.kind == "credit_code":
        fn = lambda s: s.map(uscc.is_valid).astype(bool)  # noqa: E731
    elif rule.kind == "digits":
        fn = lambda s, n=int(rule.arg): s.str.fullmatch(r"\d{%d}" % n).astype(bool)  # noqa: E731
    else:
        raise ValueError(f"rule kind {rule.kind} is not a column check")
    return pa.Check(fn, name=f"{field.name}#{number}")


def _frame_check(field: Field, number: int, rule: Rule) -> pa.Check:
    other = str(rule.arg)
    a, b = field.name, other
    tolerance = 1e-9
    if rule.kind == "le_col":
        fn = lambda df: df[a].isna() | df[b].isna() | (df[a] <= df[b] + tolerance)  # noqa: E731
    else:
        fn = lambda df: df[a].isna() | df[b].isna() | (df[a] + tolerance >= df[b])  # noqa: E731
    return pa.Check(fn, name=f"{field.name}#{number}")


def pandera_schema(dataset: Dataset, reference: Reference) -> pa.DataFrameSchema:
    columns, frame_checks = {}, []
    for f in dataset.all_fields:
        checks = []
        for number, rule in enumerate(f.rules):
            if rule.kind in ("le_col", "ge_col"):
                frame_checks.append(_frame_check(f, number, rule))
            else:
                checks.append(_check(f, number, rule, reference))
        columns[f.name] = pa.Column(PANDERA_DTYPES.get(f.kind), checks=checks, nullable=True, required=False)
    return pa.DataFrameSchema(columns, checks=frame_checks, name=dataset.name, strict=False)


def values_frame(dataset: Dataset, rows: list[dict[str, object]]) -> pd.DataFrame:
    data = {}
    for f in dataset.all_fields:
        values = [r.get(f.name) for r in rows]
        dtype = PANDERA_DTYPES.get(f.kind, "object")
        data[f.name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(data)


def rule_failures(dataset: Dataset, frame: pd.DataFrame, reference: Reference) -> list[tuple[int, Field, Rule]]:
    """(row position, field, rule) for every value that breaks a declared rule."""
    try:
        pandera_schema(dataset, reference).validate(frame, lazy=True)
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
    return sorted(set(out), key=lambda t: (t[0], t[1].name))
