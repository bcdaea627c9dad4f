"""The briefing as a PDF, beside its HTML: what the county office circulates and prints.

`write_pdf(ctx, pdf_path)` typesets a briefing's sections (`briefing.briefing_context`, the same
the Markdown and the HTML are written from) with Typst (the `typst` package, pinned in
requirements.lock; its compiler is in the wheel) and the template `templates/briefing.typ`: A4,
the title in the page header, page numbers at the foot, the charts drawn from their SVG, in the
look of the HTML's print stylesheet. Offline: nothing is fetched, and the data come in as JSON
(`document`), never as markup. It needs from the system only a Chinese font (Debian:
fonts-noto-cjk), which Typst finds in the system's font folders.

When the package or a Chinese font is missing the PDF is not written and `write_pdf` says why, in
Chinese, in `PdfOutcome.reason`; it never raises for that, so a run without them still publishes
the Markdown, the HTML and the workbook. `pdf_unavailable()` is that check alone (made once per
process).
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .fonts import CHINESE_FONTS, PDF_FONTS

INSTALL_HINT = "（安装方法：pip install -r requirements.lock；apt-get install fonts-noto-cjk）"
TEMPLATE = "briefing.typ"


@dataclass(frozen=True)
class PdfOutcome:
    path: Path | None  # the PDF written, or None
    reason: str | None = None  # why it was not written (Chinese, one clause without a full stop)


@functools.cache
def _fonts():
    """The fonts Typst finds on this machine (the system's font folders), read once a process."""
    import typst

    return typst.Fonts(include_system_fonts=True, include_embedded_fonts=True)


def chinese_fonts() -> int:
    """How many of the PDF's Chinese font families (`fonts.PDF_FONTS`) Typst finds here."""
    return len(set(PDF_FONTS) & set(_fonts().families()))


@functools.cache
def pdf_unavailable() -> str | None:
    """Why no PDF can be written on this machine (Chinese), or None when it can."""
    try:
        import typst  # noqa: F401
    except ImportError:
        return f"未安装PDF排版程序Typst{INSTALL_HINT}"
    except Exception as exc:  # a broken installation: said, not raised
        return f"无法加载PDF排版程序Typst：{type(exc).__name__}：{_first_line(exc)}{INSTALL_HINT}"
    try:
        fonts = chinese_fonts()
    except Exception as exc:  # noqa: BLE001 - an unreadable font folder: said, not raised
        return f"无法读取本机字体：{type(exc).__name__}：{_first_line(exc)}{INSTALL_HINT}"
    if fonts == 0:
        return f"本机没有可显示中文的字体（如{CHINESE_FONTS[0]}），PDF中的汉字无法显示{INSTALL_HINT}"
    return None


@functools.cache
def _compiler():
    """One Typst compiler a process, for every month's PDF: the template read and the fonts found once."""
    import typst

    template = resources.files(__package__) / "templates" / TEMPLATE
    return typst.Compiler(str(template), root=str(template.parent), font_paths=_fonts())


def _line(value) -> str:
    """A value as one line of text, as the HTML shows it (a line break inside is a space)."""
    return " ".join(str(value).splitlines())


# The page and the tables as the template sets them (it reads these from `document`): A4, its
# margins (top, right, bottom, left) in mm, a table's text in pt and its cells' padding in em,
# and the share of the width a chart takes.
PAGE_MM, MARGINS_MM = (210, 297), (20, 16, 18, 16)
TABLE_PT, CELL_INSET_EM = 8.5, (0.4, 0.32)
BREAK_EVERY = 8  # a run of twice as many characters with no place to break wraps every so many
CHART_WIDTH = 0.88
_MM = 72 / 25.4  # points
_TEXT_WIDTH = (PAGE_MM[0] - MARGINS_MM[1] - MARGINS_MM[3]) * _MM
_BODY_HEIGHT = (PAGE_MM[1] - MARGINS_MM[0] - MARGINS_MM[2]) * _MM
_CHART_MAX = _BODY_HEIGHT - 4 * 10.5  # a chart at most this tall (4 em of the body's 10.5 pt text spare)
_VIEW_BOX = re.compile(r'viewBox="0 0 ([\d.]+) ([\d.]+)"')


def _chart(svg: str) -> dict:
    """A chart for the template: the SVG as the HTML inlines it, given back the namespaces a
    standalone image declares, and whether it is too tall for a page at the width it is shown
    (`tall`: shown as tall as the page allows instead)."""
    found = _VIEW_BOX.search(svg)
    tall = found is not None and _TEXT_WIDTH * CHART_WIDTH * float(found.group(2)) / float(found.group(1)) > _CHART_MAX
    svg = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ', 1)
    return {"svg": svg, "tall": tall}


# Bounds of a table's height as briefing.typ sets it, in points: TABLE_PT text, a line at most
# 1.4 em with its leading, a cell padded by CELL_INSET_EM (and its rule); every
# character taken as 1 em wide (Noto Sans CJK's widest Latin letters, its quotes and circled
# numbers are at most that), but the few drawn wider (the long dashes ⸺ ⸻) and those beyond the
# BMP (emoji, from another font) at 2.5 em; a line may waste up to a piece of BREAK_EVERY
# characters (the template breaks a run without breaks into such pieces, and a word moves whole
# to the next line); a page's body less room for the caption (2 em of the body's 10.5 pt text).
_EM = TABLE_PT
_LINE, _PIECE = 1.4 * _EM, BREAK_EVERY * _EM
_PAD_X, _PAD_Y = 2 * CELL_INSET_EM[0] * _EM + 0.6, 2 * CELL_INSET_EM[1] * _EM + 0.6
_PAGE_BODY = _BODY_HEIGHT - 2 * 10.5
_ROW_WHOLE = 200.0  # a row at most this tall is not split across pages
_WIDER = re.compile("[\u2e3a\u2e3b\U00010000-\U0010ffff]")


def _width(text: str) -> float:
    return (len(text) + 1.5 * len(_WIDER.findall(text))) * _EM


def _columns(widest: list[float]) -> list[float]:
    """The widths Typst gives automatic columns whose widest cells are `widest` (padding included)
    when they do not all fit: a column within the fair share keeps its width, the others share
    what is left equally (typst's `shrink_auto_columns`)."""
    if sum(widest) <= _TEXT_WIDTH:
        return widest
    fair, last = float("-inf"), None
    while fair != last:
        last = fair
        overlarge = sum(1 for w in widest if w > fair)
        if overlarge == 0:
            break
        fair = (_TEXT_WIDTH - sum(w for w in widest if w <= fair)) / overlarge
    return [min(w, fair) for w in widest]


def _heights(rows: list[list[str]]) -> list[float]:
    """An upper bound of each row's height, in the column widths Typst gives the table's cells."""
    n = max(map(len, rows), default=1)
    widest = [0.0] * n
    for row in rows:
        for j, cell in enumerate(row):
            widest[j] = max(widest[j], _width(cell) + _PAD_X)
    columns = [max(_EM, w - _PAD_X) for w in _columns(widest)]
    heights = []
    for row in rows:
        lines = 1
        for j, cell in enumerate(row):
            width, room = _width(cell), columns[j]
            if width > room:  # each line holds at least the room less a piece, or half the room
                lines = max(lines, math.ceil(width / max(room - _PIECE, room / 2)) + 1)
        heights.append(lines * _LINE + _PAD_Y)
    return heights


def document(ctx: dict) -> dict:
    """What the template typesets, from a briefing's sections: titles, paragraphs, tables (cells as
    the HTML shows them, `briefing.cell_text`) and the charts' SVG, all plain values."""
    from .briefing import cell_text

    def table(t: dict) -> dict:
        headers = [_line(h) for h in t["headers"]]
        rows = [[_line(cell_text(c)) for c in r] for r in t["rows"]]
        heights = _heights([headers, *rows])
        return {"caption": _line(t["caption"]), "headers": headers, "rows": rows,
                "numeric": ["n" in c.split() for c in t["classes"]],
                # kept on one page: surely short enough (a bound of its height), or when measured so
                "keep": t["keep"], "fits": t["keep"] and sum(heights) <= _PAGE_BODY,
                # a row of surely moderate height is not split across pages; a taller one may be
                "whole": [h <= _ROW_WHOLE for h in heights[1:]]}

    return {
        "title": ctx["title"],
        "source": ctx["source"],
        "fonts": PDF_FONTS,
        "page": {"width_mm": PAGE_MM[0], "height_mm": PAGE_MM[1], "margins_mm": MARGINS_MM, "table_pt": TABLE_PT,
                 "cell_inset_em": CELL_INSET_EM, "break_every": BREAK_EVERY, "chart_width": CHART_WIDTH,
                 "chart_max_pt": _CHART_MAX},
        "sections": [{
            "title": s.title,
            "charts": [_chart(c) for c in s.charts],
            "blocks": [{"paragraphs": [_line(p) for p in b.paragraphs], "tables": [table(t) for t in b.tables]}
                       for b in (s, *s.more)],
        } for s in ctx["sections"]],
    }


def write_pdf(ctx: dict, pdf: Path) -> PdfOutcome:
    """Typeset a briefing's sections (`briefing.briefing_context`) into `pdf`."""
    pdf = Path(pdf)
    reason = pdf_unavailable()
    if reason is not None:
        return PdfOutcome(None, reason)
    import typst

    tmp = pdf.with_name(f".{pdf.name}.tmp")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", typst.TypstWarning)  # (none expected: the fonts were checked)
            data = _compiler().compile(format="pdf", sys_inputs={"briefing": json.dumps(document(ctx), ensure_ascii=False)})
        tmp.write_bytes(data)
    except Exception as exc:  # a PDF that cannot be made is said, never a failed run
        tmp.unlink(missing_ok=True)
        return PdfOutcome(None, f"排版PDF时出错：{type(exc).__name__}：{_first_line(getattr(exc, 'message', None) or exc)}")
    os.replace(tmp, pdf)
    return PdfOutcome(pdf)


def _first_line(exc: object) -> str:
    """The first line of an error (or of its message), at most 200 characters."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""
