"""Practical information computed from the town's data (issue 3): hours, addresses, contacts,
procedures, waste collection, alerts.

Each action reads the entities of the latest message (or the slots, for follow-ups such as
"et le samedi ?"), asks the core in one unit of work, and writes French from the result.
``info_topic`` remembers which question was answered so that a bare ``inform`` continues it.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import logging
import re
from datetime import date, datetime, time, timedelta
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import first_entity, in_unit_of_work, latest_text
from townhall import config, dates, french
from townhall.knowledge import alerts, facilities, hours, hours_french, places, procedures, streets, waste
from townhall.knowledge.models import FACILITY_CODES, PROCEDURE_CODES, WASTE_TYPES
from townhall.text import clean, fold

logger = logging.getLogger(__name__)
MAX_DAYS_LISTED = 7
ENDINGS = {"f": "e", "m": "", "fp": "es", "mp": "s"}
ANNUAIRE_URL = "https://lannuaire.service-public.fr"


def current_time() -> datetime:
    """Now in Europe/Paris (tests replace it to freeze the clock)."""
    return datetime.now(config.TIMEZONE)


# --- French helpers -----------------------------------------------------------------------


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _state(facility, adjective: str) -> str:
    """"la piscine est ouverte", "les services techniques sont fermés"."""
    gender = facility.gender or "f"
    verb = "sont" if gender.endswith("p") else "est"
    return f"{facility.short_name} {verb} {adjective}{ENDINGS.get(gender, '')}"


def _intervals(intervals: list[tuple[time, time]]) -> str:
    return french.enumerate_fr([f"de {french.clock(a)} à {french.clock(b)}" for a, b in intervals])


def _day_label(d: date, now: datetime) -> str:
    if d == now.date():
        return f"aujourd'hui ({french.day(d)})"
    if d == now.date() + timedelta(days=1):
        return f"demain ({french.day(d)})"
    return french.day(d)


def _alert_period(alert, now: datetime) -> str:
    start, end = hours.local(alert.starts_at), hours.local(alert.ends_at)
    last_day = (end - timedelta(seconds=1)).date()
    if start.date() == last_day and start.time() != time(0):
        return f"le {french.day(start.date())} de {french.clock(start.time())} à {french.clock(end.time())}"
    if start > now:
        return f"du {french.day(start.date())} au {french.day(last_day)}"
    return f"jusqu'au {french.day(last_day)} inclus"


def _alert_line(alert, now: datetime) -> str:
    label = alerts.KIND_LABELS.get(alert.kind, "Information")
    # "Coupure d'eau : Coupure d'eau rue Pasteur" reads badly: no label when the title starts with it.
    prefix = "" if alert.title.lower().startswith(label.lower()) else f"{label} : "
    line = f"{prefix}{alert.title} ({_alert_period(alert, now)})."
    if alert.description:
        line += f" {alert.description}"
    return line


def _alerts_message(found: list, now: datetime) -> str | None:
    if not found:
        return None
    if len(found) == 1:
        return "À noter : " + _alert_line(found[0], now)
    return "À noter :\n" + "\n".join("- " + _alert_line(a, now) for a in found)


# --- reading the tracker ------------------------------------------------------------------


def _intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def _canonical(value: Any, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    value = fold(str(value)).replace(" ", "_")
    return value if value in allowed else None


def _facility_code(tracker: Tracker) -> str | None:
    return _canonical(first_entity(tracker, "facility"), FACILITY_CODES) or _canonical(
        tracker.get_slot("facility"), FACILITY_CODES
    )


def _ask_facility(dispatcher: CollectingDispatcher, topic: str) -> List[Dict[Text, Any]]:
    dispatcher.utter_message(response="utter_ask_which_facility")
    return [SlotSet("info_topic", topic)]


def _unavailable(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(response="utter_info_unavailable")


# --- opening hours ------------------------------------------------------------------------

_NOW_WORDS = re.compile(r"\b(maintenant|en ce moment|actuellement|tout de suite|a l'instant|a cette heure ci)\b")
_SCHOOL_HOLIDAYS = re.compile(r"\bvacances\b|\bconges scolaires\b")
_WEEK_WORDS = re.compile(r"\bsemaine\b")
# part of the day -> (from, to): an interval overlapping it is given
PARTS_OF_DAY = {
    "matin": ("au matin", time(0), time(12)),
    "midi": ("à midi", time(11, 30), time(14)),
    "apres-midi": ("dans l'après-midi", time(13), time(18)),
    "soir": ("en soirée", time(18), time(23, 59)),
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


def part_of_day(text: str | None) -> str | None:
    folded = fold(text)
    for name, pattern in _PART_PATTERNS:
        if pattern.search(folded):
            return name
    return None


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


def _closed_sentence(facility, label: str, reason: str | None) -> str:
    return f"{label}, {_state(facility, 'fermé')}" + (f" : {reason}" if reason else "") + "."


def _day_line(facility, day_hours, now: datetime, part: str | None = None) -> str:
    label = _cap(_day_label(day_hours.day, now))
    if day_hours.holiday and not (day_hours.reason or "").endswith(f"({day_hours.holiday})"):
        label += f" ({day_hours.holiday})"
    if not day_hours.is_open:
        return _closed_sentence(facility, label, day_hours.reason)
    if part is None:
        return f"{label}, {_state(facility, 'ouvert')} {_intervals(day_hours.intervals)}."
    words, start, end = PARTS_OF_DAY[part]
    inside = [(a, b) for a, b in day_hours.intervals if a < end and (b > start or b <= a)]
    if inside:
        return f"{label} {words}, {_state(facility, 'ouvert')} {_intervals(inside)}."
    return (f"{label} {words}, {_state(facility, 'fermé')}. Ce jour-là, {_state(facility, 'ouvert')} "
            f"{_intervals(day_hours.intervals)}.")


def _requested_days(text: str | None, date_text: str | None, now: datetime):
    """(ParsedDate or None, problem sentence or None) from the date entity, a holiday name, the text."""
    holiday = named_holiday(date_text, now.date()) or named_holiday(text, now.date())
    if holiday is not None:
        return dates.ParsedDate(day=holiday), None
    if date_text:
        parsed = dates.parse(date_text, now=now)
        if parsed.ok:
            return parsed, None
        if parsed.problem == dates.DateProblem.PAST:
            return None, "Cette date est déjà passée. Voici les horaires habituels."
        if parsed.problem == dates.DateProblem.NONEXISTENT:
            return None, "Cette date n'existe pas dans le calendrier. Voici les horaires habituels."
        if not _SCHOOL_HOLIDAYS.search(fold(date_text)):
            return None, "Je n'ai pas compris la date. Voici les horaires habituels."
        return None, None
    if text and not _SCHOOL_HOLIDAYS.search(fold(text)):
        parsed = dates.parse(text, now=now)  # "la piscine dimanche matin" without a tagged date
        if parsed.ok:
            return parsed, None
    return None, None


def _usual_week_messages(session, facility, now: datetime) -> list[str]:
    usual = hours.usual_week(facility.opening_hours, now.date())
    lines = hours_french.week_lines(usual, closed="fermé" + ENDINGS.get(facility.gender or "f", ""))
    messages = [f"Horaires habituels {_of_facility(facility)} :\n" + "\n".join(f"- {line}" for line in lines)]
    notes = []
    for day_hours in hours.week(session, facility.code, now.date()):
        if tuple(day_hours.intervals) != usual[day_hours.day.weekday()]:
            notes.append(_day_line(facility, day_hours, now))
    if notes:
        messages.append("Cette semaine, attention :\n" + "\n".join(f"- {n}" for n in notes))
    later = []
    week_end = now.date() + timedelta(days=6)
    closure = next((c for c in hours.upcoming_closures(session, facility.code, now.date(), days=60)
                    if c.start_day > week_end), None)
    if closure is not None:
        period = (f"le {french.day(closure.start_day)}" if closure.start_day == closure.end_day
                  else f"du {french.day(closure.start_day)} au {french.day(closure.end_day)}")
        later.append(f"Prochaine fermeture exceptionnelle : {period} ({closure.label}).")
    holiday = hours.next_holiday(week_end + timedelta(days=1), days=90)
    if holiday is not None:
        day, name = holiday
        if hours.hours_on(session, facility.code, day).is_open:
            later.append(f"Prochain jour férié : {name}, le {french.day(day)} ; {_state(facility, 'ouvert')} ce jour-là.")
        else:
            later.append(f"Prochain jour férié : {name}, le {french.day(day)} ; {_state(facility, 'fermé')} ce jour-là.")
    if later:
        messages.append("\n".join(later))
    return messages


def _of_facility(facility) -> str:
    """"de la mairie", "du CCAS", "des services techniques", "de l'école"."""
    short = facility.short_name
    if short.startswith("le "):
        return "du " + short[3:]
    if short.startswith("les "):
        return "des " + short[4:]
    return "de " + short


def opening_hours_messages(session, code: str, date_text: str | None, time_text: str | None, now: datetime,
                           text: str | None = None) -> list[str]:
    """The answer to an hours question: the day asked (or the moment), else the usual week with
    today's state and what comes next (closure, public holiday)."""
    facility = facilities.get(session, code)
    if facility is None:
        return []
    messages: list[str] = []
    folded = fold(text)
    at = dates.parse_time(time_text) if time_text else None
    parsed, problem = _requested_days(text, date_text, now)
    if problem:
        messages.append(problem)
    if parsed is not None and parsed.at is not None:
        at = parsed.at
    part = part_of_day(date_text) or part_of_day(text)
    if parsed is None and at is None:
        school = _SCHOOL_HOLIDAYS.search(fold(date_text)) or _SCHOOL_HOLIDAYS.search(folded)
        if school:
            messages.append(
                "Je n'ai pas le calendrier des vacances scolaires. Les horaires ci-dessous valent hors jours "
                "fériés et fermetures exceptionnelles ; pour un jour précis, indiquez-moi la date."
            )
        if part is not None and not school:
            parsed = dates.ParsedDate(day=now.date())  # "ce matin", "ce soir"
        else:
            messages.append(_now_sentence(session, facility, now))
            asks_now = _NOW_WORDS.search(folded) or re.search(r"\blà\b", (text or "").lower())
            if not asks_now or school:
                messages.extend(_usual_week_messages(session, facility, now))
    if parsed is None and at is None:
        pass
    elif at is not None:
        day = parsed.day if parsed is not None else now.date()
        moment = datetime.combine(day, at, tzinfo=config.TIMEZONE)
        status = hours.status_at(session, code, moment)
        label = _cap(_day_label(day, now)) + f" à {french.clock(at)}"
        if status.is_open:
            until = f", jusqu'à {french.clock(hours.local(status.closes_at).time())}" if status.closes_at else ""
            messages.append(f"{label}, {_state(facility, 'ouvert')}{until}.")
        else:
            reason = f" : {status.reason}" if status.reason else ""
            text_ = f"{label}, {_state(facility, 'fermé')}{reason}."
            if status.next_opening:
                text_ += f" Réouverture {french.relative_moment(status.next_opening, now)}."
            messages.append(text_)
    else:
        days = parsed.days()
        if len(days) == 1 and (_WEEK_WORDS.search(fold(date_text)) or _WEEK_WORDS.search(folded)):
            days = [days[0] + timedelta(days=i) for i in range(7)]  # "la semaine prochaine"
        lines = [_day_line(facility, hours.hours_on(session, code, day), now, part if len(days) == 1 else None)
                 for day in days[:MAX_DAYS_LISTED]]
        messages.append("\n".join(lines))
    alert_text = _alerts_message(alerts.touching(session, now, facility_code=code), now)
    if alert_text:
        messages.append(alert_text)
    return messages


