"""`shouyang template`: the form a department fills in next (WAREHOUSE.md, "For the departments
that send the files").

For every dataset: a warehouse is made in tmp_path from real files, as a run loads them; the
template is generated from it, filled in with openpyxl as a clerk would (the blank figures with
valid values), saved into the raw dir under the template's own name and ingested: nothing
rejected, no warning, the pre-filled keys those of the latest period; in January (a quarterly
dataset's March) from the December before, without its figures. The drop-downs list exactly
the reference values (read back from the data validations, ranges resolved in the hidden
sheet); numbers and dates are validated; nothing from the data becomes a formula. Once, the
filled templates are re-saved by LibreOffice (a real second writer) and still load.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner

from shouyang_pipeline.catalog.datasets import DATASETS
from shouyang_pipeline.catalog.rules import GeCol, LeCol, Lookup, OneOf
from shouyang_pipeline.cli import main
from shouyang_pipeline.exports import forms
from shouyang_pipeline.exports.forms import GUIDE_SHEET, LIST_SHEET, template_name, write_template
from shouyang_pipeline.ingest.discover import discover
from shouyang_pipeline.ingest.period import ingest_period
from shouyang_pipeline.reference import Reference
from shouyang_pipeline.warehouse.ddl import ensure_tables
from shouyang_pipeline.warehouse.load import load_period, load_reference
from shouyang_pipeline_tests.conftest import (CREDIT_CODES, IO_HEADER, KP_HEADER, VI_HEADER, VILLAGES, kp_row,
                                              write_csv, write_xlsx)
from shouyang_pipeline_tests.test_cli import _env

CLICK_ENGLISH = ("Usage:", "Error:", "Traceback", "Invalid value", "Options:")
HOSTILE = "=cmd|' /C calc'!A0"

SM_HEADER = ["煤矿名称", "工作面编号", "工作面名称", "工作面类型", "建设状态", "建成时间", "是否5G覆盖", "本年累计完成投资"]
ZO_HEADER = ["园区名称", "固定资产投资本年累计", "税收收入本年累计", "营业性收入本年累计", "“四上”企业数",
             "本年新增“四上”企业", "从业人员"]
TA_HEADER = ["产业领域", "人才类别", "本年累计对接人数", "本年累计引进培育人数"]
CI_HEADER = ["指标名称", "全市数值"]

SUBMITTER = {"key_projects": "发改局", "industrial_output": "统计局", "city_indicators": "统计局",
             "village_income": "平头镇", "smart_mines": "能源局", "zone_operations": "平头融合发展区",
             "talent": "组织部"}
# Another sender's file of the same dataset and period: never in the template.
OTHER = {"village_income": "宗艾镇", "zone_operations": "朝阳煤机制造专业镇"}


def _rows(dataset: str, variant: int = 0) -> list[list]:
    """A real file's rows (header first) of `dataset` from its SUBMITTER; `variant` 1: another set."""
    if dataset == "key_projects":
        rows = [kp_row("XM001", "甲项目"),
                kp_row("XM002", "乙项目", level="县级", sector="城市建设", chain=None, zone=None, township="宗艾镇",
                       total=800, plan=300, ytd=50, status="新开工", productive="否", start="2023-02-01")]
        if variant:
            rows = [kp_row("XM009", "丙项目", total=2000, plan=900, ytd=700, status="竣工")] + rows[:1]
        return [KP_HEADER + ["备注"]] + [r + ["上期说明"] for r in rows]
    if dataset == "industrial_output":
        rows = [[CREDIT_CODES[0], "甲企业", "造纸产业链", "平头镇", 100, 90, 500, "是"],
                [CREDIT_CODES[1], "乙企业", None, "宗艾镇", 50, 40, None, "否"]]
        return [IO_HEADER] + (rows[1:] + [[CREDIT_CODES[2], "丙企业", "化工产业链", None, 70, 60, 300, None]]
                              if variant else rows)
    if dataset == "city_indicators":
        return [CI_HEADER, ["规上工业增加值增速", 9.5]]
    if dataset == "village_income":
        township = SUBMITTER[dataset]
        rows = [[code, name, town, 30 + i, 50 + i, "光伏" if i % 2 else None]
                for i, (code, name, town) in enumerate(VILLAGES) if town == township]
        return [VI_HEADER] + rows
    if dataset == "smart_mines":
        rows = [["段王煤矿", "DW-C01", "段王一采", "采煤", "已建成", date(2022, 8, 20) if not variant else date(2022, 8, 3),
                 "是", 120],
                ["开元煤矿", "KY-J01", "开元一掘", "掘进", "在建", None, "否", 30],
                ["平舒煤矿", "PS-J02", None, "掘进", "未开工", None, None, None]]
        return [SM_HEADER] + (rows[:2] if variant else rows)
    if dataset == "zone_operations":
        return [ZO_HEADER, [SUBMITTER[dataset], 1000, 200, 3000, 40, 5, 8000]]
    if dataset == "talent":
        rows = [["数字经济", "领军人才", 10, 3], ["数字经济", "实用型人才", 40, 12], ["智能制造", "领军人才", 5, 1],
                ["现代农业", "实用型人才", 60, 30]]
        return [TA_HEADER] + (rows[1:] if variant else rows)
    raise AssertionError(dataset)


