"""The acceptance test of issue 3 on the product owner's seed: 113 papers, 34 URLs, each in its place.

The expected list was written by reading the seed text, not by running the extractor.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checks.extract import format_papers, read_papers
from checks.model import LinkKind, Paper

SEED = Path(__file__).resolve().parents[1] / "examples" / "hf-papers-2024-03-14.txt"

GH, PAGES, HF_MODEL, HF_DATA, PROJECT = (LinkKind.GITHUB_REPO, LinkKind.GITHUB_PAGES, LinkKind.HF_MODEL,
                                         LinkKind.HF_DATASET, LinkKind.PROJECT)

# (paper title, url as written, normalized, kind, claim, promise)
EXPECTED = [
    ("Expand VSR Benchmark for VLLM to Expertize in Spatial Rules",
     "https://github.com/peijin360/vsre", "https://github.com/peijin360/vsre", GH, "model", False),
    ("Expanding Language-Image Pretrained Models for General Video Recognition",
     "https://aka.ms/X-CLIP", "https://aka.ms/X-CLIP", PROJECT, "code", False),
    ("GenSim: Generating Robotic Simulation Tasks via Large Language Models",
     "https://liruiw.github.io/gensim", "https://liruiw.github.io/gensim", PAGES, "project", False),
    ("LAB-Bench: Measuring Capabilities of Language Models for Biology Research",
     "https://huggingface.co/datasets/futurehouse/lab-bench", "https://huggingface.co/datasets/futurehouse/lab-bench",
     HF_DATA, "data", False),
    ("CoEvo: Continual Evolution of Symbolic Solutions Using Large Language Models",
     "https://github.com/pgg3/CoEvo", "https://github.com/pgg3/CoEvo", GH, "code", False),
    ("Mug-STAN: Adapting Image-Language Pretrained Models for General Video Understanding",
     "https://github.com/farewellthree/STAN", "https://github.com/farewellthree/STAN", GH, "code", False),
    ("Rephrase and Respond: Let Large Language Models Ask Better Questions for Themselves",
     "https://github.com/uclaml/Rephrase-and-Respond", "https://github.com/uclaml/Rephrase-and-Respond", GH, "data",
     False),
    ("Evidence Inference 2.0: More Data, Better Models",
     "http://evidence-inference.ebm-nlp.com/", "http://evidence-inference.ebm-nlp.com", PROJECT, "data", False),
    ("InfMLLM: A Unified Framework for Visual-Language Tasks",
     "https://github.com/mightyzau/InfMLLM", "https://github.com/mightyzau/InfMLLM", GH, "code", True),
    ("4M-21: An Any-to-Any Vision Model for Tens of Tasks and Modalities",
     "4m.epfl.ch", "https://4m.epfl.ch", PROJECT, "model", False),
    ("Stacking Your Transformers: A Closer Look at Model Growth for Efficient LLM Pre-Training",
     "https://llm-stacking.github.io/", "https://llm-stacking.github.io", PAGES, "code", False),
    ("Enriching Information and Preserving Semantic Consistency in Expanding Curvilinear Object Segmentation "
     "Datasets", "https://github.com/tanlei0/COSTG", "https://github.com/tanlei0/COSTG", GH, "code", False),
    ("ToolBridge: An Open-Source Dataset to Equip LLMs with External Tool Capabilities",
     "https://github.com/CharlesPikachu/ToolBridge", "https://github.com/CharlesPikachu/ToolBridge", GH, "code", True),
    ("OpenELM: An Efficient Language Model Family with Open-source Training and Inference Framework",
     "https://github.com/apple/corenet", "https://github.com/apple/corenet", GH, "code", False),
    ("OpenELM: An Efficient Language Model Family with Open-source Training and Inference Framework",
     "https://huggingface.co/apple/OpenELM", "https://huggingface.co/apple/OpenELM", HF_MODEL, "model", False),
    ("A Survey on Mixture of Experts",
     "https://github.com/withinmiaov/A-Survey-on-Mixture-of-Experts",
     "https://github.com/withinmiaov/A-Survey-on-Mixture-of-Experts", GH, "survey", False),
    ("CodeGen2: Lessons for Training LLMs on Programming and Natural Languages",
     "https://github.com/salesforce/CodeGen2", "https://github.com/salesforce/CodeGen2", GH, "model", True),
    ("Octopus v4: Graph of language models",
     "https://www.nexa4ai.com/", "https://www.nexa4ai.com", PROJECT, "code", False),
    ("Octopus v4: Graph of language models",
     "https://huggingface.co/NexaAIDev/Octopus-v4", "https://huggingface.co/NexaAIDev/Octopus-v4", HF_MODEL, "model",
     False),
    ("Can LLMs Learn by Teaching? A Preliminary Study",
     "https://github.com/imagination-research/lbt", "https://github.com/imagination-research/lbt", GH, "code", False),
    ("Injecting Domain-Specific Knowledge into Large Language Models: A Comprehensive Survey",
     "https://github.com/abilliyb/Knowledge_Injection_Survey_Papers",
     "https://github.com/abilliyb/Knowledge_Injection_Survey_Papers", GH, "survey", False),
    ("Advancing Transformer Architecture in Long-Context Large Language Models: A Comprehensive Survey",
     "https://github.com/Strivin0311/long-llms-learning", "https://github.com/Strivin0311/long-llms-learning", GH,
     "survey", False),
    ("EvolveDirector: Approaching Advanced Text-to-Image Generation with Large Vision-Language Models",
     "https://github.com/showlab/EvolveDirector", "https://github.com/showlab/EvolveDirector", GH, "code", False),
    ("OptMATH: A Scalable Bidirectional Data Synthesis Framework for Optimization Modeling",
     "https://github.com/AuroraLHL/OptMATH", "https://github.com/AuroraLHL/OptMATH", GH, "data", False),
    ("Orca: Progressive Learning from Complex Explanation Traces of GPT-4",
     "https://aka.ms/orca-lm", "https://aka.ms/orca-lm", PROJECT, "model", True),
    ("Efficient and Scalable Estimation of Tool Representations in Vector Space",
     "https://github.com/SqueezeAILab/Tool2Vec", "https://github.com/SqueezeAILab/Tool2Vec", GH, "code", False),
    ("Language Models can Self-Lengthen to Generate Long Texts",
     "https://github.com/QwenLM/Self-Lengthen", "https://github.com/QwenLM/Self-Lengthen", GH, "code", False),
    ("CRAFT: Customizing LLMs by Creating and Retrieving from Specialized Toolsets",
     "https://github.com/lifan-yuan/CRAFT", "https://github.com/lifan-yuan/CRAFT", GH, "code", False),
    ("SwissNYF: Tool Grounded LLM Agents for Black Box Setting",
     "https://github.com/iclr-dummy-user/SwissNYF", "https://github.com/iclr-dummy-user/SwissNYF", GH, "code", False),
    ("Alice in Wonderland: Simple Tasks Showing Complete Reasoning Breakdown in State-Of-the-Art Large Language "
     "Models", "https://github.com/LAION-AI/AIW", "https://github.com/LAION-AI/AIW", GH, "code", False),
    ("Parameter Competition Balancing for Model Merging",
     "https://github.com/duguodong7/pcb-merging", "https://github.com/duguodong7/pcb-merging", GH, "code", False),
    ("Advancing Language Model Reasoning through Reinforcement Learning and Inference Scaling",
     "https://github.com/THUDM/T1", "https://github.com/THUDM/T1", GH, "model", True),
    ("TokenFormer: Rethinking Transformer Scaling with Tokenized Model Parameters",
     "https://github.com/Haiyang-W/TokenFormer", "https://github.com/Haiyang-W/TokenFormer", GH, "code", False),
    ("LongWriter: Unleashing 10,000+ Word Generation from Long Context LLMs",
     "https://github.com/THUDM/LongWriter", "https://github.com/THUDM/LongWriter", GH, "code", False),
]


@pytest.fixture(scope="module")
def papers() -> list[Paper]:
    return list(read_papers(SEED))


def test_seed_has_113_papers_with_the_page_header_skipped(papers: list[Paper]) -> None:
    assert len(papers) == 113
    assert papers[0].title == "Towards Lifelong Learning of Large Language Models: A Survey"
    assert papers[-1].title.startswith("A Comprehensive Survey of Small Language Models")
    assert not any(p.title in ("new", "Subscribe", "Mar 14") for p in papers)


def test_seed_gives_exactly_34_urls_in_32_papers(papers: list[Paper]) -> None:
    assert sum(len(p.links) for p in papers) == 34
    assert sum(1 for p in papers if p.links) == 32


def test_each_seed_url_is_found_in_its_paper(papers: list[Paper]) -> None:
    got = [(p.title, link.url, link.normalized, link.kind) for p in papers for link in p.links]
    assert got == [row[:4] for row in EXPECTED]


def test_seed_claims_and_promises(papers: list[Paper]) -> None:
    got = [(link.url, link.claim, link.promise) for p in papers for link in p.links]
    assert got == [(row[1], row[4], row[5]) for row in EXPECTED]


def test_seed_ids_are_title_slugs_and_unique(papers: list[Paper]) -> None:
    ids = [p.id for p in papers]
    assert len(set(ids)) == len(ids)
    assert papers[0].id == "towards-lifelong-learning-of-large-language-models-a-survey"


def test_seed_claims_without_url(papers: list[Paper]) -> None:
    by_title = {p.title: p for p in papers}
    # "The training code of our models is freely available." and no URL anywhere
    assert by_title["Large Concept Models: Language Modeling in a Sentence Representation Space"].claims_without_url \
        == ("code",)
    # "We release the model parameters to the research community."
    assert by_title["InvestLM: A Large Language Model for Investment using Financial Domain Instruction Tuning"] \
        .claims_without_url == ("model",)
    # "...visual instruction-following data, is open-sourced."
    assert "data" in next(p for t, p in by_title.items() if t.startswith("MMSci")).claims_without_url
    # Open-source models used, not released: no claim.
    assert next(p for t, p in by_title.items() if t.startswith("ToolLLM")).claims_without_url == ()
    # A claim that comes with its URL is not a claim without one.
    assert by_title["OpenELM: An Efficient Language Model Family with Open-source Training and Inference Framework"] \
        .claims_without_url == ()


def test_seed_as_jsonl(papers: list[Paper]) -> None:
    lines = format_papers(papers, "jsonl").splitlines()
    assert len(lines) == 113
    records = [json.loads(line) for line in lines]
    octopus = next(r for r in records if r["title"] == "Octopus v4: Graph of language models")
    assert octopus["links"][1] == {
        "url": "https://huggingface.co/NexaAIDev/Octopus-v4",
        "normalized": "https://huggingface.co/NexaAIDev/Octopus-v4",
        "kind": "hf-model",
        "claim": "model",
        "promise": False,
        "owner": "NexaAIDev",
        "name": "Octopus-v4",
    }
    assert [Paper.from_dict(r) for r in records] == papers
