"""What a URL points at: its normalized form and its kind (a GitHub repository or path, a Hugging
Face model, dataset, space or paper, a project page of a known family), and a link's arXiv id.

``classify`` says what is kept and dropped in the normalized form that identifies a link in the
checks and the history. A project link's family (arxiv, doi, shortener, ...) comes from the one
table of host rules (``checks.host_rules``); finding URLs in prose is ``checks.urls``.
"""

from __future__ import annotations

import contextlib
import functools
import re
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

from checks.host_rules import HOST_ALIASES, HTTPS_ONLY, family_of
from checks.model import Link, LinkKind
from checks.urls import SCHEME_RE

_LATEX_ESCAPE_RE = re.compile(r"\\([_%&#~$])")
_PERCENT_RE = re.compile(r"%[0-9a-fA-F]{2}")

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
    if not SCHEME_RE.match(text):
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
    host = HOST_ALIASES.get(host, host)
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
    scheme = "https" if p.host in HTTPS_ONLY or p.host.endswith(".github.io") else p.scheme
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
