"""Answer feedback and erasure in the actions (rasa-sdk Tracker in, what the user reads and events out)."""
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionForgetProfile, ActionHelp
from actions.feedback import ActionFeedback, one_line
from actions.knowledge import load_knowledge
from actions.protocol import ActionAnswer

PHRASES = load_knowledge().phrases


def tracker(text, intent="feedback", metadata=None, events=()):
    return Tracker(sender_id="test", slots={}, latest_message={"intent": {"name": intent, "confidence": 1.0},
                                                                "text": text, "entities": [], "metadata": metadata or {}},
                   events=list(events), paused=False, followup_action=None, active_loop={}, latest_action_name=None)


async def run(action, t):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return dispatcher.messages, events


async def answered(question="how long should the serum absorb?", intent="ask_absorption"):
    """The bot event an answer leaves in the tracker, with its feedback record."""
    [message], _ = await run(ActionAnswer(), tracker(question, intent))
    return message["feedback"], {"event": "bot", "text": message["text"], "metadata": {"feedback": message["feedback"]}}


async def test_every_protocol_answer_says_what_a_rating_would_rate():
    record, _ = await answered()
    assert (record["topic"], record["aspect"], record["gap"]) == ("absorption", "duration", False)
    assert record["sections"][0] == "step_2_absorption"
    assert record["labels"]["up"] == PHRASES["feedback_up"].text
    gap, _ = await answered("can I put it on my lips?", "ask_uncovered")
    assert gap["gap"] is True and "not_in_protocol" in gap["sections"]


async def test_a_rating_is_stored_with_what_the_rated_answer_was_about():
    record, bot = await answered()
    messages, events = await run(ActionFeedback(), tracker("/feedback", metadata={"feedback": {
        "id": record["id"], "rating": "down", "topic": "forged"}}, events=[bot]))
    [stored] = [e["value"] for e in events if e["event"] == "slot" and e["name"] == "feedback"]
    assert stored["topic"] == "absorption" and stored["rating"] == "down" and stored["comment"] is None
    assert messages[0]["custom"]["feedback_ack"]["ask"] == PHRASES["feedback_missing"].text


async def test_a_comment_alone_keeps_the_earlier_rating_and_is_one_line():
    record, bot = await answered()
    earlier = {"event": "slot", "name": "feedback", "value": {"id": record["id"], "rating": "up"}}
    _, events = await run(ActionFeedback(), tracker("/feedback", metadata={"feedback": {
        "id": record["id"], "comment": "  more\nabout   timing  "}}, events=[bot, earlier]))
    assert events == [SlotSet("feedback", {**events[0]["value"], "rating": "up", "comment": "more about timing"})]
    assert one_line("x" * 500) == "x" * 300 and one_line("   ") is None and one_line(3) is None


async def test_an_unknown_answer_or_rating_is_answered_and_not_stored():
    record, bot = await answered()
    for metadata in ({}, {"feedback": "up"}, {"feedback": {"id": "nope", "rating": "up"}},
                     {"feedback": {"id": record["id"], "rating": "meh"}}):
        messages, events = await run(ActionFeedback(), tracker("/feedback", metadata=metadata, events=[bot]))
        assert events == [] and messages[0]["text"] == PHRASES["feedback_unknown"].text, metadata


async def test_delete_my_data_is_offered_with_a_button_wherever_it_lands():
    for action, intent in ((ActionForgetProfile(), "forget_profile"), (ActionHelp(), "out_of_scope")):
        messages, events = await run(action, tracker("can you delete my data please", intent))
        assert messages[0]["text"] == PHRASES["erase_offer"].text and events == []
        assert [b["payload"] for b in messages[0]["buttons"]] == ["/delete_my_data"]
    messages, _ = await run(ActionForgetProfile(), tracker("forget my profile", "forget_profile"))
    assert messages[0].get("response") == "utter_profile_forgotten"
