"""Emit a run's Prefect events (built by ``reports.link_events``) once its report is written.

``prefect.events.emit_event`` only hands each event to Prefect's background ``EventsWorker``, which
sends them to the API over one websocket; the flow run's end drains it. An event that cannot be
emitted is a warning, never a failed run: the report and the history already hold every change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from reports.link_events import EventSpec


def emit_specs(specs: Sequence[EventSpec | Mapping[str, Any]]) -> dict[str, Any]:
    """Hand every spec to the EventsWorker; how many of each name were emitted, and how many were refused."""
    emitted: Counter[str] = Counter()
    refused = 0
    for spec in specs:
        spec = spec if isinstance(spec, EventSpec) else EventSpec.from_dict(spec)
        try:
            event = emit_event(event=spec.event, resource=dict(spec.resource), related=[dict(r) for r in spec.related],
                               payload=dict(spec.payload))
        except Exception:  # EventTooLarge, or a resource Prefect refuses: this one event is lost, the run is not
            event = None
        if event is None:
            refused += 1
        else:
            emitted[spec.event] += 1
    return {"emitted": sum(emitted.values()), "by_name": dict(emitted), "refused": refused}


@task(name="emit events", cache_policy=NO_CACHE)
def emit_run_events(run_id: int, specs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    outcome = emit_specs(specs)
    logger = get_run_logger()
    logger.info("run %d: %d Prefect event(s) emitted%s", run_id, outcome["emitted"],
                f" ({', '.join(f'{n} {name}' for name, n in sorted(outcome['by_name'].items()))})" if outcome["by_name"] else "")
    if outcome["refused"]:
        logger.warning("run %d: %d Prefect event(s) not emitted (events disabled, or refused by Prefect)", run_id,
                       outcome["refused"])
    return outcome


def events_step(run_id: int, specs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The report is written: events that cannot be emitted are a warning, never a failed run."""
    try:
        return emit_run_events(run_id, specs)
    except Exception as exc:
        get_run_logger().warning("run %d: Prefect events not emitted (%s)", run_id, type(exc).__name__)
        return {"emitted": 0, "by_name": {}, "refused": len(specs), "error": type(exc).__name__}
