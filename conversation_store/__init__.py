"""Conversations as Rasa stores them: the one place that knows Rasa's SQL tracker store.

Rasa 3.6's ``SQLTrackerStore`` keeps one row per event in ``events`` (id, sender_id,
type_name, timestamp, intent_name, action_name, data as JSON). Our tracker store
(``deploy.tracker_store``) adds ``tracker_snapshots``: one row per conversation with its state
at a turn boundary, so that Rasa reads only the recent events (``deploy.tracker_window``).

:class:`SQLConversationStore` is the adapter that ``townhall`` uses through its own protocol
(``townhall.review.conversations.ConversationStore``): it reads conversations as plain
records (:class:`townhall.review.conversations.Event`), erases one conversation and ages out
old ones. A Rasa upgrade that changes how conversations are stored touches this package and
``deploy.tracker_store`` (version-guarded), nothing in ``townhall``.

This package sits beside ``townhall`` (not inside it) because it is an adapter to Rasa, like
``actions`` and ``channels``; the back office, the action server, the retention command and
the Rasa tracker store all use it, so it does not belong to any one of them either.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, and_, create_engine, delete, func, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from townhall.review.conversations import Event, Message

metadata = MetaData()
events = Table(  # Rasa 3.6's table (rasa.core.tracker_store.SQLTrackerStore.SQLEvent)
    "events", metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

tracker_snapshots = Table(  # ours (deploy.tracker_store)
    "tracker_snapshots", metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("event_id", Integer, nullable=False),  # last event of ``events`` the snapshot covers
    Column("events", Text, nullable=False),  # JSON list of the events that rebuild the state
    Column("timestamp", Float, nullable=False),  # when it was written
)

# Rasa's event types -> the kinds of ``townhall.review.conversations.Event``.
KINDS = {"user": "user", "bot": "bot", "action": "action", "slot": "slot", "active_loop": "loop",
         "session_started": "session"}
RASA_TYPES = {kind: type_name for type_name, kind in KINDS.items()}
# Rasa's own bookkeeping actions, never shown as a step of the conversation.
INTERNAL_ACTIONS = {"action_listen", "action_session_start"}
# What Rasa (and our domain) predict when the assistant did not understand.
FALLBACK_INTENTS = {"nlu_fallback"}
FALLBACK_ACTIONS = {"action_default_fallback", "action_two_stage_fallback", "utter_default",
                    "utter_ask_rephrase", "utter_please_rephrase"}


def delete_snapshots(conn: Connection, sender_ids: Iterable[str]) -> int:
    """Delete the snapshots of these conversations; nothing if there is no table yet."""
    if not conn.dialect.has_table(conn, "tracker_snapshots"):
        return 0
    statement = tracker_snapshots.delete().where(tracker_snapshots.c.sender_id.in_(list(sender_ids)))
    return conn.execute(statement).rowcount or 0


def delete_orphan_snapshots(conn: Connection) -> int:
    """Delete the snapshots whose last event is gone (older sessions purged, erasure)."""
    if not conn.dialect.has_table(conn, "tracker_snapshots"):
        return 0
    covered = select(events.c.id).where(events.c.id == tracker_snapshots.c.event_id).exists()
    return conn.execute(tracker_snapshots.delete().where(~covered)).rowcount or 0


# --- Rasa's event JSON -> plain records -------------------------------------------------

def _data(raw: str | None) -> dict:
    try:
        value = json.loads(raw or "{}")
        return value if isinstance(value, dict) else {}
    except ValueError:
        return {}


def _message(row, data: dict) -> Message:
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    name = intent.get("name") or row.intent_name
    ranking = [(r.get("name"), float(r.get("confidence") or 0)) for r in parse.get("intent_ranking") or []
               if r.get("name") and r.get("name") != name]
    entities = []
    seen = set()
    for e in parse.get("entities") or []:
        if not isinstance(e, dict) or "start" not in e or "end" not in e:
            continue
        key = (e.get("start"), e.get("end"), e.get("entity"))
        if key in seen:
            continue
        seen.add(key)
        entities.append({"start": int(e["start"]), "end": int(e["end"]), "entity": e.get("entity"),
                         "value": e.get("value"), "extractor": e.get("extractor")})
    confidence = intent.get("confidence")
    return Message(event_id=row.id, sender_id=row.sender_id, timestamp=row.timestamp or 0,
                   text=data.get("text") or "", intent=name,
                   confidence=float(confidence) if confidence is not None else None,
                   alternatives=ranking[:3], entities=sorted(entities, key=lambda e: e["start"]),
                   channel=data.get("input_channel"), message_id=data.get("message_id"))


def to_event(row) -> Event | None:
    """The plain record of one stored Rasa event, or None for what the review never shows."""
    kind = KINDS.get(row.type_name)
    if kind is None:
        return None
    data = _data(row.data)
    event = Event(kind=kind, event_id=row.id, sender_id=row.sender_id, timestamp=row.timestamp or 0,
                  internal=kind == "action" and row.action_name in INTERNAL_ACTIONS)
    if kind == "user":
        event.message = _message(row, data)
        event.fallback = event.message.intent in FALLBACK_INTENTS
    elif kind == "bot":
        event.text = data.get("text") or ""
        event.buttons = (data.get("data") or {}).get("buttons") or []
    elif kind == "action":
        event.name = row.action_name
        event.fallback = row.action_name in FALLBACK_ACTIONS
    elif kind in ("slot", "loop"):
        event.name, event.value = data.get("name"), data.get("value")
    return event


# --- the store --------------------------------------------------------------------------

@dataclass
class AgedOut:
    events: int = 0
    gone: set = field(default_factory=set)  # conversations with no event left
    remaining: set = field(default_factory=set)  # conversations still stored


_engines: dict[str, Engine] = {}
_stores: dict[str, "SQLConversationStore"] = {}
_lock = threading.Lock()


def _engine(url: str) -> Engine:
    """Our own engine on Rasa's database: no pragmas, nothing created."""
    with _lock:
        if url not in _engines:
            args = {"check_same_thread": False, "timeout": 30} if url.startswith("sqlite") else {}
            _engines[url] = create_engine(url, future=True, connect_args=args)
        return _engines[url]


