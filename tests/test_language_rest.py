"""The timeline and the home pages in French (due questionnaires, counts of sessions
that read as plurals), and the account e-mails in their reader's language."""

from __future__ import annotations

from html import unescape

import pytest

from journal.core.mail import outbox_messages
from journal.models import Role, User
from tests.conftest import Clinic, runtime
from tests.helpers import plain_text
from tests.test_care_team_consent import propose
from tests.test_instruments_language import _assign, _french_patient
from tests.test_language import FRENCH, offer_french

ENGLISH = {"Accept-Language": "en-GB"}


def test_a_french_patients_timeline_shows_the_due_phq9_in_french(clinic: Clinic) -> None:
    _french_patient(clinic)
    _assign(clinic, "phq9")
    page = clinic.world.browser(clinic.patient).text(f"/courses/{clinic.course.id}")
    assert "Questionnaires à remplir" in page and "PHQ-9\u00a0: dépression</a>" in page
    assert "depression" not in page


def test_counts_of_sessions_read_as_plurals_in_both_languages(clinic: Clinic) -> None:
    offer_french(clinic)
    # The other clinician's one patient has one session, none done; ours two, one done.
    lone = clinic.world.browser(clinic.other_clinician)
    assert "0 séance faite sur 1<" in lone.get("/", headers=FRENCH).get_data(as_text=True)
    assert "0 of 1 session done<" in lone.get("/", headers=ENGLISH).get_data(as_text=True)
    ours = clinic.world.browser(clinic.clinician)
    assert "1 sur 2 séances faites<" in ours.get("/", headers=FRENCH).get_data(as_text=True)
    assert "1 of 2 sessions done<" in ours.get("/", headers=ENGLISH).get_data(as_text=True)


def _speaks(clinic: Clinic, user: User, language: str) -> None:
    offer_french(clinic)
    with runtime(clinic.world.app).database.session(write=True) as s:
        found = s.get(User, user.id)
        assert found is not None
        found.language = language
        s.commit()


@pytest.mark.parametrize(
    ("language", "subject", "news", "proposed_by"),
    [
        (
            "fr",
            "Une nouvelle personne est proposée pour votre équipe de soins à ",
            "L’administration de la clinique a proposé que Dr Newcomer (test) rejoigne "
            "votre équipe de soins.",
            "Dr Newcomer (test), sur proposition de l’administration de la clinique le ",
        ),
        (
            "en",
            "A new clinician is proposed for your care team at ",
            "The clinic's administration proposed Dr Newcomer (test) to join your care team. "
            "A clinician already on your care team decides whether they join; until then "
            "they cannot see your journal.\n\n",
            "Dr Newcomer (test), proposed by the clinic's administration on ",
        ),
    ],
    ids=["fr", "en"],
)
def test_the_patient_hears_of_a_proposed_clinician_in_their_language(
    clinic: Clinic, language: str, subject: str, news: str, proposed_by: str
) -> None:
    _speaks(clinic, clinic.patient, language)
    propose(clinic, clinic.world.user(Role.CLINICIAN, name="Dr Newcomer (test)"))
    rt = runtime(clinic.world.app)
    (mail,) = [
        m
        for m in outbox_messages(rt.settings.instance_path)
        if m["To"] == clinic.patient.email and m["Subject"].startswith(subject)
    ]
    body = plain_text(mail)
    assert body.startswith(f"{'Bonjour' if language == 'fr' else 'Hello'} {clinic.patient.name},")
    assert news in body
    page = clinic.world.browser(clinic.patient).text(f"/courses/{clinic.course.id}")
    assert proposed_by in unescape(page)
