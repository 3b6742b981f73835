"""Extraction throughput and memory on a synthetic corpus: Hugging Face papers page text, or a URL list.

Why: a daily list is small, but a backfill over years of papers is not, and extraction must
stream. Each corpus size is read in a fresh interpreter so its peak memory is its own; if the
reader streams, peak memory stays flat while the corpus grows. The URL list (one URL a line,
each its own paper) is the lychee-style input: issue 16 wants 250,000 links a day.

    .venv/bin/python bench/extract_bench.py                  # 20,000 and 100,000 abstracts
    .venv/bin/python bench/extract_bench.py --sizes 1000 5000
    .venv/bin/python bench/extract_bench.py --corpus urls --sizes 250000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORDS = (
    "large language models reasoning benchmark evaluation training data alignment retrieval agents tool use "
    "multimodal vision transformer attention scaling efficient inference fine-tuning instruction tuning synthetic "
    "generation robustness safety we propose a novel framework that improves performance across tasks and "
    "domains while reducing cost our experiments show consistent gains over strong baselines on standard "
    "datasets e.g. MMLU GSM8K and HumanEval Node.js Fig.3 i.e. the results"
).split()

URL_SENTENCES = (
    "Code and models are available at https://github.com/{o}/{r}.",
    "Our code is publicly available at: https://github.com/{o}/{r}",
    "The dataset will be released at https://huggingface.co/datasets/{o}/{r}.",
    "Weights are on HuggingFace at huggingface.co/{o}/{r}, and a demo at https://huggingface.co/spaces/{o}/{r}.",
    "See the project website (https://{o}.github.io/{r}) for code, demos, and videos.",
    "The resulting models and training code are open sourced at {o}.epfl.ch.",
    r"Code: \url{{https://github.com/{o}/{r}}}.",
    "Our code and pre-trained model are available at https://{o}.github.io/{{https://{o}.github.io/}}.",
    "代码见 https://github.com/{o}/{r}。",
    "Resources are curated at **https://github.com/{o}/awesome-{r}**.",
    "More at https://aka.ms/{r} (coming soon).",
)


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(12, 28))
    return " ".join(words).capitalize() + "."


def abstract(rng: random.Random) -> str:
    parts = [sentence(rng) for _ in range(rng.randint(6, 11))]
    if rng.random() < 0.3:
        template = rng.choice(URL_SENTENCES)
        parts.append(template.format(o=f"lab{rng.randint(0, 9999)}", r=f"proj-{rng.randint(0, 99999)}"))
    if rng.random() < 0.1:
        parts.append("The training code of our models is freely available.")
    return " ".join(parts)


def write_corpus(path: Path, papers: int, seed: int = 20240314) -> int:
    """A Hugging Face papers page with ``papers`` title/abstract pairs, written as it is generated."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write("new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\n"
                  "Mar 14\n\n")
        for i in range(papers):
            out.write(f"Paper {i}: {' '.join(rng.choices(WORDS, k=8)).title()}\n\n{abstract(rng)}\n\n")
    return path.stat().st_size


URL_FORMS = (
    "https://github.com/{o}/{r}",
    "https://huggingface.co/{o}/{r}",
    "https://huggingface.co/datasets/{o}/{r}",
    "https://{o}.github.io/{r}/",
    "github.com/{o}/{r}",
    "https://arxiv.org/abs/24{n:02d}.{m:05d}",
    "www.{o}.org/{r}/index.html",
    "https://doi.org/10.5281/zenodo.{m}",
)


def write_url_list(path: Path, urls: int, seed: int = 20240314) -> int:
    """A URL list with ``urls`` lines, one URL each, written as it is generated."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for _ in range(urls):
            form = rng.choice(URL_FORMS)
            out.write(form.format(o=f"lab{rng.randint(0, 9999)}", r=f"proj-{rng.randint(0, 99999)}",
                                  n=rng.randint(1, 12), m=rng.randint(0, 99999)) + "\n")
    return path.stat().st_size


def measure(path: Path) -> dict[str, float]:
    """Run in a child process: stream every paper of ``path`` and report time and memory."""
    from checks.extract import read_papers

    base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    papers = links = 0
    for paper in read_papers(path):
        papers += 1
        links += len(paper.links)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"papers": papers, "links": links, "seconds": seconds, "base_mib": base_kib / 1024,
            "peak_mib": peak_kib / 1024}


def run_child(path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--measure", str(path)], check=True, capture_output=True,
                         text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000],
                        help="abstracts (or URLs) per corpus")
    parser.add_argument("--corpus", choices=["hf-papers", "urls"], default="hf-papers",
                        help="hf-papers: title/abstract pairs (default); urls: a URL list, one URL a line")
    parser.add_argument("--workdir", type=Path, help="where to write corpora (default: a temporary directory)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        unit = "abstracts" if args.corpus == "hf-papers" else "URLs"
        print(f"{unit:>10} {'MB':>8} {'seconds':>8} {'MB/s':>7} {'papers/s':>9} {'links':>7} "
              f"{'RSS before':>10} {'RSS peak':>9}")
        write = write_corpus if args.corpus == "hf-papers" else write_url_list
        for size in args.sizes:
            corpus = Path(tmp) / f"corpus-{size}.txt"
            mb = write(corpus, size) / 1e6
            r = run_child(corpus)
            assert r["papers"] == size, f"read {r['papers']} papers, wrote {size}"
            print(f"{size:>10,} {mb:>8.1f} {r['seconds']:>8.1f} {mb / r['seconds']:>7.2f} "
                  f"{r['papers'] / r['seconds']:>9,.0f} {r['links']:>7,} {r['base_mib']:>8.1f}Mi "
                  f"{r['peak_mib']:>7.1f}Mi", flush=True)
            corpus.unlink()


if __name__ == "__main__":
    main()
