"""The relay's decisions with its clock and sleep injected: the timeout fires only for a card nobody took."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from actions.handoff_settings import Settings
from addons import handoff


class FakeSlack:
    """Records Web API calls; every message gets a ``ts``."""

    def __init__(self) -> None:
        self.calls: List[Dict[str, Any]] = []

    async def api_call(self, method: str, json: Dict[str, Any]):
        self.calls.append({"method": method, **json})

        class Reply:
            data = {"ok": True, "ts": f"{len(self.calls)}.000"}

        return Reply()


@pytest.fixture
def recorded(monkeypatch) -> List[Any]:
    events: List[Any] = []

    async def record(sender, new):
        events.extend(new)

    monkeypatch.setattr(handoff, "record", record)
    return events


def relay(sleeps: List[float], **settings: Any) -> handoff.Relay:
    async def sleep(seconds: float) -> None:  # the clock jumps: nobody waits minutes
        sleeps.append(seconds)

    return handoff.Relay(Settings(channel="CCARE", contact="care@brand.example", **settings),
                         handoff.MemoryStore(), FakeSlack(), clock=lambda: 1000.0, sleep=sleep)


REQUEST = {"reason": "asked", "online": True, "profile": {}, "transcript": []}


async def start(r: handoff.Relay, sender: str = "rest-1") -> None:
    message = UserMessage("a person please", CollectingOutputChannel(), sender, input_channel="rest")
    await r.start(message, REQUEST, message.output_channel)


async def test_nobody_takes_it_the_shopper_is_told_after_the_timeout(recorded):
    sleeps: List[float] = []
    r = relay(sleeps, timeout_minutes=2)
    await start(r)
    await asyncio.gather(*r._tasks)
    assert sleeps == [120]
    [told] = await r.store.pop_all("pending:rest-1")
    assert "within 2 minutes" in told["text"] and "(mailto:care@brand.example)" in told["text"]
    assert (await r.store.get("state:rest-1"))["status"] == "missed"
    assert any(c["method"] == "chat.update" and "Nobody took it" in str(c["blocks"]) for c in r.slack.calls)


async def test_a_card_taken_before_the_timeout_is_not_timed_out(recorded):
    r = relay([], timeout_minutes=2)
    await start(r)
    state = await r.store.get("state:rest-1")
    await r._take(state, {"id": "U1", "name": "Sam"})
    await asyncio.gather(*r._tasks)
    told = [m["text"] for m in await r.store.pop_all("pending:rest-1")]
    assert told == ["**Sam** from the care team has joined the chat."]


async def test_the_first_agent_wins(recorded):
    r = relay([])
    await start(r)
    state = await r.store.get("state:rest-1")
    await r._take(state, {"id": "U1", "name": "Sam"})
    await r._take(await r.store.get("state:rest-1"), {"id": "U2", "name": "Ana"})
    assert (await r.store.get("state:rest-1"))["agent"]["name"] == "Sam"
    [ephemeral] = [c for c in r.slack.calls if c["method"] == "chat.postEphemeral"]
    assert ephemeral["user"] == "U2" and "<@U1> already took" in ephemeral["text"]


async def test_asking_again_after_a_timeout_posts_a_new_card(recorded):
    r = relay([], timeout_minutes=2)
    await start(r)
    await asyncio.gather(*r._tasks)
    first = (await r.store.get("state:rest-1"))["card"]
    await start(r)
    state = await r.store.get("state:rest-1")
    assert state["card"] != first and state["status"] == "waiting"
    await start(r)  # waiting: no third card
    cards = [c for c in r.slack.calls if c["method"] == "chat.postMessage" and "thread_ts" not in c]
    assert len(cards) == 2
