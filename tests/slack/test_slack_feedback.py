"""Answer feedback over Slack: 👍/👎 Block Kit buttons under an answer, signed clicks, the comment, the store."""
from __future__ import annotations

import time
from typing import Any, Dict, List

import pytest

from actions.knowledge import load_knowledge
from tests.feedback.store import wait_for_records
from tests.slack.fake_slack import BOT_USER, new_id

pytestmark = pytest.mark.e2e

QUESTION = "how long should the serum absorb?"
PHRASES = load_knowledge().phrases


def feedback_buttons(post: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [e for b in post.get("blocks", []) if b["type"] == "actions" and b.get("block_id", "").startswith("feedback:")
            for e in b["elements"]]


def interaction(user: str, channel: str, message: Dict[str, Any], action: Dict[str, Any]) -> Dict[str, Any]:
    """A block_actions payload as Slack sends it for an element of ``message`` (the bot's post, with its ts)."""
    return {"type": "block_actions", "user": {"id": user, "team_id": "T0TEAM"}, "team": {"id": "T0TEAM"},
            "channel": {"id": channel}, "container": {"type": "message", "channel_id": channel,
                                                       "message_ts": message["ts"]},
            "message": {"type": "message", "user": BOT_USER, **message}, "trigger_id": "1.2.3",
            "response_url": "http://127.0.0.1:9/unused", "actions": [{**action, "action_ts": f"{time.time():.6f}"}]}


def wait_for_update(slack, channel: str, contains: str, timeout: float = 30.0) -> Dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        updates = [c.body for c in slack.slack.calls if c.method == "chat.update" and c.body.get("channel") == channel]
        found = next((u for u in updates if contains in str(u.get("blocks"))), None)
        if found:
            return found
        assert time.monotonic() < deadline, f"no chat.update with {contains!r} in {channel}: {updates}"
        time.sleep(0.1)


def as_blocks(value: Any) -> List[Dict[str, Any]]:
    import json
    return json.loads(value) if isinstance(value, str) else value


def test_a_thumbs_down_and_its_comment_are_stored_with_the_answer_they_rate(slack, slack_stack, user, dm_channel):
    assert slack.dm(QUESTION, user, dm_channel)[0] == 200
    answer = slack.slack.wait_for_post(dm_channel, "5–15 minutes")
    up, down = feedback_buttons(answer)
    assert (up["text"]["text"], up["accessibility_label"]) == ("👍", PHRASES["feedback_up"].text)
    assert (down["text"]["text"], down["accessibility_label"]) == ("👎", PHRASES["feedback_down"].text)
    assert PHRASES["feedback_ask"].text in str(answer["blocks"])
    assert up["value"] == down["value"]  # the answer's id
    answer_id = down["value"]

    message = {"ts": "1700000000.000300", "text": answer["text"], "blocks": answer["blocks"]}
    status, reply = slack.click(interaction(user, dm_channel, message, {
        "type": "button", "action_id": "feedback_down", "block_id": f"feedback:{answer_id}", "value": answer_id}))
    assert (status, reply) == (200, {"ok": True})

    update = wait_for_update(slack, dm_channel, PHRASES["feedback_thanks"].text)
    blocks = as_blocks(update["blocks"])
    assert update["ts"] == message["ts"]
    assert blocks[0] == answer["blocks"][0]  # the answer itself stays
    assert not [b for b in blocks if b.get("block_id", "").startswith("feedback:")]  # the buttons gave way
    [comment_box] = [b for b in blocks if b["type"] == "input"]
    assert comment_box["dispatch_action"] is True
    assert comment_box["label"]["text"] == PHRASES["feedback_missing"].text

    status, _ = slack.click(interaction(user, dm_channel, {**message, "blocks": blocks}, {
        "type": "plain_text_input", "action_id": "feedback_comment", "block_id": comment_box["block_id"],
        "value": "what to do if I only have 2 minutes"}))
    assert status == 200
    done = as_blocks(wait_for_update(slack, dm_channel, PHRASES["feedback_noted"].text)["blocks"])
    assert not [b for b in done if b["type"] == "input"]

    db = slack_stack.workdir / "tracker.db"
    records = wait_for_records(db, lambda r: len(r) == 2, f"slack:{user}")
    first, second = records
    assert (first["id"], first["rating"], first["comment"]) == (answer_id, "down", None)
    assert (second["rating"], second["comment"]) == ("down", "what to do if I only have 2 minutes")
    for record in records:  # what it rates, from the answer the assistant sent
        assert (record["topic"], record["aspect"], record["subject"]) == ("absorption", "duration", "serum")
        assert record["sections"][0] == "step_2_absorption"  # the protocol section the answer cites first
        assert record["gap"] is False


def test_a_thumbs_up_on_an_answer_this_user_was_never_sent_is_not_stored(slack, slack_stack, user, dm_channel):
    forged = "0" * 32
    message = {"ts": "1700000000.000400", "text": "…", "blocks": []}
    status, _ = slack.click(interaction(user, dm_channel, message, {
        "type": "button", "action_id": "feedback_up", "block_id": f"feedback:{forged}", "value": forged}))
    assert status == 200
    said = slack.slack.wait_for_post(dm_channel, PHRASES["feedback_unknown"].text.split(".")[0])
    assert "👍" in said["text"]
    assert slack.settle(user, dm_channel)  # answered, and nothing more
    from tests.feedback.store import feedback_records
    assert feedback_records(slack_stack.workdir / "tracker.db", f"slack:{user}") == []


@pytest.mark.parametrize("action", [
    {"type": "button", "action_id": "feedback_up"},  # no value
    {"type": "plain_text_input", "action_id": "feedback_comment", "block_id": "nothing", "value": "hi"},
    {"type": "button", "action_id": "feedback_down", "value": ["not", "text"]},
], ids=["no-value", "no-answer-id", "not-text"])
def test_a_malformed_feedback_click_is_acknowledged_and_ignored(slack, user, dm_channel, action):
    message = {"ts": "1700000000.000500", "text": "…"}
    status, reply = slack.click(interaction(user, dm_channel, message, action))
    assert (status, reply) == (200, {"ok": True, "ignored": True})
