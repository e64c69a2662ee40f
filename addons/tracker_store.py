"""Rasa's SQL tracker store, made cheap for the default single server on SQLite, and flat in conversation length.

Per message, Rasa 3.6's ``SQLTrackerStore`` loads the whole conversation session with a query that builds
an ORM object per event and replays every event, counts the stored events with a second query to find
the new ones, and commits with an fsync — all synchronously on the Rasa server's one event-loop thread.
Rasa then walks the whole tracker again several times per message: the rule policy builds a state for
every earlier turn, the action call copies the tracker by replaying it and sends every event to the
action server. In a 500-turn conversation each message cost ~7x what it cost at turn 50. This subclass
stores exactly the same rows in the same table, and:

* hands Rasa a :class:`RecentTracker`: the conversation's last ``recent_turns`` user turns (10) on top
  of a snapshot of the state they started from, so that everything Rasa does per message — policies,
  the action server call, copies, saving — costs the same at turn 500 as at turn 50;
* remembers, per recent conversation, the tracker it saved last, so it neither re-reads nor re-counts
  the stored rows; a new session, a failed write, an HTTP API read or eviction simply falls back to the
  database (and a cold read replays the session once, as Rasa does);
* on SQLite, uses the WAL journal with ``synchronous=NORMAL``: a commit survives a crash of the
  server (the restart tests), though the last commits may be lost on a power cut.

The memory is only valid while this process is the database's only writer, so it is on only for
SQLite with one Sanic worker and no Redis lock store (``REDIS_HOST``, scripts/stores.py: several Rasa
servers); otherwise this is Rasa's store with the WAL journal and recent-turn trackers.

    tracker_store:
      type: addons.tracker_store.SQLiteTrackerStore
      dialect: sqlite
      db: var/tracker.db
      remember_conversations: 1000   # optional
      recent_turns: 10               # optional
"""
from __future__ import annotations

import copy
import itertools
import json
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, Generator, Iterable, Iterator, List, Optional, Text, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (ActionExecuted, Event, ReminderScheduled, Restarted, SessionStarted, SlotSet,
                                     UserUttered)
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker, TrackerActiveLoop

from addons.privacy import Erasing

logger = logging.getLogger(__name__)

DEFAULT_REMEMBERED = 1000
#: User turns a tracker keeps in memory. Rasa reads further back only to undo a turn (at most two with
#: `/back`), and this assistant's rules are one turn long; Rasa's ML policies look 5 turns back by default.
DEFAULT_TURNS = 10
#: What a tracker's state is made of besides its events: exactly what ``DialogueStateTracker._reset``
#: resets (checked at start-up, addons/rasa_tuning.py).
STATE_FIELDS = frozenset({"slots", "_paused", "followup_action", "latest_action", "latest_message",
                          "latest_bot_utterance", "active_loop"})
#: A tracker's attributes that are not state: what it is, and its events.
NOT_STATE = frozenset({"_max_event_history", "events", "sender_id", "sender_source", "is_rule_tracker", "model_id",
                       "assistant_id"})
#: Rasa's internals this module overrides or relies on (checked at start-up, addons/rasa_tuning.py).
RASA_NAMES = tuple(("rasa.shared.core.trackers", f"DialogueStateTracker.{name}") for name in (
    "_reset", "init_copy", "applied_events", "replay_events", "generate_all_prior_trackers", "update",
    "travel_back_in_time")) + tuple(("rasa.core.tracker_store", name) for name in (
    "SQLTrackerStore._additional_events", "SQLTrackerStore._event_query", "SQLTrackerStore.stream_events",
    "TrackerStore._stream_new_events", "TrackerStore.init_tracker"))


def _fast_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _single_writer(dialect: str) -> bool:
    """SQLite, one Sanic worker, and no shared lock store (``REDIS_HOST``: several Rasa servers)."""
    one_worker = int(os.environ.get("SANIC_WORKERS") or 1) <= 1
    return dialect == "sqlite" and one_worker and not os.environ.get("REDIS_HOST")