def _now_sentence(session, facility, now: datetime) -> str:
    status = hours.status_at(session, facility.code, now)
    if status.is_open:
        until = f", jusqu'à {_until(status.closes_at, now)}" if status.closes_at else ""
        return _cap(f"{_state(facility, 'ouvert')} en ce moment{until}.")
    reason = f" : {status.reason}" if status.reason else ""
    text = _cap(f"{_state(facility, 'fermé')} en ce moment{reason}.")
    if status.next_opening:
        text += f" Réouverture {french.relative_moment(status.next_opening, now)}."
    return text


def _until(closes_at: datetime, now: datetime) -> str:
    closes_at = hours.local(closes_at)
    if closes_at.date() == now.date():
        return french.clock(closes_at.time())
    return french.relative_moment(closes_at, now)


def other_town_message(session, text: str | None, code: str | None) -> str | None:
    """When the question names another town ("la mairie de Lyon"): say honestly what we know."""
    own = [f.name for f in facilities.all(session)]  # "piscine des Ondines" is no town
    town = places.other_town(text, config.commune().name, own)
    if town is None:
        return None
    facility = facilities.get(session, code) if code else None
    subject = f"{facility.short_name} {hours_french.elide(town, 'de')}" if facility else hours_french.elide(town, "de")
    commune = config.commune().name
    return (
        f"Je ne peux vous renseigner que sur les services de la commune {hours_french.elide(commune, 'de')}. "
        f"Pour {subject}, consultez l'annuaire de l'administration sur service-public.fr : "
        f"{ANNUAIRE_URL} (horaires, adresse et contact de chaque mairie), ou le site de cette commune."
    )


