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
import os
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .fonts import CHINESE_FONTS

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
    """How many of the briefing's Chinese font families (`fonts.CHINESE_FONTS`) Typst finds here."""
    return len(set(CHINESE_FONTS) & set(_fonts().families()))


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


def document(ctx: dict) -> dict:
    """What the template typesets, from a briefing's sections: titles, paragraphs, tables (cells as
    the HTML shows them, `briefing.cell_text`) and the charts' SVG, all plain values."""
    from .briefing import cell_text

    def table(t: dict) -> dict:
        return {"caption": _line(t["caption"]), "headers": [_line(h) for h in t["headers"]],
                "rows": [[_line(cell_text(c)) for c in r] for r in t["rows"]],
                "numeric": ["n" in c.split() for c in t["classes"]], "keep": t["keep"]}

    return {
        "title": ctx["title"],
        "source": ctx["source"],
        "fonts": CHINESE_FONTS,
        "sections": [{
            "title": s.title,
            # the SVG as the HTML inlines it, given back the namespaces a standalone image declares
            "charts": [c.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" '
                                 'xmlns:xlink="http://www.w3.org/1999/xlink" ', 1) for c in s.charts],
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
