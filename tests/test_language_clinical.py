"""The clinical words in French: the session record's labels (routes, side effects,
checklist items, when a reading was taken, a blood-pressure flag), the screening
checklist and the safety plan's steps; English unchanged. The checklists' words reach
the catalogues through babel.cfg's extractor for data files (journal/core/data_words.py)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.frontend import parse_mapping_cfg

from journal.clinical.checklist import load_checklist
from journal.clinical.vitals import Vitals, vitals_problems
from journal.core.catalogues import Words
from journal.core.data_words import extract
from tests.conftest import Clinic
from tests.test_language import FRENCH, offer_french
from tests.test_safety_plan import plan_url
from tests.test_screening import url as screening_url
from tests.test_session_record import record_form, record_url

ROOT = Path(__file__).resolve().parent.parent
ENGLISH = {"Accept-Language": "en-GB"}


def test_the_session_record_reads_in_french_and_in_english(clinic: Clinic) -> None:
    offer_french(clinic)
    b = clinic.world.browser(clinic.clinician)
    r = b.post(record_url(clinic), record_form(clinic, pre_systolic="150"))
    assert r.status_code == 302, r.get_data(as_text=True)
    page = b.get(record_url(clinic), headers=FRENCH).get_data(as_text=True)
    for french in (
        "Intramusculaire (IM)",  # the route, saved and offered
        "Nausées, Étourdissements",  # side effects
        "Avant la dose",  # when a reading was taken
        "Environ 40 minutes après la dose",
        "À jeun selon les consignes",  # the pre-session checklist
        "Accompagnateur présent",  # a discharge criterion
        "Kétamine racémique",  # the clinic's default drug and modality, saved and offered
        "En clinique",
        "À domicile avec une personne de soutien",
        # the flag, with its own phrases inside it in French too
        "Tension artérielle de 150/82 avant la dose (égale ou supérieure à 140/90)",
    ):
        assert french in page, french
    for english in (
        ">Racemic ketamine<",  # shown in French; the form's value stays as saved
        ">In clinic<",
        "Intramuscular (IM)",
        "Dizziness",
        "Fasting as instructed",
        "About 40 minutes after the dose",
        "Escort present",
        "Blood pressure 150/82",
    ):
        assert english not in page, english
    english_page = b.get(record_url(clinic), headers=ENGLISH).get_data(as_text=True)
    assert "Intramuscular (IM)" in english_page and "Nausea, Dizziness" in english_page
    assert "<dd>Racemic ketamine</dd>" in english_page and "<dd>In clinic</dd>" in english_page
    assert "Blood pressure 150/82 before the dose (at or above 140/90)" in english_page


def test_a_refused_dose_is_explained_in_french(clinic: Clinic) -> None:
    offer_french(clinic)
    b = clinic.world.browser(clinic.clinician)
    r = b.post(record_url(clinic), record_form(clinic, dose="5000"), headers=FRENCH)
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert (
        "Une dose supérieure à 2000 mg ou à 20 mg/kg ne peut pas être juste "
        "(celle-ci est de 5000,0 mg)."
    ) in page
    assert "cannot be right" not in page


def test_an_impossible_reading_has_no_thousands_mark_in_any_language() -> None:
    problem = vitals_problems(Vitals(1200, 80))["systolic"]
    assert "A systolic pressure of 1200 is not possible" in problem
    assert "1200" in Words("fr")(problem)


def test_the_screening_and_the_safety_plan_read_in_french(clinic: Clinic) -> None:
    offer_french(clinic)
    clinician = clinic.world.browser(clinic.clinician)
    screening = clinician.get(screening_url(clinic), headers=FRENCH).get_data(as_text=True)
    assert "Bilan préalable avant un parcours" in screening
    assert "Antécédents de psychose ou de schizophrénie" in screening
    assert "History of psychosis" not in screening and "Screening before a course" not in screening
    english = clinician.get(screening_url(clinic), headers=ENGLISH).get_data(as_text=True)
    assert "History of psychosis or schizophrenia" in english
    patient = clinic.world.browser(clinic.patient)
    plan = patient.get(plan_url(clinic, "edit"), headers=FRENCH).get_data(as_text=True)
    assert "1. Signes avant-coureurs" in plan and "7. Ce qui compte le plus pour moi" in plan
    assert "Mes raisons de vivre" in plan  # a step's hint
    assert "Warning signs" not in plan and "My reasons for living" not in plan


def test_the_checklists_words_are_extracted_whole_and_not_the_questionnaires() -> None:
    screening = ROOT / "journal/checklists/screening.toml"
    with screening.open("rb") as f:
        found = [message for _, _, message, _ in extract(f, (), (), {})]
    assert found[0] == load_checklist().title
    assert [i.text for i in load_checklist().items] == found[1:]
    via_babel = extract_from_file("journal.core.data_words:extract", str(screening))
    assert "History of psychosis or schizophrenia" in [m for _, m, _, _ in via_babel]
    with (ROOT / "babel.cfg").open() as f:
        methods = dict(parse_mapping_cfg(f)[0])
    assert methods["journal/checklists/**.toml"] == methods["journal/prompts/**.toml"]
    assert methods["journal/prompts/**.toml"] == "journal.core.data_words:extract"
    assert not any("instruments" in pattern for pattern in methods)
