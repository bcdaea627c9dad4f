"""A large mart's sheet has its rows put together by DuckDB (`xlsx_rows.QueriedRows`, issue 14):
the same file, byte for byte, as the rows fetched and written by `xlsx_rows.RowsXml`; the rows
whose cells DuckDB would write otherwise (`can_query`) are fetched as before."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from shouyang_pipeline.catalog.marts import MARTS
from shouyang_pipeline.catalog.tables import Column, Table
from shouyang_pipeline.exports import workbook, xlsx_rows
from shouyang_pipeline.exports.workbook import TableRows, _kind, _rows_of, number_format, write_workbook
from shouyang_pipeline.warehouse.ddl import ensure_tables
from shouyang_pipeline_tests.test_writer_speed_workbook import TEXTS, assert_same_members, headed_sheet, project_rows

PERIOD = "2023-07"
TABLE = MARTS["project_progress"]
# The texts DuckDB writes as `inline_text` does: `&`, `<`, `>`, Python's whitespace at either end
# (U+3000, tab, U+2029, U+0085, U+00A0), line breaks inside, emoji, look-alikes of formulas and links.
SAFE_TEXTS = [t for t in TEXTS if not any(ch in t for ch in "\x01\x1f\ufffe\uffff") and "_x" not in t]
SAFE_TEXTS += ["\x85前", "后\xa0", "中\u2029间", " ", "\u3000", "a & b", "<<>>", "&amp;", "尾\n", "\n首", "😀"]


def table_with(tmp_path, rows: list[tuple], table: Table = TABLE, *, other_period_every: int = 4,
               interleaved: bool = False, name: str = "w.duckdb"):
    """A DuckDB file holding `table` with `rows` of PERIOD, and rows of another period (a copy of
    every `other_period_every`th row) before and after them, as a mart made by one statement has
    its periods, or between them (`interleaved`)."""
    conn = duckdb.connect(str(tmp_path / name))
    ensure_tables(conn, [table])
    names = [c.name for c in table.columns]
    at = names.index("period")
    other = [tuple("2023-06" if j == at else v for j, v in enumerate(row)) for row in rows]
    mixed, others = [], []
    for i, row in enumerate(rows):
        if other_period_every and i % other_period_every == 0:
            (mixed if interleaved else others).append(other[i])
        mixed.append(tuple(PERIOD if j == at else v for j, v in enumerate(row)))
    mixed = others[: len(others) // 2] + mixed + others[len(others) // 2:]
    if mixed:
        conn.executemany(f"INSERT INTO {table.qualified} VALUES ({', '.join('?' * len(names))})", mixed)
    return conn


def spliced(tmp_path, name: str, cols: list[Column], data) -> dict:
    """A one-sheet workbook whose data rows are `data` (RowsXml or QueriedRows), as its members."""
    target = io.BytesIO()
    wb, _ = headed_sheet(target, cols)
    wb.close()
    path = tmp_path / f"{name}.xlsx"
    xlsx_rows.splice(target.getvalue(), path, {1: data})
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def both(tmp_path, conn, table: Table = TABLE, lines: dict[int, int] | None = None):
    """The sheet's members written from the rows fetched and from the rows left in DuckDB."""
    cols = table.columns
    count = conn.execute(f"SELECT count(*) FROM {table.qualified} WHERE period = ?", [PERIOD]).fetchone()[0]
    fetched = conn.execute(workbook._rows_sql(table, ", ".join(f'"{c.name}"' for c in cols)), [PERIOD]).fetchall()
    lines = {i: 1 + i % 3 for i in range(count) if i % 5 == 1} if lines is None else lines
    heights = {i: workbook.row_height(n) for i, n in lines.items()}
    kinds = [_kind(c) for c in cols]
    plain = xlsx_rows.RowsXml(list(zip(*fetched)) if fetched else [() for _ in cols], kinds, dict(heights))
    # the text columns tested cell by cell for whitespace at an end: those `can_query` names, or all
    preserved = xlsx_rows.can_query(conn, table.qualified, PERIOD, [c.name for c in cols], [c.sql_type for c in cols])
    queried = xlsx_rows.QueriedRows(conn, table.qualified, PERIOD, [c.name for c in cols], kinds, count, dict(heights),
                                    preserved=preserved)
    return spliced(tmp_path, "plain", cols, plain), spliced(tmp_path, "queried", cols, queried), plain, queried


