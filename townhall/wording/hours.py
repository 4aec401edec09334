"""Opening states and hours in French, for citizens (the assistant) and staff (the back office).

"La piscine est ouverte en ce moment, jusqu'à 19 h.", "Dimanche 7 juin au matin, la mairie est
fermée.", "Fermé : jour férié (Noël). Réouverture demain à 9 h".
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from townhall import config, french
from townhall.dates import DateProblem
from townhall.knowledge import hours
from townhall.knowledge.answers import OpeningHoursFacts, UsualWeek, within_part
from townhall.wording import alerts, cap, rules

ENDINGS = {"f": "e", "m": "", "fp": "es", "mp": "s"}  # agreement with the facility's gender and number
PART_WORDS = {"matin": "au matin", "midi": "à midi", "apres-midi": "dans l'après-midi", "soir": "en soirée"}
DATE_PROBLEMS = {
    DateProblem.PAST: "Cette date est déjà passée. Voici les horaires habituels.",
    DateProblem.NONEXISTENT: "Cette date n'existe pas dans le calendrier. Voici les horaires habituels.",
    DateProblem.NOT_UNDERSTOOD: "Je n'ai pas compris la date. Voici les horaires habituels.",
}
NO_SCHOOL_CALENDAR = (
    "Je n'ai pas le calendrier des vacances scolaires. Les horaires ci-dessous valent hors jours "
    "fériés et fermetures exceptionnelles ; pour un jour précis, indiquez-moi la date."
)


# --- pieces shared by the assistant and the staff pages -----------------------------------


def state(facility, adjective: str) -> str:
    """"la piscine est ouverte", "les services techniques sont fermés"."""
    gender = facility.gender or "f"
    verb = "sont" if gender.endswith("p") else "est"
    return f"{facility.short_name} {verb} {adjective}{ENDINGS.get(gender, '')}"


def of_facility(facility) -> str:
    """"de la mairie", "du CCAS", "des services techniques", "de l'école"."""
    short = facility.short_name
    if short.startswith("le "):
        return "du " + short[3:]
    if short.startswith("les "):
        return "des " + short[4:]
    return "de " + short


def period(start: date, end: date) -> str:
    """"le mardi 3 juin", "du lundi 2 juin au vendredi 6 juin"."""
    if start == end:
        return f"le {french.day(start)}"
    return f"du {french.day(start)} au {french.day(end)}"


# --- the assistant ------------------------------------------------------------------------


def _intervals(intervals: list[tuple[time, time]]) -> str:
    return french.enumerate_fr([f"de {french.clock(a)} à {french.clock(b)}" for a, b in intervals])


def _day_label(d: date, now: datetime) -> str:
    if d == now.date():
        return f"aujourd'hui ({french.day(d)})"
    if d == now.date() + timedelta(days=1):
        return f"demain ({french.day(d)})"
    return french.day(d)


def _closed_sentence(facility, label: str, reason: str | None) -> str:
    return f"{label}, {state(facility, 'fermé')}" + (f" : {reason}" if reason else "") + "."


def day_line(facility, day_hours: hours.DayHours, now: datetime, part: str | None = None) -> str:
    """"Samedi 6 juin, la mairie est ouverte de 9 h à 12 h." (for a part of the day when given)."""
    label = cap(_day_label(day_hours.day, now))
    if day_hours.holiday and not (day_hours.reason or "").endswith(f"({day_hours.holiday})"):
        label += f" ({day_hours.holiday})"
    if not day_hours.is_open:
        return _closed_sentence(facility, label, day_hours.reason)
    if part is None:
        return f"{label}, {state(facility, 'ouvert')} {_intervals(day_hours.intervals)}."
    words = PART_WORDS[part]
    inside = within_part(day_hours.intervals, part)
    if inside:
        return f"{label} {words}, {state(facility, 'ouvert')} {_intervals(inside)}."
    return (f"{label} {words}, {state(facility, 'fermé')}. Ce jour-là, {state(facility, 'ouvert')} "
            f"{_intervals(day_hours.intervals)}.")


def _until(closes_at: datetime, now: datetime) -> str:
    closes_at = hours.local(closes_at)
    if closes_at.date() == now.date():
        return french.clock(closes_at.time())
    return french.relative_moment(closes_at, now)


def now_sentence(facility, status: hours.OpenStatus, now: datetime) -> str:
    """"La mairie est ouverte en ce moment, jusqu'à 12 h." or closed, with the reason and the reopening."""
    if status.is_open:
        until = f", jusqu'à {_until(status.closes_at, now)}" if status.closes_at else ""
        return cap(f"{state(facility, 'ouvert')} en ce moment{until}.")
    reason = f" : {status.reason}" if status.reason else ""
    text = cap(f"{state(facility, 'fermé')} en ce moment{reason}.")
    if status.next_opening:
        text += f" Réouverture {french.relative_moment(status.next_opening, now)}."
    return text


def _moment_sentence(facility, day: date, at: time, status: hours.OpenStatus, now: datetime) -> str:
    label = cap(_day_label(day, now)) + f" à {french.clock(at)}"
    if status.is_open:
        until = f", jusqu'à {french.clock(hours.local(status.closes_at).time())}" if status.closes_at else ""
        return f"{label}, {state(facility, 'ouvert')}{until}."
    reason = f" : {status.reason}" if status.reason else ""
    text = f"{label}, {state(facility, 'fermé')}{reason}."
    if status.next_opening:
        text += f" Réouverture {french.relative_moment(status.next_opening, now)}."
    return text


def usual_week(facility, usual: UsualWeek, now: datetime) -> list[str]:
    """The usual week, this week's exceptions, then the next closure and public holiday."""
    lines = rules.week_lines(usual.week, closed="fermé" + ENDINGS.get(facility.gender or "f", ""))
    messages = [f"Horaires habituels {of_facility(facility)} :\n" + "\n".join(f"- {line}" for line in lines)]
    if usual.changed_days:
        notes = [day_line(facility, d, now) for d in usual.changed_days]
        messages.append("Cette semaine, attention :\n" + "\n".join(f"- {n}" for n in notes))
    later = []
    if usual.next_closure is not None:
        closure = usual.next_closure
        later.append(f"Prochaine fermeture exceptionnelle : {period(closure.start_day, closure.end_day)} "
                     f"({closure.label}).")
    if usual.next_holiday is not None:
        holiday = usual.next_holiday
        adjective = "ouvert" if holiday.is_open else "fermé"
        later.append(f"Prochain jour férié : {holiday.name}, le {french.day(holiday.day)} ; "
                     f"{state(facility, adjective)} ce jour-là.")
    if later:
        messages.append("\n".join(later))
    return messages


