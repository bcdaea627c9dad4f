"""Templates (`shouyang template`) at their edges, on real files: the keys of rows sent back last
period stay on the form, the period is judged at the run's clock (SHOUYANG_NOW), and the hidden
list sheet the template itself holds is not reported as an unread sheet when the form comes back.
"""

from __future__ import annotations

import csv

import duckdb
import openpyxl
from click.testing import CliRunner

from shouyang_pipeline.cli import main
from shouyang_pipeline.exports import forms
from shouyang_pipeline.exports.forms import LIST_SHEET, write_template
from shouyang_pipeline.ingest import layout
from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, write_csv, write_xlsx
from shouyang_pipeline_tests.test_cli import _env
from shouyang_pipeline_tests.test_templates import _data_sheet, _fill, _ingest, _publish, _records


def _row_keys(settings, file_path: str) -> list[str | None]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return [k for (k,) in conn.execute("SELECT DISTINCT row_key FROM audit.rejected_rows WHERE file_path = ? "
                                           "ORDER BY source_row", [file_path]).fetchall()]


def test_the_keys_of_rows_sent_back_last_period_stay_on_the_form(settings, tmp_path):
    write_xlsx(settings.raw_dir / "key_projects" / "2023-04__发改局.xlsx", [
        KP_HEADER + ["备注"],
        kp_row("XM001", "甲项目") + [None],
        kp_row("XM004", "被退回的项目", total=-200) + [None],  # sent back: its key was read
        kp_row("XM005", "又一个项目") + [None],
        kp_row(None, "没有编号的项目") + [None],  # sent back: no key to list
    ])
    _publish(settings, clean=False)
    assert _row_keys(settings, "key_projects/2023-04__发改局.xlsx") == ["XM004", None]
    made = write_template(settings, "key_projects", "2023-05", "发改局", tmp_path)
    records = _records(_data_sheet(openpyxl.load_workbook(made.path), "key_projects"), "key_projects")
    assert [r["project_code"] for r in records] == ["XM001", "XM004", "XM005"]  # in the file's order
    assert records[0]["project_name"] == "甲项目" and records[1]["project_name"] is None  # only its key was kept
    assert made.rows == 3 and made.source_period == "2023-04"


def test_a_file_sent_back_row_by_row_still_gives_its_keys(settings, tmp_path):
    write_csv(settings.raw_dir / "key_projects" / "2023-04__发改局.csv", [
        KP_HEADER, kp_row("XM007", total=-1), kp_row("XM008", ytd=-5)])  # every row sent back
    _publish(settings, clean=False)
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT status FROM audit.ingest_log WHERE is_current AND dataset = 'key_projects'"
                            ).fetchone() == ("rejected",)
    made = write_template(settings, "key_projects", "2023-05", "发改局", tmp_path)
    assert made.source_period == "2023-04"  # the file sent back is the latest the bureau sent
    records = _records(_data_sheet(openpyxl.load_workbook(made.path), "key_projects"), "key_projects")
    assert [r["project_code"] for r in records] == ["XM007", "XM008"]


def test_a_key_with_a_part_that_could_not_be_read_is_left_out(settings, tmp_path):
    write_csv(settings.raw_dir / "talent" / "2023-03__组织部.csv", [
        ["产业领域", "人才类别", "本年累计对接人数", "本年累计引进培育人数"],
        ["数字经济", "领军人才", 10, 3],
        ["智能制造", "不知道什么人才", 5, 1],  # its kind broke the list: row_key 智能制造/*
        ["现代农业", "实用型人才", -4, 2],  # a figure broke a rule: the key was read
    ])
    _publish(settings, clean=False)
    assert _row_keys(settings, "talent/2023-03__组织部.csv") == ["智能制造/*", "现代农业/实用型人才"]
    made = write_template(settings, "talent", "2023-06", "组织部", tmp_path)
    records = _records(_data_sheet(openpyxl.load_workbook(made.path), "talent"), "talent")
    assert [(r["field"], r["talent_kind"]) for r in records] == [("数字经济", "领军人才"), ("现代农业", "实用型人才")]


def test_the_period_is_judged_at_the_runs_clock(settings, tmp_path):
    env = {**_env(settings, tmp_path), "SHOUYANG_NOW": "2031-06-02T09:00"}
    result = CliRunner().invoke(main, ["template", "key_projects", "--period", "2031-05", "-o", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output  # a month after this machine's clock, not after SHOUYANG_NOW
    assert (tmp_path / "2031-05__发改局.xlsx").is_file()
    env["SHOUYANG_NOW"] = "2023-03-10T09:00"
    result = CliRunner().invoke(main, ["template", "key_projects", "--period", "2023-05", "-o", str(tmp_path)], env=env)
    assert result.exit_code == 2 and "2023-03" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "2023-05.xlsx").exists()
    env["SHOUYANG_NOW"] = "不是时间"
    result = CliRunner().invoke(main, ["template", "key_projects", "--period", "2023-05", "-o", str(tmp_path)], env=env)
    assert result.exit_code == 2 and "SHOUYANG_NOW" in result.output and "Traceback" not in result.output


def test_the_templates_own_hidden_list_sheet_is_not_reported_as_unread_but_another_hidden_sheet_is(settings, tmp_path):
    assert (forms.LIST_SHEET, forms.LIST_MARK) == (layout.TEMPLATE_LIST_SHEET, layout.TEMPLATE_LIST_MARK)
    villages = [(f"1407251032{i:02d}", f"平头镇第{i}号示范行政村", "平头镇") for i in range(1, 41)]
    with open(settings.reference_dir / "villages.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([("village_code", "village_name", "township_name"), *villages])
    made = write_template(settings, "village_income", "2023-06", "平头镇", tmp_path)
    assert openpyxl.load_workbook(made.path)[LIST_SHEET].sheet_state == "hidden"  # the lists are too long inline
    sent = _fill(made.path, "village_income", settings.raw_dir / "village_income" / made.path.name)
    (message,) = _ingest(settings, "village_income", "2023-06").log["message"]
    assert "未读取" not in message and "下拉选项" not in message, message

    # a hidden sheet of the clerk's own, even one so named, is still named as not read
    wb = openpyxl.load_workbook(sent)
    wb[LIST_SHEET]["A1"] = "上月的数"
    wb.save(sent)
    (message,) = _ingest(settings, "village_income", "2023-06").log["message"]
    assert "“下拉选项”（隐藏）中也有数据，未读取" in message, message
