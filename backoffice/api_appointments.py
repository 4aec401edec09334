"""Staff JSON for appointments (shared/CONTRACT.md 5): ``GET /api/appointments/{reference}``."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy.orm import Session

from backoffice.auth import require_staff
from backoffice.deps import database_session
from townhall.booking import appointments

router = APIRouter(prefix="/api/appointments", tags=["appointments"])


@router.get("/{reference}")
def get_appointment(reference: str, session: Session = Depends(database_session), staff: str = Depends(require_staff)) -> dict:
    appointment = appointments.find(session, reference)
    if appointment is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Aucun rendez-vous avec cette référence.")
    return appointment.as_dict()
