"""Request-scoped dependencies: one unit of work per request."""
from __future__ import annotations

from typing import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from townhall import db


def database_session(request: Request) -> Iterator[Session]:
    """A session for this request: committed when the route returns, rolled back on error."""
    with db.unit_of_work(request.app.state.database_url) as session:
        yield session
