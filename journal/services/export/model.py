"""The export's document model: one typed, in-memory picture of what an export holds.

`collect.py` builds it, strictly through `policy.py`; each `render_*.py` turns
it into one format. Nothing here reads the database or decrypts anything.

Planned additions, each of which plugs in here and in `collect.py` once its
data exists (none is stored yet, so none is shown yet):
- comments on entries (issue 3): `EntryRecord.comments`, filtered by the
  comment's own visibility;
- psychotherapy notes (issue 3): `SessionRecord.psychotherapy_notes`, only when
  a clinician ticks `ExportOptions.include_psychotherapy_notes` and records a
  reason, which goes to the audit trail and into `ExportScope`;
- questionnaire trends (issue 4): `CourseDocument.questionnaires`, a table per
  instrument with severity bands, and a chart in the HTML and PDF;
- the dosing session's clinical record (route, dose, vitals, side effects,
  dissociation): more columns of `SessionRecord`.
A new part raises `FORMAT_VERSION`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from journal.models import Phase, Role, SessionStatus, Visibility

FORMAT_VERSION = 1


class ExportFormat(StrEnum):
    PDF = "pdf"
    HTML = "html"
    MARKDOWN = "md"
    JSON = "json"


class Span(StrEnum):
    """Which part of the course an export covers."""

    ALL = "all"
    DATES = "dates"
    SESSIONS = "sessions"


class Scope(StrEnum):
    """Whose view of the course an export holds."""

    CLINICIAN = "clinician"  # what a clinician on the care team may see
    PATIENT = "patient"  # the patient's view, without their private entries
    PATIENT_PRIVATE = "patient_private"  # the patient's view with their private entries


@dataclass(frozen=True)
class ExportOptions:
    span: Span = Span.ALL
    date_from: date | None = None
    date_to: date | None = None
    session_ids: frozenset[uuid.UUID] = frozenset()
    phases: tuple[Phase, ...] = (Phase.PREPARATION, Phase.IN_SESSION, Phase.INTEGRATION)
    include_private: bool = False


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    name: str
    role: Role


@dataclass(frozen=True)
class RevisionRecord:
    """An earlier version of an entry the exporter may read."""

    entry_version: int
    phase: Phase
    visibility: Visibility
    title: str
    body: str
    mood: int | None
    written_by: str
    written_at: datetime


@dataclass(frozen=True)
class EntryRecord:
    id: uuid.UUID
    phase: Phase
    visibility: Visibility
    title: str
    body: str  # Markdown, as written
    mood: int | None
    author: Person
    created_at: datetime
    updated_at: datetime
    version: int
    intentions: tuple[str, ...] = ()
    revisions: tuple[RevisionRecord, ...] = ()  # newest first


@dataclass(frozen=True)
class SessionRecord:
    id: uuid.UUID
    number: int
    scheduled_at: datetime
    status: SessionStatus
    entries: tuple[EntryRecord, ...] = ()  # oldest first

    def in_phase(self, phase: Phase) -> list[EntryRecord]:
        return [e for e in self.entries if e.phase == phase]


@dataclass(frozen=True)
class IntentionRecord:
    """An intention set in a preparation entry, for the course-wide list."""

    text: str
    session_number: int
    entry_id: uuid.UUID
    set_at: datetime


@dataclass(frozen=True)
class ExportScope:
    scope: Scope
    exporter: Person
    options: ExportOptions


@dataclass(frozen=True)
class CourseInfo:
    id: uuid.UUID
    status: str
    started_on: date
    ended_on: date | None
    indication: str


@dataclass(frozen=True)
class CourseDocument:
    """A treatment-course summary as one exporter may see it."""

    generated_at: datetime
    clinic_name: str
    zone: ZoneInfo  # for dates shown to people; JSON keeps UTC
    scope: ExportScope
    course: CourseInfo
    patient: Person
    care_team: tuple[Person, ...]
    sessions: tuple[SessionRecord, ...]
    intentions: tuple[IntentionRecord, ...]
    sessions_in_course: int  # before the options narrowed the list

    @property
    def entry_count(self) -> int:
        return sum(len(s.entries) for s in self.sessions)


@dataclass(frozen=True)
class AccountInfo:
    id: uuid.UUID
    name: str
    email: str
    role: Role
    created_at: datetime


@dataclass(frozen=True)
class PatientDataDocument:
    """Everything a patient wrote and may see: the right of access and portability."""

    generated_at: datetime
    clinic_name: str
    zone: ZoneInfo
    account: AccountInfo
    courses: tuple[CourseDocument, ...] = field(default_factory=tuple)
