"""`shouyang`: run, check and help, as an engineer or a clerk calls them."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
from click.testing import CliRunner

from shouyang_pipeline.cli import main
from shouyang_pipeline_tests.conftest import KP_HEADER, kp_row, write_csv, write_xlsx


def _env(settings, tmp_path) -> dict[str, str]:
    return {
        "SHOUYANG_RAW_DIR": str(settings.raw_dir),
        "SHOUYANG_WAREHOUSE": str(settings.warehouse),
        "SHOUYANG_EXPORT_DIR": str(settings.export_dir),
        "SHOUYANG_ARCHIVE_DIR": str(settings.archive_dir),
        "SHOUYANG_REFERENCE_DIR": str(settings.reference_dir),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "COLUMNS": "200",
    }


def test_help_explains_itself():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "check", "sample", "docs"):
        assert command in result.output


def test_run_builds_every_period_and_exits_0_despite_rejected_rows(settings, tmp_path):
    write_xlsx(settings.raw_dir / "key_projects" / "2023-02.xlsx", [KP_HEADER, kp_row("XM001"), kp_row("XM002", total=-5)])
    write_csv(settings.raw_dir / "key_projects" / "2023-03.csv", [KP_HEADER, kp_row("XM001")], encoding="gbk")
    (settings.raw_dir / "key_projects" / "2023-04.xls").write_bytes(b"old excel")
    result = CliRunner().invoke(main, ["run"], env=_env(settings, tmp_path))
    assert result.exit_code == 0, result.output
    assert "入库 1，部分入库 1，被拒 1" in result.output
    assert "数据行：入库 2，被拒 1" in result.output
    assert str(settings.warehouse) in result.output
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT DISTINCT period FROM staging.key_projects ORDER BY 1").fetchall() == [("2023-02",), ("2023-03",)]
    assert (tmp_path / "dagster_home").exists()  # the runs are recorded in the instance


def test_check_names_each_bad_cell_and_writes_nothing(settings, tmp_path):
    path = write_xlsx(tmp_path / "clerk" / "重点项目2月.xlsx",
                      [["标题"], KP_HEADER, kp_row("XM001"), kp_row("XM002", total="暂无")])
    result = CliRunner().invoke(main, ["check", str(path), "--dataset", "key_projects", "--period", "2023-02"],
                                env=_env(settings, tmp_path))
    assert result.exit_code == 1
    assert "部分行不能入库" in result.output and "H4" in result.output and "暂无" in result.output
    assert not settings.warehouse.exists() and not settings.archive_dir.exists()


def test_check_of_a_good_file_in_the_layout_exits_0(settings, tmp_path):
    path = write_csv(settings.raw_dir / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    result = CliRunner().invoke(main, ["check", str(path)], env=_env(settings, tmp_path))
    assert result.exit_code == 0, result.output
    assert "2023-02.csv：可以入库" in result.output and "读取1行数据，全部可以入库" in result.output


def test_a_removed_month_leaves_the_warehouse_and_exports_even_without_the_work_file(settings, tmp_path):
    import shutil

    env = _env(settings, tmp_path)
    write_csv(settings.raw_dir / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    write_csv(settings.raw_dir / "key_projects" / "2023-03.csv", [KP_HEADER, kp_row("XM001")])
    assert CliRunner().invoke(main, ["run"], env=env).exit_code == 0
    assert (settings.export_dir / "briefing_2023-03.md").exists()
    (settings.raw_dir / "key_projects" / "2023-03.csv").unlink()
    shutil.rmtree(settings.work_warehouse.parent)  # a cleaned data/.work
    result = CliRunner().invoke(main, ["run"], env=env)
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT DISTINCT period FROM staging.key_projects").fetchall() == [("2023-02",)]
        assert conn.execute("SELECT count(*) FROM audit.ingest_log WHERE is_current AND period = '2023-03'").fetchone()[0] == 0
    assert not (settings.export_dir / "briefing_2023-03.md").exists()
    assert not (settings.export_dir / "marts_2023-03.xlsx").exists()


def test_check_applies_the_file_layout_rules_too(settings, tmp_path):
    env = _env(settings, tmp_path)
    old = tmp_path / "clerk" / "重点项目.xls"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"old excel")
    result = CliRunner().invoke(main, ["check", str(old), "--dataset", "key_projects", "--period", "2023-05"], env=env)
    assert result.exit_code == 1 and "请另存为.xlsx" in result.output
    good = write_csv(tmp_path / "clerk" / "future.csv", [KP_HEADER, kp_row("XM001")])
    # a month the option gives wrongly is the option's problem (exit 2, nothing checked), said so
    result = CliRunner().invoke(main, ["check", str(good), "--dataset", "key_projects", "--period", "2099-01"], env=env)
    assert result.exit_code == 2 and "--period 2099-01：" in result.output and "未来" in result.output
    result = CliRunner().invoke(main, ["check", str(good), "--dataset", "village_income", "--period", "2023-05"], env=env)
    assert result.exit_code == 2 and "--period 2023-05：" in result.output and "季度" in result.output
    assert "文件应放在" not in result.output
    # a month the file's name gives wrongly is the file's
    named = write_csv(settings.raw_dir / "key_projects" / "2099-01.csv", [KP_HEADER, kp_row("XM001")])
    result = CliRunner().invoke(main, ["check", str(named)], env=env)
    assert result.exit_code == 1 and "文件名中的报告期2099-01晚于当前月份" in result.output and "--period" in result.output


_UNSET = {k: None for k in ("SHOUYANG_DATA_DIR", "SHOUYANG_RAW_DIR", "SHOUYANG_WAREHOUSE", "SHOUYANG_EXPORT_DIR",
                            "SHOUYANG_ARCHIVE_DIR", "SHOUYANG_REFERENCE_DIR")}


def test_check_in_a_folder_of_the_project_finds_the_projects_reference_lists(tmp_path, monkeypatch):
    """DEPARTMENTS.md: run in the key_projects folder, `shouyang check 2023-02__发改局.csv` needs
    neither --dataset nor --period; it found no data/reference there and stopped (exit 2)."""
    import shutil

    from shouyang_pipeline_tests.conftest import PROJECT_REFERENCE

    project = tmp_path / "项目"
    (project / "workspace.yaml").parent.mkdir()
    (project / "workspace.yaml").write_text("load_from: []\n", encoding="utf-8")
    shutil.copytree(PROJECT_REFERENCE, project / "data" / "reference")
    folder = project / "data" / "raw" / "key_projects"
    write_csv(folder / "2023-02__发改局.csv", [KP_HEADER, kp_row("XM001"), kp_row("XM002", total=-5)])
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(main, ["check", "2023-02__发改局.csv"], env={**_UNSET, "COLUMNS": "200"})
    assert result.exit_code == 1, result.output  # one row would be sent back: the file was checked
    assert "总投资" in result.output and "找不到参考名录目录" not in result.output
    # outside any project the command still says what it misses and where it looked
    elsewhere = tmp_path / "别处"
    write_csv(elsewhere / "2023-02__发改局.csv", [KP_HEADER, kp_row("XM001")])
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(main, ["check", "2023-02__发改局.csv", "--dataset", "key_projects", "--period", "2023-02"],
                                env={**_UNSET, "COLUMNS": "200"})
    assert result.exit_code == 2 and "找不到参考名录目录 data/reference" in result.output


def test_a_command_in_a_folder_of_the_project_keeps_its_history_in_the_projects_dagster_home(tmp_path, monkeypatch):
    """A run started in data/raw/key_projects writes the project's warehouse: its Dagster history
    goes to the project's .dagster_home too, where `make ui` looks (not a new one in that folder)."""
    from shouyang_pipeline.cli import _instance

    project = tmp_path / "项目"
    (project / "data" / "raw" / "key_projects").mkdir(parents=True)
    (project / "workspace.yaml").write_text("load_from: []\n", encoding="utf-8")
    settings = (Path(__file__).resolve().parents[1] / "dagster_instance.yaml").read_text(encoding="utf-8")
    (project / "dagster_instance.yaml").write_text(settings, encoding="utf-8")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(project / "data" / "raw" / "key_projects")
    _instance()
    assert os.environ["DAGSTER_HOME"] == str((project / ".dagster_home").resolve())
    # the project's settings, as `make` would have copied them (it copies none over an existing one)
    assert (project / ".dagster_home" / "dagster.yaml").read_text(encoding="utf-8") == settings
    assert not (project / "data" / "raw" / "key_projects" / ".dagster_home").exists()


