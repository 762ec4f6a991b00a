"""A small demo clinic of clearly fictional people, for trying the journal out.

Every name ends in "(demo)" and every address is at demo.example, a domain
reserved for examples; none of the text describes a real person.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from journal.accounts import accounts, courses, invitations
from journal.accounts.passwords import Passwords
from journal.clinical import (
    consent,
    prompt_library,
    questionnaires,
    safety_plan,
    screenings,
    session_records,
)
from journal.clinical.checklist import load_checklist
from journal.clinical.consent_items import load_consent_items
from journal.clinical.instruments import Catalogue
from journal.clinical.screenings import ScreeningInput
from journal.clinical.session_records import ReadingInput, RecordInput
from journal.core.actor import Actor
from journal.core.work import Work
from journal.db import utcnow
from journal.journaling import entries, prompt_assignments, themes
from journal.journaling.entries import EntryInput
from journal.journaling.intentions import OutcomeInput
from journal.models import (
    DosingSession,
    Entry,
    OutcomeStatus,
    Phase,
    Role,
    SessionStatus,
    User,
    Visibility,
)
from journal.notify import reminders
from journal.review import comments, notes, review
from journal.review.comments import CommentInput

PEOPLE = [
    ("admin@demo.example", "Avery Admin (demo)", Role.ADMIN),
    ("rivera@demo.example", "Dr. Robin Rivera (demo)", Role.CLINICIAN),
    ("okafor@demo.example", "Sam Okafor, LMFT (demo)", Role.CLINICIAN),
    ("jordan@demo.example", "Jordan Lake (demo)", Role.PATIENT),
    ("casey@demo.example", "Casey Morgan (demo)", Role.PATIENT),
]


@dataclass(frozen=True)
class DemoLogins:
    password: str
    emails: list[tuple[str, str, str]]  # email, name, role


def demo_password() -> str:
    return "demo-" + secrets.token_urlsafe(9)


def _clinic_morning(day: datetime, zone: tzinfo) -> datetime:
    """10:00 on that day in the clinic's zone: the records' "time given" (10:10) then
    matches the session, whenever the demo is made."""
    local = day.astimezone(zone).replace(hour=10, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def create_demo_clinic(
    work: Work,
    passwords: Passwords,
    now: datetime | None = None,
    catalogue: Catalogue | None = None,
    zone: tzinfo = UTC,
) -> DemoLogins | None:
    """Create the demo clinic unless the database already has accounts. Its dosing
    sessions are at ten in the morning in the clinic's time zone."""
    db = work.db
    if (db.scalar(select(func.count()).select_from(User)) or 0) > 0:
        return None
    now = now or utcnow()
    password = demo_password()
    users = {}
    for email, name, role in PEOPLE:
        user, _ = accounts.create_user(
            db, passwords, email=email, name=name, role=role, password=password
        )
        users[email] = user
    # The clinic's intake refers each patient to the clinician who opens their course.
    intake = work.acting_as(Actor(users["admin@demo.example"]))
    invitations.refer(intake, users["jordan@demo.example"], users["rivera@demo.example"])
    invitations.refer(intake, users["casey@demo.example"], users["okafor@demo.example"])
    rivera = work.acting_as(Actor(users["rivera@demo.example"]))
    jordan = work.acting_as(Actor(users["jordan@demo.example"]))
    course = courses.create_course(
        rivera,
        patient_email="jordan@demo.example",
        clinician_emails=["okafor@demo.example"],
        started_on=(now - timedelta(days=20)).date(),
        indication="Treatment-resistant depression (fictional demo course)",
    )
    plan = [
        (-14, SessionStatus.COMPLETED),
        (-7, SessionStatus.COMPLETED),
        (2, SessionStatus.SCHEDULED),
        (9, SessionStatus.SCHEDULED),
        (16, SessionStatus.SCHEDULED),
        (23, SessionStatus.SCHEDULED),
    ]
    sessions = [
        courses.schedule_session(
            rivera,
            course.id,
            scheduled_at=_clinic_morning(now + timedelta(days=d), zone),
            status=status,
        )
        for d, status in plan
    ]
    answered = _demo_prompts(rivera, course.id, sessions, now)
    written: list[Entry] = []
    for days, session_index, data in _demo_entries():
        data = replace(data, session_id=sessions[session_index].id)
        data = _follow_up(db, data, written, answered)
        written.append(
            entries.create_entry(jordan, course.id, data, now=now + timedelta(days=days))
        )
    entries.create_entry(
        rivera,
        course.id,
        EntryInput(
            phase=Phase.INTEGRATION,
            session_id=sessions[1].id,
            title="Clinician note after session 2",
            visibility=Visibility.CLINICIAN_ONLY,
            body="Demo note. Patient grounded quickly; plan to revisit the 'open door' image.",
        ),
        now=now - timedelta(days=6),
    )
    # Tied to no session, and with no title: its first words stand in for one.
    entries.create_entry(
        jordan,
        course.id,
        EntryInput(
            phase=Phase.INTEGRATION,
            title="",
            between_sessions=True,
            visibility=Visibility.CARE_TEAM,
            body="A walk by the canal. Nothing to do with one session in particular; "
            "I noticed I breathe slower these days.",
        ),
        now=now - timedelta(days=10),
    )
    _demo_review(rivera, jordan, course.id, sessions[0].id, written, now)
    if catalogue is not None:
        _demo_questionnaires(catalogue, rivera, jordan, course.id, now)
    team = [users["rivera@demo.example"].id, users["okafor@demo.example"].id]
    _demo_clinical(rivera, course.id, [s.id for s in sessions[:2]], team, now)
    _demo_safety_plan(jordan, rivera, course.id, now)
    _demo_consent_and_recheck(rivera, course.id, sessions[1].id, team, now)
    courses.create_course(
        work.acting_as(Actor(users["okafor@demo.example"])),
        patient_email="casey@demo.example",
        clinician_emails=[],
        started_on=now.date(),
        indication="PTSD (fictional demo course)",
    )
    _demo_messages(intake, passwords, _clinic_morning(now, zone))
    return DemoLogins(password, [(e, n, r.value) for e, n, r in PEOPLE])


