"""The history store keeps every run and observation, and refuses bad locations in one line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from checks.model import Evidence, Link, LinkKind, Observation, Paper, State
from reports.store import SCHEMA_VERSION, Store, StoreError

REPO = Link(url="https://github.com/a/b.", normalized="https://github.com/a/b", kind=LinkKind.GITHUB_REPO,
            claim="code", owner="a", name="b")
PAGE = Link(url="https://a.example.org/", normalized="https://a.example.org", kind=LinkKind.PROJECT, claim="project")


def papers() -> list[Paper]:
    return [Paper(id="p1", title="First paper", links=(REPO, PAGE)), Paper(id="p2", title="Second paper", links=(REPO,)),
            Paper(id="p3", title="No links")]


def observe(link: Link, state: State, **evidence: object) -> Observation:
    return Observation(url=link.normalized, state=state, reason=f"{state} for test", checker="http",
                       evidence=Evidence(**evidence))  # type: ignore[arg-type]


def test_two_runs_are_kept_with_their_observations(tmp_path: Path) -> None:
    db = str(tmp_path / "history.sqlite")
    store = Store.open(db)
    first = store.start_run(["in.txt"])
    store.record_papers(first, papers())
    store.record_observations(first, [observe(REPO, State.ALIVE, status_code=200), observe(PAGE, State.ERROR, error="boom")])
    store.finish_run(first, status="completed", offline=False, notes=[])
    store.close()

    store = Store.open(db)  # reopening does not re-run migrations or lose anything
    second = store.start_run(["in.txt"])
    store.record_papers(second, papers())
    store.record_observations(second, [observe(REPO, State.DEAD, status_code=404), observe(PAGE, State.ALIVE)])
    record = store.finish_run(second, status="completed", offline=False, notes=["note"])

    assert record.counts == {"dead": 1, "alive": 1}
    assert [r.id for r in store.runs()] == [first, second]
    history = store.observations_of_runs([first, second])
    assert history[first]["https://github.com/a/b"].state is State.ALIVE
    assert history[second]["https://github.com/a/b"].evidence.status_code == 404
    assert history[first]["https://a.example.org"].evidence.error == "boom"
    watched = store.papers_of_run(second)
    assert [(pid, title, [c.normalized for c in cited]) for pid, title, cited in watched] == [
        ("p1", "First paper", ["https://github.com/a/b", "https://a.example.org"]),
        ("p2", "Second paper", ["https://github.com/a/b"]),
        ("p3", "No links", []),
    ]
    assert store.schema_version() == SCHEMA_VERSION


def test_an_unfinished_run_is_not_listed_as_history(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "h.sqlite"))
    done = store.start_run(["a"])
    store.finish_run(done, status="completed", offline=False, notes=[])
    store.start_run(["a"])  # e.g. killed mid-way
    assert [r.id for r in store.runs()] == [done]


def test_a_second_observation_of_a_link_in_one_run_is_refused(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "h.sqlite"))
    run = store.start_run(["a"])
    store.record_papers(run, papers())
    store.record_observations(run, [observe(REPO, State.ALIVE)])
    with pytest.raises(Exception):
        store.record_observations(run, [observe(REPO, State.DEAD)])
    assert store.observations_of_runs([run])[run]["https://github.com/a/b"].state is State.ALIVE


def _directory(p: Path) -> Path:
    p.mkdir()
    return p


def _text_file(p: Path) -> Path:
    p.write_text("hello, not a database")
    return p


@pytest.mark.parametrize("make, expected", [
    (_directory, "is a directory"),
    (_text_file, "is not a SQLite database"),
    (lambda p: p / "missing-dir" / "h.sqlite", "does not exist"),
])
def test_bad_database_locations_fail_in_one_line(tmp_path: Path, make, expected: str) -> None:
    target = make(tmp_path / "db")
    with pytest.raises(StoreError) as info:
        Store.open(str(target))
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_the_database_is_plain_sqlite_with_a_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    Store.open(str(path)).close()
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type='table'")}
        version = conn.execute("select value from meta where key='schema_version'").fetchone()[0]
    assert {"runs", "papers", "links", "paper_links", "run_papers", "observations", "meta"} <= tables
    assert version == str(SCHEMA_VERSION)
