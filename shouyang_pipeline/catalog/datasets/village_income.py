"""村级集体经济收入情况表 (each township, quarterly). SUBMISSIONS.md 4.4.

The village columns are checked against data/reference/villages.csv by `ingest.villages`.
"""

from ..rules import digits, ge0, ge_col, lookup
from .base import Dataset, Field

DATASET = Dataset(
    name="village_income",
    title="村级集体经济收入情况表",
    department="各乡镇",
    cadence="quarterly",
    description="每个行政村的集体经济收入，各乡镇按季度报送，金额为本年1月至报告月累计。",
    name_field="village_name",
    key=("township", "village_name"),
    row_checks=("village",),
    fields=(
        Field("village_code", "村代码", "text", "12位统计用区划代码（以参考名录为准）",
              aliases=("统计用区划代码", "区划代码"), rules=(digits(12),)),
        Field("village_name", "村名称", "text", "行政村名称（以参考名录为准，含“村”字）",
              required=True, aliases=("村名", "行政村")),
        Field("township", "所属乡镇", "text", "行政村所属乡镇（参考表 reference.townships 的 township_name）",
              required=True, aliases=("乡镇",), rules=(lookup("townships", "乡镇"),), from_submitter="townships"),
        Field("operating_income", "经营性收入", "money", "村集体经营性收入，本年累计",
              required=True, aliases=("集体经营性收入",), rules=(ge0(),), cumulative=True),
        Field("total_income", "集体经济总收入", "money", "村集体经济总收入，本年累计",
              required=True, aliases=("总收入",), rules=(ge0(), ge_col("operating_income")), cumulative=True),
        Field("main_source", "主要收入来源", "text", "主要收入来源，如光伏、土地流转、物业出租、乡村旅游",
              aliases=("收入来源",)),
    ),
)
