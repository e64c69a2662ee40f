"""When nobody can join: the timeout and out-of-hours paths, with real servers (the timeout is 3 s, not minutes)."""
from __future__ import annotations

import asyncio
import json
import re

import pytest

from tests.handoff.conftest import CareTeam
from tests.slack.fake_slack import new_id
from tests.socketio_client import SocketChat

pytestmark = pytest.mark.e2e

TIMEOUT = "nobody from the care team could join within 0.05 minutes"


def test_nobody_takes_it_in_time_the_widget_is_told_with_a_working_contact(timeout_stack, care_slack):
    care = CareTeam(timeout_stack, care_slack)

    async def visit() -> None:
        async with SocketChat(timeout_stack.rasa_url) as chat:
            await chat.join()
            before = len(care.cards())
            await chat.say("can I talk to a person?", "connecting you")
            card = await asyncio.to_thread(care.new_card, before)
            told = await chat.reply_matching(TIMEOUT, timeout=30)  # without a new message from the shopper
            assert "[care@brand.example](mailto:care@brand.example)" in told
            note = json.dumps(care.updates(card)[-1]["blocks"])
            assert "Nobody took it within 0.05 minutes" in note and "handoff_take" in note  # stays open
            answer = await chat.say("how long should the serum absorb?", re.compile(r"5\s*[–-]\s*15 minutes"))
            assert "care team" not in answer  # the assistant answers again

            status, _ = await asyncio.to_thread(care.click, card, "handoff_take", (new_id("U"), "Lee"))
            assert status == 200  # the team follows up later: the shopper hears it at once
            assert "**Lee** from the care team has joined" in await chat.reply_matching("has joined")

    asyncio.run(visit())


def test_outside_the_care_teams_hours_the_shopper_is_told_and_the_card_is_left_for_follow_up(closed_stack,
                                                                                            care_slack):
    care = CareTeam(closed_stack, care_slack)
    sender, before = f"rest-{new_id('S')}", len(care.cards())
    reply = "\n".join(m.get("text") or "" for m in closed_stack.say(sender, "I need to speak to a human"))
    assert "The care team isn't online right now (their hours:" in reply and "Europe/London" in reply
    assert "[brand.example/help](https://brand.example/help)" in reply
    assert "connecting you" not in reply
    card = care.new_card(before)
    assert "outside the care team's hours" in json.dumps(card["blocks"])
    assert care.button(card, "handoff_take")  # the team can still take it
    answer = "\n".join(m.get("text") or "" for m in closed_stack.say(sender, "how long should the serum absorb?"))
    assert re.search(r"5\s*[–-]\s*15 minutes", answer)  # the assistant goes on answering
