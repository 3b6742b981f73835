"""``paperwatch``: the command line. Validates input in one line, then hands over to the flows.

Prefect is imported only once the arguments are known to be good, so a typo costs
milliseconds and prints one clear line instead of a traceback.

Size: one click app for every command (run, demo, extract, check, automations); each command only
validates its options and hands over to a flows module, so splitting it would scatter the help.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any, NoReturn

import click

from checks.daily import daily_papers, daily_source, is_daily_source
from checks.errors import ConfigError, InputError, PaperwatchError
from checks.extract import FORMATS
from checks.model import State
from checks.settings import CheckSettings
from flows.notify import NOTIFY_ENV, hand_over
from flows.settings import PaperwatchSettings
from reports.retention import DEFAULT_KEEP_DAYS

EXIT_USAGE = 2


def _one_line_warning(message: Warning | str, category: type[Warning], *_: object, **__: object) -> str:
    return f"paperwatch: warning: {message}\n"


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"paperwatch: error: {message}", err=True)
    sys.exit(code)


def check_sources(sources: tuple[str, ...]) -> None:
    """Catch the common input mistakes before any flow starts."""
    for source in sources:
        if source == "-" or is_daily_source(source):
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
    from reports.store import StoreError, validate_location  # the store (SQLAlchemy) only for commands that keep history

    try:
        validate_location(db)
    except StoreError as exc:
        fail(str(exc))


def load_settings(config: str | None, error_code: int = EXIT_USAGE, **options: Any) -> PaperwatchSettings:
    """The defaults, then the config file, then the environment, then these command-line ``options``
    (``flows.settings``); a mistake is one line naming the file, variable or option and the key.

    Errors never quote a notify URL: it holds the channel's secret.
    """
    try:
        return PaperwatchSettings.load(config, options)
    except ConfigError as exc:
        fail(str(exc), error_code)


def alert_options(func: Any) -> Any:
    """Where a digest of each run's link changes goes, and the tracking issue."""
    return _apply(func, [
        click.option("--notify", metavar="URL", multiple=True,
                     help="Send each run's digest of newly dead, recovered, moved, archived links here: an Apprise URL "
                          "(slack://..., mailto://..., json://...) or prefect-block:TYPE/NAME. Repeatable; adds to "
                          f"notify in paperwatch.toml and ${NOTIFY_ENV}."),
        click.option("--tracking-issue", metavar="OWNER/REPO",
                     help="Keep one GitHub issue in OWNER/REPO listing the dead links (needs GITHUB_TOKEN)."),
        click.option("--remind-every", type=click.IntRange(min=0), metavar="N",
                     help="Remind of links still dead every N runs (default 0: never)."),
    ])


def prepare_prefect() -> None:
    """Give Prefect's temporary server the time a loaded 2-core machine needs; no telemetry from a monitor."""
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def _apply(func: Any, options: list[Any]) -> Any:
    for option in reversed(options):
        func = option(func)
    return func


def api_options(func: Any) -> Any:
    """Where the GitHub and Hugging Face APIs live (GitHub Enterprise, a Hub mirror, a simulation)."""
    return _apply(func, [
        click.option("--github-api", metavar="URL", envvar="GITHUB_API_URL", show_envvar=True,
                     help="GitHub REST API base URL. Default: https://api.github.com."),
        click.option("--hf-endpoint", metavar="URL", envvar="HF_ENDPOINT", show_envvar=True,
                     help="Hugging Face Hub endpoint. Default: https://huggingface.co."),
    ])


