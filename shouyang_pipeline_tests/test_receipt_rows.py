"""A receipt's plain rows written by `xlsx_rows.PlainRows` into the empty rows openpyxl wrote are,
byte for byte, the rows openpyxl writes for the same values (issue 14: openpyxl takes about 8 µs
a cell, and a receipt of a 110,000-row file holds 1.5 million cells)."""

from __future__ import annotations

import io
import random
import re
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


def save(wb, path, plain: dict[int, list] | None = None, sheet: int = 1):
    """`wb` saved to `path`, as it is, or with the rows `plain` spliced into its sheet `sheet`."""
    if plain is None:
        wb.save(path)
    else:
        saved = io.BytesIO()
        wb.save(saved)
        xlsx_rows.splice(saved.getvalue(), path, {sheet: xlsx_rows.PlainRows(plain)})
    return path


def write_both(tmp_path, rows: dict[int, list], last: int):
    paths = []
    for fast in (False, True):
        wb = Workbook(write_only=True)
        wb.create_sheet("问题清单").append(["摘要"])
        ws = wb.create_sheet("数据")
        for number in range(1, last + 1):
            values = rows.get(number, [])
            ws.append([] if fast and number in rows else values)
        paths.append(save(wb, tmp_path / f"{'fast' if fast else 'plain'}.xlsx", rows if fast else None, sheet=2))
    return paths


# Texts as a CSV's cells are: most rows of nothing else (and blanks), taken at once by a template.
ROW_OF_TEXTS = ["项目甲", "SY2023-001", "a b", "甲{0}乙", "{1}", "%s", "a&b", "x<y", "z>w",
                " 前", "后 ", "\u3000全角", "中\n间", "后\n", "\n前", "  ", "长" * 400, "😀"]


def rows_of_texts(n: int, seed: int) -> dict[int, list]:
    """Rows of texts and blanks at numbers with gaps; most rows of ordinary texts only."""
    rng = random.Random(seed)
    rows, number = {}, 0
    for _ in range(n):
        number += 1 if rng.random() < 0.85 else rng.randint(2, 4)
        width = rng.choice([3, 3, 3, 7, rng.randint(1, 12)])
        odd = rng.random() < 0.3
        values = [None if rng.random() < 0.1 else rng.choice(ROW_OF_TEXTS) if odd and rng.random() < 0.3
                  else f"文本{rng.randint(0, 99)}" for _ in range(width)]
        if any(v is not None for v in values):
            rows[number] = values
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_runs_of_plain_rows_sent_numbered_are_what_openpyxl_writes(tmp_path, seed):
    """`NumberedRows`: a run of plain rows is one empty row in openpyxl's sheet, a row not sent is no
    row; the rows of texts (the template) and of other values come out as openpyxl writes them."""
    rows = rows_of_texts(600, seed)
    rows |= {n + max(rows): v for n, v in random_rows(100, seed).items()}
    assert all(xlsx_rows.plain(v) for values in rows.values() for v in values)
    openpyxl_rows = {n: v for n, v in rows.items() if n % 17 == 0}  # some rows openpyxl writes itself
    paths = []
    for fast in (False, True):
        wb = Workbook(write_only=True)
        wb.create_sheet("问题清单").append(["摘要"])
        ws = wb.create_sheet("数据")
        path = tmp_path / f"{'fast' if fast else 'plain'}.xlsx"
        if fast:
            sent = xlsx_rows.NumberedRows(ws)
            for number, values in rows.items():
                (sent.row if number in openpyxl_rows else sent.plain)(number, values)
            assert len(sent.rows.rows) == len(rows) - len(openpyxl_rows)
            assert sent.rows.runs and max(last - first for first, last in sent.rows.runs.items()) > 5
            saved = io.BytesIO()
            wb.save(saved)
            empty_rows = len(xlsx_rows.PLACEHOLDER.findall(zipfile.ZipFile(saved).read("xl/worksheets/sheet2.xml").decode()))
            assert empty_rows == len(sent.rows.rows) - sum(last - first for first, last in sent.rows.runs.items())
            xlsx_rows.splice(saved.getvalue(), path, {2: sent.rows})
        else:
            for number in range(1, max(rows) + 1):
                if number in rows:
                    ws.append(rows[number])
                else:
                    ws.append([])
            wb.save(path)
        paths.append(path)
    a, b = members(paths[0]), members(paths[1])
    sheet = "xl/worksheets/sheet2.xml"
    # openpyxl's own sheet has an empty row for each number not sent; the numbered one has none
    assert b'<row r="4"></row>' not in b[sheet]
    assert re.sub(rb'<row r="\d+"></row>', b"", a[sheet]) == b[sheet]
    assert [n for n in a if n != sheet and a[n] != b[n]] == []
    ws = load_workbook(paths[1])["数据"]
    for number, values in list(rows.items())[:80]:
        shown = [c.value for c in ws[number]][:len(values)]
        assert shown + [None] * (len(values) - len(shown)) == [
            v.replace("\r", "\n") if isinstance(v, str) else v for v in values], number


