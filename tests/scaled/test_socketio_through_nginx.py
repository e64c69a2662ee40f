"""The widget's socket.io channel through nginx: a connection's requests all reach the replica holding it.

Long-polling makes a new HTTP request for every exchange; with round-robin they would land on the other
replica, which does not know the session, and the connection would fail.
"""
from __future__ import annotations

import asyncio
import re
import uuid
from typing import List

import pytest
import socketio

from tests.scaled.conftest import through_nginx
from tests.socketio_client import SocketChat

pytestmark = pytest.mark.e2e
WAIT = 20.0


async def talk(url: str, transports: List[str], messages: List[str]) -> List[str]:
    """Send each message as the widget does and collect the first reply to each."""
    client = socketio.AsyncClient(reconnection=False)
    replies: asyncio.Queue = asyncio.Queue()
    confirmed = asyncio.Event()
    session = uuid.uuid4().hex
    client.on("session_confirm", lambda *_: confirmed.set())
    client.on("bot_uttered", lambda data: replies.put_nowait(data.get("text") or ""))
    await client.connect(url, transports=transports, wait_timeout=WAIT)
    try:
        await client.emit("session_request", {"session_id": session})
        await asyncio.wait_for(confirmed.wait(), WAIT)
        answers = []
        for text in messages:
            await client.emit("user_uttered", {"message": text, "session_id": session})
            answers.append(await asyncio.wait_for(replies.get(), WAIT))
            await asyncio.sleep(0.5)  # let every reply of this turn arrive before the next
            while not replies.empty():
                answers[-1] += "\n" + replies.get_nowait()
        return answers
    finally:
        await client.disconnect()


@pytest.mark.parametrize("transports", [["polling"], ["polling", "websocket"]], ids=["long-polling", "websocket"])
async def test_the_widget_channel_works_through_nginx(scaled, transports):
    answers = await talk(through_nginx(scaled).rasa_url, transports,
                         ["I have dry skin", "what cleanser should I use?", "how long should the serum absorb?"])
    assert "dry" in answers[0].lower()
    assert "cream-based" in answers[1] or "hydrating" in answers[1]
    assert "5–15 minutes" in answers[2]


async def test_a_session_confirmed_by_one_replica_goes_on_at_the_other(scaled):
    """The replicas share the session key: a widget that reconnects to another replica keeps its conversation."""
    first, second = scaled.rasa
    async with SocketChat(first.rasa_url) as chat:
        await chat.join()
        assert "dry" in (await chat.say("I have dry skin", "dry")).lower()
        token = chat.session_id
    async with SocketChat(second.rasa_url) as chat:
        assert await chat.join(token) == token
        assert re.search(r"cream-based|hydrating", await chat.say("what cleanser should I use?", re.compile("cream-based|hydrating")))
