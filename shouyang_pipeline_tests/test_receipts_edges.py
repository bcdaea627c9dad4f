"""Receipts (回执) at their edges, on real files: a problem hidden behind a merge, a file named for
a month its dataset does not report, a file with more problems than a receipt lists, a sheet of
theirs named 问题清单, a receipt whose only problem is a missing key, the print layout, a clerk's
check typed inside a dataset's folder, and receipt names that would collide.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from shouyang_pipeline.cli import main
from shouyang_pipeline.exports.receipts import (MAX_LISTED, NAME_LIMIT, RED, SUFFIX, SUMMARY_SHEET, YELLOW,
                                                FileRecord, receipt_names)

from conftest import IO_HEADER, KP_HEADER, kp_row, write_csv, write_xlsx
from test_receipts import comments, env_of, facts, make_settings, marks, problem_lines, query, receipt_path, run

KP_JAN = "key_projects/2023-01__发改局.csv"
KP_FEB = "key_projects/2023-02__发改局.xlsx"
TALENT_FEB = "talent/2023-02__组织部.xlsx"  # talent is reported in March, June, September, December


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """January's projects; February's workbook, where J4:J5 is merged (row 5's 本年累计 is the merge's
    800, less than January's 900: a flag on J5, a cell the merge hides); talent named for February."""
    root = tmp_path_factory.mktemp("edges")
    settings = make_settings(root)
    raw = settings.raw_dir
    write_csv(raw / KP_JAN, [KP_HEADER, kp_row("XM001", ytd=900), kp_row("XM002", ytd=50)])
    write_xlsx(raw / KP_FEB, [
        ["2023年1-2月全县重点项目进展情况表"],
        ["填报单位：县发改局　　　　单位：万元"],
        KP_HEADER,
        kp_row("XM002", ytd=800),
        kp_row("XM001", ytd=None),  # J5: covered by J4:J5, reads as 800
    ], merges=("A1:N1", "J4:J5"))
    write_xlsx(raw / TALENT_FEB, [["产业领域", "人才类别", "本年累计对接人数", "本年累计引进培育人数"],
                                  ["数字经济", "领军人才", 10, 3]])
    run(settings, root)
    return settings, root


def test_a_problem_in_a_cell_a_merge_hides_marks_the_merge_the_clerk_sees(county):
    settings, _ = county
    (flag,) = query(settings, "SELECT * FROM audit.cross_period_flags WHERE file_path = ? AND NOT explained", KP_FEB)
    assert flag["source_row"] == 5 and flag["column"] == "ytd_investment"
    path = receipt_path(settings, KP_FEB)
    ws = load_workbook(path).worksheets[1]
    assert "J4:J5" in {str(r) for r in ws.merged_cells.ranges}
    # the visible first cell of the merge is yellow and carries the reason (J5 is hidden behind it)
    assert marks(ws) == {"J4": YELLOW}
    notes = comments(ws)
    assert set(notes) == {"J4"} and notes["J4"].startswith("第5行（J5）：【请核实】") and flag["reason"] in notes["J4"]
    assert [(l[0], l[1], l[6]) for l in problem_lines(path)] == [(5, "J5", "请核实")]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_shows_the_merge_marked(county, tmp_path):
    settings, _ = county
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "xlsx",
                    "--outdir", str(tmp_path / "out"), str(receipt_path(settings, KP_FEB))],
                   check=True, capture_output=True, timeout=180)
    ws = load_workbook(tmp_path / "out" / receipt_path(settings, KP_FEB).name).worksheets[1]
    assert ws["J4"].fill.fgColor.rgb == YELLOW and "第5行（J5）" in ws["J4"].comment.text


def test_a_file_named_for_a_month_its_dataset_does_not_report_gets_a_receipt_in_that_month(county):
    settings, _ = county
    (log,) = query(settings, "SELECT * FROM audit.ingest_log WHERE is_current AND file_path = ?", TALENT_FEB)
    assert log["partition_key"] is None and log["status"] == "rejected"
    path = settings.export_dir / "receipts" / "2023-02" / "2023-02__组织部__回执.xlsx"
    assert load_workbook(path).sheetnames == [SUMMARY_SHEET]
    said = facts(path)
    assert said["文件"] == "2023-02__组织部.xlsx" and said["报告期"] == "2023-02"
    assert "按季度报送" in said["退回原因"] and said["处理结果"].startswith("退回")
    assert "文件名" in said["怎么改"] and "应有的列" not in said["怎么改"]
    ws = load_workbook(path)[SUMMARY_SHEET]
    assert not any(str(c.value or "").startswith("应有的列") for row in ws.iter_rows() for c in row)


