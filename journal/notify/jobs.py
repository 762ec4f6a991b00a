"""The jobs the worker runs, registered on the runtime's queue."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from huey import Huey, crontab

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

    return enqueue
