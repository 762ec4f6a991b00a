"""A clinic whose every piece of journal content carries a unique marker.

Used by the access-matrix, visibility and care-team tests: a leak shows up as a
marker in a response body. Who may read what is worked out here from the
product's visibility table on its own, not from journal.accounts.policy, so the
tests check the application against the brief rather than against itself.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from journal.accounts import care_team
from journal.clinical import consent, questionnaires, safety_plan, screenings, session_records
from journal.clinical.checklist import load_checklist
from journal.export import PendingFile, QueueablePdf, jobs
from journal.export.render_pdf import Prepared
from journal.journaling import entries, themes
from journal.journaling.entries import EntryInput
from journal.models import (
    CareTeamMember,
    CareTeamProposal,
    ClinicalVersion,
    Comment,
    Consent,
    ConsentVersion,
    Course,
    DosingSession,
    Entry,
    EntryReview,
    EntryRevision,
    EntryTheme,
    ExportJob,
    Phase,
    PsychotherapyNote,
    QuestionnaireResponse,
    Role,
    SafetyFlag,
    SafetyPlan,
    SafetyPlanVersion,
    Screening,
    ScreeningRecheck,
    SessionRecord,
    User,
    Visibility,
)
from journal.review import comments, notes
from journal.review.comments import CommentInput
from tests.conftest import Clinic, World, runtime

ENTRY_LINK_RE = re.compile(r'href="/entries/([0-9a-f-]{36})"')


def marker(label: str) -> str:
    """A string that appears nowhere by chance (letters and digits only, so
    Markdown and HTML escaping leave it intact)."""
    return f"mk{label}{uuid.uuid4().hex[:14]}"


@dataclass(frozen=True)
class Version:
    """One version of an entry: who may read it follows its own visibility."""

    visibility: Visibility
    markers: tuple[str, ...]


@dataclass
class Written:
    """An entry written for a test, with the markers of each of its versions."""

    id: uuid.UUID
    label: str
    author: User
    course: Course
    versions: list[Version] = field(default_factory=list)

    @property
    def current(self) -> Version:
        return self.versions[-1]

    @property
    def earlier(self) -> list[Version]:
        return self.versions[:-1]

    @property
    def markers(self) -> tuple[str, ...]:
        return tuple(m for v in self.versions for m in v.markers)


def _content(label: str, intentions: int) -> tuple[str, str, list[str], tuple[str, ...]]:
    title, body = marker(f"{label}t"), marker(f"{label}b")
    wishes = [marker(f"{label}i{n}") for n in range(intentions)]
    return (
        f"Title {title}",
        f"Some words {body} written for a test.",
        [f"Hope {w}" for w in wishes],
        (title, body, *wishes),
    )


def write(
    world: World,
    author: User,
    course: Course,
    visibility: Visibility,
    *,
    label: str,
    phase: Phase = Phase.INTEGRATION,
    intentions: int = 0,
) -> Written:
    """Write an entry through the service, as its author would."""
    title, body, wishes, markers = _content(label, intentions)
    entry = entries.create_entry(
        world.as_(author),
        course.id,
        EntryInput(
            phase=phase,
            title=title,
            body=body,
            visibility=visibility,
            mood=5,
            intentions=wishes,
        ),
    )
    world.commit()
    return Written(entry.id, label, author, course, [Version(visibility, markers)])


def rewrite(world: World, written: Written, visibility: Visibility) -> Written:
    """Save a new version with new markers; the old one goes to the history."""
    n = len(written.versions) + 1
    title, body, _, markers = _content(f"{written.label}v{n}", 0)
    entry = world.db.get(Entry, written.id)
    assert entry is not None
    entries.edit_entry(
        world.as_(written.author),
        written.id,
        EntryInput(phase=entry.phase, title=title, body=body, visibility=visibility, mood=4),
        expected_version=entry.version,
    )
    world.commit()
    written.versions.append(Version(visibility, markers))
    return written


def set_indication(world: World, course: Course, text: str) -> None:
    course.indication = world.vault.seal_column(course, "indication", course.patient_id, text)
    world.db.commit()


# The care team's clinicians only, never the patient: a psychotherapy note, a dosing-session
# record, a screening and its re-check.
CLINICAL = ("note", "record", "screening", "recheck")
# The safety plan, the consent record, the part of a dosing-session record the patient
# reads (its discharge notes): the patient and the care team's clinicians.
TOGETHER = ("plan", "consent", "own_record")


@dataclass(frozen=True)
class Extra:
    """Marked words around an entry: a comment, a reply, a theme or a note.

    kind: "comment" (shared with the patient), "staff_comment" (clinicians
    only), "reply", "theme" (readable with its entry), or one of CLINICAL
    (a psychotherapy note, a dosing-session record, a screening: the care
    team's clinicians only), or one of TOGETHER (a version of the safety plan:
    the patient and the care team's clinicians)."""

    kind: str
    marker: str
    course: Course
    entry: Written | None
    object_id: uuid.UUID


@dataclass
class Scene:
    """The `clinic` fixture plus marked entries on both courses."""

    clinic: Clinic
    written: dict[str, Written]
    indications: dict[uuid.UUID, str]
    extras: list[Extra] = field(default_factory=list)
    # Questionnaire assignments and safety flags: (course, id); they carry no text marker.
    assignments: list[tuple[Course, uuid.UUID]] = field(default_factory=list)
    responses: list[tuple[Course, uuid.UUID]] = field(default_factory=list)  # answered ones
    flags: list[tuple[Course, uuid.UUID]] = field(default_factory=list)
    # Care-team proposals waiting for agreement: (course, id).
    proposals: list[tuple[Course, uuid.UUID]] = field(default_factory=list)
    # PDFs the worker made, ready to download: (who asked, id); theirs alone.
    exports: list[tuple[User, uuid.UUID]] = field(default_factory=list)

    @property
    def world(self) -> World:
        return self.clinic.world

    @property
    def app(self) -> Flask:
        return self.clinic.world.app

    @property
    def courses(self) -> list[Course]:
        return [self.clinic.course, self.clinic.other_course]

    @property
    def users(self) -> list[User]:
        c = self.clinic
        return [c.admin, c.patient, c.other_patient, c.clinician, c.other_clinician]

    def __getitem__(self, label: str) -> Written:
        return self.written[label]

    # -- the product's visibility table, independent of the application's code --

    def team(self, course: Course) -> set[uuid.UUID]:
        with runtime(self.app).database.session() as s:
            return set(
                s.scalars(
                    select(CareTeamMember.clinician_id).where(CareTeamMember.course_id == course.id)
                )
            )

    def may_read(self, user: User, course: Course, author: User, visibility: Visibility) -> bool:
        if user.role == Role.ADMIN:
            return False
        if visibility == Visibility.PRIVATE:
            return user.id == author.id
        on_team = user.id in self.team(course)
        if visibility == Visibility.CARE_TEAM:
            return on_team or user.id == course.patient_id
        return on_team  # clinician-only

    def may_open(self, user: User, written: Written) -> bool:
        return self.may_read(user, written.course, written.author, written.current.visibility)

    def readable(self, user: User) -> list[Written]:
        return [w for w in self.written.values() if self.may_open(user, w)]

    def unreadable(self, user: User) -> list[Written]:
        return [w for w in self.written.values() if not self.may_open(user, w)]

    def may_see_course(self, user: User, course: Course) -> bool:
        return user.id == course.patient_id or (
            user.role == Role.CLINICIAN and user.id in self.team(course)
        )

    def may_read_extra(self, user: User, extra: Extra) -> bool:
        on_team = user.role == Role.CLINICIAN and user.id in self.team(extra.course)
        if extra.kind in CLINICAL:
            return on_team
        if extra.kind in TOGETHER:
            return on_team or user.id == extra.course.patient_id
        assert extra.entry is not None
        if not self.may_open(user, extra.entry):
            return False
        return on_team if extra.kind == "staff_comment" else True

    def forbidden_markers(self, user: User | None) -> dict[str, str]:
        """Every marker this user must never be shown, mapped to where it comes from."""
        found: dict[str, str] = {}
        for w in self.written.values():
            for n, version in enumerate(w.versions, start=1):
                if user is None or not self.may_read(user, w.course, w.author, version.visibility):
                    for m in version.markers:
                        found[m] = f"entry {w.label} version {n} ({version.visibility.value})"
        for course in self.courses:
            if user is None or not self.may_see_course(user, course):
                found[self.indications[course.id]] = f"indication of course {course.id}"
        for extra in self.extras:
            if user is None or not self.may_read_extra(user, extra):
                found[extra.marker] = f"{extra.kind} on course {extra.course.id}"
        # An admin manages accounts and so sees names; outsiders do not.
        for course in self.courses:
            if user is None or (user.role != Role.ADMIN and not self.may_see_course(user, course)):
                patient = next(u for u in self.users if u.id == course.patient_id)
                found[patient.name] = f"name of the patient of course {course.id}"
        return found


def build_scene(clinic: Clinic) -> Scene:
    """On each course: the patient's shared, private and once-private entries, the
    clinician's shared, clinician-only and once-clinician-only entries. Labels on
    the first course: pshared, pprivate, pwasprivate, cshared, conly, cwasonly; on
    the other course the same with an "o" in front (opshared, ...)."""
    world = clinic.world
    written: dict[str, Written] = {}
    indications: dict[uuid.UUID, str] = {}
    for prefix, course, patient, clinician in (
        ("", clinic.course, clinic.patient, clinic.clinician),
        ("o", clinic.other_course, clinic.other_patient, clinic.other_clinician),
    ):
        indications[course.id] = marker(f"{prefix}indication")
        set_indication(world, course, f"Indication {indications[course.id]}")
        care, private, staff = Visibility.CARE_TEAM, Visibility.PRIVATE, Visibility.CLINICIAN_ONLY
        specs = [
            (f"{prefix}pshared", patient, care, Phase.PREPARATION, 2),
            (f"{prefix}pprivate", patient, private, Phase.INTEGRATION, 0),
            (f"{prefix}pwasprivate", patient, private, Phase.INTEGRATION, 0),
            (f"{prefix}cshared", clinician, care, Phase.INTEGRATION, 0),
            (f"{prefix}conly", clinician, staff, Phase.IN_SESSION, 0),
            (f"{prefix}cwasonly", clinician, staff, Phase.INTEGRATION, 0),
        ]
        for label, author, visibility, phase, intentions in specs:
            written[label] = write(
                world, author, course, visibility, label=label, phase=phase, intentions=intentions
            )
        rewrite(world, written[f"{prefix}pwasprivate"], care)
        rewrite(world, written[f"{prefix}cwasonly"], care)
    scene = Scene(clinic, written, indications)
    for prefix, course, patient, clinician in (
        ("", clinic.course, clinic.patient, clinic.clinician),
        ("o", clinic.other_course, clinic.other_patient, clinic.other_clinician),
    ):
        add_extras(scene, prefix, course, patient, clinician)
    # The admin proposes each course's outsider for its care team; nobody agrees yet.
    for course, outsider in (
        (clinic.course, clinic.other_clinician),
        (clinic.other_course, clinic.clinician),
    ):
        care_team.propose(world.as_(clinic.admin), course.id, outsider.email)
        proposal = world.db.scalars(
            select(CareTeamProposal.id).where(CareTeamProposal.course_id == course.id)
        ).one()
        scene.proposals.append((course, proposal))
    add_exports(scene)
    world.commit()
    return scene


def add_exports(scene: Scene) -> None:
    """A finished PDF for each course's clinician and for the first patient's own data,
    sealed as the worker keeps them (a stand-in file: nothing is typeset here)."""
    c = scene.clinic
    for who, course, owner in (
        (c.clinician, c.course, c.patient),
        (c.other_clinician, c.other_course, c.other_patient),
        (c.patient, None, c.patient),
    ):
        scene.exports.append((who, ready_export(scene.world, who, course, owner)))


def ready_export(world: World, who: User, course: Course | None, owner: User) -> uuid.UUID:
    """A PDF export as the worker leaves it when done, with a stand-in file."""
    pdf = QueueablePdf(Prepared(b"{}", 0), owner.id, course.id if course else None, False)
    pending = PendingFile(bytes, "application/pdf", "course-summary-scene.pdf", pdf)
    job_id = jobs.queue_pdf(world.as_(who), pending, lambda _id: None)
    job = world.db.get(ExportJob, job_id)
    assert job is not None
    job.status, job.data = "ready", None
    job.pdf = world.vault.seal_column(job, "pdf", owner.id, "JVBERi0=")  # "%PDF-"
    return job_id


def add_extras(scene: Scene, prefix: str, course: Course, patient: User, clinician: User) -> None:
    """Comments (shared, clinician-only, a reply), themes and a psychotherapy note."""
    world = scene.world
    shared, staff_entry = scene[f"{prefix}pshared"], scene[f"{prefix}conly"]

    def comment(author: User, entry: Written, kind: str, **kw: object) -> uuid.UUID:
        m = marker(f"{prefix}{kind}")
        made = comments.add_comment(
            world.as_(author), entry.id, CommentInput(body=f"Said {m}", **kw)
        )  # type: ignore[arg-type]
        scene.extras.append(Extra(kind, m, course, entry, made.id))
        return made.id

    shared_comment = comment(
        clinician, shared, "comment", visibility=Visibility.CARE_TEAM, quote="Some words"
    )
    comment(clinician, shared, "staff_comment", visibility=Visibility.CLINICIAN_ONLY)
    comment(clinician, staff_entry, "comment", visibility=Visibility.CARE_TEAM)
    comment(patient, shared, "reply", parent_id=shared_comment)
    for author, entry in ((patient, shared), (clinician, staff_entry)):
        m = marker(f"{prefix}theme")
        tag = themes.tag_entry(world.as_(author), entry.id, "images", f"T {m}")
        scene.extras.append(Extra("theme", m, course, entry, tag.id))
    session = world.db.scalars(
        select(DosingSession).where(DosingSession.course_id == course.id)
    ).first()
    assert session is not None
    m = marker(f"{prefix}note")
    note = notes.add_note(world.as_(clinician), course.id, session.id, f"N {m}")
    scene.extras.append(Extra("note", m, course, None, note.id))
    m = marker(f"{prefix}record")
    shared = marker(f"{prefix}discharge")
    record = session_records.save_record(
        world.as_(clinician),
        course.id,
        session.id,
        session_records.RecordInput(
            route="oral",
            dose="200",
            dose_unit="mg",
            readings=(session_records.ReadingInput("pre_dose", "", "150", "95"),),
            setting=f"R {m}",
            discharge_notes=f"D {shared}",
        ),
        expected_version=None,
    )
    scene.extras.append(Extra("record", m, course, None, record.id))
    # Amended: the first version is kept, and its words are in its history only.
    m = marker(f"{prefix}record")
    session_records.save_record(
        world.as_(clinician),
        course.id,
        session.id,
        session_records.RecordInput(
            route="oral",
            dose="250",
            dose_unit="mg",
            readings=(session_records.ReadingInput("pre_dose", "", "150", "95"),),
            setting=f"R {m}",
            discharge_notes=f"D {shared}",
        ),
        expected_version=1,
    )
    scene.extras.append(Extra("record", m, course, None, record.id))
    # What the patient reads of the record (the discharge notes): theirs and the team's.
    scene.extras.append(Extra("own_record", shared, course, None, record.id))
    m = marker(f"{prefix}screening")
    checklist = load_checklist()
    screening = screenings.save_screening(
        world.as_(clinician),
        course.id,
        checklist,
        screenings.ScreeningInput(
            answers={i.id: "unknown" for i in checklist.items},
            notes={checklist.items[0].id: f"S {m}"},
            reviewed_on="2026-11-20",
        ),
        expected_version=None,
    )
    scene.extras.append(Extra("screening", m, course, None, screening.id))
    m = marker(f"{prefix}screening")
    screenings.save_screening(  # corrected: the first version is kept
        world.as_(clinician),
        course.id,
        checklist,
        screenings.ScreeningInput(
            answers={i.id: "unknown" for i in checklist.items},
            notes={checklist.items[0].id: f"S {m}"},
            reviewed_on="2026-11-20",
        ),
        expected_version=1,
    )
    scene.extras.append(Extra("screening", m, course, None, screening.id))
    m = marker(f"{prefix}recheck")
    recheck = screenings.recheck_screening(
        world.as_(clinician),
        course.id,
        checklist,
        screenings.RecheckInput(no_change=True, answers={}, notes={}, note=f"RC {m}"),
    )
    scene.extras.append(Extra("recheck", m, course, None, recheck.id))
    # The consent record, entered and then amended: a kept version.
    items = runtime(world.app).clinical.consent
    for n, m in enumerate((marker(f"{prefix}consent"), marker(f"{prefix}consent"))):
        record = consent.save_consent(
            world.as_(clinician),
            course.id,
            items,
            consent.ConsentInput(
                document_version=f"Fictional consent v{n + 1}",
                consented_on="2026-11-20",
                witness_id=str(clinician.id),
                checked=[items.items[0].id],
                note=f"CN {m}",
            ),
            expected_version=n or None,
        )
        scene.extras.append(Extra("consent", m, course, None, record.id))
    # The safety plan, written by the patient and changed by the clinician: a kept version.
    first, then = marker(f"{prefix}plan"), marker(f"{prefix}plan")
    plan = safety_plan.save_plan(
        world.as_(patient), course.id, {"warning_signs": f"W {first}"}, expected_version=None
    )
    safety_plan.save_plan(
        world.as_(clinician), course.id, {"coping": f"C {then}"}, expected_version=1
    )
    scene.extras.append(Extra("plan", first, course, None, plan.id))
    scene.extras.append(Extra("plan", then, course, None, plan.id))
    # A PHQ-9 answered with item 9 above zero: an assignment and a safety flag.
    catalogue = runtime(world.app).clinical.instruments
    assigned = questionnaires.assign(world.as_(clinician), catalogue, course.id, "phq9", "once")
    answers: dict[str, object] = {f"q{n}": 1 for n in range(1, 10)}
    done = questionnaires.submit(world.as_(patient), catalogue, assigned.id, answers)
    # Two flags: the record's pre-dose 150/95 (past 140/90) and the PHQ-9's item 9.
    flag_ids = world.db.scalars(select(SafetyFlag.id).where(SafetyFlag.course_id == course.id))
    found = list(flag_ids)
    assert len(found) == 2
    world.db.commit()  # end the read: the test's session must not hold the write lock
    scene.assignments.append((course, assigned.id))
    assert done.response_id is not None
    scene.responses.append((course, done.response_id))
    scene.flags.extend((course, flag_id) for flag_id in found)


def leaks(response: TestResponse, forbidden: dict[str, str]) -> list[str]:
    body = response.get_data().decode("utf-8", "replace")  # a PDF export is binary
    return [f"{where} ({m})" for m, where in forbidden.items() if m in body]


def linked_entries(html: str) -> set[uuid.UUID]:
    return {uuid.UUID(m) for m in ENTRY_LINK_RE.findall(html)}


# -- reading the database afresh (never through the test's long-lived session) --


def fresh_entry(app: Flask, entry_id: uuid.UUID) -> Entry | None:
    with runtime(app).database.session() as s:
        return s.get(Entry, entry_id)


def session_ids(app: Flask, course_id: uuid.UUID) -> list[uuid.UUID]:
    with runtime(app).database.session() as s:
        return list(s.scalars(select(DosingSession.id).where(DosingSession.course_id == course_id)))


def recorded_session_ids(app: Flask, course_id: uuid.UUID) -> set[uuid.UUID]:
    """The sessions of a course that have a dosing-session record."""
    with runtime(app).database.session() as s:
        return set(
            s.scalars(select(SessionRecord.session_id).where(SessionRecord.course_id == course_id))
        )


def has_screening(app: Flask, course_id: uuid.UUID) -> bool:
    with runtime(app).database.session() as s:
        return s.scalar(select(Screening.id).where(Screening.course_id == course_id)) is not None


def count_rows(app: Flask, model: type, *where: object) -> int:
    with runtime(app).database.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def snapshot(app: Flask) -> dict[str, object]:
    """The state the matrix must not change: content, sessions, courses, teams, accounts."""
    with runtime(app).database.session() as s:
        return {
            "entries": sorted(
                (str(e.id), e.version, e.visibility.value, str(e.author_id), str(e.course_id))
                for e in s.scalars(select(Entry))
            ),
            "revisions": s.scalar(select(func.count()).select_from(EntryRevision)),
            "sessions": sorted(
                (str(d.id), d.status.value, d.number, d.scheduled_at.isoformat())
                for d in s.scalars(select(DosingSession))
            ),
            "courses": sorted((str(c.id), c.status.value) for c in s.scalars(select(Course))),
            "teams": sorted(
                (str(m.course_id), str(m.clinician_id)) for m in s.scalars(select(CareTeamMember))
            ),
            "comments": s.scalar(select(func.count()).select_from(Comment)),
            "notes": sorted((str(n.id), n.version) for n in s.scalars(select(PsychotherapyNote))),
            "records": sorted((str(r.id), r.version) for r in s.scalars(select(SessionRecord))),
            "screenings": sorted((str(r.id), r.version) for r in s.scalars(select(Screening))),
            "safety_plans": sorted((str(p.id), p.version) for p in s.scalars(select(SafetyPlan))),
            "plan_versions": s.scalar(select(func.count()).select_from(SafetyPlanVersion)),
            "rechecks": s.scalar(select(func.count()).select_from(ScreeningRecheck)),
            "consents": sorted((str(c.id), c.version) for c in s.scalars(select(Consent))),
            "consent_versions": s.scalar(select(func.count()).select_from(ConsentVersion)),
            "clinical_versions": s.scalar(select(func.count()).select_from(ClinicalVersion)),
            "exports": sorted((str(j.id), j.status) for j in s.scalars(select(ExportJob))),
            "themes": s.scalar(select(func.count()).select_from(EntryTheme)),
            "reviews": s.scalar(select(func.count()).select_from(EntryReview)),
            "questionnaires": s.scalar(select(func.count()).select_from(QuestionnaireResponse)),
            "proposals": sorted(
                (str(p.id), str(p.decided_at)) for p in s.scalars(select(CareTeamProposal))
            ),
            "flags": sorted(
                (str(f.id), str(f.acknowledged_at)) for f in s.scalars(select(SafetyFlag))
            ),
            "users": sorted(
                (u.email, u.active, u.must_change_password, u.password_hash)
                for u in s.scalars(select(User))
            ),
        }
