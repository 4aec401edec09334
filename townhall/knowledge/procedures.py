"""Administrative procedures (passeport, carte d'identité, actes...): documents, cost, delay, appointment."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.knowledge.models import PROCEDURE_CODES, Procedure

CODES = PROCEDURE_CODES


def get(session: Session, code: str | None) -> Procedure | None:
    """The procedure with this canonical code (``shared/CONTRACT.md`` 2), or None."""
    if not code:
        return None
    return session.get(Procedure, str(code).strip().lower()[:40])


def all(session: Session) -> list[Procedure]:  # noqa: A001
    rows = {p.code: p for p in session.execute(select(Procedure)).scalars()}
    return [rows.pop(code) for code in CODES if code in rows] + sorted(rows.values(), key=lambda p: p.name)
