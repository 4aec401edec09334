"""Staff authentication.

For now, staff JSON routes accept a bearer token from ``STAFF_API_TOKEN``. The back-office
issue replaces this with logins, roles and sessions; keep using ``require_staff`` as the
dependency of every staff route.
"""
from __future__ import annotations

import os
import secrets

from fastapi import Header, HTTPException, status


def require_staff(authorization: str | None = Header(default=None)) -> str:
    expected = os.environ.get("STAFF_API_TOKEN")
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not expected or not given or not secrets.compare_digest(given, expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Authentification requise.")
    return "api-token"