def _other_rows(dataset: str) -> list[list]:
    if dataset == "village_income":
        return [VI_HEADER] + [[c, n, t, 41, 61, None] for c, n, t in VILLAGES if t == OTHER[dataset]]
    return [ZO_HEADER, [OTHER[dataset], 10, 2, 30, 4, 1, 80]]


def _write_files(raw: Path, dataset: str, period: str, variant: int = 0) -> Path:
    path = write_xlsx(raw / dataset / f"{period}__{SUBMITTER[dataset]}.xlsx", _rows(dataset, variant))
    if dataset in OTHER:
        write_csv(raw / dataset / f"{period}__{OTHER[dataset]}.csv", _other_rows(dataset))
    return path


def _publish(settings, *, clean: bool = True) -> None:
    """Every dataset-period of the raw dir into the published warehouse, as a run loads them
    (`clean`: asserting that nothing is rejected or warned about)."""
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(settings.warehouse))
    try:
        ensure_tables(conn)
        load_reference(conn, settings.reference_dir)
        reference = Reference.load(settings.reference_dir)
        files = discover(settings.raw_dir)
        for dataset, period in sorted({f.dataset_period for f in files if f.dataset_period}):
            mine = [f for f in files if f.dataset_period == (dataset, period)]
            result = ingest_period(settings, dataset, period, reference, files=mine)
            if clean:
                assert result.rejected.empty and result.warnings.empty, (dataset, period, result.rejected)
            load_period(conn, result)
    finally:
        conn.close()


def _staged_keys(settings, dataset: str, source_file: str) -> list[tuple]:
    key = ", ".join(f'"{k}"' for k in DATASETS[dataset].key)
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return [tuple(r) for r in conn.execute(
            f"SELECT {key} FROM staging.{dataset} WHERE source_file = ? ORDER BY source_row", [source_file]).fetchall()]


# ------------------------------------------------------------------ reading a template back


def _data_sheet(wb, dataset: str):
    return wb[DATASETS[dataset].title]


def _header(ws) -> list[str]:
    return [c.value for c in ws[3] if c.value is not None]


def _records(ws, dataset: str) -> list[dict]:
    """The rows under the header, by column name, until the first blank row."""
    fields = DATASETS[dataset].all_fields
    out = []
    for values in ws.iter_rows(min_row=4, max_col=len(fields), values_only=True):
        if all(v is None for v in values):
            break
        out.append({f.name: v for f, v in zip(fields, values)})
    return out


def _keys(dataset: str, records: list[dict]) -> list[tuple]:
    return [tuple(r[k] for k in DATASETS[dataset].key) for r in records]


