"""Rasa's SQL tracker store, made cheap for the default single server on SQLite.

Per message, Rasa 3.6's ``SQLTrackerStore`` loads the conversation with a query that builds an ORM
object per event, counts the stored events with a second query to find the new ones, and commits with
an fsync — all synchronously on the Rasa server's one event-loop thread (about 45% of its CPU under
``make bench``). This subclass stores exactly the same rows in the same table, and:

* remembers, per recent conversation, the stored rows of its current session (the JSON text Rasa
  would read back), so it neither re-reads nor re-counts them; a new session, a failed write or
  eviction simply falls back to the database;
* on SQLite, uses the WAL journal with ``synchronous=NORMAL``: a commit survives a crash of the
  server (the restart tests), though the last commits may be lost on a power cut.

The memory is only valid while this process is the database's only writer, so it is on only for
SQLite with one Sanic worker and no Redis lock store (``REDIS_HOST``, scripts/stores.py: several Rasa
servers); otherwise this is Rasa's store with the WAL journal.

    tracker_store:
      type: addons.tracker_store.SQLiteTrackerStore
      dialect: sqlite
      db: var/tracker.db
      remember_conversations: 1000   # optional
"""
from __future__ import annotations

import itertools
import json
import logging
import os
from collections import OrderedDict
from typing import Any, Dict, Iterator, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

DEFAULT_REMEMBERED = 1000


def _fast_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _single_writer(dialect: str) -> bool:
    """SQLite, one Sanic worker, and no shared lock store (``REDIS_HOST``: several Rasa servers)."""
    one_worker = int(os.environ.get("SANIC_WORKERS") or 1) <= 1
    return dialect == "sqlite" and one_worker and not os.environ.get("REDIS_HOST")


class SQLiteTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` with a WAL journal and a memory of recent conversations (SQLite, one server)."""

    def __init__(self, *args: Any, remember_conversations: int = DEFAULT_REMEMBERED, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            self._reconnect_sqlite()
        self._capacity = remember_conversations if _single_writer(dialect) else 0
        self._rows: "OrderedDict[str, List[str]]" = OrderedDict()
        self._saving: Dict[str, List[Event]] = {}

    def _reconnect_sqlite(self) -> None:
        """Keep one connection open (SQLAlchemy 1.4 opens and closes one per session for SQLite files,
        and closing the last connection checkpoints the WAL), and switch it to WAL."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=1,
                                       connect_args={"check_same_thread": False})
        sa.event.listen(self.engine, "connect", _fast_sqlite)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _load_rows(self, sender_id: Text) -> List[str]:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
            return [data for (data,) in query.with_entities(self.SQLEvent.data)]

    def _remember(self, sender_id: Text, rows: List[str]) -> None:
        if not self._capacity:
            return
        self._rows[sender_id] = rows
        self._rows.move_to_end(sender_id)
        while len(self._rows) > self._capacity:
            self._rows.popitem(last=False)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The current session of the conversation, as ``SQLTrackerStore.retrieve`` returns it."""
        rows = self._rows.get(sender_id)
        if rows is None:
            rows = self._load_rows(sender_id)
            if rows:
                self._remember(sender_id, rows)
        if not (self.domain and rows):
            return None
        return DialogueStateTracker.from_dict(sender_id, [json.loads(r) for r in rows], self.domain.slots)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        rows = self._rows.get(tracker.sender_id)
        if rows is None:
            new = list(super()._additional_events(session, tracker))
        else:
            new = list(itertools.islice(tracker.events, len(rows), len(tracker.events)))
        self._saving[tracker.sender_id] = new
        return iter(new)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events like ``SQLTrackerStore.save``, then remember them."""
        sender_id = tracker.sender_id
        try:
            await super().save(tracker)
        except Exception:
            self._rows.pop(sender_id, None)
            raise
        finally:
            new = self._saving.pop(sender_id, [])
        self._remember_saved(sender_id, new)

    def _remember_saved(self, sender_id: Text, new: List[Event]) -> None:
        rows = self._rows.get(sender_id)
        if rows is None:
            return
        if any(isinstance(event, SessionStarted) for event in new):
            del self._rows[sender_id]  # the database decides where the new session starts
            return
        rows.extend(json.dumps(event.as_dict()) for event in new)
        self._rows.move_to_end(sender_id)
