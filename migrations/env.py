"""Alembic environment: the schema is townhall's metadata, the URL is DATABASE_URL."""
from alembic import context

from townhall import config as town_config
from townhall.db import get_engine
from townhall.schema import load_models

config = context.config
target_metadata = load_models()
url = config.get_main_option("sqlalchemy.url") or town_config.database_url()


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with get_engine(url).connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
