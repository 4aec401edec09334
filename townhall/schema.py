"""The application's SQL schema, managed by Alembic (``migrations/``).

One migration step at start-up (``python -m townhall.schema upgrade``, which
``deploy.launcher``, scripts/run.sh and the test fixtures run before anything else); the
processes (Rasa server, action server, back office, command-line tools) only ``check`` that the
database is at the latest revision and stop with a clear message when it is not.
"""
from __future__ import annotations

import importlib
import threading

from townhall import config
from townhall.db import Base, get_engine

# Every module that declares tables. Alembic's autogenerate and the tests import them all.
MODEL_MODULES = (
    "townhall.feedback",
    "townhall.handoff",
    "townhall.privacy",
    "townhall.knowledge.models",
    "townhall.booking.models",
    "townhall.incidents.models",
    "townhall.accounts",
    "townhall.review.models",
    "townhall.channel_dedup",
    "townhall.channel_pages",
)
MIGRATIONS_DIR = config.PROJECT_ROOT / "migrations"


def load_models():
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata


def alembic_config(url: str | None = None):
    from alembic.config import Config

    cfg = Config(str(config.PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", (url or config.database_url()).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None) -> None:
    """Bring the database at ``url`` (default: DATABASE_URL) to the latest schema."""
    from alembic import command

    url = url or config.database_url()
    load_models()
    get_engine(url)  # creates the SQLite file's folder
    command.upgrade(alembic_config(url), "head")
    _checked.add(url)


_upgraded: set[str] = set()
_upgrade_lock = threading.Lock()


def upgraded(url: str | None = None) -> str:
    """``url`` (default DATABASE_URL), its schema brought up to date once per process: for test
    fixtures and tools that own a fresh database. Running processes call ``checked`` instead."""
    url = url or config.database_url()
    if url not in _upgraded:
        with _upgrade_lock:
            if url not in _upgraded:
                upgrade(url)
                _upgraded.add(url)
    return url


class SchemaNotAtHead(RuntimeError):
    """The database is not at the latest migration: the start-up's migration step did not run."""


def current_revisions(url: str) -> set[str]:
    """The Alembic revisions the database at ``url`` is at (empty: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def head_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def check(url: str | None = None) -> None:
    """Raise ``SchemaNotAtHead`` unless the database at ``url`` (default DATABASE_URL) is at the
    latest migration. Processes call this; they never migrate on their own."""
    url = url or config.database_url()
    current, head = current_revisions(url), head_revisions()
    if current != head:
        raise SchemaNotAtHead(
            f"The database {_redacted(url)} is at revision {', '.join(sorted(current)) or 'none'}, "
            f"not at {', '.join(sorted(head))}: run the migration step first "
            f"(python -m townhall.schema upgrade; scripts/run.sh and deploy.launcher do it at start-up).")


_checked: set[str] = set()


def checked(url: str | None = None) -> str:
    """``url`` (default DATABASE_URL) once ``check`` passed for it in this process (checked once)."""
    url = url or config.database_url()
    if url not in _checked:
        check(url)
        _checked.add(url)
    return url


def main(argv: list[str] | None = None) -> int:
    """``python -m townhall.schema upgrade|check``: the start-up's migration step, or the check."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m townhall.schema", description=__doc__)
    parser.add_argument("command", choices=("upgrade", "check"))
    parser.add_argument("--url", default=None, help="database URL (default DATABASE_URL)")
    args = parser.parse_args(argv)
    if args.command == "upgrade":
        upgrade(args.url)
        return 0
    try:
        check(args.url)
    except SchemaNotAtHead as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
