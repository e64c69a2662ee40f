"""Spelling: unknown words put back into the assistant's vocabulary, English words left as typed."""
import pytest

from actions.knowledge.spelling import Speller, english_words


@pytest.fixture(scope="module")
def speller(kb):
    vocabulary = {"much": 40, "should": 30, "serum": 50, "moisturizer": 20, "wait": 10, "what": 90, "walk": 5,
                  "sunscreen": 20, "that's": 3, "put": 30, "on": 80}
    return Speller(vocabulary, kb.understanding.shorthand, english_words())


@pytest.mark.parametrize("typed, meant", [
    ("how mutch serum shud i put on", "how much serum should i put on"),
    ("how long do i wiat", "how long do i wait"),           # a transposition: the same letters win
    ("which mosturizer after the srum?", "which moisturizer after the serum?"),
    ("wat sunscrean do u use", "what sunscreen do you use"),
])
def test_typos_and_shorthand_become_the_words_meant(speller, typed, meant):
    assert speller.correct(typed) == meant


@pytest.mark.parametrize("typed", [
    "is it healing or stealing my moisture",  # English words, however close to a known word
    "minus the spf",
    "my husband's skin",                      # a possessive
    "thats fine",                             # a contraction typed without its apostrophe
    "CeraVe or LRP?",                         # capitals inside: a brand
    "ok",                                     # short words only through the shorthand list
])
def test_english_words_and_names_are_left_as_typed(speller, typed):
    assert speller.correct(typed) == typed
