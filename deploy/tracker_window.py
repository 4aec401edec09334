"""A bounded view of a conversation for Rasa: a snapshot of its state, then its recent events.

Rasa rebuilds a conversation from every event of its session for each message: the tracker
store reads them all, the policies turn the whole history into states (several times per
message), and the action server receives them all. The cost of a message grows with the
length of the conversation (the load benchmark's long run: 160 ms at message 5, 262 ms at
message 60), although the policies only look at the last few turns (``max_history``).

The tracker store (``deploy.tracker_store``) therefore keeps, beside Rasa's ``events`` table,
one snapshot per conversation (``conversation_store.tracker_snapshots``): the state
of the conversation at a turn boundary, written as the events that rebuild it
(``action_session_start``, ``session_started``, one ``slot`` event per slot that was set, the
paused state), and reads that snapshot plus the events after it. Everything stays in
``events`` (the review tool, the transcripts and the retention read them as before); the
snapshot only spares replaying what is older than the window.

The boundary is always an ``action_listen`` followed by a citizen's message, at least
``TRACKER_WINDOW_EVENTS`` events (default 30, four or five turns: more than the states that
MemoizationPolicy (``max_history`` 4) and the longest rule look at) before the end, and never
while a form is active, so what the policies see of the recent turns is exactly what the whole
history would give them. A new snapshot is written when the window has grown by
``TRACKER_WINDOW_SLACK`` events (default 15) beyond that: the window holds 30 to 45 events
plus the current message, about what the fifth message of a conversation carries.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker


def _env_int(name: str, default: int, minimum: int) -> int:
    try:
        return max(minimum, int(os.environ.get(name, default)))
    except ValueError:
        return default


def min_window() -> int:
    """Events always kept after the snapshot (0: no new snapshot is written)."""
    return _env_int("TRACKER_WINDOW_EVENTS", 30, 0)


def slack() -> int:
    return _env_int("TRACKER_WINDOW_SLACK", 15, 1)


@dataclass
class WindowState:
    """What a tracker holds: its first ``prefix`` events are a snapshot's (not rows of the
    database), its first ``stored`` events are in the database."""

    prefix: int = 0
    stored: int = 0


def _data(row: Any) -> Dict[str, Any]:
    try:
        data = json.loads(row.data)
        return data if isinstance(data, dict) else {}
    except (TypeError, ValueError):
        return {}


def _same(event: Event, data: Dict[str, Any]) -> bool:
    """Whether the tracker's event is the stored one (type, time, then content)."""
    if event.type_name != data.get("event") or event.timestamp != data.get("timestamp"):
        return False
    try:
        return event == Event.from_parameters(data)
    except (ValueError, TypeError, KeyError, AttributeError):
        return False


def stored_through(events: Sequence[Event], tail: Sequence[Any], prefix: int = 0) -> Optional[int]:
    """How many of the tracker's events are already stored, found by content: the tracker's
    latest event that is the conversation's last stored row (``tail``: its last rows, newest
    first, with their ``data``), its predecessors matching the rows before it. None when the
    tracker does not hold the last stored row (a tracker built elsewhere, or rows changed since
    it was read).

    Nothing the tracker holds after the last stored row can be taken for stored, whatever
    happened to the tracker object since it was read (copied, rebuilt from its events, events
    dropped from the front by ``max_event_history``), where a position remembered on the
    tracker object would be lost or stale and the new events silently not written."""
    rows = [_data(row) for row in tail]
    if not rows:
        return None
    for i in range(len(events) - 1, prefix - 1, -1):
        if _same(events[i], rows[0]) and all(
            _same(events[i - j], rows[j]) for j in range(1, len(rows)) if i - j >= prefix
        ):
            return i + 1
    return None


def prefix_of(events: Sequence[Event], snapshot: Optional[List[Dict[str, Any]]]) -> int:
    """How many of the tracker's first events are this snapshot's (0: not read from it)."""
    if not snapshot or len(snapshot) > len(events):
        return 0
    head = [e.as_dict() for e in events[:len(snapshot)]]
    return len(snapshot) if head == snapshot else 0


def snapshot_events(slots: Iterable[Slot], paused: bool, timestamp: float) -> List[Event]:
    """Events that rebuild a state: a session start, the slots that were set, the pause."""
    events: List[Event] = [
        ActionExecuted(ACTION_SESSION_START_NAME, timestamp=timestamp),
        SessionStarted(timestamp=timestamp),
    ]
    for slot in slots:
        if slot.has_been_set:
            events.append(SlotSet(slot.name, slot.value, timestamp=timestamp))
    if paused:
        events.append(ConversationPaused(timestamp=timestamp))
    return events


@dataclass
class Snapshot:
    events: List[Dict[str, Any]]  # serialised snapshot events
    after: int  # how many of the tracker's events come after the boundary (they stay to be read)
    last_type: str  # type of the last event the snapshot covers (a check on the boundary's row)


def _is_turn_start(events: Sequence[Event], i: int) -> bool:
    return (
        isinstance(events[i], ActionExecuted)
        and events[i].action_name == ACTION_LISTEN_NAME
        and i + 1 < len(events)
        and isinstance(events[i + 1], UserUttered)
    )


def next_snapshot(
    sender_id: str, events: Sequence[Event], state: WindowState, slots: Iterable[Slot],
    keep: Optional[int] = None, grow: Optional[int] = None,
) -> Optional[Snapshot]:
    """The snapshot to write after a save, or None while the window is still short enough.

    ``events`` are the tracker's events, all stored: the last ``len(events) - state.prefix``
    rows of the conversation in the database, in the same order.
    """
    keep = min_window() if keep is None else keep
    grow = slack() if grow is None else grow
    if keep <= 0 or len(events) - state.prefix <= keep + grow:
        return None
    last_allowed = len(events) - keep
    candidates = {
        i for i in range(state.prefix + 1, last_allowed + 1)
        if _is_turn_start(events, i)
    }
    if not candidates:
        return None
    # One pass over the events: the state at each candidate boundary without an active form.
    replay = DialogueStateTracker(sender_id, slots)
    best: Optional[Snapshot] = None
    for i, event in enumerate(events):
        if i in candidates and replay.active_loop_name is None:
            snapshot = snapshot_events(replay.slots.values(), replay.is_paused(), events[i - 1].timestamp)
            best = Snapshot([e.as_dict() for e in snapshot], len(events) - i, events[i - 1].type_name)
        if i >= last_allowed:
            break
        replay.update(event)
    return best
