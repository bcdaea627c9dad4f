"""The briefing as a PDF, beside its HTML: what the county office circulates and prints.

`write_pdf(html_path)` renders `briefing_<period>.html` with WeasyPrint (pinned in
requirements.lock; offline: the HTML has no external resource, and nothing is fetched) into
`briefing_<period>.pdf` in the same folder, on A4 with the page header and numbers of the HTML's
print stylesheet. It needs, besides the Python package, Pango (Debian: libpango-1.0-0,
libpangoft2-1.0-0; libharfbuzz-subset0 keeps it fast) and a Chinese font (fonts-noto-cjk).

When any of these is missing the PDF is not written and `write_pdf` says why, in Chinese, in
`PdfOutcome.reason`; it never raises for that, so a run without them still publishes the
Markdown, the HTML and the workbook. `pdf_unavailable()` is that check alone (made once per
process).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = ("（安装方法：pip install -r requirements.lock；"
                "apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk）")


@dataclass(frozen=True)
class PdfOutcome:
    path: Path | None  # the PDF written, or None
    reason: str | None = None  # why it was not written (Chinese, one clause without a full stop)


class _FcFontSet(ctypes.Structure):
    _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int), ("fonts", ctypes.c_void_p)]


def chinese_fonts() -> int | None:
    """How many installed fonts fontconfig (which Pango asks) says cover Simplified Chinese;
    None when fontconfig itself cannot be loaded."""
    name = ctypes.util.find_library("fontconfig") or "libfontconfig.so.1"
    try:
        fc = ctypes.CDLL(name)
    except OSError:
        return None
    fc.FcNameParse.restype = ctypes.c_void_p
    fc.FcNameParse.argtypes = [ctypes.c_char_p]
    fc.FcObjectSetCreate.restype = ctypes.c_void_p
    fc.FcObjectSetAdd.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    fc.FcFontList.restype = ctypes.POINTER(_FcFontSet)
    fc.FcFontList.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    fc.FcFontSetDestroy.argtypes = [ctypes.POINTER(_FcFontSet)]
    fc.FcPatternDestroy.argtypes = [ctypes.c_void_p]
    fc.FcObjectSetDestroy.argtypes = [ctypes.c_void_p]
    pattern = fc.FcNameParse(b":lang=zh-cn")
    objects = fc.FcObjectSetCreate()
    fc.FcObjectSetAdd(objects, b"family")
    try:
        found = fc.FcFontList(None, pattern, objects)
        if not found:
            return 0
        n = found.contents.nfont
        fc.FcFontSetDestroy(found)
        return n
    finally:
        fc.FcObjectSetDestroy(objects)
        fc.FcPatternDestroy(pattern)


@functools.cache
def pdf_unavailable() -> str | None:
    """Why no PDF can be written on this machine (Chinese), or None when it can."""
    try:
        import weasyprint  # noqa: F401
    except ImportError:
        return f"未安装PDF排版程序WeasyPrint{INSTALL_HINT}"
    except OSError as exc:  # the package is there, the Pango library it loads is not
        return f"缺少WeasyPrint所需的Pango库：{_first_line(exc)}{INSTALL_HINT}"
    except Exception as exc:  # a broken installation: said, not raised
        return f"无法加载WeasyPrint：{type(exc).__name__}：{_first_line(exc)}{INSTALL_HINT}"
    fonts = chinese_fonts()
    if fonts is None:
        return f"无法加载字体配置库fontconfig{INSTALL_HINT}"
    if fonts == 0:
        return f"本机没有可显示中文的字体（如Noto Sans CJK SC），PDF中的汉字无法显示{INSTALL_HINT}"
    return None


def write_pdf(html: Path) -> PdfOutcome:
    """Render `html` (a briefing written by `briefing.write_briefing`) to the PDF of the same name."""
    html = Path(html)
    pdf = html.with_suffix(".pdf")
    reason = pdf_unavailable()
    if reason is not None:
        return PdfOutcome(None, reason)
    import weasyprint
    from weasyprint.urls import URLFetcher

    tmp = pdf.with_name(f".{pdf.name}.tmp")
    weasy_log = logging.getLogger("weasyprint")
    level = weasy_log.level
    weasy_log.setLevel(logging.ERROR)  # CSS it ignores (print-color-adjust, …) is not news
    try:
        # nothing is fetched: the briefing names no external resource, and none is allowed
        document = weasyprint.HTML(string=html.read_text(encoding="utf-8"), media_type="print",
                                   url_fetcher=URLFetcher(allowed_protocols=()))
        document.write_pdf(str(tmp), pdf_identifier=pdf.stem.encode())
    except Exception as exc:  # a PDF that cannot be made is said, never a failed run
        tmp.unlink(missing_ok=True)
        return PdfOutcome(None, f"排版PDF时出错：{type(exc).__name__}：{_first_line(exc)}")
    finally:
        weasy_log.setLevel(level)
    os.replace(tmp, pdf)
    return PdfOutcome(pdf)



def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""
