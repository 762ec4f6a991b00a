"""Words and dates shown to people, shared by the Markdown, HTML and PDF renderers.

A document is written in its export's language (`ExportOptions.language`): a renderer
renders inside `in_language(code)`, and the words here are marked with `N_` and
translated by `tr` from the catalogues (journal/core/catalogues.py), never through
Flask: the worker and the tests render outside a request. Dates are written by Babel
in the language's own way; English reads as it always has ("05 Dec 2026, 09:10").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import get_decimal_symbol

from journal.clinical.checklist import NEEDS_REVIEW, NOTHING_RAISED
from journal.core.catalogues import Words
from journal.core.labels import N_, PHASE_LABELS, SHORT_VISIBILITY, STATUS_LABELS
from journal.export.model import (
    AmendmentRecord,
    AnswerLine,
    ClinicalRecord,
    ConsentVersionRecord,
    CourseDocument,
    EntryRecord,
    ExportOptions,
    NotesDisclosure,
    PatientDataDocument,
    ReadingRecord,
    ReviewRecord,
    Scope,
    ScoreRecord,
    ScreeningRecheckRecord,
    Span,
)
from journal.journaling.intentions import OUTCOME_LABELS
from journal.models import CourseStatus, Role, ThemeKind

_ENGLISH = Words("en")
_WORDS: ContextVar[Words] = ContextVar("export_words", default=_ENGLISH)


@contextmanager
def in_language(language: str) -> Iterator[Words]:
    """The words of what is rendered inside, in this language."""
    token = _WORDS.set(_ENGLISH if language == "en" else Words(language))
    try:
        yield _WORDS.get()
    finally:
        _WORDS.reset(token)


def language() -> str:
    return _WORDS.get().language


def tr(words: str, **values: object) -> str:
    """Words marked with `N_` (or a `Phrase`), in the language being rendered."""
    return _WORDS.get()(words, **values)


K = TypeVar("K")


class Labels(Mapping[K, str]):
    """A closed set's labels, each read in the language being rendered."""

    def __init__(self, labels: Mapping[K, str]) -> None:
        self._labels = labels

    def __getitem__(self, key: K) -> str:
        return tr(self._labels[key])

    def __iter__(self) -> Iterator[K]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)


# The same words as the pages.
PHASES = Labels(PHASE_LABELS)
VISIBILITY = Labels(SHORT_VISIBILITY)
STATUS = Labels(STATUS_LABELS)
OUTCOMES = Labels(OUTCOME_LABELS)
ANSWERS = Labels(
    {"yes": N_("Yes"), "no": N_("No"), "unknown": N_("Unknown"), None: N_("Not answered")}
)
ROLES = Labels(
    {Role.PATIENT: N_("Patient"), Role.CLINICIAN: N_("Clinician"), Role.ADMIN: N_("Admin")}
)
COURSE_STATUS = Labels(
    {CourseStatus.ACTIVE.value: N_("active"), CourseStatus.CLOSED.value: N_("closed")}
)
SCOPES = Labels(
    {
        Scope.CLINICIAN: N_(
            "Clinician's export: everything the care team may read; "
            "no private entries of the patient."
        ),
        Scope.PATIENT: N_("Patient's export: the patient's view, without private entries."),
        Scope.PATIENT_PRIVATE: N_(
            "Patient's export: the patient's view, with their private entries."
        ),
    }
)

THEME_KINDS = Labels(
    {
        ThemeKind.PEOPLE: N_("people"),
        ThemeKind.FEELINGS: N_("feelings"),
        ThemeKind.IMAGES: N_("images"),
        ThemeKind.PLACES: N_("places"),
    }
)


def colon(label: str) -> str:
    """ "Session 1:", as the language writes a label before what it introduces."""
    return tr(N_("%(label)s:", label=label))


def labelled(label: str, value: str) -> str:
    """ "Drug: ketamine", as the language writes it."""
    return tr(N_("%(label)s: %(value)s", label=label, value=value))


def action_done(action: str, note: str) -> str:
    """What was done about a safety flag, and the clinician's note on it."""
    done = tr(N_("What was done: %(action)s", action=action))
    return labelled(done, note) if note else done


def number(value: str) -> str:
    """A decimal written by the journal ("52.5"), as the language writes it ("52,5")."""
    code = language()
    return value if code == "en" else value.replace(".", get_decimal_symbol(code))


# Dates as each language writes them; English as strftime's "%d %b %Y, %H:%M" did.
WHEN = {"en": "dd MMM y, HH:mm", "fr": "d MMM y, HH:mm"}
DAY = {"en": "dd MMM y", "fr": "d MMM y"}


