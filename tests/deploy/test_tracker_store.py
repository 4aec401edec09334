"""The production tracker store keeps every event when PostgreSQL drops its connections."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.conftest import _create_postgres_database, _drop_postgres_database


@pytest.fixture
def tracker_db(postgres_server):
    url, name = _create_postgres_database(postgres_server)
    yield name
    _drop_postgres_database(postgres_server, name)


def kill_connections(admin_url: str, database: str) -> int:
    """What a PostgreSQL restart does to the pooled connections of the Rasa server."""
    engine = create_engine(admin_url, future=True, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        killed = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": database}).scalar_one()
    engine.dispose()
    return killed


def make_store(cls, database: str):
    from rasa.shared.core.domain import Domain

    domain = Domain.from_yaml('version: "3.1"\nintents: [greet]\nresponses:\n  utter_greet:\n  - text: "Bonjour !"\n')
    return cls(domain=domain, dialect="postgresql", host="127.0.0.1", port=5432, db=database, username="postgres")


def tracker_with(sender: str, *texts: str):
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = []
    for t in texts:
        events += [UserUttered(t, {"name": "greet", "confidence": 1.0}), ActionExecuted("utter_greet"),
                   ActionExecuted("action_listen")]
    return DialogueStateTracker.from_events(sender, events)


async def test_a_restart_loses_no_event(postgres_server, tracker_db):
    from deploy.tracker_store import ResilientSQLTrackerStore

    store = make_store(ResilientSQLTrackerStore, tracker_db)
    await store.save(tracker_with("camille", "bonjour"))
    assert (await store.retrieve("camille")) is not None
    assert kill_connections(postgres_server, tracker_db) >= 1

    await store.save(tracker_with("camille", "bonjour", "bonjour encore"))
    kill_connections(postgres_server, tracker_db)
    tracker = await store.retrieve("camille")
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["bonjour", "bonjour encore"]
    assert len(tracker.events) == 6  # no event stored twice


async def test_rasa_s_own_store_fails_there(postgres_server, tracker_db):
    """Why the production endpoints use the resilient store (Rasa then falls back to memory)."""
    import sqlalchemy
    from rasa.core.tracker_store import SQLTrackerStore

    store = make_store(SQLTrackerStore, tracker_db)
    await store.save(tracker_with("lucas", "bonjour"))
    kill_connections(postgres_server, tracker_db)
    with pytest.raises(sqlalchemy.exc.OperationalError):
        await store.save(tracker_with("lucas", "bonjour", "re"))


async def test_a_database_that_stays_down_is_reported(monkeypatch, postgres_server, tracker_db):
    import sqlalchemy
    from deploy import tracker_store

    store = make_store(tracker_store.ResilientSQLTrackerStore, tracker_db)
    monkeypatch.setenv("TRACKER_STORE_RETRY_SECONDS", "1")
    store.engine.dispose()
    store.engine = create_engine("postgresql://postgres@127.0.0.1:1/none", future=True)
    store.sessionmaker = sqlalchemy.orm.sessionmaker(bind=store.engine)
    with pytest.raises(sqlalchemy.exc.OperationalError):
        await store.save(tracker_with("lea", "bonjour"))


async def test_only_a_lost_connection_is_tried_again_and_for_a_bounded_time(monkeypatch):
    import sqlalchemy

    from deploy.tracker_store import ResilientSQLTrackerStore

    store = ResilientSQLTrackerStore.__new__(ResilientSQLTrackerStore)  # the retries need no database
    calls = []

    async def lost_twice(sender):
        calls.append(sender)
        if len(calls) < 3:
            raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        return "ok"

    monkeypatch.setenv("TRACKER_STORE_RETRY_SECONDS", "5")
    assert await store._with_retries("retrieve", lost_twice, "camille") == "ok" and len(calls) == 3

    async def wrong(sender):
        calls.append(sender)
        raise sqlalchemy.exc.ProgrammingError("SELEC 1", {}, Exception("syntax error"))

    calls.clear()
    with pytest.raises(sqlalchemy.exc.ProgrammingError):
        await store._with_retries("retrieve", wrong, "camille")
    assert len(calls) == 1

    async def lost(sender):
        calls.append(sender)
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    calls.clear()
    monkeypatch.setenv("TRACKER_STORE_RETRY_SECONDS", "0.5")  # tries at 0 s and 0.2 s; the next would be at 0.6 s
    with pytest.raises(sqlalchemy.exc.OperationalError):
        await store._with_retries("save", lost, "camille")
    assert len(calls) == 2
