"""全市对标指标 (县统计局, from the city's release, monthly). SUBMISSIONS.md 4.3."""

from ..rules import one_of
from .base import Dataset, Field

INDICATORS = one_of("规上工业增加值增速", synonyms={"规模以上工业增加值增速": "规上工业增加值增速"})

DATASET = Dataset(
    name="city_indicators",
    title="全市对标指标",
    department="县统计局",
    cadence="monthly",
    description="市统计局发布的全市指标，供全县对标（如规上工业增加值增速）。",
    flags_missing_keys=False,
    key=("indicator",),
    fields=(
        Field("indicator", "指标名称", "text", "指标名称（规模以上工业增加值增速记为规上工业增加值增速）",
              required=True, aliases=("指标",), rules=(INDICATORS,)),
        Field("value", "全市数值", "percent", "全市该指标的数值，10.6表示10.6%",
              required=True, aliases=("数值", "全市")),
    ),
)
