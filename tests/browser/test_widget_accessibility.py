"""axe-core's WCAG 2.1 AA rules, touch targets and the phone's modal panel (real stack, real Chromium).

axe-core is pinned in web/package.json and copied by `make widget` to web/dist/axe.min.js (never served); it is
injected as an init script, so the demo page's Content-Security-Policy stays in force.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from widget_steps import ABSORB_RANGE, ask, bot_said, launcher, open_chat, panel, textbox, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

WEB = Path(__file__).resolve().parents[2] / "web"
AXE = WEB / "dist" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


def test_axe_is_the_pinned_version():
    pinned = json.loads((WEB / "package.json").read_text())["devDependencies"]["axe-core"]
    assert AXE.read_text(encoding="utf-8").startswith(f"/*! axe v{pinned}\n"), "rebuild with `make widget`"


def serious_violations(page: Page) -> list:
    """axe's serious and critical WCAG 2.1 A/AA violations on the whole page (open shadow roots included)."""
    found = page.evaluate("""async (tags) => (await axe.run(document, {runOnly: {type: "tag", values: tags}}))
        .violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                                 nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5)}))""", WCAG_21_AA)
    return [v for v in found if v["impact"] in ("serious", "critical")]


@pytest.fixture
def device_page(browser, request):
    context = browser.new_context(**request.param)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.add_init_script(path=str(AXE))
    try:
        yield page
    finally:
        context.close()


@pytest.mark.parametrize("device_page", [DESKTOP, PHONE], ids=["desktop", "phone"], indirect=True)
def test_no_serious_wcag_21_aa_violations(device_page, demo_url):
    page = device_page
    page.goto(demo_url)
    expect(launcher(page)).to_be_visible()
    assert serious_violations(page) == []  # closed
    launcher(page).click()
    ask(page, "hi")
    expect(page.locator(".reply").first).to_be_visible()  # greeting, a question, an answer with quick replies
    ask(page, "how long should the serum absorb?")
    expect(bot_said(page, ABSORB_RANGE)).to_be_visible()
    assert serious_violations(page) == []  # open, with a conversation in it


@pytest.mark.parametrize("device_page", [DESKTOP, PHONE], ids=["desktop", "phone"], indirect=True)
def test_quick_replies_and_buttons_are_44px_touch_targets(device_page, demo_url):
    page = device_page
    open_chat(page, demo_url)
    ask(page, "hi")
    expect(page.locator(".reply").first).to_be_visible()
    sizes = page.locator("[data-chat-widget]").evaluate("""(host) => [...host.shadowRoot.querySelectorAll("button")]
        .filter((b) => b.getClientRects().length)
        .map((b) => [b.className || b.textContent, b.getBoundingClientRect().width, b.getBoundingClientRect().height])""")
    assert any(name == "reply" for name, _, _ in sizes), sizes
    small = [(name, w, h) for name, w, h in sizes if w < 44 or h < 44]
    assert small == [], small


@pytest.mark.parametrize("device_page", [PHONE], ids=["phone"], indirect=True)
def test_the_full_screen_panel_is_modal_and_the_page_behind_stays_put(device_page, demo_url):
    page = device_page
    page.goto(demo_url)
    launcher(page).tap()
    expect(textbox(page)).to_be_focused()
    expect(panel(page)).to_have_attribute("aria-modal", "true")

    page.mouse.wheel(0, 800)
    cdp = page.context.new_cdp_session(page)  # a real touch swipe up on the panel's header; returns once done,
    cdp.send("Input.synthesizeScrollGesture", {"x": 150, "y": 40, "yDistance": -600,  # after the wheel's scroll
                                               "gestureSourceType": "touch", "speed": 2000})
    assert page.evaluate("() => window.scrollY") == 0

    for _ in range(12):  # Tab goes round the panel, never to the page behind
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement && document.activeElement.hasAttribute('data-chat-widget')")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.hasAttribute('data-chat-widget')")

    page.set_viewport_size({"width": 844, "height": 390})  # turned to landscape: wider than 600 px, not full screen
    expect(panel(page)).to_have_attribute("aria-modal", "false")
    assert page.evaluate("() => getComputedStyle(document.documentElement).overflow") != "hidden"
    page.set_viewport_size({"width": 390, "height": 844})  # and back
    expect(panel(page)).to_have_attribute("aria-modal", "true")

    page.get_by_role("button", name="Close chat").tap()
    expect(panel(page)).to_be_hidden()
    page.mouse.wheel(0, 800)  # closed: the page scrolls again
    wait_until(page, "() => window.scrollY > 0")


def test_the_desktop_panel_is_not_modal_and_leaves_the_page_alone(page, demo_url):
    open_chat(page, demo_url)
    expect(panel(page)).to_have_attribute("aria-modal", "false")
    page.mouse.move(200, 400)
    page.mouse.wheel(0, 800)
    wait_until(page, "() => window.scrollY > 0")  # the page beside the panel still scrolls
