"""Slack app channel: Rasa's Slack connector, hardened.

Enabled by listing ``addons.slack.SlackChannel`` in the credentials file (``scripts/stack.py`` does it when
``SLACK_BOT_TOKEN`` and ``SLACK_SIGNING_SECRET`` are set). Settings come from the environment only:

- ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET`` (secrets, never logged),
- ``SLACK_API_URL`` (default ``https://slack.com/api/``; a fake in tests, GovSlack's API in GovCloud),
- ``SLACK_REPLY_IN_THREAD`` (``true``: reply in a thread under the user's message).

Beyond the built-in connector it checks signature and timestamp before reading a body, answers each event
once (Slack retries, and one channel mention arrives as both ``app_mention`` and ``message``; the keys seen
are shared in Redis when ``REDIS_HOST`` is set, so this holds across replicas and restarts), answers
malformed requests with 4xx, posts quick replies as Block Kit buttons and converts markdown to mrkdwn.
Every message goes through the guard all channels share (:func:`addons.guard.answer`): cleaned and capped
at 2,000 characters with a note, a mention with nothing else answered with a prompt, and the knowledge
base's fallback reply posted when the assistant said nothing (the action server down or stalled).
A Slack user's conversation is stored as ``slack:<user id>``, which no other channel accepts.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Dict, Iterator, List, Optional, Set, Text
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from rasa.shared.exceptions import InvalidConfigException
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from addons import feedback, guard, handoff

logger = logging.getLogger(__name__)

OnNewMessage = guard.OnNewMessage  # one definition, in the guard every channel goes through

TOKEN_ENV = "SLACK_BOT_TOKEN"
SECRET_ENV = "SLACK_SIGNING_SECRET"
API_URL_ENV = "SLACK_API_URL"
THREAD_ENV = "SLACK_REPLY_IN_THREAD"
DEFAULT_API_URL = AsyncWebClient.BASE_URL

MAX_CLOCK_SKEW = 5 * 60  # seconds; older (or future) requests may be replays
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds in ASCII digits ("²".isdigit() is true, int() refuses it)
REDIS_HOST_ENV = "REDIS_HOST"
MAX_SECTION_CHARS = 3000  # Block Kit section text limit
MAX_BUTTONS_PER_BLOCK = 25  # Block Kit actions block limit
MAX_BUTTON_TITLE = 75  # Block Kit button text limit


# --------------------------------------------------------------------------- markdown -> mrkdwn

_LINK = re.compile(r"\[([^\]]+)\]\(((?:https?://|mailto:)[^)\s]+)\)")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC_STAR = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![*\w])")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+", re.MULTILINE)


def _escape(text: str) -> str:
    """Slack's three control characters; everything else is literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(markdown: str) -> str:
    """Our bot markdown (``**bold**``, ``_italic_``, links, lists, headings) as Slack mrkdwn."""
    text = _escape(markdown)
    text = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)
    text = _HEADING.sub(r"**\1**", text)
    text = _BULLET.sub(r"\1• ", text)
    text = _ITALIC_STAR.sub(r"_\1_", text)
    return _BOLD.sub(r"*\2*", text)


# --------------------------------------------------------------------------- Block Kit


