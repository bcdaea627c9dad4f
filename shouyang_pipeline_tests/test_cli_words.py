"""What people read from `shouyang`: Chinese, about their own file, fitting the terminal.

A clerk's `check` (statuses, messages and every cell in Chinese, nothing about audit tables or
paths that are not their file), Click's help and usage errors in Chinese, `--version`, the run
summary naming every place the run used and every file with warnings or a totals problem.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from rich.cells import cell_len
from rich.console import Console

from shouyang_pipeline import cli
from shouyang_pipeline.cli import main, wrap_text
from shouyang_pipeline_tests.conftest import KP_HEADER, Formula, kp_row, write_csv, write_xlsx
from shouyang_pipeline_tests.test_cli import _env

CLICK_ENGLISH = ("Usage:", "Options:", "Commands:", "Show this message", "Error:", "Try '", "[default",
                 "Invalid value", "No such", "Missing argument", "does not exist")


def _totals(*values):
    return ["合计", None, None, None, None, None, None, *values]


def _invoke(args, env=None):
    return CliRunner().invoke(main, args, env=env, prog_name="shouyang")


# ------------------------------------------------------------------ --version, help, usage errors


def test_version_comes_from_the_installed_package():
    result = _invoke(["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"shouyang {version('shouyang-pipeline')}"


def _commands():
    ctx = click.Context(main)
    return [[]] + [[name] for name in main.list_commands(ctx)]


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "shouyang")
def test_every_help_is_chinese_and_explains_every_option(path):
    result = _invoke([*path, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert not [w for w in CLICK_ENGLISH if w in result.output], result.output
    assert result.output.startswith("用法：shouyang")
    command = main if not path else main.get_command(click.Context(main), path[0])
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help and re.search(r"[\u4e00-\u9fff]", param.help), (path, param.name)
            assert param.opts[0] in result.output
    assert "-h, --help" in result.output and "显示此帮助并退出" in result.output
    for line in result.output.splitlines():
        assert cell_len(line) <= 100, line


def test_a_commands_one_line_help_is_its_whole_first_sentence():
    output = _invoke(["--help"]).output
    assert "..." not in output  # Click cuts a short help after 45 characters with "..."
    joined = re.sub(r"\s+", "", output)
    assert "读取原始数据目录中每个报告期的全部文件，校验、入库、计算指标、写简报并发布数据仓库check" not in joined
    assert "读取原始数据目录中每个报告期的全部文件，校验、入库、计算指标、写简报并发布数据仓库sample" in joined


@pytest.mark.parametrize("args, words", [
    (["check"], "缺少文件"),
    (["check", "--perod", "2023-02", "x.csv"], "没有 --perod 这个选项（是不是 --period？）"),
    (["chek"], "没有 chek 这个命令（是不是 check？）"),
    (["check", "--dataset", "重点项目", "x.csv"], "--dataset：“重点项目”不是已知的数据集"),
    (["check", "x.csv", "y.csv"], "多余的参数：y.csv"),
    (["sample", "--scale", "0"], "--scale：“0”不是正整数"),
])
def test_usage_errors_are_chinese(args, words):
    result = _invoke(args)
    assert result.exit_code == 2
    assert words in result.output, result.output
    assert not [w for w in CLICK_ENGLISH if w in result.output], result.output


def test_a_missing_file_is_said_in_chinese_and_nothing_is_checked(settings, tmp_path):
    result = _invoke(["check", str(tmp_path / "重点项目2月.xlsx")], env=_env(settings, tmp_path))
    assert result.exit_code == 2
    assert "找不到要检查的文件" in result.output and "重点项目2月.xlsx" in result.output
    assert not [w for w in CLICK_ENGLISH if w in result.output], result.output


def test_without_dataset_or_period_check_says_which_option_to_use(settings, tmp_path):
    env = _env(settings, tmp_path)
    path = write_csv(tmp_path / "clerk" / "重点项目2月.csv", [KP_HEADER, kp_row("XM001")])
    result = _invoke(["check", str(path)], env=env)
    assert result.exit_code == 2 and "请用 --dataset 指定" in result.output and "key_projects（重点项目进展情况表）" in result.output
    result = _invoke(["check", str(path), "--dataset", "key_projects"], env=env)
    assert result.exit_code == 2 and "无法从文件名“重点项目2月.csv”判断报告期" in result.output
    assert "请用 --period 指定" in result.output
    result = _invoke(["check", str(path), "--dataset", "key_projects", "--period", "2023-2"], env=env)
    assert result.exit_code == 2 and result.output.startswith("--period 2023-2：")


# ------------------------------------------------------------------ a clerk's check


def test_check_speaks_to_the_clerk_about_their_own_file(settings, tmp_path):
    rows = [["序号"] + KP_HEADER,
            [1] + kp_row("XM001"),
            [2] + kp_row("XM002", township="火星镇"),
            [3] + kp_row("XM001", name="另一个项目"),
            [None] + _totals(Formula("=SUM(I2:I4)"), Formula("=SUM(J2:J4)"), Formula("=SUM(K2:K4)"))]
    path = write_xlsx(tmp_path / "clerk" / "重点项目2月.xlsx", rows)
    result = _invoke(["check", str(path), "--dataset", "key_projects", "--period", "2023-02"],
                     env=_env(settings, tmp_path))
    out = result.output
    assert result.exit_code == 1
    assert "重点项目2月.xlsx：部分行不能入库，且1个单元格需要留意、合计行未能核对" in out
    assert "读取3行数据，1行可以入库，2行有错、不能入库（原因见下表“不能入库的行”）" in out
    assert "另有1个单元格无法识别或不符合规则，入库时将存为空值（见下表“需要留意的单元格”）" in out
    assert "合计行为公式且未保存计算结果，未核对" in out and "核对一致" not in out
    # the duplicate key: a whole row's problem, the key as written, the other row of this same file
    assert re.search(r"│\s+2 │ 整行\s+│\s+│ XM001\s+│ 同一对象重复填报 │", out), out
    assert "另见：本文件第4行" in out and "另见：本文件第2行" in out
    assert "所在乡镇“火星镇”不在乡镇名录中" in out
    for english in ("partial", "loaded", "rejected", "audit.", "key_projects/", "duplicate_key", "not_in_list",
                    "序号", "已忽略"):
        assert english not in out, english


def test_check_of_a_file_with_a_totals_mismatch_and_a_clean_one(settings, tmp_path):
    env = _env(settings, tmp_path)
    bad = write_xlsx(tmp_path / "clerk" / "2023-02__发改局.xlsx",
                     [KP_HEADER, kp_row("XM001"), kp_row("XM002"), _totals(2100, 1000, 200)])
    result = _invoke(["check", str(bad), "--dataset", "key_projects"], env=env)
    assert result.exit_code == 0, result.output  # a mismatch warns; every row would load
    assert "2023-02__发改局.xlsx：可以入库，但合计行与明细不符" in result.output
    assert "读取2行数据，全部可以入库；合计行与明细不符：总投资合计为2,100万元，明细行相加为2,000万元（第4行）" in result.output
    good = write_xlsx(tmp_path / "clerk" / "2023-03.xlsx", [KP_HEADER, kp_row("XM001"), _totals(1000, 500, 100)])
    result = _invoke(["check", str(good), "--dataset", "key_projects"], env=env)
    assert result.exit_code == 0
    assert "2023-03.xlsx：可以入库\n" in result.output and "读取1行数据，全部可以入库；合计行核对一致" in result.output
    assert "不能入库的行" not in result.output and "需要留意的单元格" not in result.output


def test_check_fits_a_narrow_terminal_without_breaking_codes(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "console", Console(width=50))
    rows = [KP_HEADER, kp_row("SY2023-0113"), kp_row("SY2023-0113", name="另一个项目"), kp_row("XM002", total="暂无")]
    path = write_xlsx(tmp_path / "clerk" / "重点项目2月.xlsx", rows)
    result = _invoke(["check", str(path), "--dataset", "key_projects", "--period", "2023-02"], env=_env(settings, tmp_path))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert all(cell_len(line) <= 50 for line in lines), result.output
    assert sum("SY2023-0113" in line for line in lines) >= 4, result.output  # never cut across lines
    assert "第2行，整行：“SY2023-0113”" in result.output


# ------------------------------------------------------------------ the run summary


def test_run_summary_names_every_place_and_every_file_to_look_at(settings, tmp_path):
    raw = settings.raw_dir
    write_xlsx(raw / "key_projects/2023-02.xlsx", [KP_HEADER, kp_row("XM001", township="火星镇"), kp_row("XM002")])
    write_xlsx(raw / "key_projects/2023-03.xlsx", [KP_HEADER, kp_row("XM001"), _totals(1500, 500, 100)])
    write_xlsx(raw / "key_projects/2023-04.xlsx",
               [KP_HEADER, kp_row("XM001"), _totals(Formula("=H2"), Formula("=I2"), Formula("=J2"))])
    write_xlsx(raw / "key_projects/2023-05.xlsx", [KP_HEADER, kp_row("XM001"), _totals(1000, 500, 100)])
    result = _invoke(["run"], env=_env(settings, tmp_path))
    out = result.output
    assert result.exit_code == 0, out
    for place in (settings.warehouse, settings.export_dir, settings.archive_dir, settings.work_warehouse.parent):
        assert str(place) in out, place
    assert "key_projects/2023-02.xlsx" in out and "另有1个单元格无法识别或不符合规则，已存为空值（见audit.cell_warnings）" in out
    assert "key_projects/2023-03.xlsx" in out and "合计行与明细不符：总投资合计为1,500万元" in out
    assert "key_projects/2023-04.xlsx" in out and "合计行为公式且未保存计算结果，未核对" in out
    assert "需要留意的单元格：1 个" in out
    assert "合计行与明细不符的文件：1 个" in out and "合计行未能核对的文件：1 个" in out
    table = out.split("需要处理或留意的文件")[1].split("未作为数据读取的行")[0]
    assert "2023-05.xlsx" not in table  # loaded whole, totals agree: nothing to look at
    assert "partial" not in out and "loaded" not in out
    # the rows not read as data: one line per dataset, never a line per file
    skipped = out.split("未作为数据读取的行")[1].split("文件：全部入库")[0].splitlines()
    assert not any(".xlsx" in line for line in skipped)
    header = next(line for line in skipped if line.startswith("┃"))
    line = next(line for line in skipped if "重点项目进展情况表" in line)
    cells = dict(zip([c.strip() for c in header.split("┃")[1:-1]], [c.strip() for c in line.split("│")[1:-1]]))
    assert cells["文件"] == "3" and cells["合计"] == "3", cells


def test_the_read_only_hint_names_a_program_that_exists(settings):
    hint = cli._readonly_hint(settings)
    command = hint.split("即 ")[-1]
    program = command.split(" -readonly ")[0]
    assert " -readonly " in command and str(settings.warehouse) in command
    assert Path(program).exists() or program == "duckdb", hint


# ------------------------------------------------------------------ wrapping Chinese


def test_wrapping_breaks_chinese_anywhere_but_never_inside_a_word_or_before_closing_punctuation():
    text = "项目编号“SY2023-113”在本期重复出现（另见：key_projects/2023-02__发改局.xlsx 第121行），重复的各行均不入库，请核对后只保留一行"
    for width in range(36, 90):  # the path (32 columns) fits on a line
        lines = wrap_text(text, width, "", "  ")
        assert all(cell_len(line) <= width for line in lines), (width, lines)
        assert "".join(line.strip() for line in lines).replace(" ", "") == text.replace(" ", "")
        assert not any(line.strip()[0] in "，。）”：、" for line in lines[1:]), lines
        assert sum("key_projects/2023-02__发改局.xlsx" in line for line in lines) == 1, lines
        assert sum("SY2023-113" in line for line in lines) == 1, lines
    # a word longer than a line is cut, and nothing is lost
    assert wrap_text("见 data/" + "x" * 30 + ".xlsx", 12) == ["见", "data/xxxxxxx", "x" * 12, "x" * 11 + ".", "xlsx"]


def test_what_the_file_says_is_printed_as_written_never_as_markup(settings, tmp_path):
    path = write_xlsx(tmp_path / "clerk" / "2023-02.xlsx", [KP_HEADER, kp_row("XM001", total="[bold]暂无[/bold]")])
    result = _invoke(["check", str(path), "--dataset", "key_projects"], env=_env(settings, tmp_path))
    assert result.exit_code == 1
    assert "[bold]暂无[/bold]" in result.output
