"""Slot computation: schedules, durations, holidays, closures, booking window, time zone."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from townhall.booking import appointments, availability
from townhall.booking.models import Closure, Place
from townhall.booking.motifs import InvalidPartySize, UnknownMotif
from tests.core.booking_fixtures import MONDAY, NOW, at, hhmm, load_settings
from sqlalchemy import select


@pytest.fixture
def commune(session):
    load_settings(session)
    return session


def test_weekday_slots_follow_the_schedule_and_the_duration(commune):
    tuesday = MONDAY + timedelta(days=1)
    slots = hhmm(availability.free_slots(commune, "passeport", tuesday, now=NOW))
    assert slots[:3] == ["09:00", "09:20", "09:40"]
    assert "11:40" in slots and "12:00" not in slots  # the last 20 minutes end at noon
    assert "13:30" in slots and "16:30" in slots and "16:50" not in slots
    assert len(slots) == 9 + 10


def test_durations_grow_with_the_party(commune):
    tuesday = MONDAY + timedelta(days=1)
    family = hhmm(availability.free_slots(commune, "passeport", tuesday, party_size=3, now=NOW))
    assert "11:00" in family and "11:20" not in family  # 60 minutes must end by noon
    with pytest.raises(InvalidPartySize):
        availability.free_slots(commune, "passeport", tuesday, party_size=6, now=NOW)
    with pytest.raises(InvalidPartySize):
        availability.free_slots(commune, "acte_naissance", tuesday, party_size=2, now=NOW)


def test_a_family_slot_cannot_overlap_another_booking(commune):
    commune.get(Place, commune.execute(select(Place.id).where(Place.code == "mairie")).scalar()).desks = 1
    tuesday = MONDAY + timedelta(days=1)
    appointments.book(commune, procedure="passeport", start=at(tuesday, 9, 40), name="A", email="a@example.org", now=NOW)
    family = hhmm(availability.free_slots(commune, "passeport", tuesday, party_size=2, now=NOW))
    assert "09:00" in family  # 9:00-9:40 ends as the other begins
    assert "09:20" not in family and "09:40" not in family and "10:00" in family


def test_booking_window_not_too_soon_and_not_too_far(commune):
    today = hhmm(availability.free_slots(commune, "passeport", MONDAY, now=NOW))
    assert today[0] == "10:00"  # two hours' notice from 8:00
    assert availability.free_slots(commune, "passeport", MONDAY - timedelta(days=1), now=NOW) == []
    assert availability.free_slots(commune, "mariage", MONDAY, now=NOW) == []  # 24 hours' notice
    assert availability.free_slots(commune, "passeport", MONDAY + timedelta(days=91), now=NOW) == []
    assert availability.free_slots(commune, "passeport", MONDAY + timedelta(days=86), now=NOW)  # Thursday, in 90 days
    assert availability.why_unavailable(commune, "passeport", MONDAY + timedelta(days=120), now=NOW) == "too_far"
    assert availability.why_unavailable(commune, "passeport", MONDAY - timedelta(days=3), now=NOW) == "past"


def test_public_holidays_and_sundays_are_closed(commune):
    may_day, victory_day = date(2030, 5, 1), date(2030, 5, 8)
    assert availability.free_slots(commune, "passeport", may_day, now=NOW) == []
    assert availability.free_slots(commune, "carte_identite", victory_day, now=NOW) == []
    assert availability.why_unavailable(commune, "passeport", may_day, now=NOW) == "holiday"
    sunday = date(2030, 5, 5)
    assert availability.free_slots(commune, "passeport", sunday, now=NOW) == []
    assert availability.why_unavailable(commune, "passeport", sunday, now=NOW) == "closed"


def test_saturday_morning_only_for_identity_documents(commune):
    saturday = date(2030, 5, 4)
    assert hhmm(availability.free_slots(commune, "passeport", saturday, now=NOW))[-1] == "11:40"
    assert availability.free_slots(commune, "acte_naissance", saturday, now=NOW) == []


def test_closures_remove_time(commune):
    place_id = commune.execute(select(Place.id).where(Place.code == "mairie")).scalar()
    thursday = date(2030, 5, 2)
    commune.add(Closure(place_id=place_id, starts_at=at(thursday, 13, 30), ends_at=at(thursday, 17), reason="réunion"))
    commune.add(Closure(place_id=None, starts_at=at(date(2030, 5, 3), 0), ends_at=at(date(2030, 5, 4), 0), reason="pont"))
    commune.flush()
    assert hhmm(availability.free_slots(commune, "passeport", thursday, now=NOW))[-1] == "11:40"
    assert availability.free_slots(commune, "passeport", date(2030, 5, 3), now=NOW) == []
    assert availability.why_unavailable(commune, "passeport", date(2030, 5, 3), now=NOW) == "closed"


def test_time_zone_and_daylight_saving(commune):
    before = datetime(2030, 3, 28, 8, 0, tzinfo=timezone.utc)  # Thursday before the clocks change
    friday, monday_after = date(2030, 3, 29), date(2030, 4, 1)
    assert availability.free_slots(commune, "passeport", friday, now=before)[0] == datetime(2030, 3, 29, 8, 0, tzinfo=timezone.utc)
    assert availability.free_slots(commune, "passeport", monday_after, now=before)[0] == datetime(2030, 4, 1, 7, 0, tzinfo=timezone.utc)
    assert all(s.tzinfo is not None and s.utcoffset() == timedelta(0) for s in availability.free_slots(commune, "passeport", friday, now=before))


def test_booked_and_cancelled_times(commune):
    tuesday = MONDAY + timedelta(days=1)
    first = appointments.book(commune, procedure="passeport", start=at(tuesday, 9), name="A", email="a@example.org", now=NOW)
    assert "09:00" in hhmm(availability.free_slots(commune, "passeport", tuesday, now=NOW))  # second desk
    appointments.book(commune, procedure="carte_identite", start=at(tuesday, 9), name="B", phone="06 12 34 56 78", now=NOW)
    assert "09:00" not in hhmm(availability.free_slots(commune, "passeport", tuesday, now=NOW))
    appointments.cancel_by_citizen(commune, first.reference, "A@example.org", now=NOW)
    assert "09:00" in hhmm(availability.free_slots(commune, "passeport", tuesday, now=NOW))


def test_next_free_days_skip_full_holiday_and_closed_days(commune):
    days = availability.next_free_days(commune, "acte_naissance", after=date(2030, 4, 30), now=NOW, limit=3)
    assert days == [date(2030, 4, 30), date(2030, 5, 2), date(2030, 5, 3)]


def test_unknown_procedure(commune):
    with pytest.raises(UnknownMotif):
        availability.free_slots(commune, "inscription_electorale", MONDAY, now=NOW)


def test_nearest_times_to_a_preference(commune):
    from datetime import time

    slots = availability.free_slots(commune, "passeport", MONDAY + timedelta(days=1), now=NOW)
    assert hhmm(availability.nearest(slots, time(14, 30), 3)) == ["14:10", "14:30", "14:50"]


# --- one model of when a place is open: the facility's closures and hours apply to booking ---


@pytest.fixture
def linked(session):
    """The knowledge base (facilities, their demo closures) and the booking settings, as in the demo."""
    from townhall.knowledge import loader as knowledge_loader

    knowledge_loader.load_demo(session, MONDAY)
    load_settings(session)
    return session


def test_places_are_linked_to_the_facility_they_are_in(linked):
    from townhall.knowledge.models import Facility

    places = {p.code: p.facility_code for p in linked.execute(select(Place)).scalars()}
    assert places == {"mairie": "mairie", "urbanisme": "mairie"}
    assert all(linked.get(Facility, code) is not None for code in places.values())


def test_a_staff_closure_of_the_facility_makes_the_day_unbookable(linked):
    from townhall.knowledge import hours

    thursday = date(2030, 5, 2)
    assert availability.free_slots(linked, "passeport", thursday, now=NOW)
    assert availability.free_slots(linked, "urbanisme", thursday, now=NOW)
    label = "fermeture exceptionnelle (formation du personnel)"
    hours.add_closure(linked, "mairie", thursday, None, label)

    # What citizens are told about the town hall...
    assert hours.status_at(linked, "mairie", at(thursday, 10)).reason == label
    # ...is what booking offers: nothing that day, for every place in the building.
    for procedure in ("passeport", "acte_naissance", "urbanisme"):
        assert availability.free_slots(linked, procedure, thursday, now=NOW) == []
        assert availability.why_unavailable(linked, procedure, thursday, now=NOW) == "closed"
        assert availability.closure_reason(linked, procedure, thursday, now=NOW) == label
    assert not availability.is_free(linked, "passeport", at(thursday, 10), now=NOW)
    with pytest.raises(appointments.SlotTaken):
        appointments.book(linked, procedure="passeport", start=at(thursday, 10), name="A", email="a@example.org", now=NOW)
    offered = availability.offer(linked, "passeport", thursday, now=NOW)
    assert offered.times == [] and offered.reason == "closed" and offered.closure == label
    assert offered.next_days == [date(2030, 5, 3), date(2030, 5, 4), date(2030, 5, 6)]
    assert availability.next_free_days(linked, "acte_naissance", after=date(2030, 4, 30), now=NOW, limit=3) == [
        date(2030, 4, 30), date(2030, 5, 3), date(2030, 5, 6)]


def test_a_closure_over_several_days_and_its_removal(linked):
    from townhall.knowledge import hours

    closure = hours.add_closure(linked, "mairie", date(2030, 5, 2), date(2030, 5, 6), "travaux")
    assert availability.next_free_days(linked, "passeport", after=date(2030, 5, 2), now=NOW, limit=1) == [date(2030, 5, 7)]
    hours.remove_closure(linked, closure.id)
    assert availability.next_free_days(linked, "passeport", after=date(2030, 5, 2), now=NOW, limit=1) == [date(2030, 5, 2)]


def test_a_facility_without_closure_books_as_before(linked):
    from townhall.knowledge import hours

    hours.add_closure(linked, "mediatheque", date(2030, 5, 2), date(2030, 5, 10), "inventaire")  # another building
    days = [MONDAY + timedelta(days=i) for i in range(21)]
    with_link = {d: availability.free_slots(linked, "passeport", d, now=NOW) for d in days}
    reasons = {d: availability.why_unavailable(linked, "passeport", d, now=NOW) for d in days if not with_link[d]}
    for place in linked.execute(select(Place)).scalars():
        place.facility_code = None
    linked.flush()
    assert with_link == {d: availability.free_slots(linked, "passeport", d, now=NOW) for d in days}
    assert reasons == {d: availability.why_unavailable(linked, "passeport", d, now=NOW) for d in reasons}
    assert set(reasons.values()) == {"holiday", "closed"} and all(
        availability.closure_reason(linked, "passeport", d, now=NOW) is None for d in reasons)


def test_booking_follows_the_facility_hours_of_the_day(linked):
    # The town hall closes at noon on 24 December ("Dec 24,Dec 31 Mo-Sa 08:30-12:00"): so does booking.
    december = datetime(2030, 12, 2, 8, 0, tzinfo=NOW.tzinfo)
    christmas_eve, the_day_before = date(2030, 12, 24), date(2030, 12, 23)
    assert hhmm(availability.free_slots(linked, "passeport", christmas_eve, now=december))[-1] == "11:40"
    assert hhmm(availability.free_slots(linked, "passeport", the_day_before, now=december))[-1] == "16:30"
    assert availability.why_unavailable(linked, "passeport", date(2030, 12, 25), now=december) == "holiday"


def test_a_booking_closure_gives_its_reason(commune):
    place_id = commune.execute(select(Place.id).where(Place.code == "mairie")).scalar()
    friday = date(2030, 5, 3)
    commune.add(Closure(place_id=place_id, starts_at=at(friday, 0), ends_at=at(friday + timedelta(days=1), 0), reason="pont"))
    commune.flush()
    assert availability.why_unavailable(commune, "passeport", friday, now=NOW) == "closed"
    assert availability.offer(commune, "passeport", friday, now=NOW).closure == "pont"
    assert availability.closure_reason(commune, "passeport", date(2030, 5, 5), now=NOW) is None  # Sunday: no schedule


def test_one_holiday_calendar_for_answers_and_booking():
    from townhall import holidays
    from townhall.knowledge import hours

    assert availability.holiday_name is hours.holiday_name is holidays.holiday_name
    assert holidays.holiday_name(date(2030, 5, 1)) == "Fête du Travail"
    assert availability.is_public_holiday(date(2030, 5, 8)) and not availability.is_public_holiday(date(2030, 5, 7))
    assert hours.next_holiday(date(2030, 12, 26)) == (date(2031, 1, 1), "Jour de l'an")
