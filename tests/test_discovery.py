"""Finding a paper's missing code link: the paper API, Hub cards, project pages (one hop).

Real huggingface_hub session and paperwatch's page checker over sockets to simweb, configured only
through public settings (the HF endpoint, the remap rule). What a reader relies on: each source is
named, nothing the paper already links is suggested, a 404 means "not indexed" and a failure
"could not ask" (never "no code"), a paper without an arXiv id costs the Hub nothing, and a project
page is read one hop deep, never two.
"""

from __future__ import annotations

from typing import Any

import pytest

from checks.code_links import find_arxiv_id, project_pages, repository_urls
from checks.discovery import Budget, DiscoveryResult, Suggestion, Target, discover, discover_papers, merge, Source
from checks.link_kinds import classify
from checks.model import Paper
from checks.settings import CheckSettings, RemapRule
from simweb import SimulatedWeb

API = "2401.10001"  # the paper API names the code
CARD = "2401.10002"  # indexed; a model citing it links the code in its card
PAGE = "2401.10003"  # indexed, nothing linked; the paper's own project page links the code
API_PAGE = "2401.10004"  # the paper API names a project page (not a repository), which links the code
TAGGED = "2401.10005"  # not indexed, but a model tagged arxiv:<id> links the code
BOTH = "2401.10006"  # the paper API, a card and the project page all name the same repository
UNKNOWN = "2401.19999"  # not indexed, nothing tagged

CARD_TEXT = """---
license: mit
---
# Card model

Fine-tuned with https://github.com/huggingface/transformers.
Training code: [github.com/lab/card-code](https://github.com/lab/card-code)
Website built from https://github.com/nerfies/nerfies.github.io
"""

SCENARIO: dict[str, Any] = {
    "hub": {
        "models": [
            {"id": "lab/card-model", "card": CARD_TEXT},
            {"id": "lab/no-card", "files": ["config.json"]},  # no README.md at all
            {"id": "lab/tagged-model", "arxiv": [TAGGED], "card": "Code: https://github.com/lab/tagged-code/tree/main/src"},
            {"id": "lab/both-model", "arxiv": [BOTH], "card": "https://github.com/Lab/Shared"},
            {"id": "lab/other-card", "arxiv": ["2401.10007"], "card": "https://github.com/lab/other-code"},
        ],
        "papers": [
            {"id": API, "title": "Found by the paper API", "github_repo": "https://github.com/lab/api-code"},
            {"id": CARD, "title": "Found in a card", "models": ["lab/no-card", "lab/card-model"]},
            {"id": PAGE, "title": "Found on its page"},
            {"id": API_PAGE, "title": "Page named by the API", "project_page": "https://api-page.example.org/"},
            {"id": BOTH, "title": "Everywhere", "github_repo": "https://github.com/lab/shared",
             "project_page": "https://both.example.org/"},
            {"id": "2401.10007", "title": "Another card"},
        ],
    },
    "github": {"repos": [{"full_name": "lab/redirected-code"}]},
    "web": {
        "https://lab.example.org/page": {"body": (
            '<html><body><a href="https://github.com/lab/page-code">Code</a> '
            '<a href="https://github.com/features/actions">CI</a> <a href="https://lab.example.org/second">more</a>'
            "</body></html>")},
        "https://lab.example.org/second": {"body": '<a href="https://github.com/lab/second-hop">deeper</a>'},
        "https://api-page.example.org/": {"body": '<p>Code at <a href="https://github.com/lab/api-page-code">GitHub</a></p>'},
        "https://both.example.org/": {"body": '<a href="https://github.com/LAB/shared">code</a>'},
        "https://gone.example.org/page": {"status": 404},
        "https://lab.example.org/code": {"status": 302, "location": "https://github.com/lab/redirected-code"},
        "http://10.1.2.3/project": {"body": '<a href="https://github.com/intranet/code">code</a>'},
    },
    "hosts": {"down.example.org": {"drop": True}},
}

pytestmark = pytest.mark.usefixtures("fresh_sim")  # each test starts from the scenario as written


def settings(sim: SimulatedWeb, **changes: Any) -> CheckSettings:
    return CheckSettings(hf_endpoint=sim.hf_endpoint, remap_rules=tuple(RemapRule.parse(r) for r in sim.remap_rules),
                         **{"timeout": 2.0, "total_timeout": 10.0, "retries": 0, **changes})


def run(sim: SimulatedWeb, *targets: Target, budget: Budget = Budget(), **changes: Any) -> DiscoveryResult:
    return discover(list(targets), settings(sim, **changes), budget)


def requests(sim: SimulatedWeb, face: str) -> list[str]:
    return [r.url for r in sim.request_log() if r.face == face]


