"""The opening-hours engine: is a facility open at a given moment, and its hours on a given day.

Weekly hours are OpenStreetMap ``opening_hours`` strings (``opening_hours`` library), read in the
commune's time zone with the French public holidays ("PH off"; names from ``townhall.holidays``).
Exceptional closures (whole days, table ``facility_closure``) override them and give the reason
citizens are told. Booking reads the same closures (``closure_on``), so a facility announced as
closed is not bookable either. Every call reads the database: a change made by staff is seen at
the next question.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from opening_hours import OpeningHours, State
from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall import config
from townhall.holidays import holiday_name, holidays_between, next_holiday  # noqa: F401  (re-exported)
from townhall.knowledge.models import Closure, Facility
from townhall.text import clean

COUNTRY = "FR"
MAX_RULE_CHARS = 500
HORIZON_DAYS = 400  # how far to look for the next opening


class UnknownFacility(LookupError):
    pass


class InvalidHours(ValueError):
    """The text is not valid ``opening_hours`` syntax; the message is in French for staff."""


@dataclass(frozen=True)
class OpenStatus:
    is_open: bool
    closes_at: datetime | None = None  # when open
    next_opening: datetime | None = None  # when closed (None: no opening known within a year)
    reason: str | None = None  # French: "jour férié (Noël)" or the closure's label


@dataclass(frozen=True)
class DayHours:
    day: date
    intervals: list[tuple[time, time]] = field(default_factory=list)  # local times; end may be past midnight
    reason: str | None = None  # why the facility is closed that day, when it is special
    holiday: str | None = None  # the public holiday's French name, if any

    @property
    def is_open(self) -> bool:
        return bool(self.intervals)


# --- parsing and validation -------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _compiled(rule: str, with_holidays: bool = True) -> OpeningHours:
    """Parsed rule (cached by its text: a changed rule is a new key, so no stale answer)."""
    return OpeningHours(
        rule,
        timezone=config.TIMEZONE,
        country=COUNTRY if with_holidays else None,
        auto_country=False,
        auto_timezone=False,
    )


def validate_rule(rule: str | None) -> str:
    """The rule, cleaned, or InvalidHours with a French explanation."""
    text = clean(rule, MAX_RULE_CHARS)
    if not text:
        raise InvalidHours("Les horaires sont vides.")
    try:
        _compiled(text)
    except Exception as exc:  # the library raises its own ParserError
        raise InvalidHours(
            "Ces horaires ne sont pas au format OpenStreetMap opening_hours "
            "(exemple : « Mo-Fr 08:30-12:00,13:30-17:30; Sa 09:00-12:00; PH off »)."
        ) from exc
    return text


# --- helpers ------------------------------------------------------------------------------


def local(when: datetime) -> datetime:
    """``when`` in the commune's time zone (a naive datetime is taken as local time)."""
    if when.tzinfo is None:
        return when.replace(tzinfo=config.TIMEZONE)
    return when.astimezone(config.TIMEZONE)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=config.TIMEZONE)


def _facility(session: Session, code: str) -> Facility:
    facility = session.get(Facility, code) if code else None
    if facility is None:
        raise UnknownFacility(code)
    return facility


def _closures(session: Session, code: str, first: date, last: date) -> list[Closure]:
    return list(
        session.execute(
            select(Closure)
            .where(Closure.facility_code == code, Closure.end_day >= first, Closure.start_day <= last)
            .order_by(Closure.start_day)
        ).scalars()
    )


def _covering(closures: list[Closure], day: date) -> Closure | None:
    return next((c for c in closures if c.start_day <= day <= c.end_day), None)


def _holiday_reason(rule: str, day: date) -> str | None:
    """"jour férié (Noël)" when the facility is closed that day because of the holiday."""
    name = holiday_name(day)
    if not name:
        return None
    without = _open_intervals(_compiled(rule, with_holidays=False), day)
    return f"jour férié ({name})" if without else None


def _open_intervals(oh: OpeningHours, day: date) -> list[tuple[datetime, datetime]]:
    """Open intervals starting on ``day`` (an overnight range belongs to the day it starts)."""
    start, end = midnight(day), midnight(day + timedelta(days=2))
    found = []
    for begin, finish, state, _comment in oh.intervals(start, end):
        if state != State.OPEN or local(begin).date() != day:
            continue
        if begin == start and oh.is_open(start - timedelta(minutes=1)):
            continue  # the tail of the previous day's overnight range
        found.append((local(begin), local(finish)))
    return found


# --- queries ------------------------------------------------------------------------------