def _validations(wb, ws) -> dict[str, tuple[str, str | None, object]]:
    """Column letter -> (type, operator, the list's values or formula1) of the data sheet."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            letter = re.match(r"[A-Z]+", rng).group(0)
            assert rng.startswith(f"{letter}4:"), rng  # from the first data row
            value = dv.formula1
            if dv.type == "list":
                value = _resolve(wb, dv.formula1)
            out[letter] = (dv.type, dv.operator, value)
    return out


def _resolve(wb, formula: str) -> list[str]:
    """A list validation's values: inline (`"a,b"`) or a range of another sheet."""
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    m = re.fullmatch(r"'?(?P<sheet>[^'!]+)'?!\$(?P<c1>[A-Z]+)\$(?P<r1>\d+):\$(?P<c2>[A-Z]+)\$(?P<r2>\d+)", formula.lstrip("="))
    assert m, formula
    sheet = wb[m["sheet"]]
    assert sheet.sheet_state == "hidden"
    assert m["c1"] == m["c2"]
    return [sheet[f"{m['c1']}{r}"].value for r in range(int(m["r1"]), int(m["r2"]) + 1)]


def _reference_names(settings, list_name: str) -> list[str]:
    column = {"townships": "township_name", "industry_chains": "chain_name", "zones": "zone_name",
              "mines": "mine_name"}[list_name]
    with open(settings.reference_dir / f"{list_name}.csv", encoding="utf-8-sig") as fh:
        return [row[column] for row in csv.DictReader(fh)]


# ------------------------------------------------------------------ filling in, as a clerk does


def _value_for(f, record: dict):
    """A valid value for a blank cell of column `f` (the figures the clerk reports)."""
    if f.kind == "money":
        if any(isinstance(r, GeCol) for r in f.rules):
            return 500.5
        return 300.25 if any(isinstance(r, LeCol) for r in f.rules) else 400.75
    if f.kind == "integer":
        return 1 if any(isinstance(r, LeCol) for r in f.rules) else 70
    if f.kind == "percent":
        return 8.8
    if f.kind == "date":
        return datetime(2023, 1, 5)
    if f.kind == "boolean":
        return "是"
    return "新填内容"


def _fill(path: Path, dataset: str, out: Path) -> Path:
    """Fill every blank required cell and every blank figure of the pre-filled rows; save as `out`."""
    wb = openpyxl.load_workbook(path)
    ws = _data_sheet(wb, dataset)
    fields = DATASETS[dataset].all_fields
    for row in ws.iter_rows(min_row=4, max_col=len(fields)):
        if all(c.value is None for c in row):
            break
        record = {f.name: c.value for f, c in zip(fields, row)}
        for f, cell in zip(fields, row):
            if cell.value is None and (f.required or f.kind in ("money", "integer", "percent")):
                cell.value = _value_for(f, record)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def _ingest(settings, dataset: str, period: str):
    reference = Reference.load(settings.reference_dir)
    files = [f for f in discover(settings.raw_dir) if f.dataset_period == (dataset, period)]
    return ingest_period(settings, dataset, period, reference, files=files, archive=False)


def _assert_loads(settings, dataset: str, period: str, rows: int, name: str | None = None) -> None:
    result = _ingest(settings, dataset, period)
    log = result.log.set_index("file_path")
    if name:
        entry = log.loc[f"{dataset}/{name}"]
        assert entry.status == "loaded", entry.message
        assert entry.rows_loaded == rows and entry.rows_rejected == 0, entry.message
    assert result.rejected.empty, result.rejected[["source_cell", "value", "reason"]].to_string()
    assert result.warnings.empty, result.warnings[["source_cell", "value", "reason"]].to_string()


