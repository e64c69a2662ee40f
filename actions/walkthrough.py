"""The guided walkthrough (next / back / repeat / where am I) and the absorption reminder."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ReminderScheduled, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import kb, question_from, turn_from
from actions.dialogue import context_for, respond, walk, walkthrough_position
from actions.knowledge import query
from actions.knowledge import text as tx
from actions.conversation import small_talk
from actions.knowledge.resolve import SERUM_ASPECTS, WALKTHROUGH_TOPICS
from actions.render import utter

REMINDER_INTENT = "EXTERNAL_absorbed"
#: Below this, "where am I?" outside a walkthrough is a guess: the message is small talk, not about one.
WHERE_SURE = 0.8


#: A walkthrough guess gives way when the message names one of these ("retinol??", "it burns").
INTERRUPTING = ("symptom", "ingredient", "medical", "life_stage", "medication", "body_area")


def asks_something(question, turn) -> bool:
    """A question of its own during a walkthrough: a step by number, a gap, a verdict, an order, or a
    question naming an ingredient ("done, can I put my retinol on now?")."""
    f = question.frame
    if f is None or question.topic in WALKTHROUGH_TOPICS:
        return False
    asking = f.act == "ask" or "?" in turn.text or f.aspect is not None  # "how long again"
    return bool(f.subject_kind in ("step", "steps") or f.gap or f.verdict or f.order
                or (asking and (turn.has("ingredient") or question.topic in SERUM_ASPECTS.values())))


class ActionWalkthrough(Action):
    def name(self) -> Text:
        return "action_walkthrough"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        turn = turn_from(tracker)
        question = question_from(tracker, turn)
        if question.triage.severity or any(k.endswith("_remembered") for k in question.safety):
            return respond(dispatcher, tracker, question)  # safety before the next step
        if asks_something(question, turn):
            return respond(dispatcher, tracker, question)  # "what was step 3 again?" doesn't move it on
        if turn.intent == "walkthrough_where" and walkthrough_position(tracker) is None:
            # no walkthrough to place: "where would I find that?" after a gap answers that; an unsure guess
            # ("lol whats the weather like where u are") is small talk
            if question.safety or (turn.confidence or 1.0) < WHERE_SURE:
                turn.intent = "out_of_scope"
                return small_talk(dispatcher, tracker, turn)
        if turn.has(*INTERRUPTING) and (turn.confidence or 1.0) < 0.8:
            turn.intent = None
            return respond(dispatcher, tracker, question_from(tracker, turn))
        return walk(dispatcher, tracker, turn.intent)


class ActionSetReminder(Action):
    """'Remind me when it's absorbed' / 'ping me in 10 minutes' -> a Rasa reminder."""

    def name(self) -> Text:
        return "action_set_reminder"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        base, turn = kb(), turn_from(tracker)
        question = question_from(tracker, turn)
        if question.triage.severity or not tx.has(turn.text, base.understanding.reminder):
            # "it calmed down after 3 days, can I start again?" names a time but asks no reminder: answer it
            turn.intent = None
            return respond(dispatcher, tracker, question_from(tracker, turn))
        seconds = query.reminder_delay(base, turn.text)
        utter(dispatcher, base, [query.reminder_set(base, seconds)])
        return [ReminderScheduled(REMINDER_INTENT, trigger_date_time=datetime.now() + timedelta(seconds=seconds),
                                  name=f"serum_absorbed:{tracker.sender_id}", kill_on_user_message=False)]


class ActionAbsorbed(Action):
    """The reminder fired: time for the step after absorption."""

    def name(self) -> Text:
        return "action_absorbed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        base = kb()
        time = tracker.get_slot("walkthrough_time")
        ctx = context_for(tracker, time)
        absorb = query.step_index(base, "absorb", time)
        position = walkthrough_position(tracker)
        in_walkthrough = position is not None and absorb is not None and position <= absorb
        next_index = absorb + 1 if in_walkthrough else None
        utter(dispatcher, base, [query.reminder_fired(base, ctx, next_index)])
        return [SlotSet("walkthrough_step", float(next_index))] if next_index is not None else []
