"""Whole conversations over REST against the real Rasa server and action server.

Phrasings here are deliberately not the training examples: they test generalisation, typos,
several facts per message, follow-ups and safety the way a user would meet them.
"""
import re

import pytest

pytestmark = pytest.mark.e2e

CLAIMS = re.compile(r"\b(cures?|treats?|heals?|guarantee\w*)\b", re.I)


def test_absorption_time(chat):
    reply = chat.say("how long should the serum absorb?")
    assert re.search(r"5\s*[–-]\s*15 minutes", reply)


def test_greeting_carries_the_education_disclaimer(chat):
    reply = chat.say("hello there")
    assert "not medical advice" in reply


def test_profile_from_free_chat_shapes_later_answers(chat):
    reply = chat.say("my face gets super shiny by lunch and I get breakouts, also I'm dark skinned")
    assert "oily" in reply.lower() and re.search(r"darker|hyperpigmentation", reply, re.I)
    reply = chat.say("which moisturiser should I go for?")
    assert re.search(r"gel-based|oil-free", reply)
    reply = chat.say("and sunscreen?")
    assert re.search(r"mineral|zinc", reply, re.I)


def test_changing_the_profile_changes_the_advice(chat):
    chat.say("I have oily skin")
    assert "salicylic" in chat.say("what cleanser should I use?")
    chat.say("actually no, my skin is dry")
    reply = chat.say("so what cleanser then?")
    assert re.search(r"cream-based|hydrating", reply) and "salicylic" not in reply


def test_asking_for_a_product_without_a_profile_asks_only_for_skin_type(chat):
    reply = chat.say("what moisturizer should i buy")
    assert "skin type" in reply and any(b["title"].startswith("Dry") for b in chat.buttons)
    reply = chat.say("dry")
    assert reply.startswith("Got it") and re.search(r"richer|emollient|facial oil", reply)


def test_forget_my_profile(chat):
    chat.say("sensitive skin with rosacea")
    assert "forgotten" in chat.say("please forget my profile")
    reply = chat.say("what should I avoid?")
    assert "It depends on your skin" in reply


def test_follow_ups_resolve_against_context(chat):
    chat.say("can I use retinol after the serum?")
    reply = chat.say("should it go before or after my moisturiser?")
    assert "retinoid" in reply.lower() and "absorbed" in reply
    reply = chat.say("what about vitamin C?")
    assert "vitamin C" in reply and "absorbed" in reply


def test_routine_follow_up_for_the_evening(chat):
    assert "SPF" in chat.say("what's the routine?")
    reply = chat.say("and at night?")
    assert "evening routine" in reply and "morning routine only" in reply


def test_ingredients_are_profile_aware(chat):
    chat.say("my skin is really sensitive, rosacea prone")
    reply = chat.say("can I use a vitamin c serum with it?")
    assert "tolerance" in reply and "patch test" in reply


def test_typos_are_understood(chat):
    reply = chat.say("how long do i wait b4 moisturzer")
    assert re.search(r"5\s*[–-]\s*15", reply)
    reply = chat.say("can i use niacinimide aftr the serum")
    assert "niacinamide" in reply.lower()


def test_guided_walkthrough(chat):
    assert "Step 1 of" in chat.say("can you walk me through it step by step?")
    assert "pea-sized" in chat.say("done, next")
    assert "5–15" in chat.say("ok next one")
    assert "pea-sized" in chat.say("wait go back")
    assert "step 2 of" in chat.say("which step am i on?").lower()


def test_summary_card(chat):
    chat.say("dry skin here")
    reply = chat.say("can you give me a quick summary of my am and pm routine")
    assert "Morning" in reply and "Evening" in reply and "emollient" in reply


def test_combination_skin_is_honest_about_coverage(chat):
    reply = chat.say("I think I have combination skin")
    assert "no dedicated section" in reply


def test_questions_the_protocol_does_not_cover(chat):
    reply = chat.say("should I keep the serum in the fridge?")
    assert "doesn't cover" in reply


def test_off_topic_gets_help_not_protocol(chat):
    reply = chat.say("what's the best pizza in town?")
    assert "pea-sized" not in reply and re.search(r"skin|serum|routine", reply)
    assert len(chat.buttons) >= 2


def test_human_handoff_keeps_the_place(chat):
    chat.say("walk me through the routine")
    chat.say("next")
    reply = chat.say("can I talk to a real person?")
    assert "saved" in reply and "example.com" not in reply  # no invented contact when none is configured
    assert "Step 2 of 5, then wait" in chat.say("next")  # the protocol's numbering: the wait of step 2


@pytest.mark.parametrize("message", [
    "i broke out in hives after the serum",
    "the redness from the serum is getting worse every day",
])
def test_reactions_stop_everything_and_point_to_a_doctor(chat, message):
    reply = chat.say(message)
    assert re.search(r"stop using", reply, re.I) and re.search(r"dermatologist|doctor", reply)
    assert "emergency" in reply  # what to do if it gets worse
    assert not re.search(r"may help|pea-sized|5.15 minutes", reply)


@pytest.mark.parametrize("message", [
    "my cheeks are burning and swollen after using it",
    "my throat feels tight since I put it on, also how often do I use it?",
])
def test_emergency_signs_lead_with_emergency_help(chat, message):
    reply = chat.say(message)
    assert reply.splitlines()[0].startswith("**Get emergency help now")
    assert re.search(r"stop using", reply, re.I) and not re.search(r"twice|daily|results vary", reply, re.I)
    assert not chat.buttons  # no "talk to a person" as the way out


@pytest.mark.parametrize("message", [
    "I'm pregnant, is retinol ok?",
    "i'm breastfeeding, can I use hydroquinone for my melasma",
    "I'm on isotretinoin, can I add this serum?",
    "I'm 15, can I use tretinoin?",
])
def test_pregnancy_prescriptions_and_minors_get_no_yes(chat, message):
    reply = chat.say(message)
    assert re.search(r"doctor|dermatologist", reply)
    assert not re.search(r"^\s*yes\b", reply, re.I)


def test_no_medical_claims_or_promises(chat):
    for message in ["will this cure my acne?", "is it guaranteed to fade my melasma?", "can it heal my eczema?"]:
        reply = chat.say(message)
        assert not CLAIMS.search(reply), reply
        assert re.search(r"may|vary|dermatologist|doctor", reply)
