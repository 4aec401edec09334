"""Hand-over to a person: which service answers which topic, and requests staff pick up."""
from __future__ import annotations

from sqlalchemy import Column, Integer, String, Text, select
from sqlalchemy.orm import Session

from townhall.db import Base, UTCDateTime, utcnow
from townhall.text import clean

# The service (a canonical facility) that answers each topic of the conversation.
SERVICE_FOR_TOPIC = {
    "booking": "mairie",
    "procedure": "mairie",
    "incident": "services_techniques",
    "waste": "services_techniques",
    "social": "ccas",
    "security": "police_municipale",
}
DEFAULT_SERVICE = "mairie"


class HandoffRequest(Base):
    __tablename__ = "handoff_requests"

    id = Column(Integer, primary_key=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    channel = Column(String(32), nullable=False, default="inconnu")
    sender_id = Column(String(255), nullable=True, index=True)
    service = Column(String(64), nullable=False, default=DEFAULT_SERVICE)
    topic = Column(String(64), nullable=True)
    last_message = Column(Text, nullable=True)
    handled_at = Column(UTCDateTime, nullable=True)
    handled_by = Column(String(128), nullable=True)


def service_for(topic: str | None, facility: str | None = None) -> str:
    if facility:
        return facility
    return SERVICE_FOR_TOPIC.get(topic or "", DEFAULT_SERVICE)


def request(session: Session, *, channel: str | None, sender_id: str | None, service: str,
            topic: str | None, last_message: str | None) -> HandoffRequest:
    handoff = HandoffRequest(channel=(channel or "inconnu")[:32], sender_id=sender_id, service=service,
                             topic=topic, last_message=clean(last_message, 1000) or None)
    session.add(handoff)
    session.flush()
    return handoff


def pending(session: Session) -> list[HandoffRequest]:
    query = select(HandoffRequest).where(HandoffRequest.handled_at.is_(None)).order_by(HandoffRequest.created_at)
    return list(session.execute(query).scalars())


def mark_handled(session: Session, handoff_id: int, by: str) -> HandoffRequest | None:
    handoff = session.get(HandoffRequest, handoff_id)
    if handoff is not None and handoff.handled_at is None:
        handoff.handled_at = utcnow()
        handoff.handled_by = by
    return handoff
