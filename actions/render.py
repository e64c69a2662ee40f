"""Answers -> channel-neutral messages (markdown text + quick-reply buttons).

A reply is one message: its answers' lines (a line already said in the reply is not said again), one short
source line naming at most two protocol sections, and the last answer's quick replies.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List

from actions.feedback import rated
from actions.handoff_settings import Settings
from actions.knowledge import KnowledgeBase
from actions.knowledge.query import Answer, buttons, say

#: Sections named on the source line at most (the first ones the reply draws on).
MAX_SOURCES = 2


def short_title(title: str) -> str:
    """'Application Steps › 2. Apply Exosome Serum › Absorption Time' -> 'Absorption Time'."""
    last = title.split("›")[-1].strip()
    number, _, rest = last.partition(". ")
    return rest if number.isdigit() and rest else last


def source_line(kb: KnowledgeBase, answers: List[Answer]) -> str:
    titles: List[str] = []
    for answer in answers:
        for title in answer.section_titles(kb):
            if short_title(title) not in titles:
                titles.append(short_title(title))
    return say(kb, "source_line", titles=" · ".join(titles[:MAX_SOURCES])) if titles else ""


def message(kb: KnowledgeBase, answers: List[Answer], cite: bool = True, person: bool = True) -> Dict[str, Any]:
    """One bot message for a reply made of ``answers``; without ``person``, no "Talk to a person" button."""
    lines: List[str] = []
    for answer in answers:
        lines += [line for line in answer.text.split("\n") if line and line not in lines]
    cited = source_line(kb, answers) if cite else ""
    text = "\n".join(lines + ([cited] if cited else []))
    last = next((a for a in reversed(answers) if a.buttons), None)
    to_person = set() if person else {p for _, p in buttons(kb, "person")}  # shown only where there is a way to one
    shown = [(t, p) for t, p in (last.buttons if last else []) if p not in to_person]
    return {"text": text, "buttons": [{"title": t, "payload": p} for t, p in shown]}


def utter(dispatcher, kb: KnowledgeBase, answers: List[Answer], question: Any = None) -> None:
    """Send a reply as one message; buttons sit under it, and the record a 👍/👎 rates (actions/feedback.py)."""
    answers = [a for a in answers if a.text]
    if answers:
        person = Settings.from_env(os.environ).reachable
        dispatcher.utter_message(**message(kb, answers, person=person), feedback=rated(kb, answers, question))
