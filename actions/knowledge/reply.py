"""A decided question -> the answers of one reply, in order — pure Python, no Rasa.

The composition rule lives here once, for the actions and for `make explain`: an emergency is the whole
reply; otherwise what leads (a severity, a referral, a gap, a verdict), then the answer, then at most one
second answer the same message asked for.
"""
from __future__ import annotations

from dataclasses import replace
from typing import List, Optional, Tuple

from . import query
from .query import Answer
from .resolve import Question
from .schema import KnowledgeBase


def compose(kb: KnowledgeBase, question: Question) -> Tuple[List[Answer], Optional[Answer]]:
    """The reply's answers, and the main answer (what a follow-up leans on), if any."""
    if question.triage.severity == "emergency":
        return [query.safety(kb, "emergency")], None  # nothing before it, nothing promotional after it
    words = question.frame.subject_words if question.frame else None
    answers = [query.lead(kb, kind, question.context, words) for kind in question.safety]
    if question.resumed:
        answers.append(query.profile_noted(kb, question.context))
    main = query.answer(kb, question.topic, question.context) if question.topic else None
    if main is not None:
        answers.append(_without_repeats(main, answers))
    if question.also:
        # the second answer leaves out the product the main answer was about ("which cleanser, and what to layer?")
        ctx = question.context
        if question.topic == "product":
            ctx = replace(ctx, product=None, products=())
        answers.append(_without_repeats(query.answer(kb, question.also, ctx), answers))
    answers = [a for a in answers if a.text.strip()]  # an answer a lead already said in full
    if not answers:
        answers.append(query.not_covered(kb, question.context))
    return answers, main


def _without_repeats(answer: Answer, earlier: List[Answer]) -> Answer:
    """``answer`` without the lines an earlier answer of the same reply already says."""
    said = {line for a in earlier for line in a.text.split("\n")}
    return replace(answer, text="\n".join(line for line in answer.text.split("\n") if line not in said))
