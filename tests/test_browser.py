"""The HTML report in a real browser (Debian's chromium through Playwright, offline, file://).

The demo's report loads cleanly, filters, search, sorting and anchors do what a reader expects,
it reads on a phone and without JavaScript, and a report full of script injections runs none.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from hostile import MARKDOWN_TITLE, TITLE, hostile_report

from playwright.sync_api import expect

from reports.headline import ATTENTION
from reports.report import write_report
from reports.vocabulary import CODE_ORDER

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


class Watched:
    """A page with everything that would betray a problem recorded: console errors, exceptions, dialogs."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"exception: {error}"))
        page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture
def open_report(browser: Browser) -> Iterator[Any]:
    """Open a report file in a fresh context (no network: every request other than file:// is refused)."""
    contexts = []

    def opener(html: Path, fragment: str = "", width: int = 1280, javascript: bool = True) -> Watched:
        context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=javascript)
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort())
        contexts.append(context)
        watched = Watched(context.new_page())
        watched.page.goto(html.as_uri() + fragment)
        return watched

    yield opener
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def demo(demo_report: Path) -> dict[str, Any]:
    return json.loads((demo_report / "report.json").read_text())


def visible_rows(page: Page) -> list[str]:
    return page.eval_on_selector_all("#papers tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.id)")


def visible_folded(page: Page) -> list[str]:
    return page.eval_on_selector_all("#no-links li[data-v]", "items => items.filter(i => !i.hidden).map(i => i.id)")


