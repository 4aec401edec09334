"""Free appointment times: weekly schedule, minus holidays, closures and existing bookings.

Everything is computed in the commune's time zone (Europe/Paris) and returned as aware UTC
datetimes. A start is offered when every slot unit of the appointment is free on one desk,
the appointment ends within an opening range, and the start lies in the motif's booking
window (not sooner than ``min_notice_minutes`` from now, not later than ``max_notice_days``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall import config
from townhall.booking.models import Closure, Motif, Place, ScheduleRange, SlotUnit
from townhall.booking.motifs import duration_minutes, get_motif
from townhall.db import utcnow


@functools.lru_cache(maxsize=8)
def _french_holidays(year: int) -> holidays.HolidayBase:
    return holidays.France(years=year)


def is_public_holiday(day: date) -> bool:
    return day in _french_holidays(day.year)


def holiday_name(day: date) -> str | None:
    return _french_holidays(day.year).get(day)


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=config.TIMEZONE)


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc)


@dataclass(frozen=True)
class Window:
    """When a motif may be booked, seen from ``now``."""

    earliest: datetime
    latest_day: date

    def allows(self, start: datetime) -> bool:
        return start >= self.earliest and start.astimezone(config.TIMEZONE).date() <= self.latest_day


def window(motif: Motif, now: datetime | None = None) -> Window:
    now = now or utcnow()
    today = now.astimezone(config.TIMEZONE).date()
    return Window(now + timedelta(minutes=motif.min_notice_minutes), today + timedelta(days=motif.max_notice_days))


def unit_starts(place: Place, start: datetime, minutes: int) -> list[datetime]:
    """The UTC starts of the units an appointment of ``minutes`` from ``start`` occupies."""
    start = _utc(start)
    step = place.unit_minutes
    count = -(-minutes // step)
    return [start + timedelta(minutes=step * i) for i in range(count)]


def ranges_for(session: Session, motif: Motif, day: date) -> list[tuple[time, time]]:
    rows = session.execute(
        select(ScheduleRange)
        .where(ScheduleRange.place_id == motif.place_id, ScheduleRange.weekday == day.weekday())
        .order_by(ScheduleRange.opens)
    ).scalars()
    return [(r.opens, r.closes) for r in rows if not r.motifs or motif.code in r.motifs]


def _closures(session: Session, place_id: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    rows = session.execute(
        select(Closure.starts_at, Closure.ends_at).where(
            (Closure.place_id == place_id) | Closure.place_id.is_(None),
            Closure.starts_at < end,
            Closure.ends_at > start,
        )
    ).all()
    return [(a, b) for a, b in rows]


def _occupied(session: Session, place_id: int, start: datetime, end: datetime) -> set[tuple[int, datetime]]:
    rows = session.execute(
        select(SlotUnit.desk, SlotUnit.starts_at).where(
            SlotUnit.place_id == place_id, SlotUnit.starts_at >= start, SlotUnit.starts_at < end
        )
    ).all()
    return {(desk, at) for desk, at in rows}


def free_desk(place: Place, units: list[datetime], occupied: set[tuple[int, datetime]]) -> int | None:
    for desk in range(1, place.desks + 1):
        if all((desk, u) not in occupied for u in units):
            return desk
    return None


def _day_is_open(day: date) -> bool:
    return not is_public_holiday(day)


def free_slots(
    session: Session,
    procedure: str,
    day: date,
    party_size: int = 1,
    now: datetime | None = None,
) -> list[datetime]:
    """Bookable starts on ``day`` (aware UTC, chronological) for ``party_size`` people."""
    motif = get_motif(session, procedure)
    minutes = duration_minutes(motif, party_size)
    allowed = window(motif, now)
    if day > allowed.latest_day or day < allowed.earliest.astimezone(config.TIMEZONE).date() or not _day_is_open(day):
        return []
    ranges = ranges_for(session, motif, day)
    if not ranges:
        return []
    day_start, day_end = _utc(local(day, time(0))), _utc(local(day + timedelta(days=1), time(0)))
    closures = _closures(session, motif.place_id, day_start, day_end)
    occupied = _occupied(session, motif.place_id, day_start, day_end)
    place = motif.place
    step = timedelta(minutes=motif.minutes_per_person)
    length = timedelta(minutes=minutes)
    found: list[datetime] = []
    for opens, closes in ranges:
        start, limit = _utc(local(day, opens)), _utc(local(day, closes))
        while start + length <= limit:
            end = start + length
            if (
                allowed.allows(start)
                and not any(a < end and b > start for a, b in closures)
                and free_desk(place, unit_starts(place, start, minutes), occupied) is not None
            ):
                found.append(start)
            start += step
    return sorted(set(found))


def next_free_days(
    session: Session,
    procedure: str,
    after: date | None = None,
    party_size: int = 1,
    now: datetime | None = None,
    limit: int = 3,
) -> list[date]:
    """The first ``limit`` days from ``after`` (included; default today) with a free time."""
    motif = get_motif(session, procedure)
    allowed = window(motif, now)
    day = max(after or allowed.earliest.astimezone(config.TIMEZONE).date(), allowed.earliest.astimezone(config.TIMEZONE).date())
    days: list[date] = []
    while day <= allowed.latest_day and len(days) < limit:
        if free_slots(session, procedure, day, party_size, now):
            days.append(day)
        day += timedelta(days=1)
    return days


def nearest(slots: list[datetime], preferred: time | None, count: int = 6) -> list[datetime]:
    """Up to ``count`` of ``slots`` closest to the preferred local time (chronological)."""
    if preferred is None or not slots:
        return slots[:count]
    def distance(s: datetime) -> float:
        t = s.astimezone(config.TIMEZONE)
        return abs((t.hour * 60 + t.minute) - (preferred.hour * 60 + preferred.minute))
    return sorted(sorted(slots, key=distance)[:count])


def is_free(session: Session, procedure: str, start: datetime, party_size: int = 1, now: datetime | None = None) -> bool:
    day = start.astimezone(config.TIMEZONE).date()
    return _utc(start) in free_slots(session, procedure, day, party_size, now)


def why_unavailable(session: Session, procedure: str, day: date, now: datetime | None = None) -> str:
    """Why a day has no free time: "past", "too_soon", "too_far", "holiday", "closed", "full"."""
    motif = get_motif(session, procedure)
    allowed = window(motif, now)
    today = (now or utcnow()).astimezone(config.TIMEZONE).date()
    if day < today:
        return "past"
    if day < allowed.earliest.astimezone(config.TIMEZONE).date():
        return "too_soon"
    if day > allowed.latest_day:
        return "too_far"
    if is_public_holiday(day):
        return "holiday"
    if not ranges_for(session, motif, day):
        return "closed"
    day_start, day_end = _utc(local(day, time(0))), _utc(local(day + timedelta(days=1), time(0)))
    for opens, closes in ranges_for(session, motif, day):
        a, b = _utc(local(day, opens)), _utc(local(day, closes))
        if not any(c0 <= a and c1 >= b for c0, c1 in _closures(session, motif.place_id, day_start, day_end)):
            break
    else:
        return "closed"
    return "full"


@dataclass(frozen=True)
class Offer:
    """What to propose for a day: times, or why none and the next days that have some."""

    day: date
    times: list[datetime]
    reason: str | None
    next_days: list[date]


def offer(
    session: Session,
    procedure: str,
    day: date,
    party_size: int = 1,
    preferred: time | None = None,
    now: datetime | None = None,
    count: int = 6,
) -> Offer:
    slots = free_slots(session, procedure, day, party_size, now)
    if slots:
        return Offer(day, nearest(slots, preferred, count), None, [])
    reason = why_unavailable(session, procedure, day, now)
    after = None if reason in ("past", "too_far") else day + timedelta(days=1)
    return Offer(day, [], reason, next_free_days(session, procedure, after, party_size, now, limit=3))


def booking_limit(session: Session, procedure: str, now: datetime | None = None) -> date:
    return window(get_motif(session, procedure), now).latest_day
