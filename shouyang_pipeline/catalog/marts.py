"""Mart declarations: every analyst-facing table with its columns, SQL types and Chinese COMMENTs.

These are the single source for the marts' DDL comments (`marts.build.build_mart`), the Dagster
column schemas, the Excel headers (`exports.workbook`) and the data dictionary. The column
names are the contract of WAREHOUSE.md; a comment reads "名称（单位）：含义".

Types: money in 亿元/万元 is DECIMAL(38,2), percentages and percentage points DECIMAL(38,1)
(already rounded half away from zero, 四舍五入), counts BIGINT, flags BOOLEAN. They are wide
enough for any content staging accepts (money |x| ≤ 1e10 万元 down to 0.0001, percent
|x| ≤ 10000) in any number of rows a table can hold (< 2^63): a sum is at most 9.2e28 万元, a
ratio of sums at most 9.2e34 %, both far inside 38 digits. Staging columns copied into a mart
(project_progress) keep their staging types. A count is a number of rows (< 2^63), or a staging
INTEGER (< 2^31) of one row (the parks' enterprises and employees: one row per park and period),
or a sum of those of one key per period (talent: the key is (field, talent_kind), so a 合计 adds
at most one row per field of the list, < 2^34): BIGINT holds them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from .datasets.talent import FIELDS, KINDS
from .tables import PROVENANCE, STAGING, Column, Table

YI = "DECIMAL(38,2)"
WAN = "DECIMAL(38,2)"
PCT = "DECIMAL(38,1)"
INT = "BIGINT"

PERIOD = Column("period", "VARCHAR", "报告期（YYYY-MM）", "数据为本年1月至该月累计")


PROJECT_SUMMARY = Table(
    "marts",
    "project_summary",
    "重点项目汇总",
    "每个报告期按范围（全部、市级及以上、省级）汇总重点项目个数、投资与开复工情况",
    (
        PERIOD,
        Column("scope", "VARCHAR", "范围", "全部（全部县重点项目）、市级及以上（省级或市级项目）、省级"),
        Column("projects", INT, "项目个数", "该范围内的项目数", unit="个"),
        Column("total_investment_yi", YI, "总投资", "项目计划总投资之和", unit="亿元"),
        Column("annual_plan_yi", YI, "年度计划投资", "本年计划投资之和", unit="亿元"),
        Column("ytd_investment_yi", YI, "本年累计完成投资", "本年1月至报告月累计完成投资之和", unit="亿元"),
        Column("plan_completion_pct", PCT, "年度计划完成率", "累计完成投资 ÷ 年度计划投资 × 100；年度计划为0时为空", unit="%"),
        Column("started_projects", INT, "开复工项目数", "建设状态为新开工、复工、续建或竣工的项目数", unit="个"),
        Column("start_rate_pct", PCT, "开复工率", "开复工项目数 ÷ 项目个数 × 100；无项目时为空", unit="%"),
        Column("projects_over_100m", INT, "亿元以上项目数", "总投资不低于10000万元的项目数", unit="个"),
        Column("productive_projects", INT, "生产性项目数", "标为生产性项目的项目数", unit="个"),
    ),
)

ZONE_PROJECT_SUMMARY = Table(
    "marts",
    "zone_project_summary",
    "园区重点项目汇总",
    "每个报告期、参考名录中每个园区的重点项目情况（无项目的园区为0，未填园区的项目不计）",
    (
        PERIOD,
        Column("zone_name", "VARCHAR", "园区名称", "参考表 reference.zones 的园区名称"),
        Column("projects", INT, "项目个数", "该园区的重点项目数", unit="个"),
        Column("total_investment_yi", YI, "总投资", "该园区项目计划总投资之和", unit="亿元"),
        Column("projects_over_100m", INT, "亿元以上项目数", "总投资不低于10000万元的项目数", unit="个"),
        Column("productive_projects", INT, "生产性项目数", "标为生产性项目的项目数", unit="个"),
        Column("ytd_investment_yi", YI, "本年累计完成投资", "该园区项目本年累计完成投资之和", unit="亿元"),
        Column("annual_plan_yi", YI, "年度计划投资", "该园区项目本年计划投资之和", unit="亿元"),
    ),
)

_KP = STAGING["key_projects"]
_KP_COLUMNS = tuple(c for c in _KP.columns if c.name not in {p.name for p in PROVENANCE})

PROJECT_PROGRESS = Table(
    "marts",
    "project_progress",
    "重点项目进度",
    "每个报告期每个项目一行，含年度计划完成率、较上月新增投资和是否滞后",
    (
        PERIOD,
        *_KP_COLUMNS,
        Column("plan_completion_pct", PCT, "年度计划完成率", "本年累计完成投资 ÷ 年度计划投资 × 100；年度计划为0时为空", unit="%"),
        Column("ytd_investment_change_wan", WAN, "较上月新增投资", "本年累计完成投资减去同年上一个月的累计数；1月或上月无该项目时为空", unit="万元"),
        Column("behind_schedule", "BOOLEAN", "是否滞后", "竣工项目从不滞后；否则6月起仍未开工，或年度计划完成率比时间进度（月份 ÷ 12 × 100）低15个百分点以上，即为滞后"),
        Column("source_file", "VARCHAR", "来源文件", "相对于原始数据目录的路径"),
        Column("source_row", "INTEGER", "来源行号", "Excel显示的行号，或CSV的记录号（表头为第1行）"),
    ),
)

INDUSTRIAL_OUTPUT_SUMMARY = Table(
    "marts",
    "industrial_output_summary",
    "规上工业汇总",
    "每个报告期全县规模以上工业增加值、增速及与全市对比",
    (
        PERIOD,
        Column("enterprises", INT, "企业数", "报送的规上工业企业数", unit="家"),
        Column("value_added_ytd_yi", YI, "本年累计工业增加值", "本年1月至报告月累计；该期无企业数据时为空", unit="亿元"),
        Column("value_added_prev_ytd_yi", YI, "上年同期累计工业增加值", "上年同期同月份累计", unit="亿元"),
        Column("yoy_growth_pct", PCT, "同比增速", "(本年累计 ÷ 上年同期 − 1) × 100，为名义增速（统计局公布的增速按可比价计算）；上年同期为0时为空", unit="%"),
        Column("city_yoy_growth_pct", PCT, "全市规上工业增加值增速", "全市对标指标中该期的数值；未报送时为空", unit="%"),
        Column("gap_pp", PCT, "高于全市", "同比增速 − 全市增速（均用未四舍五入的数计算）；负数为低于全市", unit="个百分点"),
        Column("digital_core_output_yi", YI, "数字经济核心产业产值", "标为数字经济核心产业的企业本年累计工业总产值之和", unit="亿元"),
    ),
)

INDUSTRY_CHAIN_SUMMARY = Table(
    "marts",
    "industry_chain_summary",
    "产业链汇总",
    "每个报告期八大产业链各一行（有规上工业或重点项目数据的报告期），含规上工业与重点项目情况，无数据为0",
    (
        PERIOD,
        Column("chain_name", "VARCHAR", "产业链名称", "参考表 reference.industry_chains 的产业链名称"),
        Column("chain_code", "VARCHAR", "产业链代码", "参考表 reference.industry_chains 的产业链代码"),
        Column("enterprises", INT, "规上工业企业数", "该产业链报送的规上工业企业数", unit="家"),
        Column("value_added_ytd_yi", YI, "本年累计工业增加值", "该产业链企业本年累计工业增加值之和", unit="亿元"),
        Column("value_added_prev_ytd_yi", YI, "上年同期累计工业增加值", "该产业链企业上年同期累计之和", unit="亿元"),
        Column("yoy_growth_pct", PCT, "同比增速", "(本年累计 ÷ 上年同期 − 1) × 100，名义增速；上年同期为0时为空", unit="%"),
        Column("projects", INT, "重点项目数", "该产业链的重点项目数", unit="个"),
        Column("project_total_investment_yi", YI, "重点项目总投资", "该产业链重点项目计划总投资之和", unit="亿元"),
        Column("project_ytd_investment_yi", YI, "重点项目本年累计完成投资", "该产业链重点项目本年累计完成投资之和", unit="亿元"),
    ),
)

VILLAGE_INCOME = Table(
    "marts",
    "village_income",
    "村集体经济收入",
    "每个报告期每个报送的行政村一行，对照经营性收入40万元目标",
    (
        PERIOD,
        Column("village_code", "VARCHAR", "村代码", "12位统计用区划代码（以参考名录为准）"),
        Column("village_name", "VARCHAR", "村名称", "行政村名称"),
        Column("township", "VARCHAR", "所属乡镇", "乡镇名称"),
        Column("operating_income_wan", WAN, "经营性收入", "村集体经营性收入，本年累计", unit="万元"),
        Column("total_income_wan", WAN, "集体经济总收入", "本年累计", unit="万元"),
        Column("meets_target", "BOOLEAN", "是否达标", "经营性收入不低于目标 village_operating_income_min（40万元，“均超40万元”按40万元以上含40计）"),
        Column("shortfall_wan", WAN, "距目标差额", "目标减经营性收入，达标为0", unit="万元"),
        Column("income_band", "VARCHAR", "经营性收入分档", "<5万（低于5万元）、5-10万（5万元至不足10万元）、10-40万（10万元至不足40万元）、≥40万"),
        Column("main_source", "VARCHAR", "主要收入来源", "如光伏、土地流转、物业出租、乡村旅游"),
    ),
)

TOWNSHIP_INCOME_SUMMARY = Table(
    "marts",
    "township_income_summary",
    "乡镇村集体经济收入汇总",
    "有村级数据的每个报告期，参考名录中每个乡镇一行，另加“全县”一行",
    (
        PERIOD,
        Column("township", "VARCHAR", "乡镇", "乡镇名称，或“全县”（全县合计）"),
        Column("township_code", "VARCHAR", "乡镇代码", "9位统计用区划代码；全县为空"),
        Column("villages_expected", INT, "应报村数", "参考名录中该乡镇的行政村数", unit="个"),
        Column("villages_reported", INT, "已报村数", "该期报送且通过校验的行政村数", unit="个"),
        Column("villages_meeting_target", INT, "达标村数", "经营性收入不低于40万元的行政村数", unit="个"),
        Column("share_meeting_target_pct", PCT, "达标率", "达标村数 ÷ 应报村数 × 100；无应报村时为空", unit="%"),
        Column("operating_income_wan", WAN, "经营性收入合计", "已报村经营性收入之和", unit="万元"),
        Column("shortfall_wan", WAN, "距目标差额合计", "已报未达标村距40万元的差额之和", unit="万元"),
    ),
)

SMART_MINE_SUMMARY = Table(
    "marts",
    "smart_mine_summary",
    "智能化工作面建设汇总",
    "有煤矿智能化数据的每个报告期，参考名录中每个煤矿一行，另加“全县”一行：清单上的工作面及其建设进度（5采21掘）",
    (
        PERIOD,
        Column("mine_name", "VARCHAR", "煤矿名称", "参考表 reference.mines 的煤矿名称，或“全县”（全县合计）"),
        Column("mine_code", "VARCHAR", "煤矿代码", "参考表 reference.mines 的煤矿代码；全县为空"),
        Column("faces", INT, "工作面个数", "该期建设清单上的智能化工作面数（采煤和掘进）", unit="个"),
        Column("faces_built", INT, "已建成工作面数", "建设状态为已建成的工作面数", unit="个"),
        Column("mining_faces_built", INT, "已建成采煤工作面数", "已建成的采煤工作面数", unit="个"),
        Column("heading_faces_built", INT, "已建成掘进工作面数", "已建成的掘进工作面数", unit="个"),
        Column("faces_under_construction", INT, "在建工作面数", "建设状态为在建的工作面数", unit="个"),
        Column("faces_not_started", INT, "未开工工作面数", "建设状态为未开工的工作面数", unit="个"),
        Column("faces_with_5g", INT, "5G覆盖工作面数", "标为5G覆盖的工作面数（空白视为否）", unit="个"),
        Column("investment_ytd_wan", WAN, "本年累计完成投资", "工作面本年1月至报告月累计完成的智能化建设投资之和（未填的不计）", unit="万元"),
        Column("mining_faces", INT, "采煤工作面个数", "该期建设清单上的采煤工作面数", unit="个"),
        Column("heading_faces", INT, "掘进工作面个数", "该期建设清单上的掘进工作面数", unit="个"),
    ),
)

ZONE_OPERATIONS_SUMMARY = Table(
    "marts",
    "zone_operations_summary",
    "园区运行情况汇总",
    "每个报告期每个报送的园区一行：固定资产投资、税收、营业性收入（本年累计）和企业情况，营业性收入与上年同期对比",
    (
        PERIOD,
        Column("zone_name", "VARCHAR", "园区名称", "参考表 reference.zones 的园区名称"),
        Column("fixed_asset_investment_yi", YI, "固定资产投资本年累计", "园区本年1月至报告月累计完成固定资产投资", unit="亿元"),
        Column("tax_revenue_yi", YI, "税收收入本年累计", "园区本年1月至报告月累计税收收入", unit="亿元"),
        Column("operating_revenue_yi", YI, "营业性收入本年累计", "园区本年1月至报告月累计营业性收入", unit="亿元"),
        Column("above_scale_enterprises", INT, "“四上”企业数", "园区内“四上”企业家数；未填为空", unit="家"),
        Column("new_above_scale_enterprises", INT, "本年新增“四上”企业", "本年新增的“四上”企业家数；未填为空", unit="家"),
        Column("employees", INT, "从业人员", "园区企业从业人员数；未填为空", unit="人"),
        Column("operating_revenue_yoy_pct", PCT, "营业性收入同比增速",
               "(本年累计 ÷ 上年同期累计 − 1) × 100，上年同期为该园区上年同一报告月的营业性收入；上年同期无数据或为0时为空",
               unit="%"),
    ),
)

TALENT_SUMMARY = Table(
    "marts",
    "talent_summary",
    "人才引育汇总",
    "有人才数据的每个报告期，每个人才类别、每个产业领域一行（未报送的为0），另加每个类别的“合计”一行（“十百千”行动）",
    (
        PERIOD,
        Column("talent_kind", "VARCHAR", "人才类别", "、".join(KINDS.choices)),
        Column("field", "VARCHAR", "产业领域", "、".join(FIELDS.choices) + "，或“合计”（该类别各领域之和）"),
        Column("connected_ytd", INT, "本年累计对接人数", "本年1月至报告月累计对接的人数", unit="人"),
        Column("recruited_ytd", INT, "本年累计引进培育人数", "本年1月至报告月累计引进和培育的人数", unit="人"),
    ),
)

TARGET_SCORECARD = Table(
    "marts",
    "target_scorecard",
    "目标对照",
    "每个报告期、每个目标（reference.targets）一行，对照实际完成情况判断是否达标",
    (
        PERIOD,
        Column("target_key", "VARCHAR", "目标代码", "参考表 reference.targets 的目标代码"),
        Column("target_name", "VARCHAR", "目标名称", "目标的中文表述"),
        Column("comparator", "VARCHAR", "比较方式", ">= 或 >（实际值与目标值比较）"),
        Column("target_value", "DOUBLE", "目标值", "单位见 unit"),
        Column("unit", "VARCHAR", "目标单位", "目标值的单位"),
        Column("actual_value", "DOUBLE", "实际值", "单位见 actual_unit（累计数按年度目标对照；已四舍五入）；无数据时为空"),
        Column("actual_unit", "VARCHAR", "实际值单位", "实际值的单位（如个百分点、亿元、个村、个、人）"),
        Column("status", "VARCHAR", "状态", "达标、未达标，或无数据（缺数据或该数据集尚未纳入报送）；按未四舍五入的数判断"),
        Column("detail", "VARCHAR", "说明", "一句中文说明，年内累计数注明“累计”；无数据时说明哪个部门哪一期的报表未报送或被退回"),
        Column("dataset", "VARCHAR", "数据集", "判断该目标所用的数据集"),
        Column("data_period", "VARCHAR", "所用数据报告期（YYYY-MM）", "村级收入、人才取本年内不晚于该期的最近一期，其余为该期；无数据时为空"),
    ),
)


# The statuses of marts.submission_status, in the order a clerk reads them (SUBMISSIONS.md 7).
SUBMISSION_STATUSES = ("已报送", "部分入库", "被退回", "逾期未报", "未到期", "名单外")
# The same, by name, for the code that reads the mart (its SQL spells them out).
SUBMITTED, PARTLY_LOADED, SENT_BACK, OVERDUE, NOT_YET_DUE, UNLISTED = SUBMISSION_STATUSES

SUBMISSION_STATUS = Table(
    "marts",
    "submission_status",
    "报送情况",
    "报送日历（reference.submitters）中每一项应报送的报表在每个报告期一行（数据仓库中有现行文件的每个报告期，"
    "以及当前应报的报告期，即当前时间所在月份的上一个月；该项的需要报送月份不含该月的不列），"
    "另加不属于任何应报项的每个现行文件一行（名单外）；按报送日历的顺序",
    (
        Column("period", "VARCHAR", "报告期（YYYY-MM）", "报表所属的月份"),
        Column("dataset", "VARCHAR", "数据集", "报表的数据集代码"),
        Column("dataset_title", "VARCHAR", "报表名称", "数据集声明中的中文名称"),
        Column("submitter", "VARCHAR", "报送单位",
               "报送日历的 submitter（文件名中 __ 之后应写的名称）；名单外为文件名中写的报送单位，没写时为空"),
        Column("department", "VARCHAR", "报送单位全称",
               "报送日历的 department；名单外的文件来自日历上的单位但该月不需报送时为该单位全称，否则为空"),
        Column("due_date", "DATE", "截止日期",
               "报告期次月的第 due_day 日，北京时间当日24时前报送均不算逾期；名单外为空"),
        Column("status", "VARCHAR", "报送状态",
               "已报送（现行文件全部入库；同一内容重复提交的副本不计）、部分入库（有行被拒；或有多个现行文件，其中有的被退回、有的入库）、"
               "被退回（现行文件全部整个被拒）、未到期（尚未收到文件，截止日期未过）、逾期未报（尚未收到文件，"
               "截止日期已过；按构建时的时间判断，即上次运行的时间或 SHOUYANG_NOW）、名单外（不属于任何应报项的文件）"),
        Column("file_path", "VARCHAR", "现行文件",
               "相对于原始数据目录的路径；有多个时按路径顺序以“、”连接；尚未收到文件时为空"),
        Column("first_received_at", "TIMESTAMP", "首次收到时间（北京时间）",
               "这些文件路径的各个版本（含已被更正版本替换的）中最早的收到时间（audit.ingest_log.received_at：收文登记，"
               "否则为文件修改时间）；尚未收到文件时为空"),
        Column("is_late", "BOOLEAN", "是否逾期报送",
               "首次收到时间晚于截止日期当日24时（截止日23:59收到的不算逾期）；尚未收到文件或名单外时为空"),
        Column("rows_loaded", INT, "入库行数", "现行文件入库的数据行之和；尚未收到文件时为0", unit="行"),
        Column("rows_rejected", INT, "被拒行数", "现行文件被拒的数据行之和（整个文件被退回时为读到的全部数据行，表头就不对、未读到数据行时为0）；尚未收到文件时为0", unit="行"),
        Column("open_flags", INT, "待说明的跨期提示",
               "audit.cross_period_flags 中该报告期、该数据集、来自这些现行文件且备注未说明的提示条数；"
               "上期在报本期未报（missing_key）的提示计入上期文件所属的应报项（名单外的只计其文件本身的提示）",
               unit="条"),
    ),
)


# The marts in the order people meet them (the workbook's sheets, the data dictionary). The build
# order comes from the SQL: `marts.lineage.build_order` puts a mart after the marts it reads.
MARTS: dict[str, Table] = {
    t.name: t
    for t in (
        PROJECT_SUMMARY,
        ZONE_PROJECT_SUMMARY,
        PROJECT_PROGRESS,
        INDUSTRIAL_OUTPUT_SUMMARY,
        INDUSTRY_CHAIN_SUMMARY,
        VILLAGE_INCOME,
        TOWNSHIP_INCOME_SUMMARY,
        SMART_MINE_SUMMARY,
        ZONE_OPERATIONS_SUMMARY,
        TALENT_SUMMARY,
        SUBMISSION_STATUS,
        TARGET_SCORECARD,
    )
}


@dataclass(frozen=True)
class StatusCheck:
    """An asset check of a mart, run after each build on the rows of the run's latest period.

    It counts those rows by `column` (one figure per value of `values`, in that order), warns
    when any row has a value of `warn_on`, and shows the rows (columns `shown`, ordered by
    `order_by`) under `label`."""

    name: str
    description: str
    column: str
    values: tuple[str, ...]
    warn_on: tuple[str, ...]
    shown: tuple[str, ...]
    order_by: str
    label: str
    # False: the rows of the run's latest period; True: every period the mart holds (what is
    # still overdue or sent back in any month, not only in the latest one)
    every_period: bool = False


# mart -> the asset checks built for it (defs.assets builds them from this, for any mart)
MART_CHECKS: dict[str, tuple[StatusCheck, ...]] = {
    TARGET_SCORECARD.name: (
        StatusCheck(
            "targets_met",
            "数据检查（警告级：数据问题，不是运行故障）：本期所有有数据的目标均达标（有未达标则警告）",
            column="status",
            values=("达标", "未达标", "无数据"),
            warn_on=("未达标",),
            shown=("target_name", "status", "detail"),
            order_by="target_key",
            label="scorecard",
        ),
    ),
    SUBMISSION_STATUS.name: (
        StatusCheck(
            "submissions_in",
            "数据检查（警告级：数据问题，不是运行故障）：各报告期每一项应报送的报表都已报送且未被退回"
            "（含当前应报的报告期）；有逾期未报或被退回的则警告，并列出报送单位",
            column="status",
            values=SUBMISSION_STATUSES,
            warn_on=(OVERDUE, SENT_BACK),
            shown=("department", "dataset_title", "status", "due_date", "file_path", "is_late", "rows_rejected"),
            order_by="due_date",
            label="submissions",
            every_period=True,
        ),
    ),
}
