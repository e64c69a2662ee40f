"""What a visitor does with the widget, as Playwright steps (locators pierce the widget's open shadow root)."""
from __future__ import annotations

import re
import time
from typing import Pattern, Union

from playwright.sync_api import Locator, Page, expect

INJECTION = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'


def launcher(page: Page) -> Locator:
    return page.get_by_role("button", name="Open chat")


def textbox(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Type your message")


def panel(page: Page) -> Locator:
    return page.locator(".panel")


def bot_messages(page: Page) -> Locator:
    return page.locator(".message.bot")


def user_messages(page: Page) -> Locator:
    return page.locator(".message.user")


def open_chat(page: Page, url: str) -> None:
    page.goto(url)
    launcher(page).click()
    expect(textbox(page)).to_be_focused()


def connected(page: Page) -> None:
    """The session is confirmed: the widget is in its session's room, so replies and reminders reach it."""
    expect(page.locator(".panel[data-status=online]")).to_have_count(1)


def ask(page: Page, text: str) -> None:
    textbox(page).fill(text)
    textbox(page).press("Enter")


def bot_said(page: Page, text: Union[str, Pattern]) -> Locator:
    """Bot messages containing ``text``; ``expect(...).to_be_visible()`` waits for the first."""
    return bot_messages(page).filter(has_text=text).first


def pwned(page: Page):
    return page.evaluate("() => window.__pwned")


ABSORB_RANGE = re.compile(r"5\s*[–-]\s*15 minutes")


def wait_until(page: Page, predicate: str, timeout: float = 10.0) -> None:
    """Poll ``predicate`` (a JS function) until it returns true. Not ``page.wait_for_function``: that evaluates a
    string inside the page, which the demo page's Content-Security-Policy (no 'unsafe-eval') refuses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):
        assert time.monotonic() < deadline, f"not true after {timeout}s: {predicate}"
        page.wait_for_timeout(100)
