"""Load the commune's booking settings (commune_data/booking.yml) and the demo data.

Idempotent: places and motifs are upserted by code, schedules replaced, demo closures
(relative to ``today``) replaced, and a few demo appointments are booked only if none is
in the future yet.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from townhall import config
from townhall.booking import availability
from townhall.booking.models import Appointment, Closure, Motif, Place, ScheduleRange, Status
from townhall.db import utcnow

DATA_FILE = config.PROJECT_ROOT / "commune_data" / "booking.yml"
WEEKDAYS = {"mo": 0, "tu": 1, "we": 2, "th": 3, "fr": 4, "sa": 5, "su": 6}
DEMO_CHANNEL = "demo"
DEMO_PEOPLE = [
    ("Camille Martin", "camille.martin@example.org", None, "passeport", 1),
    ("Karim Benali", None, "+33612345678", "carte_identite", 2),
    ("Sophie Durand", "sophie.durand@example.org", "+33698765432", "acte_naissance", 1),
]


def _clock(text: str) -> time:
    hours, minutes = str(text).split(":")
    return time(int(hours), int(minutes))


def read_settings(path: Path = DATA_FILE) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_settings(session: Session, settings: dict) -> None:
    places: dict[str, Place] = {}
    for spec in settings.get("places", []):
        place = session.execute(select(Place).where(Place.code == spec["code"])).scalar_one_or_none() or Place(
            code=spec["code"]
        )
        place.name, place.address = spec["name"], spec.get("address", "")
        place.desks, place.unit_minutes = int(spec.get("desks", 1)), int(spec.get("unit_minutes", 10))
        place.facility_code = spec.get("facility") or None
        session.add(place)
        session.flush()
        session.execute(delete(ScheduleRange).where(ScheduleRange.place_id == place.id))
        for block in spec.get("schedule", []):
            for day in block["days"]:
                for span in block["ranges"]:
                    opens, closes = span.split("-")
                    session.add(
                        ScheduleRange(
                            place_id=place.id,
                            weekday=WEEKDAYS[day],
                            opens=_clock(opens),
                            closes=_clock(closes),
                            motifs=block.get("motifs"),
                        )
                    )
        places[place.code] = place
    for spec in settings.get("motifs", []):
        motif = session.execute(select(Motif).where(Motif.code == spec["code"])).scalar_one_or_none() or Motif(
            code=spec["code"]
        )
        motif.label = spec["label"]
        motif.place = places[spec["place"]]
        motif.minutes_per_person = int(spec["minutes_per_person"])
        motif.max_party_size = int(spec.get("max_party_size", 1))
        motif.min_notice_minutes = int(spec.get("min_notice_minutes", 120))
        motif.max_notice_days = int(spec.get("max_notice_days", 90))
        motif.needs_ants = bool(spec.get("needs_ants", False))
        motif.documents = list(spec.get("documents", []))
        motif.active = bool(spec.get("active", True))
        session.add(motif)
    session.flush()


def load_closures(session: Session, settings: dict, today: date) -> None:
    session.execute(delete(Closure).where(Closure.source == DEMO_CHANNEL))
    for spec in settings.get("closures", []):
        place = session.execute(select(Place).where(Place.code == spec["place"])).scalar_one() if spec.get("place") else None
        day = today + timedelta(days=int(spec["in_days"]))
        starts = availability.local(day, _clock(spec.get("from", "00:00")))
        ends = availability.local(day, _clock(spec["to"])) if spec.get("to") else availability.local(day + timedelta(days=1), time(0))
        session.add(Closure(place_id=place.id if place else None, starts_at=starts, ends_at=ends, reason=spec["reason"], source=DEMO_CHANNEL))
    session.flush()


def _demo_appointments(session: Session, today: date) -> None:
    from townhall.booking import appointments

    upcoming = session.execute(
        select(Appointment.id).where(
            Appointment.channel == DEMO_CHANNEL, Appointment.start > utcnow(), Appointment.status == Status.BOOKED.value
        )
    ).first()
    if upcoming:
        return
    now = availability.local(today, time(0))
    for index, (name, email, phone, procedure, party) in enumerate(DEMO_PEOPLE):
        for day in availability.next_free_days(session, procedure, today + timedelta(days=1), party, now=now, limit=1):
            slots = availability.free_slots(session, procedure, day, party, now=now)
            if slots:
                appointments.book(
                    session, procedure=procedure, start=slots[min(index * 2, len(slots) - 1)], party_size=party,
                    name=name, email=email, phone=phone, channel=DEMO_CHANNEL, now=now,
                )


def load_demo(session: Session, today: date | None = None, with_appointments: bool = True) -> None:
    """Load places, motifs, schedules, demo closures and a few demo appointments (idempotent)."""
    today = today or datetime.now(config.TIMEZONE).date()
    settings = read_settings()
    load_settings(session, settings)
    load_closures(session, settings, today)
    if with_appointments:
        _demo_appointments(session, today)
