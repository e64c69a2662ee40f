"""Browser fixtures: Debian's Chromium driven by Playwright, and one real stack (actions + Rasa + demo page)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from scripts import packages
from scripts.stack import Stack, free_port

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Longest wait for anything the assistant does (a reply, a reconnect), in milliseconds.
REPLY_MS = 30_000


def chromium_path() -> str:
    """Debian's Chromium; its absence is a failure, not a skip (`make test` installs it, scripts/packages.py)."""
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs it as root, else run "
                f"`{packages.install_command(['chromium'])}`")


def root_conftest(request):
    """tests/conftest.py as pytest loaded it (every conftest is a module named `conftest`, so no plain import)."""
    path = Path(__file__).resolve().parent.parent / "conftest.py"
    return request.config.pluginmanager.get_plugin(str(path))


@pytest.fixture(scope="module")  # module: its event loop must not outlive the browser tests
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=REPLY_MS)
    path = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def web_stack(request, tmp_path_factory) -> Iterator[Stack]:
    """Actions + Rasa (socket.io) + the demo page on free ports, shared by the browser tests; always stopped."""
    with root_conftest(request).make_stack(tmp_path_factory.mktemp("web-stack"), web_port=free_port()) as stack:
        yield stack


@pytest.fixture
def demo_url(web_stack: Stack) -> str:
    return f"http://127.0.0.1:{web_stack.web_port}/"


@pytest.fixture
def context(browser):
    """A fresh browser profile per test: its own localStorage, hence its own conversation."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(REPLY_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors: list = []
    page.on("pageerror", lambda error: errors.append(error))
    yield page
    assert not errors, f"JavaScript errors on the page: {errors}"
