"""Load the demo commune's knowledge from ``commune_data/`` (YAML under version control).

``load_demo(session, today)`` runs at every start and is idempotent (upserts, never duplicates):

- facilities: created when missing; refreshed from the file unless staff changed them
  (``staff_edited``, set by ``hours.set_hours``);
- closures and alerts of the files (``key`` -> ``demo_key``): created when missing, their dates
  moved to ``today`` + offsets unless staff changed them; rows created by staff are never touched
  (a demo row that staff deleted comes back at the next start: end it instead);
- procedures, streets and waste calendars: the files are the source of truth (upserted by key).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import phonenumbers
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall import config
from townhall.knowledge import hours
from townhall.knowledge.models import (
    ALERT_KINDS,
    FACILITY_CODES,
    PROCEDURE_CODES,
    WASTE_TYPES,
    Alert,
    Closure,
    Facility,
    Procedure,
    Street,
    WasteSchedule,
)

DATA_DIR = config.PROJECT_ROOT / "commune_data"


class DataError(ValueError):
    """A file of ``commune_data/`` is inconsistent; the message says which entry."""


def _upsert(session: Session, row, model, keys: dict, values: dict, respect_staff: bool = True) -> None:
    """Insert the demo row, or refresh it from the files unless staff edited it."""
    if row is None:
        session.add(model(**keys, **values))
    elif not (respect_staff and row.staff_edited):
        for name, value in values.items():
            setattr(row, name, value)


def _read(directory: Path, name: str):
    with open(directory / name, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _e164(number: str | None, where: str) -> str | None:
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(str(number), "FR")
    except phonenumbers.NumberParseException as exc:
        raise DataError(f"{where}: invalid phone {number!r}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise DataError(f"{where}: invalid phone {number!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _facilities(session: Session, data: dict) -> None:
    missing = set(FACILITY_CODES) - set(data)
    if missing:
        raise DataError(f"facilities.yml: missing {sorted(missing)}")
    for code, item in data.items():
        values = dict(
            name=item["name"],
            short_name=item["short_name"],
            gender=item.get("gender", "f"),
            address=item["address"],
            latitude=float(item["latitude"]),
            longitude=float(item["longitude"]),
            phone=_e164(item.get("phone"), f"facilities.yml {code}"),
            email=item.get("email"),
            accessibility=item.get("accessibility"),
            opening_hours=hours.validate_rule(item["opening_hours"]),
            hours_note=item.get("hours_note"),
        )
        _upsert(session, session.get(Facility, code), Facility, {"code": code}, values)
    session.flush()


def _closures(session: Session, data: list, today: date) -> None:
    for item in data:
        key = item["key"]
        if item["facility"] not in FACILITY_CODES:
            raise DataError(f"closures.yml {key}: unknown facility")
        start = today + timedelta(days=int(item["start_in_days"]))
        values = dict(
            facility_code=item["facility"],
            start_day=start,
            end_day=start + timedelta(days=max(int(item.get("days", 1)), 1) - 1),
            label=item["label"],
        )
        row = session.execute(select(Closure).where(Closure.demo_key == key)).scalar_one_or_none()
        _upsert(session, row, Closure, {"demo_key": key}, values)
    session.flush()


def _alerts(session: Session, data: list, today: date) -> None:
    for item in data:
        key = item["key"]
        if item["kind"] not in ALERT_KINDS:
            raise DataError(f"alerts.yml {key}: unknown kind")
        starts = datetime.combine(
            today + timedelta(days=int(item.get("start_in_days", 0))),
            time(int(item.get("start_hour", 0))),
            tzinfo=config.TIMEZONE,
        )
        length = timedelta(hours=int(item["hours"])) if "hours" in item else timedelta(days=int(item.get("days", 1)))
        values = dict(
            kind=item["kind"],
            title=item["title"],
            description=item.get("description"),
            starts_at=starts,
            ends_at=starts + length,
            street_name=item.get("street"),
            facility_code=item.get("facility"),
        )
        row = session.execute(select(Alert).where(Alert.demo_key == key)).scalar_one_or_none()
        _upsert(session, row, Alert, {"demo_key": key}, values)
    session.flush()


def _procedures(session: Session, data: dict) -> None:
    missing = set(PROCEDURE_CODES) - set(data)
    if missing:
        raise DataError(f"procedures.yml: missing {sorted(missing)}")
    for code, item in data.items():
        values = dict(
            name=item["name"],
            documents=[str(d) for d in item.get("documents", [])],
            cost=item["cost"],
            delay=item["delay"],
            needs_appointment=bool(item.get("needs_appointment", False)),
            url=item["url"],
            notes=item.get("notes"),
            facility_code=item.get("facility"),
        )
        _upsert(session, session.get(Procedure, code), Procedure, {"code": code}, values, respect_staff=False)
    session.flush()


def _streets(session: Session, data: dict) -> None:
    for sector, streets in data.items():
        for item in streets:
            row = session.execute(select(Street).where(Street.name == item["name"])).scalar_one_or_none()
            values = dict(sector=sector, latitude=float(item["latitude"]), longitude=float(item["longitude"]))
            _upsert(session, row, Street, {"name": item["name"]}, values, respect_staff=False)
    session.flush()


def _waste(session: Session, data: dict, sectors: set[str]) -> None:
    for sector, by_type in data.items():
        if sector not in sectors:
            raise DataError(f"waste.yml: unknown sector {sector}")
        missing = set(WASTE_TYPES) - set(by_type)
        if missing:
            raise DataError(f"waste.yml {sector}: missing {sorted(missing)}")
        for waste_type, item in by_type.items():
            rule = hours.validate_rule(item["rule"])
            row = session.execute(
                select(WasteSchedule).where(WasteSchedule.sector == sector, WasteSchedule.waste_type == waste_type)
            ).scalar_one_or_none()
            if row is None:
                session.add(WasteSchedule(sector=sector, waste_type=waste_type, rule=rule, note=item.get("note")))
            else:
                row.rule, row.note = rule, item.get("note")
    session.flush()


def load_demo(session: Session, today: date, directory: Path | None = None) -> None:
    """Load (or refresh) everything of ``commune_data/`` with dates relative to ``today``."""
    directory = directory or DATA_DIR
    _facilities(session, _read(directory, "facilities.yml"))
    _procedures(session, _read(directory, "procedures.yml"))
    street_data = _read(directory, "streets.yml")
    _streets(session, street_data)
    _waste(session, _read(directory, "waste.yml"), set(street_data))
    _closures(session, _read(directory, "closures.yml") or [], today)
    _alerts(session, _read(directory, "alerts.yml") or [], today)
