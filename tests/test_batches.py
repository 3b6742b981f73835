"""Batch tasks, shard plans, degraded runs and the daily-feed ingest, in the session's Prefect API.

The flows run for real against the simulated web; only the crash of a whole batch task is
provoked by replacing the Hub checker with one that raises, because no answer of a web service
makes a checker raise (they turn every answer, and every silence, into an observation).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect import flow

from checks.extract import read_papers
from checks.model import Evidence, Link, LinkKind, Observation, Paper, State
from checks.plan import CheckPlan, plan_checks
from checks.settings import CheckSettings, RemapRule
from flows.batch_plan import LANE_BATCHES, CheckedBatch, CheckOutcome, plan_batches
from flows.batches import check_links
from flows.ingest import feed_days
from flows.sharding import plan_shards
from simweb import SimulatedWeb

DATA = Path(__file__).parent / "data"
CLOSED = "http://127.0.0.1:9"  # nothing listens here: a service that is down
pytest_plugins = ("store_backends",)  # the ``db`` fixture: SQLite, and PostgreSQL where ./dev test starts it


def page(url: str) -> Link:
    return Link(url=url, normalized=url, kind=LinkKind.PROJECT)


def repo(name: str) -> Link:
    owner, repo_name = name.split("/")
    return Link(url=f"https://github.com/{name}", normalized=f"https://github.com/{name}", kind=LinkKind.GITHUB_REPO,
                owner=owner, name=repo_name)


def model(name: str) -> Link:
    owner, model_name = name.split("/")
    return Link(url=f"https://huggingface.co/{name}", normalized=f"https://huggingface.co/{name}", kind=LinkKind.HF_MODEL,
                owner=owner, name=model_name)


def settings_for(sim: SimulatedWeb, **overrides: Any) -> dict[str, Any]:
    base = CheckSettings(github_api_url=sim.github_api_url, hf_endpoint=sim.hf_endpoint,
                         remap_rules=tuple(RemapRule.parse(r) for r in sim.remap_rules), timeout=3.0, retries=0)
    return {**base.to_dict(), **overrides}


# --- plans: pure functions ------------------------------------------------------------------------

def test_each_host_runs_in_one_lane_and_every_batch_interleaves_its_lanes_hosts() -> None:
    """A host's politeness holds (one lane, its batches one at a time), and however large each host
    is, every batch mixes all the hosts of its lane, so the run's concurrency stays full."""
    pages = [page(f"https://big{h}.example.org/{i}") for h in range(5) for i in range(300)] + \
        [page(f"https://small{h}.example.org/{i}") for h in range(6) for i in range(2)]
    repos = [repo(f"lab/r{i}") for i in range(11)]
    batches = plan_batches(pages, repos, [model("lab/m")], size=100, lanes=2)

    page_batches = [b for b in batches if b.api == "pages"]
    lanes: dict[str, set[int]] = {}
    for batch in page_batches:
        for link in batch.links:
            lanes.setdefault(link.normalized.split("/")[2], set()).add(batch.lane)
    assert all(len(found) == 1 for found in lanes.values()) and len(lanes) == 11  # a host never in two lanes
    assert sorted(sum(len(b.links) for b in page_batches if b.lane == lane) for lane in (0, 1)) == [612, 900]  # balanced
    for lane in (0, 1):
        in_lane = [b for b in page_batches if b.lane == lane]
        big = {host for host, found in lanes.items() if found == {lane} and host.startswith("big")}
        assert 1 < len(in_lane) <= LANE_BATCHES
        for batch in in_lane:
            assert big <= set(batch.hosts)  # each batch holds a share of every big host of its lane
            assert batch.hosts == tuple(dict.fromkeys(link.normalized.split("/")[2] for link in batch.links))
        assert max(abs(sum(l.normalized.startswith(f"https://{h}/") for l in b.links) -
                       sum(l.normalized.startswith(f"https://{h}/") for l in in_lane[0].links))
                   for b in in_lane[:-1] for h in big) <= 3  # evenly spread (the small hosts shift a cut by a few)
    assert sorted(link.normalized for b in page_batches for link in b.links) == sorted(p.normalized for p in pages)
    assert [len(b.links) for b in batches if b.api == "github"] == [11]
    assert [len(b.links) for b in batches if b.api == "huggingface"] == [1]


def test_shards_are_balanced_and_never_split_a_host() -> None:
    links = [page(f"https://h{h}.example.org/{i}") for h in range(10) for i in range(h + 1)] + \
        [repo(f"lab/r{i}") for i in range(30)] + [model(f"lab/m{i}") for i in range(12)]
    plan = plan_checks([Paper(id="p", title="P", links=tuple(links))])
    shards = plan_shards(plan, 3, with_token=True, size=20)

    assert [s.number for s in shards] == [1, 2, 3]
    sizes = [s.size for s in shards]
    assert sum(sizes) == len(links) and max(sizes) - min(sizes) <= 10  # the largest group is 20 (a GitHub piece)
    owners = {}
    for shard in shards:
        for group in shard.groups:
            if group.api == "pages":
                assert owners.setdefault(group.name, shard.number) == shard.number
    work = [shard.work() for shard in shards]
    assert sum(len(w["pages"]) + len(w["github"]) + len(w["huggingface"]) for w in work) == len(links)
    assert plan_shards(plan, 50, with_token=True)[-1].number <= 12  # never more shards than groups


