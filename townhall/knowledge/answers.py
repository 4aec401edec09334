"""The facts behind each practical answer (hours, address, contact, procedure, waste, alerts).

Each function reads the question's parts (the facility, the day typed, the street), asks the
core in the caller's session and returns a plain dataclass. No French is written here:
``townhall.wording`` turns these facts into the sentences citizens and staff read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from townhall import config, dates
from townhall.knowledge import alerts, facilities, hours, places, procedures, streets, waste
from townhall.knowledge.models import Alert, Closure, Facility, Procedure, Street
from townhall.text import fold

_NOW_WORDS = re.compile(r"\b(maintenant|en ce moment|actuellement|tout de suite|a l'instant|a cette heure ci)\b")
_SCHOOL_HOLIDAYS = re.compile(r"\bvacances\b|\bconges scolaires\b")
_WEEK_WORDS = re.compile(r"\bsemaine\b")
MAX_DAYS_LISTED = 7
# part of the day -> (from, to): an interval overlapping it is given
PARTS_OF_DAY = {
    "matin": (time(0), time(12)),
    "midi": (time(11, 30), time(14)),
    "apres-midi": (time(13), time(18)),
    "soir": (time(18), time(23, 59)),
}
_PART_PATTERNS = (
    ("apres-midi", re.compile(r"\b(apres[ -]?midi|aprem|aprèm)\b")),
    ("matin", re.compile(r"\bmatin(ee)?\b")),
    ("soir", re.compile(r"\bsoir(ee)?\b")),
    ("midi", re.compile(r"\b(a|ce|le|entre) midi\b")),
)
HOLIDAY_ALIASES = {  # what citizens type -> the holidays library's French name, folded
    "noel": "noel", "jour de l'an": "jour de l'an", "nouvel an": "jour de l'an", "premier de l'an": "jour de l'an",
    "paques": "lundi de paques", "lundi de paques": "lundi de paques", "pentecote": "lundi de pentecote",
    "fete du travail": "fete du travail", "1er mai": "fete du travail", "premier mai": "fete du travail",
    "8 mai": "fete de la victoire", "victoire": "fete de la victoire", "ascension": "ascension",
    "14 juillet": "fete nationale", "fete nationale": "fete nationale", "assomption": "assomption",
    "15 aout": "assomption", "toussaint": "toussaint", "armistice": "armistice", "11 novembre": "armistice",
}
Intervals = list[tuple[time, time]]


# --- reading the question -----------------------------------------------------------------


def part_of_day(text: str | None) -> str | None:
    folded = fold(text)
    for name, pattern in _PART_PATTERNS:
        if pattern.search(folded):
            return name
    return None


def within_part(intervals: Intervals, part: str) -> Intervals:
    """The intervals that overlap this part of the day (an interval past midnight always does)."""
    start, end = PARTS_OF_DAY[part]
    return [(a, b) for a, b in intervals if a < end and (b > start or b <= a)]


def named_holiday(text: str | None, today: date) -> date | None:
    """The next day of the public holiday named in the text ("à Noël", "lundi de Pâques"), or None."""
    folded = fold(text)
    wanted = next((name for alias, name in sorted(HOLIDAY_ALIASES.items(), key=lambda a: -len(a[0]))
                   if re.search(r"\b" + re.escape(alias) + r"\b", folded)), None)
    if wanted is None:
        return None
    for day, name in hours.holidays_between(today, today + timedelta(days=400)):
        if fold(name) == wanted:
            return day
    return None


def _requested_days(text: str | None, date_text: str | None, now: datetime):
    """(ParsedDate or None, DateProblem or None) from the date entity, a holiday name, the text."""
    holiday = named_holiday(date_text, now.date()) or named_holiday(text, now.date())
    if holiday is not None:
        return dates.ParsedDate(day=holiday), None
    if date_text:
        parsed = dates.parse(date_text, now=now)
        if parsed.ok:
            return parsed, None
        if parsed.problem in (dates.DateProblem.PAST, dates.DateProblem.NONEXISTENT):
            return None, parsed.problem
        if not _SCHOOL_HOLIDAYS.search(fold(date_text)):
            return None, dates.DateProblem.NOT_UNDERSTOOD
        return None, None
    if text and not _SCHOOL_HOLIDAYS.search(fold(text)):
        parsed = dates.parse(text, now=now)  # "la piscine dimanche matin" without a tagged date
        if parsed.ok:
            return parsed, None
    return None, None


# --- opening hours ------------------------------------------------------------------------


@dataclass(frozen=True)
class NextHoliday:
    day: date
    name: str
    is_open: bool  # is the facility open that day


@dataclass(frozen=True)
class UsualWeek:
    """The usual week, this week's days that differ from it, and what comes after the week."""

    week: dict[int, Intervals]
    changed_days: list[hours.DayHours] = field(default_factory=list)
    next_closure: Closure | None = None
    next_holiday: NextHoliday | None = None


