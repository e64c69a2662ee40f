"""The widget against hostile bot output and an unreachable server: a stand-in socket.io server on loopback
(fake_socket_server.py) plays the Rasa channel, since the real bot never sends markup like this, nor vanishes."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from fake_socket_server import FakeSocketServer
from demo_server import demo_page
from scripts.stack import free_port
from widget_steps import ask, bot_messages, open_chat, pwned, textbox, user_messages, wait_until

pytestmark = pytest.mark.browser

HOSTILE = (
    "**Bold** and _italic_ text\n\n"
    "- first\n- second\n\n"
    "[a safe link](https://example.com/guide) [a script link](javascript:window.__pwned=1) "
    "[a data link](data:text/html,<script>window.__pwned=1</script>)\n"
    '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
    '<a href="https://example.com" onclick="window.__pwned=1">raw link</a><iframe src="javascript:1"></iframe>'
)
REPLIES = {
    "show me markup": {"text": HOSTILE},
    "think slowly": {"text": "Done thinking.", "delay": 2},
    "offer buttons": {"text": "Pick one", "quick_replies": [
        {"content_type": "text", "title": "<b>Yes</b> please", "payload": "/affirm"}]},
}


@pytest.fixture(scope="module")
def fake():
    server = FakeSocketServer(free_port(), REPLIES)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def fake_page_url(fake, tmp_path_factory):
    """The demo page (the real web server), its widget pointed at the stand-in."""
    with demo_page(fake.port, tmp_path_factory.mktemp("web")) as url:
        yield url


@pytest.fixture
def online(fake):
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def test_bot_markdown_renders_but_no_markup_runs(page, fake_page_url, online):
    open_chat(page, fake_page_url)
    ask(page, "show me markup")
    answer = bot_messages(page).nth(1)
    expect(answer.locator("strong")).to_have_text("Bold")
    expect(answer.locator("em")).to_have_text("italic")
    expect(answer.locator("li")).to_have_text(["first", "second"])
    expect(answer.locator("img, script, iframe")).to_have_count(0)
    links = answer.locator("a[href]")
    expect(links).to_have_count(2)  # the https ones; javascript: and data: lose their href
    for i in range(2):
        expect(links.nth(i)).to_have_attribute("href", re.compile(r"^https://example\.com"))
        expect(links.nth(i)).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(answer.locator("[onclick], [onerror]")).to_have_count(0)
    answer.get_by_text("a script link").click()
    assert pwned(page) is None


def test_quick_reply_titles_are_text_and_send_the_payload(page, fake_page_url, online):
    open_chat(page, fake_page_url)
    ask(page, "offer buttons")
    button = page.get_by_role("button", name="<b>Yes</b> please")
    expect(button).to_be_visible()
    button.click()
    expect(user_messages(page).last.locator(".text")).to_have_text("<b>Yes</b> please")
    expect(bot_messages(page).last).to_have_text(re.compile("Noted"))
    assert online.received[-1]["message"] == "/affirm"


def test_typing_indicator_while_the_bot_thinks(page, fake_page_url, online):
    open_chat(page, fake_page_url)
    ask(page, "think slowly")
    typing = page.get_by_text("The assistant is typing")
    expect(typing).to_be_attached()
    expect(page.locator(".typing")).to_be_visible()
    expect(bot_messages(page).last.locator(".text")).to_have_text("Done thinking.")
    expect(page.locator(".typing")).to_be_hidden()


def test_the_log_follows_new_messages(page, fake_page_url, online):
    open_chat(page, fake_page_url)
    for i in range(12):
        ask(page, f"message {i}")
        expect(bot_messages(page)).to_have_count(i + 2)  # the greeting, then one reply per message
    at_bottom = "() => { const log = document.querySelector('[data-chat-widget]').shadowRoot.querySelector('.log');" \
                " return log.scrollHeight > log.clientHeight && log.scrollTop + log.clientHeight >= log.scrollHeight - 2; }"
    wait_until(page, at_bottom, timeout=5)


#: Records the connection status each time the typing dots appear.
RECORD_TYPING = """() => {
    window.__typingShown = [];
    const root = document.querySelector('[data-chat-widget]').shadowRoot;
    const typing = root.querySelector('.typing');
    new MutationObserver(() => {
        if (!typing.hidden) window.__typingShown.push(root.querySelector('.panel').dataset.status);
    }).observe(typing, {attributes: true, attributeFilter: ['hidden']});
}"""


def test_unreachable_server_shows_it_queues_and_recovers(page, fake_page_url, fake):
    open_chat(page, fake_page_url)  # nothing listens on the server's port yet
    status = page.get_by_role("status").filter(has_text="Can't reach the assistant")
    expect(status).to_be_visible()
    page.evaluate(RECORD_TYPING)
    ask(page, "hello while offline")
    expect(user_messages(page).last).to_contain_text("hello while offline")  # kept, to send later
    assert page.evaluate("() => window.__typingShown") == []  # no dots: nothing has gone to anyone yet

    fake.start()
    try:
        expect(status).to_be_hidden(timeout=20_000)  # socket.io retries on its own
        expect(bot_messages(page).last).to_have_text(re.compile("Noted"))
        assert page.evaluate("() => window.__typingShown") == ["online"]  # once it was really sent
        sent = fake.received[-1]
        assert sent["message"] == "hello while offline"
        assert sent["session_id"] in fake.issued  # the id the server confirmed, not one of the widget's own
    finally:
        fake.stop()
    expect(page.get_by_role("status").filter(has_text=re.compile("Reconnecting|Can't reach"))).to_be_visible()
    expect(textbox(page)).to_be_enabled()
