"""The Hugging Face Hub as code discovery asks it: a paper answer, one page of a tag listing, a card.

Requests go through huggingface_hub's own session, headers and errors (``hf_raise_for_status``),
to the same URLs its ``paper_info``, ``list_models(filter=...)`` and ``hf_hub_download`` use, with
our timeout and no retries, for the reason ``checks.huggingface`` gives: its calls for papers and
listings take no timeout, and its retries wait out whole rate-limit windows. A card is read from the
URL ``hf_hub_download`` reads (``resolve/main/README.md``) without its cache (nothing is written to
disk), and only up to ``max_body_bytes``.

Every failure is a ``HubFailure`` saying why, with the status when there was one: the caller turns
a 404 from the paper API into "not indexed" and anything else into "could not ask". A spent rate
limit stops all further requests of the run (``Breaker.trip``); a few transport failures in a row
do too (the Hub is out of reach), so an outage costs a few timeouts, not one per paper.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Mapping

from huggingface_hub import HfApi, hf_hub_url
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.hf_api import PaperInfo
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from checks.breaker import Breaker
from checks.huggingface import paper_linked
from checks.settings import CheckSettings

_REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}


class HubFailure(Exception):
    """The Hub gave no usable answer: ``reason`` in a person's words, ``status`` when it answered;
    ``sent``: False when no request was made (the run had already stopped asking the Hub)."""

    def __init__(self, reason: str, status: int | None = None, sent: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.sent = sent


@dataclass(frozen=True)
class PaperAnswer:
    """What the paper API says: its code and page links, and the artifacts it lists per kind
    (None: the answer carries no list of that kind, so the Hub's tag listing must be asked)."""

    github_repo: str | None
    project_page: str | None
    linked: Mapping[str, tuple[str, ...] | None]


class HubAsker:
    def __init__(self, settings: CheckSettings, breaker: Breaker) -> None:
        self.settings = settings
        self.breaker = breaker
        self.api = HfApi(endpoint=settings.hf_endpoint, token=settings.hf_token() or False, user_agent=settings.user_agent)
        self._lock = threading.Lock()
        self.requests = 0  # requests sent (the caller reports the run's cost)

    def paper(self, arxiv_id: str) -> PaperAnswer:
        """``GET /api/papers/<id>``, parsed as ``HfApi.paper_info`` parses it."""
        body = self._json(f"{self.api.endpoint}/api/papers/{arxiv_id}")
        try:
            info = PaperInfo(**body)
        except (TypeError, KeyError, ValueError, AttributeError) as exc:  # not the shape huggingface_hub parses
            raise HubFailure(f"the answer is not a paper ({type(exc).__name__})") from exc
        linked = paper_linked(info)
        return PaperAnswer(getattr(info, "github_repo", None) or None, getattr(info, "project_page", None) or None,
                           {kind: entry.ids for kind, entry in linked.items()})

    def tagged(self, kind: str, arxiv_id: str, limit: int) -> tuple[str, ...]:
        """The first ``limit`` ids of ``GET /api/{kind}?filter=arxiv:<id>`` (one page: the budget is small)."""
        page = self._json(f"{self.api.endpoint}/api/{kind}", {"filter": f"arxiv:{arxiv_id}", "limit": str(limit)})
        if not isinstance(page, list):
            raise HubFailure("the listing is not a JSON list")
        return tuple(str(item["id"]) for item in page if isinstance(item, dict) and item.get("id"))[:limit]

    def card(self, kind: str, repo_id: str) -> str | None:
        """The repository's README.md (its card), up to ``max_body_bytes``; None when it has none or is gone."""
        url = hf_hub_url(repo_id, "README.md", repo_type=_REPO_TYPES[kind], endpoint=self.api.endpoint)
        try:
            return self._request(url, None, self._read_capped).decode("utf-8", errors="replace")
        except HubFailure as failure:
            if isinstance(failure.__cause__, (EntryNotFoundError, RepositoryNotFoundError)):
                return None
            raise

    def _json(self, url: str, params: Mapping[str, str] | None = None) -> Any:
        body = self._request(url, params, self._read_capped)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise HubFailure("the answer is not JSON") from exc

    def _read_capped(self, response: Any) -> bytes:
        limit, kept, size = self.settings.max_body_bytes, [], 0
        for chunk in response.iter_bytes():
            kept.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
        return b"".join(kept)[:limit]

    def _request(self, url: str, params: Mapping[str, str] | None, read: Any) -> bytes:
        """One GET (streamed, so that ``read`` decides how much of the body is taken), or a HubFailure."""
        stopped = self.breaker.reason
        if stopped:
            raise HubFailure(f"not asked: {stopped}", sent=False)
        with self._lock:
            self.requests += 1
        headers = build_hf_headers(token=self.api.token, user_agent=self.settings.user_agent)
        try:
            with get_session().stream("GET", url, params=params, headers=headers, timeout=self.settings.timeout) as response:
                if response.status_code >= 400:
                    response.read()
                    self.breaker.success()
                    hf_raise_for_status(response)
                body = read(response)
        except HfHubHTTPError as exc:
            status = getattr(exc.response, "status_code", None)
            if status == 429:
                self.breaker.trip("the Hugging Face Hub rate-limited us (HTTP 429)")
                raise HubFailure("the Hub rate-limited us (HTTP 429)", status) from exc
            raise HubFailure(f"HTTP {status}", status) from exc
        except Exception as exc:  # huggingface_hub's HTTP stack raises its transport errors untyped here
            reason = f"could not reach the Hugging Face Hub at {self.settings.hf_endpoint} ({type(exc).__name__})"
            self.breaker.failure(reason)
            raise HubFailure(reason) from exc
        self.breaker.success()
        return body
