"""煤矿智能化工作面建设进展表 (县能源局, monthly). SUBMISSIONS.md 4.5."""

from ..rules import filled_when, ge0, lookup, max_len, not_after_period, one_of
from .base import Dataset, Field

FACE_TYPES = one_of("采煤", "掘进", synonyms={
    "综采": "采煤", "采煤工作面": "采煤", "采": "采煤",
    "综掘": "掘进", "掘进工作面": "掘进", "掘": "掘进",
})
BUILT = "已建成"
STATUSES = one_of("未开工", "在建", BUILT, synonyms={
    "施工中": "在建", "建成": BUILT, "完工": BUILT, "已完成": BUILT,
})

DATASET = Dataset(
    name="smart_mines",
    title="煤矿智能化工作面建设进展表",
    department="县能源局",
    cadence="monthly",
    description="全县智能化建设清单上每个智能化工作面（采煤、掘进）的建设进度，每月一报，投资为本年1月至报告月累计。",
    name_field="face_name",
    item_word="工作面",
    key=("face_code",),
    fields=(
        Field("mine", "煤矿名称", "text", "工作面所在煤矿（参考表 reference.mines 的 mine_name）",
              required=True, aliases=("矿井名称", "矿井", "煤矿"), rules=(lookup("mines", "智能化建设煤矿", listed=True),)),
        Field("face_code", "工作面编号", "text", "工作面在建设清单中的编号，期内唯一",
              required=True, aliases=("工作面代码", "编号"), rules=(max_len(32),)),
        Field("face_name", "工作面名称", "text", "工作面名称", aliases=("工作面",)),
        Field("face_type", "工作面类型", "text", "采煤或掘进（综采记为采煤，综掘记为掘进）",
              required=True, aliases=("类型", "采掘类型"), rules=(FACE_TYPES,)),
        Field("status", "建设状态", "text", "未开工、在建或已建成（施工中记为在建；建成、完工、已完成记为已建成）",
              required=True, aliases=("进展情况", "状态"), rules=(STATUSES,)),
        Field("completed_on", "建成时间", "date", "工作面建成（验收）日期，不晚于报告月末；已建成的工作面应填写",
              aliases=("建成日期", "验收时间"), rules=(not_after_period(), filled_when("status", BUILT))),
        Field("has_5g", "是否5G覆盖", "boolean", "工作面是否有5G网络覆盖（空白视为否）", aliases=("5G覆盖",)),
        Field("investment_ytd", "本年累计完成投资", "money", "该工作面本年1月至报告月累计完成的智能化建设投资",
              aliases=("累计完成投资",), rules=(ge0(),), cumulative=True),
    ),
)
