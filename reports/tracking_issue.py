"""One GitHub issue that lists the dead links: opened when the first dies, kept current, closed when all recover.

What lychee users build by hand around lychee-action, as one call per run. The issue is
found again by its label and a hidden marker in its body, so a person may edit its title
or comment on it. Its body is rebuilt from the run's verdicts each time, so the issue can
never drift from the report; a comment says what changed. Everything in it that came from
abstracts or APIs is escaped Markdown and cannot form links, images, HTML or mentions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from github import Auth, Github, GithubException

from reports.markdown import md_code, md_text, md_url
from reports.rescue import copy_href
from reports.vocabulary import ConfirmRule

MARKER = "<!-- paperwatch:tracking-issue -->"
MAX_ROWS = 200  # an issue body holds 65,536 characters


@dataclass(frozen=True)
class DeadLink:
    url: str
    reason: str
    dead_since: str | None
    papers: tuple[str, ...]
    archive: str = ""  # what the archives hold of it, in the report's words (reports.rescue.archive_sentence)
    copy_url: str | None = None  # its archived copy, a link in the issue when it is a plain http(s) URL


class IssueAction(StrEnum):
    """What a run did to the issue."""

    OPENED = "opened"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CLOSED = "closed"
    NONE = "none"  # nothing to track, no issue open
    SKIPPED = "skipped"  # no token
    FAILED = "failed"


@dataclass(frozen=True)
class IssueResult:
    """What the run did to the issue (an ``IssueAction``), and where it is or why it could not be kept."""

    action: IssueAction
    number: int | None = None
    url: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action.value, "number": self.number, "url": self.url, "error": self.error}


def issue_title(dead: Sequence[DeadLink]) -> str:
    return f"paperwatch: {len(dead)} dead link{'s' if len(dead) != 1 else ''}"


def issue_body(dead: Sequence[DeadLink], rule: ConfirmRule = ConfirmRule()) -> str:
    """The table of dead links (no run number or time in it, so an unchanged set leaves the issue alone)."""
    lines = [MARKER, "", f"These links are dead: {rule.sentence()}.",
             "paperwatch updates this issue as links die and recover, and closes it when none is left.", "",
             "| Link | Dead since | Why | Archived copy | Cited by |", "|---|---|---|---|---|"]
    for link in sorted(dead, key=lambda d: d.url)[:MAX_ROWS]:
        since = md_text((link.dead_since or "")[:10]) or "—"
        lines.append(f"| {md_code(link.url)} | {since} | {md_text(link.reason, 160)} | {_copy_cell(link)} | "
                     f"{'; '.join(md_text(title, 80) for title in link.papers[:3]) or '—'} |")
    if len(dead) > MAX_ROWS:
        lines.append(f"\n… and {len(dead) - MAX_ROWS} more (see the report).")
    return "\n".join(lines) + "\n"


def _copy_cell(link: DeadLink) -> str:
    """The archives' answer; the copy itself as a link when its URL may be one (``copy_href``), else as code."""
    words = md_text(link.archive, 120) or "—"
    if not link.copy_url:
        return words
    return f"{words}: {md_url(link.copy_url) if copy_href(link.copy_url) else md_code(link.copy_url)}"


def change_comment(run_id: int, newly_dead: Sequence[str], recovered: Sequence[str]) -> str | None:
    parts = [f"**{label}** ({len(urls)}): " + ", ".join(md_code(url, in_table=False) for url in urls)
             for label, urls in (("Newly dead", newly_dead), ("Recovered", recovered)) if urls]
    return f"Run {run_id}:\n\n" + "\n\n".join(parts) if parts else None


def sync_tracking_issue(repo_name: str, dead: Sequence[DeadLink], *, api_url: str, token: str | None, label: str,
                        run_id: int, newly_dead: Sequence[str] = (), recovered: Sequence[str] = (),
                        timeout: float = 15.0, rule: ConfirmRule = ConfirmRule()) -> IssueResult:
    """Bring the one tracking issue in line with the dead links of this run; never raises."""
    if not token:
        return IssueResult(IssueAction.SKIPPED, error="no GitHub token (GITHUB_TOKEN): an issue cannot be written anonymously")
    client = Github(base_url=api_url, auth=Auth.Token(token), lazy=True, timeout=int(max(1, timeout)),
                    seconds_between_requests=None, seconds_between_writes=None, retry=None)
    try:
        repo = client.get_repo(repo_name)
        current = next((issue for issue in repo.get_issues(state="open", labels=[label])
                        if MARKER in (issue.body or "")), None)
        comment = change_comment(run_id, newly_dead, recovered)
        if not dead:
            if current is None:
                return IssueResult(IssueAction.NONE)
            current.create_comment(f"Run {run_id}: every link recovered; closing.")
            current.edit(state="closed", state_reason="completed")
            return IssueResult(IssueAction.CLOSED, current.number, current.html_url)
        title, body = issue_title(dead), issue_body(dead, rule)
        if current is None:
            opened = repo.create_issue(title=title, body=body, labels=[label])
            return IssueResult(IssueAction.OPENED, opened.number, opened.html_url)
        if current.body == body:
            return IssueResult(IssueAction.UNCHANGED, current.number, current.html_url)
        current.edit(title=title, body=body)
        if comment:
            current.create_comment(comment)
        return IssueResult(IssueAction.UPDATED, current.number, current.html_url)
    except GithubException as exc:
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        return IssueResult(IssueAction.FAILED, error=f"GitHub answered {exc.status}" + (f": {message}" if message else ""))
    except Exception as exc:  # network trouble: the run goes on, the next run tries again
        return IssueResult(IssueAction.FAILED, error=f"{type(exc).__name__}: could not reach the GitHub API at {api_url}")
    finally:
        client.close()
