"""Charts for the briefing: matplotlib figures rendered as SVG, inline in the HTML and drawn in the PDF.

Text stays text (`svg.fonttype = none`), so Chinese is rendered by the reader's browser with a
Chinese-capable font from the family list below; the SVG carries no external reference (no
DOCTYPE, no metadata, no namespace URIs), so the HTML works offline and names no web address.
Labels come from data (names in the reference lists), so they are plain text: matplotlib's SVG
writer escapes them, and `$` never starts mathtext (a name like `$\frac{$` would otherwise stop
the briefing). Values are labelled without exponents, whatever their size.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import re
import warnings
from collections.abc import Sequence
from decimal import Decimal

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .fonts import FONT_FAMILIES

BLUE, ORANGE, GREY, GREEN, RED = "#2b6cb0", "#dd6b20", "#a0aec0", "#2f855a", "#c53030"

_RC = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": FONT_FAMILIES,
    "font.size": 10,
    "text.parse_math": False,  # labels are data: "$...$" is text, not mathtext
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def value_label(v: float) -> str:
    """A bar's value as printed: `{v:g}` (536.08, 27.5, 0) unless that would use an exponent or
    drop digits; then every digit, without an exponent (12345.67, 20000000, 1e24 in full)."""
    text = f"{v:g}"
    if not math.isfinite(v) or ("e" not in text and float(text) == v):
        return text
    text = format(Decimal(repr(v)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _svg(fig: Figure, chart_id: str) -> str:
    buf = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing CJK glyphs on a machine without the fonts
        logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
        with matplotlib.rc_context({**_RC, "svg.hashsalt": chart_id}):
            FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None, "Creator": None})
    # a character XML does not allow (a control character, U+FFFE, U+FFFF, a lone surrogate) in a
    # label: matplotlib writes it as it is, and no SVG reader takes the image then
    text = _NOT_XML.sub("\ufffd", buf.getvalue())
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    # let the SVG scale with the page
    text = re.sub(r'<svg width="[^"]*" height="[^"]*"', f'<svg id="{chart_id}" role="img" style="max-width:100%;height:auto"', text, count=1)
    return text.strip()


def _figure(height: float) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(7.2, height))


# The chart's margins are worked out from the sizes of its texts (`_place`), as matplotlib's
# constrained layout would place them, in one pass: that layout measured every text of the
# figure twice over before drawing it, 60 % of a chart's time.
_EDGE = 4.0  # points between the outermost text and the figure's edge
_TICK = 3.5 + 3.5  # a major tick's length and its label's pad (matplotlib's defaults), points
_TITLE_PAD = 6.0  # axes.titlepad
_LABEL_PAD = 4.0  # axes.labelpad
_LEGEND_LINE = 1.9  # a legend row's height, in its font sizes (the text, its padding)
_WIDEST_LEFT = 0.6  # the tick labels take at most this share of the width (a longer name runs off the edge)


@functools.lru_cache(maxsize=4096)
def _text_size(text: str, size: float) -> tuple[float, float]:
    """A text's width and height in points, in the chart's font, as the SVG writer measures it
    (a text of several lines: its widest line, and its lines one below the other). Measured once
    a process (the same names, marks and titles in every month's charts): called inside the
    charts' settings (`_RC`) only, whose fonts do not change."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    lines = str(text).split("\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing CJK glyphs on a machine without the fonts
        sizes = [text_to_path.get_text_width_height_descent(line, FontProperties(size=size), ismath=False)[:2]
                 for line in lines]
    return max(w for w, _ in sizes), sizes[0][1] + (len(lines) - 1) * 1.2 * size


def _place(fig: Figure, ax, *, labels: Sequence[str], title: str, xlabel: str = "", legend: Sequence[str] = (),
           ends: Sequence[tuple[float, str]] = (), counts: bool = False) -> None:
    """Margins that hold the y tick labels, the title, the x tick labels, the x label and a legend
    below; `ends`: (a bar's end, its label written after it), for which the axis reaches far
    enough. The axis's marks are figures written out as the bars' labels are (`value_label`: no
    offset or exponent below the axis, which a reader would miss), as few as keep them apart
    (`counts`: whole numbers only)."""
    width, height = (v * 72 for v in fig.get_size_inches())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: value_label(float(v))))
    left = min(max((_text_size(str(label), 10)[0] for label in labels), default=0.0) + _TICK + _EDGE,
               width * _WIDEST_LEFT)
    axis_width = width - left - 2 * _EDGE
    _room_for_ends(ax, axis_width, ends)
    for bins in (None, 6, 4, 3, 2):
        if bins is not None:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=bins, integer=counts))
        locs = [x for x in ax.get_xticks() if ax.get_xlim()[0] <= x <= ax.get_xlim()[1]]
        ticks = [t for t in ax.xaxis.get_major_formatter().format_ticks(locs) if t]
        widest = max((_text_size(t, 9)[0] for t in ticks), default=0.0)
        if len(ticks) < 2 or (widest + 6) * len(ticks) <= axis_width:  # the marks side by side, 6 pt apart
            break
    tick_height = max((_text_size(t, 9)[1] for t in ticks), default=0.0)
    right = max((_text_size(t, 9)[0] for t in ticks[-1:]), default=0.0) / 2 + _EDGE
    top = _text_size(title, 12)[1] + _TITLE_PAD + _EDGE
    bottom = _TICK + tick_height + _EDGE
    if xlabel:
        bottom += _LABEL_PAD + _text_size(xlabel, 10)[1]
    if legend:
        bottom += _LEGEND_LINE * 8 + max(str(name).count("\n") for name in legend) * 1.2 * 8
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height)
    # An axis without a label is told where its (empty) label goes, as the title is told its height
    # (y=1.0): else matplotlib measures every tick label again at the draw to place what is not drawn.
    ax.yaxis.set_label_coords(0.0, 0.5)
    if not xlabel:
        ax.xaxis.set_label_coords(0.5, 0.0)


