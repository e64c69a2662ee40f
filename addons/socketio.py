"""The widget's socket.io channel: Rasa's protocol, with the shared guard and conversations nobody else can open.

Same name, path and protocol as Rasa 3.6's ``socketio`` channel (``session_request`` -> ``session_confirm``,
``user_uttered`` in, ``bot_uttered`` out to the session's room), so the widget in ``web/``, rasa-webchat
and plain socket.io clients talk to it as before. What differs:

* **The server names the conversation.** ``session_confirm`` carries a token the server signed
  (:mod:`addons.session`); a client keeps it and presents it as ``session_id`` — in ``session_request``
  when it reconnects (the conversation goes on: session persistence) and in each ``user_uttered``. An id
  the server did not sign — someone else's conversation id, a forged or altered token, an id the client
  made up — opens a *new* conversation instead, so nobody can read or write a conversation without its
  token. A connection's conversation is bound to it on the server: a ``user_uttered`` without a
  ``session_id``, or with one that is not ours, goes to the connection's own conversation, and nothing
  goes to a conversation the connection cannot prove.
* **Its own sender ids.** The conversation is stored as ``socketio:<id>``, a prefix no other channel
  accepts (:func:`addons.guard.foreign_sender`): a socket.io client cannot continue a REST or Slack
  conversation, nor a REST client a widget's.
* **Origin is checked** on the handshake against ``CORS_ORIGINS`` (``scripts/stack.py`` passes the same
  list it gives ``rasa run --cors``; ``*`` allows any): browsers do not apply CORS to WebSockets, so
  without this any web page could open chats with the server from its visitors' browsers. Clients that
  send no ``Origin`` (not browsers) are let in — an ``Origin`` check cannot tell them apart anyway.
* **The guard** (:func:`addons.guard.answer`): the same validation, 2,000-character cap and fallback
  reply as REST and Slack; a payload or message that is not text gets the knowledge base's prompt.

Enable it in ``credentials.yml`` with ``addons.socketio.SocketIOInput:`` (Rasa's keys) in place of ``socketio:``.
"""
from __future__ import annotations

import inspect
import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, FrozenSet, Mapping, Optional, Text

import rasa.core.channels.channel
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint
from socketio.exceptions import ConnectionRefusedError

from addons import feedback, guard, handoff
from addons.session import Sessions

logger = logging.getLogger(__name__)

CORS_ENV = "CORS_ORIGINS"


def allowed_origins(env: Mapping[str, str]) -> FrozenSet[str]:
    """The browser origins ``CORS_ORIGINS`` allows (comma-separated; ``*``: any)."""
    return frozenset(o.strip().rstrip("/") for o in env.get(CORS_ENV, "").split(",") if o.strip())