async def _elsewhere(dispatcher: CollectingDispatcher, text: str | None, code: str | None) -> list | None:
    """Events when the question is about another town (answered honestly here), else None."""
    if not text:
        return None
    try:
        message = await in_unit_of_work(other_town_message, text, code)
    except Exception:
        logger.exception("other town check")
        return None
    if message is None:
        return None
    dispatcher.utter_message(text=message)
    return [SlotSet("facility", None)]


class ActionAnswerOpeningHours(Action):
    def name(self) -> Text:
        return "action_answer_opening_hours"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        code = _facility_code(tracker)
        date_text = clean(first_entity(tracker, "date"), 100) or None
        time_text = clean(first_entity(tracker, "time"), 50) or None
        follow_up = _intent(tracker) == "inform"
        if follow_up and not date_text and not time_text:
            date_text = tracker.get_slot("info_date")  # "et la médiathèque ?" keeps the day asked
        text = clean(latest_text(tracker), 300) or None
        elsewhere = await _elsewhere(dispatcher, text, code)
        if elsewhere is not None:
            return elsewhere + [SlotSet("info_topic", "opening_hours")]
        if code is None:
            return _ask_facility(dispatcher, "opening_hours") + [SlotSet("info_date", date_text)]
        try:
            messages = await in_unit_of_work(opening_hours_messages, code, date_text, time_text, current_time(), text)
        except Exception:
            logger.exception("opening hours of %s", code)
            messages = None
        if not messages:
            _unavailable(dispatcher)
        for text in messages or []:
            dispatcher.utter_message(text=text)
        return [SlotSet("facility", code), SlotSet("info_topic", "opening_hours"), SlotSet("info_date", date_text)]


