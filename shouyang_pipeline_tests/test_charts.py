"""The briefing's charts: every text inside the figure, clear of the bars, with margins worked out
from the texts' sizes (charts._place) rather than by matplotlib's constrained layout; a name too
long for any margin still makes a chart; counts are marked in whole numbers."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import matplotlib
import numpy as np
import pytest
from matplotlib.text import Text

from shouyang_pipeline.exports import charts

CHAINS = ["玉米全产业链", "特优农产产业链", "造纸产业链", "化工产业链", "煤机制造产业链", "建筑材料产业链", "煤炭全产业链",
          "现代物流产业链"]
VALUES = [3.88, 3.82, 9.63, 17.58, 21.0, 15.55, 81.59, 0.0]
TOWNS = ["朝阳镇", "南燕竹镇", "宗艾镇", "平头镇", "松塔镇", "西洛镇", "尹灵芝镇", "平舒乡", "解愁乡", "温家庄乡"]


def _texts(fig):
    """Every visible, non-empty text of the figure with its extent (display units), after a draw
    in the chart's fonts."""
    with matplotlib.rc_context(charts._RC):
        fig.draw_without_rendering()
        renderer = fig._get_renderer()
        # a tick outside the axis's range is not drawn, though its label exists
        drawn = {id(t.label1) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis) for t in axis._update_ticks()}
        ticks = {id(t.label1) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
                 for t in axis.get_major_ticks() + axis.get_minor_ticks()}
        return [(t.get_text(), t.get_window_extent(renderer)) for t in fig.findobj(Text)
                if t.get_visible() and t.get_text() and (id(t) not in ticks or id(t) in drawn)]


def _inside(fig, found, slack=1.0):
    width, height = (v * fig.dpi for v in fig.get_size_inches())
    out = [(t, b) for t, b in found if b.x0 < -slack or b.y0 < -slack or b.x1 > width + slack or b.y1 > height + slack]
    assert not out, out


@pytest.mark.parametrize("labels", [CHAINS, ["一", "二"], ["平头融合发展区（省级开发区）暨朝阳煤机专业镇", "二", "三"]])
def test_every_text_of_a_bar_chart_is_inside_the_figure(labels):
    values = (VALUES * 3)[:len(labels)]
    fig = charts.hbar_figure("1—12月各产业链规上工业增加值（亿元）", labels, values, "亿元", reference=40,
                             reference_label="目标40万元")
    found = _texts(fig)
    _inside(fig, found)
    # the names end left of the bars, the title is above them
    axes = fig.axes[0].get_window_extent()
    for text, box in found:
        if text in labels:
            assert box.x1 <= axes.x0 + 0.5, text
        if text.startswith("1—12月"):
            assert box.y0 >= axes.y1, text


def test_every_text_of_a_stacked_chart_is_inside_the_figure_and_clear_of_the_axis():
    series = [("达标（不低于40万元）", [13, 10, 15, 13, 9, 17, 5, 13, 7, 6], charts.GREEN),
              ("已报未达标", [7, 3, 7, 4, 5, 1, 7, 3, 4, 6], charts.ORANGE),
              ("未报送", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], charts.GREY)]
    fig = charts.stacked_hbar_figure("各乡镇行政村经营性收入达标情况（2023年12月）", TOWNS, series, "行政村（个）",
                                     counts=True)
    found = _texts(fig)
    _inside(fig, found)
    axes = fig.axes[0]
    ticks = [box for text, box in found if text.isdigit() and box.y1 <= axes.get_window_extent().y0]
    assert ticks  # the x axis's marks, below the bars
    xlabel = next(box for text, box in found if text == "行政村（个）")
    legend = [box for text, box in found if text in {"达标（不低于40万元）", "已报未达标", "未报送"}]
    assert len(legend) == 3
    # the axis's marks, then its label, then the legend, from the bars down, none over another
    assert max(b.y1 for b in legend) <= xlabel.y0 and xlabel.y1 <= min(b.y0 for b in ticks)
    # counts: whole numbers only
    assert all(float(t).is_integer() for t in axes.get_xticks())


