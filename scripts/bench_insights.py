"""`make bench-insights`: the insights page's queries over 100,000 synthetic conversations (~2M events),
on SQLite and on PostgreSQL (Debian's, started on a free port with its data in a temporary folder).

For each store: write the conversations into a fresh tracker store (Rasa's ``events`` table), build the
insights index from it, then time every query the page runs (the last 28 days, then one channel and one week),
the transcript search and one transcript. Prints a table; docs/insights.md keeps the figures.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import sqlalchemy as sa

from addons.insights import queries, synthetic
from addons.insights.index import EVENTS, Indexer
from addons.insights.store import Stores, open_stores
from scripts import packages
from scripts.scaled import DB_NAME, DB_USER, Postgres
from scripts.stack import free_port

FILTERS = {"28 days, all channels": queries.Filters("2026-11-01", "2026-11-28"),
           "one week, slack": queries.Filters("2026-11-10", "2026-11-16", "slack")}


def timed(run: Callable[[], object], repeat: int) -> float:
    """The median of ``repeat`` runs, in milliseconds (after one warm-up run)."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench(stores: Stores, conversations: int, repeat: int) -> Tuple[Dict[str, float], List[Tuple[str, str, float]]]:
    started = time.perf_counter()
    events = synthetic.write(stores.source, synthetic.generate(conversations))
    written = time.perf_counter() - started
    started = time.perf_counter()
    indexer = Indexer(stores.source, stores.target, batch=50_000)
    while indexer.update(budget=3600):
        pass
    indexed = time.perf_counter() - started
    started = time.perf_counter()
    assert Indexer(stores.source, stores.target).update() == 0  # caught up: what a page view then pays
    refresh = (time.perf_counter() - started) * 1000
    rows: List[Tuple[str, str, float]] = []
    for label, filters in FILTERS.items():
        for name, query in queries.TABLES.items():
            def run(query=query, filters=filters) -> object:
                with stores.target.connect() as connection:
                    return query(connection, filters)
            rows.append((label, name, timed(run, repeat)))
        rows.append((label, "whole page (all tables)", timed(lambda f=filters: queries.all_tables(stores.target, f), repeat)))
        rows.append((label, "search 'retinol'", timed(lambda f=filters: queries.search(stores.target, f, "retinol"), repeat)))
    with stores.source.connect() as c:
        sender = c.execute(sa.select(EVENTS.c.sender_id).limit(1)).scalar()
    rows.append(("", "one transcript", timed(lambda: _transcript(stores, sender), repeat)))
    return {"events": events, "write s": written, "index s": indexed, "refresh ms": refresh}, rows


def _transcript(stores: Stores, sender: str) -> int:
    with stores.source.connect() as c:
        return len(c.execute(sa.select(EVENTS.c.data).where(EVENTS.c.sender_id == sender)).fetchall())


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    results = {}
    workdir = Path(tempfile.mkdtemp(prefix="bench-insights-"))
    workdir.chmod(0o755)
    try:
        if "sqlite" in args.stores:
            print(f"==> SQLite: {args.conversations:,} conversations …", flush=True)
            results["SQLite"] = bench(open_stores({}, workdir / "tracker.db"), args.conversations, args.repeat)
        if "postgresql" in args.stores:
            absent = packages.missing(["postgresql"])
            if absent:
                print(f"error: needs {absent}: {packages.install_command(absent)}", file=sys.stderr)
                return 1
            server = Postgres("postgres", workdir / "postgres.log", data=workdir / "pg", port=free_port(), durable=False)
            server.start()
            try:
                print(f"==> PostgreSQL: {args.conversations:,} conversations …", flush=True)
                env = {"TRACKER_DB_HOST": "127.0.0.1", "TRACKER_DB_PORT": str(server.port), "TRACKER_DB_NAME": DB_NAME,
                       "TRACKER_DB_USER": DB_USER}
                results["PostgreSQL"] = bench(open_stores(env, workdir / "unused.db"), args.conversations, args.repeat)
            finally:
                server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    names = list(results)
    for name in names:
        setup = results[name][0]
        print(f"\n{name}: {setup['events']:,} events written in {setup['write s']:.0f} s, indexed in "
              f"{setup['index s']:.0f} s; a caught-up index refresh {setup['refresh ms']:.0f} ms")
    print(f"\n| filters | query | {' | '.join(n + ' ms' for n in names)} |")
    print(f"|---|---|{'---:|' * len(names)}")
    for i, (label, query, _) in enumerate(results[names[0]][1]):
        print(f"| {label} | {query} | {' | '.join(f'{results[n][1][i][2]:.0f}' for n in names)} |")
    slowest = max(ms for n in names for label, q, ms in results[n][1] if not q.startswith("whole"))
    print(f"\nslowest single query: {slowest:.0f} ms (target < 1000 ms)")
    return 0 if slowest < 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
