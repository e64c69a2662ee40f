"""The guided walkthrough (next / back / repeat / where am I) and the absorption reminder."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ReminderScheduled, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import kb, state_from, turn_from
from actions.knowledge import query
from actions.knowledge.query import Context
from actions.render import utter

REMINDER_INTENT = "EXTERNAL_absorbed"


def _position(tracker: Tracker) -> Optional[int]:
    value = tracker.get_slot("walkthrough_step")
    return None if value is None else int(value)


def _context(tracker: Tracker, time: Optional[str]) -> Context:
    return Context(profile=state_from(tracker).profile(), time=time)


def walk(dispatcher: CollectingDispatcher, tracker: Tracker, intent: Optional[str]) -> List[Dict[Text, Any]]:
    """Start, move, repeat, locate or stop the walkthrough; the position lives in `walkthrough_step`."""
    base, turn = kb(), turn_from(tracker)
    position = _position(tracker)
    time = turn.time or tracker.get_slot("walkthrough_time")
    if intent == "walkthrough_start":
        position, time = None, turn.time
    ctx = _context(tracker, time)
    if intent == "walkthrough_stop":
        utter(dispatcher, base, [query.walkthrough_stopped()])
        return [SlotSet("walkthrough_step", None)]
    if intent == "walkthrough_where":
        utter(dispatcher, base, [query.walkthrough_position(base, ctx, position)])
        return []
    if position is None:
        index = 0
    elif intent == "walkthrough_next":
        index = position + 1
    elif intent == "walkthrough_back":
        index = max(0, position - 1)
    else:  # repeat
        index = position
    utter(dispatcher, base, [query.walkthrough(base, ctx, index)])
    done = index >= query.walkthrough_length(base, time)
    return [SlotSet("walkthrough_step", None if done else float(index)), SlotSet("walkthrough_time", time),
            SlotSet("last_topic", "routine")]


class ActionWalkthrough(Action):
    def name(self) -> Text:
        return "action_walkthrough"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        return walk(dispatcher, tracker, turn_from(tracker).intent)


class ActionSetReminder(Action):
    """'Remind me when it's absorbed' / 'ping me in 10 minutes' -> a Rasa reminder."""

    def name(self) -> Text:
        return "action_set_reminder"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        base, turn = kb(), turn_from(tracker)
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
        ctx = _context(tracker, time)
        absorb = query.step_index(base, "absorb", time)
        position = _position(tracker)
        in_walkthrough = position is not None and absorb is not None and position <= absorb
        next_index = absorb + 1 if in_walkthrough else None
        utter(dispatcher, base, [query.reminder_fired(base, ctx, next_index)])
        return [SlotSet("walkthrough_step", float(next_index))] if next_index is not None else []
