"""Conversations as the review tool reads them, from a conversation store (read-only).

The conversations live where the assistant's dialogue engine stores them; this module knows
nothing of it. It reads them through a :class:`ConversationStore` (the adapter is
``conversation_store.SQLConversationStore``) as plain :class:`Event` records, and builds the
inbox, the conversation view and the masked texts a trainer sees. Erasure of a conversation
(``townhall.privacy``) and the retention command (``townhall.retention``) go through the same
store.

A conversation is everything one ``sender_id`` said and heard: the widget and Messenger keep
one sender per citizen, and session starts are shown as separators in the conversation view
rather than splitting the inbox, so a trainer sees the whole exchange.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterable, Protocol

from townhall import config, masking
from townhall.text import fold

LOW_CONFIDENCE = 0.6
HANDOFF_INTENTS = {"request_human"}


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


def _known_value(event: "Event") -> tuple[str, str] | None:
    """(slot, value) of a slot event that holds the citizen's own data, else None."""
    name, value = event.name, event.value
    if event.kind == "slot" and name in KNOWN_SLOTS and isinstance(value, (str, int, float)) and str(value).strip():
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


def reading(store_key: str | None, sender_id: str, event_id: int, text: str, known: tuple = (), kind: str = "user") -> Reading:
    """The message's display and search texts, plain and masked; computed once per event
    (and per set of the conversation's own values), then served from memory."""
    text = text or ""
    key = (store_key or "", sender_id, event_id)
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


def _prune(store_key: str | None, senders: set, seen: set) -> None:
    with _readings_lock:
        for key, read in list(_readings.items()):
            if key[0] == (store_key or "") and (key[1] not in senders or (read.kind == "user" and key not in seen)):
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


@dataclass
class Event:
    """One stored event of a conversation, as the store hands it over."""

    kind: str  # user, bot, action, slot, loop (a form started or ended), session (a new session)
    event_id: int  # increasing within a store
    sender_id: str
    timestamp: float  # epoch seconds
    message: Message | None = None  # user
    text: str | None = None  # bot
    buttons: list[dict] = field(default_factory=list)  # bot
    name: str | None = None  # action, slot, loop (None: the form ended)
    value: object = None  # slot
    internal: bool = False  # an action of the engine's own bookkeeping (waiting, session start)
    fallback: bool = False  # the assistant did not understand (the message, or its answer to it)


class ConversationStore(Protocol):
    """Where the conversations are stored (``conversation_store.SQLConversationStore``)."""

    key: str  # names the store in the caches of this module

    def read(self, sender_id: str | None = None, kinds: Iterable[str] | None = None,
             own_slots: Iterable[str] = (), since: float | None = None,
             event_id: int | None = None) -> list[Event]:
        """Events in order, by conversation; ``kinds`` restricts them, and slot events are then
        only those of the slot names ``own_slots`` (when given)."""

    def erase(self, sender_id: str, until: float) -> int:
        """Delete one conversation's events up to ``until`` (epoch seconds); how many went."""

    def age_out(self, cutoff: float):
        """Delete what is older than ``cutoff``; returns ``events`` (count), ``gone`` (conversations
        with nothing left) and ``remaining`` (conversations still stored)."""


def _at(ts: float | None) -> datetime:
    return datetime.fromtimestamp(ts or 0, tz=timezone.utc)


def summaries(store: ConversationStore) -> list[Summary]:
    """One summary per conversation (sender), computed from the store. Each message is
    cut, masked and folded once (:func:`reading`), then served from memory."""
    stored = store.read(kinds=("user", "action", "session"), own_slots=KNOWN_SLOTS)
    known: dict[str, set] = {}
    for event in stored:
        value = _known_value(event)
        if value:
            known.setdefault(event.sender_id, set()).add(value)
    result: dict[str, Summary] = {}
    seen: set = set()
    for event in stored:
        if event.kind == "slot":
            continue
        summary = result.get(event.sender_id)
        at = _at(event.timestamp)
        if summary is None:
            summary = result[event.sender_id] = Summary(event.sender_id, at, at, None)
        summary.last_at = max(summary.last_at, at)
        summary.started_at = min(summary.started_at, at)
        if event.kind == "action":
            if event.fallback:
                summary.has_fallback = True
            if event.name and "handoff" in event.name:
                summary.has_handoff = True
            continue
        if event.kind != "user":
            continue
        message = event.message
        read = reading(store.key, event.sender_id, event.event_id, message.text,
                       tuple(sorted(known.get(event.sender_id, ()))))
        seen.add((store.key, event.sender_id, event.event_id))
        summary.user_messages += 1
        summary.channel = summary.channel or message.channel
        if message.intent:
            summary.intents.add(message.intent)
            summary.has_fallback |= event.fallback
            summary.has_handoff |= message.intent in HANDOFF_INTENTS
        if message.confidence is not None:
            summary.min_confidence = (message.confidence if summary.min_confidence is None
                                      else min(summary.min_confidence, message.confidence))
        if not summary.first_text:
            summary.first_text, summary.masked_first_text = read.display, read.masked
        summary.search_text += " " + read.search
        summary.masked_search_text += " " + read.masked_search
    _prune(store.key, set(result), seen)
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


def inbox(store: ConversationStore, flt: InboxFilter, reviewed: set[str], tags: dict[str, set[str]]) -> list[Summary]:
    """Filter and sort conversations. ``reviewed`` and ``tags`` come from our own tables."""
    items = summaries(store)
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


def channels(store: ConversationStore) -> list[str]:
    return sorted({s.channel for s in summaries(store) if s.channel})


def conversation(store: ConversationStore, sender_id: str, masked: bool = False) -> list[Turn]:
    """Every event worth showing of one conversation, in order. Messages are cut for display
    (DISPLAY_CHARS); with ``masked``, the citizen's contacts and own values are hidden (texts,
    entity and slot values). Texts come from :func:`reading`: masked once, not at each view."""
    stored = store.read(sender_id=sender_id)
    known = tuple(sorted({v for v in map(_known_value, stored) if v}))
    pattern = known_pattern(known) if masked else None

    def text_of(event: Event, text: str) -> str:
        read = reading(store.key, sender_id, event.event_id, text, known, kind=event.kind)
        return read.masked if masked else read.display

    turns: list[Turn] = []
    for event in stored:
        at = _at(event.timestamp)
        kind = event.kind
        if kind == "user":
            message = event.message
            message.text = text_of(event, message.text)
            message.entities = [dict(e, value=masking.mask_value(e.get("value"), known=pattern) if masked else e.get("value"))
                                for e in message.entities if e["end"] <= min(len(message.text), DISPLAY_CHARS)]
            turns.append(Turn("user", event.event_id, at, message=message))
        elif kind == "bot":
            turns.append(Turn("bot", event.event_id, at, text=text_of(event, event.text or ""), buttons=event.buttons))
        elif kind == "action" and not event.internal:
            turns.append(Turn("action", event.event_id, at, name=event.name))
        elif kind == "slot" and event.name not in ("requested_slot",):
            value = event.value
            if masked:
                value = masking.mask_value(value, known=pattern)
            turns.append(Turn("slot", event.event_id, at, name=event.name, value=value))
        elif kind == "loop":
            turns.append(Turn("loop", event.event_id, at, name=event.name))
        elif kind == "session":
            turns.append(Turn("session", event.event_id, at))
    return turns


def user_message(store: ConversationStore, sender_id: str, event_id: int) -> Message | None:
    found = store.read(sender_id=sender_id, kinds=("user",), event_id=event_id)
    return found[0].message if found else None


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
