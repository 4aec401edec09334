"""Alerts for citizens (roadworks, closures, water cuts, weather warnings) with a validity period."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.knowledge.models import ALERT_KINDS, Alert, Facility
from townhall.text import clean, fold

KINDS = ALERT_KINDS
KIND_LABELS = {
    "travaux": "Travaux",
    "fermeture": "Fermeture",
    "coupure_eau": "Coupure d'eau",
    "meteo": "Alerte météo",
    "autre": "Information",
}


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("naive datetime")
    return when


def active(session: Session, now: datetime, within_days: int = 0) -> list[Alert]:
    """Alerts valid at ``now``, plus those starting within ``within_days``."""
    now = _aware(now)
    horizon = now + timedelta(days=within_days)
    return list(
        session.execute(
            select(Alert).where(Alert.ends_at > now, Alert.starts_at <= horizon).order_by(Alert.starts_at, Alert.id)
        ).scalars()
    )


def touching(
    session: Session,
    now: datetime,
    facility_code: str | None = None,
    street_name: str | None = None,
    within_days: int = 7,
) -> list[Alert]:
    """Current or coming alerts about this facility or this street (also the facility's own street)."""
    streets = set()
    if street_name:
        streets.add(fold(street_name))
    if facility_code:
        facility = session.get(Facility, facility_code)
        if facility is not None:
            streets.add(fold(facility.address))
    found = []
    for alert in active(session, now, within_days):
        if facility_code and alert.facility_code == facility_code:
            found.append(alert)
        elif alert.street_name and any(fold(alert.street_name) in s for s in streets):
            found.append(alert)
    return found


def add_alert(
    session: Session,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str | None = None,
    street_name: str | None = None,
    facility_code: str | None = None,
) -> Alert:
    """Publish an alert (staff). It is mentioned in answers from ``starts_at`` to ``ends_at``."""
    if kind not in KINDS:
        raise ValueError(f"Type d'alerte inconnu : {kind}")
    title = clean(title, 200)
    if not title:
        raise ValueError("Indiquez un titre.")
    if _aware(ends_at) <= _aware(starts_at):
        raise ValueError("La fin doit suivre le début.")
    if facility_code and session.get(Facility, facility_code) is None:
        raise ValueError(f"Équipement inconnu : {facility_code}")
    alert = Alert(
        kind=kind,
        title=title,
        description=clean(description, 2000) or None,
        starts_at=starts_at,
        ends_at=ends_at,
        street_name=clean(street_name, 200) or None,
        facility_code=facility_code or None,
        staff_edited=True,
    )
    session.add(alert)
    session.flush()
    return alert


def end_alert(session: Session, alert_id: int, now: datetime) -> bool:
    """End an alert now (staff). Returns False when it does not exist or is already over."""
    alert = session.get(Alert, alert_id)
    if alert is None or alert.ends_at <= _aware(now):
        return False
    if alert.starts_at >= now:  # not yet published: withdraw it
        session.delete(alert)
    else:
        alert.ends_at = now
        alert.staff_edited = True
    session.flush()
    return True
