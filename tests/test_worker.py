"""The real thing: the queue's storage, a worker process and an SMTP server on 127.0.0.1.

The web side writes a message and hands it to the queue (a SQLite file in the
instance, as on a one-server install); `flask --app journal worker` takes it and
sends it to a local SMTP server, which keeps what it receives for the test to read.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import delete, select

from journal import create_app
from journal.accounts import courses, invitations
from journal.config import PROJECT_ROOT, Settings
from journal.core.actor import Actor
from journal.db import utcnow
from journal.models import AuditEvent, Message, Role, User
from journal.notify import delivery, reminders
from tests.conftest import Clinic, runtime
from tests.helpers import plain_text
from tests.test_reminders import never_quiet
from tests.test_search_privacy import _free_port

PREPARE = reminders.WORDS["preparation"][0]
NOTICE = "Appointment at KAP journal"
WAIT = 60.0  # seconds: generous for a busy machine; the tests stop as soon as it is there


class Inbox:
    """An SMTP server's handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        raw = envelope.content  # type: ignore[attr-defined]
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(parsed)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, Controller]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller
    controller.stop()


@pytest.fixture(autouse=True)
def no_fixture_messages(clinic: Clinic) -> None:
    """Without the appointment notices the clinic's bookings wrote: each test here follows
    only the messages it makes, and no worker's scan picks those up."""
    with runtime(clinic.world.app).database.session(write=True) as s:
        s.execute(delete(Message))
        s.commit()


def mail_settings(settings: Settings, port: int) -> Settings:
    return settings.with_changes(
        queue_url="",  # the SQLite queue in the instance folder
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_retry_seconds=1,
    )


def sent_to(inbox: Inbox, address: str) -> list[EmailMessage]:
    """The messages one person received. The worker's own scans run on the clock's
    five-minute marks and may also send the test clinic's patient a due reminder."""
    return [m for m in inbox.received if m["To"] == address]


