"""Erasure of a citizen's own conversation and of the rows linked to it."""
import json
from datetime import timedelta

from sqlalchemy import create_engine, select, text

from townhall import feedback, handoff, privacy
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
    assert privacy.process_pending(session, tracker_url) == 0
    assert privacy.process_pending(session, tracker_url, now=utcnow() + timedelta(seconds=10)) == 1
    engine = create_engine(tracker_url, future=True)
    with engine.connect() as conn:
        senders = [row[0] for row in conn.execute(text("SELECT sender_id FROM events"))]
    engine.dispose()
    assert senders == ["bob"]
    # Done once only.
    assert privacy.process_pending(session, tracker_url, now=utcnow() + timedelta(seconds=20)) == 0


def test_feedback_is_stored_bounded_and_as_typed(session):
    remark = feedback.record(session, "<b>trop</b> de bruit\x00" + "!" * 10000, "socketio", "carol")
    assert remark.text.startswith("<b>trop</b> de bruit!")
    assert len(remark.text) == 4000
    assert feedback.record(session, "   ", None, None).text == "(message vide)"
