"""Free appointment times: weekly schedule, minus holidays, closures and existing bookings.

A place inside a facility (``Place.facility_code``) follows that facility's day as citizens
are told it (``townhall.knowledge.hours.hours_on``): no appointment on a day the facility is
closed (an exceptional closure entered by staff, a public holiday) and none outside its
opening hours that day. Booking closures (``booking_closures``) remove further time, for one
place or for all. Public holidays come from ``townhall.holidays``, as for the answers.

Everything is computed in the commune's time zone (Europe/Paris) and returned as aware UTC
datetimes. A start is offered when every slot unit of the appointment is free on one desk,
the appointment ends within an opening range, and the start lies in the motif's booking
window (not sooner than ``min_notice_minutes`` from now, not later than ``max_notice_days``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall import config
from townhall.booking.models import Closure, Motif, Place, ScheduleRange, SlotUnit
from townhall.booking.motifs import duration_minutes, get_motif
from townhall.db import utcnow
from townhall.holidays import holiday_name, is_public_holiday  # noqa: F401  (re-exported)
from townhall.knowledge import hours


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


def facility_day(session: Session, place: Place, day: date) -> hours.DayHours | None:
    """The day of the facility the place is in, as citizens are told it (None: no facility known)."""
    if not place.facility_code:
        return None
    try:
        return hours.hours_on(session, place.facility_code, day)
    except hours.UnknownFacility:  # booking settings loaded without the knowledge base
        return None


def _within(ranges: list[tuple[time, time]], opened: list[tuple[time, time]]) -> list[tuple[time, time]]:
    """The parts of ``ranges`` inside the facility's open intervals (an end past midnight counts as 24:00)."""
    found = []
    for opens, closes in ranges:
        for begin, finish in opened:
            finish = time.max if finish <= begin else finish
            start, end = max(opens, begin), min(closes, finish)
            if start < end:
                found.append((start, end))
    return sorted(found)


def schedule_for(session: Session, motif: Motif, day: date) -> list[tuple[time, time]]:
    """The motif's weekly bookable ranges on ``day``'s weekday (local times), before any closure."""
    rows = session.execute(
        select(ScheduleRange)
        .where(ScheduleRange.place_id == motif.place_id, ScheduleRange.weekday == day.weekday())
        .order_by(ScheduleRange.opens)
    ).scalars()
    return [(r.opens, r.closes) for r in rows if not r.motifs or motif.code in r.motifs]


def ranges_for(session: Session, motif: Motif, day: date) -> list[tuple[time, time]]:
    """The motif's bookable ranges on ``day``: its weekly schedule while the facility is open."""
    ranges = schedule_for(session, motif, day)
    if not ranges:
        return ranges
    facility = facility_day(session, motif.place, day)
    return ranges if facility is None else _within(ranges, facility.intervals)


def _closures(session: Session, place_id: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    return [(a, b) for a, b, _reason in _closure_rows(session, place_id, start, end)]


def _closure_rows(session: Session, place_id: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
    rows = session.execute(
        select(Closure.starts_at, Closure.ends_at, Closure.reason).where(
            (Closure.place_id == place_id) | Closure.place_id.is_(None),
            Closure.starts_at < end,
            Closure.ends_at > start,
        )
        .order_by(Closure.starts_at)
    ).all()
    return [(a, b, reason) for a, b, reason in rows]


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


def _unavailable(session: Session, motif: Motif, day: date, now: datetime | None) -> tuple[str, str | None]:
    """The reason code of ``why_unavailable`` and, for "closed", the closure's reason if there is one."""
    allowed = window(motif, now)
    today = (now or utcnow()).astimezone(config.TIMEZONE).date()
    if day < today:
        return "past", None
    if day < allowed.earliest.astimezone(config.TIMEZONE).date():
        return "too_soon", None
    if day > allowed.latest_day:
        return "too_far", None
    if is_public_holiday(day):
        return "holiday", None
    if motif.place.facility_code:
        closure = hours.closure_on(session, motif.place.facility_code, day)
        if closure is not None:
            return "closed", closure.label
    ranges = ranges_for(session, motif, day)
    if not ranges:
        return "closed", None
    day_start, day_end = _utc(local(day, time(0))), _utc(local(day + timedelta(days=1), time(0)))
    closures = _closure_rows(session, motif.place_id, day_start, day_end)
    reasons = []
    for opens, closes in ranges:
        a, b = _utc(local(day, opens)), _utc(local(day, closes))
        covering = next((reason for c0, c1, reason in closures if c0 <= a and c1 >= b), None)
        if covering is None:
            return "full", None
        reasons.append(covering)
    return "closed", next((r for r in reasons if r), None)


def why_unavailable(session: Session, procedure: str, day: date, now: datetime | None = None) -> str:
    """Why a day has no free time: "past", "too_soon", "too_far", "holiday", "closed", "full".

    "closed": no bookable range that day (the weekly schedule, the facility's hours), or the
    facility or the place is closed (``closure_reason`` says why, when staff gave a reason).
    """
    return _unavailable(session, get_motif(session, procedure), day, now)[0]


def closure_reason(session: Session, procedure: str, day: date, now: datetime | None = None) -> str | None:
    """The reason citizens are told for a closure that makes ``day`` "closed" (French), or None."""
    return _unavailable(session, get_motif(session, procedure), day, now)[1]


@dataclass(frozen=True)
class Offer:
    """What to propose for a day: times, or why none and the next days that have some."""

    day: date
    times: list[datetime]
    reason: str | None
    next_days: list[date]
    closure: str | None = None  # with reason "closed": the closure's reason, in French, if known


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
    reason, closure = _unavailable(session, get_motif(session, procedure), day, now)
    after = None if reason in ("past", "too_far") else day + timedelta(days=1)
    return Offer(day, [], reason, next_free_days(session, procedure, after, party_size, now, limit=3), closure)


def booking_limit(session: Session, procedure: str, now: datetime | None = None) -> date:
    return window(get_motif(session, procedure), now).latest_day
