"""Rasa's SQL tracker store, made to ride out a database restart without losing events, and
to read a bounded window of a long conversation.

endpoints.yml and endpoints.production.yml:
``tracker_store: type: deploy.tracker_store.ResilientSQLTrackerStore``.

Rasa 3.6's SQLTrackerStore keeps pooled connections that a PostgreSQL restart kills; the next
read or write fails, and Rasa then quietly keeps that conversation in the memory of one
process (its fail-safe store): the citizen gets an answer, but the events never reach the
database, and the next message, served from the database, has forgotten them. The load
benchmark's fault run showed it (15 answered messages missing from the tracker store after a
restart). This store is the same SQLTrackerStore (same ``events`` table, read by the review tool) with
these changes:

- a read or a write that fails because the database cannot be reached is tried again, with
  a short back-off (tenacity), for up to ``TRACKER_STORE_RETRY_SECONDS`` (default 20 s). A write is one
  transaction, so a retried write never stores an event twice. If the database is still
  down after that, the error goes to Rasa as before. (SQLAlchemy drops the whole pool when
  one connection turns out dead, so a restart costs one failed query, tried again; checking
  every connection before use cost a round trip per read and write, 2 % of a Rasa process);
- a conversation is read as its snapshot plus the events after it (``deploy.tracker_window``),
  so a message costs the same at the 60th message as at the 5th; the new events of a tracker
  are those after the conversation's last stored row, found in the tracker by content
  (``tracker_window.stored_through``), so no event the tracker holds can be taken for stored
  by mistake; a tracker that does not hold that row is saved as Rasa does, by counting;
- reads and writes are plain SQL statements built once (Rasa's ORM queries and flushes cost a
  quarter of a Rasa process's CPU under load, measured with py-spy).

The tables are declared in ``conversation_store`` (the one place that knows how Rasa stores
conversations). These changes rely on Rasa 3.6's SQLTrackerStore: with another Rasa version
the store says so in the log and behaves exactly as Rasa's own SQLTrackerStore.
"""
from __future__ import annotations

import json
import logging
import os
import time
from typing import Any, Awaitable, Callable, List, Optional, Text, TypeVar

import rasa
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from tenacity import AsyncRetrying, retry_if_exception, stop_before_delay, wait_exponential
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from conversation_store import tracker_snapshots
from deploy import tracker_window
from deploy.tracker_window import WindowState

logger = logging.getLogger(__name__)
T = TypeVar("T")


SUPPORTED_RASA = "3.6."
TAIL_ROWS = 3  # the last stored rows looked for in a tracker being saved


def rasa_supported(version: Optional[str] = None) -> bool:
    """Whether this store's changes apply to the installed Rasa (3.6.x)."""
    return (version or rasa.__version__).startswith(SUPPORTED_RASA)


def retry_seconds() -> float:
    return float(os.environ.get("TRACKER_STORE_RETRY_SECONDS", "20"))


def is_connection_error(error: BaseException) -> bool:
    """A database that cannot be reached (down, restarting, connection killed)."""
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError))


class ResilientSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with retries while the database restarts, and a bounded read of long
    conversations (a snapshot plus the recent events)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events_table = events = self.SQLEvent.__table__
        self.changes_apply = rasa_supported()
        if not self.changes_apply:
            logger.warning(f"Rasa {rasa.__version__} is not {SUPPORTED_RASA}x: the tracker store works as Rasa's "
                           f"own SQLTrackerStore (no retries, every event read)")
            return
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        tracker_snapshots.metadata.create_all(self.engine, tables=[tracker_snapshots])
        snapshots = tracker_snapshots
        sender = sa.bindparam("sender")
        session_start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(events.c.sender_id == sender, events.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        in_session = sa.and_(events.c.sender_id == sender,
                             sa.or_(session_start.is_(None), events.c.timestamp >= session_start))
        # Built once: SQLAlchemy then reuses their compiled form.
        self._select_snapshot = sa.select(snapshots.c.event_id, snapshots.c.events).where(
            snapshots.c.sender_id == sender)
        self._select_from = (sa.select(events.c.id, events.c.type_name, events.c.data)
                             .where(events.c.sender_id == sender, events.c.id >= sa.bindparam("first"))
                             .order_by(events.c.id))
        self._select_session = (sa.select(events.c.id, events.c.type_name, events.c.data)
                                .where(in_session).order_by(events.c.id))
        self._count_session = sa.select(sa.func.count()).select_from(events).where(in_session)
        self._count_after = sa.select(sa.func.count()).select_from(events).where(
            events.c.sender_id == sender, events.c.id > sa.bindparam("after"))
        # One round trip before a write: the conversation's last rows and its snapshot.
        tail = (sa.select(sa.literal(False).label("snapshot"), events.c.id, events.c.data)
                .where(events.c.sender_id == sender).order_by(events.c.id.desc()).limit(TAIL_ROWS).subquery())
        self._tail_and_snapshot = sa.union_all(
            sa.select(tail.c.snapshot, tail.c.id, tail.c.data),
            sa.select(sa.literal(True), snapshots.c.event_id, snapshots.c.events).where(snapshots.c.sender_id == sender))
        self._row_from_end = (sa.select(events.c.id, events.c.type_name).where(events.c.sender_id == sender)
                              .order_by(events.c.id.desc()).limit(1).offset(sa.bindparam("back")))
        self._delete_snapshot = snapshots.delete().where(snapshots.c.sender_id == sender)
        self._update_snapshot = snapshots.update().where(snapshots.c.sender_id == sender)

    async def _with_retries(self, what: Text, operation: Callable[..., Awaitable[T]], *args: Any) -> T:
        def log(state: Any) -> None:
            logger.warning(f"Tracker store unreachable during {what}, trying again in "
                           f"{state.next_action.sleep:.1f} s: {str(state.outcome.exception()).splitlines()[0]}")

        retrying = AsyncRetrying(retry=retry_if_exception(is_connection_error),
                                 wait=wait_exponential(multiplier=0.2, max=2.0),
                                 stop=stop_before_delay(retry_seconds()), before_sleep=log, reraise=True)
        return await retrying(operation, *args)  # a coroutine function: tenacity awaits each attempt

    async def save(self, tracker: DialogueStateTracker) -> None:
        if not self.changes_apply:
            return await super().save(tracker)
        await self._with_retries("save", self._save, tracker)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        if not self.changes_apply:
            return await super().retrieve(sender_id)
        return await self._with_retries("retrieve", self._retrieve_window, sender_id)

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        if not self.changes_apply:
            return await super().retrieve_full_tracker(conversation_id)
        return await self._with_retries("retrieve", super().retrieve_full_tracker, conversation_id)

    # ------------------------------------------------------------------ reading

    async def _retrieve_window(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest session as its snapshot plus the events after it (all, without one)."""
        prefix: List[dict] = []
        rows = None
        with self.engine.connect() as conn:
            snapshot = conn.execute(self._select_snapshot, {"sender": sender_id}).first()
            if snapshot is not None:
                rows = conn.execute(self._select_from, {"sender": sender_id, "first": snapshot.event_id}).all()
                valid = (rows and rows[0].id == snapshot.event_id
                         and all(r.type_name != SessionStarted.type_name for r in rows[1:]))
                if valid:
                    prefix, rows = json.loads(snapshot.events), rows[1:]
                else:  # a new session since, or events erased: the snapshot no longer applies
                    with conn.begin():
                        conn.execute(self._delete_snapshot, {"sender": sender_id})
                    rows = None
            if rows is None:
                rows = conn.execute(self._select_session, {"sender": sender_id}).all()
        if not self.domain or not (prefix or rows):
            return None
        return DialogueStateTracker.from_dict(
            sender_id, prefix + [json.loads(row.data) for row in rows], self.domain.slots)

    # ------------------------------------------------------------------ writing

    async def _save(self, tracker: DialogueStateTracker) -> None:
        all_events = list(tracker.events)
        with self.engine.begin() as conn:
            state = self._stored_part(conn, tracker.sender_id, all_events)
            new_events = all_events[state.stored:]
            rows = []
            for event in new_events:
                data = event.as_dict()
                rows.append({
                    "sender_id": tracker.sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                })
            if rows:
                conn.execute(self.events_table.insert(), rows)
            written = WindowState(state.prefix, len(all_events))
            snapshot = tracker_window.next_snapshot(tracker.sender_id, all_events, written, self.domain.slots) \
                if self.domain and new_events else None
            if snapshot is not None:
                self._write_snapshot(conn, tracker.sender_id, snapshot)
        if self.event_broker is not None and new_events:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        logger.debug(f"Tracker with sender_id '{tracker.sender_id}' stored to database")

    def _stored_part(self, conn: Any, sender_id: Text, events: List[Any]) -> WindowState:
        """Which of the tracker's events are a snapshot's, and which are already stored."""
        found = conn.execute(self._tail_and_snapshot, {"sender": sender_id}).all()
        snapshot = next((row for row in found if row.snapshot), None)
        tail = sorted((row for row in found if not row.snapshot), key=lambda row: row.id, reverse=True)
        prefix = tracker_window.prefix_of(events, json.loads(snapshot.data)) if snapshot is not None else 0
        if not tail:
            return WindowState(prefix, prefix)
        stored = tracker_window.stored_through(events, tail, prefix)
        if stored is None:  # a tracker built elsewhere: Rasa's way, by counting the stored events
            if prefix:
                logger.warning(f"Tracker of '{sender_id}' does not hold its last stored event: events "
                               f"counted after its snapshot")
                count = conn.execute(self._count_after, {"sender": sender_id, "after": snapshot.id})
                stored = prefix + count.scalar_one()
            else:
                stored = conn.execute(self._count_session, {"sender": sender_id}).scalar_one()
        return WindowState(prefix, min(stored, len(events)))

    def _write_snapshot(self, conn: Any, sender_id: Text, snapshot: tracker_window.Snapshot) -> None:
        # The tracker's events are the conversation's last rows: the boundary is ``after`` rows
        # before the end.
        boundary = conn.execute(self._row_from_end, {"sender": sender_id, "back": snapshot.after}).first()
        if boundary is None or boundary.type_name != snapshot.last_type:
            logger.warning(f"No snapshot for '{sender_id}': its stored events do not match the tracker")
            return
        values = {"event_id": boundary.id, "events": json.dumps(snapshot.events), "timestamp": time.time()}
        if not conn.execute(self._update_snapshot, {"sender": sender_id, **values}).rowcount:
            conn.execute(tracker_snapshots.insert(), {"sender_id": sender_id, **values})
