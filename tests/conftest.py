"""Fixtures: one app per test run, a fresh database per test, factories, signed-in browsers.

The app is built once (its templates compile once); each test gets its own
instance folder and database, and the app is pointed at them for that test.
On SQLite a test's database is a copy of a migrated template (or of a template
that already holds the small `clinic`); with JOURNAL_TEST_DATABASE_URL set to a
PostgreSQL URL the same tests run there, on one database per worker whose
tables are emptied between tests.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import limits.storage.memory
import psycopg
import pyotp
import pytest
from flask import Flask
from sqlalchemy import Table, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from journal import create_app
from journal.accounts import accounts, courses, twofactor
from journal.bootstrap import ensure_instance, migrate
from journal.config import WRITE_LIMIT_OFF, Argon2Params, Settings
from journal.core.actor import Actor
from journal.core.keys import register_master_key
from journal.core.queue import IMMEDIATE
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import Base, Database, utcnow
from journal.demo import create_demo_clinic
from journal.models import (
    CareTeamMember,
    Course,
    DosingSession,
    Referral,
    Role,
    SessionStatus,
    User,
)
from journal.runtime import Runtime, build_runtime
from journal.web import throttle
from tests.helpers import PASSWORD, Browser, recovery_codes, remember_recovery_codes

# The command line speaks the terminal's language: the tests read its English,
# whatever the machine's own locale.
for _name in ("LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_name, None)
os.environ["LANG"] = "C.UTF-8"

BASE_PG_URL = os.environ.get("JOURNAL_TEST_DATABASE_URL", "")
CHEAP_ARGON2 = Argon2Params(time_cost=1, memory_cost_kib=8, parallelism=1)
DB_FILE = "journal.sqlite3"


def _worker_database(base_url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own on the same server."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not base_url or not worker:
        return base_url
    name = f"{base_url.rsplit('/', 1)[1]}_{worker}"
    server = base_url.rsplit("/", 1)[0]
    with psycopg.connect(base_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


PG_URL = _worker_database(BASE_PG_URL)


def postgres_only() -> bool:
    return bool(PG_URL)


# On PostgreSQL the run keeps the tests that depend on the database: its queries and
# their counts, locking and concurrency, migrations, key rotation, erasure and backup,
# the access rules, what lands on disk, the unit of work, two app servers on one
# database, and what a form may send
# (PostgreSQL refuses some characters SQLite stores). The other modules, and the
# browser tests (they drive pages, not the database), run on SQLite only.
# JOURNAL_TEST_ALL=1 runs every test on PostgreSQL too.
DIALECT_MODULES = frozenset(
    {
        "test_access_log",
        "test_access_matrix",
        "test_at_rest",
        "test_audit_chain",
        "test_audit_trail_page",
        "test_auth",
        "test_care_team",
        "test_caseload",
        "test_cli",
        "test_concurrency",
        "test_demo",
        "test_drafts",
        "test_entries",
        "test_erasure_backup",
        "test_export",
        "test_fuzz_forms",
        "test_input",
        "test_key_rotation",
        "test_migrations",
        "test_no_n_plus_one",
        "test_notes",
        "test_postgres_backup",
        "test_query_counts",
        "test_recovery_codes",
        "test_erasure_reason",
        "test_review",
        "test_review_at_rest",
        "test_sealed_columns",
        "test_search",
        "test_search_index",
        "test_session_limits",
        "test_startup",
        "test_tamper",
        "test_throttle",
        "test_two_factor",
        "test_two_servers",
        "test_unit_of_work",
        "test_visibility",
    }
)


# Tests in those modules that do the same thing whatever the test database: they use
# an SQLite instance of their own, start gunicorn without a database, check the matrix
# itself, or typeset and protect a file from data already collected (JSON, collected
# by the same queries, stays on both). The matrix and the page crawl keep, on
# PostgreSQL, the roles that reach every route with someone else's ids (the other
# patient, the other clinician, the admin; a visitor is sent to sign in before any
# query): which answer a role gets is
# decided by the same policy clauses on both databases, so the patient's and the
# clinician's own runs stay with SQLite. The PostgreSQL pass leaves these to SQLite.
SAME_ON_EVERY_DATABASE = frozenset(
    {
        "test_cli.py::test_init_sets_up_a_fresh_instance_and_is_idempotent",
        "test_cli.py::test_the_app_refuses_to_start_before_init",
        "test_access_matrix.py::test_the_matrix_catches_a_broken_care_team_check",
        "test_access_matrix.py::test_no_role_reaches_someone_elses_objects[anonymous]",
        "test_access_matrix.py::test_no_role_reaches_someone_elses_objects[patient]",
        "test_access_matrix.py::test_no_role_reaches_someone_elses_objects[clinician]",
        "test_review.py::test_every_reachable_page_shows_only_what_its_reader_may_read[patient]",
        "test_review.py::test_every_reachable_page_shows_only_what_its_reader_may_read[clinician]",
        "test_export.py::test_every_format_keeps_the_clinicians_scope[pdf]",
        "test_export.py::test_every_format_keeps_the_clinicians_scope[html]",
        "test_export.py::test_every_format_keeps_the_clinicians_scope[md]",
        "test_export.py::test_patient_pdf_with_private_entries",
        "test_export.py::test_a_protected_pdf_opens_only_with_its_passphrase",
        "test_export.py::test_a_stale_protected_export_asks_for_the_passphrase_again",
        "test_export.py::test_a_missing_pdf_font_is_a_clear_page_not_a_500",
        "test_export.py::test_the_html_file_carries_its_own_strict_content_security_policy",
        "test_throttle.py::test_several_workers_with_counts_in_memory_refuse_to_start",
        # The index is matched in Python: the same answers on either database.
        "test_search_index.py::test_the_index_answers_as_searching_every_entry_did",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not PG_URL or os.environ.get("JOURNAL_TEST_ALL"):
        return
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        if (
            item.path.stem in DIALECT_MODULES
            and item.path.parent.name != "browser"  # a browser walk: its page, not its SQL
            and f"{item.path.name}::{item.name}" not in SAME_ON_EVERY_DATABASE
        ):
            keep.append(item)
        else:
            dropped.append(item)
    config.hook.pytest_deselected(items=dropped)
    items[:] = keep


def _reset_postgres(url: str) -> None:
    database = Database(url)
    with database.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    migrate(database)
    database.dispose()


def _empty_postgres(url: str) -> None:
    """DELETE, children first: on a test's few rows it is some 25 times quicker than
    TRUNCATE, which replaces every table's files. All in one round trip."""
    database = Database(url)
    with database.engine.begin() as conn:
        conn.exec_driver_sql(EMPTY_ALL)
    database.dispose()


