"""A decided question -> the answers of one reply, in order — pure Python, no Rasa.

The composition rule lives here once, for the actions and for `make explain`: an emergency is the whole
reply; otherwise what leads (a severity, a referral, a gap, a verdict), then the answer, then at most one
second answer the same message asked for.
"""
from __future__ import annotations

import re
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
    if question.parts:  # several questions: each one's answer in turn, nothing said twice
        answers: List[Answer] = [query.profile_noted(kb, question.context)] if question.resumed else []
        main = None
        for part in question.parts:
            said, main_part = compose(kb, part)
            answers += [a for a in (_without_repeats(a, answers) for a in said) if a.text.strip()]
            main = main_part or main
        return answers, main
    words = question.frame.subject_words if question.frame else None
    # a gap that keeps the answer ("is The Ordinary niacinamide ok?": no brands) follows the answer, whose
    # verdict goes first; every other lead (safety, a verdict, a gap alone) comes before it
    after = {f"gap:{g.id}" for g in kb.gaps if g.then_answer} if question.topic else set()
    answers = [query.lead(kb, kind, question.context, words) for kind in question.safety if kind not in after]
    if question.resumed:
        answers.append(query.profile_noted(kb, question.context))
    main = query.answer(kb, question.topic, question.context) if question.topic else None
    if main is not None:
        main = _without_repeats(main, answers)
        for lead in [query.lead(kb, kind, question.context, words) for kind in question.safety if kind in after]:
            first, _, rest = main.text.partition("\n")  # right after the answer's first line
            main = replace(main, text="\n".join(x for x in (first, lead.text, rest) if x),
                           sources=main.sources + [x for x in lead.sources if x not in main.sources])
        answers.append(main)
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


#: Words too common to tell two sentences apart.
_COMMON = frozenset("a an the and or of to in on with your you it its is be for at as".split())
#: Share of the longer sentence's words both must hold for the two to say the same thing.
SAME_SENTENCE = 0.8


def _words(line: str) -> frozenset:
    return frozenset(w for w in re.findall(r"[a-z0-9]+", line.lower()) if w not in _COMMON)


def _says_again(line: str, said: List[frozenset]) -> bool:
    """``line`` says what an earlier line said, in the same or nearly the same words ("In the morning, finish
    with a broad-spectrum sunscreen, SPF 30 or higher." / "In the morning, always finish with …")."""
    words = _words(line)
    return any(len(words & other) >= SAME_SENTENCE * max(len(words), len(other)) for other in said if other)


def _without_repeats(answer: Answer, earlier: List[Answer]) -> Answer:
    """``answer`` without the lines an earlier answer of the same reply already says."""
    said = [_words(line) for a in earlier for line in a.text.split("\n")]
    return replace(answer, text="\n".join(line for line in answer.text.split("\n") if not _says_again(line, said)))
