"""A green run means what it says: the "can't answer right now" fallback never passes a check by accident
(it contains "serum", "stop using", "dermatologist", which many checks look for)."""
import pytest

from addons.guard import FALLBACK_TEXT
from tests.conftest import Conversation
from tests.e2e.test_conversation_cases import failures

TURN = {"user": "I'm pregnant, is the serum ok?", "any_of": [["serum"], ["dermatologist|doctor"]],
        "must_not": ["cures?"]}


def test_the_fallback_fails_a_turn_whose_words_it_happens_to_contain():
    assert failures("Ask a dermatologist before using the serum.", TURN) == []
    assert failures(FALLBACK_TEXT, TURN) == ["the \"can't answer right now\" fallback, not an answer"]


def test_a_turn_that_expects_the_fallback_gets_nothing_else():
    expecting = {**TURN, "fallback": True}
    assert failures(FALLBACK_TEXT, expecting) == []
    assert failures("Ask a dermatologist before using the serum.", expecting) == [
        "expected the \"can't answer right now\" fallback"]


class CannedStack:
    """Answers every message with the same bot messages (what Stack.say returns)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def say(self, sender: str, text: str) -> list:
        return [{"recipient_id": sender, "text": self.text}]


def test_a_conversation_fails_on_the_fallback_unless_told_to_expect_it():
    with pytest.raises(AssertionError, match="fallback, not an answer"):
        Conversation(CannedStack(FALLBACK_TEXT)).say("what cleanser should I use?")
    assert Conversation(CannedStack(FALLBACK_TEXT)).say("hi", fallback_ok=True) == FALLBACK_TEXT
    assert Conversation(CannedStack("Use a cream cleanser.")).say("hi") == "Use a cream cleanser."
