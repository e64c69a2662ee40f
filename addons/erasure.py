"""Erasing conversations from a tracker store's ``events`` table, and noting them for the insights index.

SQLAlchemy only (no Rasa), so the insights page can read :data:`ERASED` without loading Rasa; the tracker
stores use it through addons/privacy.py.
"""
from __future__ import annotations

import os
import time
from typing import Iterable, List, Optional

import sqlalchemy as sa

RETENTION_ENV = "RETENTION_DAYS"
INTERVAL_ENV = "RETENTION_INTERVAL"
ERASED = sa.Table("erased_conversations", sa.MetaData(), sa.Column("sender_id", sa.String(255), primary_key=True),
                  sa.Column("erased_at", sa.Float, nullable=False, index=True))
CHUNK = 500


def retention_days(env: Optional[dict] = None) -> Optional[float]:
    value = (os.environ if env is None else env).get(RETENTION_ENV, "").strip()
    if not value:
        return None
    try:
        days = float(value)
    except ValueError:
        raise ValueError(f"{RETENTION_ENV} must be a number of days, not {value!r}") from None
    if days <= 0:
        raise ValueError(f"{RETENTION_ENV} must be more than 0 days, not {value!r}")
    return days


def erase(engine: sa.engine.Engine, events: sa.Table, sender_ids: Iterable[str]) -> int:
    """Delete every event of ``sender_ids`` and note each id as erased; how many events went."""
    ids = sorted(set(sender_ids))
    if not ids:
        return 0
    ERASED.metadata.create_all(engine)
    deleted, now = 0, time.time()
    with engine.begin() as connection:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            deleted += connection.execute(events.delete().where(events.c.sender_id.in_(chunk))).rowcount or 0
            connection.execute(ERASED.delete().where(ERASED.c.sender_id.in_(chunk)))
            connection.execute(ERASED.insert(), [{"sender_id": s, "erased_at": now} for s in chunk])
    return deleted


def expired(engine: sa.engine.Engine, events: sa.Table, days: float, now: Optional[float] = None) -> List[str]:
    """Conversations whose last event is older than ``days``."""
    cutoff = (now or time.time()) - days * 86400
    with engine.connect() as connection:
        return [r[0] for r in connection.execute(sa.select(events.c.sender_id).group_by(events.c.sender_id)
                                                 .having(sa.func.max(events.c.timestamp) < cutoff))]