def _chunks(items: List[Any], size: int) -> Iterator[List[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _sections(mrkdwn: str) -> List[Dict[str, Any]]:
    """Section blocks holding ``mrkdwn``, split on line breaks to stay under Slack's length limit."""
    blocks, current = [], ""
    for line in mrkdwn.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > MAX_SECTION_CHARS and current:
            blocks.append(current)
            candidate = line
        current = candidate[:MAX_SECTION_CHARS]
    blocks.append(current or " ")
    return [{"type": "section", "text": {"type": "mrkdwn", "text": b}} for b in blocks]


def _button(index: int, button: Dict[str, Any]) -> Dict[str, Any]:
    title = str(button.get("title") or button.get("payload") or "…")
    return {
        "type": "button",
        "action_id": f"quick_reply_{index}",
        "text": {"type": "plain_text", "text": title[:MAX_BUTTON_TITLE], "emoji": True},
        "value": str(button.get("payload") or title),
    }


def quick_reply_blocks(text: str, buttons: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The message as Block Kit: the text in sections, then the quick replies as buttons."""
    elements = [_button(i, b) for i, b in enumerate(buttons)]
    actions = [{"type": "actions", "elements": chunk} for chunk in _chunks(elements, MAX_BUTTONS_PER_BLOCK)]
    return _sections(to_mrkdwn(text)) + actions


# --------------------------------------------------------------------------- output


class SlackOutput(SlackBot):
    """Posts bot messages to one Slack conversation (and thread) through the configured Web API."""

    def __init__(self, token: Text, api_url: Text, channel: Text, thread_ts: Optional[Text] = None) -> None:
        super().__init__(token, slack_channel=channel, thread_id=thread_ts)
        self.client = AsyncWebClient(token=token, base_url=api_url)

    async def _post_message(self, channel: Text, **kwargs: Any) -> None:
        if self.thread_id:
            kwargs["thread_ts"] = self.thread_id
        try:
            await self.client.chat_postMessage(channel=channel, **kwargs)
        except SlackApiError as error:
            logger.error("Slack chat.postMessage failed: %s", error.response.get("error"))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        rated = feedback.slack_blocks(kwargs.get(feedback.METADATA_KEY))  # 👍/👎 under a protocol answer
        await self._post_message(self.slack_channel or recipient_id, text=to_mrkdwn(text),
                                 **({"blocks": _sections(to_mrkdwn(text)) + rated} if rated else {}))

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        rated = feedback.slack_blocks(kwargs.get(feedback.METADATA_KEY))
        await self._post_message(self.slack_channel or recipient_id, text=to_mrkdwn(text),
                                 blocks=quick_reply_blocks(text, buttons) + rated)


# --------------------------------------------------------------------------- input


class BadRequest(Exception):
    """A request we refuse with a 4xx status and a JSON message."""

    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Incoming:
    """One user message worth answering, in Rasa's terms."""

    text: str
    user: str
    channel: str
    thread_ts: Optional[str]


#: How long an event id (or a message's channel and time) is remembered: Slack retries within minutes.
SEEN_TTL = 3600


class RecentKeys:
    """Keys seen in the last ``ttl`` seconds (bounded), to answer each Slack event once — in this process."""

    def __init__(self, ttl: float = SEEN_TTL, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._seen: "OrderedDict[str, float]" = OrderedDict()

    def add(self, key: Optional[str]) -> bool:
        """Remember ``key``; False if it was already seen (no key: nothing to remember, True)."""
        now = time.monotonic()
        while self._seen and (len(self._seen) >= self.size or next(iter(self._seen.values())) < now - self.ttl):
            self._seen.popitem(last=False)
        if key and key in self._seen:
            return False
        if key:
            self._seen[key] = now
        return True


class SeenKeys:
    """Keys seen in the last hour across every Rasa server that shares a Redis (``SET key NX EX``), or in this
    process's memory without Redis.

    Several replicas behind one Slack Request URL each see some of an event's deliveries (and a restarted
    one has forgotten what it saw), so only a shared memory answers a retry once. If Redis cannot be
    reached, this process's memory decides: an event may then be answered twice, never not at all.
    """

    PREFIX = "slack:seen:"

    def __init__(self, redis: Optional[Redis] = None, ttl: int = SEEN_TTL) -> None:
        self.redis, self.ttl = redis, ttl
        self.memory = RecentKeys(ttl)

    @classmethod
    def from_environment(cls, env: Optional[Dict[str, str]] = None) -> "SeenKeys":
        """Shared through Redis when ``REDIS_HOST`` is set (with ``REDIS_PORT``, ``REDIS_DB``, ``REDIS_PASSWORD``,
        as for the lock store), in memory otherwise."""
        env = os.environ if env is None else env
        if not env.get(REDIS_HOST_ENV):
            return cls()
        return cls(Redis(host=env[REDIS_HOST_ENV], port=int(env.get("REDIS_PORT") or 6379),
                         db=int(env.get("REDIS_DB") or 1), password=env.get("REDIS_PASSWORD") or None,
                         socket_timeout=1.0, socket_connect_timeout=1.0))

    async def add(self, key: Optional[str]) -> bool:
        """Remember ``key``; False if any process sharing the store saw it already (no key: True)."""
        if not key:
            return True
        fresh_here = self.memory.add(key)
        if self.redis is None:
            return fresh_here
        try:
            return bool(await self.redis.set(self.PREFIX + key, 1, nx=True, ex=self.ttl))
        except (RedisError, OSError) as error:
            logger.warning("Slack retry memory: Redis unavailable (%s), deciding from this process's memory",
                           type(error).__name__)
            return fresh_here


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _json_error(error: BadRequest) -> HTTPResponse:
    return response.json({"ok": False, "error": str(error)}, status=error.status)


def _ack(**details: Any) -> HTTPResponse:
    return response.json({"ok": True, **details})


class SlackChannel(SlackInput):
    """Slack Events API + interactivity at ``/webhooks/slack/webhook``."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """Everything comes from the environment; the credentials entry only switches the channel on."""
        token, secret = os.environ.get(TOKEN_ENV, ""), os.environ.get(SECRET_ENV, "")
        if not token or not secret:
            raise InvalidConfigException(f"The Slack channel needs {TOKEN_ENV} and {SECRET_ENV} in the environment.")
        api_url = os.environ.get(API_URL_ENV) or DEFAULT_API_URL
        return cls(token, secret, api_url=api_url, reply_in_thread=_env_flag(THREAD_ENV))

    def __init__(self, token: Text, signing_secret: Text, api_url: Text = DEFAULT_API_URL,
                 reply_in_thread: bool = False) -> None:
        super().__init__(token, slack_retry_reason_header="X-Slack-Retry-Reason",
                         slack_retry_number_header="X-Slack-Retry-Num", use_threads=reply_in_thread,
                         slack_signing_secret=signing_secret)
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.verifier = SignatureVerifier(signing_secret)
        self.recent = SeenKeys.from_environment()
        self._tasks: Set[asyncio.Task] = set()

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> OutputChannel:
        return SlackOutput(self.slack_token, self.api_url, channel or "", thread_id)

    # ----------------------------------------------------------------- request checks

    def verify(self, request: Request) -> str:
        """The body as text, once Slack's v0 signature over it and a recent timestamp are checked."""
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not timestamp or not signature:
            raise BadRequest("missing Slack signature headers", HTTPStatus.UNAUTHORIZED)
        if not _TIMESTAMP.fullmatch(timestamp):
            raise BadRequest("malformed Slack request timestamp", HTTPStatus.UNAUTHORIZED)
        if abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW:
            raise BadRequest("stale Slack request timestamp", HTTPStatus.FORBIDDEN)
        try:
            text = (request.body or b"").decode("utf-8")
        except UnicodeDecodeError as error:
            raise BadRequest("malformed body: not UTF-8") from error
        if not self.verifier.is_valid(text, timestamp, signature):
            raise BadRequest("invalid Slack signature", HTTPStatus.FORBIDDEN)
        return text

    @staticmethod
    def parse(content_type: str, text: str) -> Dict[str, Any]:
        """The body as a dict: JSON for events, the form's ``payload`` JSON for interactivity."""
        media_type = content_type.split(";")[0].strip().lower()
        try:
            if media_type == "application/json":
                body = json.loads(text)
            elif media_type == "application/x-www-form-urlencoded":
                body = json.loads(parse_qs(text, strict_parsing=True)["payload"][0])
            else:
                raise BadRequest(f"unsupported content type {media_type or '(none)'}",
                                 HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
        except (ValueError, KeyError) as error:
            raise BadRequest(f"malformed body: {type(error).__name__}") from error
        if not isinstance(body, dict):
            raise BadRequest("malformed body: expected an object")
        return body

    # ----------------------------------------------------------------- events

    def _thread(self, event: Dict[str, Any]) -> Optional[str]:
        """Stay in the user's thread; start one under their message when replies go in threads."""
        return event.get("thread_ts") or (event.get("ts") if self.use_threads else None)

    @staticmethod
    def _bot_user(body: Dict[str, Any]) -> Optional[str]:
        authorizations = body.get("authorizations") or [{}]
        first = authorizations[0] if isinstance(authorizations, list) and authorizations else {}
        return first.get("user_id") if isinstance(first, dict) else None

    def _user_message(self, body: Dict[str, Any], event: Dict[str, Any]) -> Optional[Incoming]:
        """The message to answer, or None: bots, edits, joins and unmentioned channel chatter are ignored."""
        bot_user = self._bot_user(body)
        kind, user, text, channel = event.get("type"), event.get("user"), event.get("text"), event.get("channel")
        if event.get("bot_id") or event.get("subtype") or not user or user == bot_user:
            return None
        if not isinstance(text, str) or not isinstance(channel, str):
            return None
        if kind == "message" and event.get("channel_type") != "im":
            return None  # a mention in a channel is answered through its app_mention event
        if kind not in ("message", "app_mention"):
            return None
        text = self._sanitize_user_message(text, [bot_user] if bot_user else [])
        return Incoming(text, str(user), channel, self._thread(event))

    async def on_event(self, request: Request, body: Dict[str, Any], on_new_message: OnNewMessage) -> HTTPResponse:
        event = body.get("event")
        if not isinstance(event, dict):
            raise BadRequest("malformed event_callback: no event")
        retry = request.headers.get(self.retry_num_header)
        if not await self.recent.add(body.get("event_id")):
            logger.debug("Slack event %s already handled (retry #%s)", body.get("event_id"), retry or "-")
            return _ack(duplicate=True)
        if retry:
            logger.info("Slack retry #%s (%s) of an event not seen before", retry,
                        request.headers.get(self.retry_reason_header))
        if await handoff.relay().on_slack_event(event):  # the care team's hand-off channel (addons/handoff.py)
            return _ack()
        incoming = self._user_message(body, event)
        if incoming is None:
            return _ack(ignored=True)
        if not await self.recent.add(f"{incoming.channel}@{event['ts']}" if event.get("ts") else None):
            return _ack(duplicate=True)  # the same message, delivered as app_mention and as message
        self._dispatch(incoming, on_new_message)
        return _ack()

    def on_interaction(self, body: Dict[str, Any], on_new_message: OnNewMessage) -> HTTPResponse:
        """A quick-reply click: its payload is what the user says."""
        actions, user = body.get("actions"), body.get("user") or {}
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        if not isinstance(actions, list) or not actions:
            return _ack(ignored=True)
        if feedback.is_slack_feedback(body):  # a 👍/👎 or "what was missing?" (addons/feedback.py)
            return response.json(feedback.on_slack_interaction(self, body, on_new_message))
        value = actions[0].get("value") if isinstance(actions[0], dict) else None
        if not value or not user.get("id") or not channel:
            return _ack(ignored=True)  # link buttons and unsupported widgets carry no value
        thread_ts = (body.get("message") or {}).get("thread_ts")
        self._dispatch(Incoming(str(value), str(user["id"]), str(channel), thread_ts), on_new_message)
        return _ack()

    def _dispatch(self, incoming: Incoming, on_new_message: OnNewMessage) -> None:
        """Hand the message to Rasa through the guard, in the background: Slack wants its answer within 3 s."""
        text = guard.clean(incoming.text)
        message = UserMessage(
            text.text,
            self.get_output_channel(incoming.channel, incoming.thread_ts),
            guard.sender_id(self.name(), incoming.user),
            input_channel=self.name(),
            metadata={"out_channel": incoming.channel, "thread_id": incoming.thread_ts},
        )
        task = asyncio.create_task(guard.answer(on_new_message, message, text.capped))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def handle(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Check, parse and route one request from Slack."""
        body = self.parse(request.headers.get("Content-Type") or "", self.verify(request))
        kind = body.get("type")
        if kind == "url_verification":
            return response.json({"challenge": body.get("challenge")})
        if kind == "event_callback":
            return await self.on_event(request, body, on_new_message)
        if kind == "block_actions" and handoff.is_handoff_action(body):  # a hand-off card's button
            return await handoff.relay().on_action(body)
        if kind == "block_actions":
            return self.on_interaction(body, on_new_message)
        return _ack(ignored=True)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        slack_webhook = Blueprint("slack_webhook", __name__)

        @slack_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @slack_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            try:
                return await self.handle(request, on_new_message)
            except BadRequest as error:
                logger.warning("Refused a Slack request: %s", error)
                return _json_error(error)
            except (AttributeError, TypeError) as error:  # a signed body of an unexpected shape
                logger.warning("Refused a malformed Slack request: %r", error)
                return _json_error(BadRequest("malformed body: unexpected structure"))

        return slack_webhook
