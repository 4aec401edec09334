"""Erasure of a citizen's own conversation and of the rows linked to it."""
import json
from datetime import timedelta

from sqlalchemy import create_engine, select, text

from conversation_store import dispose, open_store
from townhall import db, feedback, handoff, privacy
from townhall.db import utcnow


def _tracker_store(path):
    url = f"sqlite:///{path}"
    engine = create_engine(url, future=True)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                          "timestamp FLOAT, intent_name TEXT, action_name TEXT, data TEXT)"))
        for sender in ("alice", "alice", "bob"):
            conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, :d)"),
                         {"s": sender, "t": utcnow().timestamp() - 60, "d": json.dumps({"text": "bonjour"})})
    engine.dispose()
    return url


def test_erasure_removes_only_that_conversation(session, tmp_path):
    tracker_url = _tracker_store(tmp_path / "tracker.db")
    feedback.record(session, "très bon accueil", "rest", "alice")
    feedback.record(session, "merci", "rest", "bob")
    handoff.request(session, channel="rest", sender_id="alice", service="mairie", topic=None, last_message="agent")
    privacy.request_erasure(session, "alice")
    assert [f.sender_id for f in session.execute(select(feedback.Feedback)).scalars()] == ["bob"]
    assert session.execute(select(handoff.HandoffRequest)).first() is None

    # Not yet: Rasa may still be saving the conversation's last events.
    assert privacy.process_pending(session, open_store(tracker_url)) == 0
    assert privacy.process_pending(session, open_store(tracker_url), now=utcnow() + timedelta(seconds=10)) == 1
    engine = create_engine(tracker_url, future=True)
    with engine.connect() as conn:
        senders = [row[0] for row in conn.execute(text("SELECT sender_id FROM events"))]
    engine.dispose()
    dispose(tracker_url)
    assert senders == ["bob"]
    # Done once only.
    assert privacy.process_pending(session, open_store(tracker_url), now=utcnow() + timedelta(seconds=20)) == 0


def test_feedback_is_stored_bounded_and_as_typed(session):
    remark = feedback.record(session, "<b>trop</b> de bruit\x00" + "!" * 10000, "socketio", "carol")
    assert remark.text.startswith("<b>trop</b> de bruit!")
    assert len(remark.text) == 4000
    assert feedback.record(session, "   ", None, None).text == "(message vide)"


def _conversation_store(path, sender="alice", said="je suis Camille Martin, 06 12 34 56 78"):
    url = f"sqlite:///{path}"
    engine = create_engine(url, future=True)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                          "timestamp FLOAT, intent_name TEXT, action_name TEXT, data TEXT)"))
        rows = [("user", {"text": said, "parse_data": {"intent": {"name": "inform", "confidence": 0.9}}}),
                ("slot", {"event": "slot", "name": "citizen_name", "value": "Camille Martin"}),
                ("bot", {"text": "C'est noté, Camille Martin."})]
        for kind, data in rows:
            conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, :k, :t, :d)"),
                         {"s": sender, "k": kind, "t": utcnow().timestamp() - 60, "d": json.dumps(data)})
    engine.dispose()
    return url


def test_erasure_removes_annotations_history_tags_and_cached_readings(db_url, tmp_path):
    from townhall.review import annotations as notes
    from townhall.review import conversations as conv
    from townhall.review import vocabulary
    from townhall.review.models import AnnotationChange, ConversationReview, ConversationTag, MessageAnnotation

    tracker_url = _conversation_store(tmp_path / "tracker.db")
    turns = conv.conversation(open_store(tracker_url), "alice", masked=True)
    user = next(t for t in turns if t.kind == "user")
    assert "Camille" not in user.message.text and "34" not in user.message.text
    assert "Camille" not in next(t for t in turns if t.kind == "bot").text
    assert any(key[1] == "alice" for key in conv._readings)
    with db.unit_of_work(db_url) as session:
        message = conv.user_message(open_store(tracker_url), "alice", user.event_id)
        notes.annotate(session, message, intent="inform", entities=[], out_of_scope=False, reviewed=True,
                       destination="train", by="camille", vocabulary=vocabulary.load())
        notes.add_tag(session, "alice", "a-revoir", "camille")
        notes.mark_conversation(session, "alice", True, "camille")
        notes.add_tag(session, "bob", "garder", "camille")
    with db.unit_of_work(db_url) as session:
        privacy.request_erasure(session, "alice")
    assert not any(key[1] == "alice" for key in conv._readings)
    with db.unit_of_work(db_url) as session:
        for model in (MessageAnnotation, AnnotationChange, ConversationReview):
            assert session.execute(select(model)).first() is None
        assert [t.sender_id for t in session.execute(select(ConversationTag)).scalars()] == ["bob"]
        done = privacy.process_pending(session, open_store(tracker_url), now=utcnow() + timedelta(seconds=10))
    assert done == 1
    assert conv.conversation(open_store(tracker_url), "alice") == []
    dispose(tracker_url)


def test_readings_of_a_conversation_erased_elsewhere_are_dropped(tmp_path):
    from townhall.review import conversations as conv

    tracker_url = _conversation_store(tmp_path / "tracker.db", sender="carol")
    assert [s.sender_id for s in conv.summaries(open_store(tracker_url))] == ["carol"]
    assert any(key[1] == "carol" for key in conv._readings)
    # another process (the action server) erases the conversation
    engine = create_engine(tracker_url, future=True)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE sender_id = 'carol'"))
    engine.dispose()
    assert conv.summaries(open_store(tracker_url)) == []
    assert not any(key[0] == tracker_url and key[1] == "carol" for key in conv._readings)
    dispose(tracker_url)
