"""Invitations and resets: the password is chosen by its owner through a one-time link
e-mailed to them; nobody else sees the link or the password."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import urllib.request
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select, update

from journal.accounts import invitations
from journal.config import PROJECT_ROOT, Settings
from journal.db import utcnow
from journal.models import AuditEvent, PasswordLink, Role, User
from tests.conftest import Clinic, runtime
from tests.helpers import PASSWORD, Browser, mailed_link, mails_to
from tests.test_search_privacy import _free_port, _wait_for

NEW_PASSWORD = "lantern meadow quietly orbits"


def invite(admin: Browser, email: str, role: Role, refer_to: str = "") -> str:
    r = admin.post(
        "/admin/users/new",
        {"name": "Robin Example (test)", "email": email, "role": role.value, "refer_to": refer_to},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    return admin.text("/admin/users")


def choose(app: object, path: str, password: str = NEW_PASSWORD) -> int:
    b = Browser(app)  # type: ignore[arg-type]
    assert b.get(path).status_code == 200
    r = b.post(path, {"password": password, "confirm_password": password})
    return r.status_code


def test_an_invited_patient_chooses_their_password_and_nobody_else_sees_it(
    clinic: Clinic,
) -> None:
    app = clinic.world.app
    admin = clinic.world.browser(clinic.admin)
    email = "invited-patient@clinic.example"
    listing = invite(admin, email, Role.PATIENT)
    assert "Invited, not signed in yet" in listing
    path = mailed_link(app, email)
    token = path.rsplit("/", 1)[-1]
    # The admin's answer and pages never hold the link; the database holds only its hash.
    assert token not in listing
    with runtime(app).database.session() as s:
        row = s.scalars(select(PasswordLink)).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    db_file = runtime(app).settings.instance_path / "journal.sqlite3"
    if db_file.exists():
        assert token.encode() not in db_file.read_bytes()
    # Nothing signs in before the link is used: there is no password anyone knows.
    assert Browser(app).login(email, PASSWORD).status_code == 200

    page = Browser(app).text(path)
    assert "Welcome, Robin Example (test)" in page
    assert choose(app, path) == 302
    assert Browser(app).login(email, NEW_PASSWORD).status_code == 302
    # The link works once.
    late = Browser(app)
    assert late.get(path).status_code == 404
    again = {"password": "another long password", "confirm_password": "another long password"}
    assert late.post(path, again).status_code == 404
    assert Browser(app).login(email, "another long password").status_code == 200


def test_a_weak_or_mismatched_password_is_refused_and_the_link_still_works(
    clinic: Clinic,
) -> None:
    app = clinic.world.app
    invite(clinic.world.browser(clinic.admin), "weak@clinic.example", Role.PATIENT)
    path = mailed_link(app, "weak@clinic.example")
    b = Browser(app)
    b.get(path)
    r = b.post(path, {"password": "short", "confirm_password": "short"})
    assert r.status_code == 200 and "at least" in r.get_data(as_text=True).lower()
    r = b.post(path, {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "x"})
    assert r.status_code == 200 and "differ" in r.get_data(as_text=True)
    assert choose(app, path) == 302


def test_an_expired_link_does_not_work(clinic: Clinic) -> None:
    app = clinic.world.app
    invite(clinic.world.browser(clinic.admin), "late@clinic.example", Role.PATIENT)
    path = mailed_link(app, "late@clinic.example")
    with runtime(app).database.session(write=True) as s:
        s.execute(update(PasswordLink).values(expires_at=utcnow() - timedelta(minutes=1)))
        s.commit()
    r = Browser(app).get(path)
    assert r.status_code == 404 and "no longer works" in r.get_data(as_text=True)


def test_the_admin_sends_a_reset_link_and_the_password_stays_until_it_is_used(
    clinic: Clinic,
) -> None:
    app = clinic.world.app
    admin = clinic.world.browser(clinic.admin)
    patient = clinic.patient
    Browser(app).login(patient.email)  # has signed in before: the link is a reset
    page = admin.text("/admin/users")
    assert "Send a password reset link" in page and "temporary password" not in page.lower()
    r = admin.post(f"/admin/users/{patient.id}/send-link")
    assert r.status_code == 302
    flashed = admin.text("/admin/users")
    path = mailed_link(app, patient.email)
    assert path.rsplit("/", 1)[-1] not in flashed
    assert "reset link is on its way" in flashed
    # Asking for a reset locks nobody out: the old password still works.
    assert Browser(app).login(patient.email, PASSWORD).status_code == 302
    signed_in = clinic.world.browser(patient)
    assert choose(app, path) == 302
    assert Browser(app).login(patient.email, PASSWORD).status_code == 200
    assert Browser(app).login(patient.email, NEW_PASSWORD).status_code == 302
    # Setting the password through the link signs the account out everywhere else.
    r = signed_in.get("/")
    assert r.status_code == 302 and urlsplit(r.location).path == "/login"


def test_forgot_password_answers_the_same_for_any_address(clinic: Clinic) -> None:
    app = clinic.world.app
    answers = []
    for email in (clinic.patient.email, "nobody-here@clinic.example"):
        b = Browser(app)
        r = b.post("/reset", {"email": email})
        assert r.status_code == 302 and r.location == "/reset/sent"
        answers.append(b.get(r.location).get_data(as_text=True))
    assert answers[0] == answers[1]
    assert mails_to(app, "nobody-here@clinic.example") == []
    path = mailed_link(app, clinic.patient.email)
    assert choose(app, path) == 302


def test_forgot_password_sends_a_few_links_a_day_at_most(clinic: Clinic) -> None:
    """Past the form's hourly throttle, the account itself gets a few links a day."""
    app = clinic.world.app
    most = invitations.RESETS_PER_DAY
    for _ in range(most + 2):
        with runtime(app).work(write=True) as work:
            invitations.request_reset(work, clinic.patient.email, "10.1.1.1")
    assert len(mails_to(app, clinic.patient.email)) == most
    with runtime(app).database.session() as s:
        outcomes = list(
            s.scalars(
                select(AuditEvent.outcome).where(AuditEvent.action == "password.reset_request")
            )
        )
    assert sorted(outcomes) == ["ok"] * most + ["refused", "refused"]


