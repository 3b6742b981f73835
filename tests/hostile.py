"""A history whose every untrusted field is an attack: titles, ids, URLs, reasons, evidence, API metadata.

Each payload, if it ever ran, would set ``window.__pwned`` (naming where it came from) and call
``alert``. Shared by the report's unit tests and its browser test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from checks.facts import HubFacts, facts_from_dict
from checks.model import Evidence, Link, LinkKind, Observation, Paper, State
from reports.report import build_report
from reports.store import Store


def pwn(where: str) -> str:
    return f"window.__pwned='{where}';alert('{where}')"


TITLE = (f"<script>{pwn('title')}</script><img src=x onerror=\"{pwn('title-img')}\"> </script><script>{pwn('breakout')}</script>"
         f" </style><script>{pwn('style')}</script> <!-- A paper -->")
PAPER_ID = f"x\" onmouseover=\"{pwn('id')}\"><svg onload={pwn('id-svg')}>"
MARKDOWN_TITLE = '=HYPERLINK("https://e.x/c","c") [a](https://evil.x/m) ![i](https://e.x/i) <b>b</b> @octocat #1 www.evil.x a|b `t`'
SOURCE = f"<script>{pwn('source')}</script>.md"
NOTE = f"<img src=x onerror=\"{pwn('note')}\">"

JS_LINK = Link(url=f"javascript:{pwn('href')}//", normalized=f"javascript:{pwn('href')}//", kind=LinkKind.PROJECT)
QUOTE_URL = f"https://example.org/a\"><img src=x onerror={pwn('url')}>"
QUOTE_LINK = Link(url=QUOTE_URL, normalized=QUOTE_URL, kind=LinkKind.PROJECT, claim="code")
REPO_LINK = Link(url="https://github.com/evil/repo", normalized="https://github.com/evil/repo", kind=LinkKind.GITHUB_REPO, claim="code")
MODEL_LINK = Link(url="https://huggingface.co/evil/model", normalized="https://huggingface.co/evil/model", kind=LinkKind.HF_MODEL,
                  claim="model")
DATASET_LINK = Link(url="https://huggingface.co/datasets/evil/data", normalized="https://huggingface.co/datasets/evil/data",
                    kind=LinkKind.HF_DATASET, claim="data")

REPO_DETAILS: dict[str, Any] = {
    "full_name": f"evil/<script>{pwn('full-name')}</script>", "description": f"<svg/onload={pwn('description')}>", "stars": 5,
    "archived": True, "topics": [f"<script>{pwn('topic')}</script>"], "pushed_at": "2024-01-01T00:00:00Z", "activity": "archived",
    "latest_release": {"tag": f"<img src=x onerror={pwn('release')}>", "published_at": None, "prerelease": False,
                       "url": f"javascript:{pwn('release-url')}"},
}


def _observations(run: int) -> list[Observation]:
    hostile_evidence = Evidence(status_code=200, final_url=f"javascript:{pwn('final-url')}",
                                redirects=((301, f"javascript:{pwn('hop')}"),), error=f"<script>{pwn('error')}</script>")
    return [
        Observation(url=JS_LINK.normalized, state=State.SKIPPED, reason="not requested: unsupported scheme javascript:", checker="http"),
        Observation(url=QUOTE_LINK.normalized, state=State.ALIVE, reason=f"<img src=x onerror=\"{pwn('reason')}\">", checker="http",
                    evidence=hostile_evidence, facts=facts_from_dict("http", {"description": f"<b>{pwn('detail')}</b>"})),
        Observation(url=REPO_LINK.normalized, state=State.ALIVE if run == 1 else State.MOVED, checker="github",
                    reason=f"\"><script>{pwn('repo-reason')}</script>", facts=facts_from_dict("github", REPO_DETAILS),
                    suggested_url=None if run == 1 else f"javascript:{pwn('suggested')}"),
        Observation(url=MODEL_LINK.normalized, state=State.ALIVE if run == 1 else State.DEAD, checker="huggingface",
                    reason="model exists" if run == 1 else f"'><svg onload={pwn('model-reason')}>",
                    evidence=Evidence(status_code=200 if run == 1 else 404),
                    facts=HubFacts.of(id="evil/model", downloads=10, likes=1, gated=f"<i>{pwn('gated')}</i>",
                                      stage=f"<script>{pwn('stage')}</script>") if run == 1 else None),
        Observation(url=DATASET_LINK.normalized, state=State.ALIVE, reason="dataset exists", checker="huggingface",
                    evidence=Evidence(status_code=200), facts=HubFacts.of(id="evil/data", downloads=3, likes=0, gated=False)),
    ]


def hostile_report(tmp_path: Path) -> dict[str, Any]:
    """Two runs (so that there are changes to show) of two papers citing hostile links."""
    with Store.open(str(tmp_path / "hostile.sqlite")) as store:
        papers = [Paper(id=PAPER_ID, title=TITLE, links=(JS_LINK, QUOTE_LINK, REPO_LINK, MODEL_LINK)),
                  Paper(id="markdown", title=MARKDOWN_TITLE, links=(MODEL_LINK, DATASET_LINK))]
        run = 0
        for number in (1, 2):
            run = store.start_run([SOURCE])
            store.record_papers(run, papers)
            store.record_observations(run, _observations(number))
            store.finish_run(run, status="completed", offline=False, notes=[NOTE])
        return build_report(store, run).to_dict()  # the document, as report.json has it
