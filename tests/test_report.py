"""The report is built from the store and is safe to open: untrusted text is escaped, only http(s) links,
one script allowed by its hash; links.csv and summary.md say the same and cannot be turned into attacks."""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import re
import sqlite3
import stat
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote

from hostile import MARKDOWN_TITLE, MODEL_LINK, PAPER_ID, TITLE, hostile_report
from markdown_it import MarkdownIt

from checks.facts import facts_from_dict
from checks.model import Evidence, Link, LinkKind, Observation, Paper, State
from reports.markdown import md_text
from reports.dashboard import strip_segments
from reports.link_facts import display
from reports.report import build_report, render_html, write_report
from reports.store import Store
from reports.vocabulary import ConfirmRule

EVIL_TITLE = '<script>alert("title")</script> A paper'
EVIL_LINK = Link(url="javascript:alert(1)", normalized="javascript:alert(1)", kind=LinkKind.PROJECT)
GOOD_LINK = Link(url="https://example.org/x", normalized="https://example.org/x", kind=LinkKind.PROJECT)


def make_report(tmp_path: Path) -> dict:
    store = Store.open(str(tmp_path / "h.sqlite"))
    run = store.start_run(["papers.md"])
    store.record_papers(run, [Paper(id="evil", title=EVIL_TITLE, links=(EVIL_LINK, GOOD_LINK))])
    store.record_observations(run, [
        Observation(url=EVIL_LINK.normalized, state=State.SKIPPED, reason="not requested: unsupported scheme javascript:",
                    checker="http"),
        Observation(url=GOOD_LINK.normalized, state=State.ALIVE, reason='<img src=x onerror="alert(2)">', checker="http",
                    evidence=Evidence(status_code=200, final_url="https://example.org/x"),
                    facts=facts_from_dict("http", {"description": "<b>bold</b>", "latest_release": {"tag": "v1", "prerelease": False}})),
    ])
    store.finish_run(run, status="completed", offline=False, notes=[])
    return build_report(store, run).to_dict()  # the report.json document


