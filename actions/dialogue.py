"""The two ways a turn is answered: a protocol answer (`respond`) or a walkthrough move (`walk`).

Actions in protocol.py, conversation.py and walkthrough.py call these; each may hand over to the other
("ok and after that?" during a walkthrough, "retinol??" guessed as a walkthrough step).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import kb, remember, state_from, turn_from
from actions.knowledge import query
from actions.knowledge.query import Context
from actions.knowledge.reply import compose
from actions.knowledge.resolve import WALKTHROUGH_TOPICS, Question, next_step
from actions.render import utter


def respond(dispatcher: CollectingDispatcher, tracker: Tracker, question: Question) -> List[Dict[Text, Any]]:
    """Safety first, then the answer for this profile and context; events that remember it."""
    if question.topic in WALKTHROUGH_TOPICS:
        return walk(dispatcher, tracker, question.topic)
    base = kb()
    answers, main = compose(base, question)
    utter(dispatcher, base, answers, question)
    return remember(main, question.context.time, question, tracker)


def walkthrough_position(tracker: Tracker) -> Optional[int]:
    value = tracker.get_slot("walkthrough_step")
    return None if value is None else int(value)


def context_for(tracker: Tracker, time: Optional[str]) -> Context:
    state = state_from(tracker)  # the actives the user said they use: step 3 names them
    return Context(profile=state.profile(), time=time, ingredients=tuple(state.ingredients))


def walk(dispatcher: CollectingDispatcher, tracker: Tracker, intent: Optional[str]) -> List[Dict[Text, Any]]:
    """Start, move, repeat, locate or stop the walkthrough; the position lives in `walkthrough_step`."""
    base, turn = kb(), turn_from(tracker)
    position = walkthrough_position(tracker)
    time = turn.time or tracker.get_slot("walkthrough_time")
    if intent == "walkthrough_start":
        position, time = None, turn.time
    ctx = context_for(tracker, time)
    if intent == "walkthrough_stop":
        utter(dispatcher, base, [query.walkthrough_stopped(base)])
        return [SlotSet("walkthrough_step", None)]
    if intent == "walkthrough_where":
        utter(dispatcher, base, [query.walkthrough_position(base, ctx, position)])
        return []
    if position is None:
        # "ok and then?" right after one step was explained: the walkthrough from the step after it
        last = tracker.get_slot("last_step") if intent == "walkthrough_next" else None
        following = query.step_index(base, next_step(base, last), time) if last else 0
        index = query.walkthrough_length(base, time) if following is None else following
        if intent == "walkthrough_next":  # "ok serum's on, now what": from the stage after the one done
            index = query.stage_after_done(base, ctx, index, turn.text)
    elif intent == "walkthrough_next":
        index = query.stage_after_skip(base, ctx, position, turn.text)  # "skip step 3, next": step 4
        # "done, it's absorbed" at the wait: the next step; "ok moisturised" at the serum: sunscreen
        index = query.stage_after_done(base, ctx, index, turn.text)
    elif intent == "walkthrough_back":
        index = max(0, position - 1)
    else:  # repeat
        index = position
    utter(dispatcher, base, [query.walkthrough(base, ctx, index)])
    done = index >= query.walkthrough_length(base, time)
    return [SlotSet("walkthrough_step", None if done else float(index)), SlotSet("walkthrough_time", time),
            SlotSet("last_topic", "routine")]
