"""Rescue in the outputs: a dead or failing link shows where its code or page can still be found (an
archived copy), or that none was found, or that the archives have not answered yet; a live repository
shows its Save Code Now request; a healthy link shows nothing. The page, report.json, links.csv,
summary.md and the alert digest all say it, and an archive's hostile answer is never a link or markup.
"""

from __future__ import annotations

import csv
import html as html_lib
import io
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from checks.archive_model import (NO_COPY_SENTENCE, NO_PAGE_COPY_SENTENCE, ArchivedCopy, ArchiveLookup, ArchiveService,
                                  LookupOutcome, SaveRequest)
from checks.model import Link, LinkKind, Observation, Paper, State
from reports import archive_store
from reports.alerts import AlertSettings, process_run
from reports.report import build_report, render_html, write_report
from reports.report_model import Report
from reports.rescue import facet_phrase
from reports.store import Store
from reports.vocabulary import ConfirmRule, Facet, Outcome

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)
RULE = ConfirmRule(runs=1, hours=0)  # one "gone" answer confirms a death: two runs make a newly dead link


def repo(name: str) -> Link:
    url = f"https://github.com/lab/{name}"
    return Link(url=url, normalized=url, kind=LinkKind.GITHUB_REPO, claim="code")


def page(name: str) -> Link:
    url = f"https://{name}.example.org/"
    return Link(url=url, normalized=url, kind=LinkKind.PROJECT)


RESCUED, LOST, UNASKED, LIVE, SWH_ONLY = repo("rescued"), repo("lost"), repo("unasked"), repo("live"), repo("swh-only")
FAILING_PAGE, HEALTHY_PAGE, EVIL_PAGE, QUOTE_PAGE = page("failing"), page("healthy"), page("evil"), page("quote")
SWH_URL = "https://archive.softwareheritage.org/browse/origin/directory/?origin_url=https://github.com/lab/rescued"
JS_COPY = "javascript:alert('copy')"
QUOTE_COPY = "https://web.archive.org/web/2024/x\"><script>alert('quote')</script>"

# this run's state of each link (the run before: every one alive)
STATES = {RESCUED: State.DEAD, LOST: State.DEAD, UNASKED: State.DEAD, SWH_ONLY: State.DEAD, LIVE: State.ALIVE, FAILING_PAGE: State.ERROR,
          HEALTHY_PAGE: State.ALIVE, EVIL_PAGE: State.DEAD, QUOTE_PAGE: State.DEAD}
PAPERS = [Paper(id="rescued", title="Rescued paper", links=(RESCUED,)),
          Paper(id="lost", title="Lost paper", links=(LOST, FAILING_PAGE, UNASKED, SWH_ONLY)),
          Paper(id="healthy", title="Healthy paper", links=(LIVE, HEALTHY_PAGE)),
          Paper(id="hostile", title="Hostile paper", links=(EVIL_PAGE, QUOTE_PAGE))]


SWH, WAYBACK = ArchiveService.SOFTWARE_HERITAGE, ArchiveService.WAYBACK


def lookup(link: Link, outcome: LookupOutcome, copy: ArchivedCopy | None = None,
           services: tuple[ArchiveService, ...] = (SWH, WAYBACK)) -> ArchiveLookup:
    return ArchiveLookup(url=link.normalized, outcome=outcome, copy=copy, reason="asked", checked_at=T0.isoformat(),
                         services=services)


