"""The Rasa actions, driven like rasa-sdk's own tests: a Tracker in, what the user reads and events out."""
import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionForgetProfile, ActionHandoff, ActionHelp
from actions.protocol import ActionAnswer
from actions.walkthrough import ActionAbsorbed, ActionSetReminder, ActionWalkthrough


def tracker(intent, text="", entities=(), **slots):
    ents = [{"entity": e, "value": v} for e, v in entities]
    return Tracker(
        sender_id="test", slots=slots,
        latest_message={"intent": {"name": intent, "confidence": 0.9}, "text": text, "entities": ents},
        events=[], paused=False, followup_action=None, active_loop={}, latest_action_name=None,
    )


async def run(action, t):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return "\n".join(m.get("text") or "" for m in dispatcher.messages), dispatcher.messages, events


async def test_answer_is_personalised_and_remembers_the_topic():
    text, messages, events = await run(ActionAnswer(), tracker(
        "ask_product", "what cleanser should I use?", [("product", "cleanser")], skin_type=["dry"]))
    assert "cream-based" in text and "salicylic" not in text
    assert text.splitlines()[-1].startswith("_Source:")  # one short source line
    assert SlotSet("last_topic", "product") in events


async def test_follow_up_uses_the_remembered_ingredient():
    text, _, _ = await run(ActionAnswer(), tracker(
        "ask_layering", "should it go before or after the serum?", [("product", "serum")],
        ingredient=["retinoid"], last_topic="ingredient"))
    assert "retinoid" in text.lower() and "fully absorbed" in text


async def test_reaction_interrupts_with_safety_advice(monkeypatch):
    monkeypatch.setenv("HANDOFF_CONTACT", "care@brand.example")
    text, messages, events = await run(ActionAnswer(), tracker(
        "ask_routine", "my face is burning after the serum", [("symptom", "reaction")]))
    assert "stop using" in text and "dermatologist" in text and "pea-sized" not in text
    assert messages[-1]["buttons"] == [{"title": "Talk to a person", "payload": "/human_handoff"}]
    assert events == [{"event": "slot", "timestamp": None, "name": "reaction", "value": "reaction"}]


@pytest.mark.parametrize("action, intent, text, entities", [
    (ActionAnswer(), "ask_routine", "my face is burning after the serum", [("symptom", "reaction")]),
    (ActionHelp(), "out_of_scope", "can you give me a recipe for lasagna", []),
])
async def test_no_talk_to_a_person_button_where_there_is_no_one(monkeypatch, action, intent, text, entities):
    """With no live hand-off and no contact set up, a "Talk to a person" button would lead nowhere."""
    for name in ("HANDOFF_CONTACT", "HANDOFF_SLACK_CHANNEL"):
        monkeypatch.delenv(name, raising=False)
    _, messages, _ = await run(action, tracker(intent, text, entities))
    assert messages and all(b.get("payload") != "/human_handoff" for m in messages for b in m.get("buttons") or [])


async def test_help_offers_a_person_where_the_brand_has_a_contact(monkeypatch):
    monkeypatch.setenv("HANDOFF_CONTACT", "care@brand.example")
    _, messages, _ = await run(ActionHelp(), tracker("out_of_scope", "can you give me a recipe for lasagna"))
    assert {"title": "Talk to a person", "payload": "/human_handoff"} in messages[-1]["buttons"]


async def test_pregnancy_answer_gives_no_go_ahead():
    text, _, _ = await run(ActionAnswer(), tracker(
        "ask_ingredient", "I'm pregnant, can I use retinol?", [("life_stage", "pregnancy"), ("ingredient", "retinoid")],
        life_stage="pregnancy", ingredient=["retinoid"]))
    assert "doctor" in text and "yes" not in text.lower()


async def test_help_answers_entities_before_giving_up():
    text, _, _ = await run(ActionHelp(), tracker("nlu_fallback", "vit c??", [("ingredient", "vitamin_c")]))
    assert "vitamin C" in text
    _, messages, _ = await run(ActionHelp(), tracker("out_of_scope", "book me a flight"))
    assert [m["response"] for m in messages] == ["utter_out_of_scope"]


async def test_handoff_uses_the_configured_contact(monkeypatch):
    monkeypatch.setenv("HANDOFF_CONTACT", "call Ana on 555-0100")
    _, messages, events = await run(ActionHandoff(), tracker("human_handoff"))
    assert messages[0]["response"] == "utter_handoff" and messages[0]["contact"] == "call Ana on 555-0100"
    assert events == []  # the profile and the walkthrough position stay


async def test_forget_profile_clears_every_profile_slot():
    _, _, events = await run(ActionForgetProfile(), tracker("forget_profile", skin_type=["dry"], skin_tone="darker"))
    cleared = {e["name"] for e in events if e["event"] == "slot" and e["value"] is None}
    assert {"skin_type", "skin_tone", "concern", "life_stage", "medication", "walkthrough_step"} <= cleared


@pytest.mark.parametrize("intent, position, expected_step, expected_slot", [
    # the protocol's numbering: five steps, the absorption wait is the second stage of step 2
    ("walkthrough_start", 3.0, "Step 1 of 5", 0.0),
    ("walkthrough_next", 0.0, "Step 2 of 5", 1.0),
    ("walkthrough_next", None, "Step 1 of 5", 0.0),
    ("walkthrough_back", 2.0, "Step 2 of 5: Apply", 1.0),
    ("walkthrough_repeat", 2.0, "Step 2 of 5, then wait", 2.0),
])
async def test_walkthrough_moves_through_the_steps(intent, position, expected_step, expected_slot):
    text, _, events = await run(ActionWalkthrough(), tracker(intent, walkthrough_step=position))
    assert expected_step in text
    assert SlotSet("walkthrough_step", expected_slot) in events


