"""The Hugging Face daily papers feed as an input, through huggingface_hub against the simulated Hub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from checks.settings import CheckSettings, RemapRule
from flows.cli import main
from simweb import SimulatedWeb

SCENARIO = {
    "github": {"repos": [{"full_name": "lab/daily-code"}]},
    "hub": {"papers": [
        {"id": "2404.00001", "title": "A Daily Paper", "summary": "We release data at https://huggingface.co/datasets/lab/daily-data.",
         "submitted_on_daily_at": "2024-04-23", "github_repo": "https://github.com/lab/daily-code",
         "project_page": "https://daily.example.org/"},
        {"id": "2404.00002", "title": "Another Day", "summary": "No links here.", "submitted_on_daily_at": "2024-04-24"},
    ]},
    "web": {"https://daily.example.org/": {"title": "Daily project"}},
}


def test_extract_reads_one_day_of_the_feed(sim: SimulatedWeb) -> None:
    result = CliRunner().invoke(main, ["extract", "--hf-daily", "2024-04-23", "--hf-endpoint", sim.hf_endpoint, "--format", "json"])
    assert result.exit_code == 0, result.output
    papers = json.loads(result.stdout)  # the papers; how the feed was read goes to stderr
    assert [(p["id"], p["title"]) for p in papers] == [("2404.00001", "A Daily Paper")]
    assert result.stderr == "hf-daily:2024-04-23: read as paper records (title and abstract): 1 paper, 1 link\n"
    urls = [link["normalized"] for link in papers[0]["links"]]
    assert "https://huggingface.co/datasets/lab/daily-data" in urls
    # list_daily_papers leaves github_repo/project_page unset (the real API nests them), so only the summary's URLs come
    # through; see simweb/README.md "Fidelity notes"


def test_a_bad_date_is_one_line_and_exit_2() -> None:
    result = CliRunner().invoke(main, ["extract", "--hf-daily", "2024-13-40"])
    assert result.exit_code == 2
    assert result.output.strip() == "paperwatch: error: --hf-daily 2024-13-40: expected a date as YYYY-MM-DD"


def test_an_unreachable_feed_is_one_line_and_exit_2() -> None:
    result = CliRunner().invoke(main, ["extract", "--hf-daily", "2024-04-23", "--hf-endpoint", "http://127.0.0.1:9"])
    assert result.exit_code == 2 and "daily papers feed could not be read" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.prefect
def test_the_monitor_follows_the_daily_feed(prefect_api: None, sim: SimulatedWeb, tmp_path: Path) -> None:
    from flows.monitor import monitor

    settings = CheckSettings(github_api_url=sim.github_api_url, hf_endpoint=sim.hf_endpoint, timeout=3, retries=0,
                             remap_rules=tuple(RemapRule.parse(r) for r in sim.remap_rules)).to_dict()
    result = monitor(sources=["hf-daily:2024-04-23"], db=str(tmp_path / "h.sqlite"), out=str(tmp_path / "out"), settings=settings)
    report = json.loads(Path(result["json"]).read_text())
    assert [p["title"] for p in report["papers"]] == ["A Daily Paper"]
    assert report["run"]["sources"] == ["hf-daily:2024-04-23"]
