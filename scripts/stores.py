"""Where the Rasa server keeps conversations and locks, chosen by the environment alone.

Embedded by default (a SQLite tracker file and Rasa's in-memory lock store), so ``make run`` needs nothing
else. Setting ``TRACKER_DB_HOST`` switches the tracker store to PostgreSQL (Rasa's ``SQLTrackerStore``),
setting ``REDIS_HOST`` switches the lock store to Redis (Rasa's ``RedisLockStore``, made atomic across
processes by addons/redis_lock.py) — both are needed as soon as more than one Rasa server serves the same
conversations (docs/deployment.md).

Passwords are never written into the generated endpoints file: it refers to them as ``${VARIABLE}``
(unquoted: Rasa's YAML loader expands only plain scalars), which Rasa expands from its own environment
when it reads the file.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Optional

#: The embedded tracker store: Rasa's SQL store with a WAL journal and a memory of recent conversations.
SQLITE_STORE = "addons.tracker_store.SQLiteTrackerStore"
#: PostgreSQL: Rasa's SQLTrackerStore with erasure ("delete my data", RETENTION_DAYS; addons/privacy.py).
POSTGRES_STORE = "addons.privacy.ErasingSQLTrackerStore"
#: PostgreSQL tracker store: host switches it on; the others default as shown in ``POSTGRES_DEFAULTS``.
TRACKER_DB_HOST = "TRACKER_DB_HOST"
POSTGRES_DEFAULTS = {"TRACKER_DB_PORT": "5432", "TRACKER_DB_NAME": "rasa", "TRACKER_DB_USER": "rasa"}
TRACKER_DB_PASSWORD = "TRACKER_DB_PASSWORD"
#: Redis lock store: host switches it on.
REDIS_HOST = "REDIS_HOST"
REDIS_DEFAULTS = {"REDIS_PORT": "6379", "REDIS_DB": "1"}
REDIS_PASSWORD = "REDIS_PASSWORD"
#: Rasa's RedisLockStore with atomic ticket-queue updates (addons/redis_lock.py explains why).
LOCK_STORE_CLASS = "addons.redis_lock.AtomicRedisLockStore"
#: Rasa's own variables for the SQLAlchemy pool of each Rasa process (its defaults: 50 + 100).
POOL_SIZE, MAX_OVERFLOW = "SQL_POOL_SIZE", "SQL_MAX_OVERFLOW"
#: Our defaults: a Rasa process uses its tracker store from one event loop, synchronously, so it rarely
#: holds more than one connection; 3 + 2 leaves head-room and lets 18 replicas share max_connections=100.
POOL_DEFAULTS = {POOL_SIZE: "3", MAX_OVERFLOW: "2"}


def _quoted(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid double-quoted YAML scalar


def _setting(env: Mapping[str, str], name: str, defaults: Mapping[str, str]) -> str:
    return env.get(name) or defaults[name]


def tracker_store(env: Mapping[str, str], sqlite_file: Path) -> str:
    """The ``tracker_store:`` section: PostgreSQL when ``TRACKER_DB_HOST`` is set, else the SQLite file."""
    if not env.get(TRACKER_DB_HOST):
        return (f'tracker_store:\n  type: {SQLITE_STORE}\n  dialect: "sqlite"\n'
                f'  db: {_quoted(str(sqlite_file))}\n')
    lines = ["tracker_store:", f"  type: {POSTGRES_STORE}", '  dialect: "postgresql"', f"  url: {_quoted(env[TRACKER_DB_HOST])}",
             f"  port: {int(_setting(env, 'TRACKER_DB_PORT', POSTGRES_DEFAULTS))}",
             f"  db: {_quoted(_setting(env, 'TRACKER_DB_NAME', POSTGRES_DEFAULTS))}",
             f"  username: {_quoted(_setting(env, 'TRACKER_DB_USER', POSTGRES_DEFAULTS))}"]
    if env.get(TRACKER_DB_PASSWORD):
        lines.append(f"  password: ${{{TRACKER_DB_PASSWORD}}}")  # unquoted: Rasa expands only plain scalars
    return "\n".join(lines) + "\n"


def lock_store(env: Mapping[str, str]) -> str:
    """The ``lock_store:`` section: Redis when ``REDIS_HOST`` is set, else none (Rasa's in-memory lock)."""
    if not env.get(REDIS_HOST):
        return ""
    lines = ["lock_store:", f"  type: {LOCK_STORE_CLASS}", f"  url: {_quoted(env[REDIS_HOST])}",
             f"  port: {int(_setting(env, 'REDIS_PORT', REDIS_DEFAULTS))}",
             f"  db: {int(_setting(env, 'REDIS_DB', REDIS_DEFAULTS))}"]
    if env.get(REDIS_PASSWORD):
        lines.append(f"  password: ${{{REDIS_PASSWORD}}}")  # unquoted: Rasa expands only plain scalars
    return "\n".join(lines) + "\n"


def pool_defaults(env: Mapping[str, str]) -> dict:
    """``SQL_POOL_SIZE``/``SQL_MAX_OVERFLOW`` for a PostgreSQL tracker store, unless already set."""
    if not env.get(TRACKER_DB_HOST):
        return {}
    return {name: value for name, value in POOL_DEFAULTS.items() if not env.get(name)}


def connections_needed(replicas: int, env: Optional[Mapping[str, str]] = None, reserve: int = 5) -> int:
    """PostgreSQL ``max_connections`` that ``replicas`` Rasa servers need at most, plus ``reserve``."""
    env = {**POOL_DEFAULTS, **(env or {})}
    return replicas * (int(env[POOL_SIZE]) + int(env[MAX_OVERFLOW])) + reserve
