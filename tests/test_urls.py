"""Conformance cases for finding, trimming, normalizing and classifying URLs.

Each trimming case is written from a rule: GitHub-flavored Markdown's autolink extension
(section "Autolinks (extension)" of the GFM spec, whose own examples are reused here) and the
habits of real abstracts listed in issue 3.
"""

from __future__ import annotations

import pytest

from checks.model import LinkKind
from checks.link_kinds import classify, normalize
from checks.urls import find_urls, trim_url


def urls(text: str) -> list[str]:
    return [m.url for m in find_urls(text)]


# --- GFM autolink extension: the spec's own examples ------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Visit www.commonmark.org/help for more information.", "www.commonmark.org/help"),
        ("Visit www.commonmark.org.", "www.commonmark.org"),
        ("Visit www.commonmark.org/a.b.", "www.commonmark.org/a.b"),
        ("www.google.com/search?q=Markup+(business)", "www.google.com/search?q=Markup+(business)"),
        ("www.google.com/search?q=Markup+(business)))", "www.google.com/search?q=Markup+(business)"),
        ("(www.google.com/search?q=Markup+(business))", "www.google.com/search?q=Markup+(business)"),
        ("(www.google.com/search?q=Markup+(business)", "www.google.com/search?q=Markup+(business)"),
        ("www.google.com/search?q=(business))+ok", "www.google.com/search?q=(business))+ok"),
        ("www.google.com/search?q=commonmark&hl=en", "www.google.com/search?q=commonmark&hl=en"),
        ("www.google.com/search?q=commonmark&hl;", "www.google.com/search?q=commonmark"),
        ("www.commonmark.org/he<lp", "www.commonmark.org/he"),
        ("(Visit https://encrypted.google.com/search?q=Markup+(business))",
         "https://encrypted.google.com/search?q=Markup+(business)"),
    ],
)
def test_gfm_spec_examples(text: str, expected: str) -> None:
    assert urls(text) == [expected]


@pytest.mark.parametrize("mark", list("?!.,:*_~"))
def test_trailing_punctuation_is_not_part_of_the_url(mark: str) -> None:
    assert urls(f"see https://github.com/a/b{mark} now") == ["https://github.com/a/b"]
    assert urls(f"see https://github.com/a/b{mark * 3}") == ["https://github.com/a/b"]


@pytest.mark.parametrize("mark", list("?!.,:*_~"))
def test_the_same_punctuation_inside_a_url_stays(mark: str) -> None:
    assert urls(f"https://example.org/a{mark}b") == [f"https://example.org/a{mark}b"]


@pytest.mark.parametrize("quote", ['"', "'"])
def test_trailing_quotes_are_trimmed(quote: str) -> None:
    assert urls(f"the repo {quote}https://github.com/a/b{quote}.") == ["https://github.com/a/b"]


def test_a_semicolon_ends_a_url_with_the_entity_reference_it_closes() -> None:
    assert urls("https://example.org/x;") == ["https://example.org/x"]
    assert urls("https://example.org/x&amp;") == ["https://example.org/x"]
    assert urls("https://example.org/x?a=1&amp;b=2") == ["https://example.org/x?a=1&amp;b=2"]


def test_unbalanced_closing_parenthesis_is_trimmed_balanced_ones_stay() -> None:
    wiki = "https://en.wikipedia.org/wiki/Transformer_(machine_learning_model)"
    assert urls(wiki) == [wiki]
    assert urls(f"(see {wiki})") == [wiki]
    assert urls(f"(see {wiki}).") == [wiki]
    assert urls("(code: https://github.com/a/b).") == ["https://github.com/a/b"]


def test_a_less_than_sign_ends_a_url() -> None:
    assert urls("<https://github.com/a/b>") == ["https://github.com/a/b"]


# --- what real abstracts add ------------------------------------------------------------------


def test_latex_url_and_href() -> None:
    assert urls(r"Code: \url{https://github.com/a/b}.") == ["https://github.com/a/b"]
    assert urls(r"see \href{https://github.com/a/b}{our code}") == ["https://github.com/a/b"]
    assert urls(r"see \url{github.com/a/b}") == ["github.com/a/b"]


def test_url_followed_by_braced_copy_of_itself() -> None:
    text = "Our code is available at https://llm-stacking.github.io/{https://llm-stacking.github.io/}."
    assert urls(text) == ["https://llm-stacking.github.io/", "https://llm-stacking.github.io/"]


