"""The ML Code Completeness score: each item met and missed with its reason, unscored when nothing was read, and the
fact as the real repository check records it over sockets (the page without a token, GraphQL with one).

READMEs and trees here are small synthetic ones written for the test; the calibration on real repositories is
``bench/completeness_bench.py``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from checks.completeness import ITEMS, MISSING, Completeness, Item, parse, readme_or_absent, score_completeness
from checks.facts import RepoFacts, facts_from_dict
from checks.github import check_repos, merge_page_and_api
from checks.github_graphql import facts_from_graphql
from checks.github_page import repo_page_facts
from checks.http import check_pages
from checks.model import Link, LinkKind, Observation, Paper, State
from checks.readme_html import readme_markdown
from checks.repo_facts import completeness_facts, placeholder_facts
from checks.settings import CheckSettings, RemapRule
from simweb import SimulatedWeb

TOKEN_ENV = "PAPERWATCH_COMPLETENESS_TEST_TOKEN"

COMPLETE_README = """# Sparse Widgets

Official code for the paper.

## Requirements

```setup
pip install -r requirements.txt
```

## Training

```train
python train.py --config configs/base.yaml
```

## Evaluation

```eval
python eval.py --checkpoint model.pth
```

## Pre-trained Models

Download the weights from [the Hub](https://huggingface.co/lab/sparse-widgets).

## Results

| Model | Top-1 | Top-5 |
|-------|------:|------:|
| Ours  | 81.2  | 95.4  |
"""

# A lab's overview page: no code of its own, its papers and the repositories that hold their code.
INDEX_README = "# Registration at our lab\n\nAn overview of our repositories.\n\n" + "".join(
    f"- Paper {n} [[pdf]](https://arxiv.org/abs/1904.{n:05d}) [[code]](https://github.com/lab/{'easyreg' if n % 2 else 'mermaid'})\n"
    for n in range(12)) + ("\nBuilt on [PyTorch](https://github.com/pytorch/pytorch); badges from "
                           "https://github.com/lab/overview/blob/main/images/pipeline.png and https://github.com/Lab/tools.git.\n")

SCENARIO: dict[str, Any] = {
    "github": {
        "tokens": ["ghp_complete"],
        "rate_limit": {"anonymous": 60},
        "repos": [
            {"full_name": "lab/complete", "files": ["README.md", "requirements.txt", "scripts/train.sh", "src/model.py"],
             "readme": COMPLETE_README},
            {"full_name": "lab/bare", "files": ["README.md", "model.py"], "readme": "# Bare\n\nThe model.\n"},
            {"full_name": "lab/nameless", "files": ["README.rst", "train.py"]},  # a README GraphQL does not ask for
            {"full_name": "lab/blank", "empty": True},
            {"full_name": "lab/overview", "files": ["README.md", "citations.bib", "images/pipeline.png"],
             "readme": INDEX_README},
        ],
    },
}


def score(root: list[str] | None, readme: str | None) -> Completeness:
    return score_completeness(root, readme)


def met(result: Completeness) -> dict[str, bool]:
    return {item.name: item.met for item in result.items}


# --- each item, hit and miss ------------------------------------------------------------------------

def test_the_template_readme_meets_every_item_from_its_fences_sections_and_links() -> None:
    result = score(["README.md", "LICENSE"], COMPLETE_README)
    assert result.score == 5 and [item.name for item in result.items] == list(ITEMS)
    assert "`setup` block" in result.item("dependencies").reason  # type: ignore[union-attr]
    assert "`train` block" in result.item("training").reason  # type: ignore[union-attr]
    assert "`eval` block" in result.item("evaluation").reason  # type: ignore[union-attr]
    assert result.item("pretrained_model").reason.startswith("Hugging Face model link")  # type: ignore[union-attr]
    assert "table of numbers" in result.item("results").reason  # type: ignore[union-attr]


def test_a_repository_with_nothing_misses_each_item_with_a_one_line_reason() -> None:
    result = score(["README.md", "model.py"], "# Widgets\n\nSome words about the method.\n")
    assert result.score == 0 and result.unscored is None
    assert {item.name: item.reason for item in result.items} == MISSING
    assert result.item("training").reason == "no training script or section found"  # type: ignore[union-attr]


@pytest.mark.parametrize("root", [["requirements.txt"], ["requirements-dev.txt"], ["environment.yml"], ["setup.py"],
                                  ["pyproject.toml"], ["Pipfile"], ["Dockerfile"], ["docker/"]])
def test_dependencies_from_a_file_at_the_root(root: list[str]) -> None:
    item = score(root, "").item("dependencies")
    assert item is not None and item.met and item.reason == root[0]


@pytest.mark.parametrize("readme", ["# W\n\n## Installation\n\nRun the installer.\n", "W\n=\n\nSetup\n-----\n\nSee below.\n",
                                    "Widgets for all.\n\n### Dependencies\n- torch\n", "Use `pip install widgets` first.\n",
                                    "    conda env create -f env.yaml\n", "<h1>W</h1>\n<h2>Prerequisites</h2>\n<p>Python 3.10, CUDA 12.</p>\n"])
def test_dependencies_from_a_section_or_an_install_command(readme: str) -> None:
    assert met(score(["main.py"], readme))["dependencies"]


def test_a_data_setup_section_is_not_an_environment() -> None:
    assert not met(score(["main.py"], "# Widgets\n\n## Data setup\n\nDownload the images.\n"))["dependencies"]


@pytest.mark.parametrize(("root", "readme", "found"), [
    (["train.py"], "", "train.py"),
    (["train_imagenet.py"], "", "train_imagenet.py"),
    (["fitModelTrain.m"], "", "fitModelTrain.m"),
    (["training/"], "", "training/"),
    (["main.py"], "# W\n\n## Training\n\nRun it.\n", '"Training" section'),
    (["tools/"], "Run `python tools/train_net.py --cfg x.yaml`.\n", "README names tools/train_net.py"),
    (["main.py"], "```\npython main.py --epochs 90 --lr 0.1\n```\n", "`--epochs` (a training setting) in a command"),
])
def test_training_code_from_a_script_a_directory_a_section_or_a_command(root: list[str], readme: str, found: str) -> None:
    item = score(root, readme).item("training")
    assert item is not None and item.met and item.reason.startswith(found)


def test_training_data_and_pretrained_models_headings_are_not_a_training_section() -> None:
    readme = "# W\n\n## Training data\n\nImages.\n\n## Pre-trained models\n\nSoon.\n"
    assert not met(score(["model.py"], readme))["training"]


@pytest.mark.parametrize(("root", "readme", "found"), [
    (["main.py", "utils.py"], "", "main.py (the entry point)"),
    (["modular_main.py"], "", "modular_main.py (the entry point)"),
    (["run_experiments.sh", "lib/"], "", "run_experiments.sh (the entry point)"),
    (["scripts/"], "```\npython3 scripts/run_schedule.py --model resnet50 --batchsize 96\n```\n",
     "README runs scripts/run_schedule.py (the entry point)"),
    (["cli.py"], "```\npython cli.py train --config configs/base.yaml\n```\n", "`cli.py train` in a command"),
    (["train.py", "main.py"], "", "train.py"),  # a script named for training is the stronger signal, and comes first
])
def test_the_entry_point_that_runs_the_experiments_or_a_train_subcommand_is_training_code(
        root: list[str], readme: str, found: str) -> None:
    """The 2019 labels count the code that runs a method's experiments as its training code (185 of 221
    repositories have it): a research repository's main.py or run script trains or fits the method."""
    item = score(root, readme).item("training")
    assert item is not None and item.met and item.reason.startswith(found)


