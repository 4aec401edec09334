"""Open311 GeoReport v2 (JSON) under ``/open311/v2/``, so any Open311 client can use the reports.

- ``GET services.json``: the report categories;
- ``GET services/{service_code}.json``: a service definition (no extra attributes here);
- ``GET requests.json``: reports, filtered by ``service_request_id`` (comma list), ``service_code``,
  ``start_date``/``end_date`` (ISO 8601), ``status`` (``open``/``closed`` or a detailed status);
  without ids or dates, the last 90 days; extension: ``page`` (1 to 100000) and ``page_size``
  (default and maximum 1000; larger values are capped);
- ``POST requests.json``: file a report (form-encoded as the specification says, JSON accepted),
  with an ``api_key`` from ``OPEN311_API_KEYS`` (comma-separated). Outside production
  (``TOWNHALL_ENV`` != ``production``) and when that variable is unset, the development key
  ``dev-open311-key`` is accepted;
- ``GET requests/{service_request_id}.json``: one report (a list of one, as the specification says).

Status is ``open`` or ``closed`` as the specification says; ``status_detail`` (extension) gives the
detailed status. Errors are ``[{"code": ..., "description": ...}]`` with the same HTTP status.
A reporter's e-mail, phone and name are never in any answer: in the public answers, e-mail
addresses and phone numbers typed into the description or the status notes are masked, and so
is the reporter's name. Errors are described in French. Public routes set no cookie.
"""
from __future__ import annotations

import json
import os
import re
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from backoffice.deps import database_session
from backoffice.widget import backoffice_public_url
from townhall import config, masking
from townhall.db import utcnow
from townhall.incidents import reports, services
from townhall.incidents.errors import ReportError
from townhall.incidents.models import ACTIVE_STATUSES, CLOSED_STATUSES, STATUSES, Report
from townhall.wording import errors

router = APIRouter(prefix="/open311/v2", tags=["open311"])

DEV_API_KEY = "dev-open311-key"
DEFAULT_DAYS = 90
MAX_PAGE_SIZE = 1000
MAX_PAGE = 100_000
MAX_IDS = 100  # service_request_id values in one list request
MASK = "[masqué]"
_TEXT_FIELDS = (
    "api_key",
    "service_code",
    "address_string",
    "address_id",
    "description",
    "email",
    "first_name",
    "last_name",
    "phone",
    "media_url",
    "lat",
    "long",
    "jurisdiction_id",
    "device_id",
    "account_id",
)


def api_keys() -> set[str]:
    configured = {k.strip() for k in os.environ.get("OPEN311_API_KEYS", "").split(",") if k.strip()}
    if configured:
        return configured
    if os.environ.get("TOWNHALL_ENV", "development").lower() != "production":
        return {DEV_API_KEY}
    return set()


def error(code: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": code, "description": description}], status_code=code)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(config.TIMEZONE).isoformat(timespec="seconds") if moment else None


def _media_url(photo: str | None) -> str | None:
    if not photo:
        return None
    if photo.startswith("/"):  # never from the request's Host header
        return backoffice_public_url() + photo
    return photo


def mask_personal_data(text: str | None, report: Report | None = None) -> str | None:
    """Public text without contacts: e-mail addresses, phone numbers (French and international),
    ANTS numbers and the reporter's own e-mail, phone and name (each word of it too)."""
    if not text:
        return text
    known = None
    if report is not None:
        known = masking.known_patterns([report.reporter_email, report.reporter_phone], names=[report.reporter_name])
    return masking.replace_contacts(text, dict.fromkeys(("email", "phone", "ants", "known"), MASK), known=known)


def agency() -> str:
    return f"Mairie de {config.commune().name}"


def as_request(report: Report, request: Request | None = None, public: bool = True) -> dict[str, Any]:
    """A report as a GeoReport v2 service request: public fields only, contacts masked when ``public``."""
    mask = (lambda text: mask_personal_data(text, report)) if public else (lambda text: text)
    place = (lambda text: mask_personal_data(text)) if public else (lambda text: text)  # street names stay
    return {
        "service_request_id": report.reference,
        "status": "open" if report.status in ACTIVE_STATUSES else "closed",
        "status_detail": report.status,
        "status_notes": mask(report.status_note),
        "service_name": services.name_of(report.category),
        "service_code": report.category,
        "description": mask(report.description),
        "agency_responsible": agency(),
        "service_notice": None,
        "requested_datetime": _iso(report.created_at),
        "updated_datetime": _iso(report.updated_at),
        "expected_datetime": None,
        "address": place(report.address),
        "address_id": None,
        "zipcode": None,
        "lat": report.latitude,
        "long": report.longitude,
        "media_url": _media_url(report.photo),
        "supporters": report.supporters_count,
        "duplicate_of": report.duplicate_of,
    }


def _valid_key(key: str) -> bool:
    """Constant-time check against every configured key; any text (non-ASCII too) is safe here."""
    if not key:
        return False
    given = key.encode("utf-8", "replace")
    return any(secrets.compare_digest(given, k.encode("utf-8", "replace")) for k in api_keys())


@router.get("/services.json")
def list_services(session: Session = Depends(database_session)) -> list[dict]:
    return [service.open311() for service in services.list_services(session)]


@router.get("/services/{service_code}.json")
def service_definition(service_code: str, session: Session = Depends(database_session)):
    if services.find_service(session, service_code) is None:
        return error(404, f"Catégorie (service_code) inconnue : {service_code[:40]!r}.")
    return {"service_code": service_code, "attributes": []}


def _parse_datetime(value: str, name: str) -> datetime:
    text = value.strip().replace(" ", "+") if "T" in value else value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)  # ValueError on bad input
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=config.TIMEZONE)
    return parsed.astimezone(timezone.utc)


