"""The SQLite tracker store: what it stores is exactly what Rasa's own SQL store stores, and what it returns
is the same conversation state, holding the latest turns (tests/reliability/test_long_conversations.py
checks Rasa's decisions over it).

Real SQLite files and Rasa's real ``SQLTrackerStore`` as the reference; no servers.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from addons.tracker_store import RecentTracker, SQLiteTrackerStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def _turn(text: str, skin_type: str) -> List[Event]:
    return [UserUttered(text, {"name": "inform_profile", "confidence": 0.9}),
            SlotSet("skin_type", [skin_type]), ActionExecuted("action_answer"),
            BotUttered(f"Got it — {skin_type}"), ActionExecuted("action_listen")]


async def _say(store, sender: str, events: List[Event]) -> DialogueStateTracker:
    tracker = await store.retrieve(sender) or DialogueStateTracker(sender, store.domain.slots)
    for event in events:
        tracker.update(event)
    await store.save(tracker)
    return tracker


def _dicts(tracker: DialogueStateTracker) -> list:
    return [event.as_dict() for event in tracker.events]


async def test_a_conversation_reads_back_exactly_as_rasas_store_reads_it(tmp_path, domain):
    db = str(tmp_path / "t.db")
    store = SQLiteTrackerStore(domain=domain, db=db)
    for n, skin in enumerate(["dry", "oily", "sensitive"]):
        await _say(store, "u1", _turn(f"turn {n}", skin))
    ours, rasas = await store.retrieve("u1"), await SQLTrackerStore(domain=domain, db=db).retrieve("u1")
    assert _dicts(ours) == _dicts(rasas) and len(ours.events) == 15
    assert ours.get_slot("skin_type") == ["sensitive"]


def _rows(store, sender: str) -> list:
    with store.engine.connect() as connection:
        return list(connection.execute(sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                                       {"s": sender}))


async def test_a_long_conversation_stores_the_same_rows_and_reads_back_the_same_state(tmp_path, domain):
    ours, rasas = (SQLiteTrackerStore(domain=domain, db=str(tmp_path / "ours.db"), recent_turns=4),
                   SQLTrackerStore(domain=domain, db=str(tmp_path / "rasa.db")))
    skins = ["dry", "oily", "sensitive"]
    for n in range(30):
        events = _turn(f"turn {n}", skins[n % 3])
        for store in (ours, rasas):
            await _say(store, "u1", events)
    assert _rows(ours, "u1") == _rows(rasas, "u1")
    cold = SQLiteTrackerStore(domain=domain, db=str(tmp_path / "ours.db"), recent_turns=4)
    whole = await rasas.retrieve("u1")
    for tracker in (await ours.retrieve("u1"), await cold.retrieve("u1")):
        assert isinstance(tracker, RecentTracker)
        assert tracker.current_slot_values() == whole.current_slot_values()
        assert tracker.latest_message == whole.latest_message and tracker.latest_action == whole.latest_action
        assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == [f"turn {n}" for n in range(26, 30)]
        assert _dicts(tracker) == _dicts(whole)[-len(tracker.events):]


async def test_a_failed_write_is_not_remembered(tmp_path, domain, monkeypatch):
    store = SQLiteTrackerStore(domain=domain, db=str(tmp_path / "t.db"))
    await _say(store, "u1", _turn("kept", "dry"))
    tracker = await store.retrieve("u1")
    tracker.update(UserUttered("lost"))
    monkeypatch.setattr(SQLTrackerStore, "save", lambda self, t: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        await store.save(tracker)
    monkeypatch.undo()
    texts = [e.text for e in (await store.retrieve("u1")).events if isinstance(e, UserUttered)]
    assert texts == ["kept"]


async def test_a_new_session_starts_where_rasas_store_says(tmp_path, domain):
    db = str(tmp_path / "t.db")
    store = SQLiteTrackerStore(domain=domain, db=db)
    await _say(store, "u1", _turn("first", "dry"))
    await _say(store, "u1", [ActionExecuted("action_session_start"), SessionStarted(),
                             SlotSet("skin_type", ["dry"]), ActionExecuted("action_listen")])
    await _say(store, "u1", _turn("second", "oily"))
    ours, rasas = await store.retrieve("u1"), await SQLTrackerStore(domain=domain, db=db).retrieve("u1")
    assert _dicts(ours) == _dicts(rasas)
    assert "first" not in [e.get("text") for e in _dicts(ours)]


async def test_a_restarted_store_and_an_evicted_conversation_lose_nothing(tmp_path, domain):
    db = str(tmp_path / "t.db")
    store = SQLiteTrackerStore(domain=domain, db=db, remember_conversations=1)
    for n in range(3):
        await _say(store, "a", _turn(f"a{n}", "dry"))
        await _say(store, "b", _turn(f"b{n}", "oily"))  # evicts "a" each time
    for reader in (store, SQLiteTrackerStore(domain=domain, db=db)):
        assert [e.text for e in (await reader.retrieve("a")).events if isinstance(e, UserUttered)] == ["a0", "a1", "a2"]
        assert (await reader.retrieve("b")).get_slot("skin_type") == ["oily"]


@pytest.mark.parametrize("setting", [("SANIC_WORKERS", "2"), ("REDIS_HOST", "127.0.0.1")])
async def test_with_several_servers_each_sees_the_others_writes(tmp_path, domain, monkeypatch, setting):
    monkeypatch.setenv(*setting)
    db = str(tmp_path / "t.db")
    first, second = SQLiteTrackerStore(domain=domain, db=db), SQLiteTrackerStore(domain=domain, db=db)
    await _say(first, "u1", _turn("one", "dry"))
    await _say(second, "u1", _turn("two", "oily"))
    await _say(first, "u1", _turn("three", "sensitive"))
    texts = [e.text for e in (await second.retrieve("u1")).events if isinstance(e, UserUttered)]
    assert texts == ["one", "two", "three"]


async def test_sqlite_uses_the_write_ahead_log(tmp_path, domain):
    store = SQLiteTrackerStore(domain=domain, db=str(tmp_path / "t.db"))
    await _say(store, "u1", _turn("hi", "dry"))
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(sa.text("PRAGMA synchronous")).scalar() == 1  # NORMAL
