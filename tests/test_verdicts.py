"""Per-paper verdicts say whether a reader can get the code and data, and why."""

from __future__ import annotations

from checks.model import Observation, State
from reports.verdicts import CitedObservation, paper_verdict, state_changes


def cited(kind: str, state: State | None, claim: str | None = None, promise: bool = False, **details: object) -> CitedObservation:
    url = f"https://example.org/{kind}/{state}"
    obs = Observation(url=url, state=state, reason=f"{state} reason", checker="github", details=details) if state else None
    return CitedObservation(url=url, kind=kind, claim=claim, promise=promise, observation=obs)


def test_a_live_active_repository_is_working_code() -> None:
    verdict = paper_verdict([cited("github-repo", State.ALIVE, activity="active")])
    assert (verdict.code, verdict.data, verdict.demo) == ("working", "none linked", "none linked")
    assert "active" in verdict.explanation


def test_an_empty_repository_is_a_placeholder_or_an_unkept_promise() -> None:
    assert paper_verdict([cited("github-repo", State.ALIVE, empty=True)]).code == "placeholder"
    assert paper_verdict([cited("github-repo", State.ALIVE, promise=True, empty=True)]).code == "promised"


def test_a_renamed_repository_still_counts_and_says_where_it_went() -> None:
    verdict = paper_verdict([cited("github-repo", State.MOVED, full_name="new/name", activity="quiet")])
    assert verdict.code == "working"
    assert "renamed to new/name" in verdict.explanation


def test_unknown_and_blocked_never_read_as_dead() -> None:
    assert paper_verdict([cited("github-repo", State.UNKNOWN)]).code == "unchecked"
    assert paper_verdict([cited("hf-model", State.BLOCKED)]).data == "failing"
    assert paper_verdict([cited("hf-model", State.DEAD)]).data == "dead"


def test_the_best_link_decides_and_gated_data_is_reported_as_gated() -> None:
    verdict = paper_verdict([cited("github-repo", State.DEAD), cited("github-repo", State.ALIVE, archived=True),
                             cited("hf-model", State.ALIVE, gated="manual")])
    assert (verdict.code, verdict.data) == ("archived", "gated")


def test_changes_name_deaths_recoveries_and_moves_but_not_our_own_blind_spots() -> None:
    def obs(url: str, state: State) -> Observation:
        return Observation(url=url, state=state, reason="r", checker="http")

    before = {"a": obs("a", State.ALIVE), "b": obs("b", State.DEAD), "c": obs("c", State.ALIVE), "d": obs("d", State.ALIVE),
              "e": obs("e", State.ERROR), "f": obs("f", State.ALIVE), "g": obs("g", State.ALIVE)}
    after = {"a": obs("a", State.DEAD), "b": obs("b", State.ALIVE), "c": obs("c", State.MOVED), "d": obs("d", State.ALIVE),
             "e": obs("e", State.ALIVE), "f": obs("f", State.UNKNOWN), "g": obs("g", State.BLOCKED)}
    assert [(c["url"], c["change"]) for c in state_changes(before, after)] == [
        ("a", "newly dead"), ("b", "recovered"), ("c", "moved"), ("e", "recovered"), ("g", "changed")]


def test_a_project_page_promising_code_counts_as_code_without_repo_wording() -> None:
    verdict = paper_verdict([cited("project", State.ALIVE, claim="code")])
    assert verdict.code == "working"
    assert "code page reachable" in verdict.explanation and "repo" not in verdict.explanation

