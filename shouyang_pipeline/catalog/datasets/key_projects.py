"""重点项目进展情况表 (县发改局, monthly). SUBMISSIONS.md 4.1."""

from ..rules import ge0, gt0, le_col, lookup, max_len, one_of
from .base import Dataset, Field

LEVELS = one_of("省级", "市级", "县级", synonyms={"省重点": "省级", "市重点": "市级", "县重点": "县级"})
SECTORS = one_of(
    "产业转型", "城市建设", "社会民生", "基础设施",
    synonyms={"产业转型类": "产业转型", "城市建设类": "城市建设", "社会民生类": "社会民生", "基础设施类": "基础设施"},
)
STATUSES = one_of("未开工", "新开工", "复工", "续建", "竣工")

DATASET = Dataset(
    name="key_projects",
    title="重点项目进展情况表",
    department="县发改局",
    cadence="monthly",
    description="县重点项目清单上每个项目的投资与建设进度，每月一报，金额为本年1月至报告月累计。",
    name_field="project_name",
    item_word="项目",
    key=("project_code",),
    fields=(
        Field("project_code", "项目编号", "text", "项目在县重点项目清单中的编号，期内唯一",
              required=True, aliases=("项目代码", "编号"), rules=(max_len(32),)),
        Field("project_name", "项目名称", "text", "项目名称", required=True, aliases=("名称",)),
        Field("level", "项目级别", "text", "项目所在的最高一级重点项目清单：省级、市级或县级（省级项目同时在市级清单上）",
              required=True, aliases=("级别", "项目层级"), rules=(LEVELS,)),
        Field("sector", "项目类别", "text", "产业转型、城市建设、社会民生或基础设施",
              aliases=("类别", "所属领域"), rules=(SECTORS,)),
        Field("industry_chain", "所属产业链", "text", "八大产业链之一（参考表 reference.industry_chains 的 chain_name）",
              aliases=("产业链",), rules=(lookup("industry_chains", "产业链"),)),
        Field("zone", "所在园区", "text", "所在园区（参考表 reference.zones 的 zone_name）",
              aliases=("所属园区", "园区"), rules=(lookup("zones", "园区"),)),
        Field("township", "所在乡镇", "text", "所在乡镇（参考表 reference.townships 的 township_name）",
              aliases=("乡镇",), rules=(lookup("townships", "乡镇"),)),
        Field("total_investment", "总投资", "money", "项目计划总投资",
              required=True, aliases=("计划总投资", "总投资额"), rules=(gt0(),), plan_figure=True),
        Field("annual_plan_investment", "年度计划投资", "money", "本年度计划完成投资",
              required=True, aliases=("本年计划投资", "年度计划"), rules=(ge0(), le_col("total_investment")), plan_figure=True),
        Field("ytd_investment", "本年累计完成投资", "money", "本年1月至报告月累计完成投资",
              required=True, aliases=("累计完成投资", "本年完成投资"), rules=(ge0(),), cumulative=True),
        Field("status", "建设状态", "text", "未开工、新开工、复工、续建或竣工",
              required=True, aliases=("项目状态", "进展情况"), rules=(STATUSES,)),
        Field("is_productive", "是否生产性项目", "boolean", "是否为生产性项目（空白视为否）", aliases=("生产性项目",)),
        Field("responsible_unit", "责任单位", "text", "牵头负责的单位", aliases=("牵头单位",)),
        Field("start_date", "开工时间", "date", "项目开工日期（只填到月的视为当月1日）", aliases=("开工日期",)),
    ),
)
