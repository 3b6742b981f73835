"""How big and how fast the HTML report is for 1,000 and 10,000 papers (issue 7's goal: a few seconds).

    .venv/bin/python bench/render_bench.py                          # 1,000 and 10,000 papers
    .venv/bin/python bench/render_bench.py --papers 2000 --no-browser
    .venv/bin/python bench/render_bench.py --store                  # also build_report from a SQLite history

Synthetic, seeded report documents shaped like ``build_report``'s (see bench/README.md for the
mix of links, kinds and states); each is rendered with ``render_html`` and written with
``write_report`` (JSON, CSV, Markdown and HTML). With chromium (``--chromium``, else
``PAPERWATCH_TEST_CHROMIUM``, else /usr/bin/chromium) the page is opened from file:// in headless
Chromium through Playwright, and the bench times the load, a state filter, a search and a sort
as the page's own script runs them (from the event to the next painted frame).
With ``--store``, a SQLite history of 3 runs with the same papers is recorded and
``build_report`` is timed as well. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checks.facts import facts_from_dict  # noqa: E402
from reports.headline import attention, facet_figures  # noqa: E402
from reports.report import HISTORY_RUNS, REPORT_SCHEMA_VERSION, STATE_ORDER, render_html, write_report  # noqa: E402

KINDS = [("github-repo", 50), ("project", 15), ("hf-model", 10), ("hf-dataset", 8), ("hf-space", 7), ("github-pages", 5), ("hf-paper", 5)]
STATES = [("alive", 80), ("moved", 4), ("dead", 6), ("blocked", 3), ("error", 4), ("skipped", 1), ("unknown", 2)]
LINKS_PER_PAPER = [(0, 10), (1, 35), (2, 35), (3, 20)]
WORDS = ("learning language model vision graph diffusion agent benchmark robust efficient sparse scaling retrieval "
         "reasoning multimodal transformer dataset evaluation alignment").split()


def _pick(rng: random.Random, table: list[tuple[Any, int]]) -> Any:
    return rng.choices([value for value, _ in table], weights=[weight for _, weight in table])[0]


def _details(rng: random.Random, kind: str, name: str, state: str) -> dict[str, Any]:
    if state not in ("alive", "moved"):
        return {}
    if kind == "github-repo":
        return {"full_name": name, "description": f"Official code for {name}", "stars": rng.randint(0, 20000),
                "forks": rng.randint(0, 2000), "open_issues": rng.randint(0, 300), "archived": rng.random() < 0.05,
                "disabled": False, "fork": False, "parent": None, "license": "MIT", "default_branch": "main",
                "pushed_at": "2025-01-07T15:40:00Z", "empty": False, "last_commit_sha": "%040x" % rng.getrandbits(160),
                "last_commit_at": "2025-01-07T15:40:00+00:00",
                "latest_release": {"tag": f"v{rng.randint(0, 3)}.{rng.randint(0, 9)}", "published_at": "2024-11-02T10:00:00Z",
                                   "prerelease": False, "url": f"https://github.com/{name}/releases/tag/v1.0"} if rng.random() < 0.6 else None,
                "placeholder": rng.random() < 0.04, "readme_promise": False, "readme_links_weights_or_data": True,
                "root_files": 9, "activity": rng.choice(["active", "quiet", "stale"]), "etag": 'W/"abc"'}
    if kind in ("hf-model", "hf-dataset", "hf-space"):
        details = {"id": name, "private": False, "gated": "auto" if rng.random() < 0.1 else False, "disabled": False,
                   "likes": rng.randint(0, 2000), "downloads": rng.randint(0, 10**6), "last_modified": "2024-08-01T20:00:00+00:00",
                   "file_count": rng.randint(1, 40), "total_size": rng.randint(10**3, 10**10)}
        if kind == "hf-model":
            details.update(library="transformers", pipeline_tag="text-generation", has_weights=rng.random() > 0.1)
        if kind == "hf-space":
            details.update(stage=rng.choice(["RUNNING", "RUNNING", "SLEEPING", "BUILD_ERROR"]), sdk="gradio")
        return details
    if kind == "github-pages":
        return {"source_repo": name}
    return {}


def synthetic_report(papers: int, seed: int = 7, runs: int = HISTORY_RUNS) -> dict[str, Any]:
    """A report document of ``papers`` papers, shaped like build_report's, with ``runs`` runs of history."""
    rng = random.Random(seed)
    start = datetime(2025, 3, 1, 6, tzinfo=timezone.utc)
    run_times = [(start + timedelta(days=i)).isoformat() for i in range(runs)]
    by_state = dict.fromkeys(STATE_ORDER, 0)
    entries = []
    for n in range(papers):
        title = " ".join(rng.choice(WORDS).capitalize() if i == 0 else rng.choice(WORDS) for i in range(rng.randint(5, 14)))
        links = []
        for k in range(_pick(rng, LINKS_PER_PAPER)):
            kind, state = _pick(rng, KINDS), _pick(rng, STATES)
            name = f"lab{n % 997}/project-{n}-{k}"
            url = {"github-repo": f"https://github.com/{name}", "project": f"https://project-{n}-{k}.example.org/",
                   "hf-model": f"https://huggingface.co/{name}", "hf-dataset": f"https://huggingface.co/datasets/{name}",
                   "hf-space": f"https://huggingface.co/spaces/{name}", "github-pages": f"https://lab{n % 997}.github.io/p{n}-{k}",
                   "hf-paper": f"https://huggingface.co/papers/24{k + 1:02d}.{n:05d}"}[kind]
            changed_at = 0 if rng.random() < 0.7 else rng.randint(1, runs - 1)  # 30% changed state once in the window
            earlier = _pick(rng, STATES)
            history = [{"run": i + 1, "state": earlier if i < changed_at else state} for i in range(runs)]
            up = sum(h["state"] in ("alive", "moved") for h in history)
            status = "healthy" if state in ("alive", "moved") else ("dead" if state == "dead" and rng.random() < 0.5 else "degraded")
            by_state[state] += 1
            links.append({
                "url": url, "normalized": url, "kind": kind, "claim": rng.choice(["code", "data", "model", "project", None]),
                "promise": False, "history": history,
                "verdict": {"status": status, "dead_since": run_times[-3] if status == "dead" else None,
                            "last_alive": run_times[-4], "uptime": {"7d": round(100 * up / runs, 1), "30d": round(100 * up / runs, 1),
                                                                    "90d": round(100 * up / runs, 1)}},
                "state": state, "reason": {"alive": "HTTP 200", "moved": f"moved permanently to {url}-new", "dead": "not found (HTTP 404)",
                                           "blocked": "HTTP 403", "error": "timed out after 10 s", "skipped": "not requested: private address",
                                           "unknown": "not checked: the API budget is exhausted"}[state],
                "checker": "github" if kind == "github-repo" else ("huggingface" if kind.startswith("hf-") else "http"),
                "evidence": {"status_code": {"alive": 200, "moved": 301, "dead": 404, "blocked": 403}.get(state), "final_url": url,
                             "redirects": [[301, url + "/"]] if state == "moved" else [], "error": "ReadTimeout" if state == "error" else None,
                             "elapsed_ms": rng.randint(20, 900), "attempts": 1},
                "suggested_url": url + "-new" if state == "moved" else None, "details": _details(rng, kind, name, state),
                "checked_at": run_times[-1],
            })
        code = rng.choice(["active", "quiet", "stale", "archived", "dead", "none linked"]) if links else "none linked"
        entries.append({"id": f"paper-{n}-{title.split()[0].lower()}", "title": title,
                        "verdict": {"code": code, "data": rng.choice(["available", "none linked", "none linked", "gated"]),
                                    "models": rng.choice(["available", "none linked", "none linked", "dead"]),
                                    "demo": rng.choice(["available", "none linked", "none linked", "failing"]),
                                    "explanation": f"code: repository exists, {code}"},
                        "links": links})
        entries[-1]["attention"] = attention(entries[-1])
    total = sum(by_state.values())
    return {
        "schema_version": REPORT_SCHEMA_VERSION, "generated_at": run_times[-1],
        "run": {"id": runs, "started_at": run_times[-1], "finished_at": run_times[-1], "status": "completed", "offline": False,
                "sources": ["papers.jsonl"], "notes": [], "flow_run_id": None},
        "summary": {"papers": papers, "papers_with_links": sum(1 for p in entries if p["links"]), "links": total, "by_state": by_state,
                    "facets": {facet: figures.to_dict() for facet, figures in facet_figures(entries).items()}},
        "changes": [{"url": link["url"], "change": "newly dead", "from": "degraded", "to": "dead", "reason": link["reason"],
                     "papers": [p["title"]]} for p in entries[:2000] for link in p["links"] if link["verdict"]["status"] == "dead"][:40],
        "runs": [{"id": i + 1, "started_at": run_times[i], "offline": False,
                  "counts": {s: round(by_state[s] * (0.9 + 0.1 * i / runs)) for s in STATE_ORDER}} for i in range(runs)],
        "papers": entries,
    }


