"""The schema comes from migrations, and the migrations match the models."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import create_engine, inspect, select, text

from journal.bootstrap import alembic_config, initialise, migrate
from journal.core.vault import Vault
from journal.crypto import MasterKeyRing
from journal.db import Base, Database, utcnow
from journal.models import Erasure, KeyScope, LoginSession, QuestionnaireResponse, SafetyFlag, User
from tests.conftest import PG_URL, runtime
from tests.conftest import _settings as instance_settings


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


def _upgrade_to(database: Database, revision: str) -> None:
    cfg = alembic_config(database.url)
    with database.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _downgrade_to(database: Database, revision: str) -> None:
    cfg = alembic_config(database.url)
    with database.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _clear_flag_and_erasure(database: Database) -> dict[str, uuid.UUID]:
    """A safety flag and an erasure as revision 0012 stored them: the flag's response
    (and so its questionnaire) and time, and the erasure's reason, in clear."""
    ids = {name: uuid.uuid4() for name in ("patient", "admin", "course", "assigned", "answer")}
    ids |= {"flag": uuid.uuid4(), "erasure": uuid.uuid4(), "erased": uuid.uuid4()}
    now = utcnow().replace(tzinfo=None)
    value = {k: v.hex if database.is_sqlite else v for k, v in ids.items()}
    rows = [
        "INSERT INTO users (id, email, name, role, password_hash, must_change_password, active,"
        " created_at, two_factor_enabled) VALUES (:patient, 'p@clinic.example', 'P (test)',"
        " 'patient', 'x', false, true, :now, false), (:admin, 'a@clinic.example', 'A (test)',"
        " 'admin', 'x', false, true, :now, false)",
        "INSERT INTO courses (id, patient_id, status, started_on, version, created_at)"
        " VALUES (:course, :patient, 'active', :today, 1, :now)",
        "INSERT INTO questionnaire_assignments (id, course_id, instrument_id, cadence,"
        " assigned_by, assigned_at) VALUES (:assigned, :course, 'phq9', 'once', :admin, :now)",
        "INSERT INTO questionnaire_responses (id, course_id, assignment_id, instrument_id,"
        " result, submitted_by, submitted_at, version) VALUES (:answer, :course, :assigned,"
        " 'phq9', :blob, :patient, :now, 1)",
        "INSERT INTO safety_flags (id, course_id, response_id, detail, raised_at, version)"
        " VALUES (:flag, :course, :answer, :blob, :now, 1)",
        "INSERT INTO erasures (id, patient_id, erased_by, erased_at, reason)"
        " VALUES (:erasure, :erased, :admin, :now, 'Asked in writing (test)')",
    ]
    with database.session(write=True) as db:
        for sql in rows:
            db.execute(text(sql), {**value, "now": now, "today": now.date(), "blob": b"old"})
        db.commit()
    return ids


def test_an_upgrade_seals_what_0012_kept_in_clear_once(
    empty_database_url: str, tmp_path: Path
) -> None:
    settings = instance_settings(tmp_path / "instance", empty_database_url)
    database = Database(empty_database_url)
    _upgrade_to(database, "0012")
    ids = _clear_flag_and_erasure(database)

    made = initialise(settings, database)  # migrates, then seals with the keys
    assert "sealed what raised 1 safety flags" in made
    assert "sealed 1 erasure reasons" in made
    ring = MasterKeyRing.load(settings.master_key_path)
    with database.session() as db:
        flag = db.get(SafetyFlag, ids["flag"])
        record = db.get(Erasure, ids["erasure"])
        assert flag is not None and record is not None
        assert (flag.legacy_response_id, flag.legacy_raised_at, record.legacy_reason) == (
            None,
            None,
            None,
        )
        (response,) = db.scalars(select(QuestionnaireResponse))
        source = json.loads(Vault(db, ring).open_column(flag, "source", ids["patient"]))
        assert source["response_id"] == str(ids["answer"]) and source["instrument_id"] == "phq9"
        assert datetime.fromisoformat(source["raised_at"]) == response.submitted_at
        admin_vault = Vault(db, ring, KeyScope.ADMIN)
        assert admin_vault.open_column(record, "reason", ids["admin"]) == "Asked in writing (test)"
        sealed = (flag.source, record.reason)

    if database.is_sqlite:  # no copy left in a freed page or in the -wal file
        path = Path(empty_database_url.removeprefix("sqlite:///"))
        stored = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert b"Asked in writing" not in stored

    again = initialise(settings, database)
    assert not [m for m in again if "sealed" in m]
    with database.session() as db:
        flag, record = db.get(SafetyFlag, ids["flag"]), db.get(Erasure, ids["erasure"])
        assert flag is not None and record is not None
        assert (flag.source, record.reason) == sealed
    # Sealed values cannot go back into clear: revision 0013 refuses to be undone.
    with pytest.raises(RuntimeError, match="stored only sealed"):
        _downgrade_to(database, "0012")
    database.dispose()


def _shape(database: Database, tables: tuple[str, ...]) -> dict[str, object]:
    """Columns, keys, indexes and checks of some tables, as the database reports them."""
    found: dict[str, object] = {}
    with database.engine.connect() as conn:
        seen = inspect(conn)
        for table in tables:
            found[table] = (
                sorted((c["name"], str(c["type"]), c["nullable"]) for c in seen.get_columns(table)),
                sorted(
                    (f["name"], tuple(f["constrained_columns"]))
                    for f in seen.get_foreign_keys(table)
                ),
                sorted((i["name"], tuple(i["column_names"])) for i in seen.get_indexes(table)),
                sorted(str(c["sqltext"]) for c in seen.get_check_constraints(table)),
            )
    return found


def test_0013_goes_down_and_up_again_on_a_database_without_sealed_values(
    empty_database_url: str,
) -> None:
    database = Database(empty_database_url)
    touched = ("safety_flags", "erasures", "data_keys")
    _upgrade_to(database, "0012")
    before = _shape(database, touched)
    _upgrade_to(database, "0013")
    after = _shape(database, touched)
    assert after != before
    _downgrade_to(database, "0012")
    assert _shape(database, touched) == before
    _upgrade_to(database, "0013")
    assert _shape(database, touched) == after
    database.dispose()
