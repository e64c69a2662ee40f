"""Fixtures: a real assistant with the Slack app on, pointed at the fake Slack Web API (tests/conftest.py)."""
from __future__ import annotations

from typing import Iterator

import pytest

from scripts.stack import Stack
from tests.conftest import make_stack
from tests.slack.fake_slack import SECRET, TOKEN, FakeSlack, SlackClient, new_id


@pytest.fixture(scope="session")
def slack_stack(tmp_path_factory, fake_slack: FakeSlack) -> Iterator[Stack]:
    """The real action + Rasa servers, with the Slack app switched on and pointed at the fake Web API."""
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake_slack.api_url}
    with make_stack(tmp_path_factory.mktemp("slack"), extra_env=env) as stack:
        yield stack


@pytest.fixture
def slack(slack_stack: Stack, fake_slack: FakeSlack) -> SlackClient:
    return SlackClient(slack_stack, fake_slack)


@pytest.fixture
def user() -> str:
    return new_id("U")


@pytest.fixture
def dm_channel() -> str:
    return new_id("D")

