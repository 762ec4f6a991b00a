"""E-mails in their reader's language, and the crisis help in the person's: written
when the event happens, each for the one who reads it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from babel.dates import format_datetime
from flask import Flask

from journal import crisis
from journal.accounts import invitations
from journal.config import Settings
from journal.crisis import CrisisLine
from journal.models import User
from journal.notify import alerts
from tests.conftest import Clinic, point_at, runtime
from tests.helpers import Browser, plain_text
from tests.test_reminders import never_quiet, patient_messages, scan_at, session_at

FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9"}


def speaks(clinic: Clinic, user: User, language: str | None) -> None:
    rt = runtime(clinic.world.app)
    rt.settings = rt.settings.with_changes(languages=("en", "fr"))
    with rt.database.session(write=True) as s:
        found = s.get(User, user.id)
        assert found is not None
        found.language = language
        s.commit()


def test_a_reminder_is_in_the_patients_language_an_alert_in_each_clinicians(
    clinic: Clinic,
) -> None:
    speaks(clinic, clinic.patient, "fr")
    never_quiet(clinic)
    start = session_at(clinic, clinic.upcoming)
    assert scan_at(clinic, start - timedelta(hours=12)) == ["preparation"]
    rt = runtime(clinic.world.app)
    (sent,) = [m for m in patient_messages(clinic) if "séance" in m["Subject"]]
    assert sent["Subject"] == "Votre séance de dosage approche"
    body = plain_text(sent)
    day = format_datetime(start.astimezone(rt.settings.zone), "EEEE d MMMM", locale="fr")
    assert body.startswith(f"Bonjour {clinic.patient.name},\n\n")
    assert f"séance de dosage {clinic.upcoming.number} a lieu le {day} à " in body
    assert "Vous pouvez modifier ou désactiver ces rappels\u00a0: http" in body
    with rt.work(write=False) as work:
        # The same flag, told to a clinician reading French and to one reading English.
        speaks(clinic, clinic.other_clinician, "fr")
        flag = uuid.uuid4()
        to_french = alerts._alert(work, flag, clinic.other_clinician.id, "a@x.example", 2)
        to_english = alerts._alert(work, flag, clinic.clinician.id, "b@x.example", 2)
    assert to_french.subject.startswith("Le journal d’un patient demande votre attention")
    assert "Connectez-vous pour le voir\u00a0: http" in to_french.body
    assert to_english.subject == (
        "A patient's journal needs your attention (reminder: not yet acknowledged)"
    )
    assert to_english.body.startswith(
        f"A patient's journal at {rt.settings.clinic_name} needs a clinician's attention.\n\n"
    )


def test_without_a_language_of_their_own_a_person_reads_the_clinics(clinic: Clinic) -> None:
    speaks(clinic, clinic.patient, None)
    rt = runtime(clinic.world.app)
    rt.settings = rt.settings.with_changes(default_language="fr")
    with rt.work(write=False) as work:
        patient = work.db.get(User, clinic.patient.id)
        assert patient is not None
        mail = invitations._reset(work, patient, invitations.NewLink(uuid.uuid4(), "t"))
    assert mail.subject == f"Choisir un nouveau mot de passe pour {rt.settings.clinic_name}"
    assert "(il ne fonctionne qu’une fois, pendant 1 heure)\u00a0:" in mail.body


def test_the_help_page_in_french_shows_the_crisis_help_in_french(
    app: Flask, settings: Settings
) -> None:
    own = crisis.parse_lines(
        [
            {
                "label": "Our on-call clinician",
                "label_fr": "Notre clinicienne de garde",
                "number": "+1 514 555 0100",
                "note": "Weekdays, 9 to 5.",
            }
        ],
        "qc",
    )
    assert own[0].in_language("fr") == CrisisLine(
        "Notre clinicienne de garde",
        "+1 514 555 0100",
        "Weekdays, 9 to 5.",
        "qc",
        own[0].in_languages,
    )
    french = settings.with_changes(languages=("en", "fr"), crisis_locale="qc")
    point_at(app, french)
    page = Browser(app).get("/help", headers=FRENCH).get_data(as_text=True)
    assert "Ligne québécoise de prévention du suicide" in page
    assert "Gratuit, jour et nuit, tous les jours de l’année." in page
    assert "valent pour ce lieu\u00a0: Québec." in page
    english = Browser(app).get("/help").get_data(as_text=True)
    assert "Suicide prevention line for Québec" in english
    assert "The numbers below are for Québec." in english
    assert crisis.resources_for(french, "fr").startswith("Si vous êtes en danger")
    assert crisis.resources_for(french, "en") == crisis.DEFAULT_CRISIS_RESOURCES

    point_at(app, french.with_changes(crisis_lines=own))
    page = Browser(app).get("/help", headers=FRENCH).get_data(as_text=True)
    assert "Notre clinicienne de garde" in page and "Weekdays, 9 to 5." in page
    english = Browser(app).get("/help").get_data(as_text=True)
    assert "Our on-call clinician" in english and "clinicienne" not in english
