"""The tracker store reads a long conversation as a snapshot plus its recent events, and Rasa
sees the same state and the same recent history as if it had read every event."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from tests.conftest import _create_postgres_database, _drop_postgres_database

ROOT = Path(__file__).resolve().parents[2]
KEEP, SLACK = 30, 15  # the defaults


@pytest.fixture(scope="module")
def domain():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain"))


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    admin = request.getfixturevalue("postgres_server")
    url, name = _create_postgres_database(admin)
    yield url
    _drop_postgres_database(admin, name)


@pytest.fixture
def store(domain, tracker_url, monkeypatch):
    from sqlalchemy.engine import make_url

    from deploy.tracker_store import ResilientSQLTrackerStore

    monkeypatch.setenv("TRACKER_WINDOW_EVENTS", str(KEEP))
    monkeypatch.setenv("TRACKER_WINDOW_SLACK", str(SLACK))
    url = make_url(tracker_url)
    if url.drivername.startswith("sqlite"):
        store = ResilientSQLTrackerStore(domain=domain, dialect="sqlite", db=url.database)
    else:
        store = ResilientSQLTrackerStore(domain=domain, dialect="postgresql", host=url.host, port=url.port,
                                         db=url.database, username=url.username)
    yield store
    store.engine.dispose()


def user(text, intent, entities=()):
    from rasa.shared.core.events import UserUttered

    return UserUttered(text, {"name": intent, "confidence": 0.97}, list(entities))


def turns():
    """A citizen's long conversation: questions, follow-ups, a form, a misunderstanding."""
    from rasa.shared.core.events import (
        ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUtteranceReverted,
    )

    def answer(action, topic, *slots):
        return [ActionExecuted(action), BotUttered("Réponse."), *slots, SlotSet("info_topic", topic)]

    facilities = ["piscine", "mairie", "mediatheque"]
    for i in range(12):
        facility = facilities[i % 3]
        yield [user(f"horaires {facility}", "ask_opening_hours", [{"entity": "facility", "value": facility}]),
               SlotSet("facility", facility), *answer("action_answer_opening_hours", "opening_hours")]
        yield [user("et le samedi ?", "inform", [{"entity": "date", "value": "samedi"}]),
               *answer("action_answer_opening_hours", "opening_hours", SlotSet("info_date", "samedi"))]
        if i == 4:  # a misunderstanding: Rasa's fallback takes the message back
            yield [user("blablabla", "nlu_fallback"), ActionExecuted("action_default_fallback"),
                   BotUttered("Pardon ?"), UserUtteranceReverted()]
        if i == 6:  # a form over several turns
            yield [user("je veux un rdv", "book_appointment"), ActionExecuted("booking_form"),
                   ActiveLoop("booking_form"), SlotSet("requested_slot", "procedure"), BotUttered("Laquelle ?")]
            yield [user("passeport", "inform", [{"entity": "procedure", "value": "passeport"}]),
                   ActionExecuted("booking_form"), SlotSet("procedure", "passeport"),
                   SlotSet("requested_slot", "citizen_name"), BotUttered("Votre nom ?")]
            yield [user("Camille Martin", "inform"), ActionExecuted("booking_form"),
                   SlotSet("citizen_name", "Camille Martin"), ActiveLoop(None), SlotSet("requested_slot", None),
                   ActionExecuted("action_booking_confirmation"), BotUttered("C'est noté.")]


async def play(store, sender, check=None):
    """What Rasa does for each message: read the tracker, add the turn's events, save it."""
    from rasa.shared.core.events import ActionExecuted, SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker

    everything = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    tracker = DialogueStateTracker.from_events(sender, everything, store.domain.slots)
    await store.save(tracker)
    for turn in turns():
        tracker = await store.retrieve(sender)
        if check:
            check(tracker, DialogueStateTracker.from_events(sender, list(everything), store.domain.slots))
        for event in turn + [ActionExecuted("action_listen")]:
            tracker.update(event)
            everything.append(event)
        await store.save(tracker)
    return everything