def test_a_folder_above_that_cannot_be_looked_into_is_passed_over(tmp_path, monkeypatch):
    """As a user who may not read a folder above (`sudo -u` from a private home): a set-up message
    naming what is missing, not a fault of the program's."""
    from pathlib import Path

    from shouyang_pipeline import config

    locked = tmp_path / "私人"
    (locked / "别处").mkdir(parents=True)
    real_is_file = Path.is_file

    def is_file(self):
        if self.parent == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    monkeypatch.chdir(locked / "别处")
    assert config.project_dir() == Path(".")
    result = CliRunner().invoke(main, ["check", "x.csv", "--dataset", "key_projects", "--period", "2023-02"],
                                env={**_UNSET, "COLUMNS": "200"})
    assert result.exit_code == 2, result.output


def test_shouyang_now_ahead_of_the_machine_is_the_clock_of_the_future_months(settings, tmp_path):
    """A SHOUYANG_NOW ahead of the machine's clock accepts its month's files (and `--period`, and
    the Dagster run's months); a file of a later month is from the future."""
    write_csv(settings.raw_dir / "key_projects" / "2099-01.csv", [KP_HEADER, kp_row("XM001")])
    write_csv(settings.raw_dir / "key_projects" / "2099-03.csv", [KP_HEADER, kp_row("XM001")])
    env = {**_env(settings, tmp_path), "SHOUYANG_NOW": "2099-02-10T09:00"}
    result = CliRunner().invoke(main, ["run"], env=env)
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        log = dict(conn.execute("SELECT file_path, status || ' ' || message FROM audit.ingest_log WHERE is_current").fetchall())
    assert log["key_projects/2099-01.csv"].startswith("loaded")
    assert log["key_projects/2099-03.csv"].startswith("rejected") and "晚于当前月份2099-02" in log["key_projects/2099-03.csv"]
    one = CliRunner().invoke(main, ["run", "--period", "2099-01", "--force"], env=env)
    assert one.exit_code == 0, one.output


