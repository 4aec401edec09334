"""The booking adapters on real trackers and a real (temporary) database."""
from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from actions.booking import (
    ActionAppointmentLookup, ActionCancelAppointment, ValidateAppointmentLookupForm, ValidateBookingForm,
    ValidateCancelAppointmentForm,
)
from tests.trackers import entity, run, said, tracker
from townhall import db, french
from townhall.booking import appointments, availability, loader


@pytest.fixture
def commune(clock, sqlite_url):
    """The demo commune loaded on the frozen day (a weekday morning unless the test says otherwise)."""
    with db.unit_of_work(sqlite_url) as session:
        loader.load_demo(session, clock.date(), with_appointments=False)
    return sqlite_url


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def validate(text, requested, intent="inform", entities=None, **slots):
    t = tracker(text, intent=intent, entities=entities, slots=slots, active_loop="booking_form", requested_slot=requested)
    return await run(ValidateBookingForm(), t)


async def test_bad_dates_get_clear_answers(commune):
    for text, response in [("le 31 février", "utter_booking_date_nonexistent"), ("hier", "utter_booking_date_past"),
                           ("blablabla", "utter_booking_date_not_understood")]:
        events, dispatcher = await validate(text, "appointment_date", procedure="passeport")
        assert response in said(dispatcher)
        assert slot_events(events)["appointment_date"] is None


# "dans 15 jours" from each instant: an open weekday, a Sunday, a public holiday (Ascension 2030).
@pytest.mark.parametrize("clock, kept", [
    ("weekday_morning", True), ("public_holiday", True), ("closing_day", True), ("last_minute", True),
    ("saturday", False), ("2030-05-15T09:00:00", False),
], indirect=["clock"])
async def test_a_good_day_is_kept_as_iso(clock, commune, kept):
    events, dispatcher = await validate("dans 15 jours", "appointment_date", procedure="passeport", party_size=1)
    expected = clock.date() + timedelta(days=15)
    if kept:
        assert slot_events(events)["appointment_date"] == expected.isoformat()
    else:  # a Sunday or a holiday: not kept, the next days are offered instead
        with db.unit_of_work(commune) as session:
            reason = availability.why_unavailable(session, "passeport", expected)
        assert reason == ("closed" if expected.weekday() == 6 else "holiday")
        assert slot_events(events)["appointment_date"] is None and dispatcher.messages
        assert slot_events(events)["form_failures"] == {}  # a closed day is not the citizen's mistake


async def test_ants_number_and_link(commune):
    events, _ = await validate("7a2b3c4d5e", "ants_predemande", procedure="passeport")
    assert slot_events(events)["ants_predemande"] == "7A2B3C4D5E"
    events, dispatcher = await validate("non je n'en ai pas", "ants_predemande", intent="deny", procedure="passeport")
    assert slot_events(events)["ants_predemande"] == "aucun" and "utter_booking_ants_link" in said(dispatcher)
    events, dispatcher = await validate("123", "ants_predemande", procedure="passeport")
    assert "utter_booking_ants_invalid" in said(dispatcher)


async def test_contacts_are_validated_and_normalised(commune):
    before = dict(procedure="acte_naissance", appointment_date="2030-01-01", appointment_slot="2030-01-01T08:00:00+00:00",
                  citizen_name="Camille Martin")
    events, dispatcher = await validate("camille@", "citizen_email", **before)
    assert "utter_booking_email_invalid" in said(dispatcher)
    events, _ = await validate("06 12 34 56 78", "citizen_email", **before)
    assert slot_events(events)["citizen_phone"] == "+33612345678"


async def test_a_question_interrupts_and_stop_stops_the_form(commune):
    events, _ = await validate("c'est ouvert samedi ?", "citizen_name", intent="ask_opening_hours", procedure="passeport")
    assert [e["event"] for e in events] == ["action_execution_rejected"]  # a rule answers, the form resumes
    events, dispatcher = await validate("stop", "citizen_name", intent="deny", procedure="passeport")
    assert said(dispatcher) == ["utter_form_stopped"]
    assert slot_events(events)["procedure"] is None and slot_events(events)["requested_slot"] is None
    assert events[-1] == {"event": "followup", "name": "action_listen", "timestamp": None}


async def test_slot_taken_between_offer_and_confirmation(commune):
    with db.unit_of_work(commune) as session:
        day = availability.next_free_days(session, "acte_naissance")[0]
        start = availability.free_slots(session, "acte_naissance", day)[0]
        for i in range(2):  # both desks
            appointments.book(session, procedure="acte_naissance", start=start, name="Autre", email=f"x{i}@example.org")
    events, dispatcher = await validate(
        "oui", "booking_confirmed", intent="affirm", procedure="acte_naissance", appointment_date=day.isoformat(),
        appointment_slot=start.astimezone(timezone.utc).isoformat(), citizen_name="Camille Martin",
        citizen_email="camille@example.org",
    )
    assert "utter_booking_slot_taken_meanwhile" in said(dispatcher)
    assert slot_events(events)["appointment_slot"] is None


async def test_confirmation_books_and_sets_the_reference(commune):
    with db.unit_of_work(commune) as session:
        day = availability.next_free_days(session, "passeport", None, 2)[0]  # a day with room for two
        start = availability.free_slots(session, "passeport", day, 2)[0]
    events, _ = await validate(
        "oui", "booking_confirmed", intent="affirm", procedure="passeport", party_size=2, ants_predemande="7A2B3C4D5E",
        appointment_date=day.isoformat(), appointment_slot=start.astimezone(timezone.utc).isoformat(),
        citizen_name="Camille Martin", citizen_email="camille@example.org",
    )
    reference = slot_events(events)["reference"]
    with db.unit_of_work(commune) as session:
        booked = appointments.find(session, reference)
        assert booked.party_size == 2 and booked.ants_numbers == ["7A2B3C4D5E"]


