"""Whole conversations through the REST channel against the real model, actions and database.

Needs a trained model (``TEST_RASA_MODEL`` or the newest ``models/*.tar.gz``); skipped without
one unless ``CI`` is set. ``scripts/test.sh`` trains one first.
"""
from __future__ import annotations

import os
import re
import sqlite3
import uuid

import pytest

from tests.e2e.stack import Stack, newest_model

pytestmark = pytest.mark.rasa

FRENCH_HINTS = re.compile(r"\b(je|vous|votre|pouvez|mairie|désolé|merci|bonjour|quel|quelle|pas)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def stack():
    model = newest_model()
    if model is None or not model.exists():
        if os.environ.get("CI"):
            pytest.fail("no trained model: scripts/test.sh trains one before pytest")
        pytest.skip("no trained model")
    with Stack(model=model, demo_data=True) as running:
        yield running


def new_sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"


def texts(replies: list) -> list[str]:
    return [r.get("text") or "" for r in replies]


def buttons(replies: list) -> list[dict]:
    return [b for r in replies for b in (r.get("buttons") or [])]


def assert_calm_french_answer(replies: list) -> None:
    assert replies, "the assistant said nothing"
    joined = " ".join(texts(replies))
    assert FRENCH_HINTS.search(joined), joined
    assert "Traceback" not in joined and "Exception" not in joined


@pytest.mark.parametrize(
    "message",
    [
        "x" * 10_000,
        "😀😀😀🎉",
        "<script>alert('xss')</script><b>bonjour</b>",
        "'; DROP TABLE booking_appointments; --",
        "What time does the swimming pool open tomorrow?",
        "asdkjh qwpoeiru zmxncb",
        "?!...",
    ],
)
def test_bad_input_gets_a_calm_french_answer(stack, message):
    sender = new_sender()
    assert_calm_french_answer(stack.say(message, sender))
    # The conversation goes on normally afterwards.
    assert_calm_french_answer(stack.say("bonjour", sender))


def test_empty_message_does_not_break_the_conversation(stack):
    sender = new_sender()
    stack.say("", sender)  # the REST channel may answer nothing; it must not fail
    assert_calm_french_answer(stack.say("bonjour", sender))


def test_conversation_is_stored_in_the_sql_tracker_store(stack):
    sender = new_sender()
    stack.say("bonjour", sender)
    stack.say("merci beaucoup", sender)
    with sqlite3.connect(stack.tracker_database) as db:
        rows = db.execute("SELECT type_name, intent_name FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    assert ("user", "greet") in rows and ("user", "thank") in rows


def test_context_survives_the_tracker_snapshot(stack):
    """Long conversations are read as a snapshot plus recent events: the context stays."""
    sender = new_sender()
    first = texts(stack.say("quels sont les horaires de la piscine ?", sender))
    assert any("piscine" in t.lower() for t in first), first
    for message in ["merci", "bonjour", "vous êtes un robot ?", "merci beaucoup", "bonjour", "merci"]:
        assert_calm_french_answer(stack.say(message, sender))
    with sqlite3.connect(stack.tracker_database) as db:
        snapshot = db.execute("SELECT event_id FROM tracker_snapshots WHERE sender_id = ?", (sender,)).fetchone()
        first_user = db.execute("SELECT min(id) FROM events WHERE sender_id = ? AND type_name = 'user'",
                                (sender,)).fetchone()
    assert snapshot is not None and snapshot[0] > first_user[0]  # the question is older than the window
    follow_up = texts(stack.say("et le samedi ?", sender))
    assert any("piscine" in t.lower() and "samedi" in t.lower() for t in follow_up), follow_up


def test_feedback_is_stored(stack):
    sender = new_sender()
    replies = stack.say("votre accueil téléphonique est catastrophique, personne ne décroche", sender)
    assert any("enregistré" in t for t in texts(replies))
    with sqlite3.connect(stack.database_url.split("///", 1)[1]) as db:
        rows = db.execute("SELECT text, channel FROM feedback WHERE sender_id = ?", (sender,)).fetchall()
    assert rows == [("votre accueil téléphonique est catastrophique, personne ne décroche", "rest")]


def test_request_human_gives_a_phone_number(stack):
    replies = stack.say("je veux parler à un agent", new_sender())
    assert any(re.search(r"\b0\d( \d\d){4}\b", t) for t in texts(replies)), texts(replies)


def answer(stack, sender: str, replies: list, typed: str) -> list:
    """Click the first button whose title contains ``typed`` if offered, else type it."""
    for button in buttons(replies):
        if typed.lower() in (button.get("title") or "").lower():
            return stack.say(button["payload"], sender)
    return stack.say(typed, sender)


def test_book_an_id_card_appointment_end_to_end(stack):
    sender = new_sender()
    replies = stack.say("je voudrais un rendez-vous pour une carte d'identité", sender)
    for _ in range(12):
        if "rdv-" in " ".join(texts(replies)).lower():
            break
        question = texts(replies)[-1].lower()  # the bot's last message asks the next question
        time_buttons = [b for b in buttons(replies) if re.fullmatch(r"\d{1,2} h( \d\d)?", b.get("title", ""))]
        if "pré-demande" in question:
            replies = stack.say("7A2B3C4D5E", sender)
        elif "combien de personnes" in question:
            replies = stack.say("1", sender)
        elif "quel jour" in question:
            replies = stack.say("mardi prochain", sender)
        elif time_buttons:
            replies = stack.say(time_buttons[0]["payload"], sender)
        elif "quel nom" in question:
            replies = stack.say("Camille Martin", sender)
        elif "e-mail" in question:
            replies = stack.say("camille.martin@example.org", sender)
        elif "téléphone" in question:
            replies = stack.say("06 12 34 56 78", sender)
        elif "confirme" in question:
            replies = stack.say("/affirm", sender)
        else:
            pytest.fail(f"unexpected question: {texts(replies)}")
    joined = " ".join(texts(replies))
    reference = re.search(r"RDV-[A-HJ-NP-Z2-9]{6}", joined)
    assert reference, texts(replies)
    with sqlite3.connect(stack.database_url.split("///", 1)[1]) as db:
        row = db.execute("SELECT m.code, a.citizen_email, a.status FROM booking_appointments a "
                         "JOIN booking_motifs m ON m.id = a.motif_id WHERE a.reference = ?",
                         (reference.group(0),)).fetchone()
    assert row == ("carte_identite", "camille.martin@example.org", "booked")


def test_report_a_pothole_end_to_end(stack):
    sender = new_sender()
    # Rue Pasteur has no open pothole report in the demo data, so no duplicate is offered.
    replies = stack.say("il y a un nid de poule énorme rue Pasteur", sender)
    for _ in range(10):
        if re.search(r"SIG-[A-HJ-NP-Z2-9]{6}", " ".join(texts(replies))):
            break
        question = texts(replies)[-1].lower()
        if "où se trouve" in question:
            replies = stack.say("12 rue Pasteur", sender)
        elif "décri" in question:  # "Décrivez..." or "Pouvez-vous décrire..." (two variations)
            replies = stack.say("Un trou profond sur la chaussée devant la boulangerie.", sender)
        elif "photo" in question:
            replies = stack.say("non pas de photo", sender)
        elif "e-mail" in question:
            replies = stack.say("non", sender)
        elif "associer" in question:
            replies = stack.say("/deny", sender)
        elif "confirm" in question or "enregistre" in question:
            replies = stack.say("/affirm", sender)
        else:
            pytest.fail(f"unexpected question: {texts(replies)}")
    reference = re.search(r"SIG-[A-HJ-NP-Z2-9]{6}", " ".join(texts(replies)))
    assert reference, texts(replies)
    with sqlite3.connect(stack.database_url.split("///", 1)[1]) as db:
        row = db.execute("SELECT category, status FROM incident_reports WHERE reference = ?", (reference.group(0),)).fetchone()
    assert row == ("voirie", "open")
