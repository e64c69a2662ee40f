"""The hand-off in the real widget in Chromium: the agent's messages appear without the shopper typing."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.widget_steps import ask, bot_said, connected, open_chat, user_messages

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_an_agent_joins_and_talks_in_the_widget_then_hands_back(page, handoff_stack, care, sam):
    open_chat(page, f"http://127.0.0.1:{handoff_stack.web_port}/")
    connected(page)
    before = len(care.cards())
    ask(page, "can I talk to a person?")
    expect(bot_said(page, "connecting you with the care team")).to_be_visible()
    card = care.new_card(before)

    assert care.click(card, "handoff_take", sam)[0] == 200
    joined = bot_said(page, "from the care team has joined")
    expect(joined).to_be_visible()
    expect(joined.locator("strong")).to_have_text("Sam")
    assert care.reply(card, sam, "Hello! Tell me what you noticed.")[0] == 200
    expect(bot_said(page, "Tell me what you noticed.")).to_be_visible()
    expect(user_messages(page)).to_have_count(1)  # it came without the shopper sending anything

    ask(page, "a few small bumps on my chin")
    assert "a few small bumps on my chin" in care.wait_thread(card, "small bumps")
    assert care.click(card, "handoff_back", sam)[0] == 200
    expect(bot_said(page, "You're back with the assistant")).to_be_visible()


def test_the_contact_link_the_widget_shows_is_a_working_mailto_link(page, timeout_stack, care_slack):
    from tests.handoff.conftest import CareTeam

    care = CareTeam(timeout_stack, care_slack)
    open_chat(page, f"http://127.0.0.1:{timeout_stack.web_port}/")
    connected(page)
    ask(page, "can I talk to a person?")
    told = bot_said(page, "could join within")
    expect(told).to_be_visible()
    expect(told.locator("a")).to_have_attribute("href", "mailto:care@brand.example")
    assert care.cards()
