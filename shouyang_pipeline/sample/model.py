"""The made-up county the sample describes: key projects, enterprises, villages, city figures.

All money is held as integers in 0.01 万元 ("cents of 万", = 100 元) so that every figure the
bulletins quote is hit exactly, whatever the seed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date

from stdnum.cn import uscc

from . import names as N

C = 100  # cents per 万元
MONTHS = list(range(1, 13))
QUARTERS = [3, 6, 9, 12]
STARTED = ("新开工", "复工", "续建", "竣工")

# The bulletins' figures (2023, scale 1), in 万元
KP_TOTAL = 5_360_800          # 536.08 亿元, 110 projects
KP_CITY_TOTAL = 2_660_400     # 266.04 亿元, 14 projects (6 省级 + 8 市级)
KP_CITY_PLAN = 488_300        # 48.83 亿元
KP_ZONE_CITY_TOTAL = 300_000  # the two city-level projects inside 平头融合发展区
KP_ZONE_TOTAL = 1_020_000     # 102.00 亿元, 20 projects, 11 ≥ 1 亿, 3 productive
IO_FEB_YTD = 250_200_00       # cents: 25.02 亿元
IO_FEB_PREV = 226_220_00      # cents: growth 10.6003 %
CITY_GROWTH = {2: 9.5, 3: 8.9, 4: 8.1, 5: 7.8, 6: 7.6, 7: 7.4, 8: 7.1, 9: 6.9, 10: 6.8, 11: 6.6, 12: 6.5}
VILLAGE_MEET_SHARE = 0.70
DIGITAL_FEB_OUTPUT = 13_000 * C


def allocate(target: int, lows: list[int], highs: list[int], rng: random.Random, step: int,
             weights: list[float] | None = None) -> list[int]:
    """Integers x_i in [lows_i, highs_i], multiples of step, summing exactly to target."""
    n = len(lows)
    assert target % step == 0 and all(lo % step == 0 for lo in lows), (target, step)
    highs = [hi - hi % step for hi in highs]
    assert sum(lows) <= target <= sum(highs), (sum(lows), target, sum(highs))
    w = weights or [rng.uniform(0.3, 1.7) for _ in range(n)]
    sw = sum(w)
    spare = target - sum(lows)
    x = [min(highs[i], lows[i] + int(spare * w[i] / sw) // step * step) for i in range(n)]
    rest = target - sum(x)
    order = list(range(n))
    rng.shuffle(order)
    while rest > 0:
        roomy = [i for i in order if highs[i] > x[i]]
        share = max(step, rest // len(roomy) // step * step)
        for i in roomy:
            add = min(highs[i] - x[i], share, rest)
            x[i] += add
            rest -= add
            if rest == 0:
                break
    assert sum(x) == target
    return x


def _spread(amount: int, months: list[int], rng: random.Random, season: dict[int, float]) -> dict[int, int]:
    """Split amount (cents) into positive monthly increments over months; returns cumulative by month."""
    if not months or amount <= 0:
        return {}
    w = [season[m] * rng.uniform(0.6, 1.4) for m in months]
    sw = sum(w)
    inc = [int(amount * wi / sw) for wi in w]
    inc[-1] += amount - sum(inc)
    out, cum = {}, 0
    for m, i in zip(months, inc):
        cum += i
        out[m] = cum
    return out


SEASON = {1: 0.3, 2: 0.45, 3: 0.9, 4: 1.2, 5: 1.3, 6: 1.3, 7: 1.2, 8: 1.2, 9: 1.3, 10: 1.2, 11: 0.9, 12: 0.6}


# ------------------------------------------------------------------------------ projects
@dataclass
class Project:
    code: str
    name: str
    level: str
    sector: str
    chain: str | None
    zone: str | None          # zone code
    township: str | None
    total: int                # cents
    plan: int = 0
    productive: bool = False
    unit: str = ""
    kind: str = "new"         # cont | new | never
    start_month: int = 1      # cont: the month work resumed; new: the month it started
    complete_month: int | None = None
    start_date: date | None = None
    ytd: dict[int, int] = field(default_factory=dict)
    group: str = "E"
    # Where the department's file departs from the model (the sample's planted cross-period flags,
    # SUBMISSIONS.md 8): the year-to-date figure written for a month, a month's 备注, and the
    # month from which the project is no longer on the list.
    ytd_written: dict[int, int] = field(default_factory=dict)
    remarks: dict[int, str] = field(default_factory=dict)
    off_list_from: int | None = None

    def status(self, m: int) -> str:
        if self.kind == "never":
            return "未开工"
        if self.complete_month and m >= self.complete_month:
            return "竣工"
        if self.kind == "cont":
            return "复工" if m == self.start_month and m > 1 else "续建"
        if m < self.start_month:
            return "未开工"
        return "新开工" if m == self.start_month else "续建"

    def ytd_at(self, m: int) -> int:
        best = 0
        for mm, v in self.ytd.items():
            if mm <= m:
                best = max(best, v)
        return best

    def reported_ytd(self, m: int) -> int:
        """本年累计完成投资 as the month's file states it."""
        return self.ytd_written.get(m, self.ytd_at(m))

    def on_list(self, m: int) -> bool:
        return self.off_list_from is None or m < self.off_list_from


