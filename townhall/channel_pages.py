"""Pages of choices a channel still has to show, shared by every process of the Rasa server.

Messenger shows at most 13 quick replies, so the channel cuts a longer list into pages: the
last quick reply of a page ("Autres choix") asks for the next one. The choices left are kept
here, in the application database, because the load balancer may hand the citizen's next
webhook to another Rasa process than the one that sent the first page.

What is stored: the channel's name, a SHA-256 digest of the sender id (never the id itself),
a random page token, and the titles and payloads of the choices left (no other text of the
conversation). A page is read once (``take`` deletes it), a sender has one page at most
(Messenger shows quick replies on the last message only), and pages older than ``KEEP_HOURS``
(24 h) are no longer given out; ``purge`` (run by the daily retention job) deletes them.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

from sqlalchemy import JSON, Column, String, and_, delete, select
from sqlalchemy.orm import Session

from townhall.db import Base, UTCDateTime, unit_of_work, utcnow

KEEP_HOURS = 24
MAX_CHANNEL_CHARS = 32
TOKEN_BYTES = 8  # 16 hexadecimal characters in the quick reply's payload

Choice = Dict[str, str]


class ChoicePage(Base):
    __tablename__ = "channel_choice_pages"

    channel = Column(String(MAX_CHANNEL_CHARS), primary_key=True)
    sender_digest = Column(String(64), primary_key=True)  # SHA-256 (hex) of channel and sender id
    token = Column(String(32), primary_key=True)
    choices = Column(JSON, nullable=False)  # [{"title": ..., "payload": ...}, ...]
    created_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)


def sender_digest(channel: str, sender_id: str) -> str:
    """The sender as stored: a digest, so that the table names nobody."""
    data = f"townhall-choice-pages\0{channel}\0{sender_id}".encode("utf-8", "backslashreplace")
    return hashlib.sha256(data).hexdigest()


def _clean(choices: List[Dict[str, Any]]) -> List[Choice]:
    """Only the title and the payload of each choice are kept."""
    return [{"title": str(c.get("title", "")), "payload": str(c.get("payload", ""))} for c in choices]


def keep(session: Session, channel: str, sender_id: str, choices: List[Dict[str, Any]],
         now: datetime | None = None) -> str:
    """Stores the choices left for ``sender_id`` and returns the token that asks for them.

    The sender's earlier pages are dropped: their quick replies are no longer on screen.
    """
    channel = channel[:MAX_CHANNEL_CHARS]
    digest = sender_digest(channel, sender_id)
    session.execute(delete(ChoicePage).where(ChoicePage.channel == channel, ChoicePage.sender_digest == digest))
    token = secrets.token_hex(TOKEN_BYTES)
    session.add(ChoicePage(channel=channel, sender_digest=digest, token=token,
                           choices=_clean(choices), created_at=now or utcnow()))
    session.flush()
    return token


def take(session: Session, channel: str, sender_id: str, token: str,
         now: datetime | None = None, hours: int = KEEP_HOURS) -> Optional[List[Choice]]:
    """The choices kept under ``token`` for ``sender_id``, once; None when unknown or expired.

    The page is deleted as it is read: of two processes racing for it, the one whose DELETE
    removed the row gets it.
    """
    channel = channel[:MAX_CHANNEL_CHARS]
    key = and_(ChoicePage.channel == channel,
               ChoicePage.sender_digest == sender_digest(channel, sender_id),
               ChoicePage.token == str(token)[:32])
    row = session.execute(select(ChoicePage.choices, ChoicePage.created_at).where(key)).first()
    if row is None:
        return None
    if (session.execute(delete(ChoicePage).where(key)).rowcount or 0) != 1:
        return None  # another process took it first
    if row.created_at < (now or utcnow()) - timedelta(hours=hours):
        return None
    return _clean(row.choices or [])


def purge(session: Session, now: datetime | None = None, hours: int = KEEP_HOURS) -> int:
    """Deletes the pages kept more than ``hours`` ago; returns how many."""
    cutoff = (now or utcnow()) - timedelta(hours=hours)
    return session.execute(delete(ChoicePage).where(ChoicePage.created_at < cutoff)).rowcount or 0


# --------------------------------------------------------------------------- own unit of work



def _database(url: str | None) -> str:
    """``url`` (default DATABASE_URL), once checked to be at the latest migration (the Rasa
    server runs no migration itself: the launcher migrates before starting it)."""
    from townhall import schema

    return schema.checked(url)


def keep_page(channel: str, sender_id: str, choices: List[Dict[str, Any]], url: str | None = None) -> str:
    """``keep`` in its own unit of work on ``url`` (default DATABASE_URL)."""
    with unit_of_work(_database(url)) as session:
        return keep(session, channel, sender_id, choices)


def take_page(channel: str, sender_id: str, token: str, url: str | None = None) -> Optional[List[Choice]]:
    """``take`` in its own unit of work on ``url`` (default DATABASE_URL)."""
    with unit_of_work(_database(url)) as session:
        return take(session, channel, sender_id, token)
