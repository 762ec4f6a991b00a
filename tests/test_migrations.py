"""The schema comes from migrations, and the migrations match the models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import create_engine, text

from journal.bootstrap import alembic_config, migrate
from journal.db import Base, Database, utcnow
from journal.models import LoginSession, User
from tests.conftest import PG_URL, runtime


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


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own, so migrating down and up leaves the others alone."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
        return
    name = f"journal_upgrade_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrading_a_database_with_data_loses_nothing(empty_database_url: str) -> None:
    database = Database(empty_database_url)
    cfg = alembic_config(database.url)
    with database.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    user_id, login_id = uuid.uuid4(), uuid.uuid4()
    now = utcnow()
    with database.session(write=True) as db:
        db.execute(
            text(
                "INSERT INTO users (id, email, name, role, password_hash, must_change_password,"
                " active, created_at) VALUES (:id, 'kept@clinic.example', 'Kept (test)',"
                " 'clinician', 'x', false, true, :now)"
            ),
            {"id": user_id.hex if database.is_sqlite else user_id, "now": now.replace(tzinfo=None)},
        )
        db.execute(
            text(
                "INSERT INTO login_sessions (id, user_id, created_at, last_seen_at)"
                " VALUES (:id, :user, :now, :now)"
            ),
            {
                "id": login_id.hex if database.is_sqlite else login_id,
                "user": user_id.hex if database.is_sqlite else user_id,
                "now": now.replace(tzinfo=None),
            },
        )
        db.commit()
    migrate(database)
    with database.session() as db:
        user = db.get(User, user_id)
        login = db.get(LoginSession, login_id)
        assert user is not None and user.email == "kept@clinic.example"
        assert user.two_factor_enabled is False  # the new column got its default
        assert login is not None and login.user_id == user_id
    database.dispose()