def checking_options(func: Any) -> Any:
    """How pages are requested: config file, remap rules, limits."""
    return _apply(func, [
        click.option("--config", metavar="FILE", type=click.Path(dir_okay=False),
                     help="Settings file (default: ./paperwatch.toml, or [tool.paperwatch] in ./pyproject.toml)."),
        click.option("--remap", metavar="'REGEX REPLACEMENT'", multiple=True,
                     help="Rewrite request URLs before checking, like lychee's --remap ($1 groups). Repeatable."),
        click.option("--allow-private", is_flag=True,
                     help="Allow requests to private, loopback and link-local addresses (intranets, tests)."),
        click.option("--timeout", type=click.FloatRange(min=0.1), metavar="SECONDS", help="Per-request timeout (default 10)."),
        click.option("--max-concurrency", type=click.IntRange(min=1), metavar="N", help="Requests in flight overall (default 128)."),
        click.option("--per-host", type=click.IntRange(min=1), metavar="N", help="Requests in flight per host (default 10)."),
    ])


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
      paperwatch extract examples/awesome-llm.md --format table
      paperwatch check https://example.org/ --input more-urls.txt
      paperwatch automations apply --block slack-webhook/lab-alerts
    """
    # input warnings (bad bytes, odd structure) read as one line, for this command only
    host_format, warnings.formatwarning = warnings.formatwarning, _one_line_warning
    click.get_current_context().call_on_close(lambda: setattr(warnings, "formatwarning", host_format))


def with_daily(sources: tuple[str, ...], days: tuple[str, ...], error_code: int = EXIT_USAGE) -> tuple[str, ...]:
    """File sources plus one ``hf-daily:DAY`` source per --hf-daily; at least one is needed."""
    try:
        combined = sources + tuple(daily_source(day) for day in days)
    except InputError as exc:
        fail(str(exc), error_code)
    if not combined:
        fail("no input: give SOURCE files or --hf-daily YYYY-MM-DD", error_code)
    return combined


INPUT_FORMAT_HELP = ("Read every SOURCE file this way instead of judging from its content: hf-papers (title and "
                     "abstract blocks), markdown (list items and table rows), json, jsonl, lines (one paper or URL "
                     "a line), text (the whole file is one paper).")
HF_DAILY_HELP = "Also read the Hugging Face daily papers of that day (YYYY-MM-DD) through the Hub API. Repeatable."


@main.command()
@click.argument("sources", nargs=-1, metavar="SOURCE...")
@click.option("--hf-daily", "days", multiple=True, metavar="YYYY-MM-DD", help=HF_DAILY_HELP)
@click.option("--db", default="paperwatch.sqlite", show_default=True, metavar="PATH|URL",
              help="History database: a SQLite file path, or a SQLAlchemy URL (postgresql://...).")
@click.option("--out", default="paperwatch-report", show_default=True, metavar="DIR",
              help="Directory for index.html and report.json.")
@click.option("--input-format", type=click.Choice(FORMATS), help=INPUT_FORMAT_HELP)
@click.option("--github-token-secret", metavar="BLOCK",
              help="Name of a Prefect Secret block holding the GitHub token (used when GITHUB_TOKEN is not set).")
@click.option("--swh-token-secret", metavar="BLOCK",
              help="Name of a Prefect Secret block holding a Software Heritage token (used when SWH_TOKEN is not set).")
@click.option("--keep-days", type=click.IntRange(min=1), default=DEFAULT_KEEP_DAYS, show_default=True, metavar="N",
              help="Keep each observation N days, then only its link's daily summary (counts by state).")
@click.option("--accept-suggestions", is_flag=True,
              help="Accept every code link this run finds elsewhere (the paper's Hugging Face page, a Hub card, its "
                   "project page) as its paper's own link, from this run on. Without it, suggestions are shown "
                   "apart and never change a paper's verdict; [discovery] accept in the config accepts one by one.")
@api_options
@checking_options
@alert_options
def run(sources: tuple[str, ...], days: tuple[str, ...], db: str, out: str, input_format: str | None, github_token_secret: str | None,
        swh_token_secret: str | None,
        keep_days: int, github_api: str | None,
        hf_endpoint: str | None, config: str | None, remap: tuple[str, ...], allow_private: bool,
        timeout: float | None, max_concurrency: int | None, per_host: int | None, notify: tuple[str, ...],
        tracking_issue: str | None, remind_every: int | None, accept_suggestions: bool = False) -> None:
    """Check every link in SOURCE files once, record it, and write the report.

    SOURCE is a Hugging Face papers page saved as text, a Markdown list of papers,
    JSON/JSONL records with title and abstract, a URL list or any text; the log says how each
    was read. The run is a Prefect flow: with no
    PREFECT_API_URL set, Prefect starts a temporary local server for it.
    """
    sources = with_daily(sources, days)
    check_sources(sources)
    check_out_dir(out)
    check_db(db)
    settings = load_settings(config, github_api=github_api, hf_endpoint=hf_endpoint, remap=remap, allow_private=allow_private,
                             timeout=timeout, max_concurrency=max_concurrency, per_host=per_host, notify=notify,
                             tracking_issue=tracking_issue, remind_every=remind_every)
    hand_over(settings.alerts.notify)
    prepare_prefect()
    from flows.monitor import monitor
    from reports.store import StoreError, without_password

    try:
        result = monitor(sources=list(sources), db=without_password(db), out=out, settings=settings.checks.to_dict(),
                         input_format=input_format, github_token_secret=github_token_secret, keep_days=keep_days,
                         alerts=settings.alerts.public_dict(), confirm_runs=settings.verdicts.confirm_runs,
                         confirm_hours=settings.verdicts.confirm_hours, archive=settings.archive.to_dict(), swh_token_secret=swh_token_secret,
                         discovery=settings.discovery.to_dict(), accept_suggestions=accept_suggestions)
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
    alerts = result.get("alerts")
    if alerts:
        failed = [d["channel"] for d in alerts.get("deliveries", []) if not d["ok"]]
        click.echo(f"alerts: {alerts['outcome']}" + (f" ({alerts['title']})" if alerts.get("title") else "")
                   + (f"; not delivered to {', '.join(failed)}" if failed else ""))
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
    from reports.store import StoreError

    try:
        results = run_demo(out)
    except (PaperwatchError, StoreError) as exc:
        fail(str(exc))
    for result in results:
        print_outcome(result)


@main.command()
@click.argument("sources", nargs=-1, metavar="SOURCE...")
@click.option("--hf-daily", "days", multiple=True, metavar="YYYY-MM-DD", help=HF_DAILY_HELP)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "json", "table"]), default="jsonl", show_default=True,
              help="jsonl: one paper per line; json: one array; table: for people.")
@click.option("--input-format", type=click.Choice(FORMATS), help=INPUT_FORMAT_HELP)
@click.option("--hf-endpoint", metavar="URL", envvar="HF_ENDPOINT", show_envvar=True,
              help="Hugging Face Hub endpoint for --hf-daily. Default: https://huggingface.co.")
def extract(sources: tuple[str, ...], days: tuple[str, ...], fmt: str, input_format: str | None,
            hf_endpoint: str | None) -> None:
    """Print the papers and links found in SOURCE files ("-" reads stdin), without checking anything."""
    from checks.extract import read_papers, write_papers

    sources = with_daily(sources, days)
    check_sources(sources)
    settings = CheckSettings.from_environment(hf_endpoint=hf_endpoint.rstrip("/") if hf_endpoint else None)
    try:
        for source in sources:
            found = (daily_papers(source, settings.hf_endpoint, settings.hf_token(), settings.timeout)
                     if is_daily_source(source) else read_papers(source, input_format=input_format))
            write_papers(found, sys.stdout, fmt)
            click.echo(found.reading.summary(), err=True)  # how the input was read; stdout stays data
    except InputError as exc:
        fail(str(exc))


EXIT_DEAD = 2
EXIT_OWN_ERROR = 1


@main.command()
@click.argument("urls", nargs=-1, metavar="[URL]...")
@click.option("--input", "input_file", metavar="FILE|-", help="Read more URLs from FILE (one per line; - for stdin).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@checking_options
def check(urls: tuple[str, ...], input_file: str | None, fmt: str, config: str | None, remap: tuple[str, ...],
          allow_private: bool, timeout: float | None, max_concurrency: int | None, per_host: int | None) -> None:
    """Check web page URLs right now, like lychee: no flow, no history.

    Exit status: 0 when no URL is dead, 2 when some are, 1 when paperwatch itself failed
    (bad arguments, unreadable input).
    """
    from checks.http import check_pages
    from flows.progress import progress

    all_urls = list(urls) + read_url_list(input_file)
    if not all_urls:
        fail("no URL given (pass URLs, or --input FILE)", EXIT_OWN_ERROR)
    settings = load_settings(config, EXIT_OWN_ERROR, remap=remap, allow_private=allow_private, timeout=timeout,
                             max_concurrency=max_concurrency, per_host=per_host).checks
    with progress("checking", len(set(all_urls)), logging.getLogger("paperwatch")) as on_done:
        result = check_pages(all_urls, settings, on_done)
    if fmt == "json":
        click.echo(json.dumps({
            "offline": result.offline, "notes": list(result.notes),
            "summary": {state.value: sum(o.state is state for o in result.observations) for state in State},
            "results": [o.to_dict() for o in result.observations],
        }, indent=2))
    else:
        for note in result.notes:
            click.echo(f"note: {note}", err=True)
        for o in result.observations:
            status = str(o.evidence.status_code) if o.evidence.status_code is not None else "-"
            click.echo(f"{o.state.value:<8} {status:>4}  {o.url}  {o.reason}")
    if any(o.state is State.DEAD for o in result.observations):
        sys.exit(EXIT_DEAD)


def read_url_list(input_file: str | None) -> list[str]:
    if not input_file:
        return []
    try:
        if input_file == "-":
            text = sys.stdin.read()
        else:
            text = Path(input_file).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        fail(f"--input {input_file}: cannot be read ({exc.strerror or exc})", EXIT_OWN_ERROR)
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@main.group()
def automations() -> None:
    """Prefect automations that watch the deployed monitor (needs PREFECT_API_URL).

    \b
    Two automations, found and kept by name (applying twice leaves two):
      paperwatch: monitor missed its run   on: a message when no run of the deployment
                                           completed in --missed-after-hours (26)
      paperwatch: links died               off unless --links: one message per run in which
                                           links newly died (the run's own --notify digest
                                           already says so; --links for both)
    Both send through a Prefect notification block (Slack, Teams, email, custom webhook...).

    \b
    Example:
      paperwatch automations apply --block slack-webhook/lab-alerts
    """


def _automations_server() -> str:
    """Automations must go to the lasting server the workers use, never a temporary one: its API URL."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        fail("PREFECT_API_URL is not set: point it at the Prefect server the deployments are on "
             "(prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api)")
    return str(url)


