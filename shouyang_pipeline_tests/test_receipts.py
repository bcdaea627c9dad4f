"""Receipts (回执): what a department gets back for a file that needs its attention.

WAREHOUSE.md, "For the departments that send the files". One county of real files is run once
(`shouyang run`), and every receipt is compared with the audit tables of the same run, cell for
cell: an XLSX with title rows, a merged 乡镇 cell, its data on the second sheet after 填报说明 and
starting at column B, a GBK CSV and a UTF-8 CSV (row N of the receipt is record N), a file
rejected as a whole, a clean file, cross-period flags (one on a cell, one of a missing key), and a
remark that reads like a formula.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from shouyang_pipeline.catalog.datasets import DATASETS
from shouyang_pipeline.cli import main
from shouyang_pipeline.config import Settings
from shouyang_pipeline.exports.receipts import RED, SUMMARY_SHEET, YELLOW, FileRecord, receipt_names
from shouyang_pipeline.ingest.layout import find_layout
from shouyang_pipeline.ingest.read import read_grids
from shouyang_pipeline.pipeline import run_summary
from shouyang_pipeline.warehouse import publish

from conftest import CREDIT_CODES, IO_HEADER, KP_HEADER, PROJECT_REFERENCE, VILLAGES, kp_row, write_csv, write_xlsx

FORMULA_TEXT = '=HYPERLINK("http://x","y")'
BAD_CODE = "91140725MA0JUMFJH4"  # a wrong check character


def make_settings(root: Path) -> Settings:
    reference = root / "reference"
    shutil.copytree(PROJECT_REFERENCE, reference)
    with open(reference / "villages.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["village_code", "village_name", "township_name"])
        w.writerows(VILLAGES)
    (root / "raw").mkdir()
    return Settings(raw_dir=root / "raw", warehouse=root / "warehouse" / "warehouse.duckdb",
                    export_dir=root / "exports", archive_dir=root / "archive", reference_dir=reference)


def env_of(settings: Settings, root: Path) -> dict[str, str]:
    return {
        "SHOUYANG_RAW_DIR": str(settings.raw_dir), "SHOUYANG_WAREHOUSE": str(settings.warehouse),
        "SHOUYANG_EXPORT_DIR": str(settings.export_dir), "SHOUYANG_ARCHIVE_DIR": str(settings.archive_dir),
        "SHOUYANG_REFERENCE_DIR": str(settings.reference_dir), "DAGSTER_HOME": str(root / "dagster_home"),
        "COLUMNS": "200",
    }


def run(settings: Settings, root: Path) -> None:
    result = CliRunner().invoke(main, ["run"], env=env_of(settings, root))
    assert result.exit_code == 0, result.output


KP_XLSX = "key_projects/2023-02__发改局.xlsx"
KP_CSV = "key_projects/2023-01__发改局.csv"
IO_CSV = "industrial_output/2023-02__统计局.csv"
IO_CLEAN = "industrial_output/2023-01__统计局.csv"
WHOLE = "city_indicators/2023-02__市统计局.csv"


def io_row(code, name, value_added, previous, output=None, township="平头镇"):
    return [code, name, "造纸产业链", township, value_added, previous, output, "否"]


def write_county(raw: Path) -> None:
    """January: a GBK CSV of key projects (one rejected cell, remarks that read like formulas) and
    a clean industrial file. February: the key projects' workbook, a UTF-8 CSV with a bad credit
    code, and a file that is no table at all."""
    write_csv(raw / KP_CSV, [
        KP_HEADER + ["备注"],
        kp_row("XM001", ytd=900) + [None],
        kp_row("XM002", ytd=50) + [FORMULA_TEXT],
        kp_row("XM003", total="暂无") + ["+1 -2 @x"],  # H4: 总投资
        kp_row("XM099", name="一月才有的项目", ytd=10) + [None],  # no 备注: its absence in February is unexplained
    ], encoding="gbk")
    write_csv(raw / IO_CLEAN, [IO_HEADER, io_row(CREDIT_CODES[0], "甲造纸公司", 1000, 900),
                               io_row(CREDIT_CODES[1], "乙化工公司", 500, 450)])
    rows = [
        ["2023年1-2月全县重点项目进展情况表"],
        ["填报单位：县发改局　　　　单位：万元"],
        KP_HEADER + ["备注"],
        kp_row("XM001", ytd=800, township="平头镇") + [None],  # K4: less than January's 900 (a flag)
        kp_row("XM002", ytd=60, township=None) + [None],  # H4:H6 平头镇, merged
        kp_row("XM003", ytd=10, township=None) + [None],
        kp_row("XM004", total=-200) + [None],  # I7: rejected
        kp_row("XM005", township="宗爱镇") + [None],  # H8: not a township (a warning)
        kp_row("XM006", name="重复的项目") + [None],  # rows 9 and 10: the same key
        kp_row("XM006", name="重复的项目（二期）") + [None],
        kp_row("XM007") + ["公式样的备注"],
        ["填表人：张三　审核人：李四"],
    ]
    path = write_xlsx(raw / KP_XLSX, [[None] + r for r in rows], merges=("B1:P1", "H4:H6"), sheet_name="2月",
                      sheets_before={"填报说明": [["填报说明"], ["金额单位为万元，数据从第二个工作表填起"]]})
    wb = load_workbook(path)
    wb["2月"]["P11"].value = FORMULA_TEXT  # a remark typed as text ('=HYPERLINK…), not a formula
    wb["2月"]["P11"].data_type = "s"
    wb.create_sheet("空白")
    wb.save(path)
    write_csv(raw / IO_CSV, [IO_HEADER, io_row(CREDIT_CODES[0], "甲造纸公司", 2000, 1800),
                             io_row(BAD_CODE, "丙建材公司", 300, 280),  # A3
                             io_row(CREDIT_CODES[1], "乙化工公司", 1000, 900)])
    write_csv(raw / WHOLE, [["这不是一张表"], ["随便写的", "1"]])


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    root = tmp_path_factory.mktemp("county")
    settings = make_settings(root)
    write_county(settings.raw_dir)
    run(settings, root)
    return settings, root


def receipt_path(settings: Settings, file_path: str) -> Path:
    period = file_path.split("/")[1][:7]
    stem = file_path.split("/")[1].rsplit(".", 1)[0]
    return settings.export_dir / "receipts" / period / f"{stem}__回执.xlsx"


def problem_lines(path: Path) -> list[tuple]:
    """The problem list of a receipt: its lines without their number."""
    ws = load_workbook(path)[SUMMARY_SHEET]
    rows = [tuple(c.value for c in row) for row in ws.iter_rows()]
    start = next(i for i, r in enumerate(rows) if r[0] == "序号" and r[1] == "行号")
    out = []
    for r in rows[start + 1:]:
        if not isinstance(r[0], int):
            break
        out.append(r[1:8])
    return out


def facts(path: Path) -> dict[str, str]:
    ws = load_workbook(path)[SUMMARY_SHEET]
    return {row[0].value: row[2].value for row in ws.iter_rows(min_row=3, max_row=20) if row[0].value and row[2].value}


def marks(ws) -> dict[str, str]:
    """cell -> RED or YELLOW, of every filled cell."""
    out = {}
    for row in ws.iter_rows():
        for c in row:
            if c.fill is not None and c.fill.fill_type == "solid":
                out[c.coordinate] = c.fill.fgColor.rgb
    return out


def comments(ws) -> dict[str, str]:
    return {c.coordinate: c.comment.text for row in ws.iter_rows() for c in row if c.comment}


def query(settings: Settings, sql: str, *args) -> list[dict]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        cur = conn.execute(sql, list(args))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


# ------------------------------------------------------------------ which files get one


def test_a_receipt_for_every_file_that_needs_one_and_none_for_a_clean_file(county):
    settings, _ = county
    found = sorted(p.relative_to(settings.export_dir).as_posix() for p in (settings.export_dir / "receipts").rglob("*")
                   if p.is_file())
    assert found == sorted(receipt_path(settings, f).relative_to(settings.export_dir).as_posix()
                           for f in (KP_CSV, KP_XLSX, IO_CSV, WHOLE))
    assert not receipt_path(settings, IO_CLEAN).exists()
    assert not (settings.export_dir / publish.STAGING_DIR).exists()  # staged, then published with the rest
    summary = run_summary(settings)
    assert len(summary.receipts) == 4 and "receipts/2023-02/2023-02__发改局__回执.xlsx" in summary.receipts


# ------------------------------------------------------------------ an XLSX in their own layout


def test_the_workbook_receipt_is_their_sheet_at_its_own_cells_with_the_problems_marked(county):
    settings, _ = county
    path = receipt_path(settings, KP_XLSX)
    wb = load_workbook(path)
    assert wb.sheetnames == [SUMMARY_SHEET, "2月"]  # the sheet that was read, not 填报说明 or 空白
    ws = wb["2月"]
    source = load_workbook(settings.raw_dir / KP_XLSX)["2月"]
    # every value at the same row and column (the table starts at column B), the merges as they were
    for row in source.iter_rows():
        for c in row:
            assert ws[c.coordinate].value == c.value, c.coordinate
    assert ws["A3"].value is None and ws["B3"].value == "项目编号" and ws["I7"].value == -200
    assert {str(r) for r in ws.merged_cells.ranges} == {"B1:P1", "H4:H6"}
    assert ws["H5"].value is None and ws["H4"].value == "平头镇"  # the merge is not copied into its cells

    found = marks(ws)
    whole_rows = {f"{get_column_letter(c)}{r}": RED for r in (9, 10) for c in range(2, 17)}  # B..P
    assert found == {"I7": RED, "H8": YELLOW, "K4": YELLOW, **whole_rows}
    notes = comments(ws)
    assert set(notes) == {"I7", "H8", "K4", "B9", "B10"}
    assert "总投资必须大于0（当前值：-200）" in notes["I7"] and notes["I7"].startswith("【退回】")
    assert "宗爱镇" in notes["H8"] and notes["H8"].startswith("【提醒】")
    assert "比上期减少" in notes["K4"] and notes["K4"].startswith("【请核实】")
    assert "本文件第10行" in notes["B9"] and "本文件第9行" in notes["B10"]

    said = facts(path)
    assert said["文件"] == "2023-02__发改局.xlsx" and said["报告期"] == "2023-02"
    assert said["处理结果"].startswith("部分入库：读取8行数据，入库5行，退回3行")
    received = query(settings, "SELECT received_at FROM audit.ingest_log WHERE is_current AND file_path = ?", KP_XLSX)
    assert said["收到时间"].startswith(f"{received[0]['received_at']:%Y-%m-%d %H:%M}")
    lines = problem_lines(path)
    assert [(l[0], l[1], l[6]) for l in lines] == [
        (4, "K4", "请核实"), (7, "I7", "退回"), (8, "H8", "提醒"), (9, "整行", "退回"), (10, "整行", "退回"),
        (None, None, "请核实")]
    assert lines[1][2] == "总投资" and lines[1][3] == "-200" and lines[1][4] == "金额不大于0"


def test_a_key_missing_this_month_is_on_the_receipt_of_this_months_file_from_the_same_sender(county):
    settings, _ = county
    (missing,) = [l for l in problem_lines(receipt_path(settings, KP_XLSX)) if l[0] is None]
    assert missing[2] == "项目编号" and missing[3].startswith("XM099") and missing[6] == "请核实"
    assert "上期在报，本期未报送" in missing[5] and KP_CSV in missing[5]
    # no 备注 of this month can explain it (there is no row to hold one): add it, or tell the county
    assert missing[5].endswith("：漏报的请补上后重新报送；确已不再报送的，请告知县政府办")
    assert "备注" not in missing[5] and "说明原因" not in missing[5]
    how = facts(receipt_path(settings, KP_XLSX))["怎么改"]
    assert ("“请核实”中上期在报、本期未报的，漏报的请补上后重新报送，确已不再报送的，请告知县政府办；"
            "其余是与上期对不上的数字，请改正后重新报送，或在该行“备注”列中说明原因") in how
    flags = query(settings, "SELECT * FROM audit.cross_period_flags WHERE rule = 'missing_key'")
    assert [(f["period"], f["file_path"], f["source_row"]) for f in flags] == [("2023-02", KP_CSV, 5)]
    # not on January's receipt, whose file is the one the flag's row is in
    assert all(l[6] != "请核实" for l in problem_lines(receipt_path(settings, KP_CSV)))


# ------------------------------------------------------------------ the marks are the audit tables'


def _layout(settings: Settings, file_path: str):
    dataset = DATASETS[file_path.split("/")[0]]
    return find_layout(read_grids((settings.raw_dir / file_path).read_bytes(), Path(file_path).suffix), dataset)


def test_every_red_and_yellow_cell_is_where_the_audit_tables_say_and_nowhere_else(county):
    settings, _ = county
    checked = 0
    for file_path in (KP_CSV, KP_XLSX, IO_CSV):
        wb = load_workbook(receipt_path(settings, file_path))
        ws = wb.worksheets[1]
        layout = _layout(settings, file_path)
        header = layout.grid.rows[layout.header_row][1]
        used = [j + 1 for j, v in enumerate(header) if v is not None]
        span = range(min(used), max(used) + 1)
        expected: dict[str, str] = {}
        reasons: dict[str, list[str]] = {}
        for r in query(settings, "SELECT * FROM audit.rejected_rows WHERE file_path = ?", file_path):
            cells = ([f"{get_column_letter(c)}{r['source_row']}" for c in span]
                     if r["rule"] == "duplicate_key" or r["source_cell"] is None else [r["source_cell"]])
            expected.update({c: RED for c in cells})
            reasons.setdefault(r["source_cell"] or cells[0], []).append(r["reason"])
        for w in query(settings, "SELECT * FROM audit.cell_warnings WHERE file_path = ?", file_path):
            expected.setdefault(w["source_cell"], YELLOW)
            reasons.setdefault(w["source_cell"], []).append(w["reason"])
        # (a missing key's file_path is the previous period's file; it has no cell in any file:
        # `test_a_key_missing_this_month_is_on_the_receipt_of_this_months_file_from_the_same_sender`)
        for f in query(settings, "SELECT * FROM audit.cross_period_flags WHERE file_path = ? AND NOT explained "
                                 "AND rule <> 'missing_key'", file_path):
            cell = f"{get_column_letter(layout.column(f['column']).index + 1)}{f['source_row']}"
            expected.setdefault(cell, YELLOW)
            reasons.setdefault(cell, []).append(f["reason"])
        assert marks(ws) == expected, file_path
        notes = comments(ws)
        for cell, texts in reasons.items():
            for text in texts:
                assert text in notes[cell], (file_path, cell)
        checked += len(expected)
    assert checked > 30


# ------------------------------------------------------------------ CSV: row N is record N


@pytest.mark.parametrize("file_path, encoding, cell", [(KP_CSV, "gb18030", "H4"), (IO_CSV, "utf-8", "A3")])
def test_a_csv_receipt_holds_its_records_row_n_being_record_n(county, file_path, encoding, cell):
    settings, _ = county
    wb = load_workbook(receipt_path(settings, file_path))
    ws = wb.worksheets[1]
    assert ws.title == Path(file_path).stem
    records = list(csv.reader(io.StringIO((settings.raw_dir / file_path).read_bytes().decode(encoding))))
    assert ws.max_row == len(records)
    for n, record in enumerate(records, start=1):
        assert [c.value for c in ws[n]][:len(record)] == [v if v != "" else None for v in record], n
    assert marks(ws) == {cell: RED}
    (line,) = problem_lines(receipt_path(settings, file_path))
    assert line[1] == cell and line[0] == int(cell[1:]) and line[6] == "退回"


# ------------------------------------------------------------------ a file rejected as a whole


def test_a_file_rejected_as_a_whole_gets_the_problem_list_only_with_the_layout_expected(county):
    settings, _ = county
    path = receipt_path(settings, WHOLE)
    wb = load_workbook(path)
    assert wb.sheetnames == [SUMMARY_SHEET]
    said = facts(path)
    assert said["处理结果"].startswith("退回") and "找不到表头行" in said["退回原因"]
    (line,) = problem_lines(path)
    assert line[0] is None and line[1] is None and line[6] == "退回" and "找不到表头行" in line[5]
    text = "\n".join(str(c.value) for row in wb[SUMMARY_SHEET].iter_rows() for c in row if c.value is not None)
    for f in DATASETS["city_indicators"].fields:
        assert f.header in text


# ------------------------------------------------------------------ nothing becomes a formula


def test_text_that_reads_like_a_formula_stays_text_and_no_receipt_holds_a_formula_or_a_link(county):
    settings, _ = county
    seen = []
    for path in (settings.export_dir / "receipts").rglob("*.xlsx"):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            assert not [n for n in names if "externalLink" in n or "/_rels/" in n and "hyperlink" in z.read(n).decode()]
            for n in names:
                if n.startswith("xl/worksheets/sheet"):
                    assert "<f>" not in z.read(n).decode() and "<f " not in z.read(n).decode(), (path, n)
        for ws in load_workbook(path).worksheets:
            for row in ws.iter_rows():
                for c in row:
                    assert c.data_type != "f", (path, c.coordinate)
                    if isinstance(c.value, str) and c.value[:1] in "=+-@":
                        assert c.data_type == "s"
                        seen.append(c.value)
    assert seen.count(FORMULA_TEXT) >= 2  # the workbook's remark and the CSV's record 3
    assert "+1 -2 @x" in seen
    ws = load_workbook(receipt_path(settings, KP_XLSX))["2月"]
    assert ws["P11"].value == FORMULA_TEXT and ws["P11"].data_type == "s"


# ------------------------------------------------------------------ shouyang check --receipt


def _state(settings: Settings) -> dict:
    def files(root: Path):
        return sorted((p.relative_to(root).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
                      for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return {"warehouse": hashlib.sha256(settings.warehouse.read_bytes()).hexdigest(),
            "archive": files(settings.archive_dir), "exports": files(settings.export_dir)}


@pytest.mark.parametrize("file_path", [KP_XLSX, KP_CSV, WHOLE])
def test_check_writes_the_same_receipt_and_loads_nothing(county, tmp_path, file_path):
    settings, root = county
    before = _state(settings)
    out = tmp_path / "自查回执.xlsx"
    result = CliRunner().invoke(main, ["check", str(settings.raw_dir / file_path), "--receipt", str(out)],
                                env=env_of(settings, root))
    assert result.exit_code == 1, result.output
    assert "回执已写出" in result.output
    assert _state(settings) == before
    published = receipt_path(settings, file_path)
    assert problem_lines(out) == problem_lines(published)
    mine, theirs = load_workbook(out), load_workbook(published)
    assert mine.sheetnames == theirs.sheetnames
    for a, b in zip(mine.worksheets[1:], theirs.worksheets[1:]):
        assert marks(a) == marks(b) and comments(a) == comments(b)
        assert [[c.value for c in r] for r in a.iter_rows()] == [[c.value for c in r] for r in b.iter_rows()]
    assert facts(out)["收到时间"].startswith("尚未报送")
    if file_path == KP_XLSX:
        assert "与上期对不上的数字" in result.output and "XM099" in result.output


def test_check_with_a_receipt_that_cannot_be_written_says_so_and_exits_2(county, tmp_path):
    settings, root = county
    env = env_of(settings, root)
    good = str(settings.raw_dir / IO_CLEAN)
    before = hashlib.sha256((settings.raw_dir / IO_CLEAN).read_bytes()).hexdigest()
    for where, words in ((tmp_path / "没有这个文件夹" / "回执.xlsx", "不存在"), (tmp_path / "回执.txt", ".xlsx结尾"),
                         (tmp_path, "文件夹"), (Path(good), "要检查的文件本身")):
        result = CliRunner().invoke(main, ["check", good, "--receipt", str(where)], env=env)
        assert result.exit_code == 2, result.output
        assert words in result.output
    assert hashlib.sha256((settings.raw_dir / IO_CLEAN).read_bytes()).hexdigest() == before  # never overwritten
    out = tmp_path / "干净.xlsx"
    result = CliRunner().invoke(main, ["check", good, "--receipt", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert problem_lines(out) == [] and facts(out)["处理结果"].startswith("可以入库")


# ------------------------------------------------------------------ removed when no longer needed


def test_a_receipt_goes_once_its_file_is_corrected_or_removed(tmp_path):
    settings = make_settings(tmp_path)
    raw = settings.raw_dir
    write_csv(raw / IO_CSV, [IO_HEADER, io_row(CREDIT_CODES[0], "甲造纸公司", 2000, 1800),
                             io_row(BAD_CODE, "丙建材公司", 300, 280)])
    write_xlsx(raw / "key_projects" / "2023-03__发改局.xlsx", [KP_HEADER, kp_row("XM001"), kp_row("XM002", total=-1)])
    write_xlsx(raw / "key_projects" / "2023-02__发改局.xlsx", [KP_HEADER, kp_row("XM001")])
    run(settings, tmp_path)
    first = receipt_path(settings, IO_CSV)
    removed = receipt_path(settings, "key_projects/2023-03__发改局.xlsx")
    assert first.exists() and removed.exists()
    assert not receipt_path(settings, "key_projects/2023-02__发改局.xlsx").exists()
    # corrected: the bad code put right; removed: March's only file taken away
    write_csv(raw / IO_CSV, [IO_HEADER, io_row(CREDIT_CODES[0], "甲造纸公司", 2000, 1800),
                             io_row(CREDIT_CODES[2], "丙建材公司", 300, 280)])
    (raw / "key_projects" / "2023-03__发改局.xlsx").unlink()
    run(settings, tmp_path)
    assert not first.exists() and not removed.exists()
    assert not (settings.export_dir / "receipts").exists() or not any((settings.export_dir / "receipts").rglob("*"))
    assert run_summary(settings).receipts == ()


# ------------------------------------------------------------------ names and staging


def test_two_files_of_one_period_with_one_name_get_two_receipts():
    records = [FileRecord("industrial_output/2023-02__统计局.xlsx", "industrial_output", "2023-02", "partial"),
               FileRecord("city_indicators/2023-02__统计局.xlsx", "city_indicators", "2023-02", "rejected"),
               FileRecord("city_indicators/2023-02__统计局.csv", "city_indicators", "2023-02", "rejected"),
               FileRecord("key_projects/2023-02__发改局.xlsx", "key_projects", "2023-02", "partial")]
    names = receipt_names(records)
    assert names == {
        "industrial_output/2023-02__统计局.xlsx": "2023-02__统计局__industrial_output__回执.xlsx",
        "city_indicators/2023-02__统计局.xlsx": "2023-02__统计局_xlsx__city_indicators__回执.xlsx",
        "city_indicators/2023-02__统计局.csv": "2023-02__统计局_csv__city_indicators__回执.xlsx",
        "key_projects/2023-02__发改局.xlsx": "2023-02__发改局__回执.xlsx",
    }


def test_exports_in_folders_are_staged_published_and_deleted_with_their_folders(tmp_path):
    work, published, export_dir = tmp_path / ".work" / "w.duckdb", tmp_path / "w.duckdb", tmp_path / "exports"
    work.parent.mkdir()
    duckdb.connect(str(work)).close()
    with publish.stage_exports(work, published, export_dir, "run-1") as stage:
        (stage.dir / "receipts" / "2023-02").mkdir(parents=True)
        path = stage.dir / "receipts" / "2023-02" / "a__回执.xlsx"
        path.write_bytes(b"x")
        assert stage.add([path]) == [export_dir / "receipts" / "2023-02" / "a__回执.xlsx"]
        with pytest.raises(ValueError):
            stage.remove("receipts/../a.xlsx")
    publish.publish_run(work, published, export_dir, "run-1")
    assert (export_dir / "receipts" / "2023-02" / "a__回执.xlsx").read_bytes() == b"x"
    with publish.stage_exports(work, published, export_dir, "run-2") as stage:
        stage.remove("receipts/2023-02/a__回执.xlsx")
    done = publish.publish_run(work, published, export_dir, "run-2")
    assert done.deleted == [export_dir / "receipts" / "2023-02" / "a__回执.xlsx"]
    assert not (export_dir / "receipts").exists()


# ------------------------------------------------------------------ a second program opens it


def test_libreoffice_opens_a_receipt(county, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed here; CI installs libreoffice-calc")
    settings, _ = county
    source = receipt_path(settings, KP_XLSX)
    work = tmp_path / "lo"
    work.mkdir()
    shutil.copy(source, work / "receipt.xlsx")
    out = tmp_path / "out"
    proc = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                           "--convert-to", "xlsx", "--outdir", str(out), str(work / "receipt.xlsx")],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    wb = load_workbook(out / "receipt.xlsx")
    assert wb.sheetnames == [SUMMARY_SHEET, "2月"]
    ws = wb["2月"]
    assert ws["I7"].value == -200 and ws["P11"].value == FORMULA_TEXT and ws["P11"].data_type == "s"
    assert ws["I7"].fill.fgColor.rgb == RED and ws["H8"].fill.fgColor.rgb == YELLOW
    assert "总投资必须大于0" in ws["I7"].comment.text
    assert problem_lines(out / "receipt.xlsx") == problem_lines(source)
