"""Appointments in French: the free times of a day, why a day has none, the recap, the documents.

Static texts (confirmation, cancellation, refusals) are responses of ``domain/booking.yml``;
this module words only what is computed from data. Refusals: ``townhall.wording.errors``.
"""
from __future__ import annotations

from datetime import date, datetime, time

from townhall import config, french
from townhall.booking import ics
from townhall.booking.availability import Offer
from townhall.booking.contacts import ANTS_URL
from townhall.wording import Reply

OTHER_DAY_BUTTON = {"title": "Un autre jour", "payload": '/inform{"date":"un autre jour"}'}


def day_buttons(days: list[date]) -> list[dict]:
    return [{"title": french.day(d).capitalize(), "payload": '/inform{"date":"%s"}' % french.day(d)} for d in days]


def _no_time(offer: Offer) -> str:
    """Why the day has no free time."""
    day_text = french.day(offer.day)
    reasons = {
        "past": "Cette date est déjà passée.",
        "too_soon": f"Il est trop tard pour réserver le {day_text}.",
        "too_far": f"Le {day_text} est trop loin : les rendez-vous s'ouvrent environ trois mois à l'avance.",
        "holiday": f"Le {day_text} est un jour férié : la mairie est fermée.",
        "closed": (f"La mairie est fermée le {day_text} ({offer.closure})." if getattr(offer, "closure", None)
                   else f"La mairie ne reçoit pas sur rendez-vous le {day_text}."),
        "full": f"Il n'y a plus de créneau libre le {day_text}.",
    }
    return reasons.get(offer.reason or "full", reasons["full"])


def offer(offer: Offer) -> list[Reply]:
    """The day's free times as buttons; else why there are none and the next days that have some
    (an empty ``next_days`` is followed by the domain's ``utter_booking_no_availability``)."""
    if offer.times:
        buttons = [
            {"title": french.clock(t.astimezone(config.TIMEZONE).time()),
             "payload": '/inform{"time":"%s"}' % t.astimezone(config.TIMEZONE).strftime("%H:%M")}
            for t in offer.times
        ]
        buttons.append(OTHER_DAY_BUTTON)
        return [Reply(f"Voici les horaires libres le {french.day(offer.day)}. Lequel vous convient ?", buttons)]
    replies = [Reply(_no_time(offer))]
    if offer.next_days:
        replies.append(Reply(
            "Prochains jours disponibles : " + french.enumerate_fr([french.day(d) for d in offer.next_days]) + ".",
            day_buttons(offer.next_days),
        ))
    return replies


def recap(label: str, party: int, start: datetime | None, place: str, name: str | None, contact: str | None,
          phone: str | None) -> str:
    """The request before the citizen confirms; ``contact`` is the e-mail, else ``phone`` is given."""
    contact = contact or french.phone(phone)
    lines = [
        "Je récapitule votre demande :",
        f"- {label}" + (f", pour {party} personnes" if party > 1 else ""),
        f"- le {french.moment(start)}" if start else "",
        f"- {place}",
        f"- au nom {french.of(name)}, contact : {contact}",
    ]
    return "\n".join(line for line in lines if line)


def documents(items: list[str]) -> str | None:
    """"À apporter :" and the list, or None when there is nothing to bring."""
    if not items:
        return None
    return "À apporter :\n" + "\n".join(f"- {d}" for d in items)


def place(found) -> str:
    """"Mairie, 1 place de la Mairie": where the appointment takes place."""
    return f"{found.name}, {found.address}"


def appointment(found) -> dict:
    """The slots of the responses about one appointment (reference, label, moment, place)."""
    return {"reference": found.reference, "label": found.motif.label, "moment": french.moment(found.start),
            "place": place(found.place)}


# --- what an action says about one appointment: ``dispatcher.utter_message`` arguments, in order ---


def slot_unavailable(chosen: time) -> dict:
    return {"response": "utter_booking_slot_unavailable", "time": french.clock(chosen)}


def _moment(found) -> dict:
    return {"reference": found.reference, "moment": french.moment(found.start)}


def _documents(found) -> list[dict]:
    return [{"text": documents(found.motif.documents)}] if found.motif.documents else []


def _calendar(found) -> dict:
    return {"response": "utter_booking_calendar", "url": ics.calendar_url(found)}


def _ants_reminder(needed: bool) -> list[dict]:
    return [{"response": "utter_booking_ants_reminder", "ants_url": ANTS_URL}] if needed else []


def booked(found, ants_reminder: bool) -> list[dict]:
    """The confirmation of a new appointment (``ants_reminder``: the citizen has no pre-application yet)."""
    return [{"response": "utter_booking_done", **_moment(found), "place": place(found.place)},
            *_documents(found), _calendar(found), *_ants_reminder(ants_reminder)]


def cancelled(found) -> list[dict]:
    return [{"response": "utter_booking_cancelled", **_moment(found)}]


def moved(found) -> list[dict]:
    return [{"response": "utter_booking_moved", **_moment(found)}, _calendar(found)]


def lookup(found, now: datetime) -> list[dict]:
    """What the citizen is told about their own appointment (read inside the unit of work: the motif is lazy)."""
    said = appointment(found)
    if not found.is_active:
        return [{"response": "utter_appointment_lookup_cancelled", **said}]
    if found.start <= now:
        return [{"response": "utter_appointment_lookup_past", **said}]
    needs_ants = bool(found.motif.needs_ants) and not found.ants_numbers
    return [{"response": "utter_appointment_lookup", **said}, *_documents(found), *_ants_reminder(needs_ants),
            _calendar(found)]
