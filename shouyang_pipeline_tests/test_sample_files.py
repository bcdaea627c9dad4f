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
from pathlib import Path

import openpyxl
import pytest
from stdnum.cn import uscc

from shouyang_pipeline.sample import write_sample

REPO = Path(__file__).resolve().parents[1]
FILE_RE = re.compile(r"^(key_projects|industrial_output|city_indicators|village_income)/"
                     r"(\d{4})-(\d{2})(__[^/]+)?\.(csv|xlsx)$")
UNITS = {"万元": 1.0, "亿元": 10_000.0, "元": 0.0001}


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


def split_unit(h) -> tuple[str, str | None]:
    h = norm(h)
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


def table(path: Path, aliases: dict[str, str]) -> tuple[list[dict[str, object]], dict[str, str]]:
    """Data rows as {canonical: value}, with money converted to 万元; plus {canonical: unit}."""
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
            if v in (None, "") and k == "township" and last.get(k):
                rec[k] = last[k]
        last = rec
        out.append(rec)
    return out, units


KP = {"项目编号": "code", "项目代码": "code", "项目名称": "name", "项目级别": "level", "级别": "level",
      "所在园区": "zone", "所属园区": "zone", "总投资": "total", "计划总投资": "total", "年度计划投资": "plan",
      "本年计划投资": "plan", "本年累计完成投资": "ytd", "累计完成投资": "ytd", "建设状态": "status",
      "项目状态": "status", "是否生产性项目": "productive", "生产性项目": "productive", "所在乡镇": "township",
      "乡镇": "township"}
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
    assert files == sorted(f["path"] for f in summary["files"])
    for f in files:
        assert FILE_RE.match(f), f
    by = Counter(f.split("/")[0] for f in files)
    assert by == {"key_projects": 12, "industrial_output": 12, "city_indicators": 11, "village_income": 56}
    assert {f"key_projects/2023-{m:02d}" for m in range(1, 13)} == {f.split("__")[0] for f in files
                                                                    if f.startswith("key_")}
    vi = [f for f in files if f.startswith("village_income/")]
    assert {f[15:22] for f in vi} == {"2023-03", "2023-06", "2023-09", "2023-12"}
    towns = [r["township_name"] for r in csv.DictReader((REPO / "data/reference/townships.csv").open(encoding="utf-8"))]
    for q in ("03", "06", "09", "12"):
        assert sorted(f"village_income/2023-{q}__{t}" for t in towns) == sorted(f.rsplit(".", 1)[0] for f in vi
                                                                                 if f[20:22] == q)
    exts = Counter(f.rsplit(".", 1)[1] for f in files)
    assert exts["csv"] >= 25 and exts["xlsx"] >= 40
    assert sum(p.stat().st_size for p in raw.rglob("*") if p.is_file()) < 2_000_000


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


def test_key_projects_every_month_same_110_cumulative(sample):
    root, _ = sample
    prev: dict[str, float] = {}
    codes = None
    for m in range(1, 13):
        path = next((root / "raw/key_projects").glob(f"2023-{m:02d}__*"))
        valid = _valid_projects(path)
        got = {r["code"] for r in valid}
        assert len(got) == 110, (m, len(got))
        codes = codes or got
        assert got == codes
        for r in valid:
            assert r["ytd"] + 1e-6 >= prev.get(r["code"], 0.0), (m, r["code"])
            prev[r["code"]] = r["ytd"]
        if m == 12:
            assert 0 < sum(1 for r in valid if norm(r["status"]) == "未开工") <= 6


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
        assert set(got) == expected, q
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
    rules = Counter(e["rule"] for e in summary["planted_errors"])
    assert rules["duplicate_key"] == 2 and rules["not_positive"] == 1 and rules["not_a_number"] == 1
    assert rules["bad_credit_code"] == 1 and rules["unknown_village"] == 1 and rules["duplicate_file"] == 1
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


def test_bundled_sample_is_the_generated_one(sample):
    """data/raw and data/reference/villages.csv in the repo are what the generator writes."""
    root, summary = sample
    if not (REPO / "data/raw/key_projects").exists():
        pytest.skip("bundled sample not generated yet")
    for f in summary["files"]:
        assert (REPO / "data/raw" / f["path"]).read_bytes() == (root / "raw" / f["path"]).read_bytes(), f["path"]
    assert (REPO / "data/reference/villages.csv").read_bytes() == (root / "ref/villages.csv").read_bytes()


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
