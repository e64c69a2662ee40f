"""Two Rasa replicas sharing PostgreSQL (conversations) and Redis (locks), behind nginx.

Any replica can take any message: profile and context follow the user from one replica to the other,
a replica can die without losing anything, and simultaneous messages of one user are taken one at a time.
"""
from __future__ import annotations

import os
import re
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Tuple

import pytest

from scripts.scaled import Scaled
from scripts.stack import Stack, post_json
from tests.scaled.conftest import RoutedConversation, replicas_that_answered, through_nginx, user_events

pytestmark = pytest.mark.e2e

DRY_CLEANSER = re.compile(r"cream-based|hydrating", re.I)
#: Questions whose answers are easy to tell apart, with what each answer must contain.
QUESTIONS: Dict[str, str] = {
    "how long should the serum absorb?": r"5\s*[–-]\s*15 minutes",
    "can I use retinol after the serum?": r"retinoid",
    "what sunscreen should I use?": r"SPF",
    "how much serum should I use?": r"pea-sized",
    "should I patch test?": r"patch test",
    "what about niacinamide?": r"[Nn]iacinamide",
    "how often should I use it?": r"once or twice daily",
    "what should I avoid?": r"[Aa]void",
}


def test_turns_alternating_between_replicas_keep_profile_and_context(scaled: Scaled):
    a, b = scaled.rasa
    chat = RoutedConversation(a)
    assert "dry" in chat.via(a, "I have dry skin").lower()
    assert DRY_CLEANSER.search(chat.via(b, "what cleanser should I use?"))
    chat.via(a, "can I use retinol after the serum?")
    reply = chat.via(b, "should it go before or after my moisturiser?")  # "it": the retinol, asked on A
    assert "retinoid" in reply.lower() and "absorbed" in reply
    assert "Step 1 of" in chat.via(a, "walk me through it")
    assert "Step 2 of" in chat.via(b, "next")


def test_nginx_spreads_one_conversation_over_both_replicas(scaled: Scaled):
    chat = RoutedConversation(through_nginx(scaled))
    before = len(replicas_that_answered(scaled))
    chat.say("I have dry skin")
    replies = [chat.say("what cleanser should I use?") for _ in range(3)]
    served = replicas_that_answered(scaled)[before:]
    assert set(served) == {r.rasa_port for r in scaled.rasa}
    assert all(DRY_CLEANSER.search(reply) for reply in replies)


def _restart(replica: Stack) -> None:
    replica.stop()
    replica.start_rasa()
    replica.wait_ready(timeout=180)


def test_a_replica_killed_mid_conversation_loses_nothing(scaled: Scaled):
    victim = scaled.rasa[0]
    chat = RoutedConversation(through_nginx(scaled))
    said = ["I have dry skin", "can I use retinol after the serum?"]
    for text in said:
        chat.say(text)
    try:
        os.killpg(victim.processes["rasa"].pid, signal.SIGKILL)
        victim.processes["rasa"].wait(10)
        after = ["what cleanser should I use?", "should it go before or after my moisturiser?",
                 "how long should the serum absorb?", "what should I avoid?"]
        replies = [chat.say(text) for text in after]  # nginx skips the dead replica: no error reaches the user
        assert DRY_CLEANSER.search(replies[0])
        assert "retinoid" in replies[1].lower()
        assert re.search(QUESTIONS["how long should the serum absorb?"], replies[2])
        stored = [text for kind, text in user_events(scaled, chat.sender) if kind == "user"]
        assert stored == said + after
    finally:
        _restart(victim)


def _turns(events: List[Tuple[str, str]]) -> List[Tuple[str, List[str]]]:
    """(user text, bot texts that follow it) for each user event."""
    turns: List[Tuple[str, List[str]]] = []
    for kind, text in events:
        if kind == "user":
            turns.append((text, []))
        elif turns:
            turns[-1][1].append(text)
    return turns


def test_simultaneous_messages_of_one_user_on_both_replicas_are_taken_one_at_a_time(scaled: Scaled):
    chat = RoutedConversation(scaled.rasa[0])
    chat.say("I have dry skin")
    start = threading.Barrier(len(QUESTIONS))
    servers = [scaled.rasa[i % 2] for i in range(len(QUESTIONS))]

    def ask(server: Stack, question: str) -> List[str]:
        start.wait(timeout=30)
        return [m.get("text") or "" for m in post_json(server.rest_url, {"sender": chat.sender, "message": question})]

    with ThreadPoolExecutor(max_workers=len(QUESTIONS)) as pool:
        replies = dict(zip(QUESTIONS, pool.map(ask, servers, QUESTIONS)))
    for question, pattern in QUESTIONS.items():
        assert re.search(pattern, "\n".join(replies[question])), question

    turns = _turns(user_events(scaled, chat.sender))[1:]  # after the profile
    assert sorted(text for text, _ in turns) == sorted(QUESTIONS)  # none lost, none twice
    for question, bot_texts in turns:  # each answer stored right after its own question
        assert bot_texts == replies[question], question
