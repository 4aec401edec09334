"""Conversations as Rasa stored them, read from its SQL tracker store (read-only).

Rasa 3.6's ``SQLTrackerStore`` keeps one row per event in ``events`` (id, sender_id,
type_name, timestamp, intent_name, action_name, data as JSON). Our tracker store
(``deploy.tracker_store``) adds ``tracker_snapshots``: one row per conversation with its state
at a turn boundary, so that Rasa reads only the recent events (``deploy.tracker_window``). We
only SELECT from ``events`` here; the retention command (``townhall.retention``) and the
erasure of a conversation (``townhall.privacy``) are the only code that deletes rows in either
table, and they delete a conversation's snapshot with its events (it holds its slots: name,
e-mail, phone).

A conversation is everything one ``sender_id`` said and heard: the widget and Messenger keep
one sender per citizen, and Rasa's ``session_started`` events are shown as separators in the
conversation view rather than splitting the inbox, so a trainer sees the whole exchange.
"""
from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, and_, create_engine, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from townhall import config, masking
from townhall.text import fold

LOW_CONFIDENCE = 0.6
FALLBACK_INTENTS = {"nlu_fallback"}
FALLBACK_ACTIONS = {"action_default_fallback", "action_two_stage_fallback", "utter_default",
                    "utter_ask_rephrase", "utter_please_rephrase"}
HANDOFF_INTENTS = {"request_human"}

