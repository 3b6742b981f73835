"""Finding URLs in prose, trimming what prose glues to them, and saying what they point at.

Papers write URLs in every way a person can: with or without a scheme, inside LaTeX
``\\url{}``, wrapped in Markdown emphasis or link syntax, followed by full-width punctuation.
The finder follows GitHub-flavored Markdown's autolink extension (the de-facto rule for "where
does a URL in text end") and linkify-it's rules for pairs inside a path, and adds what abstracts
need on top; both public suites are run against it (``tests/test_public_suites.py``). Searches
start from literals ("://", "www.", a dot) and every repeat is over one character class or in an
atomic group, so no input makes extraction backtrack catastrophically or scan a text more than a
few times. A project link's family (arxiv, doi, shortener, ...) comes from the one table of host
rules (``checks.host_rules``).

Over 400 lines: the finder (to ``_is_registrable``) and the classifier (from "normalizing and
classifying") share the URL-shape patterns above; the classifier is the half to move out next.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

from checks.host_rules import family_of
from checks.model import Link, LinkKind

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
_LATEX_ESCAPE_RE = re.compile(r"\\([_%&#~$])")
_PERCENT_RE = re.compile(r"%[0-9a-fA-F]{2}")
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
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
    scheme = _SCHEME_RE.match(url)
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


# --- normalizing and classifying -------------------------------------------------------------

GITHUB_RESERVED = frozenset(
    "about account apps blog codespaces collections contact copilot customer-stories dashboard enterprise "
    "events explore features gist join login logout marketplace new nonprofit notifications organizations "
    "orgs password_reset pricing pulls issues readme resources search security settings signup site "
    "solutions sponsors stars team topics trending users".split()
)
HF_RESERVED = frozenset(
    "api autotrain blog brand changelog chat code-of-conduct collections datasets docs enterprise hub "
    "huggingchat inference-api inference-endpoints join learn login models new new-dataset new-space "
    "notifications organizations papers posts pricing privacy search security settings spaces storage "
    "subscribe support tasks terms-of-service welcome".split()
)
_REPO_SECTIONS_WITH_REF = frozenset({"tree", "blob", "raw", "blame", "edit", "commits", "resolve"})
_HOST_ALIASES = {"www.github.com": "github.com", "www.huggingface.co": "huggingface.co", "hf.co": "huggingface.co"}
_HTTPS_HOSTS = frozenset({"github.com", "gist.github.com", "huggingface.co", "raw.githubusercontent.com"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_REPO_KINDS = frozenset(
    {LinkKind.GITHUB_REPO, LinkKind.GITHUB_OWNER, LinkKind.GITHUB_PAGES, LinkKind.GIST, LinkKind.HF_MODEL,
     LinkKind.HF_DATASET, LinkKind.HF_SPACE, LinkKind.HF_PAPER, LinkKind.HF_COLLECTION, LinkKind.HF_OWNER}
)
_PATH_KINDS = frozenset({LinkKind.GITHUB_PATH, LinkKind.HF_MODEL, LinkKind.HF_DATASET, LinkKind.HF_SPACE})

_ARXIV_ID_RE = re.compile(r"(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?:\.pdf)?$")


class _Parts(NamedTuple):
    scheme: str
    host: str
    port: int | None
    userinfo: str
    segments: tuple[str, ...]
    trailing_slash: bool
    query: str
    fragment: str


def normalize(url: str) -> str:
    """The identity of a URL for checking and history (see ``classify``)."""
    return classify(url).normalized


@functools.lru_cache(maxsize=4096)
def classify(url: str) -> Link:
    """A ``Link`` for ``url`` with kind, owner, name, ref, path, family and normalized form.

    ``normalized``: https:// added to bare forms; scheme and host lowercased; default port,
    ``utm_*`` parameters and fragments dropped (except ``#/`` and ``#!`` routes); for
    repositories, ``.git``, query and trailing slash dropped; hf.co and www.github.com folded
    into their canonical hosts. For ``github-path`` under tree/blob/raw, ``path`` is the file
    path at ``ref``; under other sections (releases, wiki, issues…) it is that section's path.
    Cached: lists repeat the same URLs, and a ``Link`` is immutable.
    """
    parts = _split(url)
    if parts is None:
        return Link(url=url, normalized=url.strip(), kind=LinkKind.PROJECT)
    fields = _kind_of(parts)
    return Link(url=url, normalized=_assemble(parts, fields["kind"]), **fields)


def _split(url: str) -> _Parts | None:
    text = _LATEX_ESCAPE_RE.sub(r"\1", url.strip()).replace("&amp;", "&")
    if not _SCHEME_RE.match(text):
        text = "https://" + text
    try:
        sp = urlsplit(text)
        port = sp.port
    except ValueError:
        return None
    host = (sp.hostname or "").rstrip(".")
    if not host:
        return None
    if not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    host = _HOST_ALIASES.get(host, host)
    userinfo = sp.netloc.rpartition("@")[0] if "@" in sp.netloc else ""
    path = sp.path
    segments = tuple(s for s in path.split("/") if s)
    return _Parts(sp.scheme.lower(), host, port, userinfo, segments, path.endswith("/") and bool(segments),
                  sp.query, sp.fragment)


def _kind_of(p: _Parts) -> dict[str, Any]:
    seg = p.segments
    blank: dict[str, Any] = {"owner": None, "name": None, "ref": None, "path": None, "family": None}
    if p.host == "github.com":
        return {**blank, **_github(seg)}
    if p.host == "gist.github.com" and seg:
        owner, name = (seg[0], seg[1]) if len(seg) > 1 else (None, seg[0])
        return {**blank, "kind": LinkKind.GIST, "owner": owner, "name": _strip_git(name)}
    if p.host == "raw.githubusercontent.com" and len(seg) >= 3:
        return {**blank, "kind": LinkKind.GITHUB_PATH, "owner": seg[0], "name": seg[1], "ref": seg[2],
                "path": "/".join(seg[3:]) or None}
    if p.host.endswith(".github.io") and p.host.count(".") == 2:
        return {**blank, "kind": LinkKind.GITHUB_PAGES, "owner": p.host.split(".")[0], "path": "/".join(seg) or None}
    if p.host == "huggingface.co":
        return {**blank, **_huggingface(seg)}
    if p.host.endswith(".hf.space"):
        return {**blank, "kind": LinkKind.HF_SPACE}
    family = family_of(p.host)  # from the one table of host rules
    ident: str | None = None
    if family == "arxiv" and len(seg) >= 2:
        m = _ARXIV_ID_RE.search("/".join(seg[1:]))
        ident = m.group(1) if m else None
    elif family == "doi" and seg:
        ident = "/".join(seg)
    return {**blank, "kind": LinkKind.PROJECT, "family": family, "name": ident}


def _github(seg: tuple[str, ...]) -> dict[str, Any]:
    if not seg:
        return {"kind": LinkKind.PROJECT}
    if seg[0].lower() in GITHUB_RESERVED:
        if seg[0].lower() in ("orgs", "users", "sponsors") and len(seg) > 1:
            return {"kind": LinkKind.GITHUB_OWNER, "owner": seg[1]}
        return {"kind": LinkKind.PROJECT}
    if len(seg) == 1:
        return {"kind": LinkKind.GITHUB_OWNER, "owner": seg[0]}
    owner, name = seg[0], _strip_git(seg[1])
    if len(seg) == 2:
        return {"kind": LinkKind.GITHUB_REPO, "owner": owner, "name": name}
    return {"kind": LinkKind.GITHUB_PATH, "owner": owner, "name": name, **_ref_and_path(seg[2:])}


def _huggingface(seg: tuple[str, ...]) -> dict[str, Any]:
    if not seg:
        return {"kind": LinkKind.PROJECT}
    head = seg[0]
    typed = {"datasets": LinkKind.HF_DATASET, "spaces": LinkKind.HF_SPACE}
    if head in typed and len(seg) >= 3:
        return {"kind": typed[head], "owner": seg[1], "name": _strip_git(seg[2]), **_ref_and_path(seg[3:])}
    if head == "datasets" and len(seg) == 2:
        return {"kind": LinkKind.HF_DATASET, "name": _strip_git(seg[1])}
    if head == "papers" and len(seg) >= 2:
        return {"kind": LinkKind.HF_PAPER, "name": seg[1]}
    if head == "collections" and len(seg) >= 3:
        return {"kind": LinkKind.HF_COLLECTION, "owner": seg[1], "name": seg[2]}
    if head in HF_RESERVED:
        return {"kind": LinkKind.PROJECT}
    if len(seg) == 1:
        return {"kind": LinkKind.HF_OWNER, "owner": head}
    return {"kind": LinkKind.HF_MODEL, "owner": head, "name": _strip_git(seg[1]), **_ref_and_path(seg[2:])}


def _ref_and_path(rest: tuple[str, ...]) -> dict[str, Any]:
    """``tree/main/a/b`` → ref main, path a/b; ``releases/tag/v1`` → ref v1, path releases/tag/v1."""
    if not rest:
        return {}
    section = rest[0]
    if section in _REPO_SECTIONS_WITH_REF and len(rest) >= 2:
        return {"ref": rest[1], "path": "/".join(rest[2:]) or None}
    ref = None
    if section == "releases" and len(rest) >= 3 and rest[1] in ("tag", "download"):
        ref = rest[2]
    elif section == "commit" and len(rest) >= 2:
        ref = rest[1]
    return {"ref": ref, "path": "/".join(rest)}


def _strip_git(name: str) -> str:
    return name[:-4] if name.lower().endswith(".git") and len(name) > 4 else name


def _assemble(p: _Parts, kind: LinkKind) -> str:
    scheme = "https" if p.host in _HTTPS_HOSTS or p.host.endswith(".github.io") else p.scheme
    netloc = (f"{p.userinfo}@" if p.userinfo else "") + p.host
    if p.port is not None and _DEFAULT_PORTS.get(scheme) != p.port:
        netloc += f":{p.port}"
    segments = list(p.segments)
    repo = kind in _REPO_KINDS
    if repo and p.host in ("github.com", "huggingface.co", "gist.github.com"):
        index = {"github.com": 1, "gist.github.com": len(segments) - 1}.get(p.host)
        if index is None:
            index = 2 if segments and segments[0] in ("datasets", "spaces") else 1
        if 0 <= index < len(segments):
            segments[index] = _strip_git(segments[index])
    path = "/" + "/".join(_encode(s) for s in segments) if segments else ""
    if p.trailing_slash and not (repo or kind in _PATH_KINDS):
        path += "/"
    query = "" if repo else _clean_query(p.query)
    fragment = _encode(p.fragment, safe="/!?=&") if p.fragment[:1] in ("/", "!") else ""
    if not path and (query or fragment):
        path = "/"
    return f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")


def _clean_query(query: str) -> str:
    kept = [pair for pair in query.split("&") if pair and not pair.lower().startswith("utm_")]
    return _encode("&".join(kept), safe="=&/?")


def _encode(text: str, safe: str = "") -> str:
    """Percent-encode what must be (non-ASCII, spaces), keep what is, uppercase the escapes."""
    text = _PERCENT_RE.sub(lambda m: m.group().upper(), text)
    return quote(text, safe="%:@!$&'()*+,;=-._~" + safe)


def arxiv_id(link: Link) -> str | None:
    """The arXiv identifier a link names (arxiv.org abs/pdf/html or a Hugging Face paper page)."""
    if link.family == "arxiv" or link.kind is LinkKind.HF_PAPER:
        return link.name
    return None
