"""The generated sample files themselves, re-read independently of the pipeline (openpyxl, csv).

These check the raw properties the bundled sample promises (SAMPLE.md): the figures the bulletins
quote are in the files, the planted errors are where the summary says, and the output is
deterministic.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from stdnum.cn import uscc

from shouyang_pipeline.sample import write_sample

REPO = Path(__file__).resolve().parents[1]
FILE_RE = re.compile(r"^(key_projects|industrial_output|city_indicators|village_income|smart_mines|zone_operations|"
                     r"talent)/"
                     r"(\d{4})-(\d{2})(__[^/]+)?\.(csv|xlsx)$")
UNITS = {"万元": 1.0, "亿元": 10_000.0, "元": 0.0001}
REGISTER = "收文登记.csv"
# What the sample plants in the reporting calendar (SAMPLE.md; SUBMISSIONS.md 7)
MISSING = "village_income/2023-09__羊头崖乡"
LATE = ("industrial_output/2023-11__统计局.xlsx", "2023-12-12 10:20")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    summary = write_sample(root / "raw", root / "ref")
    return root, summary


# ------------------------------------------------------------------ independent reading helpers
def norm(x) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(x))) if x is not None else ""


def grid(path: Path) -> tuple[list[list[object]], object]:
    """Rows of the first sheet that has a header (the 填报说明 sheet has single long cells)."""
    if path.suffix == ".csv":
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030")
        return [list(r) for r in csv.reader(io.StringIO(text))], None
    wb = openpyxl.load_workbook(path, data_only=True)
    for ws in wb.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        if any(sum(1 for c in r if c not in (None, "")) >= 3 for r in rows[:10]):
            return rows, ws
    raise AssertionError(f"no header in {path}")


def header_index(rows, names: set[str]) -> int:
    for i, r in enumerate(rows[:10]):
        if sum(1 for c in r if split_unit(c)[0] in names) >= 2:
            return i
    raise AssertionError("no header row")


QUOTES = str.maketrans("", "", "\"“”‘’「」『』'")


def split_unit(h) -> tuple[str, str | None]:
    h = norm(h).translate(QUOTES)
    m = re.match(r"^(.*?)[(（](万元|亿元|元|%)[)）]$", h)
    return (m.group(1), m.group(2)) if m else (h, None)


def number(v) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if v is None:
        return None
    s = norm(v).replace(",", "")
    try:
        return float(s)
    except ValueError:
        return None


def table(path: Path, aliases: dict[str, str], fill: tuple[str, ...] = ("township",)
          ) -> tuple[list[dict[str, object]], dict[str, str]]:
    """Data rows as {canonical: value}, with money converted to 万元; plus {canonical: unit}.
    Columns in `fill` that are empty take the value above (openpyxl leaves merged cells empty)."""
    rows, _ = grid(path)
    h = header_index(rows, set(aliases))
    title_unit = None
    for r in rows[:h]:
        for c in r:
            m = re.search(r"单位[：:](万元|亿元|元)", norm(c))
            if m:
                title_unit = m.group(1)
    cols, units = {}, {}
    for i, c in enumerate(rows[h]):
        name, unit = split_unit(c)
        if name in aliases:
            cols[aliases[name]] = i
            units[aliases[name]] = unit or title_unit or "万元"
    out = []
    last = {}
    for r in rows[h + 1:]:
        cells = [c for c in r if c not in (None, "")]
        if not cells:
            continue
        first = norm(cells[0])
        if first in ("合计", "总计") or first.startswith(("填表人", "注：", "注:")):
            continue
        if len(set(map(norm, cells))) == 1 and len(cells) <= 1:
            continue  # section row
        rec = {k: (r[i] if i < len(r) else None) for k, i in cols.items()}
        for k, v in rec.items():  # merged cells (openpyxl leaves the covered cells empty)
            if v in (None, "") and k in fill and last.get(k):
                rec[k] = last[k]
        last = rec
        out.append(rec)
    return out, units


KP = {"项目编号": "code", "项目代码": "code", "项目名称": "name", "项目级别": "level", "级别": "level",
      "所在园区": "zone", "所属园区": "zone", "总投资": "total", "计划总投资": "total", "年度计划投资": "plan",
      "本年计划投资": "plan", "本年累计完成投资": "ytd", "累计完成投资": "ytd", "建设状态": "status",
      "项目状态": "status", "是否生产性项目": "productive", "生产性项目": "productive", "所在乡镇": "township",
      "乡镇": "township", "备注": "remarks"}
IO = {"统一社会信用代码": "code", "信用代码": "code", "企业名称": "name", "单位名称": "name",
      "所属产业链": "chain", "产业链": "chain", "本年累计工业增加值": "ytd", "工业增加值": "ytd",
      "上年同期累计工业增加值": "prev", "上年同期": "prev"}
VI = {"村代码": "code", "统计用区划代码": "code", "村名称": "name", "村名": "name", "所属乡镇": "township",
      "乡镇": "township", "经营性收入": "op", "集体经营性收入": "op", "集体经济总收入": "total", "总收入": "total"}
ZONE_NAMES = {"平头融合发展区", "太晋一体化平头融合发展区", "平头融合区"}


def money(rec, key, units) -> float | None:
    v = number(rec.get(key))
    return None if v is None else v * UNITS[units[key]]


# ------------------------------------------------------------------ tests
def test_file_layout(sample):
    root, summary = sample
    raw = root / "raw"
    files = sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file())
    assert REGISTER in files  # the office's register at the raw dir's root: not a submission
    files.remove(REGISTER)
    assert files == sorted(f["path"] for f in summary["files"])
    for f in files:
        assert FILE_RE.match(f), f
    by = Counter(f.split("/")[0] for f in files)
    assert by == {"key_projects": 12, "industrial_output": 12, "city_indicators": 11, "village_income": 55,
                  "smart_mines": 12, "zone_operations": 25, "talent": 4}
    assert {f.split("__")[0] for f in files if f.startswith("smart_mines/")} == {f"smart_mines/2023-{m:02d}"
                                                                                for m in range(1, 13)}
    assert {f.rsplit(".", 1)[0] for f in files if f.startswith("talent/")} == {f"talent/2023-{q}__组织部"
                                                                              for q in ("03", "06", "09", "12")}
    assert all(f.rsplit(".", 1)[0].endswith("__能源局") for f in files if f.startswith("smart_mines/"))
    assert {f"key_projects/2023-{m:02d}" for m in range(1, 13)} == {f.split("__")[0] for f in files
                                                                    if f.startswith("key_")}
    vi = [f for f in files if f.startswith("village_income/")]
    assert {f[15:22] for f in vi} == {"2023-03", "2023-06", "2023-09", "2023-12"}
    towns = [r["township_name"] for r in csv.DictReader((REPO / "data/reference/townships.csv").open(encoding="utf-8"))]
    for q in ("03", "06", "09", "12"):
        expected = {f"village_income/2023-{q}__{t}" for t in towns} - {MISSING}  # one township never sent 2023-09
        assert sorted(expected) == sorted(f.rsplit(".", 1)[0] for f in vi if f[20:22] == q)
    assert [e["file"].rsplit(".", 1)[0] for e in summary["withheld"]] == [MISSING]
    exts = Counter(f.rsplit(".", 1)[1] for f in files)
    assert exts["csv"] >= 25 and exts["xlsx"] >= 40
    assert sum(p.stat().st_size for p in raw.rglob("*") if p.is_file()) < 2_000_000


# ------------------------------------------------------------------ the office's register of received files
def _register(raw: Path) -> dict[str, datetime]:
    data = (raw / REGISTER).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, as Excel saves it
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["文件", "收到时间"]
    out: dict[str, datetime] = {}
    for path, when in rows[1:]:
        assert path not in out, path
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", when), when
        out[path] = datetime.strptime(when, "%Y-%m-%d %H:%M")
    return out


def _due(path: str) -> date:
    """The due date of a file (SUBMISSIONS.md 7): its dataset's due_day of the month after its period."""
    days = {r["dataset"]: int(r["due_day"])
            for r in csv.DictReader((REPO / "data/reference/submitters.csv").open(encoding="utf-8"))}
    dataset, name = path.split("/")
    y, m = int(name[:4]), int(name[5:7])
    return date(y + m // 12, m % 12 + 1, days[dataset])


def test_register_has_a_line_for_every_shipped_file_and_one_is_late(sample):
    """收文登记.csv (SUBMISSIONS.md 7): in a fresh clone every file's modification time is the clone's,
    so the sample says when each file came in: a line per shipped file (none for the one never
    sent), each on or before its due day, except the one planted late file."""
    root, summary = sample
    lines = _register(root / "raw")
    shipped = sorted(p.relative_to(root / "raw").as_posix() for p in (root / "raw").rglob("*")
                     if p.is_file() and p.name != REGISTER)
    assert sorted(lines) == shipped
    assert not any(f.startswith(MISSING) for f in lines)
    late = {f: t.strftime("%Y-%m-%d %H:%M") for f, t in lines.items() if t.date() > _due(f)}
    assert late == dict([LATE])
    for f, t in lines.items():
        if f == LATE[0]:
            continue
        y, m = int(f.split("/")[1][:4]), int(f.split("/")[1][5:7])
        assert date(y + m // 12, m % 12 + 1, 1) <= t.date() <= _due(f), f  # in the days before the due date
        assert time_ok(t), f
    assert len({t.date() for t in lines.values()}) >= 30  # spread over many days, not one time for all
    original = lines["industrial_output/2023-03__统计局.xlsx"]
    assert original < lines["industrial_output/2023-03__统计局副本.xlsx"] <= original + timedelta(hours=1)
    assert [(e["file"], e["received_at"]) for e in summary["register"]["lines"] if e["late"]] == [LATE]


def time_ok(t: datetime) -> bool:
    return "08:30" <= t.strftime("%H:%M") <= "18:30"


def test_calendar_due_days_agree_with_the_reference_list():
    from shouyang_pipeline.sample import names
    rows = list(csv.DictReader((REPO / "data/reference/submitters.csv").open(encoding="utf-8")))
    assert {r["dataset"]: int(r["due_day"]) for r in rows} == names.DUE_DAY
    from shouyang_pipeline.ingest.register import REGISTER_NAME
    assert names.REGISTER_NAME == REGISTER_NAME == REGISTER


def test_villages_csv(sample):
    root, summary = sample
    rows = list(csv.DictReader((root / "ref/villages.csv").open(encoding="utf-8")))
    assert list(rows[0]) == ["village_code", "village_name", "township_name"]
    assert len(rows) >= 150 and len(rows) == summary["villages"]
    towns = {r["township_name"]: r["township_code"]
             for r in csv.DictReader((REPO / "data/reference/townships.csv").open(encoding="utf-8"))}
    assert {r["township_name"] for r in rows} == set(towns)
    for r in rows:
        assert re.fullmatch(r"\d{12}", r["village_code"]) and r["village_code"][:9] == towns[r["township_name"]]
        assert r["village_name"].endswith("村")
    assert len({r["village_code"] for r in rows}) == len(rows)
    assert len({r["village_name"] for r in rows}) == len(rows)
    pingtou = {r["village_name"] for r in rows if r["township_name"] == "平头镇"}
    assert {"黑水村", "山底村", "龙栖村", "胡家堙村"} <= pingtou
    assert "140725103201" in {r["village_code"] for r in rows}


def test_reference_lists_agree_with_repo():
    from shouyang_pipeline.sample import names
    towns = [(r["township_code"], r["township_name"])
             for r in csv.DictReader((REPO / "data/reference/townships.csv").open(encoding="utf-8"))]
    assert towns == names.TOWNSHIPS
    chains = [(r["chain_code"], r["chain_name"])
              for r in csv.DictReader((REPO / "data/reference/industry_chains.csv").open(encoding="utf-8"))]
    assert chains == names.CHAINS
    zones = {r["zone_code"]: (r["zone_name"], r["aliases"].split(";"))
             for r in csv.DictReader((REPO / "data/reference/zones.csv").open(encoding="utf-8"))}
    assert zones == names.ZONES
    mines = {r["mine_code"]: (r["mine_name"], r["aliases"].split(";"))
             for r in csv.DictReader((REPO / "data/reference/mines.csv").open(encoding="utf-8"))}
    assert mines == names.MINES


def _valid_projects(path: Path) -> list[dict]:
    recs, units = table(path, KP)
    codes = Counter(norm(r["code"]) for r in recs)
    valid = []
    for r in recs:
        t, p, y = money(r, "total", units), money(r, "plan", units), money(r, "ytd", units)
        if codes[norm(r["code"])] > 1 or t is None or p is None or y is None or t <= 0 or p > t or y < 0:
            continue
        if norm(r["status"]) not in ("未开工", "新开工", "复工", "续建", "竣工"):
            continue
        valid.append({**r, "total": t, "plan": p, "ytd": y})
    return valid


def test_key_projects_2023_02_reproduce_the_bulletin(sample):
    root, _ = sample
    valid = _valid_projects(root / "raw/key_projects/2023-02__发改局.xlsx")
    assert len(valid) == 110 and all(re.fullmatch(r"SY2023-\d{3}", r["code"]) for r in valid)
    assert len({r["code"] for r in valid}) == 110
    assert round(sum(r["total"] for r in valid) / 10_000, 2) == 536.08
    city = [r for r in valid if norm(r["level"]) in ("省级", "市级", "省重点", "市重点")]
    assert len(city) == 14
    assert sum(1 for r in city if norm(r["level"]) in ("省级", "省重点")) == 6
    assert round(sum(r["total"] for r in city) / 10_000, 2) == 266.04
    assert round(sum(r["plan"] for r in city) / 10_000, 2) == 48.83
    started = sum(1 for r in city if norm(r["status"]) in ("新开工", "复工", "续建", "竣工"))
    assert started == 11 and round(started / 14 * 100, 1) == 78.6
    zone = [r for r in valid if norm(r["zone"]) in ZONE_NAMES]
    assert len(zone) == 20
    assert round(sum(r["total"] for r in zone) / 10_000, 2) == 102.00
    assert sum(1 for r in zone if r["total"] >= 10_000) == 11
    assert sum(1 for r in zone if norm(r["productive"]) in ("是", "√", "Y")) == 3


def test_key_projects_every_month_same_110_cumulative_but_the_planted_flags(sample):
    """The same 110 projects every month with 本年累计完成投资 never falling, except what the sample
    plants for the cross-period checks (SUBMISSIONS.md 8): one project dropped from the list from
    2023-08, a fall in 2023-06 with no 备注 and one in 2023-09 explained by 备注."""
    root, summary = sample
    prev: dict[str, tuple[float, str]] = {}
    dropped: list[tuple[str, str]] = []
    falls: list[tuple[str, str, float, float, str]] = []
    plans: dict[str, set[tuple[float, float]]] = {}
    codes = None
    for m in range(1, 13):
        path = next((root / "raw/key_projects").glob(f"2023-{m:02d}__*"))
        valid = _valid_projects(path)
        got = {r["code"] for r in valid}
        codes = codes or got
        assert len(codes) == 110 and got <= codes, m
        gone = {c for _, c in dropped}
        assert not gone & got, m  # a project dropped from the list stays off it
        dropped += [(f"2023-{m:02d}", c) for c in sorted(codes - got - gone)]
        for r in valid:
            plans.setdefault(r["code"], set()).add((round(r["total"], 4), round(r["plan"], 4)))
            if r["ytd"] + 1e-6 < prev.get(r["code"], (0.0, ""))[0]:
                falls.append((f"2023-{m:02d}", r["code"], r["ytd"], prev[r["code"]][0], norm(r.get("remarks"))))
            prev[r["code"]] = (r["ytd"], path.name)
        if m == 12:
            assert 0 < sum(1 for r in valid if norm(r["status"]) == "未开工") <= 6
            assert len(got) == 109
    assert len(dropped) == 1 and dropped[0][0] == "2023-08"
    assert all(len(v) == 1 for v in plans.values())  # 总投资 and 年度计划投资 the same in every unit, every month
    assert [f[:2] for f in falls] == [(f["period"], f["key"]) for f in summary["planted_flags"]
                                      if f["rule"] == "ytd_decreased"]
    (p6, _, v6, was6, remarks6), (p9, _, v9, was9, remarks9) = falls
    assert (p6, remarks6) == ("2023-06", "") and 0 < v6 < was6  # unexplained
    assert p9 == "2023-09" and remarks9.startswith("核减重复统计的投资") and 0 < v9 < was9  # explained
    planted_missing = [(f["period"], f["key"]) for f in summary["planted_flags"]
                       if f["rule"] == "missing_key" and f["dataset"] == "key_projects"]
    assert planted_missing == dropped


def test_industrial_output(sample):
    root, summary = sample
    planted = {e["value"] for e in summary["planted_errors"] if e["rule"] == "bad_credit_code"}
    assert len(planted) == 1
    enterprises = None
    chains_all = {r["chain_code"]: r["chain_name"]
                  for r in csv.DictReader((REPO / "data/reference/industry_chains.csv").open(encoding="utf-8"))}
    for m in range(2, 13):
        path = next((root / "raw/industrial_output").glob(f"2023-{m:02d}__统计局.*"))
        recs, units = table(path, IO)
        bad = [r for r in recs if not uscc.is_valid(norm(r["code"]))]
        assert [norm(r["code"]) for r in bad] == (list(planted) if m == 2 else [])
        valid = [r for r in recs if uscc.is_valid(norm(r["code"])) and money(r, "ytd", units) is not None]
        codes = {norm(r["code"]) for r in valid}
        enterprises = enterprises or codes
        assert codes == enterprises
        chains = {chains_all.get(norm(r["chain"]), norm(r["chain"])) for r in valid if r["chain"]}
        assert set(chains_all.values()) - chains <= {"现代物流产业链"}, m
        if m == 2:
            ytd = sum(money(r, "ytd", units) for r in valid)
            prev = sum(money(r, "prev", units) for r in valid)
            assert 250_150 <= ytd < 250_250 and round(ytd / 10_000, 2) == 25.02
            growth = (ytd / prev - 1) * 100
            assert round(growth, 1) == 10.6 and round(growth - 9.5, 1) == 1.1


def test_city_indicators(sample):
    root, _ = sample
    wb = openpyxl.load_workbook(root / "raw/city_indicators/2023-02__统计局.xlsx")
    ws = wb.worksheets[0]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, float)]
    assert len(cells) == 1 and cells[0].value == pytest.approx(0.095) and "%" in cells[0].number_format
    files = sorted((root / "raw/city_indicators").iterdir())
    assert [f.name[:7] for f in files] == [f"2023-{m:02d}" for m in range(2, 13)]