@dataclass
class Snapshot:
    """A tracker's state (its :data:`STATE_FIELDS`) at one point, and the earlier events Rasa still reads.

    ``kept`` are applied events of the session that fell out of the window but that Rasa looks up by
    type: the latest ``SlotSet`` of each slot (a new session carries the slots over from them) and the
    reminders (a reminder only fires while its ``ReminderScheduled`` is an applied event).
    """

    slots: Dict[str, Slot]
    paused: bool
    followup_action: Optional[str]
    latest_action: Optional[Dict[str, str]]
    latest_message: Optional[UserUttered]
    latest_bot_utterance: Any
    active_loop: Optional[TrackerActiveLoop]
    kept: List[Event] = field(default_factory=list)

    @classmethod
    def of(cls, tracker: DialogueStateTracker, kept: List[Event]) -> "Snapshot":
        return cls({name: copy.copy(slot) for name, slot in tracker.slots.items()}, tracker._paused,
                   tracker.followup_action, copy.copy(tracker.latest_action), tracker.latest_message,
                   tracker.latest_bot_utterance, copy.copy(tracker.active_loop), kept)

    def restore(self, tracker: DialogueStateTracker) -> None:
        """Put this state into ``tracker`` (copies of what a tracker changes in place)."""
        tracker.slots = {name: copy.copy(slot) for name, slot in self.slots.items()}
        tracker._paused = self.paused
        tracker.followup_action = self.followup_action
        tracker.latest_action = copy.copy(self.latest_action)
        tracker.latest_message = self.latest_message
        tracker.latest_bot_utterance = self.latest_bot_utterance
        tracker.active_loop = copy.copy(self.active_loop)


def _kept(applied: Iterable[Event]) -> List[Event]:
    """The latest SlotSet of each slot (in the order they were last set) and every reminder."""
    slots: "OrderedDict[str, SlotSet]" = OrderedDict()
    reminders = []
    for event in applied:
        if isinstance(event, SlotSet):
            slots.pop(event.key, None)
            slots[event.key] = event
        elif isinstance(event, ReminderScheduled):
            reminders.append(event)
    return [*reminders, *slots.values()]


class RecentTracker(DialogueStateTracker):
    """A conversation's tracker holding its latest user turns, on top of the state they started from.

    Everything Rasa derives from a tracker is the same as for the whole session: its state, every copy
    (replayed from :attr:`start`, not from the domain's initial values), the states the policies see for
    the kept turns, undoing a kept turn, and the applied events Rasa looks up by type (:class:`Snapshot`).
    Only the ``events`` themselves — and so the number of earlier turns a policy or the action server sees,
    and the events the HTTP API shows for ``/predict`` and ``/execute`` — stop at the window. ``saved`` is
    how many of ``events`` are already stored.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.start: Optional[Snapshot] = None  # None: the domain's initial state, as for any tracker
        self.turns = DEFAULT_TURNS
        self.saved = 0

    @classmethod
    def from_stored(cls, sender_id: Text, rows: List[Dict[str, Any]], slots: Iterable[Slot],
                    turns: int) -> "RecentTracker":
        """The stored session, replayed once, keeping its latest ``turns`` user turns."""
        tracker = cls.from_dict(sender_id, rows, slots)
        tracker.turns, tracker.saved = turns, len(tracker.events)
        tracker.forget_older_turns()
        return tracker

    def _starts_afresh(self) -> bool:
        """Whether a restart or a new session in the window makes what came before irrelevant."""
        return self.start is None or any(isinstance(e, (Restarted, SessionStarted)) for e in self.events)

    def init_copy(self) -> "RecentTracker":
        """A tracker with no events in the state this one's events start from."""
        fresh = RecentTracker(self.sender_id or DEFAULT_SENDER_ID, self.slots.values(), self._max_event_history,
                              is_rule_tracker=self.is_rule_tracker)
        fresh.turns = self.turns
        if not self._starts_afresh():
            fresh.start = self.start
            self.start.restore(fresh)
        return fresh

    def window_applied_events(self) -> List[Event]:
        """Rasa's applied events of the window alone (what replays start from :attr:`start` with)."""
        return DialogueStateTracker.applied_events(self)

    def applied_events(self) -> List[Event]:
        """Rasa's applied events: the ones kept from before the window, then the window's."""
        window = self.window_applied_events()
        return window if self._starts_afresh() else [*self.start.kept, *window]

    def replay_events(self) -> None:
        """Undoing a turn: back to the window's start state, then the window's applied events."""
        if not self._starts_afresh():
            self.start.restore(self)
        for event in self.window_applied_events():
            event.apply_to(self)

    def generate_all_prior_trackers(self) -> Generator[Tuple[DialogueStateTracker, bool], None, None]:
        """Rasa's prior trackers for the window's turns (the policies' states), from the start state."""
        tracker = self.init_copy()
        for event in self.window_applied_events():
            if isinstance(event, ActionExecuted):
                yield tracker, event.hide_rule_turn
            tracker.update(event)
        yield tracker, False

    def unsaved(self) -> List[Event]:
        return list(itertools.islice(self.events, self.saved, None))

    def _cut(self) -> int:
        """How many of the oldest events fall outside the latest ``turns`` user turns (all saved)."""
        found = 0
        for index in range(len(self.events) - 1, -1, -1):
            event = self.events[index]
            if isinstance(event, UserUttered):
                found += 1
                if found == self.turns:
                    before = self.events[index - 1] if index else None
                    listen = isinstance(before, ActionExecuted) and before.action_name == ACTION_LISTEN_NAME
                    return min(index - 1 if listen else index, self.saved)
        return 0

    def forget_older_turns(self) -> None:
        """Move the stored events before the latest ``turns`` user turns into :attr:`start`."""
        cut = self._cut()
        if cut <= 0:
            return
        scratch = self.init_copy()
        for event in itertools.islice(self.events, 0, cut):
            scratch.update(event)
        self.start = Snapshot.of(scratch, _kept(scratch.applied_events()))
        for _ in range(cut):
            self.events.popleft()
        self.saved -= cut


