"""How code a paper forgot to link is looked for: the config file's ``[discovery]`` table (``DiscoverySettings``).

Discovery (``checks.discovery``) asks the Hugging Face paper API, the cards of Hub artifacts tagged
``arxiv:<id>`` and the paper's project pages, for papers that link no code of their own. It is on
by default and bounded per run (``max_papers``, ``max_cards``, ``max_pages``: mapped onto
``checks.discovery.Budget``). An answer is kept in the history and the paper is asked again only
after ``found_days`` (a repository was found), ``nothing_days`` (every place answered, none named
code); a paper some place could not be asked about is asked again on the next run.

``accept`` lists suggestions the user takes as the paper's own code link, ``reject`` those never to
show (a card naming a fine-tune's code, say). Each entry is ``"PAPER_ID URL"`` (the paper's id as
report.json has it, a space, the repository URL; the id may hold spaces, the URL may not) or a
table ``{ paper = "PAPER_ID", url = "URL" }``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict

from checks.discovery import Budget
from checks.link_kinds import classify
from checks.setting_types import Count, Flag, PositiveInt

ENTRY_FORMAT = 'a list of "PAPER_ID URL" strings or { paper = "PAPER_ID", url = "URL" } tables'


def _pair(entry: Any, index: int) -> tuple[str, str]:
    """One entry as (paper id, normalized URL); a ValueError naming the entry and the format otherwise."""
    where = f"entry {index + 1}"
    if isinstance(entry, str):
        parts = entry.strip().rsplit(None, 1)
        if len(parts) != 2:
            raise ValueError(f'{where} ({entry!r}) must be "PAPER_ID URL": the paper\'s id, a space, the URL')
        paper, url = parts
    elif isinstance(entry, dict):
        unknown = sorted(set(entry) - {"paper", "url"})
        if unknown or not isinstance(entry.get("paper"), str) or not isinstance(entry.get("url"), str):
            raise ValueError(f"{where} must be {{ paper = \"PAPER_ID\", url = \"URL\" }}"
                             + (f" (unknown key {unknown[0]!r})" if unknown else ""))
        paper, url = entry["paper"].strip(), entry["url"].strip()
    else:
        raise ValueError(f"must be {ENTRY_FORMAT} (entry {index + 1} is {type(entry).__name__})")
    if not paper:
        raise ValueError(f"{where}: the paper id is empty")
    if not url.startswith(("https://", "http://")) and not url.startswith(("github.com/", "www.github.com/")):
        raise ValueError(f"{where}: {url!r} is not an http(s) URL")
    return paper, classify(url).normalized


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, (str, dict)) or not isinstance(value, (list, tuple)):
        raise ValueError(f"must be {ENTRY_FORMAT}")
    return tuple(dict.fromkeys((entry[0], classify(entry[1]).normalized) if _is_pair(entry) else _pair(entry, i)
                             for i, entry in enumerate(value)))


def _is_pair(entry: Any) -> bool:
    """An entry already read (``to_dict`` then ``from_dict``, as the flow's parameters travel)."""
    return isinstance(entry, (list, tuple)) and len(entry) == 2 and all(isinstance(part, str) for part in entry)


Pairs = Annotated[tuple[tuple[str, str], ...], BeforeValidator(_pairs)]


@dataclass(frozen=True)
class DiscoverySettings:
    """The ``[discovery]`` table; plain data, safe to pass to Prefect tasks (no secret in it)."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    enabled: Flag = True  # look for the code of papers that link none
    max_papers: PositiveInt = 200  # papers asked about per run; the rest are asked on the next runs
    max_cards: Count = 100  # Hub cards read per run
    max_pages: Count = 200  # project pages read per run
    max_artifacts_per_paper: Count = 3  # tagged Hub artifacts whose cards are read, per paper
    max_pages_per_paper: Count = 2
    corroborate: Flag = False  # also read cards and pages when the paper API already names the code
    found_days: PositiveInt = 30  # a paper whose code was found is asked again after this many days
    nothing_days: PositiveInt = 7  # ... one where every place answered and none named code
    accept: Pairs = ()  # (paper id, normalized URL): taken as the paper's own code link
    reject: Pairs = ()  # never shown, never accepted

    def budget(self) -> Budget:
        return Budget(max_papers=self.max_papers, max_artifacts_per_paper=self.max_artifacts_per_paper,
                      max_cards=self.max_cards, max_pages_per_paper=self.max_pages_per_paper, max_pages=self.max_pages,
                      corroborate=self.corroborate)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["accept"] = [list(pair) for pair in self.accept]
        data["reject"] = [list(pair) for pair in self.reject]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "DiscoverySettings":
        from pydantic import TypeAdapter

        return TypeAdapter(cls).validate_python(dict(data or {}))