def in_page_order(papers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The papers with links as the page lists them: what needs attention first, input order within a group."""
    return sorted((p for p in papers if p["links"]), key=lambda p: ATTENTION.index(p["attention"]))


def ids(papers: list[dict[str, Any]]) -> list[str]:
    return ["paper-" + p["id"] for p in in_page_order(papers)]


def test_the_demo_report_loads_cleanly_and_is_saved_as_a_screenshot(open_report: Any, demo_report: Path, demo: dict[str, Any]) -> None:
    watched = open_report(demo_report / "index.html")
    page = watched.page
    assert page.locator("#controls").is_visible()
    with_links = in_page_order(demo["papers"])
    folded = [p for p in demo["papers"] if not p["links"]]
    assert page.locator("#count").text_content() == (f"{len(with_links)} papers with links, those that need attention first; "
                                                     f"{len(folded)} without links, folded below.")
    assert visible_rows(page) == ids(demo["papers"]) and len(with_links) < len(demo["papers"])
    assert page.locator("#no-links li").count() == len(folded) and not page.locator("#no-links li").first.is_visible()
    first = page.locator("#share-code").text_content() or ""
    code = demo["summary"]["facets"]["code"]
    assert f"code available now: {code['available']} of {code['linked']} papers linking code" in " ".join(first.split())
    assert page.locator(".chart rect").count() >= len(demo["runs"])  # one stacked bar per run
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-demo.png"
    page.screenshot(path=str(shot), full_page=False)
    print(f"\nscreenshot: {shot}")
    assert shot.stat().st_size > 10_000
    assert watched.errors == [] and watched.dialogs == []


def test_filters_and_search_show_the_matching_papers(open_report: Any, demo_report: Path, demo: dict[str, Any]) -> None:
    page = open_report(demo_report / "index.html").page
    papers = demo["papers"]
    with_dead = ids([p for p in papers if any(link["state"] == "dead" for link in p["links"])])
    page.select_option("#f-state", "dead")
    assert visible_rows(page) == with_dead and 0 < len(with_dead) < len(papers)
    assert page.locator("#count").text_content() == f"{len(with_dead)} of {len(papers)} papers, link state dead."
    shown_states = page.eval_on_selector_all("#papers tr:not([hidden]) li:not(.dim)", "items => items.map(i => i.dataset.s)")
    assert set(shown_states) == {"dead"}  # the other links of those papers are dimmed

    page.select_option("#f-kind", "hf-model")  # a dead Hugging Face model
    expected = ids([p for p in papers if any(link["state"] == "dead" and link["kind"] == "hf-model" for link in p["links"])])
    assert visible_rows(page) == expected and len(expected) < len(with_dead)

    page.fill("#q", "no such paper anywhere")  # the dimmed rows are hidden while the link filters go
    page.press("#q", "Enter")
    page.select_option("#f-state", "")
    page.select_option("#f-kind", "")
    page.fill("#q", "")
    page.press("#q", "Enter")
    assert visible_rows(page) == ids(papers) and page.locator("#papers li.dim").count() == 0
    page.select_option("#f-verdict", "code:stale")  # activity is a filter
    stale = ids([p for p in papers if p["verdict"]["code"] == "stale"])
    assert visible_rows(page) == stale and len(stale) == demo["summary"]["facets"]["code"]["split"]["stale"]

    page.click("#f-reset")
    target = next(p for p in papers if "LongWriter" in p["title"])
    page.fill("#q", "longwriter")
    page.press("#q", "Enter")
    assert visible_rows(page) == ids([target])
    page.fill("#q", "no such paper anywhere")
    page.press("#q", "Enter")
    assert visible_rows(page) == [] and page.locator("#no-match").is_visible()
    page.click("#f-clear")
    assert len(visible_rows(page)) == len(ids(papers))

    folded = next(p for p in papers if not p["links"])  # a search reaches the folded papers too, and opens them
    page.fill("#q", folded["title"].lower())
    page.press("#q", "Enter")
    assert visible_folded(page) == ["paper-" + folded["id"]] and page.locator(f"[id='paper-{folded['id']}']").is_visible()
    page.fill("#q", "")
    page.press("#q", "Enter")
    assert not page.locator(f"[id='paper-{folded['id']}']").is_visible()  # folded again once the search is cleared


def test_the_found_elsewhere_filter_shows_the_papers_whose_code_was_found_elsewhere(open_report: Any, demo_report: Path,
                                                                                   demo: dict[str, Any]) -> None:
    page = open_report(demo_report / "index.html").page
    found = ["paper-" + p["id"] for p in demo["papers"] if any(not s["accepted"] for s in p["suggestions"])]
    assert len(found) == 2  # the demo's paper API and model card finds (both papers link nothing: folded)
    page.select_option("#f-found", "code")
    assert visible_rows(page) + visible_folded(page) == found
    assert page.locator("#count").text_content() == f"2 of {len(demo['papers'])} papers, code found elsewhere."
    line = page.locator(f"[id='{found[0]}'] .found").text_content() or ""
    assert "code found via the paper's Hugging Face page: github.com/paperwatch-demo/forgotten-code, alive" in line
    page.click("#f-reset")
    assert len(visible_rows(page)) == len([p for p in demo["papers"] if p["links"]])


def test_a_papers_anchor_scrolls_to_it_even_when_filters_hide_it(open_report: Any, demo_report: Path, demo: dict[str, Any]) -> None:
    middle = in_page_order(demo["papers"])[len(ids(demo["papers"])) // 2]  # far below, with enough page below it to reach the top
    page = open_report(demo_report / "index.html", "#" + quote("paper-" + middle["id"], safe="")).page
    row = page.locator(f"[id='paper-{middle['id']}']")
    assert row.evaluate("r => r.matches(':target')")
    expect(row.locator(".t")).to_be_in_viewport(ratio=1)
    assert abs(row.evaluate("r => r.getBoundingClientRect().top")) < 20  # at the top of the window

    changed = next(c for c in demo["changes"] if c["papers"])
    paper = next(p for p in demo["papers"] if p["title"] == changed["papers"][0])
    page.fill("#q", "no such paper anywhere")
    page.press("#q", "Enter")
    page.locator("#changes-h").scroll_into_view_if_needed()
    page.locator(".changes a[href^='#paper-']").first.click()  # the paper a change names, hidden by the search
    target = page.locator(f"[id='paper-{paper['id']}']")
    assert target.is_visible() and page.locator("#q").input_value() == ""
    expect(target.locator(".t")).to_be_in_viewport(ratio=1)


def test_a_folded_papers_anchor_opens_the_fold(open_report: Any, demo_report: Path, demo: dict[str, Any]) -> None:
    folded = [p for p in demo["papers"] if not p["links"]][-1]
    page = open_report(demo_report / "index.html", "#" + quote("paper-" + folded["id"], safe="")).page
    assert page.locator("#no-links").evaluate("d => d.open")
    expect(page.locator(f"[id='paper-{folded['id']}'] .t")).to_be_in_viewport(ratio=1)


def test_sorting_and_search_work_from_the_keyboard(open_report: Any, demo_report: Path, demo: dict[str, Any]) -> None:
    page = open_report(demo_report / "index.html").page
    page.locator("body").press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("vanished")
    page.keyboard.press("Enter")
    assert len(visible_rows(page)) == 1
    page.keyboard.press("Escape")
    assert visible_rows(page) == ids(demo["papers"])

    code_header = page.locator("#papers th", has_text="Code")
    code_header.locator("button").focus()
    page.keyboard.press("Enter")
    assert code_header.get_attribute("aria-sort") == "descending"  # best first
    codes = page.eval_on_selector_all("#papers tbody tr td:nth-child(2)", "cells => cells.map(c => c.textContent)")
    ranks = [CODE_ORDER.index(code) if code in CODE_ORDER else len(CODE_ORDER) for code in codes]
    assert ranks == sorted(ranks) and codes[0] == "stale"  # the demo's best code is years old, and available
    page.keyboard.press("Enter")
    assert code_header.get_attribute("aria-sort") == "ascending"
    assert page.locator("#papers tbody tr td:nth-child(2)").first.text_content() == "none"

    page.locator("#sort").focus()  # the "Sort by" menu, from the keyboard: needs attention first → most stars
    assert page.locator("#sort").input_value() == "1"  # it follows the column sorted by its header
    page.keyboard.press("Home")
    assert visible_rows(page) == ids(demo["papers"])  # needs attention first, as the page opened
    page.keyboard.press("ArrowDown")
    assert page.locator("#sort").input_value() == "stars"
    stars = page.eval_on_selector_all("#papers tbody tr", "rows => rows.map(r => r.dataset.stars)")
    known = [int(s) for s in stars if s]
    assert known == sorted(known, reverse=True) and len(known) >= 3 and stars[:len(known)] == [str(s) for s in known]
    page.keyboard.press("ArrowDown")
    commits = page.eval_on_selector_all("#papers tbody tr", "rows => rows.map(r => r.dataset.commit)")
    dated = [c for c in commits if c]
    assert dated == sorted(dated, reverse=True) and commits[:len(dated)] == dated  # latest first, undated last
    page.keyboard.press("ArrowDown")
    titles = page.eval_on_selector_all("#papers tbody tr .t", "links => links.map(a => a.textContent)")
    assert page.locator("#sort").input_value() == "title" and len(titles) == len(ids(demo["papers"]))
    assert page.evaluate("ts => { const c = new Intl.Collator(undefined, {sensitivity: 'base', numeric: true});"
                         " return ts.every((t, i) => i === 0 || c.compare(ts[i - 1], t) <= 0); }", titles)  # A–Z
    page.select_option("#sort", "attention")  # and by mouse, back to what needs attention first
    assert visible_rows(page) == ids(demo["papers"])


def test_on_a_phone_nothing_scrolls_sideways(open_report: Any, demo_report: Path) -> None:
    page = open_report(demo_report / "index.html", width=390).page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    label = page.locator("#papers tbody tr td:nth-child(2)").first.evaluate("c => getComputedStyle(c, '::before').content")
    assert label == '"code "'  # each verdict says which it is once the header row is gone
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-demo-phone.png"))


def test_without_javascript_every_paper_and_its_evidence_is_there(open_report: Any, demo_report: Path, demo: dict[str, Any]) -> None:
    page = open_report(demo_report / "index.html", javascript=False).page
    assert not page.locator("#controls").is_visible()  # no dead controls
    assert page.locator("#papers tbody tr:visible").count() == len(ids(demo["papers"]))
    page.locator("#no-links summary").click()  # the folded papers open without a script too
    assert page.locator("#no-links li:visible").count() == len([p for p in demo["papers"] if not p["links"]])
    evidence = page.locator("#papers details").first
    evidence.locator("summary").click()
    assert evidence.locator("dd").first.is_visible()


def test_printing_hides_the_controls(open_report: Any, demo_report: Path) -> None:
    page = open_report(demo_report / "index.html").page
    page.emulate_media(media="print")
    assert not page.locator("#controls").is_visible()
    assert page.locator("#papers tbody tr").first.is_visible()


def test_no_injected_script_runs(open_report: Any, tmp_path: Path) -> None:
    paths = write_report(hostile_report(tmp_path), tmp_path / "out")
    watched = open_report(paths.html)
    page = watched.page
    page.eval_on_selector_all("details", "all => all.forEach(d => { d.open = true; })")
    for row in page.locator("#papers tbody tr").all():
        row.hover()
    page.fill("#q", "<img")
    page.press("#q", "Enter")
    page.select_option("#f-state", "dead")
    page.click("#f-reset")
    page.locator("#papers th button").first.click()
    page.wait_for_timeout(200)

    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert watched.dialogs == []
    assert watched.errors == []  # not even a script the CSP had to refuse
    assert page.locator("script").count() == 1
    hrefs = page.eval_on_selector_all("[href]", "all => all.map(a => a.getAttribute('href'))")
    assert not [h for h in hrefs if not (h.startswith(("http://", "https://", "#")) or h in ("report.json", "links.csv", "summary.md"))]
    handlers = page.evaluate("Array.from(document.querySelectorAll('*')).flatMap(e => Array.from(e.attributes)"
                             ".filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))")
    assert handlers == []
    text = page.locator("#papers").text_content() or ""
    assert TITLE in text and MARKDOWN_TITLE in text  # the payloads are on the page, as text
