"""Answer feedback: what each protocol answer is (so a 👍/👎 can say what it rates), and the action storing a rating.

Every protocol answer the actions send carries a ``feedback`` record in its message (Rasa keeps it in the
``BotUttered`` event's metadata, the socket.io and Slack channels pass it on to the widget and to Block Kit):
an id of its own, the topic and aspect it answers, the protocol sections it draws on, whether it is an honest
gap ("the protocol doesn't cover this"), and the words the channels show around the 👍/👎 — all from the
knowledge base.

A rating comes back as the user message ``/feedback`` with ``{"feedback": {"id": ..., "rating": "up"|"down",
"comment": ...}}`` in its metadata (the widget's socket.io ``metadata``, Slack's interactive payload, addons/feedback.py).
:class:`ActionFeedback` looks the rated answer up in the conversation by its id — what it rates is taken from
the answer the assistant sent, never from the client — and stores one self-contained record in the
``feedback`` slot (a ``slot`` event in the tracker store, which the insights page reads). The reply is a small
JSON acknowledgement the channels show in place of the buttons, never a chat bubble of its own.
"""
from __future__ import annotations

import uuid
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import KnowledgeBase, load_knowledge
from actions.knowledge.query import Answer, say

#: The slot holding the last rating; each rating is one ``slot`` event, so the tracker keeps them all.
SLOT = "feedback"
RATINGS = ("up", "down")
#: The longest "what was missing?" comment kept (one line).
MAX_COMMENT = 300
#: Sources that are no protocol section: an honest gap, the safety policy.
GAP_SOURCE = "not_in_protocol"


def rated(kb: KnowledgeBase, answers: List[Answer], question: Any = None) -> Dict[str, Any]:
    """The ``feedback`` record of a reply made of ``answers`` (``question``: the resolved question, if any)."""
    frame = getattr(question, "frame", None)
    sections: List[str] = []
    for answer in answers:
        sections += [s for s in answer.sources if s not in sections]
    topics = [a.topic for a in answers]
    main = getattr(question, "topic", None) or (topics[-1] if topics else None)
    return {
        "id": uuid.uuid4().hex,
        "topic": main,
        "topics": topics,
        "aspect": getattr(frame, "aspect", None),
        "subject": getattr(frame, "subject", None),
        "sections": sections,
        "gap": GAP_SOURCE in sections or "not_covered" in topics,
        # what safety decided: escalations (a reaction, a referral for pregnancy …) and the severity triage read
        "safety": [kind for kind in getattr(question, "safety", None) or [] if ":" not in kind],
        "severity": getattr(getattr(question, "triage", None), "severity", None),
        "labels": {name: say(kb, f"feedback_{name}") for name in ("ask", "up", "down", "missing", "send")},
    }


def _rated_answer(tracker: Tracker, answer_id: str) -> Optional[Dict[str, Any]]:
    """The ``feedback`` record of the answer ``answer_id`` this conversation was sent, if any."""
    for event in reversed(tracker.events):
        record = (event.get("metadata") or {}).get(SLOT) if event.get("event") == "bot" else None
        if isinstance(record, dict) and record.get("id") == answer_id:
            return record
    return None


def _earlier_rating(tracker: Tracker, answer_id: str) -> Optional[str]:
    for event in reversed(tracker.events):
        value = event.get("value") if event.get("event") == "slot" and event.get("name") == SLOT else None
        if isinstance(value, dict) and value.get("id") == answer_id:
            return value.get("rating")
    return None


def one_line(text: Any) -> Optional[str]:
    """A comment as one line of at most :data:`MAX_COMMENT` characters, or None when there is none."""
    if not isinstance(text, str):
        return None
    line = " ".join(text.split())[:MAX_COMMENT].strip()
    return line or None


class ActionFeedback(Action):
    """Store a 👍/👎 (and the optional "what was missing?") with the answer it rates."""

    def name(self) -> Text:
        return "action_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        kb = load_knowledge()
        sent = ((tracker.latest_message or {}).get("metadata") or {}).get(SLOT)
        sent = sent if isinstance(sent, dict) else {}
        answer_id = sent.get("id") if isinstance(sent.get("id"), str) else None
        answer = _rated_answer(tracker, answer_id) if answer_id else None
        comment = one_line(sent.get("comment"))
        rating = sent.get("rating") if sent.get("rating") in RATINGS else None
        rating = rating or (_earlier_rating(tracker, answer_id) if answer else None) or ("down" if comment else None)
        if answer is None or rating is None:
            dispatcher.utter_message(text=say(kb, "feedback_unknown"))
            return []
        record = {"id": answer_id, "rating": rating, "comment": comment,
                  **{k: answer.get(k) for k in ("topic", "topics", "aspect", "subject", "sections", "gap")}}
        ack = {"id": answer_id, "rating": rating, "commented": bool(comment),
               "text": say(kb, "feedback_noted" if comment else "feedback_thanks")}
        if rating == "down" and not comment:
            ack["ask"] = say(kb, "feedback_missing")
            ack["send"] = say(kb, "feedback_send")
        dispatcher.utter_message(json_message={"feedback_ack": ack})
        return [SlotSet(SLOT, record)]