def _room_for_ends(ax, axis_width: float, ends: Sequence[tuple[float, str]]) -> None:
    """Reach the axis far enough to the right that each bar's label (9 pt, 3 pt after its end)
    ends inside it, at least 18 % past the longest bar (as before). `axis_width` in points."""
    longest = max((end for end, _ in ends), default=0.0)
    reach = 1.18
    if longest > 0 and math.isfinite(longest):
        for end, label in ends:
            room = axis_width - _text_size(label, 9)[0] - 3 - _EDGE
            if end > 0 and room > axis_width * 0.1:  # (a label wider than most of the axis is let run off)
                reach = max(reach, axis_width * end / longest / room)
    ax.margins(x=min(reach, 10.0) - 1)


def hbar_chart(chart_id: str, title: str, labels: Sequence[str], values: Sequence[float], unit: str,
               *, reference: float | None = None, reference_label: str = "", color: str = BLUE) -> str:
    """A horizontal bar chart, first label on top, each bar labelled with its value."""
    key = ("hbar", _exact([chart_id, title, unit, reference, reference_label, color]), _exact(labels), _exact(values))
    return _remembered(key, lambda: _svg(hbar_figure(title, labels, values, unit, reference=reference,
                                                     reference_label=reference_label, color=color), chart_id))


