"""Words and dates shown to people, shared by the Markdown, HTML and PDF renderers."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from journal.clinical.checklist import NEEDS_REVIEW, NOTHING_RAISED
from journal.core.labels import PHASE_LABELS, SHORT_VISIBILITY, STATUS_LABELS
from journal.export.model import (
    ClinicalRecord,
    CourseDocument,
    ExportOptions,
    NotesDisclosure,
    ReviewRecord,
    Scope,
    Span,
)
from journal.journaling.intentions import OUTCOME_LABELS
from journal.models import Role

# The same words as the pages.
PHASES = PHASE_LABELS
VISIBILITY = SHORT_VISIBILITY
STATUS = STATUS_LABELS
OUTCOMES = OUTCOME_LABELS
ANSWERS = {"yes": "Yes", "no": "No", "unknown": "Unknown", None: "Not answered"}
ROLES = {Role.PATIENT: "Patient", Role.CLINICIAN: "Clinician", Role.ADMIN: "Admin"}
SCOPES = {
    Scope.CLINICIAN: "Clinician's export: everything the care team may read; "
    "no private entries of the patient.",
    Scope.PATIENT: "Patient's export: the patient's view, without private entries.",
    Scope.PATIENT_PRIVATE: "Patient's export: the patient's view, with their private entries.",
}


def when(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%d %b %Y, %H:%M")


def day(value: datetime | date | None, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(zone).date()
    return value.strftime("%d %b %Y")


def span(options: ExportOptions, doc: CourseDocument) -> str:
    """What part of the course the export covers, in words."""
    if options.span == Span.DATES:
        start = day(options.date_from, doc.zone) if options.date_from else "the start"
        end = day(options.date_to, doc.zone) if options.date_to else "today"
        covered = f"Sessions dated from {start} to {end}"
    elif options.span == Span.SESSIONS:
        numbers = ", ".join(str(s.number) for s in doc.sessions)
        covered = f"Sessions {numbers}" if len(doc.sessions) > 1 else f"Session {numbers}"
    else:
        covered = "The whole course"
    phases = ", ".join(PHASES[p].lower() for p in options.phases)
    return f"{covered}; phases: {phases}."


def review(r: ReviewRecord, zone: ZoneInfo) -> str:
    return f"Read by {r.clinician} on {day(r.reviewed_at, zone)}"


def notes_heading(disclosure: NotesDisclosure) -> str:
    return f"Psychotherapy notes (included by {disclosure.included_by.name}: {disclosure.reason})"


def sessions_list(numbers: tuple[int, ...]) -> str:
    joined = ", ".join(str(n) for n in numbers)
    return f"sessions {joined}" if len(numbers) > 1 else f"session {joined}"


def clinical_cells(c: ClinicalRecord | None) -> list[str]:
    """Route, dose, before, after, side effects and dissociation, as table cells."""
    if c is None:
        return ["", "", "", "", "", ""]

    def vitals(bp: str | None, hr: int | None) -> str:
        parts = [bp or "", f"HR {hr}" if hr is not None else ""]
        return ", ".join(p for p in parts if p)

    dose = f"{c.dose_mg} mg" + (f" ({c.dose_mg_per_kg} mg/kg)" if c.dose_mg_per_kg else "")
    past = dict(c.bp_breaches)  # the clinic's thresholds, in words

    def marked(reading: str, bp: str | None, hr: int | None) -> str:
        return vitals(bp, hr) + (f" ({past[reading]})" if reading in past else "")

    return [
        c.route,
        dose,
        marked("pre", c.pre_bp, c.pre_heart_rate),
        marked("post", c.post_bp, c.post_heart_rate),
        side_effects(c),
        "" if c.dissociation is None else f"{c.dissociation}/10",
    ]


def side_effects(c: ClinicalRecord) -> str:
    listed = ", ".join(c.side_effects)
    if c.side_effects_other:
        return f"{listed}; {c.side_effects_other}" if listed else c.side_effects_other
    return listed or "none recorded"


def record_details(c: ClinicalRecord | None) -> list[tuple[str, str]]:
    """The rest of a session's record, label and text, for the session's own section;
    the table of sessions holds route, dose, vitals, side effects and dissociation."""
    if c is None:
        return []
    details = [
        ("Time given", c.time_given or "not recorded"),
        ("Weight used for the dose", f"{c.weight_kg} kg" if c.weight_kg else ""),
        ("Adjunct medications", c.adjuncts),
        ("Setting", c.setting),
        ("Clinicians present", ", ".join(c.clinicians_present) or "not recorded"),
        ("Discharge notes", c.discharge_notes),
    ]
    return [(label, value) for label, value in details if value]


def screening_summary(needs_review: bool, reviewer: str, reviewed_on: date, zone: ZoneInfo) -> str:
    label = NEEDS_REVIEW if needs_review else NOTHING_RAISED
    return f"{label}. Reviewed by {reviewer} on {day(reviewed_on, zone)}."
