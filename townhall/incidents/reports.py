"""Reports of problems in public space (signalements): filing, finding, following, updating.

Every function takes the session first and works inside the caller's unit of work. Bad input
raises a :class:`ReportError` subclass with a ``code`` (worded by ``townhall.wording.errors``);
nothing is written in that case.
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall import mail, references
from townhall.db import utcnow
from townhall.incidents import photos, services
from townhall.incidents.errors import (
    InvalidContact,
    InvalidDescription,
    InvalidLocation,
    InvalidTransition,
    OutsideCommune,
    ReportError,
    ReportNotFound,
    UnknownCategory,
)
from townhall.incidents.models import (
    ACKNOWLEDGED,
    CATEGORIES,
    DUPLICATE,
    IN_PROGRESS,
    MAX_DESCRIPTION_CHARS,
    OPEN,
    REJECTED,
    RESOLVED,
    STATUSES,
    Report,
    StatusChange,
    Supporter,
)
from townhall.text import clean, is_blank

logger = logging.getLogger(__name__)

__all__ = [
    "ReportError",
    "Location",
    "PublicStatus",
    "create",
    "find",
    "get",
    "search",
    "set_status",
    "join",
    "public_status",
    "resolve_location",
    "STATUS_LABELS",
    "TRANSITIONS",
]

MAX_NOTE_CHARS = 2000
MAX_ADDRESS_CHARS = 255
CITIZEN = "citoyen"

# Which status may follow which. Closed reports can be reopened.
TRANSITIONS: dict[str, frozenset[str]] = {
    OPEN: frozenset({ACKNOWLEDGED, IN_PROGRESS, RESOLVED, REJECTED, DUPLICATE}),
    ACKNOWLEDGED: frozenset({IN_PROGRESS, RESOLVED, REJECTED, DUPLICATE}),
    IN_PROGRESS: frozenset({ACKNOWLEDGED, RESOLVED, REJECTED, DUPLICATE}),
    RESOLVED: frozenset({OPEN}),
    REJECTED: frozenset({OPEN}),
    DUPLICATE: frozenset({OPEN}),
}

# How a status reads in a sentence: "Votre signalement est {label}."
STATUS_LABELS = {
    OPEN: "enregistré, en attente de prise en charge",
    ACKNOWLEDGED: "pris en compte par les services de la mairie",
    IN_PROGRESS: "en cours de traitement",
    RESOLVED: "résolu",
    REJECTED: "clos sans suite",
    DUPLICATE: "regroupé avec un autre signalement du même problème",
}


@dataclass(frozen=True)
class Location:
    address: str | None
    latitude: float | None
    longitude: float | None
    street_sector: str | None = None


@dataclass(frozen=True)
class PublicStatus:
    """What anyone holding the reference may know: never the reporter's contact details."""

    reference: str
    category: str
    category_name: str
    status: str
    status_label: str
    note: str | None
    address: str | None
    created_at: datetime
    updated_at: datetime
    duplicate_of: str | None


# --- validation -------------------------------------------------------------------------


def _category(category: str | None) -> str:
    if category not in CATEGORIES:
        raise UnknownCategory("unknown_category_named", category=clean(str(category or ''), 40))
    return category


def check_description(description: str | None) -> str:
    """The description to keep, or InvalidDescription (blank, or over 4,000 characters)."""
    raw = str(description or "")
    if is_blank(raw) or not re.search(r"\w", clean(raw, limit=len(raw) + 1)):
        raise InvalidDescription("description_empty")
    text = clean(raw, limit=len(raw) + 1)
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise InvalidDescription("description_too_long", length=len(text))
    return text


