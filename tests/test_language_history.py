"""What a version of a clinical record changed, and a questionnaire's chart, in French:
the change lines' labels and "none", "ticked" in the reader's language (the page's
`|words`, an export's `Words`); the chart's title, bands, session marks and dates too.
English unchanged."""

from __future__ import annotations

import pickle
import uuid
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask_babel import force_locale

from journal.clinical.amendments import Facts, changes, term
from journal.clinical.charts import ScorePoint, days_in, trend_chart
from journal.clinical.checklist import load_checklist
from journal.clinical.consent import NOT_TICKED, TICKED, ConsentData, ConsentVersionView
from journal.clinical.instruments import BUILT_IN_FOLDER, load_catalogue
from journal.clinical.screenings import ScreeningData, screening_facts
from journal.core.catalogues import Words
from journal.core.labels import N_
from journal.web.i18n import translate
from tests.conftest import Clinic
from tests.test_language import FRENCH, offer_french
from tests.test_questionnaires import _answers, _assign, _due_link
from tests.test_session_record import record_form, record_url

NBSP = "\u00a0"
ENGLISH = {"Accept-Language": "en-GB"}


def test_a_session_records_changes_read_in_french_and_in_english(clinic: Clinic) -> None:
    offer_french(clinic)
    b = clinic.world.browser(clinic.clinician)
    assert b.post(record_url(clinic), record_form(clinic)).status_code == 302
    again = record_form(clinic, version="1", discharge_time="12:10", post_heart_rate="92")
    assert b.post(record_url(clinic), again).status_code == 302
    history = record_url(clinic) + "/history"
    page = b.get(history, headers=FRENCH).get_data(as_text=True)
    for french in (
        f"Heure de sortie{NBSP}: vide → 12:10",
        f"Signes vitaux à environ 40 minutes{NBSP}: fréquence cardiaque 80/min → 92/min",
    ):
        assert french in page, french
    assert "Discharge time" not in page and "heart rate" not in page
    english = b.get(history, headers=ENGLISH).get_data(as_text=True)
    assert "Discharge time: none → 12:10" in english
    assert "Vitals at about 40 minutes: heart rate 80/min → 92/min" in english


def test_a_consent_items_change_in_an_exports_language() -> None:
    item = "A support person or escort arranged"
    (line,) = changes(Facts(((item, NOT_TICKED),)), Facts(((item, TICKED),)))
    assert line == f"{item}: not ticked → ticked"
    assert Words("fr")(line) == (
        f"Personne de soutien ou accompagnateur prévu{NBSP}: non coché → coché"
    )
    # What people wrote is never looked up in the catalogue; a note's label is.
    note = N_("%(label)s, note", label=term("Escort present"))
    (line,) = changes(Facts(((note, "Yes"),)), Facts(((note, ""),)))
    assert Words("fr")(line) == f"Accompagnateur présent, note{NBSP}: Yes → vide"


def test_a_chart_in_french_and_in_english() -> None:
    phq9 = load_catalogue(BUILT_IN_FOLDER).get("phq9")
    points = [ScorePoint(date(2026, 1, 1), 18), ScorePoint(date(2026, 2, 3), 9)]
    sessions = [date(2026, 1, 10)]
    french = trend_chart(phq9, points, sessions, words=Words("fr"), day=days_in("fr"))
    assert french.title == "Scores PHQ-9 au fil du parcours"
    for words in ("Modérément sévère", f"Séance de dosage 1{NBSP}: 10 janv. 2026", "3 févr. 2026"):
        assert words in french.svg, words
    assert french.description.startswith(f"PHQ-9{NBSP}: 2 scores du 1 janv. 2026 au 3 févr. 2026")
    assert "1 séance de dosage indiquée." in french.description
    for english in ("Moderately severe", "Dosing session", "over the course", "Jan"):
        assert english not in french.svg + french.description, english
    plain = trend_chart(phq9, points, sessions)
    assert trend_chart(phq9, points, sessions, words=Words("en"), day=days_in("en")) == plain
    assert plain.title == "PHQ-9 scores over the course"
    assert "Dosing session 1: 10 Jan 2026" in plain.svg and "Moderately severe" in plain.svg


def test_the_questionnaire_page_draws_its_chart_in_french(clinic: Clinic) -> None:
    offer_french(clinic)
    clinician = _assign(clinic)
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(_due_link(patient, clinic), _answers([2, 2, 2, 2, 2, 2, 2, 2, 0]))
    assert r.status_code == 302, r.get_data(as_text=True)
    url = f"/courses/{clinic.course.id}/questionnaires"
    page = clinician.get(url, headers=FRENCH).get_data(as_text=True)
    assert "Modérément sévère" in page and "au fil du parcours" in page
    assert "Moderately severe" not in page and "scores over the course" not in page
    english = clinician.get(url, headers=ENGLISH).get_data(as_text=True)
    assert "PHQ-9 scores over the course" in english and "Moderately severe" in english


@pytest.mark.parametrize("kind", ["consent", "screening"])
def test_a_day_in_a_records_history_reads_in_the_readers_language(app: Flask, kind: str) -> None:
    """ "Date: Fri 04 Dec 2026 → Sat 05 Dec 2026" in English, as it always was; the day
    in French on a French page and in a French export; compared as its text."""
    checklist = load_checklist()

    def facts(day: date) -> Facts:
        if kind == "screening":
            return screening_facts(ScreeningData({}, {}, day, checklist.version), checklist)
        data = ConsentData("v1", day, uuid.UUID(int=0), (), "", "1")
        return ConsentVersionView(1, data, "", "", datetime(2026, 1, 1, tzinfo=UTC)).facts

    label, french_label = ("Reviewed on", "Examiné le") if kind == "screening" else ("Date", "Date")
    assert changes(facts(date(2026, 12, 5)), facts(date(2026, 12, 5))) == ()
    (line,) = changes(facts(date(2026, 12, 4)), facts(date(2026, 12, 5)))
    assert line == f"{label}: Fri 04 Dec 2026 → Sat 05 Dec 2026"
    french = f"{french_label}{NBSP}: ven. 4 déc. 2026 → sam. 5 déc. 2026"
    assert Words("fr")(line) == french
    assert Words("fr")(pickle.loads(pickle.dumps(line))) == french  # copied, the day kept
    assert Words("en")(line) == line
    day = dict(facts(date(2026, 12, 5)).fields)[label]
    with app.test_request_context("/"), force_locale("fr"):
        assert translate(line) == french and translate(day) == "sam. 5 déc. 2026"
    with app.test_request_context("/"), force_locale("en"):
        assert translate(line) == line and translate(day) == "Sat 05 Dec 2026"
