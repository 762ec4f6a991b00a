"""Words and dates shown to people, shared by the Markdown, HTML and PDF renderers."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from journal.clinical.checklist import NEEDS_REVIEW, NOTHING_RAISED
from journal.core.labels import PHASE_LABELS, SHORT_VISIBILITY, STATUS_LABELS
from journal.export.model import (
    AmendmentRecord,
    AnswerLine,
    ClinicalRecord,
    ConsentVersionRecord,
    CourseDocument,
    ExportOptions,
    NotesDisclosure,
    ReadingRecord,
    ReviewRecord,
    Scope,
    ScreeningRecheckRecord,
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


BETWEEN_HEADING = "Written between sessions"


def session_name(number: int | None) -> str:
    return f"Session {number}" if number is not None else "Between sessions"


def after_session(number: int | None) -> str:
    return f"After session {number}" if number is not None else "Between sessions"


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
    if not numbers:
        return "between sessions"
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
        "" if c.for_patient else side_effects(c),  # the clinicians' observations
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
        ("Drug", c.drug),
        ("Modality", c.modality),
        ("Time given", c.time_given or "not recorded"),
        ("Weight used for the dose", f"{c.weight_kg} kg" if c.weight_kg else ""),
        ("Dose notice", c.dose_notice),
        ("Adjunct medications", c.adjuncts),
        ("Before the session", "\n".join(_answer(a) for a in c.pre_session)),
        ("Vitals", "\n".join(_reading(r) for r in c.readings)),
        ("Setting", c.setting),
        (
            "Clinicians present",
            "" if c.for_patient else ", ".join(c.clinicians_present) or "not recorded",
        ),
        ("Discharge criteria", "\n".join(_answer(a) for a in c.discharge_criteria)),
        ("Discharge time", c.discharge_time or ""),
        ("Discharge notes", c.discharge_notes),
    ]
    return [(label, value) for label, value in details if value]


def _answer(a: AnswerLine) -> str:
    return f"{a.item}: {a.answer}" + (f" ({a.note})" if a.note else "")


def _reading(r: ReadingRecord) -> str:
    """ "Pre-dose, 09:40: BP 128/82, HR 72, SpO2 98%, RR 14 (note) [flag]"."""
    numbers = [
        f"BP {r.blood_pressure}" if r.blood_pressure else "",
        f"HR {r.heart_rate}" if r.heart_rate is not None else "",
        f"SpO2 {r.spo2}%" if r.spo2 is not None else "",
        f"RR {r.breathing_rate}" if r.breathing_rate is not None else "",
    ]
    when = r.point + (f", {r.time}" if r.time else "")
    text = f"{when}: {', '.join(n for n in numbers if n) or 'no numbers'}"
    return text + (f" ({r.note})" if r.note else "") + (f" [{r.flag}]" if r.flag else "")


def screening_summary(needs_review: bool, reviewer: str, reviewed_on: date, zone: ZoneInfo) -> str:
    label = NEEDS_REVIEW if needs_review else NOTHING_RAISED
    return f"{label}. Reviewed by {reviewer} on {day(reviewed_on, zone)}."


def recheck_line(r: ScreeningRecheckRecord, zone: ZoneInfo) -> str:
    """A re-check of the screening, in one sentence; what changed is `recheck_changes`."""
    before = f", before session {r.session_number}" if r.session_number else ""
    found = (
        "no change since last time"
        if r.no_change
        else ("answers changed" if r.changes else "notes changed")
    )
    said = f" Note: {r.note}" if r.note else ""
    return f"{when(r.checked_at, zone)}{before}, by {r.checked_by}: {found}.{said}"


def recheck_changes(r: ScreeningRecheckRecord) -> list[str]:
    return [
        f"{c.text}: {ANSWERS[c.before]} → {ANSWERS[c.after]}" + (f" ({c.note})" if c.note else "")
        for c in r.changes
    ]


def consent_saved(v: ConsentVersionRecord, zone: ZoneInfo) -> str:
    return f"Version {v.version}, saved by {v.saved_by}, {when(v.saved_at, zone)}."


def consent_facts(v: ConsentVersionRecord, zone: ZoneInfo) -> list[tuple[str, str]]:
    """The record as label and value: the document, date, witness, then each checkbox."""
    return [
        ("Consent document", v.document_version),
        ("Date", day(v.consented_on, zone)),
        ("Witnessed by", v.witness),
        *((i.text, "Yes" if i.checked else "Not ticked") for i in v.items),
    ]


RECORD_HISTORY = "History of the record"
SCREENING_HISTORY = "History of the screening"


def amendment_line(a: AmendmentRecord, zone: ZoneInfo) -> str:
    """A version of a record changed in place: who saved it and when; what it changed
    is `amendment_changes`."""
    by = a.saved_by or "a former member of the care team"
    return f"Version {a.version}, saved by {by}, {when(a.saved_at, zone)}."


def amendment_changes(version: int, changes: tuple[str, ...]) -> list[str]:
    """What a version changed from the one before, one line each."""
    if version == 1:
        return ["First recorded."]
    return list(changes) or ["Saved again without changes."]