def store_build_seconds(report: dict[str, Any], db: Path) -> float:
    """Record the synthetic papers and 3 runs of their links' states in SQLite; time build_report of the last."""
    from checks.model import Evidence, Link, LinkKind, Observation, Paper, State
    from reports.report import build_report
    from reports.store import Store

    with Store.open(str(db)) as store:
        papers = [Paper(id=p["id"], title=p["title"], links=tuple(Link(url=link["url"], normalized=link["normalized"], kind=LinkKind(link["kind"]))
                                                                  for link in p["links"])) for p in report["papers"]]
        links = {link["normalized"]: link for p in report["papers"] for link in p["links"]}
        run_id = 0
        for i in range(3):
            run_id = store.start_run(["papers.jsonl"])
            store.record_papers(run_id, papers)
            store.record_observations(run_id, [Observation(url=url, state=State(link["history"][-3 + i]["state"]), reason=link["reason"],
                                                           checker=link["checker"], evidence=Evidence(status_code=link["evidence"]["status_code"]),
                                                           facts=facts_from_dict(link["checker"], link["details"]))
                                               for url, link in links.items()])
            store.finish_run(run_id, status="completed", offline=False, notes=[])
        started = time.perf_counter()
        build_report(store, run_id)
        elapsed = time.perf_counter() - started
    return elapsed