def test_village_income(sample):
    root, _ = sample
    ref = list(csv.DictReader((root / "ref/villages.csv").open(encoding="utf-8")))
    expected = {(r["township_name"], r["village_name"]) for r in ref}
    seen_units = set()
    for q in ("03", "06", "09", "12"):
        want = {k for k in expected if q != "09" or k[0] != "羊头崖乡"}  # 羊头崖乡 never sent 2023-09
        got: dict[tuple[str, str], float] = {}
        for path in sorted((root / "raw/village_income").glob(f"2023-{q}__*")):
            town = path.stem.split("__")[1]
            recs, units = table(path, VI)
            seen_units.add(units["op"])
            for r in recs:
                t = norm(r.get("township")) or town
                name = norm(r["name"])
                key = (t, name) if (t, name) in expected else (t, name + "村")
                if key in expected:
                    got[key] = money(r, "op", units)
                    assert money(r, "total", units) >= got[key]
        assert set(got) == want, q
        if q == "12":
            share = sum(1 for v in got.values() if v >= 40) / len(got) * 100
            assert 55 <= share <= 80
    assert {"万元", "元"} <= seen_units


def test_formats_present(sample):
    root, _ = sample
    raw = root / "raw"
    gbk = [p for p in raw.rglob("*.csv") if not p.read_bytes().startswith(b"\xef\xbb\xbf")]
    n_gbk = 0
    for p in gbk:
        try:
            p.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            p.read_bytes().decode("gbk")
            n_gbk += 1
    assert n_gbk >= 5
    assert any(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in raw.rglob("*.csv"))
    wb = openpyxl.load_workbook(raw / "key_projects/2023-03__发改局.xlsx")
    assert wb.sheetnames[0] == "填报说明"
    wb = openpyxl.load_workbook(raw / "key_projects/2023-02__发改局.xlsx")
    ws = wb.worksheets[0]
    assert any("\n" in str(c.value) for c in ws[3])
    assert "A1" in {str(r).split(":")[0] for r in ws.merged_cells.ranges}
    formulas = [c.value for c in ws[ws.max_row - 3] if isinstance(c.value, str) and c.value.startswith("=SUM(")]
    assert len(formulas) == 3
    assert any(str(c.value).startswith(("一、", "二、")) for c in ws["A"])
    wb = openpyxl.load_workbook(raw / "village_income/2023-12__平头镇.xlsx")
    merged = [r for r in wb.worksheets[0].merged_cells.ranges if r.max_row > r.min_row]
    assert merged and wb.worksheets[0].cell(merged[0].min_row, merged[0].min_col).value == "平头镇"
    rows, _ = grid(raw / "village_income/2023-12__松塔镇.xlsx")
    assert "乡镇" not in {split_unit(c)[0] for r in rows[:4] for c in r} and any(
        split_unit(c)[1] == "元" for r in rows[:4] for c in r)
    kp4, _ = grid(raw / "key_projects/2023-04__发改局.csv")
    assert "总投资（亿元）" in kp4[0]