@pytest.mark.parametrize("chunk", [7, 2000])
def test_rows_put_together_by_duckdb_are_the_rows_fetched(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(xlsx_rows, "_ROWS_PER_CHUNK", chunk)
    cols, rows = project_rows(300, texts=SAFE_TEXTS)
    conn = table_with(tmp_path, rows)
    assert xlsx_rows.can_query(conn, TABLE.qualified, PERIOD, [c.name for c in cols], [c.sql_type for c in cols]) is not None
    plain, queried, a, b = both(tmp_path, conn)
    assert_same_members(tmp_path / "plain.xlsx", tmp_path / "queried.xlsx")
    assert a.last_row() == b.last_row() == 300 and len(b) == 300
    sheet = queried["xl/worksheets/sheet1.xml"].decode()
    assert "a &amp; b" in sheet and '<t xml:space="preserve">\u3000</t>' in sheet and "&lt;&lt;&gt;&gt;" in sheet


@pytest.mark.parametrize("case", ["empty", "blank rows at the end", "a blank row between", "tall rows only",
                                  "beyond the last row"])
def test_rows_put_together_by_duckdb_at_the_edges(tmp_path, monkeypatch, case):
    """No rows; rows with nothing written (left out; the dimension ends at the last written row or
    the last row with a height); rows beyond Excel's last (not written)."""
    cols = TABLE.columns
    blank = tuple("" if _kind(c) == xlsx_rows.TEXT and j % 2 else None for j, c in enumerate(cols))
    _, rows = project_rows(20, texts=SAFE_TEXTS)
    lines = None
    if case == "empty":
        rows = []
    elif case == "blank rows at the end":
        rows += [blank] * 3
    elif case == "a blank row between":
        rows[5:5] = [blank]
    elif case == "tall rows only":
        rows, lines = [blank] * 5, {1: 3, 3: 2}
    else:
        monkeypatch.setattr(xlsx_rows, "ROW_LIMIT", 11)
        lines = {3: 2, 12: 3}  # the height of a row not written counts for nothing
    conn = table_with(tmp_path, rows)
    plain, queried, a, b = both(tmp_path, conn, lines=lines)
    assert plain == queried
    assert a.last_row() == b.last_row()
    if case == "beyond the last row":
        assert len(b) == 10 and 'r="A11"' in queried["xl/worksheets/sheet1.xml"].decode()


@pytest.mark.parametrize("spaced", [[], ["remarks"], ["project_name", "remarks"]])
def test_only_the_text_columns_with_whitespace_at_an_end_are_tested_cell_by_cell(tmp_path, spaced):
    """`can_query` names the text columns holding a text that starts or ends with whitespace (what
    Python calls so: U+3000, NBSP, U+0085, a tab, a line break): only their cells are tested as
    DuckDB puts them together; the others are written `<t>` at once, and the sheet is the same."""
    cols, rows = project_rows(60, texts=["寿阳", "a & b", "<<>>", "中\n间", "😀", "在建"])
    names = [c.name for c in cols]
    ends = ["\u3000前", "后\xa0", "\x85首", "尾\t", " ", "尾\n"]
    for k, name in enumerate(spaced):
        j = names.index(name)
        rows[3 + k] = tuple(ends[k] if i == j else v for i, v in enumerate(rows[3 + k]))
        rows[40 + k] = tuple(ends[-1 - k] if i == j else v for i, v in enumerate(rows[40 + k]))
    conn = table_with(tmp_path, rows)
    assert xlsx_rows.can_query(conn, TABLE.qualified, PERIOD, names, [c.sql_type for c in cols]) == set(spaced)
    plain, queried, _, _ = both(tmp_path, conn)
    assert plain == queried
    if spaced:
        assert b'xml:space="preserve"' in queried["xl/worksheets/sheet1.xml"]
    # a control character in a column with whitespace at an end: still refused
    conn.execute(f"UPDATE {TABLE.qualified} SET {spaced[0] if spaced else 'remarks'} = ' 控制\x01' WHERE source_row = 7")
    assert xlsx_rows.can_query(conn, TABLE.qualified, PERIOD, names, [c.sql_type for c in cols]) is None


def test_dates_are_the_serial_days_python_writes(tmp_path):
    """Dates around Excel's false 29 February 1900, its day 0 and far ones, as `excel_serial` writes them."""
    table = Table("marts", "dates_only", "日期", "", (Column("period", "VARCHAR", "报告期", ""),
                                               Column("d", "DATE", "日期", ""), Column("flag", "BOOLEAN", "是否", "")))
    rng = random.Random(7)
    days = [date(1900, 1, 1), date(1900, 2, 28), date(1900, 3, 1), date(1899, 12, 31), date(1899, 12, 30),
            date(1800, 5, 5), date(2023, 12, 31), date(9999, 12, 31), None]
    days += [date.fromordinal(rng.randint(date(1, 1, 1).toordinal(), date(9999, 12, 31).toordinal())) for _ in range(300)]
    rows = [("x", d, [True, False, None][i % 3]) for i, d in enumerate(days)]
    conn = table_with(tmp_path, rows, table, other_period_every=0)
    assert xlsx_rows.can_query(conn, table.qualified, PERIOD, ["period", "d", "flag"], ["VARCHAR", "DATE", "BOOLEAN"]) == set()
    plain, queried, _, _ = both(tmp_path, conn, table, lines={})
    assert plain == queried


def test_figures_are_the_doubles_python_writes():
    """`printf('%.16G')` of DuckDB's double of a DECIMAL below `EXACT_UNSCALED` (and of an integer)
    is Python's `%.16G` of float(value), for every scale the marts use."""
    conn = duckdb.connect()
    rng = random.Random(53)
    for precision, scale in ((18, 4), (38, 1), (38, 2), (18, 0)):
        values = [Decimal(rng.randint(-m, m)).scaleb(-scale)
                  for m in (9, 10**4, 10**9, 10**13, xlsx_rows.EXACT_UNSCALED - 1) for _ in range(4000)]
        got = conn.execute(f"SELECT x, printf('%.16G', CAST(x AS DOUBLE)) FROM (SELECT CAST(unnest(?::VARCHAR[]) "
                           f"AS DECIMAL({precision},{scale})) AS x)", [[str(v) for v in values]]).fetchall()
        assert [s for _, s in got] == [f"{float(x):.16G}" for x, _ in got]
    integers = [0, 1, -1, 2**31 - 1, -2**31, 2**53 + 1, 2**63 - 1, -2**63 + 1, 123456789012345678]
    got = conn.execute("SELECT printf('%.16G', CAST(x AS DOUBLE)) FROM (SELECT unnest(?::BIGINT[]) AS x)",
                       [integers]).fetchall()
    assert [s for s, in got] == [f"{float(i):.16G}" for i in integers]


@pytest.mark.parametrize("hostile", ["控制\x01字符", "\x1f", "_x0041_", "末\ufffe", "长" * 6000, "figure", "time",
                                     "infinite date", "interleaved"])
def test_rows_duckdb_would_write_otherwise_are_fetched(tmp_path, monkeypatch, hostile):
    """A control character, an escape's look-alike, U+FFFE, a text long enough to be cut, a DECIMAL
    beyond EXACT_UNSCALED, a column of a type it does not know (TIMESTAMP), the period's rows not
    one run of rowids (their numbers are their rowids' distance from the first's): `can_query`
    says no, and the workbook is written from the rows fetched, the same file as before."""
    cols, rows = project_rows(40, texts=SAFE_TEXTS)
    table = TABLE
    names = [c.name for c in cols]
    if hostile == "figure":
        at = names.index("ytd_investment_change_wan")  # DECIMAL(38,2)
        rows[9] = tuple(Decimal(xlsx_rows.EXACT_UNSCALED) / 100 if j == at else v for j, v in enumerate(rows[9]))
    elif hostile == "time":
        table = Table("marts", "project_progress", TABLE.title, "",
                      (*TABLE.columns[:-1], Column("source_row", "TIMESTAMP", "时间", "")))
        cols = table.columns
        rows = [(*row[:-1], datetime(2023, 7, 1, 8, 30)) for row in rows]
    elif hostile != "infinite date":
        rows[9] = tuple(hostile if j == names.index("remarks") else v for j, v in enumerate(rows[9]))
    conn = table_with(tmp_path, rows, table, interleaved=hostile == "interleaved")
    if hostile == "infinite date":  # (no serial day; not a date a submission gives, but DuckDB holds one)
        conn.execute(f"UPDATE {table.qualified} SET start_date = 'infinity' WHERE source_row = 9")
    assert xlsx_rows.can_query(conn, table.qualified, PERIOD, [c.name for c in cols], [c.sql_type for c in cols]) is None
    monkeypatch.setattr(workbook, "QUERIED_FROM_ROWS", 0)
    assert not isinstance(_rows_of(conn, table, PERIOD), TableRows)
    if hostile != "time":  # and without it, the same rows are left in DuckDB
        rows[9] = rows[10]
        assert isinstance(_rows_of(table_with(tmp_path, rows, table, name="clean.duckdb"), table, PERIOD), TableRows)


def test_table_rows_size_the_columns_as_all_their_values(tmp_path):
    """`TableRows.contents` (the extremes and a zero of a figure, a column's distinct values) give
    `content_width` what all the values give it."""
    cols, rows = project_rows(200, texts=SAFE_TEXTS)
    names = [c.name for c in cols]
    at = names.index("total_investment")
    rows[3] = tuple(Decimal(0) if j == at else v for j, v in enumerate(rows[3]))
    left, fetched, _ = _sized_from_contents_as_from_all(table_with(tmp_path, rows), cols, len(rows))
    assert [left[j] for j in range(len(cols))] == [list(v) for v in fetched]


def _sized_from_contents_as_from_all(conn, cols, count: int):
    """Asserts that each column's `content_width` of `TableRows.contents` is that of all its values
    fetched; gives the rows left in DuckDB, the values fetched and the columns' formats."""
    codes = [number_format(c) for c in cols]
    left = TableRows(conn, TABLE, PERIOD, count)
    fetched = list(zip(*conn.execute(workbook._rows_sql(TABLE, ", ".join(f'"{c.name}"' for c in cols)), [PERIOD]).fetchall()))
    assert [workbook.content_width(v, code) for v, code in zip(left.contents(codes), codes)] == \
        [workbook.content_width(v, code) for v, code in zip(fetched, codes)]
    return left, fetched, codes


@pytest.mark.parametrize("texts", [
    ["SY2023-000001", "SY2023-000002-LONGER-CODE", "a\nb", "\x01\x7f", ""],  # ASCII only (a line break, controls, empty)
    ["项目名称", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "é"],  # the widest is ASCII
    ["寿阳县重点项目第一期工程建设", "SY-1", "e\u0301", "😀😀", "\u3000x"],  # the widest is not
    ["中" * 10, "a" * 22, "中" * 5 + "a" * 11],  # 22.0 units as a float sum of 2.2s: one more than 22
])
def test_table_rows_size_text_columns_by_their_longest_ascii_text(tmp_path, texts):
    """A text column's ASCII texts stand for themselves by one as long as the longest
    (`TableRows.contents`): each column's width as from all its texts, wherever the widest is."""
    cols, rows = project_rows(120, texts=texts)
    left, fetched, codes = _sized_from_contents_as_from_all(table_with(tmp_path, rows), cols, len(rows))
    text_columns = [j for j, c in enumerate(cols) if c.sql_type == "VARCHAR"]
    ascii_only = [all(t is None or t.isascii() for t in fetched[j]) for j in text_columns]
    if all(t.isascii() for t in texts):  # nothing but the one stand-in fetched
        assert ascii_only and all(ascii_only)
        assert all(len(left.contents(codes)[j]) <= 1 for j in text_columns)


def test_table_rows_texts_are_the_values_fetched(tmp_path):
    """A text column is fetched through NumPy (`TableRows.__getitem__`): the same list as row by
    row, NULL as None, for a column of nothing but NULL, NUL and other controls, emoji, blanks."""
    cols, rows = project_rows(50, texts=["\x00前", "a\x01b", "😀", "", " ", "\x1f", "尾\n"])
    names = [c.name for c in cols]
    blank = names.index("remarks")
    rows = [tuple(None if j == blank else v for j, v in enumerate(row)) for row in rows]
    conn = table_with(tmp_path, rows)
    left = TableRows(conn, TABLE, PERIOD, len(rows))
    fetched = list(zip(*conn.execute(workbook._rows_sql(TABLE, ", ".join(f'"{n}"' for n in names)), [PERIOD]).fetchall()))
    texts = [j for j, c in enumerate(cols) if c.sql_type == "VARCHAR"]
    assert blank in texts and left[blank] == [None] * 50
    for j in texts:
        assert left[j] == list(fetched[j]) and all(v is None or type(v) is str for v in left[j])
    assert any("\x00前" in (v or "") for j in texts for v in left[j])


def test_the_sample_workbooks_are_the_same_written_either_way(sample_year, tmp_path, monkeypatch):
    """Every mart sheet of three months of the bundled sample left in DuckDB where it can be (the
    threshold lowered to none): the same workbooks as with every sheet fetched."""
    queried = []
    monkeypatch.setattr(xlsx_rows.QueriedRows, "last_row",
                        lambda self, _last=xlsx_rows.QueriedRows.last_row: queried.append(self.table) or _last(self))
    conn = duckdb.connect(str(sample_year.warehouse), read_only=True)
    try:
        for period in ("2023-02", "2023-06", "2023-12"):
            written = {}
            for label, limit in (("fetched", 10**12), ("queried", 0)):
                monkeypatch.setattr(workbook, "QUERIED_FROM_ROWS", limit)
                path = write_workbook(conn, period, tmp_path / label)
                with zipfile.ZipFile(path) as z:
                    written[label] = {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}
            assert written["fetched"] == written["queried"], period
        assert len(set(queried)) >= 8  # most marts' sheets were left in DuckDB
    finally:
        conn.close()


@pytest.mark.parametrize("checkpoint", [False, True])
def test_rows_numbered_by_rowid_after_a_row_deleted(tmp_path, checkpoint):
    """A row of the period deleted leaves its rowid out: `can_query` says no (the rows are fetched)
    while the gap is there; should DuckDB have closed it (a checkpoint rewriting the table), the rows
    left in DuckDB are numbered as the rows fetched are."""
    cols, rows = project_rows(120, texts=SAFE_TEXTS)
    conn = table_with(tmp_path, rows)
    conn.execute(f"DELETE FROM {TABLE.qualified} WHERE period = ? AND source_row = 40", [PERIOD])
    if checkpoint:
        conn.execute("CHECKPOINT")
    names, types = [c.name for c in cols], [c.sql_type for c in cols]
    lo, hi, n = conn.execute(f"SELECT min(rowid), max(rowid), count(*) FROM {TABLE.qualified} WHERE period = ?",
                             [PERIOD]).fetchone()
    if hi - lo + 1 != n:
        assert xlsx_rows.can_query(conn, TABLE.qualified, PERIOD, names, types) is None
    else:
        plain, queried, _, _ = both(tmp_path, conn)
        assert plain == queried


@pytest.mark.parametrize("name", ["n", "b", "body", "N", "rowid", "RowID", xlsx_rows.ROW_NUMBER])
def test_a_column_named_as_the_rows_sql_names_things(tmp_path, name):
    """A column named as a name the rows' SQL gives (the row's number, the row's cells) is written
    as fetched; one that would hide DuckDB's row id, or take the row number's name, is fetched."""
    table = Table("marts", "named", "名称", "", (Column("period", "VARCHAR", "报告期", ""),
                                             Column(name, "VARCHAR", "值", ""), Column("k", "BIGINT", "序号", "")))
    rows = [("x", f"值{i}" if i % 4 else None, i) for i in range(40)]
    conn = table_with(tmp_path, rows, table)
    found = xlsx_rows.can_query(conn, table.qualified, PERIOD, ["period", name, "k"], ["VARCHAR", "VARCHAR", "BIGINT"])
    if name.lower() in ("rowid", xlsx_rows.ROW_NUMBER):
        assert found is None
        return
    assert found is not None
    plain, queried, _, _ = both(tmp_path, conn, table, lines={2: 2, 39: 3})
    assert plain == queried
    assert "值1<" in queried["xl/worksheets/sheet1.xml"].decode()


def test_the_whitespace_duckdb_tests_for_is_all_of_python_s():
    """`PRESERVE_RE2` is made of the characters up to `LAST_SPACE`: none after it is whitespace to
    this Python, so the class holds every character `str.isspace` says is, and only those."""
    import re

    every = {chr(cp) for cp in range(0x110000) if chr(cp).isspace()}
    assert max(map(ord, every)) <= xlsx_rows.LAST_SPACE
    in_class = {chr(int(cp, 16)) for cp in re.findall(r"\\x\{([0-9A-F]+)\}", xlsx_rows.PRESERVE_RE2.split("|")[0])}
    assert in_class == every
