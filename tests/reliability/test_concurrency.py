"""30 people talking at once, each with a different profile: everyone gets their own advice."""
from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import List, Tuple

import pytest

from actions.knowledge.query import Profile, describe_profile
from tests.conftest import Conversation

pytestmark = pytest.mark.e2e

SKIN_TYPES = ["oily", "dry", "sensitive", "combination", "normal"]
TONES = ["darker", "medium", "light"]
CONCERNS = {"redness": "redness", "fine lines": "fine_lines"}
PROFILES = list(itertools.product(SKIN_TYPES, TONES, CONCERNS))  # 30, all different


def _talk(assistant, profile: Tuple[str, str, str]) -> List[str]:
    skin_type, tone, concern = profile
    chat = Conversation(assistant)
    return [
        chat.say(f"hi, I have {skin_type} skin, a {tone} skin tone and {concern}"),
        chat.say("how should I adjust the routine for my skin?"),
        chat.say("what cleanser should I use?"),
    ]


def test_thirty_simultaneous_conversations_each_get_their_own_profile(assistant, kb):
    with ThreadPoolExecutor(max_workers=len(PROFILES)) as pool:
        transcripts = list(pool.map(lambda p: _talk(assistant, p), PROFILES))
    labels = {t.id: t.label for t in kb.skin_types}
    for (skin_type, tone, concern), (ack, adjust, cleanser) in zip(PROFILES, transcripts):
        mine = describe_profile(kb, Profile((skin_type,), tone, (CONCERNS[concern],)))
        assert f"Got it — {mine}." in ack
        assert f"your {mine}:" in adjust  # "For your …:" or "Here's the routine for your …:"
        if skin_type in ("oily", "dry", "sensitive"):  # the types the protocol has cleansing advice for
            assert f"For {labels[skin_type]} skin:" in cleanser
        others = [label for other, label in labels.items() if other != skin_type]
        assert not any(f"For {label} skin:" in cleanser for label in others)
