"""Shared fixtures: a real database per test, on SQLite and on PostgreSQL.

``db_url`` is parametrised over both engines. PostgreSQL (127.0.0.1:5432, user postgres,
or ``TEST_POSTGRES_URL``) is required when ``CI`` is set; elsewhere its tests are skipped
when the server is not reachable.
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime

import pytest
from sqlalchemy import create_engine, text

from townhall import db, schema

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, future=True, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_server() -> str:
    if not _postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI and is not reachable at " + POSTGRES_ADMIN_URL)
        pytest.skip("PostgreSQL not reachable")
    return POSTGRES_ADMIN_URL


def _create_postgres_database(admin_url: str, template: str | None = None) -> tuple[str, str]:
    name = f"townhall_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


@pytest.fixture(scope="session")
def postgres_template(postgres_server):
    """A migrated database that each test's database is copied from (much faster than migrating)."""
    url, name = _create_postgres_database(postgres_server)
    schema.upgrade(url)
    engine = db._engines.pop(url, None)
    if engine is not None:
        engine.dispose()
    yield name
    _drop_postgres_database(postgres_server, name)


def _drop_postgres_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path, monkeypatch) -> str:
    """A fresh, migrated database; DATABASE_URL points at it for the test's duration."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'townhall.db'}"
        name = None
    else:
        admin = request.getfixturevalue("postgres_server")
        url, name = _create_postgres_database(admin, request.getfixturevalue("postgres_template"))
    monkeypatch.setenv("DATABASE_URL", url)
    if name is None:
        schema.upgrade(url)
    yield url
    engine = db._engines.pop(url, None)
    if engine is not None:
        engine.dispose()
    if name:
        _drop_postgres_database(request.getfixturevalue("postgres_server"), name)


@pytest.fixture
def sqlite_url(tmp_path, monkeypatch) -> str:
    """SQLite only, for tests that do not depend on the engine."""
    url = f"sqlite:///{tmp_path / 'townhall.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    schema.upgrade(url)
    yield url
    engine = db._engines.pop(url, None)
    if engine is not None:
        engine.dispose()


@pytest.fixture
def session(db_url):
    with db.unit_of_work(db_url) as s:
        yield s


@pytest.fixture(autouse=True)
def local_outbox(tmp_path, monkeypatch):
    """E-mails "sent" by a test land in its own outbox (townhall.mail's local mode)."""
    monkeypatch.setenv("TOWNHALL_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.delenv("SMTP_HOST", raising=False)


# --- a frozen clock (time-machine) ----------------------------------------------------------
# Demo data is relative to the day it is loaded and the actions read the clock: tests that load
# it or call the actions without an explicit ``now`` run at a fixed instant, never "today".
# The instants cover what changes with the day, in the commune's time zone (Europe/Paris).
INSTANTS = {
    "weekday_morning": "2030-04-30T09:15:00",  # Tuesday: the town hall is open
    "saturday": "2030-05-04T10:00:00",  # Saturday morning: identity documents only
    "public_holiday": "2030-05-01T10:00:00",  # Wednesday 1 May, Fête du Travail
    "closing_day": "2030-12-24T11:50:00",  # 24 December: the town hall closes at noon
    "last_minute": "2030-12-31T23:59:00",  # the last minute of the day, the month and the year
}
DEFAULT_INSTANT = "weekday_morning"


def frozen_instant(name: str) -> datetime:
    """The aware local datetime of an instant of ``INSTANTS``, or of an ISO 8601 string."""
    from townhall import config

    moment = datetime.fromisoformat(INSTANTS.get(name, name))
    return moment if moment.tzinfo else moment.replace(tzinfo=config.TIMEZONE)


@pytest.fixture
def clock(request):
    """Freezes the clock; yields the frozen local datetime (``clock.date()`` is "today").

    A weekday morning unless the test asks for another instant::

        @pytest.mark.parametrize("clock", ["saturday", "last_minute"], indirect=True)

    Time stands still (``tick=False``): the date cannot change during a test run at 23:59.
    ``time.monotonic`` is not frozen, so asyncio, thread joins and SQLAlchemy's pool
    timeouts still run; code that measures elapsed time with ``time.time()`` needs
    ``time_machine.travel(moment, tick=True)`` instead. Request it before the fixtures that
    load demo data.
    """
    import time_machine

    moment = frozen_instant(getattr(request, "param", DEFAULT_INSTANT))
    with time_machine.travel(moment, tick=False):
        yield moment


@pytest.fixture(autouse=True)
def clock_from_environment():
    """``TOWNHALL_TEST_NOW=<name of INSTANTS or ISO datetime>`` runs every test at that frozen
    instant: run a test file under several instants to find tests that depend on the day
    they run. The ``clock`` fixture, when a test uses it, wins."""
    wanted = os.environ.get("TOWNHALL_TEST_NOW")
    if not wanted:
        yield
        return
    import time_machine

    with time_machine.travel(frozen_instant(wanted), tick=False):
        yield
