"""The Alembic migrations build exactly the schema the models declare."""
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from townhall import db, schema


def migrated_state(url: str) -> tuple[str | None, set[str]]:
    """The database's Alembic revision and its tables."""
    with db.get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision(), set(inspect(connection).get_table_names())


def head() -> str:
    return ScriptDirectory.from_config(schema.alembic_config()).get_current_head()


def test_migrations_match_the_models(db_url):
    with db.get_engine(db_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), schema.load_models())
    assert differences == []
    command.check(schema.alembic_config(db_url))  # what `alembic check` says, with the project's env.py


def test_upgrade_is_idempotent(db_url):
    revision, tables = migrated_state(db_url)
    assert revision == head() and set(schema.load_models().tables) <= tables
    schema.upgrade(db_url)
    schema.upgrade(db_url)
    assert migrated_state(db_url) == (revision, tables)
