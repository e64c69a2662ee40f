"""The insights page's figures: one query per table, the same SQL (SQLAlchemy Core) on SQLite and PostgreSQL.

Every query reads the index (index.py), filtered by a date range and optionally a channel; each returns a
:class:`Table` (columns and rows), which the page shows, charts and exports as CSV alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from addons.insights.index import _FILLER, _WORD, CHANNELS, FEEDBACK, MENTIONS, MESSAGES, PROFILES, SESSIONS, STEPS, WORDS

#: Rows a list (gaps, comments, escalations, search results) shows at most.
LIMIT = 50


@dataclass(frozen=True)
class Filters:
    start: str  # first day, YYYY-MM-DD (UTC)
    end: str  # last day, inclusive
    channel: Optional[str] = None

    @classmethod
    def read(cls, query: Dict[str, List[str]], today: Optional[date] = None) -> "Filters":
        """From the page's query string; bad or missing values fall back to the last 7 days, all channels."""
        today = today or date.today()
        def day(name: str, default: date) -> str:
            value = (query.get(name) or [""])[0]
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                return default.isoformat()
        start, end = day("from", today - timedelta(days=6)), day("to", today)
        if start > end:
            start, end = end, start
        channel = (query.get("channel") or [""])[0]
        return cls(start, end, channel if channel in CHANNELS else None)

    def where(self, table: sa.Table) -> Any:
        condition = sa.and_(table.c.day >= self.start, table.c.day <= self.end)
        return sa.and_(condition, table.c.channel == self.channel) if self.channel else condition

    def query_string(self) -> str:
        return f"from={self.start}&to={self.end}" + (f"&channel={self.channel}" if self.channel else "")


@dataclass
class Table:
    name: str
    title: str
    columns: List[str]
    rows: List[Tuple[Any, ...]]
    #: which column a row's transcript link uses, if any
    link: Optional[str] = None


