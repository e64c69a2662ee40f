"""The insights figures: the same on SQLite and PostgreSQL for the same conversations, kept up to date
incrementally, grouped and masked as the page shows them."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from addons.insights import queries, synthetic
from addons.insights.index import EVENTS, Indexer, forget, mask, wording
from tests.insights.conftest import seed

WEEKS = [queries.Filters("2026-11-01", "2026-11-28"), queries.Filters("2026-11-10", "2026-11-16", "slack"),
         queries.Filters("2026-11-20", "2026-11-28", "widget")]


def figures(stores, filters):
    Indexer(stores.source, stores.target).update(budget=60)
    return {name: table.rows for name, table in queries.all_tables(stores.target, filters).items()}


@pytest.mark.parametrize("filters", WEEKS, ids=["all", "slack-week", "widget-9-days"])
def test_sqlite_and_postgresql_give_the_same_figures(sqlite_stores, pg_stores, filters):
    assert seed(sqlite_stores) == seed(pg_stores)
    on_sqlite, on_postgres = figures(sqlite_stores, filters), figures(pg_stores, filters)
    assert all(on_sqlite[name] for name in ("volume", "topics", "gaps", "feedback_topic", "comments", "safety",
                                            "profiles", "funnel", "service")), on_sqlite
    for name in on_sqlite:
        assert on_sqlite[name] == on_postgres[name], name
    assert queries.search(sqlite_stores.target, filters, "retinol").rows == \
        queries.search(pg_stores.target, filters, "retinol").rows


def test_figures_follow_the_filters(sqlite_stores):
    seed(sqlite_stores)
    everything, slack = figures(sqlite_stores, WEEKS[0]), figures(sqlite_stores, queries.Filters("2026-11-01", "2026-11-28", "slack"))
    assert {row[1] for row in slack["volume"]} == {"slack"}
    assert sum(r[3] for r in slack["volume"]) < sum(r[3] for r in everything["volume"])
    one_day = figures(sqlite_stores, queries.Filters("2026-11-05", "2026-11-05"))
    assert {row[0] for row in one_day["volume"]} == {"2026-11-05"}


def test_the_index_reads_only_new_events_and_counts_them_once(sqlite_stores):
    written = seed(sqlite_stores, 200)
    indexer = Indexer(sqlite_stores.source, sqlite_stores.target, batch=500)  # many batches, turns across them
    assert indexer.update(budget=60) == written
    before = figures(sqlite_stores, WEEKS[0])
    assert Indexer(sqlite_stores.source, sqlite_stores.target).update() == 0  # a new process: nothing new
    assert figures(sqlite_stores, WEEKS[0]) == before
    synthetic.write(sqlite_stores.source, synthetic.generate(50, seed=99))
    after = figures(sqlite_stores, WEEKS[0])
    assert sum(r[3] for r in after["volume"]) > sum(r[3] for r in before["volume"])

    with sqlite_stores.target.begin() as c:
        for name in reversed(sa.inspect(c).get_table_names()):
            if name.startswith("insights_"):  # the index rebuilt from scratch in one go: the same figures
                c.execute(sa.text(f'DROP TABLE "{name}"'))
    fresh = Indexer(sqlite_stores.source, sqlite_stores.target)
    fresh.update(budget=60)
    assert {n: t.rows for n, t in queries.all_tables(sqlite_stores.target, WEEKS[0]).items()} == after


def test_a_forgotten_conversation_leaves_the_figures(sqlite_stores):
    seed(sqlite_stores, 100)
    before = figures(sqlite_stores, WEEKS[0])
    with sqlite_stores.source.connect() as c:
        senders = [r[0] for r in c.execute(sa.select(sa.distinct(EVENTS.c.sender_id)))]
    forget(sqlite_stores.target, senders)
    after = figures(sqlite_stores, WEEKS[0])
    assert sum(r[3] for r in before["volume"]) > 0
    assert all(not rows or name in ("safety", "funnel") for name, rows in after.items()), after
    assert [r[2] for r in after["safety"]] == [0] and [r[1] for r in after["funnel"]] == [0]


def test_gaps_group_similar_wording_with_counts_and_examples(sqlite_stores):
    seed(sqlite_stores)
    gaps = figures(sqlite_stores, WEEKS[0])["gaps"]
    kinds = {row[0] for row in gaps}
    assert kinds == {"not covered", "not placed"}
    shelf = next(row for row in gaps if "shelf" in row[1])
    assert shelf[2] > 10 and shelf[3] == "what's the shelf life once opened?"
    assert wording("How long does it absorb?") == wording("absorb — how long?")


def test_emails_phones_and_slack_tokens_are_masked():
    assert mask("mail jo.b+x@example.co.uk or call +44 7700 900123, token xoxb-123-abc") == \
        "mail [email] or call [phone], token [token]"
    assert mask("wait 5-15 minutes, step 2 of 5") == "wait 5-15 minutes, step 2 of 5"  # numbers stay


def test_the_index_holds_no_email_or_phone_a_shopper_typed(sqlite_stores):
    seed(sqlite_stores)
    Indexer(sqlite_stores.source, sqlite_stores.target).update(budget=60)
    with sqlite_stores.target.connect() as c:
        texts = [r[0] for r in c.execute(sa.text("SELECT text FROM insights_messages"))]
        comments = [r[0] for r in c.execute(sa.text("SELECT comment FROM insights_feedback WHERE comment IS NOT NULL"))]
    assert not any("@example.com" in t for t in texts) and any("[email]" in t for t in texts)
    assert not any("7700" in t for t in comments) and any("[phone]" in t for t in comments)
