"""Shared fixtures: an isolated Prefect, the simulated web, and a clean token environment."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

# Before Prefect is imported anywhere: never touch the user's ~/.prefect, never phone home.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="paperwatch-test-prefect-")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.pop("PREFECT_API_URL", None)

import pytest  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

# Property tests draw the same examples on every run, so CI is reproducible and a red run is the
# code's doing; HYPOTHESIS_PROFILE=explore draws fresh ones to hunt for new failures (and keeps
# what it finds in .hypothesis/ for the next run).
hypothesis_settings.register_profile("paperwatch", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "paperwatch"))

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from simweb import SimulatedWeb

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def no_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests decide about tokens themselves; a developer's real token never leaks in."""
    for name in ("GITHUB_TOKEN", "HF_TOKEN", "GITHUB_API_URL", "HF_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """One temporary Prefect API for the whole session (starting one costs ~10-20 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="module")
def sim(request: pytest.FixtureRequest) -> Iterator[SimulatedWeb]:
    """The simulated GitHub, Hub and web serving the test module's ``SCENARIO``, on 127.0.0.1."""
    from simweb import SimulatedWeb

    with SimulatedWeb(request.module.SCENARIO) as web:
        yield web


@pytest.fixture
def fresh_sim(sim: SimulatedWeb, request: pytest.FixtureRequest) -> SimulatedWeb:
    """``sim`` as the scenario first had it: its world reloaded, budgets full, counters at zero."""
    sim.load(request.module.SCENARIO)
    sim.reset_stats()
    return sim


def _service(variable: str, what: str) -> str:
    """The address of a system service `./dev test` provides, or skip/fail saying why.

    Outside CI a developer without PostgreSQL or chromium still runs every other test; in CI
    (`PAPERWATCH_REQUIRE_SERVICES=1`, set by .ci/run) a missing service is a failure, never a skip.
    """
    value = os.environ.get(variable, "")
    if value:
        return value
    message = f"{what} not available: {variable} is not set (./dev test sets it when it can start {what})"
    if os.environ.get("PAPERWATCH_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of the test PostgreSQL database (role may create databases)."""
    return _service("PAPERWATCH_TEST_POSTGRES", "PostgreSQL")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of Debian's chromium for Playwright's `executable_path`."""
    return _service("PAPERWATCH_TEST_CHROMIUM", "chromium")


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output directory of one `paperwatch demo` (two runs against the simulated web), shared by the session."""
    out = tmp_path_factory.mktemp("demo-report")
    exe = Path(sys.executable).with_name("paperwatch")
    env = {**os.environ, "PREFECT_HOME": str(out / "prefect-home")}
    proc = subprocess.run([str(exe), "demo", "--out", str(out / "report")], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (out / "demo-stdout.txt").write_text(proc.stdout)  # what the user saw, for the CLI test
    return out / "report"


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    """One headless chromium per test module (Debian's, through Playwright: nothing is downloaded).

    Not per session: Playwright's sync API keeps an asyncio loop running in the main thread while
    it is open, which would change how every later test's async code runs.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
