"""The Chinese sentences of the marts, written in Python from the figures their SQL computes.

A mart's SQL computes figures; where a column is a sentence, the SQL leaves it NULL and adds the
figures the sentence needs as extra columns after the declared ones. `WRITERS` names, per mart,
the columns written here and the function that writes each from one row of that result (a dict
of every column). `marts.build.build_mart` fills them in after the SQL, in the same transaction,
and keeps only the declared columns.

Figures arrive as the SQL computed them: DECIMALs as `Decimal` (printed with `str`, which gives
the digits DuckDB prints, never an exponent), counts as `int`. Signs are taken from the
unrounded DOUBLE figures, never from the rounded ones shown. A sentence with a missing figure is
NULL, as SQL's `||` would make it. A target without its data that period says which department
has not reported (`not_reported`: `县能源局2023-05的报表未报送`), by the department's name, never a
dataset's code name.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..catalog.datasets import DATASETS


def month_range(period: str) -> str:
    """'1—M月' (em dash), or '1月' for January: the months a year-to-date figure covers."""
    m = int(period[5:7])
    return "1月" if m == 1 else f"1—{m}月"


def no_industry_data(period: str) -> str:
    """Why a period has no figure of industry above designated size: January is not published on
    its own (the statistics bureau publishes it with February, as 1—2月); any other month's
    report has not come in, or was sent back."""
    if int(period[5:7]) == 1:
        return "1月规上工业数据不单独发布，与2月合并为1—2月累计数"
    department = DATASETS["industrial_output"].department
    return f"{month_range(period)}无规上工业企业数据（{department}本期报表未报送或被退回）"


def due_period(dataset: str, period: str) -> str | None:
    """The latest period up to `period`, in its year, for which the dataset is due: the period
    itself for a monthly dataset, the last quarter's month (03, 06, 09, 12) for a quarterly one;
    None in January and February for a quarterly one (nothing is due yet that year)."""
    if DATASETS[dataset].cadence != "quarterly":
        return period
    quarter_month = int(period[5:7]) // 3 * 3
    return f"{period[:4]}-{quarter_month:02d}" if quarter_month else None


def not_reported(dataset: str, period: str, department: str | None = None, sent_back: tuple[str, ...] = ()) -> str:
    """`县能源局2023-05的报表未报送`: who has not reported the data a figure of `period` needs, by
    the department's name (the dataset's declared one unless given), never the dataset's code.
    For a quarterly dataset, the quarter due (`县委组织部2023-03的报表未报送`), or before the
    first quarter that nothing has been sent this year. When the file due is among `sent_back`
    (the periods whose file was sent back whole), it says so: `县能源局2023-05的报表被退回，尚未重新报送`."""
    declared = DATASETS[dataset]
    department = department or declared.department
    due = due_period(dataset, period)
    if due is None:
        return f"{department}本年尚未报送{declared.title}（按季度报送，首期为{period[:4]}-03）"
    if due in sent_back:
        return f"{department}{due}的报表被退回，尚未重新报送"
    return f"{department}{due}的报表未报送"


def _sent_back(row: dict) -> tuple[str, ...]:
    return tuple(row.get("sent_back_periods") or ())


def plain_number(value: Any) -> str:
    """A number as people write it: no exponent, no trailing zeros (26.0 → '26', 0.5 → '0.5',
    1e20 → '100000000000000000000')."""
    d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _money_shown(value: Decimal) -> Decimal:
    """Money as shown: 2 decimals, 四舍五入 (half away from zero), as macros.sql's round_money."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _text(*pieces: Any) -> str | None:
    """The pieces as one text; NULL (None) if any is."""
    if any(p is None for p in pieces):
        return None
    return "".join(str(p) for p in pieces)


def _industrial_growth(row: dict) -> str | None:
    mr = month_range(row["period"])
    if row["enterprises"] is None:
        return _text(no_industry_data(row["period"]), "，无法与全市比较")
    if row["yoy_exact"] is None:
        return _text(mr, "上年同期工业增加值为0，无法计算增速")
    growth = _text(mr, "全县规上工业增加值累计同比", "下降" if row["yoy_exact"] < 0 else "增长",
                   row["yoy_growth_shown"], "%")
    if row["city_growth_shown"] is None:
        return _text(growth, "，全市增速未报送，无法比较")
    gap = row["gap_exact"]
    if gap > 0:
        compared = _text("高于全市", row["gap_shown"], "个百分点")
    elif gap < 0:
        compared = _text("低于全市", row["gap_shown"], "个百分点")
    else:
        compared = "与全市持平"
    return _text(growth, "，全市", row["city_growth_shown"], "%，", compared)