@dataclass(frozen=True)
class MomentStatus:
    """Open or closed at the moment asked ("samedi à 10 h")."""

    day: date
    at: time
    status: hours.OpenStatus


@dataclass(frozen=True)
class OpeningHoursFacts:
    facility: Facility
    now: datetime
    date_problem: dates.DateProblem | None = None  # the day typed could not be used
    school_holidays: bool = False  # asked about school holidays: we have no calendar of them
    now_status: hours.OpenStatus | None = None  # given when no day was asked
    usual: UsualWeek | None = None
    moment: MomentStatus | None = None
    days: list[hours.DayHours] = field(default_factory=list)  # the days asked
    part: str | None = None  # part of the day asked, for a single day
    alerts: list[Alert] = field(default_factory=list)


def _usual_week(session: Session, facility: Facility, now: datetime) -> UsualWeek:
    usual = hours.usual_week(facility.opening_hours, now.date())
    changed = [d for d in hours.week(session, facility.code, now.date())
               if tuple(d.intervals) != usual[d.day.weekday()]]
    week_end = now.date() + timedelta(days=6)
    closure = next((c for c in hours.upcoming_closures(session, facility.code, now.date(), days=60)
                    if c.start_day > week_end), None)
    holiday = hours.next_holiday(week_end + timedelta(days=1), days=90)
    next_holiday = None
    if holiday is not None:
        day, name = holiday
        next_holiday = NextHoliday(day, name, hours.hours_on(session, facility.code, day).is_open)
    return UsualWeek(usual, changed, closure, next_holiday)


def opening_hours(session: Session, code: str, date_text: str | None, time_text: str | None, now: datetime,
                  text: str | None = None) -> OpeningHoursFacts | None:
    """What to say to an hours question: the day asked (or the moment), else the usual week with
    today's state and what comes next (closure, public holiday). None: unknown facility."""
    facility = facilities.get(session, code)
    if facility is None:
        return None
    facts: dict = {"facility": facility, "now": now}
    folded = fold(text)
    at = dates.parse_time(time_text) if time_text else None
    parsed, facts["date_problem"] = _requested_days(text, date_text, now)
    if parsed is not None and parsed.at is not None:
        at = parsed.at
    part = part_of_day(date_text) or part_of_day(text)
    if parsed is None and at is None:
        school = bool(_SCHOOL_HOLIDAYS.search(fold(date_text)) or _SCHOOL_HOLIDAYS.search(folded))
        facts["school_holidays"] = school
        if part is not None and not school:
            parsed = dates.ParsedDate(day=now.date())  # "ce matin", "ce soir"
        else:
            facts["now_status"] = hours.status_at(session, code, now)
            asks_now = _NOW_WORDS.search(folded) or re.search(r"\blà\b", (text or "").lower())
            if not asks_now or school:
                facts["usual"] = _usual_week(session, facility, now)
    if at is not None:
        day = parsed.day if parsed is not None else now.date()
        moment = datetime.combine(day, at, tzinfo=config.TIMEZONE)
        facts["moment"] = MomentStatus(day, at, hours.status_at(session, code, moment))
    elif parsed is not None:
        days = parsed.days()
        if len(days) == 1 and (_WEEK_WORDS.search(fold(date_text)) or _WEEK_WORDS.search(folded)):
            days = [days[0] + timedelta(days=i) for i in range(7)]  # "la semaine prochaine"
        facts["days"] = [hours.hours_on(session, code, day) for day in days[:MAX_DAYS_LISTED]]
        facts["part"] = part if len(days) == 1 else None
    facts["alerts"] = alerts.touching(session, now, facility_code=code)
    return OpeningHoursFacts(**facts)


