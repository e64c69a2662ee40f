"""What the Rasa server exposes: the HTTP API only with a token, CORS (and socket.io's Origin check) only for
configured origins, quiet logs (no user text, no token, no traceback for a closed websocket)."""
from __future__ import annotations

import logging
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import socketio

from addons import rasa_tuning

from scripts.stack import Stack, free_port
from tests.conftest import make_stack
from tests.reliability.conftest import running, send, text_of
from tests.socketio_client import SocketChat, WidgetClient

pytestmark = pytest.mark.e2e

TOKEN = f"tok-{uuid.uuid4().hex}"
BRAND = "https://brand.example"
EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def default_stack(tmp_path_factory) -> Iterator[Stack]:
    """As `make run` starts it: no API token, CORS for the demo page only."""
    env = {"RASA_API_TOKEN": "", "CORS_ORIGINS": ""}
    with running(make_stack(tmp_path_factory.mktemp("default"), web_port=free_port(), extra_env=env)) as stack:
        yield stack


@pytest.fixture(scope="module")
def api_stack(tmp_path_factory) -> Iterator[Stack]:
    """With the HTTP API on (token from the environment) and a brand's own origin allowed."""
    env = {"RASA_API_TOKEN": TOKEN, "CORS_ORIGINS": BRAND}
    with running(make_stack(tmp_path_factory.mktemp("api"), extra_env=env)) as stack:
        yield stack


def _allowed_origin(stack: Stack, origin: str) -> str | None:
    body = b'{"sender": "cors-check", "message": "hi"}'
    reply = send(stack.rest_url, body, headers={"Origin": origin, "Content-Type": "application/json"})
    assert reply.status == 200
    return reply.headers.get("access-control-allow-origin")


def _preflight_origin(stack: Stack, origin: str) -> str | None:
    headers = {"Origin": origin, "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type"}
    return send(stack.rest_url, method="OPTIONS", headers=headers).headers.get("access-control-allow-origin")


@pytest.mark.parametrize("path", ["/conversations/someone/tracker", "/status", "/model/parse", "/version"])
def test_http_api_is_off_without_a_token(default_stack, path):
    method = "POST" if path == "/model/parse" else "GET"
    reply = send(default_stack.rasa_url + path, b'{"text": "hi"}' if method == "POST" else None, method)
    assert reply.status == 404


def test_http_api_needs_the_token(api_stack):
    tracker = f"{api_stack.rasa_url}/conversations/someone/tracker"
    assert send(tracker, method="GET").status == 401
    assert send(tracker + "?token=wrong", method="GET").status == 401
    assert send(f"{tracker}?token={TOKEN}", method="GET").status == 200


def test_cors_default_allows_the_demo_page_only(default_stack):
    demo = f"http://localhost:{default_stack.web_port}"
    assert _allowed_origin(default_stack, demo) == demo
    assert _preflight_origin(default_stack, demo) == demo
    assert _allowed_origin(default_stack, EVIL) is None
    assert _preflight_origin(default_stack, EVIL) is None


def test_cors_follows_cors_origins(api_stack):
    assert _allowed_origin(api_stack, BRAND) == BRAND
    assert _allowed_origin(api_stack, EVIL) is None
    assert _preflight_origin(api_stack, EVIL) is None
    assert _allowed_origin(api_stack, "http://localhost:8080") is None


def _logs(stack: Stack) -> str:
    return "\n".join(p.read_text(errors="replace") for p in Path(stack.workdir).glob("*.log"))


@pytest.mark.parametrize("name", ["default_stack", "api_stack"])
def test_user_messages_and_the_token_stay_out_of_the_logs(request, name):
    stack = request.getfixturevalue(name)
    phrase = f"zebra{uuid.uuid4().hex[:10]}"
    assert text_of(stack.say("log-check", f"my skin is dry, call me {phrase}"))
    assert text_of(stack.say("log-check", "hi " + "x" * 3000 + phrase))  # capped: the tail is dropped
    logs = _logs(stack)
    assert "Rasa server is up and running" in logs or "Starting Rasa server" in logs  # we read the real log
    assert phrase not in logs and "my skin is dry" not in logs
    assert TOKEN not in logs


async def _socket_origin_allowed(stack: Stack, origin: str | None, transports: list) -> bool:
    """Whether a socket.io connection with this ``Origin`` (None: no header, as non-browser clients) is let in
    and answered."""
    chat = SocketChat(stack.rasa_url, headers={"Origin": origin} if origin else {}, transports=transports)
    try:
        await chat.connect()
    except socketio.exceptions.ConnectionError:
        assert origin and "not allowed" in chat.refusal["message"]  # the reason reaches the client
        return False
    try:
        await chat.join()
        return bool(await chat.say("how long should the serum absorb?", "15 minutes"))
    finally:
        await chat.close()


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]], ids=["long-polling", "websocket"])
async def test_socketio_default_lets_in_the_demo_page_only(default_stack, transports):
    demo = f"http://localhost:{default_stack.web_port}"
    assert await _socket_origin_allowed(default_stack, demo, transports)
    assert await _socket_origin_allowed(default_stack, None, transports)
    assert not await _socket_origin_allowed(default_stack, EVIL, transports)
    assert not await _socket_origin_allowed(default_stack, "null", transports)  # sandboxed frames, file: pages


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]], ids=["long-polling", "websocket"])
async def test_socketio_origin_follows_cors_origins(api_stack, transports):
    assert await _socket_origin_allowed(api_stack, BRAND, transports)
    assert not await _socket_origin_allowed(api_stack, EVIL, transports)
    assert not await _socket_origin_allowed(api_stack, "http://localhost:8080", transports)


async def test_a_closed_websocket_logs_no_traceback(default_stack):
    """Sanic logged it as the websocket's handler returned, right after the close; by the end of the later visits
    (each a handshake and a reply on the same event loop) the first ones' would long be in the log."""
    for _ in range(3):  # what the widget does over a websocket: join a session, ask, read the reply, leave
        async with WidgetClient(default_stack.rasa_url, transports=["websocket"]) as widget:
            await widget.ask("how long should the serum absorb?", r"5\s*[–-]\s*15 minutes")
    logs = _logs(default_stack)
    assert "Traceback" not in logs and "Invalid response type" not in logs, logs[-3000:]


def test_only_the_closed_websocket_error_is_silenced():
    """Sanic's other errors still reach the log, with their traceback."""
    from sanic.exceptions import ServerError

    def record(error: Exception, uri: str) -> logging.LogRecord:
        try:
            raise error
        except Exception:
            return logging.LogRecord("sanic.error", logging.ERROR, __file__, 1,
                                     "Exception occurred while handling uri: %s", (repr(uri),), sys.exc_info())

    quiet = rasa_tuning.ClosedWebsocketFilter()
    websocket = "ws://localhost:1/socket.io/?EIO=4&transport=websocket&sid=x"
    assert not quiet.filter(record(ServerError("Invalid response type None (need HTTPResponse)"), websocket))
    assert quiet.filter(record(ServerError("Invalid response type None (need HTTPResponse)"),
                               "http://localhost:1/webhooks/rest/webhook"))
    assert quiet.filter(record(ServerError("something else broke"), websocket))
    assert quiet.filter(record(ValueError("Invalid response type None"), websocket))
