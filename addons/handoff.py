"""Live hand-off of a shopper's conversation to the brand's care team in Slack (docs/handoff.md).

The action server decides what a shopper who asks for a person is told (:class:`actions.conversation.ActionHandoff`)
and, when ``HANDOFF_SLACK_CHANNEL`` and ``SLACK_BOT_TOKEN`` are set, sends a custom message ``{"handoff": …}``
that never reaches the shopper: the Rasa server (this module) catches it on the way out and posts a card with a
**Take it** button in the care team's channel. From then on, until an agent hands back:

* every shopper message, on every channel, reaches :func:`intercept` first (from :func:`addons.guard.answer`):
  it goes to the card's thread and into the conversation's tracker instead of to the assistant — except
  emergency signs, which the assistant still answers at once (and the thread flags);
* the Slack app (``addons/slack.py``) hands this module the care team's clicks (``action_id`` ``handoff_…``)
  and the messages in the card's thread (:meth:`Relay.on_action`, :meth:`Relay.on_slack_event`); an agent's
  reply reaches the shopper at once over socket.io (through Redis pub/sub when several replicas serve, so the
  replica holding the widget's socket emits it) or Slack, and a REST client gets it with its next request.

The hand-off's state, the thread → conversation map and REST's waiting messages live in Redis when
``REDIS_HOST`` is set (every replica sees them), else in this process. Agent and shopper messages are stored in
the tracker with ``metadata.author`` (``agent`` / ``shopper``). Every sentence is the knowledge base's.
"""
from __future__ import annotations

import asyncio
import html
import json
import logging
import os
import time
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sanic import response
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from actions.handoff_settings import Settings, contact_link
from actions.knowledge import load_knowledge
from actions.knowledge.query import say
from actions.knowledge.triage import triage

logger = logging.getLogger(__name__)

#: The custom message the action server sends to ask for a hand-off (actions/conversation.py).
REQUEST_KEY = "handoff"
#: ``action_id`` prefix of the card's buttons: the Slack app passes these clicks here.
ACTION_PREFIX = "handoff"
TAKE, BACK = "handoff_take", "handoff_back"
#: How long a hand-off's keys live in Redis (a day: the card stays open for follow-up).
TTL = 24 * 3600
PUBSUB_CHANNEL = "handoff:socketio"
SHOPPER, AGENT = "shopper", "agent"

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]


def _say(phrase: str, **values: Any) -> str:
    return say(load_knowledge(), phrase, **values)


# --------------------------------------------------------------------------- where the state lives


