"""The reference lists' look-ups (`reference.Reference.load`): read once a process while their
contents stay the same, read again as soon as a list changes, even to the same size."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from shouyang_pipeline.errors import SetupError
from shouyang_pipeline.reference import Reference

PROJECT_REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"


@pytest.fixture
def lists(tmp_path) -> Path:
    folder = tmp_path / "reference"
    shutil.copytree(PROJECT_REFERENCE, folder)
    return folder


def test_the_same_lists_are_read_once(lists):
    first = Reference.load(lists)
    assert Reference.load(lists) is first
    assert first.canonical("townships", "平头镇") == "平头镇"


def test_a_list_changed_to_the_same_size_is_read_again(lists):
    before = Reference.load(lists)
    path = lists / "townships.csv"
    text = path.read_text(encoding="utf-8-sig")
    assert "平头镇" in text
    path.write_text(text.replace("平头镇", "平顶镇"), encoding="utf-8")  # the same length, the file's time may not move
    after = Reference.load(lists)
    assert after is not before
    assert after.canonical("townships", "平顶镇") == "平顶镇" and after.canonical("townships", "平头镇") is None
    assert before.canonical("townships", "平头镇") == "平头镇"  # what was handed out is left as it was


def test_another_folder_with_the_same_lists_gets_its_own_reading(lists, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(lists, other)
    assert Reference.load(other) is not Reference.load(lists)


def test_a_list_gone_is_a_setup_error_each_time(lists):
    Reference.load(lists)
    (lists / "villages.csv").unlink()
    for _ in range(2):
        with pytest.raises(SetupError, match="缺少参考名录文件"):
            Reference.load(lists)


def test_a_list_that_is_a_pipe_is_a_setup_error_not_a_wait(lists):
    """A named pipe where a list should be is refused as not a file, never read (which would wait
    for a writer for ever)."""
    Reference.load(lists)
    (lists / "zones.csv").unlink()
    os.mkfifo(lists / "zones.csv")
    with pytest.raises(SetupError, match="不是一个文件"):
        Reference.load(lists)
