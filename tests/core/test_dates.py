"""French dates through Duckling, validated (townhall.dates), with a frozen reference time."""
from datetime import date, datetime, time

import pytest

from townhall import dates
from townhall.config import TIMEZONE

# Thursday 26 November 2026, 10:00 in Paris
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TIMEZONE)


@pytest.mark.parametrize(
    "text, expected_day, expected_time",
    [
        ("demain", date(2026, 11, 27), None),
        ("mardi prochain", date(2026, 12, 1), None),
        ("le 3", date(2026, 12, 3), None),
        ("lundi 14h", date(2026, 11, 30), time(14, 0)),
        ("le 3 décembre à 14h30", date(2026, 12, 3), time(14, 30)),
        ("le 3 decembre a 14h30", date(2026, 12, 3), time(14, 30)),
        ("dans 15 jours", date(2026, 12, 11), None),
        ("le 24 décembre", date(2026, 12, 24), None),
        ("12/12", date(2026, 12, 12), None),
    ],
)
def test_french_expressions(text, expected_day, expected_time):
    parsed = dates.parse(text, now=NOW)
    assert parsed.ok, parsed
    assert parsed.day == expected_day
    assert parsed.at == expected_time


def test_week_end_is_saturday_and_sunday():
    parsed = dates.parse("ce week-end", now=NOW)
    assert parsed.days() == [date(2026, 11, 28), date(2026, 11, 29)]


@pytest.mark.parametrize("text", ["le 31 février", "31/02", "le 30 fevrier", "le 29 février 2027", "15/13"])
def test_nonexistent_dates_are_reported(text):
    assert dates.parse(text, now=NOW).problem is dates.DateProblem.NONEXISTENT


def test_leap_day_exists():
    assert dates.parse("29/02/2028", now=NOW).day == date(2028, 2, 29)


def test_past_dates_are_reported_unless_allowed():
    assert dates.parse("hier", now=NOW).problem is dates.DateProblem.PAST
    assert dates.parse("hier", now=NOW, allow_past=True).day == date(2026, 11, 25)


@pytest.mark.parametrize("text", ["", "   ", "n'importe quoi", "🙂🙂", "<script>alert(1)</script>", "x" * 10000])
def test_nonsense_is_not_understood(text):
    assert dates.parse(text, now=NOW).problem is dates.DateProblem.NOT_UNDERSTOOD


@pytest.mark.parametrize("text, expected", [("14h30", time(14, 30)), ("9h", time(9, 0)), ("à 10 heures", time(10, 0)), ("14:45", time(14, 45)), ("bof", None)])
def test_times(text, expected):
    assert dates.parse_time(text) == expected
