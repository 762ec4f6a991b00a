"""Guided prompts in use: the clinic's library, assignments, due days and the due list."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from journal.clinical.prompt_library import Due, PromptLibrary
from journal.core.actor import Actor
from journal.core.errors import Forbidden, NotFound, ValidationError
from journal.journaling import prompt_assignments
from journal.models import (
    ClinicPrompt,
    DosingSession,
    Entry,
    Phase,
    PromptAssignment,
    SessionStatus,
)
from tests.conftest import Clinic, entry_form, new_entry_id, runtime

NEXT_DAY = "int-intention-compared"  # shipped integration prompts, by their due
WEEK_LATER = "int-intention-week"


def shipped(app: Flask) -> PromptLibrary:
    return runtime(app).clinical.prompts


def first(app: Flask, phase: Phase) -> str:
    return shipped(app).for_phase(phase)[0].id


def before_next(app: Flask) -> str:
    return shipped(app).due_at(Due.BEFORE_NEXT_SESSION)[0].id


def count(app: Flask, model: type) -> int:
    with runtime(app).database.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def assign(clinic: Clinic, key: str, session: DosingSession | None = None) -> PromptAssignment:
    w = clinic.world
    made = prompt_assignments.assign_prompt(
        w.as_(clinic.clinician), shipped(w.app), clinic.course.id, (session or clinic.past).id, key
    )
    w.commit()
    return made


# -- the due day, with a fixed clock ------------------------------------------------


def _session(day: date, number: int = 1) -> DosingSession:
    return DosingSession(
        id=uuid.uuid4(),
        course_id=uuid.uuid4(),
        number=number,
        scheduled_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
        status=SessionStatus.COMPLETED,
    )


def test_due_days_follow_the_phase_and_the_next_session(app: Flask) -> None:
    lib = shipped(app)
    session = _session(date(2031, 3, 10))
    following = _session(date(2031, 3, 24), 2)
    assigned = datetime(2031, 3, 1, 9, tzinfo=UTC)
    prep = lib.for_phase(Phase.PREPARATION)[0]
    during = lib.for_phase(Phase.IN_SESSION)[0]
    assert prompt_assignments.due_day(prep, session, following, assigned) == date(2031, 3, 1)
    late = datetime(2031, 3, 20, tzinfo=UTC)  # assigned after the session: due on its day
    assert prompt_assignments.due_day(prep, session, following, late) == date(2031, 3, 10)
    assert prompt_assignments.due_day(during, session, following, assigned) == date(2031, 3, 10)
    assert prompt_assignments.due_day(lib.get(NEXT_DAY), session, following, assigned) == date(
        2031, 3, 11
    )
    assert prompt_assignments.due_day(lib.get(WEEK_LATER), session, following, assigned) == date(
        2031, 3, 17
    )
    before = lib.get(before_next(app))
    assert prompt_assignments.due_day(before, session, following, assigned) == date(2031, 3, 23)
    assert prompt_assignments.due_day(before, session, None, assigned) is None


# -- assigning: care-team clinicians only ----------------------------------------------


def test_a_care_team_clinician_assigns_and_the_patient_sees_it(clinic: Clinic) -> None:
    app = clinic.world.app
    key = first(app, Phase.INTEGRATION)
    clinician = clinic.world.browser(clinic.clinician)
    page = clinician.get(f"/courses/{clinic.course.id}/prompts")
    assert page.status_code == 200
    r = clinician.post(
        f"/courses/{clinic.course.id}/prompts",
        {"session_id": str(clinic.past.id), "prompt_key": key},
    )
    assert r.status_code == 302
    assert count(app, PromptAssignment) == 1
    text = shipped(app).get(key).text
    assert text in clinician.text(f"/courses/{clinic.course.id}/prompts")
    patient = clinic.world.browser(clinic.patient)
    form = patient.text(f"/courses/{clinic.course.id}/entries/new?phase=integration")
    assert text in form
    assert "Prompts from your care team" in form


def test_assigning_twice_or_a_hidden_prompt_is_refused(clinic: Clinic) -> None:
    app = clinic.world.app
    key = first(app, Phase.INTEGRATION)
    assign(clinic, key)
    with pytest.raises(ValidationError) as exc:
        assign(clinic, key)
    assert "already assigned" in exc.value.errors["prompt_key"]
    other = shipped(app).for_phase(Phase.INTEGRATION)[1]
    prompt_assignments.save_prompt(
        clinic.world.as_(clinic.clinician),
        shipped(app),
        other.id,
        prompt_assignments.PromptInput(
            "integration", other.theme, other.text, other.due, hidden=True
        ),
    )
    with pytest.raises(ValidationError):
        assign(clinic, other.id)
    clinic.world.commit()
    assert count(app, PromptAssignment) == 1


@pytest.mark.parametrize("who", ["other_clinician", "patient", "other_patient"])
def test_outsiders_and_patients_cannot_assign(clinic: Clinic, who: str) -> None:
    app = clinic.world.app
    browser = clinic.world.browser(getattr(clinic, who))
    data = {"session_id": str(clinic.past.id), "prompt_key": first(app, Phase.INTEGRATION)}
    r = browser.post(f"/courses/{clinic.course.id}/prompts", data)
    assert r.status_code in {403, 404}
    if who == "other_clinician":
        assert r.status_code == 404  # never reveals that the course exists
        assert browser.get(f"/courses/{clinic.course.id}/prompts").status_code == 404
    assert count(app, PromptAssignment) == 0
    with pytest.raises((NotFound, Forbidden)):
        prompt_assignments.assign_prompt(
            clinic.world.as_(getattr(clinic, who)),
            shipped(app),
            clinic.course.id,
            clinic.past.id,
            data["prompt_key"],
        )


def test_unassign_removes_and_an_outsider_cannot(clinic: Clinic) -> None:
    a = assign(clinic, first(clinic.world.app, Phase.INTEGRATION))
    outsider = clinic.world.browser(clinic.other_clinician)
    r = outsider.post(f"/courses/{clinic.course.id}/prompts/remove", {"assignment_id": str(a.id)})
    assert r.status_code == 404
    assert count(clinic.world.app, PromptAssignment) == 1
    clinician = clinic.world.browser(clinic.clinician)
    r = clinician.post(f"/courses/{clinic.course.id}/prompts/remove", {"assignment_id": str(a.id)})
    assert r.status_code == 302
    assert count(clinic.world.app, PromptAssignment) == 0


# -- the due list ---------------------------------------------------------------------


def test_the_due_list_shows_prompts_whose_day_has_come(clinic: Clinic) -> None:
    w = clinic.world
    app = w.app
    assign(clinic, NEXT_DAY)
    assign(clinic, before_next(app))
    assign(clinic, first(app, Phase.PREPARATION), clinic.upcoming)
    past_day = clinic.past.scheduled_at.date()
    me = Actor(clinic.patient)

    def due_on(day: date) -> set[str]:
        items = prompt_assignments.due_prompts(w.as_actor(me), shipped(app), clinic.course.id, day)
        return {i.prompt.id for i in items}

    assert due_on(past_day) == set()  # nothing before the day after
    assert due_on(past_day + timedelta(days=1)) == {NEXT_DAY}
    upcoming_day = clinic.upcoming.scheduled_at.date()
    today = upcoming_day - timedelta(days=1)
    assert due_on(today) == {
        NEXT_DAY,
        before_next(app),
        first(app, Phase.PREPARATION),
    }
    # After the session it prepared for, a preparation prompt leaves the list.
    assert first(app, Phase.PREPARATION) not in due_on(upcoming_day + timedelta(days=1))
    # The clinician sees no due list: it is the patient's.
    assert (
        prompt_assignments.due_prompts(
            w.as_(clinic.clinician), shipped(app), clinic.course.id, today
        )
        == []
    )


def test_answering_a_prompt_takes_it_off_the_list(clinic: Clinic) -> None:
    w = clinic.world
    app = w.app
    a = assign(clinic, NEXT_DAY)
    text = shipped(app).get(NEXT_DAY).text
    patient = w.browser(clinic.patient)
    timeline = patient.text(f"/courses/{clinic.course.id}")
    assert "Prompts for you" in timeline and text in timeline
    link = f"/courses/{clinic.course.id}/entries/new?phase=integration&amp;prompt={a.id}"
    assert link in timeline
    form = patient.text(link.replace("&amp;", "&"))
    assert "You are answering a prompt" in form
    r = patient.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(None, title="Answer", prompt=str(a.id)),
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    entry_id = new_entry_id(r.location)
    with runtime(app).database.session() as s:
        row = s.get(PromptAssignment, a.id)
        assert row is not None and row.answered_entry_id == entry_id
        entry = s.get(Entry, entry_id)
        assert entry is not None and entry.session_id == clinic.past.id  # the prompt's session
    timeline = patient.text(f"/courses/{clinic.course.id}")
    assert "Prompts for you" not in timeline
    shown = patient.text(f"/entries/{entry_id}")
    assert "Written in answer to a prompt" in shown and text in shown
    # It cannot be answered twice.
    r = patient.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(None, title="Again", prompt=str(a.id)),
    )
    assert r.status_code == 200
    assert "not waiting for an answer" in r.get_data(as_text=True)


def test_a_private_answer_is_not_shown_to_the_clinician(clinic: Clinic) -> None:
    w = clinic.world
    a = assign(clinic, NEXT_DAY)
    patient = w.browser(clinic.patient)
    r = patient.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(None, title="Kept to myself", visibility="private", prompt=str(a.id)),
    )
    assert r.status_code == 302
    page = w.browser(clinic.clinician).text(f"/courses/{clinic.course.id}/prompts")
    assert "not answered yet" in page
    assert str(new_entry_id(r.location)) not in page


def test_a_prompt_of_another_phase_or_course_is_refused(clinic: Clinic) -> None:
    w = clinic.world
    a = assign(clinic, NEXT_DAY)
    patient = w.browser(clinic.patient)
    r = patient.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(None, phase="preparation", prompt=str(a.id)),
    )
    assert r.status_code == 200 and "another phase" in r.get_data(as_text=True)
    other = w.browser(clinic.other_patient)
    r = other.post(
        f"/courses/{clinic.other_course.id}/entries/new", entry_form(None, prompt=str(a.id))
    )
    assert r.status_code == 200 and "not waiting for an answer" in r.get_data(as_text=True)
    with runtime(w.app).database.session() as s:
        row = s.get(PromptAssignment, a.id)
        assert row is not None and row.answered_entry_id is None


# -- the clinic's library ----------------------------------------------------------------


def test_clinicians_edit_hide_and_add_prompts(clinic: Clinic) -> None:
    app = clinic.world.app
    clinician = clinic.world.browser(clinic.clinician)
    assert clinician.get("/prompts").status_code == 200
    key = first(app, Phase.PREPARATION)
    prompt = shipped(app).get(key)
    r = clinician.post(
        f"/prompts/edit?key={key}",
        {"phase": "preparation", "theme": prompt.theme, "text": "Our own wording, kindly."},
    )
    assert r.status_code == 302
    r = clinician.post(
        "/prompts",
        {
            "phase": "integration",
            "theme": "meaning",
            "text": "What small thing surprised you?",
            "due": "week_later",
        },
    )
    assert r.status_code == 302
    page = clinician.text("/prompts")
    assert "Our own wording, kindly." in page and prompt.text not in page
    assert "What small thing surprised you?" in page and "your clinic's own" in page
    library = {p.id: p for p in prompt_assignments.assignable(clinic.world.db, shipped(app))}
    assert library[key].text == "Our own wording, kindly."
    own = [p for p in library.values() if p.text == "What small thing surprised you?"]
    assert own and own[0].due is Due.WEEK_LATER
    # The clinic copy is what gets assigned.
    assign(clinic, own[0].id)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"phase": "integration", "theme": "meaning", "text": "No due"}, "due"),
        ({"phase": "preparation", "theme": "meaning", "text": "Wrong theme"}, "theme"),
        ({"phase": "preparation", "theme": "grounding", "text": " "}, "text"),
        ({"phase": "weekly", "theme": "grounding", "text": "x"}, "phase"),
        ({"phase": "preparation", "theme": "grounding", "text": "x" * 501}, "text"),
    ],
)
def test_bad_prompts_are_refused(clinic: Clinic, data: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        prompt_assignments.save_prompt(
            clinic.world.as_(clinic.clinician),
            shipped(clinic.world.app),
            None,
            prompt_assignments.PromptInput(**data),
        )
    assert field in exc.value.errors
    assert count(clinic.world.app, ClinicPrompt) == 0


@pytest.mark.parametrize("who", ["patient", "admin"])
def test_only_clinicians_edit_the_library(clinic: Clinic, who: str) -> None:
    browser = clinic.world.browser(getattr(clinic, who))
    assert browser.get("/prompts").status_code == 403
    r = browser.post("/prompts", {"phase": "preparation", "theme": "grounding", "text": "Sneaky"})
    assert r.status_code == 403
    assert count(clinic.world.app, ClinicPrompt) == 0


def test_a_shipped_prompt_keeps_its_phase(clinic: Clinic) -> None:
    key = first(clinic.world.app, Phase.PREPARATION)
    assert clinic.world.browser(clinic.clinician).get("/prompts/edit?key=nope").status_code == 404
    with pytest.raises(ValidationError) as exc:
        prompt_assignments.save_prompt(
            clinic.world.as_(clinic.clinician),
            shipped(clinic.world.app),
            key,
            prompt_assignments.PromptInput("integration", "meaning", "Moved", "next_day"),
        )
    assert "keeps its phase" in exc.value.errors["phase"]


def test_the_due_list_is_on_the_home_page_of_a_patient_with_two_courses(clinic: Clinic) -> None:
    w = clinic.world
    a = assign(clinic, NEXT_DAY)
    w.course(clinic.patient, clinic.other_clinician)  # a second open course: home lists both
    home = w.browser(clinic.patient).get("/")
    assert home.status_code == 200
    page = home.get_data(as_text=True)
    assert "Prompts for you" in page and shipped(w.app).get(NEXT_DAY).text in page
    assert f"prompt={a.id}" in page