@pytest.mark.parametrize(("root", "readme"), [
    (["run_eval.sh", "model.py"], ""), (["main_demo.py"], ""), (["run_download.sh"], ""),
    (["model.py"], "```\npython3 run_inference.py --ckpt model.pth\n```\n"),
    (["cli.py"], "```\npython cli.py evaluate --ckpt model.pth\n```\n"),
    (["domain.py"], "Runs on the main branch.\n"),  # "main" as a word, not a script
])
def test_an_entry_point_named_for_another_job_is_not_training_code(root: list[str], readme: str) -> None:
    assert not met(score(root, readme))["training"]


@pytest.mark.parametrize(("readme", "item", "said"), [
    ("# W\n\n## Training\n\nComing soon.\n", "training", "Training: Coming soon."),
    ("# W\n\n## Training\n\nTBD\n\n## Citation\n\nBibTeX.\n", "training", "Training: TBD"),
    ("# W\n\n## TODO\n\n- [x] Release inference code\n- [ ] Release training code\n", "training", "Release training code"),
    ("# W\n\nThe training code will be released after the review.\n", "training",
     "The training code will be released after the review."),
    ("# W\n\n## Pre-trained models\n\nWill be released soon.\n", "pretrained_model", "Pre-trained models: Will be released soon."),
    ("# W\n\n* [ ] upload the **checkpoints**\n", "pretrained_model", "upload the checkpoints"),
    ("# W\n\n## Evaluation\n\n*Stay tuned.*\n", "evaluation", "Evaluation: Stay tuned."),
])
def test_a_section_or_to_do_that_only_promises_an_item_is_not_the_item_and_says_so(readme: str, item: str, said: str) -> None:
    """"## Training / Coming soon." beside a main.py is not training code: the README says so, and the reason quotes it."""
    got = score(["main.py", "model.py"], readme).item(item)
    assert got is not None and not got.met
    assert got.reason == f'the README says it is not released yet: "{said}"'


