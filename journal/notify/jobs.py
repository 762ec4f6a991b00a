"""The jobs the worker runs, registered on the runtime's queue."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from huey import Huey, crontab

from journal.export import jobs as export_jobs
from journal.journaling import entries
from journal.notify import alerts, digest, reminders
from journal.notify.delivery import TRIES, UnitMaker, scan, send


def register(
    queue: Huey, unit: UnitMaker, first_wait: int, scan_minutes: int = 5
) -> Callable[[uuid.UUID], None]:
    """Register the jobs; returns how to hand a message to the worker. A failed send is
    tried again after `first_wait` seconds, then twice as long each time; reminders and
    digests are looked for every `scan_minutes`."""
    every = crontab(minute=f"*/{min(scan_minutes, 60)}")

    @queue.task(
        retries=TRIES - 1, retry_delay=first_wait, retry_backoff=2, name="journal.send_message"
    )
    def send_message(message_id: str) -> None:
        send(unit, uuid.UUID(message_id))

    def enqueue(message_id: uuid.UUID) -> None:
        send_message(str(message_id))

    @queue.periodic_task(crontab(minute="*"), name="journal.scan_messages")
    def scan_messages() -> None:
        scan(unit, enqueue)

    @queue.periodic_task(crontab(minute="*"), name="journal.scan_alerts")
    def scan_alerts() -> None:
        with unit() as work:
            alerts.scan(work)

    @queue.periodic_task(every, name="journal.scan_reminders")
    def scan_reminders() -> None:
        with unit() as work:
            reminders.scan(work)

    @queue.periodic_task(every, name="journal.scan_digests")
    def scan_digests() -> None:
        with unit() as work:
            digest.scan(work)

    @queue.periodic_task(crontab(minute="17"), name="journal.erase_deleted_entries")
    def erase_deleted_entries() -> None:
        with unit() as work:
            entries.purge_deleted(work, work.settings.deleted_entry_days)

    return enqueue


def register_exports(queue: Huey, unit: UnitMaker) -> Callable[[uuid.UUID], None]:
    """The long PDF exports (journal/export/jobs.py): the job that typesets one, not tried
    again when it fails (the person reads what failed and may ask again), and the sweep
    that deletes them once their time is out. Returns how to hand one to the worker."""

    @queue.task(name="journal.export_pdf")
    def export_pdf(job_id: str) -> None:
        export_jobs.run(unit, uuid.UUID(job_id))

    def enqueue(job_id: uuid.UUID) -> None:
        export_pdf(str(job_id))

    @queue.periodic_task(crontab(minute="*"), name="journal.sweep_exports")
    def sweep_exports() -> None:
        with unit() as work:
            waiting = export_jobs.sweep(work)
        for job_id in waiting:
            export_jobs.hand_over(enqueue, job_id)

    return enqueue
