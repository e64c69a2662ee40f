"""Serve the demo brand page and the chat widget from web/ (static files only)."""
from __future__ import annotations

import argparse
import functools
import http.server
from pathlib import Path

WEB = Path(__file__).resolve().parent.parent / "web"


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # quiet: the page is static
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default="http://localhost:5005")
    args = parser.parse_args()
    WEB.mkdir(exist_ok=True)
    handler = functools.partial(Handler, directory=str(WEB))
    with http.server.ThreadingHTTPServer(("0.0.0.0", args.port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
