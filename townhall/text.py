"""Citizen text hygiene: what we keep of what people type.

Text is stored as typed (minus control characters, trimmed to a bound) and escaped when
rendered: the back office uses Jinja2 autoescaping and the widget renders text nodes only.
"""
from __future__ import annotations

import re
import unicodedata

MAX_MESSAGE_CHARS = 4000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str | None, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Remove control characters, normalise Unicode (NFC), collapse outer blanks, bound the length."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text))
    text = _CONTROL.sub("", text).strip()
    return text[:limit]


def is_blank(text: str | None) -> bool:
    return not clean(text)


def fold(text: str | None) -> str:
    """Lowercase, without accents, single spaces: for matching what citizens type."""
    text = unicodedata.normalize("NFKD", (text or "").lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^a-z0-9@.+\-' ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()