def _demo_messages(admin: Work, passwords: Passwords, morning: datetime) -> None:
    """What the outbox shows on a first run, made by the real code: an invitation, the
    reminders a scan sends at ten this morning (outside quiet hours whenever the demo
    is made; the dosing sessions' scheduling has already written their notices)."""
    invitations.invite(
        admin, passwords, email="riley@demo.example", name="Riley Park (demo)", role=Role.PATIENT
    )
    reminders.scan(admin, now=morning)


def _demo_prompts(
    clinician: Work,
    course_id: uuid.UUID,
    sessions: list[DosingSession],
    now: datetime,
) -> uuid.UUID:
    """Prompts assigned by the clinician: one answered after session 1, one due a week
    after session 2, one coming back before session 3, one to prepare for session 3.
    Returns the assignment the "Two days later" entry answers."""
    library = prompt_library.load_library(prompt_library.BUILT_IN_FOLDER)
    plan = [
        (0, "int-intention-compared", -16),
        (1, "int-intention-week", -8),
        (1, library.due_at(prompt_library.Due.BEFORE_NEXT_SESSION)[0].id, -8),
        (2, library.for_phase(Phase.PREPARATION)[0].id, -1),
    ]
    made = [
        prompt_assignments.assign_prompt(
            clinician, library, course_id, sessions[i].id, key, now=now + timedelta(days=d)
        )
        for i, key, d in plan
    ]
    return made[0].id


