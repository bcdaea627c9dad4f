"""`shouyang run` says which submitted files the run took in: sent for the first time, sent again
with other contents, judged otherwise (a reference list changed), taken out, before the summary
of every file in the warehouse (a run that reads one corrected file names it)."""

from __future__ import annotations

import csv

from click.testing import CliRunner

from shouyang_pipeline.cli import main
from shouyang_pipeline.pipeline import version_changes
from shouyang_pipeline.warehouse.queries import FileVersion
from shouyang_pipeline_tests.conftest import KP_HEADER, VI_HEADER, kp_row, write_csv, write_xlsx
from shouyang_pipeline_tests.test_cli import _env


def _run(settings, tmp_path, *args: str) -> str:
    result = CliRunner().invoke(main, ["run", *args], env=_env(settings, tmp_path))
    assert result.exit_code == 0, result.output
    return result.output


def _section(output: str) -> str:
    """The lines the run printed before its summary of every file."""
    return output.split("需要处理或留意的文件")[0].split("文件：全部入库")[0]


def test_the_first_run_counts_the_files_it_read(settings, tmp_path):
    write_xlsx(settings.raw_dir / "key_projects" / "2023-02__发改局.xlsx", [KP_HEADER, kp_row("XM001")])
    write_csv(settings.raw_dir / "key_projects" / "2023-03__发改局.csv", [KP_HEADER, kp_row("XM001")], encoding="gbk")
    assert "本次是这个数据仓库的第一次运行：读入 2 个文件" in _section(_run(settings, tmp_path))


def test_a_corrected_a_new_and_a_removed_file_are_named_with_their_result(settings, tmp_path):
    raw = settings.raw_dir
    write_xlsx(raw / "key_projects" / "2023-02__发改局.xlsx", [KP_HEADER, kp_row("XM001"), kp_row("XM002")])
    write_csv(raw / "village_income" / "2023-03__平头镇.csv", [VI_HEADER, ["140725103201", "黑水村", "平头镇", 45, 50, "光伏"]])
    write_csv(raw / "village_income" / "2023-03__宗艾镇.csv", [VI_HEADER, ["140725102201", "宗艾村", "宗艾镇", 50, 60, "租赁"]])
    _run(settings, tmp_path)

    # the clerk corrects one file (one row now bad), another township sends late, one file is withdrawn
    write_xlsx(raw / "key_projects" / "2023-02__发改局.xlsx", [KP_HEADER, kp_row("XM001"), kp_row("XM002", total=-5)])
    (raw / "village_income" / "2023-03__宗艾镇.csv").unlink()
    write_csv(raw / "key_projects" / "2023-04__发改局.csv", [KP_HEADER, kp_row("XM001")])
    said = _section(_run(settings, tmp_path))

    assert "本次运行处理的文件：新报送 1 个，重新报送（内容有改动） 1 个，已不在报送目录、从数据仓库撤下 1 个" in said
    lines = [line.strip() for line in said.splitlines()]
    assert lines[lines.index("新报送：") + 1] == "key_projects/2023-04__发改局.csv：全部入库，入库1行"
    assert lines[lines.index("重新报送（内容有改动）：") + 1] == "key_projects/2023-02__发改局.xlsx：部分入库，入库1行，拒收1行"
    assert lines[lines.index("已不在报送目录、从数据仓库撤下：") + 1] == "village_income/2023-03__宗艾镇.csv"
    assert "平头镇" not in said  # untouched files are not listed

    # a run of one month with nothing changed says so
    assert "本次运行没有新报送、重新报送或撤下的文件。" in _section(_run(settings, tmp_path, "--period", "2023-03"))


def test_a_reference_list_that_changes_a_files_result_is_said(settings, tmp_path):
    raw = settings.raw_dir
    # 140725103299 is not in the villages' list: the row is sent back
    write_csv(raw / "village_income" / "2023-03__平头镇.csv", [
        VI_HEADER, ["140725103201", "黑水村", "平头镇", 45, 50, "光伏"], ["140725103299", "新村", "平头镇", 41, 50, "光伏"]])
    first = _run(settings, tmp_path)
    assert "部分入库" in first
    with open(settings.reference_dir / "villages.csv", "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow(["140725103299", "新村", "平头镇"])
    said = _section(_run(settings, tmp_path))
    assert "内容未改、重新核对后结果有变（同期其他文件、参考名录或程序有变化） 1 个" in said
    assert ("village_income/2023-03__平头镇.csv：部分入库，入库1行，拒收1行 → 全部入库，入库2行" in
            [line.strip() for line in said.splitlines()])


def test_long_lists_are_cut_and_counted(settings, tmp_path):
    raw = settings.raw_dir
    write_xlsx(raw / "key_projects" / "2023-01__发改局.xlsx", [KP_HEADER, kp_row("XM001")])
    _run(settings, tmp_path)
    for period in [f"2022-{m:02d}" for m in range(1, 13)] + [f"2023-{m:02d}" for m in range(2, 13)]:
        write_csv(raw / "key_projects" / f"{period}__发改局.csv", [KP_HEADER, kp_row("XM001")])
    said = _section(_run(settings, tmp_path))
    assert "新报送 23 个" in said
    named = [line for line in said.splitlines() if line.strip().endswith("全部入库，入库1行")]
    assert len(named) == 20
    assert "……另有 3 个（见 audit.ingest_log）" in said


def test_version_changes_compares_contents_and_results():
    a = FileVersion("aaa", "loaded", 3, 0)
    before = {"x.csv": a, "y.csv": a, "z.csv": a, "gone.csv": a}
    after = {"x.csv": a, "y.csv": FileVersion("bbb", "loaded", 3, 0), "z.csv": FileVersion("aaa", "partial", 2, 1),
             "new.csv": a}
    changes = version_changes(before, after)
    assert changes.new == (("new.csv", a),)
    assert [p for p, _ in changes.resent] == ["y.csv"]
    assert [(p, b.status, c.status) for p, b, c in changes.rejudged] == [("z.csv", "loaded", "partial")]
    assert changes.removed == ("gone.csv",)
    assert not version_changes(before, dict(before))
