"""A submitted text of thousands of characters in a briefing's table: the PDF's former typesetter
(WeasyPrint) took minutes on it (a 32,767-character project name of a project dropped from one
month to the next: hours, and the run with it), and it fills pages with one row, so a cell shows
its first CELL_CHARS characters."""

from __future__ import annotations

from pathlib import Path

from shouyang_pipeline.exports import pdf as pdf_export
from shouyang_pipeline.exports.briefing import CELL_CHARS, briefing_context, write_briefing_text
from shouyang_pipeline.marts.build import build_all
from shouyang_pipeline.marts.flags import recompute_flags
from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, write_csv

try:
    from .test_briefing_print import need_pdf
except ImportError:  # rootdir-style imports (no package __init__)
    from test_briefing_print import need_pdf

LONG = "项" * 32767


def test_a_name_of_32767_characters_in_a_table_is_cut_and_the_pdf_is_made(raw, run_period, tmp_path):
    (raw / "key_projects").mkdir()
    write_csv(raw / "key_projects" / "2023-04__发改局.csv",
              [KP_HEADER, kp_row("XM001", name=LONG), kp_row("XM002", name="续建项目")])
    write_csv(raw / "key_projects" / "2023-05__发改局.csv", [KP_HEADER, kp_row("XM002", name="续建项目")])
    run_period("key_projects", "2023-04")
    run = run_period("key_projects", "2023-05")
    recompute_flags(run.conn)
    build_all(run.conn)
    sections = briefing_context(run.conn, "2023-05")
    md, html = write_briefing_text(sections, tmp_path)
    text = html.read_text(encoding="utf-8")
    assert "上期在报本期未报" in text  # the dropped project's row, with its name
    assert "项" * (CELL_CHARS - 1) + "…" in text and "项" * CELL_CHARS not in text
    assert "项" * CELL_CHARS not in md.read_text(encoding="utf-8")
    need_pdf()
    outcome = pdf_export.write_pdf(sections, tmp_path / "briefing_2023-05.pdf")
    assert outcome.path is not None and Path(outcome.path).stat().st_size > 0
