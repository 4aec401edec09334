"""Personal data: erasure of a citizen's own conversation (RGPD, right to erasure).

The conversation lives in a conversation store (``townhall.review.conversations.ConversationStore``,
the adapter is ``conversation_store``). The dialogue engine appends a conversation's new events
after each message, so they must not disappear while a message is being processed. An erasure is therefore recorded first (``ErasureRequest``) and
carried out a few seconds later by :func:`process_pending`, which the action server runs in
the background and the retention command runs too, so a restart loses no request.

What is ours goes at once and again when the request is carried out: feedback, hand-over
requests, and the review tool's rows about the conversation (the annotations, which hold a
copy of the messages, their history, tags and reviewed flag) and its cached readings. The
stored conversation goes when the request is carried out.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import Column, Integer, String, delete, select
from sqlalchemy.orm import Session

from townhall.db import Base, UTCDateTime, utcnow
from townhall.feedback import Feedback
from townhall.handoff import HandoffRequest
from townhall.review import conversations as conv
from townhall.review.models import AnnotationChange, ConversationReview, ConversationTag, MessageAnnotation

logger = logging.getLogger(__name__)
ERASURE_DELAY = timedelta(seconds=5)


class ErasureRequest(Base):
    __tablename__ = "erasure_requests"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    requested_at = Column(UTCDateTime, nullable=False, default=utcnow)
    done_at = Column(UTCDateTime, nullable=True)
    events_deleted = Column(Integer, nullable=True)


REVIEW_MODELS = (MessageAnnotation, AnnotationChange, ConversationTag, ConversationReview)


def erase_our_rows(session: Session, sender_id: str) -> int:
    """Delete our rows about the conversation: feedback, hand-over requests, review rows
    (annotations with their copy of the messages, history, tags, reviewed flag), cache."""
    deleted = 0
    for model in (Feedback, HandoffRequest) + REVIEW_MODELS:
        deleted += session.execute(delete(model).where(model.sender_id == sender_id)).rowcount or 0
    conv.forget([sender_id])
    return deleted


def request_erasure(session: Session, sender_id: str) -> ErasureRequest:
    """Record the request and erase at once what belongs to us (see :func:`erase_our_rows`)."""
    erase_our_rows(session, sender_id)
    erasure = ErasureRequest(sender_id=sender_id)
    session.add(erasure)
    session.flush()
    return erasure


def process_pending(session: Session, store: conv.ConversationStore, now=None) -> int:
    """Carry out the erasure requests older than the delay; returns how many were done.
    ``store`` holds the conversations (its events and their state go)."""
    now = now or utcnow()
    query = select(ErasureRequest).where(
        ErasureRequest.done_at.is_(None), ErasureRequest.requested_at <= now - ERASURE_DELAY
    )
    done = 0
    for erasure in session.execute(query).scalars():
        erasure.events_deleted = store.erase(erasure.sender_id, now.timestamp())
        erase_our_rows(session, erasure.sender_id)  # anything annotated or said meanwhile
        erasure.done_at = now
        done += 1
        logger.info("conversation erased on request (%s events)", erasure.events_deleted)
    return done
