"""Saying one thing to the real Rasa server on each channel the assistant serves, as its users do.

Each ``ask_*`` sends one message and returns the first reply text the user reads there, so a test can run
the same check on REST, REST with ``?stream=true``, the widget's socket.io and Slack.
"""
from __future__ import annotations

import asyncio
import json
import uuid
from typing import Callable, Dict

from scripts.stack import Stack
from tests.reliability.conftest import send, text_of
from tests.slack.fake_slack import FakeSlack, SlackClient, new_id
from tests.socketio_client import SocketChat

Ask = Callable[[Stack, str], str]


def ask_rest(stack: Stack, text: str) -> str:
    return text_of(stack.say(f"rest-{uuid.uuid4().hex[:12]}", text))


def ask_rest_stream(stack: Stack, text: str) -> str:
    body = json.dumps({"sender": f"stream-{uuid.uuid4().hex[:12]}", "message": text}).encode()
    reply = send(stack.rest_url + "?stream=true", body, headers={"Content-Type": "application/json"})
    assert reply.status == 200, reply.body
    return text_of([json.loads(line) for line in reply.body.decode().splitlines() if line.strip()])


def ask_socketio(stack: Stack, text: str) -> str:
    async def ask() -> str:
        async with SocketChat(stack.rasa_url) as chat:
            await chat.join()
            await chat.send(text)
            return await chat.reply()

    return asyncio.run(ask())


def slack_asker(fake: FakeSlack) -> Ask:
    """A signed DM to the Slack app; the first message it posts back to that DM channel."""
    def ask_slack(stack: Stack, text: str) -> str:
        slack, channel = SlackClient(stack, fake), new_id("D")
        status, _ = slack.dm(text, new_id("U"), channel)
        assert status == 200
        return slack.slack.wait_for_post(channel, "")["text"]

    return ask_slack


def channels(fake: FakeSlack) -> Dict[str, Ask]:
    return {"rest": ask_rest, "rest-stream": ask_rest_stream, "socketio": ask_socketio, "slack": slack_asker(fake)}