def _positive_int(value: str | None, default: int, maximum: int, cap: bool = False) -> int:
    """A positive integer of at most ``maximum`` (ASCII digits only); beyond it, capped if ``cap``."""
    if value is None or value.strip() == "":
        return default
    text = value.strip()
    if not re.fullmatch(r"[0-9]{1,30}", text):
        raise ValueError(value)
    number = int(text)
    if number < 1 or (number > maximum and not cap):
        raise ValueError(value)
    return min(number, maximum)


@router.get("/requests.json")
def list_requests(request: Request, session: Session = Depends(database_session)):
    params = request.query_params
    ids = [i.strip()[:40] for i in (params.get("service_request_id") or "").split(",") if i.strip()]
    if len(ids) > MAX_IDS:
        return error(400, f"Demandez au plus {MAX_IDS} signalements (service_request_id) à la fois.")
    try:
        page = _positive_int(params.get("page"), 1, MAX_PAGE)
    except ValueError:
        return error(400, f"Le paramètre page doit être un nombre entier entre 1 et {MAX_PAGE}.")
    try:
        page_size = _positive_int(params.get("page_size"), MAX_PAGE_SIZE, MAX_PAGE_SIZE, cap=True)
    except ValueError:
        return error(400, f"Le paramètre page_size doit être un nombre entier positif (au plus {MAX_PAGE_SIZE}).")
    if ids:  # the specification: other parameters are then ignored
        found = reports.search(session, reference_list=ids, page=page, page_size=page_size)
        return [as_request(r, request) for r in found]
    try:
        start = _parse_datetime(params["start_date"], "start_date") if params.get("start_date") else None
        end = _parse_datetime(params["end_date"], "end_date") if params.get("end_date") else None
    except (ValueError, OverflowError):
        return error(400, "Les paramètres start_date et end_date doivent être des dates ISO 8601, "
                          "par exemple 2026-11-01T00:00:00Z.")
    if start and end and start > end:
        return error(400, "La date start_date doit précéder la date end_date.")
    if start is None and end is None:
        start = utcnow() - timedelta(days=DEFAULT_DAYS)
    codes = None
    if params.get("service_code"):
        codes = [c.strip() for c in params["service_code"].split(",") if c.strip()]
        unknown = [c for c in codes if c not in services.CATEGORIES]
        if unknown:
            return error(400, f"Catégorie (service_code) inconnue : {unknown[0][:40]!r}.")
    statuses = None
    if params.get("status"):
        statuses = []
        for value in (s.strip().lower() for s in params["status"].split(",") if s.strip()):
            if value == "open":
                statuses += ACTIVE_STATUSES
            elif value == "closed":
                statuses += CLOSED_STATUSES
            elif value in STATUSES:
                statuses.append(value)
            else:
                return error(400, f"Statut {value[:40]!r} invalide : utilisez open ou closed.")
    found = reports.search(
        session, status=statuses, category=codes, start=start, end=end, page=page, page_size=page_size
    )
    return [as_request(r, request) for r in found]


async def _submitted_fields(request: Request) -> dict[str, str]:
    content_type = (request.headers.get("content-type") or "").lower()
    if "application/json" in content_type:
        try:
            body = json.loads(await request.body() or b"{}")
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested 100 000 deep
            raise ValueError("Le corps de la requête n'est pas du JSON valide.") from None
        if not isinstance(body, dict):
            raise ValueError("Le corps de la requête doit être un objet JSON.")
    else:
        try:
            body = dict(await request.form())
        except Exception:  # malformed multipart or encoding
            raise ValueError("Le formulaire envoyé est illisible (encodage ou format multipart incorrect).") from None
        body = {k: v for k, v in body.items() if isinstance(v, str)}  # files are not part of GeoReport v2
    fields = {**dict(request.query_params), **body}
    return {k: ("" if v is None else str(v)).strip() for k, v in fields.items() if k in _TEXT_FIELDS}


@router.post("/requests.json")
async def create_request(request: Request, session: Session = Depends(database_session)):
    try:
        fields = await _submitted_fields(request)
    except ValueError as exc:
        return error(400, str(exc))
    if not _valid_key(fields.get("api_key", "")):
        return error(403, "Clé d'API (api_key) absente ou invalide.")
    code = fields.get("service_code")
    if not code:
        return error(400, "Le paramètre service_code est obligatoire.")
    if services.find_service(session, code[:40]) is None:
        return error(400, f"Catégorie (service_code) inconnue : {code[:40]!r}.")
    has_position = bool(fields.get("lat")) or bool(fields.get("long"))
    if not has_position and not fields.get("address_string"):
        return error(400, "Indiquez le lieu : lat et long, ou address_string.")
    if not fields.get("description"):
        return error(400, "Le paramètre description est obligatoire.")
    name = " ".join(p for p in (fields.get("first_name"), fields.get("last_name")) if p) or None
    try:
        report = reports.create(
            session,
            category=code,
            description=fields["description"],
            address=fields.get("address_string") or None,
            latitude=fields.get("lat") or None if has_position else None,
            longitude=fields.get("long") or None if has_position else None,
            photo=fields.get("media_url") or None,
            email=fields.get("email") or None,
            phone=fields.get("phone") or None,
            name=name,
            channel="open311",
        )
    except ReportError as exc:
        return error(400, f"{exc.field or 'requête'} : {errors.report_text(exc)}")
    return [{"service_request_id": report.reference, "service_notice": None, "account_id": None}]


@router.get("/requests/{service_request_id}.json")
def get_request(service_request_id: str, request: Request, session: Session = Depends(database_session)):
    report = reports.find(session, service_request_id)
    if report is None:
        return error(404, f"Signalement (service_request_id) introuvable : {service_request_id[:40]!r}.")
    return [as_request(report, request)]
