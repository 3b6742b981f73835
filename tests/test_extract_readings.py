"""No input form loses a link, and the user is told how each file was read (issue 14).

Each form below was observed to lose its links ("1 papers, 0 links" or a bare warning) before
paperwatch chose a reading per shape; each test states the reading a user would expect and the
summary line they see.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import checks.plain_text as plain_text
import checks.sources as sources
from checks.errors import InputError, InputWarning
from checks.extract import Reading, papers_from_records, read_papers, stream_text
from checks.model import Paper
from checks.link_kinds import classify
from checks.urls import find_urls
from flows.cli import main


def read(tmp_path: Path, name: str, text: str, **kwargs: str) -> tuple[list[Paper], Reading]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    stream = read_papers(path, **kwargs)
    papers = list(stream)
    return papers, stream.reading


def rows(papers: list[Paper]) -> list[tuple[str, list[str]]]:
    return [(p.title, [link.url for link in p.links]) for p in papers]


# --- the forms of issue 14 --------------------------------------------------------------------


def test_a_file_of_bare_urls_is_a_url_list(tmp_path: Path) -> None:
    papers, reading = read(tmp_path, "urls.txt", "https://github.com/a/b\nhttps://huggingface.co/c/d\n\n"
                                                 "example.org/papers\n# mirrors https://github.com/x/old\n")
    assert rows(papers) == [("https://github.com/a/b", ["https://github.com/a/b"]),
                            ("https://huggingface.co/c/d", ["https://huggingface.co/c/d"]),
                            ("example.org/papers", ["example.org/papers"])]
    assert reading.summary() == (f"{tmp_path / 'urls.txt'}: read as a URL list (one URL a line): 3 papers, 3 links; "
                                 "not read: 1 link in comment lines (# or //)")
    assert (reading.format, reading.detected, reading.complete) == ("lines", True, True)


def test_a_line_of_several_urls_in_a_url_list_gives_a_paper_per_url(tmp_path: Path) -> None:
    papers, reading = read(tmp_path, "urls.txt", "https://a.org/x https://b.org/y\nhttps://c.org/z\n")
    assert [p.title for p in papers] == ["https://a.org/x", "https://b.org/y", "https://c.org/z"]
    assert reading.how == "a URL list (one URL a line)"


def test_a_markdown_bullet_list_of_bare_urls_without_a_heading_gives_an_item_per_bullet(tmp_path: Path) -> None:
    papers, reading = read(tmp_path, "list.md", "- https://github.com/a/b\n- https://huggingface.co/c/d\n"
                                                "* <https://arxiv.org/abs/2401.00001>\n")
    assert rows(papers) == [("https://github.com/a/b", ["https://github.com/a/b"]),
                            ("https://huggingface.co/c/d", ["https://huggingface.co/c/d"]),
                            ("https://arxiv.org/abs/2401.00001", ["https://arxiv.org/abs/2401.00001"])]
    assert papers[2].id == "2401.00001"
    assert (reading.papers, reading.links) == (3, 3)


def test_bullets_that_name_papers_and_their_urls_are_read_as_markdown(tmp_path: Path) -> None:
    papers, reading = read(tmp_path, "list.md", "- Paper A https://github.com/a/a\n- Paper B https://github.com/b/b\n")
    assert [p.links[0].url for p in papers] == ["https://github.com/a/a", "https://github.com/b/b"]
    assert reading.format == "markdown"


def test_a_single_line_keeps_its_links(tmp_path: Path) -> None:
    papers, reading = read(tmp_path, "one.txt", "GenSim https://liruiw.github.io/gensim and https://github.com/l/g\n")
    assert rows(papers) == [("GenSim", ["https://liruiw.github.io/gensim", "https://github.com/l/g"])]
    assert reading.summary().endswith("read as one paper (the whole text: a single line or paragraph): "
                                      "1 paper, 2 links")


def test_a_single_paragraph_is_one_paper_with_all_its_links(tmp_path: Path) -> None:
    text = ("We propose X, a method for Y. Our code is available at\nhttps://github.com/a/x and the weights at\n"
            "huggingface.co/a/x. A demo runs at\nexample.org\n")
    papers, reading = read(tmp_path, "abstract.txt", text)
    (paper,) = papers
    assert paper.title == "We propose X, a method for Y. Our code is available at"
    assert [(link.url, link.claim) for link in paper.links] == [
        ("https://github.com/a/x", "code"), ("huggingface.co/a/x", "model"), ("example.org", "demo")]
    assert reading.format == "text"


def test_a_paragraph_wrapped_so_that_every_line_holds_a_url_is_still_one_paper(tmp_path: Path) -> None:
    text = ("We present X. Code is available at https://github.com/x/y and data at\n"
            "https://huggingface.co/datasets/x/z. A demo is at https://x.github.io/demo and\n"
            "more at www.x.org.\n")
    papers, reading = read(tmp_path, "abstract.txt", text)
    assert rows(papers) == [("We present X. Code is available at",
                             ["https://github.com/x/y", "https://huggingface.co/datasets/x/z", "https://x.github.io/demo",
                              "www.x.org"])]
    assert reading.format == "text" and [link.claim for link in papers[0].links][:2] == ["code", "data"]


def test_lines_that_each_name_a_paper_and_its_links(tmp_path: Path) -> None:
    papers, reading = read(tmp_path, "papers.txt", "Paper A https://github.com/a/a\n"
                                                   "Paper B: https://github.com/b/b https://huggingface.co/b/b\n")
    assert rows(papers) == [("Paper A", ["https://github.com/a/a"]),
                            ("Paper B", ["https://github.com/b/b", "https://huggingface.co/b/b"])]
    assert reading.how == "one paper a line (a line's links belong to it)"


def test_a_csv_export_is_a_paper_a_row(tmp_path: Path) -> None:
    papers, reading = read(tmp_path, "papers.csv", "title,code\nPaper A,https://github.com/a/a\n"
                                                   "Paper B,https://github.com/b/b\n")
    assert rows(papers) == [("title,code", []), ("Paper A", ["https://github.com/a/a"]),
                            ("Paper B", ["https://github.com/b/b"])]
    assert reading.format == "lines"


def test_a_title_keeps_its_links_in_title_abstract_pairs(tmp_path: Path) -> None:
    text = ("First https://github.com/a/first\n\nAbstract without links.\n\nSecond\n\n"
            "Abstract with https://github.com/a/x.\n\nLast https://b.org/last\n")
    with pytest.warns(InputWarning, match="line 9: title with no abstract"):
        papers, reading = read(tmp_path, "pairs.txt", text)
    assert rows(papers) == [("First https://github.com/a/first", ["https://github.com/a/first"]),
                            ("Second", ["https://github.com/a/x"]), ("Last https://b.org/last", ["https://b.org/last"])]
    assert reading.format == "hf-papers" and reading.links == 3


def test_a_forced_format_is_named_in_the_summary(tmp_path: Path) -> None:
    _, reading = read(tmp_path, "x.txt", "Title\n\nAbstract https://github.com/a/b\n", input_format="text")
    assert reading.summary() == f"{tmp_path / 'x.txt'}: read as one paper (the whole text: a single line or " \
                                "paragraph) (--input-format text): 1 paper, 1 link"
    assert not reading.detected


def test_one_block_longer_than_the_sniff_is_read_a_paper_a_line(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A single block bigger than the sample is no abstract: reading it as one paper would hold it all in memory."""
    monkeypatch.setattr(sources, "SNIFF_BYTES", 64)
    monkeypatch.setattr("checks.extract.SNIFF_BYTES", 64)
    text = "".join(f"line {i} of a long log, see https://x.org/{i}\n" if i % 3 == 0 else f"line {i} of prose\n"
                   for i in range(30))
    papers, reading = read(tmp_path, "big.txt", text)
    assert reading.format == "lines" and len(papers) == 30 and reading.links == 10


