"""Property tests: no text breaks the extractor, and a URL survives any punctuation around it."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from checks.errors import InputError
from checks.extract import extract_links, format_papers, papers_from_text
from checks.model import Paper
from checks.link_kinds import classify, normalize
from checks.urls import find_urls

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text made of the characters URL finding and Markdown parsing care about, plus some words.
_TRICKY = list("htps:/.w()[]{}<>;&_*~`'\"|\\!?,#%@-+=^…。，）（ \n\t") + [
    "https://", "http://", "www.", "github.com/", "hf.co/", "huggingface.co/", ".github.io", "at ", "](", "![",
    "<a href='", "</a>", "<!--", "-->", "- [", "| ", "\\url{", "&amp;", "e.g.", "Node.js", "will be released",
    "code", "data", "model", ".org", "x", "é", "\ufffd", "\x00",
]
tricky_text = st.lists(st.sampled_from(_TRICKY) | st.text(max_size=5), max_size=60).map("".join)


@SETTINGS
@given(tricky_text)
@example("www.https://https://")  # once read as a link whose normalized form lost its slashes
def test_extract_links_never_crashes_and_links_are_well_formed(text: str) -> None:
    links = extract_links(text)
    assert len({link.normalized for link in links}) == len(links)
    for link in links:
        assert link.url and link.url in text
        assert link.normalized.startswith(("http://", "https://")) or link.normalized == link.url.strip()


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_unicode_never_crashes(text: str) -> None:
    for link in extract_links(text):
        assert link.url in text  # whatever is found was written there


@pytest.mark.filterwarnings("ignore::checks.errors.InputWarning")
@SETTINGS
@given(tricky_text, st.sampled_from(["hf-papers", "markdown", "json", "jsonl", None]))
def test_every_reader_either_reads_or_refuses_cleanly(text: str, fmt: str | None) -> None:
    try:
        papers = papers_from_text(text, source="fuzz", input_format=fmt)
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("fuzz: ")
        return
    for line in format_papers(papers, "jsonl").splitlines():
        assert isinstance(Paper.from_dict(json.loads(line)), Paper)


# --- a URL in random surroundings comes back exactly ------------------------------------------

_label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_segment = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9._~%-]{0,12}[A-Za-z0-9])?", fullmatch=True)
_host = st.builds(lambda labels, tld: ".".join([*labels, tld]), st.lists(_label, min_size=1, max_size=3),
                  st.sampled_from(["org", "com", "io", "ai", "ch", "co.uk", "edu"]))
_path = st.lists(_segment, max_size=4).map(lambda segs: "".join("/" + s for s in segs))
_balanced = st.sampled_from(["", "_(x)", "(v2)", "/a_(b)"])
_query = st.sampled_from(["", "?id=1", "?q=a+b&x=2", "#intro"])

# a balanced pair belongs to the path: "https://x.org_(x)" would name a host that cannot exist
scheme_urls = st.builds(lambda s, h, p, b, q: f"{s}://{h}{p or ('/' if b else '')}{b}{q}",
                        st.sampled_from(["https", "http"]), _host, _path, _balanced, _query)
bare_urls = st.builds(lambda host, owner, repo: f"{host}/{owner}/{repo}",
                      st.sampled_from(["github.com", "huggingface.co", "hf.co"]), _label, _segment)
any_url = scheme_urls | bare_urls | st.builds(lambda h, p: f"www.{h}{p}", _host, _path)

_openers = st.lists(st.sampled_from(list(" (\"'*_~[{<“‘«（") + ["\\url{", "**", "see ", "at: ", "Code: "]),
                    max_size=4).map("".join)
_closers = st.lists(st.sampled_from(list("?!.,:*_~'\");)]}>”’»。，；）：…") + ["&amp;", "...", "**", "~~"]),
                    max_size=5).map("".join)
_tail = st.sampled_from(["", " and more.", "\nNext line", " 代码", "\tx"])


@SETTINGS
@given(any_url, _openers, _closers, _tail)
def test_url_in_random_punctuation_is_found_exactly(url: str, before: str, after: str, tail: str) -> None:
    text = f"Our code {before}{url}{after}{tail}"
    assert url in [m.url for m in find_urls(text)]
    assert classify(url).normalized in [link.normalized for link in extract_links(text)]


@SETTINGS
@given(any_url)
def test_normalize_is_idempotent(url: str) -> None:
    once = normalize(url)
    assert normalize(once) == once
