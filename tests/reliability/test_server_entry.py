"""Every Rasa server of the project starts through addons/server.py, which checks Rasa and tunes it.

The adjustments do not depend on the channels configured, and a Rasa they were not written for stops
the server at start-up with a message saying what differs.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from addons import rasa_tuning
from addons.server import MISMATCH_EXIT
from scripts.stack import ROOT, free_port, http_ok
from tests.conftest import make_stack
from tests.reliability.conftest import PATIENCE, running, send

TOKEN = "entry-point-test-token"
SOCKETIO_ONLY = "socketio:\n  user_message_evt: user_uttered\n  bot_message_evt: bot_uttered\n"


@pytest.mark.e2e
def test_a_server_without_the_rest_channel_still_bounds_action_calls(tmp_path):
    """Without REST (like `rasa shell` or a socket.io-only deployment) a hung action server costs seconds."""
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(SOCKETIO_ONLY)
    stack = make_stack(tmp_path, credentials=credentials, extra_env={"RASA_API_TOKEN": TOKEN, "ACTION_TIMEOUT": "2"})
    with running(stack):
        assert send(stack.rest_url, b'{"sender": "a", "message": "hi"}').status == 404  # no REST channel
        actions = stack.processes["actions"].pid
        os.killpg(actions, signal.SIGSTOP)  # accepts connections, never answers
        try:
            started = time.monotonic()
            reply = send(f"{stack.rasa_url}/conversations/no-rest/trigger_intent?token={TOKEN}",
                         json.dumps({"name": "ask_routine"}).encode(), headers={"Content-Type": "application/json"},
                         timeout=60)
            waited = time.monotonic() - started
        except TimeoutError:
            pytest.fail("no answer within 60 s: the action call waits Rasa's untuned 5 minutes")
        finally:
            os.killpg(actions, signal.SIGCONT)
        assert reply.status == 200
        assert waited < PATIENCE, f"the action call waited {waited:.0f}s: Rasa's 5-minute default, untuned"
    log = (tmp_path / f"rasa-{stack.rasa_port}.log").read_text(errors="replace")
    assert "action calls bounded to 2 s" in log


def _start_with(prelude: str, port: int) -> subprocess.CompletedProcess:
    """``python -m addons.server run`` on ``port`` after ``prelude`` changed the installed Rasa in memory."""
    program = f"{prelude}\nimport sys\nfrom addons.server import main\nsys.exit(main(sys.argv[1:]))"
    args = [sys.executable, "-c", program, "run", "--model", str(ROOT / "models" / "assistant.tar.gz"),
            "--port", str(port), "--endpoints", str(ROOT / "endpoints.yml")]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


@pytest.mark.parametrize("prelude, says", [
    ("import rasa\nrasa.__version__ = '3.7.0'", r"Rasa 3\.7\.0 is installed, not 3\.6\.21"),
    ("from rasa.core.actions.action import RemoteAction\ndel RemoteAction._validate_action_result",
     r"rasa\.core\.actions\.action\.RemoteAction\._validate_action_result does not exist"),
    ("import rasa.core.actions.action as a\n_run = a.RemoteAction.run\n"
     "async def run(self, *args): return await _run(self, *args)\na.RemoteAction.run = run",
     r"RemoteAction\.run no longer reads DEFAULT_REQUEST_TIMEOUT"),
], ids=["version", "missing name", "timeout global unused"])
def test_a_rasa_the_adjustments_were_not_written_for_stops_the_server_at_start_up(prelude, says):
    port = free_port()
    result = _start_with(prelude, port)
    assert result.returncode == MISMATCH_EXIT, result.stderr[-2000:]
    assert re.search(says, result.stderr) and "addons/rasa_tuning.py" in result.stderr
    assert not http_ok(f"http://127.0.0.1:{port}/")


def test_the_checked_version_is_the_pinned_one_and_passes():
    assert f'"rasa[spacy]=={rasa_tuning.RASA_VERSION}"' in (ROOT / "pyproject.toml").read_text()
    rasa_tuning.check()


def test_restore_gives_rasa_its_own_back():
    """Tests that compare against stock Rasa run on stock Rasa after a test that tuned it."""
    assert not rasa_tuning.applied()
    before = {(module, path): rasa_tuning._resolve(module, path) for module, path in rasa_tuning.PATCHED}
    rasa_tuning.configure()
    try:
        changed = [key for key, value in before.items() if rasa_tuning._resolve(*key) is not value]
        assert len(changed) >= 4
    finally:
        rasa_tuning.restore()
    assert not rasa_tuning.applied()
    assert all(rasa_tuning._resolve(*key) is value for key, value in before.items())
