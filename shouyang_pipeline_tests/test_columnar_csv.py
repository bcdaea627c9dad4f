"""A big CSV file of one record a line is read a column at a time (`read.csv_lines`,
`parse.parse_lines`): the same rows, cells, values, problems, skipped rows and totals check as
`read_csv` + `parse_file` give, for the bundled sample's CSV files and for every kind of careless
or hostile row put into them. The comparison is made on each file whole (`parse_lines` of it
against `parse_file` of it), whatever its size; the run reads only files of at least
`COLUMNAR_MIN_LINES` lines so (checked end to end at the bottom)."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from shouyang_pipeline.catalog.datasets import DATASETS
from shouyang_pipeline.ingest import period as period_module
from shouyang_pipeline.ingest import read as read_module
from shouyang_pipeline.ingest.layout import find_layout
from shouyang_pipeline.ingest.parse import ParsedFile, parse_file, parse_lines
from shouyang_pipeline.ingest.period import ingest_period
from shouyang_pipeline.ingest.read import FileRejected, csv_lines, read_grids
from shouyang_pipeline.reference import Reference

SAMPLE_RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
SAMPLE_CSVS = sorted(SAMPLE_RAW.glob("*/*.csv"))


def _value(v):
    """A value with its type (1 and 1.0 and True are not the same cell); a float by its repr (NaN
    equal to itself, -0.0 not equal to 0.0)."""
    return (type(v).__name__, repr(v) if isinstance(v, float) else v)


def picture(pf: ParsedFile) -> dict:
    """Everything a parsed file tells the rest of ingest."""
    return {
        "rows": [(r.number, r.position, list(r.cells), [dataclasses.astuple(i) for i in r.errors],
                  [dataclasses.astuple(i) for i in r.warnings]) for r in pf.rows],
        "columns": {name: [_value(v) for v in values] for name, values in pf.columns.items()},
        "skipped": dict(pf.skipped), "totals_check": pf.totals_check, "totals_notes": list(pf.totals_notes),
        # the layout, and the grid a clerk's receipt copies (every row of the file)
        "layout": (pf.layout.header_row, pf.layout.title_unit, pf.layout.ignored, pf.layout.sequence,
                   [(cm.field.name, cm.index, cm.header, cm.unit) for cm in pf.layout.columns]),
        "grid": [(n, list(cells)) for n, cells in pf.layout.grid.rows],
    }


def both_ways(data: bytes, dataset_name: str, reference: Reference) -> tuple[dict | str, dict | str | None]:
    """(the records' reading, the columnar one: None when the file is not one it reads), each the
    file's `picture`, or the Chinese message of its rejection."""
    dataset = DATASETS[dataset_name]

    def records():
        try:
            layout = find_layout(read_grids(data, ".csv"), dataset)
            return picture(parse_file("f.csv", layout, dataset, reference))
        except FileRejected as exc:
            return str(exc)

    lines = csv_lines(data, min_lines=1)
    if lines is None:
        return records(), None
    try:
        layout = find_layout([lines.grid()], dataset)
        columnar = picture(parse_lines("f.csv", layout, dataset, lines))
    except FileRejected as exc:
        columnar = str(exc)
    return records(), columnar


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference.load(SAMPLE_RAW.parent / "reference")


def test_the_sample_has_csv_files_of_every_kind_to_compare():
    """Enough of them, read in columns, with quoted fields among them and in both encodings."""
    read = [p for p in SAMPLE_CSVS if csv_lines(p.read_bytes(), min_lines=1) is not None]
    assert len(read) >= 40
    assert any(b'"' in p.read_bytes() for p in read)
    assert {csv_lines(p.read_bytes(), min_lines=1).encoding for p in read} == {"UTF-8", "GBK"}


@pytest.mark.parametrize("path", SAMPLE_CSVS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_each_sample_csv_reads_the_same_in_columns(path, reference):
    records, columnar = both_ways(path.read_bytes(), path.parent.name, reference)
    if columnar is not None:
        assert columnar == records


# Careless and hostile cells, put into a copy of a sample file's data rows (column by column).
ODD_CELLS = [
    "", " ", "-", "—", "无", "/", "0", "-0", "007", "1.", ".5", "+5", "+-5", "1.2.3", "1e5", "inf", "nan",
    "1 200", "- 5", "１２３４", "１２３．５", "12 34", "1" + "0" * 400, "-" + "9" * 30, "0.1", "4.35", "99999999999",
    "9999999999.9999", "100万", "￥100", "是", "否", "√", "×", "abc", "ＳＹ２０２３－００３", "SY2023-003 ",
    " 平头镇", "平头镇\u3000", "\u200b平头镇", "椤圭洰鍚嶇О", "é¡¹ç›®", "锟斤拷", "\ufffd", "😀项目", "=1+1", "#N/A",
    "2023-03-15", "2023/3/15", "2023.3.15", "2023年3月", "2023年13月", "1899-12-31", "140725100201.0", "x" * 40000,
    "合计", "小计", "注：本表", "填表人：张三", "（一）", "(1)", "其中：", "二、城市建设类",
]
# Cells written quoted, as Excel writes a field holding a comma or a quote: each wholly quoted.
QUOTED_CELLS = ['"1,234.5"', '"127,700.00"', '"-1,000"', '""', '" "', '"a ""quoted"" name"', '"平头镇"',
                '"SY2023-003"', '"2023-03-15"', '"是"', '"1,2,3"', '"合计"', '"注：本表,单位万元"', '""""']


def mutated(data: bytes, rng: random.Random, rows: int) -> bytes:
    """The file with `rows` of its data rows changed: a random cell of each made an odd one (or
    the row cut short, made longer, blank, or a 合计/注 row), and rows added at the end."""
    text = read_module.decode_csv(data)
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.count(",") >= 2)
    body = list(range(header + 1, len(lines)))
    for i in rng.sample(body, min(rows, len(body))):
        fields = lines[i].split(",")
        what = rng.random()
        if what < 0.65:
            fields[rng.randrange(len(fields))] = rng.choice(ODD_CELLS).replace(",", "，")
        elif what < 0.75:
            fields[rng.randrange(len(fields))] = rng.choice(QUOTED_CELLS)
        elif what < 0.82:
            fields = fields[: rng.randrange(1, len(fields))]
        elif what < 0.88:
            fields = fields + [rng.choice(ODD_CELLS)] * rng.randrange(1, 4)
        elif what < 0.93:
            fields = []
        else:
            fields = [rng.choice(["合计", "注：本表金额单位为万元", "填表人：", "小计"])] + fields[1:]
        lines[i] = ",".join(fields)
    lines += rng.choice([[], [""], ["合计,,,,,,,,1"], ["", "填表人：李四", "注：1、本表"], [",,,"]])
    return newline.join(lines).encode("utf-8") + newline.encode()


@pytest.mark.parametrize("seed", range(24))
def test_odd_cells_and_rows_read_the_same_in_columns(seed, reference):
    rng = random.Random(seed)
    path = rng.choice([p for p in SAMPLE_CSVS if csv_lines(p.read_bytes(), min_lines=1) is not None])
    data = mutated(path.read_bytes(), rng, rows=rng.randrange(1, 25))
    records, columnar = both_ways(data, path.parent.name, reference)
    assert columnar is not None, "the mutated file is still one record a line"
    assert columnar == records


@pytest.mark.parametrize("path", [p for p in SAMPLE_CSVS if csv_lines(p.read_bytes(), min_lines=1) is not None][::4],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_odd_cell_in_every_column_reads_the_same_in_columns(path, reference):
    """Each odd cell in each column of a copy of the file's first data row, a row each, then a
    totals row (the sum of the readable amounts checked from the cells)."""
    text = read_module.decode_csv(path.read_bytes())
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.count(",") >= 2)
    base = lines[header + 1].split(",")
    rows = [",".join(base[:j] + [odd.replace(",", "，")] + base[j + 1:]) for odd in ODD_CELLS for j in range(len(base))]
    rows += [",".join(base[:j] + [quoted] + base[j + 1:]) for quoted in QUOTED_CELLS for j in range(len(base))]
    totals = ["合计"] + ["12345"] * (len(base) - 1)
    data = "\n".join(lines[: header + 1] + rows + [",".join(totals)]).encode("utf-8")
    records, columnar = both_ways(data, path.parent.name, reference)
    assert columnar is not None
    assert columnar == records


def test_a_big_file_of_mostly_plain_rows_reads_the_same_in_columns(reference):
    """Thousands of rows (the plain span told a block at a time), a few odd ones among them."""
    rng = random.Random(7)
    path = SAMPLE_RAW / "key_projects" / "2023-01__发改局.csv"
    text = read_module.decode_csv(path.read_bytes())
    lines = text.splitlines()
    head, body = lines[:1], [line for line in lines[1:] if line.count(",") >= 10]
    rows = []
    for n in range(9000):
        fields = rng.choice(body).split(",")
        fields[0], fields[1] = str(n + 1), f"SY2023-{n + 1:06d}"
        rows.append(",".join(fields))
    data = mutated("\n".join(head + rows).encode("utf-8"), rng, rows=40)
    records, columnar = both_ways(data, "key_projects", reference)
    assert columnar is not None
    assert columnar == records
    assert len(columnar["rows"]) > 8000


@pytest.mark.parametrize("odd", [None, *ODD_CELLS[::3]])
def test_a_column_of_mostly_different_texts_reads_the_same_in_columns(odd, reference, monkeypatch):
    """A file of 6,000 different projects (their codes and names told plain by Polars at once,
    `values.plain_text_column`), with an odd text in their code's, name's and remarks' columns:
    those columns parsed cell by cell instead, the same rows, values and problems."""
    from shouyang_pipeline.ingest import parse as parse_module

    told = []
    real = parse_module.plain_text_column
    monkeypatch.setattr(parse_module, "plain_text_column", lambda texts: told.append(real(texts)) or told[-1])
    path = SAMPLE_RAW / "key_projects" / "2023-01__发改局.csv"
    lines = read_module.decode_csv(path.read_bytes()).splitlines()
    header = next(i for i, line in enumerate(lines) if line.count(",") >= 10)
    base = lines[header + 1].split(",")
    rows = []
    for n in range(6000):
        fields = list(base)
        fields[1], fields[2] = f"SY2023-{n + 1:06d}", f"{fields[2]}（{n + 1}期）"
        if odd is not None and n in (17, 2345, 5999):
            fields[1] = fields[2] = fields[-1] = odd.replace(",", "，")
        rows.append(",".join(fields))
    data = "\n".join(lines[: header + 1] + rows).encode("utf-8")
    records, columnar = both_ways(data, "key_projects", reference)
    assert columnar is not None
    assert columnar == records
    assert True in told


@pytest.mark.parametrize("data", [
    "序号,项目编号\n1,a\"b\n".encode("utf-8"),  # a double quote inside a field: read as records
    "序号,项目编号\n1,\"a\"b\n".encode("utf-8"),  # a quoted field with more after its closing quote
    "序号,\"项目\n编,号\"\n1,2\n".encode("utf-8"),  # a cell over two lines, a comma on its second
    ("序号,项目编号\n" * 60 + "1,\"项目\n编号\"\n").encode("utf-8"),  # a record over two lines far down
    "序号,\"项\n目\n编\n号\n名\n称\n一\n二\n三\"\n1,2\n".encode("utf-8"),  # a record over nine lines
    "序号,\"项目\n编号\n1,2\n".encode("utf-8"),  # a quote never closed
    "序号,项目编号\n1,=\"XM001\"\n".encode("utf-8"),  # a code written for Excel to keep as text
    "序号,项目编号\n1,\u2028x\n".encode("utf-8"),  # a line break str.splitlines knows and csv does not
    "序号,项目编号\n1,SY\x00\n".encode("utf-8"),  # NUL
    "序号,项目编号\n1,SY\n".encode("utf-8") + "2,项目".encode("gbk") + b"\n",  # two encodings
    b"PK\x03\x04rest",  # a workbook named .csv
    b"\xff\xfe\x00\x00garbage\x81",  # neither encoding
    ("a," * 20000 + "\n").encode(),  # wider than a sheet
    b"\n" * (read_module.MAX_CSV_LINES + 1),  # more lines than a file may have (told before it is split)
])
def test_files_the_columnar_reading_does_not_take_are_read_as_records(data):
    assert csv_lines(data, min_lines=1) is None


def test_a_file_with_wholly_quoted_fields_is_read_in_columns():
    assert csv_lines('序号,项目编号,总投资\n1,SY1,"1,234.5"\n2,"S""Y2",""\n'.encode("utf-8"), min_lines=1) is not None


@pytest.mark.parametrize("cell_break", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_cells_own_line_break_is_kept_as_it_is(reference, cell_break, newline):
    """A cell's line break of another kind than the file's (Excel writes "\n" in a cell of a file of
    "\r\n"): the records' reading keeps it as it is, and so does the columnar one."""
    rows = [f"{n},SY2023-{n:06d},项目{n},省级,产业转型,煤炭全产业链,,宗艾镇,100,10,1,续建,是,2022-07-10,县工信局,"
            for n in range(1, 40)]
    rows[0] += f'"补{cell_break}报"'  # (its 备注)
    head = f'序号,项目编号,项目名称,项目级别,项目类别,所属产业链,所在园区,所在乡镇,"总投资{cell_break}（万元）",年度计划投资,本年累计完成投资,建设状态,是否生产性项目,开工时间,责任单位,备注'
    data = newline.join(["2023年1月重点项目", head, *rows, ""]).encode("utf-8")
    records, columnar = both_ways(data, "key_projects", reference)
    assert columnar is not None and columnar == records
    assert f"补{cell_break}报" in [cells[-1] for _, cells in columnar["grid"] if cells]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("where", ["title", "header", "first data row", "header and data"])
def test_a_record_over_several_lines_near_the_top_reads_the_same_in_columns(reference, where, newline, encoding):
    """A cell with a line break in the title, the header (`"项目\n名称"`, as Excel writes a wrapped
    header cell) or a data row near the top of a 6,000-row file: put back on one line
    (`read._records_on_one_line`), the same rows, values, problems and row numbers as the records'
    reading gives."""
    path = SAMPLE_RAW / "key_projects" / "2023-01__发改局.csv"
    lines = read_module.decode_csv(path.read_bytes()).splitlines()
    header = next(i for i, line in enumerate(lines) if line.count(",") >= 10)
    top, head, base = lines[:header], lines[header].split(","), lines[header + 1].split(",")
    rows = []
    for n in range(6000):
        fields = list(base)
        fields[1], fields[2] = f"SY2023-{n + 1:06d}", f"{fields[2]}（{n + 1}期）"
        rows.append(",".join(fields))
    if where in ("header", "header and data"):
        head[2] = f'"{head[2][:2]}{newline}{head[2][2:]}"'
        head[-1] = f'"备{newline}{newline}注"'
    if where in ("first data row", "header and data"):
        fields = rows[1].split(",")
        fields[2], fields[-1] = f'"{fields[2]}{newline}（二期）"', f'"补""报""{newline}"'
        rows[1] = ",".join(fields)
    if where == "title":
        top = [f'"寿阳县重点项目{newline}进度表"'] + top[1:]
    data = newline.join(top + [",".join(head)] + rows + [""]).encode(encoding)
    assert csv_lines(data, min_lines=1) is not None
    records, columnar = both_ways(data, "key_projects", reference)
    assert columnar == records
    assert len(columnar["rows"]) == 6000


def test_a_small_file_is_read_as_records_and_a_big_one_in_columns():
    small = "\n".join(f"{i},SY{i}" for i in range(100)).encode()
    long_lines = "\n".join(f"{i},{'项目' * 40}" for i in range(read_module.COLUMNAR_MIN_LINES - 1)).encode()
    big = "\n".join(f"{i},SY{i}" for i in range(read_module.COLUMNAR_MIN_LINES)).encode()
    assert csv_lines(small) is None and csv_lines(long_lines) is None and csv_lines(big) is not None


def assert_same_frames(columnar, records) -> None:
    """`ingest_period`'s frames read in columns and as records: the same columns and values."""
    for name in ("staging", "rejected", "warnings", "log"):
        left, right = getattr(columnar, name), getattr(records, name)
        assert left.columns.tolist() == right.columns.tolist(), name
        assert left.astype(object).where(left.notna(), None).values.tolist() == \
            right.astype(object).where(right.notna(), None).values.tolist(), name


def receipts_both_ways(settings, monkeypatch, target) -> list[tuple]:
    """A clerk's receipt of `target` (`shouyang check --receipt`) read in columns, then as records:
    its problems, notes and the sheet it copies."""
    from shouyang_pipeline.pipeline import check_file, check_receipt

    made = []
    for reading in ("columns", "records"):
        with monkeypatch.context() as m:
            if reading == "records":
                m.setattr(period_module, "csv_lines", lambda data: None)
            receipt = check_receipt(check_file(settings, target, "key_projects", "2023-01"))
        data = receipt.data
        made.append(([dataclasses.astuple(p) for p in receipt.problems], receipt.notes,
                     None if data is None else (data.rows, data.header_row, data.span, data.is_csv)))
    return made


def test_a_period_of_big_files_ingests_the_same_in_columns(settings, monkeypatch):
    """End to end (`ingest_period`): a big file read in columns, the same frames as when read as records."""
    rng = random.Random(3)
    path = SAMPLE_RAW / "key_projects" / "2023-01__发改局.csv"
    lines = read_module.decode_csv(path.read_bytes()).splitlines()
    body = [line for line in lines[1:] if line.count(",") >= 10]
    rows = []
    for n in range(read_module.COLUMNAR_MIN_LINES + 10):
        fields = rng.choice(body).split(",")
        fields[0], fields[1] = str(n + 1), f"SY2023-{n + 1:06d}"
        rows.append(",".join(fields))
    data = mutated("\n".join(lines[:1] + rows).encode("utf-8"), rng, rows=30)
    target = settings.raw_dir / "key_projects" / "2023-01__发改局.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    reference = Reference.load(settings.reference_dir)
    columnar = ingest_period(settings, "key_projects", "2023-01", reference, archive=False)
    taken = []
    monkeypatch.setattr(period_module, "csv_lines", lambda data: taken.append(data) or None)
    records = ingest_period(settings, "key_projects", "2023-01", reference, archive=False)
    assert taken, "the records' reading was asked"
    assert_same_frames(columnar, records)
    assert len(columnar.staging) > read_module.COLUMNAR_MIN_LINES - 100


def test_a_clerks_check_of_a_big_file_gets_the_same_receipt_in_columns(settings, monkeypatch):
    """`shouyang check --receipt` of a big CSV: the receipt copies every row of the file (not only
    the lines the layout was found in), marks the same cells, and says the same; a file too big to
    copy is said to be so, as when read as records."""
    path = SAMPLE_RAW / "key_projects" / "2023-01__发改局.csv"
    lines = read_module.decode_csv(path.read_bytes()).splitlines()
    body = [line for line in lines[1:] if line.count(",") >= 10]

    def receipts(rows: int) -> tuple:
        out = []
        for n in range(rows):
            fields = body[n % len(body)].split(",")
            fields[0], fields[1] = str(n + 1), f"SY2023-{n + 1:06d}"
            if n == rows - 500:
                fields[8] = "abc"  # a bad amount far below the first lines
            out.append(",".join(fields))
        target = settings.raw_dir / f"2023-01__发改局_{rows}.csv"
        target.write_bytes(("\n".join(lines[:1] + out) + "\n").encode("utf-8"))
        return receipts_both_ways(settings, monkeypatch, target)

    columns, records = receipts(read_module.COLUMNAR_MIN_LINES + 1000)
    assert columns == records
    assert len(columns[2][0]) == read_module.COLUMNAR_MIN_LINES + 1001  # every row copied
    from shouyang_pipeline.exports import receipts as receipts_module

    monkeypatch.setattr(receipts_module, "MAX_DATA_CELLS", 50_000)  # more cells than a receipt copies
    big_columns, big_records = receipts(read_module.COLUMNAR_MIN_LINES + 1000)
    assert big_columns == big_records and big_columns[2] is None
    assert any("过大" in note for note in big_columns[1])


def _big_file_with_records_over_lines(seed: int) -> bytes:
    """A big key-projects file whose title, header cells and some of its first 48 lines hold cells
    over several lines (each break "\n", "\r\n" or "\r", the file's lines in "\n" or "\r\n"),
    about COLUMNAR_MIN_LINES rows with odd cells (`mutated`), in UTF-8, UTF-8 with a BOM or GB18030."""
    rng = random.Random(seed)
    path = SAMPLE_RAW / "key_projects" / "2023-01__发改局.csv"
    lines = read_module.decode_csv(path.read_bytes()).splitlines()
    body = [line for line in lines[1:] if line.count(",") >= 10]
    newline = rng.choice(["\n", "\r\n"])

    def line_break() -> str:
        return rng.choice([newline, "\n", "\r\n", "\r"])

    head = lines[0].split(",")
    for j in rng.sample(range(len(head)), rng.randrange(1, 4)):
        head[j] = '"' + head[j][:2] + line_break() + head[j][2:] + '"'
    top = [",".join(head)]
    if rng.random() < 0.5:
        top.insert(0, '"2023年1月' + line_break() + '重点项目进度表"')
    rows = []
    for n in range(read_module.COLUMNAR_MIN_LINES + rng.choice([-8, 0, 10])):
        fields = rng.choice(body).split(",")
        fields[0], fields[1] = str(n + 1), f"SY2023-{n + 1:06d}"
        rows.append(",".join(fields))
    text = mutated(newline.join(top + rows).encode("utf-8"), rng, rows=30).decode("utf-8")
    split = text.split(newline)
    for _ in range(rng.randrange(0, 4)):  # a data cell over lines among the first 48
        i = rng.randrange(len(top), 48)
        fields = split[i].split(",")
        parts = [rng.choice(["补", "报", "", "1", '"', "合计", "100", " "]) for _ in range(rng.randrange(2, 5))]
        fields[rng.randrange(len(fields))] = '"' + "".join(part.replace('"', '""') + line_break()
                                                           for part in parts[:-1]) + parts[-1] + '"'
        split[i] = ",".join(fields)
    return newline.join(split).encode(rng.choice(["utf-8", "utf-8-sig", "gb18030"]))


@pytest.mark.parametrize("seed", range(8))
def test_a_period_of_big_files_with_records_over_several_lines_ingests_the_same_in_columns(settings, monkeypatch, seed):
    """End to end (`ingest_period`), with cells over several lines near the top: the same frames
    in columns as read as records."""
    target = settings.raw_dir / "key_projects" / "2023-01__发改局.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(_big_file_with_records_over_lines(seed))
    reference = Reference.load(settings.reference_dir)
    columnar = ingest_period(settings, "key_projects", "2023-01", reference, archive=False)
    monkeypatch.setattr(period_module, "csv_lines", lambda data: None)
    records = ingest_period(settings, "key_projects", "2023-01", reference, archive=False)
    assert_same_frames(columnar, records)


def test_most_big_files_with_records_over_several_lines_near_the_top_are_read_in_columns():
    """The files of the test above are mostly read in columns, a record over several lines put on
    one (a comma on a later line of a cell, or a quote left open, sends a file to the records)."""
    read = [csv_lines(_big_file_with_records_over_lines(seed)) for seed in range(8)]
    merged = [lines for lines in read if lines is not None and any("\n" in x or "\r" in x for x in lines.lines[:60])]
    assert len(merged) >= 4


@pytest.mark.parametrize("seed", [0, 1, 5])
def test_a_clerks_receipt_of_a_big_file_with_records_over_several_lines_is_the_same_in_columns(settings, monkeypatch, seed):
    target = settings.raw_dir / "2023-01__发改局.csv"
    target.write_bytes(_big_file_with_records_over_lines(seed))
    columns, records = receipts_both_ways(settings, monkeypatch, target)
    assert columns == records


class PanicException(BaseException):
    """As a Rust panic reaches Python (pyo3_runtime.PanicException: no Exception)."""


@pytest.mark.parametrize("failure", [PanicException("polars panicked"), RuntimeError("polars failed")],
                         ids=["a panic", "an error"])
def test_a_big_file_the_columnar_reading_fails_on_is_read_as_records(settings, monkeypatch, failure, caplog):
    """The county's run goes on: the file is read as records, with the same result, and the
    failure is in the log."""
    from shouyang_pipeline.ingest import parse as parse_module

    path = SAMPLE_RAW / "key_projects" / "2023-01__发改局.csv"
    lines = read_module.decode_csv(path.read_bytes()).splitlines()
    body = [line for line in lines[1:] if line.count(",") >= 10]
    rows = [",".join([str(n + 1), f"SY2023-{n + 1:06d}", *body[n % len(body)].split(",")[2:]])
            for n in range(read_module.COLUMNAR_MIN_LINES + 5)]
    target = settings.raw_dir / "key_projects" / "2023-01__发改局.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes("\n".join(lines[:1] + rows).encode("utf-8"))
    reference = Reference.load(settings.reference_dir)
    records = ingest_period(settings, "key_projects", "2023-01", reference, archive=False)

    def fails(*args, **kwargs):
        raise failure

    monkeypatch.setattr(parse_module, "text_columns", fails)
    fallen_back = ingest_period(settings, "key_projects", "2023-01", reference, archive=False)
    assert fallen_back.staging.equals(records.staging) and fallen_back.log.drop(columns=["ingested_at"], errors="ignore").equals(
        records.log.drop(columns=["ingested_at"], errors="ignore"))
    assert len(fallen_back.staging) == read_module.COLUMNAR_MIN_LINES + 5
    assert "按列读取" in caplog.text


def test_an_interrupt_while_reading_in_columns_is_not_taken_for_the_files_fault(settings, monkeypatch):
    from shouyang_pipeline.ingest import parse as parse_module

    rows = [f"{n + 1},SY2023-{n + 1:06d},项目,省级,产业转型,造纸产业链,,平头镇,100,50,10,续建,是,2023-03-15,县发改局"
            for n in range(read_module.COLUMNAR_MIN_LINES + 5)]
    header = "序号,项目编号,项目名称,项目级别,项目类别,所属产业链,所在园区,所在乡镇,总投资,年度计划投资,本年累计完成投资,建设状态,是否生产性项目,开工时间,责任单位"
    target = settings.raw_dir / "key_projects" / "2023-01__发改局.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes("\n".join([header, *rows]).encode("utf-8"))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(parse_module, "text_columns", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest_period(settings, "key_projects", "2023-01", Reference.load(settings.reference_dir), archive=False)


# ------------------------------------------------------------ text columns told plain by Polars


def test_the_characters_a_column_is_told_plain_by_are_printable_visible_and_no_other_digits():
    """Every character of `values.PLAIN_TEXT_RANGES` is one `_plain_text` takes anywhere in a text
    (printable, not invisible, no decimal digit but ASCII's, no white space but the ASCII space), so
    that Polars' Unicode tables never decide what is plain."""
    from shouyang_pipeline.ingest.values import _PRINTABLE_INVISIBLE, PLAIN_TEXT_RANGES

    chars = [chr(cp) for a, b in PLAIN_TEXT_RANGES for cp in range(a, b + 1)]
    assert len(chars) > 27000
    for ch in chars:
        assert ch.isprintable() and not _PRINTABLE_INVISIBLE.search(ch), hex(ord(ch))
        assert not ch.isdecimal() or ch in "0123456789", hex(ord(ch))
        assert not ch.isspace() or ch == " ", hex(ord(ch))


def test_a_text_column_is_told_plain_by_polars_only_when_each_text_is():
    """`plain_text_column` of a column is true only when `_plain_text` is of every text, and it is
    for every column of texts of those characters that each are: odd texts (too short, spaced at an
    end, a code written as a float, a full-width space or digit, an invisible character, a
    character just outside the ranges, emoji) one by one and among plain ones."""
    import polars as pl

    from shouyang_pipeline.ingest.values import PLAIN_TEXT_RANGES, TEXT_MAX_CHARS, _plain_text, plain_text_column

    inside = "".join(chr(cp) for a, b in PLAIN_TEXT_RANGES for cp in (a, b, (a + b) // 2))
    outside = "".join(chr(cp) for a, b in PLAIN_TEXT_RANGES for cp in (a - 1, b + 1)) + "\u3000０９\u200b\ufeff\u00a0😀\t"
    odd = ["", "a", "ab", " ab", "ab ", "a b", "1234.0", "1234.00", "1234.05", "１２３.0", "12.0x", "x12.0",
           "甲乙丙", "甲\u3000丙", "a\u200bb", "SY2023-001", "段王煤矿（一期）", "长" * TEXT_MAX_CHARS,
           "长" * (TEXT_MAX_CHARS + 1), "·×—‘’“”…√", "abc\n", "a😀b"]
    rng = random.Random(5)
    texts = odd + ["".join(rng.choice(inside + outside * (k % 2) + "  0.") for _ in range(rng.randint(0, 12)))
                   for k in range(3000)]
    told = 0
    for text in texts:
        plain = _plain_text(text)
        assert plain_text_column(pl.Series([text, None], dtype=pl.String)) == (
            plain and all(ch in inside or any(a <= ord(ch) <= b for a, b in PLAIN_TEXT_RANGES) for ch in text)), repr(text)
        told += plain
    assert told > 500
    column = [t for t in texts if _plain_text(t) and not set(t) & set(outside)]
    assert plain_text_column(pl.Series(column + [None] * 3, dtype=pl.String))
    for text in odd:
        if not _plain_text(text):
            assert not plain_text_column(pl.Series(column + [text], dtype=pl.String)), repr(text)
    assert plain_text_column(pl.Series([None, None], dtype=pl.String))


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("seed", range(6))
def test_polars_reads_the_same_columns_from_the_files_own_bytes(newline, seed):
    """A UTF-8 file without a double quote is read by Polars from its own bytes (`CsvLines.body`):
    the same columns as from its lines put together again, whatever its lines (blank ones, short
    and long ones, a BOM or two, a last line with or without its line break), for any rows of it."""
    import polars as pl

    rng = random.Random(seed)
    fields = ["SY2023-001", "段王煤矿", "", " ", "1,234", "１２３", "\u3000", "#", "=1", "x\ty", "\ufeff"]
    lines = [",".join(rng.choice(fields) for _ in range(rng.randint(0, 7))) for _ in range(rng.randint(1, 300))]
    text = newline.join(lines) + rng.choice(["", newline, newline * 2])
    bom = rng.choice([b"", b"\xef\xbb\xbf", b"\xef\xbb\xbf" * 2])
    found = csv_lines(bom + text.encode("utf-8"), min_lines=1)
    assert found is not None and found.body is not None
    at = sorted(rng.sample(range(len(found.lines)), rng.randint(1, len(found.lines))))
    chosen = [found.lines[i] for i in at]
    indexes = [0, 1, 3, 6, 9]
    from_bytes = read_module.text_columns(chosen, indexes, whole=found, at=at)
    from_lines = read_module.text_columns(chosen, indexes)
    assert from_bytes.keys() == from_lines.keys()
    for j in indexes:
        assert from_bytes[j].dtype == pl.String
        assert from_bytes[j].to_list() == [(read_module.line_record(line)[j:j + 1] or [None])[0] for line in chosen]
        assert from_bytes[j].to_list() == from_lines[j].to_list(), j


@pytest.mark.parametrize("data", [b"a,b\rc,d\n" * 3, b'a,"b"\n' * 3, "甲,乙\n".encode("gbk") * 3])
def test_polars_reads_only_a_utf8_file_without_quotes_or_a_bare_carriage_return_from_its_bytes(data):
    """(a bare carriage return is a line break to the csv module, not to Polars; quotes are read
    from the lines; a GBK file's bytes are not UTF-8)"""
    found = csv_lines(data, min_lines=1)
    assert found is not None and found.body is None


def test_lines_put_together_again_keep_a_blank_last_one():
    """(the review's finding: a blank last line was lost when the lines were joined for Polars)"""
    columns = read_module.text_columns(["a,b", ""], [0, 1, 4])
    assert [columns[j].to_list() for j in (0, 1, 4)] == [["a", None], ["b", None], [None, None]]
    quoted = read_module.text_columns(['"a,1",b', "", ""], [0, 1])
    assert [quoted[j].to_list() for j in (0, 1)] == [["a,1", None, None], ["b", None, None]]
