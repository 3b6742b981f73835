"""One vocabulary: verdicts, changes, grades and states are enum members, never retyped words; the
rule that confirms a death is one setting, and one sentence wherever people read it.

The literal scan (``test_no_vocabulary_word_is_retyped``) reads the source of checks/, flows/ and
reports/ and fails, naming file:line, on a string constant equal to the value of a member
of ``State`` (checks.model), ``Verdict``, ``Change`` or ``Grade`` (reports.vocabulary) used as a
value or in a comparison. Its rule, since some words have other meanings too:

- not scanned: reports/vocabulary.py and checks/model.py (they define the words), docstrings, and
  the values of members of any ``Enum`` class (a vocabulary of another kind, such as the tracking
  issue's actions, may share a word: ``IssueAction.SKIPPED``);
- names, not values, are allowed: dict keys in a literal (``{"archived": ...}``), subscripts
  (``details["archived"]``), the key of ``.get``/``.pop``/``.setdefault`` calls, the names in a
  table of field names (a constant named ``*_COLUMNS`` or ``*_KEYS``, such as the CSV columns),
  a database column's name (``sa.Column("error", ...)``) and words looked for in a server's
  message (``message_has="blocked"`` in ``checks.statuses``): report.json keys, CSV columns and
  checkers' ``details`` keys (``archived``, ``gated``) name fields;
- facet words (code, data, models, demo) and outcome words are not scanned: they are also claim
  words (checks.claims), report.json keys and CSS classes; code says ``Facet.CODE`` where it
  means a facet, and the templates' CSS class names (``.chip.dead``) are styling, not values
  (the templates compare with enum members handed in as globals: ``Outcome.NONE``, ``Grade.NONE``).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from checks.model import Evidence, Link, LinkKind, Observation, Paper, State
from reports.digest import SECTIONS
from reports.report import build_report, write_report
from reports.report_model import Report
from reports.store import Store, runs
from reports.tracking_issue import issue_body
from reports.verdicts import link_verdict
from reports.vocabulary import ALERTED_CHANGES, INFORMATIONAL_CHANGES, Change, ConfirmRule, Grade, Verdict

ROOT = Path(__file__).resolve().parent.parent
SCANNED = sorted(path for room in ("checks", "flows", "reports") for path in (ROOT / room).rglob("*.py"))
DEFINING = {ROOT / "reports" / "vocabulary.py", ROOT / "checks" / "model.py"}
WORDS = {member.value for enum in (State, Verdict, Change, Grade) for member in enum}
KEY_METHODS = {"get", "pop", "setdefault"}
NAME_TABLE = re.compile(r"^_?[A-Z0-9_]*_(COLUMNS|KEYS)$")


def _allowed(tree: ast.AST) -> set[int]:
    """ids of the string constants the rule allows (see the module docstring)."""
    allowed: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                allowed.add(id(first.value))
        if isinstance(node, ast.ClassDef) and any("Enum" in ast.unparse(base) for base in node.bases):
            allowed |= {id(n) for stmt in node.body if isinstance(stmt, ast.Assign) for n in ast.walk(stmt.value)}
        if isinstance(node, ast.Dict):
            allowed |= {id(key) for key in node.keys if key is not None}
        if isinstance(node, ast.Subscript):
            allowed.add(id(node.slice))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in KEY_METHODS and node.args:
            allowed.add(id(node.args[0]))
        if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "Column" and node.args:
            allowed.add(id(node.args[0]))
        if isinstance(node, ast.keyword) and node.arg == "message_has":
            allowed.add(id(node.value))
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and NAME_TABLE.match(t.id) for t in targets):
                allowed |= {id(n) for n in ast.walk(node.value)}
    return allowed


def retyped_words(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line: 'word'`` for each retyped word in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed = _allowed(tree)
    return [f"{path.relative_to(root)}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in WORDS and id(node) not in allowed]


def test_no_vocabulary_word_is_retyped() -> None:
    found = [hit for path in SCANNED if path not in DEFINING for hit in retyped_words(path)]
    assert not found, "retyped vocabulary words (use the enum member):\n" + "\n".join(found)


def test_the_scan_catches_a_retyped_word(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""doc: dead"""\nif verdict == "dead":\n    x = {"dead": details.get("archived"), "k": "moved"}\n')
    assert sorted(retyped_words(sample, tmp_path)) == ["sample.py:2: 'dead'", "sample.py:3: 'moved'"]


def test_words_keep_their_stored_spelling() -> None:
    assert [v.value for v in Verdict] == ["healthy", "degraded", "dead", "recovered", "unchecked"]
    assert ALERTED_CHANGES == ("newly dead", "recovered", "moved", "archived", "promise fulfilled")
    assert INFORMATIONAL_CHANGES == ("degraded", "healthy again")
    assert [change for change, _ in SECTIONS if isinstance(change, Change)] == list(ALERTED_CHANGES)
    assert [g.value for g in Grade] == ["available", "partial", "unavailable", "unknown", "none linked"]


