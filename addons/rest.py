"""The REST channel, hardened. Same name and URL as Rasa's: ``POST /webhooks/rest/webhook``.

Rasa 3.6's ``RestInput`` trusts the request: an empty or non-object body is a 500, a ``message`` that is
null, a number or a list is silently answered with ``[]``, a missing ``sender`` joins everyone to one
shared "default" conversation, and a 100,000-character message runs the NLU for a minute and fails.
It also logs the user's text when something goes wrong. This subclass:

* answers malformed requests with a 4xx and a JSON error ``{"error": code, "message": explanation}``;
* cleans and caps the text (:func:`addons.guard.clean`), with a polite note when it was cut, and
  answers a message left empty itself (the NLU cannot classify a message without tokens);
* never answers with silence: if the assistant produced nothing (action server down or slow, an
  internal error) the user gets :data:`addons.guard.FALLBACK_TEXT`.

The Rasa-wide adjustments (the ``ACTION_TIMEOUT`` bound, …) are not this channel's business: the server
entry point :mod:`addons.server` applies them, whichever channels are configured.

Enable it in ``credentials.yml`` with ``addons.rest.RestInput:`` in place of ``rest:``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Union

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
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
    text = payload.get("message")
    if not isinstance(text, str):
        raise BadRequest(400, "invalid_message", f'"message" must be a string: {USAGE}.')
    return Incoming(
        sender=sender,
        text=guard.clean(text),
        metadata=_optional(payload, "metadata", dict, "a JSON object"),
        input_channel=_optional(payload, "input_channel", str, "a string"),
    )


class RestInput(RasaRestInput):
    """Rasa's REST channel with validation, text cleaning and a reply for every message."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    async def _reply(self, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                     incoming: Incoming) -> HTTPResponse:
        collector = CollectingOutputChannel()
        await guard.handle_safely(on_new_message, UserMessage(
            incoming.text.text, collector, incoming.sender,
            input_channel=incoming.input_channel or self.name(), metadata=incoming.metadata,
        ))
        return response.json(guard.replies(collector.messages, incoming.sender, incoming.text.capped))

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
            if not incoming.text.text:
                return response.json([guard.empty_message(incoming.sender)])
            if bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(on_new_message, incoming.text.text, incoming.sender,
                                         incoming.input_channel or self.name(), incoming.metadata),
                    content_type="text/event-stream",
                )
            return await self._reply(on_new_message, incoming)

        return hook
