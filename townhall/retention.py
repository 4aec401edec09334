"""Retention: conversations are kept for a limited time (default 90 days).

    python -m townhall.retention --days 90

carries out the citizens' pending erasure requests (``townhall.privacy``), then deletes, from
Rasa's tracker store, every conversation whose last message is older than N days, and the old
sessions (older than N days) of a conversation still going on — never its current session,
whose events Rasa counts when it appends new ones;
then our review rows about those events and conversations (annotations, their history, tags,
reviewed flags) and login attempts older than 30 days. Training examples already exported to
``data/nlu/review_corrections.yml`` are kept: contacts in them were replaced by fictional ones.
Run it daily (cron or systemd timer); ``RETENTION_DAYS`` sets the default.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from townhall import accounts, config, db
from townhall.review import conversations as conv
from townhall.review.models import AnnotationChange, ConversationReview, ConversationTag, MessageAnnotation

DEFAULT_DAYS = 90


def default_days() -> int:
    try:
        return max(1, int(os.environ.get("RETENTION_DAYS", DEFAULT_DAYS)))
    except ValueError:
        return DEFAULT_DAYS


@dataclass
class Purged:
    events: int = 0
    conversations: int = 0
    annotations: int = 0


def purge(database_url: str | None, tracker_url: str | None, days: int, now: datetime | None = None) -> Purged:
    if days < 1:
        raise ValueError("days must be at least 1")
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    events = conv.events
    result = Purged()
    try:
        with conv.engine(tracker_url).begin() as conn:
            old_senders = set(conn.execute(select(events.c.sender_id).group_by(events.c.sender_id)
                                           .having(func.max(events.c.timestamp) < cutoff.timestamp())).scalars())
            senders = sorted(old_senders)
            for i in range(0, len(senders), 500):
                result.events += conn.execute(delete(events).where(
                    events.c.sender_id.in_(senders[i:i + 500]))).rowcount or 0
            # Conversations still going on: drop their old sessions only. Rasa appends new events
            # by counting those of the current session, which must therefore stay untouched.
            later = events.alias("later_session")
            current_session_start = (select(func.max(later.c.id))
                                     .where(later.c.sender_id == events.c.sender_id,
                                            later.c.type_name == "session_started")
                                     .scalar_subquery())
            result.events += conn.execute(delete(events).where(
                events.c.timestamp < cutoff.timestamp(), events.c.id < current_session_start)).rowcount or 0
            remaining = set(conn.execute(select(events.c.sender_id).distinct()).scalars())
            # Snapshots (a conversation's slots) go with the events they cover.
            conv.delete_snapshots(conn, old_senders - remaining)
            conv.delete_orphan_snapshots(conn)
    except (OperationalError, ProgrammingError) as exc:  # no table before Rasa's first conversation
        if "events" not in str(exc).lower():
            raise
        old_senders, remaining = set(), set()
    gone = old_senders - remaining
    result.conversations = len(gone)
    with db.unit_of_work(database_url) as session:
        old = MessageAnnotation.message_timestamp < cutoff.timestamp()
        result.annotations = session.execute(delete(MessageAnnotation).where(old)).rowcount or 0
        session.execute(delete(AnnotationChange).where(AnnotationChange.changed_at < cutoff))
        for model in (MessageAnnotation, AnnotationChange, ConversationTag, ConversationReview):
            senders = set(session.execute(select(model.sender_id).distinct()).scalars())
            stale = [s for s in senders if s not in remaining]
            for i in range(0, len(stale), 500):
                deleted = session.execute(delete(model).where(model.sender_id.in_(stale[i:i + 500]))).rowcount or 0
                if model is MessageAnnotation:
                    result.annotations += deleted
        accounts.purge_attempts(session)
    return result


def _process_erasure_requests() -> None:
    """Citizens' erasure requests still pending (townhall.privacy), carried out before the purge,
    which then also removes our review rows about those conversations."""
    try:
        from townhall import privacy
    except ImportError:
        return
    with db.unit_of_work(config.database_url()) as session:
        done = privacy.process_pending(session, config.tracker_database_url())
    if done:
        print(f"{done} demande(s) d'effacement traitée(s).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Supprime les conversations plus anciennes que N jours.")
    parser.add_argument("--days", type=int, default=default_days(),
                        help=f"durée de conservation en jours (défaut : {DEFAULT_DAYS} ou RETENTION_DAYS)")
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days doit valoir au moins 1")
    from townhall import schema

    schema.upgrade(config.database_url())
    _process_erasure_requests()
    purged = purge(config.database_url(), config.tracker_database_url(), args.days)
    print(f"{purged.conversations} conversation(s) supprimée(s), {purged.events} événement(s), "
          f"{purged.annotations} annotation(s) (conservation : {args.days} jours).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
