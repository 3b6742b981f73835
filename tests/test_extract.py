"""Readers, format detection, input errors, ids, claims and output formats."""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

import pytest

import checks.extract
import checks.sources as sources
import checks.text_stream as text_stream
from checks.errors import InputError, InputWarning, PaperwatchError
from checks.extract import (
    IdAllocator,
    extract_links,
    format_papers,
    papers_from_records,
    papers_from_text,
    read_papers,
    slugify,
    write_papers,
)
from checks.model import LinkKind, Paper
from checks.sources import detect_format

ROOT = Path(__file__).resolve().parents[1]
AWESOME_NEW = ROOT / "examples" / "awesome-llm.md"  # Hannibal046/Awesome-LLM at 538eed0
AWESOME_OLD = ROOT / "tests" / "data" / "awesome-llm-5151dd1.md"  # the same list at 5151dd1

ABSTRACT = "We propose X. Code and models are available at https://github.com/a/x."


def by_title(papers: list[Paper], title: str) -> Paper:
    return next(p for p in papers if p.title == title)


# --- extract_links ----------------------------------------------------------------------------


def test_extract_links_merges_duplicates_and_keeps_order() -> None:
    text = ("Code: https://github.com/a/b. Mirror: github.com/a/b/ and www.github.com/a/b.git. "
            "Demo at https://huggingface.co/spaces/a/demo.")
    links = extract_links(text)
    assert [link.normalized for link in links] == ["https://github.com/a/b", "https://huggingface.co/spaces/a/demo"]
    assert links[0].url == "https://github.com/a/b"
    assert (links[0].claim, links[1].claim) == ("code", "demo")


def test_extract_links_of_plain_text_is_empty() -> None:
    assert extract_links("No links here, e.g. Node.js or Fig.3.") == []


@pytest.mark.parametrize(
    ("sentence", "claim", "promise"),
    [
        ("Code will be released at https://github.com/a/b.", "code", True),
        ("The dataset is coming soon: https://github.com/a/b", "data", True),
        ("Weights are available at https://github.com/a/b (coming soon).", "model", True),
        ("Our code is available at https://github.com/a/b and will help others.", "code", False),
        ("Models and data are available upon request at https://x.org.", "model", True),
        ("Project page: https://a.github.io/p", "project", False),
        ("Try the demo at https://x.org/demo", "demo", False),
        ("We maintain a paper list at https://github.com/a/b.", "survey", False),
        ("See https://huggingface.co/datasets/a/b for details.", "data", False),
        ("See https://example.org for details.", None, False),
    ],
)
def test_claims_and_promises(sentence: str, claim: str | None, promise: bool) -> None:
    (link,) = extract_links(sentence)
    assert (link.claim, link.promise) == (claim, promise)


# --- the Hugging Face papers page format ------------------------------------------------------


def test_hf_papers_text_without_header() -> None:
    text = f"First paper\n\n{ABSTRACT}\n\nSecond paper\n\nNo links.\n"
    papers = papers_from_text(text, source="t.txt", input_format="hf-papers")
    assert [p.title for p in papers] == ["First paper", "Second paper"]
    assert papers[0].links[0].url == "https://github.com/a/x"
    assert papers[1].links == ()
    assert all(p.source == "t.txt" for p in papers)


def test_hf_papers_title_without_abstract_is_kept_with_a_warning() -> None:
    with pytest.warns(InputWarning, match="title with no abstract"):
        papers = papers_from_text("Only a title", source="t.txt", input_format="hf-papers")
    assert [p.title for p in papers] == ["Only a title"]


def test_hf_papers_warns_when_pairing_looks_off() -> None:
    """A 600-character "title" is probably an abstract: the user is told where, and nothing is dropped."""
    with pytest.warns(InputWarning, match=r"t\.txt: line 1: expected a title, found 599 characters"):
        papers = papers_from_text("x " * 300 + "\n\nabstract", source="t.txt", input_format="hf-papers")
    assert len(papers) == 1 and papers[0].title.startswith("x x")


# --- Markdown lists (facts checked by reading the files) -------------------------------------


@pytest.fixture(scope="module")
def awesome_new() -> list[Paper]:
    return list(read_papers(AWESOME_NEW))


@pytest.fixture(scope="module")
def awesome_old() -> list[Paper]:
    return list(read_papers(AWESOME_OLD))