def test_totals_rows_match_except_the_planted_one(sample):
    root, summary = sample
    mismatches = []
    for path in sorted((root / "raw").rglob("*.xlsx")):
        rows, _ = grid(path)
        tot = next((i for i, r in enumerate(rows) if r and norm(r[0]) == "合计"), None)
        if tot is None:
            continue
        h = next(i for i, r in enumerate(rows) if sum(1 for c in r if isinstance(c, str) and c) >= 3)
        for c, v in enumerate(rows[tot]):
            if not isinstance(v, (int, float)):
                continue
            s = sum(r[c] for r in rows[h + 1:tot] if c < len(r) and isinstance(r[c], (int, float)))
            if abs(s - v) > 0.01 * (1 if "亿元" not in str(rows[:h + 1]) else 1):
                mismatches.append((path.relative_to(root / "raw").as_posix(), tot + 1, c))
    planted = [(e["file"], e["row"]) for e in summary["planted_errors"] if e["rule"] == "totals_mismatch"]
    assert [(f, r) for f, r, _ in mismatches] == planted == [("key_projects/2023-08__发改局.xlsx", planted[0][1])]


def test_planted_errors_are_where_the_summary_says(sample):
    root, summary = sample
    first_part = ("key_projects/", "industrial_output/", "city_indicators/", "village_income/")
    rules = Counter(e["rule"] for e in summary["planted_errors"] if e["file"].startswith(first_part))
    assert rules["duplicate_key"] == 2 and rules["not_positive"] == 1 and rules["not_a_number"] == 1
    assert rules["bad_credit_code"] == 1 and rules["unknown_village"] == 1 and rules["duplicate_file"] == 1
    new = Counter((e["file"].split("/")[0], e["rule"]) for e in summary["planted_errors"])
    assert new[("smart_mines", "future_date")] == 1 and new[("smart_mines", "missing_date")] == 1
    assert new[("smart_mines", "duplicate_key")] == 2 and new[("smart_mines", "not_in_list")] == 1
    assert new[("zone_operations", "not_in_list")] == 1 and new[("zone_operations", "out_of_range")] == 1
    assert new[("zone_operations", "negative")] == 1 and new[("zone_operations", "not_a_number")] == 1
    assert new[("talent", "not_in_list")] == 1
    for e in summary["planted_errors"]:
        path = root / "raw" / e["file"]
        assert path.exists()
        if e["cell"] is None:
            continue
        rows, _ = grid(path)
        col = openpyxl.utils.column_index_from_string(re.match(r"[A-Z]+", e["cell"]).group())
        got = rows[e["row"] - 1][col - 1]
        assert norm(got) == norm(e["value"]) or number(got) == number(e["value"]), (e, got)
    dup = (root / "raw/industrial_output/2023-03__统计局副本.xlsx").read_bytes()
    assert dup == (root / "raw/industrial_output/2023-03__统计局.xlsx").read_bytes()


