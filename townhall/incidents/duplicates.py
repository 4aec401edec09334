"""Reports of the same problem: same category, still open, within a short distance."""
from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.incidents.models import ACTIVE_STATUSES, Report

EARTH_RADIUS_M = 6_371_008.8
DEFAULT_RADIUS_M = 50.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 positions (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def nearby_open(
    session: Session, category: str, latitude: float | None, longitude: float | None, radius_m: float = DEFAULT_RADIUS_M
) -> list[Report]:
    """Open reports of ``category`` within ``radius_m`` metres, nearest first."""
    if latitude is None or longitude is None:
        return []
    # A bounding box narrows the rows in SQL; the exact distance is computed here.
    dlat = radius_m / 111_320.0
    dlon = radius_m / (111_320.0 * max(math.cos(math.radians(latitude)), 0.01))
    rows = session.execute(
        select(Report).where(
            Report.category == category,
            Report.status.in_(ACTIVE_STATUSES),
            Report.latitude.between(latitude - dlat, latitude + dlat),
            Report.longitude.between(longitude - dlon, longitude + dlon),
        )
    ).scalars()
    found = [(distance_m(latitude, longitude, r.latitude, r.longitude), r) for r in rows]
    return [r for d, r in sorted(found, key=lambda pair: (pair[0], pair[1].id)) if d <= radius_m]
