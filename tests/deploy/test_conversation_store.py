"""The conversation store reads, erases and ages out conversations written by Rasa's own
SQLTrackerStore, on SQLite and on PostgreSQL."""
from __future__ import annotations

import asyncio
import time

import pytest

import conversation_store
from conversation_store import sample as sample_store
from tests.conftest import _create_postgres_database, _drop_postgres_database
from townhall.review import sample
from townhall.review.conversations import KNOWN_SLOTS


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url, name = f"sqlite:///{tmp_path / 'tracker.db'}", None
    else:
        admin = request.getfixturevalue("postgres_server")
        url, name = _create_postgres_database(admin)
    now = time.time()
    conversations = sample.demo_conversations(now)
    conversations["old-piscine"] = sample.demo_conversations(now - 100 * 86400)["demo-piscine"]
    asyncio.run(sample_store.write(url, conversations))
    yield conversation_store.open_store(url)
    conversation_store.dispose(url)
    if name:
        _drop_postgres_database(request.getfixturevalue("postgres_server"), name)


def test_events_are_read_as_plain_records(store):
    events = store.read(sender_id="demo-rdv")
    assert [e.kind for e in events][:4] == ["action", "session", "action", "user"]
    assert events[0].internal and events[0].name == "action_session_start"
    user = next(e for e in events if e.kind == "user")
    assert (user.message.intent, user.message.channel, user.message.text) == \
           ("book_appointment", "facebook", "je voudrais un rdv pour un passeport")
    assert user.message.entities[0]["value"] == "passeport"
    assert [(e.name, e.value) for e in events if e.kind == "loop"] == [("booking_form", None), (None, None)]
    assert [e.event_id for e in events] == sorted(e.event_id for e in events)
    assert not any(e.fallback for e in events)
    assert [e.name for e in store.read(sender_id="demo-confus") if e.fallback] == ["action_default_fallback"]
    only = store.read(sender_id="demo-rdv", kinds=("user",), event_id=user.event_id)
    assert [e.message.text for e in only] == [user.message.text]


def test_slot_events_can_be_restricted_to_the_citizen_s_own_values(store):
    events = store.read(kinds=("user", "session"), own_slots=KNOWN_SLOTS)
    slots = {(e.sender_id, e.name) for e in events if e.kind == "slot"}
    assert slots == {("demo-rdv", "citizen_email"), ("demo-rdv", "citizen_phone")}
    assert {e.kind for e in events} == {"user", "session", "slot"}
    recent = store.read(kinds=("user",), since=time.time() - 7200)
    assert "old-piscine" not in {e.sender_id for e in recent} and len(recent) == 6


def test_erase_and_age_out(store):
    assert store.erase("demo-rdv", time.time() + 60) > 0
    assert store.read(sender_id="demo-rdv") == []
    aged = store.age_out(time.time() - 90 * 86400)
    assert aged.events > 0 and aged.gone == {"old-piscine"}
    assert aged.remaining == {"demo-piscine", "demo-confus"}
    assert store.age_out(time.time() - 90 * 86400).events == 0


def test_a_database_without_rasa_s_table(tmp_path):
    empty = conversation_store.SQLConversationStore(f"sqlite:///{tmp_path / 'empty.db'}")
    assert empty.read() == [] and empty.erase("x", time.time()) == 0
    assert empty.age_out(time.time()).events == 0
    conversation_store.dispose(empty.url)