# --- address and contact ------------------------------------------------------------------


def address_messages(session, code: str, now: datetime) -> list[str]:
    facility = facilities.get(session, code)
    if facility is None:
        return []
    messages = [f"{_cap(facility.name)} : {facility.address}.\nPlan : {facilities.map_url(facility)}"]
    if facility.accessibility:
        messages.append(f"Accessibilité : {facility.accessibility}")
    alert_text = _alerts_message(alerts.touching(session, now, facility_code=code), now)
    if alert_text:
        messages.append(alert_text)
    return messages


def contact_messages(session, code: str, now: datetime) -> list[str]:
    facility = facilities.get(session, code)
    if facility is None:
        return []
    ways = []
    if facility.phone:
        ways.append(f"au {french.phone(facility.phone)}")
    if facility.email:
        ways.append(f"par e-mail à {facility.email}")
    if not ways:
        commune = config.commune()
        ways = [f"au {french.phone(commune.main_phone)}", f"par e-mail à {commune.main_email}"]
    messages = [f"Vous pouvez joindre {facility.short_name} {' ou '.join(ways)}."]
    messages.append(_now_sentence(session, facility, now))
    if facility.hours_note:
        messages.append(facility.hours_note)
    return messages


class _FacilityAnswer(Action, ABC):
    """Answers about one facility (address, contact); abstract, so the action server skips it."""

    topic = ""

    @abstractmethod
    def name(self) -> Text:
        """The action's name."""
    build = staticmethod(address_messages)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        code = _facility_code(tracker)
        elsewhere = await _elsewhere(dispatcher, clean(latest_text(tracker), 300) or None, code)
        if elsewhere is not None:
            return elsewhere + [SlotSet("info_topic", self.topic)]
        if code is None:
            return _ask_facility(dispatcher, self.topic)
        try:
            messages = await in_unit_of_work(self.build, code, current_time())
        except Exception:
            logger.exception("%s of %s", self.topic, code)
            messages = None
        if not messages:
            _unavailable(dispatcher)
        for text in messages or []:
            dispatcher.utter_message(text=text)
        return [SlotSet("facility", code), SlotSet("info_topic", self.topic)]


