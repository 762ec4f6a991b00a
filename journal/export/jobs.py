"""A long PDF export, made by the worker so that no web worker waits on it.

Which PDFs: those whose data (the JSON the template reads) is larger than the
setting `pdf_queue_above_kb`. Typesetting takes about 0.2 s plus 1.7 s per MB of
that data on the benchmark's machine (docs/performance.md): 400 KB, the default,
is about a second there and two to three on a slower machine; the 1,000-entry
course is some 1,200 KB. A PDF with psychotherapy notes is always made at once:
its file could be sealed only with the notes key.

The request does everything a synchronous export does (the access check, the
collection, the audit events) and then, instead of typesetting, keeps the
template's data sealed with the patient's journal key in an `export_jobs` row and
hands the row's id to the worker once the unit commits. The worker claims the row
(queued -> typesetting), typesets, and keeps the PDF sealed the same way
(-> ready), or the person's words for what failed (-> failed: nothing half-made is
kept). The PDF is kept `pdf_keep_minutes` and then deleted, by the worker's
periodic sweep or when its page is opened after that time.

Only the person who asked sees the job's page and downloads the file (policy); a
course's PDF also needs the course to be still theirs. A passphrase is never kept:
the download page asks for it and protects the file in memory, as the
synchronous export does.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from journal.accounts.policy import can_fetch_export, course_access
from journal.core.errors import NotFound, Unavailable
from journal.core.labels import N_
from journal.core.queue import QUEUE_ERRORS
from journal.core.work import Work
from journal.db import after_commit, new_id, write_soon
from journal.export import (
    MIMETYPES,
    ExportFile,
    ExportFormat,
    PendingFile,
    check_passphrase,
    render_pdf,
)
from journal.models.export_jobs import FAILED, QUEUED, READY, TYPESETTING, ExportJob

if TYPE_CHECKING:
    from journal.config import Settings

log = logging.getLogger("journal.export")

# Queued this long and not begun: the worker does not seem to be running.
NOT_RUNNING_AFTER = timedelta(minutes=1)
# Queued this long: the sweep hands it to the queue again (a job the queue lost).
HAND_OVER_AFTER = timedelta(minutes=1)
# Typesetting this long: the worker stopped in the middle (the typesetting process
# itself is stopped after render_pdf.TIMEOUT_S).
STALLED_AFTER = timedelta(seconds=4 * render_pdf.TIMEOUT_S)

EXPIRED = "expired"  # a job's page opened after its time: deleted as the page is shown

UnitMaker = Callable[[], Work]
Enqueue = Callable[[uuid.UUID], None]


def should_queue(settings: Settings, pending: PendingFile) -> bool:
    """True when the file is a PDF long enough to be made by the worker."""
    pdf = pending.pdf
    return pdf is not None and len(pdf.prepared.data) > settings.pdf_queue_above_kb * 1024


def _keep(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.pdf_keep_minutes)


def hand_over(enqueue: Enqueue, job_id: uuid.UUID) -> None:
    """A queue that cannot take the job now loses nothing: the row waits, and the
    worker's sweep hands it over again."""
    try:
        enqueue(job_id)
    except QUEUE_ERRORS as exc:
        log.error("could not queue a PDF export: %s", type(exc).__name__)


def queue_pdf(work: Work, pending: PendingFile, enqueue: Enqueue) -> uuid.UUID:
    """Keep the document's data sealed for the worker; it is handed over once the unit
    commits. Returns the job's id (its page)."""
    pdf = pending.pdf
    if pdf is None:
        raise ValueError("only a PDF without psychotherapy notes is made by the worker")
    now = work.now()
    job = ExportJob(
        id=new_id(),
        requested_by=work.actor.id,
        owner_id=pdf.owner_id,
        course_id=pdf.course_id,
        status=QUEUED,
        filename=pending.filename,
        protect=pdf.protect,
        made_at=pdf.prepared.timestamp,
        version=1,
        created_at=now,
        expires_at=now + _keep(work.settings),
    )
    job.data = work.vault.seal_column(job, "data", pdf.owner_id, pdf.prepared.data.decode())
    work.db.add(job)
    work.db.flush()
    job_id = job.id
    after_commit(work.db, lambda: hand_over(enqueue, job_id))
    return job_id


@dataclass(frozen=True)
class JobPage:
    """What the job's page shows: its state, never content."""

    id: uuid.UUID
    status: str  # queued, typesetting, ready, failed; "expired" once deleted
    filename: str
    protect: bool
    error: str | None
    course_id: uuid.UUID | None
    expires_at: datetime
    worker_missing: bool  # queued for longer than a worker would leave it

    @property
    def waiting(self) -> bool:
        return self.status in (QUEUED, TYPESETTING)

    @property
    def ready(self) -> bool:
        return self.status == READY

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    @property
    def expired(self) -> bool:
        return self.status == EXPIRED


