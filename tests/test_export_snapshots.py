"""Snapshots of the Markdown and JSON formats, from a fixed, fictional document.

The document model is built by hand (fixed ids and times), so the output is the
same on every run. After an intended change of format, regenerate the files with
JOURNAL_UPDATE_SNAPSHOTS=1 and review the diff.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from journal.export import render_html, render_json, render_markdown, render_pdf
from journal.export.model import (
    AccountInfo,
    AnswerChangeRecord,
    CommentRecord,
    ConsentItemRecord,
    ConsentRecord,
    ConsentVersionRecord,
    CourseDocument,
    CourseInfo,
    EntryOutcomeRecord,
    EntryRecord,
    ExportOptions,
    ExportScope,
    IntentionRecord,
    NoteRecord,
    NotesDisclosure,
    OutcomeRecord,
    PatientDataDocument,
    Person,
    ReviewRecord,
    RevisionRecord,
    SafetyFlagRecord,
    Scope,
    ScreeningItemRecord,
    ScreeningRecheckRecord,
    ScreeningRecord,
    SessionRecord,
    ThemeIndexRecord,
    ThemeRecord,
)
from journal.models import OutcomeStatus, Phase, Role, SessionStatus, ThemeKind, Visibility
from tests.export_helpers import pdf_text, validate

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
ZONE = ZoneInfo("Europe/Berlin")


def uid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2031, 3, day, hour, 30, tzinfo=UTC)


PATIENT = Person(uid(1), "Mira Quell (fictional)", Role.PATIENT)
CLINICIAN = Person(uid(2), "Dr. Ana Fictus (fictional)", Role.CLINICIAN)


def comments(scope: Scope) -> tuple[CommentRecord, ...]:
    """A shared comment on a passage with the patient's reply; for clinicians, one more."""
    shared = CommentRecord(
        id=uid(201),
        author=CLINICIAN,
        visibility=Visibility.CARE_TEAM,
        quote="listen more than I talk",
        body="A good intention. Let us *return* to it after the session.",
        created_at=at(3, 10),
        replies=(
            CommentRecord(
                id=uid(202),
                author=PATIENT,
                visibility=Visibility.CARE_TEAM,
                quote=None,
                body="I will try.\nSecond line of the reply.",
                created_at=at(3, 18),
            ),
        ),
    )
    staff = CommentRecord(
        id=uid(203),
        author=CLINICIAN,
        visibility=Visibility.CLINICIAN_ONLY,
        quote=None,
        body="Check in about sleep next time.",
        created_at=at(3, 11),
    )
    return (shared, staff) if scope == Scope.CLINICIAN else (shared,)


