"""Plain-text inputs: which shape a text file has, and the reading that fits each shape.

A text file of papers comes in a few shapes, and each has its reading (its format name):

- ``hf-papers``: blocks separated by blank lines, a title and then its abstract (the Hugging
  Face papers page saved as text, and any file of title/abstract pairs);
- ``lines``: one paper a line, a URL list (each URL a paper of its own) or lines such as
  ``Title https://github.com/o/r`` (the line's links are that paper's);
- ``text``: one block of prose, a single abstract or a single line: one paper with every link.

Whatever the reading, every URL in the text ends up in some paper (titles' URLs too), or is
reported as not read (URLs in ``#`` comment lines of a URL list). Readers take lines (without
line ends) and yield entries as each is complete, so memory stays flat however long the file.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator

from checks.entry import Entry
from checks.errors import InputError, InputWarning
from checks.readings import Unread
from checks.urls import UrlMatch, find_urls

MAX_TEXT = 64 * 1024 * 1024  # characters read as one paper; no abstract is this long

_COMMENT_PREFIXES = ("#", "//")
# What may stand around the URLs of a URL-list line: bullets, numbers, brackets, punctuation.
_URL_LINE_DECORATION = frozenset(" \t-*+•>|<()[]{}0123456789.,;:!?\"'")
_TITLE_STRIP = " \t-–—:|,;.*+•>()[]<>"
_TITLE_COLUMNS = 120


# --- which shape -----------------------------------------------------------------------------


def is_url_list(lines: list[str]) -> bool:
    """Is every line a URL (or a few), apart from blank lines and ``#`` / ``//`` comments?"""
    seen = False
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith(_COMMENT_PREFIXES):
            continue
        found = find_urls(line)
        if not found or not _only_urls(line, found):
            return False
        seen = True
    return seen


def plain_text_format(lines: list[str], complete: bool) -> str:
    """``lines``, ``text`` or ``hf-papers`` for a text that is not a URL list, Markdown or JSON.

    Several lines that each hold a URL are one paper a line, and so are three or more under a
    header line without one (a CSV or TSV export: ``title,url``). A single block is one abstract
    (``text``) when the sample is the whole input; a single block longer than the sample is no
    abstract, and is read a paper a line so that memory stays flat. Otherwise: title/abstract pairs.
    """
    content = [line for line in lines if line.strip()]
    if len(content) > 1 and all(find_urls(line) for line in content[1:]) and not _wrapped_prose(content) and (
            find_urls(content[0]) or len(content) > 2 and _is_table_header(content)):
        return "lines"
    blocks = sum(1 for i, line in enumerate(lines) if line.strip() and (i == 0 or not lines[i - 1].strip()))
    if blocks == 1:
        return "text" if complete else "lines"
    return "hf-papers"


def _wrapped_prose(content: list[str]) -> bool:
    """Is this one paragraph broken over lines ("…data at" / "https://…"), not a line per paper?

    A line that stops mid-sentence (on a letter or a comma, not on its URL) and is continued by a
    lower-case word or a URL on the next line is prose; "Title https://…" lines each stand alone.
    """
    for line, after in zip(content, content[1:]):
        end = line.rstrip()
        found = find_urls(end)
        if found and found[-1].end == len(end):
            continue  # the line ends on its URL
        head = after.lstrip()
        if (end[-1:].isalpha() or end.endswith(",")) and (head[:1].islower() or head.lower().startswith(("http", "www."))):
            return True
    return False


def _is_table_header(content: list[str]) -> bool:
    """Does the first line head a CSV/TSV table: a delimiter that every line holds?"""
    delimiter = next((d for d in "\t,;|" if d in content[0]), None)
    return delimiter is not None and all(delimiter in line for line in content)


def _only_urls(line: str, found: list[UrlMatch]) -> bool:
    rest = _without(line, found)
    return all(ch in _URL_LINE_DECORATION for ch in rest)


def _without(line: str, found: list[UrlMatch]) -> str:
    parts, at = [], 0
    for m in found:
        parts.append(line[at : m.start])
        at = m.end
    parts.append(line[at:])
    return " ".join(parts)


# --- title / abstract pairs ------------------------------------------------------------------

_HEADER_RE = re.compile(
    r"^(?:new|subscribe|daily papers|get trending papers in your email inbox!?|by\s*ak and the research community"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:,?\s+\d{4})?)$",
    re.IGNORECASE,
)
_LONGEST_TITLE = 400


