"""The monitor flow, end to end, against the simulated web over real sockets.

PyGithub, huggingface_hub and httpx are unmodified; they reach the simulated services only
through the settings users have: the GitHub API URL, the HF endpoint and a remap rule.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from checks.settings import CheckSettings, RemapRule
from simweb import SimulatedWeb

DATA = Path(__file__).parent / "data"
SCENARIO = DATA / "e2e-scenario.yaml"
pytestmark = pytest.mark.prefect


def settings_for(sim: SimulatedWeb, **overrides: Any) -> dict[str, Any]:
    base = CheckSettings(github_api_url=sim.github_api_url, hf_endpoint=sim.hf_endpoint,
                         remap_rules=tuple(RemapRule.parse(r) for r in sim.remap_rules),
                         timeout=3.0, retries=0)
    return {**base.to_dict(), **overrides}


def links_by_url(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {link["normalized"]: link for paper in report["papers"] for link in paper["links"]}


def test_each_kind_of_link_gets_the_state_the_world_gives_it(prefect_api: None, sim: SimulatedWeb, tmp_path: Path) -> None:
    from flows.monitor import monitor

    result = monitor(sources=[str(DATA / "e2e-papers.md")], db=str(tmp_path / "h.sqlite"), out=str(tmp_path / "out"),
                     settings=settings_for(sim))

    report = json.loads((tmp_path / "out" / "report.json").read_text())
    links = links_by_url(report)
    states = {url: link["state"] for url, link in links.items()}
    assert states == {
        "https://github.com/lab/alive-repo": "alive",
        "https://github.com/lab/old-name": "moved",
        "https://github.com/lab/missing-repo": "dead",
        "https://huggingface.co/lab/good-model": "alive",
        "https://huggingface.co/lab/missing-model": "dead",
        "https://alive.example.org/project": "alive",
        "https://gone.example.org/paper": "dead",
        "https://old.example.org/project": "moved",
        "https://lab.github.io/alive-repo": "alive",
        "https://github.com/lab/alive-repo/tree/main/src": "alive",
        "https://github.com/lab/alive-repo/blob/main/old.py": "dead",
    }
    renamed = links["https://github.com/lab/old-name"]
    assert renamed["suggested_url"] == "https://github.com/lab/new-name"
    alive_repo = links["https://github.com/lab/alive-repo"]["details"]
    assert alive_repo["stars"] == 42  # from the REST API
    # no token: its page, not the API, said it has code, and listed its release
    assert alive_repo["placeholder"] is False and alive_repo["root_files"] == 2
    assert alive_repo["latest_release"]["tag"] == "v1.0" and alive_repo["release_count"] == 1
    assert links["https://huggingface.co/lab/good-model"]["details"]["has_weights"] is True
    assert links["https://gone.example.org/paper"]["evidence"]["status_code"] == 404
    moved_page = links["https://old.example.org/project"]
    assert moved_page["evidence"]["redirects"] == [[301, "https://new.example.org/project"]]
    assert moved_page["evidence"]["final_url"] == "https://new.example.org/project"
    assert moved_page["suggested_url"] == "https://new.example.org/project"
    assert report["run"]["offline"] is False
    assert links["https://lab.github.io/alive-repo"]["details"]["source_repo"] == "lab/alive-repo"
    assert result["summary"]["by_state"] == {"alive": 5, "moved": 2, "dead": 4, "blocked": 0, "error": 0,
                                             "skipped": 0, "unknown": 0}
    html = (tmp_path / "out" / "index.html").read_text()
    assert "Renamed Repo Paper" in html and "renamed or transferred to lab/new-name" in html


def test_with_a_token_repositories_come_from_graphql_with_their_slow_facts(prefect_api: None, sim: SimulatedWeb, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.monitor import monitor

    monkeypatch.setenv("GITHUB_TOKEN", "ghp_e2e_token")
    sim.reset_stats()
    result = monitor(sources=[str(DATA / "e2e-papers.md")], db=str(tmp_path / "h.sqlite"), out=str(tmp_path / "out"),
                     settings=settings_for(sim))

    links = links_by_url(json.loads(Path(result["json"]).read_text()))
    assert links["https://github.com/lab/alive-repo"]["details"]["latest_release"]["tag"] == "v1.0"
    assert links["https://github.com/lab/old-name"]["state"] == "moved"
    assert links["https://github.com/lab/missing-repo"]["state"] == "dead"
    assert "release_count" in links["https://github.com/lab/alive-repo"]["details"]
    stats = sim.stats()  # one query for the repositories, one for their release counts and topics; no REST
    assert stats["graphql"]["clients"]["ghp_e2e_token"]["requests"] == 2 and stats["github"]["requests"] == 0
    assert "ghp_e2e_token" not in (tmp_path / "h.sqlite").read_bytes().decode("latin-1")
    assert "ghp_e2e_token" not in Path(result["json"]).read_text() + Path(result["html"]).read_text()


def test_a_prefect_secret_block_can_hold_the_github_token(prefect_api: None, sim: SimulatedWeb, tmp_path: Path) -> None:
    from prefect.blocks.system import Secret

    from flows.monitor import monitor

    Secret(value="ghp_e2e_token").save("paperwatch-github-token", overwrite=True, _sync=True)
    sim.reset_stats()
    try:
        result = monitor(sources=[str(DATA / "e2e-papers.md")], db=str(tmp_path / "h.sqlite"), out=str(tmp_path / "out"),
                         settings=settings_for(sim), github_token_secret="paperwatch-github-token")
    finally:
        os.environ.pop("GITHUB_TOKEN", None)
    assert sim.stats()["graphql"]["clients"]["ghp_e2e_token"]["requests"] == 2
    assert "ghp_e2e_token" not in Path(result["json"]).read_text()


def test_a_second_run_shows_history_and_what_changed(prefect_api: None, sim: SimulatedWeb, tmp_path: Path) -> None:
    from flows.monitor import monitor

    db, out = str(tmp_path / "h.sqlite"), str(tmp_path / "out")
    sources = [str(DATA / "e2e-papers.md")]
    monitor(sources=sources, db=db, out=out, settings=settings_for(sim))
    sim.load(_scenario_without_alive_page())
    sim.reset_stats()
    try:
        second = monitor(sources=sources, db=db, out=out, settings=settings_for(sim))
    finally:
        sim.load(DATA / "e2e-scenario.yaml")

    report = json.loads(Path(second["json"]).read_text())
    page = links_by_url(report)["https://alive.example.org/project"]
    assert [h["state"] for h in page["history"]] == ["alive", "dead"]
    # one "gone" answer is not yet a death: it takes two, at least 20 hours apart
    assert page["verdict"]["status"] == "degraded" and page["verdict"]["uptime"]["7d"] == 50.0
    # ... so the change is "degraded", which the report shows and no alert announces
    assert [(c["url"], c["change"], c["alert"]) for c in report["changes"]] == [
        ("https://alive.example.org/project", "degraded", False)]
    assert [r["id"] for r in report["runs"]] == [1, 2]
    # no token: the stored ETags make each unchanged repository cost one conditional request
    # (the renamed one also pays for GitHub's 301 from its old name)
    assert sim.stats()["github"]["requests"] == 3 + 1
    assert links_by_url(report)["https://github.com/lab/alive-repo"]["evidence"]["status_code"] == 304


def _scenario_without_alive_page() -> dict[str, Any]:
    import yaml

    scenario = yaml.safe_load((DATA / "e2e-scenario.yaml").read_text())
    del scenario["web"]["https://alive.example.org/project"]
    return scenario


def test_with_no_network_nothing_is_called_dead(prefect_api: None, tmp_path: Path) -> None:
    """Every host unreachable (a closed port on 127.0.0.1 stands in for no network)."""
    from flows.monitor import monitor

    closed = "http://127.0.0.1:9"
    settings = CheckSettings(github_api_url=closed, hf_endpoint=closed, remap_rules=(RemapRule.parse(f"^(.*)$ {closed}/"),),
                             timeout=2.0, retries=0).to_dict()
    result = monitor(sources=[str(DATA / "e2e-papers.md")], db=str(tmp_path / "h.sqlite"), out=str(tmp_path / "out"),
                     settings=settings)

    report = json.loads(Path(result["json"]).read_text())
    assert report["run"]["offline"] is True
    assert report["summary"]["by_state"]["unknown"] == 11
    assert report["summary"]["by_state"]["dead"] == 0
    assert "could not reach the web" in (tmp_path / "out" / "index.html").read_text()


def test_the_config_files_verdict_rule_decides_when_a_link_is_dead(prefect_api: None, sim: SimulatedWeb, tmp_path: Path) -> None:
    """``[verdicts]`` reaches the report: with the default rule one 404 is only degraded; with
    ``confirm_runs = 1`` and ``confirm_hours = 0`` the same first run calls it dead, and says so."""
    from click.testing import CliRunner

    from flows.cli import main
    from reports.vocabulary import ConfirmRule

    remap = ", ".join(json.dumps(rule) for rule in sim.remap_rules)
    common = f'github_api_url = "{sim.github_api_url}"\nhf_endpoint = "{sim.hf_endpoint}"\nremap = [{remap}]\nretries = 0\n'
    verdicts = {}
    for name, table in (("default", ""), ("strict", "\n[verdicts]\nconfirm_runs = 1\nconfirm_hours = 0\n")):
        config = tmp_path / f"{name}.toml"
        config.write_text(common + table, encoding="utf-8")
        out = tmp_path / name
        result = CliRunner().invoke(main, ["run", str(DATA / "e2e-papers.md"), "--config", str(config),
                                           "--db", str(tmp_path / f"{name}.sqlite"), "--out", str(out)])
        assert result.exit_code == 0, result.output
        report = json.loads((out / "report.json").read_text())
        verdicts[name] = (links_by_url(report)["https://gone.example.org/paper"]["verdict"]["status"],
                          report["run"]["confirm_rule"]["runs"], (out / "index.html").read_text())
    assert verdicts["default"][:2] == ("degraded", 2)
    assert verdicts["strict"][:2] == ("dead", 1)
    assert ConfirmRule(1, 0).sentence()[1:] in verdicts["strict"][2]  # the page starts it with a capital
    assert ConfirmRule().sentence()[1:] in verdicts["default"][2]