def document(scope: Scope = Scope.CLINICIAN, *, with_notes: bool = False) -> CourseDocument:
    prep = EntryRecord(
        id=uid(101),
        phase=Phase.PREPARATION,
        visibility=Visibility.CARE_TEAM,
        title="Before the first session",
        body="I want to *listen* more than I talk.\n\n- breathe\n- notice",
        mood=6,
        author=PATIENT,
        created_at=at(2),
        updated_at=at(3),
        version=2,
        intentions=("Meet the fear with curiosity", "Grüße an mein jüngeres Ich · 静かに"),
        revisions=(
            RevisionRecord(
                entry_version=1,
                phase=Phase.PREPARATION,
                visibility=Visibility.CARE_TEAM,
                title="Before session one",
                body="A first draft.",
                mood=5,
                written_by=PATIENT.name,
                written_at=at(2),
            ),
        ),
        comments=comments(scope),
        reviews=(ReviewRecord(CLINICIAN.name, at(3, 10), True),),
        themes=(
            ThemeRecord(ThemeKind.FEELINGS, "Fear"),
            ThemeRecord(ThemeKind.IMAGES, "The sea"),
        ),
    )
    note = EntryRecord(
        id=uid(102),
        phase=Phase.IN_SESSION,
        visibility=Visibility.CLINICIAN_ONLY,
        title="Observations | session 1",
        body="Settled after twenty minutes. *Fictional* note.",
        mood=None,
        author=CLINICIAN,
        created_at=at(4, 14),
        updated_at=at(4, 14),
        version=1,
        reviews=(ReviewRecord(CLINICIAN.name, at(5, 8), False),),
        themes=(ThemeRecord(ThemeKind.IMAGES, "The sea"),),
    )
    went = (
        (OutcomeStatus.PARTLY, "Some of it, *slowly* | fictional."),
        (OutcomeStatus.NOT_YET, ""),
    )
    after = EntryRecord(
        id=uid(103),
        phase=Phase.INTEGRATION,
        visibility=Visibility.CARE_TEAM,
        title="The week after",
        body="Quieter mornings.",
        mood=7,
        author=PATIENT,
        created_at=at(6, 18),
        updated_at=at(6, 18),
        version=1,
        outcomes=tuple(
            EntryOutcomeRecord(text, status, reflection)
            for text, (status, reflection) in zip(prep.intentions, went, strict=True)
        ),
    )
    entries = (prep, note, after) if scope == Scope.CLINICIAN else (prep, after)
    notes = (
        (NoteRecord(uid(301), CLINICIAN.name, "Process note: *fictional*.", at(4, 16), at(4, 16)),)
        if with_notes
        else ()
    )
    sessions = (
        SessionRecord(uid(11), 1, at(4, 10), SessionStatus.COMPLETED, entries, notes),
        SessionRecord(uid(12), 2, at(18, 10), SessionStatus.SCHEDULED, ()),
    )
    exporter = CLINICIAN if scope == Scope.CLINICIAN else PATIENT
    disclosure = (
        NotesDisclosure(CLINICIAN, "Referral to the treating psychiatrist") if with_notes else None
    )
    themes = (
        ThemeIndexRecord(ThemeKind.FEELINGS, "Fear", (1,), 1),
        ThemeIndexRecord(ThemeKind.IMAGES, "The sea", (1,), len(entries)),
    )
    return CourseDocument(
        generated_at=at(20, 12),
        clinic_name="Harbour Clinic (fictional)",
        zone=ZONE,
        scope=ExportScope(
            scope, exporter, ExportOptions(include_psychotherapy_notes=with_notes), disclosure
        ),
        course=CourseInfo(
            uid(7), "active", date(2031, 3, 1), None, "Treatment-resistant depression"
        ),
        patient=PATIENT,
        care_team=(CLINICIAN,),
        sessions=sessions,
        intentions=tuple(
            IntentionRecord(
                t, 1, prep.id, prep.created_at, (OutcomeRecord(1, after.id, at(6, 18), *how),)
            )
            for t, how in zip(prep.intentions, went, strict=True)
        ),
        sessions_in_course=2,
        themes=themes,
        screening=SCREENING if scope == Scope.CLINICIAN else None,
        safety_flags=FLAGS if scope == Scope.CLINICIAN else (),
        consent=CONSENT,
    )


SCREENING = ScreeningRecord(
    checklist="Screening before a course (fictional)",
    checklist_version="1",
    reviewed_on=date(2031, 2, 20),
    reviewer=CLINICIAN.name,
    needs_clinician_review=True,
    items=(
        ScreeningItemRecord("Blood pressure above 140/90 at rest", "no", ""),
        ScreeningItemRecord("History of psychosis", "unknown", "Ask the referring psychiatrist"),
        ScreeningItemRecord("Pregnancy", None, ""),
    ),
    rechecks=(
        ScreeningRecheckRecord(at(3, 8), CLINICIAN.name, 1, True, (), "Nothing new | all well"),
        ScreeningRecheckRecord(
            at(5, 8),
            CLINICIAN.name,
            2,
            False,
            (AnswerChangeRecord("Pregnancy", None, "no", "Test negative (fictional)"),),
            "",
        ),
    ),
)


def _consent_version(
    version: int, day: int, ticked: tuple[bool, ...], note: str
) -> ConsentVersionRecord:
    texts = ("Risks and side effects explained", "May withdraw at any time")
    return ConsentVersionRecord(
        version=version,
        document_version="Fictional consent *v3*",
        consented_on=date(2031, 2, 20),
        witness=CLINICIAN.name,
        items=tuple(ConsentItemRecord(t, c) for t, c in zip(texts, ticked, strict=True)),
        note=note,
        saved_by=CLINICIAN.name,
        saved_at=at(day, 11),
    )


CONSENT = ConsentRecord(
    _consent_version(2, 2, (True, True), "Escort: a friend (fictional)\nSecond line"),
    (_consent_version(1, 1, (True, False), ""),),
)


# An open flag, one acknowledged with what was done, and one acknowledged before that was kept.
FLAGS = (
    SafetyFlagRecord(
        "The patient asked for support from quick capture", at(6, 20), None, None, None, None, ""
    ),
    SafetyFlagRecord(
        "PHQ-9: Item 9 (thoughts of being better off dead or of self-harm) (answered 1)",
        at(4, 15),
        CLINICIAN.name,
        at(4, 16),
        "no_action",
        "No action needed",
        "Answered in error; confirmed by phone | with the patient",
    ),
    SafetyFlagRecord("PHQ-9: earlier", at(2), CLINICIAN.name, at(3), None, None, ""),
)


