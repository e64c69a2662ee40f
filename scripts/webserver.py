"""Serve the demo brand page (web/demo/index.html) at / and the chat widget bundle (web/dist/widget.js).

Only those two paths: web/ also holds the widget's sources and node_modules, which are not for the public.
The page's widget attributes can be previewed with query parameters, e.g. /?primary-color=%23ffd400&title=Hi
"""
from __future__ import annotations

import argparse
import html
import http.server
from pathlib import Path
from typing import Dict, Optional, Tuple
from urllib.parse import parse_qsl, urlsplit

WEB = Path(__file__).resolve().parent.parent / "web"
PAGE = WEB / "demo" / "index.html"
BUNDLE = WEB / "dist" / "widget.js"


#: The demo brand's widget settings; a query parameter of the same name overrides one (a brand's preview).
DEMO_ATTRIBUTES = {
    "title": "Lumé skincare guide",
    "primary-color": "#2f5d46",
    "greeting": "Hi, I'm the Lumé skincare guide. Ask me how to use the serum — for example "
                "*how long should it absorb?* — or say **walk me through it**.",
}


def widget_attributes(rasa_url: Optional[str], query: str = "") -> str:
    """The data- attributes of the widget's <script> tag, HTML-escaped; no server URL: the widget's default."""
    overrides = {k: v for k, v in parse_qsl(query) if k in DEMO_ATTRIBUTES}
    values: Dict[str, str] = {**({"server-url": rasa_url} if rasa_url else {}), **DEMO_ATTRIBUTES, **overrides}
    return "".join(f' data-{name}="{html.escape(value, quote=True)}"' for name, value in values.items())


def demo_page(rasa_url: Optional[str], query: str = "") -> bytes:
    page = PAGE.read_text(encoding="utf-8")
    return page.replace("{{WIDGET_ATTRIBUTES}}", widget_attributes(rasa_url, query)).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    """GET/HEAD for / and /widget.js; everything else is 404."""

    rasa_url: Optional[str] = None

    def route(self) -> Optional[Tuple[str, bytes]]:
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            return "text/html; charset=utf-8", demo_page(self.rasa_url, url.query)
        if url.path == "/widget.js":
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