class ActionAnswerAddress(_FacilityAnswer):
    topic = "address"
    build = staticmethod(address_messages)

    def name(self) -> Text:
        return "action_answer_address"


class ActionAnswerContact(_FacilityAnswer):
    topic = "contact"
    build = staticmethod(contact_messages)

    def name(self) -> Text:
        return "action_answer_contact"


# --- procedures ---------------------------------------------------------------------------


def procedure_snapshot(session, code: str) -> dict | None:
    procedure = procedures.get(session, code)
    if procedure is None:
        return None
    return {
        "code": procedure.code,
        "name": procedure.name,
        "documents": list(procedure.documents or []),
        "cost": procedure.cost,
        "delay": procedure.delay,
        "needs_appointment": procedure.needs_appointment,
        "url": procedure.url,
        "notes": procedure.notes,
    }


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


class ActionAnswerProcedure(Action):
    def name(self) -> Text:
        return "action_answer_procedure"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        code = _canonical(first_entity(tracker, "procedure"), PROCEDURE_CODES) or _canonical(
            tracker.get_slot("procedure"), PROCEDURE_CODES
        )
        if code is None:
            dispatcher.utter_message(response="utter_ask_which_procedure")
            return [SlotSet("info_topic", "procedure")]
        try:
            info = await in_unit_of_work(procedure_snapshot, code)
        except Exception:
            logger.exception("procedure %s", code)
            info = None
        if info is None:
            _unavailable(dispatcher)
            return [SlotSet("procedure", code), SlotSet("info_topic", "procedure")]
        documents = "\n".join(f"- {d}" for d in info["documents"])
        asked = procedure_question(latest_text(tracker))
        if asked == "delay":  # "combien de temps pour avoir mon passeport ?": the delay first
            dispatcher.utter_message(text=f"Délai pour la démarche « {info['name']} » : {info['delay']}.")
            dispatcher.utter_message(text=f"Coût : {info['cost']}.\nPièces à fournir :\n{documents}")
        elif asked == "cost":
            dispatcher.utter_message(text=f"Coût de la démarche « {info['name']} » : {info['cost']}.")
            dispatcher.utter_message(text=f"Délai : {info['delay']}.\nPièces à fournir :\n{documents}")
        else:
            dispatcher.utter_message(text=f"Démarche « {info['name']} » : voici ce qu'il faut fournir.\n{documents}")
            dispatcher.utter_message(text=f"Coût : {info['cost']}.\nDélai : {info['delay']}.")
        if info["notes"]:
            dispatcher.utter_message(text=info["notes"])
        dispatcher.utter_message(text=f"La fiche officielle sur service-public.fr : {info['url']}")
        if info["needs_appointment"]:
            dispatcher.utter_message(
                text="Cette démarche se fait sur rendez-vous en mairie. Voulez-vous prendre rendez-vous ?",
                buttons=[
                    {"title": "Prendre rendez-vous", "payload": f'/book_appointment{{"procedure":"{code}"}}'},
                    {"title": "Non merci", "payload": "/deny"},
                ],
            )
        return [SlotSet("procedure", code), SlotSet("info_topic", "procedure")]


