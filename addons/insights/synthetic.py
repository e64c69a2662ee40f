"""Synthetic conversations written straight into a tracker store, in Rasa's own event format.

For the insights tests (known figures on SQLite and PostgreSQL alike) and ``make bench-insights`` (100,000
conversations, about 2 million events). Deterministic for a seed. Each conversation: a session start, a few
turns (a user message with its intent and entities, the action, the bot's answer carrying the feedback record
the actions attach, slot events), sometimes a profile, a walkthrough, a reminder, a rating with a comment.
"""
from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List, Optional, Tuple

import sqlalchemy as sa

from addons.insights.index import EVENTS

#: (text, intent, topic, aspect, entities, gap, safety, severity)
TURNS: List[Tuple[str, str, Optional[str], Optional[str], List[Tuple[str, str]], bool, List[str], Optional[str]]] = [
    ("how long should the serum absorb?", "ask_absorption", "absorption", "duration", [], False, [], None),
    ("how much serum do I use?", "ask_amount", "amount", "amount", [], False, [], None),
    ("can I use retinol after the serum?", "ask_ingredient", "ingredient", "order", [("ingredient", "retinoid")], False, [], None),
    ("vitamin c in the morning?", "ask_ingredient", "ingredient", "time", [("ingredient", "vitamin_c")], False, [], None),
    ("which moisturiser should I use?", "ask_product", "product", None, [("product", "moisturizer")], False, [], None),
    ("do I need sunscreen every day?", "ask_sunscreen", "sunscreen", "frequency", [("product", "sunscreen")], False, [], None),
    ("can I use it on my lips?", "ask_uncovered", "not_covered", "where", [], True, [], None),
    ("does it work with a derma roller?", "ask_uncovered", "not_covered", None, [], True, [], None),
    ("what's the shelf life once opened?", "ask_uncovered", "not_covered", None, [], True, [], None),
    ("it burns and my face is swelling", "report_reaction", "reaction", None, [], False, ["reaction"], "reaction"),
    ("I'm pregnant, is it ok?", "inform_condition", "routine", None, [], False, ["pregnancy"], None),
    ("asdf what about the moon", "nlu_fallback", None, None, [], False, [], None),
    ("do you ship to canada? email me at jo@example.com", "out_of_scope", None, None, [], False, [], None),
]
SECTIONS = {"absorption": "step_2_absorption", "amount": "step_2", "ingredient": "step_3", "product": "step_4",
            "sunscreen": "step_5", "not_covered": "not_in_protocol", "reaction": "safety_policy", "routine": "steps"}
PROFILE = [("skin_type", ["oily"]), ("skin_type", ["dry"]), ("skin_type", ["sensitive"]), ("skin_tone", "darker"),
           ("concern", ["hyperpigmentation"])]
COMMENTS = ["what if I only have two minutes", "nothing about pregnancy safety", "which brand of SPF?",
            "call me on +44 7700 900123 please"]
CHANNEL_PREFIX = {"widget": "socketio:", "slack": "slack:U", "rest": "rest-"}


def _event(sender: str, kind: str, ts: float, data: Dict[str, Any], intent: Optional[str] = None,
           action: Optional[str] = None) -> Dict[str, Any]:
    return {"sender_id": sender, "type_name": kind, "timestamp": ts, "intent_name": intent, "action_name": action,
            "data": json.dumps({"event": kind, "timestamp": ts, **data})}


