"""Query building blocks the store's modules share: IN (...) lists in chunks, a run's counts by state.

A long list of URLs, ids or days in one ``IN (...)`` clause can exceed what a database accepts
as bound parameters (SQLite's limit is 32766, older builds' 999); every such query goes through
``select_in`` / ``delete_in``, which send it in chunks and merge what comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from reports.schema import observations, paper_links, run_papers

T = TypeVar("T")

IN_CHUNK = 500  # values per IN (...) list


def in_chunks(values: Iterable[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """``values`` in order, in lists of at most ``size``."""
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def select_in(conn: Connection, values: Iterable[T], query: Callable[[list[T]], sa.Select[Any]]) -> list[Row[Any]]:
    """The rows of ``query(chunk)`` (a SELECT whose IN list is ``chunk``) for every chunk of ``values``, in order."""
    rows: list[Row[Any]] = []
    for chunk in in_chunks(values):
        rows += conn.execute(query(chunk)).all()
    return rows


def delete_in(conn: Connection, values: Iterable[T], statement: Callable[[list[T]], sa.Delete]) -> int:
    """Run ``statement(chunk)`` (a DELETE whose IN list is ``chunk``) for every chunk of ``values``; rows deleted."""
    return sum(int(conn.execute(statement(chunk)).rowcount or 0) for chunk in in_chunks(values))


def state_counts(conn: Connection, run_id: int) -> dict[str, int]:
    """How many of the run's links (those its papers cite) it recorded in each state: its ``counts``. The
    suggestions it checked (code found elsewhere, ``flows.discover``) are observed too but are not its links."""
    cited = (sa.select(paper_links.c.link_id)
             .join(run_papers, run_papers.c.paper_id == paper_links.c.paper_id).where(run_papers.c.run_id == run_id))
    return dict(conn.execute(sa.select(observations.c.state, sa.func.count())
                             .where(observations.c.run_id == run_id, observations.c.link_id.in_(cited))
                             .group_by(observations.c.state)).all())
