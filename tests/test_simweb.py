"""simweb driven by the real clients (PyGithub, huggingface_hub, httpx) over sockets on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import requests
from github import Auth, Github, GithubException
from github.GithubException import BadCredentialsException, RateLimitExceededException, UnknownObjectException
from huggingface_hub import HfApi, ModelCard
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
)

from checks.settings import RemapRule, remap
from simweb import Scenario, ScenarioError, SimulatedWeb

TOKEN = "ghp_simweb_test"
HF_TOKEN = "hf_simweb_test"
DEMO = Path(__file__).resolve().parents[1] / "simweb" / "scenarios" / "demo.yaml"

SCENARIO = f"""
github:
  tokens: [{TOKEN}]
  users: [lonely-user]
  rate_limit: {{anonymous: 100000, authenticated: 100000}}
  repos:
    - full_name: apple/corenet
      description: CoreNet
      owner_type: Organization
      language: Python
      license: apache-2.0
      topics: [pytorch]
      stars: 7000
      forks: 500
      created_at: 2024-04-18T16:00:00Z
      pushed_at: 2024-10-22T21:05:00Z
      commits: 45
      files: [README.md, setup.py, src/train.py]
      readme: "# CoreNet\\n"
      releases:
        - {{tag: v0.1.0, published_at: 2024-04-24T17:00:00Z}}
        - {{tag: v0.2.0-rc, prerelease: true, published_at: 2024-09-01T00:00:00Z}}
    - {{full_name: SalesforceAIResearch/CodeGen2, renamed_from: [salesforce/CodeGen2]}}
    - {{full_name: someone/takedown, blocked: dmca}}
    - {{full_name: someone/tos-disabled, disabled: true}}
    - {{full_name: someone/empty, empty: true}}
    - {{full_name: someone/no-release}}
    - {{full_name: someone/dropped, drop: true}}
    - {{full_name: someone/flaky, status: 503}}
hub:
  tokens: [{HF_TOKEN}]
  models:
    - id: apple/OpenELM
      downloads: 1310
      likes: 1420
      library_name: transformers
      files: [README.md, config.json, {{name: model.safetensors, size: 1100000000}}]
    - {{id: NexaAIDev/Octopus-v4, gated: manual}}
    - {{id: gone/disabled-model, disabled: true}}
    - {{id: secret/private-model, private: true}}
  datasets:
    - {{id: futurehouse/lab-bench, downloads: 7300}}
  spaces:
    - {{id: demo/sleepy, stage: SLEEPING, hardware: t4-small}}
    - {{id: demo/running, stage: RUNNING}}
  papers:
    - id: "2404.14619"
      title: OpenELM
      authors: [Sachin Mehta]
      published_at: 2024-04-22
      submitted_on_daily_at: 2024-04-23
      github_repo: https://github.com/apple/corenet
      project_page: https://machinelearning.apple.com/research/openelm
      models: [apple/OpenELM]
web:
  https://example.org/page: {{title: A page}}
  https://aka.ms/chain: {{status: 301, location: "https://aka.ms/chain-2"}}
  https://aka.ms/chain-2: {{status: 302, location: "https://github.com/apple/corenet/tree/main/src"}}
  https://example.org/relative: {{status: 302, location: /page}}
  https://example.org/no-head: {{head: 405, title: GET only}}
  https://example.org/slow: {{delay: 2}}
  https://example.org/big: {{size: 3000000}}
  https://example.org/loop-a: {{status: 301, location: "https://example.org/loop-b"}}
  https://example.org/loop-b: {{status: 301, location: "https://example.org/loop-a"}}
  https://example.org/search?q=1: {{title: exact query}}
hosts:
  down.example.org: {{drop: true}}
  wall.example.org: {{status: 403, title: Just a moment...}}
phases:
  - name: before
    changes: {{}}
  - name: after
    changes:
      web:
        https://example.org/page: {{status: 410}}
      github:
        repos:
          - {{full_name: apple/corenet, stars: 7100, archived: true}}
