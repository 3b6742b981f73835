"""What a Hugging Face link really leads to, through the Hub API (huggingface_hub).

Models, datasets and spaces can exist yet be gated, disabled, empty of weights, or (for
spaces) broken at runtime. The Hub's own "repository not found" is evidence; our
failure to reach the Hub is ``unknown``.

A paper page also says which models, datasets and spaces cite the paper (the repos tagged
``arxiv:<id>``). Its answer lists only the first few of each kind with a total beside them,
so only a cut-short (or missing) list costs more requests: the Hub's own listing of that tag.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from huggingface_hub import HfApi
from huggingface_hub.hf_api import PaperInfo
from huggingface_hub.errors import DisabledRepoError, GatedRepoError, HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from checks.breaker import Breaker
from checks.facts import HubFacts
from checks.model import Evidence, Link, LinkKind, Observation, State
from checks.settings import CheckSettings
from checks.statuses import Service, state_for_status

HF_KINDS = frozenset({LinkKind.HF_MODEL, LinkKind.HF_DATASET, LinkKind.HF_SPACE, LinkKind.HF_PAPER})

# Space runtime stages: which mean the demo works (or wakes on request), which mean it is broken.
SPACE_ALIVE_STAGES = frozenset({"RUNNING", "RUNNING_BUILDING", "RUNNING_APP_STARTING", "APP_STARTING", "BUILDING",
                                "SLEEPING", "PAUSED", "STOPPED"})
SPACE_ERROR_STAGES = frozenset({"BUILD_ERROR", "RUNTIME_ERROR", "CONFIG_ERROR", "NO_APP_FILE", "DELETING"})

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".onnx", ".h5", ".msgpack", ".npz", ".tflite")

DISCOVERY_KINDS = ("models", "datasets", "spaces")


@dataclass(frozen=True)
class Linked:
    """What a paper answer says of one kind of citing artifact: the ids it lists (None: no list) and its total."""

    ids: tuple[str, ...] | None
    total: int | None


def paper_linked(info: Any) -> dict[str, Linked]:
    """The paper answer's linked lists and totals; ``numTotalSpaces`` is read where a Hub sends it (PaperInfo keeps it)."""
    totals = {"models": getattr(info, "num_total_models", None), "datasets": getattr(info, "num_total_datasets", None),
              "spaces": getattr(info, "numTotalSpaces", None)}
    result = {}
    for kind in DISCOVERY_KINDS:
        items = getattr(info, f"linked_{kind}", None)
        ids = None if items is None else tuple(dict.fromkeys(str(item.id) for item in items if getattr(item, "id", None)))
        total = totals[kind]
        result[kind] = Linked(ids, total if isinstance(total, int) and not isinstance(total, bool) else None)
    return result


def kinds_to_list(linked: Mapping[str, Linked]) -> list[str]:
    """The kinds whose complete list needs the Hub's listing: no list in the answer, or one cut short.

    A list is cut short when its total is larger. Without a total (spaces: the client parses
    none), a list as long as another kind's cut-short list is taken as cut at the same cap,
    which the Hub does not document.
    """
    caps = [len(entry.ids) for entry in linked.values() if entry.ids is not None and entry.total is not None
            and entry.total > len(entry.ids)]
    cap = max(caps) if caps else None
    return [kind for kind, entry in linked.items()
            if entry.ids is None
            or (entry.total is not None and entry.total > len(entry.ids))
            or (entry.total is None and cap is not None and len(entry.ids) >= cap)]


