"""Messages a channel has already handled, so that a replayed webhook is not processed twice.

Messenger delivers a webhook again when it did not get a quick 200, and anyone holding a
signed request can replay it: the channel remembers the message id (``mid``) of every message
it hands to Rasa and drops the ones it has already seen. Ids are kept ``KEEP_HOURS`` (24 h),
long enough for Messenger's retries; ``purge`` (run by the daily retention job) deletes older
ones. Only the channel's message id is stored, never a sender or a text.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Column, String, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from townhall.db import Base, UTCDateTime, unit_of_work, utcnow

KEEP_HOURS = 24
MAX_ID_CHARS = 128


class SeenMessage(Base):
    __tablename__ = "channel_seen_messages"

    channel = Column(String(32), primary_key=True)
    message_id = Column(String(MAX_ID_CHARS), primary_key=True)
    seen_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)


def message_key(message_id: str) -> str:
    """The id as stored: itself, or its SHA-256 when it is longer than the column."""
    if len(message_id) <= MAX_ID_CHARS:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode("utf-8", "backslashreplace")).hexdigest()


def first_sighting(session: Session, channel: str, message_id: str, now: datetime | None = None) -> bool:
    """Records ``message_id`` for ``channel``; True the first time, False for a replay.

    One ``INSERT ... ON CONFLICT DO NOTHING``, so two deliveries racing each other (two
    workers, PostgreSQL) still give True to one of them only.
    """
    values = {"channel": channel[:32], "message_id": message_key(message_id), "seen_at": now or utcnow()}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(SeenMessage).values(**values).on_conflict_do_nothing(
            index_elements=["channel", "message_id"]
        )
        return (session.execute(statement).rowcount or 0) == 1
    if session.get(SeenMessage, (values["channel"], values["message_id"])) is not None:
        return False
    try:
        session.add(SeenMessage(**values))
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def purge(session: Session, now: datetime | None = None, hours: int = KEEP_HOURS) -> int:
    """Deletes the ids seen more than ``hours`` ago; returns how many."""
    cutoff = (now or utcnow()) - timedelta(hours=hours)
    return session.execute(delete(SeenMessage).where(SeenMessage.seen_at < cutoff)).rowcount or 0




def remember(channel: str, message_id: str, url: str | None = None) -> bool:
    """``first_sighting`` in its own unit of work on ``url`` (default DATABASE_URL).

    Called from the Rasa server, which runs no migration itself: the schema is checked to be at
    the latest migration once per process and database (the launcher migrates before).
    """
    from townhall import schema

    url = schema.checked(url)
    with unit_of_work(url) as session:
        return first_sighting(session, channel, message_id)