"""


@pytest.fixture
def gh(sim: SimulatedWeb) -> Github:
    return Github(base_url=sim.github_api_url, seconds_between_requests=None, retry=None)


@pytest.fixture
def hf(sim: SimulatedWeb) -> HfApi:
    return HfApi(endpoint=sim.hf_endpoint, token=False)


def to_sim(sim: SimulatedWeb, url: str) -> str:
    """The request URL paperwatch's own remap makes of a logical URL."""
    mapped = remap(url, tuple(RemapRule.parse(rule) for rule in sim.remap_rules))
    assert mapped is not None
    return mapped


def web_get(sim: SimulatedWeb, url: str, **kwargs) -> httpx.Response:
    return httpx.get(to_sim(sim, url), **kwargs)


def follow(sim: SimulatedWeb, url: str, limit: int = 8) -> list[tuple[int, str]]:
    """Follow redirects in logical URL space, remapping every hop, as paperwatch does."""
    hops = []
    for _ in range(limit):
        response = web_get(sim, url)
        hops.append((response.status_code, url))
        if not response.is_redirect:
            return hops
        url = str(httpx.URL(url).join(response.headers["Location"]))
    raise RecursionError(f"redirect loop: {hops}")


# --- server ------------------------------------------------------------------------------


def test_settings_point_at_local_ports(sim: SimulatedWeb) -> None:
    urls = {sim.github_api_url, sim.hf_endpoint, sim.web_url}
    assert len(urls) == 3 and all(u.startswith("http://127.0.0.1:") for u in urls)
    assert sim.remap_rules == [f"^(https?)://(.*)$ {sim.web_url}/$1/$2"]
    assert to_sim(sim, "https://aka.ms/X?y=1") == f"{sim.web_url}/https/aka.ms/X?y=1"
    assert sim.phases == ["before", "after"] and sim.phase == "before"


def test_cli_prints_the_three_settings() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "simweb", str(DEMO), "--phase", "day-2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = [proc.stdout.readline().strip() for _ in range(3)]  # type: ignore[union-attr]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert lines[0].startswith("GITHUB_API_URL=http://127.0.0.1:")
    assert lines[1].startswith("HF_ENDPOINT=http://127.0.0.1:")
    assert lines[2].startswith("--remap '^(https?)://(.*)$ http://127.0.0.1:") and lines[2].endswith("/$1/$2'")


# --- scenario ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("github: {repos: [{full_name: a/b, stras: 3}]}", "scenario.github.repos[0]: unknown key 'stras'"),
        ("github: {repos: [{full_name: a/b, stars: many}]}", "scenario.github.repos[0].stars: expected int"),
        ("web: {'https://x.org/': {status: 999}}", "scenario.web['https://x.org/']: status: 999"),
        (
            "phases: [{name: d2, changes: {hub: {models: [{id: a/b, gated: maybe}]}}}]",
            "scenario.phases[0](d2).changes.hub.models[0].gated",
        ),
        ("github: {repos: [{full_name: nodash}]}", "scenario.github.repos[0]: full_name: 'nodash'"),
    ],
)
def test_validation_errors_name_the_key_path(text: str, path: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_yaml(text)
    assert str(caught.value).startswith(path)
    assert isinstance(caught.value, ValueError)


def test_phases_deep_merge_over_the_base() -> None:
    scenario = Scenario.from_yaml(SCENARIO)
    after = scenario.world("after").github.find("apple/corenet")
    assert after is not None and after.stars == 7100 and after.archived and after.commits == 45
    assert scenario.world("before").github.find("apple/corenet").stars == 7000  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="unknown phase 'later'"):
        scenario.world("later")


def test_demo_scenario_loads_with_two_phases() -> None:
    scenario = Scenario.load(DEMO)
    assert scenario.phase_names == ["day-1", "day-2"]
    assert scenario.world("day-1").github.find_renamed("salesforce/CodeGen2") is not None


# --- GitHub API --------------------------------------------------------------------------


def test_repo_fields(gh: Github, sim: SimulatedWeb) -> None:
    repo = gh.get_repo("apple/corenet")
    assert repo.full_name == "apple/corenet"
    assert repo.stargazers_count == 7000 and repo.forks_count == 500
    assert repo.license.spdx_id == "Apache-2.0" and repo.topics == ["pytorch"]
    assert repo.pushed_at.isoformat() == "2024-10-22T21:05:00+00:00"
    assert repo.archived is False and repo.owner.login == "apple" and repo.owner.type == "Organization"
    assert repo.html_url == "https://github.com/apple/corenet"
    assert repo.url == f"{sim.github_api_url}/repos/apple/corenet"


