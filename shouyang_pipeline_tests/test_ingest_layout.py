"""SUBMISSIONS.md 1: where files go, and every file that does not fit is logged, never skipped."""

from __future__ import annotations

import os

from shouyang_pipeline.ingest.discover import discover

from shouyang_pipeline_tests.conftest import KP_HEADER, assert_consistent_counts, csv_bytes, kp_row, write_csv, write_xlsx


def _good(raw, rel, code="XM001"):
    return write_csv(raw / rel, [KP_HEADER, kp_row(code)])


def test_well_placed_file_loads_with_submitter(raw, run_period):
    _good(raw, "key_projects/2023-02__发改局.csv")
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02__发改局.csv")
    assert (log["status"], log["dataset"], log["period"], log["submitter"]) == ("loaded", "key_projects", "2023-02", "发改局")
    assert log["partition_key"] == "key_projects/2023-02"
    assert [r["source_file"] for r in run.staging("key_projects")] == ["key_projects/2023-02__发改局.csv"]


def test_unknown_folder_is_logged_rejected(raw, run_period):
    _good(raw, "projects/2023-02.csv")
    run = run_period("key_projects", "2023-02")
    log = run.log("projects/2023-02.csv")
    assert log["status"] == "rejected" and log["partition_key"] is None
    assert "“projects”不是已知的数据集" in log["message"]
    assert "<数据集>/<报告期YYYY-MM>" in log["message"] and "key_projects" in log["message"]


def test_files_at_root_or_nested_too_deep_are_rejected(raw, run_period):
    _good(raw, "2023-02.csv")
    _good(raw, "key_projects/old/2023-02.csv")
    run = run_period("key_projects", "2023-02")
    assert "原始数据目录根下" in run.log("2023-02.csv")["message"]
    assert "多层子目录" in run.log("key_projects/old/2023-02.csv")["message"]
    assert run.staging("key_projects") == []


def test_bad_periods_are_rejected_naming_the_layout(raw, run_period):
    for name in ("2023-2.csv", "二月.csv", "2023-13.csv", "2019-12.csv", "2023_02.csv"):
        _good(raw, f"key_projects/{name}")
    run = run_period("key_projects", "2023-02")
    for name in ("2023-2.csv", "二月.csv", "2023_02.csv"):
        log = run.log(f"key_projects/{name}")
        assert log["status"] == "rejected" and "报告期无法识别" in log["message"] and "YYYY-MM" in log["message"]
    assert "月份无效" in run.log("key_projects/2023-13.csv")["message"]
    assert "早于2020-01" in run.log("key_projects/2019-12.csv")["message"]


def test_future_period_is_rejected(raw, run_period):
    _good(raw, "key_projects/2099-01.csv")
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2099-01.csv")
    assert log["status"] == "rejected" and "2099-01晚于当前月份" in log["message"]


def test_period_of_the_wrong_cadence_is_logged(raw, run_period):
    # village_income is quarterly: no partition village_income/2023-02 exists, and yet the
    # file must be logged, by whatever run comes along.
    write_csv(raw / "village_income/2023-02__平头镇.csv", [["村名称", "经营性收入", "集体经济总收入"], ["黑水村", 1, 2]])
    run = run_period("village_income", "2023-03")
    log = run.log("village_income/2023-02__平头镇.csv")
    assert log["status"] == "rejected"
    assert "按季度报送" in log["message"] and "3、6、9、12月" in log["message"] and "2023-02" in log["message"]
    (placed,) = [f for f in discover(raw) if f.rel_path.endswith("2023-02__平头镇.csv")]
    assert placed.dataset_period is None


def test_xls_and_docx_are_rejected(raw, run_period):
    (raw / "key_projects").mkdir()
    (raw / "key_projects/2023-02__旧版.xls").write_bytes(b"\xd0\xcf\x11\xe0 old excel")
    (raw / "key_projects/2023-02__说明.docx").write_bytes(b"PK not really a docx")
    (raw / "key_projects/2023-02__无扩展名").write_bytes(b"x")
    run = run_period("key_projects", "2023-02")
    xls = run.log("key_projects/2023-02__旧版.xls")
    assert xls["status"] == "rejected" and "请另存为.xlsx" in xls["message"]
    docx = run.log("key_projects/2023-02__说明.docx")
    assert docx["status"] == "rejected" and "“.docx”" in docx["message"] and "只接受.xlsx或.csv" in docx["message"]
    assert "无扩展名" in run.log("key_projects/2023-02__无扩展名")["message"]


