"""The one vocabulary, found in free text by spaCy: several facts per message, typos, no false alarms."""
import pytest
import spacy

from actions.knowledge.entities import VocabularyMatcher, similar, variants


@pytest.fixture(scope="module")
def find(kb):
    matcher = VocabularyMatcher(spacy.blank("en"), kb)
    return lambda text: {(m.entity, m.value) for m in matcher(text) if m.role is None}


@pytest.mark.parametrize("text, expected", [
    ("I break out a lot and my face gets greasy by noon", {("skin_type", "oily")}),
    ("my skin feels tight and flaky", {("skin_type", "dry")}),
    ("my skin reacts to everything", {("skin_type", "sensitive")}),
    ("I have rosacea and deep brown skin", {("skin_type", "sensitive"), ("skin_tone", "darker")}),
    ("oily t-zone and dry cheeks", {("skin_type", "combination")}),
    ("dark spots and melasma", {("concern", "hyperpigmentation"), ("concern", "melasma")}),
    ("Can I use Retinol and Vitamin C?", {("ingredient", "retinoid"), ("ingredient", "vitamin_c")}),
    ("which sunscreen in the morning?", {("product", "sunscreen"), ("time_of_day", "am")}),
    ("I'm pregnant", {("life_stage", "pregnancy")}),
    ("I'm on accutane", {("medication", "prescription")}),
    ("I got an itchy rash", {("symptom", "reaction")}),
])
def test_finds_what_the_user_said(find, text, expected):
    assert expected <= find(text)


@pytest.mark.parametrize("text, expected", [
    ("can I use vitamn c with niacinimide", {("ingredient", "vitamin_c"), ("ingredient", "niacinamide")}),
    ("which moisturzer after the sunscren", {("product", "moisturizer"), ("product", "sunscreen")}),
    ("oilly skin, a bit of rosacia", {("skin_type", "oily"), ("skin_type", "sensitive")}),
    ("hyaluronc acid?", {("ingredient", "hyaluronic_acid")}),
])
def test_forgives_small_typos(find, text, expected):
    assert expected <= find(text)


@pytest.mark.parametrize("text", [
    "how long until it's dry?", "is it normal for my skin?", "keep it simple", "fair enough",
    "I am going to try it", "how many times a day", "is anything different for me",
])
def test_does_not_invent_entities(find, text):
    assert find(text) == set()


def test_longest_phrase_wins(find):
    assert find("dark spots") == {("concern", "hyperpigmentation")}
    assert find("greasy by noon") == {("skin_type", "oily")}


def test_character_offsets_point_at_the_words(kb):
    matcher = VocabularyMatcher(spacy.blank("en"), kb)
    text = "dry skin, what cleanser?"
    assert [text[m.start:m.end] for m in matcher(text)] == ["dry skin", "cleanser"]


def test_variants_and_similarity_rules():
    assert {"acne-prone", "acne prone", "acneprone"} <= variants("acne-prone")
    assert "moisturizer" in variants("moisturiser") and "retinols" in variants("retinol")
    assert similar("sunscren", "sunscreen") and similar("oilly", "oily")
    assert not similar("simple", "pimple") and not similar("shots", "spots")


@pytest.mark.parametrize("text, expected", [
    ("actually not oily, my skin is dry", {("skin_type", "dry")}),
    ("I don't have rosacea", set()),
    ("I'm not sure if it's a rash", {("symptom", "reaction")}),  # safety terms are never dropped
])
def test_denied_profile_facts_are_dropped(find, text, expected):
    assert find(text) == expected


def test_a_correction_keeps_the_later_fact(find):
    assert find("my skin is oily... sorry no, i meant dry") == {("skin_type", "dry")}
    assert find("I have oily skin and dry patches") == {("skin_type", "oily"), ("skin_type", "dry")}


def test_its_dry_is_skin_unless_it_is_about_the_serum_drying(find):
    assert find("actually no, it's dry, sorry") == {("skin_type", "dry")}
    assert find("how do I know when it's dry?") == set()


def test_no_as_an_interjection_does_not_deny(find):
    assert find("actually no its more dry and flaky, sorry") == {("skin_type", "dry")}
    assert find("no swelling, just oily skin") == {("skin_type", "oily")}


def test_a_negation_carries_over_a_list(kb):
    matcher = VocabularyMatcher(spacy.blank("en"), kb)
    roles = {(m.entity, m.role) for m in matcher("never been on accutane or any prescription stuff")}
    assert roles == {("medication", "not")}


@pytest.mark.parametrize("text, expected", [
    ("my skin's pretty normal tbh", {("skin_type", "normal")}),
    ("my skin is super normal", {("skin_type", "normal")}),
])
def test_a_degree_word_after_is_still_the_same_fact(find, text, expected):
    assert find(text) == expected


def test_my_skins_dry_is_the_type_but_until_my_skins_dry_is_not(find):
    assert find("my skin's dry") == {("skin_type", "dry")}
    assert find("wait until my skin's dry then apply") == set()


@pytest.mark.parametrize("text, expected", [
    ("and for the brown spot what stay after pimple?", {("concern", "hyperpigmentation"), ("concern", "pih")}),
    ("sorry, my skin is dark brown", {("skin_tone", "darker")}),
])
def test_a_concern_in_the_singular_and_a_tone_said_of_the_skin(find, text, expected):
    assert find(text) == expected
