"""Every rule code the package can write into the audit tables has a Chinese name.

Codes are spelled once, as constants of `catalog.rules`, and registered there with their names. A
code reaches the audit tables either from a declared rule (a `Rule` class carries its code) or
from the code that emits it (a cell problem, `issue(...)`, `Issue(rule=...)`), which must name a
constant: these tests prove both, by the classes and by reading the package's source.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from shouyang_pipeline.catalog import rules
from shouyang_pipeline.catalog.datasets import DATASETS
from shouyang_pipeline.catalog.rules import RULE_NAMES, ColumnComparison, Rule

PACKAGE = Path(__file__).resolve().parents[1] / "shouyang_pipeline"
# Where a code is written: the positional argument of these calls that holds it (or `rule=...`).
EMITTERS = {"CellProblem": 0, "Problem": 0, "issue": 3, "Issue": 5}
ROOMS = ("ingest", "warehouse", "marts", "exports", "defs")
# The sample generator writes no audit row: its "rule" labels describe the errors it plants.
NOT_EMITTING = ("sample",)


def code_constants() -> dict[str, str]:
    """The constants `catalog.rules` spells the codes with: upper-case names bound to a string."""
    return {name: value for name, value in vars(rules).items() if name.isupper() and isinstance(value, str)}


def rule_classes() -> list[type[Rule]]:
    """Every concrete rule class `catalog.rules` declares."""
    found, todo = [], [Rule]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__ == rules.__name__ and "code" in vars(cls):
            found.append(cls)
    return found


def _called(node: ast.Call) -> str | None:
    return node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)


def emitted_codes() -> list[tuple[str, int, ast.expr]]:
    """(file, line, expression) of every code argument in the package's source."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(PACKAGE))
        if where.startswith(NOT_EMITTING):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                position = EMITTERS.get(_called(node))
                if position is not None and len(node.args) > position:
                    found.append((where, node.lineno, node.args[position]))
                found += [(where, node.lineno, kw.value) for kw in node.keywords if kw.arg == "rule"]
            elif isinstance(node, ast.Dict):
                found += [(where, node.lineno, v) for k, v in zip(node.keys, node.values)
                          if isinstance(k, ast.Constant) and k.value == "rule"]
    return found


def test_every_code_constant_is_registered_once():
    constants = code_constants()
    assert set(constants.values()) == set(RULE_NAMES)
    assert len(constants) == len(RULE_NAMES)  # one constant per code
    assert {"REQUIRED", "DUPLICATE_KEY", "UNKNOWN_VILLAGE", "OUT_OF_RANGE"} <= set(constants)


def test_every_rule_class_carries_a_named_code():
    classes = rule_classes()
    assert {c.__name__ for c in classes} >= {  # the walk finds them
        "Gt0", "Ge0", "MaxLen", "OneOf", "Lookup", "LeCol", "GeCol", "CreditCode", "Digits"}
    for cls in classes:
        assert cls.code in RULE_NAMES, cls
        assert cls.is_comparison == issubclass(cls, ColumnComparison)


def test_a_rule_class_cannot_invent_a_code():
    with pytest.raises(TypeError, match="no Chinese name"):
        class Invented(Rule):  # noqa: F841
            code = "invented"


def test_every_declared_rule_has_a_named_code():
    declared = [rule for ds in DATASETS.values() for f in ds.all_fields for rule in f.rules]
    assert declared and all(isinstance(rule, Rule) for rule in declared)
    for rule in declared:
        assert rule.name == RULE_NAMES[rule.code]


def test_no_code_is_emitted_as_a_bare_string():
    constants = code_constants()
    bare, unknown, named = [], [], set()
    for where, line, expr in emitted_codes():
        if isinstance(expr, ast.Constant):
            bare.append(f"{where}:{line} {expr.value!r}")
            continue
        # `codes.REQUIRED` or an imported `REQUIRED`; anything else passes a code on
        # (`parsed.rule`, `rule.code`, the `rule` argument of `issue`).
        name = expr.attr if isinstance(expr, ast.Attribute) else getattr(expr, "id", "")
        if name.isupper():
            (named.add if name in constants else unknown.append)(name if name in constants else f"{where}:{line} {name}")
    assert not bare, f"codes written as strings: use a constant of catalog.rules: {bare}"
    assert not unknown, f"not a code constant of catalog.rules: {unknown}"
    # The scan works: it finds the codes emitted outside declared rules.
    assert {"REQUIRED", "GARBLED_TEXT", "MIXED_ENCODING", "NOT_A_NUMBER", "OUT_OF_RANGE", "DUPLICATE_KEY",
            "UNKNOWN_VILLAGE", "UNKNOWN_CODE", "MISMATCH"} <= named
    # and every registered code is one something can emit: by a rule class, or named at a call.
    assert {constants[n] for n in named} | {c.code for c in rule_classes()} == set(RULE_NAMES)


def test_names_are_chinese():
    for code, name in RULE_NAMES.items():
        assert re.search(r"[\u4e00-\u9fff]", name), code


def _imported_modules(path: Path) -> list[str]:
    """The absolute module names a file of the package imports."""
    package = ["shouyang_pipeline", *path.relative_to(PACKAGE).parent.parts]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            out += [module] if node.module else [f"{module}.{a.name}" for a in node.names]
    return out


def test_the_catalogue_imports_no_room_and_rules_no_dataset():
    for path in (PACKAGE / "catalog").rglob("*.py"):
        for module in _imported_modules(path):
            assert not module.startswith(tuple(f"shouyang_pipeline.{r}" for r in ROOMS)), (path, module)
    rules_imports = _imported_modules(PACKAGE / "catalog" / "rules.py")
    assert "shouyang_pipeline.text" in rules_imports  # the resolver works
    assert not [m for m in rules_imports if m.startswith("shouyang_pipeline.catalog")]