class HubChecker:
    def __init__(self, settings: CheckSettings, on_done: Callable[[Observation], None] | None = None):
        self.settings = settings
        self.on_done = on_done
        token = settings.hf_token()
        self.api = HfApi(endpoint=settings.hf_endpoint, token=token or False, user_agent=settings.user_agent)
        self.breaker = Breaker()

    def check(self, links: Sequence[Link]) -> list[Observation]:
        unique = list({link.normalized: link for link in links}.values())
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="hf") as pool:
            return list(pool.map(self._check_one, unique))

    def _check_one(self, link: Link) -> Observation:
        started = time.monotonic()
        observation = self.breaker.guarded(lambda: self._check(link, started),
                                           lambda reason: self._observe(link, State.UNKNOWN, reason, started, attempts=0))
        if self.on_done:
            self.on_done(observation)
        return observation

    @staticmethod
    def _observe(link: Link, state: State, reason: str, started: float, *, status: int | None = None,
                 error: str | None = None, facts: HubFacts | None = None, attempts: int = 1) -> Observation:
        return Observation(url=link.normalized, state=state, reason=reason, checker="huggingface",
                           evidence=Evidence(status_code=status, final_url=link.normalized, error=error,
                                             elapsed_ms=int((time.monotonic() - started) * 1000), attempts=attempts),
                           facts=facts)

    def _fetch(self, link: Link) -> Any:
        repo_id = f"{link.owner}/{link.name}" if link.owner else str(link.name)
        timeout = self.settings.timeout
        if link.kind is LinkKind.HF_MODEL:
            return self.api.model_info(repo_id, timeout=timeout, files_metadata=True)
        if link.kind is LinkKind.HF_DATASET:
            return self.api.dataset_info(repo_id, timeout=timeout, files_metadata=True)
        if link.kind is LinkKind.HF_SPACE:
            return self.api.space_info(repo_id, timeout=timeout)
        return self._paper_info(str(link.name))

    def _get(self, url: str, params: Mapping[str, str] | None = None, timeout: float | None = None) -> Any:
        """A GET as huggingface_hub sends it (its session, headers and errors), with our timeout and no
        retries: its calls for papers and listings take no timeout, and their retries wait out whole
        rate-limit windows, so a stalled or busy Hub would hold a worker for minutes."""
        response = get_session().get(url, params=params, timeout=timeout or self.settings.timeout,
                                     headers=build_hf_headers(token=self.api.token, user_agent=self.settings.user_agent))
        hf_raise_for_status(response)
        return response

    def _paper_info(self, arxiv_id: str) -> PaperInfo:
        """What ``HfApi.paper_info`` sends and parses."""
        return PaperInfo(**self._get(f"{self.api.endpoint}/api/papers/{arxiv_id}").json())

    def _check(self, link: Link, started: float) -> Observation:
        what = str(link.kind).removeprefix("hf-")
        try:
            info = self._fetch(link)
        except GatedRepoError as exc:
            return self._observe(link, State.ALIVE, f"{what} exists, gated: access must be requested", started,
                                 status=_status(exc), facts=HubFacts(gated=True))
        except RepositoryNotFoundError as exc:
            return self._observe(link, State.DEAD, f"{what} not found on the Hub (or private)", started,
                                 status=_status(exc), error="RepositoryNotFound")
        except DisabledRepoError as exc:
            return self._observe(link, State.DEAD, f"{what} disabled on the Hub", started, status=_status(exc), error="DisabledRepo")
        except HfHubHTTPError as exc:
            return self._from_status(link, what, _status(exc), exc, started)
        except Exception as exc:  # huggingface_hub's own HTTP stack raises its transport errors untyped here
            reason = f"not checked: could not reach the Hugging Face Hub at {self.settings.hf_endpoint} ({type(exc).__name__})"
            self.breaker.failure(reason)
            return self._observe(link, State.UNKNOWN, reason, started, error=f"{type(exc).__name__}: {exc}")
        facts = self._facts(link, info)
        if link.kind is LinkKind.HF_PAPER:
            facts = facts.merged(self._discover(str(link.name), info, started))
        if link.kind is LinkKind.HF_SPACE:
            stage = facts.stage
            if stage in SPACE_ERROR_STAGES:
                return self._observe(link, State.ERROR, f"space is broken: runtime stage {stage}", started, status=200, facts=facts)
            return self._observe(link, State.ALIVE, f"space exists, runtime stage {stage or 'not reported'}", started, status=200, facts=facts)
        return self._observe(link, State.ALIVE, self._summary(what, facts), started, status=200, facts=facts)

    def _from_status(self, link: Link, what: str, status: int | None, exc: Exception, started: float) -> Observation:
        """The Hub's HTTP error, through the status table (``checks.statuses``)."""
        state, reason = state_for_status(status, None, Service.HUB_API, what=what)
        error = {State.UNKNOWN: "RateLimited",
                 State.ERROR: f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}.get(state)
        return self._observe(link, state, reason, started, status=status, error=error)

    @staticmethod
    def _facts(link: Link, info: Any) -> HubFacts:
        if link.kind is LinkKind.HF_PAPER:
            # The Hub's own view of the paper: its code and page (the artifacts citing it: _discover).
            return HubFacts.of(
                title=getattr(info, "title", None),
                published_at=_iso(getattr(info, "published_at", None)),
                github_repo=getattr(info, "github_repo", None),
                project_page=getattr(info, "project_page", None),
            )
        siblings = getattr(info, "siblings", None) or []
        files = [s.rfilename for s in siblings]
        sizes = [s.size for s in siblings if getattr(s, "size", None)]
        facts = HubFacts.of(
            id=info.id,
            private=bool(getattr(info, "private", False)),
            gated=getattr(info, "gated", False) or False,
            disabled=bool(getattr(info, "disabled", False)),
            likes=getattr(info, "likes", None),
            downloads=getattr(info, "downloads", None),
            last_modified=_iso(getattr(info, "last_modified", None)),
            file_count=len(files),
            total_size=sum(sizes) if sizes else None,
        )
        if link.kind is LinkKind.HF_MODEL:
            facts = facts.with_(library=getattr(info, "library_name", None), pipeline_tag=getattr(info, "pipeline_tag", None),
                                has_weights=any(f.endswith(_WEIGHT_SUFFIXES) for f in files))
        if link.kind is LinkKind.HF_SPACE:
            runtime = getattr(info, "runtime", None)
            facts = facts.with_(stage=str(getattr(runtime.stage, "value", runtime.stage)) if runtime and runtime.stage else None,
                                sdk=getattr(info, "sdk", None))
        return facts

    def _discover(self, arxiv_id: str, info: Any, started: float) -> HubFacts:
        """Every model, dataset and space citing the paper: the answer's lists, completed from the Hub's listing.

        A listing that fails or runs out of the link's ``total_timeout`` keeps what was found and
        says why in ``discovery_incomplete``; the paper's own state does not depend on it.
        """
        linked = paper_linked(info)
        found = {kind: list(entry.ids or ()) for kind, entry in linked.items()}
        problem = None
        for kind in kinds_to_list(linked):
            if problem is not None:
                problem += f"; {kind} not listed"
                continue
            ids, problem = self._tagged(kind, arxiv_id, started + self.settings.total_timeout)
            found[kind] += [i for i in ids if i not in found[kind]]
        facts = HubFacts.of(
            discovered={kind: tuple(ids) for kind, ids in found.items()},
            discovered_total={kind: max(len(found[kind]), linked[kind].total or 0) for kind in DISCOVERY_KINDS},
        )
        return facts.with_(discovery_incomplete=problem) if problem is not None else facts

    def _tagged(self, kind: str, arxiv_id: str, deadline: float) -> tuple[list[str], str | None]:
        """The ids the Hub lists for ``/api/{kind}?filter=arxiv:<id>``, following its ``Link: rel="next"`` pages,
        and why the listing stopped early (None: it did not).

        This is what ``HfApi.list_models(filter=...)`` (and list_datasets, list_spaces) sends, without
        their ``paginate``, which retries a 429 or 5xx five times, each time waiting out the Hub's
        whole rate-limit window, with no timeout.
        """
        url: str | None = f"{self.api.endpoint}/api/{kind}"
        params: dict[str, str] | None = {"filter": f"arxiv:{arxiv_id}"}
        what = f"listing {kind} tagged arxiv:{arxiv_id}"
        ids: list[str] = []
        pages = 0
        while url is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                budget = self.settings.total_timeout
                return ids, f"{what}: stopped after {pages} page(s), over the link's time budget ({budget:g} s)"
            try:
                response = self._get(url, params, timeout=min(self.settings.timeout, left))
                page = response.json()
                if not isinstance(page, list):
                    raise ValueError("not a JSON list")
            except HfHubHTTPError as exc:
                status = _status(exc)
                why = "the Hub rate-limited us (HTTP 429)" if status == 429 else f"HTTP {status}"
                return ids, f"{what}: {why} after {pages} page(s)"
            except Exception as exc:  # transport errors and bodies that are not JSON: the listing is unusable
                return ids, f"{what}: no usable answer after {pages} page(s) ({type(exc).__name__})"
            pages += 1
            ids += [str(item["id"]) for item in page if isinstance(item, dict) and item.get("id")]
            url, params = response.links.get("next", {}).get("url"), None
        return ids, None

    @staticmethod
    def _summary(what: str, facts: HubFacts) -> str:
        parts = [f"{what} exists"]
        if facts.gated:
            parts.append(f"gated ({facts.gated})")
        if what == "model" and facts.file_count and not facts.has_weights:
            parts.append("no weight files")
        return ", ".join(parts)


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else (str(value) if value else None)


def check_artifacts(links: Sequence[Link], settings: CheckSettings,
                    on_done: Callable[[Observation], None] | None = None) -> list[Observation]:
    """Check Hugging Face model, dataset, space and paper links, one observation per unique link."""
    artifacts = [link for link in links if link.kind in HF_KINDS]
    if not artifacts:
        return []
    return HubChecker(settings, on_done).check(artifacts)
