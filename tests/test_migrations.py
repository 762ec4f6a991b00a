"""The schema comes from migrations, and the migrations match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from journal.bootstrap import alembic_config
from journal.db import Base
from tests.conftest import runtime


def test_migrated_schema_matches_the_models(app: Flask) -> None:
    engine = runtime(app).database.engine
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_database_is_at_the_single_head(app: Flask) -> None:
    database = runtime(app).database
    script = ScriptDirectory.from_config(alembic_config(database.url))
    assert len(script.get_heads()) == 1
    with database.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    assert current == script.get_current_head()
