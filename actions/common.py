"""What every action needs: run core code off the event loop, read the channel, a database."""
from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Callable, TypeVar

from rasa_sdk import Tracker

from townhall import db, schema

logger = logging.getLogger(__name__)
T = TypeVar("T")
_schema_ready: set[str] = set()


async def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking core code (SQL, Duckling) in a worker thread: actions never block the loop."""
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


def ensure_schema() -> None:
    """Check once per process and database that the schema is at the latest migration (the
    launcher migrates before the action server starts; an action never migrates)."""
    from townhall import config

    url = config.database_url()
    if url not in _schema_ready:
        schema.check(url)
        _schema_ready.add(url)


async def in_unit_of_work(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn(session, *args, **kwargs)`` in one unit of work, in a worker thread."""

    def work() -> T:
        ensure_schema()
        with db.unit_of_work() as session:
            return fn(session, *args, **kwargs)

    return await asyncio.to_thread(work)


def channel_of(tracker: Tracker) -> str:
    """The input channel of the latest message ("rest", "socketio", "facebook"...)."""
    return (tracker.get_latest_input_channel() or "inconnu")[:32]


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [str(v) for v in tracker.get_latest_entity_values(entity) if v is not None]


def first_entity(tracker: Tracker, entity: str) -> str | None:
    values = entity_values(tracker, entity)
    return values[0] if values else None


def say(dispatcher, messages) -> None:
    """Send worded messages: a ``str`` as text, a ``townhall.wording.Reply`` with its buttons, a
    ``dict`` as ``utter_message`` arguments (a domain response with its variables)."""
    for message in messages or []:
        if isinstance(message, str):
            dispatcher.utter_message(text=message)
        elif isinstance(message, dict):
            dispatcher.utter_message(**message)
        else:
            dispatcher.utter_message(text=message.text, buttons=message.buttons)
