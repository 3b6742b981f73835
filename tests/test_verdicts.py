"""Per-paper verdicts say whether a reader can get the code and data, and why."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from checks.model import Observation, State
from reports.verdicts import CitedObservation, link_verdict, paper_verdict, state_changes


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



def _history(*states: str, hours_apart: float = 24) -> list[tuple[datetime, State]]:
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    return [(start + timedelta(hours=i * hours_apart), State(state)) for i, state in enumerate(states)]


def test_one_dead_answer_is_degraded_and_two_a_day_apart_are_dead() -> None:
    assert link_verdict(_history("alive", "dead")).status == "degraded"
    verdict = link_verdict(_history("alive", "dead", "dead"))
    assert verdict.status == "dead" and verdict.dead_since == "2026-11-02T00:00:00+00:00"
    assert verdict.last_alive == "2026-11-01T00:00:00+00:00"


def test_two_dead_answers_an_hour_apart_are_not_yet_a_death() -> None:
    assert link_verdict(_history("alive", "dead", "dead", hours_apart=1)).status == "degraded"


def test_errors_blocks_and_our_blind_spots_never_confirm_a_death() -> None:
    assert link_verdict(_history("alive", "error", "error", "blocked", "error")).status == "degraded"
    assert link_verdict(_history("alive", "unknown", "unknown", "unknown")).status == "healthy"
    # an outage day in between neither breaks nor extends the streak
    assert link_verdict(_history("alive", "dead", "unknown", "dead")).status == "dead"


def test_a_confirmed_death_that_answers_again_has_recovered_and_a_flap_is_healthy() -> None:
    assert link_verdict(_history("alive", "dead", "dead", "alive")).status == "recovered"
    assert link_verdict(_history("alive", "dead", "alive")).status == "healthy"


def test_uptime_counts_only_checks_that_could_tell() -> None:
    verdict = link_verdict(_history("alive", "alive", "unknown", "dead", "alive"))
    assert verdict.uptime["7d"] == 75.0
