"""The marts step's builds (`defs.assets._MartsAhead`): the marts built one after the other by a
thread on a cursor of the step's connection, while the step reports those built; a mart that fails
stops the builds after it, and a step that stops starts no more."""

from __future__ import annotations

import shutil
import threading
import time

import duckdb
import pytest

from shouyang_pipeline.defs import assets
from shouyang_pipeline.marts.build import build_all
from shouyang_pipeline.marts.lineage import build_order


def _copy(sample_year, tmp_path, name: str):
    path = tmp_path / f"{name}.duckdb"
    shutil.copy(sample_year.warehouse, path)
    return duckdb.connect(str(path))


def test_the_marts_built_ahead_are_those_built_in_turn(sample_year, tmp_path):
    names = build_order()
    with _copy(sample_year, tmp_path, "in_turn") as conn:
        in_turn = build_all(conn, now=sample_year.now())
        expected = {n: conn.execute(f"SELECT * FROM marts.{n} ORDER BY ALL").fetchall() for n in names}
    with _copy(sample_year, tmp_path, "ahead") as conn:
        conn.execute("DROP SCHEMA marts CASCADE")  # (every mart made again, each after those it reads)
        ahead = assets._MartsAhead(conn, names, sample_year.now)
        counts = {n: ahead.built(n) for n in names}
        ahead.close()
        assert counts == in_turn
        assert {n: conn.execute(f"SELECT * FROM marts.{n} ORDER BY ALL").fetchall() for n in names} == expected


def test_a_mart_that_fails_stops_the_builds_after_it(sample_year, tmp_path, monkeypatch):
    names = build_order()
    failing = names[2]
    real = assets.build_mart
    built = []

    def build(conn, name, **kwargs):
        if name == failing:
            raise duckdb.ConversionException(f"{name} overflowed")
        built.append(name)
        return real(conn, name, **kwargs)

    monkeypatch.setattr(assets, "build_mart", build)
    with _copy(sample_year, tmp_path, "failing") as conn:
        ahead = assets._MartsAhead(conn, names, sample_year.now)
        assert ahead.built(names[0]) > 0 and ahead.built(names[1]) > 0
        with pytest.raises(duckdb.ConversionException, match="overflowed"):
            ahead.built(failing)
        for later in names[3:]:
            with pytest.raises(RuntimeError, match="未重建"):
                ahead.built(later)
        ahead.close()
    assert built == names[:2]


def test_a_step_that_stops_starts_no_more_builds(sample_year, tmp_path, monkeypatch):
    names = build_order()
    started, go_on = [], threading.Event()

    def build(conn, name, **kwargs):
        started.append(name)
        go_on.wait(30)
        return 0

    monkeypatch.setattr(assets, "build_mart", build)
    with _copy(sample_year, tmp_path, "stopped") as conn:
        ahead = assets._MartsAhead(conn, names, sample_year.now)
        for _ in range(300):
            if started:
                break
            time.sleep(0.01)
        threading.Timer(0.2, go_on.set).start()
        ahead.close(interrupt=True)  # (the first build finishes: its own transaction)
    assert started == names[:1]
    assert ahead.built(names[0]) == 0
    for later in names[1:]:
        with pytest.raises(RuntimeError, match="未重建"):
            ahead.built(later)


def test_the_builds_are_at_most_one_mart_ahead_of_the_step(sample_year, tmp_path, monkeypatch):
    """A step whose reporting of a mart fails leaves at most one more mart built than reported."""
    names = build_order()
    started = []
    monkeypatch.setattr(assets, "build_mart", lambda conn, name, **kwargs: started.append(name) or 7)
    with _copy(sample_year, tmp_path, "paced") as conn:
        ahead = assets._MartsAhead(conn, names, sample_year.now)
        time.sleep(0.3)
        assert started == names[:2]  # the first, and one ahead
        assert ahead.built(names[0]) == 7
        time.sleep(0.3)
        assert started == names[:3]
        ahead.close()
    assert started == names[:3]


def test_a_build_cancelled_before_its_commit_changes_nothing(sample_year, tmp_path, monkeypatch):
    """`build_mart(cancelled=…)`, and a step that fails while a mart is between its statements (not
    in a query an interrupt would stop): rolled back before its commit, the old table kept."""
    from shouyang_pipeline.marts.build import BuildCancelled, build_mart

    names = build_order()
    comment = "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = ?"
    with _copy(sample_year, tmp_path, "cancelled") as conn:
        conn.execute(f"COMMENT ON TABLE marts.{names[0]} IS 'OLD'")
        with pytest.raises(BuildCancelled):
            build_mart(conn, names[0], now=sample_year.now(), cancelled=lambda: True)
        assert conn.execute(comment, [names[0]]).fetchone() == ("OLD",)

        go_on = threading.Event()
        monkeypatch.setattr(assets, "build_mart",
                            lambda cursor, name, **kwargs: go_on.wait(30) and build_mart(cursor, name, **kwargs))
        ahead = assets._MartsAhead(conn, names, sample_year.now)
        threading.Timer(0.2, go_on.set).start()
        ahead.close(interrupt=True)
        with pytest.raises(BuildCancelled):
            ahead.built(names[0])
        assert conn.execute(comment, [names[0]]).fetchone() == ("OLD",)


def test_a_second_ctrl_c_while_the_step_stops_still_waits_for_the_build(sample_year, tmp_path, monkeypatch):
    names = build_order()
    go_on, interrupts = threading.Event(), []
    monkeypatch.setattr(assets, "build_mart", lambda conn, name, **kwargs: go_on.wait(30) and 0)
    with _copy(sample_year, tmp_path, "twice") as conn:
        ahead = assets._MartsAhead(conn, names, sample_year.now)
        real_join, real_interrupt = ahead._thread.join, ahead._interrupt
        pressed = iter([True])

        def join():
            if next(pressed, False):
                threading.Timer(0.2, go_on.set).start()
                raise KeyboardInterrupt
            real_join()

        ahead._thread.join = join
        ahead._interrupt = lambda: interrupts.append(1) or real_interrupt()
        with pytest.raises(KeyboardInterrupt):
            ahead.close(interrupt=True)
        assert not ahead._thread.is_alive()  # waited for, then the second Ctrl-C raised
    assert len(interrupts) == 2