def only(result: DiscoveryResult) -> Suggestion:
    (suggestion,) = result.suggestions
    return suggestion


# --- each source ----------------------------------------------------------------------------------


def test_code_named_by_the_paper_api_costs_one_request(sim: SimulatedWeb) -> None:
    result = run(sim, Target("p", API))
    found = only(result)
    assert (found.paper_id, found.url, found.source_kind) == ("p", "https://github.com/lab/api-code", "hf-paper")
    assert found.source_url == f"https://huggingface.co/papers/{API}" and found.detail == "the paper's Hugging Face page"
    assert result.papers[0].outcome == "found" and result.papers[0].notes == ()
    assert requests(sim, "hub") == [f"/api/papers/{API}"] and requests(sim, "web") == []
    assert result.hub_requests == 1 and result.pages_read == 0


def test_code_linked_by_a_model_card_of_the_papers_artifacts(sim: SimulatedWeb) -> None:
    result = run(sim, Target("p", CARD))
    found = only(result)  # neither the library it runs on nor the website template it was built from
    assert (found.url, found.source_kind, found.detail) == (
        "https://github.com/lab/card-code", "hub-card", "the model card of lab/card-model")
    assert found.source_url == "https://huggingface.co/lab/card-model"
    assert result.papers[0].notes == ()  # a repository without a card is an answer, not a failure
    # the paper answer lists its models: no listing; one card each (read in parallel), as hf_hub_download asks
    paper, *cards = requests(sim, "hub")
    assert paper == f"/api/papers/{CARD}" and sorted(cards) == ["/lab/card-model/resolve/main/README.md",
                                                                "/lab/no-card/resolve/main/README.md"]


def test_a_paper_the_api_does_not_index_is_found_through_the_hubs_arxiv_tag(sim: SimulatedWeb) -> None:
    result = run(sim, Target("p", TAGGED))
    found = only(result)
    assert (found.url, found.source_kind) == ("https://github.com/lab/tagged-code", "hub-card")  # into its tree: the repo
    assert [n.kind for n in result.papers[0].notes] == ["not-indexed"]
    assert [p.split("&")[0] for p in requests(sim, "hub")] == [
        f"/api/papers/{TAGGED}", f"/api/models?filter=arxiv%3A{TAGGED}", f"/api/datasets?filter=arxiv%3A{TAGGED}",
        f"/api/spaces?filter=arxiv%3A{TAGGED}", "/lab/tagged-model/resolve/main/README.md"]


def test_a_project_page_is_read_one_hop_deep(sim: SimulatedWeb) -> None:
    result = run(sim, Target("p", PAGE, ("https://lab.example.org/page",)))
    found = only(result)  # not github.com/features, not what the page it links to links
    assert (found.url, found.source_kind, found.source_url) == (
        "https://github.com/lab/page-code", "project-page", "https://lab.example.org/page")
    assert found.detail == "the project page https://lab.example.org/page"
    assert requests(sim, "web") == ["https://lab.example.org/page"]  # the second page is never asked for
    assert requests(sim, "hub") == [f"/api/papers/{PAGE}"]
    assert result.pages_read == 1


def test_a_project_link_that_redirects_to_a_repository_suggests_it(sim: SimulatedWeb) -> None:
    found = only(run(sim, Target("p", None, ("https://lab.example.org/code",))))
    assert (found.url, found.source_kind) == ("https://github.com/lab/redirected-code", "project-page")
    assert found.detail == "the project page https://lab.example.org/code (it redirects there)"


def test_a_project_page_named_by_the_paper_api_is_read(sim: SimulatedWeb) -> None:
    found = only(run(sim, Target("p", API_PAGE)))
    assert (found.url, found.source_kind, found.source_url) == (
        "https://github.com/lab/api-page-code", "project-page", "https://api-page.example.org")
    assert "named by the paper's Hugging Face page" in found.detail


def test_one_repository_found_in_several_places_keeps_the_strongest_source(sim: SimulatedWeb) -> None:
    result = run(sim, Target("p", BOTH), budget=Budget(corroborate=True))
    found = only(result)
    assert (found.url, found.source_kind) == ("https://github.com/lab/shared", "hf-paper")
    assert [(s.kind, s.url) for s in found.also] == [("project-page", "https://both.example.org"),
                                                     ("hub-card", "https://huggingface.co/lab/both-model")]
    assert Suggestion.from_dict(found.to_dict()) == found


# --- what is not suggested, and what is not asked -------------------------------------------------------


def test_the_papers_own_links_are_never_suggested(sim: SimulatedWeb) -> None:
    own = ("https://github.com/LAB/api-code/tree/main/src",)  # into the same repository, another case
    result = run(sim, Target("p", API, own))
    assert result.suggestions == () and result.papers[0].outcome == "nothing-found"


