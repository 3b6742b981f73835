"""The Markdown reader: each list item or table row of a paper list that links somewhere is a paper.

Renders just enough Markdown (links, images, emphasis, escapes, entities, inline HTML anchors) to
find an item's title and its links, and reports the links it deliberately leaves out (headings,
paragraphs, fenced code, HTML comments) as ``Unread``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator

from checks.entry import Entry
from checks.readings import Unread
from checks.text_stream import iter_lines
from checks.urls import find_urls

_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")
_ITEM_RE = re.compile(r"^\s*+(?:>\s*+)*(?:[-*+]|\d{1,9}[.)])\s++(?P<body>.*)$")
_RULE_RE = re.compile(r"^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
_ROW_RE = re.compile(r"^\s*+(?:>\s*+)*\|(?P<body>.*)$")
_DELIMITER_RE = re.compile(r"^\s*+\|?\s*+:?-++:?\s*+(?:\|\s*+:?-++:?\s*+)*\|?\s*+$")
_HEADING_RE = re.compile(r"^\s{0,3}(?:#{1,6}(?:\s|$)|<(?!li\b)[A-Za-z/!])")
_LI_RE = re.compile(r"^\s*+(?>(?:<(?:ul|ol)\b[^>]*+>\s*+)*)<li\b[^>]*+>(?P<body>.*)$", re.IGNORECASE)
_CELL_SPLIT_RE = re.compile(r"(?<!\\)\|")
_TITLE_COLUMN_RE = re.compile(r"\b(?:paper|title|name|model|project)s?\b", re.IGNORECASE)


def read_markdown(chunks: Iterable[str], source: str) -> Iterator[Entry | Unread]:
    """Markdown lists of papers: each list item or table row that links somewhere is a paper.

    Items without an external link (tables of contents, prose bullets) are not papers. Links
    elsewhere are not papers' links, and are reported as not read: in headings, paragraphs and
    table headers (navigation, badges, contacts), in HTML comments and fenced code (which GitHub
    does not render as links).
    """
    item: list[str] = []
    item_line = 0
    header: list[str] | None = None
    pending_row: tuple[int, str] | None = None
    in_fence = in_comment = False
    fence_line = fenced_links = 0

    def flush_item() -> Iterator[Entry]:
        nonlocal item
        if item:
            entry = markdown_item(" ".join(item), item_line)
            item = []
            if entry:
                yield entry

    def flush_row() -> Iterator[Entry]:
        nonlocal pending_row
        if pending_row:
            entry = markdown_row(pending_row[1], header, pending_row[0])
            pending_row = None
            if entry:
                yield entry

    for number, raw in enumerate(iter_lines(chunks, source), 1):
        line, in_comment, hidden = _strip_comments(raw, in_comment)
        if hidden and find_urls(hidden):
            yield Unread(UNREAD_IN_COMMENTS, len(find_urls(hidden)), number)
        if _FENCE_RE.match(line):
            if in_fence and fenced_links:
                yield Unread(UNREAD_IN_CODE, fenced_links, fence_line)
            in_fence, fence_line, fenced_links = not in_fence, number, 0
            yield from flush_item()
            continue
        if in_fence:
            fenced_links += len(find_urls(line))
            continue
        if pending_row and _DELIMITER_RE.match(line):
            header = _cells(pending_row[1])
            yield from _outside(render_markdown(pending_row[1])[0], pending_row[0])
            pending_row = None
            continue
        yield from flush_row()
        row = _ROW_RE.match(line)
        if row:
            yield from flush_item()
            pending_row = (number, row.group("body"))
            continue
        header = None
        start = _ITEM_RE.match(line) or _LI_RE.match(line)
        if start and not _RULE_RE.match(line):
            yield from flush_item()
            item, item_line = [start.group("body")], number
        elif item and line.strip() and not _HEADING_RE.match(line):
            item.append(line.strip())
        else:
            yield from flush_item()
            if line.strip():
                yield from _outside(render_markdown(line)[0], number)
    if in_fence and fenced_links:
        yield Unread(UNREAD_IN_CODE, fenced_links, fence_line)
    yield from flush_row()
    yield from flush_item()


UNREAD_IN_CODE = "in fenced code"
UNREAD_IN_COMMENTS = "in HTML comments"
UNREAD_OUTSIDE = "outside list items and table rows (headings, paragraphs)"


def _outside(rendered: str, line: int) -> Iterator[Unread]:
    found = find_urls(rendered)
    if found:
        yield Unread(UNREAD_OUTSIDE, len(found), line)


def _strip_comments(line: str, in_comment: bool) -> tuple[str, bool, str]:
    """The line with HTML comments removed, whether a comment is still open after it, and the removed text."""
    out: list[str] = []
    hidden: list[str] = []
    pos = 0
    while pos <= len(line):
        if in_comment:
            end = line.find("-->", pos)
            if end < 0:
                hidden.append(line[pos:])
                return "".join(out), True, " ".join(hidden)
            hidden.append(line[pos:end])
            pos, in_comment = end + 3, False
        else:
            start = line.find("<!--", pos)
            if start < 0:
                out.append(line[pos:])
                break
            out.append(line[pos:start])
            pos, in_comment = start + 4, True
    return "".join(out), in_comment, " ".join(hidden)


def _cells(body: str) -> list[str]:
    body = body.strip()
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [cell.strip() for cell in _CELL_SPLIT_RE.split(body)]


def markdown_item(body: str, line: int) -> Entry | None:
    """A list item: its title is the text before its first link, or that link's text."""
    rendered, first_link, labels = render_markdown(body)
    found = find_urls(rendered)
    if not found:
        return None
    title = _item_title(body, first_link)
    primary = found[0].url
    return Entry(title=title or primary or "", text=rendered, primary_url=primary, line=line, labels=labels)


