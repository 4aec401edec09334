"""Dialogue core actions on real trackers against a real database (SQLite and PostgreSQL)."""
from datetime import date

import pytest
from sqlalchemy import select

from actions import dialogue
from tests.trackers import run, said, tracker
from townhall import db, feedback, handoff, privacy


pytestmark = pytest.mark.usefixtures("clock")  # demo data relative to one frozen day, never today


async def test_feedback_is_stored_with_channel(db_url):
    events, dispatcher = await run(dialogue.ActionStoreFeedback(),
                                   tracker("votre accueil téléphonique est catastrophique", "give_feedback", channel="socketio"))
    assert events == []
    assert said(dispatcher) == ["utter_thank_feedback"]
    with db.unit_of_work(db_url) as session:
        rows = list(session.execute(select(feedback.Feedback)).scalars())
    assert [(r.text, r.channel, r.sender_id) for r in rows] == [
        ("votre accueil téléphonique est catastrophique", "socketio", "test-citizen")]


async def test_fallback_asks_to_rephrase_then_offers_a_person(db_url):
    first = tracker("zzkq", "nlu_fallback", confidence=0.2)
    _, dispatcher = await run(dialogue.ActionHandleFallback(), first)
    assert said(dispatcher) == ["utter_ask_rephrase"]
    previous = [{"event": "user", "text": "zzkq", "parse_data": {"intent": {"name": "nlu_fallback"}}}]
    _, dispatcher = await run(dialogue.ActionHandleFallback(), tracker("blorp", "nlu_fallback", events=previous))
    assert said(dispatcher) == ["utter_offer_human"]


async def test_request_human_gives_contacts_and_records_a_handoff(db_url):
    from townhall.knowledge import loader

    with db.unit_of_work(db_url) as session:
        loader.load_demo(session, date.today())
    previous = [{"event": "user", "text": "rdv passeport", "parse_data": {"intent": {"name": "book_appointment"}}}]
    _, dispatcher = await run(dialogue.ActionRequestHuman(),
                              tracker("je veux parler à un agent", "request_human", events=previous))
    messages = said(dispatcher)
    assert messages[0].startswith("Vous pouvez joindre ")
    assert " au 0" in messages[0] and "@" in messages[0]
    assert "ouvert" in messages[0] or "fermé" in messages[0]
    assert messages[1] == "utter_handoff_recorded"
    with db.unit_of_work(db_url) as session:
        (request,) = handoff.pending(session)
    assert (request.service, request.topic, request.last_message) == ("mairie", "booking", "je veux parler à un agent")


async def test_erasure_is_recorded_and_contacts_forgotten(db_url):
    with db.unit_of_work(db_url) as session:
        feedback.record(session, "remarque", "rest", "test-citizen")
    events, dispatcher = await run(dialogue.ActionEraseConversation(), tracker("oui", "affirm"))
    assert said(dispatcher) == ["utter_conversation_erased"]
    assert {e["name"] for e in events} == {"citizen_email", "citizen_phone", "citizen_name"}
    with db.unit_of_work(db_url) as session:
        assert session.execute(select(feedback.Feedback)).first() is None
        (erasure,) = session.execute(select(privacy.ErasureRequest)).scalars()
    assert erasure.sender_id == "test-citizen" and erasure.done_at is None
