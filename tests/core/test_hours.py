"""The opening-hours engine with frozen clocks: every ``when`` is given explicitly."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from townhall.knowledge import hours, loader

PARIS = ZoneInfo("Europe/Paris")
UTC = ZoneInfo("UTC")
LOADED_ON = date(2026, 1, 5)  # demo closures then fall on 8-9 January (médiathèque) and 21-27 January (piscine)


def paris(y, m, d, hh=0, mm=0, ss=0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=PARIS)


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time between two instants (same-zone subtraction in Python ignores DST)."""
    return end.astimezone(timezone.utc) - start.astimezone(timezone.utc)


@pytest.fixture
def demo(session):
    loader.load_demo(session, LOADED_ON)
    return session


# --- public holidays ---------------------------------------------------------------------


def test_christmas_closes_the_town_hall_with_the_holiday_as_reason(demo):
    status = hours.status_at(demo, "mairie", paris(2026, 12, 25, 10))
    assert status.is_open is False
    assert status.reason == "jour férié (Noël)"
    assert status.next_opening == paris(2026, 12, 26, 9)  # Saturday morning


def test_hours_on_a_holiday(demo):
    day = hours.hours_on(demo, "mairie", date(2026, 7, 14))
    assert day.intervals == [] and day.is_open is False
    assert day.reason == "jour férié (Fête nationale)"
    assert day.holiday == "Fête nationale"


def test_holiday_on_a_day_closed_anyway_gives_no_holiday_reason(demo):
    day = hours.hours_on(demo, "mairie", date(2026, 11, 1))  # Toussaint, a Sunday
    assert day.intervals == [] and day.reason is None and day.holiday == "Toussaint"


def test_facility_open_on_holidays_stays_open(demo):
    status = hours.status_at(demo, "cimetiere", paris(2026, 11, 1, 10))
    assert status.is_open and status.closes_at == paris(2026, 11, 1, 17, 30)


def test_christmas_eve_short_hours(demo):
    assert hours.hours_on(demo, "mairie", date(2026, 12, 24)).intervals == [(time(8, 30), time(12))]
    assert hours.hours_on(demo, "mairie", date(2026, 12, 23)).intervals == [(time(8, 30), time(12)), (time(13, 30), time(17, 30))]


# --- exceptional closures ----------------------------------------------------------------


def test_exceptional_closure_gives_its_label_and_the_next_opening(demo):
    hours.add_closure(demo, "piscine", date(2026, 6, 10), date(2026, 6, 11), "vidange des bassins")
    status = hours.status_at(demo, "piscine", paris(2026, 6, 10, 11))  # a Wednesday, normally open
    assert status == hours.OpenStatus(is_open=False, next_opening=paris(2026, 6, 12, 12), reason="vidange des bassins")
    day = hours.hours_on(demo, "piscine", date(2026, 6, 11))
    assert day.intervals == [] and day.reason == "vidange des bassins"
    assert hours.hours_on(demo, "piscine", date(2026, 6, 12)).intervals == [(time(12), time(13, 45)), (time(17), time(20))]


def test_demo_closure_is_relative_to_the_loading_day(demo):
    day = hours.hours_on(demo, "mediatheque", LOADED_ON + timedelta(days=3))
    assert day.reason == "fermeture pour l'inventaire annuel"


def test_closure_starting_tomorrow_cuts_an_overnight_range_at_midnight(demo):
    hours.set_hours(demo, "police_municipale", "Fr 22:00-02:00")
    hours.add_closure(demo, "police_municipale", date(2026, 6, 13), None, "exercice")
    status = hours.status_at(demo, "police_municipale", paris(2026, 6, 12, 23))
    assert status.is_open and status.closes_at == paris(2026, 6, 13)
    assert hours.hours_on(demo, "police_municipale", date(2026, 6, 12)).intervals == [(time(22), time(0))]


def test_add_closure_rejects_bad_input(demo):
    with pytest.raises(ValueError):
        hours.add_closure(demo, "piscine", date(2026, 6, 10), date(2026, 6, 9), "x")
    with pytest.raises(ValueError):
        hours.add_closure(demo, "piscine", date(2026, 6, 10), None, "   ")
    with pytest.raises(hours.UnknownFacility):
        hours.add_closure(demo, "casino", date(2026, 6, 10), None, "x")


# --- overnight ranges ----------------------------------------------------------------------