def start_worker(settings: Settings, port: int, **more: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JOURNAL_INSTANCE_PATH": str(settings.instance_path),
        "JOURNAL_DATABASE_URL": settings.database_url,
        "JOURNAL_QUEUE_URL": "",
        "JOURNAL_SMTP_HOST": "127.0.0.1",
        "JOURNAL_SMTP_PORT": str(port),
        "JOURNAL_SMTP_SECURITY": "none",
        "JOURNAL_MAIL_RETRY_SECONDS": "1",
        **more,
    }
    command = [sys.executable, "-m", "flask", "--app", "journal", "worker", "--threads", "1"]
    return subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def stop(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def wait_until(check: Callable[[], bool], worker: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if check():
            return
        if worker.poll() is not None:
            raise AssertionError(worker.stderr.read().decode() if worker.stderr else "stopped")
        time.sleep(0.1)
    raise AssertionError("not within the wait")


def invite(app: Flask, admin_id: object, email: str) -> None:
    with runtime(app).work(write=True) as work:
        admin = work.db.get(User, admin_id)
        assert admin is not None
        invitations.invite(
            work.acting_as(Actor(admin)),
            runtime(app).passwords,
            email=email,
            name="Worker Test (fictional)",
            role=Role.PATIENT,
        )


def message_rows(app: Flask, to: str | None = None) -> list[Message]:
    """The queued messages, or those to one address (see `sent_to`)."""
    query = select(Message) if to is None else select(Message).where(Message.to_address == to)
    with runtime(app).database.session() as s:
        return list(s.scalars(query))


def test_a_worker_sends_the_invitation_through_smtp_once(
    clinic: Clinic, settings: Settings, smtp: tuple[Inbox, Controller]
) -> None:
    inbox, controller = smtp
    own = create_app(mail_settings(settings, controller.port))
    try:
        invite(own, clinic.admin.id, "invited-by-worker@clinic.example")
        (row,) = message_rows(own, "invited-by-worker@clinic.example")
        assert row.status == "pending" and row.body  # waits in the queue, not sent inline
        # What waits holds no usable link: the worker makes the link's secret as it sends.
        assert "/password/" not in row.body and row.link_id is not None
        assert (settings.instance_path / "queue.sqlite3").exists()
        worker = start_worker(settings, controller.port)
        try:
            wait_until(
                lambda: message_rows(own, "invited-by-worker@clinic.example")[0].status == "sent",
                worker,
            )
        finally:
            stop(worker)
        (received,) = sent_to(inbox, "invited-by-worker@clinic.example")
        assert received["To"] == "invited-by-worker@clinic.example"
        assert "/password/" in plain_text(received)
        (row,) = message_rows(own, "invited-by-worker@clinic.example")
        assert row.body is None and row.attempts == 1  # the words are gone once sent
        with runtime(own).database.session() as s:
            audited = s.scalars(select(AuditEvent).where(AuditEvent.action == "mail.invite"))
            assert [e.object_id for e in audited] == [row.id]
    finally:
        runtime(own).database.dispose()


def test_with_the_smtp_server_down_the_message_waits_and_arrives_once_it_is_back(
    clinic: Clinic, settings: Settings
) -> None:
    port = _free_port()  # nothing listens here yet
    own = create_app(mail_settings(settings, port))
    inbox = Inbox()
    try:
        invite(own, clinic.admin.id, "waits@clinic.example")
        worker = start_worker(settings, port)
        try:
            # A claim counts the attempt before it is made; the failure is written
            # when the connection is refused: wait for that.
            wait_until(
                lambda: message_rows(own, "waits@clinic.example")[0].last_error is not None, worker
            )
            row = message_rows(own, "waits@clinic.example")[0]
            assert row.status in {"pending", "sending"} and row.attempts >= 1
            controller = Controller(inbox, hostname="127.0.0.1", port=port)
            controller.start()
            try:
                wait_until(
                    lambda: message_rows(own, "waits@clinic.example")[0].status == "sent", worker
                )
            finally:
                controller.stop()
        finally:
            stop(worker)
        assert len(sent_to(inbox, "waits@clinic.example")) == 1
        assert message_rows(own, "waits@clinic.example")[0].attempts >= 2
    finally:
        runtime(own).database.dispose()


def test_two_workers_and_a_repeated_job_send_a_message_once(
    clinic: Clinic, settings: Settings, smtp: tuple[Inbox, Controller]
) -> None:
    inbox, controller = smtp
    own = create_app(mail_settings(settings, controller.port))
    try:
        invite(own, clinic.admin.id, "once@clinic.example")
        (row,) = message_rows(own, "once@clinic.example")
        for _ in range(3):  # the same job handed over again and again
            runtime(own).enqueue(row.id)
        workers = [start_worker(settings, controller.port) for _ in range(2)]
        try:
            wait_until(
                lambda: message_rows(own, "once@clinic.example")[0].status == "sent", workers[0]
            )
            time.sleep(2)  # room for a second, wrong, send to arrive
        finally:
            for worker in workers:
                stop(worker)
        assert len(sent_to(inbox, "once@clinic.example")) == 1
    finally:
        runtime(own).database.dispose()


def test_the_scan_hands_over_what_waits_and_gives_up_on_an_interrupted_send(
    clinic: Clinic, settings: Settings
) -> None:
    app = clinic.world.app
    invite(app, clinic.admin.id, "scan@clinic.example")
    invite(app, clinic.admin.id, "scan-two@clinic.example")
    rows = message_rows(app)
    assert {r.status for r in rows} == {"sent"}  # immediate in tests: sent at once
    with runtime(app).database.session(write=True) as s:
        waiting, interrupted = (s.get(Message, r.id) for r in rows)
        assert waiting is not None and interrupted is not None
        long_ago = waiting.created_at - delivery.HAND_OVER_AFTER * 2
        waiting.status, waiting.created_at, waiting.body = "pending", long_ago, "Words"
        waiting.claimed_at = None  # never tried: its job was lost
        interrupted.status, interrupted.claimed_at = "sending", long_ago
        s.commit()
    handed: list[object] = []
    delivery.scan(lambda: runtime(app).work(write=True), handed.append)
    assert handed == [waiting.id]
    with runtime(app).database.session() as s:
        gone = s.get(Message, interrupted.id)
        assert gone is not None and gone.status == "dead" and gone.last_error == "interrupted"


def test_the_admin_sees_messages_without_their_words_and_sends_a_dead_one_again(
    clinic: Clinic,
) -> None:
    app = clinic.world.app
    invite(app, clinic.admin.id, "dead-letter@clinic.example")
    (row,) = message_rows(app)
    with runtime(app).database.session(write=True) as s:
        dead = s.get(Message, row.id)
        assert dead is not None
        dead.status, dead.body, dead.last_error = "dead", "Hello, here is your link", "OSError"
        s.commit()
    admin = clinic.world.browser(clinic.admin)
    page = admin.text("/admin/messages")
    assert "dead-letter@clinic.example" in page and "Not sent" in page
    assert "here is your link" not in page
    for who in (clinic.clinician, clinic.patient):
        assert clinic.world.browser(who).get("/admin/messages").status_code == 403
    r = admin.post(f"/admin/messages/{row.id}/again")
    assert r.status_code == 302
    (again,) = message_rows(app)
    assert again.status == "sent" and again.body is None  # immediate queue: sent at once
    outbox = Path(runtime(app).settings.instance_path) / "outbox"
    assert any("here is your link" in p.read_text() for p in outbox.glob("*.eml"))


def test_the_workers_own_scan_sends_a_due_reminder_and_a_booking_its_calendar_file(
    clinic: Clinic, settings: Settings, smtp: tuple[Inbox, Controller]
) -> None:
    """No test code calls the scan: the worker's periodic task finds the reminder, writes
    it and sends it (its scan runs every minute, so at once when it starts). The
    booking that made the reminder due went through the queue with its .ics file."""
    inbox, controller = smtp
    never_quiet(clinic)
    own = create_app(mail_settings(settings, controller.port))
    try:
        # A session twelve hours on, as the worker's own clock will see it: due to prepare.
        with runtime(own).work(write=True) as work:
            clinician = work.db.get(User, clinic.clinician.id)
            assert clinician is not None
            soon = courses.schedule_session(
                work.acting_as(Actor(clinician)),
                clinic.course.id,
                scheduled_at=utcnow() + timedelta(hours=12),
            )

        def sent() -> set[str]:
            return {r.kind for r in message_rows(own) if r.status == "sent"}

        worker = start_worker(settings, controller.port, JOURNAL_SCAN_MINUTES="1")
        try:
            wait_until(lambda: {"reminder_preparation", "session_notice"} <= sent(), worker)
        finally:
            stop(worker)
    finally:
        runtime(own).database.dispose()
    # (The clinic's week-old session may be due an integration reminder too.)
    assert {PREPARE, NOTICE} <= {m["Subject"] for m in inbox.received}
    assert len({m["Message-ID"] for m in inbox.received}) == len(inbox.received)  # each once
    (reminder,) = [m for m in inbox.received if m["Subject"] == PREPARE]
    (notice,) = [m for m in inbox.received if m["Subject"] == NOTICE]
    assert reminder["To"] == notice["To"] == clinic.patient.email
    assert reminder["List-Unsubscribe"] and f"session {soon.number}" in plain_text(reminder)
    assert reminder.get_body(("html",)) is not None
    (ics,) = notice.iter_attachments()
    assert ics.get_content_type() == "text/calendar" and ics.get_param("method") == "REQUEST"
    assert f"UID:{soon.id}@" in ics.get_content()
    rows = {r.kind: r for r in message_rows(clinic.world.app) if r.to_user_id == clinic.patient.id}
    assert rows["reminder_preparation"].key == f"reminder:preparation:{soon.id}"
