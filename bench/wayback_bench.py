"""Three ways to ask the Wayback Machine for a page's copy, against the simulated face's failure modes (issue 17).

For a dead page the reader wants the newest capture that answered 200: the page as it was, not the
capture of its 404. There are three ways to ask:

- **availability** (``archive.org/wayback/available?url=U``): the capture closest to now; a client
  can read its ``status``. Documented traits: often ``{"archived_snapshots":{}}`` for pages it holds,
  and a rate limit answered as an HTML 429 page inside an HTTP 200.
- **web/ redirect** (``web.archive.org/web/U``): a 302 to the newest capture, whatever its status
  (lychee's newest code reads this ``Location``).
- **CDX** (``web.archive.org/cdx/search/cdx?url=U&filter=statuscode:200&limit=-1``): the newest 200
  capture, by its status; rate-limited per minute. This is what paperwatch uses
  (``checks.archives``), run here through ``checks.archives.rescue`` itself.

The world: pages whose newest capture is a 200, pages whose newest capture is the 404 they became
(an older 200 exists), pages with only a capture of an error, and pages never captured. Each method
runs against each mode of the face; the table counts, per method, the copies that are the right one
(the newest 200), wrong copies (a capture of an error page), false "no copy" answers (a copy exists:
the worst, as it tells a reader the page is lost), "could not tell" answers (asked again next run),
requests and seconds.

    .venv/bin/python bench/wayback_bench.py                 # 200 pages, 4 modes
    .venv/bin/python bench/wayback_bench.py --pages 1000
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import re
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checks.archive_model import LookupOutcome  # noqa: E402
from checks.archive_settings import ArchiveSettings  # noqa: E402
from checks.archives import rescue  # noqa: E402
from checks.remap import remap  # noqa: E402
from checks.settings import RemapRule  # noqa: E402
from simweb import SimulatedWeb  # noqa: E402

STAMP = re.compile(r"/web/(\d{14})/")
CONCURRENCY = 4  # as checks.archives asks: the archives are small non-profits
MODES: dict[str, dict[str, Any]] = {
    "normal": {},
    "availability answers {} (empty)": {"availability": "empty"},
    "availability rate-limited (429 inside a 200)": {"availability": "rate-limited"},
    "CDX rate-limited (60 a minute)": {"cdx_rate_limit": 60},
}


@dataclass(frozen=True)
class Answer:
    """One method's answer about one page: the capture it offers (its timestamp), none, or that it could not tell."""

    stamp: str | None = None
    failed: bool = False


@dataclass(frozen=True)
class Page:
    url: str
    captures: tuple[tuple[str, int], ...]  # (timestamp, status), oldest first

    @property
    def truth(self) -> str | None:
        """The copy a reader wants: the newest capture that answered 200."""
        good = [stamp for stamp, status in self.captures if status == 200]
        return good[-1] if good else None

    def status_of(self, stamp: str) -> int | None:
        return dict(self.captures).get(stamp)


def build_world(n: int, seed: int = 17) -> list[Page]:
    rng = random.Random(seed)
    pages = []
    for i in range(n):
        url = f"https://lab{i % 23}.example.org/project-{i}"
        roll = rng.random()
        years = sorted(rng.sample(range(2018, 2025), 3))
        goods = tuple((f"{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}120000", 200) for year in years)
        if roll < 0.50:  # alive when last captured
            captures = goods
        elif roll < 0.75:  # died, and the crawler captured its 404 (or the error page it redirects to)
            captures = goods + ((f"2025{rng.randint(1, 12):02d}01000000", rng.choice((404, 404, 301))),)
        elif roll < 0.85:  # only ever captured as an error
            captures = ((f"2023{rng.randint(1, 12):02d}01000000", 404),)
        else:  # never captured
            captures = ()
        pages.append(Page(url, captures))
    return pages


def scenario(pages: list[Page], mode: dict[str, Any]) -> dict[str, Any]:
    captures = {p.url: [{"timestamp": stamp, "status": status} for stamp, status in p.captures] for p in pages if p.captures}
    return {"archives": {"wayback": {"captures": captures, **mode}, "software_heritage": {"origins": {}}}}


async def _each(urls: list[str], ask: Callable[[httpx.AsyncClient, str], Awaitable[Answer]]) -> dict[str, Answer]:
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(follow_redirects=False, timeout=10.0) as client:
        async def one(url: str) -> tuple[str, Answer]:
            async with gate:
                try:
                    return url, await ask(client, url)
                except (httpx.HTTPError, ValueError, KeyError):
                    return url, Answer(failed=True)
        return dict(await asyncio.gather(*(one(url) for url in urls)))