def test_lookup_is_case_insensitive_and_answers_canonical_names(gh: Github) -> None:
    assert gh.get_repo("APPLE/CoreNet").full_name == "apple/corenet"


def test_renamed_repo_301_is_followed(gh: Github, sim: SimulatedWeb) -> None:
    assert gh.get_repo("salesforce/CodeGen2").full_name == "SalesforceAIResearch/CodeGen2"
    raw = httpx.get(f"{sim.github_api_url}/repos/salesforce/CodeGen2/commits?per_page=1")
    assert raw.status_code == 301
    assert raw.headers["Location"].startswith(f"{sim.github_api_url}/repositories/")
    assert raw.headers["Location"].endswith("/commits?per_page=1")
    assert raw.json()["message"] == "Moved Permanently"


def test_missing_repo_is_404(gh: Github) -> None:
    with pytest.raises(UnknownObjectException) as caught:
        gh.get_repo("iclr-dummy-user/SwissNYF")
    assert caught.value.status == 404 and caught.value.data["status"] == "404"


def test_dmca_repo_is_451_and_tos_repo_403(gh: Github) -> None:
    with pytest.raises(GithubException) as caught:
        gh.get_repo("someone/takedown")
    assert caught.value.status == 451
    assert caught.value.data["block"]["reason"] == "dmca"
    with pytest.raises(GithubException) as caught:
        gh.get_repo("someone/tos-disabled")
    assert caught.value.status == 403 and caught.value.data["message"] == "Repository access blocked"


def test_latest_release_skips_prereleases(gh: Github) -> None:
    release = gh.get_repo("apple/corenet").get_latest_release()
    assert release.tag_name == "v0.1.0" and release.published_at.year == 2024 and not release.prerelease
    assert [r.tag_name for r in gh.get_repo("apple/corenet").get_releases()] == ["v0.2.0-rc", "v0.1.0"]
    with pytest.raises(UnknownObjectException):
        _ = gh.get_repo("someone/no-release").get_latest_release().tag_name


def test_commit_count_from_link_header(gh: Github, sim: SimulatedWeb) -> None:
    repo = gh.get_repo("apple/corenet")
    assert repo.get_commits().totalCount == 45
    raw = httpx.get(f"{sim.github_api_url}/repos/apple/corenet/commits?per_page=1")
    assert 'page=45>; rel="last"' in raw.headers["Link"] and 'page=2>; rel="next"' in raw.headers["Link"]
    newest = raw.json()[0]
    assert newest["commit"]["author"]["date"] == "2024-10-22T21:05:00Z" and len(newest["sha"]) == 40


def test_empty_repo_commits_409(gh: Github) -> None:
    with pytest.raises(GithubException) as caught:
        _ = gh.get_repo("someone/empty").get_commits().totalCount
    assert caught.value.status == 409 and caught.value.data["message"] == "Git Repository is empty."


def test_contents_and_readme(gh: Github) -> None:
    repo = gh.get_repo("apple/corenet")
    assert sorted(c.path for c in repo.get_contents("")) == ["README.md", "setup.py", "src"]
    assert repo.get_readme().decoded_content == b"# CoreNet\n"
    assert repo.get_contents("src/train.py").type == "file"
    with pytest.raises(UnknownObjectException):
        repo.get_contents("missing.py")


def test_conditional_request_304_is_free_when_authenticated(sim: SimulatedWeb) -> None:
    gh = Github(base_url=sim.github_api_url, auth=Auth.Token(TOKEN), seconds_between_requests=None, retry=None)
    repo = gh.get_repo("apple/corenet")
    assert repo.etag and repo.etag.startswith('W/"')
    used = sim.stats()["github"]["clients"][TOKEN]["points"]
    assert repo.update() is False
    after = sim.stats()["github"]["clients"][TOKEN]
    assert after["points"] == used and after["requests"] >= 2


