"""The ML Code Completeness Checklist (Papers with Code, ``releasing-research-code``), scored per repository.

Five items: dependencies, training code, evaluation code, pre-trained models, results. A
repository meets an item when its root listing or its README shows it, by the conventions
research READMEs share: files at the root (``requirements.txt``, ``train.py``, ``*.pth``),
sections (Installation, Training, Evaluation, Pre-trained models, Results), the template's
fenced blocks with the info strings ``setup``, ``train`` and ``eval``, commands in the text
(``pip install``, ``python train.py``, ``python main.py eval``), links to weights (Hub models, release
assets, cloud storage on a line about models) and a table of numbers or a figure under a results heading.
When nothing names training, the entry point that runs the experiments (``main.py``, ``run.sh``) is taken
as the training code, as the checklist's 2019 hand labels take it. A promise is not an item: a section that
only says "coming soon", or an unticked to-do ("- [ ] Release training code"), leaves the item missing with
the README's words as the reason, unless something concrete (a root script, a command, a weights link) is there.

Only what a repository check already reads is used: the root entries (directories end with
``/``) and the README as Markdown. Deeper files (``src/train.py``) are seen only when the
README names them. When the listing or the README could not be read the repository is
*unscored*, never 0: a score is a claim about what is there.

Everything here is pure and knows no repository by name: the same rules run on any README.

Size: one scorer with five items, each a few readable rules over the same parsed README; split
apart, the shared parsing (sections, fences, tables, commands) would be passed between modules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ITEMS = ("dependencies", "training", "evaluation", "pretrained_model", "results")
MAX_README_CHARS = 400_000  # a README longer than this is read up to here (linear regexes, bounded work)
MAX_LINE_CHARS = 2000  # headings, tables and images are looked for in a line's first characters
MAX_HEADING_CHARS = 200  # longer "headings" are prose a renderer would not show as one

MISSING = {
    "dependencies": "no requirements file, install section or install command found",
    "training": "no training script or section found",
    "evaluation": "no evaluation script or section found",
    "pretrained_model": "no pre-trained model link, section or weights file found",
    "results": "no results table or figure found",
}


# --- the result -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """One checklist item: met or not, and why (what was found, or what was looked for)."""

    name: str
    met: bool
    reason: str


@dataclass(frozen=True)
class Completeness:
    """A repository's checklist: five items and their score, or why it could not be scored."""

    items: tuple[Item, ...] = ()
    unscored: str | None = None  # why there is no score (the listing or the README was not read)

    @property
    def score(self) -> int | None:
        """0-5, or None when unscored (never 0 for "could not see")."""
        return None if self.unscored is not None else sum(item.met for item in self.items)

    def item(self, name: str) -> Item | None:
        return next((item for item in self.items if item.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """``{"score": 3, "items": {"training": {"met": false, "reason": "..."}, ...}}``, or
        ``{"score": null, "unscored": "..."}``: the JSON stored in a repository's facts."""
        if self.unscored is not None:
            return {"score": None, "unscored": self.unscored}
        return {"score": self.score, "items": {item.name: {"met": item.met, "reason": item.reason} for item in self.items}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Completeness":
        if data.get("unscored") is not None:
            return cls(unscored=str(data["unscored"]))
        items = data.get("items") or {}
        return cls(items=tuple(Item(name, bool(value.get("met")), str(value.get("reason", "")))
                               for name, value in items.items()))


def unscored(reason: str) -> Completeness:
    return Completeness(unscored=reason)


# --- the README as blocks -------------------------------------------------------------------------

@dataclass(frozen=True)
class Heading:
    level: int
    text: str  # plain words (markup, link targets and emoji dropped)
    title: bool = False  # the README's first heading, at the top of its hierarchy: the project's name, not a section


@dataclass(frozen=True)
class Readme:
    """A README split the way a reader sees it: headings, fenced blocks, tables, images, links."""

    text: str
    prose: str  # the text outside fenced blocks
    fences: tuple[tuple[str, str], ...]  # (info string's first word, lowercase; the block's text)
    headings: tuple[tuple[int, tuple[Heading, ...]], ...]  # (line number, the heading path down to it)
    tables: tuple[tuple[int, tuple[str, ...]], ...]  # (line of the header row, the cells of its body rows)
    images: tuple[int, ...]  # line numbers of images
    lines: tuple[str, ...]  # every line, fences included (for the headings a line sits under)
    section_ends: tuple[int, ...] = ()  # per heading: the line where its section (subsections included) ends

    def body(self, index: int) -> str:
        """The text under the ``index``-th heading, its subsections included."""
        return "\n".join(self.lines[self.headings[index][0] + 1:self.section_ends[index]])

    def path_at(self, line: int) -> tuple[Heading, ...]:
        """The headings a line sits under, outermost first."""
        path: tuple[Heading, ...] = ()
        for start, heading_path in self.headings:
            if start > line:
                break
            path = heading_path
        return path


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^\s`{]*)")  # ```python, ~~~setup, ```{r}: the first word
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")  # "## Training ##"
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")  # the underline of "Training\n========"
_HTML_HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1\s*>", re.IGNORECASE)
_BOLD_LINE = re.compile(r"^ {0,3}(?:\*\*|__)([^*_\n]{2,80})(?:\*\*|__):?[ \t]*$")  # "**Training**" alone on a line
_TABLE_RULE = re.compile(r"^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*$")  # |---|:--:|
_HTML_TABLE = re.compile(r"<table\b", re.IGNORECASE)
_HTML_CELL = re.compile(r"<t[dh]\b[^>]*>(.*?)</t[dh]\s*>", re.IGNORECASE | re.DOTALL)
_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\s]+|<img\b", re.IGNORECASE)
_MARKUP = re.compile(r"<[^>\n]*>|!?\[([^\]\n]*)\]\([^)\n]*\)|[*_`~#:|]+")  # tags, links (their text kept), emphasis


def _plain_heading(text: str) -> str:
    """A heading's words: markup, links' targets and emoji dropped, lowercase, spaces collapsed."""
    text = _MARKUP.sub(lambda m: f" {m.group(1) or ''} ", text[:MAX_HEADING_CHARS])
    return " ".join(re.sub(r"[^\w+.\- /&]", " ", text).split())


def _split_cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def parse(markdown: str) -> Readme:
    """Headings (ATX, setext, HTML, bold-only lines), fenced blocks, pipe and HTML tables, images."""
    text = markdown[:MAX_README_CHARS].replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    prose: list[str] = []
    fences: list[tuple[str, str]] = []
    found: list[tuple[int, int, str]] = []  # (line, level, plain text)
    tables: list[tuple[int, tuple[str, ...]]] = []
    images: list[int] = []
    fence: tuple[str, str, int] | None = None  # (marker, info, first line)
    for number, line in enumerate(lines):
        if fence is not None:
            marker = fence[0]
            if line.strip().startswith(marker) and set(line.strip()) == {marker[0]} and len(line.strip()) >= len(marker):
                fences.append((fence[1], "\n".join(lines[fence[2] + 1:number])))
                fence = None
            continue
        if (opened := _FENCE.match(line)) and not (opened.group(1)[0] == "`" and "`" in line[opened.end():]):
            fence = (opened.group(1), opened.group(2).lower().strip("{}"), number)
            continue
        prose.append(line)
        line = line[:MAX_LINE_CHARS]  # structure is read from a line's start: no pattern scans a huge line
        if (atx := _ATX.match(line)) and atx.group(2):
            found.append((number, len(atx.group(1)), _plain_heading(atx.group(2))))
        elif (_SETEXT.match(line) and number and lines[number - 1].strip() and not _TABLE_RULE.match(line)
              and not lines[number - 1].lstrip().startswith(("|", "-", "*", "#")) and len(line.strip()) >= 2):
            found.append((number - 1, 1 if line.strip()[0] == "=" else 2, _plain_heading(lines[number - 1])))
        elif bold := _BOLD_LINE.match(line):
            found.append((number, 6, _plain_heading(bold.group(1))))
        for html in _HTML_HEADING.finditer(line):
            found.append((number, int(html.group(1)), _plain_heading(html.group(2))))
        if _TABLE_RULE.match(line) and number and "|" in lines[number - 1]:
            body = []
            for row in lines[number + 1:number + 200]:
                if "|" not in row or not row.strip() or _TABLE_RULE.match(row[:MAX_LINE_CHARS]):
                    break
                body += _split_cells(row)
            tables.append((number - 1, tuple(body)))
        if _HTML_TABLE.search(line):
            tables.append((number, tuple(_plain_cell(c) for c in _HTML_CELL.findall("\n".join(lines[number:number + 400])))))
        if _IMAGE.search(line):
            images.append(number)
    if fence is not None:  # an unclosed fence runs to the end, as renderers show it
        fences.append((fence[1], "\n".join(lines[fence[2] + 1:])))
    headings = _paths(found, next((n for n, x in enumerate(lines) if x.strip()), 0))
    return Readme(text=text, prose="\n".join(prose), fences=tuple(fences), headings=headings,
                  tables=tuple(tables), images=tuple(images), lines=tuple(lines), section_ends=_ends(headings, len(lines)))


def _ends(headings: Sequence[tuple[int, tuple[Heading, ...]]], total: int) -> tuple[int, ...]:
    """Where each heading's section ends: at the next heading as high or higher, else at the end (one pass)."""
    ends = [total] * len(headings)
    open_: list[int] = []  # indexes of headings whose section is still open, levels increasing
    for index, (line, path) in enumerate(headings):
        while open_ and headings[open_[-1]][1][-1].level >= path[-1].level:
            ends[open_.pop()] = line
        open_.append(index)
    return tuple(ends)


def _plain_cell(cell: str) -> str:
    return re.sub(r"<[^>]*>", " ", cell).strip()


def _paths(found: Iterable[tuple[int, int, str]], first_line: int) -> tuple[tuple[int, tuple[Heading, ...]], ...]:
    """Each heading with the headings above it (a "### CIFAR-10" under "## Results" keeps both)."""
    stack: list[Heading] = []
    out = []
    found = sorted((line, level, text) for line, level, text in found if text)
    top = min((level for _, level, _ in found), default=1)
    for index, (line, level, text) in enumerate(found):
        while stack and stack[-1].level >= level:
            stack.pop()
        # the title: the first heading, at the top level, an <h1> or the README's first line
        stack.append(Heading(level, text, title=index == 0 and level == top and (level == 1 or line <= first_line)))
        out.append((line, tuple(stack)))
    return tuple(out)


# --- the signals ----------------------------------------------------------------------------------

# Root files that pin an environment: pip, conda, setuptools, Poetry, Pipenv, Docker, R packages.
DEPENDENCY_FILE = re.compile(
    r"^(requirements[\w.-]*\.(txt|in)|environment[\w.-]*\.ya?ml|conda[\w.-]*\.ya?ml|env\.ya?ml|setup\.py|setup\.cfg"
    r"|pyproject\.toml|pipfile(\.lock)?|poetry\.lock|dockerfile[\w.-]*|docker-compose\.ya?ml|install(\.md|\.sh|\.txt)?"
    r"|description|renv\.lock|cargo\.toml|package\.json|project\.toml)$", re.IGNORECASE)
DEPENDENCY_DIR = re.compile(r"^(docker|env|envs|environments?|requirements)/$", re.IGNORECASE)
# Install commands anywhere in the README (code blocks, inline code, prose).
DEPENDENCY_COMMAND = re.compile(
    r"\bpip3?\s+install\b|\bconda\s+(env\s+create|create|install)\b|\bmamba\s+(env\s+create|create|install)\b"
    r"|\bpython3?\s+setup\.py\s+(install|develop)\b|\bpoetry\s+install\b|\bpipenv\s+install\b|\buv\s+(sync|pip\s+install)\b"
    r"|\bdocker\s+(build|pull)\b|\binstall\.packages\(|\binstall_github\(|\bPkg\.(add|instantiate)\b",
    re.IGNORECASE)
# Section headings: "Installation", "Requirements", "Prerequisites", "Dependencies", "Setup", "Environment".
# A data set's setup ("Data setup", "Dataset preparation") is about data, not the environment.
DEPENDENCY_HEADING = re.compile(
    r"\b(install|installation|installing|requirements?|prerequisites?|dependenc(y|ies)|environment|conda)\b"
    r"|(?<!data )(?<!dataset )\bset\s?-?up\b", re.IGNORECASE)

# File and script names are split into words ("train_net.py" -> train, net; "gapBoostTrain.m" -> gap, boost, train).
CODE_SUFFIX = re.compile(r"\.(py|sh|bash|m|lua|jl|r|ipynb|cpp|cu|c|java|scala|js|ts|rs|go|pl|swift)$", re.IGNORECASE)
TRAIN_WORDS = frozenset({"train", "training", "finetune", "finetuning", "pretrain", "pretraining", "fit"})
EVAL_WORDS = frozenset({"eval", "evaluate", "evaluation", "test", "testing", "inference", "infer", "predict",
                        "prediction", "benchmark", "validate", "validation", "val"})
# A research repository's entry point runs its experiments, which is how its method is trained or fit ("main.py",
# "run.sh", "modular_main.py", "run_experiments.py"); an entry point named for something else is not ("run_eval.sh",
# "main_demo.py", "run_download.sh").
ENTRY_WORDS = frozenset({"main", "run"})
NOT_TRAINING_WORDS = EVAL_WORDS | frozenset({"demo", "download", "setup", "install", "preprocess", "prepare", "plot",
                                             "visualize", "visualise", "visualization", "viz", "app", "server", "gui",
                                             "docs", "lint", "format", "clean"})
TRAIN_DIR = re.compile(r"^(train|training|trainer|finetune|finetuning)/$", re.IGNORECASE)
EVAL_DIR = re.compile(r"^(eval|evaluation|evaluate|evaluations|benchmarks?|inference)/$", re.IGNORECASE)  # not tests/: unit tests
# A script named in the README: "python tools/train_net.py", "bash scripts/train.sh", "[eval.py](eval.py)".
SCRIPT = re.compile(r"(?<![\w./-])[\w./-]{0,200}\.(py|sh|m|lua|jl|r|ipynb)\b", re.IGNORECASE)
# Commands are read line by line after a launcher ("python", "torchrun", "make"), so that no pattern scans a line
# more than once (a hostile README of "python python python ..." stays linear).
LAUNCHER = re.compile(r"\b(python\d?(\.\d+)?|torchrun|deepspeed|accelerate\s+launch|make)\b", re.IGNORECASE)
# A command setting optimisation hyperparameters trains: "python main.py --n_epochs=400 --learning_rate=0.2".
# (Not the batch size: evaluation commands set it too.)
TRAIN_HYPERPARAMETER = re.compile(r"--[\w-]*?(epochs?|(?<![a-z])lr|learning[_-]?rate|max[_-]?steps|train[_-]?steps"
                                  r"|optimi[sz]ation[_-]?steps|optimi[sz]er|warmup[\w-]*|weight[_-]?decay)\b", re.IGNORECASE)
TRAIN_FLAG = re.compile(r"--do_train\b|--train\b|--mode[= ]train\b", re.IGNORECASE)
EVAL_FLAG = re.compile(r"--do_eval\b|--do_predict\b|--eval\b|--evaluate\b|--test\b|--mode[= ](test|eval)\b", re.IGNORECASE)
# A script's subcommand: "python main.py train --config c.yaml", "python3 run_schedule.py benchmark --model x".
SUBCOMMAND = re.compile(r"^\s+(\S{1,200}?\.py)\s+([a-z][\w-]{1,30})\b", re.IGNORECASE)
TRAIN_TARGET = re.compile(r"\s+(train)\b", re.IGNORECASE)  # "make train"
EVAL_TARGET = re.compile(r"\s+(eval|evaluate|test)\b", re.IGNORECASE)  # "make eval"
MAX_COMMAND_CHARS = 2000  # a command line longer than this is read up to here
# "Training", "Train a model", "Fine-tuning"; not "Training data" (a data set) nor "Pre-trained models" (weights).
TRAIN_HEADING = re.compile(r"\b(train|training|fine-?tun(e|ing)|re-?train(ing)?)\b(?!\s+(data|set|dataset|images|split)s?\b)",
                           re.IGNORECASE)
# "Evaluation", "Test on COCO", "Testing", "Inference", "Benchmark", "Reproducing the results"; not unit tests.
EVAL_HEADING = re.compile(r"\b(eval|evaluat\w*|test|testing|inference|benchmark(ing)?|validat\w*|reproduc\w*)\b",
                          re.IGNORECASE)
# "Running experiments", "Reproducing the experiments", "Experiments": evaluation when the section runs something
# (a README that only points at other repositories for its experiments does not).
EXPERIMENT_HEADING = re.compile(r"^((running|run|reproduc\w*|replicat\w*)\s+(the\s+|our\s+)?)?experiments?\b", re.IGNORECASE)
RUN_COMMAND = re.compile(r"^\s*(\$\s*)?(python\d?(\.\d+)?|bash|sh|\./|torchrun|deepspeed|accelerate\s+launch|julia|rscript"
                         r"|matlab|th|lua|make)\b", re.IGNORECASE | re.MULTILINE)
NOT_EVAL_HEADING = re.compile(r"\bunit\s+tests?\b|\btest(ing)?\s+(data|set|dataset|split)s?\b", re.IGNORECASE)

# A section that only promises ("## Training\n\nComing soon.") is not the item; nor is an empty one.
PROMISE = re.compile(r"coming soon|\bsoon\b|will be (released|available|made (public|available)|open[- ]?sourced|uploaded"
                     r"|updated|added)|to be (released|added|updated)|stay tuned|under construction|\btbd\b|\btodo\b"
                     r"|not (yet )?(been )?(released|available)|\b(will|plan to|going to) (release|upload|open[- ]?source|publish)\b",
                     re.IGNORECASE)
SUBSTANCE = re.compile(r"^ {0,3}(`{3,}|~{3,})|https?://|\]\(|`[^`\n]+`", re.MULTILINE)  # a block, a link, inline code
MAX_PROMISE_CHARS = 300  # a longer section says more than a promise
# "- [ ] Release training code", "The training code will be released soon": the README says an item is not out yet.
UNCHECKED_TASK = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+\[ \]\s+(.{1,300})", re.IGNORECASE)
UNRELEASED_WORDS = {
    "training": re.compile(r"\b(train(ing)?|fine-?tun(e|ing))\b(?!\s+(data|set|dataset|images|split|log)s?\b)", re.IGNORECASE),
    "evaluation": re.compile(r"\b(eval(uation)?|inference)\b(?!\s+(data|set|dataset|split)s?\b)", re.IGNORECASE),
    "pretrained_model": re.compile(r"\b(pre-?trained|checkpoints?|weights|models?)\b", re.IGNORECASE),
}
RELEASE_CONTEXT = re.compile(r"\b(releas\w*|upload\w*|open[- ]?sourc\w*|publish\w*|code|scripts?|weights|checkpoints?)\b",
                             re.IGNORECASE)

WEIGHT_SUFFIX = re.compile(r"\.(pth|pt|ckpt|safetensors|h5|onnx|pb|gguf|caffemodel|pdparams|t7|npz|pth\.tar|ckpt\.tar)$",
                           re.IGNORECASE)
WEIGHT_DIR = re.compile(r"^(checkpoints?|ckpts?|pretrained[\w-]*|pre-trained[\w-]*|weights|trained_models?|model_zoo"
                        r"|saved_models|models?_weights)/$", re.IGNORECASE)
# "Pre-trained models", "Checkpoints", "Model zoo", "Weights", "Download the models", "Trained models".
PRETRAINED_HEADING = re.compile(
    r"\b(pre-?trained|checkpoints?|model\s+zoo|weights|trained\s+models?|released\s+models?"
    r"|download(ing)?\s+(the\s+|our\s+)?(pre-?trained\s+)?models?)\b", re.IGNORECASE)
URL = re.compile(r"https?://[^\s<>()\"'\]]+", re.IGNORECASE)
HUB_MODEL = re.compile(r"^https?://(huggingface\.co|hf\.co)/(?!datasets/|spaces/|papers/|docs/|blog/|collections/)"
                       r"[\w.-]+/[\w.-]+", re.IGNORECASE)
RELEASE_ASSET = re.compile(r"^https?://github\.com/[^/]+/[^/]+/releases/download/", re.IGNORECASE)
WEIGHT_URL = re.compile(r"\.(pth|pt|ckpt|safetensors|h5|onnx|pb|gguf|caffemodel|pdparams|t7|pth\.tar|ckpt\.tar)(\?|#|$)",
                        re.IGNORECASE)
# Shared storage: a model when the line (or its table row, or its section) is about models or weights.
STORAGE = re.compile(
    r"^https?://([\w-]+\.)*(drive\.google\.com|docs\.google\.com|dropbox\.com|dropboxusercontent\.com|amazonaws\.com"
    r"|zenodo\.org|figshare\.com|onedrive\.live\.com|1drv\.ms|sharepoint\.com|pan\.baidu\.com|box\.com|mega\.nz"
    r"|storage\.googleapis\.com|github\.com/[^/]+/[^/]+/releases)", re.IGNORECASE)
MODEL_WORDS = re.compile(r"\b(models?|weights?|checkpoints?|ckpts?|pre-?trained|trained|snapshots?)\b", re.IGNORECASE)

# "Results", "Performance", "Benchmark", "Main results", "Accuracy", "Experiments", "Leaderboard".
RESULTS_HEADING = re.compile(r"\b(results?|performance|benchmarks?|accuracy|experiments?|leaderboard|comparisons?"
                             r"|model\s+zoo|evaluation)\b", re.IGNORECASE)
# A cell that is a measurement: "38.7", "0.686", "22.4 / 6.3", "**19.4**", "76.1%", "15 ± 7" (a link's text counts);
# a bare integer ("800", "90k") is more often a setting than a result.
NUMBER_CELL = re.compile(r"^[*_~\s]*[-+]?\d+(\.\d+|\.?\d*%|\s*(±|\+-|\+/-)\s*\d)[\d.%*_~\s]*((/|±|\+-|\+/-|\(|,)\s*[-+]?\d+(\.\d+)?%?\)?[*_~\s]*)*$")
_LINK_TEXT = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
NUMBER_CELLS = 2  # a table with this many measurement cells reports results


def _words(name: str) -> set[str]:
    """A file name's words: "train_net.py" -> {train, net}; "gapBoostTrain.m" -> {gap, boost, train}."""
    stem = CODE_SUFFIX.sub("", name.rstrip("/"))
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", stem)
    return {word.lower() for word in re.split(r"[\s_.\-/]+", spaced) if word}


def _script_names(text: str) -> list[str]:
    return [match.group(0) for match in SCRIPT.finditer(text)]


def _after_launcher(readme: Readme, flags: re.Pattern[str], target: re.Pattern[str] | None = None) -> str | None:
    """The first of ``flags`` in a command, after its launcher ("python x.py --eval" -> "--eval"), or a make
    ``target`` ("make eval")."""
    for line in readme.lines:
        launcher = LAUNCHER.search(line[:MAX_COMMAND_CHARS])
        if launcher is None:
            continue
        rest = line[launcher.end():MAX_COMMAND_CHARS]
        if launcher.group(1).lower() == "make":
            if target is not None and (goal := target.match(rest)):
                return f"make {goal.group(1)}"
        elif found := flags.search(rest):
            return found.group(0)
    return None


def _heading_hits(readme: Readme, pattern: re.Pattern[str], exclude: re.Pattern[str] | None = None) -> list[str]:
    """The sections whose heading matches and whose body says something (not empty, not only a promise)."""
    return [text for index, text in _sections(readme, pattern, exclude) if not _only_promises(readme.body(index))]


def _sections(readme: Readme, pattern: re.Pattern[str], exclude: re.Pattern[str] | None = None) -> Iterator[tuple[int, str]]:
    """(index, heading text) of each section whose heading matches ``pattern`` and not ``exclude`` (the title is none)."""
    for index, (_, path) in enumerate(readme.headings):
        text = path[-1].text
        if not path[-1].title and pattern.search(text) and not (exclude and exclude.search(text)):
            yield index, text


def _only_promises(body: str) -> bool:
    """Empty, or a few words that promise ("Coming soon.", "TBD"), with no block, link or inline code."""
    plain = " ".join(body.split())
    return not plain or (len(plain) <= MAX_PROMISE_CHARS and not SUBSTANCE.search(body) and bool(PROMISE.search(plain)))


def _promised_section(readme: Readme, pattern: re.Pattern[str], exclude: re.Pattern[str] | None = None) -> str | None:
    """The first section for an item that only promises it ("## Training" / "Coming soon."), quoted."""
    for index, text in _sections(readme, pattern, exclude):
        body = readme.body(index)
        if body.strip() and _only_promises(body):
            return f"{text[:40]}: {_plain(body)[:60]}"
    return None


def _unreleased(readme: Readme, item: str) -> str | None:
    """Where the README says ``item`` is not out yet: an unchecked task ("- [ ] Release training code") or a line
    that promises it ("The training code will be released soon"); the words, quoted."""
    words = UNRELEASED_WORDS[item]
    for line in readme.prose.split("\n"):
        task = UNCHECKED_TASK.match(line[:MAX_LINE_CHARS])
        text = task.group(1) if task else line[:MAX_LINE_CHARS]
        if words.search(text) and RELEASE_CONTEXT.search(text) and (task or PROMISE.search(text)):
            return _plain(text)[:80]
    return None


def _plain(text: str) -> str:
    """Words to quote in a reason: markup dropped, link text kept, spaces collapsed."""
    return " ".join(_MARKUP.sub(lambda m: f" {m.group(1) or ''} ", text).split())


def _experiment_section(readme: Readme) -> str | None:
    """An experiments section (subsections included) whose body has a command that runs something."""
    starts = [(line, path[-1]) for line, path in readme.headings]
    for index, (line, heading) in enumerate(starts):
        if heading.title or not EXPERIMENT_HEADING.search(heading.text):
            continue
        end = next((other for other, below in starts[index + 1:] if below.level <= heading.level), len(readme.lines))
        if RUN_COMMAND.search("\n".join(readme.lines[line + 1:end])):
            return _section(heading.text)
    return None


def _first(*signals: str | None) -> str | None:
    """Up to two signals, strongest first, as one reason ("requirements.txt; Installation section")."""
    found = [signal for signal in signals if signal]
    return "; ".join(found[:2]) or None


def _section(title: str) -> str:
    return f'"{title[:60]}" section'


def _files(root: Sequence[str], pattern: re.Pattern[str], directories: bool = False) -> str | None:
    names = [name for name in root if name.endswith("/") == directories and pattern.match(name)]
    return ", ".join(names[:2]) if names else None


def _named_files(root: Sequence[str], words: frozenset[str]) -> str | None:
    names = [name for name in root if not name.endswith("/") and CODE_SUFFIX.search(name) and _words(name) & words]
    return ", ".join(names[:2]) if names else None


def _named_scripts(readme: Readme, words: frozenset[str]) -> str | None:
    named = [name for name in _script_names(readme.text) if _words(name.rsplit("/", 1)[-1]) & words]
    return f"README names {named[0][-60:]}" if named else None


def _entry_point(root: Sequence[str], readme: Readme) -> str | None:
    """A root script or one the README names, named as the entry point ("main.py", "run_experiments.sh") and not
    for another job ("run_eval.sh"): it runs the experiments, which train or fit the method."""
    def entry(name: str) -> bool:
        words = _words(name.rsplit("/", 1)[-1])
        return bool(words & ENTRY_WORDS) and not words & NOT_TRAINING_WORDS
    at_root = [name for name in root if not name.endswith("/") and CODE_SUFFIX.search(name) and entry(name)]
    if at_root:
        return f"{', '.join(at_root[:2])} (entry points)" if len(at_root) > 1 else f"{at_root[0]} (the entry point)"
    named = [name for name in _script_names(readme.text) if entry(name)]
    return f"README runs {named[0][-60:]} (the entry point)" if named else None


def _subcommand(readme: Readme, words: frozenset[str]) -> str | None:
    """A script's subcommand among ``words``: "python main.py train" -> "`main.py train` in a command".
    (Not ``setup.py test``: that runs a package's unit tests.)"""
    for line in readme.lines:
        launcher = LAUNCHER.search(line[:MAX_COMMAND_CHARS])
        if launcher is None or launcher.group(1).lower() == "make":
            continue
        found = SUBCOMMAND.match(line[launcher.end():MAX_COMMAND_CHARS])
        if found and found.group(2).lower() in words and found.group(1).rsplit("/", 1)[-1].lower() != "setup.py":
            return f"`{found.group(1)[-60:]} {found.group(2)}` in a command"
    return None


def _command(flag: str | None) -> str | None:
    """A flag's reason: "`--eval` in a command", "`make train` in a command"."""
    return f"`{flag}` in a command" if flag else None


def _fence(readme: Readme, info: str) -> str | None:
    return f"`{info}` block" if any(kind == info for kind, _ in readme.fences) else None


def dependencies(root: Sequence[str], readme: Readme) -> Item:
    """Dependencies: a file pinning the environment, an install section or block, or an install command."""
    heading = _heading_hits(readme, DEPENDENCY_HEADING)
    command = DEPENDENCY_COMMAND.search(readme.text)
    reason = _first(_files(root, DEPENDENCY_FILE), _files(root, DEPENDENCY_DIR, directories=True),
                    _fence(readme, "setup"), _section(heading[0]) if heading else None,
                    f"`{' '.join(command.group(0).split())}` in the README" if command else None)
    return Item("dependencies", bool(reason), reason or MISSING["dependencies"])


def training(root: Sequence[str], readme: Readme) -> Item:
    """Training code: a train script or directory at the root, a Training section or block, a train command or
    subcommand, a command setting training hyperparameters; failing those, the entry point that runs the experiments."""
    heading = _heading_hits(readme, TRAIN_HEADING)
    flag = _after_launcher(readme, TRAIN_FLAG, TRAIN_TARGET)
    hyper = _after_launcher(readme, TRAIN_HYPERPARAMETER)
    concrete = (_named_files(root, TRAIN_WORDS), _files(root, TRAIN_DIR, directories=True), _fence(readme, "train"),
                _named_scripts(readme, TRAIN_WORDS), _command(flag), _subcommand(readme, TRAIN_WORDS),
                f"`{hyper}` (a training setting) in a command" if hyper else None)
    if unreleased := _unreleased(readme, "training") or _promised_section(readme, TRAIN_HEADING):
        return _released_or_not("training", _first(*concrete), unreleased)
    reason = _first(*concrete[:3], _section(heading[0]) if heading else None, *concrete[3:], _entry_point(root, readme))
    return Item("training", bool(reason), reason or MISSING["training"])


def _released_or_not(name: str, found: str | None, unreleased: str) -> Item:
    """An item the README says is not out yet ("- [ ] Release training code", "## Training: coming soon"): met
    only by something concrete (a file at the root, a script or command the README runs, a link to weights,
    since a to-do list is often left unticked), never by a section or an entry point alone; otherwise missing,
    with the README's words as the reason."""
    if found:
        return Item(name, True, found)
    return Item(name, False, f'the README says it is not released yet: "{unreleased}"')


def evaluation(root: Sequence[str], readme: Readme) -> Item:
    """Evaluation code: an eval/test script or directory at the root, an Evaluation section or block, an eval command
    or subcommand, an experiments section that runs something."""
    heading = _heading_hits(readme, EVAL_HEADING, NOT_EVAL_HEADING)
    flag = _after_launcher(readme, EVAL_FLAG, EVAL_TARGET)
    concrete = (_named_files(root, EVAL_WORDS), _files(root, EVAL_DIR, directories=True), _fence(readme, "eval"),
                _named_scripts(readme, EVAL_WORDS), _command(flag), _subcommand(readme, EVAL_WORDS))
    if unreleased := _unreleased(readme, "evaluation") or _promised_section(readme, EVAL_HEADING, NOT_EVAL_HEADING):
        return _released_or_not("evaluation", _first(*concrete), unreleased)
    reason = _first(*concrete[:3], _section(heading[0]) if heading else None, *concrete[3:], _experiment_section(readme))
    return Item("evaluation", bool(reason), reason or MISSING["evaluation"])


def _model_link(readme: Readme) -> str | None:
    """A link to weights: a Hub model, a release asset, a weights file, or storage on a line about models."""
    for number, line in enumerate(readme.lines):
        for url in URL.findall(line):
            url = url.rstrip(".,;:")
            if HUB_MODEL.match(url):
                return "Hugging Face model link"
            if RELEASE_ASSET.match(url):
                return "release asset link"
            if WEIGHT_URL.search(url):
                return "weights file link"
            if STORAGE.match(url):
                context = " ".join([line, _table_header(readme, number), *(h.text for h in readme.path_at(number))])
                if MODEL_WORDS.search(URL.sub(" ", context)):
                    host = re.sub(r"^https?://(www\.)?", "", url).split("/", 1)[0]
                    return f"model link ({host})"
    return None


def _table_header(readme: Readme, number: int) -> str:
    """The header row of the table a line is a row of ("| Model | AP | Download |"), or ""."""
    if not readme.lines[number].lstrip().startswith("|"):
        return ""
    start = number
    while start > 0 and number - start < 500 and readme.lines[start - 1].lstrip().startswith("|"):
        start -= 1
    return readme.lines[start]


def pretrained_model(root: Sequence[str], readme: Readme, releases: int | None = None) -> Item:
    """Pre-trained models: weights at the root, a Pre-trained models section, or a link to weights."""
    heading = _heading_hits(readme, PRETRAINED_HEADING)
    there = (_files(root, WEIGHT_SUFFIX_NAME), _files(root, WEIGHT_DIR, directories=True), _model_link(readme))
    if unreleased := _unreleased(readme, "pretrained_model") or _promised_section(readme, PRETRAINED_HEADING):
        return _released_or_not("pretrained_model", _first(*there), unreleased)
    reason = _first(*there, _section(heading[0]) if heading else None)
    if reason:
        return Item("pretrained_model", True, reason)
    extra = f" ({releases} release{'s' if releases != 1 else ''}; their assets are not read)" if releases else ""
    return Item("pretrained_model", False, MISSING["pretrained_model"] + extra)


WEIGHT_SUFFIX_NAME = re.compile(r"^[^/]+" + WEIGHT_SUFFIX.pattern, re.IGNORECASE)


def results(readme: Readme) -> Item:
    """Results: a table of measurements anywhere, or a table or figure under a results heading."""
    for line, cells in readme.tables:
        path = readme.path_at(line)
        under = next((h.text for h in reversed(path) if not h.title and RESULTS_HEADING.search(h.text)), None)
        if sum(bool(NUMBER_CELL.match(_LINK_TEXT.sub(r"\1", cell))) for cell in cells) >= NUMBER_CELLS:
            return Item("results", True, f"table of numbers under {_section(path[-1].text)}" if path else "table of numbers")
        if under and cells:
            return Item("results", True, f"table under {_section(under)}")
    for line in readme.images:
        under = next((h.text for h in reversed(readme.path_at(line)) if not h.title and RESULTS_HEADING.search(h.text)),
                     None)
        if under:
            return Item("results", True, f"figure under {_section(under)}")
    return Item("results", False, MISSING["results"])


# --- the score ------------------------------------------------------------------------------------

README_NAME = re.compile(r"^readme(\.\w+)?$", re.IGNORECASE)


def readme_or_absent(root: Sequence[str] | None, readme: str | None) -> str | None:
    """The README to score: "" when the listing shows none (known absent), None when one exists but was not read."""
    if readme is not None or root is None:
        return readme
    return None if any(README_NAME.match(name) for name in root) else ""


def score_completeness(root: Sequence[str] | None, readme: str | None, *, releases: int | None = None) -> Completeness:
    """The checklist for a repository: ``root`` its root entries (directories end with ``/``), ``readme`` its
    README as Markdown ("" when it has none), ``releases`` how many releases it has if known.

    None for ``root`` or ``readme`` means it could not be read: the result is unscored, not 0.
    """
    if root is None:
        return unscored("the repository's file list could not be read")
    if readme is None:
        return unscored("the README could not be read")
    parsed = parse(readme)
    names = sorted({name.strip() for name in root if name.strip()}, key=lambda name: (name.lower(), name))
    return Completeness(items=(dependencies(names, parsed), training(names, parsed), evaluation(names, parsed),
                               pretrained_model(names, parsed, releases), results(parsed)))