def test_a_newer_link_replaces_the_older_one(clinic: Clinic) -> None:
    app = clinic.world.app
    admin = clinic.world.browser(clinic.admin)
    invite(admin, "twice@clinic.example", Role.CLINICIAN)
    first = mailed_link(app, "twice@clinic.example")
    with runtime(app).database.session() as s:
        user = s.scalars(select(User).where(User.email == "twice@clinic.example")).one()
    admin.post(f"/admin/users/{user.id}/send-link")
    second = mailed_link(app, "twice@clinic.example")
    assert first != second
    assert Browser(app).get(first).status_code == 404
    assert choose(app, second) == 302


def test_the_operator_makes_a_link_from_the_command_line_and_it_is_audited(
    clinic: Clinic,
) -> None:
    app = clinic.world.app
    result = app.test_cli_runner().invoke(args=["password-link", clinic.other_patient.email])
    assert result.exit_code == 0, result.output
    url = result.output.strip().rsplit(" ", 1)[-1]
    assert url.startswith(runtime(app).settings.base_url + "/password/")
    assert choose(app, urlsplit(url).path) == 302
    with runtime(app).database.session() as s:
        events = list(
            s.scalars(select(AuditEvent).where(AuditEvent.object_id == clinic.other_patient.id))
        )
    assert any(e.action.endswith("_link") and e.outcome == "cli" for e in events)
    bad = app.test_cli_runner().invoke(args=["password-link", "nobody@clinic.example"])
    assert bad.exit_code != 0 and "No active account" in bad.output


def test_the_reset_form_is_throttled_per_address_asked_about_known_or_not(
    clinic: Clinic,
) -> None:
    app = clinic.world.app
    for n, email in enumerate((clinic.patient.email, "nobody-known@clinic.example")):
        statuses = [reset_from(app, f"10.0.{n}.{i}", email) for i in range(4)]
        assert statuses == [302, 302, 302, 429], email
    # From one address, whatever it asks about: five a minute.
    statuses = [reset_from(app, "10.9.9.9", f"someone{i}@clinic.example") for i in range(6)]
    assert statuses == [302] * 5 + [429]


def reset_from(app: object, address: str, email: str) -> int:
    b = Browser(app)  # type: ignore[arg-type]
    return b.post("/reset", {"email": email}, environ_base={"REMOTE_ADDR": address}).status_code


def test_a_password_change_ends_every_link_still_waiting(clinic: Clinic) -> None:
    app = clinic.world.app
    Browser(app).post("/reset", {"email": clinic.patient.email})
    path = mailed_link(app, clinic.patient.email)
    b = clinic.world.browser(clinic.patient)
    r = b.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert r.status_code == 302
    assert Browser(app).get(path).status_code == 404


def test_a_real_servers_access_log_keeps_no_links_secret(
    clinic: Clinic, settings: Settings, tmp_path: Path
) -> None:
    app = clinic.world.app
    with runtime(app).work(write=True) as work:
        _, url = invitations.operator_link(work, clinic.other_patient.email)
    secret = url.rsplit("/", 1)[-1]
    log = tmp_path / "access.log"
    port = _free_port()
    env = {
        **os.environ,
        "JOURNAL_INSTANCE_PATH": str(settings.instance_path),
        "JOURNAL_DATABASE_URL": settings.database_url,
    }
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}"]
    command += ["--logger-class", "journal.serving.RedactingLogger"]
    command += ["--access-logfile", str(log), "journal:create_app()"]
    server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/healthz", server)
        with urllib.request.urlopen(f"{base}/password/{secret}") as page:
            assert "Choose" in page.read().decode()  # the link worked
    finally:
        server.terminate()
        server.wait(timeout=10)
    logged = log.read_text()
    assert '"GET /password/[secret] HTTP/1.1" 200' in logged, logged
    assert secret not in logged