async def test_wrong_reference_or_contact_cannot_cancel(commune):
    with db.unit_of_work(commune) as session:
        day = availability.next_free_days(session, "passeport")[0]
        booked = appointments.book(session, procedure="passeport", start=availability.free_slots(session, "passeport", day)[0],
                                   name="Camille", email="camille@example.org")
        reference = booked.reference
    t = tracker("pirate@example.org", intent="inform", entities=[entity("email", "pirate@example.org")],
                slots={"reference": reference, "citizen_email": "pirate@example.org"},
                active_loop="cancel_appointment_form", requested_slot="citizen_email")
    events, dispatcher = await run(ValidateCancelAppointmentForm(), t)
    assert "utter_booking_not_found" in said(dispatcher) and slot_events(events)["reference"] is None
    t = tracker("", slots={"reference": reference.lower(), "citizen_email": "Camille@example.org"})
    events, dispatcher = await run(ActionCancelAppointment(), t)
    assert "utter_booking_cancelled" in said(dispatcher)


# "What is my appointment?": the follow-up hands an RDV- reference to the booking lookup ------------
@pytest.fixture
def commune_db(clock, db_url):
    """The demo commune on SQLite and on PostgreSQL, with one appointment booked by Camille."""
    with db.unit_of_work(db_url) as session:
        loader.load_demo(session, clock.date(), with_appointments=False)
        day = availability.next_free_days(session, "passeport")[0]
        booked = appointments.book(session, procedure="passeport", start=availability.free_slots(session, "passeport", day)[0],
                                   name="Camille Martin", email="camille@example.org", phone="06 12 34 56 78")
        return booked.reference


async def test_follow_up_of_an_appointment_reference_hands_over_to_the_lookup(commune_db):
    from actions.incidents import ActionReportStatus, ValidateReportStatusForm

    reference = commune_db
    text = f"c'est quand mon rendez-vous {reference.lower().replace('-', ' ')} ?"
    t = tracker(text, intent="check_report_status", active_loop="report_status_form", requested_slot="reference")
    events, _ = await run(ValidateReportStatusForm(), t)
    assert slot_events(events)["reference"] == reference
    events, dispatcher = await run(ActionReportStatus(), tracker(text, intent="check_report_status", slots={"reference": reference}))
    assert said(dispatcher) == [] and slot_events(events) == {"citizen_email": None}  # always asked again
    assert {"event": "active_loop", "name": "appointment_lookup_form", "timestamp": None} in events
    assert events[-1]["event"] == "followup" and events[-1]["name"] == "appointment_lookup_form"


@pytest.mark.parametrize("contact", ["pirate@example.org", "", "<script>alert(1)</script>", "x" * 10_000, "🙂"])
async def test_lookup_refuses_someone_else_without_telling_what_was_wrong(commune_db, contact):
    reference = commune_db
    t = tracker(contact, intent="inform", slots={"reference": reference, "citizen_email": contact or " "},
                active_loop="appointment_lookup_form", requested_slot="citizen_email")
    events, dispatcher = await run(ValidateAppointmentLookupForm(), t)
    assert "utter_booking_not_found" in said(dispatcher)
    assert slot_events(events)["reference"] is None and slot_events(events)["citizen_email"] is None
    with db.unit_of_work() as session:
        assert appointments.find(session, reference).is_active  # nothing lost


async def test_lookup_answers_date_time_place_and_documents(commune_db):
    reference = commune_db
    t = tracker("06 12 34 56 78", intent="inform", entities=[entity("phone", "06 12 34 56 78")],
                slots={"reference": reference, "citizen_email": "06 12 34 56 78"},
                active_loop="appointment_lookup_form", requested_slot="citizen_email")
    events, dispatcher = await run(ValidateAppointmentLookupForm(), t)
    assert slot_events(events)["citizen_email"] == "06 12 34 56 78"

    t = tracker("", slots={"reference": reference.lower(), "citizen_email": "Camille@Example.org"})
    events, dispatcher = await run(ActionAppointmentLookup(), t)
    with db.unit_of_work() as session:
        booked = appointments.find(session, reference)
        moment, place = french.moment(booked.start), booked.place.name
    [answer] = [m for m in dispatcher.messages if m.get("response") == "utter_appointment_lookup"]
    assert answer["reference"] == reference and answer["moment"] == moment and place in answer["place"]
    assert any((m.get("text") or "").startswith("À apporter") for m in dispatcher.messages)
    assert "utter_booking_ants_reminder" in said(dispatcher)  # booked without an ANTS number
    assert slot_events(events) == {"reference": None, "citizen_email": None, "form_failures": None}


async def test_lookup_of_a_cancelled_appointment(commune_db):
    reference = commune_db
    with db.unit_of_work() as session:
        appointments.cancel_by_citizen(session, reference, "camille@example.org")
    _, dispatcher = await run(ActionAppointmentLookup(), tracker("", slots={"reference": reference, "citizen_email": "camille@example.org"}))
    assert said(dispatcher) == ["utter_appointment_lookup_cancelled"]
    _, dispatcher = await run(ActionAppointmentLookup(), tracker("", slots={"reference": reference, "citizen_email": "pirate@example.org"}))
    assert said(dispatcher) == ["utter_booking_not_found"]
