"""The widget's socket.io channel: Rasa's, with the guard every channel shares.

Same name, path and protocol as Rasa 3.6's ``socketio`` channel (``session_request`` -> ``session_confirm``,
``user_uttered`` in, ``bot_uttered`` out to the session's room), so the widget in ``web/``, rasa-webchat
and plain socket.io clients talk to it unchanged. Rasa's own channel goes silent when the action server
stalls, answers nothing to a ``user_uttered`` whose message is empty, a number or null (or whose payload
is not an object), and reads messages of any length. Here every message goes through
:func:`addons.guard.answer` (the same validation, 2,000-character cap and fallback reply as REST and
Slack), and a payload without text gets the knowledge base's prompt.

Enable it in ``credentials.yml`` with ``addons.socketio.SocketIOInput:`` (same keys) in place of ``socketio:``.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.core.channels.socketio import SocketIOOutput
from sanic import Blueprint

from addons import guard

logger = logging.getLogger(__name__)


def _metadata(value: Any) -> Optional[Dict[str, Any]]:
    """The message's metadata when it is an object (or a JSON text of one); anything else is dropped."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


class SocketIOInput(RasaSocketIOInput):
    """Rasa's socket.io channel, its ``user_uttered`` handled through the guard."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def _sender(self, sid: str, data: Dict[str, Any]) -> str:
        """Whose conversation a message belongs to: the session's id, else the connection's (its own room)."""
        session = data.get("session_id") if self.session_persistence else None
        return session if isinstance(session, str) and session else sid

    async def _refuse(self, sid: str, text: str) -> None:
        """Answer the sending connection only, for a message that does not reach the assistant."""
        await guard.say(SocketIOOutput(self.sio, self.bot_message_evt), sid, text)

    async def handle_message(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], sid: str,
                             data: Any) -> None:
        text = guard.read(data.get("message")) if isinstance(data, dict) else None
        if text is None:
            await self._refuse(sid, guard.EMPTY_TEXT)
            return
        message = UserMessage(text.text, SocketIOOutput(self.sio, self.bot_message_evt), self._sender(sid, data),
                              input_channel=self.name(), metadata=_metadata(data.get(self.metadata_key)))
        await guard.answer(on_new_message, message, text.capped)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's blueprint (health route, connect, ``session_request``) with our ``user_uttered`` handler."""
        socketio_webhook = super().blueprint(on_new_message)

        async def user_uttered(sid: str, data: Any = None, *_: Any) -> None:
            try:
                await self.handle_message(on_new_message, sid, data)
            except Exception:  # noqa: BLE001 — answer and log rather than let socket.io swallow it
                logger.exception("a socket.io message could not be handled")
                await self._refuse(sid, guard.FALLBACK_TEXT)

        self.sio.on(self.user_message_evt, user_uttered, namespace=self.namespace)
        return socketio_webhook
