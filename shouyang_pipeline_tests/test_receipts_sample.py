"""The bundled sample's receipts (回执), as issue 13 judges them: after the year's run
(`sample_year`), a receipt for every file with a planted problem and none for the clean ones, and
in every receipt the red and yellow cells exactly where audit.rejected_rows, audit.cell_warnings
and audit.cross_period_flags say, with the reasons as comments, in openpyxl and once more after
LibreOffice has opened and saved them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from shouyang_pipeline.catalog.datasets import DATASETS
from shouyang_pipeline.catalog.rules import DUPLICATE_KEY, MISSING_KEY
from shouyang_pipeline.exports.receipts import RED, SUMMARY_SHEET, YELLOW, period_files, receipt_names
from shouyang_pipeline.ingest.layout import find_layout
from shouyang_pipeline.ingest.read import read_grids

from test_receipts import comments, marks


@pytest.fixture(scope="module")
def sample(sample_year):
    """(settings, {receipt path: its FileRecord}) of the sample's run."""
    settings = sample_year
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        periods = [p for (p,) in conn.execute("SELECT DISTINCT period FROM audit.ingest_log WHERE is_current "
                                              "AND period IS NOT NULL ORDER BY 1").fetchall()]
        wanted = {}
        for period in periods:
            records = [r for r in period_files(conn, period) if r.needs_receipt]
            for path, name in receipt_names(records).items():
                wanted[settings.export_dir / "receipts" / period / name] = next(r for r in records if r.file_path == path)
    return settings, wanted


def test_a_receipt_for_every_file_with_a_planted_problem_and_none_for_a_clean_one(sample, sample_generated):
    settings, wanted = sample
    found = set((settings.export_dir / "receipts").glob("*/*.xlsx"))
    assert found == set(wanted)
    with_receipt = {r.file_path for r in wanted.values()}
    planted = {e["file"] for e in sample_generated["planted_errors"]}
    flagged = {f["file"] for f in sample_generated["planted_flags"] if not f["explained"] and f["rule"] != MISSING_KEY}
    assert planted | flagged <= with_receipt
    clean = {f["path"] for f in sample_generated["files"]} - planted - flagged
    # a file without a planted problem gets one only for a key it dropped (a missing key, on this month's file)
    for file_path in clean & with_receipt:
        (record,) = [r for r in wanted.values() if r.file_path == file_path]
        assert not record.rejected and not record.warnings and {f["rule"] for f in record.flags} == {MISSING_KEY}


def _expected(settings, record) -> tuple[dict[str, str], dict[str, list[str]]]:
    """cell -> colour, cell -> reasons of one receipt's data sheet, from the audit rows alone."""
    data = (settings.raw_dir / record.file_path).read_bytes()
    layout = find_layout(read_grids(data, Path(record.file_path).suffix.lower()), DATASETS[record.dataset])
    header = layout.grid.rows[layout.header_row][1]
    used = [j + 1 for j, v in enumerate(header) if v is not None and str(v).strip()]
    span = range(min(used), max(used) + 1)
    colours: dict[str, str] = {}
    reasons: dict[str, list[str]] = {}
    for r in record.rejected:
        whole = r["rule"] == DUPLICATE_KEY or r["source_cell"] is None
        cells = [f"{get_column_letter(c)}{r['source_row']}" for c in span] if whole else [r["source_cell"]]
        colours.update({c: RED for c in cells})
        reasons.setdefault(r["source_cell"] or cells[0], []).append(r["reason"])
    for w in record.warnings:
        colours.setdefault(w["source_cell"], YELLOW)
        reasons.setdefault(w["source_cell"], []).append(w["reason"])
    for f in record.flags:
        if f["rule"] == MISSING_KEY:
            continue  # no cell: a line of the problem list
        cell = f"{get_column_letter(layout.column(f['column']).index + 1)}{int(f['source_row'])}"
        colours.setdefault(cell, YELLOW)
        reasons.setdefault(cell, []).append(f["reason"])
    return colours, reasons


def _visible(ws, colours: dict[str, str], reasons: dict[str, list[str]]):
    """A cell a merge hides shows through the merge's first cell."""
    anchor = {}
    for merged in ws.merged_cells.ranges:
        first = f"{get_column_letter(merged.min_col)}{merged.min_row}"
        for row in range(merged.min_row, merged.max_row + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                anchor[f"{get_column_letter(col)}{row}"] = first
    shown: dict[str, str] = {}
    for cell, colour in colours.items():
        at = anchor.get(cell, cell)
        if shown.get(at) != RED:
            shown[at] = colour
    said: dict[str, list[str]] = {}
    for cell, texts in reasons.items():
        said.setdefault(anchor.get(cell, cell), []).extend(texts)
    return shown, said


def _check(settings, wanted: dict) -> int:
    checked = 0
    for path, record in wanted.items():
        wb = load_workbook(path)
        assert wb.sheetnames[0] == SUMMARY_SHEET, path
        if record.whole_file:
            assert len(wb.sheetnames) == 1, path
            continue
        ws = wb.worksheets[1]
        colours, reasons = _visible(ws, *_expected(settings, record))
        assert marks(ws) == colours, path
        notes = comments(ws)
        for cell, texts in reasons.items():
            for text in texts:
                assert text in notes[cell], (path, cell, text)
        checked += len(colours)
    return checked


def test_every_receipts_red_and_yellow_cells_are_where_the_audit_tables_say(sample):
    settings, wanted = sample
    assert _check(settings, wanted) > 20


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_every_receipt_with_the_same_marks(sample, tmp_path):
    settings, wanted = sample
    # receipts of different months may share a name: copied under names of their own, converted at once
    (tmp_path / "in").mkdir()
    copies = {}
    for path in wanted:
        copies[path] = tmp_path / "in" / f"{path.parent.name}_{path.name}"
        shutil.copyfile(path, copies[path])
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "xlsx",
                    "--outdir", str(tmp_path / "out"), *map(str, copies.values())],
                   check=True, capture_output=True, timeout=600)
    assert _check(settings, {tmp_path / "out" / c.name: wanted[p] for p, c in copies.items()}) > 20
