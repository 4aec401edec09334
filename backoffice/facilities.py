"""Staff pages (admin and agent): facilities' opening hours, exceptional closures, public alerts.

The pages call the core functions of ``townhall.knowledge.hours`` and ``townhall.knowledge.alerts``.
The assistant's actions read the database at every question, so a change made here is
answered from the very next message, without retraining the model.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from backoffice.auth import StaffIdentity, flash, redirect, render, require_role, verify_csrf
from backoffice.deps import DatabaseId
from townhall import config, db, french
from townhall.knowledge import alerts, facilities, hours, streets
from townhall.knowledge.models import Alert, Closure
from townhall.wording import hours as hour_words
from townhall.wording import rules

router = APIRouter(prefix="/staff", dependencies=[Depends(verify_csrf)])
require_agent = require_role("agent")

LIST_CLOSURE_DAYS = 60  # closures shown on the list of facilities
DETAIL_CLOSURE_DAYS = 366  # closures shown (and removable) on a facility's page
ALERT_HORIZON_DAYS = 366  # upcoming alerts shown on the alerts page
MAX_RULE_CHARS = hours.MAX_RULE_CHARS
MAX_NOTE_CHARS = 500
MAX_LABEL_CHARS = 200
MAX_TITLE_CHARS = 200
MAX_DESCRIPTION_CHARS = 2000
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">
YEARS = range(1900, 2201)  # dates outside are typing mistakes (and would overflow date arithmetic)


def _now() -> datetime:
    return datetime.now(config.TIMEZONE)


def _today() -> date:
    return _now().date()


def _not_found() -> HTTPException:
    return HTTPException(404, detail="Cet équipement est introuvable.")


# --- French display: worded by townhall.wording (hours, rules) ---------------------------


def _status(session, code: str, now: datetime) -> str:
    try:
        return hour_words.status_text(hours.status_at(session, code, now), now)
    except Exception:  # a rule stored before validation existed: say so instead of failing the page
        return "Horaires illisibles : corrigez-les"


def _reading(rule: str, today: date) -> dict | None:
    """What the rule means, in French, as the opening-hours library reads it (None: unreadable)."""
    try:
        return rules.describe_rule(rule, today.year)
    except Exception:
        return None


def _week(session, code: str, today: date) -> list[dict]:
    try:
        days = hours.week(session, code, today)
    except Exception:
        return []
    return [{"day": d.day, "text": hour_words.day_text(d), "holiday": d.holiday, "special": bool(d.reason)}
            for d in days]


# --- facilities ---------------------------------------------------------------------------


@router.get("/facilities", response_class=HTMLResponse)
def facilities_page(request: Request, user: StaffIdentity = Depends(require_agent)):
    now, today = _now(), _today()
    rows = []
    with db.unit_of_work(request.app.state.database_url) as session:
        for facility in facilities.all(session):
            closures = hours.upcoming_closures(session, facility.code, today, LIST_CLOSURE_DAYS)
            rows.append({
                "code": facility.code,
                "name": facility.name,
                "rule": facility.opening_hours,
                "status": _status(session, facility.code, now),
                "closures": [f"{hour_words.period(c.start_day, c.end_day)} : {c.label}" for c in closures[:3]],
                "more": max(0, len(closures) - 3),
            })
    return render(request, "facilities/list.html", rows=rows, now=now)


def _facility_page(request: Request, code: str, status_code: int = 200, hours_form: dict | None = None,
                   closure_form: dict | None = None):
    now, today = _now(), _today()
    with db.unit_of_work(request.app.state.database_url) as session:
        facility = facilities.get(session, code)
        if facility is None:
            raise _not_found()
        context = {
            "facility": {"code": facility.code, "name": facility.name, "rule": facility.opening_hours,
                         "note": facility.hours_note or "", "staff_edited": facility.staff_edited},
            "status": _status(session, facility.code, now),
            "week": _week(session, facility.code, today),
            "reading": _reading(facility.opening_hours, today),
            "closures": [{"id": c.id, "period": hour_words.period(c.start_day, c.end_day), "label": c.label}
                         for c in hours.upcoming_closures(session, facility.code, today, DETAIL_CLOSURE_DAYS)],
        }
    hours_form = hours_form or {"rule": context["facility"]["rule"], "note": context["facility"]["note"], "error": None}
    closure_form = closure_form or {"start_day": "", "end_day": "", "label": "", "error": None}
    return render(request, "facilities/detail.html", status_code=status_code, hours_form=hours_form,
                  closure_form=closure_form, today=today, max_rule=MAX_RULE_CHARS, max_note=MAX_NOTE_CHARS,
                  max_label=MAX_LABEL_CHARS, **context)


@router.get("/facilities/{code}", response_class=HTMLResponse)
def facility_page(request: Request, code: str, user: StaffIdentity = Depends(require_agent)):
    return _facility_page(request, code)


@router.post("/facilities/{code}/hours")
def change_hours(request: Request, code: str, rule: str = Form(""), note: str = Form(""),
                 user: StaffIdentity = Depends(require_agent)):
    error = None
    if len(rule) > MAX_RULE_CHARS:
        error = f"Les horaires sont trop longs ({MAX_RULE_CHARS} caractères au plus)."
    elif len(note) > MAX_NOTE_CHARS:
        error = f"La remarque est trop longue ({MAX_NOTE_CHARS} caractères au plus)."
    else:
        try:
            with db.unit_of_work(request.app.state.database_url) as session:
                facility = hours.set_hours(session, code, rule, note)
                name = facility.name
                lost = hours.lost_hours(facility.opening_hours, _today().year)
        except hours.UnknownFacility:
            raise _not_found() from None
        except hours.InvalidHours as exc:
            error = str(exc)
    if error:
        return _facility_page(request, code, status_code=400,
                              hours_form={"rule": rule[:MAX_RULE_CHARS * 2], "note": note[:MAX_NOTE_CHARS * 2],
                                          "error": error})
    message = f"Les nouveaux horaires de l'équipement « {name} » sont enregistrés. L'assistant les donne dès maintenant."
    if lost:  # saved, but a later rule silently drops hours written in an earlier one
        message += " Vérifiez-les : " + " ".join(rules.lost_hours_text(item) for item in lost)
    flash(request, message, "error" if lost else "info")
    return redirect(f"/staff/facilities/{code}")


def _parse_day(text: str) -> date | None:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return day if day.year in YEARS else None


def _closure_error(start_text: str, end_text: str, label: str, today: date) -> str | None:
    start = _parse_day(start_text)
    if start is None:
        return "Indiquez le premier jour de fermeture (une date valide)."
    end = _parse_day(end_text) if end_text.strip() else start
    if end is None:
        return "La date de fin n'est pas une date valide. Laissez-la vide pour une fermeture d'un seul jour."
    if end < start:
        return "La date de fin précède la date de début. Vérifiez les deux dates."
    if end < today:
        return "Cette fermeture est déjà passée. Indiquez une période à venir."
    if end - start > timedelta(days=366):
        return "Une fermeture exceptionnelle ne peut pas dépasser un an. Modifiez plutôt les horaires."
    if not label.strip():
        return "Indiquez le motif de la fermeture : il est annoncé aux usagers."
    if len(label) > MAX_LABEL_CHARS:
        return f"Le motif est trop long ({MAX_LABEL_CHARS} caractères au plus)."
    return None


@router.post("/facilities/{code}/closures")
def add_closure(request: Request, code: str, start_day: str = Form(""), end_day: str = Form(""),
                label: str = Form(""), user: StaffIdentity = Depends(require_agent)):
    error = _closure_error(start_day, end_day, label, _today())
    if error is None:
        start = _parse_day(start_day)
        end = _parse_day(end_day) if end_day.strip() else start
        try:
            with db.unit_of_work(request.app.state.database_url) as session:
                closure = hours.add_closure(session, code, start, end, label)
                period = hour_words.period(closure.start_day, closure.end_day)
        except hours.UnknownFacility:
            raise _not_found() from None
        except ValueError as exc:  # the core's own checks (already covered above)
            error = str(exc)
    if error:
        form = {"start_day": start_day[:20], "end_day": end_day[:20], "label": label[:MAX_LABEL_CHARS * 2],
                "error": error}
        return _facility_page(request, code, status_code=400, closure_form=form)
    flash(request, f"La fermeture {period} est enregistrée. L'assistant l'annonce dès maintenant.")
    return redirect(f"/staff/facilities/{code}")


@router.post("/facilities/{code}/closures/{closure_id}/remove")
def remove_closure(request: Request, code: str, closure_id: DatabaseId, user: StaffIdentity = Depends(require_agent)):
    with db.unit_of_work(request.app.state.database_url) as session:
        closure = session.get(Closure, closure_id)
        if closure is None or closure.facility_code != code:
            raise HTTPException(404, detail="Cette fermeture est introuvable. Elle a peut-être déjà été supprimée.")
        period = hour_words.period(closure.start_day, closure.end_day)
        hours.remove_closure(session, closure_id)
    flash(request, f"La fermeture {period} est supprimée.")
    return redirect(f"/staff/facilities/{code}")


# --- alerts -------------------------------------------------------------------------------


def _alerts_page(request: Request, status_code: int = 200, form: dict | None = None):
    now = _now()
    with db.unit_of_work(request.app.state.database_url) as session:
        facility_choices = [(f.code, f.name) for f in facilities.all(session)]
        names = dict(facility_choices)
        rows = [{
            "id": a.id,
            "kind": alerts.KIND_LABELS.get(a.kind, a.kind),
            "title": a.title,
            "description": a.description or "",
            "starts_at": a.starts_at,
            "ends_at": a.ends_at,
            "current": a.starts_at <= now,
            "street": a.street_name or "",
            "facility": names.get(a.facility_code, a.facility_code or ""),
        } for a in alerts.active(session, now, ALERT_HORIZON_DAYS)]
        street_names = [s.name for s in streets.all(session)]
    form = form or {"kind": "travaux", "title": "", "description": "", "starts_at": now.strftime(LOCAL_INPUT_FORMAT),
                    "ends_at": "", "street": "", "facility": "", "error": None}
    return render(request, "facilities/alerts.html", status_code=status_code, rows=rows, form=form,
                  kinds=alerts.KIND_LABELS, street_names=street_names, facility_choices=facility_choices,
                  max_title=MAX_TITLE_CHARS, max_description=MAX_DESCRIPTION_CHARS)


def _parse_local(text: str) -> datetime | None:
    """A ``datetime-local`` value (commune's time) as an aware datetime, or None."""
    text = text.strip()
    for pattern in (LOCAL_INPUT_FORMAT, "%Y-%m-%dT%H:%M:%S"):
        try:
            moment = datetime.strptime(text, pattern).replace(tzinfo=config.TIMEZONE)
        except ValueError:
            continue
        return moment if moment.year in YEARS else None
    return None


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, user: StaffIdentity = Depends(require_agent)):
    return _alerts_page(request)


