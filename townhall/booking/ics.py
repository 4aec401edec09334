"""The calendar file (.ics) of an appointment, and its unguessable public URL."""
from __future__ import annotations

import os
from datetime import timezone

from icalendar import Calendar, Event

from townhall import config
from townhall.booking.models import Appointment, Status


def public_base_url() -> str:
    return os.environ.get("BACKOFFICE_PUBLIC_URL", "http://localhost:8000").rstrip("/")


def calendar_path(appointment: Appointment) -> str:
    return f"/rdv/{appointment.reference}/{appointment.calendar_token}.ics"


def calendar_url(appointment: Appointment) -> str:
    return public_base_url() + calendar_path(appointment)


def to_ics(appointment: Appointment) -> bytes:
    commune = config.commune()
    cal = Calendar()
    cal.add("prodid", f"-//{commune.name}//Rendez-vous en mairie//FR")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{appointment.reference}@{commune.website.split('//')[-1].strip('/')}")
    event.add("dtstamp", (appointment.status_changed_at or appointment.created_at).astimezone(timezone.utc))
    event.add("dtstart", appointment.start.astimezone(timezone.utc))
    event.add("dtend", appointment.end.astimezone(timezone.utc))
    event.add("summary", f"Rendez-vous en mairie : {appointment.motif.label} ({appointment.reference})")
    place = appointment.place
    event.add("location", f"{place.name}, {place.address}".strip(", "))
    lines = [f"Référence : {appointment.reference}", f"Nombre de personnes : {appointment.party_size}"]
    if appointment.motif.documents:
        lines.append("Documents à apporter :")
        lines += [f"- {d}" for d in appointment.motif.documents]
    lines.append(f"Pour annuler ou déplacer : {commune.website} ou {commune.main_phone}")
    event.add("description", "\n".join(lines))
    event.add("status", "CONFIRMED" if appointment.status == Status.BOOKED.value else "CANCELLED")
    cal.add_component(event)
    return cal.to_ical()
