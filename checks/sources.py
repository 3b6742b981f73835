"""Input readers: bytes on disk to ``Entry`` records (a title and the text that carries its links).

Readers stream: they take an iterable of decoded text chunks and yield entries as soon as
each is complete, so a 200 MB list costs the memory of one paper, not of the file; between
entries they may yield ``Unread`` notes for links their format deliberately leaves out (fenced
code, comments), which the input's ``Reading`` counts. Format is detected from the first 64 KiB
or forced by name; a new source (e.g. the Hugging Face daily papers API) plugs in by yielding
dicts to ``entries_from_records`` or by adding to ``READERS``. Plain-text shapes and their
readers live in ``checks.plain_text``.
"""

from __future__ import annotations

import codecs
import html
import json
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

from checks.entry import Entry
from checks.errors import InputError, InputWarning
from checks.plain_text import is_url_list, plain_text_format, read_lines, read_pairs, read_text
from checks.readings import Unread
from checks.urls import find_urls

SNIFF_BYTES = 64 * 1024
CHUNK_BYTES = 256 * 1024
MAX_LINE = 8 * 1024 * 1024  # characters; no title or abstract is this long
MAX_RECORD = 64 * 1024 * 1024  # characters of one JSON record


# A reader: decoded text chunks and the input's name in, entries (and notes of links it leaves out) out.
Reader = Callable[[Iterable[str], str], Iterator[Entry | Unread]]


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
# A list item that holds a URL ("- Paper A https://github.com/a/a"); two of them make a Markdown list.
_MD_ITEM_WITH_URL_RE = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,9}[.)])\s+\S.*?(?:https?://|www\.)", re.MULTILINE)


# A JSON array of records or a JSON object starts so; "[1] Smith et al." or "[Paper](url)" does not.
_JSON_ARRAY_RE = re.compile(r"\[\s*+(?:[{\]\[\"]|\Z)")
_JSON_OBJECT_RE = re.compile(r"\{\s*+(?:[\"}]|\Z)")


def detect_format(sample: str, *, complete: bool = True) -> str:
    """The reader for an input, judged from its start: ``sample`` (its first 64 KiB), ``complete``
    when the sample is the whole input.

    JSON (``json``, ``jsonl``) by how it opens (``[{``, ``{"``); ``hf-papers`` for a Hugging Face papers
    page; ``lines`` for a URL list (each line a URL, ``#`` comments allowed, bullets or not);
    ``markdown`` for headings, tables, link syntax or list items holding URLs; otherwise the
    plain-text shape (``plain_text.plain_text_format``): one paper a line, one paper, or
    title/abstract pairs.
    """
    stripped = sample.lstrip("\ufeff \t\r\n")
    if _JSON_ARRAY_RE.match(stripped):
        return "json"
    if _JSON_OBJECT_RE.match(stripped):
        first = stripped.partition("\n")[0]
        try:
            value = json.loads(first)
        except ValueError:
            return "json"
        return "json" if _wrapper_key(value) else "jsonl"
    if any(marker in sample for marker in _HF_MARKERS):
        return "hf-papers"
    lines = sample.splitlines()
    if not complete and len(lines) > 1:
        lines.pop()  # the sample may end mid-line
    if is_url_list(lines):
        return "lines"
    if _MD_SIGNAL_RE.search(sample) or _has_two(_MD_ITEM_WITH_URL_RE, sample):
        return "markdown"
    return plain_text_format(lines, complete)


def _has_two(pattern: re.Pattern[str], text: str) -> bool:
    return sum(1 for _ in zip(range(2), pattern.finditer(text))) == 2


def read_hf_papers(chunks: Iterable[str], source: str) -> Iterator[Entry]:
    """Title/abstract pairs (a Hugging Face papers page, or any text of blank-line separated blocks)."""
    return read_pairs(iter_lines(chunks, source), source)


def read_url_lines(chunks: Iterable[str], source: str) -> Iterator[Entry | Unread]:
    """One paper a line: a URL list, or lines that each name a paper and its links."""
    return read_lines(iter_lines(chunks, source), source)


def read_whole_text(chunks: Iterable[str], source: str) -> Iterator[Entry]:
    """The whole text as one paper (a single abstract, a single line)."""
    return read_text(iter_lines(chunks, source), source)


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
        text = next((_text(record[k]) for k in _TEXT_KEYS if _text(record.get(k))), "")
        ident = next((_text(record[k]) for k in _ID_KEYS if _text(record.get(k))), None)
        fields = tuple((_text(record[k]), claim) for k, claim in _FIELD_KEYS if _text(record.get(k)))
        primary = _text(record.get("url")) or None
        if not title:
            # a record without a title still gives its links, under its id or first URL
            first_url = primary or next((url for url, _ in fields), None) or _first_url(text)
            title = ident or first_url or ""
            warnings.warn(f"{source}: record {number} has no title; " + (f"titled {title!r}" if title else "skipped"),
                          InputWarning, stacklevel=2)
            if not title:
                continue
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
    "lines": read_url_lines,
    "text": read_whole_text,
}
