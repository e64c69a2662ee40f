"""The committed bundle (web/dist/widget.js) is built from the current sources, and only it and the page are served."""
from __future__ import annotations

import hashlib
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import List

import pytest

from demo_server import demo_page
from scripts.webserver import widget_attributes

WEB = Path(__file__).resolve().parents[2] / "web"
BUNDLE = WEB / "dist" / "widget.js"


def sources() -> List[str]:
    """The same list as web/build.mjs: src/**, the build script, package.json and its lock file."""
    files = [p.relative_to(WEB).as_posix() for p in (WEB / "src").rglob("*") if p.is_file()]
    return sorted(files + ["build.mjs", "package.json", "package-lock.json"])


def sources_hash() -> str:
    digest = hashlib.sha256()
    for path in sources():
        digest.update(f"{path}\0".encode())
        digest.update((WEB / path).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def test_committed_bundle_is_built_from_the_current_sources():
    stamp = re.match(r"/\*! chat-widget sources-sha256: ([0-9a-f]{64}) \*/", BUNDLE.read_text(encoding="utf-8"))
    assert stamp, f"{BUNDLE} has no sources stamp: rebuild it with `make widget`"
    assert stamp.group(1) == sources_hash(), "web/dist/widget.js is older than web/src: rebuild it with `make widget`"


def test_bundle_has_no_source_maps_or_node_requires():
    text = BUNDLE.read_text(encoding="utf-8")
    assert "sourceMappingURL" not in text
    assert "require(" not in text


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """Just the demo web server, as if Rasa were on port 5999."""
    with demo_page(5999, tmp_path_factory.mktemp("web")) as url:
        yield url.rstrip("/")


def fetch(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, "", ""


def test_demo_page_embeds_the_widget_pointing_at_the_rasa_server(demo_server):
    status, content_type, body = fetch(demo_server + "/")
    assert status == 200 and content_type.startswith("text/html")
    assert re.search(r'<script src="/widget.js" defer data-server-url="http://localhost:5999" data-title="[^"]+"'
                     r' data-primary-color="#2f5d46" data-greeting="[^"]+"></script>', body)
    status, content_type, body = fetch(demo_server + "/widget.js")
    assert status == 200 and "javascript" in content_type
    assert body == BUNDLE.read_text(encoding="utf-8")


def test_nothing_in_the_url_reaches_the_page(demo_server):
    """The widget's settings are the page's own; a crafted link cannot add text, links or another server."""
    status, _, plain = fetch(demo_server + "/")
    status, _, crafted = fetch(demo_server + "/?title=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&primary-color=red"
                                             "&greeting=%5Bverify%5D(https://evil.example)&server-url=http://evil.example")
    assert status == 200
    assert crafted == plain
    assert "evil.example" not in crafted and "alert(1)" not in crafted


def headers_of(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.headers
    except urllib.error.HTTPError as error:
        return error.headers


@pytest.mark.parametrize("path", ["/", "/widget.js", "/nothing-here"])
def test_every_response_carries_the_protective_headers(demo_server, path):
    headers = headers_of(demo_server + path)
    policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"
    assert policy["connect-src"] == "http://localhost:5999 ws://localhost:5999"  # only the Rasa server
    assert policy["frame-ancestors"] == "'none'" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "python" not in headers["Server"].lower() and not re.search(r"\d", headers["Server"]), headers["Server"]


@pytest.mark.parametrize("path", ["/package.json", "/src/index.js", "/node_modules/", "/demo/index.html",
                                  "/dist/widget.js", "/../scripts/webserver.py", "/%2e%2e/pyproject.toml"])
def test_nothing_else_in_web_is_served(demo_server, path):
    assert fetch(demo_server + path)[0] == 404


def test_the_demo_page_says_what_the_protocol_says(demo_server, kb):
    """The brand page's ritual gives the protocol's amount (a pea-sized amount), not "a few drops"."""
    apply = next(step for step in kb.steps if step.id == "apply_serum")
    assert "pea-sized amount" in apply.text
    _, _, body = fetch(demo_server + "/")
    ritual = re.search(r"<strong>Apply\.</strong>([^<]+)", body).group(1)
    assert "pea-sized amount" in ritual and "drop" not in ritual.lower(), ritual


def test_the_widget_takes_the_assistant_name_and_greeting_from_the_knowledge_base(kb):
    renamed = kb.copy(update={"assistant": kb.assistant.copy(update={"name": "Ava"})})
    attributes = widget_attributes(None, renamed)
    assert 'data-title="Ava"' in attributes
    assert re.search(r'data-greeting="Hi, I&#x27;m the Ava\. ', attributes)
    assert "Lumé skincare guide" not in attributes