@pytest.mark.parametrize("leftover", ["}", "]", "]]", "}.", "])."])
def test_brace_and_bracket_leftovers_are_trimmed(leftover: str) -> None:
    assert urls(f"code https://github.com/a/b{leftover}") == ["https://github.com/a/b"]


def test_balanced_brackets_stay() -> None:
    assert urls("http://[::1]:8080/x") == ["http://[::1]:8080/x"]


@pytest.mark.parametrize("mark", ["。", "，", "；", "）", "：", "！", "？", "、", "…"])
def test_full_width_punctuation_and_ellipsis_end_a_url(mark: str) -> None:
    assert urls(f"代码见https://github.com/a/b{mark}谢谢") == ["https://github.com/a/b"]


def test_full_width_parentheses_around_a_url() -> None:
    assert urls("（https://github.com/a/b）。") == ["https://github.com/a/b"]


@pytest.mark.parametrize("wrap", ["**", "*", "_", "__", "~~", "`"])
def test_markdown_emphasis_around_a_url(wrap: str) -> None:
    assert urls(f"code: {wrap}https://github.com/a/b{wrap}.") == ["https://github.com/a/b"]


@pytest.mark.parametrize("pair", [("“", "”"), ("‘", "’"), ("«", "»")])
def test_typographic_quotes_around_a_url(pair: tuple[str, str]) -> None:
    assert urls(f"{pair[0]}https://github.com/a/b{pair[1]}") == ["https://github.com/a/b"]


def test_dashes_end_a_url() -> None:
    assert urls("https://github.com/a/b—the code") == ["https://github.com/a/b"]


def test_latex_escaped_underscore_stays_in_the_url_and_leaves_the_normal_form() -> None:
    assert urls(r"https://github.com/a/my\_repo.") == [r"https://github.com/a/my\_repo"]
    assert normalize(r"https://github.com/a/my\_repo") == "https://github.com/a/my_repo"


def test_trim_url_directly() -> None:
    assert trim_url("https://a.org/x).") == "https://a.org/x"
    assert trim_url("https://a.org/(x)") == "https://a.org/(x)"
    assert trim_url("https://a.org/x&copy;") == "https://a.org/x"


# --- bare forms -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("code at github.com/a/b.", "github.com/a/b"),
        ("weights: huggingface.co/org/model", "huggingface.co/org/model"),
        ("data in hf.co/datasets/org/set,", "hf.co/datasets/org/set"),
        ("see GitHub.com/Org/Repo", "GitHub.com/Org/Repo"),
        ("page: liruiw.github.io/gensim.", "liruiw.github.io/gensim"),
        ("gist.github.com/user/abc123", "gist.github.com/user/abc123"),
        ("The resulting models and training code are open sourced at 4m.epfl.ch.", "4m.epfl.ch"),
        ("Code: example.org/code.", "example.org/code"),
        ("the library (pytorch.org) is", "pytorch.org"),
        ("visit our homepage ai.example.co.uk/demo", "ai.example.co.uk/demo"),
        ("emphasised _github.com/a/b_ here", "github.com/a/b"),
        ("代码见github.com/a/b。", "github.com/a/b"),
    ],
)
def test_bare_forms_are_urls(text: str, expected: str) -> None:
    assert urls(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "built on Node.js and Vue.js",
        "many baselines (e.g. LLaMA), i.e. open ones",
        "as shown in Fig.3 and Eq.2",
        "improves by at least.It is",
        "on CIFAR-10.We report",
        "see README.md for details",
        "we use torch.nn at v1.5",
        "mail chengxin1998@stu.pku.edu.cn for help",
        "x@github.com/a",
        "we query api.github.com/repos/a/b daily",
        "the U.S. and the U.K. at large",
        "http:// and https:// alone",
    ],
)
def test_things_that_look_like_domains_stay_text(text: str) -> None:
    assert urls(text) == []


def test_bare_domains_need_a_location_cue() -> None:
    assert urls("we compare 4m.epfl.ch models") == []


