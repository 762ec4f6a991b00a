"""Fixtures: a fresh instance (keys, database) per test, factories, signed-in browsers.

The suite runs on SQLite by default; with JOURNAL_TEST_DATABASE_URL set to a
PostgreSQL URL it runs the same tests there (tables are emptied between tests).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from journal import create_app
from journal.bootstrap import ensure_instance, migrate
from journal.config import Argon2Params, Settings
from journal.db import Base, Database, utcnow
from journal.models import Course, DosingSession, Role, SessionStatus, User
from journal.runtime import Runtime
from journal.services import accounts, courses, twofactor
from journal.services.actor import Actor
from journal.services.demo import create_demo_clinic
from journal.services.keys import register_master_key
from journal.services.vault import Vault
from tests.helpers import PASSWORD, Browser, remember_recovery_codes

PG_URL = os.environ.get("JOURNAL_TEST_DATABASE_URL", "")
CHEAP_ARGON2 = Argon2Params(time_cost=1, memory_cost_kib=8, parallelism=1)


def _reset_postgres(url: str) -> None:
    database = Database(url)
    with database.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    migrate(database)
    database.dispose()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per run; each test then starts from a copy (SQLite) or empty tables."""
    if PG_URL:
        _reset_postgres(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "journal.sqlite3"
    database = Database(f"sqlite:///{path}")
    migrate(database)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return str(path)


def _empty_postgres(url: str) -> None:
    """DELETE, children first: on a test's few rows it is some 25 times quicker than
    TRUNCATE, which replaces every table's files."""
    database = Database(url)
    with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    database.dispose()


@pytest.fixture
def settings(tmp_path: Path, template_database: str) -> Iterator[Settings]:
    instance = tmp_path / "instance"
    if PG_URL:
        url = PG_URL
    else:
        instance.mkdir(mode=0o700)
        shutil.copy(template_database, instance / "journal.sqlite3")
        url = f"sqlite:///{instance / 'journal.sqlite3'}"
    s = Settings(
        instance_path=instance,
        database_url=url,
        master_key_path=instance / "keys" / "master.json",
        secret_key_path=instance / "secret_key",
        argon2=CHEAP_ARGON2,
        testing=True,
    )
    ensure_instance(s)
    yield s
    if PG_URL:
        _empty_postgres(PG_URL)


def register_keys(settings: Settings) -> None:
    from journal.crypto import MasterKeyRing

    database = Database(settings.database_url)
    with database.session(write=True) as db:
        register_master_key(db, MasterKeyRing.load(settings.master_key_path))
    database.dispose()


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    register_keys(settings)
    application = create_app(settings)
    yield application
    runtime(application).database.dispose()


def runtime(app: Flask) -> Runtime:
    rt: Runtime = app.extensions["journal"]
    return rt


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    with runtime(app).database.session(write=True) as session:
        yield session


@dataclass
class World:
    """Factories that build people, courses and sessions through the services."""

    app: Flask
    db: Session

    @property
    def vault(self) -> Vault:
        return Vault(self.db, runtime(self.app).ring)

    def user(self, role: Role, name: str | None = None, email: str | None = None) -> User:
        tag = uuid.uuid4().hex[:8]
        user, _ = accounts.create_user(
            self.db,
            runtime(self.app).passwords,
            email=email or f"{role.value}-{tag}@clinic.example",
            name=name or f"{role.value.title()} {tag} (test)",
            role=role,
            password=PASSWORD,
        )
        if twofactor.required_for(user):
            self.enrol_second_factor(user)
        return user

    def enrol_second_factor(self, user: User) -> list[str]:
        """Set up TOTP as the person would; the recovery codes sign them in in tests."""
        actor = Actor(user)
        secret = twofactor.begin_enrolment(self.db, self.vault, actor)
        codes = twofactor.confirm_enrolment(self.db, self.vault, actor, pyotp.TOTP(secret).now())
        remember_recovery_codes(user.email, codes)
        return codes

    def course(self, patient: User, *clinicians: User) -> Course:
        return courses.create_course(
            self.db,
            self.vault,
            Actor(clinicians[0]),
            patient_email=patient.email,
            clinician_emails=[c.email for c in clinicians],
            started_on=utcnow().date(),
            indication="Fictional indication for tests",
        )

    def session(
        self,
        course: Course,
        clinician: User,
        days: float,
        status: SessionStatus = SessionStatus.SCHEDULED,
    ) -> DosingSession:
        when = utcnow() + timedelta(days=days)
        return courses.schedule_session(
            self.db, Actor(clinician), course.id, scheduled_at=when, status=status
        )

    def browser(self, user: User | None = None) -> Browser:
        b = Browser(self.app)
        if user is not None:
            response = b.login(user.email)
            assert response.status_code == 302, response.get_data(as_text=True)
        return b


@pytest.fixture
def world(app: Flask, db: Session) -> World:
    return World(app, db)


@dataclass
class Clinic:
    """A small clinic: one course with a care team, plus outsiders for access tests."""

    world: World
    admin: User
    patient: User
    other_patient: User
    clinician: User
    other_clinician: User
    course: Course
    other_course: Course
    past: DosingSession
    upcoming: DosingSession


@pytest.fixture
def clinic(world: World) -> Clinic:
    admin = world.user(Role.ADMIN)
    patient = world.user(Role.PATIENT)
    other_patient = world.user(Role.PATIENT)
    clinician = world.user(Role.CLINICIAN)
    other_clinician = world.user(Role.CLINICIAN)
    course = world.course(patient, clinician)
    other_course = world.course(other_patient, other_clinician)
    past = world.session(course, clinician, -7, SessionStatus.COMPLETED)
    upcoming = world.session(course, clinician, 3)
    world.session(other_course, other_clinician, 2)
    return Clinic(
        world,
        admin,
        patient,
        other_patient,
        clinician,
        other_clinician,
        course,
        other_course,
        past,
        upcoming,
    )


def entry_form(session: DosingSession | None = None, **overrides: str) -> dict[str, str]:
    data = {
        "phase": "integration",
        "session_id": str(session.id) if session else "",
        "title": "A fictional entry",
        "body": "Some *words* written for a test.",
        "visibility": "care_team",
        "mood": "6",
        "intentions": "",
        "version": "",
    }
    data.update(overrides)
    return data


def new_entry_id(response_location: str) -> uuid.UUID:
    return uuid.UUID(response_location.rstrip("/").split("/")[-1])


Now = Callable[[], datetime]


def create_demo(app: Flask) -> str:
    """The demo clinic in the app's database; returns the demo password."""
    rt = runtime(app)
    with rt.database.session(write=True) as session:
        logins = create_demo_clinic(
            session, Vault(session, rt.ring), rt.passwords, catalogue=rt.clinical.instruments
        )
    assert logins is not None
    return logins.password