def _follow_up(
    db: Session, data: EntryInput, written: list[Entry], answered: uuid.UUID
) -> EntryInput:
    """Link the demo entries: an answered prompt, intention outcomes, an intention that
    builds on an earlier one."""
    if not written:
        return data
    first = entries.intentions_of(db, [written[0].id])[written[0].id]
    heaviness, breathing = first[0].id, first[1].id
    if data.title == "Two days later":
        return replace(
            data,
            assignment_id=answered,
            outcomes={
                heaviness: OutcomeInput(
                    OutcomeStatus.PARTLY,
                    "I stayed with it for a while before I wanted it gone. That is new.",
                ),
                breathing: OutcomeInput(OutcomeStatus.ADDRESSED),
            },
        )
    if data.title == "Before session two":
        return replace(data, builds_on=heaviness)
    if data.title == "Lighter":
        return replace(
            data,
            outcomes={
                heaviness: OutcomeInput(
                    OutcomeStatus.ADDRESSED, "The mornings feel less like a wall."
                ),
            },
        )
    return data


def _demo_review(
    clinician: Work,
    patient: Work,
    course_id: uuid.UUID,
    first_session: uuid.UUID,
    written: list[Entry],
    now: datetime,
) -> None:
    """Reviews, comments, a reply, themes and a psychotherapy note on the demo course."""
    prepared, after, two_days, _private, before_two, _lighter = written
    for entry in (prepared, after, two_days):
        review.mark_reviewed(clinician, entry.id, now=now - timedelta(days=11))
    shared = comments.add_comment(
        clinician,
        two_days.id,
        CommentInput(
            body="Letting people in is a big step. Let's stay with this image next session.",
            visibility=Visibility.CARE_TEAM,
            quote="letting people in",
        ),
        now=now - timedelta(days=11),
    )
    comments.add_comment(
        patient,
        two_days.id,
        CommentInput(body="Yes, I'd like that.", parent_id=shared.id),
        now=now - timedelta(days=10),
    )
    comments.add_comment(
        clinician,
        after.id,
        CommentInput(
            body="Demo: the sadness came with warmth, not panic. Watch for this again.",
            visibility=Visibility.CLINICIAN_ONLY,
        ),
        now=now - timedelta(days=13),
    )
    for entry in (after, two_days, before_two):
        themes.tag_entry(patient, entry.id, "images", "The open door")
    themes.tag_entry(patient, two_days.id, "people", "My sister")
    notes.add_note(
        clinician,
        course_id,
        first_session,
        "Demo process note: settled quickly after onset; transference themes around control.",
        now=now - timedelta(days=14),
    )


def _demo_questionnaires(
    catalogue: Catalogue,
    clinician: Work,
    patient: Work,
    course_id: uuid.UUID,
    now: datetime,
) -> None:
    """PHQ-9 before every session, answered before the first two: the chart moves."""
    start = now - timedelta(days=16)
    phq9 = questionnaires.assign(
        clinician, catalogue, course_id, "phq9", "before_each_session", now=start
    )
    for days, answers in ((-15, [2, 2, 1, 2, 1, 2, 1, 1, 0]), (-8, [1, 1, 1, 1, 1, 1, 1, 1, 0])):
        questionnaires.submit(
            patient,
            catalogue,
            phq9.id,
            {f"q{n}": v for n, v in enumerate(answers, start=1)},
            now=now + timedelta(days=days),
        )