def opening_hours(facts: OpeningHoursFacts) -> list[str]:
    """The answer to an hours question, one message per part."""
    facility, now = facts.facility, facts.now
    messages: list[str] = []
    if facts.date_problem is not None:
        messages.append(DATE_PROBLEMS[facts.date_problem])
    if facts.school_holidays:
        messages.append(NO_SCHOOL_CALENDAR)
    if facts.now_status is not None:
        messages.append(now_sentence(facility, facts.now_status, now))
    if facts.usual is not None:
        messages.extend(usual_week(facility, facts.usual, now))
    if facts.moment is not None:
        moment = facts.moment
        messages.append(_moment_sentence(facility, moment.day, moment.at, moment.status, now))
    elif facts.days:
        messages.append("\n".join(day_line(facility, d, now, facts.part) for d in facts.days))
    alert_text = alerts.note(facts.alerts, now)
    if alert_text:
        messages.append(alert_text)
    return messages


# --- the staff pages ----------------------------------------------------------------------


def _staff_until(moment: datetime, now: datetime) -> str:
    """"12 h" today, "demain 2 h", "au mardi 3 juin à 12 h"."""
    local = moment.astimezone(config.TIMEZONE)
    if local.date() == now.date():
        return french.clock(local.time())
    if local.date() == now.date() + timedelta(days=1):
        return f"demain {french.clock(local.time())}"
    return f"au {french.moment(local)}"


def status_text(status: hours.OpenStatus, now: datetime) -> str:
    """"Ouvert jusqu'à 12 h" or "Fermé : jour férié (Noël). Réouverture demain à 9 h"."""
    if status.is_open:
        if status.closes_at is None:
            return "Ouvert"
        until = _staff_until(status.closes_at, now)
        return f"Ouvert jusqu'{until}" if until.startswith("au ") else f"Ouvert jusqu'à {until}"
    text = "Fermé" + (f" : {status.reason}" if status.reason else "")
    if status.next_opening is not None:
        return f"{text}. Réouverture {french.relative_moment(status.next_opening, now)}"
    return f"{text}. Aucune ouverture prévue dans l'année"


def day_text(day_hours: hours.DayHours) -> str:
    """"Ouvert de 9 h à 12 h" or "Fermé : inventaire annuel", one day of the staff's week."""
    if day_hours.is_open:
        return "Ouvert " + rules.intervals_text(day_hours.intervals)
    return "Fermé" + (f" : {day_hours.reason}" if day_hours.reason else "")
