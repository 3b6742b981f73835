"""Remap rules behave like lychee's; untrusted URLs never reach private addresses."""

from __future__ import annotations

import pytest

from checks.netguard import forbidden_host
from checks.settings import CheckSettings, RemapError, RemapRule, remap


def test_remap_rewrites_with_dollar_groups_and_first_matching_rule_wins() -> None:
    rules = (RemapRule.parse(r"^https://github\.com/(.*)$ http://127.0.0.1:9000/gh/$1"),
             RemapRule.parse(r"^(https?)://(.*)$ http://127.0.0.1:9001/${1}/$2"))
    assert remap("https://github.com/a/b", rules) == "http://127.0.0.1:9000/gh/a/b"
    assert remap("http://example.org/x?y=1", rules) == "http://127.0.0.1:9001/http/example.org/x?y=1"
    assert remap("ftp://example.org", rules) is None


@pytest.mark.parametrize("text", ["no-replacement", "([ x"])
def test_a_bad_remap_rule_is_a_one_line_error(text: str) -> None:
    with pytest.raises(RemapError) as info:
        RemapRule.parse(text)
    assert text in str(info.value) and "\n" not in str(info.value)


def test_settings_survive_a_round_trip_through_plain_data_without_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret_value")
    settings = CheckSettings(remap_rules=(RemapRule.parse("^a b"),), canaries=("https://x.org",))
    data = settings.to_dict()
    assert "ghp_secret_value" not in repr(data)
    assert CheckSettings.from_dict(data) == settings
    assert settings.github_token() == "ghp_secret_value"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.1", "172.16.5.4", "169.254.169.254",
                                  "[::1]", "::ffff:127.0.0.1", "fe80::1", "0.0.0.0", "metadata.google.internal", "app.localhost"])
def test_private_loopback_link_local_and_metadata_hosts_are_refused(host: str) -> None:
    assert forbidden_host(host)


@pytest.mark.parametrize("host", ["github.com", "93.184.216.34", "2606:4700::1111", "example.org"])
def test_public_hosts_pass(host: str) -> None:
    assert forbidden_host(host) is None