# --- waste collection ---------------------------------------------------------------------


def waste_answer(session, place_text: str, waste_type: str | None, now: datetime) -> dict:
    """{"found": street name or sector, "messages": [...]} or {"found": None, "sectors": {...}}."""
    street = streets.match(session, place_text)
    sector = street.sector if street else streets.match_sector(session, place_text)
    if sector is None:
        by_sector: dict[str, list[str]] = {}
        for s in streets.all(session):
            by_sector.setdefault(s.sector, []).append(s.name)
        return {"found": None, "sectors": by_sector}
    where = f"{street.name} (secteur {sector})" if street else f"secteur {sector}"
    collections = waste.next_collections(session, sector, now, waste_type=waste_type, count=2)
    messages = []
    if waste_type and collections:
        c = collections[0]
        if c.dates:
            following = f", puis le {french.day(c.dates[1])}" if len(c.dates) > 1 else ""
            text = f"{_cap(where)} : {waste.collected(c.waste_type)} le {french.day(c.dates[0])}{following}."
        else:
            text = f"{_cap(where)} : aucune collecte {waste.of_label(c.waste_type)} n'est prévue prochainement."
        if c.note:
            text += f"\n{c.note}"
        messages.append(text)
    elif collections:
        lines = [f"Prochaines collectes, {where} :"]
        for c in collections:
            when = " puis ".join(french.day(d) for d in c.dates) if c.dates else "pas de date prévue"
            lines.append(f"- {c.label} : {when}")
        messages.append("\n".join(lines))
    else:
        messages.append(f"Je n'ai pas le calendrier de collecte du secteur {sector}.")
    found_alerts = alerts.touching(session, now, street_name=street.name) if street else []
    alert_text = _alerts_message(found_alerts, now)
    if alert_text:
        messages.append(alert_text)
    return {"found": street.name if street else f"secteur {sector}", "messages": messages}


