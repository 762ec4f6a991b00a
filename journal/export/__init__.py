"""Exports: the treatment-course summary and the patient's own data.

`collect.py` builds the document model (model.py) through policy.py's rules;
`render_json.py`, `render_markdown.py`, `render_html.py` and `render_pdf.py`
turn it into a file. Everything happens in memory, and every export is written
to the audit trail (who, which scope, which format; never content).

When a clinician includes psychotherapy notes, the disclosure is recorded as
well: a `note_disclosures` row (who, when, which format, and the reason,
encrypted with the patient's notes key) and an audit event of type "note",
which the patient's access log leaves out like every note event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.courses import list_sessions
from journal.accounts.policy import (
    CourseAccess,
    can_use_notes,
    course_access,
    keeps_a_journal,
    require,
    visible_courses_clause,
)
from journal.clinical.checklist import Checklist
from journal.clinical.dose import DoseRules
from journal.clinical.instruments import Catalogue
from journal.clinical.session_records import bp_thresholds
from journal.core.errors import NotFound, ValidationError
from journal.core.labels import N_
from journal.core.work import Work
from journal.db import new_id, utcnow, write_soon
from journal.export import render_html, render_json, render_markdown, render_pdf
from journal.export.collect import (
    NOTES_REASON_MAX,
    NOTES_REASON_MIN,
    check_options,
    collect_course,
    scope_of,
)
from journal.export.model import (
    AccountInfo,
    CourseDocument,
    ExportFormat,
    ExportOptions,
    PatientDataDocument,
)
from journal.export.render_pdf import PdfFailed
from journal.models import Course, DosingSession, KeyScope, NoteDisclosure, User
from journal.review.notes import AUDIT_TYPE as NOTE_AUDIT_TYPE

__all__ = [
    "NOTES_REASON_MAX",
    "NOTES_REASON_MIN",
    "PAGE_SIZES",
    "PASSPHRASE_MAX",
    "PASSPHRASE_MIN",
    "ExportFile",
    "ExportFormat",
    "ExportOptions",
    "ExportPage",
    "PdfFailed",
    "PendingFile",
    "QueueablePdf",
    "export_course",
    "export_page",
    "export_patient_data",
    "note_disclosures",
]

PAGE_SIZES = render_pdf.PAGE_SIZES  # the PDF's paper: "a4" or "letter"
PASSPHRASE_MIN = 12
PASSPHRASE_MAX = 200
PATIENT_DATA_FORMATS = (ExportFormat.JSON, ExportFormat.PDF)

MIMETYPES = {
    ExportFormat.PDF: "application/pdf",
    ExportFormat.HTML: "text/html; charset=utf-8",
    ExportFormat.MARKDOWN: "text/markdown; charset=utf-8",
    ExportFormat.JSON: "application/json",
}


@dataclass(frozen=True)
class ExportPage:
    """What the export page shows: no content, only the course's outline."""

    access: CourseAccess
    patient: User
    sessions: list[DosingSession]


def export_page(work: Work, course_id: uuid.UUID) -> ExportPage:
    access = course_access(work.db, work.actor.user, course_id)
    patient = work.db.get(User, access.course.patient_id)
    assert patient is not None
    return ExportPage(access, patient, list_sessions(work.db, course_id))


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    mimetype: str
    filename: str  # made by the server: never a name or any content


@dataclass(frozen=True)
class QueueablePdf:
    """A PDF the worker may make instead of the request (journal/export/jobs.py), sealed
    with its patient's journal key: never one with psychotherapy notes, which only the
    notes key may seal (those are typeset at once, as before)."""

    prepared: render_pdf.Prepared
    owner_id: uuid.UUID  # the patient whose words it holds
    course_id: uuid.UUID | None  # None: the patient's own data
    protect: bool  # a passphrase was asked for: asked again at download, never kept


@dataclass(frozen=True)
class PendingFile:
    """A document collected, and its export recorded, not yet made into a file.

    Making the file needs no database: the unit of work commits first, so typesetting
    a long PDF never holds a transaction (nor, on SQLite, the write lock)."""

    make: Callable[[], bytes]
    mimetype: str
    filename: str
    pdf: QueueablePdf | None = None

    def file(self) -> ExportFile:
        return ExportFile(self.make(), self.mimetype, self.filename)


