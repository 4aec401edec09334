"""French public holidays, the one calendar that answers and booking share (``holidays`` library).

Names are in French ("Noël", "Fête du Travail"). Metropolitan France: the commune is in
Loire-Atlantique, so no Alsace-Moselle or overseas days.
"""
from __future__ import annotations

import functools
from datetime import date, timedelta

import holidays as holiday_calendars


@functools.lru_cache(maxsize=16)
def _calendar(year: int) -> holiday_calendars.HolidayBase:
    return holiday_calendars.France(years=year, language="fr")


def holiday_name(day: date) -> str | None:
    """The French name of the public holiday on ``day`` ("Noël"), or None."""
    return _calendar(day.year).get(day)


def is_public_holiday(day: date) -> bool:
    return day in _calendar(day.year)


def holidays_between(first: date, last: date) -> list[tuple[date, str]]:
    """Public holidays from ``first`` to ``last`` (both included), with their French names."""
    found = []
    for year in range(first.year, last.year + 1):
        found.extend((d, n) for d, n in _calendar(year).items() if first <= d <= last)
    return sorted(found)


def next_holiday(today: date, days: int = 366) -> tuple[date, str] | None:
    """The next public holiday from ``today`` (included) within ``days``, with its French name."""
    upcoming = holidays_between(today, today + timedelta(days=days))
    return upcoming[0] if upcoming else None
