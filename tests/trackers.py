"""Build real rasa_sdk trackers and run actions against them (financial-demo style)."""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from townhall import config


SAVED_TRACKERS = Path(__file__).parent / "actions" / "trackers"


@functools.lru_cache(maxsize=1)
def rasa_domain():
    """The project's merged domain (domain/*.yml) as Rasa loads it."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(config.PROJECT_ROOT / "domain"))


@functools.lru_cache(maxsize=1)
def domain() -> dict:
    """The project's merged domain, as the action server receives it."""
    return rasa_domain().as_dict()


def tracker(
    text: str = "",
    intent: str | None = None,
    entities: list[dict] | None = None,
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
    requested_slot: str | None = None,
    events: list[dict] | None = None,
    sender_id: str = "test-citizen",
    channel: str = "rest",
    confidence: float = 0.99,
) -> Tracker:
    all_slots = {name: None for name in domain().get("slots", {})}
    all_slots.update(slots or {})
    if requested_slot:
        all_slots["requested_slot"] = requested_slot
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "entities": entities or [],
    }
    user_event = {"event": "user", "text": text, "parse_data": latest, "input_channel": channel, "timestamp": 1.0}
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message=latest,
        events=(events or []) + [user_event],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def entity(name: str, value: str, start: int = 0, end: int | None = None) -> dict:
    return {"entity": name, "value": value, "start": start, "end": end if end is not None else start + len(value)}


async def run(action, tracker_: Tracker) -> tuple[list[dict], CollectingDispatcher]:
    """Run an action; returns (events, dispatcher). ``dispatcher.messages`` holds what it said."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker_, domain())
    return events, dispatcher


def said(dispatcher: CollectingDispatcher) -> list[str]:
    """Texts and response names the action sent, for assertions."""
    return [m.get("text") or m.get("response") or "" for m in dispatcher.messages]


# Saved real trackers (tests/actions/trackers/*.json, recorded by tests/actions/trackers/record.py) ----
def saved(name: str) -> dict:
    """A saved conversation: ``sender_id``, ``replay_at`` (the frozen instant its last message arrived
    at, when the action under test runs) and ``events``, each as Rasa's tracker store keeps it
    (``Event.as_dict()``)."""
    return json.loads((SAVED_TRACKERS / f"{name}.json").read_text(encoding="utf-8"))


def replayed(name: str):
    """Rasa's ``DialogueStateTracker`` rebuilt from a saved conversation's events."""
    from rasa.shared.core.trackers import DialogueStateTracker

    data = saved(name)
    return DialogueStateTracker.from_dict(data["sender_id"], data["events"], rasa_domain().slots)


def saved_tracker(name: str) -> Tracker:
    """The tracker an action receives for a saved conversation: Rasa's own state of the replayed
    events, as a remote action sends it to the action server (``EventVerbosity.ALL``)."""
    from rasa.shared.core.trackers import EventVerbosity

    return Tracker.from_dict(replayed(name).current_state(EventVerbosity.ALL))
