"""Answer feedback on the channels: the 👍/👎 under each protocol answer, and the ratings coming back.

The actions put a ``feedback`` record on every protocol answer (actions/feedback.py); Rasa hands it to the
output channel with the message. Here:

* **socket.io** (the widget): :class:`SocketIOOutput` sends the record's id and labels with the answer's last
  part (Rasa splits a reply at blank lines), and the action's acknowledgement as ``{"feedback_ack": ...}``;
  the widget sends a rating as ``/feedback`` with ``metadata.feedback`` (web/src/feedback.js).
* **Slack**: :func:`slack_blocks` adds a "Was this helpful?" line and 👍/👎 buttons (``action_id``
  ``feedback_up`` / ``feedback_down``) under the answer; :func:`on_slack_interaction` takes the clicks (and
  the "what was missing?" line typed after a 👎) and hands them to Rasa as ``/feedback``; the
  acknowledgement updates that Slack message in place (``chat.update``): the buttons give way to a thank-you,
  after a 👎 with a one-line input.

Nothing here decides what a rating rates: the action looks the answer up in the conversation by its id.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOOutput as RasaSocketIOOutput

from addons import guard

logger = logging.getLogger(__name__)

#: What a rating says to Rasa (the intent), with the rating in the message's metadata.
FEEDBACK_TEXT = "/feedback"
METADATA_KEY = "feedback"
ACK_KEY = "feedback_ack"
#: Slack: the prefix of every feedback element's action_id and block_id (other action_ids are not ours).
SLACK_PREFIX = "feedback"
COMMENT_ACTION = "feedback_comment"
MAX_COMMENT = 300


def public(record: Any) -> Optional[Dict[str, Any]]:
    """What a client needs of an answer's record: its id and the words around the buttons."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return None
    return {"id": record["id"], "labels": record.get("labels") or {}}


def feedback_message(sender: str, output: OutputChannel, channel: str, rating: Dict[str, Any],
                     metadata: Optional[Dict[str, Any]] = None) -> UserMessage:
    """The user message that carries a rating to Rasa."""
    return UserMessage(FEEDBACK_TEXT, output, sender, input_channel=channel,
                       metadata={**(metadata or {}), METADATA_KEY: rating})


# --------------------------------------------------------------------------- socket.io


class SocketIOOutput(RasaSocketIOOutput):
    """Rasa's socket.io output, with each answer's feedback id and labels on its last part and the
    acknowledgement of a rating as ``{"feedback_ack": ...}``."""

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send_parts(recipient_id, text, None, kwargs.get(METADATA_KEY))

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        await self._send_parts(recipient_id, text, buttons, kwargs.get(METADATA_KEY))

    async def _send_parts(self, recipient_id: Text, text: Text, buttons: Optional[List[Dict[Text, Any]]],
                          record: Any) -> None:
        parts: List[Dict[str, Any]] = [{"text": part} for part in text.strip().split("\n\n")]
        if buttons is not None:
            for part in parts:
                part["quick_replies"] = []
            parts[-1]["quick_replies"] = [{"content_type": "text", "title": b["title"], "payload": b["payload"]}
                                          for b in buttons]
        rated = public(record)
        if rated:
            parts[-1][METADATA_KEY] = rated
        for part in parts:
            await self._send_message(recipient_id, part)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        if ACK_KEY in json_message:
            await self._send_message(recipient_id, {ACK_KEY: json_message[ACK_KEY]})
        else:
            await super().send_custom_json(recipient_id, json_message, **kwargs)


# --------------------------------------------------------------------------- Slack Block Kit


def _plain(text: str) -> Dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def slack_blocks(record: Any) -> List[Dict[str, Any]]:
    """The "Was this helpful?" line and the 👍/👎 buttons for an answer's ``feedback`` record (none without one)."""
    rated = public(record)
    if not rated:
        return []
    labels, answer = rated["labels"], rated["id"]

    def button(rating: str, emoji: str) -> Dict[str, Any]:
        label = labels.get(rating) or rating
        return {"type": "button", "action_id": f"{SLACK_PREFIX}_{rating}", "text": _plain(emoji),
                "value": answer, "accessibility_label": label[:75]}

    return [{"type": "context", "block_id": f"{SLACK_PREFIX}_ask:{answer}",
             "elements": [{"type": "mrkdwn", "text": labels.get("ask") or " "}]},
            {"type": "actions", "block_id": f"{SLACK_PREFIX}:{answer}",
             "elements": [button("up", "👍"), button("down", "👎")]}]


