"""Archive lookups per link over a week of daily runs (issue 17), against the simulated archives.

1,000 repositories are watched; a share of them is failing every day (so their copy is wanted).
Each simulated day runs what the monitor's rescue step runs (``reports.archive_store.due``,
``checks.archives.rescue``, ``reports.archive_store.record``) with that day's clock, against
simweb's Software Heritage and Wayback Machine over real sockets, and counts the requests the
archives received. Prints lookups per failing link per week, and what an archive outage costs.

    .venv/bin/python bench/archive_bench.py                 # 1,000 repositories, 7 days
    .venv/bin/python bench/archive_bench.py --repos 200 --days 14 --failing 0.3
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checks.archive_settings import ArchiveSettings  # noqa: E402
from checks.archives import rescue  # noqa: E402
from checks.model import Link, LinkKind, Paper  # noqa: E402
from checks.settings import RemapRule  # noqa: E402
from reports import archive_store  # noqa: E402
from reports.store import Store  # noqa: E402
from simweb import SimulatedWeb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--failing", type=float, default=0.2, help="share of repositories failing every day (0.2)")
    parser.add_argument("--archived", type=float, default=0.68, help="share Software Heritage holds (0.68, Escamilla et al.)")
    args = parser.parse_args()
    rng = random.Random(17)
    urls = [f"https://github.com/lab{i % 37}/repo-{i}" for i in range(args.repos)]
    failing = [url for url in urls if rng.random() < args.failing]
    origins = {url: [{"date": "2024-05-01T10:00:00+00:00", "status": "full"}] for url in urls if rng.random() < args.archived}
    scenario = {"archives": {"software_heritage": {"origins": origins, "rate_limit": 100000},
                             "wayback": {"captures": {}}}}
    settings = ArchiveSettings(timeout=5.0, time_box=600.0)
    with tempfile.TemporaryDirectory() as tmp, SimulatedWeb(scenario) as sim:
        rules = tuple(RemapRule.parse(rule) for rule in sim.remap_rules)
        db = str(Path(tmp) / "h.sqlite")
        papers = [Paper(id=f"p{i}", title=f"Paper {i}", links=(Link(url=url, normalized=url, kind=LinkKind.GITHUB_REPO,
                                                                       claim="code"),)) for i, url in enumerate(urls)]
        with Store.open(db) as store:
            store.start_run(["bench"], watched=papers)
        start = datetime(2026, 12, 1, 6, tzinfo=timezone.utc)
        print(f"archive bench: {args.repos} repositories, {len(failing)} failing every day, "
              f"{len(origins)} held by Software Heritage; {args.days} daily runs")
        total = looked_up = 0
        for day in range(args.days):
            now = start + timedelta(days=day)
            sim.reset_stats()
            with Store.open(db) as store:
                due = archive_store.due(store, failing, now)
            began = time.monotonic()
            found = asyncio.run(rescue(due, settings, rules))
            took = time.monotonic() - began
            with Store.open(db) as store:
                archive_store.record(store, found.lookups, now)
            asked = sim.stats()["archive"]["requests"]
            total += asked
            looked_up += len(found.lookups)
            outcomes = {o: sum(1 for lookup in found.lookups if lookup.outcome.value == o) for o in ("found", "none", "unknown")}
            print(f"  day {day + 1}: {len(due):5d} links due, {asked:5d} archive requests, {took:5.1f} s, {outcomes}")
        per_week = total / max(len(failing), 1) / (args.days / 7)
        print(f"lookups per failing link per week: {looked_up / max(len(failing), 1) / (args.days / 7):.2f}")
        print(f"requests per failing link per week: {per_week:.2f} "
              "(a lookup is 1 request when Software Heritage holds the repository, 2 when the Wayback Machine is asked too)")

        print("an archive that is down or slow, with a 5 s time box:")
        for label, trouble in (("down (503)", {"down": True}), ("slow (30 s per answer)", {"delay": 30})):
            broken = {"archives": {"software_heritage": {"origins": {}, **trouble}, "wayback": {"captures": {}, **trouble}}}
            sim.load(broken)
            began = time.monotonic()
            outcome = asyncio.run(rescue(failing[:100], ArchiveSettings(timeout=10.0, time_box=5.0), rules))
            print(f"  {label}: {time.monotonic() - began:.1f} s for 100 links; {len(outcome.lookups)} answered "
                  f"(all unknown: {all(lookup.outcome.value == 'unknown' for lookup in outcome.lookups)})")


if __name__ == "__main__":
    main()