def hours_on(session: Session, facility_code: str, day: date) -> DayHours:
    """The facility's hours on ``day``: intervals, or the reason it is closed."""
    facility = _facility(session, facility_code)
    closures = _closures(session, facility_code, day, day + timedelta(days=1))
    holiday = holiday_name(day)
    closure = _covering(closures, day)
    if closure is not None:
        return DayHours(day=day, reason=closure.label, holiday=holiday)
    intervals = []
    for begin, finish in _open_intervals(_compiled(facility.opening_hours), day):
        if finish.date() > day and _covering(closures, day + timedelta(days=1)):
            finish = midnight(day + timedelta(days=1))  # the next day is closed
        intervals.append((begin.time(), finish.time()))
    if intervals:
        return DayHours(day=day, intervals=intervals, holiday=holiday)
    return DayHours(day=day, reason=_holiday_reason(facility.opening_hours, day), holiday=holiday)


def week(session: Session, facility_code: str, first_day: date, days: int = 7) -> list[DayHours]:
    return [hours_on(session, facility_code, first_day + timedelta(days=i)) for i in range(days)]


def _next_opening(oh: OpeningHours, closures: list[Closure], when: datetime) -> datetime | None:
    limit = when + timedelta(days=HORIZON_DAYS)
    moment = when
    while moment < limit:
        closure = _covering(closures, moment.date())
        if closure is not None:
            moment = midnight(closure.end_day + timedelta(days=1))
            continue
        if oh.is_open(moment):
            return moment
        change = oh.next_change(moment)
        if change is None:
            return None
        moment = local(change)
    return None


def status_at(session: Session, facility_code: str, when: datetime) -> OpenStatus:
    """Open or closed at ``when`` (any time zone; naive = Europe/Paris), with what comes next."""
    facility = _facility(session, facility_code)
    when = local(when)
    oh = _compiled(facility.opening_hours)
    closures = _closures(session, facility_code, when.date(), when.date() + timedelta(days=HORIZON_DAYS))
    closure = _covering(closures, when.date())
    if closure is None and oh.is_open(when):
        closes_at = oh.next_change(when)
        closes_at = local(closes_at) if closes_at else None
        if closes_at is not None:
            cut = next((c for c in closures if when.date() < c.start_day <= closes_at.date()), None)
            if cut is not None:
                closes_at = min(closes_at, midnight(cut.start_day))
        return OpenStatus(is_open=True, closes_at=closes_at)
    if closure is not None:
        reason = closure.label
    else:
        reason = _holiday_reason(facility.opening_hours, when.date())
    return OpenStatus(is_open=False, next_opening=_next_opening(oh, closures, when), reason=reason)


def closure_on(session: Session, facility_code: str, day: date) -> Closure | None:
    """The exceptional closure of the facility covering ``day``, or None (unknown code: None)."""
    return _covering(_closures(session, facility_code, day, day), day)


def upcoming_closures(session: Session, facility_code: str, today: date, days: int = 30) -> list[Closure]:
    """Exceptional closures of the facility that are current or start within ``days``."""
    return _closures(session, facility_code, today, today + timedelta(days=days))


# --- staff changes (the back office calls these; answers read them at the next question) ---


def set_hours(session: Session, facility_code: str, rule: str, note: str | None = None) -> Facility:
    """Replace the weekly hours (validated OSM syntax). Marks the facility as edited by staff."""
    facility = _facility(session, facility_code)
    facility.opening_hours = validate_rule(rule)
    if note is not None:
        facility.hours_note = clean(note, 500) or None
    facility.staff_edited = True
    session.flush()
    return facility


def add_closure(session: Session, facility_code: str, start_day: date, end_day: date | None, label: str) -> Closure:
    """Close a facility for whole days (inclusive), with the reason citizens are told."""
    _facility(session, facility_code)
    end_day = end_day or start_day
    if end_day < start_day:
        raise ValueError("La date de fin précède la date de début.")
    label = clean(label, 200)
    if not label:
        raise ValueError("Indiquez le motif de la fermeture.")
    closure = Closure(facility_code=facility_code, start_day=start_day, end_day=end_day, label=label, staff_edited=True)
    session.add(closure)
    session.flush()
    return closure


def remove_closure(session: Session, closure_id: int) -> bool:
    closure = session.get(Closure, closure_id)
    if closure is None:
        return False
    session.delete(closure)
    session.flush()
    return True


# --- reading a rule as the library does (staff page, weekly answers, data checks) -----------

Intervals = tuple[tuple[time, time], ...]
WEEKDAYS = range(7)  # Monday = 0


