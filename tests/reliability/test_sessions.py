"""A widget conversation nobody else can open: server-issued session ids, bound to their connection.

Against the real Rasa and action servers, with python-socketio clients: the owner (the widget, rasa-webchat
or a plain client) keeps its conversation across reconnects by presenting the id the server confirmed;
anyone else who knows the conversation's id — as stored, in any altered or re-signed form — neither
receives its replies nor writes into it; socket.io, REST and Slack ids never meet.
"""
from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid

import jwt
import pytest

from tests.reliability.conftest import send
from tests.socketio_client import SocketChat

pytestmark = pytest.mark.e2e

DRY_CLEANSER = re.compile(r"cream|hydrating", re.I)
NO_PROFILE = "Tell me your skin type or tone"
FORGOTTEN = "I've forgotten your skin profile"
CLEANSER = "what cleanser should I use?"


def conversation_of(token: str) -> str:
    """The conversation id inside a session token: what the tracker store, and so its readers, know."""
    return jwt.decode(token, options={"verify_signature": False})["sub"]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


STOLEN = {
    "the conversation id": conversation_of,
    "the stored sender id": lambda token: f"socketio:{conversation_of(token)}",
    "the token, signature altered": lambda token: token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
    "the token, re-signed with a guessed key": lambda token: jwt.encode(
        jwt.decode(token, options={"verify_signature": False}), "changeme" * 4, algorithm="HS256"),
    "the token, unsigned (alg none)": lambda token: ".".join(
        [_b64({"alg": "none", "typ": "JWT"}), token.split(".")[1], ""]),
}


async def _victim(url: str) -> SocketChat:
    victim = await SocketChat(url).connect()
    await victim.join()
    assert DRY_CLEANSER.search(await victim.say(f"I have dry skin. {CLEANSER}", DRY_CLEANSER))
    return victim


@pytest.mark.parametrize("kind", list(STOLEN))
async def test_a_stolen_session_id_gets_none_of_the_replies_and_cannot_write(assistant, kind):
    victim = await _victim(assistant.rasa_url)
    stolen = STOLEN[kind](victim.session_id)
    try:
        async with SocketChat(assistant.rasa_url) as joiner, SocketChat(assistant.rasa_url) as writer:
            # One asks to join the victim's session, the other writes with its id without joining.
            assert await joiner.join(stolen) != victim.session_id
            await writer.send("forget my profile", session_id=stolen)
            await joiner.send("forget my profile", session_id=stolen)
            assert FORGOTTEN in await writer.reply_matching(FORGOTTEN)  # their own, new conversation
            assert FORGOTTEN in await joiner.reply_matching(FORGOTTEN)

            reply = await victim.say(CLEANSER, DRY_CLEANSER)  # the profile is still there ...
            assert FORGOTTEN not in reply and NO_PROFILE not in reply  # ... and no one else's reply came here
            assert DRY_CLEANSER.search(await victim.say("what cleanser should I use in the morning?", DRY_CLEANSER))
            assert joiner.pending() == [] and writer.pending() == []  # nor did the victim's replies go there
    finally:
        await victim.close()


async def test_the_owner_keeps_its_conversation_across_reconnects_by_presenting_its_id(assistant):
    victim = await _victim(assistant.rasa_url)
    token = victim.session_id
    await victim.close()
    async with SocketChat(assistant.rasa_url, transports=["polling"]) as again:
        assert await again.join(token) == token
        assert DRY_CLEANSER.search(await again.say(CLEANSER, DRY_CLEANSER))


async def test_two_pages_of_one_session_both_receive_its_replies(assistant):
    first = await _victim(assistant.rasa_url)
    try:
        async with SocketChat(assistant.rasa_url) as second:
            assert await second.join(first.session_id) == first.session_id
            await second.send(CLEANSER)
            assert DRY_CLEANSER.search(await second.reply_matching(DRY_CLEANSER))
            assert DRY_CLEANSER.search(await first.reply_matching(DRY_CLEANSER))
    finally:
        await first.close()