def _metadata(value: Any) -> Optional[Dict[str, Any]]:
    """The message's metadata when it is an object (or a JSON text of one); anything else is dropped."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _presented(data: Any) -> Any:
    """The session id a client presents: ``{"session_id": ...}`` (Rasa, rasa-webchat, the widget) or a bare string."""
    return data.get("session_id") if isinstance(data, dict) else data


async def _maybe_await(result: Any) -> None:
    if inspect.isawaitable(result):  # python-socketio >= 5.10 made room changes coroutines
        await result


class SocketIOInput(RasaSocketIOInput):
    """Rasa's socket.io channel with server-issued sessions, an Origin check and the guard."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions = Sessions.from_environment()
        self.origins = allowed_origins(os.environ)

    def get_output_channel(self) -> Optional["feedback.SocketIOOutput"]:
        """Rasa's, with answer feedback (addons/feedback.py): reminders' answers carry their 👍/👎 too."""
        output = super().get_output_channel()
        return output and feedback.SocketIOOutput(self.sio, self.bot_message_evt)

    # ----------------------------------------------------------------- handshake

    def origin_allowed(self, origin: Optional[str]) -> bool:
        return not origin or "*" in self.origins or origin.rstrip("/") in self.origins

    def _token_allowed(self, auth: Any) -> bool:
        """Rasa's optional ``jwt_key``: the brand's own token in the handshake's ``auth``, as in Rasa."""
        if not self.jwt_key:
            return True
        token = auth.get("token") if isinstance(auth, dict) else None
        return bool(token and rasa.core.channels.channel.decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))

    async def connect(self, sid: str, environ: Dict[str, Any], auth: Any = None) -> bool:
        origin = environ.get("HTTP_ORIGIN")
        if not self.origin_allowed(origin):
            logger.warning("Refused a socket.io connection from origin %r (not in %s)", origin, CORS_ENV)
            raise ConnectionRefusedError(f"origin {origin} is not allowed: add it to {CORS_ENV}")
        return self._token_allowed(auth)

    # ----------------------------------------------------------------- sessions

    async def _bound(self, sid: str) -> Optional[str]:
        return (await self.sio.get_session(sid, namespace=self.namespace)).get("conversation")

    async def _bind(self, sid: str, conversation: str) -> None:
        """Make ``conversation`` the connection's: its room (replies, reminders) and its messages."""
        previous = await self._bound(sid)
        if previous == conversation:
            return
        if previous:
            await _maybe_await(self.sio.leave_room(sid, guard.sender_id(self.name(), previous), namespace=self.namespace))
        await _maybe_await(self.sio.enter_room(sid, guard.sender_id(self.name(), conversation), namespace=self.namespace))
        await self.sio.save_session(sid, {"conversation": conversation}, namespace=self.namespace)

    def _claimed(self, data: Any) -> Optional[str]:
        """The conversation a presented token proves (never without session persistence)."""
        return self.sessions.verify(_presented(data)) if self.session_persistence else None

    async def session_request(self, sid: str, data: Any = None) -> None:
        """Confirm the presented session if its token is ours, else start a new one; bind it to the connection."""
        conversation = self._claimed(data)
        if conversation is not None:
            token = _presented(data)
        else:
            if _presented(data):
                logger.info("A socket.io session id that this server did not issue was presented: new session")
            token, conversation = self.sessions.issue()
        await self._bind(sid, conversation)
        await self.sio.emit("session_confirm", token, room=sid, namespace=self.namespace)

    async def _conversation(self, sid: str, data: Dict[str, Any]) -> str:
        """Whose a message is: the conversation its token proves, else the connection's own (new if none)."""
        conversation = self._claimed(data) or await self._bound(sid)
        if conversation is None:  # no session_request first: a conversation of this connection only
            _, conversation = self.sessions.issue()
        await self._bind(sid, conversation)
        return conversation

    # ----------------------------------------------------------------- messages

    async def handle_message(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], sid: str,
                             data: Any) -> None:
        text = guard.read(data.get("message")) if isinstance(data, dict) else None
        output = feedback.SocketIOOutput(self.sio, self.bot_message_evt)
        if text is None:
            await guard.say(output, sid, guard.EMPTY_TEXT)  # to this connection only
            return
        sender = guard.sender_id(self.name(), await self._conversation(sid, data))
        message = UserMessage(text.text, output, sender, input_channel=self.name(),
                              metadata=_metadata(data.get(self.metadata_key)))
        await guard.answer(on_new_message, message, text.capped)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's blueprint (the health route, the server's attachment to Sanic) with our handlers."""
        socketio_webhook = super().blueprint(on_new_message)

        async def user_uttered(sid: str, data: Any = None, *_: Any) -> None:
            try:
                await self.handle_message(on_new_message, sid, data)
            except Exception:  # noqa: BLE001 — answer and log rather than let socket.io swallow it
                logger.exception("a socket.io message could not be handled")
                await guard.say(feedback.SocketIOOutput(self.sio, self.bot_message_evt), sid, guard.FALLBACK_TEXT)

        async def session_request(sid: str, data: Any = None, *_: Any) -> None:
            await self.session_request(sid, data)

        self.sio.on("connect", self.connect, namespace=self.namespace)
        self.sio.on("session_request", session_request, namespace=self.namespace)
        self.sio.on(self.user_message_evt, user_uttered, namespace=self.namespace)
        handoff.attach_socketio(self.sio, self.bot_message_evt, self.namespace, socketio_webhook)  # agents' replies
        return socketio_webhook
