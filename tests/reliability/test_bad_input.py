"""Odd and malformed input over REST and the widget's socket.io, against the real Rasa and action servers.

Odd but valid messages get a 200 and a short, sensible reply, quickly; malformed requests get a 4xx with a
JSON error on REST and the prompt on socket.io (no status codes there). Either way the conversation goes
on: the profile given before still shapes the next answer. (Slack: tests/slack/test_slack_app.py.)
"""
from __future__ import annotations

import json
import re
import time

import pytest

from addons.guard import CAPPED_NOTE, EMPTY_TEXT, FALLBACK_TEXT, MAX_MESSAGE_CHARS
from tests.conftest import Conversation
from tests.reliability.conftest import send
from tests.socketio_client import SocketChat

pytestmark = pytest.mark.e2e

DRY_CLEANSER = re.compile(r"cream|hydrating", re.I)

ODD_MESSAGES = {
    "empty": "",
    "whitespace": "  \n\t   ",
    "invisible characters only": "\u202e\u200b\ufeff\x00",
    "100,000 characters": ("my skin is dry and feels tight after washing, " * 3000)[:100_000],
    "control characters": "\x00\x01\x07\x1b[31mhello\x7f\x9b\x08",
    "emoji and RTL marks": "\u202eʇxǝʇ 😀👩\u200d👩\u200d👧 \u200fمرحبا\u200f 🧴✨ \ufeff",
    "lone surrogate": "\ud800 hello \udfff",
    "HTML/JS": "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "SQL injection": "'; DROP TABLE events; -- \" OR 1=1; SELECT * FROM events --",
    "template injection": "{{7*7}} ${7*7} {sender_id} {contact} %(text)s #{7*7} <%= 7*7 %>",
    "slash command": "/",
}


def _say_dry(chat: Conversation) -> None:
    assert DRY_CLEANSER.search(chat.say("I have dry skin"))


@pytest.mark.parametrize("kind", list(ODD_MESSAGES))
def test_odd_message_gets_a_quick_short_reply_and_the_conversation_goes_on(assistant, kind):
    chat = Conversation(assistant)
    _say_dry(chat)
    started = time.monotonic()
    reply = chat.say(ODD_MESSAGES[kind])  # raises on anything but a 2xx
    assert time.monotonic() - started < 3.0
    assert reply.strip() and len(reply) < 2500
    assert FALLBACK_TEXT not in reply  # the assistant itself answered
    assert DRY_CLEANSER.search(chat.say("what cleanser should I use?"))


@pytest.mark.parametrize("kind", ["empty", "whitespace", "invisible characters only"])
def test_an_empty_message_gets_a_prompt(chat, kind):
    assert chat.say(ODD_MESSAGES[kind]) == EMPTY_TEXT


def test_a_long_message_is_capped_with_a_polite_note(chat):
    reply = chat.say("How long should the serum absorb? " + "Please tell me. " * 10_000)
    assert CAPPED_NOTE in reply and f"{MAX_MESSAGE_CHARS:,}" in reply
    assert re.search(r"5\s*[–-]\s*15 minutes", reply)


def test_markup_and_templates_are_not_echoed_or_evaluated(chat):
    reply = chat.say(ODD_MESSAGES["HTML/JS"])
    assert "<script" not in reply and "onerror" not in reply
    reply = chat.say(ODD_MESSAGES["template injection"])
    assert "49" not in reply and chat.sender not in reply


