"""The projects behind schedule in the briefing's 重点项目 section: how many there are, and the first
BEHIND_LISTED of them by level (省级, 市级, the rest), completion (none first) and code. A city has
tens of thousands: they are counted in DuckDB and only the ones named are fetched."""

from __future__ import annotations

import random
import re
from decimal import Decimal

import duckdb
import pytest

from shouyang_pipeline.exports.briefing import BEHIND_LISTED, projects_section

SCOPES = ("全部", "市级及以上", "省级")
LEVEL_ORDER = {"省级": 1, "市级": 2}


def _warehouse(tmp_path, projects: list[tuple]) -> duckdb.DuckDBPyConnection:
    """A real DuckDB file with the two marts the section reads; `projects` are (code, name, level,
    status, completion %, behind schedule) of 2023-06."""
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    conn.execute("CREATE SCHEMA marts")
    conn.execute("""CREATE TABLE marts.project_summary (period VARCHAR, scope VARCHAR, projects INTEGER,
        total_investment_yi DECIMAL(18,2), annual_plan_yi DECIMAL(18,2), ytd_investment_yi DECIMAL(18,2),
        plan_completion_pct DECIMAL(18,1), started_projects INTEGER, start_rate_pct DECIMAL(9,1),
        projects_over_100m INTEGER, productive_projects INTEGER)""")
    for scope in SCOPES:
        conn.execute("INSERT INTO marts.project_summary VALUES ('2023-06', ?, 1, 1, 1, 1, 50, 1, 100, 0, 0)", [scope])
    conn.execute("""CREATE TABLE marts.project_progress (period VARCHAR, project_code VARCHAR, project_name VARCHAR,
        level VARCHAR, status VARCHAR, plan_completion_pct DECIMAL(18,1), behind_schedule BOOLEAN)""")
    conn.executemany("INSERT INTO marts.project_progress VALUES ('2023-06', ?, ?, ?, ?, ?, ?)", projects)
    return conn


def _sentence(conn) -> str:
    return next(p for p in projects_section(conn, "2023-06").paragraphs if "进度" in p)


def _named(sentence: str) -> list[str]:
    return re.findall(r"(项目\d+)（", sentence)


def test_many_behind_are_counted_and_the_first_are_named_by_level_completion_and_code(tmp_path):
    rng = random.Random(7)
    projects = []
    for i in range(1, 41):
        level = rng.choice(["省级", "市级", "县级", "乡镇级"])
        pct = None if i % 9 == 0 else Decimal(rng.randint(0, 400)) / 10
        projects.append((f"XM{i:03d}", f"项目{i}", level, "在建", pct, i % 3 != 0))
    conn = _warehouse(tmp_path, projects)
    sentence = _sentence(conn)
    behind = [p for p in projects if p[5]]
    expected = sorted(behind, key=lambda p: (LEVEL_ORDER.get(p[2], 3), p[4] is not None, p[4] or 0, p[0]))
    assert f"进度滞后的项目{len(behind)}个，按级别列前{BEHIND_LISTED}个：" in sentence
    assert _named(sentence) == [p[1] for p in expected[:BEHIND_LISTED]]
    first = expected[0]
    assert f"{first[1]}（{first[2]}，在建" in sentence


@pytest.mark.parametrize("count", [1, BEHIND_LISTED])
def test_a_few_behind_are_all_named_without_saying_first(tmp_path, count):
    projects = [(f"XM{i:03d}", f"项目{i}", "县级", "在建", Decimal(i), i <= count) for i in range(1, 16)]
    sentence = _sentence(_warehouse(tmp_path, projects))
    assert f"进度滞后的项目{count}个：" in sentence and "按级别列前" not in sentence
    assert _named(sentence) == [f"项目{i}" for i in range(1, count + 1)]
    assert "项目1（县级，在建，完成1.0%）" in sentence


def test_none_behind_says_so(tmp_path):
    projects = [("XM001", "项目1", "省级", "在建", Decimal(90), False)]
    assert "本期无进度滞后项目。" in projects_section(_warehouse(tmp_path, projects), "2023-06").paragraphs
