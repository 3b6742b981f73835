"""Untrusted text (titles, reasons, URLs from abstracts and APIs) as inert Markdown.

One place decides how text from outside becomes Markdown, for every Markdown paperwatch
writes: ``summary.md``, alert digests and the GitHub tracking issue. The text stays on one
line, its syntax is escaped, and what GitHub or a chat app would turn into a link or a
notification after parsing (``@user``, ``#12``, ``https://``) is broken by a word joiner.
"""

from __future__ import annotations

import re
from typing import Any

_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")
_INLINE_SYNTAX = re.compile(r"([\\`*_\[\]<>&!|~$])")
_BLOCK_START = re.compile(r"^([#+\-=>]|\d+[.)])")  # a heading, list item or quote if it began a line
_WORD_JOINER = "\u2060"
_AUTOLINKED = re.compile(r"(@|#|://|(?<![\w])www\.|(?<![\w])gh-)(?=\w|/)", re.IGNORECASE)
_LINKABLE_URL = re.compile(r"^https?://[^\s<>\x00-\x1f\x7f]+$")
# Characters RFC 3986 never allows raw in a URL (browsers send them percent-encoded, so the link is the
# same): raw, "|" would end a GFM table cell or a Slack <url|label>, "`" open a code span.
_NOT_RAW_IN_URL = re.compile(r'[|`"\[\]{}\\^]')


def one_line(value: Any, limit: int) -> str:
    """Whitespace and control characters collapsed to single spaces, cut to ``limit`` characters."""
    text = _SPACE.sub(" ", str(value if value is not None else "")).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def md_text(value: Any, limit: int = 200) -> str:
    """Literal inline text: no emphasis, link, image, HTML, mention or block can form from it."""
    text = _INLINE_SYNTAX.sub(r"\\\1", one_line(value, limit))
    text = _BLOCK_START.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], text)
    return _AUTOLINKED.sub(lambda m: m.group(1)[:1] + _WORD_JOINER + m.group(1)[1:], text)


def md_code(value: Any, limit: int = 200, *, in_table: bool = True) -> str:
    """A code span (for URLs): never a link, never HTML; a backtick inside cannot end it early.

    In a table cell a ``|`` would end the cell, so it is escaped there (GFM removes the
    backslash before reading the span); elsewhere the escape would show, so it stays.
    """
    text = one_line(value, limit)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|') if in_table else text}{pad}{fence}"


def md_url(url: str) -> str:
    """An http(s) URL as an autolink that chat apps make clickable; anything else as inert text.

    Inside ``<…>`` CommonMark parses no emphasis, so ``_`` and ``*`` (Software Heritage's
    ``origin_url=…``, many paths) stay as they are; characters never allowed raw in a URL are
    percent-encoded after the host, as a browser would send them. A host with such characters
    (``[::1]``) keeps the URL inert text.
    """
    if not _LINKABLE_URL.match(url):
        return md_text(url, 300)
    scheme, _, rest = url.partition("://")
    host, slash, tail = rest.partition("/")
    if _NOT_RAW_IN_URL.search(host):
        return md_text(url, 300)
    tail = _NOT_RAW_IN_URL.sub(lambda m: f"%{ord(m.group()):02X}", tail)
    return f"<{scheme}://{host}{slash}{tail}>"
