"""Find the code a paper forgot to link: candidate GitHub repositories, each with where it was found.

Three places are asked, strongest first (a repository found in several keeps the strongest as its
source and lists the others):

1. ``hf-paper``: the Hugging Face paper API, ``/api/papers/<arxiv id>``: its ``githubRepo`` (and a
   ``projectPage`` that is itself a repository). The paper's authors or the Hub curate it.
2. ``project-page``: the paper's own project page, or the ``projectPage`` the API names, read ONE
   hop: its GitHub repository links are taken, nothing it links to is fetched. The authors wrote it.
3. ``hub-card``: the cards (README.md) of Hub models, datasets and Spaces tagged ``arxiv:<id>``.
   Anyone can tag a repository, so a card may link a fine-tune's own code: weakest.

Suggestions are never checked here, and never mixed with the paper's own links: the caller checks
them like any link and keeps them apart from the paper's verdict. A suggestion the paper already
links (same repository, whatever the case of its name) is dropped.

The rule on failures is the project's: not being able to ask is never "no code found". A 404 from
the paper API means "not indexed" (an answer); a network failure, a rate limit or a 5xx is a note
"could-not-ask", and the paper's outcome is then ``incomplete``, never ``nothing-found``.

I/O is at the edges: the Hub through huggingface_hub's own session, headers and errors (as
``checks.huggingface``), pages through ``checks.http.PageChecker`` (private-address refusal, remap
rules, redirect caps, body caps, retries). The pure parts are ``checks.code_links`` (the arXiv id,
repository links in a text, project pages) and ``merge`` here. Work is bounded by a ``Budget``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from checks.breaker import Breaker
from checks.code_links import arxiv_id_of, find_arxiv_id, project_pages, repo_key, repository_url, repository_urls
from checks.discovery_hub import HubAsker, HubFailure
from checks.http import PageChecker, run_sync
from checks.link_kinds import classify
from checks.model import Observation, Paper, State
from checks.settings import CheckSettings

SOURCE_KINDS = ("hf-paper", "project-page", "hub-card")  # strongest first
INCOMPLETE_NOTES = frozenset({"could-not-ask", "not-read", "over-budget"})  # a place that was not (fully) asked
_HUB_KINDS = ("models", "datasets", "spaces")
_CARD_NAMES = {"models": "model card", "datasets": "dataset card", "spaces": "Space card"}
_URL_PREFIX = {"models": "", "datasets": "datasets/", "spaces": "spaces/"}


# --- what goes in, what comes out ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A paper to find code for: its id, its arXiv id (None: the Hub is not asked), its own links
    (normalized URLs: the suggestions leave these out; its plain web pages are its project pages)."""

    paper_id: str
    arxiv_id: str | None
    own_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Budget:
    """Bounds on one run's discovery work; what goes over a bound is noted ``over-budget``.

    ``corroborate``: when the paper API names a repository, also read cards and pages (more
    sources for the same suggestion, more requests); by default that paper costs one request.
    """

    max_papers: int = 200
    max_artifacts_per_paper: int = 3  # Hub artifacts whose cards are read, per paper
    max_cards: int = 100  # cards read in the whole run
    max_pages_per_paper: int = 2  # project pages read, per paper
    max_pages: int = 200  # project pages read in the whole run
    max_links_per_source: int = 3  # repositories taken from one card or page (first in the text)
    workers: int = 4  # Hub requests and page reads in flight at once
    corroborate: bool = False


@dataclass(frozen=True)
class Source:
    kind: str  # one of SOURCE_KINDS
    url: str  # where it was found: the paper's HF page, the card's repository page, the project page
    detail: str  # a person's words: "the paper's Hugging Face page", "the model card of org/name", ...