def rule_parts(rule: str) -> list[str]:
    """The ``;``-separated rules of an expression (outside quoted comments), in order."""
    parts, current, quoted = [], [], False
    for char in rule or "":
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def rule_intervals(rule: str, day: date) -> Intervals:
    """What the library reads for ``day`` from the weekly rule alone (no public holidays, no closures)."""
    oh = _compiled(rule, with_holidays=False)
    return tuple((begin.time(), finish.time()) for begin, finish in _open_intervals(oh, day))


def _most_common(readings: list[Intervals]) -> Intervals:
    counts: dict[Intervals, int] = {}
    for reading in readings:
        counts[reading] = counts.get(reading, 0) + 1
    return max(counts, key=lambda r: (counts[r], -readings.index(r))) if counts else ()


def usual_week(rule: str, around: date, weeks: int = 4) -> dict[int, Intervals]:
    """Weekday (0 = Monday) -> usual intervals over the ``weeks`` weeks from ``around``.

    The most frequent reading of each weekday: a one-off day (24 December) does not change it.
    """
    by_weekday: dict[int, list[Intervals]] = {d: [] for d in WEEKDAYS}
    for i in range(7 * weeks):
        day = around + timedelta(days=i)
        by_weekday[day.weekday()].append(rule_intervals(rule, day))
    return {d: _most_common(readings) for d, readings in by_weekday.items()}


@dataclass(frozen=True)
class Season:
    """Months (1-12, consecutive) sharing the same usual week."""

    months: tuple[int, ...]
    week: dict


@dataclass(frozen=True)
class RuleReading:
    seasons: list[Season]
    special_days: list[tuple[date, Intervals]]  # days that differ from their season's usual week


def read_rule(rule: str, year: int, max_special_days: int = 12) -> RuleReading:
    """The rule's year as the library reads it: usual weeks by season, and the days apart."""
    month_weeks: list[dict[int, Intervals]] = []
    readings: dict[date, Intervals] = {}
    for month in range(1, 13):
        first = date(year, month, 1)
        last = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
        by_weekday: dict[int, list[Intervals]] = {d: [] for d in WEEKDAYS}
        for i in range((last - first).days + 1):
            day = first + timedelta(days=i)
            readings[day] = rule_intervals(rule, day)
            by_weekday[day.weekday()].append(readings[day])
        month_weeks.append({d: _most_common(r) for d, r in by_weekday.items()})
    seasons: list[Season] = []
    for month, week_ in enumerate(month_weeks, start=1):
        if seasons and seasons[-1].week == week_:
            seasons[-1] = Season(months=seasons[-1].months + (month,), week=week_)
        else:
            seasons.append(Season(months=(month,), week=week_))
    special = [(day, found) for day, found in sorted(readings.items())
               if found != month_weeks[day.month - 1][day.weekday()]]
    return RuleReading(seasons=seasons, special_days=special[:max_special_days])


@dataclass(frozen=True)
class LostHours:
    """A later rule replaces an earlier one on some days and keeps none of its hours there."""

    earlier: str
    later: str
    weekdays: tuple[int, ...]
    lost: Intervals


def _overlap(a: Intervals, b: Intervals) -> bool:
    return any(s1 < e2 and s2 < e1 for s1, e1 in a for s2, e2 in b)


def lost_hours(rule: str, year: int) -> list[LostHours]:
    """Hours written in a rule that a later rule silently drops (OSM: a later rule for a day
    replaces the earlier ones unless they are joined with "," ). A day the later rule closes
    on purpose ("off") is not reported."""
    parts = rule_parts(rule)
    if len(parts) < 2:
        return []
    compiled_parts = []
    for part in parts:
        try:
            _compiled(part, with_holidays=False)
            compiled_parts.append(part)
        except Exception:  # a part that only makes sense with its neighbours (additive): skip it
            compiled_parts.append(None)
    found: dict[tuple[str, str, Intervals], set[int]] = {}
    day = date(year, 1, 1)
    while day.year == year:
        final = rule_intervals(rule, day)
        if final:
            alone = [rule_intervals(p, day) if p else () for p in compiled_parts]
            for i, earlier in enumerate(alone):
                if not earlier or _overlap(earlier, final):
                    continue
                later = next((compiled_parts[j] for j in range(len(parts) - 1, i, -1) if alone[j] == final), None)
                if later is not None:
                    found.setdefault((parts[i], later, earlier), set()).add(day.weekday())
        day += timedelta(days=1)
    return [LostHours(earlier=e, later=l, weekdays=tuple(sorted(w)), lost=lost) for (e, l, lost), w in found.items()]