class MemoryStore:
    """The hand-off state of this process (one Rasa server: ``make run``)."""

    def __init__(self) -> None:
        self.values: Dict[str, Any] = {}

    async def get(self, key: str) -> Optional[Dict[str, Any]]:
        return self.values.get(key)

    async def put(self, key: str, value: Dict[str, Any]) -> None:
        self.values[key] = value

    async def drop(self, key: str) -> None:
        self.values.pop(key, None)

    async def claim(self, key: str, value: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """Set ``key`` unless it is set; the value already there, or None when this call set it (first wins)."""
        held = self.values.get(key)
        if held is None:
            self.values[key] = value
        return held

    async def push(self, key: str, value: Dict[str, Any]) -> None:
        self.values.setdefault(key, []).append(value)

    async def pop_all(self, key: str) -> List[Dict[str, Any]]:
        return self.values.pop(key, [])


class RedisStore(MemoryStore):
    """The same, in Redis, for every replica (``make run-scaled``); JSON values, a day's expiry."""

    PREFIX = "handoff:"

    def __init__(self, redis: Redis) -> None:
        super().__init__()
        self.redis = redis

    async def get(self, key: str) -> Optional[Dict[str, Any]]:
        raw = await self.redis.get(self.PREFIX + key)
        return json.loads(raw) if raw else None

    async def put(self, key: str, value: Dict[str, Any]) -> None:
        await self.redis.set(self.PREFIX + key, json.dumps(value), ex=TTL)

    async def drop(self, key: str) -> None:
        await self.redis.delete(self.PREFIX + key)

    async def claim(self, key: str, value: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        if await self.redis.set(self.PREFIX + key, json.dumps(value), nx=True, ex=TTL):
            return None
        return await self.get(key) or value

    async def push(self, key: str, value: Dict[str, Any]) -> None:
        await self.redis.rpush(self.PREFIX + key, json.dumps(value))
        await self.redis.expire(self.PREFIX + key, TTL)

    async def pop_all(self, key: str) -> List[Dict[str, Any]]:
        async with self.redis.pipeline(transaction=True) as pipe:
            raw, _ = await pipe.lrange(self.PREFIX + key, 0, -1).delete(self.PREFIX + key).execute()
        return [json.loads(r) for r in raw]


def _redis_from_env() -> Optional[Redis]:
    """The Redis the Slack app's retry memory uses (``REDIS_HOST`` …), or None."""
    from addons.slack import SeenKeys

    return SeenKeys.from_environment().redis


# --------------------------------------------------------------------------- the Rasa server's side


def _agent() -> Any:
    """The Rasa agent of this server (its NLU, tracker and lock stores)."""
    from sanic import Sanic

    return Sanic.get_app().ctx.agent


async def record(sender: str, events: List[Event]) -> None:
    """Append ``events`` to the conversation's tracker, under its lock (as Rasa does for a turn)."""
    agent = _agent()
    async with agent.lock_store.lock(sender):
        tracker = await agent.tracker_store.get_or_create_tracker(sender)
        for event in events:
            tracker.update(event)
        await agent.tracker_store.save(tracker)


#: The slot holding the reaction reported earlier in a conversation (actions/common.py's ``State.reaction``).
REACTION_SLOT = "reaction"


async def is_emergency(sender: str, text: str) -> bool:
    """Whether the assistant's triage reads emergency signs in ``text`` (with the NLU's entities and the reaction
    the shopper reported earlier, as the action server reads them)."""
    agent = _agent()
    parsed = await agent.parse_message(text)
    tracker = await agent.tracker_store.retrieve(sender)
    earlier = tracker.get_slot(REACTION_SLOT) if tracker is not None else None
    intent = parsed.get("intent") or {}
    found = triage(text, parsed.get("entities") or [], load_knowledge(), intent.get("name"), intent.get("confidence"),
                   earlier)
    return found.severity == "emergency"


def _profile_text(profile: Dict[str, Any]) -> str:
    parts = [f"{name.replace('_', ' ')}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
             for name, v in profile.items()]
    return " · ".join(parts) or _say("handoff_card_no_profile")


def _transcript_text(transcript: List[List[str]]) -> str:
    lines = [f"> *{who}:* {_escape(' '.join(str(text).split())[:300])}" for who, text in transcript]
    return "\n".join(lines) or "—"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> Dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _button(action_id: str, phrase: str, sender: str, style: str) -> Dict[str, Any]:
    return {"type": "button", "action_id": action_id, "value": sender, "style": style,
            "text": {"type": "plain_text", "text": _say(phrase)}}


def card_blocks(state: Dict[str, Any], note: Optional[str] = None) -> List[Dict[str, Any]]:
    """The hand-off card: why, the profile, the last turns, a status note and the button that fits."""
    reason = _say(f"handoff_card_reason_{state['reason']}")
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": _say("handoff_card_title")}},
        _section(_say("handoff_card_fields", channel=state["channel"], reason=reason,
                      profile=_escape(_profile_text(state["profile"])))),
        _section(_say("handoff_card_transcript", transcript=_transcript_text(state["transcript"]))),
    ]
    if note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    if state["status"] == "live":
        blocks.append({"type": "actions", "elements": [_button(BACK, "handoff_card_back", state["sender"], "danger")]})
    elif state["status"] != "ended":
        blocks.append({"type": "actions", "elements": [_button(TAKE, "handoff_card_take", state["sender"], "primary")]})
    return blocks


class Refused(Exception):
    """A Slack request this module refuses (a 4xx with a message)."""

    def __init__(self, message: str, status: HTTPStatus) -> None:
        super().__init__(message)
        self.status = status


class Relay:
    """One Rasa server's part of the hand-off: catches requests, relays both ways, keeps the state."""

    def __init__(self, settings: Settings, store: MemoryStore, slack: Optional[AsyncWebClient],
                 clock: Clock = time.time, sleep: Sleep = asyncio.sleep, redis: Optional[Redis] = None) -> None:
        self.settings, self.store, self.slack = settings, store, slack
        self.clock, self.sleep, self.redis = clock, sleep, redis
        self.sio: Any = None
        self.sio_event, self.namespace = "bot_uttered", None
        self._tasks: set = set()
        from addons.slack import SeenKeys

        self.seen = SeenKeys(redis)

    @classmethod
    def from_environment(cls) -> "Relay":
        settings = Settings.from_env(os.environ)
        redis = _redis_from_env() if settings.live else None
        slack = None
        if settings.live:
            from addons.slack import API_URL_ENV, DEFAULT_API_URL, TOKEN_ENV

            slack = AsyncWebClient(token=os.environ[TOKEN_ENV], base_url=os.environ.get(API_URL_ENV) or DEFAULT_API_URL)
        return cls(settings, RedisStore(redis) if redis is not None else MemoryStore(), slack, redis=redis)

    # ----------------------------------------------------------------- Slack calls

    async def _slack(self, method: str, **kwargs: Any) -> Optional[Dict[str, Any]]:
        try:
            return (await self.slack.api_call(method, json=kwargs)).data  # type: ignore[union-attr]
        except (SlackApiError, OSError, asyncio.TimeoutError) as error:
            logger.error("hand-off: Slack %s failed: %s", method, getattr(error, "response", error))
            return None

    async def _thread_post(self, state: Dict[str, Any], text: str) -> None:
        await self._slack("chat.postMessage", channel=self.settings.channel, thread_ts=state["card"], text=text)

    async def _update_card(self, state: Dict[str, Any], note: Optional[str]) -> None:
        await self._slack("chat.update", channel=self.settings.channel, ts=state["card"],
                          text=_say("handoff_card_title"), blocks=card_blocks(state, note))

    # ----------------------------------------------------------------- to the shopper

    async def tell(self, state: Dict[str, Any], text: str, agent: Optional[str] = None) -> None:
        """Say ``text`` to the shopper where they are (their socket, their Slack DM, or their next REST request)
        and store it in their tracker, as the assistant's or as ``agent``'s."""
        sender, channel = state["sender"], state["channel"]
        if channel == "socketio":
            await self._emit(sender, {"text": text})
        elif channel == "slack" and state.get("reply"):
            from addons.slack import to_mrkdwn

            reply = state["reply"]
            await self._slack("chat.postMessage", channel=reply["channel"], text=to_mrkdwn(text),
                              **({"thread_ts": reply["thread"]} if reply.get("thread") else {}))
        else:
            await self.store.push(f"pending:{sender}", {"text": text})
        metadata = {"author": AGENT, "agent": agent} if agent else {"author": "assistant", "handoff": True}
        await record(sender, [BotUttered(text, {}, metadata)])

    async def _emit(self, room: str, data: Dict[str, Any]) -> None:
        if self.redis is not None:  # whichever replica holds the socket emits it (:meth:`listen`)
            try:
                await self.redis.publish(PUBSUB_CHANNEL, json.dumps({"room": room, "data": data}))
                return
            except (RedisError, OSError) as error:
                logger.error("hand-off: Redis publish failed (%s); emitting from this replica only", error)
        if self.sio is not None:
            await self.sio.emit(self.sio_event, data, room=room, namespace=self.namespace)

    async def listen(self) -> None:
        """Emit, on this replica's sockets, what any replica publishes for a widget (runs for the server's life)."""
        kwargs = dict(self.redis.connection_pool.connection_kwargs)  # type: ignore[union-attr]
        kwargs.update(socket_timeout=None)
        while True:
            try:
                async with Redis(**kwargs).pubsub() as pubsub:
                    await pubsub.subscribe(PUBSUB_CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            item = json.loads(message["data"])
                            await self.sio.emit(self.sio_event, item["data"], room=item["room"],
                                                namespace=self.namespace)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 — Redis away: try again shortly
                logger.warning("hand-off: Redis subscription lost (%s); retrying", error)
                await asyncio.sleep(1.0)

    def _contact_line(self) -> str:
        contact = self.settings.contact
        return _say("handoff_contact", contact=contact_link(contact)) if contact else _say("handoff_no_contact")

    # ----------------------------------------------------------------- a hand-off starts

    def watch(self, message: UserMessage) -> None:
        """Catch the action server's hand-off request among the replies to ``message`` (never shown)."""
        output: OutputChannel = message.output_channel
        send_response = output.send_response

        async def sending(recipient_id: str, reply: Dict[str, Any]) -> None:
            custom = reply.get("custom")
            if isinstance(custom, dict) and REQUEST_KEY in custom:
                await self.start(message, custom[REQUEST_KEY], output)
                return
            await send_response(recipient_id, reply)

        output.send_response = sending  # type: ignore[method-assign]  # this one object only

    async def start(self, message: UserMessage, request: Dict[str, Any], output: OutputChannel) -> None:
        """Post the card in the care team's channel and remember the hand-off; the shopper was told already."""
        sender = message.sender_id
        current = await self.store.get(f"state:{sender}")
        if not self.settings.live or (current and current["status"] in ("waiting", "live")):
            return  # (a card nobody took in time is replaced by a new one: the shopper asked again)
        await self.store.drop(f"agent:{sender}")
        online = bool(request.get("online", True))
        state = {"sender": sender, "channel": message.input_channel or "rest", "reason": request.get("reason", "asked"),
                 "profile": request.get("profile") or {}, "transcript": request.get("transcript") or [],
                 "status": "waiting" if online else "missed", "since": self.clock(), "agent": None,
                 "reply": None}
        if state["reason"] not in ("asked", "reaction", "unanswered"):
            state["reason"] = "asked"
        metadata = message.metadata or {}
        if state["channel"] == "slack" and metadata.get("out_channel"):
            state["reply"] = {"channel": metadata["out_channel"], "thread": metadata.get("thread_id")}
        hours = self.settings.hours.text if self.settings.hours else ""
        posted = await self._slack("chat.postMessage", channel=self.settings.channel, text=_say("handoff_card_title"),
                                   blocks=card_blocks(state, None if online else _say("handoff_card_closed", hours=hours)))
        if not posted or not posted.get("ts"):
            await output.send_response(sender, {"text": f"{_say('handoff_failed')}\n{self._contact_line()}"})
            return
        state["card"] = str(posted["ts"])
        await self.store.put(f"thread:{state['card']}", {"sender": sender})
        await self.store.put(f"state:{sender}", state)
        if online:
            self._background(self._expire(sender, state["card"]))

    def _background(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _expire(self, sender: str, card: str) -> None:
        """After ``HANDOFF_TIMEOUT`` minutes nobody took it: tell the shopper honestly; the card stays open."""
        await self.sleep(self.settings.timeout_minutes * 60)
        state = await self.store.get(f"state:{sender}")
        if not state or state.get("card") != card or state["status"] != "waiting":
            return
        state["status"] = "missed"
        await self.store.put(f"state:{sender}", state)
        minutes = self.settings.minutes
        await self._update_card(state, _say("handoff_card_timeout", minutes=minutes))
        await self.tell(state, f"{_say('handoff_timeout', minutes=minutes)}\n{self._contact_line()}")

    # ----------------------------------------------------------------- the shopper writes

    async def intercept(self, message: UserMessage) -> bool:
        """True when ``message`` went to the care team instead of the assistant (nothing more to do)."""
        self.watch(message)
        if not self.settings.live:
            return False
        sender, output = message.sender_id, message.output_channel
        for waiting in await self.store.pop_all(f"pending:{sender}"):  # a REST client's agent messages
            await output.send_response(sender, {"text": waiting["text"]})
        state = await self.store.get(f"state:{sender}")
        if not state or state["status"] not in ("waiting", "live"):
            return False
        if await is_emergency(sender, message.text):
            await self._thread_post(state, _say("handoff_thread_emergency", text=_escape(message.text)))
            return False  # the assistant answers with its emergency notice now
        await self._thread_post(state, _say("handoff_thread_shopper", text=_escape(message.text)))
        await record(sender, [UserUttered(message.text, input_channel=message.input_channel,
                                          metadata={"author": SHOPPER, "handoff": True}),
                              ActionExecuted(ACTION_LISTEN_NAME)])
        if state["status"] == "waiting":
            await output.send_response(sender, {"text": _say("handoff_waiting")})
        elif state["channel"] not in ("socketio", "slack"):  # REST: an answer to every request
            await output.send_response(sender, {"text": _say("handoff_relayed", agent=state["agent"]["name"])})
        return True

    # ----------------------------------------------------------------- the care team acts (Slack)

    async def on_action(self, body: Dict[str, Any]) -> HTTPResponse:
        """A click on a card's button (a signed interactivity request the Slack app verified)."""
        try:
            return await self._action(body)
        except Refused as refused:
            logger.warning("hand-off: refused a Slack action: %s", refused)
            return response.json({"ok": False, "error": str(refused)}, status=refused.status)
        except (RedisError, OSError) as error:
            logger.error("hand-off: state unavailable for a Slack action (%s)", error)
            return response.json({"ok": False, "error": "the hand-off state is unavailable; try again shortly"},
                                 status=HTTPStatus.SERVICE_UNAVAILABLE)

    async def _action(self, body: Dict[str, Any]) -> HTTPResponse:
        action = (body.get("actions") or [{}])[0]
        user = body.get("user") or {}
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        if not self.settings.live or channel != self.settings.channel:
            raise Refused("not a hand-off card of this assistant's care channel", HTTPStatus.FORBIDDEN)
        if not user.get("id") or not action.get("action_ts"):
            raise Refused("malformed hand-off action", HTTPStatus.BAD_REQUEST)
        if not await self.seen.add(f"handoff-action:{user['id']}:{action['action_ts']}:{action.get('action_id')}"):
            raise Refused("this Slack action was already received (replayed)", HTTPStatus.CONFLICT)
        sender = str(action.get("value") or "")
        state = await self.store.get(f"state:{sender}")
        if not state:
            return response.json({"ok": True, "ignored": "no such hand-off"})
        agent = {"id": str(user["id"]), "name": str(user.get("name") or user.get("username") or user["id"])}
        if action.get("action_id") == TAKE:
            await self._take(state, agent)
        elif action.get("action_id") == BACK:
            await self._hand_back(state, agent)
        return response.json({"ok": True})

    async def _take(self, state: Dict[str, Any], agent: Dict[str, str]) -> None:
        sender = state["sender"]
        holder = await self.store.claim(f"agent:{sender}", agent)
        if holder is not None:  # someone was first
            await self._slack("chat.postEphemeral", channel=self.settings.channel, user=agent["id"],
                              text=_say("handoff_card_already", user=holder["id"]))
            return
        state.update(status="live", agent=agent)
        await self.store.put(f"state:{sender}", state)
        await self._update_card(state, _say("handoff_card_taken", user=agent["id"]))
        await self.tell(state, _say("handoff_joined", agent=agent["name"]))

    async def _hand_back(self, state: Dict[str, Any], agent: Dict[str, str]) -> None:
        sender = state["sender"]
        state["status"] = "ended"
        await self.store.drop(f"state:{sender}")
        await self.store.drop(f"agent:{sender}")
        await self._update_card(state, _say("handoff_card_ended", user=agent["id"]))
        await self.tell(state, _say("handoff_ended"))

    async def on_slack_event(self, event: Dict[str, Any]) -> bool:
        """True when ``event`` is a message in the care team's channel (relayed to the shopper, or nothing to do)."""
        if not self.settings.live or event.get("channel") != self.settings.channel:
            return False
        try:
            await self._care_message(event)
        except (RedisError, OSError) as error:
            logger.error("hand-off: an agent's message could not be relayed (%s)", error)
        return True

    async def _care_message(self, event: Dict[str, Any]) -> None:
        """Relay an agent's reply in a card's thread to the shopper (anything else there: nothing to do)."""
        if event.get("type") != "message":
            return  # an @mention there arrives as a message event too: that one is relayed
        thread, user, text = event.get("thread_ts"), event.get("user"), event.get("text")
        if event.get("bot_id") or event.get("subtype") or not user or not thread or thread == event.get("ts"):
            return  # our own posts, edits, and the channel's own chatter
        mapped = await self.store.get(f"thread:{thread}")
        state = await self.store.get(f"state:{mapped['sender']}") if mapped else None
        if not state or not isinstance(text, str) or not text.strip():
            return
        if state["status"] != "live":
            await self._slack("chat.postEphemeral", channel=self.settings.channel, user=user, thread_ts=thread,
                              text=_say("handoff_thread_not_taken"))
            return
        name = state["agent"]["name"] if state["agent"]["id"] == user else _say("handoff_care_team")
        await self.tell(state, _say("handoff_agent_says", agent=name, text=html.unescape(text.strip())), agent=name)


# --------------------------------------------------------------------------- the hooks the channels call

_relay: Optional[Relay] = None


def relay() -> Relay:
    """This server's relay (made from the environment on first use)."""
    global _relay
    if _relay is None:
        _relay = Relay.from_environment()
    return _relay


async def intercept(message: UserMessage) -> bool:
    """:func:`addons.guard.answer`'s hook: True when the care team, not the assistant, gets ``message``."""
    try:
        return await relay().intercept(message)
    except Exception:  # noqa: BLE001 — Redis or Slack away, a bug: the assistant answers rather than nobody
        logger.exception("hand-off: a shopper message could not be relayed; the assistant answers it")
        return False


def is_handoff_action(body: Dict[str, Any]) -> bool:
    """Whether a Slack interactivity payload is a click on a hand-off card (``action_id`` ``handoff…``)."""
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    return str(first.get("action_id") or "").startswith(ACTION_PREFIX)


def attach_socketio(sio: Any, event: str, namespace: Optional[str], blueprint: Any) -> None:
    """Let the relay emit to widget sockets; with Redis, listen for what other replicas publish."""
    current = relay()
    current.sio, current.sio_event, current.namespace = sio, event, namespace
    if current.redis is not None:
        async def subscribe(*_: Any) -> None:
            current._background(current.listen())

        blueprint.listener("after_server_start")(subscribe)
