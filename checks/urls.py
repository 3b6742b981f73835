"""Finding URLs in prose, trimming what prose glues to them, and saying what they point at.

Papers write URLs in every way a person can: with or without a scheme, inside LaTeX
``\\url{}``, wrapped in Markdown emphasis or link syntax, followed by full-width punctuation.
The finder follows GitHub-flavored Markdown's autolink extension (the de-facto rule for "where
does a URL in text end") and linkify-it's rules for pairs inside a path, and adds what abstracts
need on top; both public suites are run against it (``tests/test_public_suites.py``). Searches
start from literals ("://", "www.", a dot) and every repeat is over one character class or in an
atomic group, so no input makes extraction backtrack catastrophically or scan a text more than a
few times. What a found URL points at (its kind, its normalized form) is ``checks.link_kinds``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

# Characters that can never be part of a URL written in prose: whitespace, ASCII ones that
# RFC 3986 forbids unencoded and prose never pairs inside a URL, CJK and full-width punctuation,
# ellipsis, dashes, typographic quotes. Brackets, braces and straight quotes are read as pairs
# (see _url_end): ``wiki/a_{b}`` keeps its braces, ``\url{https://x.org}`` does not.
_STOP = "\\s<>`|\\\\^\u3000-\u303f\uff00-\uffef\u2026\u2013\u2014\u2018\u2019\u201c\u201d\u00ab\u00bb"
# A backslash is kept only as a LaTeX escape (``my\_repo``); any other one ends the URL.
_URL_CHAR = rf"(?:[^{_STOP}]|\\[_%&#~$])"
_HF_GH_HOST = r"(?:(?:www\.|gist\.)?github\.com|(?:www\.)?huggingface\.co|hf\.co)"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_LABEL_RE = re.compile(_LABEL)

# Scheme, www. and bare GitHub/Hugging Face URLs are found from a literal (fast to scan for)
# and matched where it stands; texts without any of these hints skip that search.
_URL_HINTS = ("://", "www.", "github.com/", "hf.co/", "huggingface.co/")
_SCHEMES = ("https", "http", "ftp")
_SCHEME_URL_RE = re.compile(rf"(?i:https?|ftp)://(?>{_URL_CHAR}+)")
_WWW_URL_RE = re.compile(rf"(?i:www)\.(?>{_URL_CHAR}+)")
_KNOWN_URL_RE = re.compile(rf"(?i:{_HF_GH_HOST})/(?>{_URL_CHAR}+)")
_KNOWN_HOSTS = ("github.com/", "huggingface.co/", "hf.co/")
_NOT_BEFORE_BARE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.@/%-")

# Bare GitHub Pages hosts ("liruiw.github.io/gensim"), searched only in texts that mention one.
_PAGES_RE = re.compile(
    rf"(?<![A-Za-z0-9.@/%-])(?i:{_LABEL}\.github\.io)(?:[/?\#](?>{_URL_CHAR}*))?(?![\w-]|\.[\w-])"
)

# A bare domain counts only where the text presents it as a place: "released at x.org",
# "(x.org)", "Code: x.org", a line of its own, and only with a real public suffix
# (see _is_public_domain). Candidates are found from their dots outward, then the cue before
# them is checked.
_DOT_RE = re.compile(r"\.(?=[A-Za-z])")
_DOMAIN_RUN_RE = re.compile(r"[A-Za-z0-9.-]*+")
_DOMAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_BARE_DOMAIN_RE = re.compile(
    rf"[A-Za-z0-9-]++(?>(?:\.[A-Za-z0-9-]++)+)(?::[0-9]++)?(?:/(?>{_URL_CHAR}*))?(?![\w@])"
)
_CUE_WORDS = frozenset(
    "at on from via visit see to under website homepage page site url link here repository".split()
)
_DECORATION = " \t\n<([\"'*_"
# What may stand around a domain alone on its line: "> x.org", "1. x.org", "- x.org.", "(x.org)".
_LINE_LEAD = frozenset(" \t<([{\"'*>|-+•0123456789.)")
_LINE_TAIL = frozenset(" \t\r.,;:!?)]}>\"'*|")
# File extensions that happen to be country suffixes: "see README.md" names no website.
_CODE_SUFFIXES = frozenset({"py", "sh", "md", "rs", "pl", "cc", "so", "pm"})

# Where a URL's run of characters is cut before trimming: at Markdown's "](" between a link's
# text and its target, and before a quote, bracket, brace, comma or semicolon that opens
# another URL ("{https://...", "\"https://...", ",www.").
_CUT_RE = re.compile(r"\]\(|[{\"'(\[,;](?=(?i:https?|ftp)://|(?i:www)\.)")
_PAIRED_RE = re.compile(r'[\[\]{}"]')

_TRAILING_PUNCT = frozenset("?!.,:*_~")
_QUOTES = frozenset("'\"")
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_ENTITY_TAIL_RE = re.compile(r"&[A-Za-z0-9]+;\Z")
SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_AUTHORITY_END_RE = re.compile(r"[/?#\\]")
# What a host name may hold: ASCII letters, digits, "-", "_", dots, and non-ASCII (internationalized names).
_HOST_CHARS_RE = re.compile("[A-Za-z0-9_.\\-\u0080-\U0010ffff]*+")


class UrlMatch(NamedTuple):
    """A URL as written in the text, with its span (after trimming)."""

    url: str
    start: int
    end: int


def find_urls(text: str) -> list[UrlMatch]:
    """Every URL in ``text``, in order of appearance, trimmed; duplicates are kept."""
    found: list[UrlMatch] = []
    lowered = text.lower()
    if any(hint in lowered for hint in _URL_HINTS):
        found.extend(_literal_urls(text, lowered))
    if ".github.io" in lowered:
        pages = [u for u in _matches(_PAGES_RE, text) if not any(o.start <= u.start < o.end for o in found)]
        found.extend(pages)
    found.extend(_bare_domains(text, found))
    found.sort(key=lambda u: u.start)
    return found


def _literal_urls(text: str, lowered: str) -> list[UrlMatch]:
    """Scheme, ``www.`` and bare GitHub/Hugging Face URLs, leftmost first, never overlapping."""
    starts: list[tuple[int, re.Pattern[str]]] = []
    for at in _occurrences(lowered, "://"):
        for scheme in _SCHEMES:
            if lowered.startswith(scheme, at - len(scheme)):
                starts.append((at - len(scheme), _SCHEME_URL_RE))
                break
    for at in _occurrences(lowered, "www."):
        starts.append((at, _WWW_URL_RE))
    for host in _KNOWN_HOSTS:
        for at in _occurrences(lowered, host):
            for prefix in ("www.", "gist."):
                if host == "github.com/" and lowered.startswith(prefix, at - len(prefix)):
                    at -= len(prefix)
                    break
            starts.append((at, _KNOWN_URL_RE))
    found: list[UrlMatch] = []
    last_end = 0
    for at, pattern in sorted(starts, key=lambda s: s[0]):
        if at < last_end or (pattern is not _SCHEME_URL_RE and at and text[at - 1] in _NOT_BEFORE_BARE):
            continue
        m = pattern.match(text, at)
        if m:
            end = _url_end(text, at, m.end())
            last_end = end if end > at else m.end()
            if end > at and is_valid_host(text[at:end]):
                found.append(UrlMatch(text[at:end], at, end))
    return found


def _occurrences(text: str, needle: str) -> Iterator[int]:
    at = text.find(needle)
    while at >= 0:
        yield at
        at = text.find(needle, at + 1)


def _matches(pattern: re.Pattern[str], text: str) -> Iterator[UrlMatch]:
    for m in pattern.finditer(text):
        end = _url_end(text, m.start(), m.end())
        if end > m.start() and is_valid_host(text[m.start():end]):
            yield UrlMatch(text[m.start():end], m.start(), end)


def _url_end(text: str, start: int, end: int) -> int:
    """Where the URL that starts at ``start`` ends, given its run of URL characters up to ``end``.

    A Markdown link target (after ``](``) ends at its first unmatched ``)``, as CommonMark reads
    it. Any run is cut at ``](`` and before a delimiter that opens another URL; inside a path,
    ``[...]``, ``{...}`` and ``"..."`` are kept as pairs (linkify-it), and an unmatched ``]``,
    ``}`` or ``"`` ends the URL (none is valid in a URL unencoded, so it belongs to the prose).
    Then ``trim_url`` drops trailing punctuation as GFM does.
    """
    if text.startswith("](", start - 2):
        end = _markdown_target_end(text, start, end)
    cut = _CUT_RE.search(text, start + 1, end)
    if cut:
        end = cut.start()
    if _PAIRED_RE.search(text, start, end):
        end = _pairs_end(text, start, end)
    return start + len(trim_url(text[start:end]))


def _markdown_target_end(text: str, start: int, end: int) -> int:
    depth = 0
    for at in range(start, end):
        ch = text[at]
        if ch == "(":
            depth += 1
        elif ch == ")":
            if not depth:
                return at
            depth -= 1
    return end


def _pairs_end(text: str, start: int, end: int) -> int:
    """The end of the URL once unmatched ``]``, ``}`` and ``"`` are taken as prose."""
    square = curly = 0
    at = start
    while at < end:
        ch = text[at]
        if ch == "[":
            square += 1
        elif ch == "{":
            curly += 1
        elif ch == "]":
            if not square:
                return at
            square -= 1
        elif ch == "}":
            if not curly:
                return at
            curly -= 1
        elif ch == '"':
            close = text.find('"', at + 1, end)
            if close < 0 or not text[at + 1].isalnum():
                return at
            at = close
        at += 1
    return end