def test_standard_headers(sim: SimulatedWeb) -> None:
    response = httpx.get(f"{sim.github_api_url}/repos/apple/corenet", headers={"Authorization": f"token {TOKEN}"})
    headers = response.headers
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used"):
        assert headers[name].isdigit()
    assert headers["X-RateLimit-Resource"] == "core" and headers["X-GitHub-Request-Id"]
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Cache-Control"] == "private, max-age=60, s-maxage=60" and "Authorization" in headers["Vary"]
    assert headers["ETag"].startswith('W/"') and headers["Last-Modified"].endswith("GMT")
    missing = httpx.get(f"{sim.github_api_url}/repos/no/such")
    assert missing.headers["X-RateLimit-Remaining"].isdigit() and missing.headers["Vary"]


def test_rate_limit_endpoint_is_free(sim: SimulatedWeb) -> None:
    first = httpx.get(f"{sim.github_api_url}/rate_limit").json()
    second = httpx.get(f"{sim.github_api_url}/rate_limit").json()
    assert second["rate"]["used"] == first["rate"]["used"]
    assert set(first["resources"]) >= {"core", "search", "graphql"}


def test_faults_drop_and_server_error(gh: Github) -> None:
    with pytest.raises(requests.exceptions.ConnectionError):
        gh.get_repo("someone/dropped")
    with pytest.raises(GithubException) as caught:
        gh.get_repo("someone/flaky")
    assert caught.value.status == 503


def test_stats_count_per_client(sim: SimulatedWeb) -> None:
    sim.reset_stats()
    httpx.get(f"{sim.github_api_url}/repos/apple/corenet")
    httpx.get(f"{sim.github_api_url}/rate_limit")
    httpx.get(f"{sim.github_api_url}/users/lonely-user", headers={"Authorization": f"Bearer {TOKEN}"})
    stats = sim.stats()["github"]
    assert stats["requests"] == 3
    assert stats["clients"]["anonymous"] == {"requests": 2, "points": 1}
    assert stats["clients"][TOKEN] == {"requests": 1, "points": 1}
    assert [r.status for r in sim.request_log()] == [200, 200, 200]


LIMITED = f"""
github:
  tokens: [{TOKEN}]
  rate_limit: {{anonymous: 2, authenticated: 3}}
  repos: [{{full_name: a/b}}]
"""


def test_rate_limit_exhaustion_is_per_client() -> None:
    with SimulatedWeb(LIMITED) as sim:
        anonymous = Github(base_url=sim.github_api_url, seconds_between_requests=None, retry=None)
        anonymous.get_repo("a/b")
        anonymous.get_repo("a/b")
        with pytest.raises(RateLimitExceededException) as caught:
            anonymous.get_repo("a/b")
        assert caught.value.status == 403 and caught.value.headers["x-ratelimit-remaining"] == "0"
        assert caught.value.data["message"].startswith("API rate limit exceeded")
        authed = Github(base_url=sim.github_api_url, auth=Auth.Token(TOKEN), seconds_between_requests=None, retry=None)
        assert authed.get_repo("a/b").full_name == "a/b"
        with pytest.raises(BadCredentialsException):
            Github(base_url=sim.github_api_url, auth=Auth.Token("wrong"), retry=None).get_repo("a/b")
        assert sim.stats()["github"]["clients"]["anonymous"]["points"] == 3  # two calls + the bad token


def test_secondary_limit_429_with_retry_after() -> None:
    scenario = LIMITED.replace("authenticated: 3}", "authenticated: 3, exhausted_status: 429, retry_after: 7}")
    with SimulatedWeb(scenario) as sim:
        for _ in range(2):
            httpx.get(f"{sim.github_api_url}/repos/a/b")
        refused = httpx.get(f"{sim.github_api_url}/repos/a/b")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "7"
    assert refused.json()["message"].startswith("You have exceeded a secondary rate limit")


