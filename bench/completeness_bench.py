"""The ML Code Completeness score against hand labels: 22 real NeurIPS 2019 repositories through the real check.

Issue 18's calibration: ``../shared/data/checklist-repos/`` holds 22 research repositories as
published (README and full file list each, ``meta.json`` with the snapshot's commit date) with their
2019 hand labels for the five checklist items (``labels.json``). This bench serves them from the
simulated GitHub (simweb) exactly as the monitor meets real repositories, runs the real repository
check over sockets, and compares the ``completeness`` fact it records with the labels:

* without a token: the repository page (tree and rendered README, no API points) merged with the REST
  answer, as a tokenless run does;
* with a token: the GraphQL batch (root entries and ``README.md`` text, in the query every run sends).

It prints per-item precision and recall for each path, how many repositories were unscored, and
every disagreement with the scorer's reason and the snapshot's date (the labels are from 2019; a
README may have changed since). Goal (the issue): at least 0.8 precision and recall for
dependencies, training and evaluation.

    .venv/bin/python bench/completeness_bench.py                  # the shared data beside the checkout
    .venv/bin/python bench/completeness_bench.py --data DIR --json /tmp/completeness.json

The data are third-party texts read in place, never copied into this repository.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from checks.completeness import ITEMS, Completeness  # noqa: E402
from checks.github import check_repos, merge_page_and_api  # noqa: E402
from checks.http import check_pages  # noqa: E402
from checks.model import Link, LinkKind, Observation  # noqa: E402
from checks.settings import CheckSettings, RemapRule  # noqa: E402
from simweb import SimulatedWeb  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "checklist-repos"
TOKEN = "ghp_bench_completeness"
TOKEN_ENV = "PAPERWATCH_COMPLETENESS_BENCH_TOKEN"
GOAL = 0.8
GOAL_ITEMS = ("dependencies", "training", "evaluation")


@dataclass(frozen=True)
class Labelled:
    folder: str
    full_name: str
    files: tuple[str, ...]
    readme: str
    labels: dict[str, int]
    snapshot: str  # the snapshot's commit date


def load(data: Path) -> list[Labelled]:
    labels = json.loads((data / "labels.json").read_text())
    repos = []
    for folder, entry in sorted(labels.items()):
        meta = json.loads((data / folder / "meta.json").read_text())
        readme_name = meta.get("readme_name") or "README.md"
        files = tuple(line.strip() for line in (data / folder / "tree.txt").read_text().splitlines() if line.strip())
        if readme_name not in files:
            files = (readme_name,) + files
        full_name = "/".join(entry["url"].rstrip("/").split("/")[-2:])
        repos.append(Labelled(folder, full_name, files, (data / folder / readme_name).read_text(errors="replace"),
                              dict(entry["labels_2019"]), str(meta.get("commit_date") or entry.get("commit_date"))[:10]))
    return repos


def scenario(repos: list[Labelled]) -> dict[str, Any]:
    limit = {"authenticated": 1_000_000, "anonymous": 1_000_000}
    return {"github": {"tokens": [TOKEN], "rate_limit": limit,
                       "repos": [{"full_name": r.full_name, "files": list(r.files), "readme": r.readme} for r in repos]}}


def link(full_name: str) -> Link:
    owner, name = full_name.split("/")
    url = f"https://github.com/{full_name}"
    return Link(url=url, normalized=url, kind=LinkKind.GITHUB_REPO, owner=owner, name=name)


def run_paths(sim: SimulatedWeb, repos: list[Labelled]) -> dict[str, dict[str, Observation]]:
    """Each path's observation per repository: the page merged with REST (no token), and GraphQL (a token)."""
    settings = CheckSettings(github_api_url=sim.github_api_url, hf_endpoint=sim.hf_endpoint, timeout=10.0, retries=0,
                             remap_rules=tuple(RemapRule.parse(r) for r in sim.remap_rules), canaries=(),
                             github_token_env=TOKEN_ENV, total_timeout=120.0)
    links = [link(r.full_name) for r in repos]
    os.environ.pop(TOKEN_ENV, None)
    sim.reset_stats()
    pages = {o.url: o for o in check_pages([x.normalized for x in links], settings).observations}
    page = {o.url: merge_page_and_api(pages[o.url], o) for o in check_repos(links, settings)}
    tokenless = sim.stats()["github"]
    os.environ[TOKEN_ENV] = TOKEN
    try:
        sim.reset_stats()
        graphql = {o.url: o for o in check_repos(links, settings)}
        with_token = sim.stats()["graphql"]
    finally:
        os.environ.pop(TOKEN_ENV, None)
    print(f"requests: without a token {tokenless['requests']} GitHub API requests for {len(repos)} repositories "
          f"(plus the pages); with a token {with_token['requests']} GraphQL requests, "
          f"{sum(c['points'] for c in with_token['clients'].values())} points")
    return {"page (no token)": page, "GraphQL (token)": graphql}


