"""The public calendar file of an appointment, at an unguessable URL (``/rdv/{reference}/{token}.ics``)."""
from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, HTTPException, Response, status
from sqlalchemy.orm import Session

from backoffice.deps import database_session
from townhall.booking import appointments, ics

router = APIRouter(tags=["calendar"])


@router.get("/rdv/{reference}/{token}.ics", include_in_schema=False)
def appointment_calendar(reference: str, token: str, session: Session = Depends(database_session)) -> Response:
    appointment = appointments.find(session, reference)
    if appointment is None or not secrets.compare_digest(
            appointment.calendar_token.encode(), token.encode("utf-8", "replace")):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Fichier introuvable.")
    return Response(
        content=ics.to_ics(appointment),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{appointment.reference}.ics"', "Cache-Control": "no-store"},
    )
