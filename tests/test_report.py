"""The report is built from the store and is safe to open: untrusted text is escaped, only http(s) links."""

from __future__ import annotations

from pathlib import Path

from checks.model import Evidence, Link, LinkKind, Observation, Paper, State
from reports.report import build_report, display, render_html, write_report
from reports.store import Store

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
                    details={"description": "<b>bold</b>", "latest_release": {"tag": "v1", "prerelease": False}}),
    ])
    store.finish_run(run, status="completed", offline=False, notes=[])
    return build_report(store, run)


def test_untrusted_text_is_escaped_and_only_http_links_are_links(tmp_path: Path) -> None:
    html = render_html(make_report(tmp_path))
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert 'onerror="alert(2)"' not in html and "<b>bold</b>" not in html
    assert 'href="javascript:' not in html
    assert 'href="https://example.org/x"' in html
    assert "default-src 'none'" in html  # no script may run, whatever slipped through


def test_report_files_are_written_and_details_read_as_text(tmp_path: Path) -> None:
    paths = write_report(make_report(tmp_path), tmp_path / "out")
    assert paths.html.exists() and paths.json.exists()
    assert "tag: v1, prerelease: no" in paths.html.read_text()
    assert display({"tag": "v1.0", "prerelease": False, "url": None}) == "tag: v1.0, prerelease: no"
    assert display(["pytorch", "llm"]) == "pytorch, llm" and display(None) == "—" and display([]) == "—"