# ------------------------------------------------------------------ every dataset


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_a_filled_template_loads_with_the_latest_periods_keys(settings, tmp_path, dataset):
    first = _write_files(settings.raw_dir, dataset, "2023-03", variant=1)
    latest = _write_files(settings.raw_dir, dataset, "2023-06" if DATASETS[dataset].cadence == "quarterly" else "2023-05")
    _publish(settings)
    period = "2023-09" if DATASETS[dataset].cadence == "quarterly" else "2023-06"
    made = write_template(settings, dataset, period, SUBMITTER[dataset], tmp_path / "out")
    assert made.path == tmp_path / "out" / f"{period}__{SUBMITTER[dataset]}.xlsx"
    assert made.source_period == latest.stem[:7]

    wb = openpyxl.load_workbook(made.path)
    assert wb.sheetnames[:2] == [GUIDE_SHEET, DATASETS[dataset].title]
    ws = _data_sheet(wb, dataset)
    ds = DATASETS[dataset]
    label = f"2023年1-{int(period[5:])}月"
    assert ws["A1"].value.startswith(label) and ws["A1"].value.endswith(ds.title)
    assert ws["A2"].value.startswith(f"填报单位：{SUBMITTER[dataset]}")
    assert ("单位：万元" in ws["A2"].value) == any(f.kind == "money" for f in ds.fields)
    assert _header(ws) == [f.header for f in ds.fields] + ["备注"]
    assert ws.freeze_panes == "A4"

    records = _records(ws, dataset)
    latest_rel = latest.relative_to(settings.raw_dir).as_posix()
    assert _keys(dataset, records) == _staged_keys(settings, dataset, latest_rel)
    assert _keys(dataset, records) != _staged_keys(settings, dataset, first.relative_to(settings.raw_dir).as_posix()) \
        or dataset in ("city_indicators", "zone_operations", "village_income")
    for r in records:
        for f in ds.cumulative_fields:
            assert r[f.name] is None, (f.name, r)
        assert r["remarks"] is None
    if dataset == "key_projects":
        assert [r["total_investment"] for r in records] == [1000, 800]
        assert [r["annual_plan_investment"] for r in records] == [500, 300]  # fixed within the year
        assert [r["status"] for r in records] == ["续建", "新开工"]
        assert records[0]["start_date"] == datetime(2023, 3, 15) and records[1]["is_productive"] == "否"
    if dataset == "village_income":
        assert [r["village_code"] for r in records] == [c for c, _, t in VILLAGES if t == "平头镇"]
        assert all(isinstance(r["village_code"], str) for r in records)
    if dataset == "smart_mines":
        assert [r["status"] for r in records] == ["已建成", "在建", "未开工"]
        assert records[0]["completed_on"] == datetime(2022, 8, 20)

    guide = "\n".join(str(c.value) for row in wb[GUIDE_SHEET].iter_rows() for c in row if c.value is not None)
    for f in ds.all_fields:
        assert f.header in guide and f.description in guide
        for alias in f.aliases:
            assert alias in guide
    assert made.path.name in guide and "备注" in guide and "截止" in guide
    assert "必填" in guide and "选填" in guide

    raw_name = made.path.name
    _fill(made.path, dataset, settings.raw_dir / dataset / raw_name)
    _assert_loads(settings, dataset, period, len(records), raw_name)


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_the_first_period_of_a_year_comes_from_the_december_before_without_its_figures(settings, tmp_path, dataset):
    _write_files(settings.raw_dir, dataset, "2022-09", variant=1)
    december = _write_files(settings.raw_dir, dataset, "2022-12")
    _publish(settings)
    period = "2023-03" if DATASETS[dataset].cadence == "quarterly" else "2023-01"
    made = write_template(settings, dataset, period, SUBMITTER[dataset], tmp_path)
    assert made.source_period == "2022-12"
    wb = openpyxl.load_workbook(made.path)
    ws = _data_sheet(wb, dataset)
    records = _records(ws, dataset)
    assert _keys(dataset, records) == _staged_keys(settings, dataset, december.relative_to(settings.raw_dir).as_posix())
    ds = DATASETS[dataset]
    for r in records:
        for f in ds.fields:
            if f.kind in ("money", "integer", "percent") and f.name != "total_investment":
                assert r[f.name] is None, (f.name, r)
    if dataset == "key_projects":
        assert [r["total_investment"] for r in records] == [1000, 800]  # a project's total holds across years
    assert ws["A1"].value.startswith("2023年1月" if period == "2023-01" else "2023年1-3月")
    guide = "\n".join(str(c.value) for row in wb[GUIDE_SHEET].iter_rows() for c in row if c.value is not None)
    assert "上年2022-12" in guide
    _fill(made.path, dataset, settings.raw_dir / dataset / made.path.name)
    _assert_loads(settings, dataset, period, len(records), made.path.name)


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_drop_downs_list_exactly_the_reference_values_and_figures_are_validated(settings, tmp_path, dataset):
    _write_files(settings.raw_dir, dataset, "2023-03")
    _publish(settings)
    made = write_template(settings, dataset, "2023-06", SUBMITTER[dataset], tmp_path)
    wb = openpyxl.load_workbook(made.path)
    validations = _validations(wb, _data_sheet(wb, dataset))
    for j, f in enumerate(DATASETS[dataset].all_fields):
        letter = openpyxl.utils.get_column_letter(j + 1)
        kind, operator, value = validations.get(letter, (None, None, None))
        one_of = next((r for r in f.rules if isinstance(r, OneOf)), None)
        lookup = next((r for r in f.rules if isinstance(r, Lookup)), None)
        if one_of:
            assert (kind, value) == ("list", list(one_of.choices)), f.name
        elif lookup:
            assert (kind, value) == ("list", _reference_names(settings, lookup.list_name)), f.name
        elif f.kind == "boolean":
            assert (kind, value) == ("list", ["是", "否"]), f.name
        elif f.name == "village_name":
            assert (kind, value) == ("list", [n for _, n, t in VILLAGES if t == "平头镇"])
        else:
            assert kind != "list", f.name
        if f.kind == "money":
            assert kind == "decimal" and value == "0", f.name
            assert operator == ("greaterThan" if f.name == "total_investment" else "greaterThanOrEqual"), f.name
        if f.kind == "integer":
            assert (kind, operator, value) == ("whole", "greaterThanOrEqual", "0"), f.name
        if f.kind == "percent":
            assert kind == "decimal", f.name
        if f.kind == "date":
            assert kind == "date", f.name
    if dataset == "smart_mines":  # not after the period's end
        dv = next(dv for dv in _data_sheet(wb, dataset).data_validations.dataValidation if str(dv.sqref).startswith("F4"))
        assert float(dv.formula2) == (date(2023, 6, 30) - date(1899, 12, 30)).days


