"""Every rule code the package can write into the audit tables has a Chinese name."""

from __future__ import annotations

import re
from pathlib import Path

from shouyang_pipeline.catalog.datasets import DATASETS
from shouyang_pipeline.catalog.rules import RULE_NAMES

PACKAGE = Path(__file__).resolve().parents[1] / "shouyang_pipeline"
# The ways a code is written: a Problem, a Rule(kind, code), an Issue(rule=...), issue(..., code, reason).
EMITTERS = [
    re.compile(r'Problem\(\s*"(\w+)"'),
    re.compile(r'Rule\(\s*"\w+",\s*"(\w+)"'),
    re.compile(r'rule="(\w+)"'),
    re.compile(r'\bissue\([^()]*?(?:\([^()]*\)[^()]*?)*?,\s*"(\w+)",', re.S),
]


def emitted_codes() -> set[str]:
    codes = set()
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in EMITTERS:
            codes |= set(pattern.findall(text))
    codes |= {rule.code for ds in DATASETS.values() for f in ds.all_fields for rule in f.rules}
    return codes


def test_every_emitted_code_has_a_chinese_name():
    codes = emitted_codes()
    assert {"required", "duplicate_key", "unknown_village", "unknown_code", "out_of_range"} <= codes  # the scan works
    missing = sorted(codes - set(RULE_NAMES))
    assert not missing, f"rule codes without a Chinese name in rule_codes.RULE_NAMES: {missing}"


def test_names_are_chinese():
    for code, name in RULE_NAMES.items():
        assert re.search(r"[\u4e00-\u9fff]", name), code
