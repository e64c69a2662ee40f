"""`make run`: the action server (:5055), the Rasa server (:5005, REST + socket.io) and the demo page (:8080).

Runs in the foreground and keeps the three running (scripts/supervise.py): a server that exits is started
again, with a log line, after a pause that grows while it keeps exiting; meanwhile the others go on (the
Rasa server answers "I can't answer that right now" while the action server is down). A server that keeps
crashing makes it stop everything and exit 1. Ctrl-C stops every child.
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import List, Optional

from scripts.stack import ROOT, Stack
from scripts.supervise import MAX_RESTARTS, Supervisor


def banner(stack: Stack) -> str:
    return (
        "\n==> the assistant is ready\n"
        f"    demo page + chat widget: http://localhost:{stack.web_port}/\n"
        f"    REST:  curl -s localhost:{stack.rasa_port}/webhooks/rest/webhook -H 'Content-Type: application/json' \\\n"
        "             -d '{\"sender\": \"me\", \"message\": \"how long should the serum absorb?\"}'\n"
        "    shell: make shell   (in another terminal)\n"
        "    A server that stops is started again; Ctrl-C stops everything.\n"
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa-port", type=int, default=5005)
    parser.add_argument("--action-port", type=int, default=5055)
    parser.add_argument("--web-port", type=int, default=8080, help="the demo page")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var",
                        help="conversations (tracker.db) and generated endpoints (default: var/)")
    parser.add_argument("--max-restarts", type=int, default=MAX_RESTARTS,
                        help="crashes in a row of one server, each soon after it started, before giving up")
    args = parser.parse_args(argv)
    stack = Stack(rasa_port=args.rasa_port, action_port=args.action_port, web_port=args.web_port,
                  workdir=args.workdir.resolve())
    stopping = False

    def stop(*_) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print("==> starting the action server, the Rasa server and the demo page …", flush=True)
    try:
        stack.start_actions()
        stack.start_rasa()
        stack.start_web()
        stack.wait_ready(timeout=300)
    except (RuntimeError, TimeoutError) as error:
        print(f"error: {error}", file=sys.stderr)
        stack.stop()
        return 1
    print(banner(stack), flush=True)
    code = Supervisor(stack.children(), max_restarts=args.max_restarts).run(lambda: stopping)
    print("\n==> stopping …", flush=True)
    stack.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
