"""Papers out: the JSON/JSONL shape of a paper (``paper_record``) and a terminal table.

What ``paperwatch extract`` prints; kept apart from reading so either can change alone.
"""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Iterable
from typing import Any, TextIO

from checks.model import Paper

OUTPUT_FORMATS = ("jsonl", "json", "table")

_LINK_KEYS = ("url", "normalized", "kind", "claim", "promise")
_OPTIONAL_LINK_KEYS = ("owner", "name", "ref", "path", "family")


def paper_record(paper: Paper) -> dict[str, Any]:
    """The JSON shape of a paper: ``Paper.to_dict`` without the link fields that do not apply."""
    links = []
    for link in paper.links:
        data = link.to_dict()
        record = {key: data[key] for key in _LINK_KEYS}
        record.update({key: data[key] for key in _OPTIONAL_LINK_KEYS if data[key] is not None})
        links.append(record)
    return {"id": paper.id, "title": paper.title, "source": paper.source, "links": links,
            "claims_without_url": list(paper.claims_without_url)}


def write_papers(papers: Iterable[Paper], stream: TextIO, fmt: str = "jsonl") -> int:
    """Write papers as ``jsonl`` (one object a line), ``json`` (one array) or ``table``; returns the count."""
    count = 0
    if fmt == "jsonl":
        for paper in papers:
            stream.write(_json_line(paper) + "\n")
            count += 1
        return count
    if fmt == "json":
        stream.write("[")
        for paper in papers:
            stream.write(("," if count else "") + "\n  " + _json_line(paper))
            count += 1
        stream.write("\n]\n" if count else "]\n")
        return count
    if fmt == "table":
        return _write_table(papers, stream)
    raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(OUTPUT_FORMATS)}")


_LINE_BREAKERS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _json_line(paper: Paper) -> str:
    """One paper as JSON on one line, even for tools that also split lines at U+0085/U+2028/U+2029."""
    return json.dumps(paper_record(paper), ensure_ascii=False).translate(_LINE_BREAKERS)


def format_papers(papers: Iterable[Paper], fmt: str = "jsonl") -> str:
    """``write_papers`` into a string."""
    buffer = io.StringIO()
    write_papers(papers, buffer, fmt)
    return buffer.getvalue()


_TITLE_WIDTH, _KIND_WIDTH, _CLAIM_WIDTH = 50, 13, 16


def _write_table(papers: Iterable[Paper], stream: TextIO) -> int:
    """People read this: one row per link, papers without links shown only if they claim something."""
    stream.write(f"{'PAPER':<{_TITLE_WIDTH}}  {'KIND':<{_KIND_WIDTH}}  {'CLAIM':<{_CLAIM_WIDTH}}  URL\n")
    count = with_links = total_links = claiming = 0
    for paper in papers:
        count += 1
        title = _cut(paper.title, _TITLE_WIDTH)
        for link in paper.links:
            claim = (link.claim or "-") + (" (promised)" if link.promise else "")
            stream.write(f"{_pad(title, _TITLE_WIDTH)}  {link.kind!s:<{_KIND_WIDTH}}  {claim:<{_CLAIM_WIDTH}}  "
                         f"{link.url}\n")
            title = ""
        if paper.claims_without_url:
            claiming += 1
            stream.write(f"{_pad(title, _TITLE_WIDTH)}  {'(no URL)':<{_KIND_WIDTH}}  "
                         f"{', '.join(paper.claims_without_url)}\n")
        with_links += bool(paper.links)
        total_links += len(paper.links)
    stream.write(f"\n{count} papers, {with_links} with links, {total_links} links; "
                 f"{claiming} claim code, data or a model without giving a URL\n")
    return count


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cut(text: str, width: int) -> str:
    """At most ``width`` terminal columns (CJK characters take two)."""
    if _columns(text) <= width:
        return text
    while _columns(text) > width - 1:
        text = text[:-1]
    return text + "…"


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _columns(text))