def test_deterministic(sample, tmp_path):
    root, summary = sample
    again = write_sample(tmp_path / "raw", tmp_path / "ref")
    assert again["planted_errors"] == summary["planted_errors"]
    for f in summary["files"]:
        assert (tmp_path / "raw" / f["path"]).read_bytes() == (root / "raw" / f["path"]).read_bytes(), f["path"]
    assert (tmp_path / "ref/villages.csv").read_bytes() == (root / "ref/villages.csv").read_bytes()
    assert (tmp_path / "raw" / REGISTER).read_bytes() == (root / "raw" / REGISTER).read_bytes()
    assert again["planted_flags"] == summary["planted_flags"] and again["withheld"] == summary["withheld"]


def test_bundled_sample_is_the_generated_one(sample):
    """data/raw and data/reference/villages.csv in the repo are what the generator writes."""
    root, summary = sample
    if not (REPO / "data/raw/key_projects").exists():
        pytest.skip("bundled sample not generated yet")
    for f in summary["files"]:
        assert (REPO / "data/raw" / f["path"]).read_bytes() == (root / "raw" / f["path"]).read_bytes(), f["path"]
    assert (REPO / "data/reference/villages.csv").read_bytes() == (root / "ref/villages.csv").read_bytes()
    assert (REPO / "data/raw" / REGISTER).read_bytes() == (root / "raw" / REGISTER).read_bytes()
    bundled = {p.relative_to(REPO / "data/raw").as_posix() for p in (REPO / "data/raw").rglob("*") if p.is_file()}
    assert bundled == {f["path"] for f in summary["files"]} | {REGISTER}  # nothing left over, the gap included


