"""`make run-scaled` heals itself: kill any of its servers and it comes back; a dead Rasa replica costs nobody a reply.

The real entry point (``python -m scripts.serve_scaled``) on free ports with its own data folder: PostgreSQL,
Redis, two Rasa replicas, the action server, nginx and the demo page. The tests run in order on it.
"""
from __future__ import annotations

import re
import shutil
import signal
import time
from types import SimpleNamespace
from typing import Iterator

import pytest

from addons.guard import FALLBACK_TEXT
from scripts.stack import free_port, http_ok
from tests.conftest import Conversation
from tests.scaled.conftest import replicas_that_answered, scaled_workdir
from tests.served import Foreground, Rest

pytestmark = pytest.mark.e2e

DRY_CLEANSER = re.compile(r"cream-based|hydrating", re.I)


@pytest.fixture(scope="module")
def served() -> Iterator[Foreground]:
    workdir = scaled_workdir("scaled-healing-")
    port = free_port()
    args = ["--port", str(port), "--action-port", str(free_port()), "--web-port", str(free_port()),
            "--workdir", str(workdir / "data"), "--max-restarts", "3"]
    run = Foreground("scripts.serve_scaled", args, workdir / "serve.log")
    run.rest = Rest(port)
    run.topology = SimpleNamespace(nginx=SimpleNamespace(prefix=workdir / "data" / "nginx"))
    try:
        banner = run.wait_for(r"Rasa replicas :(\d+), :(\d+)", timeout=400)
        run.replicas = [int(p) for p in banner.groups()]
        run.wait_for(r"Ctrl-C stops everything")
        yield run
    finally:
        run.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _replica(served: Foreground, port: int):
    [found] = [c for c in served.children("rasa") if f"--port {port} " in " ".join(c.cmdline()) + " "]
    return found


def _answers_again(chat: Conversation, text: str, pattern: re.Pattern, timeout: float = 120.0) -> str:
    """Ask until a real answer comes (a refused connection or the fallback reply meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            reply = chat.say(text, fallback_ok=True)
            if pattern.search(reply) and FALLBACK_TEXT not in reply:
                return reply
        except OSError:
            pass
        assert time.monotonic() < deadline, f"no answer to {text!r} within {timeout:.0f}s"
        time.sleep(0.5)


def test_a_killed_replica_leaves_the_other_answering_every_request_until_it_is_back(served):
    chat = Conversation(served.rest)
    assert DRY_CLEANSER.search(chat.say("I have dry skin"))
    victim = served.replicas[0]
    served.mark()
    served.kill(_replica(served, victim), signal.SIGKILL)
    replies = []
    deadline = time.monotonic() + 300
    while "is back" not in served.output()[served.offset:]:
        replies.append(chat.say("what cleanser should I use?"))  # raises on a refused connection or an HTTP error
        assert time.monotonic() < deadline, "the replica did not come back"
    served.wait_for(rf"Rasa replica :{victim} exited with code -9 after \d+ s; restarting it in 1 s")
    assert len(replies) >= 5 and all(DRY_CLEANSER.search(r) and FALLBACK_TEXT not in r for r in replies)
    before = len(replicas_that_answered(served.topology))
    deadline = time.monotonic() + 30  # nginx tries a failed replica again after its fail_timeout (5 s)
    while set(replicas_that_answered(served.topology)[before:]) != set(served.replicas):
        assert DRY_CLEANSER.search(chat.say("what cleanser should I use?"))
        assert time.monotonic() < deadline, "nginx did not send requests to the restarted replica again"
        time.sleep(0.5)


def test_a_killed_action_server_comes_back_and_the_replicas_answer_meanwhile(served):
    chat = Conversation(served.rest)
    assert DRY_CLEANSER.search(chat.say("I have dry skin"))
    served.mark()
    served.kill(served.child("actions"))
    assert FALLBACK_TEXT in chat.say("what cleanser should I use?", fallback_ok=True)
    served.wait_for(r"==> the action server is back", timeout=120)
    assert DRY_CLEANSER.search(chat.say("what cleanser should I use?"))


@pytest.mark.parametrize("kind, name", [("nginx", "nginx"), ("redis", "Redis"), ("postgres", "PostgreSQL")])
def test_a_killed_store_or_proxy_comes_back_and_the_conversation_goes_on(served, kind, name):
    chat = Conversation(served.rest)
    assert DRY_CLEANSER.search(chat.say("I have dry skin"))
    served.mark()
    served.kill(served.child(kind), signal.SIGKILL)
    served.wait_for(rf"==> {name} exited with code -9 after \d+ s; restarting it in 1 s")
    served.wait_for(rf"==> {name} is back", timeout=120)
    _answers_again(chat, "what cleanser should I use?", DRY_CLEANSER)  # the profile is still there
    assert served.process.poll() is None and http_ok(f"{served.rest.rest_url.rsplit('/webhooks', 1)[0]}/nginx-health")
