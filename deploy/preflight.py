"""Check, within seconds, that the services a production start needs are reachable.

    python -m deploy.preflight                # checks DATABASE_URL, TRACKER_DATABASE_URL, REDIS_URL

Rasa's SQL tracker store retries a database that is down every five seconds, forever, and a
Redis lock store that is down only fails on the first message. A town's IT team wants the
opposite: a clear message at start-up. Each check has a short timeout; the exit status is 1
when any service is unreachable, and each problem is printed on its own line.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import List, Optional

from townhall.db import is_sqlite, redacted_url

DEFAULT_TIMEOUT = 3.0


@dataclass(frozen=True)
class Problem:
    service: str
    url: str
    reason: str

    def __str__(self) -> str:
        return f"{self.service} unreachable at {self.url}: {self.reason}"


def check_database(url: str, service: str = "database", timeout: float = DEFAULT_TIMEOUT) -> Optional[Problem]:
    """Open one connection and run ``SELECT 1``; SQLite files are always reachable."""
    if is_sqlite(url):
        return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    connect_args = {"connect_timeout": max(1, int(timeout))} if url.startswith("postgresql") else {}
    engine = create_engine(url, future=True, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        return Problem(service, redacted_url(url), _reason(getattr(error, "orig", None) or error))
    finally:
        engine.dispose()
    return None


def check_redis(url: str, timeout: float = DEFAULT_TIMEOUT) -> Optional[Problem]:
    """Connect with redis-py (the client Rasa's lock store uses) and send PING, without retries."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    except ValueError as error:  # not a redis://, rediss:// or unix:// URL
        return Problem("Redis (lock store)", redacted_url(url), _reason(error))
    try:
        if not client.ping():
            return Problem("Redis (lock store)", redacted_url(url), "no answer")
    except redis.RedisError as error:
        return Problem("Redis (lock store)", redacted_url(url), _reason(error))
    finally:
        client.close()
    return None


def _reason(error: Exception) -> str:
    """The first line of an error's message, the way the database driver or Redis said it."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def check_environment(env: Optional[dict] = None, timeout: float = DEFAULT_TIMEOUT) -> List[Problem]:
    """The production services named by the environment: application DB, tracker DB, Redis."""
    env = os.environ if env is None else env
    problems: List[Problem] = []
    database = env.get("DATABASE_URL", "")
    tracker = env.get("TRACKER_DATABASE_URL") or database
    if database:
        problem = check_database(database, "application database (DATABASE_URL)", timeout)
        if problem:
            problems.append(problem)
    if tracker and tracker != database:
        problem = check_database(tracker, "tracker store (TRACKER_DATABASE_URL)", timeout)
        if problem:
            problems.append(problem)
    if database.startswith("postgresql") or env.get("REDIS_URL"):
        problem = check_redis(env.get("REDIS_URL") or "redis://127.0.0.1:6379/1", timeout)
        if problem:
            problems.append(problem)
    return problems


def main() -> int:
    problems = check_environment()
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    if problems:
        print("Start the services above (or fix their URLs) and try again.", file=sys.stderr)
        return 1
    print("Services reachable.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
