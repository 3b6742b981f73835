"""paperwatch's URL finder held against the public suites of the tools people compare it with.

The fixtures are vendored unchanged (see the header of each file in ``tests/data/``):

- the GFM spec's "Autolinks (extension)" examples (cmark-gfm ``test/spec.txt``), CC-BY-SA 4.0;
- linkify-it's ``links.txt`` and ``not_links.txt`` (markdown-it/linkify-it v5.0.2 via linkify-it-py 2.2.0), MIT.

Every example is run. An example passes as the suite states it, or it is listed below with the
one-line reason it does not apply to paper abstracts AND what paperwatch finds instead, which is
asserted too: an exclusion is a decision, not a skip.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from checks.urls import find_urls

DATA = Path(__file__).parent / "data"

EMAIL = "an e-mail address: no web page to check; paperwatch reads web links only, and takes no part of an address"
BARE_IP = ("a bare IP address: in abstracts dotted numbers are versions and figures; linkify-it takes them only "
           "with its fuzzy_ip option, off by default (with a scheme, http://172.26.142.48/... passes)")
PROTOCOL_RELATIVE = "a protocol-relative //host: only a page that supplies the scheme can resolve it; an abstract has none"
BARE_IDN = ("a bare internationalized name: CJK prose runs into a domain without a space (代码见example.org), so a bare "
            "name's start cannot be told; with a scheme or www. these hosts pass (http://✪df.ws/123)")

BARE_DOMAIN_THEN_PROSE = ("the fixture's comment follows a bare domain on its line: paperwatch takes a bare domain "
                          "with no cue ('at', ':', '(') only alone on its line, since list items and titles open with "
                          "product names (talkd.ai dialog, Guardrails.ai); without the comment it passes")

# input line → (why it does not apply, what paperwatch finds in it instead)
LINKIFY_EXCLUDED: dict[str, tuple[str, list[str]]] = {
    ">>example.com % markdown blockquote": (BARE_DOMAIN_THEN_PROSE, []),
    "google.com: // no port": (BARE_DOMAIN_THEN_PROSE, []),
    "google.xxx // known tld": (BARE_DOMAIN_THEN_PROSE, []),
    "//localhost": (PROTOCOL_RELATIVE, []),
    "//test.123": (PROTOCOL_RELATIVE, []),
    "My ssl //example.com site": (PROTOCOL_RELATIVE, []),
    "4.4.4.4": (BARE_IP, []),
    "192.168.1.1/abc": (BARE_IP, []),
    "➡.ws/䨹": (BARE_IDN, []),
    "президент.рф": (BARE_IDN, []),
    "http://a---b.com/": ("'--' in a label's third and fourth positions is reserved for punycode (RFC 5891 R-LDH "
                          "labels), so a---b.com cannot be registered", []),
    **{line: (EMAIL, []) for line in (
        "<user@domain.com>", "<user@domain.com>.", "<mailto:user@domain.com>", 'test."foo".bar@gmail.co.uk!',
        '"test@example.com"', "name@example.com", ">>name@example.com % markdown blockquote",
        "mailto:name@example.com", "MAILTO:NAME@EXAMPLE.COM", "mailto:foo_bar@example.com", "foo+bar@gmail.com",
        "192.168.1.1@gmail.com", "mailto:foo@bar      % explicit protocol make it valid",
        "(foobar email@example.com)", "(email@example.com foobar)", "(email@example.com)", "｜test@google.com｜bar",
    )},
}
LINKIFY_NOT_LINKS_EXCLUDED: dict[str, tuple[str, list[str]]] = {
    "_http://example.com": ("GFM reads '_' before a URL as Markdown emphasis (_https://x.org_), and so does paperwatch; "
                            "linkify-it wants a word boundary", ["http://example.com"]),
    "http://example.com_": ("GFM trims a trailing '_' as the end of emphasis (_https://x.org_) and links the rest; "
                            "paperwatch follows GFM", ["http://example.com"]),
}
GFM_EXCLUDED: dict[str, tuple[str, list[str]]] = {
    "foo@bar.baz\n": (EMAIL, []),
    "hello@mail+xyz.example isn't valid, but hello+xyz@mail.example is.\n": (EMAIL, []),
    "a.b-c_d@a.b\n\na.b-c_d@a.b.\n\na.b-c_d@a.b-\n\na.b-c_d@a.b_\n": (EMAIL, []),
}


def urls(text: str) -> list[str]:
    return [m.url for m in find_urls(text)]


def linkify_fixture(name: str) -> list[tuple[int, str, str]]:
    """(line number, input, expected link) as linkify-it's own test/utils reads its fixtures."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    comment = re.compile(r"^%.*")
    cases: list[tuple[int, str, str]] = []
    skip_next = False
    for index, raw in enumerate(lines):
        if skip_next:
            skip_next = False
            continue
        line = comment.sub("", raw.rstrip())
        following = comment.sub("", lines[index + 1].rstrip()) if index + 1 < len(lines) else ""
        if not line.strip():
            continue
        if following.strip():
            cases.append((index + 1, line, following))
            skip_next = True
        else:
            cases.append((index + 1, line, line))
    return cases