def test_a_name_longer_than_any_margin_still_makes_a_chart_and_is_written_whole():
    long = "超长名称" * 60 + "<script>alert(1)</script>"
    svg = charts.hbar_chart("chart-long", "标题", [long, "短"], [1.0, 2.0], "亿元")
    labels = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    assert long in labels and "<script" not in svg
    fig = charts.hbar_figure("标题", [long, "短"], [1.0, 2.0], "亿元")
    axes = fig.axes[0].get_position()
    assert axes.x0 <= charts._WIDEST_LEFT + 1e-9 and axes.width > 0.2  # the bars keep the rest


def test_names_and_titles_of_several_lines_stay_inside():
    labels = ["朝阳镇\n# 假标题镇", "南燕竹镇"]
    fig = charts.hbar_figure("第一行标题\n第二行标题", labels, [1.0, 2.0], "亿元")
    _inside(fig, _texts(fig))


@pytest.mark.parametrize("values", [[3200000, 1500000, 40], [1e24, 5, 0], [0.0012, 0.0034, 0.0005], [536.08, 266.04, 122.82]])
def test_large_and_small_figures_are_marked_in_full_and_labelled_inside(values):
    """The axis is marked in whole numbers written out (no `1e6` below it, which a reader would
    miss), and each bar's label ends inside the figure, however long."""
    fig = charts.hbar_figure("各项目投资（万元）", ["甲项目", "乙项目", "丙项目"], values, "万元")
    found = _texts(fig)
    _inside(fig, found)
    assert not any("e+" in text or "e-" in text or text.startswith("1e") for text, _ in found)
    assert fig.axes[0].xaxis.get_offset_text().get_text() == ""


def test_a_reference_line_near_the_end_has_its_label_inside():
    fig = charts.hbar_figure("村集体经营性收入（万元）", TOWNS[:3], [30.0, 45.0, 52.0], "万元", reference=50,
                             reference_label="目标50万元（村集体经营性收入）")
    _inside(fig, _texts(fig))


def test_a_legend_name_of_two_lines_keeps_clear_of_the_axis_label():
    series = [("达标\n（不低于40万元）", [3, 4], charts.GREEN), ("未达标", [1, 2], charts.ORANGE)]
    fig = charts.stacked_hbar_figure("标题", ["甲镇", "乙镇"], series, "行政村（个）", counts=True)
    found = _texts(fig)
    _inside(fig, found)
    xlabel = next(box for text, box in found if text == "行政村（个）")
    assert all(box.y1 <= xlabel.y0 for text, box in found if text in {"达标\n（不低于40万元）", "未达标"})


def test_a_name_holding_what_xml_does_not_allow_still_makes_an_image():
    import xml.etree.ElementTree as ET

    svg = charts.hbar_chart("chart-x", "标题", ["甲\uffff乙", "丙\x01丁", "戊\ufffe"], [1.0, 2.0, 3.0], "亿元")
    # well-formed once given back its namespaces, as the PDF's image is (exports.pdf._chart)
    ET.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" '
                              'xmlns:xlink="http://www.w3.org/1999/xlink" ', 1))
    labels = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    assert "甲\ufffd乙" in labels and "丙\ufffd丁" in labels


def _apart(found, texts):
    boxes = sorted((box for text, box in found if text in texts), key=lambda b: b.x0)
    return all(a.x1 <= b.x0 for a, b in zip(boxes, boxes[1:]))


@pytest.mark.parametrize("values", [[1e24, 5, 0], [2.5e9, 1.2e9, 3], [123456789.5, 0, 1]])
def test_the_axis_marks_of_large_figures_stay_apart_and_exact(values):
    fig = charts.hbar_figure("投资（万元）", ["朝阳镇新建工业园区项目", "宗艾镇", "平头镇"], values, "万元")
    found = _texts(fig)
    ax = fig.axes[0]
    marks = {t.get_text() for t in ax.get_xticklabels() if t.get_text()}
    assert marks and _apart(found, marks)
    assert all(mark.isdigit() or mark.replace(".", "", 1).isdigit() for mark in marks)
    assert not any(mark.endswith("16777216") for mark in marks)  # no float noise


@pytest.mark.parametrize("values, reference", [([12.3, 25.0, 8.1], 16.7), ([50.0, 60.0, 45.0], 55.0), ([1.0], 0.5)])
def test_the_reference_label_keeps_clear_of_the_title(values, reference):
    title = "按计划进度（100%）衡量的重点项目完成率（%）"
    fig = charts.hbar_figure(title, ["市级及以上", "县级", "全部"][:len(values)], values, "%", reference=reference,
                             reference_label=f"序时进度{reference}%")
    found = _texts(fig)
    _inside(fig, found)
    label = next(box for text, box in found if text.startswith("序时进度"))
    heading = next(box for text, box in found if text == title)
    assert label.y1 <= heading.y0


