"""Printing, as a county office does with everything: the briefing's A4 print stylesheet and its
PDF, and the analysts' workbook's print setup, number formats and column widths.

The PDF tests need Typst (the `typst` package) and a Chinese font; the checks of the PDF read it with
poppler-utils (pdfinfo, pdffonts, pdftotext, pdftoppm); the workbook is printed with LibreOffice
Calc (soffice). `.ci/run` installs them all, and under CI (CI=true) a missing one fails the test;
on a developer's machine without them those tests are skipped.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import openpyxl
import pytest

try:
    from .test_marts import load_example
except ImportError:  # rootdir-style imports (no package __init__)
    from test_marts import load_example

from shouyang_pipeline.catalog.marts import MARTS
from shouyang_pipeline.exports import pdf as pdf_export
from shouyang_pipeline.exports.briefing import briefing_context, write_briefing_text
from shouyang_pipeline.exports.workbook import (
    AUDIT_SHEETS, COUNT_FORMAT, MONEY_FORMAT, PERCENT_FORMAT, display_width, sheet_name, write_workbook,
)
from shouyang_pipeline.marts.build import build_all

from test_end_to_end import materialize, write_period

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(ok: bool, what: str) -> None:
    """Skip without `what` on a developer's machine; fail under CI, which installs it."""
    if not ok:
        if IN_CI:
            pytest.fail(f"CI must install {what} (.ci/run)")
        pytest.skip(f"{what} is not installed")


def need_pdf() -> None:
    reason = pdf_export.pdf_unavailable()
    need(reason is None, f"the PDF tool ({reason})")


def need_tool(name: str) -> str:
    path = shutil.which(name)
    need(path is not None, name)
    return path


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    path = tmp_path_factory.mktemp("print") / "warehouse.duckdb"
    conn = duckdb.connect(str(path))
    load_example(conn)
    build_all(conn)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def feb_sections(con):
    return briefing_context(con, "2023-02")


@pytest.fixture(scope="module")
def feb(feb_sections, tmp_path_factory):
    md, html = write_briefing_text(feb_sections, tmp_path_factory.mktemp("feb"))
    return html


# --- the briefing's HTML, printed from a browser -------------------------------------------


def test_html_prints_on_a4_with_its_own_header_and_page_numbers(feb):
    html = feb.read_text(encoding="utf-8")
    page = html[html.index("@page"):]
    assert "size: A4 portrait" in page
    # margin boxes: the browser prints these instead of its URL and date
    assert '@top-center { content: "寿阳县重点工作数据简报（2023年2月）"' in page
    assert '@bottom-center { content: "第 " counter(page) " 页，共 " counter(pages) " 页"' in page
    # no table or chart cut in two, a table's header repeated on each page
    assert "table.keep, figure { break-inside: avoid;" in html
    assert "thead { display: table-header-group; }" in html
    assert html.count('<table class="keep">') == html.count("<table")


def test_the_page_header_cannot_end_the_stylesheet():
    from shouyang_pipeline.exports.briefing import css_string

    assert css_string('a"b\\c</style><script>') == '"a\\22 b\\5c c\\3c /style\\3e \\3c script\\3e "'


# --- the PDF ------------------------------------------------------------------------------