def test_a_paper_the_api_does_not_know_gets_no_suggestion_and_a_not_indexed_note(sim: SimulatedWeb) -> None:
    result = run(sim, Target("p", UNKNOWN))
    paper = result.papers[0]
    assert paper.suggestions == () and paper.outcome == "nothing-found"  # every place answered
    assert [(n.kind, n.message) for n in paper.notes] == [
        ("not-indexed", f"arXiv:{UNKNOWN} is not indexed by the Hugging Face paper API (HTTP 404)")]
    assert len(requests(sim, "hub")) == 4  # the paper, then the three tag listings (a tag needs no index)


def test_a_paper_without_an_arxiv_id_costs_the_hub_nothing(sim: SimulatedWeb) -> None:
    paper = Paper(id="a-paper-without-an-id", title="A paper without an id")
    result = discover_papers([paper], settings(sim))
    assert result.papers[0].arxiv_id is None and result.papers[0].outcome == "not-asked"
    assert [n.kind for n in result.notes] == ["no-arxiv-id"]
    assert sim.stats()["hub"]["requests"] == 0 and result.hub_requests == 0


def test_a_paper_without_an_arxiv_id_still_has_its_project_page_read(sim: SimulatedWeb) -> None:
    result = run(sim, Target("p", None, ("https://lab.example.org/page",)))
    assert only(result).url == "https://github.com/lab/page-code"
    assert sim.stats()["hub"]["requests"] == 0


def test_a_dead_project_page_is_an_answer_an_unreachable_one_is_not(sim: SimulatedWeb) -> None:
    result = run(sim, Target("gone", None, ("https://gone.example.org/page",)),
                 Target("down", None, ("https://down.example.org/",)))
    gone, down = result.papers
    assert [n.kind for n in gone.notes] == ["no-arxiv-id", "gone"] and gone.outcome == "nothing-found"
    assert down.notes[-1].kind == "not-read" and down.outcome == "incomplete"


def test_a_private_address_project_page_is_refused_unless_allowed(sim: SimulatedWeb) -> None:
    target = Target("p", None, ("http://10.1.2.3/project",))
    refused = run(sim, target)
    assert refused.suggestions == () and refused.papers[0].outcome == "incomplete"
    note = refused.papers[0].notes[-1]
    assert note.kind == "not-read" and "10.1.2.3 is a private address" in note.message
    assert requests(sim, "web") == []  # judged before any request
    allowed = run(sim, target, allow_private=True)
    assert only(allowed).url == "https://github.com/intranet/code"


# --- failures and budgets ------------------------------------------------------------------------


def test_an_outage_of_the_hub_is_could_not_ask_and_stops_asking(sim: SimulatedWeb) -> None:
    sim.load({**SCENARIO, "faults": {"outage": True}})
    result = run(sim, *(Target(f"p{i}", arxiv) for i, arxiv in enumerate((API, CARD, PAGE, UNKNOWN))),
                 budget=Budget(workers=1))
    assert result.suggestions == ()
    assert [p.outcome for p in result.papers] == ["incomplete"] * 4
    assert all(n.kind == "could-not-ask" for n in result.notes)
    assert "could not reach the Hugging Face Hub" in result.notes[0].message
    assert "not asked: could not reach the Hugging Face Hub" in result.notes[3].message
    assert result.hub_requests == 3  # three failures in a row: the fourth paper is not asked


def test_a_rate_limited_hub_is_could_not_ask_never_nothing_found(sim: SimulatedWeb) -> None:
    sim.load({**SCENARIO, "hub": {**SCENARIO["hub"], "rate_limit": {"limit": 1, "window": 300}}})
    result = run(sim, Target("a", API), Target("b", UNKNOWN), Target("c", CARD), budget=Budget(workers=1))
    assert [p.outcome for p in result.papers] == ["found", "incomplete", "incomplete"]
    assert "rate-limited us (HTTP 429)" in result.papers[1].notes[0].message
    assert "not asked" in result.papers[2].notes[0].message
    assert [r.status for r in sim.request_log()] == [200, 429]  # nothing sent after the 429


def test_budgets_bound_the_work_and_say_so(sim: SimulatedWeb) -> None:
    result = run(sim, Target("a", CARD), Target("b", "2401.10007"), Target("c", API),
                 budget=Budget(max_papers=2, max_cards=1))
    a, b, c = result.papers
    assert [s.url for s in a.suggestions] == [] and a.outcome == "incomplete"  # its one card was the card without README
    assert b.outcome == "incomplete" and "over the run's budget of 1 cards" in b.notes[-1].message
    assert c.outcome == "incomplete" and c.notes[0].kind == "over-budget" and not c.asked
    assert f"/api/papers/{API}" not in requests(sim, "hub")


