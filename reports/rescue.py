"""Rescue, in the report's words: where a dead or failing link's code or page can still be found.

Pure functions over a report's link and paper rows (``reports.report_rows``), which carry each
link's latest archive lookup and Save Code Now request (``checks.archive_model``, kept by
``reports.archive_store``). They decide which links get a line about an archived copy, what that
line says, and how a paper whose code is dead reads when a copy of it survives. The page, links.csv,
summary.md and the alert digest all phrase rescue here, so they say the same.

An archive's answer is untrusted text like any other: a copy's URL becomes a link only when it is
a plain http(s) URL (``copy_href``); everything is escaped by whoever writes it out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checks.archive_model import ArchiveLookup, ArchivedCopy, LookupOutcome, SaveRequest
from checks.model import State
from reports.link_facts import safe_href
from reports.report_rows import LinkRow, PaperRow
from reports.verdicts import CitedObservation, facet_of
from reports.vocabulary import Facet, Outcome, Verdict

NOT_ASKED = "archives not asked yet"  # no lookup kept for the link: the archives have not answered yet
COPY_AVAILABLE = "archived copy available"
_FAILING_VERDICTS = frozenset({Verdict.DEAD, Verdict.DEGRADED})
_FAILING_STATES = frozenset({State.DEAD, State.ERROR})
_NOT_IN_A_LINK = re.compile(r"[\s\"'<>`\\\x00-\x1f\x7f]")


def is_code_link(kind: str, claim: str | None) -> bool:
    """Whether a link is judged as code (by its kind or its claim): its lost copy is "code", not "a page"."""
    return facet_of(CitedObservation("", kind, claim, False, None)) is Facet.CODE


def needs_rescue(link: LinkRow) -> bool:
    """A link whose verdict is dead or degraded, or that this run found dead or erring: a reader wants a copy."""
    return (link.verdict is not None and link.verdict.status in _FAILING_VERDICTS) or link.state in _FAILING_STATES


def copy_href(url: str | None) -> str | None:
    """The copy's URL when it may become a link: http(s), with no space, quote, angle bracket or control character
    (an archive's real links have none; anything else is shown as text)."""
    href = safe_href(url)
    return href if href and not _NOT_IN_A_LINK.search(href) else None


def found_copy(lookup: ArchiveLookup | None) -> ArchivedCopy | None:
    """The copy a lookup found, if it found one."""
    return lookup.copy if lookup is not None and lookup.outcome is LookupOutcome.FOUND else None


def settled(lookup: ArchiveLookup | None) -> bool:
    """Whether a failing link's reader can be told the archives' answer: a copy, or that none of the archives
    that fit it holds one (a live repository's lookup asked Software Heritage only: it settles nothing yet)."""
    if lookup is None:
        return False
    return found_copy(lookup) is not None or (lookup.outcome is LookupOutcome.NONE and lookup.complete)


def archive_outcome(lookup: ArchiveLookup | None) -> LookupOutcome:
    """The answer as a reader is told it: found, none, or unknown (not asked yet, or not every archive that fits)."""
    return lookup.outcome if lookup is not None and settled(lookup) else LookupOutcome.UNKNOWN


def archive_sentence(lookup: ArchiveLookup | None, code: bool) -> str:
    """What a reader is told about a failing link's copy: the copy, that there is none ("this code may be lost",
    or "this page" when ``code`` is false), or that the archives have not answered yet (and why, when they
    could not be asked)."""
    if lookup is not None and (settled(lookup) or lookup.outcome is LookupOutcome.UNKNOWN):
        return lookup.sentence(code=code)
    return NOT_ASKED


@dataclass(frozen=True)
class RescueLine:
    """The one line a link's row gets about rescue: its words, the copy's link (None: shown as text)."""

    text: str
    kind: str  # found | none | unknown (LookupOutcome), or "save": styling only
    copy_url: str | None = None
    href: str | None = None


def rescue_line(link: LinkRow) -> RescueLine | None:
    """The line under a failing link (its copy, no copy, archives not asked yet), or under a live repository
    that Save Code Now was asked to archive; None for any other link."""
    if needs_rescue(link):
        lookup = link.archive
        text = archive_sentence(lookup, is_code_link(link.kind, link.claim))
        copy = found_copy(lookup)
        return RescueLine(text, archive_outcome(lookup).value, copy.url if copy else None, copy_href(copy.url) if copy else None)
    if link.save_request is not None and link.state is not None and link.state.available:
        return RescueLine(link.save_request.sentence(), "save")
    return None


def save_status(request: SaveRequest | None) -> str | None:
    """A Save Code Now request in one word: pending or rejected, else how its visit stands (scheduled, succeeded, ...)."""
    if request is None:
        return None
    return request.task_status if request.request_status == "accepted" and request.task_status else request.request_status


# --- a paper whose code is dead ----------------------------------------------------------------

def facet_phrase(facet: Facet, outcome: Outcome, copy_available: bool = False) -> str:
    """A paper's word for a facet in a sentence: "code dead", and "code dead, archived copy available" when a
    copy of its dead code survives (only dead code is rescued so: any other word reads as it is)."""
    text = f"{facet.value} {outcome.value}"
    return f"{text}, {COPY_AVAILABLE}" if copy_available and facet is Facet.CODE and outcome is Outcome.DEAD else text


def paper_code_copy(paper: PaperRow) -> ArchivedCopy | None:
    """For a paper whose code is dead: a found copy of one of its dead code links (None: no paper of that kind,
    or no copy)."""
    if paper.verdict.code is not Outcome.DEAD:
        return None
    for link in paper.links:
        copy = found_copy(link.archive)
        if copy is not None and link.state is State.DEAD and is_code_link(link.kind, link.claim):
            return copy
    return None


def code_note(paper: PaperRow) -> str | None:
    """ "code dead, archived copy available" for a paper whose dead code has a copy; None otherwise."""
    return facet_phrase(Facet.CODE, Outcome.DEAD, True) if paper_code_copy(paper) is not None else None
