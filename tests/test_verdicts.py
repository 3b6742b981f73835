"""Per-paper verdicts say whether a reader can get the code and data, and why."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from checks.facts import facts_from_dict
from checks.model import Observation, State
from reports.vocabulary import Outcome
from reports.verdicts import (CitedObservation, LinkSnapshot, artifacts_grade, link_snapshot, link_verdict, paper_verdict,
                              verdict_transitions)


def cited(kind: str, state: State | None, claim: str | None = None, promise: bool = False, **details: object) -> CitedObservation:
    url = f"https://example.org/{kind}/{state}"
    checker = "huggingface" if kind.startswith("hf-") else "github"
    obs = Observation(url=url, state=state, reason=f"{state} reason", checker=checker,
                      facts=facts_from_dict(checker, details)) if state else None
    return CitedObservation(url=url, kind=kind, claim=claim, promise=promise, observation=obs)


def test_a_live_repository_is_available_code_whatever_its_activity() -> None:
    verdict = paper_verdict([cited("github-repo", State.ALIVE, activity="active")])
    assert (verdict.code, verdict.data, verdict.demo) == ("active", "none linked", "none linked")
    assert "available, committed to in the last 90 days" in verdict.explanation
    for activity in ("active", "quiet", "stale"):
        old = paper_verdict([cited("github-repo", State.ALIVE, activity=activity)])
        assert old.code == activity and old.artifacts == "available"  # years without a commit: the code is still there
        assert Outcome(old.code).available
    archived = paper_verdict([cited("github-repo", State.ALIVE, activity="stale", archived=True)])
    assert archived.code == "archived" and archived.artifacts == "available"
    assert paper_verdict([cited("github-repo", State.ALIVE)]).code == "reachable"  # no dates known: still available


def test_an_empty_repository_is_a_placeholder_or_an_unkept_promise() -> None:
    assert paper_verdict([cited("github-repo", State.ALIVE, empty=True)]).code == "placeholder"
    assert paper_verdict([cited("github-repo", State.ALIVE, promise=True, empty=True)]).code == "promised"


def test_a_readme_only_repository_is_a_placeholder_and_one_promising_code_is_a_promise() -> None:
    stub = paper_verdict([cited("github-repo", State.ALIVE, activity="active", placeholder=True)])
    assert stub.code == "placeholder" and "only a README" in stub.explanation
    soon = paper_verdict([cited("github-repo", State.ALIVE, activity="active", placeholder=True, readme_promise=True)])
    assert soon.code == "promised" and "README promises code" in soon.explanation


def test_a_renamed_repository_still_counts_and_says_where_it_went() -> None:
    verdict = paper_verdict([cited("github-repo", State.MOVED, full_name="new/name", activity="quiet")])
    assert verdict.code == "quiet"
    assert "renamed to new/name" in verdict.explanation


def test_unknown_and_blocked_never_read_as_dead() -> None:
    assert paper_verdict([cited("github-repo", State.UNKNOWN)]).code == "unknown"
    assert paper_verdict([cited("hf-model", State.BLOCKED)]).data == "failing"
    assert paper_verdict([cited("hf-model", State.DEAD)]).data == "dead"


def test_the_best_link_decides_and_gated_data_is_reported_as_gated() -> None:
    verdict = paper_verdict([cited("github-repo", State.DEAD), cited("github-repo", State.ALIVE, archived=True),
                             cited("hf-model", State.ALIVE, gated="manual")])
    assert (verdict.code, verdict.data) == ("archived", "gated")


def test_a_project_page_promising_code_counts_as_code_without_repo_wording() -> None:
    verdict = paper_verdict([cited("project", State.ALIVE, claim="code")])
    assert verdict.code == "reachable" and verdict.artifacts == "available"
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


def test_the_artifacts_grade_says_whether_a_reader_can_get_what_the_paper_links() -> None:
    working_code = cited("github-repo", State.ALIVE, activity="active")
    assert paper_verdict([working_code, cited("hf-model", State.ALIVE, gated="auto")]).artifacts == "available"
    assert paper_verdict([working_code, cited("hf-dataset", State.DEAD)]).artifacts == "partial"
    assert paper_verdict([cited("github-repo", State.ALIVE, promise=True, empty=True)]).artifacts == "unavailable"
    assert paper_verdict([cited("github-repo", State.UNKNOWN), cited("hf-model", State.ERROR)]).artifacts == "unknown"
    assert paper_verdict([cited("project", State.ALIVE)]).artifacts == "none linked"
    assert artifacts_grade(["archived", "none linked", "none linked"]) == "available"


# --- transitions: what a run changed, as the report lists it and alerts announce it -----------

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _obs(state: str, day: float, suggested_url: str | None = None, **details: object) -> Observation:
    return Observation(url="u", state=State(state), reason=f"{state} on day {day:g}", checker="http",
                       suggested_url=suggested_url, facts=facts_from_dict("http", details), checked_at=T0 + timedelta(days=day))


def _snapshots(*observations: Observation) -> list[LinkSnapshot]:
    """The link's snapshot after each run, as the history grows one run at a time."""
    snaps = []
    for n in range(1, len(observations) + 1):
        seen = observations[:n]
        snaps.append(link_snapshot(link_verdict([(o.checked_at, o.state) for o in seen]), seen))
    return snaps


