"""Shared fixtures: an isolated Prefect, the simulated web, and a clean token environment."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Before Prefect is imported anywhere: never touch the user's ~/.prefect, never phone home.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="paperwatch-test-prefect-")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.pop("PREFECT_API_URL", None)

import pytest  # noqa: E402

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
