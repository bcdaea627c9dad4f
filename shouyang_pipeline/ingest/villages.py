"""Village rows against data/reference/villages.csv (SUBMISSIONS.md 4.4)."""

from __future__ import annotations

from ..catalog import rules as codes
from ..reference import Reference
from ..text import norm
from .parse import Row, issue


def check_village(row: Row, reference: Reference) -> None:
    """Resolve the village to the reference list; fill its canonical name and code, or reject the row."""
    pf = row.file
    name_cm, township_cm, code_cm = (pf.column_map(n) for n in ("village_name", "township", "village_code"))
    name, township, code = (row.values.get(n) for n in ("village_name", "township", "village_code"))
    if not name or not township or township not in reference.choices("townships"):
        return  # already rejected for the missing or unknown township / name
    raw_name = row.cells[name_cm.index] if name_cm else name
    found = reference.find_village(township, name)
    if found is None:
        others = [t for t in reference.village_townships.get(norm(name), []) if t != township]
        if others:
            row.errors.append(issue(
                row.number, name_cm, raw_name, codes.MISMATCH,
                "{header}“{value}”不属于" + township + "，参考名录中它属于" + "、".join(sorted(set(others))) + "，请核对乡镇",
            ))
        else:
            row.errors.append(issue(
                row.number, name_cm, raw_name, codes.UNKNOWN_VILLAGE,
                "{header}“{value}”不是" + township + "的行政村（参考名录中没有），请核对村名",
            ))
        return
    ref_code, ref_name = found
    if code:
        raw_code = row.cells[code_cm.index] if code_cm else code
        if code in reference.village_codes and code != ref_code:
            other_name, other_township = reference.village_codes[code]
            row.errors.append(issue(
                row.number, code_cm, raw_code, codes.MISMATCH,
                "{header}{value}是" + other_township + other_name + "的代码，与村名称" + ref_name + "（" + township
                + "，代码" + ref_code + "）不符，请核对",
            ))
            return
        if code not in reference.village_codes:
            row.warnings.append(issue(
                row.number, code_cm, raw_code, codes.UNKNOWN_CODE,
                "{header}{value}不在参考名录中，已按村名称使用代码" + ref_code,
            ))
    row.values["village_code"] = ref_code
    row.values["village_name"] = ref_name