def _bare_domains(text: str, taken: list[UrlMatch]) -> list[UrlMatch]:
    """Cued bare domains, examining each run of domain characters that holds a dot once."""
    extra: list[UrlMatch] = []
    skip_until = 0
    for dot in _DOT_RE.finditer(text):
        at = dot.start()
        if at < skip_until:
            continue
        run = _DOMAIN_RUN_RE.match(text, at)
        skip_until = run.end() if run else at + 1
        start = at
        while start > 0 and text[start - 1] in _DOMAIN_CHARS and at - start <= 253:
            start -= 1
        if at - start > 253 or start == at or text[start - 1 : start] in ("@", "/", "\\"):
            continue
        host = text[start:skip_until].rstrip(".-")
        if not _is_public_domain(host) or any(u.start <= start < u.end for u in taken):
            continue
        cued = _has_cue(text, start)
        if not cued and not _opens_line(text, start):
            continue
        m = _BARE_DOMAIN_RE.match(text, start)
        if m:
            end = _url_end(text, start, m.end())
            if end > start and is_valid_host(text[start:end]) and (cued or _ends_line(text, end)):
                extra.append(UrlMatch(text[start:end], start, end))
            skip_until = max(skip_until, end)
    return extra


def _opens_line(text: str, start: int) -> bool:
    """Is ``start`` the first thing on its line, after list or quote marks ("1. ", "> ", "- ")?"""
    lo = max(0, start - 8)
    newline = text.rfind("\n", lo, start)
    line_start = newline + 1 if newline >= 0 else (0 if lo == 0 else -1)
    return line_start >= 0 and all(ch in _LINE_LEAD for ch in text[line_start:start])