# --- normalization ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://GitHub.com/Owner/Repo.git/", "https://github.com/Owner/Repo"),
        ("http://github.com/a/b", "https://github.com/a/b"),
        ("www.github.com/a/b", "https://github.com/a/b"),
        ("github.com/a/b/", "https://github.com/a/b"),
        ("https://github.com/a/b?tab=readme-ov-file#install", "https://github.com/a/b"),
        ("https://github.com/a/b/tree/main/src/", "https://github.com/a/b/tree/main/src"),
        ("hf.co/google/gemma", "https://huggingface.co/google/gemma"),
        ("https://huggingface.co/google/ul2#:~:text=UL2", "https://huggingface.co/google/ul2"),
        ("https://huggingface.co/datasets/org/set.git", "https://huggingface.co/datasets/org/set"),
        ("4m.epfl.ch", "https://4m.epfl.ch"),
        ("www.nexa4ai.com/", "https://www.nexa4ai.com"),
        ("https://Example.ORG:443/Path", "https://example.org/Path"),
        ("http://example.org:80/", "http://example.org"),
        ("http://example.org:8080/x", "http://example.org:8080/x"),
        ("https://example.org/docs/", "https://example.org/docs/"),
        ("https://example.org/x#section-2", "https://example.org/x"),
        ("https://livebench.ai/#/", "https://livebench.ai/#/"),
        ("https://example.org/#!/page", "https://example.org/#!/page"),
        ("https://x.org/a?utm_source=tw&id=3&utm_medium=s", "https://x.org/a?id=3"),
        ("https://x.org/a%2fb", "https://x.org/a%2Fb"),
        ("https://github.com/o/r/tree/master/PanGu-α", "https://github.com/o/r/tree/master/PanGu-%CE%B1"),
        ("https://x.org/a?q=1&amp;r=2", "https://x.org/a?q=1&r=2"),
    ],
)
def test_normalize(url: str, expected: str) -> None:
    assert normalize(url) == expected


def test_normalize_is_idempotent_on_examples() -> None:
    for url in ("HTTPS://GitHub.com/Owner/Repo.git/", "4m.epfl.ch", "https://livebench.ai/#/",
                "https://github.com/o/r/tree/master/PanGu-α"):
        assert normalize(normalize(url)) == normalize(url)


# --- classification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind", "owner", "name", "ref", "path"),
    [
        ("https://github.com/peijin360/vsre", LinkKind.GITHUB_REPO, "peijin360", "vsre", None, None),
        ("https://github.com/a/b.git", LinkKind.GITHUB_REPO, "a", "b", None, None),
        ("https://github.com/deepseek-ai/", LinkKind.GITHUB_OWNER, "deepseek-ai", None, None, None),
        ("https://github.com/orgs/huggingface", LinkKind.GITHUB_OWNER, "huggingface", None, None, None),
        ("https://github.com/a/b/tree/main/projects/OPT", LinkKind.GITHUB_PATH, "a", "b", "main", "projects/OPT"),
        ("https://github.com/a/b/blob/v1.0/README.md", LinkKind.GITHUB_PATH, "a", "b", "v1.0", "README.md"),
        ("https://github.com/a/b/tree/dev", LinkKind.GITHUB_PATH, "a", "b", "dev", None),
        ("https://github.com/a/b/releases/tag/v2", LinkKind.GITHUB_PATH, "a", "b", "v2", "releases/tag/v2"),
        ("https://github.com/a/b/wiki/Home", LinkKind.GITHUB_PATH, "a", "b", None, "wiki/Home"),
        ("https://raw.githubusercontent.com/a/b/main/x.py", LinkKind.GITHUB_PATH, "a", "b", "main", "x.py"),
        ("https://liruiw.github.io/gensim", LinkKind.GITHUB_PAGES, "liruiw", None, None, "gensim"),
        ("https://llm-stacking.github.io/", LinkKind.GITHUB_PAGES, "llm-stacking", None, None, None),
        ("https://gist.github.com/user/0123abcd", LinkKind.GIST, "user", "0123abcd", None, None),
        ("https://huggingface.co/apple/OpenELM", LinkKind.HF_MODEL, "apple", "OpenELM", None, None),
        ("https://huggingface.co/a/m/tree/main/ckpt", LinkKind.HF_MODEL, "a", "m", "main", "ckpt"),
        ("https://huggingface.co/a/m/resolve/v1/model.safetensors", LinkKind.HF_MODEL, "a", "m", "v1",
         "model.safetensors"),
        ("https://huggingface.co/datasets/futurehouse/lab-bench", LinkKind.HF_DATASET, "futurehouse", "lab-bench",
         None, None),
        ("https://huggingface.co/datasets/squad", LinkKind.HF_DATASET, None, "squad", None, None),
        ("https://huggingface.co/spaces/mteb/leaderboard", LinkKind.HF_SPACE, "mteb", "leaderboard", None, None),
        ("https://huggingface.co/papers/2403.09611", LinkKind.HF_PAPER, None, "2403.09611", None, None),
        ("https://huggingface.co/collections/Qwen/qwen-65c0e50c3f1ab89cb8704144", LinkKind.HF_COLLECTION, "Qwen",
         "qwen-65c0e50c3f1ab89cb8704144", None, None),
        ("https://huggingface.co/Qwen", LinkKind.HF_OWNER, "Qwen", None, None, None),
        ("hf.co/NexaAIDev/Octopus-v4", LinkKind.HF_MODEL, "NexaAIDev", "Octopus-v4", None, None),
    ],
)
def test_classify(url: str, kind: LinkKind, owner: str | None, name: str | None, ref: str | None,
                  path: str | None) -> None:
    link = classify(url)
    assert (link.kind, link.owner, link.name, link.ref, link.path) == (kind, owner, name, ref, path)
    assert link.url == url