EMPTY_ALL = "; ".join(
    f'DELETE FROM "{table.name}"' for table in reversed(Base.metadata.sorted_tables)
)


def _settings(instance: Path, url: str) -> Settings:
    return Settings(
        instance_path=instance,
        database_url=url,
        master_key_path=instance / "keys" / "master.json",
        secret_key_path=instance / "secret_key",
        argon2=CHEAP_ARGON2,
        # Access and input tests send hundreds of forms as one person; the limit on
        # writes is tested on apps of its own (tests/test_throttle.py).
        write_limit=WRITE_LIMIT_OFF,
        # Each message is sent as soon as its transaction commits, in the test's own
        # process; tests/test_worker.py runs the real worker and queue.
        queue_url=IMMEDIATE,
        testing=True,
    )


def _sqlite_url(instance: Path) -> str:
    return f"sqlite:///{instance / DB_FILE}"


def _copy_instance(source: Path, target: Path, *, database: Path | None) -> None:
    """The template's keys (and a database file) in a test's own instance folder."""
    target.mkdir(mode=0o700)
    shutil.copytree(source / "keys", target / "keys")
    shutil.copy2(source / "secret_key", target / "secret_key")
    if database is not None:
        shutil.copy(database, target / DB_FILE)


def _checkpoint(url: str) -> None:
    database = Database(url)
    assert database.checkpoint()
    database.dispose()