_metadata = MetaData()
events = Table(
    "events", _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

tracker_snapshots = Table(
    "tracker_snapshots", _metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("event_id", Integer, nullable=False),  # last event of ``events`` the snapshot covers
    Column("events", Text, nullable=False),  # JSON list of the events that rebuild the state
    Column("timestamp", Float, nullable=False),  # when it was written
)


def delete_snapshots(conn, sender_ids) -> int:
    """Delete the snapshots of these conversations; nothing if there is no table yet."""
    if not conn.dialect.has_table(conn, "tracker_snapshots"):
        return 0
    statement = tracker_snapshots.delete().where(tracker_snapshots.c.sender_id.in_(list(sender_ids)))
    return conn.execute(statement).rowcount or 0


def delete_orphan_snapshots(conn) -> int:
    """Delete the snapshots whose last event is gone (older sessions purged, erasure)."""
    if not conn.dialect.has_table(conn, "tracker_snapshots"):
        return 0
    covered = select(events.c.id).where(events.c.id == tracker_snapshots.c.event_id).exists()
    return conn.execute(tracker_snapshots.delete().where(~covered)).rowcount or 0

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def engine(url: str | None = None) -> Engine:
    """Our own engine on Rasa's database: no pragmas, nothing created."""
    url = url or config.tracker_database_url()
    with _lock:
        if url not in _engines:
            args = {"check_same_thread": False, "timeout": 30} if url.startswith("sqlite") else {}
            _engines[url] = create_engine(url, future=True, connect_args=args)
        return _engines[url]


def dispose(url: str) -> None:
    with _lock:
        eng = _engines.pop(url, None)
    if eng is not None:
        eng.dispose()


# --- masking of contacts (for trainers), once per message ------------------------------

# The slots whose values are the citizen's own data, hidden wherever they appear in the
# conversation (shared/CONTRACT.md 4).
KNOWN_SLOTS = ("citizen_name", "citizen_email", "citizen_phone", "ants_predemande", "incident_location")
NAME_SLOTS = ("citizen_name",)
mask_contacts = masking.mask_contacts
mask_value = masking.mask_value


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


DISPLAY_CHARS = _env_int("TOWNHALL_REVIEW_DISPLAY_CHARS", 2000)  # longer messages are cut for display
SEARCH_CHARS = 4000  # what the inbox search looks at in each message
CACHE_SIZE = _env_int("TOWNHALL_REVIEW_CACHE_SIZE", 50000)  # messages


@dataclass(frozen=True)
class Reading:
    """What the review tool shows of one message, computed once: cut, masked, folded."""

    fingerprint: tuple
    kind: str  # user or bot
    display: str
    masked: str
    search: str
    masked_search: str


_readings: "OrderedDict[tuple[str, int], Reading]" = OrderedDict()
_readings_lock = threading.Lock()


def _known_value(row, data: dict) -> tuple[str, str] | None:
    """(slot, value) of a slot event that holds the citizen's own data, else None."""
    name, value = data.get("name"), data.get("value")
    if name in KNOWN_SLOTS and isinstance(value, (str, int, float)) and str(value).strip():
        return name, str(value)[:500]
    return None


@lru_cache(maxsize=256)
def known_pattern(known: tuple):
    """The pattern hiding a conversation's own values ``((slot, value), ...)``, or None."""
    if not known:
        return None
    return masking.known_patterns([v for _, v in known], names=[v for k, v in known if k in NAME_SLOTS])


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters; the contacts are found with some text after the cut, so
    that a phone number cut in two is still hidden."""
    return text if len(text) <= limit else text[:limit + 64]


def _shown(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def reading(url: str | None, sender_id: str, event_id: int, text: str, known: tuple = (), kind: str = "user") -> Reading:
    """The message's display and search texts, plain and masked; computed once per event
    (and per set of the conversation's own values), then served from memory."""
    text = text or ""
    key = (url or "", sender_id, event_id)
    fingerprint = (len(text), hash(text), known)
    with _readings_lock:
        cached = _readings.get(key)
        if cached is not None and cached.fingerprint == fingerprint:
            _readings.move_to_end(key)
            return cached
    pattern = known_pattern(known)
    searched = _cut(text, SEARCH_CHARS)
    masked = masking.mask_contacts(searched, known=pattern)[:len(searched)]
    result = Reading(
        fingerprint=fingerprint,
        kind=kind,
        display=_shown(text, DISPLAY_CHARS),
        masked=masked[:DISPLAY_CHARS] + "…" if len(text) > DISPLAY_CHARS else masked,
        search=fold(text[:SEARCH_CHARS]),
        masked_search=fold(masked[:SEARCH_CHARS]),
    )
    with _readings_lock:
        _readings[key] = result
        _readings.move_to_end(key)
        while len(_readings) > CACHE_SIZE:
            _readings.popitem(last=False)
    return result


def forget(sender_ids=None) -> None:
    """Drop the cached readings of these conversations (all of them with None).

    Erasure and retention call it (same process); :func:`summaries` also drops, at each full
    read, the readings of the messages and conversations that are gone, so that an erasure
    done by another process leaves nothing here either."""
    with _readings_lock:
        if sender_ids is None:
            _readings.clear()
            return
        senders = set(sender_ids)
        for key in [k for k in _readings if k[1] in senders]:
            del _readings[key]


def _prune(url: str | None, senders: set, seen: set) -> None:
    with _readings_lock:
        for key, read in list(_readings.items()):
            if key[0] == (url or "") and (key[1] not in senders or (read.kind == "user" and key not in seen)):
                del _readings[key]


# --- reading -----------------------------------------------------------------------------

@dataclass
class Message:
    """One citizen message and what the NLU made of it."""

    event_id: int
    sender_id: str
    timestamp: float
    text: str
    intent: str | None
    confidence: float | None
    alternatives: list[tuple[str, float]]
    entities: list[dict]
    channel: str | None
    message_id: str | None

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp or 0, tz=timezone.utc)


@dataclass
class Turn:
    """An item of the conversation view."""

    kind: str  # user, bot, action, slot, loop, session
    event_id: int
    at: datetime
    message: Message | None = None
    text: str | None = None
    name: str | None = None
    value: object = None
    buttons: list[dict] = field(default_factory=list)


@dataclass
class Summary:
    sender_id: str
    started_at: datetime
    last_at: datetime
    channel: str | None
    user_messages: int = 0
    min_confidence: float | None = None
    intents: set[str] = field(default_factory=set)
    has_fallback: bool = False
    has_handoff: bool = False
    first_text: str = ""  # cut for display (see DISPLAY_CHARS)
    masked_first_text: str = ""
    search_text: str = ""
    masked_search_text: str = ""


def _data(row) -> dict:
    try:
        value = json.loads(row.data or "{}")
        return value if isinstance(value, dict) else {}
    except ValueError:
        return {}


def _at(ts: float | None) -> datetime:
    return datetime.fromtimestamp(ts or 0, tz=timezone.utc)


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


def _rows(url: str | None, query):
    try:
        with engine(url).connect() as conn:
            return list(conn.execute(query))
    except (OperationalError, ProgrammingError):  # Rasa has not created its table yet
        return []


def _known_slots_filter():
    """Slot events of the citizen's own data (name, e-mail, phone, ANTS numbers, address)."""
    return and_(events.c.type_name == "slot", or_(*[events.c.data.contains(f'"{name}"') for name in KNOWN_SLOTS]))


def summaries(url: str | None = None) -> list[Summary]:
    """One summary per conversation (sender), computed from the tracker store. Each message is
    cut, masked and folded once (:func:`reading`), then served from memory."""
    query = (select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp,
                    events.c.intent_name, events.c.action_name, events.c.data)
             .where(or_(events.c.type_name.in_(("user", "action", "session_started")), _known_slots_filter()))
             .order_by(events.c.sender_id, events.c.id))
    rows = _rows(url, query)
    known: dict[str, set] = {}
    for row in rows:
        if row.type_name == "slot":
            value = _known_value(row, _data(row))
            if value:
                known.setdefault(row.sender_id, set()).add(value)
    result: dict[str, Summary] = {}
    seen: set = set()
    for row in rows:
        summary = result.get(row.sender_id)
        at = _at(row.timestamp)
        if row.type_name == "slot":
            continue
        if summary is None:
            summary = result[row.sender_id] = Summary(row.sender_id, at, at, None)
        summary.last_at = max(summary.last_at, at)
        summary.started_at = min(summary.started_at, at)
        if row.type_name == "action":
            if row.action_name in FALLBACK_ACTIONS:
                summary.has_fallback = True
            if row.action_name and "handoff" in row.action_name:
                summary.has_handoff = True
            continue
        if row.type_name != "user":
            continue
        message = _message(row, _data(row))
        read = reading(url, row.sender_id, row.id, message.text, tuple(sorted(known.get(row.sender_id, ()))))
        seen.add((url or "", row.sender_id, row.id))
        summary.user_messages += 1
        summary.channel = summary.channel or message.channel
        if message.intent:
            summary.intents.add(message.intent)
            summary.has_fallback |= message.intent in FALLBACK_INTENTS
            summary.has_handoff |= message.intent in HANDOFF_INTENTS
        if message.confidence is not None:
            summary.min_confidence = (message.confidence if summary.min_confidence is None
                                      else min(summary.min_confidence, message.confidence))
        if not summary.first_text:
            summary.first_text, summary.masked_first_text = read.display, read.masked
        summary.search_text += " " + read.search
        summary.masked_search_text += " " + read.masked_search
    _prune(url, set(result), seen)
    return [s for s in result.values() if s.user_messages]