def _ends_line(text: str, end: int) -> bool:
    """Is only punctuation left on the line after ``end``? A domain alone on its line is a place;
    one that opens a line of prose ("talkd.ai dialog", "Booking.com is") is a name."""
    newline = text.find("\n", end, end + 9)
    rest = text[end : newline if newline >= 0 else end + 9]
    return (newline >= 0 or end + 9 > len(text)) and all(ch in _LINE_TAIL for ch in rest)


def _has_cue(text: str, start: int) -> bool:
    """Does the sentence present what starts at ``start`` as a place ("at", "visit", ":", "(", "<")?"""
    window = text[max(0, start - 40) : start]
    before = window.rstrip(_DECORATION)
    if len(window) - len(before) > 3 and not window[len(before) :].isspace():
        return False
    if before.endswith(":") or "(" in window[len(before) :] or "<" in window[len(before) :]:
        return True
    words = before.split()
    return bool(words) and words[-1].lstrip(_DECORATION).lower() in _CUE_WORDS


def trim_url(candidate: str) -> str:
    """Drop what prose glued to the end of a URL (GFM autolink rules, plus abstracts' habits).

    Trailing ``?!.,:*_~`` go; a quote goes unless it closes a quoted part of the path
    (``a_'b'``); ``;`` goes, with the entity reference it ends; a closing ``)``, ``]`` or ``}``
    goes only while unbalanced, so ``wiki/Foo_(bar)`` stays whole.
    """
    end = len(candidate)
    balance = {c: candidate.count(c) - candidate.count(o) for c, o in _CLOSERS.items()}
    while end:
        ch = candidate[end - 1]
        if ch in _TRAILING_PUNCT or ch == "\\":
            end -= 1
        elif ch in _QUOTES and not _closes_a_pair(candidate, end - 1):
            end -= 1
        elif ch == ";":
            lo = max(0, end - 34)
            entity = _ENTITY_TAIL_RE.search(candidate[lo:end])
            end = lo + entity.start() if entity else end - 1
        elif ch in _CLOSERS and balance[ch] > 0:
            balance[ch] -= 1
            end -= 1
        else:
            break
    return candidate[:end]


