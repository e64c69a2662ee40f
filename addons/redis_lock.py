"""Rasa's Redis lock store, with its read-modify-write steps made atomic across Rasa replicas.

Rasa 3.6's ``RedisLockStore`` keeps a conversation's ticket queue as one JSON value and changes it with a
plain GET, then SET. Two replicas taking messages of the same conversation at the same moment can both
read the queue before either writes it back: they issue the same ticket number and process the two
messages at once (events lost from the tracker), or one deletes the lock the other waits on (Rasa raises
``LockError`` and the user gets the fallback reply). tests/scaled/test_redis_lock.py shows both.

:class:`AtomicRedisLockStore` is the same store — same keys, same ticket queue, same settings — whose
issue, update and clean-up steps run as Redis transactions (WATCH/MULTI/EXEC, retried on conflict).
endpoints.yml names it as ``type: addons.redis_lock.AtomicRedisLockStore``.
"""
from __future__ import annotations

import json
from typing import Callable, Optional, Text, Tuple, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")
#: Given the stored lock (or None), return the lock to store (None: delete it) and a result.
Change = Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], T]]


class AtomicRedisLockStore(RedisLockStore):
    """``RedisLockStore`` whose ticket queue changes are atomic, so several Rasa servers can share it."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _change(self, conversation_id: Text, change: Change) -> T:
        """Apply ``change`` to the stored lock in one transaction, retried if another process got there first."""
        key = self.key_prefix + conversation_id
        outcome = []

        def step(pipe) -> None:
            outcome.clear()
            stored = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(stored)) if stored else None
            new, result = change(lock)
            outcome.append(result)
            pipe.multi()
            if new is None:
                pipe.delete(key)
            else:
                pipe.set(key, new.dumps())

        self.red.transaction(step, key)
        return outcome[0]

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]) -> Tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as error:  # as Rasa's own store does: a lock problem is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        def drop_expired(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: (_without(lock, ticket_number), None))

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove the ticket, and the lock with it when nobody else waits — in one step."""
        def finish(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            lock = _without(lock, ticket_number)
            return (lock if lock and lock.is_someone_waiting() else None), None

        self._change(conversation_id, finish)


def _without(lock: Optional[TicketLock], ticket_number: int) -> Optional[TicketLock]:
    if lock:
        lock.remove_ticket_for(ticket_number)
    return lock
