"""What the report shows beside each link, in a person's words: the facts line (stars, last commit,
release, archived; downloads, likes, gated, stage), the Hub artifacts citing a paper, the
remaining metadata as evidence, and the formatting of values (counts, uptimes, dates, shares).

Pure functions over a link row's ``details`` (free-form per checker, hence read defensively:
everything in them came from an API and is untrusted text).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from checks.model import LinkKind, State
from reports.report_rows import LinkRow
from reports.vocabulary import Outcome

def safe_href(url: Any) -> str | None:
    """Only http(s) URLs become links; anything else (javascript:, data:) stays text."""
    if not isinstance(url, str):
        return None
    scheme = urlsplit(url.strip()).scheme.lower()
    return url.strip() if scheme in ("http", "https") else None


HIDDEN_DETAILS = frozenset({"etag", "not_modified",  # bookkeeping for conditional requests, not news for a reader
                            "completeness"})  # shown on a line of its own (reports.completeness_view)


def display(value: Any) -> str:
    """A detail value as a person reads it: no Python reprs in the report."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {display(item)}" for key, item in value.items() if item is not None)
    if isinstance(value, (list, tuple)):
        return ", ".join(display(item) for item in value) or "—"
    return str(value)


def number(value: Any) -> str:
    """Counts as people read them: 12,345."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else display(value)


def percent(value: Any) -> str:
    """Uptime as people read it: 100 %, 92.9 %, – when nothing could be told."""
    return "–" if not isinstance(value, (int, float)) else f"{value:g} %"


def short_time(iso: Any) -> str:
    return iso[:16].replace("T", " ") if isinstance(iso, str) else ""


def day(iso: Any) -> str:
    return iso[:10] if isinstance(iso, str) else ""


def share(part: int, whole: int) -> str:
    """A share as a whole percentage; "–" when there is nothing to share."""
    return f"{round(100 * part / whole)} %" if whole else "–"


def paper_anchor(paper_id: str) -> str:
    """The element id of a paper's row; its href is ``#`` + ``quote(...)`` of it."""
    return f"paper-{paper_id}"


@dataclass(frozen=True)
class Fact:
    """One short fact shown beside a link (``flag`` marks it as a warning chip)."""

    text: str
    title: str | None = None
    flag: str | None = None


# Metadata shown as facts beside the link, so not repeated in its evidence list.
_REPO_FACT_KEYS = frozenset({"stars", "last_commit_at", "pushed_at", "latest_release", "archived", "disabled", "empty", "placeholder",
                             "readme_promise", "fork", "parent", "activity", "metadata_not_refreshed", "source_repo"})
_HUB_FACT_KEYS = frozenset({"downloads", "likes", "last_modified", "gated", "private", "disabled", "has_weights", "stage", "source_repo"})
_PAPER_FACT_KEYS = frozenset({"discovered", "discovered_total", "discovery_incomplete", "source_repo"})
# details key: (text, flag); the flag is the chip's colour, named after the outcome it warns of
_REPO_FLAGS = {"archived": (Outcome.ARCHIVED.value, Outcome.ARCHIVED), "disabled": ("disabled", Outcome.DEAD),
               "empty": ("empty", Outcome.PLACEHOLDER), "placeholder": (Outcome.PLACEHOLDER.value, Outcome.PLACEHOLDER),
               "readme_promise": ("README promises code", Outcome.PROMISED), "fork": ("fork", "none")}


def _repo_facts(d: Mapping[str, Any]) -> list[Fact]:
    facts = []
    if d.get("stars") is not None:
        facts.append(Fact(f"★ {number(d['stars'])}", "stars"))
    if d.get("last_commit_at"):
        facts.append(Fact(f"last commit {day(d['last_commit_at'])}"))
    elif d.get("pushed_at"):
        facts.append(Fact(f"last push {day(d['pushed_at'])}"))
    if "latest_release" in d:
        release = d["latest_release"]
        if isinstance(release, dict):
            published = f" ({day(release.get('published_at'))})" if release.get("published_at") else ""
            facts.append(Fact(f"release {display(release.get('tag'))}{published}"))
        else:
            facts.append(Fact("no release"))
    for key, (text, flag) in _REPO_FLAGS.items():
        if d.get(key) is True and not (key == "placeholder" and d.get("empty")):
            facts.append(Fact(text + (f" of {d['parent']}" if key == "fork" and d.get("parent") else ""), None, flag))
    if d.get("activity") in ("active", "quiet", "stale"):
        facts.append(Fact(d["activity"], "activity, from the last commit: beside whether the code is there, never instead of it"))
    if d.get("metadata_not_refreshed"):
        facts.append(Fact("metadata not refreshed", display(d["metadata_not_refreshed"]), Outcome.UNKNOWN))
    return facts


