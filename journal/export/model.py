"""The export's document model: one typed, in-memory picture of what an export holds.

`collect.py` builds it, strictly through `policy.py`; each `render_*.py` turns
it into one format. Nothing here reads the database or decrypts anything.

What the review work of issue 3 adds:
- comments on entries: `EntryRecord.comments` (threads, replies nested), each
  shown only if `can_read_comment` allows its level, so a patient's export
  holds the care-team comments and never a clinician-only one;
- reviews ("read by <clinician> on <date>", "changed since review"):
  `EntryRecord.reviews`; themes: `EntryRecord.themes`, and an index of the
  themes (theme -> sessions) in `CourseDocument.themes`;
- psychotherapy notes: `SessionRecord.psychotherapy_notes`, only when a
  clinician on the care team ticks `ExportOptions.include_psychotherapy_notes`
  and records a reason; who included them and why is in
  `ExportScope.psychotherapy_notes`, the reason is stored (encrypted) in
  `note_disclosures` and the act goes to the audit trail.

Clinical content: the dosing session's record in `SessionRecord.clinical`
(whole in a clinician's export; in the patient's, only the part the patient reads,
`ClinicalRecord.for_patient`) and each questionnaire's scores with its chart in
`CourseDocument.questionnaires` (both scopes: the patient's own answers).
How each intention went: `EntryRecord.outcomes` (in the integration entry
that records them) and `IntentionRecord.outcomes` (the intention's path), taken
only from the entries in the export, so they follow those entries' visibility.
The screening checklist: `CourseDocument.screening`, a clinician's export only,
with each re-check before a session (`ScreeningRecord.rechecks`).
Amendment history: every version of a session's record (`ClinicalRecord.history`)
and of the screening (`ScreeningRecord.history`), with who saved it, when and what it
changed, in a clinician's export only; the safety plan's and the consent record's
versions say what each changed (`changes`).
The consent record: `CourseDocument.consent`, both scopes (it is the patient's record
too), with every earlier version.
A new part raises `FORMAT_VERSION` once the format is released (version 1 is not
released yet, so the parts above are documented as part of it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from journal.models import OutcomeStatus, Phase, Role, SessionStatus, ThemeKind, Visibility

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
    include_psychotherapy_notes: bool = False  # clinicians only, with a reason
    notes_reason: str = ""
    # The language of the document's words (a code of config.LANGUAGES): the exporter's
    # choice; the words people wrote stay as written.
    language: str = "en"


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
class CommentRecord:
    """A comment the exporter may read (on the entry or on a quoted passage), or a reply."""

    id: uuid.UUID
    author: Person
    visibility: Visibility
    quote: str | None
    body: str  # Markdown, as written
    created_at: datetime
    replies: tuple[CommentRecord, ...] = ()  # oldest first


@dataclass(frozen=True)
class ReviewRecord:
    """A clinician read the entry: "read by <clinician> on <date>"."""

    clinician: str
    reviewed_at: datetime
    changed_since: bool  # the entry was edited after this review


@dataclass(frozen=True)
class ThemeRecord:
    kind: ThemeKind
    name: str


@dataclass(frozen=True)
class ThemeIndexRecord:
    """A theme and the dosing sessions (numbers) whose entries in the export carry it."""

    kind: ThemeKind
    name: str
    session_numbers: tuple[int, ...]
    entries: int


@dataclass(frozen=True)
class NoteRecord:
    """A psychotherapy note: only in a clinician's export that includes them."""

    id: uuid.UUID
    author: str
    body: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class NotesDisclosure:
    """Who included psychotherapy notes in this export, and why."""

    included_by: Person
    reason: str


@dataclass(frozen=True)
class EntryOutcomeRecord:
    """How one intention went, as recorded in an integration entry."""

    intention: str  # the intention's text
    status: OutcomeStatus
    reflection: str  # "" when none was written


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
    comments: tuple[CommentRecord, ...] = ()  # threads, oldest first
    reviews: tuple[ReviewRecord, ...] = ()  # oldest first
    themes: tuple[ThemeRecord, ...] = ()
    outcomes: tuple[EntryOutcomeRecord, ...] = ()  # integration entries only


