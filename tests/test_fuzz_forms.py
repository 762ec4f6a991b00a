"""Arbitrary values posted to every form in the app never give a 500 (issue: fuzzing).

Each POST route is listed with who posts it and its fields; a new POST route
that is not listed fails the first test, so it cannot be forgotten.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from journal.accounts import care_team, invitations
from journal.clinical import questionnaires, screenings
from journal.clinical.checklist import load_checklist
from journal.journaling import themes
from journal.models import CareTeamProposal, Message, SafetyFlag
from journal.review import notes
from tests.conftest import PG_URL, Clinic, runtime
from tests.scene import ready_export
from tests.security_helpers import rules

# endpoint -> (who posts it, its form fields)
FORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "auth.login": ("anonymous", ("email", "password")),
    "auth.second_factor": ("anonymous", ("code",)),
    "auth.logout": ("patient", ()),
    "auth.change_password": ("patient", ("current_password", "new_password", "confirm_password")),
    "auth.confirm_identity": ("clinician", ("password", "code")),
    "auth.two_factor_start": ("patient", ()),
    "auth.two_factor_confirm": ("patient", ("code",)),
    "auth.two_factor_remove": ("clinician", ("password", "code")),
    "courses.new_course": (
        "clinician",
        ("patient_email", "started_on", "indication", "colleagues"),
    ),
    "courses.new_session": ("clinician", ("scheduled_at", "number", "status")),
    "courses.edit_session": ("clinician", ("scheduled_at", "number", "status")),
    "courses.set_status": ("clinician", ()),
    "entries.new_entry": (
        "patient",
        (
            "phase",
            "session_id",
            "title",
            "body",
            "intentions",
            "mood",
            "visibility",
            "prompt",
            "builds_on",
        ),
    ),
    "entries.edit": (
        "patient",
        (
            "phase",
            "session_id",
            "title",
            "body",
            "intentions",
            "mood",
            "visibility",
            "version",
            "builds_on",
        ),
    ),
    "entries.attach": ("clinician", ("session_id",)),
    "entries.delete": ("patient", ()),
    "entries.restore": ("patient", ()),
    "prompts.library": ("clinician", ("phase", "theme", "text", "due")),
    "prompts.edit": ("clinician", ("phase", "theme", "text", "due", "hidden")),
    "prompts.assign": ("clinician", ("session_id", "prompt_key")),
    "prompts.unassign": ("clinician", ("assignment_id",)),
    "quick.capture": (
        "patient",
        ("feelings", "body", "intensity", "phrase", "image", "visibility"),
    ),
    "quick.support": ("patient", ()),
    "search.results": ("clinician", ("q", "course")),
    "drafts.save_new": ("patient", ("phase", "session_id", "title", "body", "mood", "visibility")),
    "drafts.save_edit": ("patient", ("title", "body", "intentions", "mood")),
    "drafts.discard_new": ("patient", ()),
    "drafts.discard_edit": ("patient", ()),
    "questionnaires.course": ("clinician", ("instrument_id", "cadence")),
    "questionnaires.end": ("clinician", ()),
    "questionnaires.answer": ("patient", ("q1", "q2", "q5", "q9", "difficulty")),
    "questionnaires.acknowledge": ("clinician", ("action", "note")),
    "review.entry": ("clinician", ()),
    "review.session": ("clinician", ()),
    "comments.add": ("clinician", ("quote", "body", "visibility", "parent_id")),
    "themes.tag": ("patient", ("kind", "name")),
    "themes.untag": ("patient", ()),
    "notes.course_notes": ("clinician", ("session_id", "body")),
    "notes.edit": ("clinician", ("body", "version")),
    "session_record.record": (
        "clinician",
        (
            "route",
            "dose",
            "dose_unit",
            "weight_kg",
            "time_given",
            "adjuncts",
            "r0_systolic",
            "r0_diastolic",
            "r0_heart_rate",
            "r1_spo2",
            "r1_breathing_rate",
            "r1_time",
            "rows",
            "drug",
            "check_fasting",
            "discharge_time",
            "side_effects",
            "side_effects_other",
            "dissociation",
            "setting",
            "clinicians_present",
            "discharge_notes",
            "version",
        ),
    ),
    "safety_plan.edit": (
        "patient",
        (
            "warning_signs",
            "coping",
            "distraction",
            "helpers",
            "professionals",
            "environment",
            "reasons",
            "version",
        ),
    ),
    "screening.screening": (
        "clinician",
        (
            "reviewed_on",
            "version",
            *(f"answer_{item.id}" for item in load_checklist().items),
            *(f"note_{item.id}" for item in load_checklist().items),
        ),
    ),
    "screening.recheck": (
        "clinician",
        (
            "no_change",
            "session_id",
            "note",
            *(f"answer_{item.id}" for item in load_checklist().items[:3]),
            *(f"note_{item.id}" for item in load_checklist().items[:2]),
        ),
    ),
    "consent.edit": (
        "clinician",
        ("document_version", "consented_on", "witness_id", "checked", "note", "version"),
    ),
    "export.course_export": (
        "clinician",
        (
            "format",
            "span",
            "date_from",
            "date_to",
            "sessions",
            "phases",
            "include_private",
            "include_psychotherapy_notes",
            "notes_reason",
            "protect",
            "passphrase",
            "passphrase_again",
            "password",
            "code",
        ),
    ),
    "export.my_data": (
        "patient",
        ("format", "protect", "passphrase", "passphrase_again", "password", "code"),
    ),
    "export.job_download": ("clinician", ("passphrase", "passphrase_again")),
    "admin.new_user": ("admin", ("name", "email", "role", "refer_to")),
    "admin.set_active": ("admin", ()),
    "admin.send_link": ("admin", ()),
    "admin.message_again": ("admin", ()),
    "admin.counted_again": ("admin", ()),
    "care_team.decide": ("clinician", ()),
    "password_links.choose": ("anonymous", ("password", "confirm_password")),
    "password_links.forgot": ("anonymous", ("email",)),
    "language.settings": ("patient", ("language",)),
    "reminders.settings": (
        "patient",
        (
            "preparation",
            "capture",
            "integration",
            "questionnaire",
            "quiet_from",
            "quiet_until",
            "timezone",
        ),
    ),
    "reminders.off": ("anonymous", ()),
    "admin.new_course": ("admin", ("patient_email", "clinician_emails", "started_on")),
    "admin.course_team": ("admin", ("email",)),
    "admin.remove_clinician": ("admin", ()),
    "admin.erase_user": ("admin", ("reason", "confirm_email")),
}

TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=400),
    st.sampled_from(
        [
            "",
            "\x00",
            "-1",
            "0",
            "1e309",
            "9" * 30,
            "2026-02-30",
            "2026-13-45T99:99",
            "<script>x</script>",
            "' OR 1=1 --",
            "preparation",
            "care_team",
        ]
    ),
)


def test_every_post_route_is_listed(clinic: Clinic) -> None:
    posts = {str(rule.endpoint) for rule, method in rules(clinic.world.app) if method == "POST"}
    assert posts == set(FORMS), f"add or remove in FORMS: {sorted(posts ^ set(FORMS))}"


def _url(clinic: Clinic, endpoint: str, entry_id: uuid.UUID) -> str:
    c = clinic
    urls = {
        "drafts.save_new": f"/courses/{c.course.id}/draft",
        "drafts.save_edit": f"/entries/{entry_id}/draft",
        "drafts.discard_new": f"/courses/{c.course.id}/draft/discard",
        "drafts.discard_edit": f"/entries/{entry_id}/draft/discard",
        "questionnaires.course": f"/courses/{c.course.id}/questionnaires",
        "questionnaires.end": f"/questionnaires/{_assignment(clinic)}/end"
        if endpoint == "questionnaires.end"
        else "",
        "questionnaires.answer": f"/questionnaires/{_assignment(clinic)}/answer"
        if endpoint == "questionnaires.answer"
        else "",
        "questionnaires.acknowledge": f"/flags/{_flag(clinic)}/acknowledge"
        if endpoint == "questionnaires.acknowledge"
        else "",
        "review.entry": f"/entries/{entry_id}/review",
        "review.session": f"/courses/{c.course.id}/sessions/{c.past.id}/review",
        "comments.add": f"/entries/{entry_id}/comments",
        "themes.tag": f"/entries/{entry_id}/themes",
        "themes.untag": f"/entries/{entry_id}/themes/{_theme(clinic, entry_id)}/remove"
        if endpoint == "themes.untag"
        else "",
        "notes.course_notes": f"/courses/{c.course.id}/notes",
        "session_record.record": f"/courses/{c.course.id}/sessions/{c.past.id}/record",
        "screening.screening": f"/courses/{c.course.id}/screening",
        "screening.recheck": _screened(clinic) if endpoint == "screening.recheck" else "",
        "consent.edit": f"/courses/{c.course.id}/consent/edit",
        "safety_plan.edit": f"/courses/{c.course.id}/safety-plan/edit",
        "notes.edit": f"/notes/{_note(clinic)}/edit" if endpoint == "notes.edit" else "",
        "courses.new_session": f"/courses/{c.course.id}/sessions/new",
        "courses.edit_session": f"/courses/{c.course.id}/sessions/{c.upcoming.id}/edit",
        "courses.set_status": f"/courses/{c.course.id}/status/closed",
        "entries.new_entry": f"/courses/{c.course.id}/entries/new",
        "entries.edit": f"/entries/{entry_id}/edit",
        "entries.attach": f"/entries/{entry_id}/session",
        "entries.delete": f"/entries/{entry_id}/delete",
        "entries.restore": f"/entries/{entry_id}/restore",
        "prompts.edit": "/prompts/edit?key=prep-hopes",
        "prompts.assign": f"/courses/{c.course.id}/prompts",
        "prompts.unassign": f"/courses/{c.course.id}/prompts/remove",
        "quick.capture": f"/courses/{c.course.id}/quick",
        "quick.support": f"/courses/{c.course.id}/quick/support",
        "export.course_export": f"/courses/{c.course.id}/export",
        "export.job_download": f"/exports/{_export_job(clinic)}/download"
        if endpoint == "export.job_download"
        else "",
        "admin.set_active": f"/admin/users/{c.other_clinician.id}/deactivate",
        "admin.send_link": f"/admin/users/{c.other_clinician.id}/send-link",
        "admin.course_team": f"/admin/courses/{c.course.id}",
        "admin.remove_clinician": (
            f"/admin/courses/{c.other_course.id}/team/{c.other_clinician.id}/remove"
        ),
        "admin.erase_user": f"/admin/users/{c.other_patient.id}/erase",
    }
    rule = next(r for r in clinic.world.app.url_map.iter_rules() if r.endpoint == endpoint)
    return urls.get(endpoint, rule.rule)


def _screened(clinic: Clinic) -> str:
    """The re-check's address, on a course whose screening is recorded."""
    checklist = load_checklist()
    screenings.save_screening(
        clinic.world.as_(clinic.clinician),
        clinic.course.id,
        checklist,
        screenings.ScreeningInput(
            answers={i.id: "no" for i in checklist.items}, notes={}, reviewed_on="2026-11-20"
        ),
        expected_version=None,
    )
    clinic.world.commit()
    return f"/courses/{clinic.course.id}/screening/recheck"


