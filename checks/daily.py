"""The Hugging Face daily papers feed as an input: ``hf-daily:YYYY-MM-DD``.

Each day's papers come through huggingface_hub's ``list_daily_papers``; the paper's own
code and project links (``github_repo``, ``project_page``) are kept where the API gives
them, beside whatever URLs the summary names.
"""

from __future__ import annotations

import re
from datetime import date

from checks.errors import InputError
from checks.extract import PaperStream, papers_from_records

PREFIX = "hf-daily:"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_daily_source(source: str) -> bool:
    return source.startswith(PREFIX)


def daily_source(day: str) -> str:
    """``hf-daily:DAY`` after checking DAY is a real calendar date."""
    try:
        if not _DATE.match(day):
            raise ValueError
        date.fromisoformat(day)
    except ValueError:
        raise InputError(f"--hf-daily {day}", "expected a date as YYYY-MM-DD") from None
    return PREFIX + day


def daily_papers(source: str, endpoint: str, token: str | None = None, timeout: float = 30.0) -> PaperStream:
    """The papers of one day of the feed, as the rest of paperwatch reads any other input."""
    from huggingface_hub import HfApi  # here, not at the top: every command reads this module, few read the feed

    day = source.removeprefix(PREFIX)
    api = HfApi(endpoint=endpoint, token=token or False)
    try:
        items = list(api.list_daily_papers(date=day))
    except Exception as exc:  # huggingface_hub's HTTP stack raises its own transport and HTTP errors
        raise InputError(source, f"the daily papers feed could not be read from {endpoint} ({type(exc).__name__})") from None
    records = [{"id": item.id, "arxiv_id": item.id, "title": item.title or item.id, "summary": item.summary or "",
                "github_repo": item.github_repo, "project_page": item.project_page} for item in items]
    return papers_from_records(records, source=source)
