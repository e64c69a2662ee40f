"""The hand-off's settings: opening hours, the contact as a working link, what asking for a person says."""
from datetime import datetime, timezone

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionHandoff
from actions.handoff_settings import BadHours, Settings, contact_link, parse_hours


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("moment, online", [
    ("2026-12-07T07:59", False),  # Monday 08:59 in Paris (UTC+1 in December)
    ("2026-12-07T08:00", True),
    ("2026-12-07T16:29", True),
    ("2026-12-07T16:30", False),
    ("2026-12-05T10:00", False),  # Saturday
])
def test_hours_are_read_in_their_time_zone(moment, online):
    hours = parse_hours("Mon-Fri 09:00-17:30 Europe/Paris")
    assert hours.open_at(at(moment)) is online


def test_hours_without_days_or_zone_are_every_day_in_utc():
    hours = parse_hours("22:00-24:00")
    assert hours.open_at(at("2026-12-06T23:30")) and not hours.open_at(at("2026-12-06T21:59"))
    assert hours.text == "22:00-24:00 UTC"


@pytest.mark.parametrize("text", ["9-5", "Mon-Fri", "Funday 09:00-10:00", "10:00-09:00", "09:00-10:00 Mars/Base"])
def test_unreadable_hours_are_refused_with_the_reason(text):
    with pytest.raises(BadHours):
        parse_hours(text)


def test_unreadable_hours_leave_the_team_online_rather_than_never(caplog):
    settings = Settings.from_env({"HANDOFF_HOURS": "whenever", "HANDOFF_SLACK_CHANNEL": "C1"})
    assert settings.hours is None and settings.open_at(at("2026-12-06T03:00"))
    assert "HANDOFF_HOURS" in caplog.text


@pytest.mark.parametrize("contact, link", [
    ("care@brand.example", "[care@brand.example](mailto:care@brand.example)"),
    ("mailto:care@brand.example", "[care@brand.example](mailto:care@brand.example)"),
    ("https://brand.example/help/", "[brand.example/help](https://brand.example/help/)"),
    ("call Ana on 555-0100", "call Ana on 555-0100"),
    ("http://brand.example", "http://brand.example"),  # not a secure link: said as written, not linked
])
def test_the_contact_becomes_a_working_link(contact, link):
    assert contact_link(contact) == link


def test_the_live_hand_off_needs_the_channel_and_the_slack_app():
    slack = {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y"}
    assert Settings.from_env({"HANDOFF_SLACK_CHANNEL": "C1", **slack}).live
    assert not Settings.from_env({"HANDOFF_SLACK_CHANNEL": "C1", "SLACK_BOT_TOKEN": "x"}).live
    assert not Settings.from_env(slack).live
    assert Settings.from_env({"HANDOFF_TIMEOUT": "soon"}).timeout_minutes == 5


def handoff_tracker(**slots):
    return Tracker(sender_id="test", slots=slots, events=[
        {"event": "user", "text": "I have oily skin"}, {"event": "bot", "text": "Got it."},
        {"event": "user", "text": "can I talk to a person?"}],
        latest_message={"intent": {"name": "human_handoff", "confidence": 0.9}, "text": "can I talk to a person?",
                        "entities": []}, paused=False, followup_action=None, active_loop={}, latest_action_name=None)


async def test_asking_for_a_person_with_slack_set_up_says_connecting_and_requests_the_card(monkeypatch):
    monkeypatch.setenv("HANDOFF_SLACK_CHANNEL", "C1")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("HANDOFF_TIMEOUT", "3")
    monkeypatch.delenv("HANDOFF_HOURS", raising=False)
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, handoff_tracker(skin_type=["oily"]), {})
    text, request = dispatcher.messages
    assert "connecting you" in text["text"] and "within 3 minutes" in text["text"]
    assert request["custom"]["handoff"] == {
        "reason": "asked", "online": True, "profile": {"skin_type": ["oily"]},
        "transcript": [["shopper", "I have oily skin"], ["assistant", "Got it."],
                       ["shopper", "can I talk to a person?"]]}


async def test_with_only_an_email_contact_the_shopper_gets_a_mailto_link(monkeypatch):
    monkeypatch.delenv("HANDOFF_SLACK_CHANNEL", raising=False)
    monkeypatch.setenv("HANDOFF_CONTACT", "care@brand.example")
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, handoff_tracker(), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff"
    assert message["contact"] == "[care@brand.example](mailto:care@brand.example)"


@pytest.mark.parametrize("slots, reason", [
    ({"reaction": "reaction"}, "reaction"), ({"last_topic": "not_covered"}, "unanswered"), ({}, "asked")])
async def test_the_card_says_why_a_person_was_asked_for(monkeypatch, slots, reason):
    monkeypatch.setenv("HANDOFF_SLACK_CHANNEL", "C1")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, handoff_tracker(**slots), {})
    assert dispatcher.messages[-1]["custom"]["handoff"]["reason"] == reason