@pytest.mark.parametrize(("root", "readme", "item", "found"), [
    # an unticked to-do list is often stale: a script at the root or a command the README runs still counts
    (["train.py"], "# W\n\n- [ ] Release training code\n", "training", "train.py"),
    (["model.py"], "# W\n\n- [ ] Release training code\n\n```\npython model.py --epochs 90\n```\n", "training",
     "`--epochs` (a training setting) in a command"),
    (["model.py"], "# W\n\nMore models will be released soon. Now: [base](https://huggingface.co/lab/base)\n",
     "pretrained_model", "Hugging Face model link"),
    # not a promise about the item: data, a dataset split, or the code in general
    (["model.py"], "# W\n\nThe training data will be released soon.\n\n## Training\n\nRun it.\n", "training",
     '"Training" section'),
    (["main.py"], "# W\n\nCode for the ablations will be released soon.\n", "training", "main.py (the entry point)"),
])
def test_what_is_there_still_counts_beside_a_promise_about_something_else_or_a_stale_to_do(
        root: list[str], readme: str, item: str, found: str) -> None:
    got = score(root, readme).item(item)
    assert got is not None and got.met and got.reason.startswith(found)


def test_an_empty_section_is_not_the_item_but_one_with_subsections_is() -> None:
    assert not met(score(["model.py"], "# W\n\n## Training\n\n## Citation\n\nBibTeX.\n"))["training"]
    assert met(score(["model.py"], "# W\n\n## Training\n\n### On ImageNet\n\nEight GPUs.\n"))["training"]


@pytest.mark.parametrize(("readme", "met_"), [
    ("```\npython3 run_schedule.py benchmark --cg graph.txt --model resnet50\n```\n", True),
    ("```\npython main.py test --ckpt model.pth\n```\n", True),
    ("```\npython setup.py test\n```\n", False),  # a package's unit tests
    ("```\npython main.py --dataset cifar10 mnist\n```\n", False),
])
def test_an_eval_subcommand_is_evaluation_code_but_setup_py_test_is_not(readme: str, met_: bool) -> None:
    assert met(score(["lib/"], readme))["evaluation"] is met_


