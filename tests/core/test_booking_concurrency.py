"""Two citizens never get the same time: many concurrent bookings at the last free slots.

Each thread books in its own unit of work (its own connection and transaction), all released
at once by a barrier. The database's unique slot units decide: exactly as many bookings
succeed as there are free slots; the others get ``SlotTaken`` and are offered other times.
"""
from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from townhall import db
from townhall.booking import appointments, availability
from townhall.booking.models import Appointment, Place, SlotUnit
from tests.core.booking_fixtures import MONDAY, NOW, at, load_settings

THREADS = 30
TUESDAY = MONDAY + timedelta(days=1)


def _leave_three_free(url: str) -> list:
    """One desk; fill Tuesday except 9:00, 9:20 and 9:40."""
    with db.unit_of_work(url) as session:
        load_settings(session)
        session.execute(select(Place).where(Place.code == "mairie")).scalar_one().desks = 1
        session.flush()
        for start in availability.free_slots(session, "passeport", TUESDAY, now=NOW)[3:]:
            appointments.book(session, procedure="passeport", start=start, name="Déjà", email="deja@example.org", now=NOW)
    with db.unit_of_work(url) as session:
        return availability.free_slots(session, "passeport", TUESDAY, now=NOW)


def _race(url: str, targets: list, party_size=lambda i: 1) -> tuple[list, list, list]:
    barrier = threading.Barrier(THREADS)
    won, taken, errors = [], [], []

    def citizen(i: int) -> None:
        start = targets[i % len(targets)]
        barrier.wait()
        try:
            with db.unit_of_work(url) as session:
                booked = appointments.book(
                    session, procedure="passeport", start=start, party_size=party_size(i),
                    name=f"Citoyen {i}", email=f"c{i}@example.org", channel="test", now=NOW,
                )
                reference = booked.reference
            won.append((reference, start))
        except appointments.SlotTaken:
            with db.unit_of_work(url) as session:  # what the conversation does next
                taken.append(availability.free_slots(session, "passeport", TUESDAY, now=NOW))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(repr(exc))

    threads = [threading.Thread(target=citizen, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return won, taken, errors


def test_thirty_citizens_three_last_slots(db_url):
    free = _leave_three_free(db_url)
    assert len(free) == 3
    won, taken, errors = _race(db_url, free)
    assert errors == []
    assert len(won) == 3 and len(taken) == THREADS - 3
    assert sorted(start for _, start in won) == sorted(free)
    assert all(offer == [] for offer in taken[-1:])  # nothing left to offer on that day
    with db.unit_of_work(db_url) as session:
        booked = session.execute(select(Appointment.start).where(Appointment.channel == "test")).scalars().all()
        assert len(booked) == 3 and len(set(booked)) == 3
        duplicates = session.execute(
            select(SlotUnit.place_id, SlotUnit.desk, SlotUnit.starts_at, func.count())
            .group_by(SlotUnit.place_id, SlotUnit.desk, SlotUnit.starts_at)
            .having(func.count() > 1)
        ).all()
        assert duplicates == []


def test_overlapping_family_bookings_cannot_both_win(db_url):
    """Families of 2 (40 minutes) at 9:00 and single people at 9:20 overlap: one winner per unit."""
    free = _leave_three_free(db_url)
    targets = [free[0], free[1]]
    won, taken, errors = _race(db_url, targets, party_size=lambda i: 2 if i % 2 == 0 else 1)
    assert errors == []
    with db.unit_of_work(db_url) as session:
        rows = session.execute(select(Appointment.start, Appointment.end).where(Appointment.channel == "test")).all()
    rows.sort()
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(rows, rows[1:]))
    assert 1 <= len(won) <= 2 and len(won) + len(taken) == THREADS
    assert Counter(start for _, start in won).most_common(1)[0][1] == 1