def compare(name: str, produced: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("JOURNAL_UPDATE_SNAPSHOTS") == "1":
        path.write_text(produced, encoding="utf-8")
    assert path.exists(), f"no snapshot {name}: run with JOURNAL_UPDATE_SNAPSHOTS=1"
    expected = path.read_text(encoding="utf-8")
    assert produced == expected, f"{name} differs from its snapshot"


def test_markdown_snapshot() -> None:
    compare("course-summary.md", render_markdown.render_course(document()).decode())


def test_markdown_snapshot_with_psychotherapy_notes() -> None:
    produced = render_markdown.render_course(document(with_notes=True)).decode()
    compare("course-summary-with-notes.md", produced)


def test_json_snapshot_and_schema() -> None:
    produced = render_json.render_course(document()).decode()
    compare("course-summary.json", produced)
    validate(json.loads(produced))


def test_json_snapshot_with_psychotherapy_notes() -> None:
    produced = render_json.render_course(document(with_notes=True)).decode()
    compare("course-summary-with-notes.json", produced)
    data = json.loads(produced)
    validate(data)
    assert data["scope"]["psychotherapy_notes"]["reason"] == "Referral to the treating psychiatrist"
    assert data["sessions"][0]["psychotherapy_notes"][0]["body_markdown"].startswith("Process")


def test_without_notes_the_json_has_no_notes_key() -> None:
    data = json.loads(render_json.render_course(document()))
    assert data["scope"]["psychotherapy_notes"] is None
    assert all("psychotherapy_notes" not in s for s in data["sessions"])


def test_patient_data_json_snapshot_and_schema() -> None:
    account = AccountInfo(PATIENT.id, PATIENT.name, "mira@clinic.example", Role.PATIENT, at(1))
    doc = PatientDataDocument(
        at(20, 12), "Harbour Clinic (fictional)", ZONE, account, (document(Scope.PATIENT_PRIVATE),)
    )
    produced = render_json.render_patient_data(doc).decode()
    compare("patient-data.json", produced)
    validate(json.loads(produced))


def test_the_schema_refuses_what_it_should() -> None:
    """The schema is strict enough to catch a broken export."""
    import jsonschema

    good = json.loads(render_json.render_course(document()))
    validate(good)
    for broken in (
        {**good, "format_version": 2},
        {**good, "generated_at": "20 March 2031"},
        {**good, "unexpected": True},
        {k: v for k, v in good.items() if k != "sessions"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


def test_markdown_escapes_names_and_titles() -> None:
    text = render_markdown.render_course(document())
    assert b"Observations \\| session 1" in text


def test_patient_view_has_no_clinician_only_comment() -> None:
    for produced in (
        render_markdown.render_course(document(Scope.PATIENT)),
        render_json.render_course(document(Scope.PATIENT)),
    ):
        assert b"Check in about sleep" not in produced
        assert b"A good intention" in produced and b"I will try." in produced


def test_pdf_shows_comments_reviews_themes_and_marked_notes() -> None:
    text = " ".join(pdf_text(render_pdf.render_course(document(with_notes=True))).split())
    # People are named, the exporter too: the file is read by others than its exporter.
    assert "Comment by Dr. Ana Fictus (fictional)" in text and "You" not in text
    assert "Reply by Mira Quell (fictional)" in text
    assert "listen more than I talk" in text
    assert "Read by Dr. Ana Fictus (fictional) on 03 Mar 2031" in text
    assert "changed since review" in text
    assert "feelings: Fear" in text
    assert (
        "Psychotherapy notes (included by Dr. Ana Fictus (fictional): "
        "Referral to the treating psychiatrist)" in text
    )
    assert "Process note: fictional." in text


def test_pdf_typesets_any_script_and_numbers_its_pages() -> None:
    pdf = render_pdf.render_course(document())
    text = pdf_text(pdf)
    assert "Grüße an mein jüngeres Ich" in text
    assert "静かに" in text
    assert "Page 1 of" in text
    assert "Mira Quell (fictional) · course started 01 Mar 2031" in text  # running header
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    fonts = {
        str(f["/BaseFont"])
        for page in reader.pages
        for f in (page["/Resources"].get("/Font") or {}).values()
        if "/BaseFont" in f.get_object()
    }
    assert fonts, "no embedded fonts"


def test_every_format_names_the_exporter_never_you() -> None:
    doc = document(with_notes=True)
    for produced in (
        render_markdown.render_course(doc).decode(),
        render_html.render_course(doc).decode(),
    ):
        assert "Comment by Dr. Ana Fictus (fictional)" in produced
        assert "by You" not in produced and ">You ·" not in produced and "*You ·" not in produced