def test_numbered_rows_must_rise():
    wb = Workbook(write_only=True)
    sent = xlsx_rows.NumberedRows(wb.create_sheet("数据"))
    sent.plain(3, ["甲"])
    with pytest.raises(ValueError, match="row 3 sent after row 3"):
        sent.row(3, ["乙"])


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


# Values of every kind `_data_cell` handles: plain texts, numbers and flags, and what it must not
# leave bare (a formula-like text, a non-finite float, dates and times), texts it changes
# (a control character, a text longer than a cell holds) and blanks.
CELLS = ["文本", "=SUM(A1)", "+1", "@x", "a\x01b", "长" * 33000, "", " ", 7, 2.5, -0.0, float("nan"),
         float("inf"), True, False, None, None, 2**1001, "#N/A"]


# Rows of texts and blanks, as a CSV's rows are: told plain a row at a time (`receipts._plain_texts`).
ROW_TEXTS = ["项目", "a&b<c>", " 前空", "后空 ", "\u3000", "多\n行", "x\n=SUM(A1)", "x\n#N/A", "#REF!", "=1", "-1",
         "a\x0bb", "\ud800", "长" * 20000, None, None, "甲"]


def test_a_row_of_texts_is_told_plain_as_each_of_its_cells():
    """`_plain_texts(cells)` holds exactly when each cell is None or a text `_text` leaves as it is and
    `xlsx_rows.plain` takes, some cell is a text, and no text starts a later line with `=` or `#`
    (those the long way, to be sure)."""
    from openpyxl.cell.cell import ERROR_CODES

    from shouyang_pipeline.exports.receipts import _plain_texts, _text

    assert all(code.startswith("#") for code in ERROR_CODES)
    rng = random.Random(11)
    told = 0
    for _ in range(5000):
        cells = [rng.choice(ROW_TEXTS + ["", 1, 2.5, True]) for _ in range(rng.randint(0, 6))]
        each = (any(isinstance(v, str) for v in cells) and all(
            v is None or (type(v) is str and _text(v) == v and xlsx_rows.plain(v)) for v in cells))
        later_line = any(type(v) is str and ("\n=" in v or "\n#" in v) for v in cells)
        short = sum(len(v) + 1 for v in cells if isinstance(v, str)) <= 32768
        assert _plain_texts(cells) == (each and not later_line and short), cells
        told += _plain_texts(cells)
    assert told > 200


def _receipt_with_rows(seed: int):
    from datetime import date, datetime, time

    from shouyang_pipeline.exports.receipts import REJECTED, WARNING, DataSheet, Receipt, ReceiptLine

    rng = random.Random(seed)
    rows = []
    for number in range(2, 400):
        if rng.random() < 0.1:
            continue
        choices = ROW_TEXTS if rng.random() < 0.4 else CELLS + [date(2023, 5, 1), datetime(2023, 5, 1, 8, 30), time(8, 30)]
        cells = [rng.choice(choices) for _ in range(rng.randint(0, 9))]
        rows.append((number, cells))
    # plain values under a merge and in percent-formatted cells: not plain rows for all that
    special = {5: ["合并", "被合并", 1], 6: ["被合并", "被合并", 2], 7: ["x", 0.25, 3], 40: ["a", "b", "c", "d"],
               90: ["x", 1, 0.5]}
    rows = [(n, special.get(n, cells)) for n, cells in rows if n not in special] + sorted(special.items())
    rows.sort()
    data = DataSheet(title="数据", rows=[(1, ["项目名称", "金额", "比例"])] + rows, first_column=2,
                     merges=[(5, 2, 6, 3), (40, 3, 40, 5)], percent_cells={(7, 3), (90, 4)}, header_row=1,
                     span=(2, 10))
    problems = [ReceiptLine(10, "C10", "金额", "x", "bad_number", "不是数字", REJECTED),
                ReceiptLine(11, "D11", "比例", "y", "bad_number", "请核对", WARNING),
                ReceiptLine(12, None, None, None, "duplicate_key", "重复", REJECTED, whole_row=True)]
    return Receipt(file_name="2023-05__发改局.csv", file_path="key_projects/2023-05__发改局.csv",
                   dataset="key_projects", dataset_title="重点项目", department="发改局", period="2023-05",
                   status="partial", rows_read=len(rows), problems=problems, data=data)