def _rest_say(stack, sender: str, text: str):
    body = json.dumps({"sender": sender, "message": text}).encode()
    return send(stack.rest_url, body, headers={"Content-Type": "application/json"})


async def test_socketio_cannot_continue_a_rest_conversation(assistant):
    sender = f"uxprobe-{uuid.uuid4().hex[:8]}"
    assert _rest_say(assistant, sender, "I have dry skin").status == 200
    async with SocketChat(assistant.rasa_url) as chat:
        assert await chat.join(sender) != sender
        assert NO_PROFILE in await chat.say(CLEANSER, NO_PROFILE)
        await chat.send(CLEANSER, session_id=sender)  # naming the REST conversation in the message too
        assert NO_PROFILE in await chat.reply_matching(NO_PROFILE)


@pytest.mark.parametrize("sender", ["socketio:{id}", "SocketIO:{id}", "slack:U0123ABCD"])
async def test_rest_cannot_name_a_socketio_or_slack_conversation(assistant, sender):
    victim = await _victim(assistant.rasa_url)
    try:
        reply = _rest_say(assistant, sender.format(id=conversation_of(victim.session_id)), "forget my profile")
        assert reply.status == 400 and reply.json()["error"] == "invalid_sender"
        assert "belong to the" in reply.json()["message"]
        assert DRY_CLEANSER.search(await victim.say(CLEANSER, DRY_CLEANSER))
        assert victim.pending() == []
    finally:
        await victim.close()


async def test_a_rasa_webchat_style_client_converses_and_resumes(assistant):
    """As botfront/rasa-webchat 1.x does it (src/components/Widget/index.js, src/store/store.js): no id at
    first, the id from session_confirm (a string, or an object's session_id) kept in storage, sent with every
    message along with customData, and presented again in session_request on the next visit."""
    storage = {}
    for visit in range(2):
        async with SocketChat(assistant.rasa_url, transports=["polling", "websocket"]) as webchat:
            confirmed = await webchat.join(payload={"session_id": storage.get("session_id")})
            remote = confirmed.get("session_id") if isinstance(confirmed, dict) else confirmed
            assert isinstance(remote, str) and remote
            if visit:
                assert remote == storage["session_id"]  # the same session: no init payload again
            storage["session_id"] = remote
            await webchat.send("I have dry skin" if not visit else CLEANSER, session_id=remote,
                               customData={"language": "en"})
            assert (await webchat.reply_matching("dry" if not visit else DRY_CLEANSER)).strip()


async def test_a_plain_client_converses_however_it_names_its_session(assistant):
    async with SocketChat(assistant.rasa_url) as own_id:  # Rasa's old docs: a uuid of the client's own
        chosen = uuid.uuid4().hex
        assert await own_id.join(chosen) != chosen
        await own_id.send("I have dry skin", session_id=chosen)  # the connection's conversation
        await own_id.reply_matching("dry")
        await own_id.send(CLEANSER, session_id=None)  # no id at all: still the connection's
        assert DRY_CLEANSER.search(await own_id.reply_matching(DRY_CLEANSER))
    async with SocketChat(assistant.rasa_url) as no_request:  # never sends session_request
        await no_request.send("how long should the serum absorb?", session_id=None)
        assert re.search(r"5\s*[–-]\s*15 minutes", await no_request.reply_matching(re.compile(r"15 minutes")))


async def test_session_request_payloads_of_any_shape_get_a_session(assistant):
    async with SocketChat(assistant.rasa_url) as chat:
        for payload in (None, {}, {"session_id": None}, {"session_id": 42}, "not-a-token", ["x"], {"session_id": "x" * 5000}):
            confirmed = await chat.join(payload=payload)
            assert isinstance(confirmed, str) and conversation_of(confirmed)
        assert (await asyncio.wait_for(chat.say("hi", "exosome-serum routine"), 30)).strip()
