"""The insights page, served by the demo web server (scripts/webserver.py) under ``/insights``.

Closed unless ``INSIGHTS_TOKEN`` is set, and then only to a request that gives it: ``Authorization: Bearer
<token>``, or the login form, which sets an HttpOnly, SameSite=Strict cookie holding an HMAC of the token
(never the token itself). Every response is ``no-store``, ``X-Robots-Tag: noindex`` and never framed
(``frame-ancestors 'none'``); scripts only from this server (the bundled charts, web/dist/insights.js).

    /insights                   the page: filters (date range, channel), charts, tables, search
    /insights/export/<t>.csv    one table as CSV, with the same filters
    /insights/transcript?c=<id> one conversation, emails, phone numbers and Slack tokens masked
    /insights/login, /logout    the form's cookie
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import html
import io
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional
from urllib.parse import parse_qs, quote

import sqlalchemy as sa

from addons.insights import queries
from addons.insights.index import CHANNELS, EVENTS, Indexer, mask
from addons.insights.store import Stores, open_stores

TOKEN_ENV = "INSIGHTS_TOKEN"
BUNDLE = Path(__file__).resolve().parents[2] / "web" / "dist" / "insights.js"
COOKIE = "insights_session"
CSP = "; ".join(["default-src 'none'", "script-src 'self'", "style-src 'unsafe-inline'", "img-src 'self' data:",
                 "connect-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"])
HEADERS = {"Content-Security-Policy": CSP, "X-Robots-Tag": "noindex, nofollow, noarchive", "Cache-Control": "no-store",
           "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}
#: Tables drawn as charts (insights.js knows how), each above its table.
CHARTED = ("volume", "topics", "topic_trend", "feedback_topic", "profiles", "funnel", "service")
SECTIONS = [  # (heading, tables), most valuable first
    ("Volume", ["volume"]),
    ("What shoppers ask", ["topics", "topic_trend", "mentions"]),
    ("Content gaps", ["gaps"]),
    ("Answer quality", ["feedback_topic", "feedback_section", "comments"]),
    ("Safety", ["safety", "escalations"]),
    ("Profiles", ["profiles"]),
    ("Walkthrough", ["funnel"]),
    ("Service", ["service"]),
]
STYLE = """
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2430;background:#f6f6f8}
header,main{max-width:1200px;margin:0 auto;padding:12px 16px}
header{display:flex;flex-wrap:wrap;gap:12px;align-items:center;justify-content:space-between}
h1{font-size:22px;margin:8px 0}h2{font-size:19px;margin:24px 0 8px}h3{font-size:16px;margin:16px 0 6px}
form.filters,form.search{display:flex;flex-wrap:wrap;gap:8px;align-items:end}
.field{display:flex;flex-direction:column}label{font-size:13px;color:#454b57}
input,select,button{font:inherit;min-height:44px;padding:6px 10px;border:1.5px solid #767b87;border-radius:8px;background:#fff}
button{background:#2f5d46;color:#fff;border-color:#2f5d46;cursor:pointer}
section{background:#fff;border-radius:12px;padding:8px 16px 16px;margin:16px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.chart{position:relative;height:260px;margin:8px 0}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e4e8;vertical-align:top}th{background:#f0f1f4}
td.n{text-align:right;font-variant-numeric:tabular-nums}a{color:#1d4e89}.muted{color:#565c69;font-size:13px}
.transcript p{margin:6px 0}.transcript .bot{color:#2f5d46}.error{color:#a12020}
@media (max-width:600px){header,main{padding:8px}section{padding:8px}.chart{height:220px}}
"""


def _cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text a shopper typed that starts like a formula gets a quote."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: Dict[str, str] = field(default_factory=dict)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _page(title: str, body: str) -> bytes:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex,nofollow">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{_e(title)}</title>'
            f"<style>{STYLE}</style></head><body>{body}</body></html>").encode()


class Insights:
    """Answers requests under /insights; thread-safe (the web server is threaded)."""

    def __init__(self, stores: Callable[[], Stores], token: Optional[str], title: str = "Insights") -> None:
        """``stores`` opens the stores on first use: a closed page touches no database."""
        self.open_stores, self.token, self.title = stores, (token or "").strip() or None, title
        self._stores: Optional[Stores] = None
        self._indexer: Optional[Indexer] = None
        self.lock = threading.Lock()

    @property
    def stores(self) -> Stores:
        with self.lock:
            if self._stores is None:
                self._stores = self.open_stores()
                self._indexer = Indexer(self._stores.source, self._stores.target)
            return self._stores

    # ----------------------------------------------------------------- access

    def _session_value(self) -> str:
        return hmac.new(self.token.encode(), b"insights-session", hashlib.sha256).hexdigest()

    def authorized(self, headers: Mapping[str, str]) -> bool:
        if not self.token:
            return False
        bearer = headers.get("Authorization") or ""
        if bearer.startswith("Bearer ") and hmac.compare_digest(bearer[7:].strip().encode(), self.token.encode()):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("Cookie") or "")
        except Exception:  # noqa: BLE001 — a malformed cookie header is no session
            return False
        value = cookie[COOKIE].value if COOKIE in cookie else ""
        return hmac.compare_digest(value.encode(), self._session_value().encode())

    def login_form(self, status: int = 401, error: str = "") -> Response:
        message = f'<p class="error" role="alert">{_e(error)}</p>' if error else ""
        body = (f'<main><h1>{_e(self.title)}</h1>{message}<form method="post" action="/insights/login">'
                '<label for="token">Access token</label> <input id="token" name="token" type="password" '
                'autocomplete="current-password" required> <button type="submit">Open the insights</button></form></main>')
        return Response(status, _page(self.title, body), headers={"WWW-Authenticate": 'Bearer realm="insights"'})

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes = b"") -> Response:
        response = self._route(method, path, parse_qs(query), headers, body)
        response.headers = {**HEADERS, **response.headers}
        return response

    def _route(self, method: str, path: str, query: Dict[str, List[str]], headers: Mapping[str, str],
               body: bytes) -> Response:
        if not self.token:
            return Response(404, _page(self.title, f"<main><h1>{_e(self.title)}</h1><p>The insights page is closed: "
                                                   f"it opens when the server is started with {TOKEN_ENV} set.</p></main>"))
        if path == "/insights/login":
            return self._login(method, body)
        if path == "/insights/logout":
            return Response(303, b"", headers={"Location": "/insights",
                                                "Set-Cookie": f"{COOKIE}=; Max-Age=0; Path=/insights; HttpOnly; SameSite=Strict"})
        if not self.authorized(headers):
            return self.login_form()
        if method not in ("GET", "HEAD"):
            return Response(405, _page(self.title, "<main><p>Method not allowed.</p></main>"), headers={"Allow": "GET"})
        filters = queries.Filters.read(query)
        if path in ("/insights", "/insights/"):
            return self.dashboard(filters, (query.get("q") or [""])[0].strip()[:100])
        if path == "/insights/insights.js":
            return Response(200, BUNDLE.read_bytes(), "text/javascript; charset=utf-8")
        if path.startswith("/insights/export/") and path.endswith(".csv"):
            return self.export(path[len("/insights/export/"):-4], filters)
        if path == "/insights/transcript":
            return self.transcript((query.get("c") or [""])[0])
        return Response(404, _page(self.title, "<main><p>Not found.</p></main>"))

    def _login(self, method: str, body: bytes) -> Response:
        if method != "POST":
            return self.login_form(200)
        try:
            given = (parse_qs(body.decode("utf-8")).get("token") or [""])[0].strip()
        except UnicodeDecodeError:
            given = ""
        if not given or not hmac.compare_digest(given.encode(), self.token.encode()):
            return self.login_form(401, "That token is not right.")
        return Response(303, b"", headers={"Location": "/insights", "Set-Cookie":
                                           f"{COOKIE}={self._session_value()}; Path=/insights; HttpOnly; SameSite=Strict"})

    # ----------------------------------------------------------------- figures

    def refresh(self) -> None:
        """Index what is new in the tracker store (a few seconds at most per request)."""
        stores = self.stores
        with self.lock:
            if self._indexer is None:
                self._indexer = Indexer(stores.source, stores.target)
            self._indexer.update(budget=3.0)

    def tables(self, filters: queries.Filters) -> Dict[str, queries.Table]:
        self.refresh()
        return queries.all_tables(self.stores.target, filters)

    def export(self, name: str, filters: queries.Filters) -> Response:
        if name not in queries.TABLES:
            return Response(404, _page(self.title, "<main><p>No such table.</p></main>"))
        self.refresh()
        table = queries.all_tables(self.stores.target, filters, [name])[name]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(table.columns)
        writer.writerows([[_cell(v) for v in row] for row in table.rows])
        filename = f"insights-{name}-{filters.start}-{filters.end}.csv"
        return Response(200, out.getvalue().encode("utf-8"), "text/csv; charset=utf-8",
                        {"Content-Disposition": f'attachment; filename="{filename}"'})

    def _table_html(self, table: queries.Table, filters: queries.Filters) -> str:
        head = "".join(f'<th scope="col">{_e(c)}</th>' for c in table.columns)
        link = table.columns.index(table.link) if table.link else None
        rows = []
        for row in table.rows:
            cells = []
            for i, value in enumerate(row):
                if i == link and value:
                    cells.append(f'<td><a href="/insights/transcript?c={quote(str(value), safe="")}">transcript</a></td>')
                elif isinstance(value, (int, float)):
                    cells.append(f'<td class="n">{_e(value)}</td>')
                else:
                    cells.append(f"<td>{_e(value)}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        empty = "" if rows else f'<tr><td colspan="{len(table.columns)}" class="muted">Nothing in this range.</td></tr>'
        chart = (f'<div class="chart"><canvas data-chart="{table.name}" role="img" aria-label="{_e(table.title)} '
                 f'(chart; the table below has the figures)"></canvas></div>') if table.name in CHARTED and rows else ""
        csv_link = f'<a href="/insights/export/{table.name}.csv?{filters.query_string()}" download>CSV</a>'
        return (f'<div class="table" id="t-{table.name}"><h3>{_e(table.title)} <span class="muted">· {csv_link}</span></h3>'
                f'{chart}<div class="scroll"><table data-table="{table.name}"><thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(rows)}{empty}</tbody></table></div></div>')

    def dashboard(self, filters: queries.Filters, words: str) -> Response:
        tables = self.tables(filters)
        options = "".join(f'<option value="{c}"{" selected" if filters.channel == c else ""}>{c}</option>'
                          for c in CHANNELS)
        form = (f'<form class="filters" method="get" action="/insights">'
                f'<div class="field"><label for="f-from">From</label><input id="f-from" type="date" name="from" '
                f'value="{filters.start}"></div><div class="field"><label for="f-to">To</label><input id="f-to" '
                f'type="date" name="to" value="{filters.end}"></div><div class="field"><label for="f-channel">Channel'
                f'</label><select id="f-channel" name="channel"><option value="">all</option>{options}</select></div>'
                '<button type="submit">Apply</button></form>')
        search = (f'<form class="search" method="get" action="/insights" role="search">'
                  f'<input type="hidden" name="from" value="{filters.start}"><input type="hidden" name="to" '
                  f'value="{filters.end}"><input type="hidden" name="channel" value="{filters.channel or ""}">'
                  f'<div class="field"><label for="f-q">Search transcripts</label><input id="f-q" type="search" '
                  f'name="q" value="{_e(words)}"></div>'
                  '<button type="submit">Search</button></form>')
        found = ""
        if words:
            found = f'<section aria-label="Search results">{self._table_html(queries.search(self.stores.target, filters, words), filters)}</section>'
        sections = "".join(f'<section><h2>{_e(heading)}</h2>{"".join(self._table_html(tables[n], filters) for n in names)}</section>'
                           for heading, names in SECTIONS)
        data = json.dumps({n: {"columns": t.columns, "rows": t.rows} for n, t in tables.items() if n in CHARTED},
                          ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        body = (f'<header><h1>{_e(self.title)}</h1><a href="/insights/logout">Log out</a></header>'
                f'<main>{form}{search}<p class="muted">{filters.start} to {filters.end} (UTC), '
                f'{_e(filters.channel or "all channels")}.</p>{found}{sections}</main>'
                f'<script type="application/json" id="insights-data">{data}</script>'
                '<script src="/insights/insights.js" defer></script>')
        return Response(200, _page(self.title, body))

    # ----------------------------------------------------------------- one conversation

    def transcript(self, sender_id: str) -> Response:
        with self.stores.source.connect() as c:
            rows = c.execute(sa.select(EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.intent_name, EVENTS.c.data)
                             .where(sa.and_(EVENTS.c.sender_id == sender_id, EVENTS.c.type_name.in_(("user", "bot"))))
                             .order_by(EVENTS.c.id)).fetchall() if sender_id else []
        lines = []
        for kind, ts, intent, data in rows:
            if kind == "user" and intent == "feedback":
                continue
            text = json.loads(data or "{}").get("text")
            if not text:
                continue
            when = datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")
            who = "Shopper" if kind == "user" else "Assistant"
            lines.append(f'<p class="{kind}"><span class="muted">{when}</span> <strong>{who}:</strong> '
                         f'{_e(mask(text))}</p>')
        if not lines:
            return Response(404, _page(self.title, '<main><p>No such conversation (it may have been deleted).</p>'
                                                   '<p><a href="/insights">Back</a></p></main>'))
        body = (f'<main><p><a href="/insights">Back to the insights</a></p><h1>Transcript</h1>'
                f'<p class="muted">{_e(sender_id)} · emails, phone numbers and tokens are masked</p>'
                f'<section class="transcript">{"".join(lines)}</section></main>')
        return Response(200, _page(f"{self.title}: transcript", body))


def from_environment(env: Mapping[str, str], sqlite_file: Path, title: str = "Insights") -> Insights:
    env = dict(env)
    return Insights(lambda: open_stores(env, sqlite_file), env.get(TOKEN_ENV), title)