def test_long_lists_go_to_a_hidden_sheet_and_a_template_without_a_warehouse_lists_the_townships_villages(
        settings, tmp_path):
    villages = [(f"1407251032{i:02d}", f"平头镇第{i}号示范行政村", "平头镇") for i in range(1, 41)]
    with open(settings.reference_dir / "villages.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([("village_code", "village_name", "township_name"), *villages])
    assert not settings.warehouse.exists()
    made = write_template(settings, "village_income", "2023-06", "平头镇", tmp_path)
    assert made.source_period is None and made.rows == 40
    wb = openpyxl.load_workbook(made.path)
    assert wb[LIST_SHEET].sheet_state == "hidden"
    ws = _data_sheet(wb, "village_income")
    validations = _validations(wb, ws)
    assert validations["B"][2] == [n for _, n, _ in villages]  # 村名称: a range of the hidden sheet
    assert validations["C"][2] == _reference_names(settings, "townships")
    assert [(r["village_code"], r["village_name"], r["township"]) for r in _records(ws, "village_income")] == villages
    _fill(made.path, "village_income", settings.raw_dir / "village_income" / made.path.name)
    _assert_loads(settings, "village_income", "2023-06", 40, made.path.name)


def test_without_a_warehouse_the_known_rows_are_written_and_the_lists_come_from_the_reference_dir(settings, tmp_path):
    talent = write_template(settings, "talent", "2023-06", "组织部", tmp_path)
    records = _records(_data_sheet(openpyxl.load_workbook(talent.path), "talent"), "talent")
    assert len(records) == 14 and {(r["field"], r["talent_kind"]) for r in records} == {
        (a, b) for a in DATASETS["talent"].field("field").rules[0].choices
        for b in ("领军人才", "实用型人才")}
    zone = write_template(settings, "zone_operations", "2023-05", "平头融合区", tmp_path)  # an alias
    assert [r["zone"] for r in _records(_data_sheet(openpyxl.load_workbook(zone.path), "zone_operations"),
                                        "zone_operations")] == ["平头融合发展区"]
    assert "2023年6月5日" in zone.due  # the park's line of the calendar, as a run reads the alias
    # asked for without a sender: the calendar's one sender of the dataset names and heads it
    projects = write_template(settings, "key_projects", "2023-05", None, tmp_path)
    assert projects.path.name == "2023-05__发改局.xlsx" and projects.rows == 0 and projects.submitter == "发改局"
    ws = _data_sheet(openpyxl.load_workbook(projects.path), "key_projects")
    assert _records(ws, "key_projects") == [] and _header(ws)[-1] == "备注"
    assert "填报单位：发改局\u3000\u3000单位：万元" in [c for row in ws.iter_rows(max_row=3, values_only=True) for c in row]
    assert str(settings.reference_dir) in projects.lists_from
    assert "2023年6月5日" in projects.due
    # a dataset every township sends: which one is not guessed
    villages = write_template(settings, "village_income", "2023-06", None, tmp_path)
    assert villages.path.name == "2023-06.xlsx" and villages.submitter is None
    # a dataset of parks, one of them in the calendar: its template, headed with its name
    parks = write_template(settings, "zone_operations", "2023-06", None, tmp_path)
    assert parks.path.name == "2023-06__平头融合发展区.xlsx" and parks.submitter == "平头融合发展区"
    ws = _data_sheet(openpyxl.load_workbook(parks.path), "zone_operations")
    assert "填报单位：平头融合发展区\u3000\u3000单位：万元" in [c for row in ws.iter_rows(max_row=3, values_only=True)
                                                       for c in row]
    assert [r["zone"] for r in _records(ws, "zone_operations")] == ["平头融合发展区"]


def test_a_hostile_name_in_the_warehouse_is_text_in_the_template(settings, tmp_path):
    rows = [KP_HEADER, kp_row("XM001", HOSTILE, unit="@SUM(A1:A9)"), kp_row("+XM2", "-1+2", unit="-2")]
    write_csv(settings.raw_dir / "key_projects" / "2023-04__发改局.csv", rows)
    _publish(settings)
    made = write_template(settings, "key_projects", "2023-05", "发改局", tmp_path)
    ws = _data_sheet(openpyxl.load_workbook(made.path), "key_projects")
    for cell, value in (("B4", HOSTILE), ("M4", "@SUM(A1:A9)"), ("A5", "+XM2"), ("B5", "-1+2"), ("M5", "-2")):
        assert ws[cell].value == value and ws[cell].data_type == "s", cell
    with zipfile.ZipFile(made.path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in z.read(name).decode("utf-8") and "<f " not in z.read(name).decode("utf-8"), name
    _fill(made.path, "key_projects", settings.raw_dir / "key_projects" / made.path.name)
    _assert_loads(settings, "key_projects", "2023-05", 2, made.path.name)


def test_only_the_submitters_own_files_are_pre_filled(settings, tmp_path):
    _write_files(settings.raw_dir, "village_income", "2023-03")
    _publish(settings)
    other = write_template(settings, "village_income", "2023-06", "宗艾镇人民政府", tmp_path)  # the department's name
    assert other.path.name == "2023-06__宗艾镇人民政府.xlsx" and other.source_period == "2023-03"
    wb = openpyxl.load_workbook(other.path)
    records = _records(_data_sheet(wb, "village_income"), "village_income")
    assert [(r["village_code"], r["village_name"], r["township"]) for r in records] == [
        v for v in VILLAGES if v[2] == "宗艾镇"]
    assert _data_sheet(wb, "village_income")["A1"].value == "2023年1-6月宗艾镇村级集体经济收入情况表"
    assert _validations(wb, _data_sheet(wb, "village_income"))["B"][2] == [n for _, n, t in VILLAGES if t == "宗艾镇"]


# ------------------------------------------------------------------ LibreOffice, a real second writer


def test_templates_filled_and_re_saved_by_libreoffice_load_with_nothing_rejected(settings, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc")
    for dataset in DATASETS:
        _write_files(settings.raw_dir, dataset, "2023-03")
    _publish(settings)
    filled = tmp_path / "filled"
    for dataset in DATASETS:
        made = write_template(settings, dataset, "2023-06", SUBMITTER[dataset], tmp_path / "made" / dataset)
        _fill(made.path, dataset, filled / dataset / made.path.name)
    converted = tmp_path / "converted"
    profile = (tmp_path / "lo_profile").as_uri()
    for dataset in DATASETS:  # one call per folder: the files of two datasets share a name
        (source,) = (filled / dataset).iterdir()
        done = subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "xlsx",
                               "--outdir", str(converted / dataset), str(source)],
                              capture_output=True, text=True, timeout=180, env={**os.environ, "HOME": str(tmp_path)})
        out = converted / dataset / source.name
        assert done.returncode == 0 and out.exists(), (done.stdout, done.stderr)
        assert out.read_bytes() != source.read_bytes()
        shutil.copy(out, settings.raw_dir / dataset / source.name)
        expected = len(_records(_data_sheet(openpyxl.load_workbook(source), dataset), dataset))
        _assert_loads(settings, dataset, "2023-06", expected, source.name)


# ------------------------------------------------------------------ the command


def _template(settings, tmp_path, *args):
    return CliRunner().invoke(main, ["template", *args], env=_env(settings, tmp_path), prog_name="shouyang")


def test_the_command_writes_the_template_named_as_the_file_should_be(settings, tmp_path, monkeypatch):
    _write_files(settings.raw_dir, "key_projects", "2023-04")
    _publish(settings)
    monkeypatch.chdir(tmp_path)
    result = _template(settings, tmp_path, "key_projects", "--period", "2023-05", "--submitter", "发改局")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "2023-05__发改局.xlsx").is_file()
    assert "2023-05__发改局.xlsx" in result.output and "2023-04" in result.output and "预填2行" in result.output
    (tmp_path / "forms").mkdir()
    result = _template(settings, tmp_path, "talent", "--period", "2023-06", "-o", "forms")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "forms" / "2023-06__组织部.xlsx").is_file()  # the calendar's one sender of talent
    result = _template(settings, tmp_path, "smart_mines", "--period", "2023-06", "-o", "forms/新的/能源局6月.xlsx")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "forms" / "新的" / "能源局6月.xlsx").is_file()
    assert not [w for w in CLICK_ENGLISH if w in result.output], result.output


