"""The commune's public facilities (mairie, piscine, médiathèque...): where they are, how to reach them."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.knowledge.models import FACILITY_CODES, Facility

CODES = FACILITY_CODES


def get(session: Session, code: str | None) -> Facility | None:
    """The facility with this canonical code (``shared/CONTRACT.md`` 2), or None."""
    if not code:
        return None
    return session.get(Facility, str(code).strip().lower()[:40])


def all(session: Session) -> list[Facility]:  # noqa: A001 - the contract's name
    rows = {f.code: f for f in session.execute(select(Facility)).scalars()}
    ordered = [rows.pop(code) for code in CODES if code in rows]
    return ordered + sorted(rows.values(), key=lambda f: f.name)


def map_url(facility: Facility) -> str:
    """A link to the facility on OpenStreetMap."""
    return (
        f"https://www.openstreetmap.org/?mlat={facility.latitude:.5f}&mlon={facility.longitude:.5f}"
        f"#map=18/{facility.latitude:.5f}/{facility.longitude:.5f}"
    )
