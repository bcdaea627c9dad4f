"""A run over several months (`shouyang run`, a single-run backfill) in the UI: each month's
materialisation carries that month's figures, and the run's last month is each asset's latest.

Dagster 1.13 gives every partition of a range the step's metadata unless the step adds a month's
own (`add_asset_metadata(partition_key=)`), and records the months in the order of a Python set;
before this, the 2023-02 partition of staging/key_projects showed the year's 1,315 rows and
December's briefing, and every asset's latest materialisation was 2023-09.
"""

from __future__ import annotations

import re

import dagster as dg

from shouyang_pipeline.defs import build_definitions
from shouyang_pipeline.defs.partitions import add_months

from conftest import KP_HEADER, kp_row, write_csv

MONTHS = [f"2023-{m:02d}" for m in range(1, 9)]  # eight months: a set's order is not the calendar's by chance


def _months_in(text: str) -> set[str]:
    return set(re.findall(r"2023-\d\d", text))


def _rows(month: int) -> list[list]:
    """Month m sends m projects, the second of them with a negative total (rejected) from March on."""
    rows = [kp_row(f"XM{i:03d}", name=f"项目{i}", ytd=10 * month, start="2022-03-15") for i in range(1, month + 1)]
    if month >= 3:
        rows[1] = kp_row("XM002", name="项目2", total=-5, ytd=10 * month, start="2022-03-15")
    return rows


def test_each_month_of_a_range_run_has_its_own_figures_and_the_last_is_latest(settings):
    for m, month in enumerate(MONTHS, start=1):
        if month != "2023-05":  # May: no file
            write_csv(settings.raw_dir / "key_projects" / f"{month}__发改局.csv", [KP_HEADER, *_rows(m)])
    write_csv(settings.raw_dir / "key_projects" / "五月份报表.csv", [KP_HEADER, *_rows(1)])  # no month's: unplaced
    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    with dg.instance_for_test() as instance:
        add_months(instance, MONTHS)
        tags = {"dagster/asset_partition_range_start": MONTHS[0], "dagster/asset_partition_range_end": MONTHS[-1]}
        result = job.execute_in_process(instance=instance, tags=tags,
                                        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})
        assert result.success

        def events(key: str) -> dict[str, dict]:
            found = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == key]
            assert [e.partition for e in found] == MONTHS, key  # recorded in calendar order
            return {e.partition: {k: v.value for k, v in e.event_specific_data.materialization.metadata.items()}
                    for e in found}

        staging = events("staging/key_projects")
        for m, month in enumerate(MONTHS, start=1):
            got = staging[month]
            assert got["period"] == month and got["run_periods"] == "2023-01 … 2023-08（8个月）"
            if month == "2023-05":
                assert (got["dagster/row_count"], got["files"], got["rows_rejected"]) == (0, 0, 0)
                assert got["preview"] == "（无）"
                continue
            rejected = 1 if m >= 3 else 0
            assert (got["dagster/row_count"], got["files"], got["rows_rejected"]) == (m - rejected, 1, rejected), month
            assert f"{month}__发改局.csv" in got["file_status"] and f"{MONTHS[m % 8]}__" not in got["file_status"]
            assert _months_in(got["preview"]) == {month}
            assert ("not_positive" in got["rejected_rows"]) == bool(rejected)

        log = events("audit/ingest_log")
        # a month's files are counted; the file no month holds is listed with every month, not counted
        assert log["2023-05"]["dagster/row_count"] == 0 and log["2023-06"]["dagster/row_count"] == 1
        assert all("五月份报表.csv" in log[m]["current_files"] for m in MONTHS)
        rejected_rows = events("audit/rejected_rows")
        assert [rejected_rows[m]["dagster/row_count"] for m in MONTHS] == [0, 0, 1, 1, 0, 1, 1, 1]

        summary = events("marts/project_summary")
        assert summary["2023-04"]["period"] == "2023-04" and _months_in(summary["2023-04"]["preview"]) == {"2023-04"}
        progress = events("marts/project_progress")
        assert [progress[m]["dagster/row_count"] for m in MONTHS] == [1, 2, 2, 3, 0, 5, 6, 7]
        assert all(progress[m]["rows_all_periods"] == 26 for m in MONTHS)  # the table's, all months
        assert all(progress[m]["rebuilt_from"] == "全部报告期" for m in MONTHS)  # the first run: built whole

        briefing = events("exports/briefing")
        assert "2023年1—4月" in briefing["2023-04"]["briefing"] or "1—4月" in briefing["2023-04"]["briefing"]
        assert "1—8月" not in briefing["2023-04"]["briefing"]
        assert "briefing_2023-04.md" in briefing["2023-04"]["files"]
        assert "briefing_2023-08.md" not in briefing["2023-04"]["files"]

        # what the UI shows first: the run's last month
        for key in ("staging/key_projects", "audit/ingest_log", "marts/project_summary", "exports/briefing"):
            latest = instance.get_latest_materialization_event(dg.AssetKey(key.split("/")))
            assert latest.asset_materialization.partition == MONTHS[-1], key

        # A run of one month (the sensor's, the schedule's) gives it the same names with its own
        # figures, though it also rewrites the later months' exports its figures changed.
        write_csv(settings.raw_dir / "key_projects" / "2023-02__发改局.csv",
                  [KP_HEADER, *_rows(2), kp_row("XM009", name="项目9", start="2022-03-15")])
        result = job.execute_in_process(instance=instance, partition_key="2023-02",
                                        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})
        assert result.success

        def only(key: str) -> dict:
            (e,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == key]
            assert e.partition == "2023-02"
            return {k: v.value for k, v in e.event_specific_data.materialization.metadata.items()}

        assert (only("staging/key_projects")["dagster/row_count"], only("staging/key_projects")["period"]) == (3, "2023-02")
        month = only("exports/briefing")
        assert month["briefing"].startswith("# 寿阳县重点工作数据简报（2023年2月）")
        assert "briefing_2023-02.md" in month["files"] and "briefing_2023-03.md" not in month["files"]
        assert "briefing_2023-03.md" in month["files_in_run"]  # March's figures (year to date) changed too
        assert only("marts/project_progress")["dagster/row_count"] == 3
        # February's rows changed: the marts reading them rebuilt from February on, the calendar whole
        assert only("marts/project_progress")["rebuilt_from"] == "2023-02"
        assert only("marts/project_progress")["rows_all_periods"] == 27
        assert only("marts/submission_status")["rebuilt_from"] == "全部报告期"


