"""A README as GitHub's repository page renders it (HTML), turned back into the Markdown shapes a reader relies on.

Without a token the README arrives rendered (the overview partial's ``richText``). The
completeness checklist reads structure, not only words: headings, fenced blocks and their
info strings, tables, images and links. GitHub renders a heading as ``<h2>``, a fenced
block as ``<pre lang="setup">`` (an unknown language keeps its info string) or inside
``<div class="highlight highlight-source-shell">`` (a known one), a table as ``<table>``,
an image as ``<img>``. This gives back ``## Heading``, ```` ```setup ````, ``| a | b |``
rows under a ``|---|`` rule, ``![alt](src)`` and ``[text](href)``, so one Markdown scorer
serves both the page and the GraphQL API (which sends the README's Markdown source).
Anything else is kept as its text; a page that is not HTML at all comes back as its text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_HIGHLIGHT = re.compile(r"\bhighlight-(?:source|text)-([\w+-]+)")
_BLOCKS = frozenset({"p", "div", "ul", "ol", "blockquote", "details", "summary", "dl", "dd", "dt", "hr", "article",
                     "section"})  # not thead/tbody: a blank line would cut the table in two
_SKIPPED = frozenset({"script", "style", "svg", "template", "clipboard-copy"})


class _Markdown(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0  # inside <script>, <svg>, ...
        self.pre = 0  # inside <pre>: text verbatim
        self.language: list[str] = []  # the highlight language of each open <div>
        self.links: list[str] = []  # the href of each open <a>
        self.row: list[str] | None = None
        self.header_row = False
        self.cell: list[str] | None = None
        self.rule_written = False
        self.tables = 0  # open <table>s: text between their cells is layout whitespace

    def _write(self, text: str) -> None:
        (self.cell if self.cell is not None else self.out).append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag in _SKIPPED:
            self.skip += 1
            return
        if self.skip:
            return
        if tag == "div":
            found = _HIGHLIGHT.search(attr.get("class", ""))
            self.language.append(found.group(1).lower() if found else "")
        if self.pre:
            return
        if re.fullmatch(r"h[1-6]", tag):
            self._write("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "pre":
            self.pre += 1
            language = attr.get("lang") or next((lang for lang in reversed(self.language) if lang), "")
            self._write(f"\n\n```{language}\n")
        elif tag == "code":
            self._write("`")
        elif tag == "a":
            self.links.append(attr.get("href", ""))
            self._write("[")
        elif tag == "img":
            self._write(f"![{attr.get('alt', '')}]({attr.get('src', '')})")
        elif tag == "br":
            self._write("\n")
        elif tag == "li":
            self._write("\n- ")
        elif tag == "table":
            self.rule_written = False
            self.tables += 1
            self._write("\n\n")
        elif tag == "tr":
            self.row, self.header_row = [], False
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
            self.header_row = self.header_row or tag == "th"
        elif tag in _BLOCKS:
            self._write("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "div" and self.language:
            self.language.pop()
        if tag == "pre" and self.pre:
            self.pre -= 1
            self.out.append("\n```\n\n")
            return
        if self.pre:
            return
        if re.fullmatch(r"h[1-6]", tag):
            self._write("\n\n")
        elif tag == "code":
            self._write("`")
        elif tag == "a" and self.links:
            self._write(f"]({self.links.pop()})")
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).replace("|", "\\|").split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.out.append("| " + " | ".join(self.row) + " |\n")
            if not self.rule_written:  # Markdown needs the rule under the first row to see a table
                self.out.append("|" + "---|" * max(1, len(self.row)) + "\n")
                self.rule_written = True
            self.row = None
        elif tag == "table":
            self.tables = max(0, self.tables - 1)
            self._write("\n\n")
        elif tag in _BLOCKS:
            self._write("\n\n")

    def handle_data(self, data: str) -> None:
        if self.skip or (self.tables and self.cell is None and not self.pre):
            return
        self._write(data if self.pre else data.replace("\n", " ") if self.cell is not None else data)


def readme_markdown(rich_html: str) -> str:
    """The rendered README as Markdown-shaped text: headings, fences with their info strings, tables, images, links."""
    parser = _Markdown()
    try:
        parser.feed(rich_html)
        parser.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup: keep what it read
        pass
    text = "".join(parser.out)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
