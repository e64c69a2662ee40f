"""Parts failing and coming back: the action server down or hung, either server restarted.

Real servers on free ports; this module has its own stack because it stops and restarts them. Its Rasa
server has every channel on (REST, the widget's socket.io, Slack against a fake Web API on loopback), and
each of them answers during an outage — none goes silent.
"""
from __future__ import annotations

import os
import re
import signal
import time
from contextlib import contextmanager
from typing import Iterator

import pytest

from addons.guard import FALLBACK_TEXT
from scripts.stack import Stack
from tests.channels import channels
from tests.conftest import Conversation, make_stack
from tests.reliability.conftest import PATIENCE, running
from tests.slack.fake_slack import SECRET, TOKEN, FakeSlack
from tests.socketio_client import SocketChat

pytestmark = pytest.mark.e2e

DRY_CLEANSER = re.compile(r"cream|hydrating", re.I)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, fake_slack) -> Iterator[Stack]:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake_slack.api_url}
    with running(make_stack(tmp_path_factory.mktemp("failures"), extra_env=env)) as started:
        yield started


CHANNELS = ["rest", "rest-stream", "socketio", "slack"]


def timed_ask(fake_slack: FakeSlack, channel: str, stack: Stack, text: str) -> str:
    """The first reply on ``channel``, asserting it came within PATIENCE."""
    started = time.monotonic()
    reply = channels(fake_slack)[channel](stack, text)
    assert time.monotonic() - started < PATIENCE, f"{channel}: {time.monotonic() - started:.1f}s"
    return reply


def timed_say(chat: Conversation, text: str) -> str:
    """What the user reads, asserting they did not wait longer than PATIENCE."""
    started = time.monotonic()
    reply = chat.say(text, fallback_ok=True)  # during an outage the fallback is the right answer
    assert time.monotonic() - started < PATIENCE, f"{text!r} took {time.monotonic() - started:.1f}s"
    return reply


@contextmanager
def actions_down(stack: Stack) -> Iterator[None]:
    stack.stop("actions")
    try:
        yield
    finally:
        stack.start_actions()
        stack.wait_ready(120)


@contextmanager
def actions_hung(stack: Stack) -> Iterator[None]:
    """The action server accepts connections but never answers (frozen), then thaws."""
    group = stack.processes["actions"].pid
    os.killpg(group, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(group, signal.SIGCONT)


def test_action_server_down_gets_a_helpful_reply_then_recovers(stack):
    chat = Conversation(stack)
    assert DRY_CLEANSER.search(chat.say("I have dry skin"))
    with actions_down(stack):
        assert FALLBACK_TEXT in timed_say(chat, "what cleanser should I use?")
        assert FALLBACK_TEXT in timed_say(chat, "I also have a darker skin tone")
        assert "welcome" in timed_say(chat, "thanks!").lower()  # responses from the domain still work
    reply = chat.say("how should I adjust the routine for me?")
    assert "dry / dehydrated skin, darker skin tone" in reply  # said during the outage, not lost
    assert DRY_CLEANSER.search(chat.say("what cleanser should I use?"))


def test_hung_action_server_gets_a_reply_within_seconds_then_recovers(stack):
    chat = Conversation(stack)
    assert DRY_CLEANSER.search(chat.say("I have dry skin"))
    with actions_hung(stack):
        assert FALLBACK_TEXT in timed_say(chat, "what cleanser should I use?")
    reply = timed_say(chat, "what cleanser should I use?")
    assert FALLBACK_TEXT not in reply and DRY_CLEANSER.search(reply)


@pytest.mark.parametrize("outage", [actions_down, actions_hung], ids=["down", "stalled"])
@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_answers_within_seconds_while_the_action_server_is_out(stack, fake_slack, channel, outage):
    with outage(stack):
        assert FALLBACK_TEXT in timed_ask(fake_slack, channel, stack, "what cleanser should I use for dry skin?")
    reply = channels(fake_slack)[channel](stack, "what cleanser should I use for dry skin?")
    assert reply and FALLBACK_TEXT not in reply  # the assistant itself answers again


async def test_profile_survives_a_rasa_server_restart(stack):
    chat = Conversation(stack)
    assert DRY_CLEANSER.search(chat.say("I have dry skin"))
    async with SocketChat(stack.rasa_url) as widget:
        await widget.join()
        await widget.say("I have dry skin", "dry")
    stack.stop("rasa")
    stack.start_rasa()
    stack.wait_ready(240)
    assert DRY_CLEANSER.search(chat.say("what cleanser should I use?"))
    async with SocketChat(stack.rasa_url) as again:  # the widget's session id is still the server's own
        assert await again.join(widget.session_id) == widget.session_id
        assert DRY_CLEANSER.search(await again.say("what cleanser should I use?", DRY_CLEANSER))


def test_profile_survives_an_action_server_restart(stack):
    chat = Conversation(stack)
    assert "oily" in chat.say("my skin is oily").lower()
    with actions_down(stack):
        pass
    assert re.search(r"salicylic|gel-based|oil-free", chat.say("what cleanser should I use?"), re.I)
