"""Trainers' annotations: the right intent and entities of a message, reviewed flags, tags.

Everything is stored in our own tables, with who and when (``AnnotationChange`` keeps the history).

Entity values follow the contract: a categorical entity (``townhall.codes``) takes one of its
canonical codes, a free-text entity the text span as typed, taken from the message on the
server (never from the page, where trainers see contacts masked). Before a message is stored,
the citizen's name (given by the conversation's slots) and ANTS numbers are replaced by fakes
of the same length, so that entity offsets stay valid and no real name reaches the export.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from townhall import codes, masking
from townhall.db import utcnow
from townhall.masking import mask_contacts
from townhall.review import labels
from townhall.review.export import FAKE_ANTS
from townhall.review.conversations import Message
from townhall.review.models import (DESTINATIONS, AnnotationChange, ConversationReview, ConversationTag,
                                    MessageAnnotation)
from townhall.text import fold

MAX_TAG_CHARS = 48
# Slots holding the citizen's name: its words are replaced in stored texts.
NAME_SLOTS = ("citizen_name",)
# Realistic fakes, two per length, for names replaced in stored texts.
FAKE_NAMES = ("Lou", "Léo", "Jean", "Paul", "Marie", "Louis", "Martin", "Dupuis", "Camille", "Mathieu",
              "Lefebvre", "Bertrand", "Dominique", "Guillaume", "Berthelier", "Christophe")


class AnnotationError(ValueError):
    """A French explanation of why an annotation was refused."""


@dataclass(frozen=True)
class Vocabulary:
    """The domain's intents and entities: the only names a trainer may choose."""

    intents: tuple[str, ...]
    entities: tuple[str, ...]


def canonical_value(entity: str, value: object, span: str) -> str:
    """The canonical code of a categorical entity: the value chosen, or the span when it names a
    code or its label ("piscine", "Médiathèque"); anything else is refused."""
    kind = codes.BY_KIND[entity]
    chosen = str(value or "").strip()
    if chosen in kind:
        return chosen
    if not chosen:
        spelled = fold(span).replace(" ", "_")
        for code, label in kind.items():
            if spelled in (code, fold(label).replace(" ", "_")):
                return code
        raise AnnotationError(f"Choisissez la valeur canonique de « {mask_contacts(span)[:40]} » dans la liste.")
    raise AnnotationError(f"La valeur choisie n'est pas une valeur de l'entité « {labels.entity(entity)} » : "
                          "choisissez-en une dans la liste.")


def check_entities(text: str, entities: list[dict], vocabulary: Vocabulary) -> list[dict]:
    """Validate entity spans against the text; returns them sorted, normalised.

    A categorical entity's value is one of its canonical codes; a free-text entity's value is
    its span (whatever value the form sent: the page shows masked text)."""
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
        result.append({"start": start, "end": end, "entity": name, "value": e.get("value")})
    result.sort(key=lambda e: (e["start"], e["end"]))
    for before, after in zip(result, result[1:]):
        if after["start"] < before["end"]:
            raise AnnotationError("Deux entités se chevauchent : corrigez-en une.")
    for e in result:
        span = text[e["start"]:e["end"]]
        e["value"] = canonical_value(e["entity"], e["value"], span) if e["entity"] in codes.BY_KIND else span
    return result


def _fake_word(word: str) -> str:
    fake = (next((n for n in FAKE_NAMES if len(n) == len(word) and n.lower() != word.lower()), None)
            or ("Martin" * (len(word) // 6 + 1))[:len(word)])
    return fake.lower() if word.islower() else fake.upper() if word.isupper() and len(word) > 1 else fake


def _fake_ants(number: str) -> str:
    digits = iter(FAKE_ANTS * 2)
    return "".join(next(digits) if c.isalnum() else c for c in number)


def pseudonymise(text: str, names: Iterable[object] = ()) -> str:
    """``text`` with the citizen's name and ANTS numbers replaced by fakes of the same length
    (e-mail addresses and phone numbers are replaced by the export; screens mask them)."""
    pattern = masking.known_patterns((), names=[n for n in names if isinstance(n, str)])
    parts, cursor = [], 0
    for contact in masking.find_contacts(text, known=pattern):
        if contact.kind not in ("known", "ants"):
            continue
        segment = text[contact.start:contact.end]
        parts.append(text[cursor:contact.start])
        parts.append(_fake_ants(segment) if contact.kind == "ants"
                     else re.sub(r"[^\W\d_]+", lambda m: _fake_word(m.group(0)), segment))
        cursor = contact.end
    parts.append(text[cursor:])
    return "".join(parts)


def names_in(slots: Iterable[tuple[str, object]]) -> list[str]:
    """The citizen's names among a conversation's slot events (name, value)."""
    return [value for name, value in slots if name in NAME_SLOTS and isinstance(value, str)]


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
             reviewed: bool, destination: str, by: str, vocabulary: Vocabulary,
             names: Iterable[object] = ()) -> MessageAnnotation:
    """Save the trainer's verdict on a citizen message (create or update), with history.

    ``names`` are the citizen's names given in the conversation: they never reach the stored text."""
    if out_of_scope:
        intent = "out_of_scope"
    if intent not in vocabulary.intents:
        raise AnnotationError("Choisissez une intention de la liste.")
    if destination not in DESTINATIONS:
        raise AnnotationError("Destination inconnue.")
    if not message.text.strip():
        raise AnnotationError("Ce message est vide : il ne peut pas servir d'exemple.")
    text = pseudonymise(message.text, names)
    entities = check_entities(text, entities, vocabulary)
    row = annotation(session, message.sender_id, message.event_id)
    now = utcnow()
    if row is None:
        row = MessageAnnotation(sender_id=message.sender_id, event_id=message.event_id,
                                message_timestamp=message.timestamp, text=text,
                                predicted_intent=message.intent, predicted_confidence=message.confidence,
                                created_by=by, created_at=now, entities_json="[]", intent=intent)
        session.add(row)
        before = f"prédite « {labels.intent(message.intent)} »"
    else:
        before = f"« {labels.intent(row.intent)} »"
    row.text = text
    row.intent = intent
    row.entities = entities
    row.out_of_scope = out_of_scope
    row.reviewed = reviewed
    row.destination = destination
    row.annotated_by = by
    row.annotated_at = now
    session.add(AnnotationChange(sender_id=message.sender_id, event_id=message.event_id, changed_by=by,
                                 changed_at=now, summary=_describe(before, row, text)[:2000]))
    session.flush()
    return row


def _describe(before: str, row: MessageAnnotation, text: str) -> str:
    """The history line; contacts in it are masked (it is shown to every reader of the review)."""
    entities = ", ".join(f"{labels.entity(e['entity'])} « {mask_contacts(text[e['start']:e['end']])} » = "
                         f"{labels.value(e['entity'], mask_contacts(str(e['value'])))}" for e in row.entities)
    destination = "jeu de test" if row.destination == "test" else "entraînement"
    return f"intention {before} → « {labels.intent(row.intent)} » ; entités : {entities or 'aucune'} ; {destination}"


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
    """Lower case, accents kept ("très-urgent"), words joined by dashes, nothing but letters and digits."""
    text = unicodedata.normalize("NFC", (tag or "").lower())
    return "-".join(re.findall(r"[^\W_]+", text))[:MAX_TAG_CHARS].strip("-")


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