def _demo_clinical(
    clinician: Work,
    course_id: uuid.UUID,
    completed: list[uuid.UUID],
    team: list[uuid.UUID],
    now: datetime,
) -> None:
    """The screening before the course and the records of its two completed sessions.

    The second session's pre-dose blood pressure is at 140/90 or above, so the
    demo shows the flag."""
    checklist = load_checklist()
    answers = {item.id: "no" for item in checklist.items}
    answers["substance_use"] = "yes"
    screenings.save_screening(
        clinician,
        course_id,
        checklist,
        ScreeningInput(
            answers=answers,
            notes={"substance_use": "Demo: heavy drinking in the past, none for five years."},
            reviewed_on=(now - timedelta(days=20)).date().isoformat(),
        ),
        expected_version=None,
        now=now - timedelta(days=20),
    )
    present = tuple(str(c) for c in team)
    common = {
        "route": "intramuscular",
        "dose_unit": "mg",
        "weight_kg": "70",
        "time_given": "10:10",
        "drug": "Racemic ketamine",
        "modality": "In clinic",
        "clinicians_present": present,
        "setting": "Eyeshades, a calm playlist, a weighted blanket. Partner waited outside.",
        "checks": {
            "fasting": "yes",
            "escort_confirmed": "yes",
            "new_medications": "no",
            "pregnancy_possible": "no",
            "changes": "no",
        },
        "discharge": dict.fromkeys(session_records.DISCHARGE, "yes"),
        "discharge_criteria_notes": {"escort_present": "Partner (demo)"},
        "completed": "yes",
    }

    def series(*rows: tuple[str, str, str, str, str]) -> tuple[ReadingInput, ...]:
        """Pre-dose, about 40 minutes and discharge: time, blood pressure, heart rate, SpO2."""
        points = ("pre_dose", "about_40_minutes", "discharge")
        return tuple(
            ReadingInput(point, time, s, d, hr, spo2, "14")
            for point, (time, s, d, hr, spo2) in zip(points, rows, strict=True)
        )

    records = [
        RecordInput(
            **common,  # type: ignore[arg-type]
            dose="52.5",
            readings=series(
                ("09:55", "132", "84", "74", "98"),
                ("10:50", "138", "86", "82", "97"),
                ("12:05", "128", "82", "72", "98"),
            ),
            side_effects=("nausea", "dizziness", "dissociation"),
            dissociation="7",
            discharge_time="12:10",
            discharge_notes="Demo: alert and steady at two hours; partner drove home.",
        ),
        RecordInput(
            **common,  # type: ignore[arg-type]
            dose="56",
            adjuncts="Ondansetron 4 mg, 30 minutes before the dose (demo)",
            readings=series(
                ("09:50", "142", "88", "78", "98"),
                ("10:50", "136", "84", "80", "97"),
                ("12:00", "130", "82", "74", "98"),
            ),
            side_effects=("dissociation", "drowsiness"),
            dissociation="8",
            discharge_time="12:05",
            discharge_notes="Demo: tired but clear; partner drove home.",
        ),
    ]
    # The first record was saved with a slip in a reading and no discharge time, and
    # corrected an hour later: its history shows both versions and what changed.
    slip = list(records[0].readings)
    slip[1] = replace(slip[1], diastolic="96")
    first = replace(records[0], readings=tuple(slip), discharge_time="")
    for days, session_id, record in zip((-14, -7), completed, records, strict=True):
        saved = None
        if record is records[0]:
            saved = session_records.save_record(
                clinician,
                course_id,
                session_id,
                first,
                expected_version=None,
                now=now + timedelta(days=days, hours=2),
            )
        session_records.save_record(
            clinician,
            course_id,
            session_id,
            record,
            expected_version=None if saved is None else saved.version,
            now=now + timedelta(days=days, hours=3),
        )


def _demo_safety_plan(patient: Work, clinician: Work, course_id: uuid.UUID, now: datetime) -> None:
    """A short safety plan, written with the clinician and then added to by the patient,
    so the demo shows an earlier version too. Every name and number is fictional."""
    first = {
        "warning_signs": "Staying in bed past noon. Thinking 'nothing will change'.",
        "coping": "Walk to the end of the street and back. Put on the rain playlist.",
        "distraction": "The library cafe. Calling Sam about football.",
        "helpers": "Sam (brother), 555-0142. Priya (friend), 555-0177.",
        "professionals": "Dr Rivera at the clinic, 555-0100, weekdays 9 to 5.",
        "environment": "Old medication goes back to the pharmacy; Sam keeps the spare car keys.",
        "reasons": "My niece's first birthday in March. Finishing the garden bench.",
    }
    safety_plan.save_plan(
        clinician, course_id, first, expected_version=None, now=now - timedelta(days=13)
    )
    added = {**first, "coping": first["coping"] + " Cold water on my face."}
    safety_plan.save_plan(
        patient, course_id, added, expected_version=1, now=now - timedelta(days=6)
    )