def test_markdown_table_row_title_and_arxiv_id(awesome_new: list[Paper]) -> None:
    # | 2017-06 | Transformers | Google | [Attention Is All You Need](https://arxiv.org/pdf/1706.03762.pdf) |
    paper = by_title(awesome_new, "Attention Is All You Need")
    assert paper.id == "1706.03762"
    (link,) = paper.links
    assert (link.url, link.kind, link.family, link.name) == (
        "https://arxiv.org/pdf/1706.03762.pdf", LinkKind.PROJECT, "arxiv", "1706.03762")


def test_markdown_table_row_with_a_repository(awesome_new: list[Paper]) -> None:
    paper = by_title(awesome_new, "Beyond the Imitation Game: Quantifying and extrapolating the capabilities of "
                                  "language models")
    (link,) = paper.links
    assert (link.kind, link.owner, link.name) == (LinkKind.GITHUB_REPO, "google", "BIG-bench")


def test_markdown_broken_link_target_still_yields_the_url(awesome_new: list[Paper]) -> None:
    # - [LLM]([https://github.com/simonw/llm) - A CLI utility ...
    (link,) = by_title(awesome_new, "LLM").links
    assert link.url == "https://github.com/simonw/llm"


def test_markdown_text_glued_after_a_link_is_not_part_of_it(awesome_new: list[Paper]) -> None:
    # - [RWKV-v4|5|6](https://huggingface.co/RWKV)minicpm-2b-65d48bf958302b9fd25b698f)
    (link,) = by_title(awesome_new, "RWKV-v4|5|6").links
    assert (link.url, link.kind, link.owner) == ("https://huggingface.co/RWKV", LinkKind.HF_OWNER, "RWKV")


def test_markdown_items_inside_details_are_read(awesome_new: list[Paper]) -> None:
    (link,) = by_title(awesome_new, "DeepSeek-Math-7B").links
    assert (link.kind, link.owner) == (LinkKind.HF_COLLECTION, "deepseek-ai")


def test_markdown_item_with_two_links(awesome_new: list[Paper]) -> None:
    paper = by_title(awesome_new, "LLM‑RL‑Visualized (EN)")
    assert [(link.kind, link.ref, link.path) for link in paper.links] == [
        (LinkKind.GITHUB_PATH, "master", "src/README_EN.md"), (LinkKind.GITHUB_REPO, None, None)]


def test_markdown_hash_route_is_kept(awesome_new: list[Paper]) -> None:
    (link,) = by_title(awesome_new, "LiveBench").links
    assert link.normalized == "https://livebench.ai/#/"


def test_markdown_navigation_headings_and_contacts_are_not_papers(awesome_new: list[Paper]) -> None:
    titles = {p.title for p in awesome_new}
    assert "Milestone Papers" not in titles and "Table of Content" not in titles
    urls = {link.url for p in awesome_new for link in p.links}
    assert not any("awesome.re" in u or "pku.edu.cn" in u or "star-history" in u for u in urls)


def test_markdown_html_comments_and_badges_are_skipped(awesome_old: list[Paper]) -> None:
    urls = {link.url for p in awesome_old for link in p.links}
    assert not any("img.shields.io" in u for u in urls)  # citation badges are images
    assert not any("docs.ai21.com" in u for u in urls)  # only inside <!-- ... -->


def test_markdown_entities_in_titles_and_urls(awesome_old: list[Paper]) -> None:
    assert by_title(awesome_old, "Scaling Language Models: Methods, Analysis & Insights from Training Gopher")
    bilibili = next(link.url for p in awesome_old for link in p.links if "BV1Xb411X7c3" in link.url)
    assert "&timestamp=1676812375" in bilibili  # "&times" without ";" is not an entity


def test_markdown_url_as_written_even_when_odd(awesome_old: list[Paper]) -> None:
    (link,) = by_title(awesome_old, "Mistral 7B").links
    assert link.url == "https://arxiv.org/pdf/2310.06825.pdf%5D%5D%3E"


def test_markdown_labels_give_claims(awesome_old: list[Paper]) -> None:
    (demo,) = by_title(awesome_old, "Trending Demo").links
    assert (demo.kind, demo.owner, demo.name, demo.claim) == (LinkKind.HF_SPACE, "BlinkDL", "RWKV-Gradio-2", "demo")
    paper = by_title(awesome_old, "[Andrej Karpathy] Let's build GPT: from scratch, in code, spelled out.")
    assert [(link.url, link.claim) for link in paper.links] == [
        ("https://www.youtube.com/watch?v=kCc8FmEb1nY", None), ("https://github.com/karpathy/ng-video-lecture", "code")]
    assert by_title(awesome_old, "Awesome-LLM-hallucination").links[0].claim == "survey"


