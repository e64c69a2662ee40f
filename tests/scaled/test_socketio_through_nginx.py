"""The widget's socket.io channel through nginx: a connection's requests all reach the replica holding it.

Long-polling makes a new HTTP request for every exchange; with round-robin they would land on the other
replica, which does not know the session, and the connection would fail.
"""
from __future__ import annotations

import pytest

from tests.scaled.conftest import through_nginx
from tests.socketio_client import WidgetClient

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("transports", [["polling"], ["polling", "websocket"]], ids=["long-polling", "websocket"])
async def test_the_widget_channel_works_through_nginx(scaled, transports):
    """Each turn waits for the reply it needs (not a fixed time) before the next message."""
    async with WidgetClient(through_nginx(scaled).rasa_url, transports) as widget:
        await widget.ask("I have dry skin", r"dry")
        await widget.ask("what cleanser should I use?", r"cream-based|hydrating")
        await widget.ask("how long should the serum absorb?", r"5–15 minutes")