def _changes(*observations: Observation) -> list[str | None]:
    """The change each run after the first announces for one link (None: no change)."""
    snaps = _snapshots(*observations)
    result = []
    for before, after in zip(snaps, snaps[1:]):
        found = verdict_transitions({"u": before}, {"u": after})
        result.append(found[0].change if found else None)
    return result


def test_one_404_is_degraded_and_death_is_announced_once_when_confirmed() -> None:
    assert _changes(_obs("alive", 0), _obs("dead", 1), _obs("dead", 2), _obs("dead", 3)) == [
        "degraded", "newly dead", None]


def test_a_flap_and_errors_never_read_as_dead() -> None:
    assert _changes(_obs("alive", 0), _obs("dead", 1), _obs("alive", 2), _obs("dead", 3), _obs("alive", 4)) == [
        "degraded", "healthy again", "degraded", "healthy again"]
    assert _changes(_obs("alive", 0), _obs("error", 1), _obs("blocked", 2), _obs("error", 3)) == ["degraded", None, None]
    # two "gone" answers an hour apart are not yet a death
    assert _changes(_obs("alive", 0), _obs("dead", 1), _obs("dead", 1.04), _obs("alive", 2)) == [
        "degraded", None, "healthy again"]


def test_our_blind_spots_change_nothing_and_do_not_hide_a_death() -> None:
    assert _changes(_obs("alive", 0), _obs("unknown", 1), _obs("alive", 2)) == [None, None]
    assert _changes(_obs("alive", 0), _obs("dead", 1), _obs("unknown", 2), _obs("dead", 3)) == [
        "degraded", None, "newly dead"]


def test_a_confirmed_death_that_answers_again_is_recovered() -> None:
    changes = _changes(_obs("alive", 0), _obs("dead", 1), _obs("dead", 2), _obs("alive", 3), _obs("alive", 4))
    assert changes == ["degraded", "newly dead", "recovered", None]


def test_moves_archiving_and_released_code_are_announced_once_with_what_changed() -> None:
    new = "https://new.example.org/"
    assert _changes(_obs("alive", 0), _obs("moved", 1, new), _obs("error", 2), _obs("moved", 3, new)) == [
        "moved", "degraded", "healthy again"]
    assert _changes(_obs("alive", 0, archived=False), _obs("alive", 1, archived=True), _obs("alive", 2, archived=True)) == [
        "archived", None]
    # a check that did not refresh the metadata says nothing about it
    assert _changes(_obs("alive", 0, empty=True), _obs("alive", 1), _obs("alive", 2, empty=False, placeholder=False)) == [
        None, "promise fulfilled"]
    snaps = _snapshots(_obs("alive", 0), _obs("moved", 1, new))
    moved = verdict_transitions({"u": snaps[0]}, {"u": snaps[1]})[0]
    assert (moved.suggested_url, moved.alert) == (new, True)
    assert moved.to_dict()["from"] == "healthy" and moved.to_dict()["to"] == "healthy"


def test_a_move_is_announced_once_per_new_place_however_each_check_spells_it() -> None:
    """The API says github.com/acme/new, the repository page (a run without the API) may say it in
    another case or with a slash: the same place, so no second "moved"; a new place is news."""
    api, page = "https://github.com/acme/new", "https://github.com/Acme/New/"
    assert _changes(_obs("alive", 0), _obs("moved", 1, api), _obs("moved", 2, page), _obs("moved", 3, api),
                    _obs("moved", 4, "https://github.com/acme/newer")) == ["moved", None, None, "moved"]
    # a page moved elsewhere over plain http or under www. is the same page
    assert _changes(_obs("alive", 0), _obs("moved", 1, "https://new.example.org/p"),
                    _obs("moved", 2, "http://www.new.example.org/p/")) == ["moved", None]


def test_a_check_that_cannot_say_where_it_moved_neither_clears_nor_repeats_the_move() -> None:
    new = "https://github.com/acme/new"
    assert _changes(_obs("alive", 0), _obs("moved", 1, new), _obs("moved", 2), _obs("moved", 3, new)) == ["moved", None, None]
    snaps = _snapshots(_obs("alive", 0), _obs("moved", 1, new), _obs("moved", 2))
    assert snaps[-1].moved_to == new
    # a redirect that comes and goes to the same place is announced the first time only
    assert _changes(_obs("alive", 0), _obs("moved", 1, new), _obs("alive", 2), _obs("moved", 3, new)) == ["moved", None, None]


def test_a_link_with_nothing_known_before_has_nothing_to_change_from() -> None:
    before = _snapshots(_obs("unknown", 0))[0]
    after = _snapshots(_obs("unknown", 0), _obs("dead", 1))[1]
    assert verdict_transitions({"u": before}, {"u": after}) == []
    assert verdict_transitions({}, {"u": after}) == []
