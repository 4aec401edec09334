"""Citizens' remarks, complaints and suggestions (doléances), kept for staff to read."""
from __future__ import annotations

from sqlalchemy import Column, Integer, String, Text, select
from sqlalchemy.orm import Session

from townhall.db import Base, UTCDateTime, utcnow
from townhall.text import clean


class Feedback(Base):
    __tablename__ = "feedback"

    id = Column(Integer, primary_key=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    channel = Column(String(32), nullable=False, default="inconnu")
    sender_id = Column(String(255), nullable=True, index=True)
    text = Column(Text, nullable=False)
    handled = Column(Integer, nullable=False, default=0)


def record(session: Session, text: str, channel: str | None, sender_id: str | None) -> Feedback:
    """Store a remark as typed (cleaned, bounded); rendering escapes it."""
    remark = Feedback(text=clean(text) or "(message vide)", channel=(channel or "inconnu")[:32], sender_id=sender_id)
    session.add(remark)
    session.flush()
    return remark


def latest(session: Session, limit: int = 100) -> list[Feedback]:
    return list(session.execute(select(Feedback).order_by(Feedback.created_at.desc()).limit(limit)).scalars())
