"""Booking, looking up, cancelling and rescheduling appointments (the service layer).

Every function takes a SQLAlchemy session first and runs inside the caller's unit of work.
Double booking is refused by the database (unique slot units, see ``models``): when two
citizens race for the same time, one commit succeeds and the other gets :class:`SlotTaken`.
After :class:`SlotTaken` the session has been rolled back: the caller offers other times
(and retries in a new unit of work).
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from townhall import config, references
from townhall.booking import availability
from townhall.booking.contacts import InvalidContact, normalise_email, normalise_phone, same_contact
from townhall.booking.models import Appointment, Motif, Place, SlotUnit, Status
from townhall.booking.motifs import BookingError, InvalidPartySize, UnknownMotif, duration_minutes, get_motif
from townhall.db import utcnow
from townhall.text import clean

__all__ = [
    "AppointmentNotFound",
    "BookingError",
    "InvalidContact",
    "InvalidPartySize",
    "NotChangeable",
    "SlotTaken",
    "UnknownMotif",
    "book",
    "cancel_by_citizen",
    "cancel_by_staff",
    "find",
    "find_for_owner",
    "for_day",
    "reschedule",
    "set_status",
    "verify_owner",
]


class SlotTaken(BookingError):
    """The time is no longer free (taken meanwhile, closed, or outside the booking window)."""


class AppointmentNotFound(BookingError):
    """No appointment with that reference for that e-mail or phone (both cases look the same)."""


class NotChangeable(BookingError):
    """The appointment is cancelled, past or already honoured: it cannot be changed."""

    def __init__(self, appointment: Appointment):
        super().__init__(appointment.status)
        self.appointment = appointment


def _new_reference(session: Session) -> str:
    while True:
        reference = references.generate(references.APPOINTMENT)
        if session.execute(select(Appointment.id).where(Appointment.reference == reference)).first() is None:
            return reference


def _contacts(email: str | None, phone: str | None) -> tuple[str | None, str | None]:
    email = normalise_email(email) if email else None
    phone = normalise_phone(phone) if phone else None
    if not email and not phone:
        raise InvalidContact("an e-mail address or a phone number is required")
    return email, phone


def _hold_units(session: Session, appointment: Appointment, motif: Motif, start: datetime, party_size: int, now) -> None:
    """Check the time is offered, pick a desk and add the units (not flushed)."""
    start = start.astimezone(timezone.utc)
    if not availability.is_free(session, motif.code, start, party_size, now):
        raise SlotTaken(start)
    place: Place = motif.place
    minutes = duration_minutes(motif, party_size)
    units = availability.unit_starts(place, start, minutes)
    day_units = session.execute(
        select(SlotUnit.desk, SlotUnit.starts_at).where(
            SlotUnit.place_id == place.id, SlotUnit.starts_at >= units[0], SlotUnit.starts_at <= units[-1]
        )
    ).all()
    desk = availability.free_desk(place, units, {(d, s) for d, s in day_units})
    if desk is None:  # pragma: no cover - is_free said otherwise a moment ago
        raise SlotTaken(start)
    appointment.desk = desk
    appointment.start = start
    appointment.end = start + timedelta(minutes=minutes)
    appointment.party_size = party_size
    appointment.units = [SlotUnit(place_id=place.id, desk=desk, starts_at=u) for u in units]


def _flush_or_taken(session: Session, start: datetime) -> None:
    try:
        session.flush()
    except (IntegrityError, OperationalError) as exc:  # unique slot unit, or a deadlock between racers
        session.rollback()
        raise SlotTaken(start) from exc


def book(
    session: Session,
    *,
    motif_code: str | None = None,
    procedure: str | None = None,
    start: datetime,
    party_size: int = 1,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    channel: str = "inconnu",
    sender_id: str | None = None,
    ants_numbers: list[str] | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book ``start`` for ``party_size`` people; :class:`SlotTaken` if the time is gone.

    Raises :class:`UnknownMotif`, :class:`InvalidPartySize`, :class:`InvalidContact` (no
    usable e-mail or phone) and :class:`SlotTaken` (then the session is rolled back).
    """
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    motif = get_motif(session, motif_code or procedure)
    duration_minutes(motif, party_size)
    email, phone = _contacts(email, phone)
    name = clean(name, limit=200)
    if not name:
        raise ValueError("name is required")
    appointment = Appointment(
        reference=_new_reference(session),
        motif_id=motif.id,
        place_id=motif.place_id,
        citizen_name=name,
        citizen_email=email,
        citizen_phone=phone,
        ants_numbers=list(ants_numbers or []),
        status=Status.BOOKED.value,
        channel=(channel or "inconnu")[:32],
        sender_id=sender_id,
        calendar_token=secrets.token_urlsafe(24),
        created_at=utcnow(),
    )
    appointment.motif = motif
    appointment.place = motif.place
    _hold_units(session, appointment, motif, start, party_size, now)
    session.add(appointment)
    _flush_or_taken(session, start)
    return appointment


