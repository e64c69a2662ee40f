"""The Slack app end to end: signed requests to the real Rasa server, replies caught by a fake Web API."""
from __future__ import annotations

import json
import time

import pytest

from addons.guard import CAPPED_NOTE, EMPTY_TEXT
from tests.slack.fake_slack import BOT_USER, SECRET, TOKEN, button_click, message_event, new_id, post, sign

pytestmark = pytest.mark.e2e

ABSORB_QUESTION = "how long should the serum absorb?"
ABSORB_ANSWER = "5–15 minutes"


def test_a_direct_message_is_answered_in_its_channel_with_quick_reply_buttons(slack, user, dm_channel):
    status, reply = slack.dm(ABSORB_QUESTION, user, dm_channel)
    assert (status, reply["ok"]) == (200, True)

    answer = slack.slack.wait_for_post(dm_channel, ABSORB_ANSWER)
    assert "_Source: " in answer["text"]  # markdown italics kept as mrkdwn italics
    actions = [b for b in answer["blocks"] if b["type"] == "actions"]
    buttons = [(e["text"]["text"], e["value"]) for a in actions for e in a["elements"] if e["type"] == "button"]
    assert ("Remind me when it's absorbed", "/set_reminder") in buttons
    assert answer["blocks"][0] == {"type": "section", "text": {"type": "mrkdwn", "text": answer["text"]}}
    assert "thread_ts" not in answer
    call = next(c for c in slack.slack.calls if c.body is answer)
    assert call.authorization == f"Bearer {TOKEN}"


def test_a_button_click_sends_its_payload_and_the_bold_step_title_arrives_as_mrkdwn(slack, user, dm_channel):
    status, _ = slack.click(button_click("/walkthrough_start", user, dm_channel))
    assert status == 200

    step = slack.slack.wait_for_post(dm_channel, "Step 1 of 5")
    assert step["text"].startswith("*Step 1 of 5: Cleanse thoroughly*\n")
    assert "**" not in step["text"]


def test_a_click_on_a_button_in_a_thread_is_answered_in_that_thread(slack, user):
    channel, thread = new_id("C"), "1700000000.000100"
    status, _ = slack.click(button_click("/walkthrough_start", user, channel, thread_ts=thread))
    assert status == 200
    assert slack.slack.wait_for_post(channel, "Step 1 of 5")["thread_ts"] == thread


