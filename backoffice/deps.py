"""Request-scoped dependencies: one unit of work per request; bounded parameter types."""
from __future__ import annotations

from typing import Annotated, Iterator

from fastapi import Path, Request
from sqlalchemy.orm import Session

from townhall import db


def database_session(request: Request) -> Iterator[Session]:
    """A session for this request: committed when the route returns, rolled back on error."""
    with db.unit_of_work(request.app.state.database_url) as session:
        yield session


# A row id in a URL: a 32-bit positive integer, so a huge number is a 400, never a database error.
MAX_DATABASE_INT = 2**31 - 1
DatabaseId = Annotated[int, Path(ge=1, le=MAX_DATABASE_INT)]
