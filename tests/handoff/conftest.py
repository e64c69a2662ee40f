"""Fixtures: a real assistant with the Slack app and the live hand-off on, the care team played by signed requests."""
from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from scripts.stack import Stack, free_port
from tests.browser.conftest import browser, context, page  # noqa: F401 — Chromium for the widget tests
from tests.conftest import make_stack
from aiohttp import web

from tests.slack.fake_slack import BOT_USER, SECRET, TOKEN, Call, FakeSlack, message_event, new_id, post, sign

CARE = "CCARE00001"  # the care team's channel (HANDOFF_SLACK_CHANNEL)
API_TOKEN = "handoff-test-api-token"


def handoff_env(fake: FakeSlack, **extra: str) -> Dict[str, str]:
    return {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
            "HANDOFF_SLACK_CHANNEL": CARE, "RASA_API_TOKEN": API_TOKEN, **extra}


def closed_hours(now: Optional[datetime] = None) -> str:
    """A one-hour HANDOFF_HOURS window that does not contain ``now`` (UTC)."""
    now = now or datetime.now(timezone.utc)
    start = now + timedelta(hours=2) if now.hour < 20 else now - timedelta(hours=4)
    return f"{start:%H}:00-{start + timedelta(hours=1):%H}:00"


class CareSlack(FakeSlack):
    """The fake Web API, also remembering the ``ts`` it answered for each message (a card's ``ts`` is its thread)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.answered: Dict[int, str] = {}

    async def _api(self, request: web.Request) -> web.Response:
        body = await request.json() if request.content_type == "application/json" else dict(await request.post())
        ts = f"{time.time():.6f}"
        with self._changed:
            self.calls.append(Call(request.match_info["method"], body, request.headers.get("Authorization", "")))
            self.answered[id(body)] = ts
            self._changed.notify_all()
        return web.json_response({"ok": True, "channel": body.get("channel"), "ts": ts})


@pytest.fixture(scope="session")
def care_slack() -> Iterator[CareSlack]:
    slack = CareSlack().start()
    try:
        yield slack
    finally:
        slack.stop()


@pytest.fixture(scope="session")
def handoff_stack(tmp_path_factory, care_slack: CareSlack) -> Iterator[Stack]:
    """Actions + Rasa (REST, socket.io, Slack) + the demo page, the hand-off on, a 10-minute timeout."""
    env = handoff_env(care_slack, HANDOFF_TIMEOUT="10", HANDOFF_CONTACT="care@brand.example")
    with make_stack(tmp_path_factory.mktemp("handoff"), extra_env=env, web_port=free_port()) as stack:
        yield stack


@pytest.fixture(scope="session")
def timeout_stack(tmp_path_factory, care_slack: CareSlack) -> Iterator[Stack]:
    """The same with HANDOFF_TIMEOUT at 0.05 minutes (3 s): nobody takes the card in time."""
    env = handoff_env(care_slack, HANDOFF_TIMEOUT="0.05", HANDOFF_CONTACT="care@brand.example")
    with make_stack(tmp_path_factory.mktemp("handoff-timeout"), extra_env=env, web_port=free_port()) as stack:
        yield stack


@pytest.fixture(scope="session")
def closed_stack(tmp_path_factory, care_slack: CareSlack) -> Iterator[Stack]:
    """The same outside the care team's hours (HANDOFF_HOURS: a window that does not contain now)."""
    env = handoff_env(care_slack, HANDOFF_HOURS=f"{closed_hours()} Europe/London",
                      HANDOFF_CONTACT="https://brand.example/help")
    with make_stack(tmp_path_factory.mktemp("handoff-closed"), extra_env=env) as stack:
        yield stack


