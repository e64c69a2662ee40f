"""Switching the Slack app on: only with both secrets in the environment, and never writing them to a file."""
from __future__ import annotations

import pytest
import yaml
from rasa.shared.exceptions import InvalidConfigException

from addons.slack import SlackChannel
from scripts.stack import ROOT, Stack

SECRETS = {"SLACK_BOT_TOKEN": "xoxb-secret-token", "SLACK_SIGNING_SECRET": "secret-signing"}


def test_the_stack_adds_the_slack_channel_only_when_both_secrets_are_set(tmp_path, monkeypatch):
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    assert Stack(workdir=tmp_path).credentials_file() == ROOT / "credentials.yml"
    assert Stack(workdir=tmp_path, extra_env={"SLACK_BOT_TOKEN": "x"}).credentials_file() == ROOT / "credentials.yml"

    generated = Stack(workdir=tmp_path, extra_env=SECRETS).credentials_file()
    channels = yaml.safe_load(generated.read_text())
    assert generated.parent == tmp_path
    assert channels == {**yaml.safe_load((ROOT / "credentials.yml").read_text()), "addons.slack.SlackChannel": None}
    assert not any(secret in generated.read_text() for secret in SECRETS.values())


def test_the_channel_reads_its_settings_from_the_environment(monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_API_URL", raising=False)
    monkeypatch.delenv("SLACK_REPLY_IN_THREAD", raising=False)
    channel = SlackChannel.from_credentials(None)
    assert (channel.api_url, channel.use_threads) == ("https://slack.com/api/", False)
    assert channel.get_output_channel("D1").client.base_url == "https://slack.com/api/"

    monkeypatch.setenv("SLACK_API_URL", "https://slack-gov.example/api")
    monkeypatch.setenv("SLACK_REPLY_IN_THREAD", "true")
    channel = SlackChannel.from_credentials({})
    assert (channel.api_url, channel.use_threads) == ("https://slack-gov.example/api/", True)
    assert channel.get_output_channel("D1").client.base_url == "https://slack-gov.example/api/"


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_the_channel_refuses_to_start_without_a_secret(monkeypatch, missing):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    with pytest.raises(InvalidConfigException, match=missing) as error:
        SlackChannel.from_credentials(None)
    assert not any(secret in str(error.value) for secret in SECRETS.values())
