"""Hub artifacts citing a paper: the paper answer's lists, completed from the Hub's ``arxiv:`` tag listing.

Real huggingface_hub client and checker over sockets to simweb. What a reader relies on: the
discovered lists are complete, an ordinary paper still costs one request, and a listing that
fails never changes the paper's own state.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from huggingface_hub import HfApi

from checks.huggingface import Linked, check_artifacts, kinds_to_list
from checks.model import Link, LinkKind, Observation, State
from checks.settings import CheckSettings
from simweb import ScenarioError, SimulatedWeb

PAPER = "2401.00001"
ORDINARY = "2401.00002"
SMALL = "2401.00003"  # a tagged dataset and space, nothing else
EXPLICIT = ["lab/named-a", "lab/named-b", "other/named-c"]
TAGGED = [f"lab/tagged-{i:02d}" for i in range(25)]

SCENARIO: dict[str, Any] = {
    "hub": {
        "paper_linked_limit": 10,
        "list_page_size": 10,
        "models": [{"id": i, "library_name": "transformers"} for i in EXPLICIT]
        + [{"id": i, "arxiv": [PAPER], "library_name": "transformers", "pipeline_tag": "text-generation"} for i in TAGGED]
        + [{"id": "lab/plain-1"}, {"id": "lab/plain-2"},
           {"id": "lab/secret", "private": True, "arxiv": [PAPER]}, {"id": "lab/off", "disabled": True, "arxiv": [PAPER]}],
        "datasets": [{"id": "lab/corpus", "arxiv": [SMALL]}, {"id": "lab/other-data"}],
        "spaces": [{"id": "lab/demo", "arxiv": [SMALL], "sdk": "streamlit"}],
        "papers": [
            {"id": PAPER, "title": "Many citing models", "models": EXPLICIT},
            {"id": ORDINARY, "title": "Two models", "models": ["lab/plain-1", "lab/plain-2"]},
            {"id": SMALL, "title": "A dataset and a space"},
        ],
    },
}


pytestmark = pytest.mark.usefixtures("fresh_sim")  # each test starts from the scenario as written


def settings(sim: SimulatedWeb, **changes: Any) -> CheckSettings:
    return CheckSettings(hf_endpoint=sim.hf_endpoint, **{"timeout": 2.0, "total_timeout": 10.0, **changes})


def paper_link(arxiv_id: str) -> Link:
    url = f"https://huggingface.co/papers/{arxiv_id}"
    return Link(url=url, normalized=url, kind=LinkKind.HF_PAPER, name=arxiv_id)


def check(sim: SimulatedWeb, arxiv_id: str, **changes: Any) -> Observation:
    (observation,) = check_artifacts([paper_link(arxiv_id)], settings(sim, **changes))
    return observation


def hub_paths(sim: SimulatedWeb) -> list[str]:
    return [r.url for r in sim.request_log() if r.face == "hub"]


# --- the checker ------------------------------------------------------------------------------

def test_a_paper_with_many_citing_models_is_completed_from_the_listing(sim: SimulatedWeb) -> None:
    found = check(sim, PAPER)
    assert found.state is State.ALIVE
    models = list(found.facts.discovered["models"])
    assert models[:3] == EXPLICIT and sorted(models) == sorted(EXPLICIT + TAGGED) and len(models) == 28
    assert found.facts.discovered_total == {"models": 28, "datasets": 0, "spaces": 0}
    assert not found.facts.has("discovery_incomplete")
    paths = hub_paths(sim)  # the paper, then 28 tagged models in pages of 10
    assert len(paths) == 4 and paths[0] == f"/api/papers/{PAPER}"
    assert all(p.startswith("/api/models?filter=arxiv") for p in paths[1:]) and "cursor=" in paths[3]


def test_an_ordinary_paper_costs_one_request(sim: SimulatedWeb) -> None:
    found = check(sim, ORDINARY)
    assert found.to_dict()["details"]["discovered"] == {"models": ["lab/plain-1", "lab/plain-2"], "datasets": [], "spaces": []}
    assert found.facts.discovered_total == {"models": 2, "datasets": 0, "spaces": 0}
    assert hub_paths(sim) == [f"/api/papers/{ORDINARY}"]


def test_a_tagged_dataset_and_space_are_discovered(sim: SimulatedWeb) -> None:
    found = check(sim, SMALL)
    assert found.to_dict()["details"]["discovered"] == {"models": [], "datasets": ["lab/corpus"], "spaces": ["lab/demo"]}
    assert len(hub_paths(sim)) == 1


def test_a_failing_listing_leaves_the_paper_alive_and_says_why(sim: SimulatedWeb) -> None:
    sim.load({"hub": {**SCENARIO["hub"], "rate_limit": {"limit": 1, "window": 300}}})
    found = check(sim, PAPER)
    assert found.state is State.ALIVE and found.reason == "paper exists"
    assert len(found.facts.discovered["models"]) == 10  # what the paper answer listed
    assert found.facts.discovered_total["models"] == 28  # and its count
    assert "HTTP 429" in found.facts.discovery_incomplete and "models" in found.facts.discovery_incomplete
    assert [r.status for r in sim.request_log()] == [200, 429]  # not waited out: no retry of the listing


def test_a_listing_past_the_links_time_budget_is_not_started(sim: SimulatedWeb) -> None:
    found = check(sim, PAPER, total_timeout=1e-6)
    assert found.state is State.ALIVE
    assert "time budget" in found.facts.discovery_incomplete
    assert hub_paths(sim) == [f"/api/papers/{PAPER}"]


def test_a_paper_answer_without_linked_lists_is_completed_kind_by_kind(sim: SimulatedWeb) -> None:
    sim.load({"hub": {**SCENARIO["hub"], "paper_linked_limit": None}})
    found = check(sim, SMALL)
    assert found.to_dict()["details"]["discovered"] == {"models": [], "datasets": ["lab/corpus"], "spaces": ["lab/demo"]}
    assert [p.split("?")[0] for p in hub_paths(sim)] == [f"/api/papers/{SMALL}", "/api/models", "/api/datasets",
                                                         "/api/spaces"]


def test_which_kinds_are_listed() -> None:
    ten = tuple(f"m{i}" for i in range(10))
    assert kinds_to_list({"models": Linked(("a",), 1), "datasets": Linked((), 0), "spaces": Linked((), None)}) == []
    assert kinds_to_list({"models": Linked(ten, 28), "datasets": Linked((), 0), "spaces": Linked(ten, None)}) == [
        "models", "spaces"]  # a spaces list as long as the cap seen on models may be cut too
    assert kinds_to_list({"models": Linked(None, None), "datasets": Linked(("d",), 1), "spaces": Linked(ten, None)}) == [
        "models"]


# --- the simulated Hub's listings --------------------------------------------------------------

def test_list_models_filters_by_tag_author_and_search(sim: SimulatedWeb) -> None:
    hub = HfApi(endpoint=sim.hf_endpoint, token=False)
    tagged = list(hub.list_models(filter=f"arxiv:{PAPER}"))
    assert sorted(m.id for m in tagged) == sorted(EXPLICIT + TAGGED)  # neither private nor disabled repos
    assert "arxiv:" + PAPER in hub.model_info("lab/named-a").tags  # a repo the paper names is tagged too
    assert tagged[0].tags == ["transformers", f"arxiv:{PAPER}", "region:us"] and tagged[0].library_name == "transformers"
    both = hub.list_models(filter=[f"arxiv:{PAPER}", "text-generation"])
    assert sorted(m.id for m in both) == TAGGED
    assert [m.id for m in hub.list_models(author="other")] == ["other/named-c"]
    assert [m.id for m in hub.list_models(search="PLAIN")] == ["lab/plain-1", "lab/plain-2"]
    assert list(hub.list_models(filter="arxiv:9999.99999")) == []
    assert [d.id for d in hub.list_datasets(filter=f"arxiv:{SMALL}")] == ["lab/corpus"]
    (space,) = hub.list_spaces(filter=f"arxiv:{SMALL}")
    assert (space.id, space.sdk) == ("lab/demo", "streamlit")


def test_list_pages_follow_the_link_header(sim: SimulatedWeb) -> None:
    first = httpx.get(f"{sim.hf_endpoint}/api/models", params={"filter": f"arxiv:{PAPER}", "limit": 4})
    assert len(first.json()) == 4 and first.json()[0].keys() >= {"_id", "id", "likes", "downloads", "tags", "private",
                                                                  "createdAt"}
    following = first.links["next"]["url"]
    assert following.startswith(f"{sim.hf_endpoint}/api/models?") and "limit=4" in following and "cursor=" in following
    second = httpx.get(following)
    assert [m["id"] for m in first.json()] == EXPLICIT + TAGGED[:1]
    assert [m["id"] for m in second.json()] == TAGGED[1:5]
    assert httpx.get(f"{sim.hf_endpoint}/api/models", params={"cursor": "not-ours"}).status_code == 400
    sim.reset_stats()
    hub = HfApi(endpoint=sim.hf_endpoint, token=False)
    assert len(list(hub.list_models(filter=f"arxiv:{PAPER}"))) == 28  # pages of 10: 3 requests
    assert len(list(hub.list_models(filter=f"arxiv:{PAPER}", limit=5))) == 5  # limit 5: one short page
    assert len(hub_paths(sim)) == 4


def test_the_paper_answer_lists_up_to_the_cap_and_counts_all(sim: SimulatedWeb) -> None:
    paper = HfApi(endpoint=sim.hf_endpoint, token=False).paper_info(PAPER)
    assert [m.id for m in paper.linked_models] == EXPLICIT + TAGGED[:7] and paper.num_total_models == 28
    assert paper.linked_datasets == [] and paper.num_total_datasets == 0 and paper.linked_spaces == []


@pytest.mark.parametrize(("hub", "message"), [
    ({"models": [{"id": "a/b", "arxiv": ["arxiv:2401.00001"]}]}, "hub.models[0]: arxiv: 'arxiv:2401.00001' is not a bare"),
    ({"models": [{"id": "a/b", "arxiv": [2401.00001]}]}, "hub.models[0].arxiv[0]: expected str, got float"),
    ({"list_page_size": 0}, "hub: list_page_size: 0 is not a page size"),
    ({"paper_linked_limit": -1}, "hub: paper_linked_limit: -1 is negative"),
])
def test_scenario_keys_are_checked(hub: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)):
        SimulatedWeb({"hub": hub})


def test_a_hub_that_never_answers_a_paper_request_is_unknown_after_our_timeout() -> None:
    """huggingface_hub's paper_info takes no timeout; ours does, so a stalled Hub cannot hold the run.

    The check runs in a thread so that a regression fails this test instead of hanging the suite.
    """
    import socket
    import threading

    found: list[Observation] = []
    with socket.socket() as stalled:  # accepts connections (the backlog) and never answers
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(8)
        settings = CheckSettings(hf_endpoint=f"http://127.0.0.1:{stalled.getsockname()[1]}", timeout=1.0)
        worker = threading.Thread(target=lambda: found.extend(check_artifacts([paper_link("2401.00001")], settings)),
                                  daemon=True)
        worker.start()
        worker.join(60)
    assert not worker.is_alive(), "the paper check was still waiting on a Hub that never answers"
    (observation,) = found
    assert observation.state is State.UNKNOWN and "could not reach the Hugging Face Hub" in observation.reason
