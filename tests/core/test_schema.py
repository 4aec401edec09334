"""The Alembic migrations build exactly the schema the models declare."""
from alembic import command

from townhall import schema


def test_migrations_match_the_models(db_url):
    # Raises when autogenerate would find something to add, drop or change.
    command.check(schema.alembic_config(db_url))


def test_upgrade_is_idempotent(db_url):
    schema.upgrade(db_url)
    schema.upgrade(db_url)
