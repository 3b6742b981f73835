"""What a paper's sentence promises at a URL, and what it claims without giving one.

A dead link matters more when the paper said "code and weights are available there", and a
promise ("will be released") that was never kept is a finding of its own. The reading is
deliberately shallow and explainable: keywords in the words just before the URL (its
clause), the first one naming an artifact wins.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence

from checks.model import LinkKind

CLAIMS = ("code", "data", "model", "demo", "project", "survey")

# Words that name what a URL holds. "survey" outranks the rest: a "repository where we curate
# the literature" is a paper list even though it is a repository.
_SURVEY_RE = re.compile(
    r"\b(?:surveys?|literature|curat\w*|awesome|resource repositor\w*"
    r"|(?:paper|reading|resource)s?\b[\w\s&,-]{0,20}?\blists?"
    r"|(?:lists?|collections?) of (?:[\w-]+\s+){0,3}?(?:papers|resources|works)"
    r"|(?:latest|recent|relevant) (?:studies|papers|works|research))\b",
    re.IGNORECASE,
)
_ARTIFACT_RE = re.compile(
    r"""\b(?:
        (?P<project>project\s*(?:page|website|site|homepage)|website|homepage|web\s?page|web\s?site)
      | (?P<demo>demos?|playground|interactive)
      | (?P<code>codes?|source|implementations?|github|codebase|repositor(?:y|ies)|toolkit|library|package|scripts?
          |software|open[- ]sourced?)
      | (?P<data>data|datasets?|corpus|corpora|benchmarks?|annotations?|subset)
      | (?P<model>models?|weights|checkpoints?|parameters|ckpts?)
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)
# "open-sourced" alone says little: it counts for code only when nothing better is named.
_WEAK = frozenset({"open source", "open sourced"})

_PROMISE_BEFORE_RE = re.compile(
    r"\b(?:will|shall|soon|plan(?:s|ned)?\s+to|intend(?:s|ed)?\s+to|forthcoming|to\s+be\s+(?:released|published|made"
    r"|open[- ]?sourced|available|shared|uploaded)|upon\s+(?:acceptance|publication|request)|after\s+(?:the\s+)?"
    r"(?:review|acceptance|publication)|working\s+(?:\w+\s+){0,6}?to\s+(?:publicly\s+)?release|to\s+appear)\b",
    re.IGNORECASE,
)
_PROMISE_AFTER_RE = re.compile(
    r"\b(?:coming\s+soon|soon|to\s+be\s+(?:released|published|updated)|upon\s+(?:acceptance|publication|request)"
    r"|after\s+(?:the\s+)?(?:review|acceptance|publication)|under\s+construction|TBA|TBD|not\s+yet\s+available)\b",
    re.IGNORECASE,
)
# Sentence ends, skipping the abbreviations abstracts are full of; "|" separates table cells, a
# blank line paragraphs (a single line break is where a hard-wrapped abstract was wrapped).
_BREAK_RE = re.compile(r"[.!?。！？|;\n]")
_BLANK_LINE_RE = re.compile(r"[ \t]*+\n")
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "vs.", "Fig.", "Eq.", "Sec.")


def _sentence_ends(text: str) -> Iterator[int]:
    """Offsets just past each sentence end in ``text``."""
    stop = len(text)
    for m in _BREAK_RE.finditer(text):
        ch, after = m.group(), m.end()
        if ch == "\n":
            blank = _BLANK_LINE_RE.match(text, after)
            if blank:
                yield blank.end()
        elif ch == "|":
            yield after
        elif after < stop and not text[after].isspace():
            continue
        elif ch == ";" and after == stop:
            continue
        elif ch == "." and text.endswith(_ABBREVIATIONS, max(0, after - 7), after) and _word_start(text, after):
            continue
        else:
            yield after


def _word_start(text: str, after: int) -> bool:
    """Is the abbreviation ending at ``after`` a word of its own (not "Node.js vs." inside "canvs.")?"""
    for abbreviation in _ABBREVIATIONS:
        begin = after - len(abbreviation)
        if begin >= 0 and text.startswith(abbreviation, begin):
            return begin == 0 or not text[begin - 1].isalnum()
    return False


_CLAUSE_RE = re.compile(r";|,\s+(?:but|while|whereas)\b|\bbut\b", re.IGNORECASE)
_WINDOW = 300

_KIND_CLAIM = {
    LinkKind.GITHUB_REPO: "code",
    LinkKind.GITHUB_PATH: "code",
    LinkKind.GIST: "code",
    LinkKind.GITHUB_PAGES: "project",
    LinkKind.HF_MODEL: "model",
    LinkKind.HF_DATASET: "data",
    LinkKind.HF_SPACE: "demo",
    LinkKind.HF_COLLECTION: "model",
}


def sentence_before(text: str, start: int, floor: int = 0) -> str:
    """The words of the sentence that lead up to ``start``, not reaching back past ``floor``."""
    window = text[max(floor, start - _WINDOW) : start]
    ends = list(_sentence_ends(window))
    return window[ends[-1] :] if ends else window


