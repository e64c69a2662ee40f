"""A stand-in for the Rasa server's socket.io channel, on loopback, for what the real bot never does:
send hostile markup, or go away and come back. It speaks the same protocol as rasa/core/channels/socketio.py
(session_request -> session_confirm with a session id the server issued, user_uttered in, bot_uttered out to
the session's room)."""
from __future__ import annotations

import asyncio
import inspect
import threading
import uuid
from typing import Dict, List, Optional

import socketio
from aiohttp import web


class FakeSocketServer:
    """Start/stop it on a fixed port; ``replies`` maps a user message to the bot message sent back
    (a ``delay`` key, in seconds, holds the reply back like a slow bot)."""

    def __init__(self, port: int, replies: Dict[str, dict]) -> None:
        self.port = port
        self.replies = replies
        self.received: List[dict] = []
        self.issued: List[str] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runner: Optional[web.AppRunner] = None

    def _app(self) -> web.Application:
        sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")

        @sio.on("session_request")
        async def session_request(sid, data):
            session = (data or {}).get("session_id")
            if session not in self.issued:  # as the real channel does: only ids it issued are taken back
                session = f"fake-{uuid.uuid4().hex}"
                self.issued.append(session)
            joined = sio.enter_room(sid, session)
            if inspect.isawaitable(joined):
                await joined
            await sio.emit("session_confirm", session, room=sid)

        @sio.on("user_uttered")
        async def user_uttered(sid, data):
            self.received.append(data)
            reply = dict(self.replies.get(data.get("message"), {"text": "Noted."}))
            await asyncio.sleep(reply.pop("delay", 0))
            await sio.emit("bot_uttered", reply, room=data["session_id"])

        app = web.Application()
        sio.attach(app)
        return app

    def _run(self, coroutine, timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> None:
        async def start() -> web.AppRunner:
            runner = web.AppRunner(self._app(), shutdown_timeout=1.0)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            return runner

        self.runner = self._run(start())

    def stop(self) -> None:
        if self.runner is not None:
            self._run(self.runner.cleanup())
            self.runner = None

    def close(self) -> None:
        """Stop serving, cancel engine.io's background tasks, end the loop's thread."""
        self.stop()

        async def cancel_tasks() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self._run(cancel_tasks())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
