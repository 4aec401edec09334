"""Booking, ownership, cancellation, rescheduling, staff day list and statuses."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from townhall.booking import appointments, ics
from townhall.booking.contacts import InvalidContact, ants_numbers, normalise_email, normalise_phone
from townhall.booking.models import SlotUnit, Status
from tests.core.booking_fixtures import MONDAY, NOW, at, load_settings

TUESDAY = MONDAY + timedelta(days=1)
THURSDAY = MONDAY + timedelta(days=3)  # Wednesday 1 May is a holiday


@pytest.fixture
def commune(session):
    load_settings(session)
    return session


def book(session, hour=9, minute=0, **kwargs):
    values = dict(procedure="passeport", start=at(TUESDAY, hour, minute), name="Camille Martin",
                  email="camille@example.org", phone="06 12 34 56 78", channel="rest", now=NOW)
    values.update(kwargs)
    return appointments.book(session, **values)


def test_book_stores_normalised_contacts_and_utc_times(commune):
    booked = book(commune, party_size=2, email="Camille@EXAMPLE.org")
    assert booked.reference.startswith("RDV-") and booked.status == "booked"
    assert booked.citizen_email == "camille@example.org" and booked.citizen_phone == "+33612345678"
    assert booked.start.utcoffset() == timedelta(0) and booked.end - booked.start == timedelta(minutes=40)
    assert booked.procedure == "passeport" and booked.motif.label.startswith("Passeport")
    assert commune.execute(select(func.count()).select_from(SlotUnit)).scalar() == 4


def test_book_refuses_bad_input(commune):
    with pytest.raises(InvalidContact):
        book(commune, email=None, phone=None)
    with pytest.raises(InvalidContact):
        book(commune, email="pas-une-adresse", phone=None)
    with pytest.raises(appointments.InvalidPartySize):
        book(commune, party_size=9)
    with pytest.raises(appointments.UnknownMotif):
        book(commune, procedure="piscine")
    with pytest.raises(appointments.SlotTaken):
        book(commune, hour=12, minute=30)  # lunch break


def test_the_same_time_cannot_be_booked_twice(commune):
    book(commune)
    book(commune, email="b@example.org")  # the second desk
    with pytest.raises(appointments.SlotTaken):
        book(commune, email="c@example.org")


def test_only_the_owner_can_cancel_or_look_up(commune):
    booked = book(commune)
    for wrong in ["someone@example.org", "06 00 00 00 00", "", "<script>", "x" * 10_000]:
        with pytest.raises(appointments.AppointmentNotFound):
            appointments.cancel_by_citizen(commune, booked.reference, wrong, now=NOW)
    with pytest.raises(appointments.AppointmentNotFound):
        appointments.cancel_by_citizen(commune, "RDV-ZZZZZZ", "camille@example.org", now=NOW)
    assert appointments.find_for_owner(commune, booked.reference.lower(), "+33 6 12 34 56 78").id == booked.id
    cancelled = appointments.cancel_by_citizen(commune, booked.reference, "CAMILLE@example.org", now=NOW)
    assert cancelled.status == Status.CANCELLED_BY_CITIZEN.value
    with pytest.raises(appointments.NotChangeable):
        appointments.cancel_by_citizen(commune, booked.reference, "camille@example.org", now=NOW)


def test_reschedule_keeps_the_reference_and_frees_the_old_time(commune):
    booked = book(commune)
    moved = appointments.reschedule(commune, booked.reference, "0612345678", at(THURSDAY, 14, 10), now=NOW)
    assert moved.reference == booked.reference and moved.start == at(THURSDAY, 14, 10)
    units = commune.execute(select(SlotUnit.starts_at).where(SlotUnit.appointment_id == booked.id)).scalars().all()
    assert sorted(units) == [at(THURSDAY, 14, 10), at(THURSDAY, 14, 20)]
    with pytest.raises(appointments.AppointmentNotFound):
        appointments.reschedule(commune, booked.reference, "other@example.org", at(TUESDAY, 10), now=NOW)


def test_reschedule_to_a_taken_time_keeps_the_old_one(db_url):
    from townhall import db

    with db.unit_of_work(db_url) as session:
        load_settings(session)
        mine = book(session).reference
        book(session, hour=10, email="a@example.org")
        book(session, hour=10, email="b@example.org")
    with pytest.raises(appointments.SlotTaken):
        with db.unit_of_work(db_url) as session:
            appointments.reschedule(session, mine, "camille@example.org", at(TUESDAY, 10), now=NOW)
    with db.unit_of_work(db_url) as session:
        kept = appointments.find(session, mine)
        assert kept.status == "booked" and kept.start == at(TUESDAY, 9)
        assert len(kept.units) == 2


def test_staff_day_list_cancel_and_statuses(commune):
    first = book(commune, hour=9)
    second = book(commune, hour=10, procedure="carte_identite", email="b@example.org", phone=None)
    book(commune, hour=9, procedure="passeport", start=at(THURSDAY, 9), email="c@example.org")
    day = appointments.for_day(commune, TUESDAY)
    assert [a.reference for a in day] == [first.reference, second.reference]
    assert appointments.for_day(commune, TUESDAY, place="urbanisme") == []
    appointments.cancel_by_staff(commune, second.reference, "agent malade", by="agent.dupont")
    assert second.status == "cancelled_by_staff" and second.status_reason == "agent malade"
    assert len(appointments.for_day(commune, TUESDAY, include_cancelled=False)) == 1
    appointments.set_status(commune, first.reference, "honoured", by="agent.dupont")
    assert first.status == "honoured"
    appointments.set_status(commune, first.reference, Status.NO_SHOW, by="agent.dupont")
    assert first.status == "no_show"
    with pytest.raises(appointments.NotChangeable):
        appointments.set_status(commune, second.reference, "honoured", by="agent.dupont")
    with pytest.raises(appointments.AppointmentNotFound):
        appointments.cancel_by_staff(commune, "RDV-ZZZZZZ", "x", by="y")


def test_calendar_file(commune, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_PUBLIC_URL", "https://mairie.example/")
    booked = book(commune)
    content = ics.to_ics(booked).decode()
    assert "BEGIN:VEVENT" in content and booked.reference in content and "DTSTART:20300430T070000Z" in content
    assert ics.calendar_url(booked) == f"https://mairie.example/rdv/{booked.reference}/{booked.calendar_token}.ics"
    assert len(booked.calendar_token) >= 30


@pytest.mark.parametrize("clock", ["weekday_morning", "saturday", "public_holiday", "closing_day", "last_minute"],
                         indirect=True)
def test_demo_loader_is_idempotent(clock, session):
    from townhall.booking import availability, loader
    from townhall.booking.models import Closure, Motif

    today = clock.date()
    loader.load_demo(session, today)
    loader.load_demo(session, today)
    assert session.execute(select(func.count()).select_from(Motif)).scalar() == 7
    assert session.execute(select(func.count()).select_from(Closure)).scalar() == 2
    assert session.execute(select(func.count()).select_from(appointments.Appointment)).scalar() == 3
    weekdays = [today + timedelta(days=i) for i in range(1, 56) if (today + timedelta(days=i)).weekday() < 5]
    open_days = [d for d in weekdays if not availability.is_public_holiday(d) and d != today + timedelta(days=9)]
    for procedure in ("passeport", "carte_identite"):
        assert all(availability.free_slots(session, procedure, d) for d in open_days)


@pytest.mark.parametrize("typed,expected", [
    ("06 12 34 56 78", "+33612345678"), ("+33 6 12 34 56 78", "+33612345678"), ("01.23.45.67.89", "+33123456789"),
    ("0033612345678", "+33612345678"),
])
def test_phone_normalisation(typed, expected):
    assert normalise_phone(typed) == expected


@pytest.mark.parametrize("typed", ["12", "06 12", "abc", "", "😀", "0000000000"])
def test_invalid_phones(typed):
    with pytest.raises(InvalidContact):
        normalise_phone(typed)


def test_email_normalisation():
    assert normalise_email("mon mail : Camille.Martin@Example.ORG") == "camille.martin@example.org"
    for bad in ["camille@", "@example.org", "camille@example", "camille", "", "<b>@x</b>"]:
        with pytest.raises(InvalidContact):
            normalise_email(bad)


def test_ants_numbers():
    assert ants_numbers("7A2B3C4D5E") == ["7A2B3C4D5E"]
    assert ants_numbers("mon numéro est 7a2b3c4d5e") == ["7A2B3C4D5E"]
    assert ants_numbers("7A2B3C4D5E et 1234567890") == ["7A2B3C4D5E", "1234567890"]
    assert ants_numbers("je ne l'ai pas maintenant") == []
    assert ants_numbers("7A2B3C") == []