class _Page(HTMLParser):
    """What a browser would act on: scripts, the CSP, link targets, event-handler attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.csp = ""
        self.hrefs: list[str] = []
        self.sources: list[str] = []
        self.handlers: list[str] = []
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.text = ""
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        self.ids += [attributes["id"] or ""] if "id" in attributes else []
        if tag == "script":
            self._in_script = attributes
            self.scripts.append((attributes, ""))
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = attributes.get("content") or ""
        if "href" in attributes:
            self.hrefs.append(attributes["href"] or "")
        self.sources += [value or "" for name, value in attrs if name in ("src", "srcset", "data", "action", "formaction")]

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._in_script is not None:
            attributes, text = self.scripts[-1]
            self.scripts[-1] = (attributes, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_untrusted_text_is_escaped_and_only_http_links_are_links(tmp_path: Path) -> None:
    html = render_html(make_report(tmp_path))
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert 'onerror="alert(2)"' not in html and "<b>bold</b>" not in html
    assert 'href="javascript:' not in html
    assert 'href="https://example.org/x"' in html


def test_hostile_fields_never_become_markup_links_or_handlers(tmp_path: Path) -> None:
    page = parse(render_html(hostile_report(tmp_path)))
    assert page.handlers == []  # no onerror / onload / onmouseover survived as an attribute
    assert not {"img", "iframe", "object", "embed", "base", "form", "link"} & set(page.tags)
    assert page.tags.count("svg") == 1  # the chart's
    assert len(page.scripts) == 1 and page.sources == []
    for href in page.hrefs:  # links: web pages, this page's anchors, the files written beside it
        assert re.match(r"https?://", href) or href.startswith("#") or href in ("report.json", "links.csv", "summary.md"), href
    assert "paper-" + PAPER_ID in page.ids and "#" + quote("paper-" + PAPER_ID, safe="") in page.hrefs  # its anchor still works
    assert TITLE in page.text and MARKDOWN_TITLE in page.text  # shown as text, not dropped


def test_the_only_script_is_inline_static_and_allowed_by_its_hash(tmp_path: Path) -> None:
    one = parse(render_html(make_report(tmp_path)))
    other = parse(render_html(hostile_report(tmp_path)))
    (attributes, script), = one.scripts
    assert attributes == {} and "innerHTML" not in script and "eval(" not in script
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    directives = dict(part.strip().split(" ", 1) for part in one.csp.split(";") if part.strip())
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == f"'sha256-{digest}'"  # exactly this script: no 'unsafe-inline', nothing remote
    assert other.scripts[0][1] == script and other.csp == one.csp  # no report data ever reaches the script


def test_report_files_are_written_readable_and_details_read_as_text(tmp_path: Path) -> None:
    paths = write_report(make_report(tmp_path), tmp_path / "out")
    for path in (paths.html, paths.json, paths.csv, paths.markdown):
        assert path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044  # a web server may serve them
    assert "tag: v1, prerelease: no" in paths.html.read_text()
    assert display({"tag": "v1.0", "prerelease": False, "url": None}) == "tag: v1.0, prerelease: no"
    assert display(["pytorch", "llm"]) == "pytorch, llm" and display(None) == "—" and display([]) == "—"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["index.html", "links.csv", "report.json", "suggestions.csv", "summary.md"]


def test_models_and_datasets_are_judged_apart(tmp_path: Path) -> None:
    report = hostile_report(tmp_path)
    paper = next(p for p in report["papers"] if p["id"] == "markdown")  # a dead model and an available dataset
    assert (paper["verdict"]["data"], paper["verdict"]["models"]) == ("available", "dead")
    facets = report["summary"]["facets"]
    assert facets["data"] == {"linked": 1, "available": 1, "split": {"available": 1}}
    assert facets["models"]["linked"] == 2 and facets["models"]["available"] == 0
    html = render_html(report)
    row = html[html.index('id="paper-markdown"'):]
    row = row[:row.index("</tr>")]
    chips = re.findall(r'<td role="cell" class="f">(.*?)</td>', row)
    assert [re.sub(r"<[^>]+>", "", chip) for chip in chips] == ["none", "available", "dead", "none"]  # code, data, models, demo


def test_the_history_strip_has_one_cell_per_run() -> None:
    history = [{"run": 1, "state": "alive"}, {"run": 2, "state": "alive"}, {"run": 3, "state": "dead"}, {"run": 4, "state": None}]
    assert strip_segments(history) == [("alive", 2, "runs 1–2: alive"), ("dead", 1, "run 3: dead"), ("none", 1, "run 4: not checked")]


def test_links_csv_has_every_paper_and_link_and_defuses_formulas(tmp_path: Path) -> None:
    report = hostile_report(tmp_path)
    report["papers"].append({"id": "bare", "title": "-1 links", "verdict": {"code": "none linked"}, "links": []})
    paths = write_report(report, tmp_path / "out")
    rows = list(csv.DictReader(io.StringIO(paths.csv.read_text(), newline="")))
    assert [(row["paper_title"], row["url"]) for row in rows if row["paper_id"] == "bare"] == [("'-1 links", "")]
    assert [(row["paper_id"], row["normalized"]) for row in rows if row["paper_id"] == "markdown"] == [
        ("markdown", MODEL_LINK.normalized), ("markdown", "https://huggingface.co/datasets/evil/data")]
    assert len([row for row in rows if row["paper_id"] == PAPER_ID]) == 4
    title = next(row["paper_title"] for row in rows if row["paper_id"] == "markdown")
    assert title == "'" + MARKDOWN_TITLE  # a spreadsheet shows it as text instead of running =HYPERLINK
    model = next(row for row in rows if row["normalized"] == MODEL_LINK.normalized)
    assert (model["state"], model["status"], model["http_status"], model["models"]) == ("dead", "degraded", "404", "dead")


def test_summary_markdown_cannot_link_embed_or_mention(tmp_path: Path) -> None:
    paths = write_report(hostile_report(tmp_path), tmp_path / "out")
    text = paths.markdown.read_text()
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<a " not in html and "<img" not in html and "<script" not in html and "<svg" not in html and "<b>" not in html
    for autolinked in ("@octocat", "#1", "www.evil", "https://evil"):  # what GitHub would turn into a link or a ping
        assert autolinked not in text
    assert "\\[a\\](https:" in text and "\\<b\\>b\\</b\\>" in text  # shown literally, not dropped
    dead = text[text.index("### Dead links (1)"):]
    assert len([line for line in dead.splitlines() if line.startswith("| `")]) == 1
    assert html.count("<tr>") == 1 + 3 + 1 + 2 + 1 + 1  # shares, changes and dead-link tables: pipes broke no row
    assert md_text("a\nb\r\n# c") == "a b # c"


def test_a_ten_thousand_character_title_is_cut_in_the_summary(tmp_path: Path) -> None:
    report = hostile_report(tmp_path)
    for paper in report["papers"]:
        paper["title"] = "x" * 10_000
    for change in report["changes"]:
        change["papers"] = ["x" * 10_000] * 50
    paths = write_report(report, tmp_path / "out")
    assert len(paths.markdown.read_text()) < 5_000  # fits a GitHub issue body whatever the abstracts say


def test_a_paper_page_link_shows_the_hub_artifacts_citing_the_paper(tmp_path: Path) -> None:
    paper_link = Link(url="https://huggingface.co/papers/2401.00001", normalized="https://huggingface.co/papers/2401.00001",
                      kind=LinkKind.HF_PAPER, name="2401.00001")
    hostile = ['evil/"><script>alert(1)</script>', "javascript:alert(1)"]
    models = ["lab/m0", "lab/m1", hostile[0], "lab/m3", "lab/m4", "lab/m5"]
    store = Store.open(str(tmp_path / "h.sqlite"))
    run = store.start_run(["papers.md"])
    store.record_papers(run, [Paper(id="cited", title="A cited paper", links=(paper_link,))])
    store.record_observations(run, [Observation(
        url=paper_link.normalized, state=State.ALIVE, reason="paper exists", checker="huggingface",
        evidence=Evidence(status_code=200),
        facts=facts_from_dict("huggingface", {"title": "A cited paper", "discovered": {"models": models, "datasets": ["lab/data"], "spaces": [hostile[1]]},
                 "discovered_total": {"models": 28, "datasets": 1, "spaces": 1},
                 "discovery_incomplete": "listing models tagged arxiv:2401.00001: HTTP 429 after 1 page(s)"}))])
    store.finish_run(run, status="completed", offline=False, notes=[])
    html = render_html(build_report(store, run))
    page = parse(html)
    assert "on the Hub: 28 models (lab/m0, lab/m1, lab/m3, lab/m4, +24), 1 dataset (lab/data), 1 space cite this paper" in page.text
    cited = [href for href in page.hrefs if href.startswith("https://huggingface.co/") and "papers/" not in href]
    assert cited == ["https://huggingface.co/lab/m0", "https://huggingface.co/lab/m1", "https://huggingface.co/lab/m3",
                     "https://huggingface.co/lab/m4", "https://huggingface.co/datasets/lab/data"]
    assert "<script>alert(1)" not in html and not any("javascript:" in href for href in page.hrefs)
    assert "discovery incomplete" in page.text and "lab/m5" not in page.text  # the lists are not dumped as evidence


DEMO = Path(__file__).parent / "data" / "demo-report"


def test_the_demo_history_gives_the_report_json_and_csv_it_gave_before_the_typed_report(tmp_path: Path) -> None:
    """``./dev demo``'s history (its two runs, as a SQL dump) and the report.json and links.csv the
    untyped report wrote for its second run: the typed report writes the same bytes, plus
    ``run.confirm_rule`` and each link's ``archive`` and ``save_request`` (null: the demo asked no archive),
    each paper's ``suggestions`` ([]: that history found no code elsewhere)
    and links.csv's completeness and archive columns (empty) (generated_at set aside: it is the time of writing)."""
    db = tmp_path / "demo.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript(gzip.decompress((DEMO / "history.sql.gz").read_bytes()).decode("utf-8"))
    conn.close()
    store = Store.open(str(db))
    try:
        paths = write_report(build_report(store, 2), tmp_path / "out")
    finally:
        store.close()
    document = json.loads(paths.json.read_text(encoding="utf-8"))
    assert document["run"].pop("confirm_rule") == {"runs": 2, "hours": 20.0, "sentence": ConfirmRule().sentence()}
    for link in (link for paper in document["papers"] for link in paper["links"]):
        assert (link.pop("archive"), link.pop("save_request")) == (None, None)
    assert all(paper.pop("suggestions") == [] for paper in document["papers"])  # the demo's history found no code elsewhere
    document["generated_at"] = "FIXED"
    before = gzip.decompress((DEMO / "report-run2.json.gz").read_bytes()).decode("utf-8")
    assert json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n" == before
    archive_columns = ["archive_outcome", "archive_service", "archive_url", "archive_captured_at", "save_request_status"]
    completeness_columns = ["completeness_score", "completeness_missing", "completeness_reasons"]  # that history's facts predate the scorer
    rows = list(csv.reader(io.StringIO(paths.csv.read_text(encoding="utf-8"), newline="")))
    assert rows[0][-8:] == completeness_columns + archive_columns and all(row[-8:] == [""] * 8 for row in rows[1:])
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(row[:-8] for row in rows)
    assert out.getvalue().encode("utf-8") == gzip.decompress((DEMO / "links-run2.csv.gz").read_bytes())