async def test_a_stage_told_done_before_any_walkthrough_starts_it_after_that_stage():
    text, _, _ = await run(ActionWalkthrough(), tracker("walkthrough_next", "ok serum's on, now what"))
    assert "Let it absorb" in text and "Cleanse" not in text


async def test_walkthrough_where_am_i_and_the_end():
    text, _, _ = await run(ActionWalkthrough(), tracker("walkthrough_where", walkthrough_step=1.0))
    assert "You're on step 2 of 5" in text
    text, _, events = await run(ActionWalkthrough(), tracker("walkthrough_next", walkthrough_step=5.0))
    assert "whole routine" in text and SlotSet("walkthrough_step", None) in events


async def test_evening_walkthrough_has_no_sunscreen_step():
    text, _, _ = await run(ActionWalkthrough(), tracker("walkthrough_start", "walk me through my night routine",
                                                        [("time_of_day", "pm")]))
    assert "Step 1 of 4" in text


async def test_reminder_is_scheduled_for_the_asked_delay():
    text, _, events = await run(ActionSetReminder(), tracker("set_reminder", "ping me in 10 minutes"))
    assert "10 minutes" in text
    reminder = events[0]
    assert reminder["event"] == "reminder" and reminder["intent"] == "EXTERNAL_absorbed"


async def test_fired_reminder_moves_the_walkthrough_on():
    text, _, events = await run(ActionAbsorbed(), tracker("EXTERNAL_absorbed", walkthrough_step=2.0))
    assert "Time's up" in text and "Step 3 of 5" in text
    assert SlotSet("walkthrough_step", 3.0) in events


async def test_small_talk_with_skin_facts_answers_the_facts():
    text, _, _ = await run(ActionHelp(), tracker("affirm", "yes, oily", [("skin_type", "oily")], skin_type=["oily"]))
    assert "oily" in text and "salicylic" in text
    _, messages, _ = await run(ActionHelp(), tracker("greet", "hi there"))
    assert [m["response"] for m in messages] == ["utter_greet"]


async def test_answer_that_needs_the_skin_type_waits_for_it():
    _, _, events = await run(ActionAnswer(), tracker("ask_product", "which moisturiser?", [("product", "moisturizer")],
                                                     product="moisturizer"))
    assert SlotSet("pending_topic", "product") in events
    text, _, events = await run(ActionAnswer(), tracker("inform_profile", "dry", [("skin_type", "dry")],
                                                        skin_type=["dry"], product="moisturizer", pending_topic="product"))
    assert text.startswith("Got it — dry") and "emollient" in text
    assert SlotSet("pending_topic", None) in events


async def test_product_and_ingredient_in_one_message_get_both_answers():
    text, messages, _ = await run(ActionAnswer(), tracker(
        "ask_product", "sensitive skin, I use an alcohol toner after cleansing", [("product", "cleanser"), ("ingredient", "alcohol")],
        skin_type=["sensitive"]))
    assert "fragrance-free" in text and "alcohol-based toners" in text
    assert len(messages) == 1  # one reply, one message, one source line
    assert text.count("_Source:") == 1


async def test_a_goodbye_that_asks_is_answered_and_one_that_does_not_says_goodbye():
    # "at night too?" read as "good night", right after a sunscreen answer: the question, not a farewell
    text, messages, _ = await run(ActionHelp(), tracker("goodbye", "at night too?", [("time_of_day", "pm")],
                                                        last_topic="sunscreen"))
    assert "night" in text and not any(m.get("response") == "utter_goodbye" for m in messages)
    _, messages, _ = await run(ActionHelp(), tracker("goodbye", "good night!", [("time_of_day", "pm")],
                                                     last_topic="sunscreen"))
    assert [m["response"] for m in messages] == ["utter_goodbye"]
    _, messages, _ = await run(ActionHelp(), tracker("thank", "thanks!", last_topic="sunscreen"))
    assert [m["response"] for m in messages] == ["utter_thank"]


async def test_a_verdict_remembers_the_topic_it_answered():
    _, _, events = await run(ActionAnswer(), tracker("ask_sunscreen", "do i need sunscreen?", [("product", "sunscreen")]))
    assert SlotSet("last_topic", "sunscreen") in events


async def test_the_actives_step_of_a_walkthrough_names_the_ones_the_user_uses():
    text, _, _ = await run(ActionWalkthrough(), tracker("walkthrough_next", "now what", walkthrough_step=2.0,
                                                        walkthrough_time="pm", ingredient=["retinoid"]))
    assert "Step 3" in text and "your retinoids" in text
    text, _, _ = await run(ActionWalkthrough(), tracker("walkthrough_next", "now what", walkthrough_step=2.0,
                                                        walkthrough_time="pm"))
    assert "Step 3" in text and "your " not in text


async def test_and_then_after_where_an_active_goes_is_the_step_after_the_actives():
    _, _, events = await run(ActionAnswer(), tracker("ask_ingredient", "vitamin c in the morning, where does it go?",
                                                     [("ingredient", "vitamin_c"), ("time_of_day", "am")]))
    assert SlotSet("last_step", "treatments") in events
    text, _, _ = await run(ActionWalkthrough(), tracker("walkthrough_next", "and then?", last_step="treatments"))
    assert "Moisturise" in text and "Cleanse" not in text
