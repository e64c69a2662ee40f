"""One guard for every channel: read and cap the user's text, and never leave the user without a reply.

REST (``addons/rest.py``, including ``?stream=true``), socket.io (``addons/socketio.py``) and Slack
(``addons/slack.py``) all hand their messages to Rasa through :func:`answer`, so each of them:

* reads only text (:func:`read`: anything else is refused by the channel in its own way — a 400 on REST,
  the empty-message prompt on socket.io),
* drops control and invisible characters and caps the text at :data:`MAX_MESSAGE_CHARS`
  (:func:`clean`), telling the user when it was cut,
* answers a message left empty itself (the NLU cannot classify a message without tokens), and
* answers with the knowledge base's "can't answer right now" phrase when the assistant said nothing —
  the action server down or stalled past ``ACTION_TIMEOUT``, an internal error — instead of silence.

It also keeps the channels' conversations apart: socket.io and Slack name theirs ``socketio:<id>`` and
``slack:<user>`` (:func:`sender_id`), and no channel accepts a sender id in another's namespace
(:func:`foreign_sender`), so a REST client cannot write into a widget's or a Slack user's conversation, and
a socket.io id cannot continue a REST one.

The sentences are the knowledge base's (``phrases.message_empty``, ``message_capped``, ``cant_answer`` in
``actions/knowledge/protocol.yml``), read once at import from the file the assistant serves.
"""
from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import OutputChannel, UserMessage

from actions.knowledge import load_knowledge
from addons import handoff

logger = logging.getLogger(__name__)

#: Longest message the assistant reads; the rest is cut off with a polite note.
MAX_MESSAGE_CHARS = 2000

_PHRASES = load_knowledge().phrases
CAPPED_NOTE = _PHRASES["message_capped"].text.format(limit=f"{MAX_MESSAGE_CHARS:,}")
EMPTY_TEXT = _PHRASES["message_empty"].text
FALLBACK_TEXT = _PHRASES["cant_answer"].text

# Characters that carry no meaning for the assistant but can break storage, logs or display:
# control characters (NUL breaks PostgreSQL text), unpaired surrogates (cannot be encoded as UTF-8),
# and invisible formatting such as bidi overrides and zero-width spaces (which also split words).
_KEEP_CONTROLS = {"\n", "\t"}
_KEEP_FORMAT = {"\u200c", "\u200d"}  # zero-width (non-)joiners: part of emoji and of several scripts
_DROP_CATEGORIES = {"Cc", "Cf", "Cs"}

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass(frozen=True)
class CleanText:
    """A user message as the assistant reads it."""

    text: str
    capped: bool = False


def _keep(char: str) -> bool:
    if char in _KEEP_CONTROLS or char in _KEEP_FORMAT:
        return True
    return unicodedata.category(char) not in _DROP_CATEGORIES


def _cap(text: str, limit: int) -> str:
    """The first ``limit`` characters, ending at a word boundary when one is close."""
    cut = text[:limit]
    space = cut.rfind(" ", limit - 80)
    return (cut[:space] if space > 0 else cut).rstrip()


def clean(text: str, limit: int = MAX_MESSAGE_CHARS) -> CleanText:
    """Normalise (NFKC), drop invisible and control characters, trim, and cap at ``limit`` characters.

    Only the first ``10 × limit`` characters are read at all: the cap needs no more, and cleaning a
    megabyte of text would hold the server for nothing.
    """
    reach = 10 * limit
    cut = len(text) > reach
    text = text[:reach].replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in unicodedata.normalize("NFKC", text) if _keep(c)).strip()
    if len(text) <= limit and not cut:
        return CleanText(text)
    return CleanText(_cap(text, limit), capped=True)


#: Channels that name their conversations themselves; a sender id with one of these prefixes is theirs alone.
OWN_SENDER_IDS = ("socketio", "slack")


def sender_id(channel: str, ident: str) -> str:
    """The conversation id under which ``channel`` (one of :data:`OWN_SENDER_IDS`) stores ``ident``."""
    return f"{channel}:{ident}"


def foreign_sender(sender: str) -> Optional[str]:
    """The channel whose namespace ``sender`` is in (case-insensitively), or None for an id any channel may use."""
    lowered = sender.lower()
    return next((c for c in OWN_SENDER_IDS if lowered.startswith(sender_id(c, ""))), None)


def read(value: Any) -> Optional[CleanText]:
    """A message as the assistant reads it, or None when ``value`` is not text (null, a number, a list …)."""
    return clean(value) if isinstance(value, str) else None


async def say(output: OutputChannel, recipient_id: str, text: str) -> None:
    """One of the guard's sentences, through the channel's own formatting; a failure to deliver is logged."""
    try:
        await output.send_response(recipient_id, {"text": text})
    except Exception:  # noqa: BLE001 — nothing more to tell the user on a channel that cannot reach them
        logger.exception("a %s reply could not be delivered", output.name())


class _Tally:
    """Counts what an output channel is asked to send, whichever of its methods Rasa uses."""

    def __init__(self, output: OutputChannel) -> None:
        self.sent = 0
        send_response = output.send_response

        async def counted(recipient_id: str, message: Any) -> None:
            self.sent += 1
            await send_response(recipient_id, message)

        output.send_response = counted  # type: ignore[method-assign]  # this one object only


async def handle_safely(on_new_message: OnNewMessage, message: UserMessage) -> None:
    """Pass a message to Rasa; an error is logged (without the user's text) instead of raised."""
    try:
        await on_new_message(message)
    except Exception:  # noqa: BLE001 — the user gets the fallback reply; the trace goes to the log
        logger.exception("handling a message from channel %s failed", message.input_channel or "?")


async def answer(on_new_message: OnNewMessage, message: UserMessage, capped: bool = False) -> None:
    """Hand ``message`` (text from :func:`clean`) to Rasa; the user always reads something back.

    The note about a capped message comes first; a message left empty gets the prompt and does not reach
    Rasa; when Rasa sent nothing for the message, the fallback follows.
    """
    output, recipient = message.output_channel, message.sender_id
    if not message.text:
        await say(output, recipient, EMPTY_TEXT)
        return
    if capped:
        await say(output, recipient, CAPPED_NOTE)
    if await handoff.intercept(message):  # handed off to the care team: it answers (addons/handoff.py)
        return
    tally = _Tally(output)
    await handle_safely(on_new_message, message)
    if not tally.sent:
        logger.warning("the assistant sent nothing for a %s message: answered with the fallback",
                       message.input_channel or "?")
        await say(output, recipient, FALLBACK_TEXT)
