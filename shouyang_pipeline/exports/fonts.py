"""The fonts the briefing asks for, in order, wherever it is shown: the charts (matplotlib), the
HTML (the reader's browser) and the PDF (Typst). One list, so that the three agree."""

from __future__ import annotations

# Families that show Simplified Chinese: Debian's fonts-noto-cjk first, then what Windows, macOS
# and older Linux desktops have.
CHINESE_FONTS = ["Noto Sans CJK SC", "Microsoft YaHei", "SimHei", "PingFang SC", "WenQuanYi Micro Hei"]
# Other families that show Simplified Chinese, which the PDF takes when none of the above is
# installed (Typst looks through the list for each character, in order): Adobe's and Google's
# other names for the same design, the serif ones, the older Linux ones.
MORE_CHINESE_FONTS = ["Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Serif CJK SC", "Noto Serif SC",
                      "Source Han Serif SC", "WenQuanYi Zen Hei", "AR PL UMing CN", "AR PL UKai CN", "SimSun",
                      "Hiragino Sans GB", "Droid Sans Fallback"]
# the PDF's list
PDF_FONTS = [*CHINESE_FONTS, *MORE_CHINESE_FONTS]
# matplotlib's list: a Latin font last, for a machine without any of them
FONT_FAMILIES = [*CHINESE_FONTS, "DejaVu Sans"]
# the HTML's: a name with a space quoted, the browser's own sans-serif last
CSS_FONT_FAMILY = ", ".join([*(f'"{f}"' if " " in f else f for f in CHINESE_FONTS), "sans-serif"])
