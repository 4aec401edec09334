"""Rasa's SQL tracker store, made to ride out a database restart without losing events.

endpoints.production.yml: ``tracker_store: type: deploy.tracker_store.ResilientSQLTrackerStore``.

Rasa 3.6's SQLTrackerStore keeps pooled connections that a PostgreSQL restart kills; the next
read or write fails, and Rasa then quietly keeps that conversation in the memory of one
process (its fail-safe store): the citizen gets an answer, but the events never reach the
database, and the next message, served from the database, has forgotten them. The load
benchmark's fault run showed it (15 answered messages missing from the tracker store after a
restart). This store is the same SQLTrackerStore (same tables, same queries, read by the
review tool) with two changes:

- connections are checked before use (``pool_pre_ping``), so a restart costs no failed query;
- a read or a write that fails because the database cannot be reached is tried again, with
  a short back-off, for up to ``TRACKER_STORE_RETRY_SECONDS`` (default 20 s). A write is one
  transaction, so a retried write never stores an event twice. If the database is still
  down after that, the error goes to Rasa as before.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any, Awaitable, Callable, Optional, Text, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)
T = TypeVar("T")


def retry_seconds() -> float:
    return float(os.environ.get("TRACKER_STORE_RETRY_SECONDS", "20"))


def is_connection_error(error: BaseException) -> bool:
    """A database that cannot be reached (down, restarting, connection killed)."""
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError))


class ResilientSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with connection checks and retries while the database restarts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _with_retries(self, what: Text, operation: Callable[[], Awaitable[T]]) -> T:
        deadline = time.monotonic() + retry_seconds()
        delay = 0.2
        while True:
            try:
                return await operation()
            except sa.exc.SQLAlchemyError as error:
                if not is_connection_error(error) or time.monotonic() + delay > deadline:
                    raise
                logger.warning(f"Tracker store unreachable during {what}, trying again in {delay:.1f} s: "
                               f"{str(error).splitlines()[0]}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self._with_retries("save", lambda: super(ResilientSQLTrackerStore, self).save(tracker))

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        return await self._with_retries("retrieve", lambda: super(ResilientSQLTrackerStore, self).retrieve(sender_id))

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        return await self._with_retries(
            "retrieve", lambda: super(ResilientSQLTrackerStore, self).retrieve_full_tracker(conversation_id))
