"""What the tracker store holds of answer feedback: the ``feedback`` slot events of one conversation."""
from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Dict, List


def feedback_records(db: Path, sender_like: str = "%") -> List[Dict[str, Any]]:
    """Every ``feedback`` slot value stored for conversations whose id matches ``sender_like`` (SQL LIKE)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT sender_id, data FROM events WHERE type_name = 'slot' AND action_name = 'feedback' "
            "AND sender_id LIKE ? ORDER BY id", (sender_like,)).fetchall()
    return [{"sender_id": sender, **json.loads(data)["value"]} for sender, data in rows]


def wait_for_records(db: Path, done: Callable[[List[Dict[str, Any]]], bool], sender_like: str = "%",
                     timeout: float = 30.0) -> List[Dict[str, Any]]:
    """The feedback records once ``done(records)`` holds (the store is written after the reply is sent)."""
    deadline = time.monotonic() + timeout
    while True:
        records = feedback_records(db, sender_like) if db.exists() else []
        if done(records):
            return records
        assert time.monotonic() < deadline, f"feedback records not as expected after {timeout}s: {records}"
        time.sleep(0.2)
