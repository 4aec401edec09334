"""Shared helpers of the booking tests: a commune with the real settings and a fixed clock."""
from __future__ import annotations

from datetime import date, datetime, time

from townhall import config
from townhall.booking import loader

# Monday 29 April 2030, 8:00 in Paris. Wednesday 1 May and Wednesday 8 May are public holidays.
NOW = datetime(2030, 4, 29, 8, 0, tzinfo=config.TIMEZONE)
MONDAY = date(2030, 4, 29)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=config.TIMEZONE)


def hhmm(slots) -> list[str]:
    return [s.astimezone(config.TIMEZONE).strftime("%H:%M") for s in slots]


def load_settings(session) -> None:
    loader.load_settings(session, loader.read_settings())
    session.flush()
