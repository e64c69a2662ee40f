"""Serve the demo brand page (web/demo/index.html) at / and the chat widget bundle (web/dist/widget.js).

Only those two paths: web/ also holds the widget's sources and node_modules, which are not for the public.
"""
from __future__ import annotations

import argparse
import html
import http.server
from pathlib import Path
from typing import Optional, Tuple

WEB = Path(__file__).resolve().parent.parent / "web"
PAGE = WEB / "demo" / "index.html"
BUNDLE = WEB / "dist" / "widget.js"


def demo_page(rasa_url: Optional[str]) -> bytes:
    """The page, pointing its widget at ``rasa_url`` (else the widget's default: this host, port 5005)."""
    attribute = f' data-server-url="{html.escape(rasa_url, quote=True)}"' if rasa_url else ""
    return PAGE.read_text(encoding="utf-8").replace("{{SERVER_ATTRIBUTE}}", attribute).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    """GET/HEAD for / and /widget.js; everything else is 404."""

    rasa_url: Optional[str] = None

    def route(self) -> Optional[Tuple[str, bytes]]:
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            return "text/html; charset=utf-8", demo_page(self.rasa_url)
        if path == "/widget.js":
            return "text/javascript; charset=utf-8", BUNDLE.read_bytes()
        return None

    def do_GET(self, send_body: bool = True) -> None:
        found = self.route()
        if found is None:
            self.send_error(404)
            return
        content_type, body = found
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET(send_body=False)

    def log_message(self, format, *args):  # quiet: the page is static
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default=None,
                        help="the Rasa server the widget talks to (default: the page's host, port 5005)")
    args = parser.parse_args()
    handler = type("DemoHandler", (Handler,), {"rasa_url": args.rasa_url})
    with http.server.ThreadingHTTPServer(("0.0.0.0", args.port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
