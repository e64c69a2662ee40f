"""Answer feedback in the widget, in real Chromium against the real servers: 👍/👎 under a protocol answer,
by keyboard, the optional "what was missing?", what the tracker store keeps, and what a reload shows."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from actions.knowledge import load_knowledge
from test_widget_accessibility import AXE, serious_violations
from tests.feedback.store import feedback_records, wait_for_records
from widget_steps import ABSORB_RANGE, ask, bot_messages, bot_said, open_chat

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PHRASES = {name: p.text for name, p in load_knowledge().phrases.items() if name.startswith("feedback_")}


def rating_group(page):
    return page.get_by_role("group", name=PHRASES["feedback_ask"])


def test_a_thumbs_down_by_keyboard_then_a_comment_is_stored_with_the_answer(page, demo_url, web_stack):
    open_chat(page, demo_url)
    ask(page, "how long should the serum absorb?")
    answer = bot_said(page, ABSORB_RANGE)
    expect(answer).to_be_visible()
    group = rating_group(page).last
    expect(group).to_be_visible()
    expect(bot_messages(page).last.get_by_role("group", name=PHRASES["feedback_ask"])).to_have_count(1)
    down = group.get_by_role("button", name=PHRASES["feedback_down"], exact=True)
    expect(down).to_have_attribute("aria-pressed", "false")

    down.focus()
    page.keyboard.press("Enter")
    thanks = page.get_by_role("status").filter(has_text=PHRASES["feedback_thanks"])
    expect(thanks).to_be_visible()  # the server stored it and said so
    expect(page.locator(".typing")).to_be_hidden()  # a rating is not a message: no typing dots, no bubble
    expect(page.locator(".message.user")).to_have_count(1)
    comment = page.get_by_role("textbox", name=PHRASES["feedback_missing"])
    expect(comment).to_be_focused()  # the keyboard user is taken to the optional comment
    comment.fill("what if I only have two minutes")
    comment.press("Enter")
    expect(page.get_by_role("status").filter(has_text=PHRASES["feedback_noted"])).to_be_visible()
    expect(comment).to_have_count(0)

    records = wait_for_records(web_stack.workdir / "tracker.db",
                               lambda r: any(x.get("comment") == "what if I only have two minutes" for x in r),
                               "socketio:%")
    mine = [r for r in records if r["id"] == records[-1]["id"]]
    assert [(r["rating"], r["comment"]) for r in mine] == [("down", None), ("down", "what if I only have two minutes")]
    assert (mine[0]["topic"], mine[0]["aspect"], mine[0]["sections"][0]) == ("absorption", "duration",
                                                                              "step_2_absorption")

    page.reload()  # the panel stays open across the reload
    expect(bot_said(page, ABSORB_RANGE)).to_be_visible()
    expect(page.get_by_text(PHRASES["feedback_noted"]).or_(page.get_by_text(PHRASES["feedback_thanks"]))).to_be_visible()
    expect(page.get_by_role("button", name=PHRASES["feedback_down"], exact=True)).to_have_count(0)  # rated once, not again


def test_a_thumbs_up_is_stored_and_small_talk_has_no_rating(page, demo_url, web_stack):
    open_chat(page, demo_url)
    ask(page, "hi")
    expect(page.locator(".reply").first).to_be_visible()
    expect(rating_group(page)).to_have_count(0)  # a greeting is not a protocol answer
    ask(page, "can I use retinol after the serum?")
    group = rating_group(page).last
    expect(group).to_be_visible()
    group.get_by_role("button", name=PHRASES["feedback_up"], exact=True).click()
    expect(page.get_by_role("status").filter(has_text=PHRASES["feedback_thanks"])).to_be_visible()
    expect(page.get_by_role("textbox", name=PHRASES["feedback_missing"])).to_have_count(0)  # only after a 👎
    records = wait_for_records(web_stack.workdir / "tracker.db",
                               lambda r: any(x["rating"] == "up" and "retinoid" in str(x) for x in r), "socketio:%")
    assert any(r["rating"] == "up" and r["comment"] is None for r in records)


@pytest.fixture
def axe_page(context):
    page = context.new_page()
    page.add_init_script(path=str(AXE))
    return page


def test_the_rating_controls_pass_axe_and_are_44px_targets(axe_page, demo_url):
    page = axe_page
    open_chat(page, demo_url)
    ask(page, "how long should the serum absorb?")
    expect(rating_group(page).last).to_be_visible()
    sizes = page.locator("[data-chat-widget]").evaluate("""(host) => [...host.shadowRoot.querySelectorAll(".rate")]
        .map((b) => [b.getAttribute("aria-label"), b.getBoundingClientRect().width, b.getBoundingClientRect().height])""")
    assert len(sizes) == 2 and all(w >= 44 and h >= 44 for _, w, h in sizes), sizes
    assert serious_violations(page) == []
    rating_group(page).last.get_by_role("button", name=PHRASES["feedback_down"], exact=True).click()
    expect(page.get_by_role("textbox", name=PHRASES["feedback_missing"])).to_be_visible()
    assert serious_violations(page) == []  # with the comment box open