LOOKUPS = [
    lookup(RESCUED, LookupOutcome.FOUND, ArchivedCopy(SWH, SWH_URL, "2024-05-01T12:00:00+00:00"), (SWH,)),
    lookup(LOST, LookupOutcome.NONE),
    lookup(FAILING_PAGE, LookupOutcome.NONE, services=(WAYBACK,)),
    # asked while it was a live repository (Software Heritage only): it settles nothing about the dead link
    lookup(SWH_ONLY, LookupOutcome.NONE, services=(SWH,)),
    # a copy kept from when the page failed before: a healthy link shows none of it
    lookup(HEALTHY_PAGE, LookupOutcome.FOUND, ArchivedCopy(ArchiveService.WAYBACK, "https://web.archive.org/web/1/h",
                                                            "2023-01-01T00:00:00+00:00")),
    lookup(EVIL_PAGE, LookupOutcome.FOUND, ArchivedCopy(ArchiveService.WAYBACK, JS_COPY, "2024-02-03T00:00:00+00:00")),
    lookup(QUOTE_PAGE, LookupOutcome.FOUND, ArchivedCopy(ArchiveService.WAYBACK, QUOTE_COPY, "2024-02-04T00:00:00+00:00")),
]
SAVE = SaveRequest(url=LIVE.normalized, origin=LIVE.normalized, request_id=7, requested_at="2026-05-05T08:00:00+00:00",
                   request_status="accepted", task_status="scheduled")


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Two runs a day apart: every link alive, then this run's states; the archives' answers recorded after it."""
    path = str(tmp_path / "history.sqlite")
    with Store.open(path) as store:
        for day in (0, 1):
            when = (T0 + timedelta(days=day)).isoformat()
            monkeypatch.setattr("reports.store.now_iso", lambda when=when: when)
            run = store.start_run(["papers.md"])
            store.record_papers(run, PAPERS)
            store.record_observations(run, [
                Observation(url=link.normalized, checker="http", state=State.ALIVE if day == 0 else state,
                            reason="HTTP 200" if day == 0 or state is State.ALIVE else f"HTTP {404 if state is State.DEAD else 503}")
                for link, state in STATES.items()])
            store.finish_run(run, status="completed", offline=False, notes=[])
        now = T0 + timedelta(days=1, hours=1)
        assert archive_store.record(store, LOOKUPS, now) == len(LOOKUPS)
        assert archive_store.record_save_requests(store, [SAVE]) == 1
    return path


def report_of(db: str) -> Report:
    with Store.open(db) as store:
        return build_report(store, 2, rule=RULE)


def link_item(page_html: str, link: Link) -> str:
    """The ``<li>`` of a link in the papers table."""
    anchor = page_html.index(f'>{html_lib.escape(link.url)}</a>', page_html.index('<table id="papers"'))
    start = page_html.rindex("<li data-k=", 0, anchor)
    return page_html[start:page_html.index("</li>", start)]


def text_of(fragment: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", fragment))


def paper_row(page_html: str, paper_id: str) -> str:
    start = page_html.index(f'<tr id="paper-{paper_id}"')
    return page_html[start:page_html.index("</tr>", start)]


def test_a_failing_link_shows_its_copy_or_that_none_was_found_and_a_healthy_link_shows_nothing(db: str) -> None:
    page_html = render_html(report_of(db))

    rescued = link_item(page_html, RESCUED)
    assert (f'<div class="rescue found"><a href="{html_lib.escape(SWH_URL)}">'
            "archived copy: Software Heritage, visited 2024-05-01</a></div>") in rescued
    assert NO_COPY_SENTENCE in text_of(link_item(page_html, LOST))
    assert NO_PAGE_COPY_SENTENCE in text_of(link_item(page_html, FAILING_PAGE))  # degraded (an error), a page
    assert "archives not asked yet" in text_of(link_item(page_html, UNASKED))
    assert "archives not asked yet" in text_of(link_item(page_html, SWH_ONLY)) and NO_COPY_SENTENCE not in link_item(page_html, SWH_ONLY)
    assert "Save Code Now requested 2026-05-05: scheduled" in text_of(link_item(page_html, LIVE))
    healthy = text_of(link_item(page_html, HEALTHY_PAGE))
    assert "archived" not in healthy and "archives" not in healthy and "web.archive.org/web/1/h" not in page_html
    for link in (RESCUED, LOST, UNASKED, SWH_ONLY, FAILING_PAGE):  # one line each
        assert link_item(page_html, link).count('class="rescue ') == 1


def test_a_paper_whose_dead_code_has_a_copy_reads_code_dead_archived_copy_available(db: str) -> None:
    page_html = render_html(report_of(db))
    phrase = facet_phrase(Facet.CODE, Outcome.DEAD, copy_available=True)
    assert phrase == "code dead, archived copy available" and facet_phrase(Facet.CODE, Outcome.DEAD) == "code dead"
    assert facet_phrase(Facet.DATA, Outcome.DEAD, copy_available=True) == "data dead"
    rescued = paper_row(page_html, "rescued")
    code_cell = re.findall(r'<td role="cell" class="f">(.*?)</td>', rescued)[0]
    assert text_of(code_cell) == "deadarchived copy available" and f'title="{phrase}"' in code_cell
    assert f"; {phrase}\">" in rescued  # the attention chip's note says it too
    assert phrase not in paper_row(page_html, "lost") and "archived copy available" not in paper_row(page_html, "lost")


def test_a_hostile_copy_url_is_never_a_link_nor_markup(db: str) -> None:
    page_html = render_html(report_of(db))
    hrefs = re.findall(r'href="([^"]*)"', page_html)
    assert not any(href.startswith("javascript:") or "web.archive.org/web/2024/x" in href for href in hrefs)
    assert "<script>alert(" not in page_html and "&lt;script&gt;alert(&#39;quote&#39;)" in page_html
    evil = link_item(page_html, EVIL_PAGE)
    assert "<a href" not in evil.split('class="rescue')[1]
    assert f"archived copy: Wayback Machine, captured 2024-02-03 {JS_COPY}" in text_of(evil)
    quote = link_item(page_html, QUOTE_PAGE)
    assert "<a href" not in quote.split('class="rescue')[1] and QUOTE_COPY in text_of(quote)


def test_report_json_carries_the_lookups_and_renders_the_same_again(db: str, tmp_path: Path) -> None:
    report = report_of(db)
    paths = write_report(report, tmp_path / "out")
    document = json.loads(paths.json.read_text(encoding="utf-8"))
    links = {link["normalized"]: link for paper in document["papers"] for link in paper["links"]}
    assert links[RESCUED.normalized]["archive"] == LOOKUPS[0].to_dict()
    assert links[RESCUED.normalized]["archive"]["copy"] == {"service": "software-heritage", "url": SWH_URL,
                                                           "captured_at": "2024-05-01T12:00:00+00:00"}
    assert links[LOST.normalized]["archive"]["outcome"] == "none" and links[LOST.normalized]["archive"]["copy"] is None
    assert links[UNASKED.normalized]["archive"] is None and links[UNASKED.normalized]["save_request"] is None
    assert links[LIVE.normalized]["save_request"]["task_status"] == "scheduled"
    again = Report.from_dict(document)
    assert again.papers == report.papers
    assert render_html(again) == paths.html.read_text(encoding="utf-8")


def test_links_csv_has_the_archive_columns(db: str, tmp_path: Path) -> None:
    paths = write_report(report_of(db), tmp_path / "out")
    rows = {row["normalized"]: row for row in csv.DictReader(io.StringIO(paths.csv.read_text(encoding="utf-8"), newline=""))}
    columns = ("archive_outcome", "archive_service", "archive_url", "archive_captured_at", "save_request_status")

    def cells(link: Link) -> tuple[str, ...]:
        return tuple(rows[link.normalized][column] for column in columns)

    assert list(next(iter(rows.values())))[-5:] == list(columns)
    assert cells(RESCUED) == ("found", "software-heritage", SWH_URL, "2024-05-01T12:00:00+00:00", "")
    assert cells(LOST) == ("none", "", "", "", "")
    assert cells(UNASKED) == ("", "", "", "", "")
    # Software Heritage alone said none (asked while the repository was live): not every archive that fits was
    # asked, so the reader is told "unknown", as the page says "archives not asked yet", never "none"
    assert cells(SWH_ONLY) == ("unknown", "", "", "", "")
    assert cells(LIVE) == ("", "", "", "", "scheduled")


def test_summary_md_gives_each_dead_link_its_copy_and_cannot_link_it(db: str, tmp_path: Path) -> None:
    paths = write_report(report_of(db), tmp_path / "out")
    text = paths.markdown.read_text(encoding="utf-8")
    dead = text[text.index("### Dead links"):]
    row = {link: next(line for line in dead.splitlines() if f"`{link.url}`" in line)
           for link in (RESCUED, LOST, UNASKED, SWH_ONLY, EVIL_PAGE)}
    assert f"| archived copy: Software Heritage, visited 2024-05-01 `{SWH_URL}` |" in row[RESCUED]
    assert f"| {NO_COPY_SENTENCE} |" in row[LOST] and "| archives not asked yet |" in row[UNASKED] == row[SWH_ONLY].replace(SWH_ONLY.url, UNASKED.url)
    assert "archived copy: Wayback Machine, captured 2024-02-03 `javascript:alert('copy')`" in row[EVIL_PAGE]
    assert "| link | kind | verdict | reason | archived copy | papers |" in dead
    assert "Code dead, archived copy available: 1 of the 2 papers whose code is dead." in text
    rendered = MarkdownIt("commonmark").enable("table").render(text)
    assert "<a " not in rendered and "<script" not in rendered


def test_the_digest_of_a_newly_dead_link_carries_its_copy(db: str) -> None:
    outcome = process_run(db, 2, AlertSettings(), github_api_url="http://127.0.0.1:9", rule=RULE)
    digest = outcome.digest
    assert digest is not None
    text, markdown, page_html = digest.text(), digest.markdown(), digest.html()
    assert (f"- {RESCUED.url}: HTTP 404 (dead since 2026-05-05 09:00 UTC)\n"
            f"  archived copy: Software Heritage, visited 2024-05-01: {SWH_URL}\n  cited by: Rescued paper") in text
    assert f"- {LOST.url}: HTTP 404 (dead since 2026-05-05 09:00 UTC)\n  {NO_COPY_SENTENCE}\n  cited by: Lost paper" in text
    for unsettled in (UNASKED, SWH_ONLY):  # not asked, or not every archive that fits: nothing
        assert f"- {unsettled.url}: HTTP 404 (dead since 2026-05-05 09:00 UTC)\n  cited by: Lost paper" in text
    # Markdown: the copy is a link a reader can click, "_" in Software Heritage's origin_url and all (md_url)
    shown = html_lib.unescape(re.sub(r"<[^>]+>", "", MarkdownIt("commonmark").render(markdown))).replace("\u2060", "")
    assert f"archived copy: Software Heritage, visited 2024-05-01: {SWH_URL}\ncited by: Rescued paper" in shown
    assert f'<a href="{html_lib.escape(SWH_URL)}">' in MarkdownIt("commonmark").render(markdown)
    assert f'<br>archived copy: Software Heritage, visited 2024-05-01: <a href="{html_lib.escape(SWH_URL)}">' in page_html
    assert f"<br>{NO_PAGE_COPY_SENTENCE}" not in page_html  # the failing page is degraded, not newly dead
    assert "<script>" not in page_html and 'href="javascript:' not in page_html
    rendered = MarkdownIt("commonmark").render(markdown)
    assert "<script>" not in rendered and not any(href.startswith("javascript:") for href in re.findall(r'href="([^"]*)"', rendered))
