"""Answers -> channel-neutral messages (markdown text + quick-reply buttons)."""
from __future__ import annotations

from typing import Any, Dict, List

from actions.knowledge import KnowledgeBase
from actions.knowledge.query import Answer


def message(kb: KnowledgeBase, answer: Answer, cite: bool = True) -> Dict[str, Any]:
    """One bot message: the answer's text, the protocol sections it follows, its quick replies."""
    text = answer.text
    titles = answer.section_titles(kb) if cite else []
    if titles:
        text += "\n_Protocol: " + "; ".join(titles) + "_"
    return {"text": text, "buttons": [{"title": t, "payload": p} for t, p in answer.buttons]}


def utter(dispatcher, kb: KnowledgeBase, answers: List[Answer]) -> None:
    """Send answers as messages; buttons go with the last one so they sit under the reply."""
    answers = [a for a in answers if a.text]
    for i, answer in enumerate(answers):
        msg = message(kb, answer)
        if i < len(answers) - 1:
            msg["buttons"] = []
        dispatcher.utter_message(**msg)