def test_the_receipts_print_on_a4_landscape_one_page_wide_with_their_header_rows(county):
    settings, _ = county
    wb = load_workbook(receipt_path(settings, KP_FEB))
    data = wb.worksheets[1]
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
        assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert data.print_title_rows == "$1:$3"  # the title, 填报单位 and header rows on every page
    assert data.freeze_panes == "A4"


# ------------------------------------------------------------------ a clerk's check


def _check(settings, root, *args, cwd: Path | None = None, monkeypatch=None):
    if cwd is not None:
        monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, ["check", *args], env=env_of(settings, root))


def test_a_receipt_of_a_file_with_many_problems_lists_the_first_ones_and_counts_the_rest(county, tmp_path):
    settings, root = county
    rows = [IO_HEADER] + [[f"9114{i:06d}", f"企业{i}", "造纸产业链", "宗爱镇", 10, 9, None, "否"]
                          for i in range(1, 1201)]  # each row: a credit code too short, a township not on the list
    source = write_csv(tmp_path / "industrial_output" / "2023-02__统计局.csv", rows)
    out = tmp_path / "回执.xlsx"
    result = _check(settings, root, str(source), "--receipt", str(out))
    assert result.exit_code != 2 and "回执已写出" in result.output, result.output
    wb = load_workbook(out)
    lines = problem_lines(out)
    assert len(lines) == MAX_LISTED and lines[0][:2] == (2, "A2")
    ws = wb[SUMMARY_SHEET]
    (rest,) = [c.value for row in ws.iter_rows() for c in row if str(c.value or "").startswith("另有")]
    assert rest.startswith(f"另有{2400 - MAX_LISTED:,}处问题未逐条列出"), rest
    assert "所在乡镇" in rest and "统一社会信用代码" in rest  # counted by column
    assert facts(out)["问题统计"].startswith("退回 2400 处（1200行）")
    data = wb.worksheets[1]
    assert len(comments(data)) == MAX_LISTED  # the first cells carry the reasons ...
    found = marks(data)  # ... and every cell is coloured
    assert {f"{c}{r}" for r in range(2, 1202) for c in "AD"} <= set(found) and found["A1201"] == RED


def test_a_sheet_of_theirs_named_like_the_problem_list_is_named_so_in_the_text(county, tmp_path):
    settings, root = county
    source = write_xlsx(tmp_path / "key_projects" / "2023-02__发改局.xlsx",
                        [KP_HEADER, kp_row("XM001", ytd=900), kp_row("XM004", total=-200)], sheet_name=SUMMARY_SHEET)
    out = tmp_path / "回执.xlsx"
    result = _check(settings, root, str(source), "--receipt", str(out))
    assert result.exit_code != 2 and "回执已写出" in result.output, result.output
    wb = load_workbook(out)
    assert wb.sheetnames == [SUMMARY_SHEET, "问题清单（原）"]
    how = facts(out)["怎么改"]
    assert "第二个工作表“问题清单（原）”" in how and "原名“问题清单”" in how
    assert marks(wb["问题清单（原）"]) == {"H3": RED}  # 总投资 of row 3


def test_a_receipt_whose_only_problem_is_a_missing_key_speaks_of_no_coloured_cell(county, tmp_path):
    settings, root = county
    # March: XM002 again, XM001 (February's) not at all: its only problem is the missing key
    source = write_csv(tmp_path / "key_projects" / "2023-03__发改局.csv", [KP_HEADER, kp_row("XM002", ytd=900)])
    out = tmp_path / "回执.xlsx"
    result = _check(settings, root, str(source), "--receipt", str(out))
    assert result.exit_code != 2 and "回执已写出" in result.output, result.output
    lines = problem_lines(out)
    assert [(l[0], l[6]) for l in lines] == [(None, "请核实")] and lines[0][3].startswith("XM001")
    how = facts(out)["怎么改"]
    assert "黄色" not in how and "红色" not in how and "批注" not in how
    assert marks(load_workbook(out).worksheets[1]) == {}


