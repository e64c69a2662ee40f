"""The live hand-off end to end: real Rasa + action servers, the care team in a fake Slack, signed requests."""
from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request

import jwt
import pytest

from tests.handoff.conftest import API_TOKEN, CARE, CareTeam
from tests.slack.fake_slack import SlackClient, new_id, sign
from tests.socketio_client import SocketChat

pytestmark = pytest.mark.e2e

CONNECTING = "connecting you with the care team"
JOINED = "from the care team has joined"
BACK = "You're back with the assistant"
EMERGENCY = "Get emergency help now"


def tracker_events(stack, sender: str) -> list:
    url = f"{stack.rasa_url}/conversations/{sender}/tracker?token={API_TOKEN}"
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.loads(reply.read())["events"]


def widget_sender(chat: SocketChat) -> str:
    """The conversation id the server signed into the widget's session token."""
    return "socketio:" + jwt.decode(chat.session_id, options={"verify_signature": False})["sub"]


async def nothing_more(chat: SocketChat, seconds: float = 2.0) -> list:
    """What the widget receives in the next ``seconds`` (the assistant stays quiet: an empty list)."""
    await asyncio.sleep(seconds)
    return chat.pending()


def test_a_widget_shopper_is_handed_to_an_agent_and_back(handoff_stack, care: CareTeam, sam):
    async def visit() -> None:
        async with SocketChat(handoff_stack.rasa_url) as chat:
            await chat.join()
            assert "oily" in (await chat.say("I have oily skin", re.compile("oily", re.I))).lower()
            before = len(care.cards())
            assert CONNECTING in await chat.say("can I talk to a real person?", CONNECTING)
            card = (await asyncio.to_thread(care.new_card, before))
            sender = widget_sender(chat)
            fields = json.dumps(card["blocks"])
            assert "oily" in fields and "asked for a person" in fields and "socketio" in fields
            assert "can I talk to a real person?" in fields  # the last turns
            assert care.button(card, "handoff_take")["value"] == sender

            status, _ = (await asyncio.to_thread(care.click, card, "handoff_take", sam))
            assert status == 200
            assert "**Sam** from the care team has joined" in await chat.reply_matching(JOINED)
            taken = care.updates(card)[-1]
            assert f"Taken by <@{sam[0]}>" in json.dumps(taken["blocks"])
            assert care.button(taken, "handoff_back")  # the card now offers Hand back, not Take it

            assert (await asyncio.to_thread(care.reply, card, sam, "Hi, I'm Sam &amp; happy to help. What's going on?"))[0] == 200
            said = await chat.reply_matching("What's going on")  # no shopper message needed
            assert said == "**Sam:** Hi, I'm Sam & happy to help. What's going on?"

            await chat.send("my skin feels a bit dry in the evening")
            assert "my skin feels a bit dry" in (await asyncio.to_thread(care.wait_thread, card, "feels a bit dry"))
            assert await nothing_more(chat) == []  # the assistant stays quiet

            status, _ = (await asyncio.to_thread(care.click, card, "handoff_back", sam))
            assert status == 200
            assert BACK in await chat.reply_matching(BACK)
            assert "Handed back" in json.dumps(care.updates(card)[-1]["blocks"])

            answer = await chat.say("what's my routine?", re.compile("oily", re.I))
            assert "oily" in answer.lower()  # the profile kept
            assert care.thread(card)[-1].count("what's my routine") == 0  # no longer relayed

            events = tracker_events(handoff_stack, sender)
            authored = [(e["event"], (e.get("metadata") or {}).get("author"), e.get("text")) for e in events]
            assert ("bot", "agent", said) in authored
            assert ("user", "shopper", "my skin feels a bit dry in the evening") in authored

    asyncio.run(visit())


def rest(stack, sender: str, text: str) -> list:
    return [m.get("text") or "" for m in stack.say(sender, text)]


def test_a_rest_shopper_reads_the_agent_on_the_next_request_and_the_first_agent_wins(handoff_stack, care, sam):
    sender, ana = f"rest-{new_id('S')}", (new_id("U"), "Ana")
    before = len(care.cards())
    asked = handoff_stack.say(sender, "I want to speak to a human")
    assert CONNECTING in asked[0]["text"] and not any("custom" in m for m in asked)  # the request stays inside
    card = care.new_card(before)
    assert care.click(card, "handoff_take", sam)[0] == 200
    assert care.click(card, "handoff_take", ana)[0] == 200  # second: told in Slack, shopper not told twice
    already = care.wait("chat.postEphemeral", lambda b: b.get("user") == ana[0], "to Ana")
    assert f"<@{sam[0]}> already took" in already["text"]
    care.reply(card, sam, "Hello from Sam")
    replies = rest(handoff_stack, sender, "hello?")
    assert replies[:2] == ["**Sam** from the care team has joined the chat.", "**Sam:** Hello from Sam"]
    assert "Ana" not in " ".join(replies)
    assert "hello?" in care.wait_thread(card, "hello?")
    emergency = rest(handoff_stack, sender, "now my lips are swelling up")
    assert EMERGENCY in emergency[0]  # at once, during the hand-off
    assert "Emergency signs" in care.wait_thread(card, "lips are swelling")
    assert care.click(card, "handoff_back", sam)[0] == 200
    replies = rest(handoff_stack, sender, "how long should the serum absorb?")
    assert BACK in replies[0] and len(replies) > 1 and JOINED not in " ".join(replies)  # the assistant answers


