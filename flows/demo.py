"""``paperwatch demo``: the real monitor, twice, against the bundled simulated web.

Nothing is mocked: the simulated GitHub API, Hugging Face Hub and project pages listen on
127.0.0.1 and the checkers reach them only through the public settings users have
(GitHub API URL, HF endpoint, remap rules).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from checks.errors import InputError
from checks.settings import CheckSettings, RemapRule
from flows.monitor import monitor
from simweb.scenario import Scenario
from simweb.server import SimulatedWeb

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_SOURCES = ("examples/hf-papers-2024-03-14.txt", "examples/demo-papers.jsonl")
DEMO_SCENARIO = REPO_ROOT / "simweb" / "scenarios" / "demo.yaml"
DEMO_PHASES = ("day-1", "day-2")


def demo_settings(web: SimulatedWeb) -> CheckSettings:
    """Short timeouts so the demo's deliberately slow page fails in seconds."""
    return CheckSettings(
        github_api_url=web.github_api_url,
        hf_endpoint=web.hf_endpoint,
        remap_rules=tuple(RemapRule.parse(rule) for rule in web.remap_rules),
        timeout=2.0,
        total_timeout=15.0,
        retries=1,
        backoff=0.2,
    )


def demo_sources() -> list[str]:
    """The demo's inputs, named relative to the current directory (``examples/…`` from the checkout):
    reports get published, and the sources they name must not be a path on the machine that built them."""
    sources = [REPO_ROOT / name for name in DEMO_SOURCES]
    missing = [str(path) for path in sources if not path.exists()]
    if missing:
        raise InputError(missing[0], "not found (the demo runs from a paperwatch checkout)")
    return [os.path.relpath(path) for path in sources]


def run_demo(out: str) -> list[dict[str, Any]]:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "paperwatch-demo.sqlite"
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)  # each demo starts a fresh two-run history
    sources = demo_sources()
    results = []
    with SimulatedWeb(Scenario.load(DEMO_SCENARIO)) as web:
        settings = demo_settings(web).to_dict()
        for phase in DEMO_PHASES:
            web.set_phase(phase)
            results.append(monitor(sources=sources, db=str(db), out=str(out_dir), settings=settings))
    return results
