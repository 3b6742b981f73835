"""Where code found elsewhere is kept: each paper's suggested repositories, its latest answer, and
the suggestions accepted as its own links (schema 7).

Asking costs the Hub and project sites requests, so a paper's answer is kept (``discovery_answers``)
and the paper asked again only when it is due: after ``found_days`` when code was found (a
repository rarely goes away), ``nothing_days`` when every place answered and none named code (code
may be published later), and on the next run when some place could not be asked (``incomplete``).

A suggestion (``code_suggestions``) stays ``current`` until a complete answer about its paper no
longer names it; an incomplete answer adds what it found and withdraws nothing. Each suggested URL
is also a row of ``links``, so that its checks are stored like any observation; it is never a row
of ``paper_links`` unless accepted (``accepted_suggestions``, then cited by the paper with claim
``code``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from checks.link_kinds import classify
from reports.queries import select_in
from reports.schema import accepted_suggestions, code_suggestions, discovery_answers, links, paper_links
from reports.store import Store

FOUND, NOTHING_FOUND, INCOMPLETE = "found", "nothing-found", "incomplete"  # checks.discovery.PaperDiscovery.outcome
COMPLETE = frozenset({FOUND, NOTHING_FOUND})  # answers in which every place answered: they may withdraw a suggestion
ACCEPTED_CLAIM = "code"


@dataclass(frozen=True)
class Place:
    """Another place that names a suggestion (``checks.discovery.Source`` as stored)."""

    kind: str
    url: str
    detail: str


@dataclass(frozen=True)
class StoredSuggestion:
    """A suggestion as the history keeps it: where it was found, and in which runs."""

    paper_id: str
    url: str
    source_kind: str
    source_url: str
    detail: str
    also: tuple[Place, ...]
    first_run: int
    first_seen_at: str
    last_run: int
    last_seen_at: str


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def ask_again_after(outcome: str, found_days: int, nothing_days: int) -> timedelta:
    """How long an answer stands: found rarely re-asked, nothing found weekly (by default), anything else next run."""
    if outcome == FOUND:
        return timedelta(days=found_days)
    if outcome == NOTHING_FOUND:
        return timedelta(days=nothing_days)
    return timedelta(0)


def due(store: Store, paper_ids: Iterable[str], now: datetime) -> list[str]:
    """Those papers never asked, or whose answer is due again: never asked first, then the longest ago, else in the given order."""
    wanted = list(dict.fromkeys(paper_ids))
    with store.engine.connect() as conn:
        rows = select_in(conn, wanted, lambda chunk: sa.select(discovery_answers.c.paper_id, discovery_answers.c.asked_at,
                                                               discovery_answers.c.next_ask_at)
                         .where(discovery_answers.c.paper_id.in_(chunk)))
    asked = {row.paper_id: (row.asked_at, row.next_ask_at) for row in rows}
    ready = [paper for paper in wanted if paper not in asked or _when(asked[paper][1]) <= now]
    return sorted(ready, key=lambda paper: asked.get(paper, ("",))[0])  # stable: input order among equals


def record(store: Store, run_id: int, answers: Sequence[Any], now: datetime, *,
           found_days: int = 30, nothing_days: int = 7) -> int:
    """Keep each paper's answer (a ``checks.discovery.PaperDiscovery``) and its suggestions (one transaction);
    the suggested URLs become links. Papers answered. (Duck-typed: reports/ does not import the checkers' settings.)"""
    if not answers:
        return 0
    stamp = _iso(now)
    with store._write() as conn:
        urls = {s.url: str(classify(s.url).kind) for answer in answers for s in answer.suggestions}
        Store._add_links(conn, urls, stamp)
        ids = [answer.paper_id for answer in answers]
        conn.execute(sa.delete(discovery_answers).where(discovery_answers.c.paper_id.in_(ids)))
        conn.execute(sa.insert(discovery_answers), [
            {"paper_id": a.paper_id, "outcome": a.outcome, "notes": [{"kind": n.kind, "message": n.message} for n in a.notes],
             "run_id": run_id, "asked_at": stamp,
             "next_ask_at": _iso(now + ask_again_after(a.outcome, found_days, nothing_days))} for a in answers])
        known = {(row.paper_id, row.url): row for row in select_in(
            conn, ids, lambda chunk: sa.select(code_suggestions).where(code_suggestions.c.paper_id.in_(chunk)))}
        for answer in answers:
            named = {s.url for s in answer.suggestions}
            if answer.outcome in COMPLETE:
                gone = [url for (paper, url) in known if paper == answer.paper_id and url not in named]
                if gone:
                    conn.execute(sa.update(code_suggestions).where(code_suggestions.c.paper_id == answer.paper_id,
                                                                   code_suggestions.c.url.in_(gone)).values(current=False))
            for s in answer.suggestions:
                values = {"source_kind": s.source_kind, "source_url": s.source_url, "detail": s.detail,
                          "also": [{"kind": o.kind, "url": o.url, "detail": o.detail} for o in s.also], "current": True,
                          "last_run": run_id, "last_seen_at": stamp}
                if (s.paper_id, s.url) in known:
                    conn.execute(sa.update(code_suggestions).where(code_suggestions.c.paper_id == s.paper_id,
                                                                   code_suggestions.c.url == s.url).values(**values))
                else:
                    conn.execute(sa.insert(code_suggestions).values(paper_id=s.paper_id, url=s.url, first_run=run_id,
                                                                    first_seen_at=stamp, **values))
    return len(answers)


def current(store: Store, paper_ids: Iterable[str]) -> dict[str, list[StoredSuggestion]]:
    """Each paper's current suggestions, strongest source first (as found), for those that have any."""
    rank = {"hf-paper": 0, "project-page": 1, "hub-card": 2}
    with store.engine.connect() as conn:
        rows = select_in(conn, list(dict.fromkeys(paper_ids)), lambda chunk: sa.select(code_suggestions)
                         .where(code_suggestions.c.paper_id.in_(chunk), code_suggestions.c.current.is_(True)))
    found: dict[str, list[StoredSuggestion]] = {}
    for row in sorted(rows, key=lambda r: (rank.get(r.source_kind, 9), r.first_run, r.url)):
        found.setdefault(row.paper_id, []).append(StoredSuggestion(
            row.paper_id, row.url, row.source_kind, row.source_url, row.detail,
            tuple(Place(o["kind"], o["url"], o["detail"]) for o in row.also or ()), row.first_run, row.first_seen_at,
            row.last_run, row.last_seen_at))
    return found


def accept(store: Store, run_id: int | None, pairs: Iterable[tuple[str, str]], how: str, now: datetime) -> int:
    """Keep (paper id, normalized URL) pairs as accepted (once: an earlier acceptance stands as it was). Pairs new."""
    wanted = list(dict.fromkeys(pairs))
    if not wanted:
        return 0
    with store._write() as conn:
        held = {(row.paper_id, row.url) for row in conn.execute(sa.select(accepted_suggestions.c.paper_id,
                                                                          accepted_suggestions.c.url))}
        new = [{"paper_id": paper, "url": url, "how": how, "run_id": run_id, "accepted_at": _iso(now)}
               for paper, url in wanted if (paper, url) not in held]
        if new:
            conn.execute(sa.insert(accepted_suggestions), new)
    return len(new)


def accepted(store: Store) -> dict[str, dict[str, str]]:
    """paper id -> {normalized URL: how it was accepted (``flag`` or ``config``)}."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(accepted_suggestions).order_by(accepted_suggestions.c.accepted_at)).all()
    found: dict[str, dict[str, str]] = {}
    for row in rows:
        found.setdefault(row.paper_id, {})[row.url] = row.how
    return found


def withdraw(store: Store, pairs: Iterable[tuple[str, str]]) -> int:
    """Forget these accepted pairs (the config's ``reject``); rows removed."""
    return _each_pair(store, accepted_suggestions, pairs, lambda where: sa.delete(accepted_suggestions).where(*where))


def reject(store: Store, pairs: Iterable[tuple[str, str]]) -> int:
    """The config's ``reject``: these suggestions are no longer current (not shown, checked or accepted). Rows changed."""
    return _each_pair(store, code_suggestions, pairs,
                      lambda where: sa.update(code_suggestions).where(*where).values(current=False))


def _each_pair(store: Store, table: sa.Table, pairs: Iterable[tuple[str, str]],
               statement: Callable[[tuple[Any, ...]], Any]) -> int:
    """One statement per distinct (paper, url) pair of ``table``, built from its WHERE clauses, in one
    transaction; rows affected."""
    affected = 0
    with store._write() as conn:
        for paper, url in dict.fromkeys(pairs):
            affected += conn.execute(statement((table.c.paper_id == paper, table.c.url == url))).rowcount or 0
    return affected


def cite(store: Store, pairs: Mapping[str, Sequence[str]]) -> int:
    """Make accepted URLs links of their papers now (claim ``code``, after the paper's own links), in one
    transaction: the run that accepts them judges the paper with them. Rows added."""
    wanted = [(paper, url) for paper, urls in pairs.items() for url in urls]
    if not wanted:
        return 0
    stamp = _iso(datetime.now(timezone.utc))
    added = 0
    with store._write() as conn:
        ids = Store._add_links(conn, {url: str(classify(url).kind) for _, url in wanted}, stamp)
        for paper, url in wanted:
            cited = conn.execute(sa.select(paper_links.c.link_id, paper_links.c.position)
                                 .where(paper_links.c.paper_id == paper)).all()
            if any(row.link_id == ids[url] for row in cited):
                continue
            conn.execute(sa.insert(paper_links).values(paper_id=paper, link_id=ids[url], url=url, claim=ACCEPTED_CLAIM,
                                                       promise=False, position=max((r.position for r in cited), default=-1) + 1))
            added += 1
    return added


def only_suggested(store: Store, urls: Iterable[str]) -> set[str]:
    """Those of ``urls`` that are suggestions and no paper cites: checked by a run, but no paper's link.
    Their checks are kept like any, but they make no transition, alert or count of links."""
    wanted = list(dict.fromkeys(urls))
    with store.engine.connect() as conn:
        suggested = {row.url for row in select_in(conn, wanted, lambda chunk: sa.select(code_suggestions.c.url)
                                                  .where(code_suggestions.c.url.in_(chunk)).distinct())}
        if not suggested:
            return set()
        cited = {row.normalized for row in select_in(conn, sorted(suggested), lambda chunk: sa.select(links.c.normalized)
                                                     .join(paper_links, paper_links.c.link_id == links.c.id)
                                                     .where(links.c.normalized.in_(chunk)).distinct())}
    return suggested - cited


__all__ = ["ACCEPTED_CLAIM", "Place", "StoredSuggestion", "accept", "accepted", "ask_again_after", "cite", "current", "due",
           "only_suggested", "record", "reject", "withdraw"]