def test_markdown_fragment_dropped_from_repository(awesome_old: list[Paper]) -> None:
    repo, pile = by_title(awesome_old, "GPT-J").links
    assert repo.url == "https://github.com/kingoflolz/mesh-transformer-jax/#gpt-j-6b"
    assert repo.normalized == "https://github.com/kingoflolz/mesh-transformer-jax"
    assert pile.normalized == "https://pile.eleuther.ai"


def test_markdown_constructs() -> None:
    text = "\n".join([
        "# Heading [x](https://h.org)",
        "- [Paper A](https://arxiv.org/abs/2401.00001v2) - code at <https://github.com/a/a>",
        "* Paper B <a href=\"https://github.com/b/b\">repo</a>",
        "1. Paper C, see https://github.com/c/c.",
        "- **Paper D** [![stars](https://img.shields.io/x)](https://github.com/d/d)",
        "  continued with https://huggingface.co/d/d",
        "```",
        "- [In code](https://github.com/no/no)",
        "```",
        "<!-- - [Hidden](https://github.com/no/hidden) -->",
        "| Name | Code |",
        "|---|:---:|",
        "| Paper E | [code](https://github.com/e/e) \\| [ckpt](https://huggingface.co/e/e) |",
        "- [Anchor only](#section)",
        "<ul><li><a href=\"https://github.com/f/f\">Paper F</a></li>",
        "<li>Paper G: <a href='https://huggingface.co/g/g'>weights</a></li></ul>",
        "- Core modules: [BCEmbedding](https://github.com/h/h) - embeddings",
    ])
    papers = papers_from_text(text, source="m.md")
    assert [(p.title, [link.url for link in p.links]) for p in papers] == [
        ("Paper A", ["https://arxiv.org/abs/2401.00001v2", "https://github.com/a/a"]),
        ("Paper B", ["https://github.com/b/b"]),
        ("Paper C, see https://github.com/c/c.", ["https://github.com/c/c"]),
        ("Paper D", ["https://github.com/d/d", "https://huggingface.co/d/d"]),
        ("Paper E", ["https://github.com/e/e", "https://huggingface.co/e/e"]),
        ("Paper F", ["https://github.com/f/f"]),
        ("Paper G", ["https://huggingface.co/g/g"]),
        ("BCEmbedding", ["https://github.com/h/h"]),
    ]
    assert papers[0].id == "2401.00001"
    assert [link.claim for link in papers[4].links] == ["code", "model"]


# --- JSON and JSON Lines ----------------------------------------------------------------------

RECORDS = [
    {"id": "2401.00001", "title": "One", "abstract": ABSTRACT},
    {"arxiv_id": "2401.00002", "title": "Two", "summary": "Data: https://huggingface.co/datasets/o/d",
     "github_repo": "https://github.com/o/two", "project_page": "https://o.github.io/two"},
    {"paper": {"id": "2401.00003", "title": "Three", "summary": "No links."}},
    {"title": "Four"},
]


def test_records_seam_reads_ids_fields_and_nested_papers() -> None:
    papers = list(papers_from_records(RECORDS, source="api"))
    assert [p.id for p in papers] == ["2401.00001", "2401.00002", "2401.00003", "four"]
    two = papers[1]
    assert [(link.url, link.claim) for link in two.links] == [
        ("https://github.com/o/two", "code"), ("https://o.github.io/two", "project"),
        ("https://huggingface.co/datasets/o/d", "data")]


def test_records_without_title_are_skipped_with_a_warning() -> None:
    with pytest.warns(InputWarning, match="record 1 has no title"):
        assert list(papers_from_records([{"abstract": "x"}], source="api")) == []


def test_json_and_jsonl_files(tmp_path: Path) -> None:
    as_json = tmp_path / "p.json"
    as_json.write_text(json.dumps(RECORDS, indent=2))
    as_jsonl = tmp_path / "p.jsonl"
    as_jsonl.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n\n")
    wrapped = tmp_path / "w.json"
    wrapped.write_text(json.dumps({"papers": RECORDS}))
    expected = list(papers_from_records(RECORDS, source="x"))
    for path in (as_json, as_jsonl, wrapped):
        got = list(read_papers(path))
        assert [(p.id, p.title, p.links) for p in got] == [(p.id, p.title, p.links) for p in expected]


