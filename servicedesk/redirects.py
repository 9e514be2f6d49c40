"""Where the site may send a browser after an action: only a plain path on this site.

``next`` comes from a URL anyone can make, so it is accepted only as a relative path: no
scheme, no host, no backslash and no control character (browsers drop a tab or a newline, so
``/%09/evil.example`` would become ``//evil.example``, another host). Percent-encoded forms are
checked the same way once decoded. Every redirect to a requested place goes through here.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

#: Longer than any path of the site with its query.
MAX_NEXT = 2000


def _plain_path(target: str) -> bool:
    if not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, fallback: str) -> str:
    """``target`` when it is a plain path on this site, else ``fallback``."""
    if not target or len(target) > MAX_NEXT:
        return fallback
    if _plain_path(target) and _plain_path(unquote(target)):
        return target
    return fallback