def test_pdf_is_a4_with_a_real_chinese_font_and_its_charts(feb, feb_sections):
    need_pdf()
    outcome = pdf_export.write_pdf(feb_sections, feb.with_suffix(".pdf"))
    assert outcome.reason is None and outcome.path == feb.with_suffix(".pdf")
    pdf = outcome.path
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert not list(feb.parent.glob(".*.tmp"))

    info = subprocess.run([need_tool("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+595\.\d* x 841\.\d* pts \(A4\)", info), info
    assert "Title:           寿阳县重点工作数据简报（2023年2月）" in info
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 2

    fonts = subprocess.run([need_tool("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line or "Hei" in line or "Song" in line]
    assert cjk, fonts
    assert all(" yes yes yes " in re.sub(r"\s+", " ", line) for line in cjk), fonts  # embedded, subset, unicode

    text = subprocess.run([need_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "寿阳县重点工作数据简报（2023年2月）" in text
    assert "1—2月，全县规模以上工业增加值累计完成25.02亿元" in text.replace("\n", "").replace(" ", "")
    assert f"第 1 页，共 {pages} 页" in text
    assert "http" not in text and "file:" not in text

    # the first page, rendered: the charts are drawn (the bars' blue), not an empty box
    from PIL import Image

    png = pdf.with_name("page")
    subprocess.run([need_tool("pdftoppm"), "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(png)], check=True)
    image = Image.open(next(pdf.parent.glob("page*.png"))).convert("RGB")
    blue = sum(1 for r, g, b in image.getdata() if abs(r - 0x2B) < 30 and abs(g - 0x6C) < 30 and abs(b - 0xB0) < 30)
    assert blue > 200, blue


def _with_table(sections: dict, caption: str, headers: list[str], rows: list[list[str]]) -> dict:
    """The briefing's sections with one more table at the end of the first section."""
    import copy

    from shouyang_pipeline.exports.briefing import Block, _table

    sections = copy.deepcopy(sections)
    sections["sections"][0].more.append(Block(paragraphs=["附表。"], tables=[_table(caption, headers, rows)]))
    return sections


def _words(pdf: Path) -> list[tuple[float, str]]:
    """(right edge, text) of every word of the PDF, from `pdftotext -bbox`."""
    out = subprocess.run([need_tool("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    return [(float(m.group(1)), m.group(2)) for m in re.finditer(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" '
                                                                   r'yMax="[\d.]+">([^<]*)</word>', out)]


def test_a_short_table_taller_than_a_page_loses_no_row(feb_sections, tmp_path):
    """A table of at most 30 rows is kept on one page when it fits on one; one that does not (long
    texts in its cells) breaks between rows, every row printed (an unbreakable block taller than a
    page would run off its foot)."""
    need_pdf()
    rows = [[f"第{i:02d}行", "项目名称很长很长" * 12 + f"结尾{i:02d}", "说明文字" * 30] for i in range(1, 29)]
    sections = _with_table(feb_sections, "长表", ["行", "名称", "说明"], rows)
    assert sections["sections"][0].more[-1].tables[0]["keep"]
    outcome = pdf_export.write_pdf(sections, tmp_path / "briefing_2023-02.pdf")
    assert outcome.reason is None
    text = subprocess.run([need_tool("pdftotext"), str(outcome.path), "-"], capture_output=True, text=True,
                          check=True).stdout.replace("\n", "")
    assert all(f"结尾{i:02d}" in text for i in range(1, 29))


def test_a_long_name_without_spaces_wraps_inside_its_cell(feb_sections, tmp_path):
    need_pdf()
    token = "key_projects/2023-02__" + "x" * 150 + ".xlsx"  # (a cell shows 200 characters at most)
    rows = [[token, "县发改局", "全部入库", "12"]]
    sections = _with_table(feb_sections, "报送文件", ["文件", "报送单位", "状态", "数据行"], rows)
    outcome = pdf_export.write_pdf(sections, tmp_path / "briefing_2023-02.pdf")
    words = _words(outcome.path)
    assert "".join(t for _, t in words if t.startswith(("key_", "x", "xx"))).count("x") >= 150
    assert max(right for right, _ in words) <= 595.3 - 16 / 25.4 * 72 + 1  # nothing past the right margin


def test_without_the_pdf_tool_nothing_is_written_and_the_reason_is_given(feb, feb_sections, monkeypatch):
    monkeypatch.setattr(pdf_export, "pdf_unavailable", lambda: "未安装PDF排版程序Typst（测试）")
    stale = feb.with_suffix(".pdf")
    stale.unlink(missing_ok=True)
    outcome = pdf_export.write_pdf(feb_sections, stale)
    assert outcome == pdf_export.PdfOutcome(None, "未安装PDF排版程序Typst（测试）")
    assert not stale.exists()


def test_a_missing_tool_is_found_before_any_rendering(monkeypatch):
    pdf_export.pdf_unavailable.cache_clear()
    try:
        monkeypatch.setattr(pdf_export, "chinese_fonts", lambda: 0)
        reason = pdf_export.pdf_unavailable()
        if reason is not None and "Typst" in reason and "字体" not in reason:
            pytest.skip("Typst itself is missing here")
        assert reason is not None and "中文的字体" in reason and "fonts-noto-cjk" in reason
    finally:
        pdf_export.pdf_unavailable.cache_clear()


def test_any_chinese_family_the_pdf_knows_will_do(monkeypatch):
    """A machine with only a serif or an older Chinese font still makes the PDF (in that font),
    not only one with the sans-serif families the HTML names first."""
    pytest.importorskip("typst")

    class Found:
        def __init__(self, families):
            self._families = families

        def families(self):
            return self._families

    pdf_export.pdf_unavailable.cache_clear()
    try:
        for families, count in ((["Noto Serif CJK SC", "DejaVu Sans"], 1), (["WenQuanYi Zen Hei"], 1),
                                (["DejaVu Sans", "Noto Serif CJK JP"], 0)):
            monkeypatch.setattr(pdf_export, "_fonts", lambda families=families: Found(families))
            pdf_export.pdf_unavailable.cache_clear()
            assert pdf_export.chinese_fonts() == count
            assert (pdf_export.pdf_unavailable() is None) is (count > 0)
    finally:
        pdf_export.pdf_unavailable.cache_clear()


def _stage_and_publish(settings, months: list[str], run_id: str):
    """The export and publish steps of a run over `months`, on the run's work file."""
    from shouyang_pipeline.pipeline import publish, stage_exports_for

    work = settings.work_warehouse
    # without the exports' digests every month is written again (an unchanged month is skipped otherwise)
    (settings.export_dir / ".digests.json").unlink(missing_ok=True)
    staged = stage_exports_for(settings, work, lambda: duckdb.connect(str(work)), months, run_id)
    publish(settings, work, run_id)
    return staged


def test_a_run_publishes_the_pdf_with_the_briefing_or_says_why_not(settings, monkeypatch, caplog):
    need_pdf()
    write_period(settings.raw_dir)
    assert materialize(settings).success  # a whole run, through Dagster
    pdf = settings.export_dir / "briefing_2023-02.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert not (settings.export_dir / ".staged").exists()

    # a PDF of a month that has no data any more goes with the other exports of that month
    (settings.export_dir / "briefing_2023-03.pdf").write_bytes(b"%PDF-old")
    staged = _stage_and_publish(settings, ["2023-02", "2023-03"], "run-stale")
    assert settings.export_dir / "briefing_2023-02.pdf" in staged.written
    assert "briefing_2023-03.pdf" in staged.to_delete
    assert not (settings.export_dir / "briefing_2023-03.pdf").exists()

    # the tool is gone: the run still goes through, says why once, and takes the old PDF away
    # rather than leave it beside a newer briefing
    monkeypatch.setattr(pdf_export, "pdf_unavailable", lambda: "未安装PDF排版程序Typst（测试）")
    with caplog.at_level(logging.WARNING, logger="shouyang_pipeline"):
        staged = _stage_and_publish(settings, ["2023-02"], "run-without-pdf")
    assert (settings.export_dir / "briefing_2023-02.md").exists()
    assert (settings.export_dir / "briefing_2023-02.html").exists()
    assert (settings.export_dir / "marts_2023-02.xlsx").exists()
    assert not pdf.exists() and "briefing_2023-02.pdf" in staged.to_delete
    said = [r.getMessage() for r in caplog.records if r.name == "shouyang_pipeline"]
    assert said == ["简报PDF未生成（2023-02）：未安装PDF排版程序Typst（测试）。简报的Markdown和HTML版本照常写出。"]
    assert not any(r.exc_info for r in caplog.records)


# --- the analysts' workbook ------------------------------------------------------------------


@pytest.fixture(scope="module")
def april(con, tmp_path_factory) -> Path:
    """April: key projects of its own; the village figures are March's (quarterly)."""
    return write_workbook(con, "2023-04", tmp_path_factory.mktemp("wb"))


def test_every_sheet_prints_a4_landscape_one_page_wide_with_its_title(april):
    wb = openpyxl.load_workbook(april)
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert (setup.orientation, setup.paperSize) == ("landscape", 9), ws.title  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert (setup.fitToWidth in (None, 1)) and setup.fitToHeight == 0, ws.title  # one page wide
        assert ws.print_title_rows == ("$3:$3" if ws.title == "说明" else "$1:$1"), ws.title
        assert ws.title in ws.oddHeader.left.text and "2023年4月" in ws.oddHeader.center.text, ws.title
        assert "第 &P 页，共 &N 页" in ws.oddFooter.center.text
        assert ws.print_options.gridLines, ws.title


def test_figures_have_the_format_of_their_unit(april):
    wb = openpyxl.load_workbook(april)
    expected = {"亿元": MONEY_FORMAT, "万元": MONEY_FORMAT, "%": PERCENT_FORMAT, "个百分点": PERCENT_FORMAT,
                "个": COUNT_FORMAT, "家": COUNT_FORMAT}
    checked = 0
    for name, table in MARTS.items():
        ws = wb[sheet_name(table)]
        for j, column in enumerate(table.columns, start=1):
            cells = [ws.cell(r, j) for r in range(2, ws.max_row + 1) if ws.cell(r, j).value is not None]
            if column.unit in expected and cells:
                assert {c.number_format for c in cells} == {expected[column.unit]}, (name, column.name)
                checked += 1
    assert checked > 30
    # 万元 from staging (four decimals stored) shows two, with thousands separators
    progress = wb["重点项目进度"]
    heads = [c.value for c in progress[1]]
    total = progress.cell(2, heads.index("总投资（万元）") + 1)
    assert total.number_format == "#,##0.00" and isinstance(total.value, (int, float))
    assert progress.cell(2, heads.index("来源行号") + 1).number_format == "0"


def test_columns_are_as_wide_as_what_they_hold(april):
    wb = openpyxl.load_workbook(april)
    progress = wb["重点项目进度"]
    heads = [c.value for c in progress[1]]

    def width(header: str) -> float:
        return progress.column_dimensions[openpyxl.utils.get_column_letter(heads.index(header) + 1)].width

    names = [r[heads.index("项目名称")] for r in progress.iter_rows(min_row=2, values_only=True)]
    # a short header over long names: the names decide (before: the header, 项目名称, did)
    assert width("项目名称") >= max(display_width(n) for n in names)
    # a long header over short values: the header wraps onto two lines
    assert width("本年累计完成投资（万元）") < display_width("本年累计完成投资（万元）")
    assert width("本年累计完成投资（万元）") >= math.ceil(display_width("本年累计完成投资（万元）") / 2)


def test_a_month_between_quarters_shows_the_latest_quarter_and_says_so(april):
    wb = openpyxl.load_workbook(april)
    towns = wb["乡镇村集体经济收入汇总"]
    assert towns.max_row > 1 and {r[0] for r in towns.iter_rows(min_row=2, values_only=True)} == {"2023-03"}
    assert "数据报告期：2023-03（沿用）" in towns.oddHeader.right.text
    about = {r[0]: r for r in wb["说明"].iter_rows(min_row=4, values_only=True)}
    assert about["村集体经济收入"][4:] == ("2023-03", "按季度报送，本月无新报送，沿用2023-03的数据")
    assert about["重点项目汇总"][4:] == ("2023-04", None)


def test_january_says_why_its_sheets_are_empty(con, tmp_path):
    wb = openpyxl.load_workbook(write_workbook(con, "2023-01", tmp_path))
    about = {r[0]: r for r in wb["说明"].iter_rows(min_row=4, values_only=True)}
    assert about["规上工业汇总"][3:] == (0, "—", "1月规上工业数据不单独发布，与2月合并为1—2月累计数")
    assert about["村集体经济收入"][3:] == (0, "—", "按季度报送，本年尚无数据")


def test_libreoffice_prints_each_small_sheet_on_one_page(april, tmp_path):
    """Printed by LibreOffice Calc: the example's sheets are small, so one A4 landscape page each
    (before the print setup, a three-row sheet spread over several pages)."""
    soffice = need_tool("soffice")
    subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(april)],
        check=True, capture_output=True, timeout=180)
    pdf = tmp_path / (april.stem + ".pdf")
    info = subprocess.run([need_tool("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) == 1 + len(MARTS) + len(AUDIT_SHEETS), info
    assert re.search(r"Page size:\s+841\.\d* x 595\.\d* pts \(A4\)", info), info  # landscape


def test_the_same_briefing_makes_the_same_pdf(feb_sections, tmp_path):
    """The PDF carries no date of its own (the briefing says its period): the same briefing written
    again, a moment later, is the same bytes, so a month written again as it was keeps its PDF."""
    import time

    need_pdf()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = pdf_export.write_pdf(feb_sections, tmp_path / "a" / "briefing_2023-02.pdf")
    time.sleep(1.1)
    again = pdf_export.write_pdf(feb_sections, tmp_path / "b" / "briefing_2023-02.pdf")
    assert first.reason is None and again.reason is None
    assert first.path.read_bytes() == again.path.read_bytes()
    assert b"/CreationDate" not in first.path.read_bytes()
