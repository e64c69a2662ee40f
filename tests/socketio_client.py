"""A socket.io client that speaks Rasa's channel as the widget does: session_request -> session_confirm,
user_uttered out, bot_uttered in. Waits for what it expects, never for a fixed time."""
from __future__ import annotations

import asyncio
import re
import uuid
from typing import List, Sequence

import socketio

WAIT = 20.0


class WidgetClient:
    def __init__(self, url: str, transports: Sequence[str] = ("polling", "websocket"), timeout: float = WAIT) -> None:
        self.url, self.transports, self.timeout = url, list(transports), timeout
        self.session = uuid.uuid4().hex
        self.client = socketio.AsyncClient(reconnection=False)
        self.replies: List[str] = []
        self.arrived = asyncio.Condition()
        confirmed = self.confirmed = asyncio.Event()
        self.client.on("session_confirm", lambda *_: confirmed.set())
        self.client.on("bot_uttered", self._bot_uttered)

    async def _bot_uttered(self, data: dict) -> None:
        async with self.arrived:
            self.replies.append(data.get("text") or "")
            self.arrived.notify_all()

    async def __aenter__(self) -> "WidgetClient":
        await self.client.connect(self.url, transports=self.transports, wait_timeout=self.timeout)
        await self.client.emit("session_request", {"session_id": self.session})
        await asyncio.wait_for(self.confirmed.wait(), self.timeout)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.disconnect()

    async def ask(self, text: str, expect: str) -> str:
        """Send ``text``; return this turn's replies (joined) once they match ``expect`` (a regex), else fail."""
        start = len(self.replies)
        await self.client.emit("user_uttered", {"message": text, "session_id": self.session})
        turn = lambda: "\n".join(self.replies[start:])  # noqa: E731
        async with self.arrived:
            try:
                await asyncio.wait_for(self.arrived.wait_for(lambda: re.search(expect, turn(), re.I)), self.timeout)
            except asyncio.TimeoutError:
                raise AssertionError(f"{text!r}: no reply matching /{expect}/ in {self.timeout}s: {turn()!r}") from None
        return turn()
