"""The hand-off scaled out: two Rasa replicas sharing PostgreSQL and Redis. The care team's clicks and replies
land on replica A while the shopper's widget socket is on replica B: the reply still reaches the widget at once
(Redis pub/sub), and the hand-off's state and thread map are the same on both."""
from __future__ import annotations

import asyncio
import json
import re
import shutil
import urllib.request
from typing import Iterator

import jwt
import pytest

from scripts.scaled import Scaled
from scripts.stack import free_port
from tests.handoff.conftest import API_TOKEN, CareSlack, CareTeam, handoff_env
from tests.scaled.conftest import scaled_workdir
from tests.slack.fake_slack import new_id
from tests.socketio_client import SocketChat

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def care_slack() -> Iterator[CareSlack]:
    slack = CareSlack().start()
    try:
        yield slack
    finally:
        slack.stop()


@pytest.fixture(scope="module")
def topology(care_slack: CareSlack) -> Iterator[Scaled]:
    workdir = scaled_workdir("handoff-scaled-")
    scaled = Scaled(workdir=workdir, port=free_port(), action_port=free_port(), durable=False)
    for stack in (*scaled.rasa, scaled.front):  # the hand-off switched on, as `make run-scaled` with its variables
        stack.extra_env.update(handoff_env(care_slack, HANDOFF_TIMEOUT="10"))
    try:
        scaled.start(timeout=240)
        yield scaled
    finally:
        scaled.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def test_an_agent_reply_on_replica_a_reaches_a_widget_on_replica_b(topology: Scaled, care_slack: CareSlack):
    a, b = topology.rasa
    care_a, care_b = CareTeam(a, care_slack), CareTeam(b, care_slack)
    sam = (new_id("U"), "Sam")

    async def visit() -> None:
        async with SocketChat(b.rasa_url) as chat:
            await chat.join()
            await chat.say("I have dry skin", re.compile("dry", re.I))
            before = len(care_a.cards())
            await chat.say("can I talk to a person?", "connecting you")  # handled by replica B
            card = await asyncio.to_thread(care_a.new_card, before)

            assert (await asyncio.to_thread(care_a.click, card, "handoff_take", sam))[0] == 200  # on replica A
            assert "**Sam** from the care team has joined" in await chat.reply_matching("has joined")
            assert (await asyncio.to_thread(care_a.reply, card, sam, "Hi from replica A"))[0] == 200
            assert await chat.reply_matching("Hi from replica A") == "**Sam:** Hi from replica A"

            await chat.send("thanks, it feels tight after cleansing")  # on replica B: into the thread
            assert "feels tight" in await asyncio.to_thread(care_b.wait_thread, card, "feels tight")
            replayed = care_b.click_payload(card, "handoff_back", sam)
            assert (await asyncio.to_thread(care_b.send_click, replayed))[0] == 200  # hand back on B
            assert (await asyncio.to_thread(care_a.send_click, replayed))[0] == 409  # its replay on A: refused
            assert "You're back with the assistant" in await chat.reply_matching("back with the assistant")
            assert "dry" in (await chat.say("what's my routine?", re.compile("dry", re.I))).lower()

            sender = "socketio:" + jwt.decode(chat.session_id, options={"verify_signature": False})["sub"]
            url = f"{a.rasa_url}/conversations/{sender}/tracker?token={API_TOKEN}"
            events = json.loads(urllib.request.urlopen(url, timeout=10).read())["events"]
            authors = [(e.get("metadata") or {}).get("author") for e in events]
            assert "agent" in authors and "shopper" in authors  # one conversation, whichever replica wrote

    asyncio.run(visit())