def _coordinate(value, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidLocation("position_invalid", field="lat") from None
    if math.isnan(number) or math.isinf(number) or not low <= number <= high:
        raise InvalidLocation("position_invalid", field="lat")
    return number


_TYPED_POSITION = re.compile(
    r"(?<![\d.])([-+]?\d{1,2}[.,]\d{2,8})\s*°?\s*([NS])?\s*[,;/ ]\s*([-+]?\d{1,3}[.,]\d{2,8})\s*°?\s*([EOW])?(?![\d.])",
    re.IGNORECASE,
)


def typed_position(text: str | None) -> tuple[float, float] | None:
    """A GPS position typed as text: "48.8566, 2.3522", "47,2184 ; -1,5536", "47.22 N 1.55 O".

    Decimal degrees only, latitude first (the order phones copy them in); None when absent.
    """
    match = _TYPED_POSITION.search(clean(text, limit=200))
    if not match:
        return None
    lat = float(match.group(1).replace(",", "."))
    lon = float(match.group(3).replace(",", "."))
    if (match.group(2) or "").upper() == "S":
        lat = -abs(lat)
    if (match.group(4) or "").upper() in ("O", "W"):
        lon = -abs(lon)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def resolve_location(
    session: Session, address: str | None = None, latitude=None, longitude=None
) -> Location:
    """Check a location against the commune: a GPS position inside it, or one of its streets.

    A typed address is matched (fuzzily) against the commune's streets; its coordinates are
    then the street's. A house number typed before the street name is kept.
    """
    from townhall.knowledge import streets

    address = clean(address, limit=MAX_ADDRESS_CHARS) if address is not None else None
    if latitude is not None or longitude is not None:
        if latitude is None or longitude is None:
            raise InvalidLocation("position_incomplete", field="lat")
        lat = _coordinate(latitude, -90, 90)
        lon = _coordinate(longitude, -180, 180)
        if not streets.in_commune(lat, lon):
            raise OutsideCommune("position_outside", field="lat")
        return Location(address or None, lat, lon)
    if not address:
        raise InvalidLocation("address_missing")
    street = streets.match(session, address)
    if street is None:
        raise OutsideCommune("street_unknown", address=clean(address, 80))
    number = re.search(r"(?<![\d,.])(\d{1,4}(?:\s?(?:bis|ter))?)\b(?![,.]\d)", address, re.IGNORECASE)
    label = f"{number.group(1).strip()} {street.name}" if number else street.name
    return Location(label, street.latitude, street.longitude, street.sector)


def check_email(email: str | None) -> str | None:
    if email is None or is_blank(email):
        return None
    try:
        return validate_email(clean(email, 254), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidContact("email_invalid", email=clean(email, 80)) from None


def check_phone(phone: str | None) -> str | None:
    if phone is None or is_blank(phone):
        return None
    try:
        number = phonenumbers.parse(clean(phone, 40), "FR")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidContact("phone_invalid", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _new_reference(session: Session) -> str:
    for _ in range(20):
        reference = references.generate(references.INCIDENT)
        if session.execute(select(Report.id).where(Report.reference == reference)).first() is None:
            return reference
    raise RuntimeError("could not draw a free report reference")  # pragma: no cover - 32**6 codes


# --- commands and queries ------------------------------------------------------------------


def create(
    session: Session,
    *,
    category: str,
    description: str,
    address: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    photo: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    channel: str,
    sender_id: str | None = None,
) -> Report:
    """File a new report (status open) and return it with its ``SIG-`` reference."""
    category = _category(category)
    text = check_description(description)
    location = resolve_location(session, address, latitude, longitude)
    photo_ref = photos.accept(photo) if photo else None
    now = utcnow()
    report = Report(
        reference=_new_reference(session),
        category=category,
        status=OPEN,
        description=text,
        address=location.address,
        latitude=location.latitude,
        longitude=location.longitude,
        photo=photo_ref,
        reporter_email=check_email(email),
        reporter_phone=check_phone(phone),
        reporter_name=clean(name, 120) or None,
        channel=clean(channel, 32) or "inconnu",
        sender_id=clean(sender_id, 255) or None if sender_id else None,
        created_at=now,
        updated_at=now,
    )
    report.history.append(StatusChange(at=now, from_status=None, to_status=OPEN, note="Signalement reçu.", by=CITIZEN))
    session.add(report)
    session.flush()
    return report


def find(session: Session, reference: str | None) -> Report | None:
    """The report with this reference, typed in any case, with or without the dash."""
    canonical = references.parse(reference, references.INCIDENT)
    if canonical is None:
        return None
    return session.execute(select(Report).where(Report.reference == canonical)).scalar_one_or_none()


def get(session: Session, reference: str | None) -> Report:
    report = find(session, reference)
    if report is None:
        raise ReportNotFound("reference_unknown", reference=clean(reference or '', 20))
    return report


def search(
    session: Session,
    *,
    status: str | Iterable[str] | None = None,
    category: str | Iterable[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    reference_list: Iterable[str] | None = None,
    page: int = 1,
    page_size: int = 50,
) -> list[Report]:
    """Reports, newest first, filtered by status(es), category(ies), creation period, references."""
    query = select(Report)
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        query = query.where(Report.status.in_(wanted))
    if category is not None:
        wanted = [category] if isinstance(category, str) else list(category)
        query = query.where(Report.category.in_(wanted))
    if start is not None:
        query = query.where(Report.created_at >= start)
    if end is not None:
        query = query.where(Report.created_at <= end)
    if reference_list is not None:
        canonical = [r for r in (references.parse(x, references.INCIDENT) for x in reference_list) if r]
        query = query.where(Report.reference.in_(canonical))
    page = max(1, int(page))
    page_size = max(1, min(int(page_size), 1000))
    query = query.order_by(Report.created_at.desc(), Report.id.desc()).offset((page - 1) * page_size).limit(page_size)
    return list(session.execute(query).scalars())


def set_status(
    session: Session,
    reference: str,
    status: str,
    note: str,
    by: str,
    *,
    duplicate_of: str | None = None,
) -> Report:
    """Change a report's status (staff), with a note the citizen sees on follow-up.

    The same status with a new note only adds the note. ``rejected`` needs a reason;
    ``duplicate`` needs the reference of the report it duplicates (or a note saying which).
    """
    report = get(session, reference)
    if status not in STATUSES:
        raise InvalidTransition("status_unknown", status=clean(str(status), 30))
    text = clean(note, MAX_NOTE_CHARS)
    agent = clean(by, 120)
    if not agent:
        raise InvalidTransition("agent_missing", field="by")
    original = None
    if status == DUPLICATE:
        if duplicate_of:
            original = get(session, duplicate_of)
            if original.id == report.id:
                raise InvalidTransition("duplicate_of_itself")
            text = text or f"Ce problème est déjà suivi sous la référence {original.reference}."
        elif not text:
            raise InvalidTransition("original_missing", field="duplicate_of")
    if status == REJECTED and not text:
        raise InvalidTransition("reason_missing", field="note")
    if status == report.status:
        if not text:
            raise InvalidTransition("status_unchanged", status=status)
    elif status not in TRANSITIONS[report.status]:
        raise InvalidTransition("transition_forbidden", current=report.status, status=status)
    now = utcnow()
    report.history.append(StatusChange(at=now, from_status=report.status, to_status=status, note=text, by=agent))
    report.status = status
    if text:
        report.status_note = text
    report.duplicate_of = original.reference if original is not None else (None if status == OPEN else report.duplicate_of)
    report.updated_at = now
    session.flush()
    notify_followers(report)
    return report


def notify_followers(report: Report) -> int:
    """E-mail the reporter and the citizens who joined the report (those who left an e-mail)."""
    recipients = {e.lower() for e in [report.reporter_email, *(s.email for s in report.supporters)] if e}
    if not recipients:
        return 0
    label = STATUS_LABELS.get(report.status, report.status)
    body = [
        "Bonjour,",
        "",
        f"Votre signalement {report.reference} est maintenant : {label}.",
    ]
    if report.status_note:
        body.append(f"Message des services : {report.status_note}")
    body += [
        "",
        f"Pour le suivre, écrivez à l'assistant de la mairie : « où en est mon signalement {report.reference} ».",
        "",
        "Ce message vous est envoyé parce que vous avez demandé à être informé de son traitement.",
    ]
    sent = 0
    for address in sorted(recipients):
        try:
            mail.send(address, f"Votre signalement {report.reference} : {label}", "\n".join(body))
            sent += 1
        except Exception:  # a mail failure must not undo the status change
            logger.exception("status e-mail not sent for %s", report.reference)
    return sent


def join(
    session: Session,
    reference_of_existing: str,
    *,
    email: str | None = None,
    channel: str,
    sender_id: str | None = None,
) -> Report:
    """Add a citizen to an open report of the same problem instead of filing a duplicate."""
    report = get(session, reference_of_existing)
    if not report.is_open:
        raise InvalidTransition("report_closed")
    address = check_email(email)
    sender = clean(sender_id, 255) or None if sender_id else None
    already = sender is not None and any(s.sender_id == sender for s in report.supporters)
    if not already:
        report.supporters.append(Supporter(email=address, channel=clean(channel, 32) or "inconnu", sender_id=sender))
        report.updated_at = utcnow()
    elif address:
        next(s for s in report.supporters if s.sender_id == sender).email = address
    session.flush()
    return report


def public_status(session: Session, reference: str | None) -> PublicStatus | None:
    """The public state of a report (for follow-up), or None when there is no such report."""
    report = find(session, reference)
    if report is None:
        return None
    return PublicStatus(
        reference=report.reference,
        category=report.category,
        category_name=services.name_of(report.category),
        status=report.status,
        status_label=STATUS_LABELS[report.status],
        note=report.status_note,
        address=report.address,
        created_at=report.created_at,
        updated_at=report.updated_at,
        duplicate_of=report.duplicate_of,
    )