@pytest.mark.parametrize(("root", "readme"), [
    (["eval.py"], ""), (["evaluate_model.py"], ""), (["test.py"], ""), (["evaluation/"], ""),
    (["main.py"], "# W\n\n## Evaluation\n\nRun it.\n"), (["main.py"], "# W\n\n### Inference\n\nRun it.\n"),
    (["main.py"], "```\npython main.py --eval --resume ckpt.pth\n```\n"),
    (["main.py"], "# W\n\n## Running experiments\n\n```\npython main.py --dataset mnist\n```\n"),
])
def test_evaluation_code_from_a_script_a_directory_a_section_or_a_command(root: list[str], readme: str) -> None:
    assert met(score(root, readme))["evaluation"]


def test_unit_tests_and_experiments_run_elsewhere_are_not_evaluation_code() -> None:
    readme = ("# W\n\n## Unit tests\n\nRun pytest.\n\n## Experiments\n\n"
              "The experiments used [another repository](https://github.com/other/repo).\n")
    assert not met(score(["tests/", "widgets/"], readme))["evaluation"]


@pytest.mark.parametrize(("root", "readme", "found"), [
    (["model.safetensors"], "", "model.safetensors"),
    (["checkpoints/"], "", "checkpoints/"),
    (["main.py"], "[weights](https://github.com/lab/w/releases/download/v1/w.zip)\n", "release asset link"),
    (["main.py"], "Get [it](https://example.org/files/resnet.pth).\n", "weights file link"),
    (["main.py"], "Our trained model: [Drive](https://drive.google.com/file/d/abc)\n", "model link (drive.google.com)"),
    (["main.py"], "| Backbone | AP | Model |\n|---|---|---|\n| R50 | 38.7 | [link](https://zenodo.org/record/1) |\n",
     "model link (zenodo.org)"),
    (["main.py"], "# W\n\n## Model Zoo\n\nAsk us.\n", '"Model Zoo" section'),
])
def test_pretrained_models_from_files_links_and_sections(root: list[str], readme: str, found: str) -> None:
    item = score(root, readme).item("pretrained_model")
    assert item is not None and item.met and item.reason.startswith(found)


def test_a_drive_link_to_data_is_not_a_model_and_releases_are_only_mentioned() -> None:
    readme = "# W\n\n## Data\n\nThe images are on [Drive](https://drive.google.com/file/d/xyz).\n"
    item = score_completeness(["main.py"], readme, releases=3).item("pretrained_model")
    assert item is not None and not item.met
    assert item.reason == MISSING["pretrained_model"] + " (3 releases; their assets are not read)"


@pytest.mark.parametrize("readme", [
    "# W\n\n## Results\n\n| Method | Score |\n|---|---|\n| Ours | best |\n",  # any table under a results heading
    "# W\n\n## Main results\n\n![accuracy](figs/acc.png)\n",  # a figure under one
    "# W\n\n## CIFAR\n\n| Model | Err |\n|---|---|\n| A | 3.1 |\n| B | 15 ± 2 |\n",  # numbers anywhere
    "# W\n\n<h2>Performance</h2>\n<table><tr><th>Model</th></tr><tr><td>x</td></tr></table>\n",
])
def test_results_from_a_table_or_a_figure(readme: str) -> None:
    assert met(score(["main.py"], readme))["results"]


def test_a_table_of_arguments_or_a_teaser_image_is_not_results() -> None:
    readme = ("# W\n\n![teaser](teaser.png)\n\n## Usage\n\n| Argument | Default |\n|---|---|\n| --lr | 0.1 (default) |\n"
              "| --epochs | 90 |\n")
    assert not met(score(["main.py"], readme))["results"]


def test_the_readme_title_is_not_a_section() -> None:
    """ "# Conformal Inference" names the project; it is not an Inference section."""
    assert not met(score(["R/"], "# Conformal Inference\n\nA package.\n\n## Authors\n"))["evaluation"]


