"""Typed facts store exactly the JSON the checkers stored before they were typed, and read old rows back.

``tests/data/facts_golden.json`` holds the ``details`` each checker wrote, as JSON text, for a
simulated GitHub and Hub (REST, a 304 re-run, GraphQL with its slow facts, repository pages,
page and API merged, a spent API budget, models, datasets, spaces, a paper with citing
artifacts): it was captured from the code before ``checks.facts`` existed by running this
module as a script (``python tests/test_facts.py > tests/data/facts_golden.json``), and the
same checks today must write the same text, key order included.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from checks.facts import Facts, HubFacts, PageFacts, Release, RepoFacts, facts_from_dict, facts_to_dict
from checks.github import check_repos, merge_page_and_api
from checks.http import check_pages
from checks.huggingface import check_artifacts
from checks.model import Link, LinkKind, Observation, State
from checks.repo_facts import summary
from checks.settings import CheckSettings, RemapRule
from simweb import SimulatedWeb

GOLDEN = Path(__file__).parent / "data" / "facts_golden.json"
TOKEN_ENV = "PAPERWATCH_FACTS_TEST_TOKEN"  # the capture sets it for its GraphQL runs only

SCENARIO: dict[str, Any] = {
    "github": {
        "tokens": ["ghp_facts"],
        "rate_limit": {"anonymous": 60},
        "repos": [
            {"full_name": "lab/real-code", "files": ["README.md", "LICENSE", "src/train.py", "requirements.txt"],
             "readme": "# Real code\n\nWeights: [download](https://huggingface.co/lab/weights)\n", "stars": 12,
             "license": "mit", "topics": ["nlp"],
             "releases": [{"tag": "v1.0", "published_at": "2026-10-01T00:00:00Z"},
                          {"tag": "v1.1-rc1", "published_at": "2026-11-01T00:00:00Z", "prerelease": True}],
             "pushed_at": "2024-01-10T00:00:00Z"},  # long ago, so that activity does not change with the date
            {"full_name": "lab/soon", "files": ["README.md", "LICENSE", ".gitignore", "assets/teaser.png"],
             "readme": "# Soon\n\nCode coming soon. Stay tuned!\n"},
            {"full_name": "lab/blank", "empty": True},
            {"full_name": "lab/shelved", "archived": True, "files": ["README.md", "main.py"],
             "pushed_at": "2021-01-01T00:00:00Z"},
            {"full_name": "lab/renamed", "renamed_from": ["lab/old-name"], "files": ["README.md", "model.py"]},
            {"full_name": "lab/model", "files": ["README.md", "src/train.py"]},
            {"full_name": "student/model", "fork_of": "lab/model", "files": ["README.md", "src/train.py"]},
            {"full_name": "lab/tos", "disabled": True},
        ],
    },
    "hub": {
        "paper_linked_limit": 2,
        "list_page_size": 2,
        "models": [{"id": "lab/weights", "files": ["README.md", {"name": "model.safetensors", "size": 5000}],
                    "library_name": "transformers", "pipeline_tag": "text-generation"},
                   {"id": "lab/readme-only", "files": ["README.md"]},
                   {"id": "lab/gated", "gated": "manual"}]
        + [{"id": f"lab/tagged-{i}", "arxiv": ["2401.00001"]} for i in range(5)],
        "datasets": [{"id": "lab/data", "arxiv": ["2401.00001"]}],
        "spaces": [{"id": "lab/running", "stage": "RUNNING", "sdk": "gradio"},
                   {"id": "lab/broken-space", "stage": "BUILD_ERROR"}],
        "papers": [{"id": "2401.00001", "title": "A paper on the Hub", "github_repo": "https://github.com/lab/real-code",
                    "models": ["lab/weights", "lab/readme-only", "lab/gated"]}],
    },
}

REPOS = ["lab/real-code", "lab/soon", "lab/blank", "lab/shelved", "lab/old-name", "student/model", "lab/tos", "lab/gone"]
# what differs from run to run: when slow facts were fetched (the clock), and ETags (simweb salts them per start)
_VOLATILE = re.compile(r'"(slow_facts_at|etag)":"(?:[^"\\]|\\.)*"')
_RESET = re.compile(r"resets at \d\d:\d\d UTC")  # when a spent budget comes back


def repo_link(full_name: str) -> Link:
    owner, name = full_name.split("/")
    url = f"https://github.com/{full_name}"
    return Link(url=url, normalized=url, kind=LinkKind.GITHUB_REPO, owner=owner, name=name)


def hub_link(kind: LinkKind, name: str) -> Link:
    prefix = {LinkKind.HF_MODEL: "", LinkKind.HF_DATASET: "datasets/", LinkKind.HF_SPACE: "spaces/",
              LinkKind.HF_PAPER: "papers/"}[kind]
    url = f"https://huggingface.co/{prefix}{name}"
    owner, _, short = name.rpartition("/")
    return Link(url=url, normalized=url, kind=kind, owner=owner or None, name=short)


# facts added since the capture: new keys, compared by their own tests (tests/test_completeness.py), while every
# key the golden file holds must still be written as it was
ADDED_SINCE_CAPTURE = ("completeness",)


def stored(observation: Observation) -> str:
    """State, reason and the ``details`` as the store and report.json write them (JSON text, key order kept)."""
    data = observation.to_dict()
    details = {key: value for key, value in data["details"].items() if key not in ADDED_SINCE_CAPTURE}
    text = f"{data['state']} | {data['reason']} | {json.dumps(details, separators=(',', ':'))}"
    return _RESET.sub("resets at <time>", _VOLATILE.sub(r'"\1":"<varies>"', text))


def _previous(observation: Observation) -> Any:
    """What the flow hands the next run for a repository: its stored facts (``details`` before they were typed)."""
    read = Observation.from_dict(json.loads(json.dumps(observation.to_dict())))
    return read.facts if hasattr(read, "facts") else read.to_dict()["details"]


def capture(sim: SimulatedWeb) -> dict[str, str]:
    """The stored details of every kind of check, labelled ``what: url``; uses only names the untyped code had."""
    settings = CheckSettings(github_api_url=sim.github_api_url, hf_endpoint=sim.hf_endpoint, timeout=3.0, retries=0,
                             remap_rules=tuple(RemapRule.parse(r) for r in sim.remap_rules), canaries=(),
                             github_token_env=TOKEN_ENV, total_timeout=10.0)
    links = [repo_link(name) for name in REPOS]
    out: dict[str, str] = {}
    os.environ.pop(TOKEN_ENV, None)
    pages = {o.url: o for o in check_pages([link.normalized for link in links], settings).observations}
    rest = check_repos(links, settings)
    again = check_repos(links, settings, previous={o.url: _previous(o) for o in rest})
    out.update({f"page: {o.url}": stored(o) for o in pages.values()})
    out.update({f"rest: {o.url}": stored(o) for o in rest})
    out.update({f"rest 304: {o.url}": stored(o) for o in again})
    out.update({f"page+rest: {o.url}": stored(merge_page_and_api(pages[o.url], o)) for o in rest})
    sim.load({**SCENARIO, "github": {**SCENARIO["github"], "rate_limit": {"anonymous": 0}}})
    spent = check_repos(links, settings)
    out.update({f"page+spent api: {o.url}": stored(merge_page_and_api(pages[o.url], o)) for o in spent})
    sim.load(SCENARIO)
    os.environ[TOKEN_ENV] = "ghp_facts"
    try:
        graphql = check_repos(links, settings)
        carried = check_repos(links, settings, previous={o.url: _previous(o) for o in graphql})
    finally:
        os.environ.pop(TOKEN_ENV, None)
    out.update({f"graphql: {o.url}": stored(o) for o in graphql})
    out.update({f"graphql again: {o.url}": stored(o) for o in carried})
    hub = [hub_link(LinkKind.HF_MODEL, "lab/weights"), hub_link(LinkKind.HF_MODEL, "lab/readme-only"),
           hub_link(LinkKind.HF_MODEL, "lab/gated"), hub_link(LinkKind.HF_MODEL, "lab/missing"),
           hub_link(LinkKind.HF_DATASET, "lab/data"), hub_link(LinkKind.HF_SPACE, "lab/running"),
           hub_link(LinkKind.HF_SPACE, "lab/broken-space"), hub_link(LinkKind.HF_PAPER, "2401.00001")]
    out.update({f"hub: {o.url}": stored(o) for o in check_artifacts(hub, settings)})
    return dict(sorted(out.items()))


pytestmark = pytest.mark.usefixtures("fresh_sim")


def test_every_checker_stores_the_json_it_stored_before_facts_were_typed(sim: SimulatedWeb) -> None:
    expected = json.loads(GOLDEN.read_text())
    found = capture(sim)
    assert found.keys() == expected.keys()
    assert {label: text for label, text in found.items() if text != expected[label]} == {}


def test_stored_details_read_back_into_the_same_observation(sim: SimulatedWeb) -> None:
    os.environ.pop(TOKEN_ENV, None)
    settings = CheckSettings(github_api_url=sim.github_api_url, hf_endpoint=sim.hf_endpoint, timeout=3.0, retries=0,
                             github_token_env=TOKEN_ENV, canaries=())
    observations = check_repos([repo_link(name) for name in REPOS], settings) + check_artifacts(
        [hub_link(LinkKind.HF_MODEL, "lab/weights"), hub_link(LinkKind.HF_PAPER, "2401.00001")], settings)
    for observation in observations:
        data = observation.to_dict()
        again = Observation.from_dict(json.loads(json.dumps(data)))
        assert again == observation and json.dumps(again.to_dict()) == json.dumps(data)


# --- the types, without a network -----------------------------------------------------------------

def _every_field(kind: type[Facts]) -> Facts:
    """Facts with every field set to a value of its type (a Release, tuples, mappings included)."""
    values: dict[str, Any] = {}
    for number, name in enumerate(kind.field_names()):
        hint = str(kind.__dataclass_fields__[name].type)
        values[name] = (Release(tag="v1", published_at="2026-01-01T00:00:00Z", prerelease=False, url="https://x/r")
                        if "Release" in hint else ("a", "b") if "tuple" in hint and "Mapping" not in hint
                        else {"models": ("m/1",), "datasets": (), "spaces": ("s/1",)} if name == "discovered"
                        else {"models": 1, "datasets": 0, "spaces": 1} if "Mapping" in hint
                        else number % 2 == 0 if hint.startswith("bool") else number if hint.startswith("int")
                        else f"{name}-value")
    return kind.of(**values)


@pytest.mark.parametrize(("checker", "kind"), [("github", RepoFacts), ("huggingface", HubFacts), ("http", PageFacts)])
def test_each_kind_of_facts_with_every_field_set_round_trips_through_json(checker: str, kind: type[Facts]) -> None:
    facts = _every_field(kind)
    data = json.loads(json.dumps(facts.to_dict()))
    assert list(data) == list(kind.field_names())
    assert all(not isinstance(value, tuple) for value in data.values())
    again = facts_from_dict(checker, data)
    assert again == facts and type(again) is kind and again.to_dict() == data
    observation = Observation(url="https://example.org/x", state=State.ALIVE, reason="ok", checker=checker, facts=facts)
    assert Observation.from_dict(json.loads(json.dumps(observation.to_dict()))) == observation


def test_a_fact_recorded_as_none_is_kept_apart_from_one_never_recorded() -> None:
    asked = RepoFacts.of(full_name="lab/x", activity="stale", latest_release=None)  # GraphQL: no release
    never = RepoFacts.of(full_name="lab/x", activity="stale")  # REST: releases not asked for
    assert asked.to_dict() == {"full_name": "lab/x", "activity": "stale", "latest_release": None}
    assert never.to_dict() == {"full_name": "lab/x", "activity": "stale"}
    assert (summary(asked), summary(never)) == ("repository exists, stale; no release", "repository exists, stale")
    assert facts_from_dict("github", asked.to_dict()) == asked and facts_from_dict("github", never.to_dict()) == never
    assert RepoFacts(stars=3, license=None).to_dict() == {"stars": 3}  # the plain constructor records what is not None


def test_an_update_keeps_each_recorded_key_in_its_place_as_a_dict_update_does() -> None:
    facts = RepoFacts.of(full_name="lab/x", stars=1, etag="e1")
    assert list(facts.with_(stars=2, not_modified=True).to_dict().items()) == [
        ("full_name", "lab/x"), ("stars", 2), ("etag", "e1"), ("not_modified", True)]
    with pytest.raises(TypeError, match="downloads"):
        RepoFacts.of(downloads=3)


def test_an_old_row_with_keys_this_version_does_not_know_still_loads_and_is_written_back_unchanged() -> None:
    row = {"full_name": "lab/x", "watchers": 7, "stars": 2, "latest_release": {"tag": "v0", "extra": 1},
           "topics": "not-a-list", "activity": "quiet"}
    facts = facts_from_dict("github", row)
    assert isinstance(facts, RepoFacts) and (facts.full_name, facts.stars) == ("lab/x", 2)
    assert facts.to_dict()["watchers"] == 7 and list(facts.to_dict()) == list(row)
    assert facts.topics == "not-a-list"  # an unexpected value is kept as stored rather than refused
    stored_row = {"url": "https://github.com/lab/x", "state": "alive", "reason": "ok", "checker": "github",
                  "evidence": {}, "suggested_url": None, "details": row, "checked_at": "2026-01-01T00:00:00+00:00"}
    assert Observation.from_dict(stored_row).to_dict()["details"]["watchers"] == 7
    assert facts.with_(not_modified=True).to_dict()["watchers"] == 7  # a 304 carries it forward, as before


def test_the_page_checker_records_repository_facts_for_a_repository_page_and_page_facts_otherwise() -> None:
    assert type(facts_from_dict("http", {"page_full_name": "lab/x", "placeholder": False})) is RepoFacts
    assert type(facts_from_dict("http", {"unmapped_redirect": "http://127.0.0.1/login"})) is PageFacts
    assert type(facts_from_dict("http", {"source_repo": "lab/lab.github.io"})) is PageFacts
    assert type(facts_from_dict("http", {"something_new": 1})) is PageFacts
    assert facts_from_dict("github", {}) is None and facts_to_dict(None) == {}
    empty = Observation(url="https://x.org/", state=State.DEAD, reason="gone", checker="github", facts=RepoFacts())
    assert empty.facts is None and empty.to_dict()["details"] == {}


if __name__ == "__main__":  # capture the golden file from the checkout this script's imports resolve to
    with SimulatedWeb(SCENARIO) as web:
        json.dump(capture(web), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
