"""The REST channel, hardened. Same name and URL as Rasa's: ``POST /webhooks/rest/webhook``.

Rasa 3.6's ``RestInput`` trusts the request: an empty or non-object body is a 500, a ``message`` that is
null, a number or a list is silently answered with ``[]``, a missing ``sender`` joins everyone to one
shared "default" conversation, and a 100,000-character message runs the NLU for a minute and fails.
It also logs the user's text when something goes wrong. This subclass:

* answers malformed requests with a 4xx and a JSON error ``{"error": code, "message": explanation}``,
  including a ``sender`` in another channel's namespace (``socketio:…``, ``slack:…``: :mod:`addons.guard`);
* hands every message to Rasa through the guard all channels share (:func:`addons.guard.answer`), with
  or without ``?stream=true``: the text cleaned and capped, with a polite note when it was cut, a message
  left empty answered with a prompt, and the knowledge base's fallback reply instead of silence when the
  assistant produced nothing (action server down or slow, an internal error).

The Rasa-wide adjustments (the ``ACTION_TIMEOUT`` bound, …) are not this channel's business: the server
entry point :mod:`addons.server` applies them, whichever channels are configured.

Enable it in ``credentials.yml`` with ``addons.rest.RestInput:`` in place of ``rest:``.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Union

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import QueueOutputChannel, RestInput as RasaRestInput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from addons import guard

#: Bodies above this are refused before parsing (a 2,000-character message needs a few kB).
MAX_BODY_BYTES = 2_000_000
#: Longest sender id: the SQL tracker store's column is VARCHAR(255).
MAX_SENDER_CHARS = 255
USAGE = 'send JSON like {"sender": "<conversation id>", "message": "<text>"}'


class BadRequest(Exception):
    """A request the channel refuses, with the status and JSON body to answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def as_response(self) -> HTTPResponse:
        return response.json({"error": self.code, "message": self.message}, status=self.status)


@dataclass(frozen=True)
class Incoming:
    """A validated request: who is talking, what they said (cleaned), and the optional extras."""

    sender: str
    text: guard.CleanText
    metadata: Optional[Dict[str, Any]]
    input_channel: Optional[str]


def _payload(body: bytes) -> Dict[str, Any]:
    if not body or not body.strip():
        raise BadRequest(400, "empty_body", f"The request body is empty: {USAGE}.")
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(413, "body_too_large", f"The request body is larger than {MAX_BODY_BYTES:,} bytes.")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(400, "invalid_json", f"The request body is not valid JSON: {USAGE}.") from None
    if not isinstance(payload, dict):
        raise BadRequest(400, "invalid_body", f"The request body must be a JSON object: {USAGE}.")
    return payload


def _sender(payload: Dict[str, Any]) -> str:
    sender = payload.get("sender")
    if isinstance(sender, int) and not isinstance(sender, bool):
        sender = str(sender)
    if not isinstance(sender, str) or not sender.strip():
        raise BadRequest(400, "invalid_sender", f'"sender" must be a non-empty string: {USAGE}.')
    if len(sender) > MAX_SENDER_CHARS or not sender.isprintable():
        raise BadRequest(400, "invalid_sender",
                         f'"sender" must be at most {MAX_SENDER_CHARS} printable characters.')
    channel = guard.foreign_sender(sender)
    if channel:
        raise BadRequest(400, "invalid_sender", f'"sender" must not start with "{guard.sender_id(channel, "")}": '
                                                f'those conversations belong to the {channel} channel.')
    return sender


def _optional(payload: Dict[str, Any], key: str, kind: type, description: str) -> Any:
    value = payload.get(key)
    if value is not None and not isinstance(value, kind):
        raise BadRequest(400, f"invalid_{key}", f'"{key}" must be {description} when given.')
    return value


def parse(body: bytes) -> Incoming:
    """Validate a webhook request body; raises :class:`BadRequest` with a clear reason."""
    payload = _payload(body)
    sender = _sender(payload)
    text = guard.read(payload.get("message"))
    if text is None:
        raise BadRequest(400, "invalid_message", f'"message" must be a string: {USAGE}.')
    return Incoming(
        sender=sender,
        text=text,
        metadata=_optional(payload, "metadata", dict, "a JSON object"),
        input_channel=_optional(payload, "input_channel", str, "a string"),
    )


class RestInput(RasaRestInput):
    """Rasa's REST channel with validation, text cleaning and a reply for every message."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def _message(self, incoming: Incoming, output: CollectingOutputChannel) -> UserMessage:
        return UserMessage(incoming.text.text, output, incoming.sender,
                           input_channel=incoming.input_channel or self.name(), metadata=incoming.metadata)

    async def _reply(self, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                     incoming: Incoming) -> HTTPResponse:
        collector = CollectingOutputChannel()
        await guard.answer(on_new_message, self._message(incoming, collector), incoming.text.capped)
        return response.json(collector.messages)

    def _stream(self, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                incoming: Incoming) -> Callable[[Any], Awaitable[None]]:
        """One JSON message per line as the assistant produces them (Rasa's ``?stream=true``), through the guard.

        Rasa's own stream never ends when handling the message raises, and is empty when nothing was said.
        """
        async def stream(reply: Any) -> None:
            queue: asyncio.Queue = asyncio.Queue()

            async def produce() -> None:
                try:
                    await guard.answer(on_new_message, self._message(incoming, QueueOutputChannel(queue)),
                                       incoming.text.capped)
                finally:
                    await queue.put(None)

            task = asyncio.ensure_future(produce())
            while (message := await queue.get()) is not None:
                await reply.write(json.dumps(message) + "\n")
            await task

        return stream

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """``GET /`` (health) and ``POST /webhook`` under ``/webhooks/rest``."""
        hook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            try:
                incoming = parse(request.body)
            except BadRequest as refused:
                return refused.as_response()
            if bool_arg(request, "stream", default=False):
                return response.stream(self._stream(on_new_message, incoming), content_type="text/event-stream")
            return await self._reply(on_new_message, incoming)

        return hook