def test_shouyang_now_behind_the_machine_leaves_the_later_months_alone(settings, tmp_path):
    """Rebuilding a past month's status with SHOUYANG_NOW: the warehouse's later months are not
    "from the future" (their files were refused, then rejected: the warehouse was rewritten)."""
    write_csv(settings.raw_dir / "key_projects" / "2023-09.csv", [KP_HEADER, kp_row("XM001")])
    write_csv(settings.raw_dir / "key_projects" / "2023-12.csv", [KP_HEADER, kp_row("XM001")])
    assert CliRunner().invoke(main, ["run"], env=_env(settings, tmp_path)).exit_code == 0
    env = {**_env(settings, tmp_path), "SHOUYANG_NOW": "2023-10-11T09:30"}
    for args in (["run", "--force"], ["run", "--period", "2023-09"]):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
        with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
            assert conn.execute("SELECT status FROM audit.ingest_log WHERE is_current AND file_path = "
                                "'key_projects/2023-12.csv'").fetchone() == ("loaded",)


def test_a_first_run_with_no_file_makes_no_folder(settings, tmp_path):
    """Nothing to run and no warehouse yet: the run says so and writes nothing (WAREHOUSE.md: its
    summary names every place it wrote; it wrote none). A file no month can hold is no file to run."""
    (settings.raw_dir / "notes").mkdir()
    write_csv(settings.raw_dir / "notes" / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    for args in (["run"], ["run", "--period", "2023-02"]):
        result = CliRunner().invoke(main, args, env=_env(settings, tmp_path))
        assert result.exit_code == 0 and "下没有可处理的文件" in result.output, result.output
        said = "".join(result.output.split())
        assert "以下1个文件无法归入任何数据集和报告期，未读取" in said  # never passed over in silence
        assert "notes/2023-02.csv：目录“notes”不是已知的数据集" in said and "文件应放在" in said
        for made in (settings.warehouse.parent, settings.export_dir, settings.archive_dir):
            assert not made.exists(), made
