"""`make shell`: talk to the assistant in the terminal, beside a running `make run`.

`rasa shell` starts a Rasa server of its own, on port 5005 unless told otherwise, and `make run` holds that port.
This runs it on a free port instead. It uses `make run`'s action server when one answers on :5055, else starts
its own on a free port and stops it on exit. The shell's conversations are kept under var/shell/.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from typing import List, Optional

from scripts.stack import BIN, MODEL, ROOT, Stack, free_port, http_ok


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--action-port", type=int, default=5055, help="an action server already running here is used")
    args = parser.parse_args(argv)
    # its action server in the shell's own process group: Ctrl-C, or a kill of the shell's group, stops it too
    stack = Stack(rasa_port=free_port(), action_port=args.action_port, web_port=None, workdir=ROOT / "var" / "shell",
                  quiet=True, own_groups=False)
    try:
        if http_ok(f"http://127.0.0.1:{stack.action_port}/health"):
            print(f"==> using the action server on :{stack.action_port}", flush=True)
        else:
            stack.action_port = free_port()
            print(f"==> starting an action server on :{stack.action_port}", flush=True)
            stack.start_actions()
            deadline = time.monotonic() + 120
            while not http_ok(f"http://127.0.0.1:{stack.action_port}/health"):
                if stack.processes["actions"].poll() is not None or time.monotonic() > deadline:
                    print(f"error: the action server did not start (log: {stack.workdir}/)", file=sys.stderr)
                    return 1
                time.sleep(0.5)
        print(f"==> rasa shell on :{stack.rasa_port} (type /stop or press Ctrl-C to leave)", flush=True)
        # through the one server entry point (addons/server.py: Rasa checked and tuned), as make run
        return subprocess.call([str(BIN / "python"), "-m", "addons.server", "shell", "--model", str(MODEL), "-p", str(stack.rasa_port),
                                "--endpoints", str(stack.endpoints_file())], cwd=ROOT, env=stack._env())
    except KeyboardInterrupt:
        return 130
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
