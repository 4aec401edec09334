"""Tables of the review tool. The stored conversations are never written: the trainers' work
lives here, linked to the stored events by ``sender_id`` and the event's id
(``townhall.review.conversations.Event.event_id``)."""
from __future__ import annotations

import json

from sqlalchemy import Boolean, Column, Float, Integer, String, Text, UniqueConstraint

from townhall.db import Base, UTCDateTime, utcnow

DESTINATIONS = ("train", "test")


class MessageAnnotation(Base):
    """A trainer's verdict on one citizen message: the right intent and entities."""

    __tablename__ = "review_message_annotations"
    __table_args__ = (UniqueConstraint("sender_id", "event_id", name="message"),)

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    event_id = Column(Integer, nullable=False)
    message_timestamp = Column(Float, nullable=True)
    text = Column(Text, nullable=False)
    predicted_intent = Column(String(255), nullable=True)
    predicted_confidence = Column(Float, nullable=True)
    intent = Column(String(255), nullable=False)  # the right intent (corrected or confirmed)
    entities_json = Column(Text, nullable=False, default="[]")
    out_of_scope = Column(Boolean, nullable=False, default=False)
    reviewed = Column(Boolean, nullable=False, default=True)
    destination = Column(String(8), nullable=False, default="train")  # train | test (held-out)
    annotated_by = Column(String(64), nullable=False)
    annotated_at = Column(UTCDateTime, nullable=False, default=utcnow)
    created_by = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    @property
    def entities(self) -> list[dict]:
        try:
            return json.loads(self.entities_json or "[]")
        except ValueError:
            return []

    @entities.setter
    def entities(self, value: list[dict]) -> None:
        self.entities_json = json.dumps(value, ensure_ascii=False, sort_keys=True)

    @property
    def corrected(self) -> bool:
        return self.intent != self.predicted_intent


class AnnotationChange(Base):
    """History of corrections: who changed what and when."""

    __tablename__ = "review_annotation_changes"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    event_id = Column(Integer, nullable=False)
    changed_by = Column(String(64), nullable=False)
    changed_at = Column(UTCDateTime, nullable=False, default=utcnow)
    summary = Column(Text, nullable=False)


class ConversationReview(Base):
    """A conversation marked as reviewed."""

    __tablename__ = "review_conversations"

    sender_id = Column(String(255), primary_key=True)
    reviewed = Column(Boolean, nullable=False, default=False)
    reviewed_by = Column(String(64), nullable=True)
    reviewed_at = Column(UTCDateTime, nullable=True)


class ConversationTag(Base):
    __tablename__ = "review_conversation_tags"
    __table_args__ = (UniqueConstraint("sender_id", "tag", name="tag"),)

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    tag = Column(String(48), nullable=False, index=True)
    created_by = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class RetrainJob(Base):
    """A retraining run, its progress and its figures before and after."""

    __tablename__ = "review_retrain_jobs"

    id = Column(Integer, primary_key=True)
    started_by = Column(String(64), nullable=False)
    started_at = Column(UTCDateTime, nullable=False, default=utcnow)
    finished_at = Column(UTCDateTime, nullable=True)
    status = Column(String(16), nullable=False, default="queued")  # queued running loaded rejected failed
    step = Column(String(255), nullable=True)
    model_before = Column(Text, nullable=True)
    model_after = Column(Text, nullable=True)
    metrics_before = Column(Text, nullable=True)
    metrics_after = Column(Text, nullable=True)
    log = Column(Text, nullable=True)