def test_upper_case_extension_is_accepted(raw, run_period):
    write_xlsx(raw / "key_projects/2023-02.XLSX", [KP_HEADER, kp_row()])
    write_csv(raw / "key_projects/2023-02__b.CSV", [KP_HEADER, kp_row("XM002")])
    run = run_period("key_projects", "2023-02")
    assert run.log("key_projects/2023-02.XLSX")["status"] == "loaded"
    assert run.log("key_projects/2023-02__b.CSV")["status"] == "loaded"
    assert len(run.staging("key_projects")) == 2


def test_hidden_and_lock_files_are_ignored(raw, run_period):
    _good(raw, "key_projects/2023-02.csv")
    (raw / "key_projects/~$2023-02.xlsx").write_bytes(b"lock")
    (raw / "key_projects/.2023-02.csv.swp").write_bytes(b"swap")
    (raw / ".DS_Store").write_bytes(b"mac")
    (raw / ".hidden").mkdir()
    _good(raw, ".hidden/2023-02.csv")
    run = run_period("key_projects", "2023-02")
    assert [r["file_path"] for r in run.log()] == ["key_projects/2023-02.csv"]
    assert [f.rel_path for f in discover(raw)] == ["key_projects/2023-02.csv"]


def test_symlink_is_never_followed(raw, settings, run_period, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_bytes(csv_bytes([KP_HEADER, kp_row("SECRET")]))
    (raw / "key_projects").mkdir()
    os.symlink(outside, raw / "key_projects/2023-02.csv")
    os.symlink(tmp_path / "outside_dir", raw / "village_income")  # a linked folder is not walked
    (tmp_path / "outside_dir").mkdir()
    write_csv(tmp_path / "outside_dir/2023-03.csv", [["村名称", "经营性收入"], ["黑水村", 1]])
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02.csv")
    assert log["status"] == "rejected" and "符号链接" in log["message"]
    assert log["sha256"] is None and log["rows_read"] == 0
    assert run.staging("key_projects") == []
    assert not settings.archive_dir.exists() or list(settings.archive_dir.iterdir()) == []
    assert "符号链接" in run.log("village_income")["message"]
    assert not any("outside_dir" in r["file_path"] or r["file_path"].startswith("village_income/") for r in run.log())


def test_byte_identical_duplicate_rejected_first_by_code_point_loads(raw, run_period):
    data = csv_bytes([KP_HEADER, kp_row("XM001")])
    (raw / "key_projects").mkdir()
    # Code-point order: "B" (U+0042) < "b" (U+0062) < "发" (U+53D1), whatever the locale says.
    for name in ("2023-02__发改局.csv", "2023-02__b.csv", "2023-02__B.csv"):
        (raw / "key_projects" / name).write_bytes(data)
    run = run_period("key_projects", "2023-02")
    assert run.log("key_projects/2023-02__B.csv")["status"] == "loaded"
    for name in ("2023-02__b.csv", "2023-02__发改局.csv"):
        log = run.log(f"key_projects/{name}")
        assert log["status"] == "rejected" and "重复提交" in log["message"]
        assert "key_projects/2023-02__B.csv" in log["message"]
    # the duplicate's rows are not counted twice, so the key is not a duplicate key
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001"]
    assert run.rejected() == []
    assert_consistent_counts(run)


def test_same_content_in_another_period_is_not_a_duplicate(raw, run_period):
    data = csv_bytes([KP_HEADER, kp_row("XM001")])
    for period in ("2023-02", "2023-03"):
        (raw / "key_projects").mkdir(exist_ok=True)
        (raw / f"key_projects/{period}.csv").write_bytes(data)
    run = run_period("key_projects", "2023-02")
    run = run_period("key_projects", "2023-03")
    assert [r["status"] for r in run.log()] == ["loaded", "loaded"]