@dataclass
class InboxFilter:
    start: date | None = None
    end: date | None = None
    channel: str | None = None
    intent: str | None = None
    low_confidence: bool = False
    fallback: bool = False
    handoff: bool = False
    reviewed: str | None = None  # "yes", "no" or None
    tag: str | None = None
    query: str | None = None
    sort: str = "newest"  # newest | confidence
    masked: bool = False  # search only what a trainer may see (contacts hidden)


def inbox(url: str | None, flt: InboxFilter, reviewed: set[str], tags: dict[str, set[str]]) -> list[Summary]:
    """Filter and sort conversations. ``reviewed`` and ``tags`` come from our own tables."""
    items = summaries(url)
    tz = config.TIMEZONE
    if flt.start:
        since = datetime.combine(flt.start, datetime.min.time(), tz)
        items = [s for s in items if s.last_at >= since]
    if flt.end:
        until = datetime.combine(flt.end + timedelta(days=1), datetime.min.time(), tz)
        items = [s for s in items if s.started_at < until]
    if flt.channel:
        items = [s for s in items if s.channel == flt.channel]
    if flt.intent:
        items = [s for s in items if flt.intent in s.intents]
    if flt.low_confidence:
        items = [s for s in items if s.min_confidence is not None and s.min_confidence < LOW_CONFIDENCE]
    if flt.fallback:
        items = [s for s in items if s.has_fallback]
    if flt.handoff:
        items = [s for s in items if s.has_handoff]
    if flt.reviewed == "yes":
        items = [s for s in items if s.sender_id in reviewed]
    elif flt.reviewed == "no":
        items = [s for s in items if s.sender_id not in reviewed]
    if flt.tag:
        items = [s for s in items if flt.tag in tags.get(s.sender_id, set())]
    if flt.query and fold(flt.query):
        words = fold(flt.query).split()
        items = [s for s in items
                 if all(w in (s.masked_search_text if flt.masked else s.search_text) for w in words)]
    if flt.sort == "confidence":
        items.sort(key=lambda s: (s.min_confidence if s.min_confidence is not None else 1.0, -s.last_at.timestamp()))
    else:
        items.sort(key=lambda s: s.last_at, reverse=True)
    return items


