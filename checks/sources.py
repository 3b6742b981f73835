"""Input readers: bytes on disk to ``Entry`` records (a title and the text that carries its links).

Readers stream: they take an iterable of decoded text chunks and yield entries as soon as
each is complete, so a 200 MB list costs the memory of one paper, not of the file. Format is
detected from the first 64 KiB or forced by name; a new source (e.g. the Hugging Face daily
papers API) plugs in by yielding dicts to ``entries_from_records`` or by adding to ``READERS``.
"""

from __future__ import annotations

import codecs
import html
import json
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from checks.errors import InputError, InputWarning
from checks.urls import find_urls

SNIFF_BYTES = 64 * 1024
CHUNK_BYTES = 256 * 1024
MAX_LINE = 8 * 1024 * 1024  # characters; no title or abstract is this long
MAX_RECORD = 64 * 1024 * 1024  # characters of one JSON record


@dataclass(frozen=True)
class Entry:
    """One paper as an input gives it, before its links are read.

    ``text`` is where links and claims are searched (an abstract, or a Markdown item rendered
    to text with its link targets written as ``<url>``). ``fields`` are links the input states
    outright, as (url, claim) pairs (``github_repo``, ``project_page``).
    """

    title: str
    text: str = ""
    id: str | None = None
    primary_url: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    line: int = 0
    labels: tuple[tuple[str, str], ...] | None = None  # Markdown only: (link target, link text)


Reader = Callable[[Iterable[str], str], Iterator[Entry]]


# --- bytes to text ---------------------------------------------------------------------------

_BINARY_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "gzip-compressed (decompress it first)",
    b"PK\x03\x04": "a zip archive",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x7fELF": "an executable",
}


def check_head(head: bytes, source: str, *, at_eof: bool) -> str:
    """The encoding to read with, or an ``InputError`` for empty and binary inputs."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if not head.strip() and at_eof:
        raise InputError(source, "empty file" if not head else "file contains only whitespace")
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise InputError(source, f"binary file ({what}), not a text list of papers")
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27)) if head else 0
    if b"\x00" in head or control > len(head) // 10:
        raise InputError(source, "binary file (contains NUL or control bytes), not a text list of papers")
    return "utf-8-sig"


def decode_chunks(stream: IO[bytes], head: bytes, source: str, encoding: str) -> Iterator[str]:
    """Decoded text of ``head`` and then the rest of ``stream``, chunk by chunk.

    Bytes that are not valid in ``encoding`` become U+FFFD, and a warning says so once.
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    data = head
    while True:
        final = not data
        try:
            text = decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            pending, _ = decoder.getstate()
            warnings.warn(
                f"{source}: not valid {encoding.removesuffix('-sig').upper()} (first bad byte near offset "
                f"{offset - len(pending) + exc.start}); undecodable bytes were replaced with U+FFFD",
                InputWarning,
                stacklevel=2,
            )
            decoder = codecs.getincrementaldecoder(encoding)("replace")
            text = decoder.decode(pending + data, final=final)
        if text:
            yield text
        if final:
            return
        offset += len(data)
        data = stream.read(CHUNK_BYTES)


def iter_lines(chunks: Iterable[str], source: str) -> Iterator[str]:
    """Lines (without line ends) of a chunked text, refusing absurdly long ones."""
    tail = ""
    number = 0
    for chunk in chunks:
        parts = (tail + chunk).split("\n")
        tail = parts.pop()
        for line in parts:
            number += 1
            yield line.removesuffix("\r")
        if len(tail) > MAX_LINE:
            raise InputError(source, f"line {number + 1} is longer than {MAX_LINE // (1024 * 1024)} MiB; "
                                     "not a text list of papers")
    if tail:
        yield tail.removesuffix("\r")


# --- format detection ------------------------------------------------------------------------

_HF_MARKERS = ("Get trending papers in your email inbox", "byAK and the research community")
_MD_SIGNAL_RE = re.compile(
    r"^\s{0,3}(?:#{1,6}\s|[-*+]\s+\[|\d{1,9}[.)]\s+\[|\|.*\|)|\]\((?:https?:|www\.)", re.MULTILINE
)


def detect_format(sample: str) -> str:
    """``json``, ``jsonl``, ``markdown`` or ``hf-papers``, judged from the start of an input."""
    stripped = sample.lstrip("\ufeff \t\r\n")
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        first = stripped.partition("\n")[0]
        try:
            value = json.loads(first)
        except ValueError:
            return "json"
        return "json" if _wrapper_key(value) else "jsonl"
    if any(marker in sample for marker in _HF_MARKERS):
        return "hf-papers"
    if _MD_SIGNAL_RE.search(sample):
        return "markdown"
    return "hf-papers"


