"""Our markdown as Slack mrkdwn, quick replies as Block Kit, and the once-only memory of events."""
from __future__ import annotations

from addons.slack import MAX_SECTION_CHARS, RecentKeys, SeenKeys, SlackChannel, quick_reply_blocks, to_mrkdwn


def test_markdown_becomes_mrkdwn():
    assert to_mrkdwn("**Step 1: Cleanse** — then *pat* dry") == "*Step 1: Cleanse* — then _pat_ dry"
    assert to_mrkdwn("_Source: Absorption Time · Key Considerations_") == "_Source: Absorption Time · Key Considerations_"
    assert to_mrkdwn("## Morning\n- cleanse\n- serum") == "*Morning*\n• cleanse\n• serum"
    assert to_mrkdwn("see [the guide](https://example.com/a?b=1&c=2)") == "see <https://example.com/a?b=1&amp;c=2|the guide>"


def test_user_visible_control_characters_are_escaped_and_words_with_underscores_kept():
    assert to_mrkdwn("<b>1 < 2 & 3</b>") == "&lt;b&gt;1 &lt; 2 &amp; 3&lt;/b&gt;"
    assert to_mrkdwn("/walkthrough_start and 2*3*4") == "/walkthrough_start and 2*3*4"
    assert to_mrkdwn("[click](javascript:alert(1))") == "[click](javascript:alert(1))"


def test_quick_replies_become_buttons_under_the_text():
    blocks = quick_reply_blocks("**Next?**", [{"title": "Done — next step", "payload": "/walkthrough_next"},
                                             {"title": "Repeat", "payload": "/walkthrough_repeat"}])
    assert blocks[0] == {"type": "section", "text": {"type": "mrkdwn", "text": "*Next?*"}}
    assert [(e["text"]["text"], e["value"]) for e in blocks[1]["elements"]] == [
        ("Done — next step", "/walkthrough_next"), ("Repeat", "/walkthrough_repeat")]
    assert len({e["action_id"] for e in blocks[1]["elements"]}) == 2


def test_long_answers_and_many_buttons_stay_within_block_kit_limits():
    text = "\n".join(f"{i}. " + "word " * 100 for i in range(20))
    buttons = [{"title": f"Option {i} " + "x" * 80, "payload": f"/p{i}"} for i in range(30)]
    blocks = quick_reply_blocks(text, buttons)
    sections = [b for b in blocks if b["type"] == "section"]
    actions = [b for b in blocks if b["type"] == "actions"]
    assert len(sections) > 1 and all(len(s["text"]["text"]) <= MAX_SECTION_CHARS for s in sections)
    assert "\n".join(s["text"]["text"] for s in sections) == to_mrkdwn(text)
    assert [len(a["elements"]) for a in actions] == [25, 5]
    assert all(len(e["text"]["text"]) <= 75 for a in actions for e in a["elements"])


def test_recent_keys_remember_each_key_once_and_forget_old_ones():
    recent = RecentKeys(ttl=3600, size=3)
    assert recent.add("Ev1") and not recent.add("Ev1")
    assert recent.add(None) and recent.add(None)
    assert recent.add("Ev2") and recent.add("Ev3")
    assert not recent.add("Ev2")
    assert recent.add("Ev4")
    assert recent.add("Ev1")  # pushed out by the size bound


def test_reply_in_thread_starts_a_thread_under_the_users_message():
    threaded = SlackChannel("xoxb-1", "secret", reply_in_thread=True)
    flat = SlackChannel("xoxb-1", "secret")
    event = {"ts": "1.0001"}
    assert threaded._thread(event) == "1.0001" and flat._thread(event) is None
    assert flat._thread({"ts": "1.0002", "thread_ts": "1.0001"}) == "1.0001"


async def test_seen_keys_without_a_reachable_redis_decide_from_memory():
    from redis.asyncio import Redis

    from scripts.stack import free_port

    seen = SeenKeys(Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1.0))  # nothing listens
    assert await seen.add("Ev1") and not await seen.add("Ev1")
    assert await seen.add(None) and await seen.add("Ev2")
