"""Open311 GeoReport v2 (JSON) under ``/open311/v2/``, so any Open311 client can use the reports.

- ``GET services.json``: the report categories;
- ``GET services/{service_code}.json``: a service definition (no extra attributes here);
- ``GET requests.json``: reports, filtered by ``service_request_id`` (comma list), ``service_code``,
  ``start_date``/``end_date`` (ISO 8601), ``status`` (``open``/``closed`` or a detailed status);
  without ids or dates, the last 90 days; extension: ``page`` and ``page_size`` (default and
  maximum 1000);
- ``POST requests.json``: file a report (form-encoded as the specification says, JSON accepted),
  with an ``api_key`` from ``OPEN311_API_KEYS`` (comma-separated). Outside production
  (``TOWNHALL_ENV`` != ``production``) and when that variable is unset, the development key
  ``dev-open311-key`` is accepted;
- ``GET requests/{service_request_id}.json``: one report (a list of one, as the specification says).

Status is ``open`` or ``closed`` as the specification says; ``status_detail`` (extension) gives the
detailed status. Errors are ``[{"code": ..., "description": ...}]`` with the same HTTP status.
A reporter's e-mail, phone and name are never in any answer.
"""
from __future__ import annotations

import json
import os
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from backoffice.deps import database_session
from townhall import config
from townhall.db import utcnow
from townhall.incidents import reports, services
from townhall.incidents.errors import ReportError
from townhall.incidents.models import ACTIVE_STATUSES, CLOSED_STATUSES, STATUSES, Report

router = APIRouter(prefix="/open311/v2", tags=["open311"])

DEV_API_KEY = "dev-open311-key"
DEFAULT_DAYS = 90
MAX_PAGE_SIZE = 1000
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


def _media_url(request: Request, photo: str | None) -> str | None:
    if not photo:
        return None
    if photo.startswith("/"):
        return str(request.base_url).rstrip("/") + photo
    return photo


def agency() -> str:
    return f"Mairie de {config.commune().name}"


def as_request(report: Report, request: Request) -> dict[str, Any]:
    """A report as a GeoReport v2 service request: public fields only."""
    return {
        "service_request_id": report.reference,
        "status": "open" if report.status in ACTIVE_STATUSES else "closed",
        "status_detail": report.status,
        "status_notes": report.status_note,
        "service_name": services.name_of(report.category),
        "service_code": report.category,
        "description": report.description,
        "agency_responsible": agency(),
        "service_notice": None,
        "requested_datetime": _iso(report.created_at),
        "updated_datetime": _iso(report.updated_at),
        "expected_datetime": None,
        "address": report.address,
        "address_id": None,
        "zipcode": None,
        "lat": report.latitude,
        "long": report.longitude,
        "media_url": _media_url(request, report.photo),
        "supporters": report.supporters_count,
        "duplicate_of": report.duplicate_of,
    }


@router.get("/services.json")
def list_services(session: Session = Depends(database_session)) -> list[dict]:
    return [service.open311() for service in services.list_services(session)]


@router.get("/services/{service_code}.json")
def service_definition(service_code: str, session: Session = Depends(database_session)):
    if services.find_service(session, service_code) is None:
        return error(404, f"service_code {service_code!r} not found")
    return {"service_code": service_code, "attributes": []}


def _parse_datetime(value: str, name: str) -> datetime:
    text = value.strip().replace(" ", "+") if "T" in value else value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)  # ValueError on bad input
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=config.TIMEZONE)
    return parsed.astimezone(timezone.utc)


def _positive_int(value: str | None, name: str, default: int, maximum: int | None = None) -> int:
    if value is None or value == "":
        return default
    number = int(value)  # ValueError on bad input
    if number < 1:
        raise ValueError(name)
    return min(number, maximum) if maximum else number


@router.get("/requests.json")
def list_requests(request: Request, session: Session = Depends(database_session)):
    params = request.query_params
    ids = [i.strip() for i in (params.get("service_request_id") or "").split(",") if i.strip()]
    try:
        page = _positive_int(params.get("page"), "page", 1)
        page_size = _positive_int(params.get("page_size"), "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    except ValueError:
        return error(400, "page and page_size must be positive integers")
    if ids:  # the specification: other parameters are then ignored
        found = reports.search(session, reference_list=ids, page=page, page_size=page_size)
        return [as_request(r, request) for r in found]
    try:
        start = _parse_datetime(params["start_date"], "start_date") if params.get("start_date") else None
        end = _parse_datetime(params["end_date"], "end_date") if params.get("end_date") else None
    except ValueError:
        return error(400, "start_date and end_date must be ISO 8601 dates, e.g. 2026-11-01T00:00:00Z")
    if start and end and start > end:
        return error(400, "start_date must be before end_date")
    if start is None and end is None:
        start = utcnow() - timedelta(days=DEFAULT_DAYS)
    codes = None
    if params.get("service_code"):
        codes = [c.strip() for c in params["service_code"].split(",") if c.strip()]
        unknown = [c for c in codes if c not in services.CATEGORIES]
        if unknown:
            return error(400, f"service_code {unknown[0]!r} not found")
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
                return error(400, f"status {value!r} is not valid: use open or closed")
    found = reports.search(
        session, status=statuses, category=codes, start=start, end=end, page=page, page_size=page_size
    )
    return [as_request(r, request) for r in found]


async def _submitted_fields(request: Request) -> dict[str, str]:
    content_type = (request.headers.get("content-type") or "").lower()
    if "application/json" in content_type:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise ValueError("the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ValueError("the request body must be a JSON object")
    else:
        body = dict(await request.form())
    fields = {**dict(request.query_params), **body}
    return {k: ("" if v is None else str(v)).strip() for k, v in fields.items() if k in _TEXT_FIELDS}


@router.post("/requests.json")
async def create_request(request: Request, session: Session = Depends(database_session)):
    try:
        fields = await _submitted_fields(request)
    except ValueError as exc:
        return error(400, str(exc))
    key = fields.get("api_key", "")
    if not key or not any(secrets.compare_digest(key, k) for k in api_keys()):
        return error(403, "api_key is missing or invalid")
    code = fields.get("service_code")
    if not code:
        return error(400, "service_code is required")
    if services.find_service(session, code) is None:
        return error(400, f"service_code {code!r} not found")
    has_position = bool(fields.get("lat")) or bool(fields.get("long"))
    if not has_position and not fields.get("address_string"):
        return error(400, "a location is required: lat and long, or address_string")
    if not fields.get("description"):
        return error(400, "description is required")
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
        return error(400, f"{exc.field or 'request'}: {exc.message}")
    return [{"service_request_id": report.reference, "service_notice": None, "account_id": None}]


@router.get("/requests/{service_request_id}.json")
def get_request(service_request_id: str, request: Request, session: Session = Depends(database_session)):
    report = reports.find(session, service_request_id)
    if report is None:
        return error(404, f"service_request_id {service_request_id!r} not found")
    return [as_request(report, request)]
