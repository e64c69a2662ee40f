"""Conversation cases in the acceptance suite's format (any_of / must_not per turn), over REST.

`sample-conversations.yml` is the brief's sample set; `conversations*.yml` are ours, each written by
someone who had not seen the training data or the code. Each case is a fresh conversation. A turn may say
`fallback: true` when the "can't answer right now" reply is what it expects; otherwise that reply fails it.
"""
import re
from pathlib import Path

import pytest
import yaml

from addons.guard import FALLBACK_TEXT
from tests.conftest import Conversation

pytestmark = pytest.mark.e2e
HERE = Path(__file__).parent
CASES = [(f.stem, case) for f in sorted(HERE.glob("*conversations*.yml"))
         for case in yaml.safe_load(f.read_text())["cases"]]


def failures(reply: str, turn: dict) -> list:
    """What is wrong with ``reply`` for ``turn``. The "can't answer right now" fallback is no answer: it fails the
    turn (whatever words it shares with the checks — serum, stop using, dermatologist) unless the turn says
    ``fallback: true``, and then nothing else will do."""
    if turn.get("fallback"):
        return [] if FALLBACK_TEXT in reply else ["expected the \"can't answer right now\" fallback"]
    if FALLBACK_TEXT in reply:
        return ["the \"can't answer right now\" fallback, not an answer"]
    problems = [f"missing /{rx}/" for rx in turn.get("must", []) if not re.search(rx, reply, re.I | re.M)]
    problems += [f"none of {group}" for group in turn.get("any_of", [])
                 if not any(re.search(rx, reply, re.I | re.M) for rx in group)]
    problems += [f"forbidden /{rx}/" for rx in turn.get("must_not", []) if re.search(rx, reply, re.I | re.M)]
    return problems


def case_param(stem: str, case: dict):
    """A case; one that still fails carries `xfail: <reason>` and stays as a strict expected failure."""
    marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if case.get("xfail") else []
    return pytest.param(case, id=f"{stem}:{case['id']}", marks=marks)


@pytest.mark.parametrize("case", [case_param(f, c) for f, c in CASES])
def test_conversation_case(assistant, case):
    chat = Conversation(assistant)
    for number, turn in enumerate(case["turns"], 1):
        reply = chat.say(turn["user"], fallback_ok=True)  # the checker decides
        problems = failures(reply, turn)
        assert not problems, f"turn {number} {turn['user']!r}: {'; '.join(problems)}\nreply: {reply}"