def _export_job(clinic: Clinic) -> uuid.UUID:
    job_id = ready_export(clinic.world, clinic.clinician, clinic.course, clinic.patient)
    clinic.world.commit()
    return job_id


def _proposal(clinic: Clinic) -> uuid.UUID:
    world = clinic.world
    care_team.propose(world.as_(clinic.admin), clinic.course.id, clinic.other_clinician.email)
    found = world.db.scalars(select(CareTeamProposal.id)).one()
    world.commit()
    return found


def _dead_message(clinic: Clinic) -> uuid.UUID:
    world = clinic.world
    invitations.send_link(world.as_(clinic.admin), clinic.other_patient.id)
    message = world.db.scalars(select(Message).where(Message.link_id.is_not(None))).one()
    message.status = "dead"
    world.commit()
    return message.id


def _password_link(clinic: Clinic) -> str:
    world = clinic.world
    _, url = invitations.operator_link(world.as_(clinic.admin), clinic.other_patient.email)
    world.commit()
    return urlsplit(url).path


def _assignment(clinic: Clinic) -> uuid.UUID:
    world = clinic.world
    catalogue = runtime(world.app).clinical.instruments
    row = questionnaires.assign(
        world.as_(clinic.clinician), catalogue, clinic.course.id, "phq9", "once"
    )
    return row.id


