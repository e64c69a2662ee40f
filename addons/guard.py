"""Channel-neutral protection for the Rasa server: clean and cap user text, never go silent.

Used by the REST channel (``addons/rest.py``); any other channel subclass can use the same pieces.
"""
from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List

logger = logging.getLogger(__name__)

#: Longest message the assistant reads; the rest is cut off with a polite note.
MAX_MESSAGE_CHARS = 2000

CAPPED_NOTE = (
    f"Your message was long, so I read only the first {MAX_MESSAGE_CHARS:,} characters. "
    "Asking one thing at a time gets you the best answers."
)
EMPTY_TEXT = (
    "I didn't catch anything there. Ask me how to use the exosome serum, how to adapt it to your skin, "
    "or where an ingredient like retinol fits."
)
FALLBACK_TEXT = (
    "Sorry — I can't answer that right now. Please ask again in a minute; I still remember what you've "
    "told me about your skin. If your skin is reacting (burning, swelling, a rash), stop using the serum, "
    "rinse with cool water and contact a dermatologist."
)

# Characters that carry no meaning for the assistant but can break storage, logs or display:
# control characters (NUL breaks PostgreSQL text), unpaired surrogates (cannot be encoded as UTF-8),
# and invisible formatting such as bidi overrides and zero-width spaces (which also split words).
_KEEP_CONTROLS = {"\n", "\t"}
_KEEP_FORMAT = {"\u200c", "\u200d"}  # zero-width (non-)joiners: part of emoji and of several scripts
_DROP_CATEGORIES = {"Cc", "Cf", "Cs"}


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
    """Normalise (NFKC), drop invisible and control characters, trim, and cap at ``limit`` characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in unicodedata.normalize("NFKC", text) if _keep(c)).strip()
    if len(text) <= limit:
        return CleanText(text)
    return CleanText(_cap(text, limit), capped=True)


def fallback_message(recipient_id: str) -> Dict[str, Any]:
    return {"recipient_id": recipient_id, "text": FALLBACK_TEXT}


def empty_message(recipient_id: str) -> Dict[str, Any]:
    """The answer to a message with nothing left after cleaning (the NLU cannot classify no tokens)."""
    return {"recipient_id": recipient_id, "text": EMPTY_TEXT}


def capped_message(recipient_id: str) -> Dict[str, Any]:
    return {"recipient_id": recipient_id, "text": CAPPED_NOTE}


async def handle_safely(on_new_message: Callable[[Any], Awaitable[Any]], message: Any) -> None:
    """Pass a message to Rasa; an error is logged (without the user's text) instead of raised."""
    try:
        await on_new_message(message)
    except Exception:  # noqa: BLE001 — the user gets the fallback reply; the trace goes to the log
        logger.exception("handling a message from channel %s failed", getattr(message, "input_channel", "?"))


def replies(messages: List[Dict[str, Any]], recipient_id: str, capped: bool) -> List[Dict[str, Any]]:
    """What the user reads: the assistant's messages, or the fallback when it had nothing to say."""
    out = list(messages) or [fallback_message(recipient_id)]
    return ([capped_message(recipient_id)] if capped else []) + out
