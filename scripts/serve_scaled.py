"""`make run-scaled`: PostgreSQL, Redis, two Rasa replicas, the action server, nginx on :5005, the demo page.

Installs PostgreSQL, Redis and nginx from Debian's packages when missing, keeps their data under
var/scaled/ (git-ignored), runs in the foreground and keeps every server running (scripts/supervise.py):
one that exits is started again, with a log line — a dead Rasa replica while nginx sends everything to
the other — and one that keeps crashing stops everything (exit 1). Ctrl-C stops everything.
docs/deployment.md explains it.
"""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from scripts import packages
from scripts.scaled import Scaled
from scripts.stack import ROOT
from scripts.supervise import MAX_RESTARTS, Supervisor


def banner(scaled: Scaled) -> str:
    replicas = ", ".join(f":{r.rasa_port}" for r in scaled.rasa)
    return (
        "\n==> the scaled-out assistant is ready\n"
        f"    nginx :{scaled.port}  REST round-robin, socket.io sticky  ->  Rasa replicas {replicas}\n"
        f"    action server :{scaled.action_port}   demo page: http://localhost:{scaled.web_port}/\n"
        f"    PostgreSQL :{scaled.postgres_port} (psql -h 127.0.0.1 -p {scaled.postgres_port} -U rasa rasa)"
        f"   Redis :{scaled.redis_port}\n"
        f"    data and logs: {scaled.workdir}/\n"
        "    A server that stops is started again; Ctrl-C stops everything.\n"
    )


def watch(scaled: Scaled, max_restarts: int = MAX_RESTARTS) -> int:
    """Supervise every server until Ctrl-C/SIGTERM (0), or until one keeps crashing (1)."""
    stopping = False

    def stop(*_) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    return Supervisor(scaled.children(), max_restarts=max_restarts).run(lambda: stopping)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=5005, help="nginx, the one public port")
    parser.add_argument("--action-port", type=int, default=5055)
    parser.add_argument("--web-port", type=int, default=8080, help="the demo page")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "scaled",
                        help="data and logs (default: var/scaled/)")
    parser.add_argument("--max-restarts", type=int, default=MAX_RESTARTS,
                        help="crashes in a row of one server, each soon after it started, before giving up")
    args = parser.parse_args(argv)
    try:
        packages.ensure(packages.NEEDS["scaled"])
    except packages.MissingPackages as error:  # not root, or apt-get failed
        print(f"error: {error}", file=sys.stderr)
        return 1
    scaled = Scaled(workdir=args.workdir.resolve(), port=args.port, action_port=args.action_port,
                    web_port=args.web_port,
                    replicas=args.replicas, listen="0.0.0.0", quiet=False)
    print(f"==> starting PostgreSQL, Redis, the action server, {args.replicas} Rasa replicas and nginx …", flush=True)
    # Ctrl-C while starting stops what started; children get the default SIGINT even if ours was ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        scaled.start(timeout=300)
    except KeyboardInterrupt:
        return 130
    except (RuntimeError, TimeoutError, OSError, subprocess.SubprocessError) as error:
        print(f"error: {error} (logs: {scaled.workdir / 'logs'})", file=sys.stderr)
        return 1
    print(banner(scaled), flush=True)
    try:
        code = watch(scaled, args.max_restarts)
    finally:
        print("\n==> stopping …", flush=True)
        scaled.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
