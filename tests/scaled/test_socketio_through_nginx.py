"""The widget's socket.io channel through nginx: a connection's requests all reach the replica holding it.

Long-polling makes a new HTTP request for every exchange; with round-robin they would land on the other
replica, which does not know the session, and the connection would fail.
"""
from __future__ import annotations

import re

import pytest

from tests.scaled.conftest import through_nginx
from tests.socketio_client import SocketChat, WidgetClient

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("transports", [["polling"], ["polling", "websocket"]], ids=["long-polling", "websocket"])
async def test_the_widget_channel_works_through_nginx(scaled, transports):
    """Each turn waits for the reply it needs (not a fixed time) before the next message."""
    async with WidgetClient(through_nginx(scaled).rasa_url, transports) as widget:
        await widget.ask("I have dry skin", r"dry")
        await widget.ask("what cleanser should I use?", r"cream-based|hydrating")
        await widget.ask("how long should the serum absorb?", r"5–15 minutes")


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
