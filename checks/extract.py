"""Extraction's public face: papers and their classified links from files, text or records.

Everything downstream (checking, history, reports) keys on what this returns, so it aims to
find every URL a paper gives, exactly as written, and nothing that is not a URL.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import sys
import unicodedata
import warnings
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

from checks.claims import (
    claim_of,
    claims_without_url,
    is_promise,
    label_claim,
    might_claim,
    sentence_after,
    sentence_before,
    sentence_spans,
)
from checks.code_links import find_arxiv_id
from checks.errors import InputError, InputWarning
from checks.model import Link, Paper
from checks.paper_output import OUTPUT_FORMATS, format_papers, paper_record, write_papers
from checks.readings import HOW, URL_LIST, Reading, Unread
from checks.entry import Entry
from checks.sources import READERS, SNIFF_BYTES, detect_format, entries_from_records
from checks.text_stream import check_head, decode_chunks
from checks.link_kinds import arxiv_id, classify
from checks.urls import find_urls

FORMATS = tuple(READERS)

__all__ = [
    "FORMATS",
    "OUTPUT_FORMATS",
    "IdAllocator",
    "PaperStream",
    "Reading",
    "extract_links",
    "format_papers",
    "paper_record",
    "papers_from_records",
    "papers_from_text",
    "read_papers",
    "slugify",
    "stream_text",
    "write_papers",
]


# --- links of one text -----------------------------------------------------------------------


def extract_links(text: str) -> list[Link]:
    """All links in one abstract (or rendered list item), merged by ``normalized``, in order."""
    return _links_and_spans(text)[0]


def _links_and_spans(text: str, labels: Mapping[str, str] | None = None) -> tuple[list[Link], list[tuple[int, int]]]:
    """Links of ``text`` and the spans of their mentions; ``labels`` (normalized URL → link text)
    switches claims to the Markdown reading, where link texts are labels or titles, not sentences."""
    matches = find_urls(text)
    merged: dict[str, Link] = {}
    prev_end = 0
    for i, m in enumerate(matches):
        link = classify(m.url)
        next_start = matches[i + 1].start if i + 1 < len(matches) else None
        before = sentence_before(text, m.start, prev_end)
        after = sentence_after(text, m.end, next_start)
        if labels is None:
            claim = claim_of(before, after, link.kind)
        else:
            claim = label_claim(labels.get(link.normalized), after, link.kind)
        _merge(merged, Link(link.url, link.normalized, link.kind, claim, is_promise(before, after), link.owner,
                            link.name, link.ref, link.path, link.family))
        prev_end = m.end
    return list(merged.values()), [(m.start, m.end) for m in matches]


def _merge(merged: dict[str, Link], link: Link) -> None:
    """Mentions of one URL become one link: the first claim stands; a promise only if every mention promises."""
    old = merged.get(link.normalized)
    if old is None:
        merged[link.normalized] = link
    elif old.claim is None:
        merged[link.normalized] = dataclasses.replace(old, claim=link.claim, promise=link.promise)
    elif old.promise and not link.promise:
        merged[link.normalized] = dataclasses.replace(old, promise=False)


# --- entries to papers -----------------------------------------------------------------------


class IdAllocator:
    """Paper ids for one run: the input's id, else an arXiv id, else a title slug; never twice.

    Remembers 64-bit fingerprints of the ids, not the ids, so that a million-paper run stays
    small; a fingerprint collision costs at worst an unneeded ``-2`` suffix.
    """

    def __init__(self) -> None:
        self._used = _Fingerprints()

    def __call__(self, wanted: str) -> str:
        candidate, n = wanted, 1
        while not self._used.add(hash(candidate)):
            n += 1
            candidate = f"{wanted}-{n}"
        return candidate


class _Fingerprints:
    """A set of 64-bit integers in one flat array (open addressing): 16 bytes an entry, not ~70."""

    def __init__(self) -> None:
        self._slots = array("Q", bytes(8 * 1024))
        self._count = 0

    def add(self, value: int) -> bool:
        """Add ``value``; False if it was already there."""
        key = (value & 0xFFFFFFFFFFFFFFFF) or 1  # 0 marks an empty slot
        slots, mask = self._slots, len(self._slots) - 1
        i = key & mask
        while slots[i]:
            if slots[i] == key:
                return False
            i = (i + 1) & mask
        slots[i] = key
        self._count += 1
        if self._count * 2 > len(slots):
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("Q", bytes(16 * len(old)))
        self._count = 0
        for key in old:
            if key:
                self.add(key)


_SLUG_DROP_RE = re.compile(r"[\W_]+")


def slugify(title: str, limit: int = 80) -> str:
    """A stable, readable id from a title (Unicode letters kept, so CJK titles still get one)."""
    text = _SLUG_DROP_RE.sub("-", unicodedata.normalize("NFKC", title).casefold()).strip("-")
    if len(text) > limit:
        text = text[:limit].rsplit("-", 1)[0] if "-" in text[:limit] else text[:limit]
    return text or "paper"


def paper_from_entry(entry: Entry, source: str, ids: IdAllocator) -> Paper:
    """A ``Paper`` from one input entry: links found, claimed, merged; id allocated."""
    labels: dict[str, str] | None = None
    if entry.labels is not None:
        labels = {}
        for target, label in entry.labels:
            labels.setdefault(classify(target.lstrip("[")).normalized, label)
    found, spans = _links_and_spans(entry.text, labels)
    merged: dict[str, Link] = {}
    for url, claim in entry.fields:
        _merge(merged, dataclasses.replace(classify(url), claim=claim))
    for link in found:
        _merge(merged, link)
    links = tuple(merged.values())
    missing: tuple[str, ...] = ()
    if might_claim(entry.text):
        quiet = [entry.text[a:b] for a, b in _without(sentence_spans(entry.text), spans)]
        given = {link.claim for link in links}
        missing = tuple(c for c in claims_without_url(quiet) if c not in given)
    wanted = entry.id or _arxiv_of(entry.primary_url) or slugify(entry.title)
    cited = None if find_arxiv_id(wanted, links) else find_arxiv_id("", (), entry.text)  # one "arXiv:<id>" in its text
    return Paper(id=ids(wanted), title=entry.title, links=links, source=source, claims_without_url=missing,
                 cited_arxiv_id=cited)


def _without(sentences: list[tuple[int, int]], urls: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """The sentence spans that contain no URL span (both lists sorted: one sweep)."""
    i = 0
    for start, end in sentences:
        while i < len(urls) and urls[i][1] <= start:
            i += 1
        if i == len(urls) or urls[i][0] >= end:
            yield start, end


def _arxiv_of(url: str | None) -> str | None:
    return arxiv_id(classify(url)) if url else None


class PaperStream(Iterator[Paper]):
    """The papers of one input, as they are read, and ``reading``: how the input is being read.

    An iterator (iterate it once); ``reading`` is a ``Reading`` whose counts grow as papers are
    taken and are final (``complete``) once the stream is exhausted. ``close()`` releases the file.
    """

    def __init__(self, items: Iterator[Entry | Unread], *, source: str, fmt: str, detected: bool,
                 ids: IdAllocator | None = None, on_close: Callable[[], None] | None = None,
                 warn_if_empty: bool = False) -> None:
        self._items = items
        self._source = source
        self._fmt = fmt
        self._detected = detected
        self._ids = ids or IdAllocator()
        self._on_close = on_close
        self._warn_if_empty = warn_if_empty
        self._papers = self._links = 0
        self._url_list = True  # every paper so far is one URL titled by itself
        self._unread: dict[str, int] = {}
        self._done = False

    def __iter__(self) -> PaperStream:
        return self

    def __next__(self) -> Paper:
        if self._done:
            raise StopIteration
        try:
            for item in self._items:
                if isinstance(item, Unread):
                    self._unread[item.where] = self._unread.get(item.where, 0) + item.links
                    continue
                paper = paper_from_entry(item, self._source, self._ids)
                self._papers += 1
                self._links += len(paper.links)
                self._url_list = self._url_list and len(paper.links) == 1 and paper.title == paper.links[0].url
                return paper
        except BaseException:
            self.close()
            raise
        self.close()
        if not self._papers and self._warn_if_empty:
            warnings.warn(f"{self._source}: no papers found (read as {self.reading.how})", InputWarning, stacklevel=2)
        raise StopIteration

    def close(self) -> None:
        """Stop reading and release the input (done by itself at the end of the stream)."""
        if not self._done:
            self._done = True
            close = getattr(self._items, "close", None)
            if close:
                close()
            if self._on_close:
                self._on_close()

    def __del__(self) -> None:  # abandoned half-way: the file is still released
        if not getattr(self, "_done", True):
            self.close()

    @property
    def reading(self) -> Reading:
        how = URL_LIST if self._fmt == "lines" and self._url_list and self._papers else HOW[self._fmt]
        return Reading(source=self._source, format=self._fmt, how=how, detected=self._detected,
                       papers=self._papers, links=self._links, not_read=tuple(self._unread.items()),
                       complete=self._done)


def papers_from_records(records: Iterable[Mapping[str, Any]], *, source: str,
                        ids: IdAllocator | None = None) -> PaperStream:
    """Papers from dicts with title and summary/abstract (plus optional id, github_repo, project_page).

    The seam for API readers such as the Hugging Face daily papers feed: yield its items here.
    """
    return PaperStream(entries_from_records(records, source), source=source, fmt="records", detected=True, ids=ids)


def papers_from_text(text: str, *, source: str, input_format: str | None = None) -> list[Paper]:
    """Papers from an input already in memory (same formats and detection as ``read_papers``)."""
    return list(stream_text(text, source=source, input_format=input_format))


def stream_text(text: str, *, source: str, input_format: str | None = None) -> PaperStream:
    """``papers_from_text`` as a ``PaperStream``, for its ``reading``."""
    fmt = _check_format(input_format, source)
    if "\x00" in text:
        raise InputError(source, "binary content (NUL characters), not a text list of papers")
    detected = fmt is None
    fmt = fmt or (detect_format(text[:SNIFF_BYTES], complete=len(text) <= SNIFF_BYTES) if text.strip() else "text")
    items: Iterator[Entry | Unread] = READERS[fmt]([text], source) if text.strip() else iter(())
    return PaperStream(items, source=source, fmt=fmt, detected=detected)


def read_papers(path: str | os.PathLike[str], *, input_format: str | None = None) -> PaperStream:
    """Stream papers from a file (``"-"`` is standard input), format detected from content unless forced.

    Missing, unreadable, binary and empty inputs raise ``InputError`` here, before iteration;
    bytes that are not UTF-8 are replaced and an ``InputWarning`` says so. The stream's
    ``reading`` says how the file was read (``Reading.summary()`` is the line to show people).
    """
    source = os.fspath(path)
    fmt = _check_format(input_format, source)
    stream = _open(source)
    try:
        head = stream.read(SNIFF_BYTES)
        at_eof = len(head) < SNIFF_BYTES
        encoding = check_head(head, source, at_eof=at_eof)
        chunks = decode_chunks(stream, head, source, encoding)
        first = next(chunks, "")
        detected = fmt is None
        fmt = fmt or detect_format(first[:SNIFF_BYTES], complete=at_eof)
    except BaseException:
        _close(stream)
        raise
    return PaperStream(READERS[fmt](itertools.chain([first], chunks), source), source=source, fmt=fmt,
                       detected=detected, on_close=lambda: _close(stream), warn_if_empty=True)


def _check_format(input_format: str | None, source: str) -> str | None:
    if input_format is not None and input_format not in READERS:
        raise InputError(source, f"unknown input format {input_format!r}; expected one of {', '.join(READERS)}")
    return input_format


def _open(source: str) -> IO[bytes]:
    if source == "-":
        return sys.stdin.buffer
    try:
        return open(source, "rb")
    except FileNotFoundError:
        raise InputError(source, "file not found") from None
    except IsADirectoryError:
        raise InputError(source, "is a directory, not a file") from None
    except PermissionError:
        raise InputError(source, "permission denied") from None
    except OSError as exc:
        raise InputError(source, f"cannot read ({exc.strerror or exc})") from None


def _close(stream: IO[bytes]) -> None:
    if stream is not getattr(sys.stdin, "buffer", None):
        stream.close()