def test_a_metadata_table_shows_what_a_sender_wrote_in_its_own_cell():
    """File names and values come from the senders: a `|`, a `\\`, a line break or a blank stays in
    its cell of the Markdown table the UI renders (markdown-it, CommonMark with GFM tables)."""
    import pandas as pd
    from markdown_it import MarkdownIt

    from shouyang_pipeline.defs.metadata import markdown

    frame = pd.DataFrame({
        "file_path": ["key_projects/2023-02__a|b.csv", "key_projects/2023-02__a\\|b.csv", "二行\n名称\r\n.csv", None],
        "rows": [1.0, 2.5, float("nan"), 1e20],
        "note": ["<script>alert(1)</script>", pd.NA, "[点我](javascript:alert(1)) *粗* `码` # 标题", "=1+1"],
    })
    html = MarkdownIt("commonmark").enable("table").render(markdown(frame).value)
    cells = re.findall(r"<td>(.*?)</td>", html)
    assert cells == ["key_projects/2023-02__a|b.csv", "1", "&lt;script&gt;alert(1)&lt;/script&gt;",
                     "key_projects/2023-02__a\\|b.csv", "2.5", "",
                     "二行 名称 .csv", "", "[点我](javascript:alert(1)) *粗* `码` # 标题",
                     "", "1e+20", "=1+1"]
    assert "<a" not in html and "<em>" not in html and "<code>" not in html
    assert markdown(frame.head(0)).value == "（无）"
    assert markdown(frame, 2).value.endswith("……共4行，仅显示前2行")
