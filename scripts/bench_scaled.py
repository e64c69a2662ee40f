"""`make bench-scaled`: `make bench`'s load against `make run` and against `make run-scaled`, side by side.

Same machine, same run, same users and turns (scripts/bench.py's realistic conversations), measured
rounds alternating between the two set-ups. Both run on free ports, with throw-away data.

    python -m scripts.bench_scaled                 # 20 users x 8 turns, 3 rounds each
    python -m scripts.bench_scaled --users 40 --json var/bench-scaled.json
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

from scripts.bench import ASSISTANT_SCRIPTS, Result, Server, measure, wait_until_nobody_trains
from scripts import packages
from scripts.scaled import Scaled
from scripts.stack import Stack, free_port


def _mb(result: Result, prefix: str) -> float:
    """Peak RSS (MB) summed over the processes whose name starts with ``prefix``."""
    return round(sum(mb for name, mb in result.peak_rss_mb.items() if name.startswith(prefix)), 1)


def report(single: Result, scaled: Result, replicas: int) -> str:
    rows = [("", "make run", "run-scaled"),
            ("users x turns", f"{single.users} x {single.turns}", f"{scaled.users} x {scaled.turns}"),
            ("messages answered", len(single.latencies), len(scaled.latencies)),
            ("errors", single.errors, scaled.errors),
            ("throughput (msg/s)", f"{single.throughput:.1f}", f"{scaled.throughput:.1f}")]
    rows += [(f"p{p} latency (ms)", f"{single.percentile(p):.0f}", f"{scaled.percentile(p):.0f}") for p in (50, 95, 99)]
    rows += [("server CPU per msg (ms)", f"{single.cpu_ms_per_message:.1f}", f"{scaled.cpu_ms_per_message:.1f}"),
             ("peak RSS Rasa (MB)", _mb(single, "rasa"), f"{_mb(scaled, 'rasa')} ({replicas} replicas)"),
             ("peak RSS actions (MB)", _mb(single, "actions"), _mb(scaled, "actions")),
             ("peak RSS PostgreSQL (MB)", "—", _mb(scaled, "postgres")),
             ("peak RSS Redis (MB)", "—", _mb(scaled, "redis")),
             ("peak RSS nginx (MB)", "—", _mb(scaled, "nginx")),
             ("ready after start (s)", f"{single.ready_seconds:.1f}", f"{scaled.ready_seconds:.1f}")]
    return "\n".join(f"{label:<26}{a!s:>12}{b!s:>24}" for label, a, b in rows)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    try:
        packages.ensure(packages.NEEDS["scaled"])
    except packages.MissingPackages as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    wait_until_nobody_trains()
    with tempfile.TemporaryDirectory(prefix="bench-scaled-") as workdir:
        Path(workdir).chmod(0o755)  # PostgreSQL's own user must reach its data directory
        single = Stack(rasa_port=free_port(), action_port=free_port(), web_port=None,
                       workdir=Path(workdir) / "single", quiet=True)
        scaled = Scaled(workdir=Path(workdir) / "scaled", port=free_port(), action_port=free_port(),
                        replicas=args.replicas, durable=True)
        servers: List[Server] = [Server("make run", ASSISTANT_SCRIPTS, single),
                                 Server("run-scaled", ASSISTANT_SCRIPTS, scaled)]
        results, _ = measure(servers, args.users, args.turns, args.rounds)
    print("\n" + report(*results, replicas=args.replicas))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([r.summary() for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
