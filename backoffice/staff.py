"""Staff pages (admin and agent): the day's appointments, incident reports, handoffs, feedback."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from backoffice.auth import StaffIdentity, flash, redirect, render, require_role, verify_csrf
from backoffice.deps import DatabaseId
from townhall import codes, config, db, feedback, handoff, references

router = APIRouter(prefix="/staff", dependencies=[Depends(verify_csrf)])
require_agent = require_role("agent")
MAX_PAGE = 10_000
YEARS = range(1900, 2201)


def _day(text: str | None) -> date | None:
    """An ISO date typed in a URL or form, or None (bad format, or a year nobody means)."""
    try:
        day = date.fromisoformat(text.strip()) if text else None
    except ValueError:
        return None
    return day if day is not None and day.year in YEARS else None


def _back_to_day(day: str) -> str:
    chosen = _day(day)
    return "/staff/appointments" + (f"?day={chosen.isoformat()}" if chosen else "")


def _today() -> date:
    return datetime.now(config.TIMEZONE).date()


@router.get("", include_in_schema=False)
def staff_home(user: StaffIdentity = Depends(require_agent)):
    return redirect("/staff/appointments")


@router.get("/appointments", response_class=HTMLResponse)
def appointments_page(request: Request, day: str | None = None, reference: str | None = None,
                      user: StaffIdentity = Depends(require_agent)):
    from townhall.booking import appointments
    from townhall.booking.models import STATUS_LABELS, Status

    chosen = _day(day) or _today()
    reference = (reference or "")[:40] or None
    with db.unit_of_work(request.app.state.database_url) as session:
        found = appointments.find(session, reference) if reference else None
        if found is not None:
            chosen = found.start.astimezone(config.TIMEZONE).date()
        rows = appointments.for_day(session, chosen)
    labels = {s.value: label for s, label in STATUS_LABELS.items()}
    return render(request, "staff/appointments.html", day=chosen, rows=rows, labels=labels,
                  booked=Status.BOOKED.value, highlight=found.reference if found else None,
                  previous=chosen - timedelta(days=1), next=chosen + timedelta(days=1),
                  not_found=bool(reference) and found is None)


@router.post("/appointments/{reference}/cancel")
def cancel_appointment(request: Request, reference: str, reason: str = Form(""), day: str = Form(""),
                       user: StaffIdentity = Depends(require_agent)):
    from townhall.booking import appointments

    reason = reason.strip()[:1000]
    if not reason:
        flash(request, "Indiquez la raison de l'annulation : l'usager en sera informé.", "error")
        return redirect(_back_to_day(day))
    try:
        with db.unit_of_work(request.app.state.database_url) as session:
            appointments.cancel_by_staff(session, reference, reason, str(user))
    except appointments.AppointmentNotFound:
        raise HTTPException(404, detail="Ce rendez-vous est introuvable.") from None
    except appointments.NotChangeable:
        flash(request, "Ce rendez-vous ne peut plus être annulé.", "error")
    else:
        flash(request, f"Le rendez-vous {reference} est annulé.")
    return redirect(_back_to_day(day))


@router.post("/appointments/{reference}/status")
def appointment_status(request: Request, reference: str, status: str = Form(""), day: str = Form(""),
                       user: StaffIdentity = Depends(require_agent)):
    from townhall.booking import appointments

    try:
        with db.unit_of_work(request.app.state.database_url) as session:
            appointments.set_status(session, reference, status, str(user))
    except appointments.AppointmentNotFound:
        raise HTTPException(404, detail="Ce rendez-vous est introuvable.") from None
    except (ValueError, appointments.NotChangeable):
        flash(request, "Ce changement n'est pas possible pour ce rendez-vous.", "error")
    else:
        flash(request, f"Le rendez-vous {reference} est mis à jour.")
    return redirect(_back_to_day(day))


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, status: str | None = None, category: str | None = None, page: int = 1,
                 user: StaffIdentity = Depends(require_agent)):
    from townhall.incidents import reports
    from townhall.incidents.models import CATEGORIES, STATUSES

    status = status if status in STATUSES else None
    category = category if category in CATEGORIES else None
    page = min(max(1, page), MAX_PAGE)
    with db.unit_of_work(request.app.state.database_url) as session:
        rows = reports.search(session, status=status, category=category, page=page, page_size=50)
    return render(request, "staff/reports.html", rows=rows, statuses=STATUSES, categories=CATEGORIES,
                  category_labels=codes.INCIDENT_CATEGORIES, labels=reports.STATUS_LABELS, status=status,
                  category=category, page=page)


@router.get("/reports/{reference}", response_class=HTMLResponse)
def report_page(request: Request, reference: str, user: StaffIdentity = Depends(require_agent)):
    from townhall.incidents import reports
    from townhall.incidents.models import STATUSES

    with db.unit_of_work(request.app.state.database_url) as session:
        report = reports.find(session, reference)
        if report is None:
            raise HTTPException(404, detail="Ce signalement est introuvable.")
        history = list(report.history)
    return render(request, "staff/report.html", report=report, history=history, statuses=STATUSES,
                  labels=reports.STATUS_LABELS, category_labels=codes.INCIDENT_CATEGORIES)


@router.post("/reports/{reference}/status")
def report_status(request: Request, reference: str, status: str = Form(""), note: str = Form(""),
                  user: StaffIdentity = Depends(require_agent)):
    from townhall.incidents import reports
    from townhall.incidents.errors import ReportError, ReportNotFound
    from townhall.wording import errors as wording_errors

    canonical = references.parse(reference) or reference
    try:
        with db.unit_of_work(request.app.state.database_url) as session:
            reports.set_status(session, reference, status, note[:2000], str(user))
    except ReportNotFound:
        raise HTTPException(404, detail="Ce signalement est introuvable.") from None
    except ReportError as exc:
        flash(request, wording_errors.report_text(exc), "error")
    else:
        flash(request, f"Le signalement {canonical} est mis à jour.")
    return redirect(f"/staff/reports/{canonical}")


@router.get("/handoffs", response_class=HTMLResponse)
def handoffs_page(request: Request, user: StaffIdentity = Depends(require_agent)):
    with db.unit_of_work(request.app.state.database_url) as session:
        rows = handoff.pending(session)
    return render(request, "staff/handoffs.html", rows=rows)


@router.post("/handoffs/{handoff_id}/handled")
def handoff_handled(request: Request, handoff_id: DatabaseId, user: StaffIdentity = Depends(require_agent)):
    with db.unit_of_work(request.app.state.database_url) as session:
        row = handoff.mark_handled(session, handoff_id, str(user))
    if row is None:
        raise HTTPException(404, detail="Cette demande est introuvable.")
    flash(request, "La demande est marquée comme traitée.")
    return redirect("/staff/handoffs")


@router.get("/feedback", response_class=HTMLResponse)
def feedback_page(request: Request, user: StaffIdentity = Depends(require_agent)):
    with db.unit_of_work(request.app.state.database_url) as session:
        rows = feedback.latest(session, limit=200)
    return render(request, "staff/feedback.html", rows=rows)
