"""Text normalisation shared by header matching, value parsing and reference look-ups."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache

_SPACE = re.compile(r"\s+")

# Characters nobody sees: zero-width spaces and joiners, the BOM, soft hyphens, direction marks
# (Unicode category Cf), and control characters other than tab and line breaks. Inside a key or
# a name they make two values that look the same differ, so every text value loses them.
# Also the blank-looking letters and marks that are not Cf: the Hangul fillers, the blank braille
# pattern, the combining grapheme joiner, variation selectors, Mongolian and Khmer invisible marks.
_BLANK_LOOKING = (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, *range(0x180B, 0x180E), 0x2800, 0x3164,
                  *range(0xFE00, 0xFE10), 0xFFA0, *range(0xE0100, 0xE01F0))
_INVISIBLE = {
    cp: None for cp in (*range(0x20000), *range(0xE0000, 0xE0080))  # every Cf code point is in these
    if unicodedata.category(chr(cp)) == "Cf" or (unicodedata.category(chr(cp)) == "Cc" and chr(cp) not in "\t\n\r")
} | {cp: None for cp in _BLANK_LOOKING}
_HAS_INVISIBLE = re.compile("[" + "".join(re.escape(chr(cp)) for cp in _INVISIBLE) + "]")


def strip_invisible(text: str) -> str:
    """`text` without invisible format and control characters (tab and line breaks are kept)."""
    return text.translate(_INVISIBLE) if _HAS_INVISIBLE.search(text) else text


def visible(text: str) -> str:
    """NFKC (a full-width space or colon is a plain one then), invisible characters taken off."""
    return strip_invisible(unicodedata.normalize("NFKC", text))


def norm(value: object) -> str:
    """NFKC, then every kind of white space removed (full-width spaces and line breaks too)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _norm_text(value)
    return _SPACE.sub("", visible(str(value)))


@lru_cache(maxsize=65536)
def _norm_text(text: str) -> str:
    return _SPACE.sub("", visible(text).replace("\u3000", ""))


def strip_ends(text: str) -> str:
    """Trim white space, full-width spaces included, at both ends only."""
    return text.strip().strip("\u3000").strip()


def char_class(code_points) -> str:
    """A regex character class of ranges (sre searches a class of single characters from beyond
    the BMP ten times slower)."""
    runs: list[list[int]] = []
    for cp in sorted(code_points):
        if runs and cp == runs[-1][1] + 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    return "[" + "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
                         for a, b in runs) + "]"


def as_written(value: object) -> str | None:
    """The cell as a person would read it back: 1234.0 -> '1234', dates as YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