def test_secondary_limit_refuses_a_burst_whatever_the_hourly_budget_has_left() -> None:
    scenario = LIMITED.replace("authenticated: 3}", "authenticated: 100, secondary: {requests: 2, window: 60, retry_after: 45}}")
    with SimulatedWeb(scenario) as sim:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        answers = [httpx.get(f"{sim.github_api_url}/repos/a/b", headers=headers) for _ in range(3)]
        graphql = httpx.post(f"{sim.github_api_url}/graphql", headers=headers, json={"query": "{ rateLimit { remaining } }"})
        refused = answers[-1]
        assert [a.status_code for a in answers] == [200, 200, 403] and graphql.status_code == 403  # one limit for both
        assert refused.headers["Retry-After"] == "45" and refused.json()["message"].startswith("You have exceeded a secondary")
        # the hourly budget is not what ran out: its headers still say what remains, and refusals cost none of it
        assert refused.headers["X-RateLimit-Remaining"] == "98" and refused.headers["X-RateLimit-Reset"]
        assert sim.stats()["github"]["clients"][TOKEN]["points"] == 2


def test_secondary_limit_may_come_without_retry_after() -> None:
    scenario = LIMITED.replace("authenticated: 3}", "authenticated: 3, secondary: {requests: 1, retry_after: null, status: 429}}")
    with SimulatedWeb(scenario) as sim:
        httpx.get(f"{sim.github_api_url}/repos/a/b")
        refused = httpx.get(f"{sim.github_api_url}/repos/a/b")
    assert refused.status_code == 429 and "Retry-After" not in refused.headers
    assert refused.headers["X-RateLimit-Remaining"] == "1"


# --- Hugging Face Hub --------------------------------------------------------------------


def test_model_dataset_space_info(hf: HfApi) -> None:
    model = hf.model_info("apple/OpenELM", files_metadata=True)
    assert (model.id, model.downloads, model.likes, model.library_name) == ("apple/OpenELM", 1310, 1420, "transformers")
    sizes = {s.rfilename: s.size for s in model.siblings}
    assert sizes["model.safetensors"] == 1100000000
    assert hf.model_info("apple/OpenELM", expand=["likes"]).likes == 1420
    assert hf.list_repo_files("apple/OpenELM") == ["README.md", "config.json", "model.safetensors"]
    assert hf.dataset_info("futurehouse/lab-bench").downloads == 7300
    sleepy = hf.space_info("demo/sleepy")
    assert sleepy.runtime.stage == "SLEEPING" and sleepy.runtime.requested_hardware == "t4-small"
    assert sleepy.host == "https://demo-sleepy.hf.space"
    assert hf.space_info("demo/running").runtime.hardware == "cpu-basic"


def test_missing_and_private_repos_raise_repository_not_found(hf: HfApi, sim: SimulatedWeb) -> None:
    for repo_id in ("nobody/nothing", "secret/private-model"):
        with pytest.raises(RepositoryNotFoundError) as caught:
            hf.model_info(repo_id)
        assert caught.value.response.status_code == 401
    with pytest.raises(RepositoryNotFoundError) as caught:
        HfApi(endpoint=sim.hf_endpoint, token=HF_TOKEN).model_info("nobody/nothing")
    assert caught.value.response.status_code == 404


def test_gated_repo_metadata_ok_download_refused(hf: HfApi, tmp_path: Path) -> None:
    assert hf.model_info("NexaAIDev/Octopus-v4").gated == "manual"
    with pytest.raises(GatedRepoError):
        hf.hf_hub_download("NexaAIDev/Octopus-v4", "config.json", cache_dir=tmp_path)
    path = hf.hf_hub_download("apple/OpenELM", "config.json", cache_dir=tmp_path)
    assert "architectures" in Path(path).read_text()


def test_disabled_repo_raises_disabled_with_a_token(sim: SimulatedWeb) -> None:
    with pytest.raises(DisabledRepoError):
        HfApi(endpoint=sim.hf_endpoint, token=HF_TOKEN).model_info("gone/disabled-model")


def test_papers(hf: HfApi) -> None:
    paper = hf.paper_info("2404.14619")
    assert paper.title == "OpenELM" and paper.github_repo == "https://github.com/apple/corenet"
    assert paper.project_page.startswith("https://") and [m.id for m in paper.linked_models] == ["apple/OpenELM"]
    daily = list(hf.list_daily_papers(date="2024-04-23"))
    assert [p.id for p in daily] == ["2404.14619"] and daily[0].title == "OpenELM"
    assert list(hf.list_daily_papers(date="2024-01-01")) == []
    with pytest.raises(HfHubHTTPError) as caught:
        hf.paper_info("9999.99999")
    assert caught.value.response.status_code == 404