@pytest.fixture(scope="session")
def template_instance(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Keys and a migrated database, made once per run; every test starts from a copy."""
    instance = tmp_path_factory.mktemp("template") / "instance"
    settings = _settings(instance, PG_URL or _sqlite_url(instance))
    ensure_instance(settings)
    if PG_URL:
        _reset_postgres(PG_URL)
    else:
        database = Database(settings.database_url)
        migrate(database)
        database.dispose()
        _checkpoint(settings.database_url)
    return settings


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, template_instance: Settings
) -> Iterator[Settings]:
    instance = tmp_path / "instance"
    if PG_URL:
        if "clinic" in request.fixturenames:
            request.getfixturevalue("postgres_clinic")  # built once, before this test's app
        _copy_instance(template_instance.instance_path, instance, database=None)
        yield _settings(instance, PG_URL)
        _empty_postgres(PG_URL)
        return
    source = template_instance.instance_path / DB_FILE
    if "clinic" in request.fixturenames:
        snapshot: ClinicSnapshot = request.getfixturevalue("clinic_snapshot")
        source = snapshot.database
    _copy_instance(template_instance.instance_path, instance, database=source)
    yield _settings(instance, _sqlite_url(instance))


def register_keys(settings: Settings) -> None:
    from journal.crypto import MasterKeyRing

    database = Database(settings.database_url)
    with database.session(write=True) as db:
        register_master_key(db, MasterKeyRing.load(settings.master_key_path))
        db.commit()
    database.dispose()


@pytest.fixture(scope="session")
def shared_app(template_instance: Settings) -> Iterator[Flask]:
    """The one app of the run; `point_at` gives it each test's instance and database."""
    register_keys(template_instance)
    application = create_app(template_instance)
    yield application
    runtime(application).database.dispose()
    if PG_URL:
        _empty_postgres(PG_URL)


def point_at(app: Flask, settings: Settings) -> Runtime:
    """Re-point the app at another instance: its own database, keys and settings,
    fresh session limits and throttling counts, the clinical content kept."""
    old = runtime(app)
    old.database.dispose()
    fresh = build_runtime(settings, clinical=old.clinical)
    app.extensions["journal"] = fresh
    app.instance_path = str(settings.instance_path)
    for limiter in app.extensions.get("limiter", ()):
        limiter.reset()
    return fresh


@pytest.fixture
def app(shared_app: Flask, settings: Settings) -> Iterator[Flask]:
    register_keys(settings)
    point_at(shared_app, settings)
    yield shared_app
    runtime(shared_app).database.dispose()


def runtime(app: Flask) -> Runtime:
    rt: Runtime = app.extensions["journal"]
    return rt


@contextmanager
def committing(rt: Runtime) -> Iterator[Session]:
    """A unit of work of the test's own, committed at its end as a request's is."""
    with rt.work(write=True) as work:
        yield work.db


def work_in(rt: Runtime, session: Session, actor: Actor) -> Work:
    """A unit of work in a session the test opened, acting for `actor`."""
    return Work(
        rt.database,
        rt.keys.ring,
        rt.settings,
        rt.clinical,
        write=True,
        actor=actor,
        session=session,
        enqueue=rt.enqueue,
    )


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    with runtime(app).database.session(write=True) as session:
        yield session


@dataclass
class World:
    """Factories that build people, courses and sessions through the services.

    The test is the unit of work's boundary: each factory commits what it made, as a
    request would, so the pages a test then opens see it."""

    app: Flask
    db: Session

    def commit(self) -> None:
        self.db.commit()

    @property
    def vault(self) -> Vault:
        return Vault(self.db, runtime(self.app).ring)

    def as_(self, user: User, address: str | None = None) -> Work:
        """A unit of work in the test's session, acting for `user`."""
        return self.as_actor(Actor(user, address))

    def as_actor(self, actor: Actor) -> Work:
        return work_in(runtime(self.app), self.db, actor)

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
        self.commit()
        return user

    def enrol_second_factor(self, user: User) -> list[str]:
        """Set up TOTP as the person would; the recovery codes sign them in in tests."""
        actor = Actor(user)
        secret = twofactor.begin_enrolment(self.as_actor(actor))
        codes = twofactor.confirm_enrolment(self.as_actor(actor), pyotp.TOTP(secret).now())
        self.commit()
        remember_recovery_codes(user.email, codes)
        return codes

    def refer(self, patient: User, clinician: User) -> None:
        """The clinic's intake refers the patient to the clinician, who may then open a
        course for them (an admin's step, not what the tests are about)."""
        if self.db.get(Referral, (patient.id, clinician.id)) is None:
            self.db.add(Referral(patient_id=patient.id, clinician_id=clinician.id))
        self.commit()

    def join_team(self, course: Course, clinician: User) -> None:
        """Put a clinician on a course's care team, as if the team had agreed to the
        admin's proposal (tests/test_care_team_consent.py tests that path)."""
        self.db.add(CareTeamMember(course_id=course.id, clinician_id=clinician.id))
        self.commit()

    def course(self, patient: User, *clinicians: User) -> Course:
        """A course opened by the first clinician, to whom the intake referred the patient."""
        self.refer(patient, clinicians[0])
        made = courses.create_course(
            self.as_(clinicians[0]),
            patient_email=patient.email,
            clinician_emails=[c.email for c in clinicians],
            started_on=utcnow().date(),
            indication="Fictional indication for tests",
        )
        self.commit()
        return made

    def session(
        self,
        course: Course,
        clinician: User,
        days: float,
        status: SessionStatus = SessionStatus.SCHEDULED,
    ) -> DosingSession:
        when = utcnow() + timedelta(days=days)
        made = courses.schedule_session(
            self.as_(clinician), course.id, scheduled_at=when, status=status
        )
        self.commit()
        return made

    def browser(self, user: User | None = None) -> Browser:
        """A browser, signed in as `user` without the sign-in form (the tests of
        signing in use Browser.login, which goes through it)."""
        b = Browser(self.app, before=self.commit)
        if user is not None:
            b.sign_in_as(user.id)
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


def build_clinic(world: World) -> Clinic:
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


CLINIC_PEOPLE = ("admin", "patient", "other_patient", "clinician", "other_clinician")
CLINIC_ROWS: dict[str, type[Course] | type[DosingSession]] = {
    "course": Course,
    "other_course": Course,
    "past": DosingSession,
    "upcoming": DosingSession,
}


@dataclass(frozen=True)
class ClinicSnapshot:
    """A database file holding the clinic, the ids of its rows, and the staff's
    recovery codes (each test starts with all of them unused, as its copy does)."""

    database: Path
    ids: dict[str, uuid.UUID]
    codes: dict[str, list[str]]


@pytest.fixture(scope="session")
def clinic_snapshot(
    template_instance: Settings, shared_app: Flask, tmp_path_factory: pytest.TempPathFactory
) -> ClinicSnapshot:
    """The clinic, built once through the services into a copy of the template."""
    instance = tmp_path_factory.mktemp("clinic") / "instance"
    _copy_instance(
        template_instance.instance_path,
        instance,
        database=template_instance.instance_path / DB_FILE,
    )
    settings = _settings(instance, _sqlite_url(instance))
    register_keys(settings)
    rt = point_at(shared_app, settings)
    with rt.database.session(write=True) as session:
        built = build_clinic(World(shared_app, session))
        ids = {name: getattr(built, name).id for name in (*CLINIC_PEOPLE, *CLINIC_ROWS)}
        emails = [getattr(built, name).email for name in CLINIC_PEOPLE]
    rt.database.dispose()
    _checkpoint(settings.database_url)
    return ClinicSnapshot(instance / DB_FILE, ids, {e: recovery_codes(e) for e in emails})


@dataclass(frozen=True)
class PostgresClinic:
    """The clinic's rows, read once from PostgreSQL after building it through the
    services; each test that wants the clinic gets them inserted again (some eight
    times quicker than building it anew), with the staff's recovery codes unused."""

    rows: list[tuple[Table, list[dict[str, object]]]]
    ids: dict[str, uuid.UUID]
    codes: dict[str, list[str]]


@pytest.fixture(scope="session")
def postgres_clinic(
    template_instance: Settings, shared_app: Flask, tmp_path_factory: pytest.TempPathFactory
) -> PostgresClinic:
    instance = tmp_path_factory.mktemp("clinic") / "instance"
    _copy_instance(template_instance.instance_path, instance, database=None)
    settings = _settings(instance, PG_URL)
    register_keys(settings)
    rt = point_at(shared_app, settings)
    with rt.database.session(write=True) as session:
        built = build_clinic(World(shared_app, session))
        ids = {name: getattr(built, name).id for name in (*CLINIC_PEOPLE, *CLINIC_ROWS)}
        emails = [getattr(built, name).email for name in CLINIC_PEOPLE]
    with rt.database.engine.connect() as conn:
        rows = [
            (table, [dict(row) for row in conn.execute(select(table)).mappings()])
            for table in Base.metadata.sorted_tables
        ]
    rt.database.dispose()
    _empty_postgres(PG_URL)
    return PostgresClinic(
        [(t, r) for t, r in rows if r], ids, {e: recovery_codes(e) for e in emails}
    )


def _restore_postgres_clinic(app: Flask, snapshot: PostgresClinic) -> None:
    """Parents first; a row the test's set-up already wrote (its master key) is kept."""
    with runtime(app).database.engine.begin() as conn:
        for table, rows in snapshot.rows:
            conn.execute(postgresql.insert(table).on_conflict_do_nothing(), rows)


@pytest.fixture
def clinic(request: pytest.FixtureRequest, world: World) -> Clinic:
    snapshot: ClinicSnapshot | PostgresClinic
    if PG_URL:
        rows: PostgresClinic = request.getfixturevalue("postgres_clinic")
        _restore_postgres_clinic(world.app, rows)
        snapshot = rows
    else:
        snapshot = request.getfixturevalue("clinic_snapshot")
    for email, codes in snapshot.codes.items():
        remember_recovery_codes(email, codes)
    people = {name: world.db.get(User, snapshot.ids[name]) for name in CLINIC_PEOPLE}
    found = {name: world.db.get(kind, snapshot.ids[name]) for name, kind in CLINIC_ROWS.items()}
    world.db.commit()  # ends the read, which on the write engine holds SQLite's write lock
    return Clinic(world, **people, **found)  # type: ignore[arg-type]


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
    with rt.work(write=True) as work:
        logins = create_demo_clinic(
            work, rt.passwords, catalogue=rt.clinical.instruments, zone=rt.settings.zone
        )
    assert logins is not None
    return logins.password


class Clock:
    """The time the rate limiter reads: frozen at a whole second, moved on by the test."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """limits' in-memory storage and journal.web.throttle read this clock instead of the
    machine's, so a test of a wait moves time on instead of sleeping."""
    fake = Clock()
    monkeypatch.setattr(limits.storage.memory, "time", fake)
    monkeypatch.setattr(throttle, "time", fake)
    return fake