def test_one_paper_over_the_size_limit_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plain_text, "MAX_TEXT", 100)
    path = tmp_path / "huge.txt"
    path.write_text("word " * 100)
    with pytest.raises(InputError, match=r"huge.txt: more than 0 MiB of text read as one paper"):
        list(read_papers(path, input_format="text"))


def test_markdown_says_which_links_it_did_not_read(tmp_path: Path) -> None:
    text = "\n".join([
        "# Papers [site](https://lab.example.org)",
        "Intro paragraph with https://blog.example.org/post.",
        "- [Paper A](https://github.com/a/a)",
        "```",
        "git clone https://github.com/no/code",
        "pip install https://example.org/pkg.whl",
        "```",
        "<!-- - [Hidden](https://github.com/no/hidden) -->",
        "| Paper | Code |",
        "|---|---|",
        "| B | [code](https://github.com/b/b) |",
    ])
    papers, reading = read(tmp_path, "list.md", text)
    assert rows(papers) == [("Paper A", ["https://github.com/a/a"]), ("B", ["https://github.com/b/b"])]
    assert dict(reading.not_read) == {"outside list items and table rows (headings, paragraphs)": 2,
                                      "in fenced code": 2, "in HTML comments": 1}
    assert reading.summary().endswith("2 papers, 2 links; not read: 2 links outside list items and table rows "
                                      "(headings, paragraphs), 2 links in fenced code, 1 link in HTML comments")


