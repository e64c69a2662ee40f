"""`make run-scaled`: PostgreSQL, Redis, two Rasa replicas, the action server, nginx on :5005, the demo page.

Installs PostgreSQL, Redis and nginx from Debian's packages when missing, keeps their data under
var/scaled/ (git-ignored), runs in the foreground; Ctrl-C stops everything. docs/deployment.md explains it.
"""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from typing import List, Optional

from scripts import packages
from scripts.scaled import Scaled
from scripts.stack import ROOT


def banner(scaled: Scaled) -> str:
    replicas = ", ".join(f":{r.rasa_port}" for r in scaled.rasa)
    return (
        "\n==> the scaled-out assistant is ready\n"
        f"    nginx :{scaled.port}  REST round-robin, socket.io sticky  ->  Rasa replicas {replicas}\n"
        f"    action server :{scaled.action_port}   demo page: http://localhost:{scaled.web_port}/\n"
        f"    PostgreSQL :{scaled.postgres_port} (psql -h 127.0.0.1 -p {scaled.postgres_port} -U rasa rasa)"
        f"   Redis :{scaled.redis_port}\n"
        f"    data and logs: {scaled.workdir.relative_to(ROOT)}/\n"
        "    Ctrl-C stops everything.\n"
    )


def watch(scaled: Scaled) -> None:
    """Return on Ctrl-C/SIGTERM, or as soon as any child stops."""
    stopping = False

    def stop(*_) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        for name, process in scaled.processes.items():
            if process.poll() is not None:
                print(f"error: {name} stopped (exit code {process.returncode}); stopping the rest", file=sys.stderr)
                return
        time.sleep(0.5)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=5005, help="nginx, the one public port")
    parser.add_argument("--action-port", type=int, default=5055)
    parser.add_argument("--web-port", type=int, default=8080, help="the demo page")
    args = parser.parse_args(argv)
    try:
        packages.ensure(packages.NEEDS["scaled"])
    except packages.MissingPackages as error:  # not root, or apt-get failed
        print(f"error: {error}", file=sys.stderr)
        return 1
    scaled = Scaled(workdir=ROOT / "var" / "scaled", port=args.port, action_port=args.action_port,
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
        watch(scaled)
    finally:
        print("\n==> stopping …", flush=True)
        scaled.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