# --- unscored, never 0 ----------------------------------------------------------------------------------

def test_an_unread_listing_or_readme_is_unscored_not_zero() -> None:
    assert score(None, COMPLETE_README) == Completeness(unscored="the repository's file list could not be read")
    unread = score(["README.md"], None)
    assert unread.score is None and unread.unscored == "the README could not be read"
    assert unread.to_dict() == {"score": None, "unscored": "the README could not be read"}


def test_a_readme_the_listing_shows_absent_is_scored_as_empty_and_one_not_read_is_not() -> None:
    assert readme_or_absent(["train.py"], None) == ""
    assert readme_or_absent(["README.rst", "train.py"], None) is None
    assert readme_or_absent(None, None) is None and readme_or_absent(["x"], "# Hi") == "# Hi"


def test_a_reading_list_is_unscored_while_a_placeholder_that_promises_code_scores_0() -> None:
    """An "awesome" list or a survey's companion (only boilerplate at the root, a README that is the content) is
    not code: 0/5 would call it incomplete. A repository that promises code and has none is scored: 0 is true."""
    reading_list = "# Awesome MoE\n\n" + "".join(f"- [Paper {n}](https://arxiv.org/abs/2401.{n:05d})\n" for n in range(30))
    listed = completeness_facts(["README.md", "LICENSE", "assets/"], reading_list).completeness
    assert listed.score is None and listed.unscored == "a reading list, not code: its README is the content"
    promised = completeness_facts(["README.md", "LICENSE"], reading_list + "\nThe code will be released soon.\n").completeness
    assert promised.score == 0
    with_code = completeness_facts(["README.md", "moe/", "requirements.txt"], reading_list).completeness
    assert with_code.score == 1 and with_code.items[0].met
    # the paper's BibTeX, the paper and its poster are not code: an index of a lab's repositories stays unscored
    with_papers = completeness_facts(["README.md", "citations.bib", "paper.pdf", "images/"], reading_list).completeness
    assert with_papers.score is None and with_papers.unscored == listed.unscored
    # an index of the owner's repositories says where the code is; the first three are named
    index = reading_list + "".join(f"[code](https://github.com/lab/tool-{n})\n" for n in range(5))
    named = completeness_facts(["README.md"], index, full_name="lab/hub").completeness
    assert named.unscored == ("no code here, an index of the owner's other repositories: "
                              "lab/tool-0, lab/tool-1, lab/tool-2 and 2 more")
    assert completeness_facts(["README.md"], index, full_name="other/hub").completeness.unscored == listed.unscored


def test_a_repository_holding_only_its_paper_and_bibtex_is_a_placeholder() -> None:
    facts = placeholder_facts(["README.md", "paper.pdf", "CITATION.bib"], "# X\n\nCode coming soon.\n", empty=False)
    assert facts.placeholder is True and facts.readme_promise is True
    code = placeholder_facts(["README.md", "paper.pdf", "main.py"], "# X\n\nCode coming soon.\n", empty=False)
    assert code.placeholder is False


# --- hostile text -----------------------------------------------------------------------------------------

def test_a_huge_readme_is_read_up_to_a_bound_in_reasonable_time() -> None:
    huge = "# W\n\n## Training\n\n" + ("| a | b |\n" * 200_000) + ("x" * 3_000_000) + "\n## Evaluation\n"
    started = time.monotonic()
    result = score(["main.py"], huge)
    assert time.monotonic() - started < 5
    assert result.item("training").met and not result.item("evaluation").met  # type: ignore[union-attr]


