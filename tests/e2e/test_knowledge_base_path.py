"""The knowledge base as a deployment configures it: `PROTOCOL_KB_PATH` in the environment `make run`
(scripts/serve.py, through scripts/stack.py) passes to every server; a broken file stops the servers at start-up
with a message naming the entry and the field; a vocabulary edit works after a restart, without retraining."""
from __future__ import annotations

import html
import re
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from actions.knowledge.loader import DEFAULT_PATH, PATH_ENV
from scripts.stack import Stack, free_port
from tests.conftest import Conversation, make_stack
from tests.reliability.conftest import running

pytestmark = pytest.mark.e2e

#: A word no training example contains, added as a synonym of retinoid in the brand's copy.
NEW_SYNONYM = "zorbalin"
BRAND_NAME = "Ava, the Nordlys skin guide"


def brand_copy(path: Path, edit) -> Path:
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def rename_and_add_a_synonym(data: dict) -> None:
    data["assistant"]["name"] = BRAND_NAME
    data["vocabulary"]["ingredient"]["retinoid"].append(NEW_SYNONYM)


@pytest.fixture(scope="module")
def brand_stack(tmp_path_factory) -> Iterator[Stack]:
    """Every server started with PROTOCOL_KB_PATH in the environment, as `PROTOCOL_KB_PATH=… make run` does."""
    workdir = tmp_path_factory.mktemp("brand-kb")
    kb_path = brand_copy(workdir / "brand-protocol.yml", rename_and_add_a_synonym)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(PATH_ENV, str(kb_path))
        stack = make_stack(workdir, web_port=free_port())
        with running(stack) as started:
            env.undo()  # the servers have it; the rest of this test session does not
            yield started


def test_protocol_kb_path_reaches_the_action_server_and_the_demo_page(brand_stack):
    assert f"I'm the {BRAND_NAME}" in Conversation(brand_stack).say("hi")
    with urllib.request.urlopen(f"http://127.0.0.1:{brand_stack.web_port}/", timeout=10) as response:
        page = response.read().decode()
    assert f'data-title="{html.escape(BRAND_NAME)}"' in page


def test_a_vocabulary_edit_is_understood_after_a_restart_without_retraining(brand_stack, assistant):
    """Deliberate: the knowledge-base matcher (NLU component and action server) reads the vocabulary at start-up,
    so a new synonym names its entity at once; the intent model is not retrained and does not need to be."""
    question = f"can I use {NEW_SYNONYM} after the serum?"
    before = Conversation(assistant).say(question)  # the bundled knowledge base does not know the word
    assert not re.search(r"retino", before, re.I), before
    after = Conversation(brand_stack).say(question)
    assert re.search(r"retino", after, re.I), after
    assert after == Conversation(brand_stack).say("can I use retinol after the serum?")  # the same answer


@pytest.mark.parametrize("server", ["actions", "web"])
def test_a_broken_knowledge_base_stops_the_server_at_start_up_naming_entry_and_field(tmp_path, server):
    def break_it(data: dict) -> None:
        del next(t for t in data["skin_types"] if t["id"] == "dry")["cleansing"]  # as a brand's copy might

    kb_path = brand_copy(tmp_path / "protocol.yml", break_it)
    stack = Stack(rasa_port=free_port(), action_port=free_port(), web_port=free_port(), workdir=tmp_path,
                  quiet=True, extra_env={PATH_ENV: str(kb_path)})
    try:
        stack.start_actions() if server == "actions" else stack.start_web()
        process = stack.processes[server]
        deadline = time.monotonic() + 120
        while process.poll() is None:
            assert time.monotonic() < deadline, f"the {server} server kept running on a broken knowledge base"
            time.sleep(0.2)
    finally:
        stack.stop()
    assert process.returncode == 2
    log = (tmp_path / f"{server}-{stack.rasa_port}.log").read_text()
    assert "the knowledge base is not valid" in log
    assert f"{kb_path}: 1 problem(s):\n  skin_types[dry].note: a covered skin type needs cleansing" in log
    assert "Traceback" not in log