def test_hub_rate_limit_answers_429_with_retry_after() -> None:
    with SimulatedWeb("hub: {rate_limit: {limit: 1, window: 300}, models: [{id: a/b}]}") as sim:
        api = HfApi(endpoint=sim.hf_endpoint, token=False)
        api.model_info("a/b")
        with pytest.raises(HfHubHTTPError) as caught:
            api.model_info("a/b")
    assert caught.value.response.status_code == 429
    assert 0 < int(caught.value.response.headers["Retry-After"]) <= 300
    assert caught.value.response.headers["RateLimit"].startswith('"api";r=0;')


def test_a_repos_card_is_its_readme_as_hf_hub_download_reads_it(tmp_path: Path) -> None:
    card = "---\nlicense: mit\n---\n# Model\n\nTraining code: https://github.com/lab/code\n"
    scenario = {"hub": {"models": [{"id": "lab/m", "card": card}, {"id": "lab/plain", "license": "mit"}],
                        "datasets": [{"id": "lab/d", "card": "Built with https://github.com/lab/data-code"}]}}
    with SimulatedWeb(scenario) as sim:
        hub = HfApi(endpoint=sim.hf_endpoint, token=False)
        path = hub.hf_hub_download("lab/m", "README.md", cache_dir=tmp_path)
        loaded = ModelCard(Path(path).read_text())
        dataset_card = Path(hub.hf_hub_download("lab/d", "README.md", repo_type="dataset", cache_dir=tmp_path)).read_text()
        plain = Path(hub.hf_hub_download("lab/plain", "README.md", cache_dir=tmp_path)).read_text()
    assert loaded.data.license == "mit" and "https://github.com/lab/code" in loaded.text
    assert dataset_card == "Built with https://github.com/lab/data-code"
    assert plain == "---\nlicense: mit\n---\n\n# lab/plain\n"  # no card given: the default stays
    with pytest.raises(ScenarioError, match="card: given, but README.md is not among files"):
        SimulatedWeb({"hub": {"models": [{"id": "lab/m", "card": "x", "files": ["config.json"]}]}})


# --- project web -------------------------------------------------------------------------


def test_web_page_and_404(sim: SimulatedWeb) -> None:
    page = web_get(sim, "https://EXAMPLE.org/page/")
    assert page.status_code == 200 and "<title>A page</title>" in page.text
    missing = web_get(sim, "https://example.org/nothing-here")
    assert missing.status_code == 404 and "404 Not Found" in missing.text
    assert web_get(sim, "https://example.org/search?q=1").text.count("exact query") == 2
    assert web_get(sim, "https://example.org/search?q=2").status_code == 404


def test_a_project_page_can_link_a_repository() -> None:
    body = '<html><body><a href="https://github.com/lab/code">Code</a></body></html>'
    with SimulatedWeb({"web": {"https://lab.example.org/project": {"body": body}}}) as sim:
        page = web_get(sim, "https://lab.example.org/project")
    assert page.status_code == 200 and page.text == body and page.headers["Content-Type"].startswith("text/html")


def test_redirect_chain_stays_logical(sim: SimulatedWeb) -> None:
    assert follow(sim, "https://aka.ms/chain") == [
        (301, "https://aka.ms/chain"),
        (302, "https://aka.ms/chain-2"),
        (200, "https://github.com/apple/corenet/tree/main/src"),
    ]
    relative = web_get(sim, "https://example.org/relative")
    assert relative.headers["Location"] == "/page"


def test_a_mirror_sends_its_own_urls_for_redirects_into_the_mirrored_site(sim: SimulatedWeb) -> None:
    mirror = RemapRule.parse(sim.mirror_rule("https://github.com"))
    renamed = httpx.get(remap("https://github.com/salesforce/CodeGen2", (mirror,)) or "")
    assert renamed.status_code == 301
    assert renamed.headers["Location"] == f"{sim.web_url}/mirror/https/github.com/SalesforceAIResearch/CodeGen2"
    # a path on the mirrored site stays a path, under the mirror's prefix; other sites pass unchanged
    assert httpx.get(f"{sim.web_url}/mirror/https/example.org/relative").headers["Location"] == "/mirror/https/example.org/page"
    assert httpx.get(f"{sim.web_url}/mirror/https/aka.ms/chain-2").headers["Location"] == \
        "https://github.com/apple/corenet/tree/main/src"
    assert httpx.get(f"{sim.web_url}/mirror/https/example.org/page").text == web_get(sim, "https://example.org/page").text