@dataclass(frozen=True)
class ClinicalRecord:
    """The dosing session's clinical record, in a clinician's export only."""

    route: str
    dose_mg: str
    dose_mg_per_kg: str | None
    pre_bp: str | None  # "132/84"
    pre_heart_rate: int | None
    post_bp: str | None
    post_heart_rate: int | None
    side_effects: tuple[str, ...]
    dissociation: int | None  # 0-10
    bp_flag: bool  # pre-dose at or above 140/90 (JSON's fixed key; shown, never advised on)
    side_effects_other: str = ""
    weight_kg: str | None = None  # the weight the dose was worked out from
    time_given: str | None = None  # "HH:MM", local time on the session's day
    adjuncts: str = ""
    setting: str = ""  # music, eyeshades, support person
    clinicians_present: tuple[str, ...] = ()  # names
    discharge_notes: str = ""
    # Each reading past the clinic's thresholds (settings `bp_*`), in words:
    # ("pre"|"post"|another reading, "at or above 180/110"), in the order of the series;
    # shown, never advised on.
    bp_breaches: tuple[tuple[str, str], ...] = ()
    drug: str = ""
    modality: str = ""
    readings: tuple[ReadingRecord, ...] = ()  # the vitals series, in its order
    pre_session: tuple[AnswerLine, ...] = ()  # the pre-session checklist
    discharge_criteria: tuple[AnswerLine, ...] = ()
    discharge_time: str | None = None
    # Every version of the record, newest first, when it was changed; a clinician's
    # export only (empty in the patient's, and for a record never changed).
    history: tuple[AmendmentRecord, ...] = ()
    # The dose outside the clinic's usual range for its route, in words, as the record
    # shows it (journal/clinical/dose.py); "" when inside it. A clinician's export only.
    dose_notice: str = ""
    # The patient's own export: only what the patient reads of the record
    # (journal/clinical/session_records.py, PatientRecord); the rest is left empty.
    for_patient: bool = False


@dataclass(frozen=True)
class AmendmentRecord:
    """One version of a clinical record changed in place: who saved it, when, and what
    it changed from the version before, in words (empty for the first)."""

    version: int
    saved_by: str
    saved_at: datetime
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReadingRecord:
    """One timed reading of a session's vitals series."""

    point: str  # "Pre-dose", "About 40 minutes after the dose", ...
    time: str | None
    blood_pressure: str | None  # "132/84"
    heart_rate: int | None
    spo2: int | None
    breathing_rate: int | None
    note: str = ""  # left out of the patient's export
    flag: str = ""  # the threshold it is past, in words; the clinician's export only


@dataclass(frozen=True)
class AnswerLine:
    """One pre-session checklist item or discharge criterion."""

    item: str  # its words
    answer: str  # "Yes", "No" or "Not answered"
    note: str = ""


@dataclass(frozen=True)
class ReviewFlagRecord:
    id: str
    label: str  # the clinician's wording: never in a patient's export
    value: int | float  # a mean-scored questionnaire's values have two decimals


@dataclass(frozen=True)
class ClusterScoreRecord:
    id: str
    label: str
    score: int | float  # a sum, or a mean with two decimals (MEQ-30 subscales)
    max_score: int | float


@dataclass(frozen=True)
class AnswerRecord:
    number: int | None  # the item's place in the questionnaire
    item_id: str
    text: str
    value: int
    words: str  # the answer as the form labels it
    scored: bool  # False for an item not counted in the total (PHQ-9 difficulty)


@dataclass(frozen=True)
class ScoreRecord:
    submitted_at: datetime
    total: int | float  # a sum, or a mean with two decimals (MEQ-30, EBI)
    max_score: int | float
    band: str
    session_number: int | None  # the session it is filed under (before or after it)
    safety_flag: bool
    # What the patient reads when a review flag was raised (both scopes), else None.
    review_note: str | None = None
    # "Before session 2", "After session 1", "End of course", "3-month follow-up";
    # None for a questionnaire answered once.
    filed_under: str | None = None
    # A clinician's export only (None in a patient's): review flags, cluster scores
    # and every answer in words.
    review_flags: tuple[ReviewFlagRecord, ...] | None = None
    clusters: tuple[ClusterScoreRecord, ...] | None = None
    answers: tuple[AnswerRecord, ...] | None = None


@dataclass(frozen=True)
class QuestionnaireTrend:
    """One questionnaire's scores over the course, with its chart (SVG)."""

    instrument_id: str
    title: str
    scores: tuple[ScoreRecord, ...]
    chart_svg: str


@dataclass(frozen=True)
class SessionRecord:
    id: uuid.UUID
    number: int
    scheduled_at: datetime
    status: SessionStatus
    entries: tuple[EntryRecord, ...] = ()  # oldest first
    psychotherapy_notes: tuple[NoteRecord, ...] = ()  # oldest first; see NotesDisclosure
    clinical: ClinicalRecord | None = None

    def in_phase(self, phase: Phase) -> list[EntryRecord]:
        return [e for e in self.entries if e.phase == phase]


@dataclass(frozen=True)
class IntentionRecord:
    """An intention set in a preparation entry, for the course-wide list."""

    text: str
    session_number: int | None  # None: set between sessions
    entry_id: uuid.UUID
    set_at: datetime
    outcomes: tuple[OutcomeRecord, ...] = ()  # oldest first