def _ack_blocks(ack: Dict[str, Any]) -> List[Dict[str, Any]]:
    """What takes the buttons' place: the thank-you; after a 👎 without a comment, the one-line input."""
    blocks: List[Dict[str, Any]] = [{"type": "context", "block_id": f"{SLACK_PREFIX}_done:{ack['id']}",
                                     "elements": [{"type": "mrkdwn", "text": ack.get("text") or " "}]}]
    if ack.get("ask"):
        blocks.append({"type": "input", "block_id": f"{SLACK_PREFIX}_comment:{ack['id']}", "optional": True,
                       "dispatch_action": True, "label": _plain(ack["ask"][:2000]),
                       "element": {"type": "plain_text_input", "action_id": COMMENT_ACTION,
                                   "max_length": MAX_COMMENT,
                                   "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]}}})
    return blocks


def _answer_id(block_id: Any) -> Optional[str]:
    return block_id.split(":", 1)[1] if isinstance(block_id, str) and ":" in block_id else None


def replace_feedback_blocks(blocks: List[Dict[str, Any]], ack: Dict[str, Any]) -> List[Dict[str, Any]]:
    """``blocks`` of the rated Slack message with its feedback blocks for ``ack['id']`` replaced."""
    kept: List[Dict[str, Any]] = []
    placed = False
    for block in blocks:
        ours = isinstance(block, dict) and str(block.get("block_id", "")).startswith(SLACK_PREFIX) \
            and _answer_id(block.get("block_id")) == ack["id"]
        if not ours:
            kept.append(block)
        elif not placed:
            kept += _ack_blocks(ack)
            placed = True
    return kept if placed else kept + _ack_blocks(ack)


class SlackAckOutput(OutputChannel):
    """The output for a rating from Slack: the acknowledgement updates the rated message (``chat.update``);
    anything else (the "which answer?" text) goes to the conversation as usual."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    def __init__(self, inner: Any, channel: str, ts: Optional[str], blocks: List[Dict[str, Any]]) -> None:
        self.inner, self.channel, self.ts, self.blocks = inner, channel, ts, blocks

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.inner.send_text_message(recipient_id, text, **kwargs)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        ack = json_message.get(ACK_KEY)
        if not isinstance(ack, dict) or not self.ts:
            return
        self.blocks = replace_feedback_blocks(self.blocks, ack)
        try:
            await self.inner.client.chat_update(channel=self.channel, ts=self.ts, blocks=self.blocks,
                                                text=ack.get("text") or " ")
        except Exception as error:  # noqa: BLE001 — a rating kept, its thank-you not shown: log it
            logger.error("Slack chat.update for a feedback acknowledgement failed: %s", error)


def _slack_rating(action: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The rating one Slack interactive action carries, or None."""
    action_id = action.get("action_id")
    if action_id in (f"{SLACK_PREFIX}_up", f"{SLACK_PREFIX}_down") and isinstance(action.get("value"), str):
        return {"id": action["value"], "rating": action_id.rsplit("_", 1)[1]}
    if action_id == COMMENT_ACTION:
        answer = _answer_id(action.get("block_id"))
        value = action.get("value")
        if answer and isinstance(value, str) and value.strip():
            return {"id": answer, "comment": value[:MAX_COMMENT]}
    return None


def is_slack_feedback(body: Dict[str, Any]) -> bool:
    """Whether a Slack interactive payload is ours (its first action's action_id starts with ``feedback``)."""
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    return str(first.get("action_id", "")).startswith(SLACK_PREFIX)


def on_slack_interaction(channel: Any, body: Dict[str, Any], on_new_message: guard.OnNewMessage) -> Dict[str, Any]:
    """Hand a Slack feedback click (or comment) to Rasa in the background; what to answer Slack with."""
    rating = _slack_rating(body["actions"][0])
    user = (body.get("user") or {}).get("id")
    message = body.get("message") or {}
    where = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    if rating is None or not user or not where:
        return {"ok": True, "ignored": True}
    thread = message.get("thread_ts")
    output = SlackAckOutput(channel.get_output_channel(where, thread), where,
                            message.get("ts") or (body.get("container") or {}).get("message_ts"),
                            [b for b in message.get("blocks") or [] if isinstance(b, dict)])
    incoming = feedback_message(guard.sender_id(channel.name(), str(user)), output, channel.name(), rating,
                                {"out_channel": where, "thread_id": thread})
    task = asyncio.create_task(guard.answer(on_new_message, incoming))
    channel._tasks.add(task)
    task.add_done_callback(channel._tasks.discard)
    return {"ok": True}