def stored_events(store, sender):
    engine = create_engine(store.engine.url, future=True)
    with engine.connect() as conn:
        rows = conn.execute(select(store.events_table.c.data).where(store.events_table.c.sender_id == sender)
                            .order_by(store.events_table.c.id)).scalars().all()
    engine.dispose()
    return [json.loads(r) for r in rows]


async def test_the_window_gives_rasa_the_same_state_and_recent_history(store, domain):
    seen = []

    def check(bounded, full):
        seen.append(len(bounded.events))
        assert bounded.current_slot_values() == full.current_slot_values()
        assert bounded.active_loop_name == full.active_loop_name
        assert bounded.latest_message.intent == full.latest_message.intent
        assert bounded.latest_action_name == full.latest_action_name
        assert bounded.is_paused() == full.is_paused()
        # what MemoizationPolicy (max_history 4) and the rules of a few turns look at
        assert bounded.past_states(domain)[-6:] == full.past_states(domain)[-6:]

    everything = await play(store, "camille", check)
    assert len(everything) > 3 * (KEEP + SLACK)
    # bounded: never more than the window, its slack, a snapshot and one turn
    assert max(seen[5:]) <= KEEP + SLACK + 15 + 10
    # every event stored once, in order, although the tracker never held them all
    assert [(e["event"], e.get("name"), e.get("text")) for e in stored_events(store, "camille")] == \
           [(e.type_name, e.as_dict().get("name"), e.as_dict().get("text")) for e in everything]


async def test_a_new_session_leaves_the_snapshot_aside(store):
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    await play(store, "lucas")
    tracker = await store.retrieve("lucas")
    assert tracker.get_slot("citizen_name") == "Camille Martin"
    for event in [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                  user("bonjour", "greet")]:
        tracker.update(event)
    await store.save(tracker)

    tracker = await store.retrieve("lucas")
    # what Rasa's own store reads: the events from the latest session start on
    assert [e.type_name for e in tracker.events] == ["session_started", "action", "user"]
    assert tracker.get_slot("citizen_name") is None


async def test_erasure_and_retention_delete_the_snapshot(store, monkeypatch):
    import conversation_store as conv

    await play(store, "lea")
    await play(store, "noe")
    engine = create_engine(store.engine.url, future=True)

    def snapshots():
        with engine.connect() as conn:
            return dict(conn.execute(select(conv.tracker_snapshots.c.sender_id, func.count())
                                     .group_by(conv.tracker_snapshots.c.sender_id)).all())

    assert snapshots() == {"lea": 1, "noe": 1}
    conv.SQLConversationStore(str(store.engine.url)).erase("lea", 10 ** 12)
    assert snapshots() == {"noe": 1}
    assert await store.retrieve("lea") is None

    with engine.begin() as conn:  # the retention command purged the events a snapshot covers
        conn.execute(conv.events.delete().where(conv.events.c.sender_id == "noe"))
        assert conv.delete_orphan_snapshots(conn) == 1
    assert snapshots() == {}
    engine.dispose()
    conv.dispose(str(store.engine.url))


async def test_a_tracker_the_store_did_not_read_is_saved_as_rasa_does(store):
    """Rasa's own way (counting the stored events) for trackers built elsewhere."""
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    events = [ActionExecuted("action_listen"), user("bonjour", "greet"), ActionExecuted("utter_greet")]
    await store.save(DialogueStateTracker.from_events("eva", events[:2]))
    await store.save(DialogueStateTracker.from_events("eva", events))
    assert [e["event"] for e in stored_events(store, "eva")] == ["action", "user", "action"]


