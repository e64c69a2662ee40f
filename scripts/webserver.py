"""Serve the demo brand page (web/demo/index.html) at / and the chat widget bundle (web/dist/widget.js).

Only those two paths: web/ also holds the widget's sources and node_modules, which are not for the public.
The widget's settings are the page's own ``data-`` attributes, written here (the assistant's name and greeting
from the knowledge base, the brand colour from :data:`DEMO_ATTRIBUTES`); nothing
in the URL changes them, so a crafted link cannot put its own text or links inside the brand's widget.
Under ``/insights`` it also serves the brand's insights page (addons/insights/page.py: closed unless
``INSIGHTS_TOKEN`` is set and given, with headers of its own); ``--tracker-db`` is the SQLite tracker store it
reads when ``TRACKER_DB_HOST`` does not name a PostgreSQL one.
Every other response carries a Content-Security-Policy (scripts from this server only, connections only to the Rasa
server, no framing), ``Referrer-Policy: no-referrer`` and a ``Server`` header that names no versions.
"""
from __future__ import annotations

import argparse
import html
import http.server
import os
import sys
from pathlib import Path
from typing import Dict, Optional, Tuple
from urllib.parse import urlsplit

from actions.knowledge import KnowledgeBase, KnowledgeBaseError, load_knowledge
from actions.knowledge.query import say
from addons.insights import page as insights

WEB = Path(__file__).resolve().parent.parent / "web"
PAGE = WEB / "demo" / "index.html"
BUNDLE = WEB / "dist" / "widget.js"
#: The widget's default Rasa port when the page gives no data-server-url (web/src/config.js).
DEFAULT_RASA_PORT = 5005

#: The demo brand's look, as the page's data- attributes (its name and greeting come from the knowledge base).
DEMO_ATTRIBUTES = {"primary-color": "#2f5d46"}


def widget_settings(kb: KnowledgeBase) -> Dict[str, str]:
    """The widget's title is the assistant's one name (the bot says the same when greeted); its first message
    is the knowledge base's widget greeting."""
    name = kb.assistant.name
    return {"title": name, **DEMO_ATTRIBUTES, "greeting": say(kb, "widget_greeting", name=name)}


def widget_attributes(rasa_url: Optional[str], kb: KnowledgeBase) -> str:
    """The data- attributes of the widget's <script> tag, HTML-escaped; no server URL: the widget's default."""
    values: Dict[str, str] = {**({"server-url": rasa_url} if rasa_url else {}), **widget_settings(kb)}
    return "".join(f' data-{name}="{html.escape(value, quote=True)}"' for name, value in values.items())


def demo_page(rasa_url: Optional[str], kb: KnowledgeBase) -> bytes:
    page = PAGE.read_text(encoding="utf-8")
    return page.replace("{{WIDGET_ATTRIBUTES}}", widget_attributes(rasa_url, kb)).encode()


def rasa_sources(rasa_url: Optional[str], page_host: str) -> str:
    """connect-src for the widget's socket.io: the Rasa server over http(s) (long-polling) and ws(s)."""
    if rasa_url:
        url = urlsplit(rasa_url)
        scheme, netloc = url.scheme, url.netloc
    else:  # the widget's default: the page's own host on Rasa's port
        host = urlsplit("//" + page_host).hostname or "localhost"
        scheme, netloc = "http", f"{f'[{host}]' if ':' in host else host}:{DEFAULT_RASA_PORT}"
    socket = "wss" if scheme == "https" else "ws"
    return f"{scheme}://{netloc} {socket}://{netloc}"


def content_security_policy(rasa_url: Optional[str], page_host: str) -> str:
    """Nothing but this server's script and the Rasa server; inline styles only (the page's and the widget's
    shadow-root <style>); never inside another site's frame."""
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        f"connect-src {rasa_sources(rasa_url, page_host)}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ])


class Handler(http.server.BaseHTTPRequestHandler):
    """GET/HEAD for / and /widget.js; everything else is 404."""

    rasa_url: Optional[str] = None
    kb: KnowledgeBase
    insights: Optional["insights.Insights"] = None
    server_version = "demo-page"  # no Python version in the Server header

    def version_string(self) -> str:
        return self.server_version

    def route(self) -> Optional[Tuple[str, bytes]]:
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            return "text/html; charset=utf-8", demo_page(self.rasa_url, self.kb)
        if url.path == "/widget.js":
            return "text/javascript; charset=utf-8", BUNDLE.read_bytes()
        return None

    def end_headers(self) -> None:
        """The same protective headers on every response, error pages included (the insights page: its own)."""
        if self.path.startswith("/insights"):
            super().end_headers()
            return
        self.send_header("Content-Security-Policy", content_security_policy(self.rasa_url, self.headers.get("Host", "")))
        self.send_header("X-Frame-Options", "DENY")  # frame-ancestors for browsers without CSP level 2
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def serve_insights(self, method: str, send_body: bool = True) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0) if method == "POST" else 0
        body = self.rfile.read(min(length, 10_000)) if length > 0 else b""
        reply = self.insights.handle(method, url.path, url.query, self.headers, body)
        self.send_response(reply.status)
        for name, value in {**reply.headers, "Content-Type": reply.content_type,
                            "Content-Length": str(len(reply.body))}.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(reply.body)

    def do_POST(self) -> None:
        if self.path.startswith("/insights") and self.insights is not None:
            self.serve_insights("POST")
        else:
            self.send_error(405 if self.route() else 404)

    def do_GET(self, send_body: bool = True) -> None:
        if self.path.startswith("/insights") and self.insights is not None:
            self.serve_insights("HEAD" if not send_body else "GET", send_body)
            return
        found = self.route()
        if found is None:
            self.send_error(404)
            return
        content_type, body = found
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET(send_body=False)

    def log_message(self, format, *args):  # quiet: the page is static
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default=None,
                        help="the Rasa server the widget talks to (default: the page's host, port 5005)")
    parser.add_argument("--tracker-db", type=Path, default=Path(__file__).resolve().parent.parent / "var" / "tracker.db",
                        help="the SQLite tracker store the insights page reads (unless TRACKER_DB_HOST is set)")
    args = parser.parse_args()
    try:
        kb = load_knowledge()  # $PROTOCOL_KB_PATH, as the action server reads it
    except KnowledgeBaseError as error:
        print(f"error: the knowledge base is not valid — the demo page cannot start.\n{error}", file=sys.stderr)
        raise SystemExit(2) from None
    page = insights.from_environment(os.environ, args.tracker_db, f"{kb.assistant.name}: insights")
    handler = type("DemoHandler", (Handler,), {"rasa_url": args.rasa_url, "kb": kb, "insights": page})
    with http.server.ThreadingHTTPServer(("0.0.0.0", args.port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
