"""Booking throughput at the core level with concurrent clients on PostgreSQL.

    .venv/bin/python bench/booking_bench.py [--clients 50] [--seconds 15]

Uses DATABASE_URL when it points at PostgreSQL, else creates a temporary database on
127.0.0.1:5432 (user postgres) and drops it afterwards. Each client loops: list the free
times of a random day, pick one, book it in its own unit of work; on ``SlotTaken`` it picks
again (as the conversation does). Prints bookings per second and the number of double
bookings found afterwards in the database (overlapping active appointments on one desk),
which must be 0. Not a test.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from townhall import config, db, schema  # noqa: E402
from townhall.booking import appointments, availability, loader  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PROCEDURES = ("passeport", "carte_identite")


def _temporary_database() -> tuple[str, str]:
    name = f"townhall_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name, name


def _drop(name: str) -> None:
    engine = create_engine(ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def double_bookings(url: str) -> int:
    with db.unit_of_work(url) as session:
        return session.execute(
            text(
                "SELECT count(*) FROM booking_appointments a JOIN booking_appointments b"
                " ON a.id < b.id AND a.place_id = b.place_id AND a.desk = b.desk"
                " AND a.start < b.\"end\" AND b.start < a.\"end\""
                " WHERE a.status = 'booked' AND b.status = 'booked'"
            )
        ).scalar()


def run(url: str, clients: int, seconds: float, days: int) -> dict:
    today = datetime.now(config.TIMEZONE).date()
    with db.unit_of_work(url) as session:
        loader.load_demo(session, today, with_appointments=False)
    day_pool = [today + timedelta(days=i) for i in range(1, days + 1)]
    stop_at = time.perf_counter() + seconds
    stats = {"booked": 0, "taken": 0, "errors": 0}
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(seed: int) -> None:
        rng = random.Random(seed)
        barrier.wait()
        while time.perf_counter() < stop_at:
            procedure, day = rng.choice(PROCEDURES), rng.choice(day_pool)
            party = rng.choice((1, 1, 1, 2))
            try:
                with db.unit_of_work(url) as session:
                    slots = availability.free_slots(session, procedure, day, party)
                if not slots:
                    continue
                with db.unit_of_work(url) as session:
                    appointments.book(
                        session, procedure=procedure, start=rng.choice(slots[:3]), party_size=party,
                        name=f"Client {seed}", email=f"client{seed}@example.org", channel="bench",
                    )
                outcome = "booked"
            except appointments.SlotTaken:
                outcome = "taken"
            except Exception as exc:  # noqa: BLE001 - counted and shown
                print("error:", repr(exc)[:200], file=sys.stderr)
                outcome = "errors"
            with lock:
                stats[outcome] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    stats.update(seconds=round(elapsed, 2), per_second=round(stats["booked"] / elapsed, 1), double_bookings=double_bookings(url))
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--days", type=int, default=10, help="book among the next N days (fewer days, more contention)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    name = None
    if not url.startswith("postgresql"):
        url, name = _temporary_database()
    try:
        schema.upgrade(url)
        db._engines.pop(url, None)
        engine = create_engine(url, future=True, pool_size=args.clients, max_overflow=10)
        db._engines[url] = engine  # one connection per client
        stats = run(url, args.clients, args.seconds, args.days)
    finally:
        db.dispose_engines()
        if name:
            _drop(name)
    print(f"clients: {args.clients}, duration: {stats['seconds']} s")
    print(f"bookings: {stats['booked']} ({stats['per_second']} per second), slot taken meanwhile: {stats['taken']}, errors: {stats['errors']}")
    print(f"double bookings: {stats['double_bookings']}")
    return 0 if stats["double_bookings"] == 0 and stats["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