def test_without_a_token_repositories_are_page_checked_too() -> None:
    plan = plan_checks([Paper(id="p", title="P", links=(repo("lab/a"), page("https://x.example.org/")))])
    anonymous = plan_shards(plan, 4, with_token=False)
    assert sorted(g.name for s in anonymous for g in s.groups) == ["GitHub API", "github.com", "x.example.org"]
    assert sorted(g.name for s in plan_shards(plan, 4, with_token=True) for g in s.groups) == ["GitHub API", "x.example.org"]


def test_the_daily_feed_reads_the_last_days_oldest_first() -> None:
    from datetime import date

    assert feed_days(None, 3, today=date(2024, 3, 1)) == ["2024-02-28", "2024-02-29", "2024-03-01"]
    assert feed_days(["2024-04-23"], 3) == ["2024-04-23"]


def test_shard_results_travel_through_the_history_database(db: str) -> None:
    """How a shard on another machine hands its batches to the parent: one row in the shared database."""
    from flows import shard_results

    failed = Observation(url="https://x.example.org", state=State.ERROR, reason="connection refused", checker="http",
                         evidence=Evidence(error="ConnectError: refused", attempts=1))
    batch = CheckedBatch("pages", (failed,), network_failures=("https://x.example.org",), responses_seen=3)
    shard_results.prepare(db, 7)
    shard_results.write(db, 7, 1, "first-attempt", [])
    shard_results.write(db, 7, 1, "retried", [batch])  # a retried shard replaces its row
    shard_results.write(db, 8, 1, None, [])

    found = shard_results.read(db, 7, [1, 2])
    assert list(found) == [1] and [b.to_dict() for b in found[1]] == [batch.to_dict()]
    shard_results.clear(db, 7)
    assert shard_results.read(db, 7, [1]) == {} and shard_results.read(db, 8, [1]) == {1: []}


def test_a_shards_links_travel_through_the_history_database_not_as_parameters(db: str) -> None:
    """Prefect refuses flow run parameters over 512 KB (~2,600 links): a 100,000-link shard must still start."""
    from flows import shard_results

    links = [Link(url=f"https://host{i % 40}.example.org/p/{i}", normalized=f"https://host{i % 40}.example.org/p/{i}",
                  kind=LinkKind.PROJECT) for i in range(200_000)]
    shards = plan_shards(CheckPlan(github=(), huggingface=(), http=tuple(links)), 2, with_token=False)
    shard_results.prepare(db, 9)
    shard_results.write_work(db, 9, {shard.number: shard.work() for shard in shards})
    for shard in shards:
        work = shard_results.read_work(db, 9, shard.number)
        assert work is not None and [Link.from_dict(d) for d in work["pages"]] == [
            link for group in shard.groups for link in group.links]
    assert sum(len(shard_results.read_work(db, 9, s.number)["pages"]) for s in shards) == 200_000
    shard_results.clear(db, 9)
    assert shard_results.read_work(db, 9, 1) is None  # a late shard of a finished run finds nothing, and says so


# --- flows against the simulated web ---------------------------------------------------------------

@pytest.fixture(scope="module")
def e2e_sim() -> Iterator[SimulatedWeb]:
    with SimulatedWeb(DATA / "e2e-scenario.yaml") as web:
        yield web


@pytest.mark.prefect
def test_a_hub_that_is_down_leaves_its_links_unknown_and_the_run_completed(prefect_api: None, e2e_sim: SimulatedWeb,
                                                                            tmp_path: Path) -> None:
    from flows.monitor import monitor

    state = monitor(sources=[str(DATA / "e2e-papers.md")], db=str(tmp_path / "h.sqlite"), out=str(tmp_path / "out"),
                    settings=settings_for(e2e_sim, hf_endpoint=CLOSED), return_state=True)

    assert state.is_completed() and state.message == "completed with 2 unknown"
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    hub = {link["normalized"]: link for p in report["papers"] for link in p["links"] if "huggingface.co" in link["normalized"]}
    assert {link["state"] for link in hub.values()} == {"unknown"} and len(hub) == 2
    assert report["summary"]["by_state"]["dead"] == 3  # the rest of the run was checked as usual
    assert report["run"]["status"] == "completed"


