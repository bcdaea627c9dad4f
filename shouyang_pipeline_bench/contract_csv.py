"""Independent generator of contract-valid CSV submissions (SUBMISSIONS.md), written from the
contract alone: no import of shouyang_pipeline (a second opinion beside the sample generator,
for the independent shape of BENCHMARKS.md).

    python -m shouyang_pipeline_bench.contract_csv OUT_DIR [--projects 20000] [--enterprises 40000] [--years 2023,2024]

Writes OUT_DIR/raw/<dataset>/<period>__<submitter>.csv for all seven datasets and every period of
the reporting calendar (reference/submitters.csv), the office's register OUT_DIR/raw/收文登记.csv
(every file received before its due day), and OUT_DIR/reference/ (a copy of the project's
reference lists, plus the two parks that send their own files added to the calendar).
Prints rows per dataset and the file count as JSON.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
import sys
import zlib
from datetime import date, timedelta
from pathlib import Path

SRC_REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"  # the project's lists

# GB 32100-2015: 31-character alphabet (no I, O, S, V, Z), weights 3^i mod 31.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]


def uscc(body17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body17, USCC_WEIGHTS))
    return body17 + USCC_ALPHABET[(31 - total % 31) % 31]


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def read_ref(ref: Path, name: str) -> list[dict]:
    with open(ref / f"{name}.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def month_end(y: int, m: int) -> date:
    return (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1))


class Writer:
    def __init__(self, raw: Path):
        self.raw = raw
        self.files: list[tuple[str, str]] = []  # (relative path, received)
        self.rows: dict[str, int] = {}
        self.bytes = 0

    def write(self, dataset: str, period: str, submitter: str, header: list[str], rows: list[list],
              *, encoding: str = "utf-8", title: list[str] = (), tail: list[list] = (), due_day: int = 5):
        rel = f"{dataset}/{period}__{submitter}.csv"
        path = self.raw / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        width = len(header)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        for t in title:  # title rows as Excel writes them: padded to the table's width
            w.writerow([t] + [""] * (width - 1))
        w.writerow(header)
        w.writerows(rows)
        for t in tail:
            w.writerow(list(t) + [""] * (width - len(t)))
        data = buf.getvalue().encode(encoding)
        path.write_bytes(data)
        self.bytes += len(data)
        self.rows[dataset] = self.rows.get(dataset, 0) + len(rows)
        y, m = int(period[:4]), int(period[5:])
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        h = zlib.crc32(rel.encode())
        day = 1 + h % max(1, due_day - 1)
        self.files.append((rel, f"{ny:04d}-{nm:02d}-{day:02d} {9 + h % 8:02d}:{h % 60:02d}"))


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    opts = dict(zip(argv[1::2], argv[2::2]))
    n_projects = int(opts.get("--projects", 20000))
    n_enterprises = int(opts.get("--enterprises", 40000))
    years = [int(y) for y in opts.get("--years", "2023,2024").split(",")]
    rnd = random.Random(20240611)

    raw, ref = out / "raw", out / "reference"
    for d in (raw, ref):
        if d.exists():
            shutil.rmtree(d)
    shutil.copytree(SRC_REFERENCE, ref)
    # The other two parks send their own files (SUBMISSIONS 4.6): put them on the calendar.
    with open(ref / "submitters.csv", "a", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["zone_operations", "朝阳煤机制造专业镇", "朝阳煤机制造专业镇管委会", "1-12", 5])
        w.writerow(["zone_operations", "景尚农业现代化产业园", "景尚农业现代化产业园管委会", "1-12", 5])

    townships = [r["township_name"] for r in read_ref(ref, "townships")]
    chains = read_ref(ref, "industry_chains")
    zones = read_ref(ref, "zones")
    mines = read_ref(ref, "mines")
    villages = read_ref(ref, "villages")
    W = Writer(raw)

    units = ["县发改局", "县工信局", "县能源局", "县住建局", "县交通局", "县农业农村局", "县文旅局",
             "平头融合发展区管委会", "县卫健局", "县教育局"]
    words = ["智能制造", "物流园", "污水处理", "道路改造", "光伏发电", "农产品加工", "安置小区", "学校扩建",
             "医院综合楼", "供热管网", "煤机零部件", "新型建材", "冷链仓储", "文旅康养", "数字经济产业园"]

    # ---- key_projects: monthly, 20,000 projects on each year's list -----------------------
    for y in years:
        projects = []
        for i in range(1, n_projects + 1):
            total = rnd.randint(500, 300000) * 100 + rnd.randint(0, 99)  # 万元 cents
            plan = int(total * rnd.uniform(0.05, 0.6))
            kind = rnd.random()
            if kind < 0.7:  # under way since an earlier year
                start_m, started = 1, date(y - rnd.randint(1, 3), rnd.randint(1, 12), rnd.randint(1, 28))
            elif kind < 0.92:  # starts this year
                start_m = rnd.randint(1, 11)
                started = None
            else:  # not started all year
                start_m, started = 13, None
            chain = rnd.choice(chains) if rnd.random() < 0.6 else None
            projects.append(dict(
                code=f"SY{y}-{i:05d}", name=f"{rnd.choice(townships)}{rnd.choice(words)}项目（{i}）",
                level=rnd.choice(["省级", "市级", "县级", "县级", "省重点", "市重点"]),
                sector=rnd.choice(["产业转型", "城市建设", "社会民生", "基础设施", ""]),
                chain=(chain["chain_name"] if rnd.random() < 0.8 else chain["chain_code"]) if chain else "",
                zone=rnd.choice(zones)["zone_name"] if rnd.random() < 0.25 else "",
                township=rnd.choice(townships), total=total, plan=plan,
                ratio=rnd.uniform(0.5, 1.2), a=rnd.uniform(0.7, 1.5), start_m=start_m, started=started,
                done_m=rnd.randint(8, 12) if rnd.random() < 0.1 else 99,
                productive=rnd.choice(["是", "否", "Y", "N", ""]), unit=rnd.choice(units),
            ))
        header = ["序号", "项目编号", "项目名称", "项目级别", "项目类别", "所属产业链", "所在园区", "所在乡镇",
                  "总投资", "年度计划投资", "本年累计完成投资", "建设状态", "是否生产性项目", "开工时间",
                  "责任单位", "备注"]
        for m in range(1, 13):
            rows, sums = [], [0, 0, 0]
            for n, p in enumerate(projects, 1):
                if m < p["start_m"]:
                    ytd, status, start = 0, "未开工", ""
                else:
                    if p["started"] is None:
                        p["started"] = date(y, p["start_m"], rnd.randint(1, 28))
                    frac = ((m - p["start_m"] + 1) / (13 - p["start_m"])) ** p["a"]
                    ytd = int(p["plan"] * p["ratio"] * frac)
                    if p["started"].year < y:
                        status = "续建" if m < p["done_m"] else "竣工"
                    else:
                        status = "新开工" if m == p["start_m"] else ("续建" if m < p["done_m"] else "竣工")
                    start = p["started"].isoformat() if n % 3 else f"{p['started'].year}年{p['started'].month}月{p['started'].day}日"
                sums[0] += p["total"]; sums[1] += p["plan"]; sums[2] += ytd
                rows.append([n, p["code"], p["name"], p["level"], p["sector"], p["chain"], p["zone"],
                             p["township"], money(p["total"]), money(p["plan"]), money(ytd), status,
                             p["productive"], start, p["unit"], ""])
            tail = []
            if m % 3 == 0:  # quarter ends: a totals row and the footer, as the office's template has
                tail = [["合计", "", "", "", "", "", "", "", money(sums[0]), money(sums[1]), money(sums[2])],
                        ["填表人：张三　审核人：李四"]]
            enc = "gb18030" if (y, m) in {(2024, 6)} else ("utf-8-sig" if m % 2 else "utf-8")
            W.write("key_projects", f"{y}-{m:02d}", "发改局", header, rows, encoding=enc, tail=tail, due_day=5)

    # ---- industrial_output: months 2-12, 40,000 enterprises (the same ones both years) ---------
    enterprises = []
    seen = set()
    for i in range(n_enterprises):
        while True:
            body = "91140725" + "".join(rnd.choice(USCC_ALPHABET) for _ in range(9))
            if body not in seen:
                seen.add(body)
                break
        chain = rnd.choice(chains) if rnd.random() < 0.7 else None
        enterprises.append(dict(
            code=uscc(body), name=f"寿阳县{rnd.choice(words)}{i + 1}号有限公司",
            chain=chain["chain_name"] if chain else "", township=rnd.choice(townships),
            base=rnd.randint(5000, 5_000_000), growth=rnd.uniform(0.85, 1.25), mult=rnd.uniform(2.5, 4.5),
            digital=rnd.choice(["是", "否", "否", "否", ""]),
        ))
    header_a = ["序号", "统一社会信用代码", "企业名称", "所属产业链", "所在乡镇", "本年累计工业增加值",
                "上年同期累计工业增加值", "本年累计工业总产值", "是否数字经济核心产业", "备注"]
    header_b = ["序号", "信用代码", "单位名称", "产业链", "乡镇", "累计工业增加值", "上年同期", "工业总产值",
                "数字经济核心产业", "备注"]
    for y in years:
        for m in range(2, 13):
            rows = []
            for n, e in enumerate(enterprises, 1):
                yf = 1 + (y - years[0]) * 0.08
                prev = int(e["base"] * m * (1 + 0.02 * (y - years[0])))
                va = int(e["base"] * m * e["growth"] * yf)
                rows.append([n, e["code"], e["name"], e["chain"], e["township"], money(va), money(prev),
                             money(int(va * e["mult"])), e["digital"], ""])
            enc = "gb18030" if (y, m) == (2024, 12) else "utf-8"
            W.write("industrial_output", f"{y}-{m:02d}", "统计局", header_a if y == years[0] else header_b,
                    rows, encoding=enc, due_day=8)

    # ---- city_indicators: months 2-12, one row -------------------------------------------------
    for y in years:
        for m in range(2, 13):
            name = "规上工业增加值增速" if m % 2 else "规模以上工业增加值增速"
            W.write("city_indicators", f"{y}-{m:02d}", "统计局", ["指标名称", "全市数值", "备注"],
                    [[name, f"{rnd.uniform(4, 12):.1f}" + ("%" if m % 3 == 0 else ""), f"全市1-{m}月累计增速"]],
                    encoding="gb18030" if m % 2 else "utf-8", due_day=10)

    # ---- village_income: quarterly, one file per township ------------------------------------------
    by_town: dict[str, list[dict]] = {}
    for v in villages:
        by_town.setdefault(v["township_name"], []).append(v)
    vbase = {v["village_code"]: (rnd.randint(100_000, 800_000), rnd.uniform(1.1, 2.0)) for v in villages}
    sources = ["光伏", "土地流转", "物业出租", "乡村旅游", "农机服务", "集体林地"]
    for y in years:
        for q, m in enumerate((3, 6, 9, 12), 1):
            for ti, (town, vs) in enumerate(sorted(by_town.items())):
                with_code = ti % 2 == 0
                header = ["序号", "所属乡镇"] + (["村代码"] if with_code else []) + [
                    "村名称", "经营性收入", "集体经济总收入", "主要收入来源", "备注"]
                rows, so, st = [], 0, 0
                for n, v in enumerate(vs, 1):
                    b, k = vbase[v["village_code"]]
                    op = int(b * q / 4 * (1 + 0.05 * (y - years[0])))  # 元
                    tot = int(op * k)
                    so += op; st += tot
                    vname = v["village_name"][:-1] if (n % 4 == 0 and v["village_name"].endswith("村")) else v["village_name"]
                    rows.append([n, town] + ([v["village_code"]] if with_code else []) +
                                [vname, op, tot, rnd.choice(sources), ""])
                title = [f"{y}年1-{m}月{town}村级集体经济收入情况表", "填报单位：" + town + "人民政府　　　　单位：元"]
                tail = [["合计", ""] + ([""] if with_code else []) + ["", so, st], ["填表人：王五　审核人：赵六"]]
                W.write("village_income", f"{y}-{m:02d}", town, header, rows, title=title, tail=tail, due_day=10)

    # ---- smart_mines: monthly, 26 faces (5 采 21 掘) -----------------------------------------------
    faces = []
    for mi, mine in enumerate(mines):
        n_c = [2, 2, 1][mi]
        n_j = [7, 7, 7][mi]
        for k in range(n_c + n_j):
            kind = "采煤" if k < n_c else "掘进"
            faces.append(dict(mine=mine["mine_name"], alias=mine["aliases"].split(";")[0],
                              code=f"{mine['mine_code'][:2]}-{'C' if kind == '采煤' else 'J'}{k + 1:02d}",
                              name=f"{15100 + 7 * k + mi}{'综采' if kind == '采煤' else '掘进'}工作面", kind=kind,
                              start=(years[0], rnd.randint(1, 12)), built=None,
                              built_after=rnd.randint(3, 14), inv=rnd.randint(2000, 30000)))
    for y in years:
        for m in range(1, 13):
            idx = (y - years[0]) * 12 + m
            rows = []
            for n, f in enumerate(faces, 1):
                s_rel = (f["start"][0] - y) * 12 + f["start"][1]  # start month relative to this year
                s_idx = (f["start"][0] - years[0]) * 12 + f["start"][1]
                if idx < s_idx:
                    status, done, inv = "未开工", "", 0
                elif idx < s_idx + f["built_after"]:
                    status, done = ("在建" if n % 2 else "施工中"), ""
                    inv = f["inv"] * (m - max(1, s_rel) + 1)  # 万元 cents, months under way this year
                else:
                    if f["built"] is None:
                        f["built"] = date(y, m, rnd.randint(1, month_end(y, m).day))
                    status, done = ("已建成" if n % 3 else "建成"), f["built"].isoformat()
                    inv = 0
                # a year-to-date figure never falls within the year: keep the year's running maximum
                ytd = f.setdefault("ytd", {})
                ytd[y] = max(ytd.get(y, 0), inv)
                rows.append([n, f["mine"] if n % 2 else f["alias"], f["code"], f["name"], f["kind"], status, done,
                             rnd.choice(["是", "否"]) if status != "未开工" else "否", money(ytd[y]), ""])
            W.write("smart_mines", f"{y}-{m:02d}", "能源局",
                    ["序号", "煤矿名称", "工作面编号", "工作面名称", "工作面类型", "建设状态", "建成时间",
                     "是否5G覆盖", "本年累计完成投资", "备注"], rows,
                    encoding="gb18030" if m % 2 else "utf-8-sig", due_day=5)

    # ---- zone_operations: monthly, each park its own file ---------------------------------------------
    zbase = {z["zone_name"]: (rnd.randint(5000, 20000), rnd.randint(4, 40), rnd.randint(800, 5000)) for z in zones}
    for y in years:
        for m in range(1, 13):
            for zi, z in enumerate(zones):
                fa, ent, emp = zbase[z["zone_name"]]
                new = min(ent, m // 3)
                row = [1, z["zone_name"] if zi != 1 else z["aliases"].split(";")[0],
                       money(fa * 100 * m), money(fa * 12 * m), money(fa * 350 * m), ent + new, new, emp + 3 * m, ""]
                W.write("zone_operations", f"{y}-{m:02d}", z["zone_name"],
                        ["序号", "园区名称", "固定资产投资本年累计", "税收收入本年累计", "营业性收入本年累计",
                         "“四上”企业数", "本年新增“四上”企业", "从业人员", "备注"], [row], due_day=5)

    # ---- talent: quarterly, 7 fields x 2 kinds ----------------------------------------------------------
    fields = ["交通物流", "数字经济", "医疗康养", "智能制造", "现代农业", "文化旅游", "其他"]
    tb = {(f, k): (rnd.randint(2, 10), rnd.randint(30, 120)) for f in fields for k in (0, 1)}
    for y in years:
        for q, m in enumerate((3, 6, 9, 12), 1):
            rows, n = [], 0
            for f in fields:
                for k, kind in enumerate(("领军人才", "实用型人才")):
                    n += 1
                    a, b = tb[(f, k)]
                    c = (a if k == 0 else b) * q
                    rows.append([n, f, kind if n % 2 else ("领军型人才" if k == 0 else "实用人才"), c, int(c * 0.6), ""])
            W.write("talent", f"{y}-{m:02d}", "组织部", ["序号", "产业领域", "人才类别", "本年累计对接人数",
                                                         "本年累计引进培育人数", "备注"], rows,
                    encoding="gb18030", due_day=10)

    # ---- the office's register --------------------------------------------------------------------------
    with open(raw / "收文登记.csv", "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["文件", "收到时间"])
        w.writerows(sorted(W.files))
    print(json.dumps({"files": len(W.files), "rows": W.rows, "total_rows": sum(W.rows.values()),
                      "bytes": W.bytes}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