@pytest.mark.parametrize("args, words", [
    (["重点项目", "--period", "2023-05"], "不是已知的数据集"),
    (["key_projects", "--period", "2023-13"], "报告期“2023-13”无效"),
    (["key_projects", "--period", "五月"], "应写作YYYY-MM"),
    (["key_projects", "--period", "2019-12"], "超出可接受的范围"),
    (["talent", "--period", "2023-05"], "按季度报送，报告期只能是3、6、9、12月"),
    (["village_income", "--period", "2023-02"], "按季度报送"),
    (["key_projects"], "缺少 --period"),
    (["key_projects", "--period", "2023-05", "--submitter", "发改/局"], "不能用在文件名中"),
    (["key_projects", "--period", "2023-05", "-o", "x.csv"], "应以 .xlsx 结尾"),
])
def test_usage_errors_exit_2_in_chinese(settings, tmp_path, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    result = _template(settings, tmp_path, *args)
    assert result.exit_code == 2, result.output
    assert words in result.output, result.output
    assert not [w for w in CLICK_ENGLISH if w in result.output], result.output
    assert not list(tmp_path.glob("*.xlsx"))


def test_an_unwritable_output_exits_2(settings, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    result = _template(settings, tmp_path, "key_projects", "--period", "2023-05", "-o", str(blocker / "t.xlsx"))
    assert result.exit_code == 2, result.output
    assert "无法写入模板" in result.output
    assert not [w for w in CLICK_ENGLISH if w in result.output], result.output


def test_the_name_is_the_naming_rule():
    assert template_name("2023-05", "发改局") == "2023-05__发改局.xlsx"
    assert template_name("2023-05", None) == "2023-05.xlsx"
    assert forms.carried(DATASETS["key_projects"], DATASETS["key_projects"].field("annual_plan_investment"), False) is False
    assert forms.carried(DATASETS["key_projects"], DATASETS["key_projects"].field("total_investment"), False) is True
