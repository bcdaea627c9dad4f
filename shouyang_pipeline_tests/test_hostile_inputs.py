"""What a careless or hostile sender sends: values beyond the column types, invisible characters,
odd file names, links, special files, huge files, a key repeated thousands of times.

Every case is a real file in tmp_path, ingested and loaded into DuckDB as a run does: the bad
cell or file is rejected with a Chinese reason, the rest of the partition loads, and the load
itself never fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import xlsxwriter

from shouyang_pipeline.ingest import discover as discover_module
from shouyang_pipeline.ingest.values import MONEY_MAX_WAN, PERCENT_MAX, parse_value
from shouyang_pipeline_tests.conftest import (
    CREDIT_CODES, IO_HEADER, KP_HEADER, assert_consistent_counts, kp_row, write_csv, write_xlsx,
)

# ------------------------------------------------------------------ values beyond the column


@pytest.mark.parametrize("kind, raw, unit", [
    ("money", "12345678901234567890", "万元"),  # a 20-digit amount
    ("money", 1e308, "万元"),  # an XLSX number cell
    ("money", "5e10", "亿元"),  # not a number at all (no exponents), either way not loaded
    ("money", 5e10, "亿元"),  # 5e14 万元
    ("money", -2e10, "万元"),
    ("percent", 123456, "万元"),
    ("percent", "123456%", "万元"),
    ("integer", 3_000_000_000, "万元"),
    ("date", "3023-03-15", "万元"),
    ("text", "长" * 40000, "万元"),
])
def test_a_value_beyond_its_column_is_a_problem_not_a_crash(kind, raw, unit):
    got = parse_value(kind, raw, unit=unit)
    assert getattr(got, "rule", None) in ("out_of_range", "not_a_number"), got


def test_the_bounds_fit_the_staging_types():
    # DECIMAL(18,4): 14 integer digits; DECIMAL(9,4): 5.
    assert MONEY_MAX_WAN < 1e14 and PERCENT_MAX < 1e5
    assert parse_value("money", MONEY_MAX_WAN) == MONEY_MAX_WAN
    assert parse_value("money", 1, unit="亿元") == 10000


def _xlsx_numbers(path: Path, header: list, rows: list[list]) -> Path:
    """Numbers written as real XLSX number cells (xlsxwriter), 1e308 included."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    for r, row in enumerate([header, *rows]):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    wb.close()
    return path


def test_huge_numbers_reject_their_row_and_the_rest_loads(raw, run_period):
    _xlsx_numbers(raw / "key_projects" / "2023-02.xlsx", KP_HEADER, [
        kp_row("XM001"),
        kp_row("XM002", total=1e308),
        kp_row("XM003", total=12345678901234567890),
        kp_row("XM004", ytd=-1e300),
        kp_row("XM005"),
    ])
    _xlsx_numbers(raw / "industrial_output" / "2023-02.xlsx", IO_HEADER, [
        [CREDIT_CODES[0], "甲公司", "造纸产业链", "平头镇", 5e10, 1, 2, "否"],
    ])
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02.xlsx")
    assert (log["status"], log["rows_loaded"], log["rows_rejected"]) == ("partial", 2, 3)
    by_row = {r["source_row"]: r for r in run.rejected(rule="out_of_range")}
    assert sorted(by_row) == [3, 4, 5]
    assert by_row[3]["source_cell"] == "H3" and "总投资数值过大，超出可接受的范围" in by_row[3]["reason"] and "100万亿元" in by_row[3]["reason"]
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001", "XM005"]
    assert_consistent_counts(run)