def sentence_after(text: str, end: int, ceiling: int | None = None) -> str:
    """The rest of the sentence after ``end``, not reaching past ``ceiling``."""
    window = text[end : min(len(text) if ceiling is None else ceiling, end + _WINDOW)]
    first = next(_sentence_ends(window), None)
    return window if first is None else window[: first - 1]


def claim_of(before: str, after: str, kind: LinkKind) -> str | None:
    """``code``, ``data``, ``model``, ``demo``, ``project``, ``survey`` or None.

    The words before the URL speak first, then the rest of its sentence, then the kind of
    link (a Hugging Face dataset holds data whatever the sentence says).
    """
    for context in (before, after):
        if _SURVEY_RE.search(context):
            return "survey"
        weak = None
        for m in _ARTIFACT_RE.finditer(context):
            if _is_weak(m):
                weak = weak or "code"
                continue
            return m.lastgroup
        if weak:
            return weak
    return _KIND_CLAIM.get(kind)


def _is_weak(m: re.Match[str]) -> bool:
    return m.group().lower().replace("-", " ") in _WEAK


def label_claim(label: str | None, after: str, kind: LinkKind) -> str | None:
    """The claim of a link in a Markdown list, where the link text is a label or the item's title.

    A short label names the artifact ("ckpt", "demo", "Code"); a title names the paper, so its
    words say nothing about the URL and only a list description ("paper list") or the kind speaks.
    """
    if label and len(label.split()) <= 3:
        m = _ARTIFACT_RE.search(label)
        if m and not _is_weak(m):
            return m.lastgroup
    if _SURVEY_RE.search(label or "") or _SURVEY_RE.search(after):
        return "survey"
    return _KIND_CLAIM.get(kind)


def is_promise(before: str, after: str) -> bool:
    """True when the sentence promises the artifact for later rather than giving it now."""
    clause = _CLAUSE_RE.split(before)[-1]
    return bool(_PROMISE_BEFORE_RE.search(clause) or _PROMISE_AFTER_RE.search(after[:60]))


# --- claims that come with no URL -----------------------------------------------------------

_NOUNS = (
    r"(?P<code>(?:source\s+)?codes?|implementations?|codebase|software|toolkit|scripts)"
    r"|(?P<data>data(?:sets?)?|benchmarks?|corpus|corpora|annotations)"
    r"|(?P<model>models?|(?:model\s+)?weights|checkpoints|(?:model\s+)?parameters)"
)
_AVAILABLE = r"(?:available|released|open[- ]?sourced|public|accessible)"
_STATED_RE = re.compile(
    rf"\b(?:{_NOUNS})\b[^.;:]{{0,120}}?\b(?:is|are|will\s+be|has\s+been|have\s+been|was|were|be)\s+"
    rf"(?:(?:now|also|all|made|freely|publicly|fully|openly)\s+){{0,2}}{_AVAILABLE}\b",
    re.IGNORECASE,
)
_WE_RELEASE_RE = re.compile(
    r"\bwe\s+(?:[\w-]+\s+){0,2}?(?:release|open[- ]?source|publish|share)[sd]?\b(?P<what>[^.;]{0,120})",
    re.IGNORECASE,
)
_NOUN_RE = re.compile(rf"\b(?:{_NOUNS})\b", re.IGNORECASE)
# The released thing is named before the sentence moves on to why or how ("for rapid model prototyping").
_OBJECT_END_RE = re.compile(r"\b(?:for|to|with|in|that|which|where|so|by|on|as)\b", re.IGNORECASE)


_AVAILABILITY_HINTS = ("availab", "releas", "sourc", "public", "publish", "shar", "accessib")


def might_claim(text: str) -> bool:
    """Cheap test (plain substring search): can ``text`` claim availability at all?"""
    lowered = text.lower()
    return any(hint in lowered for hint in _AVAILABILITY_HINTS)


def claims_without_url(sentences: Sequence[str]) -> tuple[str, ...]:
    """Artifacts (code, data, model) that URL-less sentences say are, or will be, available."""
    found: list[str] = []
    for sentence in sentences:
        if not might_claim(sentence):
            continue
        for m in _STATED_RE.finditer(sentence):
            _add(found, m.lastgroup)
        for m in _WE_RELEASE_RE.finditer(sentence):
            what = m.group("what")
            end = _OBJECT_END_RE.search(what)
            noun = _NOUN_RE.search(what, 0, end.start() if end else len(what))
            if noun:
                _add(found, noun.lastgroup)
    return tuple(found)


def _add(found: list[str], claim: str | None) -> None:
    if claim and claim not in found:
        found.append(claim)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of an abstract: good enough to find those with no URL."""
    spans: list[tuple[int, int]] = []
    start = 0
    for end in itertools.chain(_sentence_ends(text), [len(text)]):
        if text[start:end].strip():
            spans.append((start, end))
        start = end
    return spans