def test_url_verification_echoes_the_challenge(slack):
    envelope = {"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                "type": "url_verification"}
    status, reply = slack.send_event(envelope)
    assert (status, reply) == (200, {"challenge": envelope["challenge"]})


def test_a_retried_event_is_answered_once(slack, user, dm_channel):
    envelope = message_event(ABSORB_QUESTION, user, dm_channel)
    assert slack.send_event(envelope)[0] == 200
    status, reply = slack.send_event(envelope, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert (status, reply.get("duplicate")) == (200, True)
    assert slack.send_event(envelope, {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"})[0] == 200

    before = slack.settle(user, dm_channel)
    assert [ABSORB_ANSWER in p["text"] for p in before] == [True]


def test_a_channel_mention_arriving_as_message_and_app_mention_is_answered_once(slack, user):
    channel, ts = new_id("C"), f"{time.time():.6f}"
    text = f"<@{BOT_USER}> {ABSORB_QUESTION}"
    as_message = message_event(text, user, channel, channel_type="channel", ts=ts)
    as_mention = message_event(text, user, channel, kind="app_mention", ts=ts)
    assert slack.send_event(as_message)[0] == 200
    assert slack.send_event(as_mention)[0] == 200

    answer = slack.slack.wait_for_post(channel, ABSORB_ANSWER)
    before = slack.settle(user, channel)
    assert before == [answer]


def test_a_dm_arriving_as_message_and_app_mention_is_answered_once(slack, user, dm_channel):
    ts = f"{time.time():.6f}"
    text = f"<@{BOT_USER}> {ABSORB_QUESTION}"
    assert slack.send_event(message_event(text, user, dm_channel, kind="app_mention", ts=ts))[0] == 200
    assert slack.send_event(message_event(text, user, dm_channel, ts=ts))[0] == 200

    assert [ABSORB_ANSWER in p["text"] for p in slack.settle(user, dm_channel)] == [True]


def test_a_mention_in_a_thread_is_answered_in_that_thread(slack, user):
    channel, thread = new_id("C"), "1700000000.000200"
    text = f"<@{BOT_USER}> {ABSORB_QUESTION}"
    slack.send_event(message_event(text, user, channel, kind="app_mention", thread_ts=thread))
    assert slack.slack.wait_for_post(channel, ABSORB_ANSWER)["thread_ts"] == thread


def test_channel_chatter_without_a_mention_is_not_answered(slack, user):
    channel = new_id("C")
    assert slack.send_event(message_event(ABSORB_QUESTION, user, channel, channel_type="channel"))[0] == 200
    assert slack.settle(user, channel) == []


@pytest.mark.parametrize("extra", [
    {"bot_id": "B0OURS", "subtype": "bot_message"},  # our own reply, echoed back as a message event
    {"bot_id": "B0OTHER"},  # another app's message
    {"subtype": "message_changed"},  # an edit
], ids=["bot_message", "other_bot", "edit"])
def test_bot_messages_and_edits_are_not_answered(slack, user, dm_channel, extra):
    assert slack.dm(ABSORB_QUESTION, user, dm_channel, **extra)[0] == 200
    assert slack.settle(user, dm_channel) == []


def test_our_own_user_is_not_answered(slack, user, dm_channel):
    assert slack.dm(ABSORB_QUESTION, BOT_USER, dm_channel)[0] == 200
    assert slack.settle(user, dm_channel) == []


def _signed_but_stale(body: bytes) -> dict:
    return sign(body, timestamp=int(time.time()) - 6 * 60)


def _signed_with_another_secret(body: bytes) -> dict:
    return sign(body, secret=SECRET[::-1])


def _signed_for_another_body(body: bytes) -> dict:
    return sign(body.replace(b"serum", b"SERUM"))


def _unsigned(body: bytes) -> dict:
    return {}


@pytest.mark.parametrize("headers, status", [
    (_unsigned, 401),
    (_signed_with_another_secret, 403),
    (_signed_for_another_body, 403),
    (_signed_but_stale, 403),
], ids=["unsigned", "wrong_secret", "tampered_body", "stale"])
def test_a_request_without_a_valid_signature_is_refused_and_not_answered(slack, user, dm_channel, headers, status):
    body = json.dumps(message_event(ABSORB_QUESTION, user, dm_channel)).encode()
    code, reply = post(slack.url, body, {"Content-Type": "application/json", **headers(body)})
    assert code == status
    assert reply["ok"] is False
    assert "signature" in reply["error"] or "timestamp" in reply["error"]
    assert slack.settle(user, dm_channel) == []


def test_url_verification_needs_a_signature(slack):
    body = json.dumps({"type": "url_verification", "challenge": "abc"}).encode()
    code, reply = post(slack.url, body, {"Content-Type": "application/json"})
    assert code == 401 and "abc" not in json.dumps(reply)


@pytest.mark.parametrize("content_type, body, status", [
    ("application/json", b'{"type": "event_callback", "event": {', 400),
    ("application/json", b'["not", "an", "object"]', 400),
    ("application/json", b'{"type": "event_callback"}', 400),
    ("application/json", b'{"type": "event_callback", "event": "message"}', 400),
    ("application/x-www-form-urlencoded", b"nothing=here", 400),
    ("application/x-www-form-urlencoded", b"payload=%7Bnot-json", 400),
    ("application/x-www-form-urlencoded", b'payload={"type": "block_actions", "channel": "C1"}', 400),
    ("text/plain", b"hello", 415),
    ("application/json", b"\xff\xfe", 400),
], ids=["truncated_json", "json_array", "no_event", "odd_event", "form_no_payload", "payload_not_json",
        "odd_payload", "text_plain", "not_utf8"])
def test_a_malformed_signed_body_is_a_client_error(slack, content_type, body, status):
    code, reply = post(slack.url, body, {"Content-Type": content_type, **sign(body)})
    assert code == status, reply
    assert reply["ok"] is False


def test_the_absorption_reminder_arrives_in_slack_without_another_message(slack, user, dm_channel):
    assert slack.dm("remind me in 3 seconds", user, dm_channel)[0] == 200
    slack.slack.wait_for_post(dm_channel, "remind you in 3 seconds")

    reminder = slack.slack.wait_for_post(dm_channel, "Time's up", timeout=30)
    assert "serum should be absorbed" in reminder["text"]


def test_a_mention_with_nothing_else_gets_the_prompt(slack, user):
    channel = new_id("C")
    assert slack.send_event(message_event(f"<@{BOT_USER}>", user, channel, kind="app_mention"))[0] == 200
    assert slack.slack.wait_for_post(channel, "")["text"] == EMPTY_TEXT


def test_an_over_long_dm_is_capped_with_the_note_and_answered_quickly(slack, user, dm_channel):
    started = time.monotonic()
    text = f"{ABSORB_QUESTION} " + "Please tell me more. " * 2000  # 40,000+ characters, Slack's own limit
    assert len(text) > 40_000 and slack.dm(text, user, dm_channel)[0] == 200
    answer = slack.slack.wait_for_post(dm_channel, ABSORB_ANSWER)
    assert time.monotonic() - started < 3.0
    posts = [p["text"] for p in slack.slack.posts(dm_channel)]
    assert posts[0] == CAPPED_NOTE and posts[1:] == [answer["text"]]


@pytest.mark.parametrize("timestamp", ["²", "9" * 5000, "١٧٠٠٠٠٠٠٠٠", "-1700000000", "1.7e9", "0x6553f100"],
                         ids=["superscript two", "5,000 digits", "arabic-indic digits", "negative", "float", "hex"])
@pytest.mark.parametrize("signature", ["v0=" + "0" * 64, None], ids=["bogus signature", "no signature"])
def test_a_malformed_timestamp_is_a_client_error(slack, user, dm_channel, timestamp, signature):
    body = json.dumps(message_event(ABSORB_QUESTION, user, dm_channel)).encode()
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp.encode()}  # as curl sends it
    if signature:
        headers["X-Slack-Signature"] = signature
    code, reply = post(slack.url, body, headers)
    assert code == 401 and reply["ok"] is False and ("timestamp" in reply["error"] or "signature" in reply["error"])