def test_scale_10(tmp_path):
    s = write_sample(tmp_path / "raw", tmp_path / "ref", scale=10)
    assert s["years"] == [2022, 2023]
    rows = list(csv.DictReader((tmp_path / "ref/villages.csv").open(encoding="utf-8")))
    assert len(rows) == 2030 and len({r["village_code"] for r in rows}) == 2030
    assert s["figures"]["key_projects"]["2023-02"]["全部"]["projects"] == 1100
    assert s["figures"]["key_projects"]["2023-02"]["全部"]["total_investment_yi"] == 5360.80
    kinds = Counter((f["dataset"], f["format"].split("/")[0]) for f in s["files"])
    assert kinds[("key_projects", "xlsx")] == 14 and kinds[("key_projects", "csv")] == 10
    assert s["rows"]["key_projects"] > 26_000
    assert s["figures"]["smart_mine_summary"]["2023-12"]["全县"]["faces"] == 260
    assert s["figures"]["smart_mine_summary"]["2022-12"]["全县"]["faces"] == 260
    assert s["rows"]["smart_mines"] >= 260 * 24
    faces = {r["code"] for r in table(tmp_path / "raw/smart_mines/2023-12__能源局.xlsx", SM, ("mine",))[0]}
    assert len(faces) == 260
    assert s["figures"]["zone_operations_summary"]["2023-12"]["平头融合发展区"]["operating_revenue_yi"] == 75.00
    lines = _register(tmp_path / "raw")
    assert sorted(lines) == sorted(f["path"] for f in s["files"])  # both years, every file
    assert [f for f, t in lines.items() if t.date() > _due(f)] == [LATE[0]]