def test_the_confirm_rule_is_validated_and_says_itself_once() -> None:
    assert ConfirmRule().sentence() == (
        "a link is called dead after 2 failing runs spanning at least 20 hours in which the server itself said it is gone")
    assert ConfirmRule(1, 1).sentence().startswith("a link is called dead after 1 failing run spanning at least 1 hour ")
    for runs, hours in ((0, 20.0), (2, -1.0), (2, math.nan), (True, 20.0), (2.5, 20.0)):
        with pytest.raises(ValueError):
            ConfirmRule(runs, hours)  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ConfirmRule().runs = 3  # type: ignore[misc]


def test_the_readme_and_the_tracking_issue_state_the_rule_from_its_one_place() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert ConfirmRule().sentence() in readme
    assert ConfirmRule().sentence() in issue_body([])
    assert ConfirmRule(3, 48).sentence() in issue_body([], ConfirmRule(3, 48))


T0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=5)
GONE = Link(url="https://example.org/gone", normalized="https://example.org/gone", kind=LinkKind.PROJECT)


def _history(tmp_path: Path, failing: int, hours_apart: float) -> tuple[Store, int]:
    """A link alive once, then answering 404 in each of ``failing`` runs, the runs ``hours_apart`` hours apart."""
    store = Store.open(str(tmp_path / "rule.sqlite"))
    run = 0
    for i in range(failing + 1):
        when = T0 + timedelta(hours=i * hours_apart)
        run = store.start_run(["papers.md"])
        with store.engine.begin() as conn:  # the runs happened hours_apart apart
            conn.execute(sa.update(runs).where(runs.c.id == run).values(started_at=when.isoformat()))
        store.record_papers(run, [Paper(id="p", title="A paper", links=(GONE,))])
        state = State.ALIVE if i == 0 else State.DEAD
        store.record_observations(run, [Observation(url=GONE.normalized, state=state, reason=f"HTTP {200 if i == 0 else 404}",
                                                    checker="http", evidence=Evidence(status_code=200 if i == 0 else 404),
                                                    checked_at=when)])
        store.finish_run(run, status="completed", offline=False, notes=[])
    return store, run


def test_a_stricter_rule_changes_the_verdicts_and_the_sentence_in_the_report(tmp_path: Path) -> None:
    history = [(T0 + timedelta(hours=24 * i), State.DEAD) for i in range(3)]
    assert link_verdict(history).status is Verdict.DEAD
    assert link_verdict(history, rule=ConfirmRule(3, 48)).status is Verdict.DEAD
    assert link_verdict(history[:2], rule=ConfirmRule(3, 48)).status is Verdict.DEGRADED

    store, run = _history(tmp_path, failing=2, hours_apart=24)
    try:
        default, strict = build_report(store, run), build_report(store, run, rule=ConfirmRule(runs=3, hours=48))
    finally:
        store.close()
    status = {report.run.confirm_rule: report.papers[0].links[0].verdict.status for report in (default, strict)}
    assert status == {ConfirmRule(): Verdict.DEAD, ConfirmRule(3, 48.0): Verdict.DEGRADED}
    assert [c.change for c in default.changes] == [Change.NEWLY_DEAD] and strict.changes == ()  # degraded before, and still

    paths = write_report(strict, tmp_path / "out")
    sentence = ConfirmRule(3, 48).sentence()
    assert sentence == "a link is called dead after 3 failing runs spanning at least 48 hours in which the server itself said it is gone"
    saved = json.loads(paths.json.read_text())
    assert saved["run"]["confirm_rule"] == {"runs": 3, "hours": 48.0, "sentence": sentence}
    assert Report.from_dict(saved).run.confirm_rule == ConfirmRule(3, 48)
    for path in (paths.html, paths.markdown):
        text = path.read_text()
        assert sentence[1:] in text and ConfirmRule().sentence()[1:] not in text


def test_a_report_document_reads_back_to_the_same_document(tmp_path: Path) -> None:
    store, run = _history(tmp_path, failing=2, hours_apart=24)
    try:
        report = build_report(store, run)
    finally:
        store.close()
    document = report.to_dict()
    again = Report.from_dict(document)
    assert again.to_dict() == document
    assert again.change_counts == report.change_counts == {Change.NEWLY_DEAD: 1}


def test_a_state_says_whether_it_is_available_and_how_bad_it_is() -> None:
    """Readers' order of worry: a paper's worst link (dead first) sorts it; only alive and moved count as available."""
    assert [state for state in State if state.available] == [State.ALIVE, State.MOVED]
    assert sorted(State, key=lambda state: state.severity) == [State.DEAD, State.ERROR, State.BLOCKED, State.UNKNOWN,
                                                               State.SKIPPED, State.MOVED, State.ALIVE]