def markdown_row(body: str, header: list[str] | None, line: int) -> Entry | None:
    """A table row: its title is the cell under a Paper/Title/Name/Model header, else the first linked cell."""
    cells = _cells(body)
    renderings = [render_markdown(cell) for cell in cells]
    rendered_cells = [r[0] for r in renderings]
    text = " | ".join(rendered_cells)
    found = find_urls(text)
    if not found:
        return None
    column = None
    if header:
        column = next((i for i, name in enumerate(header) if _TITLE_COLUMN_RE.search(name) and i < len(cells)), None)
    if column is None:
        column = next((i for i, cell in enumerate(rendered_cells) if first_url(cell)), 0)
    title = plain_text(cells[column]) or next((plain_text(c) for c in cells if plain_text(c)), "")
    primary = first_url(rendered_cells[column]) or found[0].url
    labels = tuple(pair for r in renderings for pair in r[2])
    return Entry(title=title or primary or "", text=text, primary_url=primary, line=line, labels=labels)


_IMAGE_RE = re.compile(r"!\[[^\[\]\n]{0,1000}+\]\(\s*+(?:<[^<>\n]*+>|[^\s()<>]*+(?>(?:\([^\s()<>]*+\)[^\s()<>]*+)*))"
                       r"(?:\s++\"[^\"\n]*+\")?\s*+\)")
_LINK_RE = re.compile(r"\[(?P<text>[^\[\]\n]{0,1000}+)\]\(\s*+(?:<(?P<angle>[^<>\n]*+)>|(?P<dest>[^\s()<>]*+"
                      r"(?>(?:\([^\s()<>]*+\)[^\s()<>]*+)*)))(?:\s++\"[^\"\n]*+\")?\s*+\)")
_ANCHOR_RE = re.compile(r"<a\b[^<>]{0,1000}?\bhref\s*+=\s*+[\"'](?P<dest>[^\"'<>\s]*+)[\"'][^<>]{0,1000}+>"
                        r"(?P<text>[^<]{0,1000}+)(?:</a\s*+>)?", re.IGNORECASE)