def dispose(url: str) -> None:
    """Close the connections to this database (tests, before deleting a file)."""
    with _lock:
        eng = _engines.pop(url, None)
        _stores.pop(url, None)
    if eng is not None:
        eng.dispose()


def open_store(url: str | None = None) -> "SQLConversationStore":
    """The store of the tracker database at ``url`` (default: ``TRACKER_DATABASE_URL``)."""
    if url is None:
        from townhall import config

        url = config.tracker_database_url()
    with _lock:
        if url not in _stores:
            _stores[url] = SQLConversationStore(url)
        return _stores[url]


class SQLConversationStore:
    """Rasa's SQL tracker store, read and pruned for ``townhall`` (SQLite and PostgreSQL)."""

    def __init__(self, url: str):
        self.url = url
        self.key = url  # names this store in the review tool's caches

    @property
    def engine(self) -> Engine:
        return _engine(self.url)

    def read(self, sender_id: str | None = None, kinds: Iterable[str] | None = None,
             own_slots: Iterable[str] = (), since: float | None = None, event_id: int | None = None) -> list[Event]:
        """Stored events in order (by conversation, then as they happened), as plain records.

        ``kinds`` restricts to those kinds (user, bot, action, slot, loop, session); slot events
        are then read only for the slot names in ``own_slots``, if any are given."""
        conditions = []
        if sender_id is not None:
            conditions.append(events.c.sender_id == sender_id)
        if since is not None:
            conditions.append(events.c.timestamp >= since)
        if event_id is not None:
            conditions.append(events.c.id == event_id)
        if kinds is not None:
            kinds = set(kinds)
            wanted = [events.c.type_name.in_(sorted(RASA_TYPES[k] for k in kinds - {"slot"}))]
            if "slot" in kinds and not own_slots:
                wanted.append(events.c.type_name == "slot")
            if own_slots:
                wanted.append(and_(events.c.type_name == "slot",
                                   or_(*[events.c.data.contains(f'"{name}"') for name in own_slots])))
            conditions.append(or_(*wanted))
        query = select(events).where(*conditions).order_by(events.c.sender_id, events.c.id)
        try:
            with self.engine.connect() as conn:
                rows = list(conn.execute(query))
        except (OperationalError, ProgrammingError):  # Rasa has not created its table yet
            return []
        found = [to_event(row) for row in rows]
        own = set(own_slots)
        return [e for e in found if e is not None and not (own and e.kind == "slot" and e.name not in own)]

    def erase(self, sender_id: str, until: float) -> int:
        """Delete the conversation's events stored up to ``until`` (epoch seconds), and its
        snapshot (its state, slots included). Returns how many events were deleted."""
        with self.engine.begin() as conn:
            if not conn.dialect.has_table(conn, "events"):
                return 0
            delete_snapshots(conn, [sender_id])
            result = conn.execute(delete(events).where(events.c.sender_id == sender_id, events.c.timestamp <= until))
            return result.rowcount or 0

    def age_out(self, cutoff: float) -> AgedOut:
        """Delete every conversation whose last event is older than ``cutoff`` (epoch seconds),
        and the old sessions of a conversation still going on — never its current session,
        whose events Rasa counts when it appends new ones."""
        result = AgedOut()
        try:
            with self.engine.begin() as conn:
                old = set(conn.execute(select(events.c.sender_id).group_by(events.c.sender_id)
                                       .having(func.max(events.c.timestamp) < cutoff)).scalars())
                senders = sorted(old)
                for i in range(0, len(senders), 500):
                    result.events += conn.execute(delete(events).where(
                        events.c.sender_id.in_(senders[i:i + 500]))).rowcount or 0
                later = events.alias("later_session")
                current_session_start = (select(func.max(later.c.id))
                                         .where(later.c.sender_id == events.c.sender_id,
                                                later.c.type_name == "session_started")
                                         .scalar_subquery())
                result.events += conn.execute(delete(events).where(
                    events.c.timestamp < cutoff, events.c.id < current_session_start)).rowcount or 0
                result.remaining = set(conn.execute(select(events.c.sender_id).distinct()).scalars())
                # Snapshots (a conversation's slots) go with the events they cover.
                delete_snapshots(conn, old - result.remaining)
                delete_orphan_snapshots(conn)
        except (OperationalError, ProgrammingError) as exc:  # no table before Rasa's first conversation
            if "events" not in str(exc).lower():
                raise
            return AgedOut()
        result.gone = old - result.remaining
        return result
