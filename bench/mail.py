"""How fast does the journal send e-mail? 1,000 reminders to 1,000 patients.

Builds a fictional clinic (by default 1,000 patients, one course and one dosing
session each, twelve hours ahead) in a temporary instance, lets the reminder scan
write a preparation reminder to every patient (one unit of work, as the worker's
periodic scan does), then starts the real worker (`flask --app journal worker`)
on the real queue storage and times the messages as they reach a local SMTP
server (aiosmtpd on 127.0.0.1). The baseline, in the same run and to the same
server: the same number of messages of the same size sent by plain smtplib,
one connection per message as the worker does, and all over one connection.

    python bench/mail.py [--patients 1000] [--threads 2] [--queue-url redis://...]
                         [--database-url postgresql://...] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text

from journal.accounts import accounts
from journal.bootstrap import ensure_instance, initialise
from journal.config import PROJECT_ROOT, Argon2Params, Settings
from journal.core.mail import compose
from journal.db import new_id
from journal.models import (
    Course,
    CourseStatus,
    DosingSession,
    Message,
    Role,
    SessionStatus,
)
from journal.notify import reminders
from journal.runtime import build_runtime

PASSWORD = "fictional-bench-password-1"
WAIT = 600.0  # seconds: give up on a run this slow


class Counter:
    """An SMTP server's handler that counts what it accepts, and when."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.first: float | None = None
        self.last = 0.0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self.lock:
            now = time.perf_counter()
            self.first = self.first if self.first is not None else now
            self.last, self.count = now, self.count + 1
        return "250 OK"

    def reset(self) -> None:
        with self.lock:
            self.count, self.first, self.last = 0, None, 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def build(
    instance: Path, database_url: str | None, queue_url: str, patients: int, port: int
) -> tuple[Settings, datetime]:
    """The clinic; returns its settings and the moment the reminders are due."""
    settings = Settings(
        instance_path=instance,
        database_url=database_url or f"sqlite:///{instance / 'journal.sqlite3'}",
        master_key_path=instance / "keys" / "master.json",
        secret_key_path=instance / "secret_key",
        argon2=Argon2Params(time_cost=1, memory_cost_kib=8, parallelism=1),
        queue_url=queue_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
    )
    ensure_instance(settings)
    initialise(settings)
    runtime = build_runtime(settings)
    # Noon UTC today: outside the patients' quiet hours, whatever the hour of the run.
    due = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    with runtime.work(write=True) as work:
        db = work.db
        for p in range(patients):
            patient, _ = accounts.create_user(
                db,
                runtime.passwords,
                email=f"bench.patient{p}@example.invalid",
                name=f"Bench Patient {p} (synthetic)",
                role=Role.PATIENT,
                password=PASSWORD,
            )
            course = Course(
                id=new_id(),
                patient_id=patient.id,
                status=CourseStatus.ACTIVE,
                started_on=date(2026, 1, 5),
                version=1,
            )
            db.add(course)
            db.flush()
            # Rows, not the session service: its appointment notices are not measured here.
            db.add(
                DosingSession(
                    id=new_id(),
                    course_id=course.id,
                    number=1,
                    scheduled_at=due + timedelta(hours=12),
                    status=SessionStatus.SCHEDULED,
                )
            )
    runtime.database.dispose()
    return settings, due


def start_worker(settings: Settings, threads: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JOURNAL_INSTANCE_PATH": str(settings.instance_path),
        "JOURNAL_DATABASE_URL": settings.database_url,
        "JOURNAL_QUEUE_URL": settings.queue_url,
        "JOURNAL_SMTP_HOST": "127.0.0.1",
        "JOURNAL_SMTP_PORT": str(settings.smtp_port),
        "JOURNAL_SMTP_SECURITY": "none",
    }
    command = [sys.executable, "-m", "flask", "--app", "journal", "worker"]
    return subprocess.Popen(
        [*command, "--threads", str(threads)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(counter: Counter, count: int) -> None:
    deadline = time.monotonic() + WAIT
    while counter.count < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {counter.count} of {count} messages arrived")
        time.sleep(0.05)


def baseline(settings: Settings, counter: Counter, count: int) -> dict[str, float]:
    """smtplib alone, the same messages (as the worker composes them), the same server."""
    sample = compose(
        settings,
        "bench.patient0@example.invalid",
        reminders.WORDS["preparation"][0],
        "Hello Bench Patient 0 (synthetic),\n\n"
        + reminders.WORDS["preparation"][1].format(number=1, when="Monday 5 January at 10:00")
        + f"\n\n{settings.base_url}/\n",
        "bench:baseline",
    )
    figures = {}
    counter.reset()
    started = time.perf_counter()
    for _ in range(count):
        with smtplib.SMTP("127.0.0.1", settings.smtp_port) as smtp:
            smtp.send_message(sample)
    wait_for(counter, count)
    figures["smtplib_per_connection_per_s"] = count / (time.perf_counter() - started)
    counter.reset()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", settings.smtp_port) as smtp:
        for _ in range(count):
            smtp.send_message(sample)
    wait_for(counter, count)
    figures["smtplib_one_connection_per_s"] = count / (time.perf_counter() - started)
    return figures


def sent_count(settings: Settings) -> dict[str, int]:
    runtime = build_runtime(settings)
    with runtime.database.session() as db:
        rows = db.execute(select(Message.status, func.count()).group_by(Message.status))
        found = {status: int(n) for status, n in rows}
        audited = db.scalar(text("SELECT count(*) FROM audit_events WHERE action LIKE 'mail.%'"))
        found["audited"] = int(audited or 0)
    runtime.database.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2, help="the worker's --threads")
    parser.add_argument("--queue-url", default="", help="empty: the SQLite queue file")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    counter = Counter()
    port = free_port()
    server = Controller(counter, hostname="127.0.0.1", port=port)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            figures = run(Path(tmp) / "instance", args, counter, port)
    finally:
        server.stop()
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def run(instance: Path, args: argparse.Namespace, counter: Counter, port: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    settings, due = build(instance, args.database_url, args.queue_url, args.patients, port)
    built = time.perf_counter() - t0
    runtime = build_runtime(settings)
    t0 = time.perf_counter()
    with runtime.work(write=True) as work:  # the commit hands each message to the queue
        written = reminders.scan(work, now=due)
    scanned = time.perf_counter() - t0
    runtime.database.dispose()
    if written != args.patients:
        raise SystemExit(f"the scan wrote {written} reminders, not {args.patients}")
    counter.reset()
    t0 = time.perf_counter()
    worker = start_worker(settings, args.threads)
    try:
        wait_for(counter, written)
        elapsed = time.perf_counter() - t0
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    first, last = counter.first or t0, counter.last
    states = sent_count(settings)
    if states.get("sent") != written:
        raise SystemExit(f"not every message is marked sent: {states}")
    figures: dict[str, Any] = {
        "messages": written,
        "worker_threads": args.threads,
        "queue": args.queue_url or "sqlite file",
        "database": "postgresql" if args.database_url else "sqlite",
        "build_s": round(built, 1),
        "scan_and_queue_s": round(scanned, 2),
        "worker_start_to_last_s": round(elapsed, 2),
        "worker_per_s": round(written / elapsed, 1),
        "worker_first_to_last_per_s": round((written - 1) / max(last - first, 1e-9), 1),
        "audited": states["audited"],
    }
    figures.update({k: round(v, 1) for k, v in baseline(settings, counter, written).items()})
    return figures


if __name__ == "__main__":
    main()