@dataclass
class CareTeam:
    """Plays the care team in Slack: reads the cards the assistant posts, clicks their buttons, replies in threads."""

    stack: Stack
    slack: CareSlack

    @property
    def url(self) -> str:
        return f"{self.stack.rasa_url}/webhooks/slack/webhook"

    def calls(self, method: str) -> List[Dict[str, Any]]:
        with self.slack._changed:
            return [c.body for c in self.slack.calls if c.method == method]

    def wait(self, method: str, test, what: str, timeout: float = 30.0) -> Dict[str, Any]:
        """The first ``method`` call whose body passes ``test``."""
        deadline = time.monotonic() + timeout
        with self.slack._changed:
            while True:
                found = next((b for b in self.calls(method) if test(b)), None)
                if found is not None:
                    return found
                if time.monotonic() > deadline:
                    raise AssertionError(f"no {method} {what} after {timeout}s: {self.calls(method)[-5:]}")
                self.slack._changed.wait(max(0.05, deadline - time.monotonic()))

    def cards(self) -> List[Dict[str, Any]]:
        return [b for b in self.calls("chat.postMessage") if b.get("channel") == CARE and not b.get("thread_ts")]

    def new_card(self, before: int, timeout: float = 30.0) -> Dict[str, Any]:
        """The first card posted after ``before`` cards were there; its ``ts`` is added (as Slack answered it)."""
        card = self.wait("chat.postMessage", lambda b: b.get("channel") == CARE and not b.get("thread_ts")
                         and self.cards().index(b) >= before, "card", timeout)
        return {**card, "ts": self._ts_of(card)}

    def _ts_of(self, body: Dict[str, Any]) -> str:
        """The ``ts`` the fake Web API answered for a posted card (the thread's id)."""
        return self.slack.answered[id(body)]

    def thread(self, card: Dict[str, Any]) -> List[str]:
        return [b["text"] for b in self.calls("chat.postMessage") if b.get("thread_ts") == card["ts"]]

    def wait_thread(self, card: Dict[str, Any], contains: str) -> str:
        return self.wait("chat.postMessage", lambda b: b.get("thread_ts") == card["ts"] and contains in b["text"],
                         f"in the thread containing {contains!r}")["text"]

    def updates(self, card: Dict[str, Any]) -> List[Dict[str, Any]]:
        return [b for b in self.calls("chat.update") if b.get("ts") == card["ts"]]

    @staticmethod
    def button(card: Dict[str, Any], action_id: str) -> Dict[str, Any]:
        return next(e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]
                    if e["action_id"] == action_id)

    def click_payload(self, card: Dict[str, Any], action_id: str, agent: Tuple[str, str],
                      channel: str = CARE) -> Dict[str, Any]:
        button = self.button(card, action_id) if action_id == "handoff_take" else {
            "action_id": action_id, "value": self.button(card, "handoff_take")["value"]}
        user_id, name = agent
        return {"type": "block_actions", "user": {"id": user_id, "username": name.lower(), "name": name,
                                                  "team_id": "T0TEAM"},
                "team": {"id": "T0TEAM"}, "channel": {"id": channel, "name": "care"},
                "container": {"type": "message", "channel_id": channel, "message_ts": card["ts"]},
                "message": {"type": "message", "user": BOT_USER, "ts": card["ts"], "text": card["text"]},
                "trigger_id": "1.2.3", "response_url": "http://127.0.0.1:9/unused",
                "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": button["value"],
                             "text": {"type": "plain_text", "text": "…"}, "action_ts": f"{time.time():.6f}"}]}

    def send(self, body: bytes, content_type: str, headers: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
        return post(self.url, body, {"Content-Type": content_type, **sign(body), **(headers or {})})

    def click(self, card: Dict[str, Any], action_id: str, agent: Tuple[str, str]) -> Tuple[int, Any]:
        return self.send_click(self.click_payload(card, action_id, agent))

    @staticmethod
    def form(payload: Dict[str, Any]) -> bytes:
        return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()

    def send_click(self, payload: Dict[str, Any]) -> Tuple[int, Any]:
        return self.send(self.form(payload), "application/x-www-form-urlencoded")

    def reply(self, card: Dict[str, Any], agent: Tuple[str, str], text: str) -> Tuple[int, Any]:
        """The agent writes ``text`` in the card's thread (a signed Events API message event)."""
        envelope = message_event(text, agent[0], CARE, channel_type="channel", ts=f"{time.time():.6f}",
                                 thread_ts=card["ts"], parent_user_id=BOT_USER)
        body = json.dumps(envelope).encode()
        return self.send(body, "application/json")


@pytest.fixture
def care(handoff_stack: Stack, care_slack: CareSlack) -> CareTeam:
    return CareTeam(handoff_stack, care_slack)


@pytest.fixture
def sam() -> Tuple[str, str]:
    return new_id("U"), "Sam"
