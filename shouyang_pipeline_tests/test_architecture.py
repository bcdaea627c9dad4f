"""The house: rooms import only rooms below them, in the order the data travels.

    catalog  <  (text, errors, config, reference, collector)  <  ingest | warehouse  <  marts  <  exports
             <  pipeline  <  defs  <  cli

`workers` (the worker processes' pool) imports no room but `collector` (how a worker ends): the
handlers it runs are named to it. `run_processes` (which process does a run; the UI's run
launcher) imports no room: Dagster's webserver and daemon import it with the instance.

Ingest and the warehouse never import each other (they speak in plain frames the catalogue
declares); no room imports `defs` or `cli`; the catalogue imports no room.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "shouyang_pipeline"
BASE = {"text", "errors", "config", "reference", "collector"}

# room -> the rooms it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "catalog": {"text", "errors"},
    "text": set(), "errors": set(), "config": {"errors"}, "collector": set(),
    "reference": {"catalog", "text", "errors"},
    "ingest": {"catalog"} | BASE,
    "warehouse": {"catalog"} | BASE,
    "marts": {"catalog", "warehouse"} | BASE,
    "exports": {"catalog", "warehouse", "marts"} | BASE,
    "docs": {"catalog", "ingest"} | BASE,
    "sample": {"catalog"} | BASE,
    "workers": {"collector"},
    "run_processes": set(),
    "pipeline": {"catalog", "ingest", "warehouse", "marts", "exports", "workers"} | BASE,
    "defs": {"catalog", "ingest", "warehouse", "marts", "exports", "pipeline", "run_processes"} | BASE,
    "cli": {"catalog", "ingest", "warehouse", "marts", "exports", "pipeline", "defs", "docs", "sample",
            "run_processes"} | BASE,
}


def room_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_rooms(path: Path) -> set[str]:
    """The package's rooms this file imports (at any depth of the file: lazy imports count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(PACKAGE)
    here = list(rel.parts[:-1])  # the package path of this module
    rooms = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                target = base + (node.module.split(".") if node.module else [])
                if not target and node.module is None:
                    target = [alias.name for alias in node.names][:1]
            elif node.module and node.module.startswith("shouyang_pipeline."):
                target = node.module.split(".")[1:]
            else:
                continue
            if target:
                rooms.add(target[0])
            elif node.module is None:
                rooms |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("shouyang_pipeline."):
                    rooms.add(alias.name.split(".")[1])
    return rooms


def test_rooms_import_only_rooms_below_them():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        room = room_of(path)
        if room in ("__init__", "__main__"):
            continue
        assert room in ALLOWED, f"{path.relative_to(PACKAGE)}: room {room!r} is not in the house plan"
        for other in imported_rooms(path) - {room}:
            if other not in ALLOWED[room]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {other}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_imports():
    assert "catalog" in imported_rooms(PACKAGE / "ingest" / "period.py")
    assert "pipeline" in imported_rooms(PACKAGE / "defs" / "assets.py")
    assert "warehouse" not in imported_rooms(PACKAGE / "ingest" / "period.py")


def test_the_runs_own_process_starts_without_the_readers_and_writers_libraries(tmp_path):
    """`shouyang run`'s own process (the CLI, the pipeline, the Dagster definitions built) imports
    none of the libraries only the reading and export workers use (openpyxl, xlsxwriter,
    matplotlib, Polars, pandera, Jinja2): each costs start-up time a run with workers does not need."""
    import subprocess
    import sys

    heavy = ("openpyxl", "xlsxwriter", "matplotlib", "polars", "pandera", "jinja2")
    code = ("import sys\n"
            "from shouyang_pipeline import cli, pipeline\n"
            "from shouyang_pipeline.config import Settings\n"
            "from shouyang_pipeline.defs import build_definitions\n"
            f"build_definitions(Settings.from_env({{'SHOUYANG_DATA_DIR': {str(tmp_path)!r}}}))"
            ".resolve_job_def('monthly_refresh')\n"
            "pipeline.published_receipts(Settings.from_env({'SHOUYANG_DATA_DIR': " + repr(str(tmp_path)) + "}))\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
