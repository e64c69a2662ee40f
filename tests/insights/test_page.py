"""The insights page's access and exports, through its request handler (the browser tests drive it for real)."""
from __future__ import annotations

import csv
import io

from addons.insights import synthetic
from addons.insights.page import COOKIE, Insights
from addons.insights.store import open_stores

TOKEN = "s3cret-token"


def page(tmp_path, token=TOKEN) -> Insights:
    stores = open_stores({}, tmp_path / "tracker.db")
    synthetic.write(stores.source, synthetic.generate(50))
    return Insights(lambda: stores, token)


def test_closed_without_a_token_and_nothing_is_opened(tmp_path):
    opened = []
    closed = Insights(lambda: opened.append(1), None)
    reply = closed.handle("GET", "/insights", "", {"Authorization": "Bearer "})
    assert reply.status == 404 and b"INSIGHTS_TOKEN" in reply.body and opened == []
    assert reply.headers["X-Robots-Tag"].startswith("noindex")


def test_bearer_or_the_login_cookie_and_nothing_else(tmp_path):
    insights = page(tmp_path)
    assert insights.handle("GET", "/insights", "", {}).status == 401
    assert insights.handle("GET", "/insights", "", {"Authorization": "Bearer wrong"}).status == 401
    assert insights.handle("GET", "/insights", "", {"Cookie": f"{COOKIE}={TOKEN}"}).status == 401  # not the token
    assert insights.handle("GET", "/insights", "", {"Cookie": 'bad"cookie=; ;;'}).status == 401
    assert insights.handle("POST", "/insights/login", "", {}, b"token=wrong").status == 401
    assert insights.handle("POST", "/insights/login", "", {}, b"\xff\xfe").status == 401
    login = insights.handle("POST", "/insights/login", "", {}, f"token={TOKEN}".encode())
    assert login.status == 303 and "HttpOnly" in login.headers["Set-Cookie"] and "SameSite=Strict" in login.headers["Set-Cookie"]
    cookie = login.headers["Set-Cookie"].split(";")[0]
    assert TOKEN not in cookie
    assert insights.handle("GET", "/insights", "from=2026-11-01&to=2026-11-28", {"Cookie": cookie}).status == 200
    assert insights.handle("GET", "/insights", "", {"Authorization": f"Bearer {TOKEN}"}).status == 200
    assert insights.handle("POST", "/insights", "", {"Authorization": f"Bearer {TOKEN}"}).status == 405


def test_bad_filters_and_names_get_a_page_not_an_error(tmp_path):
    insights = page(tmp_path)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert insights.handle("GET", "/insights", "from=yesterday&to=%00&channel=fax", auth).status == 200
    assert insights.handle("GET", "/insights/export/nope.csv", "", auth).status == 404
    assert insights.handle("GET", "/insights/transcript", "c=", auth).status == 404
    assert insights.handle("GET", "/insights/transcript", "c=%27%20OR%201%3D1", auth).status == 404


def test_a_csv_cell_a_shopper_typed_never_runs_as_a_formula(tmp_path):
    stores = open_stores({}, tmp_path / "tracker.db")
    rows = list(synthetic.generate(200))
    for row in rows:
        if row["type_name"] == "user" and row["intent_name"] == "nlu_fallback":
            row["data"] = row["data"].replace("asdf what about the moon", "=HYPERLINK(evil) moon")
    synthetic.write(stores.source, iter(rows))
    insights = Insights(lambda: stores, TOKEN)
    reply = insights.handle("GET", "/insights/export/gaps.csv", "from=2026-11-01&to=2026-11-28",
                            {"Authorization": f"Bearer {TOKEN}"})
    cells = [c for r in csv.reader(io.StringIO(reply.body.decode())) for c in r]
    assert reply.headers["Content-Disposition"].startswith("attachment;")
    assert "'=HYPERLINK(evil) moon" in cells and not any(c.startswith("=") for c in cells)
