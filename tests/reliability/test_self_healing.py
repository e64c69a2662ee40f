"""`make run` heals itself: kill any of its servers and it comes back, while the rest go on answering.

The real entry point (``python -m scripts.serve``) on free ports with its own data folder; each server is
killed the way a user would (`kill <pid>`). The tests run in order on one running `make run`.
"""
from __future__ import annotations

import re
import shutil
import signal
from typing import Iterator

import pytest

from actions.knowledge.loader import PATH_ENV
from addons.guard import FALLBACK_TEXT
from scripts.stack import ROOT, free_port, http_ok
from tests.conftest import Conversation
from tests.served import Foreground, Rest

pytestmark = pytest.mark.e2e

DRY_CLEANSER = re.compile(r"cream|hydrating", re.I)
KB = ROOT / "actions" / "knowledge" / "protocol.yml"


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Foreground]:
    tmp = tmp_path_factory.mktemp("self-healing")
    kb = tmp / "protocol.yml"
    shutil.copy(KB, kb)
    ports = {"--rasa-port": free_port(), "--action-port": free_port(), "--web-port": free_port()}
    args = [str(v) for pair in ports.items() for v in pair] + ["--workdir", str(tmp / "var"), "--max-restarts", "2"]
    run = Foreground("scripts.serve", args, tmp / "serve.log", env={PATH_ENV: str(kb)})
    run.kb, run.rest = kb, Rest(ports["--rasa-port"])
    run.web_url = f"http://127.0.0.1:{ports['--web-port']}/"
    try:
        run.wait_for(r"the assistant is ready", timeout=300)
        yield run
    finally:
        run.stop()


def test_a_killed_action_server_comes_back_and_rasa_answers_meanwhile(served):
    chat = Conversation(served.rest)
    assert DRY_CLEANSER.search(chat.say("I have dry skin"))
    served.mark()
    served.kill(served.child("actions"))
    assert FALLBACK_TEXT in chat.say("what cleanser should I use?", fallback_ok=True)  # not a refused connection
    served.wait_for(r"the action server exited with code -?\d+ after \d+ s; restarting it in 1 s")
    served.wait_for(r"==> the action server is back", timeout=120)
    assert DRY_CLEANSER.search(chat.say("what cleanser should I use?"))


def test_a_killed_rasa_server_comes_back_and_remembers_the_conversation(served):
    chat = Conversation(served.rest)
    assert DRY_CLEANSER.search(chat.say("I have dry skin"))
    served.mark()
    served.kill(served.child("rasa"))
    served.wait_for(r"the Rasa server exited with code -?\d+ after \d+ s; restarting it")
    served.wait_for(r"==> the Rasa server is back", timeout=240)
    assert DRY_CLEANSER.search(chat.say("what cleanser should I use?"))
    assert http_ok(served.web_url)  # the demo page went on meanwhile


def test_a_killed_demo_page_comes_back(served):
    served.mark()
    served.kill(served.child("web"), signal.SIGKILL)
    served.wait_for(r"the demo page exited with code -9 after \d+ s; restarting it in 1 s")
    served.wait_for(r"==> the demo page is back", timeout=60)
    assert http_ok(served.web_url)


def test_an_action_server_that_keeps_crashing_stops_everything_with_an_error(served):
    served.kb.write_text("steps: not a list\n")  # a broken knowledge base: it exits at start-up from now on
    children = [served.child(kind) for kind in ("actions", "rasa", "web")]
    served.mark()
    served.kill(children[0])
    served.wait_for(r"error: the action server exited with code 2 while starting: 3 times in a row .* giving up",
                    timeout=120)
    assert served.process.wait(60) == 1
    assert not any(child.is_running() for child in children)
    assert "the knowledge base is not valid" in served.output()