@pytest.mark.parametrize("block_rows", [None, 3])
@pytest.mark.parametrize("seed", range(3))
def test_rows_taken_as_plain_are_written_as_openpyxl_writes_every_cell(tmp_path, seed, block_rows, monkeypatch):
    """Also with blocks of three consecutive rows told plain at once (`_plain_blocks`): the file's
    rows in runs of plain texts and blanks, broken by the marked, merged and percentage rows."""
    from shouyang_pipeline.exports import receipts

    receipt = _receipt_with_rows(seed)
    rng = random.Random(seed)
    plain = ["项目", "甲", "a b", "SY2023-001", "长" * 200, None, None, None, "a\x0bb"]
    receipt.data.rows += [(number, [rng.choice(plain) for _ in range(rng.randint(1, 9))] if number % 17 else ["=1", "x"])
                          for number in range(400, 480)]  # runs of plain rows, a formula's text every 17th
    blocks = []
    if block_rows:
        monkeypatch.setattr(receipts, "PLAIN_BLOCK_ROWS", block_rows)
        real_blocks = receipts._plain_blocks
        monkeypatch.setattr(receipts, "_plain_blocks", lambda *a: blocks.append(real_blocks(*a)) or blocks[-1])
    quick = receipts.write_receipt(receipt, tmp_path / "quick.xlsx")
    if block_rows:
        assert sum(map(len, blocks)) >= 3  # blocks of plain rows were taken
    taken = []
    real = receipts._write_data

    def spy(*args):
        plain_rows = real(*args)
        taken.append(len(plain_rows.rows))
        return plain_rows

    monkeypatch.setattr(receipts, "_write_data", spy)
    receipts.write_receipt(receipt, tmp_path / "again.xlsx")
    assert taken and taken[0] > 20  # the quick path is taken (rows of plain values only)
    monkeypatch.setattr(xlsx_rows, "plain", lambda value: False)  # no row plain: openpyxl writes every cell
    monkeypatch.setattr(receipts, "_plain_texts", lambda cells: False)
    monkeypatch.setattr(receipts, "_plain_text_rows", lambda rows: False)
    slow = receipts.write_receipt(receipt, tmp_path / "slow.xlsx")
    with zipfile.ZipFile(quick) as a, zipfile.ZipFile(slow) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            if name != "docProps/core.xml":
                assert a.read(name) == b.read(name), name


def test_a_text_that_reads_like_an_excel_error_stays_text(tmp_path):
    """`#N/A` written in a CSV cell is their text, not an error value of Excel's."""
    from shouyang_pipeline.exports import receipts

    receipt = _receipt_with_rows(0)
    receipt.data.rows = [(1, ["项目名称", "金额"]), (2, ["#N/A", "#DIV/0!"]), (3, ["甲", 1]),
                         (10, ["#REF!", "x"])]  # row 10 is marked (a problem on C10)
    path = receipts.write_receipt(receipt, tmp_path / "r.xlsx")
    ws = load_workbook(path)[receipts.data_sheet_title(receipt)]
    for cell in ("B2", "C2", "B10"):
        assert ws[cell].data_type == "s", cell
    assert [ws["B2"].value, ws["C2"].value, ws["B10"].value] == ["#N/A", "#DIV/0!", "#REF!"]