def gfm_examples() -> list[tuple[str, list[str]]]:
    """(Markdown, the link texts GFM renders as autolinks, in order) for each example."""
    text = (DATA / "gfm-spec-autolinks.txt").read_text(encoding="utf-8")
    fence = "`" * 32
    examples = re.findall(rf"^{fence} example autolink\n(.*?)^\.\n(.*?)^{fence}$", text, re.MULTILINE | re.DOTALL)
    return [(markdown, [html.unescape(t) for t in re.findall(r'<a href="[^"]*">([^<]*)</a>', rendered)])
            for markdown, rendered in examples]


LINKS = linkify_fixture("linkify-it-links.txt")
# Every line of not_links.txt is an input with no link (linkify-it's reader pairs adjacent lines, so its
# own test checks only every other line of a run; here each one is checked).
NOT_LINKS = [(number, line, "") for number, raw in enumerate(
    (DATA / "linkify-it-not-links.txt").read_text(encoding="utf-8").splitlines(), 1)
    if (line := raw.rstrip()).strip() and not line.startswith("%")]
GFM = gfm_examples()


def test_the_vendored_suites_are_whole() -> None:
    """Counted by reading the files: a truncated or mis-parsed fixture cannot pass silently."""
    assert (len(LINKS), len(NOT_LINKS), len(GFM)) == (117, 38, 11)
    for excluded, cases in ((LINKIFY_EXCLUDED, LINKS), (LINKIFY_NOT_LINKS_EXCLUDED, NOT_LINKS)):
        assert set(excluded) <= {line for _, line, _ in cases}, "an exclusion names no example"
    assert set(GFM_EXCLUDED) <= {markdown for markdown, _ in GFM}


@pytest.mark.parametrize(("number", "line", "expected"), LINKS, ids=[f"links.txt:{n}" for n, _, _ in LINKS])
def test_linkify_it_links(number: int, line: str, expected: str) -> None:
    if line in LINKIFY_EXCLUDED:
        assert urls(line) == LINKIFY_EXCLUDED[line][1]
    else:  # linkify-it's own assertion: the first link found is the expected one
        found = urls(line)
        assert found and found[0] == expected


@pytest.mark.parametrize(("number", "line", "_"), NOT_LINKS, ids=[f"not_links.txt:{n}" for n, _, _ in NOT_LINKS])
def test_linkify_it_not_links(number: int, line: str, _: str) -> None:
    assert urls(line) == LINKIFY_NOT_LINKS_EXCLUDED.get(line, ("", []))[1]


@pytest.mark.parametrize(("markdown", "links"), GFM, ids=[f"gfm-{i + 1}" for i in range(len(GFM))])
def test_gfm_autolink_examples(markdown: str, links: list[str]) -> None:
    assert urls(markdown) == (GFM_EXCLUDED[markdown][1] if markdown in GFM_EXCLUDED else links)


@pytest.mark.parametrize("line", [">>example.com", "google.com:", "google.xxx"])
def test_the_bare_domain_exclusions_pass_without_the_fixture_comment(line: str) -> None:
    assert urls(line) == [line.lstrip(">").rstrip(":")]