@router.post("/alerts")
def add_alert(request: Request, kind: str = Form(""), title: str = Form(""), description: str = Form(""),
              starts_at: str = Form(""), ends_at: str = Form(""), street: str = Form(""), facility: str = Form(""),
              user: StaffIdentity = Depends(require_agent)):
    now = _now()
    start, end = _parse_local(starts_at), _parse_local(ends_at)
    error = None
    if kind not in alerts.KINDS:
        error = "Choisissez le type d'alerte dans la liste."
    elif not title.strip():
        error = "Indiquez un titre : c'est la phrase annoncée aux usagers."
    elif len(title) > MAX_TITLE_CHARS:
        error = f"Le titre est trop long ({MAX_TITLE_CHARS} caractères au plus)."
    elif len(description) > MAX_DESCRIPTION_CHARS:
        error = f"Le détail est trop long ({MAX_DESCRIPTION_CHARS} caractères au plus)."
    elif start is None:
        error = "Indiquez la date et l'heure de début de l'alerte."
    elif end is None:
        error = "Indiquez la date et l'heure de fin de l'alerte."
    elif end <= start:
        error = "La fin de l'alerte doit suivre son début. Vérifiez les deux dates."
    elif end <= now:
        error = "Cette période est déjà passée. Indiquez une fin à venir."
    if error is None:
        try:
            with db.unit_of_work(request.app.state.database_url) as session:
                if street and street not in {s.name for s in streets.all(session)}:
                    error = "Choisissez la rue dans la liste, ou aucune rue."
                elif facility and facilities.get(session, facility) is None:
                    error = "Choisissez l'équipement dans la liste, ou aucun équipement."
                else:
                    alerts.add_alert(session, kind, title, start, end, description=description or None,
                                     street_name=street or None, facility_code=facility or None)
        except ValueError as exc:  # the core's own checks
            error = str(exc)
    if error:
        form = {"kind": kind, "title": title[:MAX_TITLE_CHARS * 2], "description": description[:MAX_DESCRIPTION_CHARS * 2],
                "starts_at": starts_at[:20], "ends_at": ends_at[:20], "street": street, "facility": facility,
                "error": error}
        return _alerts_page(request, status_code=400, form=form)
    if start > now:
        flash(request, f"L'alerte est enregistrée. L'assistant l'annoncera à partir du {french.moment(start)}.")
    else:
        flash(request, "L'alerte est publiée. L'assistant l'annonce dès maintenant.")
    return redirect("/staff/alerts")


@router.post("/alerts/{alert_id}/end")
def end_alert(request: Request, alert_id: DatabaseId, user: StaffIdentity = Depends(require_agent)):
    now = _now()
    with db.unit_of_work(request.app.state.database_url) as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise HTTPException(404, detail="Cette alerte est introuvable. Elle a peut-être déjà été retirée.")
        upcoming = alert.starts_at >= now
        ended = alerts.end_alert(session, alert_id, now)
    if not ended:
        flash(request, "Cette alerte est déjà terminée.", "error")
    elif upcoming:
        flash(request, "L'alerte à venir est retirée : elle ne sera pas annoncée.")
    else:
        flash(request, "L'alerte est terminée : l'assistant ne l'annonce plus.")
    return redirect("/staff/alerts")