def test_a_forged_or_replayed_slack_action_is_refused(handoff_stack, care, sam):
    sender = f"rest-{new_id('S')}"
    before = len(care.cards())
    rest(handoff_stack, sender, "can I talk to a person?")
    card = care.new_card(before)
    payload = care.click_payload(card, "handoff_take", sam)
    body = care.form(payload)
    forged = care.send(body, "application/x-www-form-urlencoded",
                       {"X-Slack-Signature": "v0=" + "0" * 64})
    assert forged[0] == 403
    other_channel = care.send_click(care.click_payload(card, "handoff_take", sam, channel=new_id("C")))
    assert other_channel[0] == 403 and "care channel" in other_channel[1]["error"]
    assert rest(handoff_stack, sender, "anyone there?") == [
        "Your message is with the care team; someone will be with you as soon as they can."]  # nobody took it

    assert care.reply(card, sam, "typing before taking it")[0] == 200
    early = care.wait("chat.postEphemeral", lambda b: b.get("user") == sam[0], "to Sam")
    assert "Take the conversation first" in early["text"]

    assert care.send(body, "application/x-www-form-urlencoded")[0] == 200  # the real click
    replayed = care.send(body, "application/x-www-form-urlencoded")
    assert replayed[0] == 409 and "replayed" in replayed[1]["error"]
    stale = care.send(body, "application/x-www-form-urlencoded",
                      sign(body, timestamp=int(time.time()) - 600))
    assert stale[0] == 403
    joined = [t for t in rest(handoff_stack, sender, "hi?") if JOINED in t]
    assert len(joined) == 1  # told once
    assert not any("typing before taking it" in t for t in rest(handoff_stack, sender, "still there?"))


def test_a_slack_dm_shopper_is_handed_off_in_their_dm(handoff_stack, care, sam):
    shopper, dm = SlackClient(handoff_stack, care.slack), new_id("D")
    user, before = new_id("U"), len(care.cards())
    assert shopper.dm("I want to talk to a human", user, dm)[0] == 200
    care.slack.wait_for_post(dm, "connecting you")
    card = care.new_card(before)
    assert "slack" in json.dumps(card["blocks"])
    assert care.click(card, "handoff_take", sam)[0] == 200
    assert care.slack.wait_for_post(dm, "from the care team has joined")["text"] == \
        "*Sam* from the care team has joined the chat."  # as Slack mrkdwn
    care.reply(card, sam, "Hi, Sam here")
    care.slack.wait_for_post(dm, "Hi, Sam here")
    assert shopper.dm("thanks Sam", user, dm)[0] == 200
    assert "thanks Sam" in care.wait_thread(card, "thanks Sam")
    assert care.click(card, "handoff_back", sam)[0] == 200
    care.slack.wait_for_post(dm, "back with the assistant")


def test_a_malformed_hand_off_click_gets_a_4xx_with_its_reason(handoff_stack, care, sam):
    sender, before = f"rest-{new_id('S')}", len(care.cards())
    rest(handoff_stack, sender, "can I talk to a person?")
    payload = care.click_payload(care.new_card(before), "handoff_take", sam)
    del payload["actions"][0]["action_ts"]
    status, reply = care.send_click(payload)
    assert (status, reply["ok"]) == (400, False) and "malformed" in reply["error"]
    unknown = care.click_payload(care.new_card(before), "handoff_take", sam)
    unknown["actions"][0]["value"] = "rest-nobody"
    assert care.send_click(unknown) == (200, {"ok": True, "ignored": "no such hand-off"})


def test_after_a_reaction_the_card_says_so_and_a_sign_that_is_an_emergency_only_after_it_is_caught(
        handoff_stack, care, sam):
    sender, before = f"rest-{new_id('S')}", len(care.cards())
    reaction = handoff_stack.say(sender, "got hives on my cheeks after the serum")
    assert {"title": "Talk to a person", "payload": "/human_handoff"} in reaction[-1].get("buttons", [])
    assert any(CONNECTING in t for t in rest(handoff_stack, sender, "/human_handoff"))  # the button's payload
    card = care.new_card(before)
    assert "after a skin reaction" in json.dumps(card["blocks"])
    assert care.click(card, "handoff_take", sam)[0] == 200
    replies = rest(handoff_stack, sender, "now my eyelids are puffing up too")
    assert EMERGENCY in " ".join(replies)  # puffiness after the reaction told before: the assistant answers
    assert "Emergency signs" in care.wait_thread(card, "eyelids are puffing")