@dataclass(frozen=True)
class OutcomeRecord:
    """A step on an intention's path: the integration entry that said how it went."""

    session_number: int | None  # None: written between sessions
    entry_id: uuid.UUID
    recorded_at: datetime
    status: OutcomeStatus
    reflection: str


@dataclass(frozen=True)
class ScreeningItemRecord:
    text: str
    answer: str | None  # "yes", "no", "unknown"; None: not answered
    note: str


@dataclass(frozen=True)
class AnswerChangeRecord:
    """An item a re-check changed: its answer before and now, and its note now."""

    text: str
    before: str | None  # "yes", "no", "unknown"; None: not answered
    after: str | None
    note: str


@dataclass(frozen=True)
class ScreeningRecheckRecord:
    """The screening re-checked with the patient before a session: no change, or what
    changed."""

    checked_at: datetime
    checked_by: str
    session_number: int | None  # the session it came before; None if none was chosen
    no_change: bool
    changes: tuple[AnswerChangeRecord, ...]  # empty when no change
    note: str


@dataclass(frozen=True)
class ScreeningRecord:
    """The course's screening checklist as reviewed: a clinician's export only.
    It records the review; it never says whether a person may take part."""

    checklist: str  # the checklist's title
    checklist_version: str
    reviewed_on: date
    reviewer: str
    needs_clinician_review: bool  # of the answers now, after the re-checks
    items: tuple[ScreeningItemRecord, ...]  # as the screening was recorded
    rechecks: tuple[ScreeningRecheckRecord, ...] = ()  # oldest first
    # Every version as recorded, newest first, when it was corrected.
    history: tuple[AmendmentRecord, ...] = ()


@dataclass(frozen=True)
class SafetyFlagRecord:
    """A safety flag on the course and what was done about it: a clinician's export only."""

    detail: str  # what raised it, in the clinician's words
    raised_at: datetime
    acknowledged_by: str | None  # None: still open
    acknowledged_at: datetime | None
    # What was done: a key of clinical.safety_flags.ACTIONS and its words; None while
    # open, or for a flag acknowledged before what was done was kept.
    action: str | None
    action_label: str | None
    note: str  # the clinician's words; "" when none


@dataclass(frozen=True)
class SafetyPlanStep:
    key: str  # clinical.safety_plan.SECTIONS: warning_signs, coping, ...
    title: str
    text: str


@dataclass(frozen=True)
class SafetyPlanVersionRecord:
    version: int
    saved_by: str
    saved_at: datetime
    steps: tuple[SafetyPlanStep, ...]  # in the plan's order; steps left empty are left out
    changes: tuple[str, ...] = ()  # from the version before, in words


@dataclass(frozen=True)
class SafetyPlanRecord:
    """The course's safety plan as it is now, and each earlier version (newest first):
    the patient and the care team wrote it together, so both scopes hold it."""

    current: SafetyPlanVersionRecord
    earlier: tuple[SafetyPlanVersionRecord, ...] = ()


@dataclass(frozen=True)
class ConsentItemRecord:
    text: str
    checked: bool


@dataclass(frozen=True)
class ConsentVersionRecord:
    version: int
    document_version: str  # the consent document's version, as printed on it
    consented_on: date
    witness: str  # the care-team clinician who witnessed it
    items: tuple[ConsentItemRecord, ...]  # the clinic's checkboxes, ticked or not
    note: str
    saved_by: str
    saved_at: datetime
    changes: tuple[str, ...] = ()  # from the version before, in words


@dataclass(frozen=True)
class ConsentRecord:
    """The course's consent record now, and each earlier version (newest first): the
    patient's record too, so both scopes hold it."""

    current: ConsentVersionRecord
    earlier: tuple[ConsentVersionRecord, ...] = ()


@dataclass(frozen=True)
class ExportScope:
    scope: Scope
    exporter: Person
    options: ExportOptions
    psychotherapy_notes: NotesDisclosure | None = None  # None: notes left out


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
    intentions: tuple[IntentionRecord, ...]  # in the order they were set
    sessions_in_course: int  # before the options narrowed the list
    themes: tuple[ThemeIndexRecord, ...] = ()  # by kind, then name
    questionnaires: tuple[QuestionnaireTrend, ...] = ()
    screening: ScreeningRecord | None = None  # a clinician's export, when recorded
    safety_flags: tuple[SafetyFlagRecord, ...] = ()  # a clinician's export: open ones first
    safety_plan: SafetyPlanRecord | None = None  # both scopes; None without a plan
    consent: ConsentRecord | None = None  # both scopes; None without a record

    # Entries tied to no session (written between sessions), oldest first.
    between_sessions: tuple[EntryRecord, ...] = ()

    @property
    def language(self) -> str:
        return self.scope.options.language

    @property
    def entry_count(self) -> int:
        return sum(len(s.entries) for s in self.sessions) + len(self.between_sessions)


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
    language: str = "en"  # the patient's own
