"""The text the assistant reads: cleaned, normalised and capped (pure functions, no servers)."""
from __future__ import annotations

import pytest

from addons.guard import MAX_MESSAGE_CHARS, clean
from addons.rasa_tuning import ACTION_TIMEOUT_ENV, DEFAULT_ACTION_TIMEOUT, action_timeout


def test_control_characters_go_but_line_breaks_stay():
    assert clean("\x00he\x1bllo\x7f\r\nthere\tyou\x9b").text == "hello\nthere\tyou"


def test_invisible_formatting_goes_but_emoji_sequences_stay():
    family = "👩\u200d👩\u200d👧"
    assert clean(f"\u202edry\u200b skin {family}\ufeff\u200f").text == f"dry skin {family}"


def test_lone_surrogates_go_so_the_text_can_be_stored():
    cleaned = clean("\ud800dry skin\udfff").text
    assert cleaned == "dry skin" and cleaned.encode("utf-8")


def test_lookalike_characters_are_normalised():
    assert clean("ｄｒｙ　ｓｋｉｎ").text == "dry skin"


def test_a_message_at_the_limit_is_kept_whole():
    text = "a" * MAX_MESSAGE_CHARS
    assert clean(text).text == text and not clean(text).capped


def test_a_longer_message_is_capped_at_a_word_boundary():
    cleaned = clean("dry skin " * 1000)
    assert cleaned.capped and len(cleaned.text) <= MAX_MESSAGE_CHARS
    assert cleaned.text.endswith("skin") and not cleaned.text.endswith(" ")


def test_a_long_message_without_spaces_is_cut_exactly():
    cleaned = clean("x" * 100_000)
    assert cleaned.capped and cleaned.text == "x" * MAX_MESSAGE_CHARS


@pytest.mark.parametrize("value, seconds", [("2.5", 2.5), ("", DEFAULT_ACTION_TIMEOUT),
                                            ("soon", DEFAULT_ACTION_TIMEOUT), ("-1", DEFAULT_ACTION_TIMEOUT)])
def test_action_timeout_comes_from_the_environment(monkeypatch, value, seconds):
    monkeypatch.setenv(ACTION_TIMEOUT_ENV, value)
    assert action_timeout() == seconds