@pytest.mark.parametrize(
    "url",
    ["https://huggingface.co/docs/trl/en/index", "https://huggingface.co/blog/rlhf", "https://huggingface.co/models",
     "https://huggingface.co/spaces", "https://huggingface.co/login", "https://huggingface.co/", "https://github.com/",
     "https://github.com/topics/llm", "https://github.com/features/copilot", "https://huggingface.co/datasets"],
)
def test_reserved_first_segments_are_not_owners(url: str) -> None:
    assert classify(url).kind is LinkKind.PROJECT


@pytest.mark.parametrize(
    ("url", "family", "name"),
    [
        ("https://arxiv.org/abs/2205.05131v1", "arxiv", "2205.05131"),
        ("https://arxiv.org/pdf/1706.03762.pdf", "arxiv", "1706.03762"),
        ("https://www.arxiv.org/abs/hep-th/9901001", "arxiv", "hep-th/9901001"),
        ("https://doi.org/10.5281/zenodo.123", "doi", "10.5281/zenodo.123"),
        ("https://zenodo.org/records/123", "zenodo", None),
        ("https://drive.google.com/file/d/x/view", "drive", None),
        ("https://www.dropbox.com/s/x/y.zip", "dropbox", None),
        ("https://anonymous.4open.science/r/code-1234", "anonymous", None),
        ("https://aka.ms/X-CLIP", "shortener", None),
        ("https://bit.ly/3abc", "shortener", None),
        ("https://openreview.net/forum?id=x", "openreview", None),
        ("https://example.org/x", None, None),
    ],
)
def test_project_families(url: str, family: str | None, name: str | None) -> None:
    link = classify(url)
    assert (link.kind, link.family, link.name) == (LinkKind.PROJECT, family, name)


# --- real-world text classes (issue 14) -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Code: [code](https://github.com/a/b).", ["https://github.com/a/b"]),
        ("[https://github.com/a/b](https://github.com/a/b)", ["https://github.com/a/b", "https://github.com/a/b"]),
        ("see [github.com/a/b](https://github.com/a/b) now", ["github.com/a/b", "https://github.com/a/b"]),
        ("![teaser](https://a.github.io/p/teaser.png) and [demo](https://huggingface.co/spaces/a/d)",
         ["https://a.github.io/p/teaser.png", "https://huggingface.co/spaces/a/d"]),
        ("[![stars](https://img.shields.io/x)](https://github.com/d/d)",
         ["https://img.shields.io/x", "https://github.com/d/d"]),
        ("[wiki](https://en.wikipedia.org/wiki/Foo_(bar)) more", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
        ("[https://x.org/a](#section)", ["https://x.org/a"]),
        ("[code](https://github.com/a/b)[data](https://huggingface.co/datasets/a/d)",
         ["https://github.com/a/b", "https://huggingface.co/datasets/a/d"]),
    ],
)
def test_markdown_link_syntax_inside_an_abstract_is_split_at_the_brackets(text: str, expected: list[str]) -> None:
    assert urls(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://-github.com/a/b", "https://github-.com/a", "https://a..b.org/x", "https://.example.org",
        "www.-bad.org/x", "https://ab--cd.com/x", "https://xn--zz.com/", "https://example_.org/x",
        "https://example.c_om/", "http://example.org:99999/", "https://", "https://./x",
    ],
)
def test_hosts_that_cannot_exist_are_not_urls(text: str) -> None:
    assert urls(f"code at {text} now") == []


