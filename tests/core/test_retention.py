"""Retention of the records the town keeps for a limited time (SQLite and PostgreSQL)."""
from __future__ import annotations

import os
import time
from datetime import date, timedelta

from sqlalchemy import func, select

from townhall import accounts, db, feedback, handoff, privacy, retention
from townhall.booking import loader
from townhall.booking.models import Appointment, SlotUnit
from townhall.db import utcnow
from townhall.incidents import photos
from townhall.incidents.models import Report, StatusChange

YEAR = timedelta(days=365)


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def _report(session, reference: str, status: str, updated_ago: timedelta, photo: str | None = None) -> Report:
    report = Report(reference=reference, category="voirie", status=status, description="un trou",
                    address="12 rue Pasteur", photo=photo, reporter_email="camille@example.org",
                    created_at=utcnow() - updated_ago, updated_at=utcnow() - updated_ago)
    report.history.append(StatusChange(from_status=None, to_status=status, by="agent", at=utcnow() - updated_ago))
    session.add(report)
    session.flush()
    return report


def test_records_are_deleted_after_their_retention_only(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("TOWNHALL_UPLOADS_DIR", str(tmp_path / "uploads"))
    folder = photos.uploads_dir()
    folder.mkdir(parents=True)
    old_photo = folder / ("a" * 32 + ".jpg")
    old_photo.write_bytes(b"x")
    outbox = tmp_path / "outbox"
    outbox.mkdir(exist_ok=True)
    old_mail, new_mail = outbox / "old.eml", outbox / "new.eml"
    old_mail.write_text("To: camille@example.org")
    new_mail.write_text("To: lou@example.org")
    os.utime(old_mail, (time.time() - 40 * 86400,) * 2)
    os.utime(new_mail, (time.time(),) * 2)  # "now" for the purge, also under a frozen clock

    with db.unit_of_work(db_url) as session:
        loader.load_demo(session, date.today() - timedelta(days=3 * 365))  # appointments three years ago
        old_appointments = count(session, Appointment)
        assert old_appointments > 0
        loader.load_demo(session, date.today(), with_appointments=False)
        _report(session, "SIG-OLDAAA", "resolved", 3 * YEAR, photo=photos.PUBLIC_PREFIX + old_photo.name)
        _report(session, "SIG-OPENAA", "open", 3 * YEAR)  # still being handled: kept
        _report(session, "SIG-NEWAAA", "resolved", YEAR / 2)
        old_fb = feedback.record(session, "vieille remarque", "rest", "s1")
        old_fb.created_at = utcnow() - 2 * YEAR
        feedback.record(session, "remarque récente", "rest", "s2")
        old_handoff = handoff.request(session, channel="rest", sender_id="s1", service="mairie", topic=None,
                                      last_message="agent")
        old_handoff.created_at = utcnow() - 2 * YEAR
        erasure = privacy.ErasureRequest(sender_id="s9", requested_at=utcnow() - 4 * YEAR, done_at=utcnow() - 4 * YEAR)
        session.add(erasure)
        session.add(privacy.ErasureRequest(sender_id="s8", requested_at=utcnow(), done_at=utcnow()))

    with db.unit_of_work(db_url) as session:
        purged = retention.purge_records(session)
    assert purged.appointments == old_appointments
    assert (purged.reports, purged.photos, purged.feedback, purged.handoffs, purged.erasures) == (1, 1, 1, 1, 1)
    assert purged.outbox_files == 1 and not old_mail.exists() and new_mail.exists()
    assert not old_photo.exists()
    with db.unit_of_work(db_url) as session:
        assert count(session, Appointment) == 0 and count(session, SlotUnit) == 0
        assert sorted(session.execute(select(Report.reference)).scalars()) == ["SIG-NEWAAA", "SIG-OPENAA"]
        assert [f.text for f in session.execute(select(feedback.Feedback)).scalars()] == ["remarque récente"]
        assert count(session, handoff.HandoffRequest) == 0
        assert [e.sender_id for e in session.execute(select(privacy.ErasureRequest)).scalars()] == ["s8"]
    with db.unit_of_work(db_url) as session:
        again = retention.purge_records(session)
    assert (again.appointments, again.reports, again.feedback, again.outbox_files) == (0, 0, 0, 0)


def test_retention_periods_come_from_the_environment(db_url, monkeypatch):
    monkeypatch.setenv("RETENTION_FEEDBACK_DAYS", "10")
    monkeypatch.setenv("RETENTION_HANDOFF_DAYS", "pas un nombre")
    assert retention.record_days("RETENTION_FEEDBACK_DAYS") == 10
    assert retention.record_days("RETENTION_HANDOFF_DAYS") == 365
    with db.unit_of_work(db_url) as session:
        remark = feedback.record(session, "remarque", "rest", "s1")
        remark.created_at = utcnow() - timedelta(days=11)
    with db.unit_of_work(db_url) as session:
        assert retention.purge_records(session).feedback == 1


def test_expired_staff_sessions_are_purged(db_url):
    with db.unit_of_work(db_url) as session:
        user = accounts.create_user(session, "lou", "un-mot-de-passe-solide", "agent")
        accounts.start_session(session, user.id, now=utcnow() - timedelta(days=30))
    with db.unit_of_work(db_url) as session:
        assert retention.purge_records(session).staff_sessions == 1
