"""Motifs (what an appointment is for) and places: look-ups and rules that do not need time."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.booking.models import Motif, Place


class BookingError(Exception):
    """Base class of the booking rules' refusals."""


class UnknownMotif(BookingError):
    """No active motif for that procedure: appointments are not taken for it."""


class InvalidPartySize(BookingError):
    def __init__(self, maximum: int):
        super().__init__(f"party size must be between 1 and {maximum}")
        self.maximum = maximum


def get_motif(session: Session, procedure: str | None) -> Motif:
    motif = session.execute(
        select(Motif).where(Motif.code == (procedure or ""), Motif.active.is_(True))
    ).scalar_one_or_none()
    if motif is None:
        raise UnknownMotif(procedure)
    return motif


def bookable_procedures(session: Session) -> list[Motif]:
    return list(session.execute(select(Motif).where(Motif.active.is_(True)).order_by(Motif.id)).scalars())


def get_place(session: Session, code: str) -> Place | None:
    return session.execute(select(Place).where(Place.code == code)).scalar_one_or_none()


def check_party_size(motif: Motif, party_size: int) -> int:
    if not isinstance(party_size, int) or not 1 <= party_size <= motif.max_party_size:
        raise InvalidPartySize(motif.max_party_size)
    return party_size


def duration_minutes(motif: Motif, party_size: int = 1) -> int:
    """An appointment for ``party_size`` people lasts that many times the motif's duration."""
    return motif.minutes_per_person * check_party_size(motif, party_size)


# Words citizens use for the procedures that can be booked (free text at the procedure question).
PROCEDURE_WORDS = {
    "passeport": ("passeport", "passport"),
    "carte_identite": ("carte d'identite", "carte identite", "cni", "carte nationale", "identite"),
    "acte_naissance": ("acte de naissance", "naissance", "etat civil", "livret de famille"),
    "mariage": ("mariage", "marier"),
    "pacs": ("pacs", "pacse"),
    "urbanisme": ("urbanisme", "permis de construire", "declaration prealable", "permis"),
    "attestation_accueil": ("attestation d'accueil", "attestation accueil", "accueil d'un etranger"),
}


def match_procedure(text: str | None) -> str | None:
    from townhall.text import fold

    folded = fold(text)
    for code, words in PROCEDURE_WORDS.items():
        if folded == code or any(w in folded for w in words):
            return code
    return None


def facts(session: Session, procedure: str | None) -> dict | None:
    """Plain facts about a bookable procedure (for adapters), or None when it cannot be booked."""
    try:
        motif = get_motif(session, procedure)
    except UnknownMotif:
        return None
    return {
        "code": motif.code,
        "label": motif.label,
        "needs_ants": motif.needs_ants,
        "max_party_size": motif.max_party_size,
        "minutes_per_person": motif.minutes_per_person,
        "max_notice_days": motif.max_notice_days,
        "documents": list(motif.documents or []),
        "place": motif.place.name,
        "address": motif.place.address,
    }


def bookable_labels(session: Session) -> list[tuple[str, str]]:
    return [(m.code, m.label) for m in bookable_procedures(session)]