def read_pairs(lines: Iterable[str], source: str) -> Iterator[Entry]:
    """Header lines (a Hugging Face papers page's), then blank-line separated title / abstract blocks.

    A URL written in a title block belongs to that paper too, so a title without an abstract
    (the last block of a file, or a file of one line) keeps its links.
    """
    title: tuple[int, list[str]] | None = None
    in_header = True
    for line_no, block in blocks(lines):
        if in_header and _HEADER_RE.match(" ".join(block)):
            continue
        in_header = False
        if title is None:
            size = sum(len(line) + 1 for line in block) - 1
            if size > _LONGEST_TITLE:
                warnings.warn(f"{source}: line {line_no}: expected a title, found {size:,} characters; "
                              "the title/abstract pairing may be off", InputWarning, stacklevel=2)
            title = (line_no, block)
            continue
        yield Entry(title=" ".join(title[1]), text=_with_title_links(title[1], "\n".join(block)), line=title[0])
        title = None
    if title is not None:
        warnings.warn(f"{source}: line {title[0]}: title with no abstract", InputWarning, stacklevel=2)
        yield Entry(title=" ".join(title[1]), text=_with_title_links(title[1], ""), line=title[0])


def _with_title_links(title: list[str], abstract: str) -> str:
    """The abstract, after the title when the title holds a URL (a paragraph apart: no sentence spans both)."""
    written = "\n".join(title)
    return f"{written}\n\n{abstract}".rstrip("\n") if find_urls(written) else abstract


def blocks(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """Blank-line separated blocks: the number of each one's first line, and its lines (stripped).

    Callers join a block's lines with spaces for a title, and keep the line breaks in a text
    searched for URLs: a domain alone on its line is a URL there (see ``checks.urls``), and a
    single line break is no sentence end (see ``checks.claims``).
    """
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text:
            if not current:
                start = number
            current.append(text)
        elif current:
            yield start, current
            current = []
    if current:
        yield start, current


# --- one paper a line ------------------------------------------------------------------------


def read_lines(lines: Iterable[str], source: str) -> Iterator[Entry | Unread]:
    """A paper per non-blank line, its title the line without its URLs (or its first URL).

    A line of URLs alone gives a paper per URL (a URL list); ``#`` and ``//`` lines are comments,
    and any URL in one is reported as not read.
    """
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        found = find_urls(line)
        if line.startswith(_COMMENT_PREFIXES):
            if found:
                yield Unread("in comment lines (# or //)", len(found), number)
            continue
        if len(found) > 1 and _only_urls(line, found):
            for m in found:
                yield Entry(title=m.url, text=m.url, primary_url=m.url, line=number)
            continue
        yield Entry(title=title_of(line, found), text=line, primary_url=found[0].url if found else None, line=number)


# --- the whole text as one paper -------------------------------------------------------------


def read_text(lines: Iterable[str], source: str) -> Iterator[Entry]:
    """One paper: its title the first line (cut to 120 columns), its text every line (blocks kept apart)."""
    paragraphs: list[str] = []
    size = 0
    first: list[tuple[int, str]] = []

    def noting_the_first(lines: Iterable[str]) -> Iterator[str]:
        for number, line in enumerate(lines, 1):
            if not first and line.strip():
                first.append((number, line.strip()))
            yield line

    for _, block in blocks(noting_the_first(lines)):
        paragraph = "\n".join(block)
        size += len(paragraph) + 2
        if size > MAX_TEXT:
            raise InputError(source, f"more than {MAX_TEXT // (1024 * 1024)} MiB of text read as one paper; "
                                     "separate papers with blank lines, or use --input-format lines")
        paragraphs.append(paragraph)
    if first:
        line_no, line = first[0]
        yield Entry(title=_first_words(title_of(line, find_urls(line))), text="\n\n".join(paragraphs),
                    line=line_no)


def title_of(line: str, found: list[UrlMatch]) -> str:
    """A paper's title from a line that names it: the words before its first URL, else the words
    after its URLs, else the first URL itself ("Paper A: https://..." is "Paper A")."""
    if not found:
        return line.strip()
    before = " ".join(line[: found[0].start].split()).strip(_TITLE_STRIP)
    return before or " ".join(_without(line, found).split()).strip(_TITLE_STRIP) or found[0].url


def _first_words(text: str) -> str:
    if len(text) <= _TITLE_COLUMNS:
        return text
    cut = text[: _TITLE_COLUMNS - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(_TITLE_STRIP) + "…"
