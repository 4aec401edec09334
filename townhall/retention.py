"""Retention: conversations are kept for a limited time (default 90 days).

    python -m townhall.retention --days 90

carries out the citizens' pending erasure requests (``townhall.privacy``), then deletes, from
the conversation store (``conversation_store``), every conversation whose last message is older
than N days, and the old sessions (older than N days) of a conversation still going on — never
its current session;
then our review rows about those events and conversations (annotations, their history, tags,
reviewed flags) and login attempts older than 30 days. Training examples already exported to
the training folder (``TRAINING_DATA_DIR``) are kept: contacts, names and ANTS numbers in them
were replaced by fictional ones.
Run it daily (cron or systemd timer); ``RETENTION_DAYS`` sets the default.

It also deletes the records kept for a limited time (environment variable, default in days):

- appointments, two years after the appointment's date, as RDV Service Public
  (``RETENTION_APPOINTMENT_DAYS``, 730);
- incident reports with their history, supporters and photo, two years after their closure
  (resolved, rejected or duplicate; ``RETENTION_INCIDENT_DAYS``, 730);
- feedback and hand-over requests, one year after they were made (``RETENTION_FEEDBACK_DAYS``,
  ``RETENTION_HANDOFF_DAYS``, 365);
- erasure records, three years after the erasure (``RETENTION_ERASURE_DAYS``, 1095);
- e-mails of the local outbox, 30 days after they were written (``RETENTION_OUTBOX_DAYS``);

and the expired staff sessions, the Messenger message ids already seen and the Messenger
"Autres choix" pages older than 24 hours.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select

from townhall import accounts, config, db
from townhall.review import conversations as conv
from townhall.review.models import AnnotationChange, ConversationReview, ConversationTag, MessageAnnotation

DEFAULT_DAYS = 90
# Kept records: environment variable -> default days.
RECORD_DAYS = {
    "RETENTION_APPOINTMENT_DAYS": 730,
    "RETENTION_INCIDENT_DAYS": 730,
    "RETENTION_FEEDBACK_DAYS": 365,
    "RETENTION_HANDOFF_DAYS": 365,
    "RETENTION_ERASURE_DAYS": 1095,
    "RETENTION_OUTBOX_DAYS": 30,
}


def _days(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def default_days() -> int:
    return _days("RETENTION_DAYS", DEFAULT_DAYS)


def record_days(name: str) -> int:
    return _days(name, RECORD_DAYS[name])


@dataclass
class Purged:
    events: int = 0
    conversations: int = 0
    annotations: int = 0


@dataclass
class PurgedRecords:
    appointments: int = 0
    reports: int = 0
    photos: int = 0
    feedback: int = 0
    handoffs: int = 0
    erasures: int = 0
    outbox_files: int = 0
    staff_sessions: int = 0
    channel_ids: int = 0
    channel_pages: int = 0


def _delete_photo(photo: str | None) -> bool:
    """Delete a report's photo stored by us (``/uploads/incidents/<name>``); external URLs are left."""
    from townhall.incidents import photos

    match = photos._LOCAL.match(photo or "")
    if not match:
        return False
    path = photos.uploads_dir() / match.group(1)
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False


