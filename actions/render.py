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


def _without_repeats(answers: List[Answer]) -> List[Answer]:
    """Drop lines an earlier answer of the same reply already said (a safety note and an ingredient's caution)."""
    seen, kept = set(), []
    for answer in answers:
        lines = [line for line in answer.text.split("\n") if line not in seen]
        seen.update(lines)
        if lines:
            kept.append(Answer(answer.topic, "\n".join(lines), answer.sources, answer.buttons, answer.asks_profile))
    return kept


def utter(dispatcher, kb: KnowledgeBase, answers: List[Answer]) -> None:
    """Send answers as messages; buttons go with the last one so they sit under the reply."""
    answers = _without_repeats([a for a in answers if a.text])
    for i, answer in enumerate(answers):
        msg = message(kb, answer)
        if i < len(answers) - 1:
            msg["buttons"] = []
        dispatcher.utter_message(**msg)
