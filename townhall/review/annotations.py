"""Trainers' annotations: the right intent and entities of a message, reviewed flags, tags.

Everything is stored in our own tables, with who and when (``AnnotationChange`` keeps the history).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from townhall.db import utcnow
from townhall.masking import mask_contacts
from townhall.review.conversations import Message
from townhall.review.models import (DESTINATIONS, AnnotationChange, ConversationReview, ConversationTag,
                                    MessageAnnotation)
from townhall.text import clean, fold

MAX_TAG_CHARS = 48


class AnnotationError(ValueError):
    """A French explanation of why an annotation was refused."""


@dataclass(frozen=True)
class Vocabulary:
    """The domain's intents and entities: the only names a trainer may choose."""

    intents: tuple[str, ...]
    entities: tuple[str, ...]


def check_entities(text: str, entities: list[dict], vocabulary: Vocabulary) -> list[dict]:
    """Validate entity spans against the text; returns them sorted, normalised."""
    result = []
    for e in entities:
        try:
            start, end = int(e["start"]), int(e["end"])
        except (KeyError, TypeError, ValueError):
            raise AnnotationError("Une entité n'a pas de position valide.") from None
        name = e.get("entity")
        if name not in vocabulary.entities:
            raise AnnotationError(f"Entité inconnue : {name!s:.40}.")
        if not (0 <= start < end <= len(text)):
            raise AnnotationError("La position d'une entité sort du message.")
        span = text[start:end]
        if span != span.strip() or not span.strip():
            raise AnnotationError("Une entité ne peut pas commencer ni finir par une espace.")
        value = clean(str(e.get("value") or ""), 200) or span
        result.append({"start": start, "end": end, "entity": name, "value": value})
    result.sort(key=lambda e: (e["start"], e["end"]))
    for before, after in zip(result, result[1:]):
        if after["start"] < before["end"]:
            raise AnnotationError("Deux entités se chevauchent : corrigez-en une.")
    return result


def locate(text: str, fragment: str) -> tuple[int, int] | None:
    """Where a fragment typed by the trainer occurs in the message (exact, then case-insensitive)."""
    fragment = (fragment or "").strip()
    if not fragment:
        return None
    index = text.find(fragment)
    if index < 0:
        match = re.search(re.escape(fragment), text, flags=re.IGNORECASE)
        if not match:
            return None
        index = match.start()
    return index, index + len(fragment)


def annotation(session: Session, sender_id: str, event_id: int) -> MessageAnnotation | None:
    return session.execute(select(MessageAnnotation).where(
        MessageAnnotation.sender_id == sender_id, MessageAnnotation.event_id == event_id)).scalar_one_or_none()


def annotations_of(session: Session, sender_id: str) -> dict[int, MessageAnnotation]:
    rows = session.execute(select(MessageAnnotation).where(MessageAnnotation.sender_id == sender_id)).scalars()
    return {a.event_id: a for a in rows}


def annotate(session: Session, message: Message, *, intent: str, entities: list[dict], out_of_scope: bool,
             reviewed: bool, destination: str, by: str, vocabulary: Vocabulary) -> MessageAnnotation:
    """Save the trainer's verdict on a citizen message (create or update), with history."""
    if out_of_scope:
        intent = "out_of_scope"
    if intent not in vocabulary.intents:
        raise AnnotationError("Choisissez une intention de la liste.")
    if destination not in DESTINATIONS:
        raise AnnotationError("Destination inconnue.")
    if not message.text.strip():
        raise AnnotationError("Ce message est vide : il ne peut pas servir d'exemple.")
    entities = check_entities(message.text, entities, vocabulary)
    row = annotation(session, message.sender_id, message.event_id)
    now = utcnow()
    if row is None:
        row = MessageAnnotation(sender_id=message.sender_id, event_id=message.event_id,
                                message_timestamp=message.timestamp, text=message.text,
                                predicted_intent=message.intent, predicted_confidence=message.confidence,
                                created_by=by, created_at=now, entities_json="[]", intent=intent)
        session.add(row)
        before = f"prédit {message.intent or 'aucune'}"
    else:
        before = row.intent
    row.intent = intent
    row.entities = entities
    row.out_of_scope = out_of_scope
    row.reviewed = reviewed
    row.destination = destination
    row.annotated_by = by
    row.annotated_at = now
    session.add(AnnotationChange(sender_id=message.sender_id, event_id=message.event_id, changed_by=by,
                                 changed_at=now, summary=_describe(before, row, message.text)[:2000]))
    session.flush()
    return row


def _describe(before: str, row: MessageAnnotation, text: str) -> str:
    """The history line; contacts in it are masked (it is shown to every reader of the review)."""
    entities = ", ".join(f"{e['entity']} « {mask_contacts(text[e['start']:e['end']])} » = {mask_contacts(str(e['value']))}"
                         for e in row.entities)
    destination = "jeu de test" if row.destination == "test" else "entraînement"
    return f"intention {before} → {row.intent} ; entités : {entities or 'aucune'} ; {destination}"


def remove_annotation(session: Session, sender_id: str, event_id: int, by: str) -> bool:
    row = annotation(session, sender_id, event_id)
    if row is None:
        return False
    session.delete(row)
    session.add(AnnotationChange(sender_id=sender_id, event_id=event_id, changed_by=by, summary="annotation supprimée"))
    return True


def history(session: Session, sender_id: str) -> list[AnnotationChange]:
    return list(session.execute(select(AnnotationChange).where(AnnotationChange.sender_id == sender_id)
                                .order_by(AnnotationChange.changed_at.desc(), AnnotationChange.id.desc())).scalars())


def mark_conversation(session: Session, sender_id: str, reviewed: bool, by: str) -> ConversationReview:
    row = session.get(ConversationReview, sender_id)
    if row is None:
        row = ConversationReview(sender_id=sender_id)
        session.add(row)
    row.reviewed = reviewed
    row.reviewed_by = by
    row.reviewed_at = utcnow()
    session.flush()
    return row


def reviewed_conversations(session: Session) -> set[str]:
    return set(session.execute(select(ConversationReview.sender_id).where(ConversationReview.reviewed.is_(True))).scalars())


def conversation_review(session: Session, sender_id: str) -> ConversationReview | None:
    return session.get(ConversationReview, sender_id)


def normalise_tag(tag: str | None) -> str:
    return fold(tag).replace(" ", "-")[:MAX_TAG_CHARS]


def add_tag(session: Session, sender_id: str, tag: str, by: str) -> str:
    tag = normalise_tag(tag)
    if not tag:
        raise AnnotationError("Saisissez une étiquette (lettres ou chiffres).")
    exists = session.execute(select(ConversationTag).where(ConversationTag.sender_id == sender_id,
                                                           ConversationTag.tag == tag)).scalar_one_or_none()
    if exists is None:
        session.add(ConversationTag(sender_id=sender_id, tag=tag, created_by=by))
        session.flush()
    return tag


def remove_tag(session: Session, sender_id: str, tag: str) -> None:
    session.execute(delete(ConversationTag).where(ConversationTag.sender_id == sender_id,
                                                  ConversationTag.tag == normalise_tag(tag)))


def tags_by_conversation(session: Session) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for sender_id, tag in session.execute(select(ConversationTag.sender_id, ConversationTag.tag)):
        result.setdefault(sender_id, set()).add(tag)
    return result


def all_tags(session: Session) -> list[str]:
    return sorted(set(session.execute(select(ConversationTag.tag)).scalars()))
