"""The alert digest: what one run announces, built by pure functions, rendered for each channel's format.

One message per run, only for the verdict transitions worth a person's attention (and "still
dead" reminders), or one "could not check" notice for a run that could not tell. Untrusted text
(paper titles, reasons, URLs) is made inert for every format: no injected lines, links, HTML or
@mentions.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from checks.archive_model import ArchiveLookup
from checks.model import State
from reports.markdown import md_text, md_url, one_line
from reports.rescue import found_copy, settled
from reports.store import RunRecord
from reports.verdicts import Transition
from reports.vocabulary import ALERTED_CHANGES, Change

MOSTLY_UNKNOWN = 0.5  # a run with more than this share of its checked links unknown could not check
REMINDER = "still dead"
CODE_FOUND = "code found elsewhere"  # a paper without code: a repository for it was found (reports.found_elsewhere)
SECTIONS = (  # digest order: what needs action first
    (Change.NEWLY_DEAD, "Newly dead"),
    (Change.RECOVERED, "Recovered"),
    (Change.MOVED, "Moved"),
    (Change.ARCHIVED, "Archived"),
    (Change.PROMISE_FULFILLED, "Promise fulfilled: code released"),
    (CODE_FOUND, "Code found elsewhere (suggestions, not the papers' own links)"),
    (REMINDER, "Still dead (reminder)"),
)
MAX_TITLES = 3
_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class RunFacts:
    """What the alert step needs to know about a finished run."""

    run_id: int
    started_at: str
    offline: bool
    checked: int  # links the run tried to check (skipped ones left out)
    unknown: int
    notes: tuple[str, ...] = ()
    headline: str | None = None  # the report's first line (reports.headline.first_line), the page's words and numbers

    @classmethod
    def of(cls, run: RunRecord) -> "RunFacts":
        checked = sum(n for state, n in run.counts.items() if state != State.SKIPPED)
        return cls(run.id, run.started_at, run.offline, checked, run.counts.get(State.UNKNOWN, 0), tuple(run.notes))

    @property
    def could_not_check(self) -> bool:
        """Offline, or mostly unknown: the run's silence says nothing about the links."""
        return self.offline or (self.checked > 0 and self.unknown / self.checked > MOSTLY_UNKNOWN)


@dataclass(frozen=True)
class DigestItem:
    url: str
    change: str  # one of ALERTED_CHANGES, "still dead" or "code found elsewhere"
    reason: str
    papers: tuple[str, ...] = ()
    suggested_url: str | None = None
    dead_since: str | None = None
    archive: ArchiveLookup | None = None  # a dead link's archived copy, as the archives last answered (None: not asked)
    code: bool = True  # the link is to code ("this code may be lost"), else a page ("this page may be lost")


@dataclass(frozen=True)
class Digest:
    """One message for one run; renders itself for text, Markdown and HTML channels."""

    run_id: int
    started_at: str
    title: str
    items: tuple[DigestItem, ...] = ()
    notice: str | None = None  # the "could not check" text, for a run that announces no link
    headline: str | None = None  # "Code available for 21 of 28 papers linking code (75 %); …."

    def sections(self) -> list[tuple[str, list[DigestItem]]]:
        return [(heading, [i for i in self.items if i.change == change]) for change, heading in SECTIONS
                if any(i.change == change for i in self.items)]

    def _intro(self) -> str:
        intro = f"Run {self.run_id}, started {_when(self.started_at)}."
        if self.headline:
            intro += f" {self.headline}"
        return intro

    def text(self) -> str:
        return self.render(TEXT)

    def markdown(self) -> str:
        return self.render(MARKDOWN)

    def html(self) -> str:
        return self.render(HTML)

    def render(self, style: "DigestStyle") -> str:
        blocks = [style.paragraph.format(style.text(self._intro(), 1000))]
        if self.notice:
            blocks.append(style.paragraph.format(style.text(self.notice, 2000)))
        for heading, items in self.sections():
            lines = [style.item.format(
                line=f"{style.url(i.url)}: {style.text(i.reason)}{_where_and_since(i, style.text, style.url)}",
                archive=_archive(i, style), cited=style.cited.format(_titles(i.papers, style.text)) if i.papers else "")
                for i in items]
            blocks.append(style.section.format(heading=style.text(f"{heading} ({len(items)})"), items="\n".join(lines)))
        return style.separator.join(blocks) + "\n"


def _one_line(text: Any, limit: int = 200) -> str:
    """Untrusted text on one line: no injected lines, no @mention that pings a channel."""
    return one_line(text, limit).replace("@", "@\u2060")


def _html_text(text: Any, limit: int = 200) -> str:
    return html.escape(_one_line(text, limit), quote=True)