def _unreachable(url: str, exc: Exception) -> NoReturn:
    import httpx

    if isinstance(exc, httpx.HTTPStatusError):
        fail(f"the Prefect server at {url} answered HTTP {exc.response.status_code} to {exc.request.url.path}")
    fail(f"cannot reach the Prefect server at {url} (PREFECT_API_URL): {type(exc).__name__}: {str(exc) or 'no answer'}")


@automations.command("apply")
@click.option("--block", required=True, metavar="TYPE/NAME",
              help="The Prefect notification block that sends the messages, e.g. slack-webhook/lab-alerts.")
@click.option("--links/--no-links", default=False, show_default=True,
              help="Also enable 'paperwatch: links died' (one message per run in which links died). Off: it is "
                   "created disabled, since each run's --notify digest already reports link changes.")
@click.option("--missed-after-hours", type=click.FloatRange(min=0, min_open=True), default=26.0, show_default=True,
              metavar="HOURS", help="Tell when no run of --deployment completed for this long.")
@click.option("--deployment", default="monitor/paperwatch-daily", show_default=True, metavar="FLOW/NAME",
              help="The deployment whose completed runs are expected.")
@click.option("--dry-run", is_flag=True, help="Print what would be applied (as YAML for `prefect automation create "
                                              "--from-file`) and change nothing.")