def find(session: Session, reference: str | None) -> Appointment | None:
    """The appointment with that reference, typed in any case, with or without the dash."""
    canonical = references.parse(reference or "", prefix=references.APPOINTMENT)
    if not canonical:
        return None
    return session.execute(select(Appointment).where(Appointment.reference == canonical)).unique().scalar_one_or_none()


def verify_owner(appointment: Appointment | None, email_or_phone: str | None) -> bool:
    """Whether ``email_or_phone`` is the e-mail or the phone number used to book."""
    if appointment is None:
        return False
    return same_contact(email_or_phone, appointment.citizen_email, appointment.citizen_phone)


def find_for_owner(session: Session, reference: str | None, email_or_phone: str | None) -> Appointment:
    """"What is my appointment?": only for the person who booked it, else :class:`AppointmentNotFound`."""
    appointment = find(session, reference)
    if not verify_owner(appointment, email_or_phone):
        raise AppointmentNotFound(reference)
    return appointment


def _change_status(appointment: Appointment, status: Status, reason: str | None, by: str | None) -> Appointment:
    appointment.status = status.value
    appointment.status_reason = clean(reason, limit=1000) or None
    appointment.status_by = clean(by, limit=200) or None
    appointment.status_changed_at = utcnow()
    if status in (Status.CANCELLED_BY_CITIZEN, Status.CANCELLED_BY_STAFF):
        appointment.units = []  # frees the time
    return appointment


def cancel_by_citizen(
    session: Session, reference: str, email_or_phone: str, now: datetime | None = None
) -> Appointment:
    appointment = find_for_owner(session, reference, email_or_phone)
    if not appointment.is_active or appointment.start <= (now or utcnow()):
        raise NotChangeable(appointment)
    _change_status(appointment, Status.CANCELLED_BY_CITIZEN, "annulé par l'usager", "usager")
    session.flush()
    return appointment


def cancel_by_staff(session: Session, reference: str, reason: str, by: str) -> Appointment:
    appointment = find(session, reference)
    if appointment is None:
        raise AppointmentNotFound(reference)
    if not appointment.is_active:
        raise NotChangeable(appointment)
    _change_status(appointment, Status.CANCELLED_BY_STAFF, reason, by)
    session.flush()
    return appointment


def set_status(session: Session, reference: str, status: Status | str, by: str, reason: str | None = None) -> Appointment:
    """Staff mark an appointment honoured or no-show (or back to booked by mistake)."""
    status = Status(status)
    if status in (Status.CANCELLED_BY_CITIZEN, Status.CANCELLED_BY_STAFF):
        raise ValueError("use cancel_by_staff or cancel_by_citizen to cancel")
    appointment = find(session, reference)
    if appointment is None:
        raise AppointmentNotFound(reference)
    if appointment.status in (Status.CANCELLED_BY_CITIZEN.value, Status.CANCELLED_BY_STAFF.value):
        raise NotChangeable(appointment)
    _change_status(appointment, status, reason, by)
    session.flush()
    return appointment


def reschedule(
    session: Session,
    reference: str,
    email_or_phone: str,
    new_start: datetime,
    party_size: int | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Move an appointment (same reference) to ``new_start``; :class:`SlotTaken` if it is gone.

    The old time is freed and the new one held in the same transaction: when the new time
    is taken, everything is rolled back and the old appointment stands.
    """
    appointment = find_for_owner(session, reference, email_or_phone)
    if not appointment.is_active or appointment.start <= (now or utcnow()):
        raise NotChangeable(appointment)
    party_size = party_size or appointment.party_size
    appointment.units = []
    session.flush()  # the old time is free for the availability check (own transaction only)
    _hold_units(session, appointment, appointment.motif, new_start, party_size, now)
    _flush_or_taken(session, new_start)
    return appointment


def for_day(session: Session, day: date, place: str | None = None, include_cancelled: bool = True) -> list[Appointment]:
    """The staff's list of a day's appointments (local day), by start time."""
    start = datetime.combine(day, time(0), tzinfo=config.TIMEZONE).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=config.TIMEZONE).astimezone(timezone.utc)
    query = select(Appointment).where(Appointment.start >= start, Appointment.start < end)
    if place:
        query = query.join(Place, Appointment.place_id == Place.id).where(Place.code == place)
    if not include_cancelled:
        query = query.where(Appointment.status != Status.CANCELLED_BY_CITIZEN.value).where(
            Appointment.status != Status.CANCELLED_BY_STAFF.value
        )
    return list(session.execute(query.order_by(Appointment.start, Appointment.desk)).unique().scalars())


def upcoming_for_contact(session: Session, email_or_phone: str, now: datetime | None = None) -> list[Appointment]:
    """Active future appointments booked with that e-mail or phone."""
    now = now or utcnow()
    query = select(Appointment).where(Appointment.status == Status.BOOKED.value, Appointment.start > now)
    try:
        if "@" in (email_or_phone or ""):
            query = query.where(Appointment.citizen_email == normalise_email(email_or_phone))
        else:
            query = query.where(Appointment.citizen_phone == normalise_phone(email_or_phone))
    except InvalidContact:
        return []
    return list(session.execute(query.order_by(Appointment.start)).unique().scalars())