def test_a_long_run_of_plain_rows_is_written_a_chunk_at_a_time():
    """A run of plain rows (one empty row in openpyxl's sheet) may be a whole 110,000-row file: its
    rows are yielded `_ROWS_PER_CHUNK` at a time, not held as one string (a receipt of 2023-06 at
    1000× peaked at 556 MB instead of about 100 so)."""
    n = 3 * xlsx_rows._ROWS_PER_CHUNK + 7
    rows = xlsx_rows.PlainRows({number: [f"项目{number}", "甲"] for number in range(2, n + 2)}, {2: n + 1})
    xml = '<worksheet><sheetData><row r="1"><c r="A1"/></row><row r="2"></row></sheetData></worksheet>'
    chunks = list(rows.sheet(xml, "数据"))
    assert len(chunks) >= 4 and max(chunk.count("<row ") for chunk in chunks) <= xlsx_rows._ROWS_PER_CHUNK
    joined = "".join(chunks)
    assert joined.count("<row ") == n + 1 and f'<row r="{n + 1}"><c r="A{n + 1}"' in joined


def test_dates_in_plain_rows_are_what_openpyxl_writes(tmp_path):
    """A clerk's dates (a key project's start date) go the quick way too: `xlsx_rows.dated` in the
    style `receipts._data_cell` gives them, byte for byte what openpyxl writes for such a cell."""
    from datetime import date, datetime

    from openpyxl.cell import WriteOnlyCell

    from shouyang_pipeline.exports.receipts import DAY_FORMAT, TIME_FORMAT, _format_style

    days = [date(2023, 5, 1), datetime(2023, 5, 1), datetime(2023, 5, 1, 8, 30, 15, 500000), datetime(1900, 1, 1),
            datetime(1900, 2, 28, 12), datetime(1900, 3, 1), date(9999, 12, 31), datetime(1899, 12, 30), date(1, 1, 1)]
    rows = {n: ["项目", day, 1.5] for n, day in enumerate(days, start=1)}
    paths = []
    for fast in (False, True):
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("数据")
        day_style, time_style = _format_style(ws, DAY_FORMAT), _format_style(ws, TIME_FORMAT)
        plain = {}
        for number, (name, day, amount) in rows.items():
            timed = isinstance(day, datetime) and day.time() != datetime.min.time()
            if fast:
                plain[number] = [name, xlsx_rows.dated(day, time_style if timed else day_style), amount]
                assert all(map(xlsx_rows.plain, plain[number]))
                ws.append([])
            else:
                cell = WriteOnlyCell(ws, value=day)
                cell.number_format = TIME_FORMAT if timed else DAY_FORMAT
                ws.append([name, cell, amount])
        paths.append(save(wb, tmp_path / f"{'fast' if fast else 'plain'}.xlsx", plain if fast else None))
    a, b = members(paths[0]), members(paths[1])
    assert list(a) == list(b) and [n for n in a if a[n] != b[n]] == ["xl/styles.xml"]
    assert b'<c r="B1" s="1" t="n"><v>45047</v></c>' in b["xl/worksheets/sheet1.xml"]
    # the cell formats are the same; openpyxl's own cells, made with a datetime, also registered its
    # default datetime format before being given theirs (a number format no cell uses)
    assert re.findall(rb"<cellXfs.*</cellXfs>", a["xl/styles.xml"]) == re.findall(rb"<cellXfs.*</cellXfs>", b["xl/styles.xml"])
    assert re.sub(rb'<numFmts count="3">(.*)<numFmt numFmtId="166" formatCode="yyyy-mm-dd h:mm:ss" /></numFmts>',
                  rb'<numFmts count="2">\1</numFmts>', a["xl/styles.xml"]) == b["xl/styles.xml"]


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_runs_of_texts_put_together_at_once_are_what_openpyxl_writes(tmp_path, seed, monkeypatch):
    """A run of rows of texts and blanks (a CSV's records) is put together a block of rows at a
    time (`_text_block`), rows of different widths among them; a block holding a text the template
    does not take (`&`, a space at an end, an empty text) is written row by row. Byte for byte what
    openpyxl writes (which takes no NUL: `test_a_block_of_texts_is_the_rows_written_one_by_one`)."""
    rng = random.Random(seed)
    tempting = [*ROW_OF_TEXTS, ""]
    rows = {}
    for number in range(3, 3 + 40 * xlsx_rows.TEXT_BLOCK_FROM):
        width = rng.choice([15, 15, 16, rng.randint(1, 20)])
        values = [None if rng.random() < 0.15 else f"文本{rng.randint(0, 999)}" for _ in range(width)]
        if rng.random() < 0.01:
            values[rng.randrange(width)] = rng.choice(tempting)
        if any(v is not None for v in values) and all(xlsx_rows.plain(v) for v in values):
            rows[number] = values
    told = []
    real = xlsx_rows._text_block
    monkeypatch.setattr(xlsx_rows, "_text_block", lambda *a: told.append((r := real(*a)) is not None) or r)
    paths = []
    for fast in (False, True):
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("数据")
        path = tmp_path / f"{'fast' if fast else 'plain'}.xlsx"
        if fast:
            sent = xlsx_rows.NumberedRows(ws)
            sent.row(1, ["序号", "项目名称"])
            for number, values in rows.items():
                sent.plain(number, values)
            saved = io.BytesIO()
            wb.save(saved)
            xlsx_rows.splice(saved.getvalue(), path, {1: sent.rows})
        else:
            ws.append(["序号", "项目名称"])
            for number in range(2, max(rows) + 1):
                ws.append(rows.get(number, []))
            wb.save(path)
        paths.append(path)
    a, b = members(paths[0]), members(paths[1])
    sheet = "xl/worksheets/sheet1.xml"
    assert re.sub(rb'<row r="\d+"></row>', b"", a[sheet]) == b[sheet]
    assert True in told and False in told  # blocks put together at once, and blocks row by row