@pytest.mark.parametrize("readme", [
    "#" * 50 + "\n", "# \n##\n###### ######\n", "#" * 7 + " not a heading\n", "```\nunclosed fence\n## Training\n",
    "| | |\n|-|-|\n" * 1000, "**" * 10_000, "<h2>" * 5000, "[" * 20_000 + "](" * 20_000, "\x00\ufffd\u202e## Train\n",
    "=" * 10_000 + "\n" + "-" * 10_000, "```for x in y; do python train.py; done```\n## Results\n",
    "# T\n" + "## " + "Training " * 5000 + "\n",
])
def test_weird_markdown_never_raises_and_stays_quick(readme: str) -> None:
    started = time.monotonic()
    result = score(["README.md"], readme)
    assert result.score is not None and 0 <= result.score <= 5
    assert time.monotonic() - started < 2


def test_an_unclosed_fence_swallows_the_headings_after_it_as_a_renderer_would() -> None:
    assert not met(score(["model.py"], "```\nunclosed\n## Training\n"))["training"]
    assert "train" in {info for info, _ in parse("```train\npython train.py\n```\n").fences}


def test_inline_triple_backticks_open_no_fence() -> None:
    readme = "Run ```python gen.py``` first.\n\n## Requirements\n\ntorch\n"
    assert met(score(["main.py"], readme))["dependencies"]


# --- the page's rendered README -------------------------------------------------------------------------

GITHUB_RENDERED = """<article class="markdown-body entry-content container-lg" itemprop="text">
<div class="markdown-heading" dir="auto"><h1 class="heading-element" dir="auto">Widgets</h1></div>
<div class="markdown-heading" dir="auto"><h2 tabindex="-1" class="heading-element" dir="auto">Training</h2><a id="user-content-training"
 class="anchor" aria-label="Permalink: Training" href="#training"><svg class="octicon" viewBox="0 0 16 16"><path d="M7"></path></svg></a></div>
<div class="snippet-clipboard-content notranslate position-relative overflow-auto"><pre lang="setup" class="notranslate"><code>pip install -r requirements.txt
</code></pre><div class="zeroclipboard-container"><clipboard-copy aria-label="Copy" value="pip install"></clipboard-copy></div></div>
<div class="highlight highlight-source-shell notranslate position-relative overflow-auto" dir="auto"><pre>python train.py <span class="pl-k">--</span>lr 0.1</pre></div>
<div class="markdown-heading" dir="auto"><h2 class="heading-element" dir="auto">Results</h2></div>
<markdown-accessiblity-table><table><thead><tr><th>Model</th><th>Top-1</th></tr></thead>
<tbody><tr><td>Ours</td><td><strong>81.2</strong></td></tr><tr><td>Base | v2</td><td>79.9</td></tr></tbody></table></markdown-accessiblity-table>
<p><a target="_blank" rel="noopener noreferrer" href="/lab/x/blob/main/fig.png"><img src="/lab/x/raw/main/fig.png" alt="fig" style="max-width: 100%;"></a>
Weights on <a href="https://huggingface.co/lab/x" rel="nofollow">the Hub</a> &amp; more.</p>
</article>"""


def test_a_readme_rendered_by_github_reads_back_as_markdown_shapes() -> None:
    markdown = readme_markdown(GITHUB_RENDERED)
    assert "## Training" in markdown and "## Results" in markdown
    assert "```setup\npip install -r requirements.txt" in markdown and "```shell\npython train.py --lr 0.1" in markdown
    assert "| Model | Top-1 |\n|---|---|\n| Ours | 81.2 |\n| Base \\| v2 | 79.9 |" in markdown
    assert "![fig](/lab/x/raw/main/fig.png)" in markdown and "[the Hub](https://huggingface.co/lab/x) & more" in markdown
    assert "Permalink" not in markdown and "zeroclipboard" not in markdown
    result = score(["README.md"], markdown)
    assert met(result) == {"dependencies": True, "training": True, "evaluation": False, "pretrained_model": True,
                           "results": True}


def test_broken_html_gives_its_text_and_never_raises() -> None:
    assert "Training" in readme_markdown("<h2>Training<pre lang='x'><table><tr><td>1.5")
    assert readme_markdown("") == "\n"


# --- the fact: stored, read back, and recorded by the real check ------------------------------------------

