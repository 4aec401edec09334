"""Print the shell exports that endpoints.production.yml needs, derived from the URLs.

    eval "$(.venv/bin/python -m deploy.production_env)"

DATABASE_URL (PostgreSQL) is the application database; TRACKER_DATABASE_URL (default: the
same database) holds Rasa's conversations; REDIS_URL (default redis://127.0.0.1:6379/1) the
lock store. Nothing is printed for an SQLite DATABASE_URL: the embedded default applies.
"""
from __future__ import annotations

import os
import shlex
from typing import Mapping

from sqlalchemy.engine import make_url


def exports(env: Mapping[str, str] | None = None) -> dict[str, str]:
    env = os.environ if env is None else env
    database = env.get("DATABASE_URL", "")
    if not database.startswith("postgresql"):
        return {}
    tracker_url = env.get("TRACKER_DATABASE_URL") or database
    tracker = make_url(tracker_url)  # user and password come out percent-decoded
    redis = make_url(env.get("REDIS_URL") or "redis://127.0.0.1:6379/1")
    return {
        "TRACKER_DATABASE_URL": tracker_url,
        "TRACKER_DB_HOST": tracker.host or "127.0.0.1",
        "TRACKER_DB_PORT": str(tracker.port or 5432),
        "TRACKER_DB_NAME": tracker.database or "postgres",
        "TRACKER_DB_USER": tracker.username or "postgres",
        "TRACKER_DB_PASSWORD": tracker.password or "",
        "REDIS_HOST": redis.host or "127.0.0.1",
        "REDIS_PORT": str(redis.port or 6379),
        "REDIS_DB": redis.database or "1",
        "ACTION_ENDPOINT_URL": env.get("ACTION_ENDPOINT_URL", f"http://localhost:{env.get('ACTIONS_PORT', '5055')}/webhook"),
        "RASA_ENDPOINTS": "endpoints.production.yml",
    }


if __name__ == "__main__":
    for key, value in exports().items():
        print(f"export {key}={shlex.quote(value)}")