def test_json_array_streams_across_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.json"
    records = [{"id": f"id{i}", "title": f"Paper {i} ünïcode", "abstract": f"at https://github.com/o/r{i}"}
               for i in range(50)]
    path.write_text(json.dumps(records, ensure_ascii=False))
    monkeypatch.setattr(sources, "SNIFF_BYTES", 5)
    monkeypatch.setattr(text_stream, "CHUNK_BYTES", 7)
    monkeypatch.setattr("checks.extract.SNIFF_BYTES", 5)
    papers = list(read_papers(path))
    assert [p.id for p in papers] == [f"id{i}" for i in range(50)]
    assert papers[49].links[0].url == "https://github.com/o/r49"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"title": "a"} {"title": "b"}]', "expected ',' or ']'"),
        ('[{"title": "a"}, {"title": ', "invalid JSON in element 2"),
        ('"just a string"', "expected an array"),
    ],
)
def test_invalid_json_is_an_input_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        list(read_papers(path, input_format="json"))


def test_invalid_jsonl_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"title": "a"}\n{oops\n')
    with pytest.raises(InputError, match=r"bad.jsonl: line 2: invalid JSON"):
        list(read_papers(path))


# --- format detection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "fmt"),
    [
        ('[{"title": "x"}]', "json"),
        ('{\n  "papers": []\n}', "json"),
        ('{"title": "x"}\n{"title": "y"}', "jsonl"),
        ("new\n\nGet trending papers in your email inbox!\n\nSubscribe", "hf-papers"),
        ("# Awesome\n\n- [A](https://a.org) - b", "markdown"),
        ("| a | b |\n|---|---|", "markdown"),
        ("A title\n\nAn abstract that mentions https://github.com/a/b.", "hf-papers"),
    ],
)
def test_detect_format(sample: str, fmt: str) -> None:
    assert detect_format(sample) == fmt


def test_forced_format_overrides_detection() -> None:
    text = "- [A](https://github.com/a/a)\n\n- abstract"
    assert papers_from_text(text, source="x", input_format="hf-papers")[0].title == "- [A](https://github.com/a/a)"


def test_unknown_format_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown input format 'yaml'"):
        papers_from_text("x", source="x", input_format="yaml")


# --- input problems: one clear line each ------------------------------------------------------


def _error(path: Path | str, **kwargs: object) -> str:
    with pytest.raises(InputError) as info:
        read_papers(path, **kwargs)  # raised on the call, before iteration
    message = str(info.value)
    assert "\n" not in message and isinstance(info.value, PaperwatchError)
    return message


def test_missing_file(tmp_path: Path) -> None:
    assert _error(tmp_path / "x.txt") == f"{tmp_path / 'x.txt'}: file not found"
    assert _error("examples/nope.txt") == "examples/nope.txt: file not found"


def test_directory(tmp_path: Path) -> None:
    assert _error(tmp_path) == f"{tmp_path}: is a directory, not a file"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty file"),
        (b"  \n\n\t\n", "only whitespace"),
        (b"title\x00\x01\x02\x00abstract", "binary file (contains NUL"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "binary file (a PDF document)"),
        (b"\x1f\x8b\x08\x00", "gzip-compressed"),
    ],
)
def test_empty_and_binary_files(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(content)
    message = _error(path)
    assert message.startswith(f"{path}: ") and fragment in message


def test_non_utf8_bytes_are_replaced_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\xe9 paper\n\nCode at https://github.com/a/caf\xe9.\n".encode("latin-1"))
    with pytest.warns(InputWarning, match=r"latin1.txt: not valid UTF-8 .*replaced with U\+FFFD"):
        (paper,) = list(read_papers(path))
    assert paper.title == "Caf\ufffd paper"
    assert paper.links[0].url == "https://github.com/a/caf\ufffd"


def test_utf8_bom_and_utf16(tmp_path: Path) -> None:
    text = "T\n\nCode at https://github.com/a/b\n"
    for name, data in (("bom.txt", b"\xef\xbb\xbf" + text.encode()), ("u16.txt", text.encode("utf-16"))):
        path = tmp_path / name
        path.write_bytes(data)
        (paper,) = list(read_papers(path))
        assert (paper.title, paper.links[0].url) == ("T", "https://github.com/a/b")


def test_absurdly_long_line_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_stream, "MAX_LINE", 1000)
    monkeypatch.setattr(text_stream, "CHUNK_BYTES", 100)
    path = tmp_path / "long.txt"
    path.write_text("title\n\n" + "x" * 5000)
    with pytest.raises(InputError, match=r"long.txt: line 3 is longer than"):
        list(read_papers(path, input_format="hf-papers"))


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"T\n\n{ABSTRACT}\n".encode())))
    (paper,) = list(read_papers("-"))
    assert paper.source == "-" and paper.links[0].url == "https://github.com/a/x"