def purge_records(session, now: datetime | None = None) -> PurgedRecords:
    """Delete the records kept past their retention (see the module's table)."""
    from townhall import feedback, handoff, privacy
    from townhall.booking.models import Appointment, SlotUnit
    from townhall.incidents.models import CLOSED_STATUSES, Report, StatusChange, Supporter

    now = now or datetime.now(timezone.utc)
    result = PurgedRecords()

    def before(name: str) -> datetime:
        return now - timedelta(days=record_days(name))

    ids = list(session.execute(select(Appointment.id).where(
        Appointment.start < before("RETENTION_APPOINTMENT_DAYS"))).scalars())
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        session.execute(delete(SlotUnit).where(SlotUnit.appointment_id.in_(chunk)))
        result.appointments += session.execute(delete(Appointment).where(Appointment.id.in_(chunk))).rowcount or 0

    old_reports = session.execute(select(Report.id, Report.photo).where(
        Report.status.in_(CLOSED_STATUSES), Report.updated_at < before("RETENTION_INCIDENT_DAYS"))).all()
    ids = [row.id for row in old_reports]
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        session.execute(delete(StatusChange).where(StatusChange.report_id.in_(chunk)))
        session.execute(delete(Supporter).where(Supporter.report_id.in_(chunk)))
        result.reports += session.execute(delete(Report).where(Report.id.in_(chunk))).rowcount or 0
    session.flush()
    result.photos = sum(_delete_photo(row.photo) for row in old_reports)

    result.feedback = session.execute(delete(feedback.Feedback).where(
        feedback.Feedback.created_at < before("RETENTION_FEEDBACK_DAYS"))).rowcount or 0
    result.handoffs = session.execute(delete(handoff.HandoffRequest).where(
        handoff.HandoffRequest.created_at < before("RETENTION_HANDOFF_DAYS"))).rowcount or 0
    result.erasures = session.execute(delete(privacy.ErasureRequest).where(
        privacy.ErasureRequest.done_at.is_not(None),
        privacy.ErasureRequest.done_at < before("RETENTION_ERASURE_DAYS"))).rowcount or 0

    outbox = config.outbox_dir()
    if outbox.is_dir():
        limit = before("RETENTION_OUTBOX_DAYS").timestamp()
        for path in outbox.glob("*.eml"):
            try:
                if path.is_file() and path.stat().st_mtime < limit:
                    path.unlink()
                    result.outbox_files += 1
            except FileNotFoundError:
                continue

    if hasattr(accounts, "purge_expired_sessions"):
        result.staff_sessions = accounts.purge_expired_sessions(session, now=now) or 0
    try:
        from townhall import channel_dedup
    except ImportError:  # pragma: no cover - the Messenger dedup table is optional
        channel_dedup = None
    if channel_dedup is not None and hasattr(channel_dedup, "purge"):
        result.channel_ids = channel_dedup.purge(session, now=now) or 0
    from townhall import channel_pages

    result.channel_pages = channel_pages.purge(session, now=now) or 0
    return result


def purge(database_url: str | None, store: conv.ConversationStore, days: int, now: datetime | None = None) -> Purged:
    if days < 1:
        raise ValueError("days must be at least 1")
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    result = Purged()
    aged = store.age_out(cutoff.timestamp())
    result.events, gone, remaining = aged.events, aged.gone, aged.remaining
    result.conversations = len(gone)
    conv.forget(gone)  # the review tool's cached readings of those conversations
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


def _process_erasure_requests(store: conv.ConversationStore) -> None:
    """Citizens' erasure requests still pending (townhall.privacy), carried out before the purge,
    which then also removes our review rows about those conversations."""
    from townhall import privacy

    with db.unit_of_work(config.database_url()) as session:
        done = privacy.process_pending(session, store)
    if done:
        print(f"{done} demande(s) d'effacement traitée(s).")


def main(store: conv.ConversationStore, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Supprime les conversations plus anciennes que N jours.")
    parser.add_argument("--days", type=int, default=default_days(),
                        help=f"durée de conservation en jours (défaut : {DEFAULT_DAYS} ou RETENTION_DAYS)")
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days doit valoir au moins 1")
    from townhall import schema

    schema.check(config.database_url())
    _process_erasure_requests(store)
    purged = purge(config.database_url(), store, args.days)
    print(f"{purged.conversations} conversation(s) supprimée(s), {purged.events} événement(s), "
          f"{purged.annotations} annotation(s) (conservation : {args.days} jours).")
    with db.unit_of_work(config.database_url()) as session:
        records = purge_records(session)
    print(f"Supprimés après leur durée de conservation : {records.appointments} rendez-vous, "
          f"{records.reports} signalement(s) et {records.photos} photo(s), {records.feedback} remarque(s), "
          f"{records.handoffs} demande(s) de contact, {records.erasures} trace(s) d'effacement, "
          f"{records.outbox_files} e-mail(s) de la boîte d'envoi, {records.staff_sessions} session(s) "
          f"du personnel expirée(s).")
    return 0


if __name__ == "__main__":
    # The command's wiring: the conversation store is the adapter's (this module imports none).
    from conversation_store import open_store

    raise SystemExit(main(open_store(config.tracker_database_url())))
