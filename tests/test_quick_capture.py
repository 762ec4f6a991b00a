"""Quick capture after a session: chips, intensity, a phrase, an image; saved as an
in-session entry of the day's session; bad input saves nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from journal.core.errors import ValidationError
from journal.db import utcnow
from journal.journaling import entries, quick_capture
from journal.models import Entry, Phase, SessionStatus, Visibility
from tests.conftest import Clinic, new_entry_id, runtime


def entry_count(app: Flask) -> int:
    with runtime(app).database.session() as s:
        return int(s.scalar(select(func.count()).select_from(Entry)) or 0)


def test_compose_builds_a_title_and_markdown_body() -> None:
    data = quick_capture.QuickInput(
        feelings=["calm", "tearful", "calm"],
        body=["warm"],
        intensity=4,
        phrase="  held by the music ",
        image="a lantern on dark water",
    )
    title, body = quick_capture.compose(data, 2)
    assert title == "held by the music"
    assert body == (
        "**Feelings:** calm, tearful\n\n**In the body:** warm\n\n**Intensity:** 4 of 5\n\n"
        "**In a phrase:** held by the music\n\n**An image:** a lantern on dark water"
    )
    title, body = quick_capture.compose(quick_capture.QuickInput(body=["heavy"]), 3)
    assert title == "Right after session 3" and body == "**In the body:** heavy"


def test_the_form_has_big_targets_and_no_script(clinic: Clinic) -> None:
    html = clinic.world.browser(clinic.patient).text(f"/courses/{clinic.course.id}/quick")
    assert html.count('type="checkbox"') == len(quick_capture.FEELINGS) + len(quick_capture.BODY)
    assert html.count('name="intensity"') == 5
    assert 'class="chip"' in html and 'class="scale-option"' in html
    assert re.search(
        r'<input checked[^>]*value="care_team"', html
    )  # shared with the care team by default
    assert "<script" not in html.split("</main>")[0]


def test_a_capture_saves_an_in_session_entry_for_todays_session(clinic: Clinic) -> None:
    w = clinic.world
    today = w.session(clinic.course, clinic.clinician, -0.1, SessionStatus.COMPLETED)
    patient = w.browser(clinic.patient)
    r = patient.post(
        f"/courses/{clinic.course.id}/quick",
        {
            "feelings": ["grateful", "afraid"],
            "body": ["tingling"],
            "intensity": "5",
            "phrase": "the wave passed",
            "image": "a door left open",
            "visibility": "care_team",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    view = entries.read_entry(w.as_(clinic.patient), new_entry_id(r.location))
    assert view.phase is Phase.IN_SESSION and view.session.id == today.id
    assert view.visibility is Visibility.CARE_TEAM
    assert view.title == "the wave passed"
    assert "**Feelings:** grateful, afraid" in view.body and "**Intensity:** 5 of 5" in view.body
    page = patient.text(f"/entries/{view.id}")
    assert "a door left open" in page


def test_a_capture_with_only_a_phrase_and_private(clinic: Clinic) -> None:
    w = clinic.world
    patient = w.browser(clinic.patient)
    r = patient.post(
        f"/courses/{clinic.course.id}/quick",
        {"phrase": "quiet", "visibility": "private"},
    )
    assert r.status_code == 302
    view = entries.read_entry(w.as_(clinic.patient), new_entry_id(r.location))
    assert view.visibility is Visibility.PRIVATE and view.body == "**In a phrase:** quiet"
    assert view.session.id == clinic.past.id  # no session today: the last completed one


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"feelings": ["calm", "euphoric"]}, "Choose feelings from the list."),
        ({"body": ["<script>"]}, "Choose body sensations from the list."),
        ({"intensity": "6"}, "Intensity is a number from 1 to 5."),
        ({"intensity": "0"}, "Intensity is a number from 1 to 5."),
        ({"intensity": "-1"}, "Intensity is a number from 1 to 5."),
        ({"intensity": "loud"}, "Intensity is a number from 1 to 5."),
        ({"phrase": "x" * 201}, "is 201 characters; the limit is 200."),
        ({"image": "x" * 301}, "is 301 characters; the limit is 300."),
        ({}, "Tap at least one feeling or sensation, or write a word."),
    ],
)
def test_bad_input_gives_a_clear_error_and_saves_nothing(
    clinic: Clinic, data: dict[str, object], message: str
) -> None:
    app = clinic.world.app
    before = entry_count(app)
    r = clinic.world.browser(clinic.patient).post(
        f"/courses/{clinic.course.id}/quick", {"visibility": "care_team", **data}
    )
    assert r.status_code == 400
    assert message in r.get_data(as_text=True)
    assert entry_count(app) == before


def test_the_service_refuses_the_same(clinic: Clinic) -> None:
    w = clinic.world
    with pytest.raises(ValidationError) as exc:
        quick_capture.save(
            w.as_(clinic.patient),
            clinic.course.id,
            quick_capture.QuickInput(feelings=["calm"], intensity=9),
            now=utcnow(),
        )
    assert set(exc.value.errors) == {"intensity"}


@pytest.mark.parametrize("who", ["clinician", "other_clinician", "other_patient", "admin"])
def test_only_the_patient_captures(clinic: Clinic, who: str) -> None:
    app = clinic.world.app
    browser = clinic.world.browser(getattr(clinic, who))
    r = browser.post(
        f"/courses/{clinic.course.id}/quick", {"feelings": ["calm"], "visibility": "care_team"}
    )
    assert r.status_code in {403, 404}
    if who in {"other_patient"}:
        assert r.status_code == 404
    assert entry_count(app) == 0


def test_the_timeline_links_quick_capture_on_the_session_day(clinic: Clinic) -> None:
    w = clinic.world
    patient = w.browser(clinic.patient)
    link = f'href="/courses/{clinic.course.id}/quick"'
    assert link not in patient.text(f"/courses/{clinic.course.id}")
    w.session(clinic.course, clinic.clinician, -(2 / 24), SessionStatus.COMPLETED)
    page = patient.text(f"/courses/{clinic.course.id}")
    assert link in page and "Quick capture" in page


def test_todays_session_uses_the_clock_it_is_given(clinic: Clinic) -> None:
    w = clinic.world
    later = clinic.upcoming.scheduled_at + timedelta(hours=1)
    chosen = quick_capture.todays_session(w.db, clinic.course.id, later)
    assert chosen is not None and chosen.id == clinic.upcoming.id


def test_a_capture_goes_to_the_session_held_most_recently_marked_or_not(
    clinic: Clinic,
) -> None:
    """Session 1 was completed a week ago; session 2 was held two days ago and its
    record is not saved yet (still "scheduled"): a capture now is about session 2."""
    w = clinic.world
    held = w.session(clinic.course, clinic.clinician, -2)
    chosen = quick_capture.todays_session(w.db, clinic.course.id)
    assert chosen is not None and chosen.id == held.id
    page = w.browser(clinic.patient).text(f"/courses/{clinic.course.id}/quick")
    assert f"for session {held.number}" in page
    for phase in (Phase.IN_SESSION, Phase.INTEGRATION):
        sessions = [clinic.past, held, clinic.upcoming]
        assert entries.default_session(sessions, phase, utcnow()) is held, phase
