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


def test_a_database_at_head_passes_the_check(db_url):
    assert schema.current_revisions(db_url) == schema.head_revisions()
    schema.check(db_url)
    assert schema.checked(db_url) == db_url


def test_processes_never_migrate_a_database_on_their_own(tmp_path):
    """The start-up's migration step runs once; the back office, the actions and the channels
    only check the schema and say clearly what to run."""
    import asyncio

    import pytest

    from actions import common
    from backoffice.app import create_app
    from townhall import channel_pages, db

    url = f"sqlite:///{tmp_path / 'vide.db'}"
    try:
        with pytest.raises(schema.SchemaNotAtHead, match="python -m townhall.schema upgrade") as error:
            create_app(url)
        assert "none" in str(error.value)
        with pytest.raises(schema.SchemaNotAtHead):
            channel_pages.keep_page("facebook", "u1", [{"title": "a", "payload": "/a"}], url)
        os_env = {"DATABASE_URL": url}
        with pytest.MonkeyPatch.context() as monkeypatch:
            for key, value in os_env.items():
                monkeypatch.setenv(key, value)
            with pytest.raises(schema.SchemaNotAtHead):
                asyncio.run(common.in_unit_of_work(lambda session: None))
        assert schema.current_revisions(url) == set()
        assert schema.main(["check", "--url", url]) == 1
        assert schema.main(["upgrade", "--url", url]) == 0
        assert schema.main(["check", "--url", url]) == 0
        create_app(url)
    finally:
        engine = db._engines.pop(url, None)
        if engine is not None:
            engine.dispose()
