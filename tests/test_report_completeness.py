"""The report tells each repository's ML Code Completeness: 0-5, five ticks, the reason of each miss.

A history with three papers whose repositories the checker scored (by the real scorer, from a
root listing and README as a check reads them) and one it could not read: the dashboard, its
filter and distribution, links.csv and summary.md say the same thing, an unreadable repository
is "unscored" (never 0), and text that came from a README cannot become markup.
"""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from checks.completeness import MISSING, score_completeness
from checks.facts import RepoFacts
from checks.model import Link, LinkKind, Observation, Paper, State
from reports.report import build_report, render_html, write_report
from reports.store import Store

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
FULL_README = """# Method

## Requirements
```setup
pip install -r requirements.txt
```

## Training
```train
python train.py --epochs 90 --lr 0.1
```

## Evaluation
```eval
python eval.py --checkpoint model.pth
```

## Pre-trained models
Download the weights from https://huggingface.co/lab/method-base.

## Results
| Model | Accuracy |
|---|---|
| ours | 91.3 |
| baseline | 88.0 |
"""
SPARSE_README = "# Toolkit\n\nSee the paper. <script>alert(1)</script>\n\n## Installation\n\n    pip install toolkit\n"
HOSTILE_FILE = 'train_<img src=x onerror=alert(2)>.py'  # a file name is the repository owner's text


def repo(name: str) -> Link:
    url = f"https://github.com/lab/{name}"
    return Link(url=url, normalized=url, kind=LinkKind.GITHUB_REPO, claim="code")


FULL, SPARSE, UNREAD, HOSTILE = repo("full"), repo("sparse"), repo("unread"), repo("hostile")
SCORES = {
    FULL: score_completeness(["README.md", "requirements.txt", "train.py", "eval.py"], FULL_README),
    SPARSE: score_completeness(["README.md", "toolkit/"], SPARSE_README),
    UNREAD: score_completeness(["README.md", "src/"], None),  # the README could not be read
    HOSTILE: score_completeness(["README.md", HOSTILE_FILE], "# Hostile\n"),
}
PAPERS = [Paper(id="full", title="Full paper", links=(FULL,)), Paper(id="sparse", title="Sparse paper", links=(SPARSE,)),
          Paper(id="unread", title="Unread paper", links=(UNREAD,)), Paper(id="hostile", title="Hostile paper", links=(HOSTILE,)),
          Paper(id="nocode", title="No code paper", links=(Link(url="https://lab.example.org/p", normalized="https://lab.example.org/p",
                                                                   kind=LinkKind.PROJECT),))]


@pytest.fixture()
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = str(tmp_path / "history.sqlite")
    monkeypatch.setattr("reports.store.now_iso", lambda: T0.isoformat())
    with Store.open(path) as store:
        run = store.start_run(["papers.md"])
        store.record_papers(run, PAPERS)
        observations = [Observation(url=link.normalized, checker="github", state=State.ALIVE, reason="repository exists, active",
                                    facts=RepoFacts.of(completeness=completeness)) for link, completeness in SCORES.items()]
        observations.append(Observation(url="https://lab.example.org/p", checker="http", state=State.ALIVE, reason="HTTP 200"))
        store.record_observations(run, observations)
        store.finish_run(run, status="completed", offline=False, notes=[])
        return build_report(store, run)


def link_item(page: str, link: Link) -> str:
    anchor = page.index(f">{html_lib.escape(link.url)}</a>", page.index('<table id="papers"'))
    start = page.rindex("<li data-k=", 0, anchor)
    return page[start:page.index("</li>", start)]


def text_of(fragment: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_each_repository_shows_its_score_ticks_and_the_reason_of_each_miss(report) -> None:
    assert SCORES[FULL].score == 5 and SCORES[SPARSE].score == 1  # the real scorer, as the check stores it
    page = render_html(report)
    full, sparse = text_of(link_item(page, FULL)), text_of(link_item(page, SPARSE))
    assert "completeness 5/5" in full and "missing:" not in full
    assert "completeness 1/5" in sparse
    assert "✓ deps" in sparse and "✗ train" in sparse and "✗ eval" in sparse
    training = SCORES[SPARSE].item("training")
    assert training is not None and f"training code ({training.reason})" in sparse  # the miss's reason, visible
    assert "completeness" not in text_of(link_item(page, Link(url="https://lab.example.org/p", normalized="https://lab.example.org/p",
                                                              kind=LinkKind.PROJECT)))


def test_an_unreadable_repository_is_unscored_never_zero(report) -> None:
    page = render_html(report)
    assert "completeness unscored: the README could not be read" in text_of(link_item(page, UNREAD))
    dist = text_of(page[page.index('id="completeness-dist"'):page.index("</div>", page.index('id="completeness-dist"'))])
    assert "Code completeness of 4 papers with a repository" in dist
    assert "5/5 1 (33.3 %)" in dist and "1/5 2 (66.7 %)" in dist and "unscored 1" in dist
    assert "0/5" not in dist  # the unread repository is not a 0


def test_the_filter_offers_each_score_with_its_paper_count(report) -> None:
    page = render_html(report)
    options = re.findall(r'<option value="(completeness:[^"]+)">([^<]+)</option>', page)
    assert options == [("completeness:5/5", "code completeness: 5/5 (1)"), ("completeness:1/5", "code completeness: 1/5 (2)"),
                       ("completeness:unscored", "code completeness: unscored (1)")]
    row = page[page.index('<tr id="paper-sparse"'):]
    assert "completeness:1/5" in row[:row.index(">")]  # the row carries the token the filter matches


def test_repository_text_in_a_reason_cannot_become_markup(report) -> None:
    assert SCORES[HOSTILE].item("training").reason == HOSTILE_FILE  # the scorer names what it found
    page = render_html(report)
    item = link_item(page, HOSTILE)
    assert "<img" not in item and "&lt;img src=x onerror=alert(2)&gt;" in item


def test_links_csv_and_summary_md_carry_the_score(report, tmp_path: Path) -> None:
    paths = write_report(report, tmp_path / "out")
    rows = {row["normalized"]: row for row in csv.DictReader(io.StringIO(paths.csv.read_text(encoding="utf-8"), newline=""))}
    assert (rows[FULL.normalized]["completeness_score"], rows[FULL.normalized]["completeness_missing"]) == ("5", "")
    assert rows[SPARSE.normalized]["completeness_score"] == "1"
    assert rows[SPARSE.normalized]["completeness_missing"] == "training evaluation pretrained_model results"
    assert rows[SPARSE.normalized]["completeness_reasons"].startswith(f"training: {MISSING['training']}; evaluation: ")
    assert rows[FULL.normalized]["completeness_reasons"] == ""
    assert rows[UNREAD.normalized]["completeness_score"] == "unscored"
    assert rows[UNREAD.normalized]["completeness_reasons"] == SCORES[UNREAD].unscored
    assert rows["https://lab.example.org/p"]["completeness_score"] == ""
    summary = paths.markdown.read_text(encoding="utf-8")
    assert "Code completeness (papers, by their best repository): 5/5 1 · 1/5 2 · unscored 1" in summary
