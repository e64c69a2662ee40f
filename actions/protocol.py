"""Answers about the protocol: resolve the turn, ask the knowledge base, render."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import kb, question_from, remember
from actions.knowledge import query
from actions.knowledge.resolve import Question
from actions.render import utter
from actions.walkthrough import walk


def respond(dispatcher: CollectingDispatcher, tracker: Tracker, question: Question) -> List[Dict[Text, Any]]:
    """Safety first, then the answer for this profile and context; events that remember it."""
    if question.topic == "walkthrough_next":
        return walk(dispatcher, tracker, "walkthrough_next")
    base = kb()
    answers = [query.safety(base, kind) for kind in question.safety]
    if question.resumed:
        answers.append(query.profile_noted(base, question.context))
    answer = query.answer(base, question.topic, question.context) if question.topic else None
    if answer is not None:
        answers.append(answer)
    if question.also:
        answers.append(query.answer(base, question.also, question.context))
    if not answers:
        answers.append(query.not_covered(base, question.context))
    utter(dispatcher, base, answers)
    return remember(answer, question.context.time)


class ActionAnswer(Action):
    def name(self) -> Text:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        return respond(dispatcher, tracker, question_from(tracker))
