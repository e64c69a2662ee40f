"""`make run`: the action server (:5055), the Rasa server (:5005, REST + socket.io) and the demo page (:8080).

Runs in the foreground; Ctrl-C stops every child.
"""
from __future__ import annotations

import signal
import sys
import time

from scripts.stack import Stack


def main() -> int:
    stack = Stack(rasa_port=5005, action_port=5055, web_port=8080)
    stopping = False

    def stop(*_):
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
    print(
        "\n==> the assistant is ready\n"
        "    demo page + chat widget: http://localhost:8080/\n"
        "    REST:  curl -s localhost:5005/webhooks/rest/webhook -H 'Content-Type: application/json' \\\n"
        "             -d '{\"sender\": \"me\", \"message\": \"how long should the serum absorb?\"}'\n"
        "    shell: make shell   (in another terminal)\n"
        "    Ctrl-C stops everything.\n",
        flush=True,
    )
    while not stopping:
        for name, process in list(stack.processes.items()):
            if process.poll() is not None:
                print(f"error: the {name} server stopped (exit code {process.returncode}); stopping the rest",
                      file=sys.stderr)
                stopping = True
        time.sleep(0.5)
    print("\n==> stopping …", flush=True)
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
