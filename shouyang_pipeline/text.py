"""Text normalisation shared by header matching, value parsing and reference look-ups."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACE = re.compile(r"\s+")


def norm(value: object) -> str:
    """NFKC, then every kind of white space removed (full-width spaces and line breaks too)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _norm_text(value)
    return _SPACE.sub("", unicodedata.normalize("NFKC", str(value)))


@lru_cache(maxsize=65536)
def _norm_text(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).replace("\u3000", ""))


def strip_ends(text: str) -> str:
    """Trim white space, full-width spaces included, at both ends only."""
    return text.strip().strip("\u3000").strip()