def test_overnight_range(demo):
    hours.set_hours(demo, "police_municipale", "Fr 22:00-02:00")
    friday, saturday = date(2026, 6, 12), date(2026, 6, 13)
    assert hours.hours_on(demo, "police_municipale", friday).intervals == [(time(22), time(2))]
    assert hours.hours_on(demo, "police_municipale", saturday).intervals == []  # the tail belongs to Friday
    status = hours.status_at(demo, "police_municipale", paris(2026, 6, 13, 1, 30))
    assert status.is_open and status.closes_at == paris(2026, 6, 13, 2)
    closed = hours.status_at(demo, "police_municipale", paris(2026, 6, 13, 2))
    assert not closed.is_open and closed.next_opening == paris(2026, 6, 19, 22)


# --- daylight-saving changes (Europe/Paris, 2026: 29 March and 25 October) ----------------


def test_spring_forward_overnight_range(demo):
    hours.set_hours(demo, "police_municipale", "Sa 22:00-04:00")
    assert hours.hours_on(demo, "police_municipale", date(2026, 3, 28)).intervals == [(time(22), time(4))]
    status = hours.status_at(demo, "police_municipale", paris(2026, 3, 29, 3, 30))  # 02:00-03:00 does not exist
    assert status.is_open
    assert status.closes_at == paris(2026, 3, 29, 4)
    assert elapsed(paris(2026, 3, 28, 22), status.closes_at) == timedelta(hours=5)  # one hour fewer


def test_fall_back_overnight_range(demo):
    hours.set_hours(demo, "police_municipale", "Sa 22:00-02:00")
    status = hours.status_at(demo, "police_municipale", paris(2026, 10, 24, 23))
    assert status.is_open
    assert status.closes_at.astimezone(timezone.utc) == datetime(2026, 10, 25, 1, tzinfo=timezone.utc)
    assert elapsed(paris(2026, 10, 24, 22), status.closes_at) == timedelta(hours=5)  # one hour more


def test_opening_minute_on_dst_sundays_given_in_utc(demo):
    # the pool opens on Sunday at 09:00 local: 07:00 UTC in summer time, 08:00 UTC in winter time
    assert hours.status_at(demo, "piscine", datetime(2026, 3, 29, 7, 0, tzinfo=UTC)).is_open
    assert not hours.status_at(demo, "piscine", datetime(2026, 3, 29, 6, 59, tzinfo=UTC)).is_open
    assert hours.status_at(demo, "piscine", datetime(2026, 10, 25, 8, 0, tzinfo=timezone.utc)).is_open
    before = hours.status_at(demo, "piscine", datetime(2026, 10, 25, 7, 59, tzinfo=timezone.utc))
    assert not before.is_open and before.next_opening == paris(2026, 10, 25, 9)


# --- "now" at the opening and the closing minute -----------------------------------------


def test_now_exactly_at_the_opening_minute(demo):
    status = hours.status_at(demo, "mairie", paris(2026, 6, 8, 8, 30))  # Monday
    assert status.is_open and status.closes_at == paris(2026, 6, 8, 12)


def test_one_second_before_opening(demo):
    status = hours.status_at(demo, "mairie", paris(2026, 6, 8, 8, 29, 59))
    assert not status.is_open and status.next_opening == paris(2026, 6, 8, 8, 30) and status.reason is None


def test_now_exactly_at_the_closing_minute(demo):
    status = hours.status_at(demo, "mairie", paris(2026, 6, 8, 12))
    assert not status.is_open and status.next_opening == paris(2026, 6, 8, 13, 30)
    last = hours.status_at(demo, "mairie", paris(2026, 6, 8, 11, 59, 59))
    assert last.is_open and last.closes_at == paris(2026, 6, 8, 12)


def test_naive_datetime_is_local_time(demo):
    assert hours.status_at(demo, "mairie", datetime(2026, 6, 8, 8, 30)).is_open


# --- staff changes take effect at once ------------------------------------------------------


def test_set_hours_validates_and_applies_immediately(demo):
    when = paris(2026, 6, 7, 10)  # Sunday
    assert not hours.status_at(demo, "mairie", when).is_open
    hours.set_hours(demo, "mairie", "Mo-Su 09:00-18:00")
    assert hours.status_at(demo, "mairie", when).is_open
    for bad in ("", "Mo-Fr 25:00-26:00", "<script>", "x" * 10000):
        with pytest.raises(hours.InvalidHours):
            hours.set_hours(demo, "mairie", bad)
    assert hours.status_at(demo, "mairie", when).is_open


def test_unknown_facility(demo):
    with pytest.raises(hours.UnknownFacility):
        hours.status_at(demo, "casino", paris(2026, 6, 8, 10))


def test_week(demo):
    days = hours.week(demo, "mediatheque", date(2026, 6, 8))
    assert [d.is_open for d in days] == [False, True, True, True, True, True, False]