def test_check_typed_inside_a_datasets_folder_knows_the_dataset(county, tmp_path, monkeypatch):
    settings, root = county
    folder = tmp_path / "key_projects"
    write_csv(folder / "2023-02__发改局.csv", [KP_HEADER, kp_row("XM001", ytd=900)])
    result = _check(settings, root, "2023-02__发改局.csv", cwd=folder, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2023-02__发改局.csv：可以入库")


# ------------------------------------------------------------------ names


def test_receipt_names_never_collide_and_fit_a_file_system(tmp_path):
    long = "2023-02__" + "很长的单位名称" * 11 + ".xlsx"  # 240 bytes: its receipt's name would pass 255
    paths = ["key_projects/2023-02__A.xlsx", "key_projects/2023-02__a.xlsx",  # alike but for case
             "key_projects/2023-02__x\\y.xlsx", "key_projects/2023-02__x_y.xlsx",  # alike once made safe
             "key_projects/2023-02__b.xlsx", "key_projects/2023-02__b.csv",  # alike but for the extension
             "key_projects/2023-02__b_csv__key_projects.xlsx",  # a contrived name equal to another's long form
             f"key_projects/{long}", f"industrial_output/{long}"]
    names = receipt_names([FileRecord(p, p.split("/")[0], "2023-02", "rejected") for p in paths])
    assert len({n.casefold() for n in names.values()}) == len(paths)
    for name in names.values():
        assert name.endswith(SUFFIX) and len(name.encode()) <= NAME_LIMIT
        (tmp_path / name).write_bytes(b"x")  # the file system takes it
        (tmp_path / f".{name}.4194303.tmp").write_bytes(b"x")  # and the temporary file beside it
    assert names["key_projects/2023-02__b.xlsx"] != names["key_projects/2023-02__b.csv"]


def test_a_file_with_a_row_wider_than_excel_gets_a_receipt_saying_so(county, tmp_path):
    """A row of 20,014 fields (Excel has 16,384 columns; it used to fail the whole exports step):
    wider than a sheet may be (500 columns), the file is sent back, and its receipt says why."""
    rows = [KP_HEADER, kp_row("XM001"), kp_row("XM002", total=-5), kp_row("XM003") + ["x"] * 20000]
    source = write_csv(tmp_path / "key_projects" / "2023-02__发改局.csv", rows)
    out = tmp_path / "回执.xlsx"
    result = _check(county[0], county[1], str(source), "--receipt", str(out))
    assert result.exit_code != 2 and "回执已写出" in result.output, result.output
    wb = load_workbook(out)
    assert wb.sheetnames == [SUMMARY_SHEET]
    texts = [str(c.value) for row in wb[SUMMARY_SHEET].iter_rows() for c in row if c.value]
    assert any("第4行有20,014列，超过上限500列" in t for t in texts)


def test_a_receipt_whose_copy_of_their_sheet_cannot_be_written_lists_the_problems_alone(county, tmp_path,
                                                                                      monkeypatch):
    """Writing a clerk's own cells into their receipt failing (something in their file no one
    foresaw) costs that receipt its copy of the sheet, said in it; the month's other receipts and
    the county's exports go on."""
    import duckdb

    from shouyang_pipeline import pipeline
    from shouyang_pipeline.exports import receipts

    settings, _ = county
    real, calls = receipts._write_data, []

    def fails_first(ws, data, problems):
        calls.append(data.title)
        if len(calls) == 1:
            raise ValueError("injected fault")
        return real(ws, data, problems)

    monkeypatch.setattr(receipts, "_write_data", fails_first)
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        written, _ = pipeline.month_receipts(settings, conn, tmp_path, "2023-02")
    # February's projects (their copy failed) and talent (sent back whole: a problem list only)
    assert written == ["receipts/2023-02/2023-02__发改局__回执.xlsx", "receipts/2023-02/2023-02__组织部__回执.xlsx"]
    assert calls == ["Sheet1"]
    book = load_workbook(tmp_path / written[0])
    assert book.sheetnames == [SUMMARY_SHEET]
    texts = [str(c.value) for row in book[SUMMARY_SHEET].iter_rows() for c in row if c.value]
    assert any("原表未能写入本回执（ValueError），本回执只列出问题" in t for t in texts)
    assert problem_lines(tmp_path / written[0]) == problem_lines(receipt_path(settings, KP_FEB))  # as listed
