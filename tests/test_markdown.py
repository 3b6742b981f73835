"""Untrusted text in every Markdown paperwatch writes shows as itself, and as nothing else."""

from __future__ import annotations

import html
import re
import urllib.parse

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from reports.markdown import md_code, md_text, md_url, one_line

RENDER = MarkdownIt("commonmark").enable("table")
JOINER = "\u2060"
# Text that tries to be Markdown: syntax characters, HTML, links, mentions, block starters.
hostile = st.text(alphabet=st.sampled_from(list("ab1 #-+>=.)*_`[]()<>!|~&$\\@:/w\n")) | st.characters(), max_size=60)


def shown_text(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip().replace(JOINER, "")


@settings(max_examples=400, deadline=None)
@given(hostile)
def test_text_in_a_list_item_stays_one_literal_item(value: str) -> None:
    rendered = RENDER.render(f"- {md_text(value)}\n")
    tags = set(re.findall(r"</?([a-z0-9]+)", rendered))
    assert tags <= {"ul", "li"}, rendered  # no link, image, emphasis, code, heading, nested list or quote
    assert shown_text(rendered) == one_line(value, 200).replace(JOINER, "")


@settings(max_examples=300, deadline=None)
@given(hostile)
def test_a_code_span_in_a_table_cell_stays_in_its_cell(value: str) -> None:
    rendered = RENDER.render(f"| url | n |\n|---|---|\n| {md_code(value)} | 1 |\n")
    cells = re.findall(r"<td>(.*?)</td>", rendered, re.DOTALL)
    assert len(cells) == 2 and cells[1] == "1", rendered
    assert "<a " not in rendered and "<img" not in rendered


url_path = st.text(alphabet=st.sampled_from(list("ab1_*()'|`[]{}\\^\"~!$&=?#%.-/")), max_size=40)


@settings(max_examples=400, deadline=None)
@given(url_path)
def test_a_url_in_a_digest_is_one_link_to_that_url_or_inert_text(path: str) -> None:
    url = f"https://example.org/{path}"
    rendered = RENDER.render(f"- {md_url(url)} cited\n")
    tags = set(re.findall(r"</?([a-z0-9]+)", rendered))
    assert tags <= {"ul", "li", "a"}, rendered  # no emphasis, code span or image formed from the URL
    links = re.findall(r'<a href="([^"]*)">(.*?)</a>', rendered)
    assert len(links) == 1, rendered  # a URL that is linkable at all is always linked
    href = html.unescape(links[0][0])
    assert urllib.parse.unquote(href) == urllib.parse.unquote(url)  # the same address, encoded as a browser would
    assert shown_text(rendered) == html.unescape(links[0][1]) + " cited"


def test_software_heritage_browse_links_are_clickable_in_markdown() -> None:
    browse = "https://archive.softwareheritage.org/browse/origin/directory/?origin_url=https://github.com/lab/my_repo"
    assert md_url(browse) == f"<{browse}>"
    assert md_url("https://example.org/a|b") == "<https://example.org/a%7Cb>"  # "|" would end a table cell
    assert "<" not in md_url("https://[::1]/x")  # an odd host stays text


def test_block_starters_and_autolinks_are_defused() -> None:
    assert md_text("# heading") == "\\# heading"
    assert md_text("1. first") == "1\\. first" and md_text("- item") == "\\- item"
    assert md_text("ping @channel see https://x.org") == "ping @\u2060channel see https:\u2060//x.org"
    assert md_url("https://example.org/a") == "<https://example.org/a>"
    assert "<" not in md_url("javascript:alert(1)")