def _count(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _run(connection: sa.engine.Connection, statement: Any) -> List[Tuple[Any, ...]]:
    return [tuple(row) for row in connection.execute(statement)]


def volume(c: sa.engine.Connection, f: Filters) -> Table:
    """Per day and channel: conversations (sessions started), messages, unique shoppers."""
    m = MESSAGES
    messages = _run(c, sa.select(m.c.day, m.c.channel, sa.func.count(), sa.func.count(sa.distinct(m.c.sender_id)))
                    .where(f.where(m)).group_by(m.c.day, m.c.channel))
    sessions = {(d, ch): n for d, ch, n in _run(c, sa.select(SESSIONS.c.day, SESSIONS.c.channel, sa.func.count())
                                                .where(f.where(SESSIONS)).group_by(SESSIONS.c.day, SESSIONS.c.channel))}
    rows = sorted((d, ch, sessions.get((d, ch), 0), n, shoppers) for d, ch, n, shoppers in messages)
    return Table("volume", "Conversations, messages and shoppers per day",
                 ["day", "channel", "conversations", "messages", "shoppers"], rows)


def topics(c: sa.engine.Connection, f: Filters) -> Table:
    m = MESSAGES
    rows = _run(c, sa.select(m.c.topic, sa.func.coalesce(m.c.aspect, ""), sa.func.count())
                .where(sa.and_(f.where(m), m.c.topic.isnot(None))).group_by(m.c.topic, m.c.aspect)
                .order_by(sa.func.count().desc(), m.c.topic, sa.func.coalesce(m.c.aspect, "")).limit(LIMIT))
    return Table("topics", "What shoppers ask: topics and aspects", ["topic", "aspect", "questions"], rows)


def topic_trend(c: sa.engine.Connection, f: Filters) -> Table:
    m = MESSAGES
    rows = _run(c, sa.select(m.c.day, m.c.topic, sa.func.count()).where(sa.and_(f.where(m), m.c.topic.isnot(None)))
                .group_by(m.c.day, m.c.topic).order_by(m.c.day, m.c.topic))
    return Table("topic_trend", "Topics per day", ["day", "topic", "questions"], rows)


def mentions(c: sa.engine.Connection, f: Filters) -> Table:
    t = MENTIONS
    rows = _run(c, sa.select(t.c.kind, t.c.value, sa.func.count(), sa.func.count(sa.distinct(t.c.sender_id)))
                .where(f.where(t)).group_by(t.c.kind, t.c.value)
                .order_by(sa.func.count().desc(), t.c.kind, t.c.value).limit(LIMIT))
    return Table("mentions", "Ingredients and products named", ["kind", "name", "mentions", "shoppers"], rows)


def gaps(c: sa.engine.Connection, f: Filters) -> Table:
    """Questions the protocol does not cover and messages the assistant could not place, grouped by wording."""
    m = MESSAGES
    groups = _run(c, sa.select(m.c.gap_kind, m.c.wording, sa.func.count())
                  .where(sa.and_(m.c.gap_kind.in_(("not covered", "not placed")), f.where(m), m.c.wording != ""))
                  .group_by(m.c.gap_kind, m.c.wording)
                  .order_by(sa.func.count().desc(), m.c.gap_kind, m.c.wording).limit(LIMIT))
    rows = []
    for kind, words, n in groups:  # examples for the listed groups only, each an indexed look-up
        examples = _run(c, sa.select(m.c.text, m.c.sender_id)
                        .where(sa.and_(m.c.wording == words, m.c.gap_kind == kind, f.where(m)))
                        .order_by(m.c.event_id.desc()).limit(20))
        texts = sorted({t for t, _ in examples})
        rows.append((kind, words, n, texts[0] if texts else "", texts[-1] if len(texts) > 1 else "",
                     examples[0][1] if examples else ""))
    return Table("gaps", "Content gaps: not covered or not placed, by wording",
                 ["kind", "wording", "count", "example", "another example", "conversation"], rows, link="conversation")


def _rates(c: sa.engine.Connection, f: Filters, column: sa.Column, title: str, name: str) -> Table:
    t = FEEDBACK
    up, down = _count(t.c.rating == "up"), _count(t.c.rating == "down")
    rows = _run(c, sa.select(sa.func.coalesce(column, "—"), up, down, sa.func.count())
                .where(f.where(t)).group_by(column).order_by(sa.func.count().desc(), sa.func.coalesce(column, "—")))
    rows = [(key, u, d, n, f"{100 * u / n:.0f}%") for key, u, d, n in rows]
    return Table(name, title, [name.split("_")[-1], "👍", "👎", "ratings", "helpful"], rows)


def feedback_topics(c: sa.engine.Connection, f: Filters) -> Table:
    return _rates(c, f, FEEDBACK.c.topic, "Answer quality per topic", "feedback_topic")


def feedback_sections(c: sa.engine.Connection, f: Filters) -> Table:
    return _rates(c, f, FEEDBACK.c.section, "Answer quality per source section", "feedback_section")


def comments(c: sa.engine.Connection, f: Filters) -> Table:
    t = FEEDBACK
    rows = _run(c, sa.select(t.c.day, t.c.channel, t.c.topic, t.c.section, t.c.comment, t.c.sender_id)
                .where(sa.and_(f.where(t), t.c.comment.isnot(None))).order_by(t.c.ts.desc()).limit(LIMIT))
    return Table("comments", "What was missing (comments after a 👎)",
                 ["day", "channel", "topic", "section", "comment", "conversation"], rows, link="conversation")


def escalations(c: sa.engine.Connection, f: Filters) -> Table:
    m = MESSAGES
    rows = _run(c, sa.select(m.c.day, m.c.channel, m.c.safety, sa.func.coalesce(m.c.severity, ""), m.c.text,
                             m.c.sender_id)
                .where(sa.and_(m.c.escalated == 1, f.where(m)))
                .order_by(m.c.escalated.desc(), m.c.ts.desc()).limit(LIMIT))
    return Table("escalations", "Safety: escalations (newest first)",
                 ["day", "channel", "kind", "severity", "message", "conversation"], rows, link="conversation")


def escalation_kinds(c: sa.engine.Connection, f: Filters) -> Table:
    m = MESSAGES
    rows = _run(c, sa.select(sa.func.coalesce(m.c.safety, ""), sa.func.coalesce(m.c.severity, ""), sa.func.count())
                .where(sa.and_(f.where(m), sa.or_(m.c.safety.isnot(None), m.c.severity.isnot(None))))
                .group_by(m.c.safety, m.c.severity).order_by(sa.func.count().desc()).limit(LIMIT))
    handoffs = _run(c, sa.select(sa.func.count()).where(sa.and_(f.where(m), m.c.intent == "human_handoff")))[0][0]
    return Table("safety", "Safety: escalations by kind and severity; hand-off requests",
                 ["kind", "severity", "count"], rows + [("asked for a person", "", handoffs)])


def profiles(c: sa.engine.Connection, f: Filters) -> Table:
    t = PROFILES
    rows = _run(c, sa.select(t.c.slot, t.c.value, sa.func.count()).where(f.where(t)).group_by(t.c.slot, t.c.value)
                .order_by(t.c.slot, sa.func.count().desc(), t.c.value))
    return Table("profiles", "Profiles shoppers gave", ["what", "value", "shoppers"], rows)


def funnel(c: sa.engine.Connection, f: Filters) -> Table:
    t = STEPS
    rows = _run(c, sa.select(t.c.step, sa.func.count()).where(f.where(t)).group_by(t.c.step).order_by(t.c.step))
    reminders = _run(c, sa.select(sa.func.count()).where(sa.and_(MESSAGES.c.reminder == 1, f.where(MESSAGES))))[0][0]
    return Table("funnel", "Walkthrough funnel (shoppers reaching each step) and reminders",
                 ["step", "shoppers"], [(f"step {s}", n) for s, n in rows] + [("reminders set", reminders)])


def _percentile(histogram: List[Tuple[int, int]], share: float) -> Optional[int]:
    total = sum(n for _, n in histogram)
    if not total:
        return None
    seen = 0
    for value, n in sorted(histogram):
        seen += n
        if seen >= share * total:
            return value
    return histogram[-1][0]


def service(c: sa.engine.Connection, f: Filters) -> Table:
    """Per day: reply latency p50/p95 (ms) and the share of messages that got no reply or were not placed."""
    m = MESSAGES
    histogram: Dict[str, List[Tuple[int, int]]] = {}
    for day, latency, n in _run(c, sa.select(m.c.day, m.c.latency_ms, sa.func.count())
                                .where(sa.and_(f.where(m), m.c.latency_ms.isnot(None))).group_by(m.c.day, m.c.latency_ms)):
        histogram.setdefault(day, []).append((latency, n))
    rates = _run(c, sa.select(m.c.day, sa.func.count(), _count(m.c.replied == 0), _count(m.c.unplaced == 1))
                 .where(f.where(m)).group_by(m.c.day).order_by(m.c.day))
    rows = [(day, _percentile(histogram.get(day, []), 0.5), _percentile(histogram.get(day, []), 0.95),
             f"{100 * none / n:.1f}%", f"{100 * unplaced / n:.1f}%") for day, n, none, unplaced in rates]
    return Table("service", "Service: reply latency and fallback rate per day",
                 ["day", "p50 ms", "p95 ms", "no reply", "not placed"], rows)


#: The page's tables, most valuable first.
TABLES: Dict[str, Callable[[sa.engine.Connection, Filters], Table]] = {
    "volume": volume, "topics": topics, "topic_trend": topic_trend, "mentions": mentions, "gaps": gaps,
    "feedback_topic": feedback_topics, "feedback_section": feedback_sections, "comments": comments,
    "safety": escalation_kinds, "escalations": escalations, "profiles": profiles, "funnel": funnel,
    "service": service,
}


def all_tables(engine: sa.engine.Engine, f: Filters, names: Sequence[str] = tuple(TABLES)) -> Dict[str, Table]:
    with engine.connect() as connection:
        return {name: TABLES[name](connection, f) for name in names}


def search(engine: sa.engine.Engine, f: Filters, words: str) -> Table:
    """Conversations with a message containing ``words`` (case-insensitive; each word, or a word starting
    with it), newest first: the rarest-looking word is looked up in the word index, the rest checked in text."""
    m, w = MESSAGES, WORDS
    terms = [t for t in _WORD.findall(words.lower()) if len(t) > 1 and t not in _FILLER] or _WORD.findall(words.lower())
    if not terms:
        return Table("search", f"Conversations mentioning “{words}”", ["conversation", "channel", "last day", "message"],
                     [], link="conversation")
    first = max(terms, key=len)
    upper = first[:-1] + chr(ord(first[-1]) + 1)  # the words starting with ``first``: an index range on both stores
    found = sa.select(sa.distinct(w.c.sender_id)).where(sa.and_(w.c.word >= first, w.c.word < upper, f.where(w)))
    conditions = [sa.func.lower(m.c.text).like(f"%{t}%") for t in terms]
    with engine.connect() as c:
        rows = _run(c, sa.select(m.c.sender_id, m.c.channel, sa.func.max(m.c.day), sa.func.min(m.c.text))
                    .where(sa.and_(m.c.sender_id.in_(found), f.where(m), *conditions))
                    .group_by(m.c.sender_id, m.c.channel).order_by(sa.func.max(m.c.day).desc(), m.c.sender_id).limit(LIMIT))
    return Table("search", f"Conversations mentioning “{words}”", ["conversation", "channel", "last day", "message"],
                 rows, link="conversation")