def test_a_large_dashboard_is_cut_into_pages_that_hold_every_paper_once(tmp_path: Path) -> None:
    """Past ``page_size`` papers the dashboard is pages a browser can open: index.html first (those
    that need attention), each paper on exactly one page in the one-page order, every page linking
    the others, a change's "in <paper>" link leading to the page that holds the paper; a later,
    smaller report leaves no stale page behind."""
    db = tmp_path / "demo.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript(gzip.decompress((DEMO / "history.sql.gz").read_bytes()).decode("utf-8"))
    conn.close()
    with Store.open(str(db)) as store:
        report = build_report(store, 2)
    out = tmp_path / "out"
    paths = write_report(report, out, page_size=40)

    anchor = re.compile(r'<(?:tr|li)[^>]* id="(paper-[^"]+)"')
    files = [paths.html, *paths.pages]
    assert [p.name for p in files] == ["index.html", "papers-2.html", "papers-3.html"]
    pages = {p.name: p.read_text(encoding="utf-8") for p in files}
    on_page = {name: anchor.findall(html) for name, html in pages.items()}
    assert [len(ids) for ids in on_page.values()] == [40, 40, 37]
    assert [i for ids in on_page.values() for i in ids] == anchor.findall(render_html(report))  # the one-page order
    for name, html in pages.items():
        assert all(f'href="{other}"' in html for other in pages if other != name)  # every page links the others
        assert "Page " in html and "links.csv" in html
    where = {i: name for name, ids in on_page.items() for i in ids}
    for name, html in pages.items():
        for target, fragment in re.findall(r'href="([^"#]*)#(paper-[^"]+)"', html):
            holder = where[unquote(fragment)]
            assert (target or name) == holder, (name, target, fragment)  # the link leads to the paper's page

    write_report(report, out)  # one page again: the further pages go
    assert sorted(p.name for p in out.glob("*.html")) == ["index.html"]
    assert "Pages of papers" not in paths.html.read_text(encoding="utf-8")
