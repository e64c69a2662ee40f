"""Deleting a conversation: "delete my data" is offered with a button; the button erases it.

The offer comes from whichever action the message reached (forgetting the profile, small talk): the
knowledge base's ``understanding.erase`` words decide, not the intent model. The "Yes, delete it" button sends
``/delete_my_data``; :class:`ActionDeleteData` says it is done, and the Rasa server's tracker store, seeing
this action in the turn it saves, deletes the conversation instead of saving it — every event, in SQLite or
PostgreSQL — and notes its id for the insights index to forget (addons/privacy.py).
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import KnowledgeBase, load_knowledge
from actions.knowledge.query import buttons, say
from actions.knowledge.text import has

#: The action whose turn the tracker store erases (addons/privacy.py reads the same name).
ACTION = "action_delete_data"


def asks_erasure(kb: KnowledgeBase, text: str) -> bool:
    return bool(kb.understanding.erase) and has(text, kb.understanding.erase)


def offer_erasure(dispatcher: CollectingDispatcher, kb: KnowledgeBase) -> None:
    dispatcher.utter_message(text=say(kb, "erase_offer"),
                             buttons=[{"title": t, "payload": p} for t, p in buttons(kb, "erase")])


class ActionDeleteData(Action):
    def name(self) -> Text:
        return ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text=say(load_knowledge(), "erase_done"))
        return []
