"""The booking adapters on real trackers and a real (temporary) database."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from actions.booking import ActionCancelAppointment, ValidateBookingForm, ValidateCancelAppointmentForm
from tests.trackers import entity, run, said, tracker
from townhall import config, db
from townhall.booking import appointments, availability, loader


@pytest.fixture
def commune(sqlite_url):
    with db.unit_of_work(sqlite_url) as session:
        loader.load_demo(session, datetime.now(config.TIMEZONE).date(), with_appointments=False)
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


async def test_a_good_day_is_kept_as_iso(commune):
    events, _ = await validate("dans 15 jours", "appointment_date", procedure="passeport", party_size=1)
    day = slot_events(events).get("appointment_date")
    expected = datetime.now(config.TIMEZONE).date() + timedelta(days=15)
    if day is None:  # weekend or holiday: the next days are offered instead
        return
    assert day == expected.isoformat()


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


async def test_questions_and_stop_reject_the_form(commune):
    events, _ = await validate("c'est ouvert samedi ?", "citizen_name", intent="ask_opening_hours", procedure="passeport")
    assert events == []
    events, _ = await validate("stop", "citizen_name", intent="deny", procedure="passeport")
    assert events == []


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
        day = availability.next_free_days(session, "passeport")[0]
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
