"""Demo data of incident reports: the services, and a few open reports to show duplicates and follow-up.

``load_demo(session, today)`` is idempotent: services are upserted from
``commune_data/incident_services.yml``; the demo reports have fixed references (``SIG-DEMVR2``,
``SIG-DEMEC3``, ``SIG-DEMGR4``) and are created only when missing, so staff changes to them
survive a restart. Positions come from the commune's streets when they are loaded.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall import config
from townhall.incidents import services
from townhall.incidents.models import IN_PROGRESS, OPEN, Report, StatusChange

DEMO_REPORTS = (
    # reference, category, street, (fallback lat, lon), description, days ago, status, staff note
    (
        "SIG-DEMVR2",
        "voirie",
        "avenue Jean Jaurès",
        (47.2250, -1.5750),
        "Nid-de-poule profond sur la chaussée, devant le numéro 14.",
        3,
        OPEN,
        None,
    ),
    (
        "SIG-DEMEC3",
        "eclairage",
        "rue Victor Hugo",
        (47.2230, -1.5720),
        "Deux lampadaires éteints depuis plusieurs soirs.",
        6,
        OPEN,
        None,
    ),
    (
        "SIG-DEMGR4",
        "graffiti",
        "place de la Mairie",
        (47.2240, -1.5700),
        "Tags sur le mur de l'abribus.",
        10,
        IN_PROGRESS,
        "L'équipe de nettoyage interviendra cette semaine.",
    ),
)


def _position(session: Session, street_name: str, fallback: tuple[float, float]) -> tuple[float, float]:
    from townhall.knowledge import streets

    street = streets.match(session, street_name)
    return (street.latitude, street.longitude) if street else fallback


def load_demo(session: Session, today: date) -> None:
    """Load (or refresh) the services and the demo reports, dated relative to ``today``."""
    services.sync(session)
    existing = set(
        session.execute(select(Report.reference).where(Report.reference.in_([r[0] for r in DEMO_REPORTS]))).scalars()
    )
    for reference, category, street, fallback, text, days_ago, status, note in DEMO_REPORTS:
        if reference in existing:
            continue
        lat, lon = _position(session, street, fallback)
        at = datetime.combine(today - timedelta(days=days_ago), time(9, 30), tzinfo=config.TIMEZONE)
        report = Report(
            reference=reference,
            category=category,
            status=status,
            status_note=note,
            description=text,
            address=street,
            latitude=lat,
            longitude=lon,
            channel="demo",
            created_at=at,
            updated_at=at + timedelta(days=1) if note else at,
        )
        report.history.append(StatusChange(at=at, from_status=None, to_status=OPEN, note="Signalement reçu.", by="citoyen"))
        if status != OPEN:
            report.history.append(
                StatusChange(at=at + timedelta(days=1), from_status=OPEN, to_status=status, note=note or "", by="services techniques")
            )
        session.add(report)
    session.flush()
