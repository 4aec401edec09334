"""Every contact slot is checked whatever set it (form text, NLU entity, earlier turn), and
every new session starts with the privacy notice."""
from __future__ import annotations

from datetime import datetime

import pytest

from actions.booking import ValidateBookingForm, ValidateCancelAppointmentForm
from actions.dialogue import ActionSessionStart
from actions.incidents import ValidateIncidentForm
from tests.trackers import entity, run, said, tracker
from townhall import config, db
from townhall.booking import loader


pytestmark = pytest.mark.usefixtures("clock")  # demo data relative to one frozen day, never today

BEFORE_CONTACT = dict(procedure="acte_naissance", appointment_date="2030-01-01",
                      appointment_slot="2030-01-01T08:00:00+00:00")


@pytest.fixture
def commune(sqlite_url):
    with db.unit_of_work(sqlite_url) as session:
        loader.load_demo(session, datetime.now(config.TIMEZONE).date(), with_appointments=False)
    return sqlite_url


def extracted(t, **slots):
    """Rasa's slot candidates (from_entity mappings), appended after the user's message."""
    t.events.extend({"event": "slot", "name": k, "value": v} for k, v in slots.items())
    return t


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_a_phone_entity_picked_up_on_the_side_is_dropped_when_unusable(commune):
    # The NLU took ")>" for a phone number while the name was asked: never shown in the recap.
    t = tracker("Camille Martin )>", "inform", entities=[entity("phone", ")>", 15)],
                slots=dict(BEFORE_CONTACT, citizen_phone=")>"), active_loop="booking_form",
                requested_slot="citizen_name")
    events, dispatcher = await run(ValidateBookingForm(), extracted(t, citizen_phone=")>"))
    slots = slot_events(events)
    assert slots["citizen_phone"] is None
    assert slots["citizen_name"] is None  # "Camille Martin )>" is not a name either
    assert slots["requested_slot"] == "citizen_name"


async def test_a_stale_bad_contact_is_asked_again_before_the_recap(commune):
    t = tracker("Camille Martin", "inform", slots=dict(BEFORE_CONTACT, citizen_phone=")>"),
                active_loop="booking_form", requested_slot="citizen_name")
    events, dispatcher = await run(ValidateBookingForm(), t)
    slots = slot_events(events)
    assert slots["citizen_name"] == "Camille Martin"
    assert slots["citizen_phone"] is None
    assert slots["requested_slot"] == "citizen_email"  # asked, not shown in a recap
    assert said(dispatcher) == []


@pytest.mark.parametrize("name", ["Camille Martin", "Jean-Pierre D'Arc", "Zoé O’Neil", "J. Martin"])
async def test_good_names_are_kept(commune, name):
    t = tracker(name, "inform", slots=BEFORE_CONTACT, active_loop="booking_form", requested_slot="citizen_name")
    events, _ = await run(ValidateBookingForm(), t)
    assert slot_events(events)["citizen_name"] == name


@pytest.mark.parametrize("name", ["Camille (la grande)", "x", "Camille 2", "Camille_Martin", "a" * 120])
async def test_bad_names_get_a_french_reask(commune, name):
    t = tracker(name, "inform", slots=BEFORE_CONTACT, active_loop="booking_form", requested_slot="citizen_name")
    events, dispatcher = await run(ValidateBookingForm(), t)
    assert slot_events(events)["citizen_name"] is None
    assert said(dispatcher)[0] in ("utter_booking_name_invalid", "utter_contact_invalid_name")
    assert len(said(dispatcher)) == 1


async def test_a_phone_entity_as_the_answer_is_validated(commune):
    t = tracker(")>", "inform", entities=[entity("phone", ")>")], slots=dict(BEFORE_CONTACT, citizen_name="Camille Martin",
                citizen_phone=")>", booking_no_email=True), active_loop="booking_form", requested_slot="citizen_phone")
    events, dispatcher = await run(ValidateBookingForm(), extracted(t, citizen_phone=")>"))
    assert slot_events(events)["citizen_phone"] is None
    assert said(dispatcher) == ["utter_booking_phone_invalid"]


async def test_the_owner_check_accepts_a_phone_in_the_email_slot(commune):
    # cancel: the e-mail or the phone used to book; a bad value is refused by the form itself
    t = tracker(")>", "inform", slots={"reference": "RDV-7K3F9Q"}, active_loop="cancel_appointment_form",
                requested_slot="citizen_email")
    events, dispatcher = await run(ValidateCancelAppointmentForm(), t)
    assert slot_events(events)["citizen_email"] is None


async def test_incident_email_and_address(sqlite_url):
    t = tracker("camille@", "inform", slots={"incident_category": "voirie", "incident_location": "12 rue Pasteur",
                "incident_description": "un trou", "incident_photo": "aucune"}, active_loop="incident_form",
                requested_slot="citizen_email")
    events, dispatcher = await run(ValidateIncidentForm(), t)
    assert slot_events(events)["citizen_email"] is None and said(dispatcher)
    # a stale address too long to be one is dropped without a word
    t = tracker("anonyme", "deny", slots={"incident_category": "voirie", "incident_location": "x" * 300,
                "incident_description": "un trou", "incident_photo": "aucune"}, active_loop="incident_form",
                requested_slot="citizen_email")
    events, dispatcher = await run(ValidateIncidentForm(), t)
    assert slot_events(events)["incident_location"] is None


async def test_every_session_starts_with_the_privacy_notice():
    t = tracker("quels papiers pour un passeport ?", "ask_procedure")
    events, dispatcher = await run(ActionSessionStart(), t)
    assert said(dispatcher) == ["utter_privacy_notice"]
    assert [e["event"] for e in events] == ["session_started", "action"]
    assert events[-1]["name"] == "action_listen"
    t = tracker("bonjour", "greet", slots={"session_started_metadata": {"origin": "demo"}})
    events, _ = await run(ActionSessionStart(), t)
    assert {"event": "slot", "name": "session_started_metadata", "value": {"origin": "demo"}, "timestamp": None} in events
