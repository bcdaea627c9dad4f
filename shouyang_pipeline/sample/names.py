"""Fixed lists the sample is built from: townships, chains, zones, village names, project names.

Townships, chains and zones mirror ``data/reference/*.csv`` (the tests check they agree). Village
names other than the four 平头镇 villages the bulletins name are made-up placeholders.
"""

from __future__ import annotations

import random

TOWNSHIPS: list[tuple[str, str]] = [
    ("140725100", "朝阳镇"), ("140725101", "南燕竹镇"), ("140725102", "宗艾镇"), ("140725103", "平头镇"),
    ("140725104", "松塔镇"), ("140725105", "西洛镇"), ("140725106", "尹灵芝镇"), ("140725200", "平舒乡"),
    ("140725201", "解愁乡"), ("140725202", "温家庄乡"), ("140725203", "景尚乡"), ("140725204", "上湖乡"),
    ("140725205", "羊头崖乡"), ("140725206", "马首乡"),
]
TOWNSHIP_NAMES = [t[1] for t in TOWNSHIPS]

# villages per township at scale 1 (203 in all)
VILLAGE_COUNTS = {
    "朝阳镇": 20, "南燕竹镇": 13, "宗艾镇": 22, "平头镇": 17, "松塔镇": 14, "西洛镇": 18, "尹灵芝镇": 12,
    "平舒乡": 16, "解愁乡": 11, "温家庄乡": 12, "景尚乡": 15, "上湖乡": 10, "羊头崖乡": 12, "马首乡": 11,
}
REAL_VILLAGES = {"平头镇": ["黑水村", "山底村", "龙栖村", "胡家堙村"]}

CHAINS: list[tuple[str, str]] = [
    ("CORN", "玉米全产业链"), ("SPECIALTY_AGRI", "特优农产产业链"), ("PAPER", "造纸产业链"),
    ("CHEMICAL", "化工产业链"), ("COAL_MACHINERY", "煤机制造产业链"), ("BUILDING_MATERIALS", "建筑材料产业链"),
    ("COAL", "煤炭全产业链"), ("LOGISTICS", "现代物流产业链"),
]
CHAIN_NAME = dict(CHAINS)

ZONES = {
    "PINGTOU": ("平头融合发展区", ["太晋一体化平头融合发展区", "平头融合区"]),
    "CHAOYANG_COAL_MACHINERY": ("朝阳煤机制造专业镇", ["朝阳煤机专业镇"]),
    "JINGSHANG_AGRI": ("景尚农业现代化产业园", ["景尚农业园"]),
}

# Names the planted errors use; never generated as reference villages.
UNKNOWN_VILLAGE = "幸福村"
NEW_VILLAGE_MISSPELT = "新建村"

_SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
             "阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟万段雷钱汤黎易常武乔贺赖龚文")
_PLACES = "庄沟坪峪岭湾堡窑垴河寨洼"
_PREFIXES = ["东", "西", "南", "北", "前", "后", "上", "下", "大", "小", "中", "新", "古", "石", "柏", "杏",
             "枣", "槐", "桃", "梨", "羊", "牛", "马", "泉", "河", "韩", "白", "红", "青", "黄", "龙", "凤"]
_ENDS = ["庄", "沟", "坪", "峪", "岭", "湾", "堡", "窑", "寨", "洼", "坡", "头", "口", "掌", "川", "滩"]

_CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1..9999 in Chinese numerals (二十一, 一百零五)."""
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    out = ""
    units = [(1000, "千"), (100, "百"), (10, "十")]
    zero = False
    for value, name in units:
        d = (n // value) % 10
        if d:
            if zero and out:
                out += "零"
            out += _CN_DIGITS[d] + name
            zero = False
        elif out:
            zero = True
    if n % 10:
        if zero:
            out += "零"
        out += _CN_DIGITS[n % 10]
    return out


def village_name_pool() -> list[str]:
    """A fixed, shuffled pool of plausible (made-up) village names, independent of the seed."""
    rng = random.Random("shouyang-villages")
    names = {s + "家" + p + "村" for s in _SURNAMES for p in _PLACES}
    names |= {a + b + "村" for a in _PREFIXES for b in _ENDS}
    reserved = set(REAL_VILLAGES["平头镇"]) | {UNKNOWN_VILLAGE, NEW_VILLAGE_MISSPELT}
    pool = sorted(n for n in names if n not in reserved)
    rng.shuffle(pool)
    return pool


# ---------------------------------------------------------------- key projects ---------------
# (name, sector, chain code or None, productive)
ZONE_CITY_PROJECTS = [
    ("数字化交通产业园项目", "产业转型", "LOGISTICS", False, "省级"),
    ("路桥云洲数字化平台项目", "产业转型", None, False, "市级"),
]
ZONE_BIG_PROJECTS = [
    ("路桥集团模板科技项目", "产业转型", "BUILDING_MATERIALS", True),
    ("智慧建材产业园项目", "产业转型", "BUILDING_MATERIALS", True),
    ("平头融合区标准化厂房项目", "产业转型", "COAL_MACHINERY", True),
    ("交通物流园（南区）项目", "产业转型", "LOGISTICS", False),
    ("浪潮信息技术平台项目", "产业转型", None, False),
    ("智算中心项目", "产业转型", None, False),
    ("通航园项目", "基础设施", None, False),
    ("数谷小镇项目", "城市建设", None, False),
    ("美宜佳智慧物流配送中心项目", "产业转型", "LOGISTICS", False),
]
ZONE_SMALL_PROJECTS = [
    ("鹿泉驿站项目", "社会民生", None, False),
    ("平头煤气储气站项目", "基础设施", None, False),
    ("南庄变电站项目", "基础设施", None, False),
    ("平头融合区集中供热管网项目", "城市建设", None, False),
    ("平头融合区5G通信基站项目", "基础设施", None, False),
    ("平头污水处理厂提标改造项目", "基础设施", None, False),
    ("智创大道配套绿化工程", "城市建设", None, False),
    ("平头融合区人才公寓项目", "社会民生", None, False),
    ("平头传统村落保护提升工程", "社会民生", None, False),
]
# (name, sector, chain, productive, level, township, zone code or None)
CITY_PROJECTS = [
    ("段王煤矿智能化矿井建设项目", "产业转型", "COAL", True, "省级", "平舒乡", None),
    ("开元煤矿5G智能化改造项目", "产业转型", "COAL", True, "省级", "宗艾镇", None),
    ("平舒煤矿智能化综采工作面项目", "产业转型", "COAL", True, "市级", "平舒乡", None),
    ("朝阳煤机制造专业镇液压件产业园项目", "产业转型", "COAL_MACHINERY", True, "省级", "朝阳镇",
     "CHAOYANG_COAL_MACHINERY"),
    ("煤机装备智能制造基地项目", "产业转型", "COAL_MACHINERY", True, "市级", "朝阳镇", "CHAOYANG_COAL_MACHINERY"),
    ("新型包装纸生产线项目", "产业转型", "PAPER", True, "省级", "南燕竹镇", None),
    ("化工新材料产业园项目", "产业转型", "CHEMICAL", True, "市级", "松塔镇", None),
    ("景尚农业现代化产业园核心区项目", "产业转型", "SPECIALTY_AGRI", True, "市级", "景尚乡", "JINGSHANG_AGRI"),
    ("玉米杂交育种基地项目", "产业转型", "CORN", True, "市级", "景尚乡", "JINGSHANG_AGRI"),
    ("青银二广高速太原联络线寿阳段", "基础设施", None, False, "省级", "平头镇", None),
    ("县人民医院新院区建设项目", "社会民生", None, False, "市级", "朝阳镇", None),
    ("县城老旧小区改造及集中供热项目", "城市建设", None, False, "市级", "朝阳镇", None),
]
# chain code -> products for generated 产业转型 projects
CHAIN_PRODUCTS = {
    "CORN": ["玉米深加工", "玉米淀粉", "饲料加工", "玉米秸秆综合利用"],
    "SPECIALTY_AGRI": ["小杂粮精深加工", "中药材种植加工", "食用菌种植", "肉牛养殖", "有机旱作示范基地"],
    "PAPER": ["新型包装纸", "生活用纸", "纸制品加工"],
    "CHEMICAL": ["精细化工", "化工新材料", "煤焦油深加工"],
    "COAL_MACHINERY": ["液压支架再制造", "煤机配件", "矿用智能装备"],
    "BUILDING_MATERIALS": ["装配式建筑构件", "商品混凝土", "新型墙体材料", "固废综合利用建材"],
    "COAL": ["洗煤厂改扩建", "煤层气开发利用", "煤矿安全改造", "智能化工作面"],
    "LOGISTICS": ["冷链仓储物流", "物流园", "煤炭铁路专用线"],
}
OTHER_PROJECTS = {
    "城市建设": ["城区道路提质改造工程", "老旧小区改造工程", "城市供水管网改造工程", "口袋公园建设工程",
             "城区雨污分流工程", "农贸市场改造工程", "停车场建设项目"],
    "社会民生": ["中学教学楼建设项目", "卫生院改扩建项目", "养老服务中心项目", "幼儿园建设项目",
             "文化活动中心项目", "农村饮水安全巩固提升工程"],
    "基础设施": ["县乡公路改造工程", "农村电网改造工程", "水库除险加固工程", "河道综合治理工程",
             "高标准农田建设项目", "光伏发电项目", "5G基站建设项目"],
}
RESPONSIBLE = {
    "产业转型": ["县工信局", "县发改局", "县能源局", "县农业农村局", "县商务局"],
    "城市建设": ["县住建局", "县城管局", "县自然资源局"],
    "社会民生": ["县教育局", "县卫健局", "县民政局", "县文旅局"],
    "基础设施": ["县交通局", "县水利局", "国网寿阳供电公司", "县能源局"],
}

# ---------------------------------------------------------------- enterprises ----------------
ENTERPRISE_WORDS = ("鑫源 晋丰 瑞达 恒通 宏达 兴盛 华泰 正阳 润泽 金诚 盛世 永安 昌隆 汇通 天成 东方 中兴 祥和 "
                    "博瑞 凯达 鼎盛 富民 丰源 荣华 泰和 福瑞 益民 亨通 瑞丰 宏远 安泰 嘉禾 晋阳 寿星 凤翔 "
                    "龙腾 康源 民生 新世纪 众诚").split()
CHAIN_FIRM = {
    "COAL": "煤业", "COAL_MACHINERY": "煤机装备", "CHEMICAL": "化工", "PAPER": "纸业",
    "BUILDING_MATERIALS": "建材", "CORN": "玉米开发", "SPECIALTY_AGRI": "农产品", "LOGISTICS": "物流",
    None: "电力",
}
# enterprises per chain at scale 1 (40 in all; no 规上 logistics firm)
ENTERPRISE_MIX = [("COAL", 8), ("COAL_MACHINERY", 7), ("BUILDING_MATERIALS", 6), ("CHEMICAL", 4),
                  ("PAPER", 4), ("CORN", 3), ("SPECIALTY_AGRI", 3), (None, 5)]
# relative size of an enterprise's value added by chain
CHAIN_WEIGHT = {"COAL": 6.0, "COAL_MACHINERY": 1.2, "BUILDING_MATERIALS": 0.9, "CHEMICAL": 1.3, "PAPER": 1.0,
                "CORN": 0.6, "SPECIALTY_AGRI": 0.4, None: 2.0}

# ---------------------------------------------------------------- smart mines, parks, talent ---
# Mirror data/reference/mines.csv (the tests check they agree).
MINES = {
    "DUANWANG": ("段王煤矿", ["段王", "段王煤业", "段王矿"]),
    "KAIYUAN": ("开元煤矿", ["开元", "开元矿业", "开元矿"]),
    "PINGSHU": ("平舒煤矿", ["平舒", "平舒煤业", "平舒矿"]),
}
# The county's list of intelligent working faces: (mine, 采煤 faces, 掘进 faces, code prefix, seam).
# 5 采 + 21 掘 = 26, the bulletin's "5采21掘共26个智能化工作面".
FACE_LAYOUT = [("DUANWANG", 2, 8, "DW", 15), ("KAIYUAN", 2, 7, "KY", 9), ("PINGSHU", 1, 6, "PS", 3)]
ROADWAYS = ["运输顺槽", "回风顺槽", "切眼", "辅助运输巷", "胶带大巷", "回风大巷", "轨道巷", "瓦斯抽采巷"]

# Parks that send 园区运行情况表: 平头 every month, 朝阳 from April, 景尚 at the quarter ends.
ZONE_REPORTING = {"PINGTOU": list(range(1, 13)), "CHAOYANG_COAL_MACHINERY": list(range(4, 13)),
                  "JINGSHANG_AGRI": [3, 6, 9, 12]}

TALENT_FIELDS = ["交通物流", "数字经济", "医疗康养", "智能制造", "现代农业", "文化旅游", "其他"]
TALENT_KINDS = ["领军人才", "实用型人才"]
TALENT_KIND_ALT = {"领军人才": "领军型人才", "实用型人才": "实用人才"}

# Names the planted errors use; never on the reference lists.
UNKNOWN_MINE = "凤凰岭煤矿"
UNKNOWN_ZONE = "平头智能化园区"
UNKNOWN_TALENT_FIELD = "新能源"

# ---------------------------------------------------------------- the reporting calendar ---
# Mirror data/reference/submitters.csv (the tests check they agree): the day of the following
# month by which each dataset's file for a month is due (SUBMISSIONS.md 7).
DUE_DAY = {"key_projects": 5, "industrial_output": 8, "city_indicators": 10, "village_income": 10,
           "smart_mines": 5, "zone_operations": 5, "talent": 10}
# The office's register of received files, at the raw dir's root (never a submission).
REGISTER_NAME = "收文登记.csv"
# Days off and the weekend days worked instead (国务院办公厅 2023 and 2024 holiday notices), so
# that the register's times fall on working days where the days before a due date have one.
HOLIDAYS = {"2023-01-02", "2023-01-21", "2023-01-22", "2023-01-23", "2023-01-24", "2023-01-25", "2023-01-26",
            "2023-01-27", "2023-04-05", "2023-04-29", "2023-04-30", "2023-05-01", "2023-05-02", "2023-05-03",
            "2023-06-22", "2023-06-23", "2023-06-24", "2023-09-29", "2023-09-30", "2023-10-01", "2023-10-02",
            "2023-10-03", "2023-10-04", "2023-10-05", "2023-10-06", "2024-01-01"}
WORKED_WEEKENDS = {"2023-01-28", "2023-01-29", "2023-04-23", "2023-05-06", "2023-06-25", "2023-10-07",
                   "2023-10-08"}
