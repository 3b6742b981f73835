"""A simulated month: 30 runs on a scripted clock, 5% transient failures, deaths, a flap, a recovery, an outage day.

Each run does what the monitor flow does (check every link through the real checkers over
sockets, record, finish, alert) without Prefect, so a month takes seconds; the flow itself
is covered end to end in test_alerts.py. The clock is scripted by replacing the store's
``now_iso`` (a run's start time is what verdicts measure their 20 hours with).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github

from checks.extract import read_papers
from checks.github import check_repos, merge_page_and_api
from checks.http import check_pages
from checks.huggingface import check_artifacts
from checks.plan import CheckPlan, plan_checks
from checks.model import Observation, State
from checks.settings import CheckSettings, RemapRule
from receivers import WebhookReceiver
from reports.alerts import AlertLog, AlertSettings, process_run
from reports.report import build_report
from reports.store import Store
from reports.verdicts import CONFIRM_RUNS
from simweb import SimulatedWeb

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
# 29 days at 09:00, and one more run 6 hours after the 17th day's: 30 runs
RUN_TIMES = sorted([T0 + timedelta(days=day) for day in range(29)] + [T0 + timedelta(days=17, hours=6)])
TOKEN = "ghp_month"
OUTAGE_DAY = 22

STABLE, FLAPS, RECOVERS = "https://stable.example.org", "https://flaps.example.org", "https://recovers.example.org"
DIES, MOVES = "https://dies.example.org/paper", "https://old.example.org/project"
SOON, DELETED_REPO = "https://github.com/lab/soon-repo", "https://github.com/lab/deleted-repo"
ARCHIVED, DELETED_MODEL = "https://github.com/lab/archived-repo", "https://huggingface.co/lab/deleted-model"

PAPERS = f"""# Papers watched for a month
| Paper | Artifacts |
|---|---|
| Stable Paper | [project]({STABLE}), [code](https://github.com/lab/stable-repo), [weights](https://huggingface.co/lab/stable-model) |
| Flapping Paper | [project]({FLAPS}) |
| Recovering Paper | [project]({RECOVERS}) |
| Dying Paper | [project]({DIES}) |
| Moving Paper | [project]({MOVES}) |
| Promising Paper | code coming soon at [code]({SOON}) |
| Deleted Repo Paper | [code]({DELETED_REPO}) |
| Archived Repo Paper | [code]({ARCHIVED}) |
| Deleted Model Paper | [weights]({DELETED_MODEL}) |
"""

BASE: dict[str, Any] = {
    "github": {"tokens": [TOKEN], "rate_limit": {"authenticated": 100000}, "repos": [
        {"full_name": "lab/stable-repo", "files": ["README.md", "train.py"], "pushed_at": "2026-10-20T00:00:00Z"},
        {"full_name": "lab/soon-repo", "empty": True},
        {"full_name": "lab/deleted-repo", "files": ["README.md", "train.py"]},
        {"full_name": "lab/archived-repo", "files": ["README.md", "train.py"]},
    ]},
    "hub": {"models": [{"id": "lab/stable-model"}, {"id": "lab/deleted-model"}]},
    "web": {STABLE: {"title": "Stable"}, FLAPS: {"title": "Flaps"}, RECOVERS: {"title": "Recovers"},
            DIES: {"title": "Dies"}, MOVES: {"title": "Old home"}, "https://new.example.org/project": {"title": "New home"}},
}


def world(run: int, when: datetime) -> dict[str, Any]:
    """The web on one run of the month: the base, plus what happened by then, plus that run's luck."""
    day = (when - T0).days
    w = copy.deepcopy(BASE)
    repos = {r["full_name"]: r for r in w["github"]["repos"]}
    if 2 <= day <= 5:
        w["web"][RECOVERS] = {"status": 404}
    if day in (4, 6, 11, 17):  # never two "gone" answers 20 hours apart (day 17 has two runs, 6 hours apart)
        w["web"][FLAPS] = {"status": 404}
    if day >= 8:
        w["web"][DIES] = {"status": 404}
    if day >= 10:
        w["web"][MOVES] = {"status": 301, "location": "https://new.example.org/project"}
    if day >= 12:
        repos["lab/soon-repo"].update(empty=False, files=["README.md", "train.py"])
    if day >= 14:
        w["github"]["repos"].remove(repos["lab/deleted-repo"])
    if day >= 19:
        repos["lab/archived-repo"]["archived"] = True
    if day >= 21:
        w["hub"]["models"] = [{"id": "lab/stable-model"}]
    w["faults"] = {"flaky": 0.05, "seed": run, "outage": day == OUTAGE_DAY}
    return w


class Month:
    """Runs the monitor's steps, one run per scripted time."""

    def __init__(self, tmp_path: Path, sim: SimulatedWeb, tracker: SimulatedWeb | None, hook: WebhookReceiver,
                 monkeypatch: pytest.MonkeyPatch, papers: str = PAPERS, remap_rules: tuple[str, ...] | None = None) -> None:
        self.db = str(tmp_path / "history.sqlite")
        self.source = tmp_path / "papers.md"
        self.source.write_text(papers)
        self.papers = list(read_papers(str(self.source)))
        self.sim, self.monkeypatch = sim, monkeypatch
        rules = sim.remap_rules if remap_rules is None else remap_rules
        self.settings = CheckSettings(github_api_url=sim.github_api_url, hf_endpoint=sim.hf_endpoint, timeout=3.0,
                                      retries=1, backoff=0.01, max_retry_after=5,
                                      remap_rules=tuple(RemapRule.parse(rule) for rule in rules))
        self.alerts = AlertSettings(notify=(hook.url(),), remind_every=7,
                                    tracking_issue="lab/tracker" if tracker is not None else None)
        self.tracker_api = tracker.github_api_url if tracker is not None else sim.github_api_url

    def check(self, plan: CheckPlan) -> tuple[list[Observation], bool, list[str]]:
        """As the flow checks: without a token, repository pages too, each merged with its API answer."""
        tokenless = self.settings.github_token() is None
        pages = check_pages([link.normalized for link in plan.http + (plan.github if tokenless else ())], self.settings)
        page_of = {o.url: o for o in pages.observations}
        repos = [merge_page_and_api(page_of.pop(o.url), o) if o.url in page_of else o
                 for o in check_repos(plan.github, self.settings)]
        return [*page_of.values(), *repos, *check_artifacts(plan.huggingface, self.settings)], pages.offline, list(pages.notes)

    def run(self, when: datetime) -> int:
        stamp = when.isoformat()
        self.monkeypatch.setattr("reports.store.now_iso", lambda: stamp)
        with Store.open(self.db) as store:
            run_id = store.start_run([str(self.source)])
            store.record_papers(run_id, self.papers)
            observations, offline, notes = self.check(plan_checks(self.papers))
            store.record_observations(run_id, observations)
            store.finish_run(run_id, status="completed", offline=offline, notes=notes)
        process_run(self.db, run_id, self.alerts, github_api_url=self.tracker_api, github_token=TOKEN)
        return run_id


@pytest.fixture()
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def test_a_month_of_runs_alerts_every_real_death_once_and_nothing_false(
        tmp_path: Path, hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    # the tracking issue lives on a GitHub of its own, spared the flakiness: its runs are the alerts' to judge
    tracker_world = {"github": {"tokens": [TOKEN], "repos": [{"full_name": "lab/tracker"}]}}
    with SimulatedWeb(world(1, RUN_TIMES[0])) as sim, SimulatedWeb(tracker_world) as tracker_sim:
        month = Month(tmp_path, sim, tracker_sim, hook, monkeypatch)
        for run, when in enumerate(RUN_TIMES, start=1):
            sim.load(world(run, when))
            assert month.run(when) == run
        tracker = Github(base_url=tracker_sim.github_api_url, auth=Auth.Token(TOKEN)).get_repo("lab/tracker")
        issues = {issue.number: (issue.state, issue.title, issue.body) for issue in tracker.get_issues(state="all")}
        flaky_answers = sum(1 for r in sim.request_log() if r.status in (502, 503, 504))
        store = Store.open(month.db)
        log = AlertLog(store.engine).entries()
        report = build_report(store, len(RUN_TIMES)).to_dict()
        store.close()

    # the alert log, exactly: what each run decided, and which links each digest named
    assert [(e.run_id, e.outcome, e.changes) for e in log if e.outcome != "quiet"] == [
        (4, "digest", [("newly dead", RECOVERS)]),
        (7, "digest", [("recovered", RECOVERS)]),
        (10, "digest", [("newly dead", DIES)]),
        (11, "digest", [("moved", MOVES)]),
        (13, "digest", [("promise fulfilled", SOON)]),
        (16, "digest", [("newly dead", DELETED_REPO)]),
        (17, "digest", [("still dead", DIES)]),
        (21, "digest", [("archived", ARCHIVED)]),
        (23, "digest", [("still dead", DELETED_REPO)]),
        (24, "could not check", []),
        (25, "digest", [("newly dead", DELETED_MODEL), ("still dead", DIES)]),
    ]
    assert len(log) == 30 and all(e.outcome == "quiet" for e in log if e.run_id not in (4, 7, 10, 11, 13, 16, 17, 21, 23, 24, 25))
    # one message per digest, delivered, and the notice of the outage day
    assert len(hook.messages) == 11 and all(d["ok"] for e in log for d in e.deliveries)
    assert hook.messages[9]["title"] == "paperwatch run 24: the monitor could not check the links"

    # no false death: only links that really died were called dead, each within K runs that could check
    deaths = {RECOVERS: 3, DIES: 9, DELETED_REPO: 15, DELETED_MODEL: 23}  # run of the first "gone" answer
    blind_runs = {24}
    announced = {url: e.run_id for e in log for change, url in e.changes if change == "newly dead"}
    assert set(announced) == set(deaths)
    for url, first_gone in deaths.items():
        checked_runs = [r for r in range(first_gone, announced[url] + 1) if r not in blind_runs]
        assert len(checked_runs) == CONFIRM_RUNS, url
    # the transient failures did happen, and never made a death
    assert flaky_answers >= 10

    # the tracking issue: opened for the first death, closed on its recovery; a second one holds the rest
    assert issues[1][:2] == ("closed", "paperwatch: 1 dead link")
    assert issues[2][:2] == ("open", "paperwatch: 3 dead links")
    assert all(f"`{url}`" in issues[2][2] for url in (DIES, DELETED_REPO, DELETED_MODEL))
    actions = [(e.run_id, e.tracking_issue["action"]) for e in log if e.tracking_issue]
    assert [a for a in actions if a[1] not in ("none", "unchanged")] == [
        (4, "opened"), (7, "closed"), (10, "opened"), (16, "updated"), (25, "updated")]

    # the last report agrees: three links dead since their first "gone" answer; the flap and the recovered link
    # healthy (a transient failure in the last run reads "degraded", never "dead")
    verdicts = {link["normalized"]: link["verdict"] for paper in report["papers"] for link in paper["links"]}
    assert {url for url, v in verdicts.items() if v["status"] == "dead"} == {DIES, DELETED_REPO, DELETED_MODEL}
    assert verdicts[FLAPS]["status"] == verdicts[RECOVERS]["status"] == "healthy"
    assert verdicts[DIES]["dead_since"] == RUN_TIMES[8].isoformat()


# --- a month behind a mirror: a renamed repository, and a GitHub API that is often unavailable --------------

RENAMED, RENAMED_TO, KEPT = "https://github.com/acme/old", "https://github.com/acme/new", "https://github.com/acme/kept"
MIRRORED_PAPERS = f"""# Papers whose code is read through a mirror of github.com
| Paper | Artifacts |
|---|---|
| Renamed Repo Paper | [code]({RENAMED}) |
| Kept Repo Paper | [code]({KEPT}), [project]({STABLE}) |
"""
RENAME_DAY = 5
API_DROPPED, API_BURST_LIMITED, API_BUDGET_SPENT = {8, 9, 20}, {12, 13, 24}, {16, 27}  # days the API does not answer


def mirrored_world(run: int, when: datetime) -> dict[str, Any]:
    """acme/old is renamed to acme/new on day 5; on some days the GitHub API drops connections, refuses a burst
    (secondary limit, Retry-After beyond what a run waits) or has no budget left; pages always answer."""
    day = (when - T0).days
    renamed = day >= RENAME_DAY
    repos = [{"full_name": "acme/new" if renamed else "acme/old", "files": ["README.md", "train.py"],
              "renamed_from": ["acme/old"] if renamed else [], "drop": day in API_DROPPED},
             {"full_name": "acme/kept", "files": ["README.md", "train.py"], "drop": day in API_DROPPED}]
    rate_limit: dict[str, Any] = {"anonymous": 0 if day in API_BUDGET_SPENT else 100000}
    if day in API_BURST_LIMITED:
        rate_limit["secondary"] = {"requests": 0, "retry_after": 60}
    return {"github": {"rate_limit": rate_limit, "repos": repos}, "web": {STABLE: {"title": "Stable"}},
            "faults": {"flaky": 0.05, "seed": run}}


@pytest.mark.parametrize(("only_the_mirror", "allow_private"), [(False, False), (False, True), (True, True)],
                         ids=["guarded", "private-allowed", "mirror-only"])
def test_a_month_behind_a_mirror_announces_a_rename_once_at_its_public_url(
        tmp_path: Path, hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch, only_the_mirror: bool,
        allow_private: bool) -> None:
    """Without a token, a repository is its page (through a mirror of github.com) plus its API answer; on days the
    API does not answer, the page alone says where the repository went. Either way it is one move, announced once,
    at the public URL: never the mirror's, never "skipped" or "dead" because the mirror answers in its own URLs."""
    with SimulatedWeb(mirrored_world(1, RUN_TIMES[0])) as sim:
        mirror = sim.mirror_rule("https://github.com")
        # mirror-only: the mirror is the one rule, so the papers keep to github.com (nothing may leave 127.0.0.1)
        papers = MIRRORED_PAPERS.replace(f", [project]({STABLE})", "") if only_the_mirror else MIRRORED_PAPERS
        rules = (mirror,) if only_the_mirror else (mirror, *sim.remap_rules)
        month = Month(tmp_path, sim, None, hook, monkeypatch, papers=papers, remap_rules=rules)
        month.settings = replace(month.settings, allow_private=allow_private)
        for run, when in enumerate(RUN_TIMES, start=1):
            sim.load(mirrored_world(run, when))
            month.run(when)
        store = Store.open(month.db)
        log = AlertLog(store.engine).entries()
        observed = store.observations_of_runs(list(range(1, len(RUN_TIMES) + 1)))
        store.close()

    renamed = {run: observed[run][RENAMED] for run in observed}
    api_down = {run for run, when in enumerate(RUN_TIMES, start=1)
                if (when - T0).days in API_DROPPED | API_BURST_LIMITED | API_BUDGET_SPENT}
    page_only = [renamed[run] for run in sorted(api_down)]
    assert all("metadata not refreshed" in o.reason for o in page_only)  # the page alone answered on those runs
    assert {(o.state, o.suggested_url) for o in page_only} == {(State.MOVED, RENAMED_TO)}
    assert [(e.run_id, change, url) for e in log for change, url in e.changes] == [(RENAME_DAY + 1, "moved", RENAMED)]
    message = next(m for m in hook.messages if RENAMED in str(m))
    assert f"now at {RENAMED_TO}" in str(message) and "127.0.0.1" not in str(message)
    # every URL stored for the link is a public one: the final URL, the redirect hops, where it moved to
    assert all("127.0.0.1" not in str((o.evidence.final_url, o.evidence.redirects, o.suggested_url)) for o in renamed.values())