def _find(work: Work, job_id: uuid.UUID) -> ExportJob:
    """NotFound for anyone but the person who asked, and for a course no longer theirs."""
    job = work.db.get(ExportJob, job_id)
    if job is None or not can_fetch_export(work.actor.user, job.requested_by):
        raise NotFound()
    if job.course_id is not None:
        course_access(work.db, work.actor.user, job.course_id)
    return job


def _delete_soon(work: Work, job_id: uuid.UUID) -> None:
    """Deleted as the unit ends (a page's unit only reads)."""

    def remove(db: Session) -> None:
        db.execute(delete(ExportJob).where(ExportJob.id == job_id))

    write_soon(work.db, remove)


def job_page(work: Work, job_id: uuid.UUID) -> JobPage:
    job = _find(work, job_id)
    now = work.now()
    status = job.status
    if job.expires_at <= now:
        _delete_soon(work, job.id)
        status = EXPIRED
    return JobPage(
        job.id,
        status,
        job.filename,
        job.protect,
        job.error,
        job.course_id,
        job.expires_at,
        worker_missing=status == QUEUED and now - job.created_at > NOT_RUNNING_AFTER,
    )


def download(work: Work, job_id: uuid.UUID, passphrase: str | None = None) -> ExportFile:
    """The finished PDF, opened in memory, protected with the passphrase typed now if
    one was asked for. NotFound when it is not ready (or gone)."""
    job = _find(work, job_id)
    if job.status != READY or job.pdf is None or job.expires_at <= work.now():
        raise NotFound()
    if job.protect:
        check_passphrase(ExportFormat.PDF, passphrase or "")
    pdf = base64.b64decode(work.vault.open_column(job, "pdf", job.owner_id))
    if job.protect and passphrase:
        pdf = render_pdf.protect(pdf, passphrase)
    return ExportFile(pdf, MIMETYPES[ExportFormat.PDF], job.filename)


def _claimed(work: Work, job_id: uuid.UUID) -> bool:
    claim = work.db.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status == QUEUED)
        .values(status=TYPESETTING, started_at=work.now())
    )
    return bool(cast("CursorResult[Any]", claim).rowcount)


def _failed(unit: UnitMaker, job_id: uuid.UUID, what: str) -> None:
    with unit() as work:
        work.db.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id)
            .values(status=FAILED, error=what[:200], data=None, pdf=None, finished_at=work.now())
        )


def run(unit: UnitMaker, job_id: uuid.UUID) -> None:
    """The worker's job: typeset one queued PDF and keep it sealed. The typesetting
    holds no transaction; a failure keeps nothing of the file and tells the person
    what failed (the log names the cause)."""
    with unit() as work:
        if not _claimed(work, job_id):
            return  # begun, finished, failed or deleted: nothing to do
        job = work.db.get(ExportJob, job_id)
        assert job is not None
        data = work.vault.open_column(job, "data", job.owner_id).encode()
        timestamp = job.made_at
    try:
        pdf, _ = render_pdf.typeset_json(data, timestamp)
    except render_pdf.PdfFailed as exc:
        log.error("PDF export failed: %s", exc.cause)
        _failed(unit, job_id, exc.what)
        return
    except Unavailable as exc:
        log.error("PDF export failed: %s", exc)
        _failed(unit, job_id, N_("the PDF's fonts are not installed on the server"))
        return
    except Exception as exc:
        _failed(unit, job_id, N_("the PDF could not be made"))
        # Raised again for the worker's log by its type alone: a message could hold content.
        raise RuntimeError(f"PDF export failed: {type(exc).__name__}") from None
    del data
    with unit() as work:
        job = work.db.get(ExportJob, job_id)
        if job is None or job.status != TYPESETTING:
            return  # deleted (or given up on by the sweep) meanwhile
        encoded = base64.b64encode(pdf).decode("ascii")
        del pdf
        job.pdf = work.vault.seal_column(job, "pdf", job.owner_id, encoded)
        now = work.now()
        job.data, job.status, job.finished_at = None, READY, now
        job.expires_at = now + _keep(work.settings)


def sweep(work: Work) -> list[uuid.UUID]:
    """The worker's periodic look: delete what is past its time, give up on a
    typesetting the worker stopped in the middle of, and return the jobs queued too
    long ago to hand over again (after the unit commits)."""
    now = work.now()
    work.db.execute(delete(ExportJob).where(ExportJob.expires_at <= now))
    work.db.execute(
        update(ExportJob)
        .where(ExportJob.status == TYPESETTING, ExportJob.started_at < now - STALLED_AFTER)
        .values(
            status=FAILED,
            error=N_("the export worker stopped while typesetting"),
            data=None,
            finished_at=now,
        )
    )
    return list(
        work.db.scalars(
            select(ExportJob.id).where(
                ExportJob.status == QUEUED, ExportJob.created_at < now - HAND_OVER_AFTER
            )
        )
    )