class ActionAnswerWasteCollection(Action):
    def name(self) -> Text:
        return "action_answer_waste_collection"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = _intent(tracker)
        follow_up = intent == "inform"
        if tracker.get_slot("waste_street_requested") and intent not in ("inform", "ask_waste_collection"):
            # "rue Pasteur" typed after "Dans quelle rue ?" and taken for a report: a street alone
            # answers the waste question; a real report ("un lampadaire éteint rue Pasteur") opens the form.
            text = clean(latest_text(tracker), 200)
            street = await in_unit_of_work(streets.alone, text) if text else None
            if street is None or first_entity(tracker, "incident_category"):
                return [SlotSet("waste_street_requested", False), FollowupAction("incident_form")]
            follow_up = True
        waste_type = _canonical(first_entity(tracker, "waste_type"), WASTE_TYPES)
        if waste_type is None and follow_up:
            waste_type = _canonical(tracker.get_slot("waste_type"), WASTE_TYPES)
        place = clean(first_entity(tracker, "address"), 200) or None
        if place is None and follow_up and not first_entity(tracker, "waste_type"):
            place = clean(latest_text(tracker), 200) or None  # a bare "rue Pasteur" the NLU did not tag
        if place is None and not follow_up:
            place = clean(latest_text(tracker), 200) or None  # "les encombrants rue Pasteur" without entity
            if place:
                found = await in_unit_of_work(lambda s, t: streets.match(s, t) is not None, place)
                place = place if found else None
        if place is None:
            place = tracker.get_slot("street")
        events = [SlotSet("info_topic", "waste_collection"), SlotSet("waste_type", waste_type)]
        if not place:
            dispatcher.utter_message(response="utter_ask_street")
            return events + [SlotSet("waste_street_requested", True)]
        events.append(SlotSet("waste_street_requested", False))
        try:
            answer = await in_unit_of_work(waste_answer, place, waste_type, current_time())
        except Exception:
            logger.exception("waste collection answer failed")
            _unavailable(dispatcher)
            return events
        if answer["found"] is None:
            dispatcher.utter_message(
                text=f"Je ne trouve pas « {place[:80]} » parmi les rues de {config.commune().name}."
            )
            sectors = answer["sectors"]
            sectors = dict(sorted(sectors.items()))
            listing = "\n".join(f"- {sector} : {', '.join(names)}" for sector, names in sectors.items())
            dispatcher.utter_message(
                text=f"Choisissez votre secteur :\n{listing}",
                buttons=[
                    {"title": f"Secteur {sector}", "payload": f'/inform{{"address":"secteur {sector}"}}'}
                    for sector in sectors
                ],
            )
            return events + [SlotSet("street", None)]
        for text in answer["messages"]:
            dispatcher.utter_message(text=text)
        return events + [SlotSet("street", answer["found"])]


# --- alerts -------------------------------------------------------------------------------


def alerts_messages(session, place_text: str | None, facility_code: str | None, now: datetime) -> list[str]:
    street = streets.match(session, place_text) if place_text else None
    if place_text and street is None:
        prefix = [f"Je ne trouve pas « {place_text[:80]} » parmi les rues de {config.commune().name}. Voici toutes les alertes."]
        place_text = None
    else:
        prefix = []
    if street is not None or facility_code:
        found = alerts.touching(session, now, facility_code=facility_code, street_name=street.name if street else None)
        subject = street.name if street else facilities.get(session, facility_code).short_name
        if not found:
            return prefix + [f"Rien de signalé en ce moment pour {subject}."]
        return prefix + [f"{_cap(subject)} :\n" + "\n".join("- " + _alert_line(a, now) for a in found)]
    found = alerts.active(session, now, within_days=7)
    if not found:
        return prefix + ["Aucune alerte en cours dans la commune : ni travaux, ni fermeture, ni coupure signalés."]
    return prefix + ["Alertes en cours et à venir :\n" + "\n".join("- " + _alert_line(a, now) for a in found)]




class ActionAnswerWasteStreet(ActionAnswerWasteCollection):
    """The same answer, for a street typed after « Dans quelle rue ? » and taken for a report.

    A name of its own so that its rule (data/rules/info.yml) can state the slots it sets without
    every other rule of the waste answer having to state them too.
    """

    def name(self) -> Text:
        return "action_answer_waste_street"

class ActionAnswerAlerts(Action):
    def name(self) -> Text:
        return "action_answer_alerts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        place = clean(first_entity(tracker, "address"), 200) or None
        code = _canonical(first_entity(tracker, "facility"), FACILITY_CODES)
        try:
            messages = await in_unit_of_work(alerts_messages, place, code, current_time())
        except Exception:
            logger.exception("alerts")
            messages = None
        if not messages:
            _unavailable(dispatcher)
        for text in messages or []:
            dispatcher.utter_message(text=text)
        events = [SlotSet("info_topic", "alerts")]
        if code:
            events.append(SlotSet("facility", code))
        return events
