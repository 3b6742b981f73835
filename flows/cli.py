"""``paperwatch``: the command line. Validates input in one line, then hands over to the flows.

Prefect is imported only once the arguments are known to be good, so a typo costs
milliseconds and prints one clear line instead of a traceback.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

import click

from checks.errors import PaperwatchError
from checks.settings import CheckSettings, RemapError, RemapRule
from reports.store import StoreError, validate_location

EXIT_USAGE = 2


def fail(message: str) -> NoReturn:
    click.echo(f"paperwatch: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def check_sources(sources: tuple[str, ...]) -> None:
    """Catch the common input mistakes before any flow starts."""
    for source in sources:
        if source == "-":
            continue
        path = Path(source)
        if not path.exists():
            fail(f"input file {source}: not found")
        if path.is_dir():
            fail(f"input file {source}: is a directory, expected a file")
        try:
            with path.open("rb") as handle:
                head = handle.read(8192)
        except OSError as exc:
            fail(f"input file {source}: cannot be read ({exc.strerror or exc})")
        if not head.strip():
            fail(f"input file {source}: is empty")
        if b"\x00" in head:
            fail(f"input file {source}: looks binary (contains NUL bytes), expected text, Markdown or JSON")


def check_out_dir(out: str) -> None:
    path = Path(out)
    if path.exists() and not path.is_dir():
        fail(f"--out {out}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".paperwatch-write-test-"):
            pass
    except OSError as exc:
        fail(f"--out {out}: cannot write there ({exc.strerror or exc})")


def check_db(db: str) -> None:
    try:
        validate_location(db)
    except StoreError as exc:
        fail(str(exc))


def build_settings(github_api: str | None, hf_endpoint: str | None, remap: tuple[str, ...], allow_private: bool,
                   timeout: float | None, max_concurrency: int | None, per_host: int | None) -> CheckSettings:
    try:
        rules = tuple(RemapRule.parse(rule) for rule in remap)
    except RemapError as exc:
        fail(f"--remap: {exc}")
    return CheckSettings.from_environment(
        github_api_url=github_api.rstrip("/") if github_api else None,
        hf_endpoint=hf_endpoint.rstrip("/") if hf_endpoint else None,
        remap_rules=rules or None, allow_private=allow_private or None, timeout=timeout,
        max_concurrency=max_concurrency, per_host=per_host,
    )


def prepare_prefect() -> None:
    """Give Prefect's temporary server the time a loaded 2-core machine needs; no telemetry from a monitor."""
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def checking_options(func: Any) -> Any:
    options = [
        click.option("--github-api", metavar="URL", envvar="GITHUB_API_URL", show_envvar=True,
                     help="GitHub REST API base URL (GitHub Enterprise, or a simulated GitHub). Default: https://api.github.com."),
        click.option("--hf-endpoint", metavar="URL", envvar="HF_ENDPOINT", show_envvar=True,
                     help="Hugging Face Hub endpoint (a mirror, or a simulated Hub). Default: https://huggingface.co."),
        click.option("--remap", metavar="'REGEX REPLACEMENT'", multiple=True,
                     help="Rewrite request URLs before checking, like lychee's --remap ($1 groups). Repeatable."),
        click.option("--allow-private", is_flag=True,
                     help="Allow requests to private, loopback and link-local addresses (intranets, tests)."),
        click.option("--timeout", type=click.FloatRange(min=0.1), metavar="SECONDS", help="Per-request timeout (default 10)."),
        click.option("--max-concurrency", type=click.IntRange(min=1), metavar="N", help="Requests in flight overall (default 128)."),
        click.option("--per-host", type=click.IntRange(min=1), metavar="N", help="Requests in flight per host (default 10)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="paperwatch")
def main() -> None:
    """Watch the code, model and data links of research papers.

    paperwatch reads paper abstracts, finds every GitHub, Hugging Face and project URL,
    checks each one, keeps the history, and writes an HTML report of which papers still
    have working code and data. Tokens are read from GITHUB_TOKEN and HF_TOKEN.

    \b
    Examples:
      paperwatch run examples/hf-papers-2024-03-14.txt --out report/
      paperwatch demo --out demo-report/
    """


@main.command()
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option("--db", default="paperwatch.sqlite", show_default=True, metavar="PATH|URL",
              help="History database: a SQLite file path, or a SQLAlchemy URL (postgresql://...).")
@click.option("--out", default="paperwatch-report", show_default=True, metavar="DIR",
              help="Directory for index.html and report.json.")
@click.option("--input-format", type=click.Choice(["hf-papers", "markdown", "json", "jsonl"]),
              help="Force the input format instead of detecting it from the content.")
@checking_options
def run(sources: tuple[str, ...], db: str, out: str, input_format: str | None, github_api: str | None,
        hf_endpoint: str | None, remap: tuple[str, ...], allow_private: bool, timeout: float | None,
        max_concurrency: int | None, per_host: int | None) -> None:
    """Check every link in SOURCE files once, record it, and write the report.

    SOURCE is a Hugging Face papers page saved as text, a Markdown list of papers, or
    JSON/JSONL records with title and abstract. The run is a Prefect flow: with no
    PREFECT_API_URL set, Prefect starts a temporary local server for it.
    """
    check_sources(sources)
    check_out_dir(out)
    check_db(db)
    settings = build_settings(github_api, hf_endpoint, remap, allow_private, timeout, max_concurrency, per_host)
    prepare_prefect()
    from flows.monitor import monitor

    try:
        result = monitor(sources=list(sources), db=db, out=out, settings=settings.to_dict(), input_format=input_format)
    except (PaperwatchError, StoreError) as exc:
        fail(str(exc))
    print_outcome(result)


def print_outcome(result: dict[str, Any]) -> None:
    summary = result["summary"]
    states = ", ".join(f"{count} {state}" for state, count in summary["by_state"].items() if count)
    click.echo(f"run {result['run_id']}: {summary['papers']} papers, {summary['links']} links ({states or 'none'})")
    if result["offline"]:
        click.echo("the monitor could not reach the web: unchecked links are marked unknown, not dead")
    for change in result["changes"]:
        click.echo(f"  {change['change']}: {change['url']} ({change['reason']})")
    click.echo(f"report: {result['html']}")


@main.command()
@click.option("--out", default="paperwatch-demo", show_default=True, metavar="DIR",
              help="Directory for the demo's report and history database.")
def demo(out: str) -> None:
    """Run the monitor twice against a bundled simulated web, offline, and write the report.

    The simulated GitHub API, Hugging Face Hub and project pages run on 127.0.0.1; the
    second run shows history: links that died, recovered or moved in between.
    """
    check_out_dir(out)
    prepare_prefect()
    from flows.demo import run_demo

    try:
        results = run_demo(out)
    except (PaperwatchError, StoreError) as exc:
        fail(str(exc))
    for result in results:
        print_outcome(result)