@pytest.mark.parametrize(
    "url",
    [
        "https://xn--bndnis-fr-krankenhuser-i5b27cha.de/x", "https://my_host.example.org/x",
        "https://r3---sn-4g5e6nsz.googlevideo.com/v", "https://5b0ee223b312746c1659db3f--chat.netlify.com/docs/",
        "http://a--b.com/", "https://bündnis-für-krankenhäuser.de/x", "http://localhost:8000/x", "http://[::1]:80/",
    ],
)
def test_unusual_hosts_that_can_exist_are_urls(url: str) -> None:
    assert urls(f"code at {url} now") == [url]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://foo.com/blah_blah_{I'm_king} is it", "http://foo.com/blah_blah_{I'm_king}"),
        ('see http://foo.com/blah_"doublequoted" now', 'http://foo.com/blah_"doublequoted"'),
        ("see http://foo.com/blah_'singlequoted' now", "http://foo.com/blah_'singlequoted'"),
        ("see http://foo.com/blah_[other] now", "http://foo.com/blah_[other]"),
        ("{see http://foo.com/x}", "http://foo.com/x"),
        ('"see http://foo.com/x".', "http://foo.com/x"),
        ("'see http://foo.com/x'.", "http://foo.com/x"),
        ("[see http://foo.com/x].", "http://foo.com/x"),
        (r"\href{https://github.com/a/b}{our code}", "https://github.com/a/b"),
        ("see https://x.org/a}{b}", "https://x.org/a"),
        ('{"url": "https://x.org/a", "b": 1}', "https://x.org/a"),
        ("see https://x.org/a'?'", "https://x.org/a"),
    ],
)
def test_pairs_inside_a_path_stay_and_an_unmatched_closer_ends_the_url(text: str, expected: str) -> None:
    assert urls(text) == [expected]


def test_urls_glued_by_commas_quotes_or_braces_are_two_urls() -> None:
    assert urls("mirrors: https://a.org/x,https://b.org/y") == ["https://a.org/x", "https://b.org/y"]
    assert urls('["https://a.org/x","https://b.org/y"]') == ["https://a.org/x", "https://b.org/y"]
    assert urls("https://a.org/x;www.b.org") == ["https://a.org/x", "www.b.org"]
    # a URL inside a URL's query or path is part of it
    assert urls("https://web.archive.org/web/2020/https://x.org/a") == ["https://web.archive.org/web/2020/https://x.org/a"]
    assert urls("https://x.org/r?to=https://y.org/") == ["https://x.org/r?to=https://y.org/"]


def test_www_hosts_are_kept_as_written() -> None:
    assert urls("Demo at www.example.org/demo.") == ["www.example.org/demo"]
    assert urls("Demo at WWW.Example.org") == ["WWW.Example.org"]
    assert normalize("www.example.org/demo") == "https://www.example.org/demo"
    assert normalize("WWW.Example.org") == "https://www.example.org"


def test_ftp_urls_are_found() -> None:
    """Data in biology papers still lives on FTP; the page checker reports it skipped, never lost."""
    assert urls("Data: ftp://ftp.ncbi.nlm.nih.gov/genomes/x.") == ["ftp://ftp.ncbi.nlm.nih.gov/genomes/x"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.org/papers", ["example.org/papers"]),
        ("a\n> example.org\nb", ["example.org"]),
        ("1. example.org", ["example.org"]),
        ("GOOGLE.COM.", ["GOOGLE.COM"]),
        ("Code: <example.org>", ["example.org"]),
    ],
)
def test_a_bare_domain_that_opens_a_line_is_a_url(text: str, expected: list[str]) -> None:
    assert urls(text) == expected


def test_a_bare_domain_in_mid_sentence_still_needs_a_cue() -> None:
    assert urls("We compare example.org models\nand GOOGLE.COM results") == []
    assert urls("on MNIST.It shows") == []
    # a Markdown item opening with a product name: the name is no link, its target is
    assert urls("talkd.ai dialog <https://github.com/talkdai/dialog>") == ["https://github.com/talkdai/dialog"]
    assert urls("Booking.com is the largest travel site") == []