# --- Hugging Face papers page text -----------------------------------------------------------

_HEADER_RE = re.compile(
    r"^(?:new|subscribe|daily papers|get trending papers in your email inbox!?|by\s*ak and the research community"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:,?\s+\d{4})?)$",
    re.IGNORECASE,
)
_LONGEST_TITLE = 400


def read_hf_papers(chunks: Iterable[str], source: str) -> Iterator[Entry]:
    """Hugging Face papers page text: header lines, then blank-line separated title / abstract blocks."""
    title: tuple[int, str] | None = None
    in_header = True
    for line_no, block in _blocks(iter_lines(chunks, source)):
        if in_header and _HEADER_RE.match(block):
            continue
        in_header = False
        if title is None:
            if len(block) > _LONGEST_TITLE:
                warnings.warn(f"{source}: line {line_no}: expected a title, found {len(block):,} characters; "
                              "the title/abstract pairing may be off", InputWarning, stacklevel=2)
            title = (line_no, block)
            continue
        yield Entry(title=title[1], text=block, line=title[0])
        title = None
    if title is not None:
        warnings.warn(f"{source}: line {title[0]}: title with no abstract", InputWarning, stacklevel=2)
        yield Entry(title=title[1], line=title[0])


def _blocks(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """Blank-line separated blocks, each with the number of its first line, lines joined by spaces."""
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text:
            if not current:
                start = number
            current.append(text)
        elif current:
            yield start, " ".join(current)
            current = []
    if current:
        yield start, " ".join(current)


# --- JSON and JSON Lines ---------------------------------------------------------------------

_ID_KEYS = ("id", "arxiv_id", "arxivId", "paper_id")
_TEXT_KEYS = ("abstract", "summary")
_FIELD_KEYS = (("github_repo", "code"), ("githubRepo", "code"), ("project_page", "project"),
               ("projectPage", "project"))


def entries_from_records(records: Iterable[Mapping[str, Any]], source: str) -> Iterator[Entry]:
    """Entries from dicts with ``title`` and ``abstract``/``summary`` (optional ``id``/``arxiv_id``,
    ``github_repo``, ``project_page``, ``url``). A nested ``paper`` dict (the Hugging Face daily
    papers API shape) is read too. This is the seam for API readers: yield dicts, get entries.
    """
    for number, record in enumerate(records, 1):
        if not isinstance(record, Mapping):
            raise InputError(source, f"record {number} is a JSON {type(record).__name__}, not an object")
        nested = record.get("paper")
        if isinstance(nested, Mapping):
            record = {**nested, **{k: v for k, v in record.items() if v not in (None, "")}}
        title = _text(record.get("title"))
        if not title:
            warnings.warn(f"{source}: record {number} has no title; skipped", InputWarning, stacklevel=2)
            continue
        text = next((_text(record[k]) for k in _TEXT_KEYS if _text(record.get(k))), "")
        ident = next((_text(record[k]) for k in _ID_KEYS if _text(record.get(k))), None)
        fields = tuple((_text(record[k]), claim) for k, claim in _FIELD_KEYS if _text(record.get(k)))
        primary = _text(record.get("url")) or None
        yield Entry(title=title, text=text, id=ident, primary_url=primary, fields=fields, line=number)


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return " ".join(str(value).split())


def read_jsonl(chunks: Iterable[str], source: str) -> Iterator[Entry]:
    """One JSON object per line; blank lines are allowed, invalid ones are an error."""

    def records() -> Iterator[Any]:
        for number, line in enumerate(iter_lines(chunks, source), 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise InputError(source, f"line {number}: invalid JSON ({_reason(exc)})") from None

    return entries_from_records(records(), source)


def read_json(chunks: Iterable[str], source: str) -> Iterator[Entry]:
    """A JSON array of paper objects (streamed element by element), or one object holding one."""
    return entries_from_records(_json_values(iter(chunks), source), source)


def _json_values(chunks: Iterator[str], source: str) -> Iterator[Any]:
    decoder = json.JSONDecoder()
    buf, pos, exhausted = "", 0, False

    def more() -> bool:
        nonlocal buf, pos, exhausted
        piece = next(chunks, None)
        if piece is None:
            exhausted = True
            return False
        buf, pos = buf[pos:] + piece, 0
        return True

    def skip_space() -> str:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n\ufeff":
                pos += 1
            if pos < len(buf) or not more():
                return buf[pos] if pos < len(buf) else ""

    first = skip_space()
    if first == "{":
        yield from _whole_object(buf[pos:] + "".join(chunks), source)
        return
    if first != "[":
        raise InputError(source, "invalid JSON: expected an array of papers")
    pos += 1
    count = 0
    while True:
        ch = skip_space()
        if ch == "]":
            return
        if count:
            if ch != ",":
                raise InputError(source, f"invalid JSON after element {count}: expected ',' or ']'")
            pos += 1
            skip_space()
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
                break
            except ValueError as exc:
                if len(buf) - pos > MAX_RECORD or exhausted or not more():
                    raise InputError(source, f"invalid JSON in element {count + 1} ({_reason(exc)})") from None
        pos = end
        count += 1
        yield value


def _whole_object(text: str, source: str) -> Iterator[Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InputError(source, f"invalid JSON ({_reason(exc)})") from None
    key = _wrapper_key(value)
    yield from value[key] if key else [value]


def _wrapper_key(value: Any) -> str | None:
    """The key of the paper list in ``{"papers": [...]}``-style wrappers, if ``value`` is one."""
    if isinstance(value, dict) and "title" not in value:
        return next((k for k in ("papers", "items", "data", "results") if isinstance(value.get(k), list)), None)
    return None


def _reason(exc: Exception) -> str:
    return str(exc).split(":", 1)[0] if isinstance(exc, json.JSONDecodeError) else str(exc)


# --- Markdown lists --------------------------------------------------------------------------

_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")
_ITEM_RE = re.compile(r"^\s*+(?:>\s*+)*(?:[-*+]|\d{1,9}[.)])\s++(?P<body>.*)$")
_RULE_RE = re.compile(r"^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
_ROW_RE = re.compile(r"^\s*+(?:>\s*+)*\|(?P<body>.*)$")
_DELIMITER_RE = re.compile(r"^\s*+\|?\s*+:?-++:?\s*+(?:\|\s*+:?-++:?\s*+)*\|?\s*+$")
_HEADING_RE = re.compile(r"^\s{0,3}(?:#{1,6}(?:\s|$)|<(?!li\b)[A-Za-z/!])")
_LI_RE = re.compile(r"^\s*+(?>(?:<(?:ul|ol)\b[^>]*+>\s*+)*)<li\b[^>]*+>(?P<body>.*)$", re.IGNORECASE)
_CELL_SPLIT_RE = re.compile(r"(?<!\\)\|")
_TITLE_COLUMN_RE = re.compile(r"\b(?:paper|title|name|model|project)s?\b", re.IGNORECASE)


def read_markdown(chunks: Iterable[str], source: str) -> Iterator[Entry]:
    """Markdown lists of papers: each list item or table row that links somewhere is a paper.

    Items without an external link (tables of contents, prose bullets) are not papers; HTML
    comments and fenced code are not rendered by GitHub, so their links are not read either.
    """
    item: list[str] = []
    item_line = 0
    header: list[str] | None = None
    pending_row: tuple[int, str] | None = None
    in_fence = in_comment = False

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
        line, in_comment = _strip_comments(raw, in_comment)
        if _FENCE_RE.match(line):
            in_fence = not in_fence
            yield from flush_item()
            continue
        if in_fence:
            continue
        if pending_row and _DELIMITER_RE.match(line):
            header = _cells(pending_row[1])
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
    yield from flush_row()
    yield from flush_item()


def _strip_comments(line: str, in_comment: bool) -> tuple[str, bool]:
    """The line with HTML comments removed, and whether a comment is still open after it."""
    out: list[str] = []
    pos = 0
    while pos <= len(line):
        if in_comment:
            end = line.find("-->", pos)
            if end < 0:
                return "".join(out), True
            pos, in_comment = end + 3, False
        else:
            start = line.find("<!--", pos)
            if start < 0:
                out.append(line[pos:])
                break
            out.append(line[pos:start])
            pos, in_comment = start + 4, True
    return "".join(out), in_comment


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
        column = next((i for i, cell in enumerate(rendered_cells) if _first_url(cell)), 0)
    title = plain_text(cells[column]) or next((plain_text(c) for c in cells if plain_text(c)), "")
    primary = _first_url(rendered_cells[column]) or found[0].url
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


def _first_url(rendered: str) -> str | None:
    found = find_urls(rendered)
    return found[0].url if found else None


READERS: dict[str, Reader] = {
    "hf-papers": read_hf_papers,
    "markdown": read_markdown,
    "json": read_json,
    "jsonl": read_jsonl,
}