@pytest.mark.prefect
def test_a_crashed_batch_is_retried_then_degrades_to_unknown(prefect_api: None, e2e_sim: SimulatedWeb, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import flows.batches
    from flows.monitor import monitor

    calls: list[int] = []

    def crash(links: list[Link], settings: CheckSettings, on_done: object = None) -> None:
        calls.append(len(links))
        raise RuntimeError("Hub client crashed")

    monkeypatch.setattr(flows.batches, "check_artifacts", crash)
    monkeypatch.setattr(flows.batches.check_hub_batch, "retry_delay_seconds", 0)
    state = monitor(sources=[str(DATA / "e2e-papers.md")], db=str(tmp_path / "h.sqlite"), out=str(tmp_path / "out"),
                    settings=settings_for(e2e_sim), return_state=True)

    assert calls == [2, 2]  # the task's retry, then it gave up
    assert state.is_completed() and state.message == "completed with 2 unknown"
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    model_link = next(link for p in report["papers"] for link in p["links"]
                      if link["normalized"] == "https://huggingface.co/lab/good-model")
    assert model_link["state"] == "unknown"
    assert model_link["reason"] == "not checked: the huggingface check failed (RuntimeError: Hub client crashed)"
    assert "the huggingface check of 2 links failed (RuntimeError); those links are unknown" in report["run"]["notes"]


@flow
def check_only(source: str, settings: dict[str, Any], size: int) -> CheckOutcome:
    return check_links(plan_checks(read_papers(source)), CheckSettings.from_dict(settings), size=size)


@pytest.mark.prefect
def test_one_silent_host_in_its_own_batch_is_an_error_not_an_outage(prefect_api: None, tmp_path: Path) -> None:
    """Each host is its own batch here; the batch of the silent host saw no answer at all, which
    alone would look like an outage. The run saw answers from the other hosts, so it is not one."""
    scenario = {"web": {f"https://h{i}.example.org/": {"title": f"Host {i}"} for i in range(3)},
                "hosts": {"down.example.org": {"drop": True}}}
    papers = tmp_path / "papers.jsonl"
    papers.write_text("".join(json.dumps({"title": f"Paper {host}", "summary": f"Code at https://{host}.example.org/ ."}) + "\n"
                              for host in ("h0", "h1", "h2", "down")))
    with SimulatedWeb(scenario) as sim:
        outcome = check_only(str(papers), settings_for(sim), size=1)

    states = {o.url: o.state.value for o in outcome.observations}
    assert states == {"https://h0.example.org": "alive", "https://h1.example.org": "alive",
                      "https://h2.example.org": "alive", "https://down.example.org": "error"}
    assert outcome.offline is False and not any("offline" in note for note in outcome.notes)


DAILY = {
    "hub": {"papers": [
        {"id": "2404.00001", "title": "A Daily Paper", "summary": "Data at https://huggingface.co/datasets/lab/daily-data.",
         "submitted_on_daily_at": "2024-04-23"},
        {"id": "2404.00002", "title": "Another Day", "summary": "Code: https://daily.example.org/code",
         "submitted_on_daily_at": "2024-04-24"},
    ], "datasets": [{"id": "lab/daily-data"}]},
    "web": {"https://daily.example.org/code": {"title": "Daily code"}},
}


@pytest.mark.prefect
def test_ingest_adds_each_days_papers_once_and_monitors_the_watched_set(prefect_api: None, tmp_path: Path) -> None:
    from flows.ingest import ingest

    watched = tmp_path / "watched.jsonl"
    with SimulatedWeb(DAILY) as sim:
        options = {"watched": str(watched), "db": str(tmp_path / "h.sqlite"), "out": str(tmp_path / "out"),
                   "settings": settings_for(sim)}
        first = ingest(days=["2024-04-23", "2024-04-24"], **options, return_state=True)
        again = ingest(days=["2024-04-24"], **options, return_state=True)

    assert [json.loads(line)["id"] for line in watched.read_text().splitlines()] == ["2404.00001", "2404.00002"]
    assert first.message.startswith("2 papers added, 2 watched; monitor completed")
    assert again.message.startswith("0 papers added, 2 watched; monitor completed")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [p["title"] for p in report["papers"]] == ["A Daily Paper", "Another Day"]
    assert report["summary"]["by_state"]["alive"] == 2 and [r["id"] for r in report["runs"]] == [1, 2]


@pytest.mark.prefect
def test_shards_without_the_shard_deployment_are_checked_in_the_run_itself(prefect_api: None, e2e_sim: SimulatedWeb,
                                                                            tmp_path: Path) -> None:
    from flows.monitor import monitor

    result = monitor(sources=[str(DATA / "e2e-papers.md")], db=str(tmp_path / "h.sqlite"), out=str(tmp_path / "out"),
                     settings=settings_for(e2e_sim), shards=2)

    report = json.loads(Path(result["json"]).read_text())
    assert report["run"]["notes"][0] == "not sharded: the deployment check-shard/paperwatch-shard was not found"
    assert report["summary"]["by_state"] == {"alive": 5, "moved": 2, "dead": 4, "blocked": 0, "error": 0, "skipped": 0,
                                             "unknown": 0}