def test_the_fact_round_trips_through_json_and_old_rows_without_it_still_load() -> None:
    result = score(["requirements.txt"], "# W\n\n## Training\n\nOn one GPU.\n")
    facts = RepoFacts.of(full_name="lab/x", completeness=result)
    data = json.loads(json.dumps(facts.to_dict()))
    assert data["completeness"]["score"] == 2
    assert data["completeness"]["items"]["training"] == {"met": True, "reason": '"Training" section'}
    assert facts_from_dict("github", data) == facts
    unscored = RepoFacts.of(completeness=score(None, None))
    assert facts_from_dict("github", json.loads(json.dumps(unscored.to_dict()))) == unscored
    old = facts_from_dict("github", {"full_name": "lab/x", "placeholder": False})
    assert isinstance(old, RepoFacts) and not old.has("completeness") and old.completeness is None
    odd = {"full_name": "lab/x", "completeness": {"score": 9, "items": "?"}}  # a shape this version did not write
    assert facts_from_dict("github", odd).to_dict() == odd  # type: ignore[union-attr]


def test_the_fact_survives_the_history_store(tmp_path: Path) -> None:
    from reports.store import Store

    url = "https://github.com/lab/x"
    facts = RepoFacts.of(full_name="lab/x", completeness=score(["train.py"], ""))
    observation = Observation(url=url, state=State.ALIVE, reason="ok", checker="github", facts=facts)
    store = Store.open(str(tmp_path / "history.sqlite"))
    try:
        run = store.start_run(["in.txt"], watched=[Paper(id="p1", title="A paper", links=(repo_link("lab/x"),))])
        store.record_observations(run, [observation])
        store.finish_run(run, status="completed", offline=False, notes=[])
        read = store.observations_of_runs([run])[run][url]
        assert read.facts == facts and read.facts.completeness.score == 1  # type: ignore[union-attr]
        assert store.latest_details([url])[url] == facts
    finally:
        store.close()


def test_graphql_facts_score_the_root_tree_and_readme_and_say_unscored_when_the_tree_is_missing() -> None:
    node = {"nameWithOwner": "lab/x", "root": {"entries": [{"name": "train.py", "type": "blob"},
                                                           {"name": "checkpoints", "type": "tree"}]},
            "readme": {"text": "# X\n\n## Results\n\n![r](r.png)\n"}}
    assert met(facts_from_graphql(node).completeness) == {  # type: ignore[arg-type]
        "dependencies": False, "training": True, "evaluation": False, "pretrained_model": True, "results": True}
    assert facts_from_graphql({"nameWithOwner": "lab/x", "root": None}).completeness.unscored  # type: ignore[union-attr]
    assert facts_from_graphql({"nameWithOwner": "lab/x", "isEmpty": True}).completeness.score == 0  # type: ignore[union-attr]


def test_an_unreadable_page_yields_no_checklist() -> None:
    assert repo_page_facts(b"<html><body>Something else</body></html>") is None


def repo_link(full_name: str) -> Link:
    owner, name = full_name.split("/")
    url = f"https://github.com/{full_name}"
    return Link(url=url, normalized=url, kind=LinkKind.GITHUB_REPO, owner=owner, name=name)


@pytest.fixture
def settings(fresh_sim: SimulatedWeb) -> CheckSettings:
    os.environ.pop(TOKEN_ENV, None)
    return CheckSettings(github_api_url=fresh_sim.github_api_url, hf_endpoint=fresh_sim.hf_endpoint, timeout=3.0,
                         retries=0, remap_rules=tuple(RemapRule.parse(r) for r in fresh_sim.remap_rules), canaries=(),
                         github_token_env=TOKEN_ENV)


NAMES = ["lab/complete", "lab/bare", "lab/nameless", "lab/blank"]