# ------------------------------------------------------------------ the second part: mines, parks, talent
SM = {"煤矿名称": "mine", "矿井名称": "mine", "矿井": "mine", "煤矿": "mine", "工作面编号": "code",
      "工作面代码": "code", "编号": "code", "工作面名称": "name", "工作面": "name", "工作面类型": "type", "类型": "type",
      "采掘类型": "type", "建设状态": "status", "进展情况": "status", "状态": "status", "建成时间": "date",
      "建成日期": "date", "验收时间": "date", "是否5G覆盖": "g5", "5G覆盖": "g5", "本年累计完成投资": "inv",
      "累计完成投资": "inv"}
ZO = {"园区名称": "zone", "园区": "zone", "所在园区": "zone", "固定资产投资本年累计": "fai", "固定资产投资": "fai",
      "本年固定资产投资": "fai", "税收收入本年累计": "tax", "税收收入": "tax", "税收": "tax", "营业性收入本年累计": "rev",
      "营业性收入": "rev", "营业收入": "rev", "四上企业数": "above", "四上企业": "above", "本年新增四上企业": "new",
      "新增四上企业": "new", "新增四上企业数": "new", "从业人员": "emp", "从业人数": "emp", "就业人数": "emp"}
TA = {"产业领域": "field", "领域": "field", "行业": "field", "人才类别": "kind", "类别": "kind", "人才类型": "kind",
      "本年累计对接人数": "conn", "对接人数": "conn", "累计对接": "conn", "本年累计引进培育人数": "rec",
      "引进培育人数": "rec", "引育人数": "rec", "累计引进": "rec"}
