"""The demo clinic: fictional people, a course that reads as a timeline."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from journal.models import DosingSession, User
from tests.conftest import World, committing, create_demo, runtime
from tests.helpers import Browser


def test_demo_people_are_clearly_fictional(app: Flask) -> None:
    create_demo(app)
    with runtime(app).database.session() as db:
        users = db.scalars(select(User)).all()
    assert users
    assert all(u.name.endswith("(demo)") and u.email.endswith("@demo.example") for u in users)


def test_demo_patient_and_clinician_see_their_timeline(app: Flask, world: World) -> None:
    password = create_demo(app)
    patient = Browser(app)
    assert patient.login("jordan@demo.example", password).status_code == 302
    home = patient.get("/")
    assert home.status_code == 302  # one active course: straight to its timeline
    timeline = patient.text(home.location)
    assert "What I hope for" in timeline and "Just for me" in timeline
    assert "Clinician note after session 2" not in timeline

    clinician = Browser(app)
    assert clinician.login("rivera@demo.example", password).status_code == 302
    # Clinicians must set up two-factor sign-in before anything else.
    assert clinician.get("/").location.endswith("/account/two-factor")
    with committing(runtime(app)) as db:
        rivera = db.scalar(select(User).where(User.email == "rivera@demo.example"))
        assert rivera is not None
        World(app, db).enrol_second_factor(rivera)
    clinician = Browser(app)
    assert clinician.login("rivera@demo.example", password).status_code == 302
    caseload = clinician.text("/")
    assert "Jordan Lake (demo)" in caseload
    seen = clinician.text(home.location)
    assert "Clinician note after session 2" in seen and "What I hope for" in seen
    assert "Just for me" not in seen  # the patient's private entry
    # The session records and the screening: for the clinicians, not the patient.
    assert "Blood pressure 142/88 before the dose (at or above 140/90)" in seen
    assert seen.count("Session record") == 2 and "needs clinician review" in seen
    assert "/record" not in timeline and "/screening" not in timeline
    links = re.findall(r'href="(/courses/[0-9a-f-]{36}/sessions/[0-9a-f-]{36}/record)"', seen)
    pages = [clinician.text(link) for link in links]
    assert any("52.5 mg (0.75 mg/kg, weight used 70 kg)" in p for p in pages)
    assert any('id="bp-flag-pre"' in p for p in pages)
    assert "Substance use history: yes" in clinician.text(
        links[0].split("/sessions/")[0] + "/screening"
    )


def test_demo_doses_are_given_in_their_sessions_hour(app: Flask) -> None:
    """Sessions at 10:00 in the clinic's zone, whenever the demo is made, so the
    records' 10:10 dose matches them (not a 10:10 dose for a 19:00 session)."""
    create_demo(app)
    zone = runtime(app).settings.zone
    with runtime(app).database.session() as db:
        times = {
            s.scheduled_at.astimezone(zone).strftime("%H:%M")
            for s in db.scalars(select(DosingSession))
        }
    assert times == {"10:00"}