def test_a_file_with_no_papers_warns(tmp_path: Path) -> None:
    path = tmp_path / "toc.md"
    path.write_text("# List\n\n- [Section](#section)\n")
    with pytest.warns(InputWarning, match="no papers found"):
        assert list(read_papers(path)) == []


def test_read_papers_streams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_stream, "CHUNK_BYTES", 4096)
    path = tmp_path / "many.txt"
    path.write_text("".join(f"Paper {i}\n\nCode at https://github.com/o/r{i}.\n\n" for i in range(20000)))
    opened: list[io.BufferedReader] = []
    real_open = checks.extract._open
    monkeypatch.setattr(checks.extract, "_open", lambda source: opened.append(real_open(source)) or opened[0])
    papers = read_papers(path)
    assert next(papers).title == "Paper 0"
    assert opened[0].tell() < 100_000 < path.stat().st_size  # read a little, not the whole file
    assert sum(1 for _ in papers) == 19_999
    assert opened[0].closed


# --- pathological input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "https://a.org/" + ")" * 1_000_000,
        "https://a.org/" + "(" * 1_000_000,
        "https://a.org/" + "&a;" * 333_333,
        "www." * 250_000,
        "at a.b.c " * 111_111,
        "[a](" * 250_000,
        "](" * 500_000,
        "<a href='" * 111_111,
        "Code is at https://github.com/a/b. " * 28_000,
        "code " * 200_000 + "is available",
    ],
    ids=["closers", "openers", "entities", "www", "cues", "md-links", "md-dest", "anchors", "urls", "claims"],
)
def test_one_megabyte_line_finishes(text: str) -> None:
    """A generous bound, not a benchmark: catastrophic backtracking would take hours."""
    started = time.monotonic()
    extract_links(text)
    papers_from_text("- " + text, source="x", input_format="markdown")
    assert time.monotonic() - started < 60


# --- ids and output ---------------------------------------------------------------------------


def test_ids_are_deduplicated_within_a_run() -> None:
    ids = IdAllocator()
    assert [ids("a"), ids("a"), ids("a-2"), ids("a")] == ["a", "a-2", "a-2-2", "a-3"]
    papers = papers_from_text("Same\n\nx\n\nSame\n\ny\n", source="x")
    assert [p.id for p in papers] == ["same", "same-2"]


def test_slugify() -> None:
    assert slugify("Attention Is All You Need!") == "attention-is-all-you-need"
    assert slugify("大型语言模型 (LLM)") == "大型语言模型-llm"
    assert slugify("???") == "paper"
    long = slugify("word " * 40)
    assert len(long) <= 80 and not long.endswith("-")


def test_output_formats() -> None:
    papers = papers_from_text(f"T1\n\n{ABSTRACT}\n\nT2\n\nThe code is publicly available.\n", source="x")
    lines = format_papers(papers, "jsonl").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["t1", "t2"]
    assert json.loads(lines[1])["claims_without_url"] == ["code"]
    assert json.loads(format_papers(papers, "json")) == [json.loads(line) for line in lines]
    assert json.loads(format_papers([], "json")) == []
    table = format_papers(papers, "table")
    assert table.splitlines()[0].split() == ["PAPER", "KIND", "CLAIM", "URL"]
    assert "github-repo" in table and "(no URL)" in table
    assert table.rstrip().endswith("2 papers, 1 with links, 1 links; "
                                   "1 claim code, data or a model without giving a URL")
    stream = io.StringIO()
    assert write_papers(papers, stream, "jsonl") == 2
    with pytest.raises(ValueError, match="unknown output format"):
        format_papers(papers, "csv")