MALFORMED = {
    "invalid JSON": (b'{"sender": "x", "message": "hi"', "invalid_json"),
    "message null": (b'{"sender": "x", "message": null}', "invalid_message"),
    "message number": (b'{"sender": "x", "message": 42}', "invalid_message"),
    "message list": (b'{"sender": "x", "message": ["hi"]}', "invalid_message"),
    "message missing": (b'{"sender": "x"}', "invalid_message"),
    "sender missing": (b'{"message": "hi"}', "invalid_sender"),
    "sender empty": (b'{"sender": " ", "message": "hi"}', "invalid_sender"),
    "sender too long": (json.dumps({"sender": "x" * 300, "message": "hi"}).encode(), "invalid_sender"),
    "empty body": (b"", "empty_body"),
    "not an object": (b'["sender", "message"]', "invalid_body"),
    "metadata not an object": (b'{"sender": "x", "message": "hi", "metadata": "m"}', "invalid_metadata"),
    "not UTF-8": (b'{"sender": "x", "message": "\xff\xfe"}', "invalid_json"),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_request_gets_a_4xx_with_a_json_error(assistant, kind):
    body, code = MALFORMED[kind]
    reply = send(assistant.rest_url, body, headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.headers["content-type"].startswith("application/json")
    error = reply.json()
    assert error["error"] == code and len(error["message"]) > 20


def test_an_oversized_body_is_refused_with_413(assistant):
    body = json.dumps({"sender": "x", "message": "a" * 3_000_000}).encode()
    reply = send(assistant.rest_url, body, headers={"Content-Type": "application/json"})
    assert reply.status == 413 and reply.json()["error"] == "body_too_large"


def test_a_malformed_request_loses_nothing_said_before(chat):
    _say_dry(chat)
    for body in (b"{", b'{"sender": "%s", "message": null}' % chat.sender.encode(), b""):
        assert send(chat.stack.rest_url, body).status == 400
    assert DRY_CLEANSER.search(chat.say("what cleanser should I use?"))


def test_a_missing_sender_does_not_join_a_shared_conversation(assistant):
    """Rasa's own channel files sender-less messages under one "default" conversation for everyone."""
    reply = send(assistant.rest_url, b'{"message": "I have oily skin"}')
    assert reply.status == 400
    default = Conversation(assistant)
    default.sender = "default"
    assert "For oily" not in default.say("what cleanser should I use?")



# --------------------------------------------------------------------------- the same guard on every channel

NOT_TEXT = {"null": None, "number": 42, "list": ["hi"], "object": {"text": "hi"}, "true": True}


@pytest.mark.parametrize("kind", ["empty", "whitespace", "invisible characters only"])
async def test_socketio_an_empty_message_gets_the_prompt(assistant, kind):
    async with SocketChat(assistant.rasa_url) as chat:
        await chat.join()
        await chat.send(ODD_MESSAGES[kind])
        assert await chat.reply() == EMPTY_TEXT


@pytest.mark.parametrize("kind", list(NOT_TEXT))
async def test_socketio_a_message_that_is_not_text_gets_the_prompt_and_the_conversation_goes_on(assistant, kind):
    async with SocketChat(assistant.rasa_url) as chat:
        await chat.join()
        assert DRY_CLEANSER.search(await chat.say("I have dry skin, what cleanser should I use?", DRY_CLEANSER))
        await chat.send(NOT_TEXT[kind])
        assert await chat.reply() == EMPTY_TEXT
        assert DRY_CLEANSER.search(await chat.say("what cleanser should I use?", DRY_CLEANSER))


@pytest.mark.parametrize("payload", [None, "how long should the serum absorb?", 7, ["a", "b"]],
                         ids=["no payload", "bare string", "number", "list"])
async def test_socketio_a_payload_that_is_not_an_object_gets_the_prompt(assistant, payload):
    async with SocketChat(assistant.rasa_url) as chat:
        await chat.join()
        await (chat.emit("user_uttered") if payload is None else chat.emit("user_uttered", payload))
        assert await chat.reply() == EMPTY_TEXT


async def test_socketio_a_long_message_is_capped_with_the_note_and_answered(assistant):
    async with SocketChat(assistant.rasa_url) as chat:
        await chat.join()
        started = time.monotonic()
        await chat.send("How long should the serum absorb? " + "Please tell me. " * 10_000)
        assert await chat.reply() == CAPPED_NOTE
        assert re.search(r"5\s*[–-]\s*15 minutes", await chat.reply_matching(re.compile(r"5\s*[–-]\s*15 minutes")))
        assert time.monotonic() - started < 3.0


def _stream(stack, message) -> list:
    body = json.dumps({"sender": "stream-check", "message": message}).encode()
    reply = send(stack.rest_url + "?stream=true", body, headers={"Content-Type": "application/json"})
    assert reply.status == 200, reply.body
    return [json.loads(line)["text"] for line in reply.body.decode().splitlines() if line.strip()]


def test_rest_stream_answers_an_empty_message_with_the_prompt_and_caps_a_long_one(assistant):
    assert _stream(assistant, "  \u200b ") == [EMPTY_TEXT]
    texts = _stream(assistant, "How long should the serum absorb? " + "Please tell me. " * 10_000)
    assert texts[0] == CAPPED_NOTE and re.search(r"5\s*[–-]\s*15 minutes", "\n".join(texts[1:]))


@pytest.mark.parametrize("kind", ["message null", "message number", "not an object"])
def test_rest_stream_refuses_what_rest_refuses(assistant, kind):
    body, code = MALFORMED[kind]
    reply = send(assistant.rest_url + "?stream=true", body, headers={"Content-Type": "application/json"})
    assert reply.status == 400 and reply.json()["error"] == code