def _html_url(url: str) -> str:
    if urlsplit(url).scheme in ("http", "https") and not _SPACE.search(url):
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(_one_line(url, 300))}</a>'
    return _html_text(url)


@dataclass(frozen=True)
class DigestStyle:
    """How one channel format writes a digest: untrusted text and URLs made inert, and the layout."""

    text: Callable[..., str]
    url: Callable[[str], str]
    paragraph: str
    section: str
    item: str
    cited: str
    separator: str
    archive: str = "\n  {}"  # a dead link's archived copy, on a line of its own under the item


TEXT = DigestStyle(_one_line, lambda url: _one_line(url, 300), "{}", "{heading}\n{items}", "- {line}{archive}{cited}",
                   "\n  cited by: {}", "\n\n")
MARKDOWN = DigestStyle(md_text, md_url, "{}", "**{heading}**\n\n{items}", "- {line}{archive}{cited}", "\n  cited by: {}",
                       "\n\n")
HTML = DigestStyle(_html_text, _html_url, "<p>{}</p>", "<h3>{heading}</h3><ul>\n{items}\n</ul>",
                   "<li>{line}{archive}{cited}</li>", "<br>cited by: {}", "\n", "<br>{}")


def _archive(item: DigestItem, style: DigestStyle) -> str:
    """The line a dead link's item gets about its archived copy: the copy's sentence and URL, or that none was found;
    nothing for other changes, nor when the archives were not asked (or not every archive that fits)."""
    lookup = item.archive
    if lookup is None or item.change not in (Change.NEWLY_DEAD, REMINDER) or not settled(lookup):
        return ""
    sentence = style.text(lookup.sentence(code=item.code))
    copy = found_copy(lookup)
    return style.archive.format(f"{sentence}: {style.url(copy.url)}" if copy else sentence)


def _titles(papers: Sequence[str], render: Callable[[Any], str]) -> str:
    shown = "; ".join(render(title) for title in papers[:MAX_TITLES])
    return shown + (f" and {len(papers) - MAX_TITLES} more" if len(papers) > MAX_TITLES else "")


def _where_and_since(item: DigestItem, render: Callable[[Any], str],
                     render_url: Callable[[str], str] | None = None) -> str:
    extra = ""
    if item.suggested_url and item.change in (Change.MOVED, Change.RECOVERED):
        extra += f" (now at {(render_url or render)(item.suggested_url)})"
    if item.dead_since and item.change in (Change.NEWLY_DEAD, REMINDER):
        extra += f" (dead since {render(_when(item.dead_since))})"
    return extra


def _when(iso: str) -> str:
    return iso[:16].replace("T", " ") + " UTC"


def digest_title(run_id: int, items: Sequence[DigestItem]) -> str:
    counts = [(change, sum(1 for i in items if i.change == change)) for change, _ in SECTIONS]
    return f"paperwatch run {run_id}: " + ", ".join(f"{n} {change}" for change, n in counts if n)


def build_digest(run: RunFacts, transitions: Sequence[Transition], papers: Mapping[str, Sequence[str]],
                 reminders: Sequence[DigestItem] = (), archives: Mapping[str, ArchiveLookup] | None = None,
                 code: Container[str] = frozenset(), found: Sequence[DigestItem] = ()) -> Digest | None:
    """The run's digest from its verdict transitions; None when nothing is worth a message.

    Only ALERTED_CHANGES are announced; ``degraded`` and ``healthy again`` stay in the report. A newly dead
    link's item carries its lookup in ``archives`` (normalized URL: the archives' latest answer); ``code``
    holds the URLs of the links that are code; ``found``: "code for paper X appeared" items (``CODE_FOUND``).
    """
    archives = archives or {}
    items = [DigestItem(t.url, t.change, t.reason, tuple(papers.get(t.url, ())), t.suggested_url, t.dead_since,
                        archives.get(t.url) if t.change == Change.NEWLY_DEAD else None, t.url in code)
             for t in transitions if t.change in ALERTED_CHANGES]
    items += list(reminders) + list(found)
    if not items:
        return None
    order = [change for change, _ in SECTIONS]
    items.sort(key=lambda i: (order.index(i.change), i.url))
    return Digest(run.run_id, run.started_at, digest_title(run.run_id, items), tuple(items), headline=run.headline)


def could_not_check_notice(run: RunFacts) -> Digest:
    why = ("the monitor was offline" if run.offline
           else f"{run.unknown} of its {run.checked} links could not be checked")
    notes = " ".join(run.notes[:3])
    notice = (f"The monitor could not check this run: {why}. No link is called dead or recovered on its account; "
              f"the next run that can check will report what changed." + (f" Notes: {notes}" if notes else ""))
    return Digest(run.run_id, run.started_at, f"paperwatch run {run.run_id}: the monitor could not check the links",
                  notice=notice)
