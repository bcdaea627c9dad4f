"""园区运行情况表 (each park's management committee, monthly). SUBMISSIONS.md 4.6."""

from ..rules import ge0, le_col, lookup
from .base import Dataset, Field

DATASET = Dataset(
    name="zone_operations",
    title="园区运行情况表",
    department="各园区管委会",
    cadence="monthly",
    description="各园区的固定资产投资、税收、营业性收入和企业情况，各园区每月报送，金额为本年1月至报告月累计。",
    flags_missing_keys=False,
    key=("zone",),
    fields=(
        Field("zone", "园区名称", "text", "园区（参考表 reference.zones 的 zone_name）",
              required=True, aliases=("园区", "所在园区"), rules=(lookup("zones", "园区", listed=True),), from_submitter="zones"),
        Field("fixed_asset_investment_ytd", "固定资产投资本年累计", "money", "园区本年1月至报告月累计完成固定资产投资",
              required=True, aliases=("固定资产投资", "本年固定资产投资"), rules=(ge0(),), cumulative=True),
        Field("tax_revenue_ytd", "税收收入本年累计", "money", "园区本年1月至报告月累计税收收入",
              required=True, aliases=("税收收入", "税收"), rules=(ge0(),), cumulative=True),
        Field("operating_revenue_ytd", "营业性收入本年累计", "money", "园区本年1月至报告月累计营业性收入",
              required=True, aliases=("营业性收入", "营业收入"), rules=(ge0(),), cumulative=True),
        Field("above_scale_enterprises", "“四上”企业数", "integer", "园区内“四上”企业（规上工业、资质等级建筑业、限额以上批零住餐、规上服务业）家数",
              aliases=("四上企业数", "四上企业"), rules=(ge0(),)),
        Field("new_above_scale_enterprises", "本年新增“四上”企业", "integer", "本年新增的“四上”企业家数，不大于“四上”企业数",
              aliases=("新增四上企业", "新增“四上”企业数", "本年新增“四上”企业数"), rules=(ge0(), le_col("above_scale_enterprises"))),
        Field("employees", "从业人员", "integer", "园区企业从业人员数", aliases=("从业人数", "就业人数"), rules=(ge0(),)),
    ),
)