def automations_apply(block: str, links: bool, missed_after_hours: float, deployment: str, dry_run: bool) -> None:
    """Create or update the paperwatch automations on the Prefect server."""
    url = _automations_server()
    import httpx

    from flows.automations import AutomationSetupError, apply, automations_yaml

    try:
        planned = apply(block, links=links, missed_after_hours=missed_after_hours, deployment=deployment, dry_run=dry_run)
    except AutomationSetupError as exc:
        fail(str(exc))
    except (httpx.HTTPError, OSError) as exc:
        _unreachable(url, exc)
    if dry_run:
        click.echo(automations_yaml([item.automation for item in planned]), nl=False)
    verb = {"create": "would create", "update": "would update", "unchanged": "unchanged"} if dry_run else \
        {"create": "created", "update": "updated", "unchanged": "unchanged"}
    for item in planned:
        state = "on" if item.automation.enabled else "off"
        click.echo(f"{verb[item.action]}: {item.automation.name} ({state})", err=dry_run)


@automations.command("show")
def automations_show() -> None:
    """Print the paperwatch automations the Prefect server has, as YAML."""
    url = _automations_server()
    import httpx

    from flows.automations import automations_yaml, on_server

    try:
        found = on_server()
    except (httpx.HTTPError, OSError) as exc:
        _unreachable(url, exc)
    if not found:
        click.echo("no paperwatch automations on this server (paperwatch automations apply --block TYPE/NAME)", err=True)
        return
    click.echo(automations_yaml(found), nl=False)