FACE_TYPES = {"采煤": "采煤", "综采": "采煤", "采煤工作面": "采煤", "采": "采煤",
              "掘进": "掘进", "综掘": "掘进", "掘进工作面": "掘进", "掘": "掘进"}
BUILT = {"已建成", "建成", "完工", "已完成"}
TALENT_FIELDS = ["交通物流", "数字经济", "医疗康养", "智能制造", "现代农业", "文化旅游", "其他"]
TALENT_KINDS = {"领军人才": "领军人才", "领军型人才": "领军人才", "实用型人才": "实用型人才", "实用人才": "实用型人才"}


def names_of(list_csv: str, name_col: str) -> dict[str, str]:
    out = {}
    for r in csv.DictReader((REPO / "data/reference" / list_csv).open(encoding="utf-8")):
        for n in [r[name_col]] + [a for a in r["aliases"].split(";") if a]:
            out[norm(n)] = r[name_col]
    return out


def a_date(v):
    if v is None or v == "":
        return None
    if hasattr(v, "year"):
        return v.date() if hasattr(v, "date") else v
    m = re.fullmatch(r"(\d{4})\D(\d{1,2})(?:\D(\d{1,2}))?\D?", norm(v))
    assert m, v
    from datetime import date
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))


def valid_faces(path: Path) -> list[dict]:
    mines = names_of("mines.csv", "mine_name")
    recs, units = table(path, SM, ("mine",))
    codes = Counter(norm(r["code"]) for r in recs)
    out = []
    for r in recs:
        if codes[norm(r["code"])] > 1 or norm(r["mine"]) not in mines or norm(r["type"]) not in FACE_TYPES:
            continue
        out.append({**r, "mine": mines[norm(r["mine"])], "type": FACE_TYPES[norm(r["type"])], "code": norm(r["code"]),
                    "built": norm(r["status"]) in BUILT, "inv": money(r, "inv", units), "date": a_date(r["date"])})
    return out


def test_smart_mines_files(sample):
    import calendar
    from datetime import date
    root, _ = sample
    built, invest, codes = [], {}, None
    for m in range(1, 13):
        path = next((root / "raw/smart_mines").glob(f"2023-{m:02d}__能源局.*"))
        faces = valid_faces(path)
        assert len(faces) == 26 and len({f["code"] for f in faces}) == 26, m
        codes = codes or {f["code"] for f in faces}
        assert {f["code"] for f in faces} == codes
        assert {f["mine"] for f in faces} == {"段王煤矿", "开元煤矿", "平舒煤矿"}
        assert Counter(f["type"] for f in faces) == {"采煤": 5, "掘进": 21}
        end = date(2023, m, calendar.monthrange(2023, m)[1])
        late = [f for f in faces if f["date"] and f["date"] > end]
        assert len(late) == (1 if m == 5 else 0), m  # the planted future_date (a 在建 face's planned date)
        assert all(f["date"] for f in faces if f["built"]) or m == 4  # 2023-04: the planted missing_date
        built.append(Counter(f["type"] for f in faces if f["built"]))
        for f in faces:
            assert f["inv"] is not None and f["inv"] + 1e-6 >= invest.get(f["code"], 0), (m, f["code"])
            invest[f["code"]] = f["inv"]
    totals = [sum(b.values()) for b in built]
    assert all(a < b for a, b in zip(totals, totals[1:])), totals
    assert built[-1]["采煤"] < 5 or built[-1]["掘进"] < 21
    assert (built[-1]["采煤"], built[-1]["掘进"]) == (5, 18)


