"""The insights page in real Chromium, served by the demo web server (scripts/webserver.py, as `make run` starts
it) over a tracker store seeded with synthetic conversations: the token, the charts, the filters, CSV, transcripts."""
from __future__ import annotations

import csv
import io
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Page, expect

from addons.insights import synthetic
from addons.insights.store import open_stores
from scripts.stack import Stack, free_port

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TOKEN = "brand-team-token-4f1c"
WEEK = "from=2026-11-01&to=2026-11-28"


def web_only(workdir: Path, env: dict) -> Stack:
    stack = Stack(rasa_port=free_port(), action_port=free_port(), web_port=free_port(), workdir=workdir, quiet=True,
                  extra_env=env)
    stack.start_web()
    stack.wait_ready(60, names=["web"])
    return stack


@pytest.fixture(scope="module")
def insights_server(tmp_path_factory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("insights-page")
    synthetic.write(open_stores({}, workdir / "tracker.db").source, synthetic.generate(400))
    stack = web_only(workdir, {"INSIGHTS_TOKEN": TOKEN})
    try:
        yield f"http://127.0.0.1:{stack.web_port}"
    finally:
        stack.stop()


def fetch(url: str, headers: dict = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, dict(reply.headers), reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_without_insights_token_the_page_is_closed(tmp_path):
    stack = web_only(tmp_path, {"INSIGHTS_TOKEN": ""})
    try:
        base = f"http://127.0.0.1:{stack.web_port}"
        status, _, body = fetch(f"{base}/insights", {"Authorization": "Bearer anything"})
        assert status == 404 and "INSIGHTS_TOKEN" in body
        assert fetch(f"{base}/insights/export/volume.csv")[0] == 404
        assert fetch(f"{base}/")[0] == 200  # the demo page is as before
    finally:
        stack.stop()


def test_the_token_is_required_and_the_page_is_never_indexed_or_framed(insights_server):
    for path in ("/insights", f"/insights/export/volume.csv?{WEEK}", "/insights/transcript?c=rest-13x0000001"):
        status, headers, body = fetch(insights_server + path)
        assert status == 401 and "volume" not in body.lower() and 'type="password"' in body, path
        assert fetch(insights_server + path, {"Authorization": "Bearer not-the-token"})[0] == 401
    status, headers, body = fetch(f"{insights_server}/insights?{WEEK}", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and "Content gaps" in body
    assert headers["X-Robots-Tag"].startswith("noindex")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"] and headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    assert "cdn" not in body.lower() and '<script src="/insights/insights.js"' in body


def log_in(page: Page, base: str, token: str = TOKEN) -> None:
    page.goto(f"{base}/insights")
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Open the insights").click()


def table_rows(page: Page, name: str) -> list:
    return page.locator(f"table[data-table={name}]").evaluate(
        "(t) => [...t.tBodies[0].rows].map((r) => [...r.cells].map((c) => c.textContent))")


def test_a_wrong_token_is_refused_and_the_right_one_opens_the_page(page, insights_server):
    log_in(page, insights_server, "guess")
    expect(page.get_by_role("alert")).to_have_text("That token is not right.")
    log_in(page, insights_server)
    expect(page.get_by_role("heading", name="Content gaps", exact=True)).to_be_visible()


def drawn(page: Page, chart: str) -> int:
    return int(page.locator(f"canvas[data-chart={chart}]").get_attribute("data-drawn") or 0)


def test_charts_render_the_seeded_data_and_the_filters_change_them(page, insights_server):
    log_in(page, insights_server)
    page.goto(f"{insights_server}/insights?{WEEK}")
    for chart in ("volume", "topics", "topic_trend", "feedback_topic", "profiles", "funnel", "service"):
        expect(page.locator(f"canvas[data-chart={chart}][data-drawn]")).to_have_count(1)
        assert drawn(page, chart) > 0, chart
    messages = sum(int(r[3]) for r in table_rows(page, "volume"))
    assert messages > 400
    channels_before = {r[1] for r in table_rows(page, "volume")}
    assert channels_before == {"widget", "slack", "rest"}

    page.get_by_label("Channel", exact=True).select_option("slack")
    page.get_by_label("From", exact=True).fill("2026-11-10")
    page.get_by_label("To", exact=True).fill("2026-11-16")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("2026-11-10 to 2026-11-16 (UTC), slack.")).to_be_visible()
    rows = table_rows(page, "volume")
    assert {r[1] for r in rows} == {"slack"} and {r[0] for r in rows} <= {f"2026-11-{d}" for d in range(10, 17)}
    assert sum(int(r[3]) for r in rows) < messages
    assert drawn(page, "volume") == len(rows)  # one bar per day, one channel


@pytest.mark.parametrize("table", ["volume", "gaps", "feedback_topic", "comments"])
def test_each_csv_download_matches_its_table(page, insights_server, table):
    log_in(page, insights_server)
    page.goto(f"{insights_server}/insights?{WEEK}&channel=widget")
    shown = table_rows(page, table)
    assert shown
    with page.expect_download() as download:
        page.locator(f"#t-{table}").get_by_role("link", name="CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    headings = page.locator(f"table[data-table={table}] th").all_text_contents()
    assert rows[0] == headings
    link = headings.index("conversation") if "conversation" in headings else None
    assert [[c for i, c in enumerate(r) if i != link] for r in rows[1:]] == \
        [[c for i, c in enumerate(r) if i != link] for r in shown]


def test_an_escalation_links_to_its_transcript_with_emails_masked(page, insights_server):
    log_in(page, insights_server)
    page.goto(f"{insights_server}/insights?{WEEK}")
    page.locator("#t-escalations").get_by_role("link", name="transcript").first.click()
    expect(page.get_by_role("heading", name="Transcript")).to_be_visible()
    expect(page.locator(".transcript .user").first).to_be_visible()
    page.goto(f"{insights_server}/insights?{WEEK}&q=ship")
    page.locator("[aria-label='Search results']").get_by_role("link", name="transcript").first.click()
    transcript = page.locator(".transcript")
    expect(transcript).to_contain_text("email me at [email]")
    expect(transcript).not_to_contain_text("@example.com")


def test_the_page_reads_on_a_phone(browser, insights_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, insights_server)
        page.goto(f"{insights_server}/insights?{WEEK}")
        expect(page.locator("canvas[data-chart=volume][data-drawn]")).to_have_count(1)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390  # wide tables scroll inside their box, the page does not
        assert page.locator("canvas[data-chart=volume]").bounding_box()["width"] <= 390
    finally:
        context.close()