def parse_format(
    value: str, allowed: tuple[ExportFormat, ...] = tuple(ExportFormat)
) -> ExportFormat:
    try:
        fmt = ExportFormat(value)
    except ValueError:
        fmt = None
    if fmt is None or fmt not in allowed:
        names = ", ".join(f.value for f in allowed)
        raise ValidationError(
            {"format": N_("Choose one of the listed formats (%(formats)s).", formats=names)}
        )
    return fmt


def check_passphrase(fmt: ExportFormat, passphrase: str | None) -> None:
    if passphrase is None:
        return
    if fmt != ExportFormat.PDF:
        raise ValidationError({"passphrase": N_("Passphrase protection is for PDF files.")})
    if len(passphrase) < PASSPHRASE_MIN:
        raise ValidationError(
            {
                "passphrase": N_(
                    "Use a passphrase of at least %(min)s characters.", min=PASSPHRASE_MIN
                )
            }
        )
    if len(passphrase) > PASSPHRASE_MAX:
        raise ValidationError(
            {"passphrase": N_("Use at most %(limit)s characters.", limit=PASSPHRASE_MAX)}
        )


def check_page_size(page_size: str) -> None:
    if page_size not in PAGE_SIZES:
        raise ValidationError({"page_size": N_("Choose A4 or Letter.")})


def _filename(stem: str, fmt: ExportFormat, now: datetime) -> str:
    return f"{stem}-{now:%Y%m%d-%H%M}.{fmt.value}"


def _render_course(
    doc: CourseDocument, fmt: ExportFormat, passphrase: str | None, page_size: str
) -> bytes:
    if fmt == ExportFormat.PDF:
        return render_pdf.render_course(doc, passphrase, page_size=page_size)
    if fmt == ExportFormat.HTML:
        return render_html.render_course(doc)
    if fmt == ExportFormat.MARKDOWN:
        return render_markdown.render_course(doc)
    return render_json.render_course(doc)


def export_course(
    work: Work,
    course_id: uuid.UUID,
    fmt: str,
    options: ExportOptions,
    *,
    passphrase: str | None = None,
    clinic_name: str,
    zone: ZoneInfo,
    now: datetime | None = None,
    catalogue: Catalogue | None = None,
    checklist: Checklist | None = None,
    page_size: str = "a4",
) -> PendingFile:
    """The course summary as the actor may see it, to be made into a file.

    NotFound for a course the actor may not open (checked before anything
    else); ValidationError for bad options, with nothing built.
    """
    now = now or utcnow()
    access = course_access(work.db, work.actor.user, course_id)
    chosen = parse_format(fmt)
    check_options(access, list_sessions(work.db, course_id), options)
    check_passphrase(chosen, passphrase)
    check_page_size(page_size)
    if chosen == ExportFormat.PDF:
        render_pdf.check_typesetter()  # before anything is collected or recorded
    doc = collect_course(
        work.db,
        work.vault,
        access,
        options,
        clinic_name=clinic_name,
        zone=zone,
        now=now,
        catalogue=catalogue,
        checklist=checklist,
        bp_limits=bp_thresholds(work.settings),
        dose_rules=DoseRules.of(work.settings),
    )
    if doc.scope.psychotherapy_notes is None:
        audit.record_read(
            work,
            action=f"export.{chosen.value}",
            object_type=f"course.{scope_of(access, options).value}",
            object_id=course_id,
            subject_id=access.course.patient_id,
        )
    else:
        _record_disclosure(work, access, chosen, doc.scope.psychotherapy_notes.reason)
    stem = f"course-summary-{course_id.hex[:8]}"
    if chosen == ExportFormat.PDF and doc.scope.psychotherapy_notes is None:
        pdf = QueueablePdf(
            render_pdf.prepare_course(doc, page_size),
            access.course.patient_id,
            course_id,
            passphrase is not None,
        )
        return PendingFile(
            lambda: render_pdf.finish(pdf.prepared, passphrase),
            MIMETYPES[chosen],
            _filename(stem, chosen, now),
            pdf,
        )
    return PendingFile(
        lambda: _render_course(doc, chosen, passphrase, page_size),
        MIMETYPES[chosen],
        _filename(stem, chosen, now),
    )