def test_a_chart_asked_for_again_is_the_one_drawn_and_only_equal_arguments_share_one(monkeypatch):
    drawn = []
    real = charts._svg
    monkeypatch.setattr(charts, "_svg", lambda fig, chart_id: drawn.append(chart_id) or real(fig, chart_id))
    monkeypatch.setattr(charts, "_DRAWN", {})
    first = charts.hbar_chart("chart-zones", "各园区重点项目总投资（亿元）", ["园区甲", "园区乙"], [3.0, 1.5], "亿元")
    again = charts.hbar_chart("chart-zones", "各园区重点项目总投资（亿元）", ("园区甲", "园区乙"), [3.0, 1.5], "亿元")
    assert again == first and len(drawn) == 1
    # anything different is drawn: a value, a label, the id, the colour, a reference, the type of a value
    for args, kw in [((["园区甲", "园区乙"], [3.0, 1.6]), {}), ((["园区甲", "园区丙"], [3.0, 1.5]), {}),
                     ((["园区甲", "园区乙"], [3.0, 1.5]), {"color": charts.ORANGE}),
                     ((["园区甲", "园区乙"], [3.0, 1.5]), {"reference": 2.0, "reference_label": "时间进度"}),
                     ((["园区甲", "园区乙"], [3, 1.5]), {})]:  # 3 and 3.0: equal, labelled alike here, kept apart
        svg = charts.hbar_chart("chart-zones", "各园区重点项目总投资（亿元）", *args, "亿元", **kw)
        assert svg == real(charts.hbar_figure("各园区重点项目总投资（亿元）", *args, "亿元", **kw), "chart-zones")
    assert len(drawn) == 6
    assert charts.hbar_chart("chart-other", "各园区重点项目总投资（亿元）", ["园区甲", "园区乙"], [3.0, 1.5], "亿元") != first
    series = [("达标", [3, 1], charts.GREEN), ("未达标", [1, 2], charts.GREY)]
    stacked = charts.stacked_hbar_chart("chart-villages", "各乡镇", ["甲镇", "乙镇"], series, "个", counts=True)
    assert charts.stacked_hbar_chart("chart-villages", "各乡镇", ["甲镇", "乙镇"], list(series), "个", counts=True) == stacked
    assert len(drawn) == 8
    other = charts.stacked_hbar_chart("chart-villages", "各乡镇", ["甲镇", "乙镇"], [("达标", [3, 1], charts.GREEN),
                                                                                  ("未达标", [1, 3], charts.GREY)], "个", counts=True)
    assert other != stacked and len(drawn) == 9


def test_the_charts_kept_are_forgotten_past_their_limit(monkeypatch):
    monkeypatch.setattr(charts, "_DRAWN", {})
    monkeypatch.setattr(charts, "CHARTS_KEPT", 3)
    for n in range(5):
        charts.hbar_chart("chart-zones", "图", ["甲"], [float(n)], "亿元")
        assert len(charts._DRAWN) <= 3


@pytest.mark.parametrize("first, then", [
    ([0.0, 5.0], [-0.0, 5.0]),  # equal, but -0.0 is labelled -0
    ([Decimal("1.5"), 5.0], [Decimal("1.50"), 5.0]),  # equal, labelled 1.5 and 1.50
    ([np.float64(0.0), 5.0], [np.float64(-0.0), 5.0]),
])
def test_values_equal_in_python_but_drawn_differently_are_not_taken_for_each_other(monkeypatch, first, then):
    monkeypatch.setattr(charts, "_DRAWN", {})
    charts.hbar_chart("chart-x", "图", ["甲", "乙"], first, "亿元")
    got = charts.hbar_chart("chart-x", "图", ["甲", "乙"], then, "亿元")
    assert got == charts._svg(charts.hbar_figure("图", ["甲", "乙"], then, "亿元"), "chart-x")


def test_a_unit_or_a_title_of_another_type_is_another_chart(monkeypatch):
    monkeypatch.setattr(charts, "_DRAWN", {})
    assert charts.hbar_chart("chart-x", "图", ["甲"], [1.0], 1) != charts.hbar_chart("chart-x", "图", ["甲"], [1.0], True)