class SQLiteTrackerStore(Erasing, SQLTrackerStore):
    """``SQLTrackerStore`` with recent-turn trackers, a WAL journal and a memory of recent conversations; erases
    conversations on request and after ``RETENTION_DAYS`` (addons/privacy.py)."""

    def __init__(self, *args: Any, remember_conversations: int = DEFAULT_REMEMBERED,
                 recent_turns: int = DEFAULT_TURNS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            self._reconnect_sqlite()
        self._capacity = remember_conversations if _single_writer(dialect) else 0
        self._turns = max(int(recent_turns), 3)  # `/back` undoes two turns
        self._trackers: "OrderedDict[str, RecentTracker]" = OrderedDict()

    def _reconnect_sqlite(self) -> None:
        """Keep one connection open (SQLAlchemy 1.4 opens and closes one per session for SQLite files,
        and closing the last connection checkpoints the WAL), and switch it to WAL."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=1,
                                       connect_args={"check_same_thread": False})
        sa.event.listen(self.engine, "connect", _fast_sqlite)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def init_tracker(self, sender_id: Text) -> RecentTracker:
        """A new conversation's tracker (Rasa's, with the recent-turn window)."""
        tracker = RecentTracker(sender_id, self.domain.slots, max_event_history=self.max_event_history)
        tracker.turns = self._turns
        return tracker

    def _load_rows(self, sender_id: Text) -> List[str]:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
            return [data for (data,) in query.with_entities(self.SQLEvent.data)]

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The current session of the conversation, as ``SQLTrackerStore.retrieve`` returns it, in recent turns.

        A remembered tracker is handed over, not shared: until it is saved again, a second reader gets
        the stored one.
        """
        tracker = self._trackers.pop(sender_id, None)
        if tracker is not None:
            return tracker
        rows = self._load_rows(sender_id)
        if not (self.domain and rows):
            return None
        return RecentTracker.from_stored(sender_id, [json.loads(r) for r in rows], self.domain.slots, self._turns)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        if isinstance(tracker, RecentTracker):
            return iter(tracker.unsaved())
        return super()._additional_events(session, tracker)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """To an event broker, if any: the events not stored yet (Rasa's way compares two whole trackers)."""
        if self.event_broker is None or not isinstance(tracker, RecentTracker):
            return await super().stream_events(tracker)
        await self._stream_new_events(self.event_broker, tracker.unsaved(), tracker.sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events like ``SQLTrackerStore.save``, then remember the tracker's recent turns."""
        sender_id = tracker.sender_id
        self._trackers.pop(sender_id, None)
        await super().save(tracker)
        if not isinstance(tracker, RecentTracker):
            return
        new_session = any(isinstance(event, SessionStarted) for event in tracker.unsaved())
        tracker.saved = len(tracker.events)
        tracker.forget_older_turns()
        if self._capacity and not new_session:  # a new session: the database decides where it starts
            self._trackers[sender_id] = tracker
            while len(self._trackers) > self._capacity:
                self._trackers.popitem(last=False)