def test_smart_mines_formats(sample):
    root, _ = sample
    files = sorted((root / "raw/smart_mines").iterdir())
    kinds = Counter(("xlsx" if p.suffix == ".xlsx" else
                     "gbk" if not _is_utf8(p.read_bytes()) else "utf-8") for p in files)
    assert kinds["xlsx"] >= 4 and kinds["gbk"] >= 2 and kinds["utf-8"] >= 2
    wb = openpyxl.load_workbook(root / "raw/smart_mines/2023-12__能源局.xlsx")
    ws = wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[1][0] == "填报单位：县能源局　　单位：万元"
    assert any(norm(r[0]) == "合计" for r in rows if r[0])
    assert any(str(r[0] or "").startswith("填表人") for r in rows)
    h = header_index(rows, set(SM))
    mine_col = next(i for i, c in enumerate(rows[h]) if norm(c) == "煤矿名称")
    down = [r for r in ws.merged_cells.ranges if r.min_col == r.max_col == mine_col + 1 and r.max_row > r.min_row]
    assert len(down) >= 3  # one merge down each mine's faces
    headers = set()
    for p in files:
        g, _ = grid(p)
        headers |= {norm(c) for c in g[header_index(g, set(SM))] if c}
    assert {"矿井名称", "工作面代码", "采掘类型", "进展情况"} <= headers  # aliases
    assert any(h.endswith(("（万元）", "(万元)", "（亿元）", "(亿元)")) for h in headers)  # units in headers
    types = set()
    for p in files:
        types |= {norm(r["type"]) for r in table(p, SM, ("mine",))[0]}
    assert {"综采", "综掘", "掘"} <= types
    mines = set()
    for p in files:
        mines |= {norm(r["mine"]) for r in table(p, SM, ("mine",))[0]}
    assert mines - {"段王煤矿", "开元煤矿", "平舒煤矿"} - {"凤凰岭煤矿"}  # aliases used sometimes


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_zone_operations_files(sample):
    root, _ = sample
    zones = names_of("zones.csv", "zone_name")
    files = sorted((root / "raw/zone_operations").iterdir())
    by_month: dict[str, dict[str, dict]] = {}
    raw_headers, no_zone_col, units = set(), [], set()
    for p in files:
        period, submitter = p.stem.split("__")
        assert submitter in zones.values()
        g, _ = grid(p)
        h = header_index(g, set(ZO))
        raw_headers |= {str(c).strip() for c in g[h] if c}
        recs, u = table(p, ZO)
        units.add(u["rev"])
        if "zone" not in u:
            no_zone_col.append(p.name)
        for r in recs:
            zone = zones.get(norm(r.get("zone")) if r.get("zone") else submitter)
            if zone is None:
                continue  # the planted unknown zone (平头智能化园区)
            vals = {k: money(r, k, u) for k in ("fai", "tax", "rev")}
            if any(v is None or v < 0 for v in vals.values()):
                continue  # the planted negative tax
            by_month.setdefault(period, {})[zone] = {**vals, "above": number(r["above"]), "new": number(r["new"])}
    assert {"“四上”企业数", '"四上"企业数', "四上企业数"} <= raw_headers
    assert no_zone_col and {"万元", "亿元"} <= units
    months = [f"2023-{m:02d}" for m in range(1, 13)]
    assert sorted(by_month) == months
    assert all("平头融合发展区" in by_month[p] for p in months)
    assert any(len(by_month[p]) >= 2 for p in months)
    last = {"fai": 0, "tax": 0, "rev": 0}
    for p in months:
        row = by_month[p]["平头融合发展区"]
        for k in last:
            assert row[k] > last[k], (p, k)
            last[k] = row[k]
    dec = by_month["2023-12"]["平头融合发展区"]
    assert round(dec["rev"], 2) == 750_000 and round(dec["fai"], 2) == 200_000 and dec["tax"] > 20_000
    assert dec["new"] == 6 and dec["above"] >= 6


def test_talent_files(sample):
    root, _ = sample
    files = sorted((root / "raw/talent").iterdir())
    assert [p.stem for p in files] == [f"2023-{q}__组织部" for q in ("03", "06", "09", "12")]
    last: dict[tuple[str, str], tuple[float, float]] = {}
    spelled = set()
    for p in files:
        recs, _ = table(p, TA, ("field",))
        spelled |= {norm(r["kind"]) for r in recs}
        valid = [r for r in recs if norm(r["field"]) in TALENT_FIELDS and norm(r["kind"]) in TALENT_KINDS]
        assert len(recs) - len(valid) == (1 if p.stem.startswith("2023-06") else 0)
        keys = {(norm(r["field"]), TALENT_KINDS[norm(r["kind"])]) for r in valid}
        assert len(keys) == len(valid) == 14
        for r in valid:
            k = (norm(r["field"]), TALENT_KINDS[norm(r["kind"])])
            v = (number(r["conn"]), number(r["rec"]))
            assert v[0] >= last.get(k, (0, 0))[0] and v[1] >= last.get(k, (0, 0))[1], (p.name, k)
            last[k] = v
    assert {"领军型人才", "实用人才", "领军人才", "实用型人才"} <= spelled
    leading = sum(v[0] for (f, k), v in last.items() if k == "领军人才")
    practical = sum(v[1] for (f, k), v in last.items() if k == "实用型人才")
    assert 60 <= leading < 100 and 1000 <= practical <= 1100  # 百名 not yet met, 千名 met
    wb = openpyxl.load_workbook(root / "raw/talent/2023-12__组织部.xlsx")
    assert any(r.max_row > r.min_row for r in wb.worksheets[0].merged_cells.ranges)