async def test_a_copy_of_a_bounded_tracker_loses_no_event(store):
    """The failure mode of a position remembered on the tracker object: a copy (or any tracker
    rebuilt from the events of one the store read) lost it, and the store then counted the
    conversation's stored rows, more than the bounded tracker holds: its new events were never
    written. The new events are now found by content, after the last stored row."""
    from rasa.shared.core.events import ActionExecuted

    everything = await play(store, "mia")
    tracker = await store.retrieve("mia")
    assert len(tracker.events) < len(everything)  # bounded: read from a snapshot
    copy = tracker.copy()
    new = [user("merci", "thank"), ActionExecuted("utter_thank"), ActionExecuted("action_listen")]
    for event in new:
        copy.update(event)
    await store.save(copy)
    stored = stored_events(store, "mia")
    assert len(stored) == len(everything) + 3
    assert [(e["event"], e.get("name"), e.get("text")) for e in stored[-3:]] == \
           [("user", None, "merci"), ("action", "utter_thank", None), ("action", "action_listen", None)]
    await store.save(copy)  # saved again: nothing stored twice
    assert len(stored_events(store, "mia")) == len(everything) + 3


async def test_a_tracker_trimmed_by_max_event_history_loses_no_event(store):
    """Rasa's ``max_event_history`` drops a tracker's oldest events as new ones come: a
    position counted from the front no longer points at the new events."""
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    first = [ActionExecuted("action_listen"), user("bonjour", "greet"), ActionExecuted("utter_greet"),
             ActionExecuted("action_listen")]
    await store.save(DialogueStateTracker.from_events("tom", first))
    tracker = DialogueStateTracker.from_events("tom", first, max_event_history=4)
    for event in [user("merci", "thank"), ActionExecuted("utter_thank")]:
        tracker.update(event)
    assert len(tracker.events) == 4
    await store.save(tracker)
    assert [e.get("text") or e.get("name") for e in stored_events(store, "tom")] == \
           ["action_listen", "bonjour", "utter_greet", "action_listen", "merci", "utter_thank"]


async def test_the_store_writes_and_reads_what_rasa_s_own_store_does(domain, tracker_url, store):
    """Equivalence with Rasa's SQLTrackerStore on a conversation short enough to have no
    snapshot: same rows, same tracker read back."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import ActionExecuted, SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker

    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for turn in list(turns())[:3]:
        events += turn + [ActionExecuted("action_listen")]
    rasa_store = SQLTrackerStore(domain=domain, db=store.engine.url.database, dialect=store.engine.url.drivername,
                                 host=store.engine.url.host, port=store.engine.url.port,
                                 username=store.engine.url.username)
    for name, target in (("rasa", rasa_store), ("ours", store)):
        done = 0
        for cut in (3, 12, len(events)):  # several messages, each saved as Rasa does
            tracker = await target.retrieve(name) or DialogueStateTracker(name, domain.slots)
            for event in events[done:cut]:
                tracker.update(event)
            await target.save(tracker)
            done = cut
    assert stored_events(store, "ours") == stored_events(store, "rasa")
    ours, theirs = await store.retrieve("ours"), await rasa_store.retrieve("rasa")
    assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in theirs.events]
    rasa_store.engine.dispose()


async def test_another_rasa_version_falls_back_to_rasa_s_own_store(domain, tracker_url, monkeypatch, caplog):
    import rasa
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from deploy.tracker_store import ResilientSQLTrackerStore, rasa_supported

    assert rasa_supported() and rasa_supported("3.6.21") and not rasa_supported("3.7.0")
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    url = make_url(tracker_url)
    options = {"dialect": "sqlite", "db": url.database} if url.drivername.startswith("sqlite") else \
        {"dialect": "postgresql", "host": url.host, "port": url.port, "db": url.database, "username": url.username}
    store = ResilientSQLTrackerStore(domain=domain, **options)
    assert "is not 3.6.x" in caplog.text and not store.changes_apply
    await play(store, "zoe")
    tracker = await store.retrieve("zoe")
    assert len(tracker.events) >= len(stored_events(store, "zoe")) - 1  # the whole session, as Rasa reads it
    assert not sa.inspect(store.engine).has_table("tracker_snapshots")
    store.engine.dispose()
