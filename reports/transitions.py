"""Verdict transitions between two runs of the history: what the report lists and alerts announce.

The judging is pure (``reports.verdicts``); this module only reads what it needs from the
store: each link's history up to a run (for its verdict) and its recent observations (for
facts such as archived, has code, moved to).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from checks.model import Observation
from reports.store import Store
from reports.suggestion_store import only_suggested
from reports.verdicts import LinkSnapshot, LinkVerdict, Transition, link_snapshot, link_verdict, verdict_transitions
from reports.vocabulary import ConfirmRule

FACT_RUNS = 14  # runs looked back through for the last known facts of a link
VERDICT_DAYS = 90  # history the verdict reads (its longest uptime window)


@dataclass(frozen=True)
class Comparison:
    transitions: list[Transition]
    after: dict[str, LinkSnapshot]  # every link the later run checked


def _recent_runs(store: Store, run_id: int) -> list[int]:
    recent = [r.id for r in store.runs(limit=FACT_RUNS, up_to=run_id)]
    if run_id not in recent:  # a run still in progress is not listed among finished runs
        recent.append(run_id)
    return recent


def link_snapshots(store: Store, run_id: int, urls: Sequence[str],
                   observed: Mapping[int, Mapping[str, Observation]] | None = None,
                   verdicts: Mapping[str, LinkVerdict] | None = None, *,
                   rule: ConfirmRule = ConfirmRule()) -> dict[str, LinkSnapshot]:
    """Each link as of ``run_id``: its verdict from the history (judged by ``rule``), its facts from recent runs.

    ``observed`` may hold observations of recent runs already read, and ``verdicts`` the links'
    verdicts as of ``run_id``: on a large history reading and judging them is most of the work,
    so a caller that has them (the report) passes them on.
    """
    if verdicts is None:
        run = store.run(run_id)
        since = (datetime.fromisoformat(run.started_at) - timedelta(days=VERDICT_DAYS)).isoformat()
        histories = store.link_histories(urls, since, run_id)
        verdicts = {url: link_verdict(histories.get(url, []), rule=rule) for url in urls}
    recent = _recent_runs(store, run_id)
    missing = [rid for rid in recent if observed is None or rid not in observed]
    observed = {**(observed or {}), **(store.observations_of_runs(missing) if missing else {})}
    return {url: link_snapshot(verdicts[url], [observed[rid][url] for rid in recent if url in observed[rid]])
            for url in urls}


def compare_runs(store: Store, before_run: int | None, run_id: int,
                 observed: Mapping[int, Mapping[str, Observation]] | None = None,
                 verdicts: Mapping[str, LinkVerdict] | None = None, *,
                 rule: ConfirmRule = ConfirmRule()) -> Comparison:
    """Transitions of the links ``run_id`` checked, from ``before_run`` (None: nothing to compare with);
    suggestions no paper cites (``reports.suggestion_store``) are checked but make no transition.

    ``observed`` and ``verdicts`` (of ``run_id``'s links, as of it, judged by ``rule``): what the caller
    already has. ``rule`` judges the verdicts this function works out itself.
    """
    runs = sorted(set(_recent_runs(store, run_id)) | (set(_recent_runs(store, before_run)) if before_run else set()))
    missing = [rid for rid in runs if observed is None or rid not in observed]
    observed = {**(observed or {}), **(store.observations_of_runs(missing) if missing else {})}
    urls = list(observed[run_id])
    suggested = only_suggested(store, urls)  # code found elsewhere: checked, but no paper's link
    urls = [url for url in urls if url not in suggested]
    after = link_snapshots(store, run_id, urls, observed, verdicts, rule=rule)
    if before_run is None:
        return Comparison([], after)
    return Comparison(verdict_transitions(link_snapshots(store, before_run, urls, observed, rule=rule), after), after)
