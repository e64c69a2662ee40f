"""The widget on the demo page, talking to the real Rasa server over socket.io, in a real Chromium."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from addons.session import Sessions
from widget_steps import (ABSORB_RANGE, INJECTION, ask, bot_said, bot_messages, connected, open_chat, panel,
                    pwned, user_messages, wait_until)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def issued_by(stack, session: str) -> bool:
    """Whether ``session`` is a session id that ``stack``'s Rasa server signed (addons/session.py)."""
    secret = Path(stack.workdir, "session-secret").read_text().strip()
    return Sessions(secret).verify(session) is not None


def test_question_gets_an_answer_with_timestamps(page, demo_url):
    open_chat(page, demo_url)
    ask(page, "how long should the serum absorb?")
    expect(user_messages(page).last).to_have_text(re.compile("how long should the serum absorb?"))
    expect(bot_said(page, ABSORB_RANGE)).to_be_visible()
    expect(bot_messages(page).last.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    expect(page.locator(".typing")).to_be_hidden()


def test_bot_markdown_is_rendered_not_shown_raw(page, demo_url):
    open_chat(page, demo_url)
    ask(page, "how long should the serum absorb?")
    answer = bot_said(page, ABSORB_RANGE)
    expect(answer).to_be_visible()
    expect(answer.locator("em")).to_contain_text("Source:")  # the "_Source: …_" line, in italics
    expect(answer).not_to_contain_text("_Source")


def test_quick_reply_sends_its_payload_and_shows_its_title(page, demo_url):
    open_chat(page, demo_url)
    ask(page, "hi")
    button = page.get_by_role("button", name="How do I use the serum?")
    expect(button).to_be_visible()
    answers_before = bot_messages(page).count()
    button.click()
    expect(user_messages(page).last).to_contain_text("How do I use the serum?")
    expect(user_messages(page).last).not_to_contain_text("/ask_routine")
    expect(bot_messages(page)).not_to_have_count(answers_before)
    expect(bot_messages(page).nth(answers_before)).to_contain_text(re.compile("serum", re.I))
    expect(page.get_by_role("button", name="How do I use the serum?")).to_have_count(0)  # answered: gone


def test_html_and_script_from_the_user_stay_inert_text(page, demo_url):
    open_chat(page, demo_url)
    connected(page)
    ask(page, INJECTION)
    mine = user_messages(page).last.locator(".text")
    expect(mine).to_have_text(INJECTION)
    expect(page.locator("[data-chat-widget]").locator("img, .log script")).to_have_count(0)
    expect(bot_messages(page).nth(1)).to_be_visible()  # the bot answered (after the greeting): it went through
    assert pwned(page) is None
    page.reload()
    expect(user_messages(page).last.locator(".text")).to_have_text(INJECTION)  # restored as text too
    assert pwned(page) is None


def test_reload_keeps_the_conversation(page, demo_url, web_stack):
    open_chat(page, demo_url)
    ask(page, "how long should the serum absorb?")
    expect(bot_said(page, ABSORB_RANGE)).to_be_visible()
    texts = page.locator(".message .text").all_text_contents()
    session = page.evaluate("() => Object.entries(localStorage).find(([k]) => k.endsWith(':session'))[1]")
    assert issued_by(web_stack, session)  # the server's signed session id, kept for the next visit

    page.reload()
    expect(panel(page)).to_be_visible()  # it was open: it stays open
    expect(page.locator(".message .text")).to_have_text(texts)
    answers = bot_messages(page).count()
    ask(page, "how much serum do I use?")  # the same session carries on, and replies still arrive
    expect(bot_messages(page)).not_to_have_count(answers)
    assert page.evaluate("() => Object.entries(localStorage).find(([k]) => k.endsWith(':session'))[1]") == session


def test_each_visitor_gets_their_own_random_session(browser, demo_url):
    sessions = set()
    for _ in range(2):
        context = browser.new_context()
        try:
            page = context.new_page()
            open_chat(page, demo_url)
            connected(page)
            sessions.add(page.evaluate("() => Object.entries(localStorage).find(([k]) => k.endsWith(':session'))[1]"))
        finally:
            context.close()
    assert len(sessions) == 2


def test_reminder_arrives_without_the_user_sending_anything(page, demo_url):
    open_chat(page, demo_url)
    ask(page, "remind me in 3 seconds")
    expect(bot_said(page, "remind you in 3 seconds")).to_be_visible()
    sent = user_messages(page).count()
    expect(bot_said(page, "Time's up")).to_be_visible(timeout=30_000)
    assert user_messages(page).count() == sent


def test_reminder_reaches_the_page_after_a_reload(page, demo_url):
    """The reloaded page rejoins its session's room (confirmed) well before the reminder is due."""
    open_chat(page, demo_url)
    due = time.monotonic() + 15  # at the earliest: Rasa schedules it after this
    ask(page, "remind me in 15 seconds")
    expect(bot_said(page, "remind you in 15 seconds")).to_be_visible()
    page.reload()
    expect(bot_said(page, "remind you in 15 seconds")).to_be_visible()
    connected(page)
    assert time.monotonic() < due, "the reload took longer than the reminder: nothing left to test"
    assert bot_messages(page).filter(has_text="Time's up").count() == 0  # not there yet: it comes to this page
    expect(bot_said(page, "Time's up")).to_be_visible(timeout=45_000)


def test_a_long_reply_is_read_from_its_top_and_cites_in_small_print(page, demo_url):
    """The whole routine is taller than the chat log: it arrives scrolled to its first line, not its end."""
    open_chat(page, demo_url)
    ask(page, "what is my whole routine? I am oily with dark spots")
    answer = bot_said(page, "Here's the")
    expect(answer).to_be_visible()
    wait_until(page, """() => {  // the log scrolls smoothly: until it stops
        const log = [...document.querySelectorAll('*')].find(e => e.shadowRoot).shadowRoot.querySelector('.log');
        const moved = log.scrollTop !== window.__lastTop;
        window.__lastTop = log.scrollTop;
        return !moved;
    }""")
    top_visible = page.evaluate("""() => {
        const root = document.querySelector('#exosome-chat, [data-chat-widget]')?.shadowRoot
                     || [...document.querySelectorAll('*')].find(e => e.shadowRoot)?.shadowRoot;
        const log = root.querySelector('.log');
        const item = [...root.querySelectorAll('.message.bot')].pop();
        const logBox = log.getBoundingClientRect(), box = item.getBoundingClientRect();
        return {taller: box.height > logBox.height, topShown: box.top >= logBox.top - 1 && box.top < logBox.bottom};
    }""")
    assert top_visible == {"taller": True, "topShown": True}
    source = answer.locator("p.source")
    expect(source).to_contain_text("Source:")
    assert float(source.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) < 14
