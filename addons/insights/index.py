"""The insights index: the tracker store's events summarised, incrementally, into a few narrow tables.

Rasa's tracker store keeps one row per event with the event as JSON text (``events``: id, sender_id,
type_name, timestamp, intent_name, action_name, data). Aggregating that directly means parsing JSON in SQL —
``json_extract`` on SQLite, ``->>`` on PostgreSQL — over millions of rows on every page view. Instead,
:class:`Indexer` reads the events added since its watermark (``events.id``), in id order, and writes one row
per user message (its channel, day, intent, the words shoppers used, what the answer was about, whether it was
a gap, the reply latency …), per rating, per profile fact, per walkthrough step and per session. The page's
queries then group plain indexed columns with the same SQL on SQLite and PostgreSQL (queries.py).

Where: beside the tracker store — for the SQLite store, in its own file next to it (``insights.db``: the
Rasa server stays the tracker file's only writer); for PostgreSQL, ``insights_*`` tables in the same database.
:func:`forget` deletes a conversation from every table (``delete my data``, retention); the index never
holds an email address, phone number or Slack token a shopper typed (masked first, :func:`mask`).
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import sqlalchemy as sa

from addons.erasure import ERASED

#: Rasa's SQL tracker store table (rasa.core.tracker_store.SQLTrackerStore.SQLEvent).
EVENTS = sa.Table("events", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("sender_id", sa.String(255), index=True), sa.Column("type_name", sa.String(255)),
                  sa.Column("timestamp", sa.Float), sa.Column("intent_name", sa.String(255)),
                  sa.Column("action_name", sa.String(255)), sa.Column("data", sa.Text))

META = sa.MetaData()
MESSAGES = sa.Table(
    "insights_messages", META,
    sa.Column("event_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("channel", sa.String(16), nullable=False), sa.Column("ts", sa.Float, nullable=False),
    sa.Column("day", sa.String(10), nullable=False), sa.Column("intent", sa.String(64)),
    sa.Column("text", sa.Text), sa.Column("wording", sa.String(255)),
    sa.Column("unplaced", sa.Integer, nullable=False, default=0),
    sa.Column("replied", sa.Integer, nullable=False, default=0),
    sa.Column("latency_ms", sa.Integer), sa.Column("topic", sa.String(64)), sa.Column("aspect", sa.String(64)),
    sa.Column("gap", sa.Integer, nullable=False, default=0), sa.Column("answer_id", sa.String(64)),
    sa.Column("safety", sa.String(255)), sa.Column("severity", sa.String(32)),
    sa.Column("reminder", sa.Integer, nullable=False, default=0),
    #: "not covered" (a gap answer) / "not placed" (NLU fallback, out of scope), else null: the content-gaps list
    sa.Column("gap_kind", sa.String(16)),
    #: 1 when safety escalated (a severity, a referral): the escalations list
    sa.Column("escalated", sa.Integer, nullable=False, default=0),
    # covering indexes: each of the page's grouped queries reads one index, not the rows (which hold the text)
    sa.Index("insights_messages_volume", "day", "channel", "sender_id"),
    sa.Index("insights_messages_topics", "day", "channel", "topic", "aspect"),
    sa.Index("insights_messages_service", "day", "channel", "latency_ms", "replied", "unplaced"),
    sa.Index("insights_messages_safety", "day", "channel", "safety", "severity", "intent"),
    sa.Index("insights_messages_gaps", "gap_kind", "day", "channel", "wording"),
    sa.Index("insights_messages_examples", "wording", "gap_kind"),
    sa.Index("insights_messages_escalated", "escalated", "ts"),
    sa.Index("insights_messages_reminders", "reminder", "day", "channel"),
)
WORDS = sa.Table(  # each content word of a message once: the transcript search looks words up, not text
    "insights_words", META,
    sa.Column("word", sa.String(64), nullable=False), sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("channel", sa.String(16), nullable=False), sa.Column("day", sa.String(10), nullable=False),
    sa.Index("insights_words_word", "word", "day", "channel", "sender_id"),
)
MENTIONS = sa.Table(  # what a message named: an ingredient, a product, a safety kind
    "insights_mentions", META,
    sa.Column("event_id", sa.BigInteger, nullable=False), sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("channel", sa.String(16), nullable=False), sa.Column("day", sa.String(10), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False), sa.Column("value", sa.String(64), nullable=False),
    sa.Index("insights_mentions_day", "kind", "day"),
)
FEEDBACK = sa.Table(  # the last rating of each answer (a comment after a 👎 replaces the bare 👎)
    "insights_feedback", META,
    sa.Column("answer_id", sa.String(64), primary_key=True), sa.Column("event_id", sa.BigInteger, nullable=False),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True), sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("ts", sa.Float, nullable=False), sa.Column("day", sa.String(10), nullable=False, index=True),
    sa.Column("rating", sa.String(8), nullable=False), sa.Column("comment", sa.Text),
    sa.Column("topic", sa.String(64)), sa.Column("section", sa.String(64)),
)
PROFILES = sa.Table(  # skin types, tones and concerns shoppers gave
    "insights_profiles", META,
    sa.Column("sender_id", sa.String(255), primary_key=True), sa.Column("slot", sa.String(32), primary_key=True),
    sa.Column("value", sa.String(64), primary_key=True), sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("day", sa.String(10), nullable=False, index=True),
)
STEPS = sa.Table(  # walkthrough steps reached
    "insights_steps", META,
    sa.Column("sender_id", sa.String(255), primary_key=True), sa.Column("step", sa.Integer, primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False), sa.Column("day", sa.String(10), nullable=False, index=True),
)
SESSIONS = sa.Table(
    "insights_sessions", META,
    sa.Column("event_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True), sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("day", sa.String(10), nullable=False), sa.Index("insights_sessions_day", "day", "channel"),
)
STATE = sa.Table("insights_state", META, sa.Column("name", sa.String(32), primary_key=True),
                 sa.Column("value", sa.BigInteger, nullable=False))
PER_CONVERSATION = (MESSAGES, MENTIONS, FEEDBACK, PROFILES, STEPS, SESSIONS, WORDS)

CHANNELS = ("widget", "slack", "rest")
#: Intents that are no shopper's question: a rating, a reminder firing.
NOT_ASKED = ("feedback", "EXTERNAL_absorbed")
#: A message the assistant could not place: the NLU's fallback, or out of scope.
UNPLACED = ("nlu_fallback", "out_of_scope")
PROFILE_SLOTS = ("skin_type", "skin_tone", "concern")
MENTIONED = ("ingredient", "product")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SLACK_TOKEN = re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+")
_PHONE = re.compile(r"(?<![\w])\+?\d[\d ().-]{6,}\d(?![\w])")
_WORD = re.compile(r"[a-z0-9]+")
#: Words that do not tell one question from another, for grouping by wording.
_FILLER = frozenset("""a an the i im i'm me my is are am be do does did can could should would will it its this that
to of in on for and or with at if so just any some what how when which why where much many there you your we our
use using used about after before get go ok please hi hey thanks""".split())


def mask(text: Optional[str]) -> Optional[str]:
    """``text`` with email addresses, Slack tokens and phone numbers replaced by a placeholder."""
    if not text:
        return text
    text = _SLACK_TOKEN.sub("[token]", text)
    text = _EMAIL.sub("[email]", text)
    return _PHONE.sub(lambda m: "[phone]" if sum(c.isdigit() for c in m.group()) >= 7 else m.group(), text)


def wording(text: str) -> str:
    """What groups similar questions: their content words, sorted ("how long does it absorb?" and "absorb —
    how long?" group together)."""
    words = sorted({w for w in _WORD.findall(text.lower()) if w not in _FILLER and len(w) > 1})
    return " ".join(words)[:255]


def channel_of(sender_id: str) -> str:
    """The channel a conversation came in on, from the id the channel gave it (addons/guard.py)."""
    if sender_id.startswith("socketio:"):
        return "widget"
    if sender_id.startswith("slack:"):
        return "slack"
    return "rest"


def day_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d")


def _latency_bucket(seconds: float) -> int:
    """Milliseconds, kept to 10 ms up to 2 s and to 100 ms beyond: percentiles come from a histogram."""
    ms = max(0, int(seconds * 1000))
    return ms - ms % 10 if ms < 2000 else ms - ms % 100


@dataclass
class _Pending:
    """The last user message of a conversation, waiting for what the assistant did with it."""

    event_id: int
    ts: float
    changes: Dict[str, Any] = field(default_factory=dict)
    answered: bool = False


def create(engine: sa.engine.Engine) -> None:
    META.create_all(engine)


class Indexer:
    """Keeps the insights tables up to date with the tracker store, reading only what is new."""

    def __init__(self, source: sa.engine.Engine, target: sa.engine.Engine, batch: int = 20_000) -> None:
        self.source, self.target, self.batch = source, target, batch
        create(target)
        self.pending: Dict[str, _Pending] = {}

    def watermark(self, connection: sa.engine.Connection) -> int:
        value = connection.execute(sa.select(STATE.c.value).where(STATE.c.name == "events")).scalar()
        return int(value or 0)

    def update(self, budget: float = 5.0) -> int:
        """Forget erased conversations, then index new events for at most ``budget`` seconds (whole batches);
        how many events were read."""
        started, total = time.monotonic(), 0
        self.forget_erased()
        while True:
            read = self._batch()
            total += read
            if read < self.batch or time.monotonic() - started > budget:
                return total

    def _batch(self) -> int:
        with self.target.begin() as target:
            mark = self.watermark(target)
            if not sa.inspect(self.source).has_table("events"):
                return 0
            with self.source.connect() as source:
                rows = source.execute(sa.select(EVENTS).where(EVENTS.c.id > mark).order_by(EVENTS.c.id)
                                      .limit(self.batch)).fetchall()
            if not rows:
                return 0
            out: Dict[sa.Table, List[Dict[str, Any]]] = {t: [] for t in PER_CONVERSATION}
            for row in rows:
                self._event(target, row, out)
            self._flush(target, out)
            last = rows[-1].id
            if mark:
                target.execute(STATE.update().where(STATE.c.name == "events").values(value=last))
            else:
                target.execute(STATE.delete().where(STATE.c.name == "events"))
                target.execute(STATE.insert().values(name="events", value=last))
        return len(rows)

    def forget_erased(self) -> int:
        """Forget the conversations the tracker store erased since the last look (addons/privacy.py)."""
        if not sa.inspect(self.source).has_table(ERASED.name):
            return 0
        with self.target.begin() as target:
            since = int(target.execute(sa.select(STATE.c.value).where(STATE.c.name == "erased")).scalar() or 0)
            with self.source.connect() as source:
                rows = source.execute(sa.select(ERASED.c.sender_id, ERASED.c.erased_at)
                                      .where(ERASED.c.erased_at * 1000 >= since)).fetchall()
            if not rows:
                return 0
            for start in range(0, len(rows), 500):
                chunk = [r.sender_id for r in rows[start:start + 500]]
                for table in PER_CONVERSATION:
                    target.execute(table.delete().where(table.c.sender_id.in_(chunk)))
            for row in rows:
                self.pending.pop(row.sender_id, None)
            target.execute(STATE.delete().where(STATE.c.name == "erased"))
            target.execute(STATE.insert().values(name="erased", value=int(max(r.erased_at for r in rows) * 1000)))
        return len(rows)

    # ----------------------------------------------------------------- one event

    def _event(self, target: sa.engine.Connection, row: Any, out: Dict[sa.Table, List[Dict[str, Any]]]) -> None:
        kind, sender = row.type_name, row.sender_id
        if kind not in ("user", "bot", "slot", "action", "session_started"):
            return
        channel, day = channel_of(sender), day_of(row.timestamp)
        if kind == "session_started":
            out[SESSIONS].append({"event_id": row.id, "sender_id": sender, "channel": channel, "day": day})
            return
        if kind == "action":
            if row.action_name == "action_set_reminder":
                self._change(target, sender, reminder=1)
            return
        data = json.loads(row.data or "{}")
        if kind == "user":
            self._user(sender, channel, day, row, data, out)
        elif kind == "bot":
            self._bot(target, sender, row, data)
        else:
            self._slot(sender, channel, day, row, data, out)

    def _user(self, sender: str, channel: str, day: str, row: Any, data: Dict[str, Any],
              out: Dict[sa.Table, List[Dict[str, Any]]]) -> None:
        intent = row.intent_name
        if intent in NOT_ASKED:
            return
        text = mask(data.get("text") or "") or ""
        message = {"event_id": row.id, "sender_id": sender, "channel": channel, "ts": row.timestamp, "day": day,
                   "intent": intent, "text": text[:2000], "wording": wording(text),
                   "unplaced": int(intent in UNPLACED), "replied": 0, "latency_ms": None, "topic": None,
                   "aspect": None, "gap": 0, "answer_id": None, "safety": None, "severity": None, "reminder": 0,
                   "gap_kind": "not placed" if intent in UNPLACED else None, "escalated": 0}
        out[MESSAGES].append(message)
        out[WORDS] += [{"word": w, "sender_id": sender, "channel": channel, "day": day}
                       for w in sorted(set(_WORD.findall(text.lower()))) if len(w) > 1 and w not in _FILLER][:40]
        self.pending[sender] = _Pending(row.id, row.timestamp, changes=message)
        seen = set()
        for entity in (data.get("parse_data") or {}).get("entities") or []:
            key = (entity.get("entity"), str(entity.get("value")))
            if key[0] in MENTIONED and not entity.get("role") and key not in seen:
                seen.add(key)
                out[MENTIONS].append({"event_id": row.id, "sender_id": sender, "channel": channel, "day": day,
                                      "kind": key[0], "value": key[1][:64]})

    def _bot(self, target: sa.engine.Connection, sender: str, row: Any, data: Dict[str, Any]) -> None:
        pending = self._pending(target, sender)
        if pending is None or pending.answered:
            return
        pending.answered = True
        record = (data.get("metadata") or {}).get("feedback")
        changes: Dict[str, Any] = {"replied": 1, "latency_ms": _latency_bucket(row.timestamp - pending.ts)}
        if isinstance(record, dict):
            safety = [str(k) for k in record.get("safety") or []]
            changes.update(topic=record.get("topic"), aspect=record.get("aspect"), gap=int(bool(record.get("gap"))),
                           answer_id=record.get("id"), safety=",".join(safety)[:255] or None,
                           severity=record.get("severity"), escalated=int(bool(safety or record.get("severity"))))
            if record.get("gap"):
                changes["gap_kind"] = "not covered"
        self._change(target, sender, **changes)

    def _slot(self, sender: str, channel: str, day: str, row: Any, data: Dict[str, Any],
              out: Dict[sa.Table, List[Dict[str, Any]]]) -> None:
        name, value = row.action_name, data.get("value")
        if name == "feedback" and isinstance(value, dict) and value.get("rating") in ("up", "down"):
            sections = value.get("sections") or []
            out[FEEDBACK] = [f for f in out[FEEDBACK] if f["answer_id"] != value.get("id")]
            out[FEEDBACK].append({"answer_id": str(value.get("id"))[:64], "event_id": row.id, "sender_id": sender,
                                  "channel": channel, "ts": row.timestamp, "day": day, "rating": value["rating"],
                                  "comment": mask(value.get("comment")), "topic": value.get("topic"),
                                  "section": sections[0] if sections else None})
        elif name in PROFILE_SLOTS and value:
            for v in value if isinstance(value, list) else [value]:
                out[PROFILES].append({"sender_id": sender, "slot": name, "value": str(v)[:64], "channel": channel,
                                      "day": day})
        elif name == "walkthrough_step" and isinstance(value, (int, float)):
            out[STEPS].append({"sender_id": sender, "step": int(value) + 1, "channel": channel, "day": day})

    # ----------------------------------------------------------------- the last message of a conversation

    def _pending(self, target: sa.engine.Connection, sender: str) -> Optional[_Pending]:
        if sender not in self.pending:  # indexed by an earlier batch or process: from the table
            row = target.execute(sa.select(MESSAGES.c.event_id, MESSAGES.c.ts, MESSAGES.c.replied)
                                 .where(MESSAGES.c.sender_id == sender)
                                 .order_by(MESSAGES.c.event_id.desc()).limit(1)).first()
            if row is None:
                return None
            self.pending[sender] = _Pending(row.event_id, row.ts, answered=bool(row.replied))
        return self.pending[sender]

    def _change(self, target: sa.engine.Connection, sender: str, **changes: Any) -> None:
        pending = self._pending(target, sender)
        if pending is None:
            return
        if pending.changes:  # not written yet: part of this batch's insert
            pending.changes.update(changes)
        else:
            target.execute(MESSAGES.update().where(MESSAGES.c.event_id == pending.event_id).values(**changes))

    def _flush(self, target: sa.engine.Connection, out: Dict[sa.Table, List[Dict[str, Any]]]) -> None:
        for table, rows in out.items():
            if not rows:
                continue
            if table is FEEDBACK:
                target.execute(FEEDBACK.delete().where(FEEDBACK.c.answer_id.in_([r["answer_id"] for r in rows])))
            if table in (PROFILES, STEPS):
                rows = self._new_only(target, table, rows)
            if rows:
                target.execute(table.insert(), rows)
        for pending in self.pending.values():
            pending.changes = {}  # written: later changes are updates
        if len(self.pending) > 50_000:
            self.pending.clear()

    @staticmethod
    def _new_only(target: sa.engine.Connection, table: sa.Table, rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Rows whose key is neither stored nor repeated in this batch (the first mention counts)."""
        keys = [c.name for c in table.primary_key.columns]
        unique = {tuple(r[k] for k in keys): r for r in reversed(rows)}
        senders = {r["sender_id"] for r in rows}
        stored = set()
        for chunk in _chunks(sorted(senders), 500):
            stored |= {tuple(r) for r in target.execute(sa.select(*[table.c[k] for k in keys])
                                                        .where(table.c.sender_id.in_(chunk)))}
        return [r for key, r in unique.items() if key not in stored]


def _chunks(items: List[Any], size: int) -> Iterable[List[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def forget(target: sa.engine.Engine, sender_ids: Iterable[str]) -> None:
    """Delete conversations from every insights table."""
    ids = list(sender_ids)
    with target.begin() as connection:
        for chunk in _chunks(ids, 500):
            for table in PER_CONVERSATION:
                connection.execute(table.delete().where(table.c.sender_id.in_(chunk)))
