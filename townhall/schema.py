"""The application's SQL schema, managed by Alembic (``migrations/``)."""
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


_upgraded: set[str] = set()
_upgrade_lock = threading.Lock()


def upgraded(url: str | None = None) -> str:
    """``url`` (default DATABASE_URL), its schema brought up to date once per process: for
    processes that run no migration step of their own (the Rasa server's channels)."""
    url = url or config.database_url()
    if url not in _upgraded:
        with _upgrade_lock:
            if url not in _upgraded:
                upgrade(url)
                _upgraded.add(url)
    return url