def _flag(clinic: Clinic) -> uuid.UUID:
    world = clinic.world
    catalogue = runtime(world.app).clinical.instruments
    answers: dict[str, object] = {f"q{n}": 2 for n in range(1, 10)}
    questionnaires.submit(world.as_(clinic.patient), catalogue, _assignment(clinic), answers)
    flag_id = world.db.scalars(select(SafetyFlag.id)).one()
    world.db.commit()  # end the read: the test's session must not hold the write lock
    return flag_id


def _theme(clinic: Clinic, entry_id: uuid.UUID) -> uuid.UUID:
    world = clinic.world
    tag = themes.tag_entry(world.as_(clinic.patient), entry_id, "places", "Lake")
    return tag.id


def _note(clinic: Clinic) -> uuid.UUID:
    world = clinic.world
    note = notes.add_note(world.as_(clinic.clinician), clinic.course.id, clinic.past.id, "A note")
    return note.id


@pytest.mark.parametrize("endpoint", sorted(FORMS))
def test_arbitrary_values_never_give_a_500(clinic: Clinic, endpoint: str) -> None:
    who, fields = FORMS[endpoint]
    world = clinic.world
    author = world.browser(clinic.patient)
    r = author.post(
        f"/courses/{clinic.course.id}/entries/new",
        {
            "phase": "integration",
            "title": "Own entry",
            "body": "x",
            "visibility": "care_team",
            "session_id": "",
            "mood": "",
            "intentions": "",
        },
    )
    entry_id = uuid.UUID(r.location.rsplit("/", 1)[-1])
    person = None if who == "anonymous" else getattr(clinic, who)
    browser = world.browser(person) if person else world.browser()
    url = _url(clinic, endpoint, entry_id)

    # On PostgreSQL the pass is about what the database refuses (a NUL, which SQLite
    # stores): that value in every field first, then a few examples.
    @settings(
        max_examples=3 if PG_URL else 15,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.fixed_dictionaries(dict.fromkeys(fields, TEXT)))
    @example(dict.fromkeys(fields, "\x00"))
    @example(dict.fromkeys(fields, "a\x00b \ud7ff\U0001f600"))
    def post(values: dict[str, str]) -> None:
        # Browser.post checks post/redirect/get: a 200 answer shows what was wrong.
        response = browser.post(url, values)
        assert response.status_code < 500, (endpoint, values, response.status_code)
        if response.status_code in (302, 303) and response.location.startswith("/"):
            # What a reload of the page it lands on asks for: a GET that works.
            landed = browser.get(response.location)
            assert landed.status_code in (200, 302), (endpoint, response.location, landed)

    post()
