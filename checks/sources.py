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

import json
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from checks.entry import Entry
from checks.errors import InputError, InputWarning
from checks.markdown_source import first_url, read_markdown
from checks.plain_text import is_url_list, plain_text_format, read_lines, read_pairs, read_text
from checks.readings import Unread
from checks.text_stream import iter_lines

SNIFF_BYTES = 64 * 1024
MAX_RECORD = 64 * 1024 * 1024  # characters of one JSON record


# A reader: decoded text chunks and the input's name in, entries (and notes of links it leaves out) out.
Reader = Callable[[Iterable[str], str], Iterator[Entry | Unread]]


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
            some_url = primary or next((url for url, _ in fields), None) or first_url(text)
            title = ident or some_url or ""
            warnings.warn(f"{source}: record {number} has no title; " + (f"titled {title!r}" if title else "dropped"),
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



READERS: dict[str, Reader] = {
    "hf-papers": read_hf_papers,
    "markdown": read_markdown,
    "json": read_json,
    "jsonl": read_jsonl,
    "lines": read_url_lines,
    "text": read_whole_text,
}