@dataclass(frozen=True)
class Suggestion:
    """A repository found for a paper outside its own links; ``also``: other places that name it."""

    paper_id: str
    url: str  # https://github.com/OWNER/REPO, normalized (checks.link_kinds)
    source_kind: str
    source_url: str
    detail: str
    also: tuple[Source, ...] = ()

    @property
    def sources(self) -> tuple[Source, ...]:
        return (Source(self.source_kind, self.source_url, self.detail), *self.also)

    def to_dict(self) -> dict[str, Any]:
        return {"paper_id": self.paper_id, "url": self.url, "source_kind": self.source_kind,
                "source_url": self.source_url, "detail": self.detail,
                "also": [{"kind": s.kind, "url": s.url, "detail": s.detail} for s in self.also]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Suggestion":
        return cls(paper_id=data["paper_id"], url=data["url"], source_kind=data["source_kind"],
                   source_url=data["source_url"], detail=data["detail"],
                   also=tuple(Source(s["kind"], s["url"], s["detail"]) for s in data.get("also", ())))


@dataclass(frozen=True)
class Note:
    """What happened while asking, for one paper.

    ``kind``: ``no-arxiv-id``, ``not-indexed``, ``gone`` (a page that is dead), ``not-html``,
    ``not-a-repository`` (answers, not failures); ``could-not-ask``, ``not-read``, ``over-budget``
    (``INCOMPLETE_NOTES``: a place not, or not fully, asked).
    """

    paper_id: str
    kind: str
    message: str


@dataclass(frozen=True)
class PaperDiscovery:
    paper_id: str
    arxiv_id: str | None
    suggestions: tuple[Suggestion, ...] = ()
    notes: tuple[Note, ...] = ()
    asked: bool = False  # whether any place was asked about this paper

    @property
    def outcome(self) -> str:
        """``found``; ``incomplete`` (a place could not be asked: never read as "no code");
        ``not-asked`` (no arXiv id and no project page); ``nothing-found`` (every place answered)."""
        if self.suggestions:
            return "found"
        if any(note.kind in INCOMPLETE_NOTES for note in self.notes):
            return "incomplete"
        return "nothing-found" if self.asked else "not-asked"

    def to_dict(self) -> dict[str, Any]:
        return {"paper_id": self.paper_id, "arxiv_id": self.arxiv_id, "outcome": self.outcome, "asked": self.asked,
                "suggestions": [s.to_dict() for s in self.suggestions],
                "notes": [{"kind": n.kind, "message": n.message} for n in self.notes]}


@dataclass(frozen=True)
class DiscoveryResult:
    papers: tuple[PaperDiscovery, ...] = ()
    hub_requests: int = 0  # requests sent to the Hub API
    pages_read: int = 0  # project pages asked for (each may cost redirects and retries)

    @property
    def suggestions(self) -> tuple[Suggestion, ...]:
        return tuple(s for paper in self.papers for s in paper.suggestions)

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(n for paper in self.papers for n in paper.notes)

    def for_paper(self, paper_id: str) -> PaperDiscovery | None:
        return next((paper for paper in self.papers if paper.paper_id == paper_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {"papers": [p.to_dict() for p in self.papers], "hub_requests": self.hub_requests,
                "pages_read": self.pages_read}


# --- pure parts ------------------------------------------------------------------------------------


def target_for(paper: Paper, text: str = "") -> Target:
    return Target(paper.id, arxiv_id_of(paper, text), tuple(dict.fromkeys(link.normalized for link in paper.links)))


def merge(paper_id: str, found: Sequence[tuple[str, Source]], own_urls: Iterable[str]) -> tuple[Suggestion, ...]:
    """One suggestion per repository (GitHub names are case-insensitive): the strongest source first,
    the others in ``also``; none the paper already links, directly or into its tree."""
    own = {repo_key(url) for url in (repository_url(classify(u)) for u in own_urls) if url}
    rank = {kind: i for i, kind in enumerate(SOURCE_KINDS)}
    grouped: dict[str, list[tuple[str, Source]]] = {}
    for url, source in sorted(found, key=lambda item: rank[item[1].kind]):  # stable: discovery order within a kind
        if repo_key(url) not in own:
            grouped.setdefault(repo_key(url), []).append((url, source))
    suggestions = []
    for entries in grouped.values():
        url, first = entries[0]
        others = tuple(dict.fromkeys(source for _, source in entries[1:] if source != first))
        suggestions.append(Suggestion(paper_id, url, first.kind, first.url, first.detail, others))
    return tuple(suggestions)


# --- asking ------------------------------------------------------------------------------------------


@dataclass
class _Paper:
    """One paper's discovery while it runs (internal, mutable)."""

    target: Target
    found: list[tuple[str, Source]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    artifacts: list[tuple[str, str]] = field(default_factory=list)  # (kind, repo id) whose cards to read
    pages: list[tuple[str, str]] = field(default_factory=list)  # (page URL, how it is described)
    asked: bool = False
    settled: bool = False  # the paper API named a repository and corroboration is off: nothing more to ask

    def note(self, kind: str, message: str) -> None:
        self.notes.append(Note(self.target.paper_id, kind, message))


def discover(targets: Sequence[Target], settings: CheckSettings, budget: Budget = Budget()) -> DiscoveryResult:
    """Ask the paper API, then the tagged artifacts' cards, then the project pages, for each target.

    The Hub and the pages are asked in phases (each with ``budget.workers`` in flight), so that
    budgets are spent in the targets' order whatever the threads do. A paper with no arXiv id is
    not asked about on the Hub at all; its own project pages are still read.
    """
    papers = [_Paper(target) for target in targets]
    for paper in papers[budget.max_papers:]:
        paper.note("over-budget", f"not asked: over the run's budget of {budget.max_papers} papers")
    active = papers[:budget.max_papers]
    hub = HubAsker(settings, Breaker())
    with ThreadPoolExecutor(max_workers=max(1, budget.workers), thread_name_prefix="discovery") as pool:
        list(pool.map(lambda paper: _ask_paper_api(hub, paper, budget), active))
        cards = _allot_cards(active, budget)
        read = list(pool.map(lambda job: _read_card(hub, job[1], job[2], budget), cards))
    for (paper, _, _), (found, note) in zip(cards, read):  # in the jobs' order, whatever the threads did
        paper.found += found
        if note is not None:
            paper.note(*note)
    pages_read = _read_pages(active, settings, budget)
    return DiscoveryResult(
        tuple(PaperDiscovery(p.target.paper_id, p.target.arxiv_id, merge(p.target.paper_id, p.found, p.target.own_urls),
                             tuple(p.notes), p.asked) for p in papers),
        hub_requests=hub.requests, pages_read=pages_read)


def discover_papers(papers: Iterable[Paper], settings: CheckSettings, budget: Budget = Budget(),
                    texts: Mapping[str, str] | None = None) -> DiscoveryResult:
    """``discover`` for ``Paper`` objects; ``texts``: paper id -> its abstract, where the caller still has it."""
    return discover([target_for(paper, (texts or {}).get(paper.id, "")) for paper in papers], settings, budget)


def _ask_paper_api(hub: HubAsker, paper: _Paper, budget: Budget) -> None:
    arxiv = paper.target.arxiv_id
    if arxiv is None:
        paper.note("no-arxiv-id", "no arXiv id: the Hugging Face Hub was not asked")
    else:
        _ask_hub(hub, paper, arxiv, budget)
    if paper.settled:
        paper.pages = []
        return
    pages: dict[str, str] = {url: f"the project page {url}" for url in project_pages(paper.target.own_urls)}
    for url, detail in paper.pages:  # the API's projectPage after the paper's own pages, once
        pages.setdefault(url, detail)
    paper.pages = list(pages.items())


def _ask_hub(hub: HubAsker, paper: _Paper, arxiv: str, budget: Budget) -> None:
    """The paper API, then (when its answer lists none) one page per kind of the Hub's ``arxiv:<id>`` tag
    listing; after a 404 too: the Hub tags a repository from its card, indexed paper or not."""
    what = f"the Hugging Face paper API about arXiv:{arxiv}"
    try:
        answer = hub.paper(arxiv)
        paper.asked = True
    except HubFailure as failure:
        paper.asked = paper.asked or failure.sent
        if failure.status != 404:
            paper.note("could-not-ask", f"could not ask {what}: {failure.reason}")
            return
        answer = None
        paper.note("not-indexed", f"arXiv:{arxiv} is not indexed by the Hugging Face paper API (HTTP 404)")
    linked: dict[str, tuple[str, ...] | None] = {kind: None for kind in _HUB_KINDS}
    if answer is not None:
        source = Source("hf-paper", f"https://huggingface.co/papers/{arxiv}", "the paper's Hugging Face page")
        for field_name, value in (("githubRepo", answer.github_repo), ("projectPage", answer.project_page)):
            if not value:
                continue
            repo = repository_url(classify(value))
            if repo is not None:
                paper.found.append((repo, source))
            elif field_name == "githubRepo":
                paper.note("not-a-repository", f"the paper's Hugging Face page names {value} as its code: not a GitHub repository")
            else:
                page = classify(value).normalized
                paper.pages.append((page, f"the project page {page} (named by the paper's Hugging Face page)"))
        linked = answer.linked
        paper.settled = bool(paper.found) and not budget.corroborate
    if paper.settled:
        return
    wanted = budget.max_artifacts_per_paper
    for kind in _HUB_KINDS:
        if len(paper.artifacts) >= wanted:
            break
        ids = linked[kind]
        if ids is None:
            try:
                ids = hub.tagged(kind, arxiv, wanted - len(paper.artifacts))
            except HubFailure as failure:  # the kinds after it are not listed either: the Hub is in trouble
                paper.note("could-not-ask", f"could not list the Hub's {kind} tagged arxiv:{arxiv}: {failure.reason}")
                break
        paper.artifacts += [(kind, repo_id) for repo_id in ids[:wanted - len(paper.artifacts)]]


def _allot_cards(papers: Sequence[_Paper], budget: Budget) -> list[tuple[_Paper, str, str]]:
    """The cards to read, in the papers' order, within the run's card budget."""
    jobs: list[tuple[_Paper, str, str]] = []
    for paper in papers:
        left = [(kind, repo_id) for kind, repo_id in paper.artifacts]
        room = max(0, budget.max_cards - len(jobs))
        jobs += [(paper, kind, repo_id) for kind, repo_id in left[:room]]
        if len(left) > room:
            paper.note("over-budget", f"{len(left) - room} card(s) not read: over the run's budget of {budget.max_cards} cards")
    return jobs


def _read_card(hub: HubAsker, kind: str, repo_id: str,
               budget: Budget) -> tuple[list[tuple[str, Source]], tuple[str, str] | None]:
    """The repositories one card names, or the note saying why it could not be read."""
    name = f"the {_CARD_NAMES[kind]} of {repo_id}"
    try:
        text = hub.card(kind, repo_id)
    except HubFailure as failure:
        return [], ("not-read", f"{name} could not be read: {failure.reason}")
    if text is None:
        return [], None  # no README.md (or the repository is gone): an answer, with nothing in it
    source = Source("hub-card", f"https://huggingface.co/{_URL_PREFIX[kind]}{repo_id}", name)
    return [(url, source) for url in repository_urls(text, budget.max_links_per_source)], None


def _read_pages(papers: Sequence[_Paper], settings: CheckSettings, budget: Budget) -> int:
    """Read every paper's project pages (one request walk each, shared between papers), and take
    their repository links. Nothing found on a page is fetched: one hop."""
    wanted: dict[str, None] = {}
    for paper in papers:
        kept = []
        for url, detail in paper.pages[:budget.max_pages_per_paper]:
            if url in wanted or len(wanted) < budget.max_pages:
                wanted[url] = None
                kept.append((url, detail))
        skipped = len(paper.pages) - len(kept)
        if skipped:
            paper.note("over-budget", f"{skipped} project page(s) not read: over the budget of "
                                      f"{budget.max_pages_per_paper} per paper, {budget.max_pages} per run")
        paper.pages = kept
    if not wanted:
        return 0
    bodies, observations = read_pages(list(wanted), settings, budget.workers)
    for paper in papers:
        for url, detail in paper.pages:
            paper.asked = True
            _take_page(paper, url, detail, observations.get(url), bodies.get(url), budget)
    return len(wanted)


def read_pages(urls: Sequence[str], settings: CheckSettings, workers: int = 4) -> tuple[dict[str, bytes], dict[str, Observation]]:
    """Each page's body (alive HTML pages, up to ``max_body_bytes``) and its observation, through
    ``PageChecker``: the same guards as any page check. No canaries (this is not a run of its own;
    a failure is a "not-read" note either way) and no outage judgement."""
    bodies: dict[str, bytes] = {}
    lock = threading.Lock()

    def keep(url: str, final_url: str, body: bytes) -> None:
        with lock:
            bodies[url] = body

    quiet = replace(settings, canaries=(), max_concurrency=max(1, min(settings.max_concurrency, workers)))
    result = run_sync(PageChecker(quiet, judge=False, page_bodies=keep).run(urls))
    return bodies, {observation.url: observation for observation in result.observations}


def _take_page(paper: _Paper, url: str, detail: str, observation: Observation | None, body: bytes | None,
               budget: Budget) -> None:
    if observation is None or not observation.state.available:
        why = observation.reason if observation is not None else "no answer"
        dead = observation is not None and observation.state is State.DEAD
        paper.note(*(("gone", f"{detail} is gone: {why}") if dead else ("not-read", f"{detail} could not be read: {why}")))
        return
    if body is None:  # a page that redirects to a repository is read as GitHub's page, not handed over
        final = repository_url(classify(observation.evidence.final_url or url))
        if final is not None:
            paper.found.append((final, Source("project-page", url, f"{detail} (it redirects there)")))
        else:
            paper.note("not-html", f"{detail} is not an HTML page: no links read")
        return
    source = Source("project-page", url, detail)
    text = body.decode("utf-8", errors="replace")
    paper.found += [(repo, source) for repo in repository_urls(text, budget.max_links_per_source)]


__all__ = ["Budget", "DiscoveryResult", "INCOMPLETE_NOTES", "Note", "PaperDiscovery", "SOURCE_KINDS", "Source",
           "Suggestion", "Target", "arxiv_id_of", "discover", "discover_papers", "find_arxiv_id", "merge",
           "project_pages", "read_pages", "repository_url", "repository_urls", "target_for"]