def _record_disclosure(
    work: Work,
    access: CourseAccess,
    fmt: ExportFormat,
    reason: str,
) -> None:
    """The export with psychotherapy notes: its reason, sealed, and two audit events
    (the export itself, and the notes' disclosure), in one write transaction."""
    owner = access.course.patient_id

    def write(db: Session) -> None:
        disclosure = NoteDisclosure(
            id=new_id(),
            course_id=access.course.id,
            exported_by=work.actor.id,
            exported_at=utcnow(),
            format=fmt.value,
            version=1,
        )
        disclosure.reason = work.vault.for_scope(KeyScope.NOTES).seal_column(
            disclosure, "reason", owner, reason
        )
        db.add(disclosure)
        audit.record(
            db,
            f"export.{fmt.value}",
            actor=work.actor,
            object_type=f"course.{scope_of(access, ExportOptions()).value}",
            object_id=access.course.id,
            subject_id=owner,
        )
        audit.record(
            db,
            "note.export",
            actor=work.actor,
            object_type=NOTE_AUDIT_TYPE,
            object_id=disclosure.id,
            subject_id=owner,
        )

    write_soon(work.db, write)


def note_disclosures(work: Work, course_id: uuid.UUID) -> list[tuple[NoteDisclosure, str]]:
    """Every recorded inclusion of psychotherapy notes in an export of the course,
    with its reason opened: for the care team's clinicians only."""
    access = course_access(work.db, work.actor.user, course_id)
    if not can_use_notes(access):
        raise NotFound()
    owner = access.course.patient_id
    notes_vault = work.vault.for_scope(KeyScope.NOTES)
    rows = list(
        work.db.scalars(
            select(NoteDisclosure)
            .where(NoteDisclosure.course_id == course_id)
            .order_by(NoteDisclosure.exported_at, NoteDisclosure.id)
        )
    )
    return [(row, notes_vault.open_column(row, "reason", owner)) for row in rows]


def collect_patient_data(
    work: Work,
    *,
    clinic_name: str,
    zone: ZoneInfo,
    now: datetime,
    catalogue: Catalogue | None = None,
    language: str = "en",
) -> PatientDataDocument:
    """Every course of the patient, with everything they may see, private entries too,
    in the patient's language."""
    require(keeps_a_journal(work.actor.user))
    everything = ExportOptions(include_private=True, language=language)
    ids = list(
        work.db.scalars(
            select(Course.id)
            .where(visible_courses_clause(work.actor.user))
            .order_by(Course.started_on)
        )
    )
    documents = tuple(
        collect_course(
            work.db,
            work.vault,
            course_access(work.db, work.actor.user, course_id),
            everything,
            clinic_name=clinic_name,
            zone=zone,
            now=now,
            catalogue=catalogue,
            bp_limits=bp_thresholds(work.settings),
            dose_rules=DoseRules.of(work.settings),
        )
        for course_id in ids
    )
    user = work.actor.user
    account = AccountInfo(user.id, user.name, user.email, user.role, user.created_at)
    return PatientDataDocument(now, clinic_name, zone, account, documents, language)


def export_patient_data(
    work: Work,
    fmt: str,
    *,
    passphrase: str | None = None,
    clinic_name: str,
    zone: ZoneInfo,
    now: datetime | None = None,
    catalogue: Catalogue | None = None,
    page_size: str = "a4",
    language: str = "en",
) -> PendingFile:
    """The patient's own data (right of access and portability), as JSON or PDF, in the
    patient's language (`language`: the caller's choice of it)."""
    now = now or utcnow()
    require(keeps_a_journal(work.actor.user))
    chosen = parse_format(fmt, PATIENT_DATA_FORMATS)
    check_passphrase(chosen, passphrase)
    check_page_size(page_size)
    if chosen == ExportFormat.PDF:
        render_pdf.check_typesetter()  # before anything is collected or recorded
    doc = collect_patient_data(
        work, clinic_name=clinic_name, zone=zone, now=now, catalogue=catalogue, language=language
    )
    audit.record_read(
        work,
        action=f"export.{chosen.value}",
        object_type="account.patient_data",
        object_id=work.actor.id,
        subject_id=work.actor.id,
    )

    if chosen == ExportFormat.PDF:
        pdf = QueueablePdf(
            render_pdf.prepare_patient_data(doc, page_size),
            work.actor.id,
            None,
            passphrase is not None,
        )
        return PendingFile(
            lambda: render_pdf.finish(pdf.prepared, passphrase),
            MIMETYPES[chosen],
            _filename("my-journal", chosen, now),
            pdf,
        )
    return PendingFile(
        lambda: render_json.render_patient_data(doc),
        MIMETYPES[chosen],
        _filename("my-journal", chosen, now),
    )
