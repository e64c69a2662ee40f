"""The lock store that several Rasa replicas share, against a real Redis server.

Each thread stands for one replica: its own store object, its own connection, its own event loop.
"""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import List

from addons.redis_lock import AtomicRedisLockStore
from rasa.utils.endpoints import EndpointConfig

REPLICAS = 6


def stores(port: int, count: int = REPLICAS) -> List[AtomicRedisLockStore]:
    config = EndpointConfig(url="127.0.0.1", port=port, db=1, type="addons.redis_lock.AtomicRedisLockStore")
    return [AtomicRedisLockStore(config) for _ in range(count)]


def test_replicas_issuing_tickets_at_once_never_get_the_same_number(redis_port):
    conversation = "tickets"
    start = threading.Barrier(REPLICAS)

    def issue(store: AtomicRedisLockStore) -> List[int]:
        start.wait(timeout=10)
        return [store.issue_ticket(conversation) for _ in range(40)]

    replicas = stores(redis_port)
    with ThreadPoolExecutor(REPLICAS) as pool:
        tickets = [t for issued in pool.map(issue, replicas) for t in issued]
    assert len(set(tickets)) == len(tickets) == REPLICAS * 40
    for ticket in tickets:
        replicas[ticket % REPLICAS].cleanup(conversation, ticket)
    assert replicas[0].get_lock(conversation) is None  # the last one out removed the lock


def test_replicas_hold_a_conversation_lock_one_at_a_time(redis_port):
    conversation = "turns"
    inside, most_inside, turns = [0], [0], []
    guard = threading.Lock()
    start = threading.Barrier(REPLICAS)

    async def turn(store: AtomicRedisLockStore, replica: int, n: int) -> None:
        async with store.lock(conversation, wait_time_in_seconds=0.005):
            with guard:
                inside[0] += 1
                most_inside[0] = max(most_inside[0], inside[0])
            await asyncio.sleep(0.002)  # a message being processed
            with guard:
                inside[0] -= 1
                turns.append((replica, n))

    def replica(store: AtomicRedisLockStore, number: int) -> None:
        start.wait(timeout=10)

        async def all_turns() -> None:
            await asyncio.gather(*(turn(store, number, n) for n in range(8)))

        asyncio.run(all_turns())

    with ThreadPoolExecutor(REPLICAS) as pool:
        list(pool.map(replica, stores(redis_port), range(REPLICAS)))  # a LockError would raise here
    assert most_inside[0] == 1
    assert len(turns) == REPLICAS * 8