def test_a_huge_optional_value_is_a_warning_and_null(raw, run_period):
    write_csv(raw / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM001", start="9999年1月")])
    run = run_period("key_projects", "2023-02")
    assert run.log("key_projects/2023-02.csv")["status"] == "loaded"
    (warning,) = run.warnings()
    assert warning["rule"] == "out_of_range" and warning["source_cell"] == "N2" and "年份" in warning["reason"]
    assert run.staging("key_projects")[0]["start_date"] is None


# ------------------------------------------------------------------ invisible characters


def test_invisible_characters_do_not_make_two_keys(raw, run_period):
    write_csv(raw / "key_projects" / "2023-02.csv", [
        KP_HEADER,
        kp_row("XM001", name="甲项目"),
        kp_row("XM\u200b001", name="甲\u200d项目\ufeff"),  # looks the same: it is the same key
        kp_row("\u2060XM002\u00ad", name="乙项目", level="省\u200b级"),
        kp_row("\u200b\u200b\u200b", name="丙项目"),  # nothing but invisible characters: empty
        kp_row("ＸＭ００３", name="丁项目"),  # full-width, as a Chinese input method types it
        kp_row("XM003\ufe0f", name="丁项目"),
        kp_row("\u3164XM004\u2800", name="戊项目"),  # Hangul filler, blank braille
        kp_row("XM004\u034f", name="戊项目"),
    ])
    run = run_period("key_projects", "2023-02")
    dupes = run.rejected(rule="duplicate_key")
    assert {r["source_row"] for r in dupes} == {2, 3, 6, 7, 8, 9}  # three keys, each written two ways
    (loaded,) = run.staging("key_projects")
    assert (loaded["project_code"], loaded["project_name"], loaded["level"]) == ("XM002", "乙项目", "省级")
    assert run.rejected(source_row=5)[0]["rule"] == "required"


# ------------------------------------------------------------------ a key repeated thousands of times


def test_a_key_repeated_thousands_of_times_names_a_few_and_counts(raw, run_period):
    write_csv(raw / "key_projects" / "2023-02.csv", [KP_HEADER] + [kp_row("XM001")] * 4000 + [kp_row("XM002")])
    run = run_period("key_projects", "2023-02")
    dupes = run.rejected(rule="duplicate_key")
    assert len(dupes) == 4000
    longest = max(len(r["reason"]) for r in dupes)
    assert longest < 300, longest  # not 4,000 other rows in each reason
    assert "共3999行" in dupes[0]["reason"] and "第3行" in dupes[0]["reason"]
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM002"]


# ------------------------------------------------------------------ file names, links, special files


def test_a_file_name_that_is_not_utf8_is_rejected_by_name(raw, run_period):
    folder = raw / "key_projects"
    folder.mkdir(parents=True)
    gbk_name = "2023-02__发改局.csv".encode("gbk")
    with open(os.path.join(os.fsencode(folder), gbk_name), "wb") as fh:
        fh.write("\n".join([",".join(KP_HEADER), ",".join(map(str, kp_row("XM001")))]).encode("utf-8"))
    write_csv(folder / "2023-02__发改局.csv", [KP_HEADER, kp_row("XM002")])  # the same name in UTF-8
    run = run_period("key_projects", "2023-02")
    shown = "key_projects/" + gbk_name.decode("utf-8", errors="backslashreplace")
    bad = run.log(shown)  # its bytes as \x escapes: never the same text as the UTF-8 name
    assert bad["status"] == "rejected" and "UTF-8" in bad["message"] and bad["sha256"]
    assert "按GBK编码读作“2023-02__发改局.csv”" in bad["message"]
    assert run.log("key_projects/2023-02__发改局.csv")["status"] == "loaded"


def test_a_period_in_full_width_digits_is_named_as_such_not_a_future_month(raw, run_period, settings, tmp_path):
    # int() reads ２０２３ as 2023, and "２０２３-０８" > "2026-12" as text: the file was "from the
    # future". It is a name the rules do not read, and the message shows the name as it should be.
    write_csv(raw / "key_projects" / "２０２３-０８__发改局.csv", [KP_HEADER, kp_row("XM001")])
    write_csv(raw / "key_projects" / "2023-08__发改局.csv", [KP_HEADER, kp_row("XM002")])
    run = run_period("key_projects", "2023-08")
    odd = run.log("key_projects/２０２３-０８__发改局.csv")
    # rejected for its name in the month meant, as a .xls is: the sender's receipt, the calendar's
    # 被退回 and the briefing are that month's
    assert odd["status"] == "rejected" and odd["period"] == "2023-08" and odd["partition_key"] == "key_projects/2023-08"
    assert "报告期无法识别" in odd["message"] and "（“２０２３-０８”中有全角字符，应写作2023-08）" in odd["message"]
    assert "未来" not in odd["message"]
    assert run.log("key_projects/2023-08__发改局.csv")["status"] == "loaded"

    from click.testing import CliRunner

    from shouyang_pipeline.cli import main
    from shouyang_pipeline_tests.test_cli import _env

    env = _env(settings, tmp_path)
    # the check says what a run would: the name, not "use --period"
    checked = CliRunner().invoke(main, ["check", str(raw / "key_projects" / "２０２３-０８__发改局.csv")], env=env)
    assert checked.exit_code == 1 and "中有全角字符，应写作2023-08" in checked.output and "未来" not in checked.output
    assert "--period" not in checked.output
    typed = CliRunner().invoke(main, ["check", str(raw / "key_projects" / "2023-08__发改局.csv"), "--period", "２０２３-０８"],
                               env=env)
    assert typed.exit_code == 2 and "应写作2023-08" in typed.output
    template = CliRunner().invoke(main, ["template", "key_projects", "--period", "２０２３-０８"], env=env)
    assert template.exit_code == 2 and "无效" in template.output, template.output

    # a month 13 in full-width digits is no month: no hint of one, no month meant
    write_csv(raw / "key_projects" / "２０２３-１３__发改局.csv", [KP_HEADER, kp_row("XM003")])
    thirteen = run_period("key_projects", "2023-08").log("key_projects/２０２３-１３__发改局.csv")
    assert thirteen["period"] is None and "应写作" not in thirteen["message"]


def test_a_name_too_long_for_the_archive_is_archived_under_its_hash(raw, settings, run_period):
    folder = raw / "key_projects"
    folder.mkdir(parents=True)
    odd = folder / ("2023-02." + "x" * 240)
    odd.write_bytes(b"whatever")
    write_csv(folder / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    run = run_period("key_projects", "2023-02")
    log = run.log(f"key_projects/{odd.name}")
    assert log["status"] == "rejected" and "不接受" in log["message"]
    assert (settings.archive_dir / f"{log['sha256']}.bin").read_bytes() == b"whatever"
    assert run.log("key_projects/2023-02.csv")["status"] == "loaded"


def test_a_hard_link_is_rejected_unread_like_a_symbolic_link(raw, tmp_path, settings, run_period):
    secret = tmp_path / "outside" / "secret.csv"
    write_csv(secret, [KP_HEADER, kp_row("XM009")])
    folder = raw / "key_projects"
    folder.mkdir(parents=True)
    os.link(secret, folder / "2023-02__链接.csv")
    (folder / "2023-02__符号.csv").symlink_to(secret)
    write_csv(folder / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    run = run_period("key_projects", "2023-02")
    hard = run.log("key_projects/2023-02__链接.csv")
    assert hard["status"] == "rejected" and "硬链接" in hard["message"] and hard["sha256"] is None
    assert run.log("key_projects/2023-02__符号.csv")["sha256"] is None
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001"]
    assert not any(settings.archive_dir.glob("*")) or all(
        p.read_bytes() != secret.read_bytes() for p in settings.archive_dir.iterdir())


def test_a_folder_named_as_a_submission_is_said_to_be_a_folder(raw, run_period):
    """A folder `2023-02__发改局补报.csv` inside a dataset's folder, empty or not, is not passed over in
    silence: it is rejected in its month as a folder; the files in it are each misplaced; a folder
    of another name holding nothing says nothing; the month's file loads."""
    folder = raw / "key_projects"
    folder.mkdir(parents=True)
    (folder / "2023-02__发改局补报.csv").mkdir()
    (folder / "2023-02__统计局.XLSX").mkdir()
    write_csv(folder / "2023-02__统计局.XLSX" / "2023-02.csv", [KP_HEADER, kp_row("XM002")])
    (folder / "旧版本").mkdir()
    write_csv(folder / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    run = run_period("key_projects", "2023-02")
    for name in ("2023-02__发改局补报.csv", "2023-02__统计局.XLSX"):
        log = run.log(f"key_projects/{name}")
        assert log["status"] == "rejected" and "这是一个文件夹" in log["message"] and log["sha256"] is None
    inside = run.log("key_projects/2023-02__统计局.XLSX/2023-02.csv")
    assert inside["status"] == "rejected" and "多层子目录" in inside["message"]
    assert not run.q("SELECT * FROM audit.ingest_log WHERE file_path LIKE '%旧版本%'")
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001"]


def _log_rows(run, file_path: str) -> list[tuple]:
    return [(r["sha256"], r["is_current"], r["ingested_at"]) for r in run.q(
        "SELECT sha256, is_current, ingested_at FROM audit.ingest_log WHERE file_path = ? ORDER BY ingested_at, sha256 NULLS LAST",
        file_path)]


def test_a_file_without_a_digest_beside_one_with_keeps_one_log_row_across_runs(raw, tmp_path, run_period):
    """A hard link has no digest (None) beside a file with one: pandas holds the column's None as
    NaN, which was bound as the text 'nan' (or failed as a number), so the link's row was never
    replaced and one more accrued each run."""
    secret = tmp_path / "outside" / "secret.csv"
    write_csv(secret, [KP_HEADER, kp_row("XM009")])
    folder = raw / "key_projects"
    folder.mkdir(parents=True)
    os.link(secret, folder / "2023-02__链接.csv")
    write_csv(folder / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    for _ in range(3):
        run = run_period("key_projects", "2023-02")
    link = _log_rows(run, "key_projects/2023-02__链接.csv")
    assert [(sha, current) for sha, current, _ in link] == [(None, True)]
    plain = _log_rows(run, "key_projects/2023-02.csv")
    assert len(plain) == 1 and plain[0][0] is not None and plain[0][1] is True


def test_a_file_replaced_by_a_link_keeps_its_read_version_and_one_row_for_the_link(raw, tmp_path, run_period):
    folder = raw / "key_projects"
    folder.mkdir(parents=True)
    write_csv(folder / "2023-02__甲.csv", [KP_HEADER, kp_row("XM002")])
    write_csv(folder / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    first = run_period("key_projects", "2023-02")
    read = _log_rows(first, "key_projects/2023-02__甲.csv")
    assert len(read) == 1 and read[0][0] is not None
    secret = tmp_path / "outside" / "secret.csv"
    write_csv(secret, [KP_HEADER, kp_row("XM009")])
    (folder / "2023-02__甲.csv").unlink()
    os.link(secret, folder / "2023-02__甲.csv")
    for _ in range(2):  # (this failed on converting the digests to numbers before)
        run = run_period("key_projects", "2023-02")
    rows = _log_rows(run, "key_projects/2023-02__甲.csv")
    assert [(sha, current) for sha, current, _ in rows] == [(read[0][0], False), (None, True)]
    assert rows[0][2] == read[0][2]  # the version read keeps the time it was first seen
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM001"]


def test_a_fifo_is_listed_not_opened(raw, run_period):
    folder = raw / "key_projects"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "2023-02__管道.csv")  # opening it would block the run forever
    write_csv(folder / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    run = run_period("key_projects", "2023-02")
    assert "不是普通文件" in run.log("key_projects/2023-02__管道.csv")["message"]
    assert run.log("key_projects/2023-02.csv")["status"] == "loaded"


def test_a_file_over_the_size_limit_is_archived_streaming_and_rejected(raw, settings, run_period, monkeypatch):
    monkeypatch.setattr(discover_module, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(discover_module.take, "__kwdefaults__", {"max_bytes": 1000})
    big = write_csv(raw / "key_projects" / "2023-02__大.csv", [KP_HEADER] + [kp_row(f"XM{i:03d}") for i in range(50)])
    write_csv(raw / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM999")])
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02__大.csv")
    assert log["status"] == "rejected" and "文件过大" in log["message"]
    assert (settings.archive_dir / f"{log['sha256']}.csv").read_bytes() == big.read_bytes()
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM999"]


def test_an_unreadable_file_is_its_own_problem(raw, run_period, monkeypatch):
    locked = write_csv(raw / "key_projects" / "2023-02__锁.csv", [KP_HEADER, kp_row("XM001")])
    locked.chmod(0)
    real = Path.read_bytes

    def read_bytes(self):  # root reads a mode-0 file: refuse it as an ordinary user would be refused
        if self.name == locked.name:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    write_csv(raw / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM002")])
    run = run_period("key_projects", "2023-02")
    log = run.log("key_projects/2023-02__锁.csv")
    assert log["status"] == "rejected" and "无法读取" in log["message"] and "权限不足" in log["message"]
    assert [r["project_code"] for r in run.staging("key_projects")] == ["XM002"]


def test_no_part_files_are_left_in_the_archive(raw, settings, run_period):
    write_xlsx(raw / "key_projects" / "2023-02.xlsx", [KP_HEADER, kp_row("XM001")])
    run_period("key_projects", "2023-02")
    assert [p.suffix for p in settings.archive_dir.iterdir()] == [".xlsx"]


def test_an_entry_whose_path_is_too_long_is_listed_not_fatal(raw, run_period, monkeypatch):
    import errno

    deep = raw / "key_projects" / "2023-02" / "更深一层"
    deep.mkdir(parents=True)
    (deep / "x.csv").write_bytes(b"a")
    write_csv(raw / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    real_iterdir = Path.iterdir

    def iterdir(self):  # a folder nested past the system's path limit
        if self.name == "更深一层":
            raise OSError(errno.ENAMETOOLONG, "File name too long")
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    run = run_period("key_projects", "2023-02")
    assert run.log("key_projects/2023-02.csv")["status"] == "loaded"
    (odd,) = [r for r in run.log() if "更深一层" in r["file_path"]]
    assert odd["status"] == "rejected" and "不是普通文件" in odd["message"]


def test_a_dataset_folder_that_cannot_be_listed_is_a_set_up_error(raw, monkeypatch):
    import errno

    from shouyang_pipeline.errors import SetupError
    from shouyang_pipeline.ingest.discover import discover

    write_csv(raw / "key_projects" / "2023-02.csv", [KP_HEADER, kp_row("XM001")])
    real_iterdir = Path.iterdir

    def iterdir(self):  # read as "no files" it would remove the dataset's every period
        if self.name == "key_projects":
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    with pytest.raises(SetupError, match="权限不足"):
        discover(raw)
