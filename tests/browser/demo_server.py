"""Only the demo web server (scripts/webserver.py, as `make run` starts it), for tests that need no Rasa."""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from scripts.stack import Stack, free_port, http_ok


@contextmanager
def demo_page(rasa_port: int, workdir: Path, timeout: float = 30.0) -> Iterator[str]:
    """Serves the demo page, its widget pointed at localhost:``rasa_port``; yields the page's URL; always stops."""
    stack = Stack(rasa_port=rasa_port, web_port=free_port(), workdir=workdir, quiet=True)
    url = f"http://127.0.0.1:{stack.web_port}/"
    try:
        stack.start_web()
        deadline = time.monotonic() + timeout
        while not http_ok(url):
            assert time.monotonic() < deadline, "the demo web server did not start"
            time.sleep(0.2)
        yield url
    finally:
        stack.stop()
