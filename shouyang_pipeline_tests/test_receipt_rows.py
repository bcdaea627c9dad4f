"""A receipt's plain rows written by `xlsx_rows.PlainRows` into the empty rows openpyxl wrote are,
byte for byte, the rows openpyxl writes for the same values (issue 14: openpyxl takes about 8 µs
a cell, and a receipt of a 110,000-row file holds 1.5 million cells)."""

from __future__ import annotations

import io
import random
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from shouyang_pipeline.exports import xlsx_rows

TEXTS = ["普通文本", "a&b<c>d", " 前有空格", "后有空格 ", "\u3000全角空格", "  ", "\t", "换行\n", "回车\r第二行",
         '"引号"', "'单引号", "_x0041_", "1234", "项" * 300, "http://example.com", "#N/A前", "😀", "\u2029",
         "长" * 32767]
NUMBERS = [0, -0.0, 1, -7, 2.5, 1e-300, 1e300, 123456789012345678, 2**999, 0.1 + 0.2, 1e16, 12345.678901234567]


def random_rows(n: int, seed: int) -> dict[int, list]:
    rng = random.Random(seed)
    rows = {}
    for number in range(1, n + 1):
        if rng.random() < 0.2:
            continue  # a row openpyxl writes itself (empty here)
        width = rng.randint(1, 30)
        values = []
        for _ in range(width):
            pick = rng.random()
            values.append(None if pick < 0.15 else rng.choice(TEXTS) if pick < 0.6
                          else rng.choice(NUMBERS) if pick < 0.9 else rng.random() < 0.5)
        if any(v is not None for v in values):
            rows[number] = values
    return rows


def write_both(tmp_path, rows: dict[int, list], last: int):
    paths = []
    for fast in (False, True):
        wb = Workbook(write_only=True)
        wb.create_sheet("问题清单").append(["摘要"])
        ws = wb.create_sheet("数据")
        for number in range(1, last + 1):
            values = rows.get(number, [])
            ws.append([] if fast and number in rows else values)
        path = tmp_path / f"{'fast' if fast else 'plain'}.xlsx"
        if fast:
            saved = io.BytesIO()
            wb.save(saved)
            xlsx_rows.splice(saved.getvalue(), path, {2: xlsx_rows.PlainRows(rows)})
        else:
            wb.save(path)
        paths.append(path)
    return paths


def members(path):
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist() if name != "docProps/core.xml"}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_plain_rows_are_what_openpyxl_writes(tmp_path, seed):
    rows = random_rows(400, seed)
    assert all(xlsx_rows.plain(v) for values in rows.values() for v in values)
    plain, fast = write_both(tmp_path, rows, 410)
    a, b = members(plain), members(fast)
    assert list(a) == list(b) and [n for n in a if a[n] != b[n]] == []
    ws = load_workbook(fast)["数据"]
    for number in list(rows)[:50]:
        shown = [c.value for c in ws[number]]
        # (XML reads a carriage return as a line feed, in openpyxl's own rows as in these)
        assert [v for v in shown if isinstance(v, str)] == [v.replace("\r", "\n") for v in rows[number]
                                                            if isinstance(v, str)]


def test_what_is_not_plain_is_left_to_openpyxl():
    for value in ["", "=", "=SUM(A1)", "#N/A", "#DIV/0!", "长" * 32768, float("nan"), float("inf"), 2**1100,
                  object(), 1.5j]:
        assert not xlsx_rows.plain(value), value
    for value in [None, "#N/A前", "a", 0, -1, 2.5, True, False, "长" * 32767]:
        assert xlsx_rows.plain(value), value


def test_rows_to_fill_must_have_been_written_empty(tmp_path):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    ws.append(["已写"])
    saved = io.BytesIO()
    wb.save(saved)
    with pytest.raises(ValueError, match="were not written empty"):
        xlsx_rows.splice(saved.getvalue(), tmp_path / "x.xlsx", {1: xlsx_rows.PlainRows({1: ["甲"]})})


def test_a_lone_surrogate_becomes_a_replacement_character():
    """Not in UTF-8, so not in the XML: openpyxl wrote a character reference no reader takes."""
    from shouyang_pipeline.exports.receipts import _text

    assert _text("甲\ud800乙") == "甲\ufffd乙" and _text("😀") == "😀"
