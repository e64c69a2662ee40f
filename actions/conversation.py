"""Help, hand-off and forgetting the profile: conversation glue around the protocol answers."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import PROFILE_SLOTS, kb, question_from, turn_from
from actions.handoff_settings import Settings, contact_link
from actions.knowledge.query import buttons, say
from actions.knowledge.resolve import State
from actions.dialogue import respond, walk
from actions.knowledge.text import asks, has
from actions.privacy import asks_erasure, offer_erasure

#: Who a user is handed to; brands set it per deployment (nothing is invented when it is unset).
HANDOFF_ENV = "HANDOFF_CONTACT"
#: The custom message that asks the Rasa server to open a live hand-off (addons/handoff.py); never shown.
HANDOFF_REQUEST = "handoff"


#: What small talk says when the message carries nothing to answer.
SMALL_TALK = {"greet": "utter_greet", "affirm": "utter_affirm", "deny": "utter_deny", "goodbye": "utter_goodbye",
              "thank": "utter_thank", "out_of_scope": "utter_out_of_scope", "help": "utter_capabilities"}
#: Small talk that closes: a topic is answered only when the message also asks ("at night too?" read as
#: "good night" is a question; "good night!" after a sunscreen answer is not one about sunscreen). Goodbye
#: comes here (data/rules.yml); thanks stays a domain response, so it is answered even while the action
#: server is down (tests/reliability).
CLOSING = frozenset({"goodbye", "thank"})


#: Small talk whose quick replies end with "Talk to a person", where the brand has set up a way to one.
TO_A_PERSON = frozenset({"utter_help", "utter_out_of_scope", "utter_capabilities"})


class ActionHelp(Action):
    """Small talk, fallback and out-of-scope: answer what the message does name, else chat or guide."""

    def name(self) -> Text:
        return "action_help"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        return small_talk(dispatcher, tracker, turn_from(tracker))


def small_talk(dispatcher: CollectingDispatcher, tracker: Tracker, turn) -> List[Dict[Text, Any]]:
    """Answer what the message does name, else chat or guide (with the way to a person where there is one)."""
    if asks_erasure(kb(), turn.text):  # "delete my data", however the intent model took it
        offer_erasure(dispatcher, kb())
        return []
    intent = turn.intent  # small talk has no topic of its own, so the entities and cues speak
    question = question_from(tracker, turn)
    if question.safety or (question.topic and not (intent in CLOSING and not asks(turn.text))):
        return respond(dispatcher, tracker, question)
    response = SMALL_TALK.get(intent, "utter_help")
    way = [] if response not in TO_A_PERSON or not Settings.from_env(os.environ).reachable else \
        [{"title": t, "payload": p} for t, p in buttons(kb(), "person")]
    dispatcher.utter_message(response=response, assistant_name=kb().assistant.name, buttons=way)
    return []


#: Turns of the conversation the care team's card shows.
TRANSCRIPT_TURNS = 6


def transcript(tracker: Tracker, turns: int = TRANSCRIPT_TURNS) -> List[List[str]]:
    """The conversation's last messages as ``[who, text]`` (who: ``shopper`` or ``assistant``), oldest first."""
    said = [["shopper" if e.get("event") == "user" else "assistant", e.get("text")]
            for e in tracker.events if e.get("event") in ("user", "bot") and e.get("text")]
    return said[-turns:]


class ActionHandoff(Action):
    """Say how to reach a person (asked whether it is a bot: that it is, with a button to one); the conversation
    stays as it is."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        question = question_from(tracker)
        events: List[Dict[Text, Any]] = []
        if question.triage.severity in ("emergency", "reaction"):
            events = respond(dispatcher, tracker, question)  # safety first; an emergency's way out is not a person
            if question.triage.severity == "emergency":
                return events
        settings = Settings.from_env(os.environ)
        turn = turn_from(tracker)
        if "pushback" in question.safety and not has(turn.text, kb().understanding.asks_person):
            return events + respond(dispatcher, tracker, question)  # "are you sure? …" doubts the answer, not the bot
        if turn.intent == "bot_challenge" and not has(turn.text, kb().understanding.asks_person):
            # "r u a bot?" asks what it is talking to, not for a person: the answer, and the way to one if there is one
            way = [{"title": t, "payload": p} for t, p in buttons(kb(), "person")] if settings.live or settings.contact else []
            dispatcher.utter_message(response="utter_bot_challenge", assistant_name=kb().assistant.name, buttons=way)
            return events
        if settings.live:
            return events + self.request_live(dispatcher, tracker, settings)
        if settings.contact:
            dispatcher.utter_message(response="utter_handoff", contact=contact_link(settings.contact))
        else:
            dispatcher.utter_message(text=say(kb(), "handoff_unconfigured"))
        return events

    @staticmethod
    def request_live(dispatcher: CollectingDispatcher, tracker: Tracker, settings: Settings) -> List[Dict[Text, Any]]:
        """Tell the shopper they are being connected (or that the team is offline, and the contact), and ask the
        Rasa server to post the hand-off card in the care team's channel either way."""
        knowledge = kb()
        reason = ("reaction" if tracker.get_slot("reaction") else
                  "unanswered" if tracker.get_slot("last_topic") == "not_covered" else "asked")
        online = settings.open_at(datetime.now(timezone.utc))
        if online:
            dispatcher.utter_message(text=say(knowledge, "handoff_connecting", minutes=settings.minutes))
        else:
            lines = [say(knowledge, "handoff_closed", hours=settings.hours.text if settings.hours else "")]
            lines.append(say(knowledge, "handoff_contact", contact=contact_link(settings.contact)) if settings.contact
                         else say(knowledge, "handoff_no_contact"))
            dispatcher.utter_message(text="\n".join(lines))
        profile = {name: tracker.get_slot(name) for name in PROFILE_SLOTS if tracker.get_slot(name)}
        dispatcher.utter_message(json_message={HANDOFF_REQUEST: {
            "reason": reason, "online": online, "profile": profile, "transcript": transcript(tracker)}})
        return []


class ActionForgetProfile(Action):
    def name(self) -> Text:
        return "action_forget_profile"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        turn = turn_from(tracker)
        u = kb().understanding
        if asks_erasure(kb(), turn.text):  # the whole conversation, not only the profile: offered, with a button
            offer_erasure(dispatcher, kb())
            return []
        if has(turn.text, u.restart) and not has(turn.text, u.forget):
            return walk(dispatcher, tracker, "walkthrough_start")  # "start over from the beginning"
        dispatcher.utter_message(response="utter_profile_forgotten")
        slots = PROFILE_SLOTS + ("last_topic", "last_time", "last_step", "last_gap", "pending_topic", "walkthrough_step",
                                 "walkthrough_time")
        forgotten = [SlotSet(name, None) for name in slots]
        question = question_from(tracker, state=State())  # "forget it — what's the basic routine?": answer that too
        if question.topic or question.safety:
            return forgotten + [e for e in respond(dispatcher, tracker, question) if e.get("name") not in slots]
        return forgotten
