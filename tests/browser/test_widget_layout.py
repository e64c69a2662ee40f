"""Accessibility, phone layout and colour contrast of the widget on the demo page (real stack, real Chromium)."""
from __future__ import annotations

import re
import json
from typing import Dict, List, Tuple

import pytest
from playwright.sync_api import Page, expect

from widget_steps import ABSORB_RANGE, ask, bot_said, connected, launcher, open_chat, panel, textbox

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

AA = 4.5
#: Text the visitor reads, as CSS selectors inside the widget (pairs are measured against their backdrop).
TEXTS = {"title": ".title", "user text": ".message.user .text", "bot text": ".message.bot .text",
         "timestamp": ".message .time", "quick reply": ".reply", "send button": ".send", "launcher": ".launcher"}
COLOURS_JS = """(host, selectors) => {
  const root = host.shadowRoot;
  const backdrop = (el) => {
    for (; el; el = el.parentElement || (el.getRootNode() && el.getRootNode().host)) {
      const colour = getComputedStyle(el).backgroundColor;
      if (colour !== "rgba(0, 0, 0, 0)" && colour !== "transparent") return colour;
    }
    return "rgb(255, 255, 255)";
  };
  const pairs = {};
  for (const [name, selector] of Object.entries(selectors)) {
    const el = root.querySelector(selector);
    if (el) pairs[name] = [getComputedStyle(el).color, backdrop(el)];
  }
  const input = root.querySelector(".input");
  pairs.placeholder = [getComputedStyle(input, "::placeholder").color, backdrop(input)];
  return pairs;
}"""


def rgb(css: str) -> Tuple[float, ...]:
    return tuple(float(v) for v in re.findall(r"[\d.]+", css)[:3])


def contrast(a: str, b: str) -> float:
    def luminance(css: str) -> float:
        def channel(v: float) -> float:
            c = v / 255
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b_ = (channel(v) for v in rgb(css))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_

    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def low_contrast(page: Page) -> List[str]:
    """Every measured text/backdrop pair below WCAG AA, described."""
    pairs: Dict[str, list] = page.locator("[data-chat-widget]").evaluate(COLOURS_JS, TEXTS)
    assert set(TEXTS) - {"launcher"} <= set(pairs), f"not all texts were measured: {sorted(pairs)}"
    return [f"{name}: {fg} on {bg} = {contrast(fg, bg):.2f}" for name, (fg, bg) in pairs.items()
            if contrast(fg, bg) < AA]


def test_accessible_names_and_focus(page, demo_url):
    page.goto(demo_url)
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    launcher(page).click()
    dialog = page.get_by_role("dialog", name="Lumé skincare guide")
    expect(dialog).to_be_visible()
    expect(textbox(page)).to_be_focused()  # focus moves into the panel
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(page.get_by_role("log", name="Conversation")).to_be_visible()

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher(page)).to_be_focused()  # and back to the launcher on close

    page.keyboard.press("Enter")  # the launcher is a real button: the keyboard opens it
    expect(textbox(page)).to_be_focused()
    page.get_by_role("button", name="Close chat").click()
    expect(launcher(page)).to_be_focused()


def test_one_name_for_the_assistant_in_the_widget_and_the_bot(page, demo_url, kb):
    """The knowledge base's one name: the widget's title, its greeting, and what the bot says when greeted."""
    name = kb.assistant.name
    open_chat(page, demo_url)
    expect(page.get_by_role("dialog", name=name)).to_be_visible()
    expect(page.locator(".message.bot").first).to_contain_text(f"I'm the {name}")
    ask(page, "hi")
    expect(bot_said(page, "Tell me about your skin")).to_contain_text(f"I'm the {name}")
    ask(page, "am I talking to a bot?")
    expect(bot_said(page, "virtual assistant")).to_contain_text(f"I'm the {name}")


def test_send_button_sends_too(page, demo_url):
    open_chat(page, demo_url)
    textbox(page).fill("how long should the serum absorb?")
    page.get_by_role("button", name="Send").click()
    expect(bot_said(page, ABSORB_RANGE)).to_be_visible()
    expect(textbox(page)).to_have_value("")


def test_colour_contrast_meets_wcag_aa(page, demo_url):
    open_chat(page, demo_url)
    ask(page, "hi")
    expect(page.locator(".reply").first).to_be_visible()
    assert low_contrast(page) == []


SET_ATTRIBUTES_JS = """new MutationObserver((_, observer) => {
    const tag = document.querySelector('script[src$="widget.js"]');
    if (!tag) return;
    for (const [name, value] of Object.entries(ATTRIBUTES)) tag.setAttribute(`data-${name}`, value);
    observer.disconnect();
}).observe(document, {childList: true, subtree: true});"""


def with_attributes(page: Page, attributes: Dict[str, str]) -> None:
    """The demo page as served, its widget tag's data- attributes set as a brand's page would set them
    (as soon as the tag is parsed, before the deferred widget script runs)."""
    page.add_init_script(f"const ATTRIBUTES = {json.dumps(attributes)};\n{SET_ATTRIBUTES_JS}")


def test_a_light_brand_colour_still_gets_readable_text(page, demo_url):
    """data-primary-color is the brand's choice; the widget picks text colours that stay readable on it."""
    brand = {"primary-color": "#ffd400", "title": "Sunny helper", "greeting": "Hello from **Sunny**"}
    with_attributes(page, brand)
    open_chat(page, demo_url)
    expect(page.get_by_role("dialog", name="Sunny helper")).to_be_visible()
    expect(page.locator(".message.bot strong")).to_have_text("Sunny")
    ask(page, "hi")
    expect(page.locator(".reply").first).to_be_visible()
    assert low_contrast(page) == []
    assert page.locator(".title").evaluate("el => getComputedStyle(el).color") == "rgb(0, 0, 0)"


def test_phone_gets_a_full_screen_panel_without_horizontal_scroll(browser, demo_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=3)
    try:
        page = context.new_page()
        page.goto(demo_url)
        launcher(page).tap()
        expect(textbox(page)).to_be_focused()
        box = panel(page).bounding_box()
        assert box == {"x": 0, "y": 0, "width": 390, "height": 844}
        expect(launcher(page)).to_be_hidden()
        ask(page, "how long should the serum absorb? " + "supercalifragilisticexpialidocious" * 4)
        expect(page.locator(".message.bot").nth(1)).to_be_visible()
        widths = page.evaluate("""() => {
            const root = document.querySelector('[data-chat-widget]').shadowRoot;
            const log = root.querySelector('.log');
            return {page: document.documentElement.scrollWidth, log: log.scrollWidth, logClient: log.clientWidth};
        }""")
        assert widths["page"] <= 390 and widths["log"] <= widths["logClient"], widths
    finally:
        context.close()


def test_a_reminder_while_the_panel_is_closed_shows_an_unread_badge(page, demo_url):
    """Closed right after asking, before any reply can arrive: the reply and the reminder both count as unread,
    however long the machine takes (no race with the reminder's 5 seconds)."""
    open_chat(page, demo_url)
    connected(page)
    ask(page, "remind me in 5 seconds")
    page.keyboard.press("Escape")
    expect(page.locator(".badge")).to_have_text("1")  # "I'll remind you in 5 seconds"
    expect(page.locator(".badge")).to_have_text("2")  # and the reminder, unprompted
    expect(launcher(page)).to_have_accessible_description("2 new messages")
    launcher(page).click()
    expect(bot_said(page, "remind you in 5 seconds")).to_be_visible()
    expect(bot_said(page, "Time's up")).to_be_visible()
    expect(page.locator(".badge")).to_be_hidden()
