"""`shouyang check` says, as the run's summary does per file, how many rows were not read as data
and of which kind (ROW_KINDS): a clerk sees that their 合计 and 填表人 lines were recognised."""

from __future__ import annotations

from click.testing import CliRunner

from shouyang_pipeline.cli import main

from conftest import KP_HEADER, kp_row, write_xlsx


def check(settings, path):
    env = {"SHOUYANG_REFERENCE_DIR": str(settings.reference_dir), "SHOUYANG_DATA_DIR": str(settings.raw_dir.parent),
           "COLUMNS": "200"}
    return CliRunner().invoke(main, ["check", str(path)], env=env, prog_name="shouyang")


def test_check_lists_the_rows_not_read_as_data_by_kind(settings):
    path = write_xlsx(settings.raw_dir / "key_projects" / "2023-02__发改局.xlsx", [
        ["2023年1-2月全县重点项目进展情况表"],
        KP_HEADER,
        ["一、产业转型项目"],
        kp_row("XM001", total=1000, plan=500, ytd=100),
        [],
        kp_row("XM002", total=2000, plan=500, ytd=100),
        ["小计", None, None, None, None, None, None, 3000, 1000, 200],
        ["合计", None, None, None, None, None, None, 3000, 1000, 200],
        [],
        ["填表人：张三"],
    ], merges=("A1:N1",))
    result = check(settings, path)
    assert result.exit_code == 0, result.output
    [line] = [ln.strip() for ln in result.output.splitlines() if ln.strip().startswith("未作为数据读取的行")]
    assert line == "未作为数据读取的行（不是错误，不入库）：空行2行，表尾1行，合计1行，小计1行，分类标题1行"


def test_check_of_a_file_with_nothing_skipped_prints_no_such_line(settings):
    path = write_xlsx(settings.raw_dir / "key_projects" / "2023-02__发改局.xlsx",
                      [KP_HEADER, kp_row("XM001", total=1000, plan=500, ytd=100)])
    result = check(settings, path)
    assert result.exit_code == 0, result.output
    assert "未作为数据读取的行" not in result.output
