"""Staff JSON for incident reports: the full report (with the reporter's contact) and status changes.

- ``GET /api/incidents/{reference}``: the report, its history and supporters;
- ``POST /api/incidents/{reference}/status`` with ``{"status": ..., "note": ..., "duplicate_of": ...}``:
  change the status (transitions checked by :func:`townhall.incidents.reports.set_status`).
"""
from __future__ import annotations

from typing import Any, Optional

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from sqlalchemy.orm import Session

from backoffice.auth import require_staff
from backoffice.deps import database_session
from backoffice.open311 import as_request
from townhall.incidents import reports
from townhall.incidents.errors import ReportError, ReportNotFound
from townhall.incidents.models import Report
from townhall.wording import errors

router = APIRouter(prefix="/api/incidents", tags=["incidents"])


def staff_view(report: Report, request: Request) -> dict[str, Any]:
    view = as_request(report, request, public=False)  # staff see the full text
    view.update(
        {
            "reference": report.reference,
            "photo": report.photo,
            "channel": report.channel,
            "reporter": {"email": report.reporter_email, "phone": report.reporter_phone, "name": report.reporter_name},
            "supporters": [
                {"email": s.email, "channel": s.channel, "at": s.created_at.isoformat()} for s in report.supporters
            ],
            "supporters_count": report.supporters_count,
            "history": [
                {"at": h.at.isoformat(), "from": h.from_status, "to": h.to_status, "note": h.note, "by": h.by}
                for h in report.history
            ],
        }
    )
    return view


@router.get("/{reference}")
def get_incident(
    reference: str, request: Request, session: Session = Depends(database_session), staff: str = Depends(require_staff)
) -> dict[str, Any]:
    report = reports.find(session, reference)
    if report is None:
        raise HTTPException(404, detail="Aucun signalement avec cette référence.")
    return staff_view(report, request)


@router.post("/{reference}/status")
def change_status(
    reference: str,
    request: Request,
    status: str = Body(...),
    note: str = Body(""),
    duplicate_of: Optional[str] = Body(None),
    session: Session = Depends(database_session),
    staff: str = Depends(require_staff),
) -> dict[str, Any]:
    try:
        report = reports.set_status(session, reference, status, note, by=staff, duplicate_of=duplicate_of)
    except ReportNotFound as exc:
        raise HTTPException(404, detail=errors.report_text(exc)) from None
    except ReportError as exc:
        raise HTTPException(400, detail=errors.report_text(exc)) from None
    return staff_view(report, request)
