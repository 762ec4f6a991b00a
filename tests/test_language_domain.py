"""Words the domain says (refusals, the audit trail, the access log) on French pages,
and the same words unchanged in English."""

from __future__ import annotations

import html

import pytest
from babel.dates import format_date
from babel.numbers import format_decimal

from journal.core.limits import limit_hint, too_long
from journal.web.i18n import translate
from tests.conftest import Clinic, entry_form
from tests.helpers import PASSWORD
from tests.test_language import FRENCH, offer_french

NB = "\u00a0"
ENGLISH = {"Accept-Language": "en-GB"}


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        (FRENCH, "Utilisez au plus 200 caractères."),
        (ENGLISH, "Use at most 200 characters."),
    ],
)
def test_a_refused_search_says_why_in_the_pages_language(
    clinic: Clinic, headers: dict[str, str], said: str
) -> None:
    offer_french(clinic)
    b = clinic.world.browser(clinic.patient)
    r = b.post("/search", {"q": "x" * 201}, headers=headers)
    assert r.status_code == 400
    assert said in html.unescape(r.get_data(as_text=True))


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        (FRENCH, f"Utilisez au moins 10 caractères{NB}; quelques mots mis bout à bout"),
        (ENGLISH, "Use at least 10 characters; a few words together work well."),
    ],
)
def test_a_short_password_is_refused_in_the_pages_language(
    clinic: Clinic, headers: dict[str, str], said: str
) -> None:
    offer_french(clinic)
    b = clinic.world.browser(clinic.patient)
    r = b.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
        headers=headers,
    )
    assert r.status_code == 200
    assert said in html.unescape(r.get_data(as_text=True))


def test_lengths_read_with_the_languages_thousands_mark(clinic: Clinic) -> None:
    problem = too_long("x" * 10_001, 10_000)
    assert problem == (
        "This text is 10,001 characters; the limit is 10,000. Nothing was saved yet."
    )
    with clinic.world.app.test_request_context(headers=FRENCH):
        offer_french(clinic)
        big, limit = format_decimal(10_001, locale="fr"), format_decimal(10_000, locale="fr")
        assert translate(problem) == (
            f"Ce texte compte {big} caractères{NB}; la limite est de {limit}. "
            "Rien n’a encore été enregistré."
        )
        assert translate(limit_hint(10_000)) == f"Jusqu’à {limit} caractères."


def test_the_access_log_and_the_audit_trail_speak_french(clinic: Clinic) -> None:
    offer_french(clinic)
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past))
    assert r.status_code == 302
    clinic.world.browser(clinic.clinician).get(r.location)

    log = html.unescape(patient.get("/account/access-log", headers=FRENCH).get_data(as_text=True))
    assert "(thérapeute)" in log and "A ouvert" in log and "une entrée</a>" in log

    admin = clinic.world.browser(clinic.admin)
    trail = html.unescape(admin.get("/admin/audit", headers=FRENCH).get_data(as_text=True))
    assert "A écrit une entrée" in trail and "Un compte effacé" not in trail
    started = format_date(clinic.course.started_on, "d MMM y", locale="fr")
    assert f"A créé le parcours de {clinic.patient.name} commencé le {started}" in trail
    english = html.unescape(admin.get("/admin/audit", headers=ENGLISH).get_data(as_text=True))
    assert "Wrote an entry" in english and "A écrit" not in english