def _demo_consent_and_recheck(
    clinician: Work,
    course_id: uuid.UUID,
    second_session: uuid.UUID,
    team: list[uuid.UUID],
    now: datetime,
) -> None:
    """The consent record, amended once (so it shows an earlier version), and the
    screening re-checked before the second session: no change."""
    items = load_consent_items()
    ticked = ["risks_explained", "alternatives_discussed", "may_withdraw", "no_driving"]
    for n, (days, more, note) in enumerate(
        (
            (-20, [], "Demo: read the document at home first; questions about nausea answered."),
            (-15, ["escort_arranged"], "Demo: partner confirmed as escort for every session."),
        )
    ):
        consent.save_consent(
            clinician,
            course_id,
            items,
            consent.ConsentInput(
                document_version="Demo clinic KAP consent, version 3 (2026)",
                consented_on=(now - timedelta(days=20)).date().isoformat(),
                witness_id=str(team[1]),
                checked=ticked + more,
                note=note,
            ),
            expected_version=n or None,
            now=now + timedelta(days=days),
        )
    screenings.recheck_screening(
        clinician,
        course_id,
        load_checklist(),
        screenings.RecheckInput(
            no_change=True,
            answers={},
            notes={},
            session_id=str(second_session),
            note="Demo: no new medication; still not drinking.",
        ),
        now=now - timedelta(days=7, hours=1),
    )


def _demo_entries() -> list[tuple[int, int, EntryInput]]:
    """(day offset, session index, entry) for the demo patient's entries."""
    return [
        (
            -16,
            0,
            EntryInput(
                phase=Phase.PREPARATION,
                visibility=Visibility.CARE_TEAM,
                mood=4,
                title="What I hope for",
                body="I want to feel less stuck in the mornings.\n\nI'm nervous about losing "
                "control, but I trust the room and the people in it.",
                intentions=[
                    "Meet the heaviness with curiosity",
                    "Notice my breathing when I'm scared",
                ],
            ),
        ),
        (
            -14,
            0,
            EntryInput(
                phase=Phase.IN_SESSION,
                visibility=Visibility.CARE_TEAM,
                mood=6,
                title="Right after",
                body="**Felt:** warm, floating, a little sad.\n\n"
                "Image: a door left open in a long hallway.",
            ),
        ),
        (
            -12,
            0,
            EntryInput(
                phase=Phase.INTEGRATION,
                visibility=Visibility.CARE_TEAM,
                mood=6,
                title="Two days later",
                body="The open door keeps coming back. I think it's about letting people in.\n\n"
                "- walked every morning\n- called my sister",
            ),
        ),
        (
            -10,
            0,
            EntryInput(
                phase=Phase.INTEGRATION,
                visibility=Visibility.PRIVATE,
                mood=5,
                title="Just for me",
                body="Some things I'm not ready to share yet. Writing them here helps.",
            ),
        ),
        (
            -8,
            1,
            EntryInput(
                phase=Phase.PREPARATION,
                visibility=Visibility.CARE_TEAM,
                mood=5,
                title="Before session two",
                body="Less fear this time. I'd like to go back to the hallway.",
                intentions=[
                    "Stay curious when the heaviness comes back",
                    "Walk through the open door",
                ],
            ),
        ),
        (
            -6,
            1,
            EntryInput(
                phase=Phase.INTEGRATION,
                visibility=Visibility.CARE_TEAM,
                mood=7,
                title="Lighter",
                body="Mornings are a bit easier. I noticed I was humming while making tea.",
            ),
        ),
    ]
