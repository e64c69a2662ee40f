"""Shared fixtures: the knowledge base, and a real running assistant on free ports."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from actions.knowledge import load_knowledge
from addons.guard import FALLBACK_TEXT
from scripts.stack import MODEL, Stack, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def kb():
    return load_knowledge()


@pytest.fixture(scope="session")
def entities_of(kb):
    """Text -> Rasa-style entity dicts (offsets, roles) as the NLU's knowledge-base matcher finds them."""
    import spacy

    from actions.knowledge.entities import VocabularyMatcher

    matcher = VocabularyMatcher(spacy.blank("en"), kb)
    return lambda text: [{"entity": m.entity, "value": m.value, "start": m.start, "end": m.end,
                          **({"role": m.role} if m.role else {})} for m in matcher(text)]


def make_stack(tmp_path: Path, **kwargs) -> Stack:
    """A Stack on free ports (never 5005/5055/8080), logging and storing under ``tmp_path``."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run the tests with `make test`, which trains it")
    kwargs.setdefault("web_port", None)
    return Stack(rasa_port=free_port(), action_port=free_port(), workdir=tmp_path, quiet=True, **kwargs)


@pytest.fixture(scope="session")
def fake_slack():
    """The fake Slack Web API on loopback (tests/slack/fake_slack.py), shared by every Slack-enabled stack."""
    from tests.slack.fake_slack import FakeSlack

    slack = FakeSlack().start()
    try:
        yield slack
    finally:
        slack.stop()


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    """The real action server + Rasa server, shared by the conversation tests; always stopped."""
    with make_stack(tmp_path_factory.mktemp("assistant")) as stack:
        yield stack


class Conversation:
    """One user talking to the assistant over REST; ``say`` returns the reply as the user reads it.

    The "can't answer right now" fallback is no answer, so ``say`` fails on it unless the call expects it
    (``fallback_ok=True``: the action server is down on purpose, or a checker decides).
    """

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.sender = f"test-{uuid.uuid4().hex[:12]}"
        self.messages: list = []

    def say(self, text: str, fallback_ok: bool = False) -> str:
        self.messages = self.stack.say(self.sender, text)
        parts = []
        for m in self.messages:
            parts.append(m.get("text") or "")
            parts += [b.get("title", "") for b in m.get("buttons") or []]
        reply = "\n".join(p for p in parts if p)
        if FALLBACK_TEXT in reply and not fallback_ok:
            raise AssertionError(f"{text!r} got the \"can't answer right now\" fallback, not an answer:\n{reply}")
        return reply

    @property
    def buttons(self) -> list:
        return [b for m in self.messages for b in m.get("buttons") or []]


@pytest.fixture
def chat(assistant):
    return Conversation(assistant)