def test_a_record_without_a_title_keeps_its_links() -> None:
    with pytest.warns(InputWarning, match="record 1 has no title; titled '2401.00009'"):
        (paper,) = list(papers_from_records([{"id": "2401.00009", "abstract": "Code: https://github.com/a/b"}],
                                            source="api"))
    assert (paper.title, [link.url for link in paper.links]) == ("2401.00009", ["https://github.com/a/b"])
    with pytest.warns(InputWarning, match="record 1 has no title; titled 'https://github.com/o/r'"):
        (paper,) = list(papers_from_records([{"github_repo": "https://github.com/o/r"}], source="api"))
    assert paper.links[0].url == "https://github.com/o/r"


def test_the_reading_grows_while_streaming_and_is_complete_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_text("https://a.org/1\nhttps://a.org/2\n")
    stream = read_papers(path)
    assert (stream.reading.papers, stream.reading.complete) == (0, False)
    next(stream)
    assert (stream.reading.papers, stream.reading.complete) == (1, False)
    assert len(list(stream)) == 1
    assert (stream.reading.papers, stream.reading.links, stream.reading.complete) == (2, 2, True)
    assert json.loads(json.dumps(stream.reading.to_dict()))["summary"] == stream.reading.summary()


# --- the command line ---------------------------------------------------------------------------


def test_extract_prints_how_each_file_was_read_on_stderr(tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("https://github.com/a/b\nhttps://github.com/c/d\n")
    abstract = tmp_path / "abstract.txt"
    abstract.write_text("We release code at https://github.com/e/f.\n")
    result = CliRunner().invoke(main, ["extract", str(urls), str(abstract)])
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"{urls}: read as a URL list (one URL a line): 2 papers, 2 links",
        f"{abstract}: read as one paper (the whole text: a single line or paragraph): 1 paper, 1 link"]
    assert [json.loads(line)["links"][0]["url"] for line in result.stdout.splitlines()] == [
        "https://github.com/a/b", "https://github.com/c/d", "https://github.com/e/f"]


def test_the_new_formats_can_be_forced_from_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("Title\n\nAbstract https://github.com/a/b\n")
    result = CliRunner().invoke(main, ["extract", str(path), "--input-format", "lines"])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2
    assert "(--input-format lines): 2 papers, 1 link" in result.stderr


# --- the property: nothing found in the raw text is lost ---------------------------------------

_WORDS = ["https://github.com/a/b", "http://x.org/p_(q)", "www.example.com/a", "example.org", "hf.co/o/m",
          "a.github.io/p", "GOOGLE.COM", "(https://y.org/z).", "[code](https://z.org/c)", "at x.org", "Code:",
          "Title", "abstract", "we release", "# ", "- ", "1. ", "> ", "e.g.", "Node.js", "\\url{https://u.org}",
          '"https://q.org/a"', "ftp://f.org/d", "x.org/é", "。", "，", " ", " ", " ", "\n", "\n", "\n\n", "\n\n"]
texts = st.lists(st.sampled_from(_WORDS) | st.text(alphabet="abc .:/()\n", max_size=4), max_size=40).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from([None, "hf-papers", "lines", "text"]))
def test_every_url_in_a_plain_text_ends_up_in_a_paper(text: str, fmt: str | None) -> None:
    """For the plain-text readings, each URL ``find_urls`` sees in the raw text is some paper's link,
    or was deliberately not read (a URL list's comment lines) and counted as such."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        stream = stream_text(text, source="fuzz", input_format=fmt)
        if stream.reading.format in ("markdown", "json", "jsonl"):  # not a plain-text reading
            return
        papers = list(stream)
    given_links = {link.normalized for paper in papers for link in paper.links}
    comment_lines = ({i for i, line in enumerate(text.split("\n")) if line.strip().startswith(("#", "//"))}
                     if stream.reading.format == "lines" else set())
    commented = 0
    for m in find_urls(text):
        if text.count("\n", 0, m.start) in comment_lines:
            commented += 1
        else:
            assert classify(m.url).normalized in given_links, f"{m.url!r} lost by the {stream.reading.format} reading"
    assert sum(n for _, n in stream.reading.not_read) == commented