def test_a_hub_that_never_answers_costs_our_timeout_not_the_run() -> None:
    """huggingface_hub's session takes no timeout of its own; ours holds. Run in a thread so that a
    regression fails this test instead of hanging the suite."""
    import socket
    import threading

    found: list[DiscoveryResult] = []
    with socket.socket() as stalled:  # accepts connections (the backlog) and never answers
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(8)
        stalled_settings = CheckSettings(hf_endpoint=f"http://127.0.0.1:{stalled.getsockname()[1]}", timeout=1.0)
        worker = threading.Thread(target=lambda: found.append(discover([Target("p", API)], stalled_settings)), daemon=True)
        worker.start()
        worker.join(60)
    assert not worker.is_alive(), "discovery was still waiting on a Hub that never answers"
    (paper,) = found[0].papers
    assert paper.outcome == "incomplete" and paper.notes[0].kind == "could-not-ask"


# --- the pure parts ------------------------------------------------------------------------------


@pytest.mark.parametrize(("paper_id", "urls", "text", "expected"), [
    ("2403.01234", (), "", "2403.01234"),
    ("2403.01234v2", (), "", "2403.01234"),
    ("arXiv:2403.01234", (), "", "2403.01234"),
    ("hep-th/9901001", (), "", "hep-th/9901001"),
    ("a-title-slug", ("https://arxiv.org/abs/2403.01234v3",), "", "2403.01234"),
    ("a-title-slug", ("https://arxiv.org/pdf/2403.01234.pdf", "https://huggingface.co/papers/2403.01234"), "", "2403.01234"),
    ("a-title-slug", ("https://arxiv.org/abs/2403.01234", "https://arxiv.org/abs/2402.99999"), "", None),  # which one?
    ("a-title-slug", (), "As in arXiv:2403.01234, we ...", "2403.01234"),
    ("a-title-slug", (), "arXiv preprint arXiv 2403.01234v1.", "2403.01234"),
    ("a-title-slug", (), "arXiv:2403.01234 and arXiv:2311.00001", None),
    ("a-title-slug", (), "version 2403.01234 of the dataset", None),  # a number is not an arXiv id
    ("2413.01234", (), "", None),  # no 13th month
    ("2403.01234-2", (), "", None),  # a second paper given the same id: not this id
    ("a-title-slug", ("https://github.com/lab/code",), "", None),
])
def test_find_arxiv_id(paper_id: str, urls: tuple[str, ...], text: str, expected: str | None) -> None:
    assert find_arxiv_id(paper_id, [classify(url) for url in urls], text) == expected


def test_repository_urls_are_repositories_only() -> None:
    text = ('<a href="https://github.com/Lab/Code">a</a> github.com/lab/code/tree/main/x https://github.com/features '
            "https://github.com/lab https://github.com/lab/site.github.io https://github.com/pytorch/pytorch "
            "https://raw.githubusercontent.com/lab/raw-code/main/setup.py https://gist.github.com/lab/abc "
            "https://github.com/lab/third https://github.com/lab/fourth")
    assert repository_urls(text) == ["https://github.com/Lab/Code", "https://github.com/lab/raw-code",
                                     "https://github.com/lab/third", "https://github.com/lab/fourth"]
    assert repository_urls(text, limit=2) == ["https://github.com/Lab/Code", "https://github.com/lab/raw-code"]


def test_project_pages_are_the_plain_web_pages_among_a_papers_links() -> None:
    assert project_pages(["https://arxiv.org/abs/2403.01234", "https://lab.github.io/proj/", "https://github.com/lab/x",
                          "https://doi.org/10.1/x", "https://lab.example.org/proj", "https://huggingface.co/lab/m",
                          "https://drive.google.com/file/d/1"]) == ["https://lab.github.io/proj",
                                                                      "https://lab.example.org/proj"]


def test_merge_orders_sources_by_strength_and_drops_own_links() -> None:
    card = Source("hub-card", "https://huggingface.co/a/b", "the model card of a/b")
    page = Source("project-page", "https://x.org", "the project page https://x.org")
    found = [("https://github.com/a/one", card), ("https://github.com/A/One", page), ("https://github.com/a/two", card),
             ("https://github.com/a/mine", page)]
    merged = merge("p", found, ["https://github.com/a/mine/issues"])
    assert [(s.url, s.source_kind, [o.kind for o in s.also]) for s in merged] == [
        ("https://github.com/A/One", "project-page", ["hub-card"]), ("https://github.com/a/two", "hub-card", [])]
