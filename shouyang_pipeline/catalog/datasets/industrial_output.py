"""规上工业企业主要指标 (县统计局, monthly; January is published with February). SUBMISSIONS.md 4.2."""

from ..rules import credit_code, ge0, lookup
from .base import Dataset, Field

DATASET = Dataset(
    name="industrial_output",
    title="规上工业企业主要指标",
    department="县统计局",
    cadence="monthly",
    description="规模以上工业企业的工业增加值与总产值，本年1月至报告月累计，附上年同期数。",
    name_field="enterprise_name",
    item_word="企业",
    key=("credit_code",),
    fields=(
        Field("credit_code", "统一社会信用代码", "text", "企业的18位统一社会信用代码（GB 32100-2015）",
              required=True, aliases=("信用代码", "社会信用代码"), rules=(credit_code(),)),
        Field("enterprise_name", "企业名称", "text", "企业名称", required=True, aliases=("单位名称",)),
        Field("industry_chain", "所属产业链", "text", "八大产业链之一（参考表 reference.industry_chains 的 chain_name）",
              aliases=("产业链",), rules=(lookup("industry_chains", "产业链"),)),
        Field("township", "所在乡镇", "text", "所在乡镇（参考表 reference.townships 的 township_name）",
              aliases=("乡镇",), rules=(lookup("townships", "乡镇"),)),
        Field("value_added_ytd", "本年累计工业增加值", "money", "本年1月至报告月累计工业增加值（现价）",
              required=True, aliases=("工业增加值", "累计工业增加值"), rules=(ge0(),), cumulative=True),
        Field("value_added_prev_ytd", "上年同期累计工业增加值", "money", "上年同期累计工业增加值（现价）",
              required=True, aliases=("上年同期工业增加值", "上年同期"), rules=(ge0(),), cumulative=True),
        Field("output_value_ytd", "本年累计工业总产值", "money", "本年1月至报告月累计工业总产值",
              aliases=("工业总产值",), rules=(ge0(),), cumulative=True),
        Field("is_digital_core", "是否数字经济核心产业", "boolean", "是否属于数字经济核心产业（空白视为否）",
              aliases=("数字经济核心产业",)),
    ),
)