def hbar_figure(title: str, labels: Sequence[str], values: Sequence[float], unit: str, *,
                reference: float | None = None, reference_label: str = "", color: str = BLUE) -> Figure:
    """`hbar_chart`'s figure."""
    with matplotlib.rc_context(_RC):
        fig = _figure(0.9 + 0.38 * max(len(labels), 1))
        ax = fig.subplots()
        ys = list(range(len(labels)))[::-1]
        bars = ax.barh(ys, values, color=color, height=0.6)
        ax.set_yticks(ys, labels)
        ends = [(float(v), f"{value_label(v)}{unit}") for v in values]
        ax.bar_label(bars, labels=[label for _, label in ends], padding=3, fontsize=9)
        if reference is not None:
            ax.axvline(reference, color=RED, linestyle="--", linewidth=1)
        ax.set_title(title, loc="left", fontsize=12, y=1.0)
        ax.tick_params(axis="x", labelsize=9)
        if reference is not None and reference_label:
            ax.set_ylim(-0.6, len(labels) + 0.1)  # room above the top bar for the line's label, under the title
        _place(fig, ax, labels=labels, title=title, ends=ends)
        if reference is not None and reference_label:
            # written to the right of the line, or to its left when it is in the right half
            low, high = ax.get_xlim()
            ax.text(reference, len(labels) - 0.4, reference_label, color=RED, fontsize=9, va="bottom",
                    ha="right" if reference > (low + high) / 2 else "left")
    return fig


def stacked_hbar_chart(chart_id: str, title: str, labels: Sequence[str],
                       series: Sequence[tuple[str, Sequence[float], str]], unit: str, *, counts: bool = False) -> str:
    """Horizontal stacked bars: series is (name, values, colour). `counts`: the axis is marked in
    whole numbers only (faces, villages: no 2.5)."""
    key = ("stacked", _exact([chart_id, title, unit, counts]), _exact(labels),
           tuple((_exact([name, colour]), _exact(values)) for name, values, colour in series))
    return _remembered(key, lambda: _svg(stacked_hbar_figure(title, labels, series, unit, counts=counts), chart_id))


# The charts drawn in this process, by everything they are drawn from: a month without new
# quarterly figures shows the same villages' chart as the month before, and the parks' total
# investment changes little; of the sample's 57 charts a year, 17 repeat one drawn before
# (about 50 ms each). The SVG is a function of its arguments alone (the rc settings, the fonts
# of the machine: the same all through a process). Forgotten past CHARTS_KEPT.
_DRAWN: dict[tuple, str] = {}
CHARTS_KEPT = 64


def _exact(values) -> tuple:
    """Each value by its type and its repr: values equal in Python may draw different labels (1,
    1.0 and True; 0.0 and -0.0; Decimal 1.5 and 1.50), and a float's repr is the float itself."""
    return tuple((type(v), repr(v)) for v in values)


def _remembered(key: tuple, draw) -> str:
    try:
        return _DRAWN[key]
    except KeyError:
        pass
    svg = draw()
    if len(_DRAWN) >= CHARTS_KEPT:
        _DRAWN.clear()
    _DRAWN[key] = svg
    return svg


def stacked_hbar_figure(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]],
                        unit: str, *, counts: bool = False) -> Figure:
    """`stacked_hbar_chart`'s figure."""
    with matplotlib.rc_context(_RC):
        fig = _figure(1.2 + 0.38 * max(len(labels), 1))
        ax = fig.subplots()
        ys = list(range(len(labels)))[::-1]
        left = [0.0] * len(labels)
        for name, values, colour in series:
            bars = ax.barh(ys, values, left=left, color=colour, height=0.6, label=name)
            ax.bar_label(bars, labels=[value_label(v) if v else "" for v in values], label_type="center",
                         fontsize=8, color="white")
            left = [a + b for a, b in zip(left, values)]
        ax.set_yticks(ys, labels)
        ax.set_xlabel(unit)
        if counts:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title, loc="left", fontsize=12, y=1.0)
        ax.tick_params(axis="x", labelsize=9)
        _place(fig, ax, labels=labels, title=title, xlabel=unit, legend=[name for name, _, _ in series], counts=counts)
        fig.legend(loc="lower center", bbox_to_anchor=(0.5, _EDGE / 72 / fig.get_size_inches()[1]), fontsize=8,
                   frameon=False, ncols=len(series), borderaxespad=0, borderpad=0)
    return fig