def _r(x: float, step: int) -> int:
    return max(step, int(round(x / step)) * step)


def build_projects(rng: random.Random, year: int, scale: int, factor: float) -> list[Project]:
    def scaled(v: int, step: int) -> int:
        return int(round(v * scale * factor / step)) * step

    step_big, step = 100 * C, 10 * C
    t_all = scaled(KP_TOTAL * C, step_big)
    t_city = scaled(KP_CITY_TOTAL * C, step_big)
    t_plan = scaled(KP_CITY_PLAN * C, step)
    t_a = scaled(KP_ZONE_CITY_TOTAL * C, step_big)
    t_zone = scaled(KP_ZONE_TOTAL * C, step_big)

    projects: list[Project] = []
    used_names: set[str] = set()

    def uniq(name: str) -> str:
        base, k = name, 1
        while name in used_names:
            k += 1
            name = f"{base}（{N.cn_number(k)}期）"
        used_names.add(name)
        return name

    for k in range(scale):
        for name, sector, chain, productive, level in N.ZONE_CITY_PROJECTS:
            projects.append(Project("", uniq(name), level, sector, chain, "PINGTOU", "平头镇", 0,
                                    productive=productive, unit="平头融合发展区管委会", group="A"))
        for name, sector, chain, productive, level, town, zone in N.CITY_PROJECTS:
            projects.append(Project("", uniq(name), level, sector, chain, zone, town, 0, productive=productive,
                                    unit=rng.choice(N.RESPONSIBLE[sector]), group="B"))
        for i, (name, sector, chain, _p) in enumerate(N.ZONE_BIG_PROJECTS):
            projects.append(Project("", uniq(name), "县级", sector, chain, "PINGTOU", "平头镇", 0,
                                    productive=i < 3, unit="平头融合发展区管委会", group="C"))
        for name, sector, chain, _p in N.ZONE_SMALL_PROJECTS:
            projects.append(Project("", uniq(name), "县级", sector, chain, "PINGTOU", "平头镇", 0,
                                    productive=False, unit="平头融合发展区管委会", group="D"))
        chain_w = {"COAL": 3, "BUILDING_MATERIALS": 2, "COAL_MACHINERY": 2, "CHEMICAL": 1, "PAPER": 1,
                   "CORN": 1, "SPECIALTY_AGRI": 2, "LOGISTICS": 1}
        towns = [t for t in N.TOWNSHIP_NAMES]
        for _ in range(78):
            sector = rng.choices(["产业转型", "城市建设", "社会民生", "基础设施"], [50, 17, 16, 17])[0]
            town = rng.choice(towns)
            chain = zone = None
            if sector == "产业转型":
                chain = rng.choices(list(chain_w), list(chain_w.values()))[0]
                what = rng.choice(N.CHAIN_PRODUCTS[chain])
                if chain == "COAL_MACHINERY" and rng.random() < 0.6:
                    town, zone = "朝阳镇", "CHAOYANG_COAL_MACHINERY"
                if chain in ("CORN", "SPECIALTY_AGRI") and rng.random() < 0.4:
                    town, zone = "景尚乡", "JINGSHANG_AGRI"
                if chain == "COAL" and rng.random() < 0.3:
                    chain = None  # clerks leave the chain blank now and then
                name = f"{town}{what}项目"
            else:
                name = f"{town}{rng.choice(N.OTHER_PROJECTS[sector])}"
            productive = sector == "产业转型" and rng.random() < 0.75
            projects.append(Project("", uniq(name), "县级", sector, chain, zone, town, 0, productive=productive,
                                    unit=rng.choice(N.RESPONSIBLE[sector]), group="E"))

    grp = {g: [p for p in projects if p.group == g] for g in "ABCDE"}
    # total investment
    for p, v in zip(grp["A"], allocate(t_a, [80_000 * C] * len(grp["A"]), [250_000 * C] * len(grp["A"]),
                                       rng, step_big)):
        p.total = v
    for p, v in zip(grp["B"], allocate(t_city - t_a, [30_000 * C] * len(grp["B"]),
                                       [600_000 * C] * len(grp["B"]), rng, step_big)):
        p.total = v
    for p in grp["D"]:
        p.total = rng.randrange(150, 981) * step
    t_c = t_zone - t_a - sum(p.total for p in grp["D"])
    for p, v in zip(grp["C"], allocate(t_c, [12_000 * C] * len(grp["C"]), [200_000 * C] * len(grp["C"]),
                                       rng, step)):
        p.total = v
    t_e = t_all - t_city - t_zone + t_a
    w_e = [math.exp(rng.gauss(0, 1.0)) for _ in grp["E"]]
    for p, v in zip(grp["E"], allocate(t_e, [500 * C] * len(grp["E"]), [200_000 * C] * len(grp["E"]),
                                       rng, step, w_e)):
        p.total = v
    # annual plan
    ab = grp["A"] + grp["B"]
    lows = [(p.total // 20) // step * step for p in ab]
    highs = [p.total * 45 // 100 for p in ab]
    for p, v in zip(ab, allocate(t_plan, lows, highs, rng, step)):
        p.plan = v
    for p in grp["C"] + grp["D"] + grp["E"]:
        p.plan = min(p.total, _r(p.total * rng.uniform(0.15, 0.6), step))

    # schedule: kind, start, completion
    for k in range(scale):
        ab_k = grp["A"][k * 2: k * 2 + 2] + grp["B"][k * 12: k * 12 + 12]
        late = rng.sample(ab_k, 3)   # 3 of the 14 city-level projects not started by February
        for p, s in zip(late, (3, 4, 7)):
            p.kind, p.start_month = "new", s
        for p in ab_k:
            if p in late:
                continue
            if rng.random() < 0.7:
                p.kind, p.start_month = "cont", rng.choice([1, 2, 2])
            else:
                p.kind, p.start_month = "new", rng.choice([1, 2])
        rest = [p for p in projects if p.group in "CDE"][k * 96:(k + 1) * 96]
        never = set(id(p) for p in rng.sample([p for p in rest if p.group == "E"], 3))
        for p in rest:
            if id(p) in never:
                p.kind = "never"
            elif rng.random() < 0.45:
                p.kind, p.start_month = "cont", rng.choice([1, 2, 2, 3])
            else:
                p.kind = "new"
                p.start_month = rng.choices(range(1, 11), [3, 4, 8, 9, 8, 6, 4, 3, 2, 1])[0]
    for p in projects:
        if p.kind == "cont":
            if rng.random() < 0.3:
                p.complete_month = rng.randint(6, 12)
            p.start_date = date(year - rng.choice([1, 1, 2]), rng.randint(3, 11), rng.randint(1, 28))
        elif p.kind == "new":
            if p.start_month <= 4 and rng.random() < 0.1:
                p.complete_month = rng.randint(10, 12)
            p.start_date = date(year, p.start_month, rng.randint(1, 28))
        if p.kind != "never":
            reach = p.plan * rng.uniform(0.8, 1.12)
            if p.complete_month:
                reach = p.plan * rng.uniform(0.95, 1.05)
            reach = int(min(reach, p.total))
            first = 1 if p.kind == "cont" and p.start_month == 1 else p.start_month
            if p.kind == "cont" and p.start_month > 1:
                first = p.start_month
            last = p.complete_month or 12
            p.ytd = _spread(reach, list(range(first, last + 1)), rng, SEASON)

    sector_order = {"产业转型": 0, "城市建设": 1, "社会民生": 2, "基础设施": 3}
    level_order = {"省级": 0, "市级": 1, "县级": 2}
    keyed = [(sector_order[p.sector], level_order[p.level], rng.random(), p) for p in projects]
    keyed.sort(key=lambda t: t[:3])
    projects = [t[3] for t in keyed]
    width = max(3, len(str(len(projects) + 20)))
    for i, p in enumerate(projects, 1):
        p.code = f"SY{year}-{i:0{width}d}"
    return projects


# ------------------------------------------------------------------------------ enterprises
@dataclass
class Enterprise:
    credit_code: str
    name: str
    chain: str | None
    township: str
    digital: bool
    ytd: dict[int, int] = field(default_factory=dict)
    prev: dict[int, int] = field(default_factory=dict)
    output: dict[int, int] = field(default_factory=dict)


def make_credit_code(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91140725" + "MA0" + "".join(rng.choice(alphabet) for _ in range(6))
    return body + uscc.calc_check_digit(body)


def bad_credit_code(rng: random.Random) -> str:
    good = make_credit_code(rng)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    wrong = alphabet[(alphabet.index(good[-1]) + 7) % 31]
    return good[:-1] + wrong


CHAIN_TOWNS = {"COAL": ["平舒乡", "宗艾镇", "西洛镇", "马首乡"], "COAL_MACHINERY": ["朝阳镇"],
               "BUILDING_MATERIALS": ["平头镇", "南燕竹镇", "宗艾镇"], "CHEMICAL": ["松塔镇"],
               "PAPER": ["南燕竹镇"], "CORN": ["景尚乡", "尹灵芝镇"], "SPECIALTY_AGRI": ["景尚乡", "上湖乡"],
               None: ["朝阳镇", "平头镇"]}


def build_enterprises(rng: random.Random, year: int, scale: int, factor: float,
                      months: list[int]) -> list[Enterprise]:
    ents: list[Enterprise] = []
    used_codes: set[str] = set()
    used_names: set[str] = set()
    for k in range(scale):
        for chain, count in N.ENTERPRISE_MIX:
            for _ in range(count):
                code = make_credit_code(rng)
                while code in used_codes:
                    code = make_credit_code(rng)
                used_codes.add(code)
                town = rng.choice(CHAIN_TOWNS[chain])
                firm = N.CHAIN_FIRM[chain]
                name = None
                for _try in range(50):
                    cand = f"{rng.choice(['寿阳县', '山西', '寿阳'])}{rng.choice(N.ENTERPRISE_WORDS)}{firm}有限公司"
                    if cand not in used_names:
                        name = cand
                        break
                if name is None:
                    name = f"寿阳县{N.cn_number(len(ents) + 1)}号{firm}有限公司"
                    while name in used_names:
                        name = "新" + name
                used_names.add(name)
                ents.append(Enterprise(code, name, chain, town, False))
        group = ents[k * 40:(k + 1) * 40]
        for e in rng.sample([e for e in group if e.chain == "COAL_MACHINERY"], 3):
            e.digital = True
    t_ytd = int(round(IO_FEB_YTD * scale * factor))
    t_prev = int(round(IO_FEB_PREV * scale * factor))
    w = [N.CHAIN_WEIGHT[e.chain] * math.exp(rng.gauss(0, 0.6)) for e in ents]
    feb = allocate(t_ytd, [200 * C] * len(ents), [t_ytd] * len(ents), rng, 1, w)
    growth = [rng.uniform(-0.06, 0.26) for _ in ents]
    raw_prev = [f / (1 + g) for f, g in zip(feb, growth)]
    sp = sum(raw_prev)
    prev = [int(p * t_prev / sp) for p in raw_prev]
    for i in range(t_prev - sum(prev)):
        prev[i % len(prev)] += 1
    ratio = [rng.uniform(2.6, 4.2) for _ in ents]
    for e, f, p, g, r in zip(ents, feb, prev, growth, ratio):
        y_cum, p_cum = f, p
        for m in months:
            if m == 2:
                e.ytd[m], e.prev[m] = y_cum, p_cum
            else:
                inc = int(f / 2 * SEASON[m] / 0.9 * rng.uniform(0.85, 1.15)) + 1
                gm = g * rng.uniform(0.75, 1.05) * (1 - 0.05 * (m - 2)) - 0.005 * (m - 2)
                y_cum += inc
                p_cum += int(inc / (1 + gm))
                e.ytd[m], e.prev[m] = y_cum, p_cum
            e.output[m] = int(e.ytd[m] * r) // 10 * 10
    # digital-core enterprises: about 1.3 亿元 of output in 1-2月, so the 10 亿元 target is near but not met
    digital = [e for e in ents if e.digital]
    feb_out = sum(e.output[2] for e in digital)
    k = DIGITAL_FEB_OUTPUT * scale * factor / feb_out if feb_out else 1
    for e in digital:
        for m in months:
            e.output[m] = max(int(e.output[m] * k) // 10 * 10, int(e.ytd[m] * 1.1) // 10 * 10)
    return ents


# ------------------------------------------------------------------------------ villages
@dataclass
class Village:
    code: str
    name: str
    township: str
    meets: bool = False
    op: dict[int, int] = field(default_factory=dict)
    total: dict[int, int] = field(default_factory=dict)
    source: str = ""


SOURCES = ["光伏", "土地流转", "物业出租", "乡村旅游", "集体林场", "农机服务", "资产租赁", "光伏、土地流转"]


def build_villages(scale: int) -> list[Village]:
    """The reference list: fixed for a scale, independent of the seed."""
    pool = N.village_name_pool()
    extra_names = (f"{stem[:-1]}{N.cn_number(k)}村" for k in range(2, 10_000) for stem in pool)
    names_iter = iter(pool)
    villages: list[Village] = []
    for tcode, town in N.TOWNSHIPS:
        count = min(N.VILLAGE_COUNTS[town] * scale, 999)
        numbers = list(range(201, 1000)) + list(range(1, 201))
        real = N.REAL_VILLAGES.get(town, [])
        for i in range(count):
            if i < len(real):
                name = real[i]
            else:
                name = next(names_iter, None) or next(extra_names)
            villages.append(Village(f"{tcode}{numbers[i]:03d}", name, town))
    return villages


def fill_village_income(villages: list[Village], rng: random.Random, factor: float) -> None:
    n_meet = int(round(len(villages) * VILLAGE_MEET_SHARE))
    meet = set(rng.sample(range(len(villages)), n_meet))
    for i, v in enumerate(villages):
        v.meets = i in meet
        if v.meets:
            annual = rng.uniform(42, 160)
        else:
            annual = rng.choice([rng.uniform(1.5, 4.8), rng.uniform(5.2, 9.8), rng.uniform(10.5, 38.5),
                                 rng.uniform(10.5, 38.5)])
        annual_c = int(round(annual * C))
        other_c = int(round(rng.uniform(5, 80) * C * factor))
        shares = {3: rng.uniform(0.12, 0.3), 6: rng.uniform(0.4, 0.55), 9: rng.uniform(0.65, 0.8), 12: 1.0}
        for q in QUARTERS:
            v.op[q] = int(annual_c * shares[q])
            v.total[q] = v.op[q] + int(other_c * shares[q])
        v.source = rng.choice(SOURCES)


# ------------------------------------------------------------------------------ smart mines
# Faces built (已建成) on the list at the end of each month, scale 1: growing every month and
# 23 in December (5 采煤 + 18 掘进), below the 5采21掘 target. Five were built before the year.
FACES_BUILT = {0: 5, 1: 7, 2: 8, 3: 10, 4: 11, 5: 13, 6: 14, 7: 16, 8: 17, 9: 19, 10: 20, 11: 22, 12: 23}
MINING_BUILT_BEFORE = 2   # of the five built before the year, 采煤 faces
FACES_UNDER_WAY = 2       # 掘进 faces still 在建 in December; the last one never starts


@dataclass
class Face:
    code: str
    mine: str                  # mine code
    name: str
    kind: str                  # 采煤 | 掘进
    built_month: int | None    # 0: built before the year; None: not built this year
    start_month: int | None    # 0: work began before the year; None: not started
    completed_on: date | None = None
    fiveg_month: int | None = None
    invest: dict[int, int] = field(default_factory=dict)  # cumulative cents by month

    def status(self, m: int) -> str:
        if self.built_month is not None and self.built_month <= m:
            return "已建成"
        if self.start_month is not None and self.start_month <= m:
            return "在建"
        return "未开工"

    def has_5g(self, m: int) -> bool:
        return self.fiveg_month is not None and self.fiveg_month <= m


def build_faces(rng: random.Random, year: int, scale: int) -> list[Face]:
    faces: list[Face] = []
    for k in range(scale):
        copy: list[Face] = []
        for mine, n_mining, n_heading, prefix, seam in N.FACE_LAYOUT:
            tag = prefix if k == 0 else f"{prefix}{k + 1}"
            panels = rng.sample(range(1, 10), 3)
            numbers = rng.sample(range(1, 40), n_mining + n_heading)
            for i in range(n_mining):
                no = f"{seam}{panels[0]}{numbers[i]:02d}"
                copy.append(Face(f"{tag}-C{i + 1:02d}", mine, f"{no}综采工作面", "采煤", None, None))
            for j in range(n_heading):
                no = f"{seam}{panels[1 + j % 2]}{numbers[n_mining + j]:02d}"
                road = N.ROADWAYS[(j + k) % len(N.ROADWAYS)]
                copy.append(Face(f"{tag}-J{j + 1:02d}", mine, f"{no}{road}掘进工作面", "掘进", None, None))
        # completion slots: month 0 (before the year) then each month's newly built faces
        slots = [m for m in range(13) for _ in range(FACES_BUILT[m] - FACES_BUILT.get(m - 1, 0))]
        month_slots = [s for s in slots if s > 0]
        mining_slots = [0] * MINING_BUILT_BEFORE + sorted(rng.sample(month_slots, 5 - MINING_BUILT_BEFORE))
        heading_slots = list(slots)
        for s in mining_slots:
            heading_slots.remove(s)
        mining = [f for f in copy if f.kind == "采煤"]
        heading = [f for f in copy if f.kind == "掘进"]
        rng.shuffle(mining)
        rng.shuffle(heading)
        for f, b in zip(mining, mining_slots):
            f.built_month = b
        for f, b in zip(heading, heading_slots):
            f.built_month = b
        for i, f in enumerate(heading[len(heading_slots):]):
            f.start_month = rng.randint(5, 10) if i < FACES_UNDER_WAY else None
        for f in copy:
            b = f.built_month
            if b is not None:
                duration = rng.randint(5, 9) if f.kind == "采煤" else rng.randint(2, 6)
                f.start_month = max(0, b - duration) if b else 0
                f.completed_on = (date(year - 1, rng.randint(3, 12), rng.randint(1, 28)) if b == 0
                                  else date(year, b, rng.randint(3, 28)))
                f.fiveg_month = b
            elif f.start_month is not None and rng.random() < 0.5:
                f.fiveg_month = min(12, f.start_month + 2)
            # investment this year: while the face is being built
            base = rng.uniform(1_800, 4_200) if f.kind == "采煤" else rng.uniform(260, 880)
            if f.start_month is None or (b == 0):
                active: list[int] = []
            else:
                active = list(range(max(1, f.start_month), (b if b else 12) + 1))
            share = min(1.0, len(active) / (8 if f.kind == "采煤" else 4))
            amount = int(round(base * share / 10)) * 10 * C
            cum = _spread(amount, active, rng, SEASON)
            last = 0
            for m in MONTHS:
                last = cum.get(m, last)
                f.invest[m] = last
        # two of the faces built before the year have no 5G yet
        for f in [f for f in copy if f.built_month == 0][:2]:
            f.fiveg_month = None
        faces += copy
    return faces


# ------------------------------------------------------------------------------ parks
# Annual figures (万元) and enterprises; 平头融合发展区 2023: 75亿元 operating revenue, 20亿元 fixed
# asset investment, tax above 2亿元, 6 new "四上" enterprises (the bulletin's figures).
# zone: (fixed asset investment, tax, operating revenue, "四上" at the start, new "四上", employees)
ZONE_ANNUAL = {
    "PINGTOU": (200_000, 21_360, 750_000, 32, 6, 4_800),
    "CHAOYANG_COAL_MACHINERY": (65_300, 9_150, 283_400, 12, 2, 3_150),
    "JINGSHANG_AGRI": (31_200, 1_820, 62_400, 4, 1, 860),
}


@dataclass
class ZoneOps:
    zone: str                  # zone code
    months: list[int]          # the months it reports
    fai: dict[int, int] = field(default_factory=dict)       # cumulative cents
    tax: dict[int, int] = field(default_factory=dict)
    revenue: dict[int, int] = field(default_factory=dict)
    above: dict[int, int] = field(default_factory=dict)
    new: dict[int, int] = field(default_factory=dict)
    employees: dict[int, int] = field(default_factory=dict)


def build_zone_ops(rng: random.Random, factor: float) -> list[ZoneOps]:
    out = []
    for zone, months in N.ZONE_REPORTING.items():
        fai, tax, rev, above0, new_n, emp0 = ZONE_ANNUAL[zone]
        z = ZoneOps(zone, months)
        for attr, annual in (("fai", fai), ("tax", tax), ("revenue", rev)):
            setattr(z, attr, _spread(int(round(annual * factor)) * C, MONTHS, rng, SEASON))
        entries = sorted(rng.sample(range(2, 13), new_n))
        emp = emp0
        for m in MONTHS:
            z.new[m] = sum(1 for e in entries if e <= m)
            z.above[m] = above0 + z.new[m]
            emp += rng.randint(-15, 60)
            z.employees[m] = emp
        out.append(z)
    return out


# ------------------------------------------------------------------------------ talent
# December totals, scale 1: 领军人才 connected 86 (the 百名 target not yet met), 实用型人才
# recruited 1,046 (the 千名 target met).
TALENT_DEC = {"领军人才": (86, 21), "实用型人才": (1_380, 1_046)}  # (connected, recruited)
TALENT_WEIGHTS = {
    "领军人才": [1.4, 2.2, 1.2, 2.6, 0.8, 0.6, 0.5],
    "实用型人才": [1.5, 1.0, 1.3, 2.0, 2.4, 1.2, 0.8],
}


@dataclass
class TalentRow:
    field: str
    kind: str
    connected: dict[int, int] = field(default_factory=dict)  # cumulative by quarter-end month
    recruited: dict[int, int] = field(default_factory=dict)


def build_talent(rng: random.Random, factor: float) -> list[TalentRow]:
    rows: list[TalentRow] = []
    n = len(N.TALENT_FIELDS)
    for kind in N.TALENT_KINDS:
        conn_total, rec_total = (int(round(v * factor)) for v in TALENT_DEC[kind])
        conn = allocate(conn_total, [1] * n, [conn_total] * n, rng, 1, TALENT_WEIGHTS[kind])
        rec = allocate(rec_total, [0] * n, conn, rng, 1, TALENT_WEIGHTS[kind])
        for f, c, r in zip(N.TALENT_FIELDS, conn, rec):
            t = TalentRow(f, kind)
            shares = {3: rng.uniform(0.16, 0.28), 6: rng.uniform(0.42, 0.55), 9: rng.uniform(0.66, 0.8), 12: 1.0}
            for q in QUARTERS:
                t.connected[q] = int(c * shares[q])
                t.recruited[q] = int(r * shares[q])
            rows.append(t)
    return rows
