"""Erasing conversations in the tracker store: "delete my data" and ``RETENTION_DAYS``.

:class:`Erasing` is mixed into the project's tracker stores (the SQLite one, addons/tracker_store.py, and
:class:`ErasingSQLTrackerStore` for PostgreSQL, scripts/stores.py):

* **On request.** When the turn being saved ran ``action_delete_data`` (the shopper pressed "Yes, delete it",
  actions/privacy.py), the conversation is deleted instead of saved: every stored event of that sender id,
  and the store's memory of it. The next message starts a new, empty conversation.
* **Retention.** With ``RETENTION_DAYS`` set, conversations whose last event is older than that many days are
  deleted when the server starts and every ``RETENTION_INTERVAL`` seconds after (default 3600).

Each erased id is noted in ``erased_conversations`` (the id and when, nothing said), so the insights index,
which lives apart from the store, forgets it too (addons/insights/index.py).
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Iterable, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from addons.erasure import INTERVAL_ENV, RETENTION_ENV, erase, expired, retention_days

logger = logging.getLogger(__name__)

ERASE_ACTION = "action_delete_data"  # actions/privacy.py


def erase_requested(tracker: DialogueStateTracker) -> bool:
    """Whether the turn being saved (back to its user message) ran the erase action."""
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted) and event.action_name == ERASE_ACTION:
            return True
        if isinstance(event, UserUttered):
            return False
    return False


class Erasing:
    """Mixin for an ``SQLTrackerStore``: erase on request, and the retention job."""

    _retention_task: Optional[asyncio.Task] = None

    @property
    def _events(self) -> sa.Table:
        return self.SQLEvent.__table__  # type: ignore[attr-defined]

    def erase(self, sender_ids: Iterable[str]) -> int:
        ids = list(sender_ids)
        for sender_id in ids:
            getattr(self, "_trackers", {}).pop(sender_id, None)  # the SQLite store's memory
        deleted = erase(self.engine, self._events, ids)  # type: ignore[attr-defined]
        logger.info("Erased %d conversation(s) (%d events)", len(ids), deleted)
        return deleted

    def erase_expired(self, days: float) -> int:
        return self.erase(expired(self.engine, self._events, days)) if days else 0  # type: ignore[attr-defined]

    async def save(self, tracker: DialogueStateTracker) -> None:
        self._start_retention()
        if erase_requested(tracker):
            self.erase([tracker.sender_id])
            return
        await super().save(tracker)  # type: ignore[misc]

    def _start_retention(self) -> None:
        if self._retention_task is not None:
            return
        try:
            days = retention_days()
        except ValueError as error:  # a typo in the setting must not stop conversations being saved
            logger.error("%s: retention is off", error)
            days = None
        if days is None:
            self._retention_task = False  # type: ignore[assignment]
            return
        interval = float(os.environ.get(INTERVAL_ENV) or 3600)
        self._retention_task = asyncio.get_running_loop().create_task(self._retain(days, interval))

    async def _retain(self, days: float, interval: float) -> None:
        while True:
            try:
                self.erase_expired(days)
            except Exception:  # noqa: BLE001 — try again next time; the server goes on
                logger.exception("The retention job (%s=%s) failed", RETENTION_ENV, days)
            await asyncio.sleep(interval)


class ErasingSQLTrackerStore(Erasing, SQLTrackerStore):
    """Rasa's SQL tracker store (PostgreSQL under make run-scaled) with erasure and retention."""
