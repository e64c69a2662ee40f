"""The environment alone chooses the stores; Rasa itself reads the endpoints file we write.

No servers needed: these run everywhere, also without PostgreSQL, Redis and nginx installed.
"""
from __future__ import annotations

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockStore
from rasa.utils.endpoints import read_endpoint_config

from addons.redis_lock import AtomicRedisLockStore
from scripts import stores
from scripts.stack import Stack

STORE_VARIABLES = ["TRACKER_DB_HOST", "TRACKER_DB_PORT", "TRACKER_DB_NAME", "TRACKER_DB_USER", "TRACKER_DB_PASSWORD",
                   "REDIS_HOST", "REDIS_PORT", "REDIS_DB", "REDIS_PASSWORD", "SQL_POOL_SIZE", "SQL_MAX_OVERFLOW"]
POSTGRES = {"TRACKER_DB_HOST": "db.internal", "TRACKER_DB_PORT": "6432", "TRACKER_DB_NAME": "conversations",
            "TRACKER_DB_USER": "assistant", "TRACKER_DB_PASSWORD": "s3cret-pg"}
REDIS = {"REDIS_HOST": "locks.internal", "REDIS_PORT": "6380", "REDIS_DB": "3", "REDIS_PASSWORD": "s3cret-redis"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in STORE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def endpoints(tmp_path, monkeypatch, **env: str):
    """The endpoints file Stack writes with ``env`` set, read back by Rasa (passwords from the env)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = Stack(rasa_port=1234, action_port=1235, workdir=tmp_path).endpoints_file()
    return path, read_endpoint_config(str(path), "tracker_store"), read_endpoint_config(str(path), "lock_store")


def test_by_default_conversations_stay_in_a_sqlite_file_and_locks_in_memory(tmp_path, monkeypatch):
    _, tracker, lock = endpoints(tmp_path, monkeypatch)
    assert tracker.type == stores.SQLITE_STORE  # Rasa's SQLTrackerStore, tuned for one server
    assert (tracker.kwargs["dialect"], tracker.kwargs["db"]) == ("sqlite", str(tmp_path / "tracker.db"))
    assert lock is None
    assert isinstance(LockStore.create(lock), InMemoryLockStore)


def test_tracker_db_host_switches_to_postgresql_without_writing_the_password(tmp_path, monkeypatch):
    path, tracker, _ = endpoints(tmp_path, monkeypatch, **POSTGRES)
    assert tracker.type == stores.POSTGRES_STORE and tracker.url == "db.internal"  # Rasa's SQL store, erasing
    assert tracker.kwargs == {"dialect": "postgresql", "port": 6432, "db": "conversations", "username": "assistant",
                              "password": "s3cret-pg"}  # Rasa expands ${TRACKER_DB_PASSWORD} when reading
    assert "s3cret" not in path.read_text()


def test_redis_host_switches_the_lock_store_to_redis(tmp_path, monkeypatch):
    path, _, lock = endpoints(tmp_path, monkeypatch, **REDIS)
    assert lock.type == stores.LOCK_STORE_CLASS and lock.url == "locks.internal"
    assert lock.kwargs == {"port": 6380, "db": 3, "password": "s3cret-redis"}
    assert "s3cret" not in path.read_text()
    store = LockStore.create(lock)  # connects lazily: no Redis needed to build it
    assert isinstance(store, AtomicRedisLockStore)
    assert store.red.connection_pool.connection_kwargs["port"] == 6380


def test_sql_pools_are_sized_for_replicas_unless_set(monkeypatch):
    assert stores.pool_defaults({}) == {}  # SQLite: nothing to size
    assert stores.pool_defaults({"TRACKER_DB_HOST": "db"}) == {"SQL_POOL_SIZE": "3", "SQL_MAX_OVERFLOW": "2"}
    assert stores.pool_defaults({"TRACKER_DB_HOST": "db", "SQL_POOL_SIZE": "10"}) == {"SQL_MAX_OVERFLOW": "2"}
    stack = Stack(extra_env={"TRACKER_DB_HOST": "db"})
    assert stack._env()["SQL_POOL_SIZE"] == "3"
    assert stores.connections_needed(2) == 2 * (3 + 2) + 5
    assert stores.connections_needed(4, {"SQL_POOL_SIZE": "10", "SQL_MAX_OVERFLOW": "0"}) == 45