def completeness_of(observation: Observation) -> Completeness | None:
    facts = observation.facts
    value = getattr(facts, "completeness", None) if facts is not None else None
    return value if isinstance(value, Completeness) else None


def ratio(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.2f} ({numerator}/{denominator})" if denominator else "n/a"


def report(path: str, repos: list[Labelled], found: dict[str, Observation]) -> dict[str, Any]:
    scored = {r.folder: completeness_of(found[link(r.full_name).normalized]) for r in repos}
    unscored = [f for f, c in scored.items() if c is None or c.score is None]
    print(f"\n== {path}: {len(repos) - len(unscored)} scored, {len(unscored)} unscored"
          + (f" ({', '.join(unscored)})" if unscored else ""))
    print(f"{'item':<18}{'precision':<16}{'recall':<16}{'agree':<8}")
    summary: dict[str, Any] = {"unscored": unscored, "items": {}}
    for item in ITEMS:
        tp = fp = fn = agree = 0
        for r in repos:
            result = scored[r.folder]
            if result is None or result.score is None:
                continue
            met, label = bool(result.item(item) and result.item(item).met), bool(r.labels[item])  # type: ignore[union-attr]
            tp, fp, fn, agree = tp + (met and label), fp + (met and not label), fn + (label and not met), agree + (met == label)
        goal = "" if item not in GOAL_ITEMS else "  goal met" if tp and tp / (tp + fp) >= GOAL and tp / (tp + fn) >= GOAL \
            else "  BELOW GOAL"
        print(f"{item:<18}{ratio(tp, tp + fp):<16}{ratio(tp, tp + fn):<16}{agree:<8}{goal}")
        summary["items"][item] = {"tp": tp, "fp": fp, "fn": fn}
    if unscored:  # the scorer said "cannot score": show what the labels said, and recall as if each were a miss
        print("\nunscored (the scorer's reason; the 2019 labels):")
        for r in repos:
            if r.folder in unscored:
                why = scored[r.folder].unscored if scored[r.folder] is not None else "no checklist recorded"  # type: ignore[union-attr]
                print(f"  {r.folder:<46} {why}; labels {' '.join(f'{i}={v}' for i, v in r.labels.items())}")
        strict = {item: summary["items"][item]["fn"] + sum(r.labels[item] for r in repos if r.folder in unscored)
                  for item in GOAL_ITEMS}
        print("recall counting them as misses: " + ", ".join(
            f"{item} {ratio(summary['items'][item]['tp'], summary['items'][item]['tp'] + strict[item])}" for item in GOAL_ITEMS))
    print("\ndisagreements (label 2019 -> scorer; snapshot date; the scorer's reason):")
    rows = []
    for r in repos:
        result = scored[r.folder]
        if result is None or result.score is None:
            continue
        for item in ITEMS:
            got = result.item(item)
            assert got is not None
            if got.met != bool(r.labels[item]):
                rows.append((r.folder, item, r.labels[item], int(got.met), r.snapshot, got.reason))
                print(f"  {r.folder:<46} {item:<17} {r.labels[item]} -> {int(got.met)}  {r.snapshot}  {got.reason}")
    summary["disagreements"] = rows
    summary["scores"] = {f: (c.score if c else None) for f, c in scored.items()}
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the checklist-repos folder (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    if not (args.data / "labels.json").is_file():
        print(f"completeness_bench: no labelled repositories at {args.data} (labels.json missing); "
              "pass --data DIR pointing at the checklist-repos folder", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    repos = load(args.data)
    print(f"{len(repos)} labelled repositories from {args.data}")
    with SimulatedWeb(scenario(repos)) as sim:
        paths = run_paths(sim, repos)
    results = {path: report(path, repos, found) for path, found in paths.items()}
    first, second = (paths[p] for p in paths)
    differ = [r.folder for r in repos if (completeness_of(first[link(r.full_name).normalized]) or Completeness()).to_dict()
              != (completeness_of(second[link(r.full_name).normalized]) or Completeness()).to_dict()]
    print(f"\nthe two paths give the same checklist for {len(repos) - len(differ)} of {len(repos)} repositories"
          + (f"; they differ for {', '.join(differ)}" if differ else ""))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
