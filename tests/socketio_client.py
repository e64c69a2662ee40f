"""A plain python-socketio client speaking Rasa's socket.io protocol, as the widget does, for tests.

``session_request`` -> ``session_confirm`` (the conversation's id, as the server confirms it), then
``user_uttered`` with that id; ``bot_uttered`` replies are queued and read with :meth:`SocketChat.reply`.
Waits are for events, never fixed sleeps.
"""
from __future__ import annotations

import asyncio
import re
from typing import Any, Dict, List, Optional, Pattern, Sequence, Union

import socketio

#: Longest wait for anything the server does (a reply, a confirmation), in seconds.
WAIT = 30.0


class SocketChat:
    """One socket.io connection to the Rasa server."""

    def __init__(self, url: str, headers: Optional[Dict[str, str]] = None,
                 transports: Sequence[str] = ("websocket",)) -> None:
        self.url, self.headers, self.transports = url, headers or {}, list(transports)
        self.client = socketio.AsyncClient(reconnection=False)
        self.session_id: Optional[str] = None
        self.received: List[Dict[str, Any]] = []
        self._replies: asyncio.Queue = asyncio.Queue()
        self._confirmations: asyncio.Queue = asyncio.Queue()
        self.refusal: Any = None  # what the server said when it refused the connection
        self._answered = asyncio.Event()  # the server accepted or refused the connection
        self.client.on("bot_uttered", self._on_bot_uttered)
        self.client.on("session_confirm", self._confirmations.put_nowait)
        self.client.on("connect", self._answered.set)
        self.client.on("connect_error", self._on_connect_error)

    def _on_connect_error(self, data: Any = None) -> None:
        self.refusal = data
        self._answered.set()

    def _on_bot_uttered(self, data: Any) -> None:
        self.received.append(data)
        self._replies.put_nowait(data)

    async def connect(self) -> "SocketChat":
        """Connect; a refused connection raises ``socketio.exceptions.ConnectionError`` (see :attr:`refusal`)."""
        # python-socketio 5.9's own wait sits out its whole timeout on a refusal: wait for either answer instead.
        await self.client.connect(self.url, headers=self.headers, transports=self.transports, wait=False)
        await asyncio.wait_for(self._answered.wait(), WAIT)
        if self.refusal is not None:
            await self.close()
            raise socketio.exceptions.ConnectionError(f"refused: {self.refusal}")
        return self

    async def join(self, session_id: Any = None, payload: Any = ...) -> Any:
        """``session_request`` (with ``session_id``, or exactly ``payload``); returns what ``session_confirm`` said."""
        await self.client.emit("session_request", {"session_id": session_id} if payload is ... else payload)
        confirmed = await asyncio.wait_for(self._confirmations.get(), WAIT)
        self.session_id = confirmed.get("session_id") if isinstance(confirmed, dict) else confirmed
        return confirmed

    async def send(self, message: Any, session_id: Any = ..., **extra: Any) -> None:
        """``user_uttered`` with ``message`` and the confirmed session id (or the one given; None: no id)."""
        data = {"message": message, **extra}
        session_id = self.session_id if session_id is ... else session_id
        if session_id is not None:
            data["session_id"] = session_id
        await self.client.emit("user_uttered", data)

    async def emit(self, event: str, *args: Any) -> None:
        await self.client.emit(event, *args)

    async def reply(self, timeout: float = WAIT) -> str:
        """The text of the next ``bot_uttered``."""
        data = await asyncio.wait_for(self._replies.get(), timeout)
        return text_of(data)

    async def reply_matching(self, pattern: Union[str, Pattern], timeout: float = WAIT) -> str:
        """Every reply text up to and including the first that matches ``pattern``, joined by newlines."""
        pattern = re.compile(re.escape(pattern)) if isinstance(pattern, str) else pattern
        texts: List[str] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not texts or not pattern.search(texts[-1]):
            try:
                texts.append(await self.reply(max(0.0, deadline - loop.time())))
            except asyncio.TimeoutError:
                raise AssertionError(f"no reply matching {pattern.pattern!r} within {timeout}s; got {texts}") from None
        return "\n".join(texts)

    async def say(self, message: Any, pattern: Union[str, Pattern], timeout: float = WAIT) -> str:
        await self.send(message)
        return await self.reply_matching(pattern, timeout)

    def pending(self) -> List[str]:
        """Replies received but not read yet."""
        texts = []
        while not self._replies.empty():
            texts.append(text_of(self._replies.get_nowait()))
        return texts

    async def close(self) -> None:
        await self.client.disconnect()
        await asyncio.wait_for(self.client.eio.wait(), WAIT)  # its read loop ends, so no task is left behind

    async def __aenter__(self) -> "SocketChat":
        return await self.connect()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


def text_of(data: Any) -> str:
    """A ``bot_uttered`` as the user reads it: its text and quick-reply titles."""
    if not isinstance(data, dict):
        return str(data)
    parts = [data.get("text") or ""] + [b.get("title", "") for b in data.get("quick_replies") or []]
    return "\n".join(p for p in parts if p)


class WidgetClient(SocketChat):
    """A widget's visit: connect and join a session on entering, leave on exit; ``ask`` waits for the reply."""

    def __init__(self, url: str, transports: Sequence[str] = ("polling", "websocket"), timeout: float = WAIT) -> None:
        super().__init__(url, transports=transports)
        self.timeout = timeout

    async def __aenter__(self) -> "WidgetClient":
        await self.connect()
        await self.join()
        return self

    async def ask(self, text: str, expect: str) -> str:
        """Send ``text``; this turn's replies (joined) once one matches ``expect`` (a regex), else fail."""
        return await self.say(text, re.compile(expect, re.I), self.timeout)