def conversation(rng: random.Random, sender: str, start: float) -> List[Dict[str, Any]]:
    """One synthetic conversation's event rows."""
    ts = start
    rows = [_event(sender, "action", ts, {"name": "action_session_start"}, action="action_session_start"),
            _event(sender, "session_started", ts, {}),
            _event(sender, "action", ts, {"name": "action_listen"}, action="action_listen")]

    def step(seconds: float) -> float:
        nonlocal ts
        ts += seconds
        return ts

    if rng.random() < 0.4:
        slot, value = rng.choice(PROFILE)
        rows.append(_event(sender, "user", step(5), {"text": f"my skin is {value}", "parse_data": {
            "intent": {"name": "inform_profile", "confidence": 0.9}, "entities": []}}, intent="inform_profile"))
        rows.append(_event(sender, "slot", step(0.01), {"name": slot, "value": value}, action=slot))
        rows.append(_event(sender, "bot", step(0.2), {"text": "Got it.", "metadata": {}}))
    for _ in range(rng.randint(1, 5)):
        text, intent, topic, aspect, entities, gap, safety, severity = rng.choice(TURNS)
        rows.append(_event(sender, "user", step(rng.uniform(5, 60)), {"text": text, "parse_data": {
            "intent": {"name": intent, "confidence": 0.8},
            "entities": [{"entity": e, "value": v} for e, v in entities]}}, intent=intent))
        rows.append(_event(sender, "action", step(0.001), {"name": "action_answer"}, action="action_answer"))
        if rng.random() < 0.01:  # the action server was away: no answer stored
            continue
        answer_id = uuid.UUID(int=rng.getrandbits(128)).hex
        metadata = {} if topic is None else {"feedback": {
            "id": answer_id, "topic": topic, "topics": [topic], "aspect": aspect, "subject": "serum",
            "sections": [SECTIONS[topic]], "gap": gap, "safety": safety, "severity": severity}}
        rows.append(_event(sender, "bot", step(rng.uniform(0.05, 0.4)), {"text": f"(answer about {topic})",
                                                                          "metadata": metadata}))
        rows.append(_event(sender, "slot", step(0.001), {"name": "last_topic", "value": topic}, action="last_topic"))
        if topic and rng.random() < 0.15:
            rating = "up" if rng.random() < 0.7 else "down"
            record = {"id": answer_id, "rating": rating, "comment": None, "topic": topic,
                      "sections": [SECTIONS[topic]], "gap": gap}
            rows.append(_event(sender, "user", step(3), {"text": "/feedback", "parse_data": {
                "intent": {"name": "feedback", "confidence": 1.0}, "entities": []}}, intent="feedback"))
            rows.append(_event(sender, "slot", step(0.01), {"name": "feedback", "value": record}, action="feedback"))
            if rating == "down" and rng.random() < 0.5:
                rows.append(_event(sender, "slot", step(8), {"name": "feedback", "value": {
                    **record, "comment": rng.choice(COMMENTS)}}, action="feedback"))
        rows.append(_event(sender, "action", step(0.001), {"name": "action_listen"}, action="action_listen"))
    if rng.random() < 0.2:
        for index in range(rng.randint(1, 5)):
            rows.append(_event(sender, "slot", step(30), {"name": "walkthrough_step", "value": float(index)},
                               action="walkthrough_step"))
        if rng.random() < 0.3:
            rows.append(_event(sender, "action", step(1), {"name": "action_set_reminder"}, action="action_set_reminder"))
    return rows


def generate(conversations: int, days: int = 28, seed: int = 13,
             end: Optional[datetime] = None) -> Iterator[Dict[str, Any]]:
    """Event rows for ``conversations`` conversations spread over the ``days`` days before ``end``."""
    rng = random.Random(seed)
    end = end or datetime(2026, 11, 29, tzinfo=timezone.utc)
    first = (end - timedelta(days=days)).timestamp()
    for n in range(conversations):
        channel = rng.choices(list(CHANNEL_PREFIX), weights=[6, 3, 1])[0]
        sender = f"{CHANNEL_PREFIX[channel]}{seed}x{n:07d}"
        yield from conversation(rng, sender, first + rng.uniform(0, days * 86400 - 3600))


def write(engine: sa.engine.Engine, rows: Iterator[Dict[str, Any]], batch: int = 20_000) -> int:
    """Append ``rows`` to the tracker store's events table (created as Rasa creates it, if missing)."""
    EVENTS.metadata.create_all(engine)
    count, chunk = 0, []
    with engine.begin() as connection:
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                connection.execute(EVENTS.insert(), chunk)
                count, chunk = count + len(chunk), []
        if chunk:
            connection.execute(EVENTS.insert(), chunk)
            count += len(chunk)
    return count
