"""Long conversations: the recent-turn trackers of addons/tracker_store.py change nothing Rasa decides.

The same conversation through Rasa's own processor twice — once over Rasa's ``SQLTrackerStore``, once over
``SQLiteTrackerStore`` keeping only 3 turns, so its window slides on every message — with a real action
server: every reply, every stored row (policy, confidence, slots, bot messages) and the final slots are
the same. Plus Rasa's own reminder and session-start rules on a tracker whose early turns left the window.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import sqlalchemy as sa
from rasa.core.actions.action import ActionSessionStart, RemoteAction
from rasa.core.agent import Agent
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, BotUttered, ReminderScheduled, SessionStarted, SlotSet,
                                     UserUttered, UserUtteranceReverted)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from addons.tracker_store import RecentTracker, SQLiteTrackerStore
from scripts.stack import MODEL, ROOT, Stack
from tests.conftest import make_stack

#: Profile, follow-ups that lean on the last topic, a walkthrough, a forgotten profile, Rasa's own `/back`
#: (undoes two turns) and `/restart`, a new session that carries the slots over — each several turns apart.
CONVERSATION = [
    "hi there", "I have oily skin and a darker skin tone", "how do I use the serum?",
    "how long should it absorb before the next step?", "can I use retinol with it?", "what about at night?",
    "what sunscreen should I use?", "walk me through it", "next", "next step", "what was step 2 again?",
    "next", "stop the walkthrough", "I also have some redness", "what should I avoid?", "/back",
    "what about niacinamide?", "should it go before or after my moisturiser?", "how often should I use it?",
    "do I need to patch test?", "I'm pregnant", "can I still use the serum?", "thanks!",
    "actually my skin is dry, not oily", "which cleanser should I use?", "how much serum?", "/session_start",
    "what's the routine for me?", "forget my profile", "what cleanser should I use?", "my skin is sensitive",
    "what about vitamin c?", "walk me through the evening routine", "next", "/restart",
    "what cleanser should I use?", "I have combination skin", "can I use AHA?", "bye",
]
#: Fields of a stored event that differ between any two runs (``id``: an answer's feedback id, a fresh uuid).
VOLATILE = {"timestamp", "message_id", "id"}


def _row(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _row(v) for k, v in data.items() if k not in VOLATILE}
    return [_row(v) for v in data] if isinstance(data, list) else data


def _stored(store: SQLTrackerStore, sender: str) -> List[Tuple[str, Dict[str, Any]]]:
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                                  {"s": sender})
        return [(kind, _row(json.loads(data))) for kind, data in rows]


@pytest.fixture(scope="module")
def action_server(tmp_path_factory) -> Iterator[Stack]:
    stack = make_stack(tmp_path_factory.mktemp("long-actions"))
    stack.start_actions()
    try:
        stack.wait_ready(120)
        yield stack
    finally:
        stack.stop()


async def _talk(store: SQLTrackerStore, action_server: Stack, sender: str) -> Tuple[list, dict]:
    agent = Agent.load(str(MODEL), tracker_store=store,
                       action_endpoint=EndpointConfig(f"http://127.0.0.1:{action_server.action_port}/webhook"))
    replies = [await agent.handle_text(text, sender_id=sender) for text in CONVERSATION]
    tracker = await agent.tracker_store.retrieve(sender)
    return replies, tracker.current_slot_values()


@pytest.mark.e2e
async def test_a_long_conversation_gets_the_same_replies_rows_and_slots_as_over_rasas_store(tmp_path, action_server):
    domain = Domain.load(str(ROOT / "domain.yml"))
    rasas = SQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "rasa.db"))
    ours = SQLiteTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "ours.db"), recent_turns=3)
    expected_replies, expected_slots = await _talk(rasas, action_server, "long")
    replies, slots = await _talk(ours, action_server, "long")

    for text, want, got in zip(CONVERSATION, expected_replies, replies):
        assert got == want, text
    assert slots == expected_slots and slots.get("skin_type") == ["combination"]
    assert sum(isinstance(e, UserUttered) for e in (await ours.retrieve("long")).events) <= 4  # the window slid

    expected_rows, rows = _stored(rasas, "long"), _stored(ours, "long")
    assert [kind for kind, _ in rows].count("user") == len(CONVERSATION)
    # A new session carries each slot's latest value over once, where Rasa repeats every SlotSet of the
    # session in order (same resulting slots, checked above): compare the rest row by row.
    start = next(i for i, (kind, _) in enumerate(expected_rows) if kind == "session_started" and i > 5)
    after = lambda rows_, i: next(j for j in range(i, len(rows_)) if rows_[j][0] == "action")  # noqa: E731
    ours_start = next(i for i, (kind, _) in enumerate(rows) if kind == "session_started" and i > 5)
    assert rows[:ours_start + 1] == expected_rows[:start + 1]
    assert rows[after(rows, ours_start):] == expected_rows[after(expected_rows, start):]
    carried = {row["name"]: row["value"] for kind, row in rows[ours_start:after(rows, ours_start)] if kind == "slot"}
    assert carried == {row["name"]: row["value"] for kind, row in expected_rows[start:after(expected_rows, start)]
                       if kind == "slot"}


# ----------------------------------------------------------------------------- Rasa's rules on an old window

def _turns(n: int, first: int = 0) -> List:
    events = []
    for i in range(first, first + n):
        events += [ActionExecuted("action_listen"), UserUttered(f"turn {i}", {"name": "inform_profile"}),
                   SlotSet("last_topic", f"topic {i}"), ActionExecuted("action_answer"), BotUttered(f"answer {i}")]
    return events + [ActionExecuted("action_listen")]


def _both(domain: Domain, events: List) -> Tuple[DialogueStateTracker, RecentTracker]:
    stock = DialogueStateTracker.from_events("u", events, domain.slots)
    recent = RecentTracker.from_stored("u", [e.as_dict() for e in events], domain.slots, turns=3)
    return stock, recent


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def test_a_reminder_set_long_ago_is_still_valid(domain):
    reminder = ReminderScheduled("EXTERNAL_absorbed", trigger_date_time=datetime.now(),
                                 name="serum_absorbed:u", kill_on_user_message=False)
    stock, recent = _both(domain, _turns(2) + [reminder] + _turns(8, first=2))
    assert len(recent.events) < len(stock.events) and reminder not in recent.events
    assert MessageProcessor._is_reminder_still_valid(stock, reminder)
    assert MessageProcessor._is_reminder_still_valid(recent, reminder)
    assert MessageProcessor._has_message_after_reminder(recent, reminder)


def test_a_new_session_carries_over_slots_set_before_the_window(domain):
    events = [SlotSet("skin_type", ["dry"]), SlotSet("skin_tone", "darker")] + _turns(6) + [SlotSet("skin_type", ["oily"])]
    stock, recent = _both(domain, events + _turns(6, first=6))
    carried = lambda tracker: {e.key: e.value for e in ActionSessionStart._slot_set_events_from_tracker(tracker)}  # noqa: E731
    assert carried(recent) == carried(stock)
    assert carried(recent)["skin_type"] == ["oily"] and carried(recent)["skin_tone"] == "darker"


def test_copies_undo_and_policy_states_match_the_whole_tracker(domain):
    events = [SlotSet("skin_type", ["dry"])] + _turns(9) + [UserUttered("undo me", {"name": "followup"}),
                                                            SlotSet("skin_type", ["oily"]), UserUtteranceReverted()]
    stock, recent = _both(domain, events)
    assert recent.current_slot_values() == stock.current_slot_values()
    assert recent.get_slot("skin_type") == ["dry"]  # the reverted turn's slot is undone, the old one kept
    assert recent.copy().current_slot_values() == stock.copy().current_slot_values()
    window = len(recent.past_states(domain))
    assert recent.past_states(domain) == stock.past_states(domain)[-window:]
    assert recent.current_state()["latest_message"] == stock.current_state()["latest_message"]


def test_a_session_start_in_the_window_starts_afresh(domain):
    events = [SlotSet("skin_type", ["dry"])] + _turns(8) + [ActionExecuted("action_session_start"), SessionStarted(),
                                                            ActionExecuted("action_listen")]
    stock, recent = _both(domain, events)
    assert recent.get_slot("skin_type") is None and recent.copy().get_slot("skin_type") is None
    assert recent.applied_events() == stock.applied_events()


def test_the_action_server_is_sent_the_recent_turns_with_every_slot(domain):
    events = [SlotSet("skin_type", ["dry"])] + _turns(40) + [UserUttered("and now?", {"name": "followup"})]
    stock, recent = _both(domain, events)
    action = RemoteAction("action_answer", None)
    sent, whole = (action._action_call_format(t.copy(), domain)["tracker"] for t in (recent, stock))
    assert len(whole["events"]) == len(events) and len(sent["events"]) < 20
    assert sent["events"] == whole["events"][-len(sent["events"]):]
    assert {k: v for k, v in sent.items() if k != "events"} == {k: v for k, v in whole.items() if k != "events"}
    assert sent["slots"]["skin_type"] == ["dry"] and sent["latest_message"]["text"] == "and now?"
