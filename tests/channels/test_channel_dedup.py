"""Message ids a channel has handled (townhall.channel_dedup), on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from townhall import channel_dedup, db, schema
from townhall.channel_dedup import SeenMessage


def count(url: str) -> int:
    with db.unit_of_work(url) as session:
        return session.execute(select(func.count()).select_from(SeenMessage)).scalar_one()


def test_first_sighting_then_replays(db_url):
    with db.unit_of_work(db_url) as session:
        assert channel_dedup.first_sighting(session, "facebook", "m_1")
        assert not channel_dedup.first_sighting(session, "facebook", "m_1")
        assert channel_dedup.first_sighting(session, "facebook", "m_2")
        assert channel_dedup.first_sighting(session, "autre", "m_1")  # ids are per channel
    with db.unit_of_work(db_url) as session:
        assert not channel_dedup.first_sighting(session, "facebook", "m_2")
    assert count(db_url) == 3


def test_long_ids_are_stored_as_their_digest(db_url):
    long_id = "m_" + "x" * 500
    assert channel_dedup.remember("facebook", long_id, db_url)
    assert not channel_dedup.remember("facebook", long_id, db_url)
    assert not channel_dedup.remember("facebook", long_id)  # DATABASE_URL is the same database
    assert channel_dedup.remember("facebook", long_id[:-1] + "y", db_url)
    with db.unit_of_work(db_url) as session:
        stored = session.execute(select(SeenMessage.message_id)).scalars().all()
    assert all(len(i) <= channel_dedup.MAX_ID_CHARS and i.startswith("sha256:") for i in stored)


def test_concurrent_deliveries_are_handled_once(db_url):
    results, barrier = [], threading.Barrier(6)

    def deliver():
        barrier.wait()
        results.append(channel_dedup.remember("facebook", "m_race", db_url))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True]


def test_purge_deletes_ids_older_than_24_hours(db_url):
    now = db.utcnow()
    with db.unit_of_work(db_url) as session:
        channel_dedup.first_sighting(session, "facebook", "old", now=now - timedelta(hours=25))
        channel_dedup.first_sighting(session, "facebook", "recent", now=now - timedelta(hours=23))
    with db.unit_of_work(db_url) as session:
        assert channel_dedup.purge(session, now=now) == 1
        assert channel_dedup.purge(session, now=now) == 0
    with db.unit_of_work(db_url) as session:
        assert session.execute(select(SeenMessage.message_id)).scalars().all() == ["recent"]
        # An id purged is new again (Messenger does not retry after a day).
        assert channel_dedup.first_sighting(session, "facebook", "old")
        assert channel_dedup.purge(session, now=now + timedelta(days=2)) == 2


def test_remember_needs_a_migrated_database_and_never_migrates(tmp_path):
    url = f"sqlite:///{tmp_path / 'neuve.db'}"
    try:
        with pytest.raises(schema.SchemaNotAtHead, match="python -m townhall.schema upgrade"):
            channel_dedup.remember("facebook", "m_1", url)
        assert not schema.current_revisions(url)
        schema.upgrade(url)  # the start-up's migration step
        assert channel_dedup.remember("facebook", "m_1", url)
        assert not channel_dedup.remember("facebook", "m_1", url)
    finally:
        engine = db._engines.pop(url, None)
        if engine is not None:
            engine.dispose()