def _closes_a_pair(candidate: str, at: int) -> bool:
    """Is the quote at ``at`` the end of a quoted word in the path (``a_'b'``, not ``a'?'`` or ``a'&amp;'``)?"""
    quote_char = candidate[at]
    opener = candidate.rfind(quote_char, 0, at)
    return (opener >= 0 and candidate.count(quote_char, 0, at) % 2 == 1
            and candidate[opener + 1].isalnum()
            and "/" in candidate[:opener].split("://", 1)[-1])


def is_valid_host(url: str) -> bool:
    """Could the host of ``url`` (a URL as found in text, with or without a scheme) exist?

    No empty labels (``a..b``), none that starts or ends with a hyphen; in the last two labels
    (the registered name and its suffix, as GFM says) no underscore and no ``--`` in the third
    and fourth positions unless it is punycode that decodes (``xn--…``). A port is at most 65535.
    IPv6 literals (``[::1]``) and internationalized names pass.
    """
    scheme = SCHEME_RE.match(url)
    rest = url[scheme.end() :] if scheme else url
    cut = _AUTHORITY_END_RE.search(rest)
    return _is_valid_authority((rest[: cut.start()] if cut else rest).rpartition("@")[2])


@functools.lru_cache(maxsize=4096)
def _is_valid_authority(authority: str) -> bool:
    """``is_valid_host`` for a host with its port (lists repeat hosts: cached)."""
    if authority.startswith("["):
        return "]" in authority
    host, colon, port = authority.partition(":")
    if colon and (not port.isdigit() or int(port) > 65535):
        return False
    if not _HOST_CHARS_RE.fullmatch(host):
        return False
    labels = (host[:-1] if host.endswith(".") else host).split(".")
    for index, label in enumerate(labels):
        if not label or label[0] == "-" or label[-1] == "-":
            return False
        if index >= len(labels) - 2 and ("_" in label or (label[2:4] == "--" and not _is_punycode(label))):
            return False
    return any(ch.isalnum() for ch in host)


def _is_punycode(label: str) -> bool:
    if not label.lower().startswith("xn--") or not label.isascii():
        return False
    try:
        label.encode("ascii").decode("idna")
    except UnicodeError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _psl() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(accept_unknown=False)


def _is_public_domain(host: str) -> bool:
    """``4m.epfl.ch`` and ``GOOGLE.COM`` yes; ``Node.js``, ``e.g``, ``Fig.3``, ``MNIST.It`` no.

    The suffix is lower case, or the whole name is upper case: a capitalized word after a
    missing space ("MNIST.It") is a sentence, not a host.
    """
    tld = host[host.rfind(".") + 1 :]
    if len(tld) < 2 or not (tld.islower() or host.isupper()) or not (tld.isalpha() or tld.lower().startswith("xn--")):
        return False
    return _is_registrable(host.lower())


@functools.lru_cache(maxsize=4096)
def _is_registrable(host: str) -> bool:
    labels = host.split(".")
    if any(not _LABEL_RE.fullmatch(label) for label in labels):
        return False
    if len(labels) == 2 and labels[-1] in _CODE_SUFFIXES:
        return False
    return _psl().privatesuffix(host.lower()) is not None
