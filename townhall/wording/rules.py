"""Opening hours written in French, from the library's own reading of a rule.

Used by the assistant ("du lundi au vendredi : de 8 h 30 à 12 h et de 13 h 30 à 17 h 30") and by
the staff page, which shows what a raw OpenStreetMap rule means next to the rule itself.
"""
from __future__ import annotations

from datetime import time

from townhall import french
from townhall.knowledge import hours

WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTH_NAMES = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)
VOWELS = "aeiouyàâäéèêëîïôöùûüœAEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŒ"


def elide(word: str, before: str) -> str:
    """"de avril" -> "d'avril", "de Angers" -> "d'Angers", "de Lyon" stays (no elision before "h": aspirated or not, we stay safe)."""
    if before in ("de", "que", "le", "la", "je", "ne") and word[:1] in VOWELS:
        return f"{before[:-1]}'{word}"
    return f"{before} {word}"


def end_clock(t: time) -> str:
    return "minuit" if t == time(0) else french.clock(t)


def intervals_text(intervals) -> str:
    """"de 9 h à 12 h et de 14 h à 17 h 30"."""
    return french.enumerate_fr([f"de {french.clock(a)} à {end_clock(b)}" for a, b in intervals])


def days_text(weekdays: list[int]) -> str:
    """"du lundi au vendredi", "mardi et jeudi", "lundi, mercredi et vendredi", "samedi"."""
    weekdays = sorted(weekdays)
    if len(weekdays) >= 3 and weekdays == list(range(weekdays[0], weekdays[-1] + 1)):
        return f"du {WEEKDAY_NAMES[weekdays[0]]} au {WEEKDAY_NAMES[weekdays[-1]]}"
    return french.enumerate_fr([WEEKDAY_NAMES[d] for d in weekdays])


def week_lines(week: dict, closed: str = "fermé") -> list[str]:
    """One line per group of weekdays with the same hours, Monday first: "samedi : de 9 h à 12 h"."""
    groups: dict = {}
    for weekday in hours.WEEKDAYS:
        groups.setdefault(tuple(week.get(weekday, ())), []).append(weekday)
    lines = []
    for intervals, weekdays in sorted(groups.items(), key=lambda item: (not item[0], item[1][0])):  # closed last
        lines.append(f"{days_text(weekdays)} : {intervals_text(intervals) if intervals else closed}")
    return lines


def months_text(months: tuple[int, ...]) -> str:
    """"toute l'année", "en mars", "de janvier à mars", "d'avril à septembre"."""
    if len(months) == 12:
        return "toute l'année"
    if len(months) == 1:
        return f"en {MONTH_NAMES[months[0] - 1]}"
    return f"{elide(MONTH_NAMES[months[0] - 1], 'de')} à {MONTH_NAMES[months[-1] - 1]}"


def describe_rule(rule: str, year: int) -> dict:
    """{"seasons": [(period, [lines])], "special_days": [line], "lost": [line]} in French, for staff."""
    reading = hours.read_rule(rule, year)
    seasons = [(months_text(s.months), week_lines(s.week)) for s in reading.seasons]
    special = [
        f"{french.day(day)} : {intervals_text(found) if found else 'fermé'}" for day, found in reading.special_days
    ]
    return {"seasons": seasons, "special_days": special, "lost": [lost_hours_text(x) for x in hours.lost_hours(rule, year)]}


def on_days_text(weekdays: list[int]) -> str:
    """"le mardi et le jeudi", "du lundi au vendredi"."""
    weekdays = sorted(weekdays)
    if len(weekdays) >= 3 and weekdays == list(range(weekdays[0], weekdays[-1] + 1)):
        return days_text(weekdays)
    return french.enumerate_fr([f"le {WEEKDAY_NAMES[d]}" for d in weekdays])


def lost_hours_text(lost: hours.LostHours) -> str:
    days = on_days_text(list(lost.weekdays))
    return (
        f"{days[:1].upper()}{days[1:]}, la règle « {lost.later} » remplace la règle « {lost.earlier} » : "
        f"les heures {intervals_text(lost.lost)} sont perdues ces jours-là. Si elles doivent s'ajouter, "
        f"écrivez « {lost.earlier}, {lost.later} » (avec une virgule) ou répétez-les dans la seconde règle."
    )