# --- another town, address, contact -------------------------------------------------------


@dataclass(frozen=True)
class OtherTown:
    town: str
    facility: Facility | None


def other_town(session: Session, text: str | None, code: str | None) -> OtherTown | None:
    """The other town the question names ("la mairie de Lyon"), or None."""
    own = [f.name for f in facilities.all(session)]  # "piscine des Ondines" is no town
    town = places.other_town(text, config.commune().name, own)
    if town is None:
        return None
    return OtherTown(town, facilities.get(session, code) if code else None)


@dataclass(frozen=True)
class FacilityFacts:
    facility: Facility
    map_url: str
    status: hours.OpenStatus | None = None  # open now? (contact answers)
    alerts: list[Alert] = field(default_factory=list)


def address(session: Session, code: str, now: datetime) -> FacilityFacts | None:
    facility = facilities.get(session, code)
    if facility is None:
        return None
    return FacilityFacts(facility, facilities.map_url(facility), alerts=alerts.touching(session, now, facility_code=code))


def contact(session: Session, code: str, now: datetime) -> FacilityFacts | None:
    facility = facilities.get(session, code)
    if facility is None:
        return None
    return FacilityFacts(facility, facilities.map_url(facility), hours.status_at(session, code, now))


# --- procedures ---------------------------------------------------------------------------

_DELAY_WORDS = re.compile(r"\b(combien de temps|delais?|en combien|ca prend|long|attendre|quand (?:est-ce que )?(?:je|on) (?:recoi|aur|recupere|peux retirer)|au bout de)\b")
_COST_WORDS = re.compile(r"\b(combien (?:ca|ça|cela) coute|cout|coute|prix|tarif|payant|gratuit|combien je dois payer)\b")


def procedure_question(text: str | None) -> str | None:
    """"delay", "cost" or None (the documents), from what the citizen asked."""
    folded = fold(text)
    if _DELAY_WORDS.search(folded):
        return "delay"
    if _COST_WORDS.search(folded):
        return "cost"
    return None


def procedure(session: Session, code: str) -> Procedure | None:
    return procedures.get(session, code)


# --- waste collection ---------------------------------------------------------------------


@dataclass(frozen=True)
class WasteFacts:
    """The next collections where the citizen lives; ``sector`` None: the place is unknown."""

    sector: str | None
    street: Street | None = None
    waste_type: str | None = None
    collections: list[waste.Collection] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    streets_by_sector: dict[str, list[str]] = field(default_factory=dict)  # when the place is unknown

    @property
    def found(self) -> str | None:
        """The street name or "secteur X" kept in the ``street`` slot."""
        if self.sector is None:
            return None
        return self.street.name if self.street else f"secteur {self.sector}"


def waste_collection(session: Session, place_text: str, waste_type: str | None, now: datetime) -> WasteFacts:
    street = streets.match(session, place_text)
    sector = street.sector if street else streets.match_sector(session, place_text)
    if sector is None:
        by_sector: dict[str, list[str]] = {}
        for s in streets.all(session):
            by_sector.setdefault(s.sector, []).append(s.name)
        return WasteFacts(None, streets_by_sector=dict(sorted(by_sector.items())))
    return WasteFacts(
        sector, street, waste_type,
        waste.next_collections(session, sector, now, waste_type=waste_type, count=2),
        alerts.touching(session, now, street_name=street.name) if street else [],
    )


# --- alerts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertsFacts:
    """Alerts about a street or a facility (``subject``), or all of them (``subject`` None)."""

    alerts: list[Alert]
    subject: str | None = None
    unknown_place: str | None = None  # the place typed, when it matched no street


def current_alerts(session: Session, place_text: str | None, facility_code: str | None,
                   now: datetime) -> AlertsFacts:
    street = streets.match(session, place_text) if place_text else None
    unknown = place_text if place_text and street is None else None
    if street is not None or facility_code:
        found = alerts.touching(session, now, facility_code=facility_code,
                                street_name=street.name if street else None)
        subject = street.name if street else facilities.get(session, facility_code).short_name
        return AlertsFacts(found, subject, unknown)
    return AlertsFacts(alerts.active(session, now, within_days=7), None, unknown)