def by_availability(rules: tuple[RemapRule, ...]) -> Callable[[list[str]], Awaitable[dict[str, Answer]]]:
    async def ask(client: httpx.AsyncClient, url: str) -> Answer:
        response = await client.get(remap(f"https://archive.org/wayback/available?url={quote(url, safe='')}", rules) or "")
        if response.status_code != 200:
            return Answer(failed=True)
        closest = json.loads(response.text).get("archived_snapshots", {}).get("closest")  # an HTML 429 page: ValueError
        # generous: a capture of an error is not offered as the copy (lychee's old client took any "closest")
        if closest and closest.get("available") and str(closest.get("status")) == "200":
            return Answer(stamp=str(closest["timestamp"]))
        return Answer()
    return lambda urls: _each(urls, ask)


def by_redirect(rules: tuple[RemapRule, ...]) -> Callable[[list[str]], Awaitable[dict[str, Answer]]]:
    async def ask(client: httpx.AsyncClient, url: str) -> Answer:
        response = await client.get(remap(f"https://web.archive.org/web/{url}", rules) or "")
        if response.status_code == 404:
            return Answer()
        found = STAMP.search(response.headers.get("location", "")) if response.status_code in (301, 302) else None
        return Answer(stamp=found.group(1)) if found else Answer(failed=True)
    return lambda urls: _each(urls, ask)


def by_cdx(rules: tuple[RemapRule, ...]) -> Callable[[list[str]], Awaitable[dict[str, Answer]]]:
    async def run(urls: list[str]) -> dict[str, Answer]:
        result = await rescue(urls, ArchiveSettings(timeout=10.0, time_box=600.0), rules)
        answers = {}
        for lookup in result.lookups:
            if lookup.outcome is LookupOutcome.FOUND and lookup.copy is not None:
                found = STAMP.search(lookup.copy.url)
                answers[lookup.url] = Answer(stamp=found.group(1) if found else None, failed=found is None)
            else:
                answers[lookup.url] = Answer(failed=lookup.outcome is LookupOutcome.UNKNOWN)
        for url in urls:  # a link the time box left unasked: asked next run
            answers.setdefault(url, Answer(failed=True))
        return answers
    return run


METHODS = {"availability": by_availability, "web/ redirect": by_redirect, "CDX (paperwatch)": by_cdx}


def judge(pages: list[Page], answers: dict[str, Answer]) -> collections.Counter[str]:
    tally: collections.Counter[str] = collections.Counter()
    for page in pages:
        answer = answers[page.url]
        if answer.failed:
            tally["could not tell"] += 1
        elif answer.stamp is None:
            tally["right: no copy" if page.truth is None else "FALSE no copy"] += 1
        elif answer.stamp == page.truth:
            tally["right copy"] += 1
        else:
            status = page.status_of(answer.stamp)
            tally["WRONG copy (an error's capture)" if status != 200 else "older copy"] += 1
    return tally


COLUMNS = ("right copy", "right: no copy", "WRONG copy (an error's capture)", "FALSE no copy", "could not tell")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    pages = build_world(args.pages)
    kinds = collections.Counter(
        "newest capture 200" if p.captures and p.captures[-1][1] == 200 else
        "newest capture an error, an older 200" if p.truth else "only errors captured" if p.captures else "never captured"
        for p in pages)
    print(f"wayback bench: {len(pages)} dead pages ({', '.join(f'{n} {k}' for k, n in kinds.items())}); "
          f"{CONCURRENCY} requests at a time")
    print(f"the right answer: {sum(1 for p in pages if p.truth)} copies (the newest 200 capture), "
          f"{sum(1 for p in pages if not p.truth)} 'no copy'")
    header = f"{'mode':46} {'method':18} " + " ".join(f"{c[:14]:>14}" for c in COLUMNS) + f" {'requests':>9} {'seconds':>8}"
    print(header)
    for mode_name, mode in MODES.items():
        for method_name, method in METHODS.items():
            with SimulatedWeb(scenario(pages, mode)) as sim:
                rules = tuple(RemapRule.parse(rule) for rule in sim.remap_rules)
                began = time.monotonic()
                answers = asyncio.run(method(rules)([p.url for p in pages]))
                took = time.monotonic() - began
                requests = sim.stats()["archive"]["requests"]
            tally = judge(pages, answers)
            extra = {k: v for k, v in tally.items() if k not in COLUMNS}
            print(f"{mode_name:46} {method_name:18} " + " ".join(f"{tally[c]:>14}" for c in COLUMNS)
                  + f" {requests:>9} {took:>8.2f}" + (f"  {extra}" if extra else ""))


if __name__ == "__main__":
    main()
