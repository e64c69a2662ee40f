"""Slack under scale-out: two Rasa servers behind one Request URL share the retry memory in a real Redis.

Slack sends an event again when it thinks the first delivery failed; a load balancer may hand the retry
to the other server. Both servers here have the Slack app on (fake Web API on loopback), REDIS_HOST set
to one Redis, and one action server; each retry goes to the server that did not take the first delivery.
"""
from __future__ import annotations

import time
from typing import Iterator, Tuple

import pytest

from scripts.stack import Stack, free_port
from tests.conftest import make_stack
from tests.reliability.conftest import running
from tests.slack.fake_slack import BOT_USER, SECRET, TOKEN, FakeSlack, SlackClient, message_event, new_id

pytestmark = pytest.mark.e2e

ABSORB_QUESTION = "how long should the serum absorb?"
ABSORB_ANSWER = "5–15 minutes"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory, redis_port, fake_slack) -> Iterator[Tuple[Stack, Stack]]:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake_slack.api_url,
           "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_port)}
    with running(make_stack(tmp_path_factory.mktemp("slack-a"), extra_env=env)) as first:
        second = Stack(rasa_port=free_port(), action_port=first.action_port, web_port=None, quiet=True,
                       workdir=tmp_path_factory.mktemp("slack-b"), extra_env=env)
        try:
            second.start_rasa()  # the same action server
            second.wait_ready(240)
            yield first, second
        finally:
            second.stop()


def _answers(slack: FakeSlack, channel: str) -> int:
    return sum(ABSORB_ANSWER in p.get("text", "") for p in slack.posts(channel))


def test_a_retry_that_reaches_the_other_server_is_not_answered_again(servers, fake_slack):
    first, second = (SlackClient(server, fake_slack) for server in servers)
    user, channel = new_id("U"), new_id("D")
    envelope = message_event(ABSORB_QUESTION, user, channel)
    assert first.send_event(envelope)[0] == 200
    status, reply = second.send_event(envelope, RETRY)
    assert (status, reply.get("duplicate")) == (200, True)
    assert first.send_event(envelope, {**RETRY, "X-Slack-Retry-Num": "2"})[1].get("duplicate") is True

    fake_slack.wait_for_post(channel, ABSORB_ANSWER)
    second.settle(user, channel)  # every message sent before the greeting has been answered, on both
    first.settle(user, channel)
    assert _answers(fake_slack, channel) == 1


def test_a_dm_delivered_as_message_to_one_server_and_as_app_mention_to_the_other_is_answered_once(servers,
                                                                                                   fake_slack):
    first, second = (SlackClient(server, fake_slack) for server in servers)
    user, channel, ts = new_id("U"), new_id("D"), f"{time.time():.6f}"
    text = f"<@{BOT_USER}> {ABSORB_QUESTION}"
    assert first.send_event(message_event(text, user, channel, ts=ts))[0] == 200
    assert second.send_event(message_event(text, user, channel, kind="app_mention", ts=ts))[0] == 200

    fake_slack.wait_for_post(channel, ABSORB_ANSWER)
    second.settle(user, channel)
    first.settle(user, channel)
    assert _answers(fake_slack, channel) == 1
