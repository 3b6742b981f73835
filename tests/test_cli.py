"""The command line: readable help, one-line errors with exit code 2, and the demo end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from flows.cli import main

SEED = Path(__file__).parent.parent / "examples" / "hf-papers-2024-03-14.txt"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_help_names_the_commands_and_the_settings_users_need() -> None:
    code, text = invoke("--help")
    assert code == 0
    assert "run" in text and "demo" in text and "GITHUB_TOKEN" in text
    code, text = invoke("run", "--help")
    assert code == 0
    for option in ("--db", "--out", "--github-api", "--hf-endpoint", "--remap", "--allow-private", "GITHUB_API_URL"):
        assert option in text


def _binary(tmp: Path) -> str:
    path = tmp / "weights.bin"
    path.write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    return str(path)


def _empty(tmp: Path) -> str:
    path = tmp / "empty.md"
    path.write_text("  \n")
    return str(path)


@pytest.mark.parametrize("make_source, expected", [
    (lambda tmp: str(tmp / "nope.txt"), "not found"),
    (lambda tmp: str(tmp), "is a directory"),
    (_binary, "looks binary"),
    (_empty, "is empty"),
])
def test_bad_input_files_give_one_line_and_exit_2(tmp_path: Path, make_source, expected: str) -> None:
    source = make_source(tmp_path)
    code, text = invoke("run", source, "--out", str(tmp_path / "out"), "--db", str(tmp_path / "h.sqlite"))
    assert code == 2
    assert text.strip() == text.strip().splitlines()[0]
    assert text.startswith("paperwatch: error: input file") and expected in text and source in text
    assert not (tmp_path / "h.sqlite").exists()


def test_an_unwritable_out_dir_gives_one_line_and_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, text = invoke("run", str(SEED), "--out", str(blocker / "report"), "--db", str(tmp_path / "h.sqlite"))
    assert code == 2 and text.startswith("paperwatch: error: --out") and len(text.strip().splitlines()) == 1


@pytest.mark.parametrize("db, expected", [("{tmp}/missing/h.sqlite", "does not exist"), ("{tmp}/not-a-db.txt", "not a SQLite"),
                                          ("{tmp}", "is a directory")])
def test_a_bad_db_gives_one_line_and_exit_2(tmp_path: Path, db: str, expected: str) -> None:
    (tmp_path / "not-a-db.txt").write_text("just text")
    code, text = invoke("run", str(SEED), "--out", str(tmp_path / "out"), "--db", db.format(tmp=tmp_path))
    assert code == 2 and text.startswith("paperwatch: error: --db") and expected in text
    assert len(text.strip().splitlines()) == 1


def test_a_bad_remap_rule_gives_one_line_and_exit_2(tmp_path: Path) -> None:
    code, text = invoke("run", str(SEED), "--out", str(tmp_path / "out"), "--db", str(tmp_path / "h.sqlite"), "--remap", "(unclosed x")
    assert code == 2 and text.startswith("paperwatch: error: --remap") and len(text.strip().splitlines()) == 1


def test_errors_print_no_traceback_from_the_installed_command(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("paperwatch")
    proc = subprocess.run([str(exe), "run", str(tmp_path / "missing.txt")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"paperwatch: error: input file {tmp_path / 'missing.txt'}: not found"
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.prefect
def test_the_demo_scores_code_completeness_with_a_reason_for_each_miss(demo_report: Path) -> None:
    """Issue 18's demo: a template README scores 5/5, one that gives environment, models and evaluation 3/5 with
    the README's own to-do as the training reason, and the survey reading lists are unscored, not 0/5."""
    report = json.loads((demo_report / "report.json").read_text())
    checklists = {link["normalized"]: link["details"]["completeness"] for paper in report["papers"]
                  for link in paper["links"] if "completeness" in (link.get("details") or {})}
    assert checklists["https://github.com/Haiyang-W/TokenFormer"]["score"] == 5
    longwriter = checklists["https://github.com/THUDM/LongWriter"]
    assert longwriter["score"] == 3
    assert longwriter["items"]["training"] == {
        "met": False, "reason": 'the README says it is not released yet: "Release the training code"'}
    assert longwriter["items"]["results"] == {"met": False, "reason": "no results table or figure found"}
    assert longwriter["items"]["pretrained_model"]["reason"] == "Hugging Face model link"
    unscored = sorted(url for url, c in checklists.items() if c["score"] is None)
    assert len(unscored) == 3 and all(checklists[url]["unscored"].startswith("a reading list") for url in unscored)


@pytest.mark.prefect
def test_demo_writes_a_report_that_shows_every_link_state(demo_report: Path) -> None:
    """`paperwatch demo` as a user runs it (a subprocess; shared with the browser tests)."""
    report = json.loads((demo_report / "report.json").read_text())
    assert (demo_report / "index.html").exists()
    assert str(demo_report / "index.html") in (demo_report.parent / "demo-stdout.txt").read_text()
    assert [r["id"] for r in report["runs"]] == [1, 2]
    states = {link["state"] for paper in report["papers"] for link in paper["links"]}
    assert states == {"alive", "moved", "dead", "blocked", "error", "skipped", "unknown"}
    for paper in report["papers"]:
        for link in paper["links"]:
            assert set(link["evidence"]) >= {"status_code", "final_url", "error", "redirects"}
    changes = {(c["url"], c["change"]) for c in report["changes"]}
    # two runs minutes apart: a death is not confirmed (2 answers 20 h apart), a failure that clears is no recovery
    assert ("https://llm-stacking.github.io", "degraded") in changes
    assert ("http://evidence-inference.ebm-nlp.com", "healthy again") in changes