def test_a_block_of_texts_is_the_rows_written_one_by_one():
    """`_text_block` against `_plain_row` of each row, on blocks with a tempting text in one row."""
    rng = random.Random(7)
    letters = [xlsx_rows.xl_col_to_name(j) for j in range(24)]
    built = 0
    for _ in range(400):
        block = [[None if rng.random() < 0.2 else f"名称{rng.randint(0, 9)}" for _ in range(rng.randint(0, 8))]
                 for _ in range(rng.randint(1, 6))]
        if rng.random() < 0.5:
            rng.choice([row for row in block if row] or [[None]])[0] = rng.choice(
                ["", " a", "a ", "a&b", "<", "\x00", "a\x00 b", "\u3000全", "中\n间", "\x01", 5, None, "x"])
        numbers = range(10, 10 + len(block))
        together = xlsx_rows._text_block(numbers, block, letters)
        one_by_one = "".join(xlsx_rows._plain_row(n, row, letters, {}) for n, row in zip(numbers, block))
        assert together is None or together == one_by_one, block
        built += together is not None
    assert 100 < built < 400  # blocks put together at once, and blocks left to be written row by row


def test_a_receipt_written_again_for_the_same_file_is_the_same_bytes(tmp_path, monkeypatch):
    """A receipt's time is its file's (received, or checked by the clerk), not the moment it was
    written: the zip's members and the workbook's created and modified times. The same receipt
    written in another second is the same file, byte for byte."""
    import time as clock
    from datetime import datetime

    from shouyang_pipeline.exports import receipts

    receipt = _receipt_with_rows(0)
    receipt.received_at = datetime(2023, 6, 5, 9, 30, 12)
    first = receipts.write_receipt(receipt, tmp_path / "first.xlsx").read_bytes()
    later = clock.time() + 3600 * 24 * 400  # a year and more later
    monkeypatch.setattr(clock, "time", lambda: later)
    monkeypatch.setattr(clock, "localtime", lambda *a: __import__("time").gmtime(later))
    again = receipts.write_receipt(receipt, tmp_path / "again.xlsx").read_bytes()
    assert again == first
    with zipfile.ZipFile(tmp_path / "first.xlsx") as z:
        assert {info.date_time for info in z.infolist()} == {(2023, 6, 5, 9, 30, 12)}
        core = z.read("docProps/core.xml").decode()
    assert core.count("2023-06-05T01:30:12Z") == 2  # created and modified, in UTC (received 09:30:12 Beijing time)
    assert load_workbook(tmp_path / "first.xlsx").properties.created == datetime(2023, 6, 5, 1, 30, 12)
    receipt.checked_at = datetime(2024, 1, 2, 3, 4, 6)  # a clerk's check before sending: its own time (a zip keeps even seconds)
    with zipfile.ZipFile(receipts.write_receipt(receipt, tmp_path / "check.xlsx")) as z:
        assert {info.date_time for info in z.infolist()} == {(2024, 1, 2, 3, 4, 6)}
