"""Parts failing and coming back: the action server down or hung, either server restarted.

Real servers on free ports; this module has its own stack because it stops and restarts them.
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
from tests.conftest import Conversation, make_stack
from tests.reliability.conftest import PATIENCE, running

pytestmark = pytest.mark.e2e

DRY_CLEANSER = re.compile(r"cream|hydrating", re.I)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    with running(make_stack(tmp_path_factory.mktemp("failures"))) as started:
        yield started


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


def test_profile_survives_a_rasa_server_restart(stack):
    chat = Conversation(stack)
    assert DRY_CLEANSER.search(chat.say("I have dry skin"))
    stack.stop("rasa")
    stack.start_rasa()
    stack.wait_ready(240)
    assert DRY_CLEANSER.search(chat.say("what cleanser should I use?"))


def test_profile_survives_an_action_server_restart(stack):
    chat = Conversation(stack)
    assert "oily" in chat.say("my skin is oily").lower()
    with actions_down(stack):
        pass
    assert re.search(r"salicylic|gel-based|oil-free", chat.say("what cleanser should I use?"), re.I)
