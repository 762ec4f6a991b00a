"""Intentions followed to outcomes: recorded in integration entries, shown across the
course, following the visibility of the entry they were written in."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from sqlalchemy import select

from journal.crypto import blob_key_id
from journal.journaling import intentions
from journal.keyrotation import SEALED, verify_all
from journal.models import Intention, IntentionOutcome, OutcomeStatus
from tests.conftest import Clinic, create_demo, entry_form, new_entry_id, runtime
from tests.helpers import Browser
from tests.test_review_at_rest import database_hits


def intention_ids(app: Flask, entry_id: uuid.UUID) -> list[uuid.UUID]:
    with runtime(app).database.session() as s:
        return list(
            s.scalars(
                select(Intention.id)
                .where(Intention.entry_id == entry_id)
                .order_by(Intention.position)
            )
        )


def outcomes(app: Flask) -> list[IntentionOutcome]:
    with runtime(app).database.session() as s:
        return list(s.scalars(select(IntentionOutcome)))


def prepare(clinic: Clinic, browser: Browser, *lines: str, **extra: str) -> uuid.UUID:
    r = browser.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(
            clinic.past, phase="preparation", title="Before", intentions="\n".join(lines), **extra
        ),
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    return new_entry_id(r.location)


def integrate(
    clinic: Clinic, browser: Browser, visibility: str = "care_team", **fields: str
) -> uuid.UUID:
    data = entry_form(clinic.past, title="After", visibility=visibility)
    data.update(fields)
    r = browser.post(f"/courses/{clinic.course.id}/entries/new", data)
    assert r.status_code == 302, r.get_data(as_text=True)
    return new_entry_id(r.location)


def test_an_integration_entry_records_how_intentions_went(clinic: Clinic) -> None:
    app = clinic.world.app
    patient = clinic.world.browser(clinic.patient)
    prep = prepare(clinic, patient, "Meet the fear gently", "Listen to my body")
    fear, body = intention_ids(app, prep)
    form = patient.text(f"/courses/{clinic.course.id}/entries/new?phase=integration")
    assert "How did your intentions go?" in form and "Meet the fear gently" in form
    entry = integrate(
        clinic,
        patient,
        **{
            f"outcome-{fear}": "partly",
            f"reflection-{fear}": "It came closer, then I looked away.",
            f"outcome-{body}": "",
        },
    )
    rows = outcomes(app)
    assert [(r.intention_id, r.entry_id, r.status) for r in rows] == [
        (fear, entry, OutcomeStatus.PARTLY)
    ]
    assert rows[0].reflection is not None
    assert blob_key_id(rows[0].reflection)
    found, tables = database_hits(app, {"reflection": "It came closer, then I looked away."})
    assert "intention_outcomes" in tables and found == {}  # sealed at rest, everywhere
    page = clinic.world.browser(clinic.clinician).text(f"/courses/{clinic.course.id}/intentions")
    assert "Meet the fear gently" in page
    assert "Partly" in page and "It came closer, then I looked away." in page
    assert "No outcome recorded yet." in page  # the body intention
    shown = clinic.world.browser(clinic.clinician).text(f"/entries/{entry}")
    assert "How the intentions went" in shown and "Meet the fear gently" in shown
    assert "It came closer, then I looked away." in shown


def test_an_intention_made_private_later_leaves_the_shared_entry(clinic: Clinic) -> None:
    app = clinic.world.app
    patient = clinic.world.browser(clinic.patient)
    prep = prepare(clinic, patient, "A hope 6610")
    (one,) = intention_ids(app, prep)
    entry = integrate(clinic, patient, **{f"outcome-{one}": "partly"})
    r = patient.post(
        f"/entries/{prep}/edit",
        entry_form(
            clinic.past,
            phase="preparation",
            title="Before",
            intentions="A hope 6610",
            visibility="private",
            version="1",
        ),
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    shown = clinic.world.browser(clinic.clinician).text(f"/entries/{entry}")
    assert "A hope 6610" not in shown and "How the intentions went" not in shown
    assert "A hope 6610" in patient.text(f"/entries/{entry}")


def test_a_private_entrys_outcome_is_never_shown_to_clinicians(clinic: Clinic) -> None:
    app = clinic.world.app
    patient = clinic.world.browser(clinic.patient)
    (fear,) = intention_ids(app, prepare(clinic, patient, "Meet the fear gently"))
    integrate(
        clinic,
        patient,
        visibility="private",
        **{f"outcome-{fear}": "addressed", f"reflection-{fear}": "A private marker 7731"},
    )
    mine = patient.text(f"/courses/{clinic.course.id}/intentions")
    assert "A private marker 7731" in mine and "Addressed" in mine
    clinician = clinic.world.browser(clinic.clinician)
    theirs = clinician.text(f"/courses/{clinic.course.id}/intentions")
    assert "Meet the fear gently" in theirs  # the intention was shared
    assert "A private marker 7731" not in theirs and "Addressed" not in theirs
    _, views = intentions.course_intentions(clinic.world.as_(clinic.clinician), clinic.course.id)
    assert [v.outcomes for v in views] == [[]]


def test_intentions_of_a_private_preparation_stay_with_the_patient(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    prepare(clinic, patient, "A private hope 5521", visibility="private")
    assert "A private hope 5521" in patient.text(f"/courses/{clinic.course.id}/intentions")
    clinician = clinic.world.browser(clinic.clinician)
    assert "A private hope 5521" not in clinician.text(f"/courses/{clinic.course.id}/intentions")
    # Nor is it offered to a clinician's integration entry.
    form = clinician.text(f"/courses/{clinic.course.id}/entries/new?phase=integration")
    assert "A private hope 5521" not in form


def test_outsiders_get_404(clinic: Clinic) -> None:
    for who in (clinic.other_clinician, clinic.other_patient):
        r = clinic.world.browser(who).get(f"/courses/{clinic.course.id}/intentions")
        assert r.status_code == 404
    r = clinic.world.browser(clinic.admin).get(f"/courses/{clinic.course.id}/intentions")
    assert r.status_code == 404


def test_the_path_runs_across_sessions_and_new_intentions_build_on_old(clinic: Clinic) -> None:
    app = clinic.world.app
    patient = clinic.world.browser(clinic.patient)
    (first,) = intention_ids(app, prepare(clinic, patient, "Rest in not knowing"))
    integrate(clinic, patient, **{f"outcome-{first}": "not_yet"})
    r = patient.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(
            clinic.upcoming,
            phase="preparation",
            title="Again",
            intentions="Rest in not knowing, with a friend nearby",
            builds_on=str(first),
        ),
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    (second,) = intention_ids(app, new_entry_id(r.location))
    with runtime(app).database.session() as s:
        row = s.get(Intention, second)
        assert row is not None and row.builds_on_id == first
    page = patient.text(f"/courses/{clinic.course.id}/intentions")
    assert page.index("Rest in not knowing") < page.index("with a friend nearby")
    assert f'href="#i-{first}"' in page and "Not yet" in page
    assert f"Set for session {clinic.upcoming.number}" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("outcome", "finished", "Choose addressed, partly or not yet"),
        ("reflection", "x" * 1001, "is 1,001 characters; the limit is 1,000."),
    ],
)
def test_bad_outcomes_save_nothing(clinic: Clinic, field: str, value: str, message: str) -> None:
    app = clinic.world.app
    patient = clinic.world.browser(clinic.patient)
    (one,) = intention_ids(app, prepare(clinic, patient, "Breathe"))
    data = entry_form(clinic.past, title="After")
    data[f"outcome-{one}"] = "partly"
    data[f"{field}-{one}"] = value
    r = patient.post(f"/courses/{clinic.course.id}/entries/new", data)
    assert r.status_code == 200
    assert message in r.get_data(as_text=True)
    assert outcomes(app) == []


def test_outcomes_only_in_integration_and_only_for_readable_intentions(clinic: Clinic) -> None:
    app = clinic.world.app
    patient = clinic.world.browser(clinic.patient)
    (one,) = intention_ids(app, prepare(clinic, patient, "Breathe"))
    with pytest.raises(intentions.ValidationError):
        intentions.check_outcomes(
            clinic.world.db,
            intentions.course_access(clinic.world.db, clinic.patient, clinic.course.id),
            intentions.Phase.PREPARATION,
            {one: intentions.OutcomeInput(OutcomeStatus.PARTLY)},
        )
    clinic.world.db.rollback()
    # Another patient's course cannot point at this intention.
    other = clinic.world.browser(clinic.other_patient)
    data = entry_form(None, title="After")
    r = other.post(f"/courses/{clinic.other_course.id}/entries/new", data)
    assert r.status_code == 302
    with pytest.raises(intentions.ValidationError):
        intentions.check_outcomes(
            clinic.world.db,
            intentions.course_access(clinic.world.db, clinic.other_patient, clinic.other_course.id),
            intentions.Phase.INTEGRATION,
            {one: intentions.OutcomeInput(OutcomeStatus.PARTLY)},
        )
    clinic.world.db.rollback()
    assert outcomes(app) == []


def test_editing_replaces_the_outcomes_and_keeps_them_sealed(clinic: Clinic) -> None:
    app = clinic.world.app
    patient = clinic.world.browser(clinic.patient)
    a, b = intention_ids(app, prepare(clinic, patient, "One", "Two"))
    entry = integrate(clinic, patient, **{f"outcome-{a}": "partly", f"reflection-{a}": "first"})
    form = patient.text(f"/entries/{entry}/edit")
    assert 'value="partly" checked' in form and ">first</textarea>" in form
    data = entry_form(clinic.past, title="After, edited", version="1")
    data.update({f"outcome-{b}": "addressed", f"reflection-{b}": "second"})
    r = patient.post(f"/entries/{entry}/edit", data)
    assert r.status_code == 302, r.get_data(as_text=True)
    assert [(o.intention_id, o.status) for o in outcomes(app)] == [(b, OutcomeStatus.ADDRESSED)]
    assert any(t.model is IntentionOutcome for t in SEALED)
    checked, failures = verify_all(runtime(app).database, runtime(app).ring)
    assert checked > 0 and failures == []


def test_the_demo_course_shows_outcomes_and_due_prompts(app: Flask) -> None:
    password = create_demo(app)
    patient = Browser(app)
    assert patient.login("jordan@demo.example", password).status_code == 302
    timeline_url = patient.get("/").location
    timeline = patient.text(timeline_url)
    assert "Prompts for you" in timeline
    assert "A week on, how does your intention look now?" in timeline
    page = patient.text(timeline_url.rstrip("/") + "/intentions")
    assert "Meet the heaviness with curiosity" in page
    assert "Partly" in page and "Addressed" in page and "That is new." in page
    assert "builds on" in page
