"""'Delete my data' on every channel, and RETENTION_DAYS: the conversation leaves the tracker store and the
insights page. Real action and Rasa servers (and the demo web server for the page) on free ports."""
from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from actions.knowledge import load_knowledge
from addons.insights import synthetic
from addons.insights.store import open_stores
from scripts.stack import free_port
from tests.conftest import Conversation, make_stack
from tests.slack.fake_slack import SECRET, TOKEN, SlackClient, button_click, new_id
from tests.socketio_client import SocketChat

pytestmark = pytest.mark.e2e

KB = load_knowledge()
OFFER, DONE = KB.phrases["erase_offer"].text, KB.phrases["erase_done"].text
INSIGHTS_TOKEN = "privacy-test-token"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, fake_slack):
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake_slack.api_url,
           "INSIGHTS_TOKEN": INSIGHTS_TOKEN}
    with make_stack(tmp_path_factory.mktemp("privacy"), web_port=free_port(), extra_env=env) as running:
        yield running


def stored(stack, sender: str) -> int:
    with sqlite3.connect(f"file:{stack.workdir / 'tracker.db'}?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]


def insights(stack, path: str):
    request = urllib.request.Request(f"http://127.0.0.1:{stack.web_port}{path}",
                                     headers={"Authorization": f"Bearer {INSIGHTS_TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_until(condition, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not true after {timeout}s: {what}"
        time.sleep(0.2)


def test_delete_my_data_over_rest_erases_the_conversation_from_the_store_and_the_insights(stack):
    chat = Conversation(stack)
    marker = f"zq{uuid.uuid4().hex[:6]}"
    chat.say(f"my skin is oily, how long should the serum absorb? {marker}")
    assert stored(stack, chat.sender) > 0
    status, page = insights(stack, f"/insights?q={marker}")
    assert status == 200 and "/insights/transcript?c=" in page.split("Search results")[1]
    assert insights(stack, f"/insights/transcript?c={chat.sender}")[0] == 200

    offer = chat.say("please delete my data")
    assert OFFER in offer and [b["payload"] for b in chat.buttons] == ["/delete_my_data"]
    assert stored(stack, chat.sender) > 0  # only offered so far
    assert DONE in chat.say("/delete_my_data")
    assert stored(stack, chat.sender) == 0  # every event of it, the confirmation included

    status, page = insights(stack, f"/insights?q={marker}")
    assert status == 200 and "/insights/transcript?c=" not in page.split("Search results")[1]
    assert insights(stack, f"/insights/transcript?c={chat.sender}")[0] == 404
    db = stack.workdir / "insights.db"
    with sqlite3.connect(db) as index:
        left = sum(index.execute(f"SELECT count(*) FROM {t} WHERE sender_id = ?", (chat.sender,)).fetchone()[0]
                   for t in ("insights_messages", "insights_mentions", "insights_profiles", "insights_sessions"))
    assert left == 0
    reply = chat.say("hi")  # a fresh conversation: the profile is gone too
    assert "oily" not in reply.lower() and stored(stack, chat.sender) > 0


def test_the_profile_is_still_forgotten_without_deleting_the_conversation(stack):
    chat = Conversation(stack)
    chat.say("my skin is oily")
    reply = chat.say("forget my profile")
    assert OFFER not in reply and stored(stack, chat.sender) > 0


def test_delete_my_data_over_slack(stack, fake_slack):
    slack, user, channel = SlackClient(stack, fake_slack), new_id("U"), new_id("D")
    assert slack.dm("how long should the serum absorb?", user, channel)[0] == 200
    fake_slack.wait_for_post(channel, "5–15 minutes")
    assert slack.dm("delete my data", user, channel)[0] == 200
    offer = fake_slack.wait_for_post(channel, OFFER.split(" — ")[0])
    assert "/delete_my_data" in json.dumps(offer["blocks"])
    assert stored(stack, f"slack:{user}") > 0
    assert slack.click(button_click("/delete_my_data", user, channel))[0] == 200
    fake_slack.wait_for_post(channel, DONE.split(":")[0])
    wait_until(lambda: stored(stack, f"slack:{user}") == 0, what="the Slack conversation erased")


def test_delete_my_data_over_the_widgets_socketio(stack):
    async def talk() -> str:
        async with SocketChat(stack.rasa_url) as chat:
            session = await chat.join()
            await chat.say("how long should the serum absorb?", "minutes")
            await chat.say("can you delete this conversation", "can't be undone")
            await chat.say("/delete_my_data", "deleted")
            return session

    session = asyncio.run(talk())
    with sqlite3.connect(f"file:{stack.workdir / 'tracker.db'}?mode=ro", uri=True) as db:
        erased = [r[0] for r in db.execute("SELECT sender_id FROM erased_conversations WHERE sender_id LIKE 'socketio:%'")]
        assert erased and all(stored(stack, s) == 0 for s in erased)
    assert session


def test_retention_days_erases_older_conversations_only(tmp_path):
    old_end = datetime.now(timezone.utc) - timedelta(days=40)
    source = open_stores({}, tmp_path / "tracker.db").source
    synthetic.write(source, synthetic.generate(30, days=5, seed=1, end=old_end))  # 40-45 days ago
    synthetic.write(source, synthetic.generate(20, days=5, seed=2, end=datetime.now(timezone.utc)))  # this week
    source.dispose()
    env = {"RETENTION_DAYS": "30", "RETENTION_INTERVAL": "1"}
    with make_stack(tmp_path, extra_env=env) as running:
        chat = Conversation(running)
        chat.say("how long should the serum absorb?")  # the store's first save starts the job

        def senders(prefix: str) -> int:
            with sqlite3.connect(f"file:{tmp_path / 'tracker.db'}?mode=ro", uri=True) as db:
                return db.execute("SELECT count(DISTINCT sender_id) FROM events WHERE sender_id LIKE ?",
                                  (f"%{prefix}x%",)).fetchone()[0]

        wait_until(lambda: senders("1") == 0, what="the old conversations erased")
        assert senders("2") == 20 and stored(running, chat.sender) > 0