def between_heading() -> str:
    return tr(N_("Written between sessions"))


def session_name(number: int | None) -> str:
    if number is None:
        return tr(N_("Between sessions"))
    return tr(N_("Session %(number)s", number=number))


def after_session(number: int | None) -> str:
    if number is None:
        return tr(N_("Between sessions"))
    return tr(N_("After session %(number)s", number=number))


def course_status(status: str) -> str:
    return COURSE_STATUS.get(status, status)


def when(value: datetime, zone: ZoneInfo) -> str:
    code = language()
    local = value.astimezone(zone)
    return format_datetime(local, WHEN.get(code, WHEN["en"]), tzinfo=zone, locale=code)


def day(value: datetime | date | None, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(zone).date()
    code = language()
    return format_date(value, DAY.get(code, DAY["en"]), locale=code)


def span(options: ExportOptions, doc: CourseDocument) -> str:
    """What part of the course the export covers, in words."""
    if options.span == Span.DATES:
        start = day(options.date_from, doc.zone) if options.date_from else tr(N_("the start"))
        end = day(options.date_to, doc.zone) if options.date_to else tr(N_("today"))
        covered = tr(N_("Sessions dated from %(start)s to %(end)s", start=start, end=end))
    elif options.span == Span.SESSIONS:
        numbers = ", ".join(str(s.number) for s in doc.sessions)
        covered = tr(
            N_("Sessions %(numbers)s", numbers=numbers)
            if len(doc.sessions) > 1
            else N_("Session %(number)s", number=numbers)
        )
    else:
        covered = tr(N_("The whole course"))
    phases = ", ".join(PHASES[p].lower() for p in options.phases)
    return tr(N_("%(covered)s; phases: %(phases)s.", covered=covered, phases=phases))


def review(r: ReviewRecord, zone: ZoneInfo) -> str:
    return tr(N_("Read by %(name)s on %(day)s", name=r.clinician, day=day(r.reviewed_at, zone)))


def notes_heading(disclosure: NotesDisclosure) -> str:
    return tr(
        N_(
            "Psychotherapy notes (included by %(name)s: %(reason)s)",
            name=disclosure.included_by.name,
            reason=disclosure.reason,
        )
    )


def sessions_list(numbers: tuple[int, ...]) -> str:
    if not numbers:
        return tr(N_("between sessions"))
    joined = ", ".join(str(n) for n in numbers)
    if len(numbers) > 1:
        return tr(N_("sessions %(numbers)s", numbers=joined))
    return tr(N_("session %(number)s", number=joined))


def clinical_cells(c: ClinicalRecord | None) -> list[str]:
    """Route, dose, before, after, side effects and dissociation, as table cells."""
    if c is None:
        return ["", "", "", "", "", ""]

    def vitals(bp: str | None, hr: int | None) -> str:
        parts = [bp or "", tr(N_("HR %(rate)s", rate=hr)) if hr is not None else ""]
        return ", ".join(p for p in parts if p)

    per_kg = f" ({number(c.dose_mg_per_kg)} mg/kg)" if c.dose_mg_per_kg else ""
    dose = f"{number(c.dose_mg)} mg{per_kg}"
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
    return listed or tr(N_("none recorded"))


def record_details(c: ClinicalRecord | None) -> list[tuple[str, str]]:
    """The rest of a session's record, label and text, for the session's own section;
    the table of sessions holds route, dose, vitals, side effects and dissociation."""
    if c is None:
        return []
    unrecorded = tr(N_("not recorded"))
    details = [
        (N_("Drug"), c.drug),
        (N_("Modality"), c.modality),
        (N_("Time given"), c.time_given or unrecorded),
        (N_("Weight used for the dose"), f"{number(c.weight_kg)} kg" if c.weight_kg else ""),
        (N_("Dose notice"), c.dose_notice),
        (N_("Adjunct medications"), c.adjuncts),
        (N_("Before the session"), "\n".join(_answer(a) for a in c.pre_session)),
        (N_("Vitals"), "\n".join(_reading(r) for r in c.readings)),
        (N_("Setting"), c.setting),
        (
            N_("Clinicians present"),
            "" if c.for_patient else ", ".join(c.clinicians_present) or unrecorded,
        ),
        (N_("Discharge criteria"), "\n".join(_answer(a) for a in c.discharge_criteria)),
        (N_("Discharge time"), c.discharge_time or ""),
        (N_("Discharge notes"), c.discharge_notes),
    ]
    return [(tr(label), value) for label, value in details if value]


def _answer(a: AnswerLine) -> str:
    return labelled(a.item, tr(a.answer)) + (f" ({a.note})" if a.note else "")


def _reading(r: ReadingRecord) -> str:
    """ "Pre-dose, 09:40: BP 128/82, HR 72, SpO2 98%, RR 14 (note) [flag]"."""
    numbers = [
        tr(N_("BP %(pressure)s", pressure=r.blood_pressure)) if r.blood_pressure else "",
        tr(N_("HR %(rate)s", rate=r.heart_rate)) if r.heart_rate is not None else "",
        tr(N_("SpO2 %(spo2)s%%", spo2=r.spo2)) if r.spo2 is not None else "",
        tr(N_("RR %(rate)s", rate=r.breathing_rate)) if r.breathing_rate is not None else "",
    ]
    when = r.point + (f", {r.time}" if r.time else "")
    shown = ", ".join(n for n in numbers if n) or tr(N_("no numbers"))
    text = tr(N_("%(when)s: %(numbers)s", when=when, numbers=shown))
    return text + (f" ({r.note})" if r.note else "") + (f" [{r.flag}]" if r.flag else "")


def screening_summary(needs_review: bool, reviewer: str, reviewed_on: date, zone: ZoneInfo) -> str:
    label = tr(NEEDS_REVIEW if needs_review else NOTHING_RAISED)
    return tr(
        N_(
            "%(outcome)s. Reviewed by %(name)s on %(day)s.",
            outcome=label,
            name=reviewer,
            day=day(reviewed_on, zone),
        )
    )


def recheck_line(r: ScreeningRecheckRecord, zone: ZoneInfo) -> str:
    """A re-check of the screening, in one sentence; what changed is `recheck_changes`."""
    found = tr(
        N_("no change since last time")
        if r.no_change
        else (N_("answers changed") if r.changes else N_("notes changed"))
    )
    at = when(r.checked_at, zone)
    if r.session_number:
        line = tr(
            N_(
                "%(when)s, before session %(number)s, by %(name)s: %(found)s.",
                when=at,
                number=r.session_number,
                name=r.checked_by,
                found=found,
            )
        )
    else:
        line = tr(N_("%(when)s, by %(name)s: %(found)s.", when=at, name=r.checked_by, found=found))
    return line + (" " + tr(N_("Note: %(note)s", note=r.note)) if r.note else "")


def recheck_changes(r: ScreeningRecheckRecord) -> list[str]:
    return [
        f"{c.text}: {ANSWERS[c.before]} → {ANSWERS[c.after]}" + (f" ({c.note})" if c.note else "")
        for c in r.changes
    ]


def saved_line(version: int, by: str, at: datetime, zone: ZoneInfo) -> str:
    """ "Version 2, saved by <name>, <when>."."""
    return tr(
        N_(
            "Version %(version)s, saved by %(name)s, %(when)s.",
            version=version,
            name=by,
            when=when(at, zone),
        )
    )


def consent_saved(v: ConsentVersionRecord, zone: ZoneInfo) -> str:
    return saved_line(v.version, v.saved_by, v.saved_at, zone)


def consent_facts(v: ConsentVersionRecord, zone: ZoneInfo) -> list[tuple[str, str]]:
    """The record as label and value: the document, date, witness, then each checkbox."""
    return [
        (tr(N_("Consent document")), v.document_version),
        (tr(N_("Date")), day(v.consented_on, zone)),
        (tr(N_("Witnessed by")), v.witness),
        *((i.text, tr(N_("Yes") if i.checked else N_("Not ticked"))) for i in v.items),
    ]


def record_history() -> str:
    return tr(N_("History of the record"))


def screening_history() -> str:
    return tr(N_("History of the screening"))


def amendment_line(a: AmendmentRecord, zone: ZoneInfo) -> str:
    """A version of a record changed in place: who saved it and when; what it changed
    is `amendment_changes`."""
    by = a.saved_by or tr(N_("a former member of the care team"))
    return saved_line(a.version, by, a.saved_at, zone)


def amendment_changes(version: int, changes: tuple[str, ...]) -> list[str]:
    """What a version changed from the one before, one line each."""
    if version == 1:
        return [tr(N_("First recorded."))]
    return list(changes) or [tr(N_("Saved again without changes."))]


# The columns of the table of sessions, with and without the clinical record.
SESSION_COLUMNS = (N_("Session"), N_("Date"), N_("Status"), N_("Entries"))
SESSION_COLUMNS_CLINICAL = (
    N_("Session"),
    N_("Date"),
    N_("Status"),
    N_("Route"),
    N_("Dose"),
    N_("BP / HR before"),
    N_("BP / HR after"),
    N_("Side effects"),
    N_("Dissociation"),
    N_("Entries"),
)
NOT_COUNTED = N_("(not counted in the total)")


def session_heading(number: int, at: datetime, zone: ZoneInfo) -> str:
    return tr(N_("Session %(number)s: %(when)s", number=number, when=when(at, zone)))


def entry_meta(e: EntryRecord, zone: ZoneInfo) -> list[str]:
    """An entry's mood and its edit, after its author, time and visibility."""
    meta = []
    if e.mood is not None:
        meta.append(tr(N_("mood %(mood)s/10", mood=e.mood)))
    if e.version > 1:
        edited = N_(
            "edited %(when)s (version %(version)s)",
            when=when(e.updated_at, zone),
            version=e.version,
        )
        meta.append(tr(edited))
    return meta


def out_of(score: float, maximum: float) -> str:
    """ "12 of 27"."""
    return tr(N_("%(score)s of %(max)s", score=score, max=maximum))


def score(r: ScoreRecord) -> str:
    """A questionnaire's total, and its safety flag when it raised one."""
    flag = " " + tr(N_("(safety flag)")) if r.safety_flag else ""
    return out_of(r.total, r.max_score) + flag


def review_flag(label: str) -> str:
    return tr(N_("Review: %(flag)s", flag=label))


def answers_heading(r: ScoreRecord, zone: ZoneInfo, band: str) -> str:
    """ "Answers of 05 Mar 2031: 12 of 27, Moderate"."""
    return tr(
        N_(
            "Answers of %(day)s: %(score)s, %(band)s",
            day=day(r.submitted_at, zone),
            score=out_of(r.total, r.max_score),
            band=band,
        )
    )


COURSE_TITLE = N_("Treatment-course summary")
ACCOUNT_TITLE = N_("Everything in my journal")
ACCOUNT_RUNNING = N_("%(name)s · everything in my journal")


def running_head(doc: CourseDocument) -> str:
    """ "<patient> · course started <day>", at the head of a course's pages."""
    started = day(doc.course.started_on, doc.zone)
    return tr(N_("%(name)s · course started %(day)s", name=doc.patient.name, day=started))


def course_dates(doc: CourseDocument) -> str:
    """ "started 05 Mar 2031, ended 05 Jun 2031 (closed)"."""
    course = doc.course
    started = day(course.started_on, doc.zone)
    if course.ended_on:
        dates = N_(
            "started %(started)s, ended %(ended)s",
            started=started,
            ended=day(course.ended_on, doc.zone),
        )
    else:
        dates = N_("started %(started)s", started=started)
    return tr(N_("%(dates)s (%(status)s)", dates=tr(dates), status=course_status(course.status)))


def course_facts(doc: CourseDocument) -> list[tuple[str, str]]:
    """The cover's facts: labels (marked, for `tr`) and values."""
    course = doc.course
    facts = [
        (N_("Patient"), doc.patient.name),
        (N_("Care team"), ", ".join(p.name for p in doc.care_team) or tr(N_("none"))),
        (N_("Course"), course_dates(doc)),
    ]
    if course.indication:
        facts.append((N_("Indication"), course.indication))
    exported = N_(
        "by %(name)s on %(when)s",
        name=doc.scope.exporter.name,
        when=when(doc.generated_at, doc.zone),
    )
    facts += [
        (N_("Clinic"), doc.clinic_name),
        (N_("Exported"), tr(exported)),
        (N_("Scope"), SCOPES[doc.scope.scope]),
        (N_("Covers"), span(doc.scope.options, doc)),
    ]
    notes = doc.scope.psychotherapy_notes
    if notes:
        included = N_(
            "included by %(name)s: %(reason)s", name=notes.included_by.name, reason=notes.reason
        )
        facts.append((N_("Psychotherapy notes"), tr(included)))
    return facts


def account_facts(doc: PatientDataDocument) -> list[tuple[str, str]]:
    """The cover of the patient's own data: labels (marked, for `tr`) and values."""
    account = doc.account
    since = N_(
        "%(email)s, since %(day)s", email=account.email, day=day(account.created_at, doc.zone)
    )
    return [
        (N_("Name"), account.name),
        (N_("Account"), tr(since)),
        (N_("Clinic"), doc.clinic_name),
        (N_("Exported"), when(doc.generated_at, doc.zone)),
    ]
