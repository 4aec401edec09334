"""Report categories, each published as an Open311 GeoReport v2 service.

The catalogue is kept in ``commune_data/incident_services.yml``; :func:`sync` copies it into
the ``incident_services`` table (idempotent), where staff tools may read it. :func:`guess`
finds a category from what a citizen typed, with the catalogue's keywords.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall import config
from townhall.incidents.models import CATEGORIES, IncidentService
from townhall.text import fold

CATALOGUE_PATH = config.PROJECT_ROOT / "commune_data" / "incident_services.yml"


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    group: str
    description: str
    keywords: tuple[str, ...]

    def open311(self) -> dict:
        """The service as GeoReport v2 publishes it (GET services.json)."""
        return {
            "service_code": self.code,
            "service_name": self.name,
            "description": self.description,
            "metadata": False,
            "type": "realtime",
            "keywords": ", ".join(self.keywords),
            "group": self.group,
        }


@functools.lru_cache(maxsize=4)
def _read(path: str) -> tuple[Service, ...]:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    services = []
    for item in raw.get("services", []):
        code = str(item["code"])
        if code not in CATEGORIES:
            raise ValueError(f"{path}: {code!r} is not a canonical incident_category")
        services.append(
            Service(
                code=code,
                name=str(item["name"]),
                group=str(item.get("group") or ""),
                description=str(item.get("description") or ""),
                keywords=tuple(str(k) for k in item.get("keywords") or ()),
            )
        )
    return tuple(services)


def catalogue() -> tuple[Service, ...]:
    """Every category, in the catalogue's order."""
    return _read(str(CATALOGUE_PATH))


def get(code: str | None) -> Service | None:
    return next((s for s in catalogue() if s.code == code), None)


def name_of(code: str | None) -> str:
    service = get(code)
    return service.name if service else (code or "")


def list_services(session: Session) -> list[Service]:
    """The services staff keep in the database, or the catalogue before it is loaded."""
    rows = session.execute(select(IncidentService).order_by(IncidentService.position, IncidentService.code)).scalars()
    services = [
        Service(
            code=row.code,
            name=row.name,
            group=row.group,
            description=row.description,
            keywords=tuple(k.strip() for k in row.keywords.split(",") if k.strip()),
        )
        for row in rows
    ]
    return services or list(catalogue())


def find_service(session: Session, code: str | None) -> Service | None:
    return next((s for s in list_services(session) if s.code == code), None)


def sync(session: Session) -> int:
    """Copy the catalogue into the table (insert or update); returns the number of services."""
    for position, service in enumerate(catalogue()):
        row = session.get(IncidentService, service.code)
        if row is None:
            row = IncidentService(code=service.code)
            session.add(row)
        row.name = service.name
        row.group = service.group
        row.description = service.description
        row.keywords = ", ".join(service.keywords)
        row.position = position
    session.flush()
    return len(catalogue())


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", fold(text))


def guess(text: str | None) -> str | None:
    """The category a free-text answer points at ("un lampadaire en panne" -> eclairage), or None.

    A canonical code or a service name matches outright; otherwise the keyword found in the
    text (exactly, or with a typo for words of 5 letters or more) that is the longest wins.
    """
    folded = fold(text)
    if not folded:
        return None
    compact = folded.replace(" ", "_").replace("-", "_")
    for service in catalogue():
        if compact == service.code or folded == fold(service.name):
            return service.code
    padded = f" {' '.join(_words(folded))} "
    words = _words(folded)
    best: tuple[int, str] | None = None
    for service in catalogue():
        for keyword in service.keywords + (service.name, service.code.replace("_", " ")):
            key_words = _words(keyword)
            if not key_words:
                continue
            key = " ".join(key_words)
            found = f" {key} " in padded
            if not found and len(key_words) == 1 and len(key) >= 5:
                threshold = 80 if len(key) >= 8 else 86
                found = any(len(w) >= 4 and fuzz.ratio(w, key) >= threshold for w in words)
            if found and (best is None or len(key) > best[0]):
                best = (len(key), service.code)
    return best[1] if best else None
