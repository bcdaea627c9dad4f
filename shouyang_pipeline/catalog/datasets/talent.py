"""人才引育情况表 (县委组织部, quarterly). SUBMISSIONS.md 4.7. Counts only: no personal data."""

from ..rules import ge0, one_of
from .base import Dataset, Field

FIELDS = one_of("交通物流", "数字经济", "医疗康养", "智能制造", "现代农业", "文化旅游", "其他")
KINDS = one_of("领军人才", "实用型人才", synonyms={"领军型人才": "领军人才", "实用人才": "实用型人才"})

DATASET = Dataset(
    name="talent",
    title="人才引育情况表",
    department="县委组织部",
    cadence="quarterly",
    description="“十百千”行动按产业领域和人才类别统计的对接、引进培育人数，按季度报送，为本年1月至报告月累计；只有人数，不含个人信息。",
    key=("field", "talent_kind"),
    fields=(
        Field("field", "产业领域", "text", "交通物流、数字经济、医疗康养、智能制造、现代农业、文化旅游或其他",
              required=True, aliases=("领域", "行业"), rules=(FIELDS,)),
        Field("talent_kind", "人才类别", "text", "领军人才或实用型人才（领军型人才记为领军人才，实用人才记为实用型人才）",
              required=True, aliases=("类别", "人才类型"), rules=(KINDS,)),
        Field("connected_ytd", "本年累计对接人数", "integer", "本年1月至报告月累计对接的人数",
              required=True, aliases=("对接人数", "累计对接"), rules=(ge0(),), cumulative=True),
        Field("recruited_ytd", "本年累计引进培育人数", "integer", "本年1月至报告月累计引进和培育的人数",
              required=True, aliases=("引进培育人数", "引育人数", "累计引进"), rules=(ge0(),), cumulative=True),
    ),
)
