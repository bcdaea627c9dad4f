"""Charts for the briefing: matplotlib figures rendered as SVG, inline in the HTML and drawn in the PDF.

Text stays text (`svg.fonttype = none`), so Chinese is rendered by the reader's browser with a
Chinese-capable font from the family list below; the SVG carries no external reference (no
DOCTYPE, no metadata, no namespace URIs), so the HTML works offline and names no web address.
Labels come from data (names in the reference lists), so they are plain text: matplotlib's SVG
writer escapes them, and `$` never starts mathtext (a name like `$\frac{$` would otherwise stop
the briefing). Values are labelled without exponents, whatever their size.
"""

from __future__ import annotations

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
from matplotlib.ticker import MaxNLocator

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


def _svg(fig: Figure, chart_id: str) -> str:
    buf = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing CJK glyphs on a machine without the fonts
        logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
        with matplotlib.rc_context({**_RC, "svg.hashsalt": chart_id}):
            FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    # let the SVG scale with the page
    text = re.sub(r'<svg width="[^"]*" height="[^"]*"', f'<svg id="{chart_id}" role="img" style="max-width:100%;height:auto"', text, count=1)
    return text.strip()


def _figure(height: float) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(7.2, height), layout="constrained")


def hbar_chart(chart_id: str, title: str, labels: Sequence[str], values: Sequence[float], unit: str,
               *, reference: float | None = None, reference_label: str = "", color: str = BLUE) -> str:
    """A horizontal bar chart, first label on top, each bar labelled with its value."""
    with matplotlib.rc_context(_RC):
        fig = _figure(0.9 + 0.38 * max(len(labels), 1))
        ax = fig.subplots()
        ys = list(range(len(labels)))[::-1]
        bars = ax.barh(ys, values, color=color, height=0.6)
        ax.set_yticks(ys, labels)
        ax.bar_label(bars, labels=[f"{value_label(v)}{unit}" for v in values], padding=3, fontsize=9)
        if reference is not None:
            ax.axvline(reference, color=RED, linestyle="--", linewidth=1)
            ax.text(reference, len(labels) - 0.4, reference_label, color=RED, fontsize=9, ha="left", va="bottom")
        ax.set_title(title, loc="left", fontsize=12)
        ax.margins(x=0.18)
        ax.tick_params(axis="x", labelsize=9)
    return _svg(fig, chart_id)


def stacked_hbar_chart(chart_id: str, title: str, labels: Sequence[str],
                       series: Sequence[tuple[str, Sequence[float], str]], unit: str, *, counts: bool = False) -> str:
    """Horizontal stacked bars: series is (name, values, colour). `counts`: the axis is marked in
    whole numbers only (faces, villages: no 2.5)."""
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
        ax.set_title(title, loc="left", fontsize=12)
        fig.legend(loc="outside lower center", fontsize=8, frameon=False, ncols=len(series))
        ax.tick_params(axis="x", labelsize=9)
    return _svg(fig, chart_id)