def _hub_facts(d: Mapping[str, Any]) -> list[Fact]:
    facts = []
    if d.get("downloads") is not None:
        facts.append(Fact(f"↓ {number(d['downloads'])}", "downloads"))
    if d.get("likes") is not None:
        facts.append(Fact(f"♥ {number(d['likes'])}", "likes"))
    if d.get("last_modified"):
        facts.append(Fact(f"modified {day(d['last_modified'])}"))
    if d.get("gated"):
        facts.append(Fact("gated" + (f" ({d['gated']})" if isinstance(d["gated"], str) else ""), None, Outcome.GATED))
    for key in ("private", "disabled"):
        if d.get(key) is True:
            facts.append(Fact(key, None, Outcome.DEAD))
    if d.get("has_weights") is False:
        facts.append(Fact("no weight files", None, Outcome.PLACEHOLDER))
    if d.get("stage"):
        facts.append(Fact(f"stage {d['stage']}", None, State.ERROR if "ERROR" in str(d["stage"]).upper() else None))
    return facts


def _fact_keys(d: Mapping[str, Any]) -> frozenset[str]:
    """Which metadata the facts line shows: a repository's (GitHub API), a Hub artifact's, or a Hub paper page's."""
    if "full_name" in d:
        return _REPO_FACT_KEYS
    if "discovered" in d:
        return _PAPER_FACT_KEYS
    return _HUB_FACT_KEYS if {"downloads", "likes", "stage"} & d.keys() else frozenset({"source_repo"})


def link_facts(link: LinkRow) -> list[Fact]:
    """What a reader scans for: stars, last commit, release, archived/placeholder; downloads, likes, gated, stage."""
    d = link.details
    keys = _fact_keys(d)
    facts = _repo_facts(d) if keys is _REPO_FACT_KEYS else _hub_facts(d) if keys is _HUB_FACT_KEYS else []
    if keys is _PAPER_FACT_KEYS and d.get("discovery_incomplete"):
        facts.append(Fact("discovery incomplete", display(d["discovery_incomplete"]), Outcome.UNKNOWN))
    if d.get("source_repo"):
        facts.append(Fact(f"built from {display(d['source_repo'])}"))
    return facts


HUB_KINDS = (("models", "model", ""), ("datasets", "dataset", "datasets/"), ("spaces", "space", "spaces/"))
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")
CITING_SHOWN = 5  # links per kind; the rest are counted


@dataclass(frozen=True)
class CitingGroup:
    """One kind of Hub artifact citing a paper: "28 models", the first few as (id, https link), how many more."""

    label: str
    links: tuple[tuple[str, str], ...]
    more: int


def hub_page(prefix: str, repo_id: Any) -> str | None:
    """The artifact's https://huggingface.co page, only for ids shaped as the Hub's are (the API text is untrusted)."""
    if not isinstance(repo_id, str) or not _HUB_ID.match(repo_id) or ".." in repo_id:
        return None
    return f"https://huggingface.co/{prefix}{repo_id}"


def citing_artifacts(link: LinkRow) -> list[CitingGroup]:
    """For an hf-paper link: the models, datasets and spaces the Hub says cite the paper ("on the Hub: ... cite this paper")."""
    d = link.details
    found = d.get("discovered")
    if link.kind != LinkKind.HF_PAPER.value or not isinstance(found, dict):
        return []
    totals = d.get("discovered_total") if isinstance(d.get("discovered_total"), dict) else {}
    groups = []
    for key, noun, prefix in HUB_KINDS:
        ids = found.get(key) if isinstance(found.get(key), list) else []
        total = totals.get(key)
        count = max(len(ids), total if isinstance(total, int) and not isinstance(total, bool) else 0)
        pages = [(repo_id, page) for repo_id, page in ((i, hub_page(prefix, i)) for i in ids[:CITING_SHOWN]) if page]
        groups.append(CitingGroup(f"{number(count)} {noun}{'' if count == 1 else 's'}", tuple(pages), count - len(pages)))
    return groups


def evidence_details(link: LinkRow) -> list[tuple[str, Any]]:
    """The metadata not already shown as facts, without the noise of "no" flags and bookkeeping."""
    d = link.details
    hidden = _fact_keys(d) | HIDDEN_DETAILS
    return [(key.replace("_", " "), value) for key, value in d.items()
            if not (value is None or value is False or value in ([], {}, "")) and key not in hidden]
