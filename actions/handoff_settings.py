"""The hand-off's settings, read from the environment by the action server and the Rasa server alike.

No Rasa here: :mod:`actions.conversation` decides what the shopper is told when they ask for a person, and
:mod:`addons.handoff` (the Rasa server) runs the hand-off itself; both read the same variables:

- ``HANDOFF_SLACK_CHANNEL`` — the care team's Slack channel id; with the Slack app on (``SLACK_BOT_TOKEN`` and
  ``SLACK_SIGNING_SECRET``) it switches the live hand-off on,
- ``HANDOFF_CONTACT`` — an e-mail address, an ``https:`` link or a sentence: how to reach a person otherwise,
- ``HANDOFF_TIMEOUT`` — minutes to wait for an agent before telling the shopper honestly (default 5),
- ``HANDOFF_HOURS`` — when the team is online, e.g. ``Mon-Fri 09:00-17:30 Europe/Paris`` (days and time zone
  optional; unset: always).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, time, timezone, tzinfo
from typing import Mapping, Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

CHANNEL_ENV = "HANDOFF_SLACK_CHANNEL"
CONTACT_ENV = "HANDOFF_CONTACT"
TIMEOUT_ENV = "HANDOFF_TIMEOUT"
HOURS_ENV = "HANDOFF_HOURS"
#: The Slack app's own settings: without both, Slack stays off (scripts/stack.py), so no agent could answer.
SLACK_ENV = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
DEFAULT_TIMEOUT_MINUTES = 5.0

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EMAIL = re.compile(r"(?:mailto:)?([^@\s<>()\[\]]+@[^@\s<>()\[\]]+\.[A-Za-z]{2,})")
_URL = re.compile(r"https://[^\s<>()\[\]]+")
_RANGE = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)-([01]?\d|2[0-4]):([0-5]\d)")


class BadHours(ValueError):
    """``HANDOFF_HOURS`` could not be read."""


@dataclass(frozen=True)
class Hours:
    """Opening hours: a set of weekdays (0 = Monday), a daily window, a time zone."""

    days: Tuple[int, ...]
    start: time
    end: time
    zone: tzinfo
    text: str

    def open_at(self, moment: datetime) -> bool:
        """Whether the team is online at ``moment`` (an aware datetime)."""
        local = moment.astimezone(self.zone)
        clock = local.time().replace(tzinfo=None)
        return local.weekday() in self.days and self.start <= clock < self.end


def _days(spec: str) -> Tuple[int, ...]:
    days = set()
    for part in spec.lower().split(","):
        first, _, last = part.partition("-")
        if first[:3] not in DAYS or (last and last[:3] not in DAYS):
            raise BadHours(f"unknown day in {spec!r} (use Mon, Tue, … Sun)")
        a, b = DAYS.index(first[:3]), DAYS.index((last or first)[:3])
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return tuple(sorted(days))


def parse_hours(text: str) -> Hours:
    """``[days] HH:MM-HH:MM [time zone]``, e.g. ``Mon-Fri 09:00-17:30 Europe/Paris``; raises :class:`BadHours`."""
    words = text.split()
    found = [i for i, w in enumerate(words) if _RANGE.fullmatch(w)]
    if len(found) != 1:
        raise BadHours(f"{text!r}: expected one time range like 09:00-17:30")
    at = found[0]
    h1, m1, h2, m2 = (int(g) for g in _RANGE.fullmatch(words[at]).groups())
    start, end = time(h1, m1), (time(23, 59, 59, 999999) if (h2, m2) >= (24, 0) else time(h2, m2))
    if end <= start:
        raise BadHours(f"{text!r}: the range must end after it starts")
    days = _days(",".join(words[:at])) if at else tuple(range(7))
    rest = words[at + 1:]
    if len(rest) > 1:
        raise BadHours(f"{text!r}: unexpected {' '.join(rest[1:])!r}")
    try:
        zone = ZoneInfo(rest[0]) if rest else timezone.utc
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise BadHours(f"{text!r}: unknown time zone {rest[0]!r}") from error
    return Hours(days, start, end, zone, text.strip() if rest else f"{text.strip()} UTC")


def contact_link(contact: str) -> str:
    """The contact as the shopper can use it: an e-mail address as a ``mailto:`` link, an ``https:`` address
    as a link, anything else as written."""
    contact = contact.strip()
    email = _EMAIL.fullmatch(contact)
    if email:
        return f"[{email.group(1)}](mailto:{email.group(1)})"
    if _URL.fullmatch(contact):
        return f"[{contact.removeprefix('https://').rstrip('/')}]({contact})"
    return contact


@dataclass(frozen=True)
class Settings:
    channel: str = ""
    contact: str = ""
    timeout_minutes: float = DEFAULT_TIMEOUT_MINUTES
    hours: Optional[Hours] = None

    @property
    def reachable(self) -> bool:
        """Whether a shopper can reach a person at all: a live hand-off or a contact (else a "Talk to a person"
        button would only say there is no one)."""
        return self.live or bool(self.contact)

    @property
    def live(self) -> bool:
        """Whether asking for a person opens a live hand-off in Slack."""
        return bool(self.channel)

    def open_at(self, moment: datetime) -> bool:
        return self.hours is None or self.hours.open_at(moment)

    @property
    def minutes(self) -> str:
        """The timeout as the shopper reads it ("5", "0.5")."""
        return f"{self.timeout_minutes:g}"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        slack_on = all(env.get(name, "").strip() for name in SLACK_ENV)
        channel = env.get(CHANNEL_ENV, "").strip() if slack_on else ""
        try:
            minutes = float(env.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT_MINUTES)
        except ValueError:
            logger.error("%s=%r is not a number of minutes; using %g", TIMEOUT_ENV, env.get(TIMEOUT_ENV),
                         DEFAULT_TIMEOUT_MINUTES)
            minutes = DEFAULT_TIMEOUT_MINUTES
        hours = None
        if env.get(HOURS_ENV, "").strip():
            try:
                hours = parse_hours(env[HOURS_ENV])
            except BadHours as error:
                logger.error("%s: %s — the care team counts as always online", HOURS_ENV, error)
        return cls(channel=channel, contact=env.get(CONTACT_ENV, "").strip(),
                   timeout_minutes=minutes if minutes > 0 else DEFAULT_TIMEOUT_MINUTES, hours=hours)
