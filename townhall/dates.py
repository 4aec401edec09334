"""French dates and times as citizens type them, through Duckling (in-process).

Duckling understands "mardi prochain", "le 3" (the next 3rd), "lundi 14h", "dans 15 jours",
"ce week-end", "le 3 décembre à 14h30". What it returns is validated here: it reads
"le 31 février" as "le 31" (of the next month that has one), so a day-and-month that does
not exist is detected first and reported as such.
"""
from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum

from townhall import config
from townhall.text import fold

MONTHS = {
    "janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "avril": 4, "avr": 4,
    "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9, "sept": 9,
    "octobre": 10, "oct": 10, "novembre": 11, "nov": 11, "decembre": 12, "dec": 12,
}
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:er)?\s+(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b(?:\s+(\d{4}))?")
_NUMERIC = re.compile(r"\b(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{2,4}))?\b")


class DateProblem(str, Enum):
    NOT_UNDERSTOOD = "not_understood"
    NONEXISTENT = "nonexistent"  # "le 31 février"
    PAST = "past"


@dataclass(frozen=True)
class ParsedDate:
    """What a citizen's words mean: a day, optionally a time, or a range of days."""

    day: date | None = None
    at: time | None = None
    end_day: date | None = None  # for ranges such as "ce week-end" (inclusive)
    problem: DateProblem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.day is not None

    def days(self) -> list[date]:
        if not self.ok:
            return []
        last = self.end_day or self.day
        return [self.day + timedelta(days=i) for i in range((last - self.day).days + 1)]


_duckling_lock = threading.Lock()
_duckling = None


def _duckling_api():
    global _duckling
    with _duckling_lock:
        if _duckling is None:
            import duckling

            time_zones = duckling.load_time_zones("/usr/share/zoneinfo")
            lang = duckling.parse_lang("FR")
            locale = duckling.parse_locale("FR_FR", duckling.default_locale_lang(lang))
            _duckling = (duckling, time_zones, locale, duckling.parse_dimensions(["time"]))
        return _duckling


def _nonexistent_date(folded: str, raw: str) -> bool:
    for match in _DAY_MONTH.finditer(folded):
        day, month = int(match.group(1)), MONTHS[match.group(2)]
        year = int(match.group(3)) if match.group(3) else 2024  # a leap year: 29 février exists
        try:
            date(year, month, day)
        except ValueError:
            return True
    for match in _NUMERIC.finditer(raw):
        day, month = int(match.group(1)), int(match.group(2))
        year = match.group(3)
        year = int(year) + (2000 if year and len(year) == 2 else 0) if year else 2024
        if 1 <= month <= 12 or day > 12:
            try:
                date(year, month, day)
            except ValueError:
                return True
    return False


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(config.TIMEZONE)


def parse(text: str | None, now: datetime | None = None, allow_past: bool = False) -> ParsedDate:
    """Parse French date words relative to ``now`` (Europe/Paris by default)."""
    folded = fold(text)
    if not folded:
        return ParsedDate(problem=DateProblem.NOT_UNDERSTOOD)
    now = (now or datetime.now(config.TIMEZONE)).astimezone(config.TIMEZONE)
    if _nonexistent_date(folded, (text or "").lower()):
        return ParsedDate(problem=DateProblem.NONEXISTENT)
    duckling, time_zones, locale, dims = _duckling_api()
    ref = duckling.parse_ref_time(time_zones, str(config.TIMEZONE), int(now.timestamp()))
    # Duckling is given the raw text with accents: it knows both spellings.
    results = duckling.parse(text, duckling.Context(ref, locale), dims, False)
    if not results:
        return ParsedDate(problem=DateProblem.NOT_UNDERSTOOD)
    value = results[0]["value"]
    if value.get("type") == "interval":
        start = value.get("from", {}).get("value")
        end = value.get("to", {}).get("value")
        if not start:
            return ParsedDate(problem=DateProblem.NOT_UNDERSTOOD)
        start_dt = _iso(start)
        if start_dt.hour >= 18:  # "ce week-end" starts on Friday evening: count the days from Saturday
            start_dt = (start_dt + timedelta(days=1)).replace(hour=0)
        end_day = (_iso(end) - timedelta(seconds=1)).date() if end else None
        if end_day and end_day < start_dt.date():
            end_day = None
        parsed = ParsedDate(day=start_dt.date(), end_day=end_day)
    else:
        moment = _iso(value["value"])
        grain = value.get("grain")
        at = moment.time() if grain in ("hour", "minute", "second") else None
        if grain == "hour" and folded.startswith("dans") and "heure" not in folded and "h" not in folded.split():
            at = None  # "dans 15 jours" comes back with an hour grain
        parsed = ParsedDate(day=moment.date(), at=at)
    if not allow_past and (parsed.end_day or parsed.day) < now.date():
        return ParsedDate(day=parsed.day, at=parsed.at, end_day=parsed.end_day, problem=DateProblem.PAST)
    return parsed


def number_words(text: str | None) -> int | None:
    """The first whole number written in French words ("deux", "nous serons trois"), by Duckling."""
    if not (text or "").strip():
        return None
    duckling, time_zones, locale, _dims = _duckling_api()
    ref = duckling.parse_ref_time(time_zones, str(config.TIMEZONE), int(datetime.now(config.TIMEZONE).timestamp()))
    for found in duckling.parse(text, duckling.Context(ref, locale), _number_dimension(duckling), False):
        value = (found.get("value") or {}).get("value")
        if isinstance(value, (int, float)) and float(value).is_integer():
            return int(value)
    return None


@functools.lru_cache(maxsize=1)
def _number_dimension(duckling):
    return duckling.parse_dimensions(["number"])


def parse_time(text: str | None) -> time | None:
    """A time of day typed alone: "14h30", "9h", "14:30", "à 10 heures"."""
    lowered = (text or "").lower()
    match = re.search(r"\b([01]?\d|2[0-3])\s*(?:h|:|heures?)\s*([0-5]\d)?(?!\d)", lowered)
    if not match:
        return None
    return time(int(match.group(1)), int(match.group(2) or 0))