def test_redirect_loop_is_expressible(sim: SimulatedWeb) -> None:
    with pytest.raises(RecursionError):
        follow(sim, "https://example.org/loop-a")


def test_head_405_delay_drop_and_bot_wall(sim: SimulatedWeb) -> None:
    url = to_sim(sim, "https://example.org/no-head")
    assert httpx.head(url).status_code == 405 and httpx.get(url).status_code == 200
    with pytest.raises(httpx.ReadTimeout):
        web_get(sim, "https://example.org/slow", timeout=0.2)
    with pytest.raises(httpx.RemoteProtocolError):
        web_get(sim, "https://down.example.org/anything")
    assert web_get(sim, "http://wall.example.org/").status_code == 403


def test_large_body_is_streamed_whole(sim: SimulatedWeb) -> None:
    response = web_get(sim, "https://example.org/big")
    assert response.status_code == 200 and len(response.content) == 3000000
    assert int(response.headers["Content-Length"]) == 3000000


def test_github_and_hub_web_pages(sim: SimulatedWeb) -> None:
    expected = {
        "https://github.com/apple/corenet": 200,
        "https://github.com/apple": 200,
        "https://github.com/lonely-user": 200,
        "https://github.com/nobody-at-all": 404,
        "https://github.com/apple/corenet/blob/main/setup.py": 200,
        "https://github.com/apple/corenet/tree/main/missing": 404,
        "https://github.com/apple/corenet/tree/nobranch/src": 404,
        "https://github.com/someone/takedown": 451,
        "https://huggingface.co/apple/OpenELM": 200,
        "https://huggingface.co/datasets/futurehouse/lab-bench": 200,
        "https://huggingface.co/spaces/demo/sleepy": 200,
        "https://huggingface.co/papers/2404.14619": 200,
        "https://huggingface.co/nobody/nothing": 404,
        "https://huggingface.co/secret/private-model": 404,
        "https://huggingface.co/apple": 200,
    }
    assert {url: web_get(sim, url).status_code for url in expected} == expected
    moved = web_get(sim, "https://github.com/salesforce/CodeGen2/issues")
    assert moved.status_code == 301
    assert moved.headers["Location"] == "https://github.com/SalesforceAIResearch/CodeGen2/issues"


def test_phase_switch_changes_answers(sim: SimulatedWeb, gh: Github) -> None:
    try:
        sim.set_phase("after")
        assert web_get(sim, "https://example.org/page").status_code == 410
        repo = gh.get_repo("apple/corenet")
        assert repo.archived is True and repo.stargazers_count == 7100
    finally:
        sim.set_phase("before")
    assert web_get(sim, "https://example.org/page").status_code == 200


def test_demo_days_differ() -> None:
    pages = ("http://evidence-inference.ebm-nlp.com/", "https://llm-stacking.github.io/")
    with SimulatedWeb(DEMO) as sim:
        hf = HfApi(endpoint=sim.hf_endpoint, token=False)
        day1 = {u: web_get(sim, u).status_code for u in pages}
        assert hf.model_info("paperwatch-demo/vanished-model").id == "paperwatch-demo/vanished-model"
        sim.set_phase("day-2")
        day2 = {u: web_get(sim, u).status_code for u in pages}
        with pytest.raises(RepositoryNotFoundError):
            hf.model_info("paperwatch-demo/vanished-model")
        tree_page = "https://github.com/microsoft/VideoX/tree/master/X-CLIP"
        assert follow(sim, "https://aka.ms/X-CLIP")[-1] == (200, tree_page)
        assert web_get(sim, "https://www.nexa4ai.com/").status_code == 403
        with pytest.raises(RecursionError):
            follow(sim, "https://loop.example.org/a")
    assert day1 == {pages[0]: 503, pages[1]: 200}
    assert day2 == {pages[0]: 200, pages[1]: 404}