def test_without_a_token_the_repository_page_gives_the_checklist_at_no_extra_request(
        settings: CheckSettings, fresh_sim: SimulatedWeb) -> None:
    links = [repo_link(name) for name in NAMES]
    pages = {o.url: o for o in check_pages([link.normalized for link in links], settings).observations}
    found = {o.url: merge_page_and_api(pages[o.url], o) for o in check_repos(links, settings)}
    complete = found["https://github.com/lab/complete"]
    assert complete.state is State.ALIVE and complete.facts.completeness.score == 5  # type: ignore[union-attr]
    assert complete.facts.completeness.item("dependencies").reason.startswith("requirements.txt")  # type: ignore[union-attr]
    details = complete.to_dict()["details"]["completeness"]
    assert details["score"] == 5 and set(details["items"]) == set(ITEMS)
    bare = found["https://github.com/lab/bare"].facts.completeness  # type: ignore[union-attr]
    assert bare.score == 0 and bare.item("training") == Item("training", False, MISSING["training"])
    # the page renders whichever README the repository has (README.rst here): scored from it
    nameless = found["https://github.com/lab/nameless"].facts.completeness  # type: ignore[union-attr]
    assert nameless.score == 1 and nameless.item("training").reason == "train.py"  # type: ignore[union-attr]
    assert found["https://github.com/lab/blank"].facts.completeness.score == 0  # type: ignore[union-attr]
    # the same requests as before the checklist: one page, one last commit per repository with commits, one REST call
    web = [r for r in fresh_sim.request_log() if r.face == "web"]
    assert len(web) == 4 + 3 and fresh_sim.stats()["github"]["requests"] == 4


def test_an_index_of_the_owners_repositories_is_unscored_and_names_where_the_code_is(
        settings: CheckSettings, fresh_sim: SimulatedWeb) -> None:
    """An overview page (README, BibTeX, images) whose README links the lab's repositories holding the code:
    no score, since there is no code to score, and the reason says where a reader will find it. Both paths."""
    link = repo_link("lab/overview")
    page = check_pages([link.normalized], settings).observations[0]
    (rest,) = check_repos([link], settings)
    os.environ[TOKEN_ENV] = "ghp_complete"
    try:
        (graphql,) = check_repos([link], settings)
    finally:
        os.environ.pop(TOKEN_ENV, None)
    for observation in (merge_page_and_api(page, rest), graphql):
        completeness = observation.facts.completeness  # type: ignore[union-attr]
        assert completeness.score is None
        assert completeness.unscored == ("no code here, an index of the owner's other repositories: "
                                          "lab/mermaid, lab/easyreg, Lab/tools")  # not itself, not pytorch/pytorch
        assert observation.state is State.ALIVE and not observation.facts.placeholder  # type: ignore[union-attr]


def test_with_a_token_graphql_gives_the_same_checklist_at_no_extra_point(
        settings: CheckSettings, fresh_sim: SimulatedWeb) -> None:
    links = [repo_link(name) for name in NAMES]
    os.environ[TOKEN_ENV] = "ghp_complete"
    try:
        found = {o.url: o for o in check_repos(links, settings)}
    finally:
        os.environ.pop(TOKEN_ENV, None)
    complete = found["https://github.com/lab/complete"].facts.completeness  # type: ignore[union-attr]
    assert complete.score == 5
    assert complete.item("dependencies").reason.startswith("requirements.txt")  # type: ignore[union-attr]
    assert found["https://github.com/lab/bare"].facts.completeness.score == 0  # type: ignore[union-attr]
    # GraphQL asks for HEAD:README.md only: a README.rst is there but unread, so the repository is unscored, not 0
    nameless = found["https://github.com/lab/nameless"].facts.completeness  # type: ignore[union-attr]
    assert nameless.score is None and nameless.unscored == "the README could not be read"
    assert found["https://github.com/lab/blank"].facts.completeness.score == 0  # type: ignore[union-attr]
    graphql = fresh_sim.stats()["graphql"]
    assert graphql["requests"] == 2  # the batch and its slow facts, as before: the checklist adds no field