MEASURE = """async ([selector, action, value]) => {
  const frame = () => new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 0)));
  await frame();
  const started = performance.now();
  const element = document.querySelector(selector);
  if (action === "click") { element.click(); }
  else { element.value = value; element.dispatchEvent(new Event("change", {bubbles: true})); }
  document.body.offsetHeight;
  await frame();
  return [performance.now() - started, document.getElementById("count").textContent];
}"""


def browser_figures(html: Path, chromium: str) -> dict[str, float]:
    """Load, filter, search and sort times in headless Chromium (ms), each to the next painted frame."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            started = time.perf_counter()
            page.goto(html.as_uri(), wait_until="load", timeout=120_000)
            page.evaluate("() => new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 0)))")
            figures = {"load": (time.perf_counter() - started) * 1000}
            for name, selector, action, value in (("filter", "#f-state", "set", "dead"), ("unfilter", "#f-state", "set", ""),
                                                  ("search", "#q", "set", "diffusion agent"), ("search again", "#q", "set", "diffusion"),
                                                  ("clear search", "#q", "set", ""),
                                                  ("sort", "#papers th[data-sort='1'] button", "click", "")):
                elapsed, status = page.evaluate(MEASURE, [selector, action, value])
                figures[name] = elapsed
                print(f"    {name}: {elapsed:.0f} ms ({status})", file=sys.stderr)
            if errors:
                raise RuntimeError(f"page errors: {errors}")
            return figures
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--chromium", default=os.environ.get("PAPERWATCH_TEST_CHROMIUM") or "/usr/bin/chromium")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--store", action="store_true", help="also time build_report from a 3-run SQLite history")
    parser.add_argument("--out", help="keep the reports here (default: a temporary directory)")
    args = parser.parse_args()
    use_browser = not args.no_browser and Path(args.chromium).exists()
    if not args.no_browser and not use_browser:
        print(f"no chromium at {args.chromium}: browser figures skipped", file=sys.stderr)

    rows = []
    with tempfile.TemporaryDirectory(prefix="paperwatch-render-bench-") as tmp:
        for n in args.papers:
            out = Path(args.out or tmp) / f"report-{n}"
            print(f"{n} papers: generating", file=sys.stderr)
            report = synthetic_report(n)
            links = sum(len(p["links"]) for p in report["papers"])
            render_html(report)  # warm: template compilation is once per process
            started = time.perf_counter()
            html = render_html(report)
            render_s = time.perf_counter() - started
            started = time.perf_counter()
            paths = write_report(report, out)
            write_s = time.perf_counter() - started
            row: dict[str, Any] = {"papers": n, "links": links, "render_html s": render_s, "write_report s": write_s,
                                   "index.html MB": len(html.encode()) / 1e6,
                                   "report.json MB": paths.json.stat().st_size / 1e6, "links.csv MB": paths.csv.stat().st_size / 1e6,
                                   "summary.md KB": paths.markdown.stat().st_size / 1e3}
            if args.store:
                print(f"{n} papers: recording a 3-run history", file=sys.stderr)
                row["build_report s"] = store_build_seconds(report, out / "history.sqlite")
            if use_browser:
                print(f"{n} papers: opening in chromium", file=sys.stderr)
                row.update({f"{name} ms": value for name, value in browser_figures(paths.html, args.chromium).items()})
            rows.append(row)

    columns = list(dict.fromkeys(key for row in rows for key in row))
    print(f"HTML report: synthetic papers ({', '.join(f'{n:,}' for n in args.papers)}), {HISTORY_RUNS} runs of history, seed 7")
    print("  ".join(f"{c:>{max(len(c), 7)}}" for c in columns))
    for row in rows:
        print("  ".join(f"{_fmt(row.get(c)):>{max(len(c), 7)}}" for c in columns))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 100 else f"{value:.2f}"
    return "–" if value is None else str(value)


if __name__ == "__main__":
    main()