_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]{0,30}+(?:\s[^<>]{0,1000}+)?/?>")
_EXTERNAL_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|www\.|(?:github\.com|huggingface\.co|hf\.co)/)", re.IGNORECASE)
_EMPHASIS_RE = re.compile(r"\*\*|__|~~|`")
_ESCAPE_RE = re.compile(r"\\([!-/:-@\[-`{-~])")
_URL_IN_TEXT_RE = re.compile(r"<((?i:https?://|www\.)[^<>\s]++)>")
_TITLE_TRIM = " \t-–—:|,;"
_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def unescape_entities(text: str) -> str:
    """Entity references as CommonMark reads them: only complete ones (``&times`` in a URL stays)."""
    return _ENTITY_RE.sub(lambda m: html.unescape(m.group()), text) if "&" in text else text


def render_markdown(text: str) -> tuple[str, str | None, tuple[tuple[str, str], ...]]:
    """Inline Markdown/HTML to text, link targets kept as ``<url>`` after their text.

    Returns the rendering, the text of the first link (for titles) and (target, text) of each
    external link (for claims). Images vanish: a badge is decoration, not an artifact.
    """
    first: list[str] = []
    labels: list[tuple[str, str]] = []

    def link(m: re.Match[str]) -> str:
        label = m.group("text")
        groups = m.groupdict()
        dest = unescape_entities(groups["angle"] if groups.get("angle") is not None else groups["dest"] or "")
        if not first:
            first.append(label)
        if not _EXTERNAL_RE.match(dest.lstrip("[")):
            return label
        labels.append((dest, plain_text(label)))
        return f"{label} <{dest}>"

    text = _IMAGE_RE.sub("", text)
    text = _ANCHOR_RE.sub(link, text)
    text = _TAG_RE.sub(" ", text)
    text = _LINK_RE.sub(link, text)
    return text, (first[0] if first else None), tuple(labels)


def plain_text(markdown: str) -> str:
    """What a reader sees of a Markdown fragment: link texts, no targets, no markup."""
    text = _IMAGE_RE.sub("", markdown)
    text = _ANCHOR_RE.sub(lambda m: m.group("text"), text)
    text = _TAG_RE.sub(" ", text)
    text = _LINK_RE.sub(lambda m: m.group("text"), text)
    text = _EMPHASIS_RE.sub("", text)
    text = unescape_entities(_ESCAPE_RE.sub(r"\1", text))
    return " ".join(text.split()).strip(_TITLE_TRIM)


_GENERIC_LABELS = frozenset(
    "paper pdf arxiv link code github repo repository blog video slides homepage project page website demo ckpt "
    "weights model models data dataset huggingface hf".split()
)


def _item_title(body: str, first_link: str | None) -> str:
    """The words before the first link; but "Core modules: [BCEmbedding](…)" is titled by its link,
    while "Some Paper: [code](…)" keeps its prefix, since a generic label names no paper."""
    body = _IMAGE_RE.sub("", body)
    label = plain_text(first_link) if first_link is not None else ""
    cut = min((m.start() for m in (_LINK_RE.search(body), _ANCHOR_RE.search(body)) if m), default=None)
    if cut is not None:
        prefix = plain_text(body[:cut])
        if prefix and (not body[:cut].rstrip().endswith(":") or not label or _is_generic(label)):
            return prefix
    return label or plain_text(_URL_IN_TEXT_RE.sub("", render_markdown(body)[0]))


def _is_generic(label: str) -> bool:
    words = label.lower().split()
    return 0 < len(words) <= 2 and all(word.strip("[]().:") in _GENERIC_LABELS for word in words)


def first_url(rendered: str) -> str | None:
    """The first URL in a text, if any."""
    found = find_urls(rendered)
    return found[0].url if found else None