def channels(url: str | None = None) -> list[str]:
    return sorted({s.channel for s in summaries(url) if s.channel})


def conversation(url: str | None, sender_id: str, masked: bool = False) -> list[Turn]:
    """Every event worth showing of one conversation, in order. Messages are cut for display
    (DISPLAY_CHARS); with ``masked``, the citizen's contacts and own values are hidden (texts,
    entity and slot values). Texts come from :func:`reading`: masked once, not at each view."""
    query = select(events).where(events.c.sender_id == sender_id).order_by(events.c.id)
    rows = [(row, _data(row)) for row in _rows(url, query)]
    known = tuple(sorted({v for v in (_known_value(row, data) for row, data in rows
                                      if row.type_name == "slot") if v}))
    pattern = known_pattern(known) if masked else None

    def text_of(row, text: str) -> str:
        read = reading(url, sender_id, row.id, text, known, kind=row.type_name)
        return read.masked if masked else read.display

    turns: list[Turn] = []
    for row, data in rows:
        at = _at(row.timestamp)
        kind = row.type_name
        if kind == "user":
            message = _message(row, data)
            message.text = text_of(row, message.text)
            message.entities = [dict(e, value=masking.mask_value(e.get("value"), known=pattern) if masked else e.get("value"))
                                for e in message.entities if e["end"] <= min(len(message.text), DISPLAY_CHARS)]
            turns.append(Turn("user", row.id, at, message=message))
        elif kind == "bot":
            buttons = (data.get("data") or {}).get("buttons") or []
            turns.append(Turn("bot", row.id, at, text=text_of(row, data.get("text") or ""), buttons=buttons))
        elif kind == "action" and row.action_name not in ("action_listen", "action_session_start"):
            turns.append(Turn("action", row.id, at, name=row.action_name))
        elif kind == "slot" and data.get("name") not in ("requested_slot",):
            value = data.get("value")
            if masked:
                value = masking.mask_value(value, known=pattern)
            turns.append(Turn("slot", row.id, at, name=data.get("name"), value=value))
        elif kind == "active_loop":
            turns.append(Turn("loop", row.id, at, name=data.get("name")))
        elif kind == "session_started":
            turns.append(Turn("session", row.id, at))
    return turns


def user_message(url: str | None, sender_id: str, event_id: int) -> Message | None:
    query = select(events).where(events.c.sender_id == sender_id, events.c.id == event_id,
                                 events.c.type_name == "user")
    rows = _rows(url, query)
    return _message(rows[0], _data(rows[0])) if rows else None


def final_slots(turns: list[Turn]) -> dict:
    slots: dict = {}
    for turn in turns:
        if turn.kind == "slot":
            slots[turn.name] = turn.value
    return {k: v for k, v in slots.items() if v is not None}


def active_form(turns: list[Turn]) -> str | None:
    form = None
    for turn in turns:
        if turn.kind == "loop":
            form = turn.name
    return form
