"""Reading the tracker into the query layer's terms (the only place that knows slot names)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.knowledge import KnowledgeBase, load_knowledge
from actions.knowledge.query import Answer
from actions.knowledge.resolve import Question, State, Turn, group_entities, resolve

PROFILE_SLOTS = ("skin_type", "skin_tone", "concern", "life_stage", "medication", "medical", "ingredient", "product",
                 "reaction", "procedure")
#: Where each condition is remembered (the slots fill from role-less entities; a denial clears them here).
CONDITION_SLOTS = {"pregnancy": "life_stage", "minor": "life_stage", "prescription": "medication",
                   "condition": "medical"}


def kb() -> KnowledgeBase:
    return load_knowledge()


def _list(value: Any) -> List[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value]) if v]


def turn_from(tracker: Tracker) -> Turn:
    latest: Dict[str, Any] = tracker.latest_message or {}
    intent = (latest.get("intent") or {}).get("name")
    confidence = (latest.get("intent") or {}).get("confidence")
    entities = latest.get("entities") or []
    return Turn(intent=intent, text=latest.get("text") or "", entities=group_entities(entities),
                texts=group_entities([{"entity": e.get("entity"), "value": _words(latest, e), "role": e.get("role")}
                                      for e in entities]),
                confidence=confidence if isinstance(confidence, (int, float)) else None, found=list(entities))


def _words(message: Dict[str, Any], entity: Dict[str, Any]) -> Optional[str]:
    text, start, end = message.get("text") or "", entity.get("start"), entity.get("end")
    return text[start:end] if isinstance(start, int) and isinstance(end, int) else None


def state_from(tracker: Tracker) -> State:
    slot = tracker.get_slot
    conditions = [c for c in (slot("life_stage"), slot("medication")) if c]
    if slot("medical"):
        conditions.append("condition")
    return State(
        skin_types=_list(slot("skin_type")),
        skin_tone=slot("skin_tone"),
        concerns=_list(slot("concern")),
        conditions=conditions,
        ingredients=_list(slot("ingredient")),
        product=slot("product"),
        last_topic=slot("last_topic"),
        last_time=slot("last_time"),
        pending_topic=slot("pending_topic"),
        walkthrough_step=None if slot("walkthrough_step") is None else int(slot("walkthrough_step")),
        walkthrough_time=slot("walkthrough_time"),
        reaction=slot("reaction"),
        last_step=slot("last_step"),
        last_gap=slot("last_gap"),
        procedure=bool(slot("procedure")),
    )


def question_from(tracker: Tracker, turn: Optional[Turn] = None, state: Optional[State] = None) -> Question:
    """What this turn asks, resolved against the conversation so far (or against ``state``)."""
    base = kb()
    return resolve(turn or turn_from(tracker), state or state_from(tracker), base.question_cues, base)


def _forget_denied(facts, tracker: Tracker) -> List[Dict[str, Any]]:
    """"I don't have melasma", "my skin isn't oily any more": drop what was remembered of it."""
    events = []
    stated = {(entity, value) for entity, value, role in facts if role is None}
    for entity, value, role in facts:
        if role != "not" or entity not in ("skin_type", "concern", "skin_tone") or (entity, value) in stated:
            continue
        current = tracker.get_slot(entity)
        if isinstance(current, list) and value in current:
            events.append(SlotSet(entity, [v for v in current if v != value]))
        elif current == value:
            events.append(SlotSet(entity, None))
    return events


#: The step an answer stands at, for "and then?" after it.
STEP_OF_TOPIC = {"ingredient": "treatments", "absorption": "absorb"}


def remember(answer: Optional[Answer], time: Optional[str], question: Optional[Question] = None,
             tracker: Optional[Tracker] = None) -> List[Dict[str, Any]]:
    """Events that record what was just answered, for follow-ups, and what triage learnt: a reaction gates
    later advice; a denied or past condition ("I'm not pregnant", "I stopped accutane") is forgotten."""
    events: List[Dict[str, Any]] = []
    if question is not None:
        named = [k.partition(":")[2] for k in question.safety if k.startswith("gap:")]
        if tracker is None or named or tracker.get_slot("last_gap"):
            events.append(SlotSet("last_gap", named[0] if named else None))
        tri = question.triage
        for condition in tri.denied():
            slot = CONDITION_SLOTS[condition]
            holds = tracker is not None and tracker.get_slot(slot) not in (None, condition, "condition")
            if not holds and condition not in tri.stated():
                events.append(SlotSet(slot, None))
        if tri.cleared:
            events.append(SlotSet("reaction", None))
        # the doctor okayed it ("she said it's fine"): the referral was followed, and is not given again
        events += [SlotSet(slot, None) for slot in dict.fromkeys(CONDITION_SLOTS[c] for c in question.okayed)]
        if tri.procedure:
            events.append(SlotSet("procedure", True))
        if question.frame is not None and question.frame.forget:
            events += [SlotSet(name, None) for name in PROFILE_SLOTS if name != "reaction"]
        if question.frame is not None and tracker is not None:
            events += _forget_denied(question.frame.facts, tracker)
        if question.frame is not None and question.frame.corrects:  # "actually it's oily": only that, from now on
            events.append(SlotSet("skin_type", [question.frame.corrects]))
        if tri.severity in ("emergency", "reaction"):
            earlier = tracker.get_slot("reaction") if tracker is not None else None
            events.append(SlotSet("reaction", "emergency" if "emergency" in (earlier, tri.severity) else "reaction"))
    if answer is None:
        remembered = question.remembers if question is not None else None
        return events + ([SlotSet("last_topic", remembered)] if remembered else [])
    step = question.context.step if question is not None and answer.topic == "step" else None
    if question is not None and answer.topic in STEP_OF_TOPIC:
        # "and then?" after where vitamin C goes, or after the wait: the walkthrough from the step after it
        step = STEP_OF_TOPIC[answer.topic]
    if question is not None and answer.topic == "product" and question.context.product not in (None, "serum"):
        # "which moisturiser after the serum?": the moisturiser is what was answered (the slot took the last named)
        events.append(SlotSet("product", question.context.product))
    return events + [SlotSet("last_topic", answer.topic), SlotSet("last_time", time),
                     SlotSet("pending_topic", answer.topic if answer.asks_profile else None)] + (
                         [SlotSet("last_step", step)] if step else [])
