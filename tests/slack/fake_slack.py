"""Playing Slack in tests: a fake Web API on loopback that records calls, and signed requests."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

from actions.knowledge import load_knowledge
from scripts.stack import Stack, free_port

TOKEN = "xoxb-test-token-not-real"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_USER = "UBOT00001"


# --------------------------------------------------------------------------- the fake Web API


@dataclass
class Call:
    method: str
    body: Dict[str, Any]
    authorization: str


@dataclass
class FakeSlack:
    """Answers every Web API method with ``ok`` and records the calls; runs its own loop in a thread."""

    port: int = field(default_factory=free_port)
    calls: List[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: Optional[web.AppRunner] = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def _api(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            body = await request.json()
        else:
            body = dict(await request.post())
        with self._changed:
            self.calls.append(Call(request.match_info["method"], body, request.headers.get("Authorization", "")))
            self._changed.notify_all()
        return web.json_response({"ok": True, "channel": body.get("channel"), "ts": f"{time.time():.6f}"})

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def start(self) -> "FakeSlack":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def posts(self, channel: str) -> List[Dict[str, Any]]:
        """chat.postMessage bodies for ``channel``, oldest first."""
        with self._changed:
            return [c.body for c in self.calls if c.method == "chat.postMessage" and c.body.get("channel") == channel]

    def wait_for_post(self, channel: str, contains: str, timeout: float = 30.0) -> Dict[str, Any]:
        """The first message posted to ``channel`` whose text contains ``contains``."""
        def found() -> Optional[Dict[str, Any]]:
            return next((p for p in self.posts(channel) if contains in p.get("text", "")), None)

        deadline = time.monotonic() + timeout
        with self._changed:
            while (post := found()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    texts = [p.get("text") for p in self.posts(channel)]
                    raise AssertionError(f"no post containing {contains!r} in {channel} after {timeout}s: {texts}")
                self._changed.wait(remaining)
        return post


# --------------------------------------------------------------------------- signed requests


def sign(body: bytes, secret: str = SECRET, timestamp: Optional[int] = None) -> Dict[str, str]:
    """Slack's v0 signature headers, computed as Slack documents it (HMAC-SHA256 of ``v0:ts:body``)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def post(url: str, body: bytes, headers: Dict[str, str], timeout: float = 10.0) -> Tuple[int, Any]:
    """POST and return (status, parsed JSON or raw text), 4xx/5xx included."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            status, raw = reply.status, reply.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


def message_event(text: str, user: str, channel: str, *, kind: str = "message", channel_type: str = "im",
                  ts: Optional[str] = None, **extra: Any) -> Dict[str, Any]:
    """An Events API envelope around one message event, as Slack sends it."""
    event = {"type": kind, "user": user, "text": text, "channel": channel, "ts": ts or f"{time.time():.6f}",
             "event_ts": ts or f"{time.time():.6f}", **extra}
    if kind == "message":
        event["channel_type"] = channel_type
    return {"token": "legacy-verification-token", "team_id": "T0TEAM", "api_app_id": "A0APP",
            "type": "event_callback", "event_id": new_id("Ev"), "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": "T0TEAM", "user_id": BOT_USER, "is_bot": True}]}


def button_click(value: str, user: str, channel: str, thread_ts: Optional[str] = None) -> Dict[str, Any]:
    """An interactivity payload: the user clicked a quick-reply button of a bot message."""
    message = {"type": "message", "user": BOT_USER, "ts": f"{time.time():.6f}", "text": "…"}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return {"type": "block_actions", "user": {"id": user, "team_id": "T0TEAM"}, "team": {"id": "T0TEAM"},
            "channel": {"id": channel}, "container": {"type": "message", "channel_id": channel},
            "message": message, "trigger_id": "1.2.3", "response_url": "http://127.0.0.1:9/unused",
            "actions": [{"type": "button", "action_id": "quick_reply_0", "block_id": "b", "value": value,
                         "text": {"type": "plain_text", "text": "…"}, "action_ts": f"{time.time():.6f}"}]}


@dataclass
class SlackClient:
    """Plays Slack: sends signed Events API and interactivity requests to the Rasa server."""

    stack: Stack
    slack: FakeSlack

    @property
    def url(self) -> str:
        return f"{self.stack.rasa_url}/webhooks/slack/webhook"

    def send_event(self, envelope: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
        body = json.dumps(envelope).encode()
        return post(self.url, body, {"Content-Type": "application/json", **sign(body), **(headers or {})})

    def click(self, payload: Dict[str, Any]) -> Tuple[int, Any]:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return post(self.url, body, {"Content-Type": "application/x-www-form-urlencoded", **sign(body)})

    def dm(self, text: str, user: str, channel: str, **extra: Any) -> Tuple[int, Any]:
        return self.send_event(message_event(text, user, channel, **extra))

    def settle(self, user: str, channel: str) -> List[Dict[str, Any]]:
        """Say hi and wait for the greeting: everything sent before it has been answered (one lock per user).

        Returns what was posted to ``channel`` before the greeting.
        """
        status, _ = self.dm("hi", user, channel)
        assert status == 200
        greeting = self.slack.wait_for_post(channel, load_knowledge().assistant.name)  # the bot's greeting
        posts = self.slack.posts(channel)
        return posts[:posts.index(greeting)]