def _digital_core(row: dict) -> str | None:
    mr = month_range(row["period"])
    if row["enterprises"] is None:
        return no_industry_data(row["period"])
    verdict = "已达到目标" if row["digital_met"] else _text("尚差", row["digital_shortfall_shown"], "亿元")
    return _text(mr, "数字经济核心产业产值累计", row["digital_shown"], "亿元，全年目标",
                 row["digital_target_shown"], "亿元，", verdict)


def _village_income(row: dict) -> str | None:
    """`2023-12：142/203个村达标，61个村未达标`; villages that did not report are counted apart
    (`2023-03：1/6个村达标，1个村未报送，4个村未达标`)."""
    if row["data_period"] is None:
        return "本年尚无村级集体经济收入数据"
    expected, reported, meeting = row["villages_expected"], row["villages_reported"], row["villages_meeting"]
    if any(v is None for v in (expected, reported, meeting)):
        return None
    missing, below = expected - reported, reported - meeting
    rest = "".join(
        f"，{n}个村{what}" for n, what in ((missing, "未报送"), (below, "未达标")) if n > 0)
    return _text(row["data_period"], "：", meeting, "/", expected, "个村达标", rest)


def _smart_faces(row: dict) -> str | None:
    """`2023-12：已建成智能化工作面23个（采煤5个、掘进18个），目标26个（5采21掘）`."""
    if row["data_period"] is None:
        return not_reported("smart_mines", row["period"], sent_back=_sent_back(row))
    return _text(row["period"], "：已建成智能化工作面", row["faces_built"], "个（采煤", row["mining_faces_built"],
                 "个、掘进", row["heading_faces_built"], "个），目标", plain_number(row["target_value"]), "个（",
                 row["mining_required"], "采", row["heading_required"], "掘）")


def _talent(what: str, column: str) -> Callable[[dict], str | None]:
    """`2023-06：累计对接领军人才85名，目标100名，尚差15名`, from the latest talent period up to
    this one in the same year (named); people counted in 名, as the targets (百名, 千名) and the
    briefing's talent section count them."""

    def sentence(row: dict) -> str | None:
        if row["data_period"] is None:
            return not_reported("talent", row["period"], sent_back=_sent_back(row))
        count = row[column]
        if count is None:
            return None
        if row["status"] == "达标":
            verdict = "已达到目标"
        else:
            verdict = f"尚差{plain_number(Decimal(repr(row['target_value'])) - count)}名"
        return _text(row["data_period"], "：累计", what, count, "名，目标", plain_number(row["target_value"]),
                     "名，", verdict)

    return sentence


def _park_department(zone: str) -> str:
    """The park's management committee, which sends its zone_operations file (平头融合发展区管委会)."""
    return f"{zone}管委会"


def _park_revenue(row: dict) -> str | None:
    """`1—12月平头融合发展区营业性收入累计75.00亿元，目标200亿元，尚差125.00亿元`; the shortfall
    from the unrounded revenue."""
    zone = row["scope"]
    if row["data_period"] is None:
        return not_reported("zone_operations", row["period"], _park_department(zone), _sent_back(row))
    if row["status"] == "达标":
        verdict = "已达到目标"
    else:
        exact = row["revenue_yi_exact"]
        if exact is None:
            return None
        verdict = _text("尚差", _money_shown(Decimal(repr(row["target_value"])) - exact), "亿元")
    return _text(month_range(row["period"]), zone, "营业性收入累计", row["revenue_shown"], "亿元，目标",
                 plain_number(row["target_value"]), "亿元，", verdict)


def _not_computed(row: dict) -> str | None:
    """A target no figure of the warehouse measures yet: said in words, never with a dataset's code."""
    if row["dataset_in_contract"]:
        return "暂未设定该目标的计算口径，无数据"
    return "所需数据尚未纳入月度报送，暂无法对照"


SCORECARD_SENTENCES: dict[str, Callable[[dict], str | None]] = {
    "industrial_growth_above_city": _industrial_growth,
    "digital_economy_core_output": _digital_core,
    "village_operating_income_min": _village_income,
    "smart_working_faces": _smart_faces,
    "leading_talent": _talent("对接领军人才", "leading_connected"),
    "practical_talent": _talent("培育引进实用型人才", "practical_recruited"),
    "pingtou_industry_cluster": _park_revenue,
}


def scorecard_detail(row: dict) -> str | None:
    """target_scorecard.detail: one sentence on the target's figure, or on why there is none."""
    return SCORECARD_SENTENCES.get(row["target_key"], _not_computed)(row)


# mart -> {column: the function that writes it from a row of the mart's SQL}
WRITERS: dict[str, dict[str, Callable[[dict], Any]]] = {
    "target_scorecard": {"detail": scorecard_detail},
}
