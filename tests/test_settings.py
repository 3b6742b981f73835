"""Settings: one model read from the defaults, the config file, the environment and the command line;
a mistake is one line naming where it came from and the key; reports take plain values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from checks.errors import ConfigError
from checks.settings import CheckSettings
from flows.cli import main
from flows.settings import PaperwatchSettings

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cr3t-token"


@pytest.fixture()
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory of its own, with none of the public variables set."""
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_API_URL", "HF_ENDPOINT", "PAPERWATCH_NOTIFY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def refusal(here: Path, text: str, **options: object) -> str:
    (here / "paperwatch.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        PaperwatchSettings.load(None, options)
    message = str(info.value)
    assert "\n" not in message and SECRET not in message
    return message


@pytest.mark.parametrize("text, expected", [
    ('per_host = "ten"\n', 'per_host: must be a positive integer (got "ten")'),
    ("per_host = 0\n", "per_host: must be a positive integer (got 0)"),
    ("timeout = true\n", "timeout: must be a positive number of seconds (got true)"),
    ("soft404 = 1\n", "soft404: must be true or false (got 1)"),
    ('accept = [200, "x"]\n', 'accept: must be a list of HTTP statuses (100-999) (got [200, "x"])'),
    ("timeuot = 3\n", "unknown key 'timeuot'"),
    ("exclude = ['(x']\n", "exclude: regex '(x': bad regex: missing ), unterminated subpattern at position 0"),
    ("remap = ['no-replacement']\n", "remap: remap rule 'no-replacement': expected 'REGEX REPLACEMENT'"),
    ("remap = 'x y'\n", "remap: must be a list of 'REGEX REPLACEMENT' strings (got \"x y\")"),
    ('[hosts."a.org"]\nmin_interval = "fast"\n', "hosts.a.org.min_interval must be a non-negative number of seconds"),
    ("[alerts]\nremind = 3\n", "unknown key 'alerts.remind'"),
    ("[alerts]\nremind_every = -1\n", "alerts.remind_every: must be a non-negative integer (got -1)"),
    ('[alerts]\ntracking_issue = "lab"\n', "alerts.tracking_issue: tracking issue repository 'lab': expected OWNER/REPO"),
    ("alerts = 3\n", "alerts must be a table"),
    ("[verdicts]\nconfirm_runs = 0\n", "verdicts.confirm_runs: must be a positive integer (got 0)"),
    ('[verdicts]\nconfirm_hours = "a day"\n', 'verdicts.confirm_hours: must be a non-negative number of hours (got "a day")'),
    ("[verdicts]\nconfirm_days = 1\n", "unknown key 'verdicts.confirm_days'"),
    (f'notify = ["{SECRET}"]\n', "notify: expected an Apprise URL (scheme://...) or prefect-block:TYPE/NAME"),
    (f'notify = "json://hooks.example.org/{SECRET}"\n', "notify: must be a list of notify URLs"),
    (f'notify = ["mailto:{SECRET}"]\n', "notify: expected an Apprise URL (scheme://...) or prefect-block:TYPE/NAME"),
])
def test_a_mistake_in_the_file_is_one_line_naming_the_file_and_the_key(here: Path, text: str, expected: str) -> None:
    assert refusal(here, text) == f"config {here / 'paperwatch.toml'}: {expected}"


@pytest.mark.parametrize("options, expected", [
    ({"tracking_issue": "just-a-name"}, "--tracking-issue: tracking issue repository 'just-a-name': expected OWNER/REPO"),
    ({"notify": (f"json://hooks.example.org/{SECRET}", SECRET)},
     "--notify: expected an Apprise URL (scheme://...) or prefect-block:TYPE/NAME"),
    ({"remap": ("(unclosed x",)}, "--remap: remap rule '(unclosed x': bad regex: missing ), unterminated subpattern at position 0"),
])
def test_a_mistake_on_the_command_line_names_the_option(here: Path, options: dict[str, object], expected: str) -> None:
    assert refusal(here, "", **options) == expected


def test_a_mistake_in_the_environment_names_the_variable(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERWATCH_NOTIFY", f"json://hooks.example.org/{SECRET} {SECRET}")
    assert refusal(here, "") == "PAPERWATCH_NOTIFY: expected an Apprise URL (scheme://...) or prefect-block:TYPE/NAME"


def test_defaults_then_the_file_then_the_environment_then_the_command_line(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (here / "paperwatch.toml").write_text(
        'github_api_url = "http://file.example.org/api/"\nhf_endpoint = "http://hub.file.example.org"\ntimeout = 3\n'
        "per_host = 4\nremap = ['^https://a/ https://b/']\nnotify = [\"json://file.example.org/hook\"]\n"
        '[alerts]\nremind_every = 7\n[verdicts]\nconfirm_runs = 3\nconfirm_hours = 48\n')
    monkeypatch.setenv("GITHUB_API_URL", "http://env.example.org/api/")
    monkeypatch.setenv("PAPERWATCH_NOTIFY", "json://env.example.org/hook json://file.example.org/hook")

    settings = PaperwatchSettings.load(None, {"timeout": 5.0, "remap": ("^https://c/ https://d/",), "allow_private": False,
                                              "notify": ("json://cli.example.org/hook",), "remind_every": None})

    checks = settings.checks
    assert (checks.github_api_url, checks.hf_endpoint) == ("http://env.example.org/api", "http://hub.file.example.org")
    assert (checks.timeout, checks.per_host, checks.allow_private, checks.max_concurrency) == (5.0, 4, False, 128)
    assert [f"{r.pattern} {r.replacement}" for r in checks.remap_rules] == ["^https://c/ https://d/"]
    assert settings.alerts.notify == ("json://env.example.org/hook", "json://file.example.org/hook", "json://cli.example.org/hook")
    assert settings.alerts.remind_every == 7
    assert (settings.confirm_runs, settings.confirm_hours) == (3, 48.0)
    assert CheckSettings.from_dict(checks.to_dict()) == checks  # what the flow hands its tasks, plain


def test_without_a_file_the_defaults_and_pyproject_toml_is_read_too(here: Path) -> None:
    settings = PaperwatchSettings.load(None, {})
    assert settings.checks == CheckSettings() and settings.alerts.notify == ()
    assert (settings.confirm_runs, settings.confirm_hours) == (2, 20.0)
    (here / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.paperwatch]\nper_host = 2\n[tool.paperwatch.verdicts]\nconfirm_runs = 4\n')
    settings = PaperwatchSettings.load(None, {})
    assert (settings.checks.per_host, settings.confirm_runs) == (2, 4)
    (here / "paperwatch.toml").write_text("per_host = 3\n")  # paperwatch.toml, when there, is the one read
    settings = PaperwatchSettings.load(None, {})
    assert (settings.checks.per_host, settings.confirm_runs) == (3, 2)


def test_the_commands_refuse_a_bad_file_in_one_line(here: Path) -> None:
    (here / "papers.md").write_text("- A paper: https://example.org/\n")
    (here / "bad.toml").write_text('per_host = "ten"\n')
    runner = CliRunner()
    run = runner.invoke(main, ["run", "papers.md", "--db", "h.sqlite", "--out", "out", "--config", "bad.toml"])
    check = runner.invoke(main, ["check", "https://example.org/", "--config", "bad.toml"])
    expected = 'paperwatch: error: config bad.toml: per_host: must be a positive integer (got "ten")\n'
    assert (run.exit_code, run.output) == (2, expected)
    assert (check.exit_code, check.output) == (1, expected)
    missing = runner.invoke(main, ["check", "https://example.org/", "--config", "nope.toml"])
    assert (missing.exit_code, missing.output) == (1, "paperwatch: error: config nope.toml: not found\n")


def test_reports_import_neither_prefect_nor_check_settings() -> None:
    """reports/ takes plain values from the flow: importing any of its modules loads no Prefect and no CheckSettings."""
    modules = sorted(f"reports.{path.stem}" for path in (ROOT / "reports").glob("*.py") if path.stem != "__init__")
    code = ("import importlib, json, sys\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect' or m == 'checks.settings')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "reports.alerts" in modules and json.loads(proc.stdout) == []
