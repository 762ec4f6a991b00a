"""Issue 22: an export is written in the language its exporter chooses, the patient's
own data in the patient's; the demo course's exports in French hold no English label."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select, update

from journal.clinical.dose import DoseRules, dose_notice
from journal.clinical.instruments import BUILT_IN_FOLDER, load_catalogue
from journal.clinical.session_records import ROUTES
from journal.core.catalogues import Words
from journal.export.localise import _Localiser
from journal.export.model import AnswerRecord, ClinicalRecord, ScoreRecord
from journal.models import Course, User
from tests.conftest import World, committing, create_demo, runtime
from tests.export_helpers import export, is_file, pdf_text, validate
from tests.helpers import Browser
from tests.language_helpers import english_left


def html_text(page: str) -> str:
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def english_phq9_words() -> list[str]:
    """The English PHQ-9's item texts and answer labels, longest first."""
    phq9 = load_catalogue(BUILT_IN_FOLDER).get("phq9")
    words = {i.text for i in phq9.items} | {o.label for i in phq9.items for o in i.scale.options}
    return sorted(words, key=len, reverse=True)


def offer_french(app: Flask) -> None:
    rt = runtime(app)
    rt.settings = rt.settings.with_changes(languages=("en", "fr"))


def signed_in(app: Flask, world: World, email: str) -> tuple[Browser, User]:
    with committing(runtime(app)) as db:
        user = db.scalar(select(User).where(User.email == email))
        assert user is not None
        if user.role.value == "clinician":
            World(app, db).enrol_second_factor(user)
        db.expunge(user)
    b = Browser(app)
    b.sign_in_as(user.id)
    return b, user


@pytest.fixture
def demo(app: Flask, world: World) -> tuple[Browser, Browser, str]:
    """The demo clinic offering French: its clinician's and its patient's browsers,
    and the demo course's id."""
    create_demo(app)
    offer_french(app)
    clinician, _ = signed_in(app, world, "rivera@demo.example")
    patient, jordan = signed_in(app, world, "jordan@demo.example")
    with runtime(app).database.session() as db:
        course = db.scalars(
            select(Course.id).where(Course.patient_id == jordan.id).order_by(Course.started_on)
        ).first()
    return clinician, patient, str(course)


def test_the_demo_courses_exports_in_french_hold_no_english_label(
    demo: tuple[Browser, Browser, str],
) -> None:
    clinician, _, course = demo
    texts = {}
    for fmt in ("md", "html", "json", "pdf"):
        r = export(clinician, course, fmt, language="fr")
        assert r.status_code == 200 and is_file(r), r.get_data(as_text=True)[:300]
        texts[fmt] = r.data
    markdown = texts["md"].decode()
    page = texts["html"].decode()
    data = json.loads(texts["json"])
    validate(data)
    assert data["language"] == "fr" and data["kind"] == "course_summary"
    assert data["sessions"][0]["status"] in ("completed", "scheduled")  # codes stay English
    assert '<html lang="fr">' in page
    pdf = pdf_text(texts["pdf"])
    assert "Séances de dosage" in markdown and "Séances de dosage" in html_text(page)
    assert "Résumé du parcours de soins" in " ".join(pdf.split())
    assert re.search(r"\d{1,2} (janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)", pdf)
    # The demo's PHQ-9 was answered in English: its published words are the patient's
    # answers, not labels ("More than half the days").
    phq9_words = english_phq9_words()
    for fmt, text in (
        ("md", markdown),
        ("html", html_text(page)),
        ("json", texts["json"].decode()),
        ("pdf", pdf),
    ):
        labels = " ".join(text.split())
        for words in phq9_words:
            labels = labels.replace(words, " ")
        assert english_left(labels) == [], (fmt, "|".join(english_left(labels)))
    # The PHQ-9 was answered in English: its items and answers in the words the patient
    # read (as the questionnaire page shows them), whatever the export's language.
    (phq9,) = [q for q in data["questionnaires"] if q["instrument_id"] == "phq9"]
    first = phq9["scores"][0]["answers"][0]
    assert first["text"] == "Little interest or pleasure in doing things"
    assert first["answer"] == "More than half the days"
    assert "Little interest or pleasure in doing things" in markdown
    assert "Peu d’intérêt" not in markdown + html_text(page)
    # The same course in English holds the labels the test looks for (it is not vacuous).
    english = export(clinician, course, "md", language="en").get_data(as_text=True)
    assert "Dosing sessions" in english and len(english_left(english)) > 20


def test_the_patients_own_data_is_in_the_patients_language(
    app: Flask, demo: tuple[Browser, Browser, str]
) -> None:
    _, patient, _ = demo
    with committing(runtime(app)) as db:
        db.execute(update(User).where(User.email == "jordan@demo.example").values(language="fr"))
    r = patient.post("/account/export", {"format": "json"}, headers={"Accept-Language": "en"})
    assert r.status_code == 200 and is_file(r)
    data = json.loads(r.data)
    validate(data)
    assert data["language"] == "fr" and data["kind"] == "patient_data"
    assert english_left(r.get_data(as_text=True)) == []
    with committing(runtime(app)) as db:
        db.execute(update(User).where(User.email == "jordan@demo.example").values(language=None))
    r = patient.post("/account/export", {"format": "json"}, headers={"Accept-Language": "en"})
    assert "language" not in json.loads(r.data)  # English: as it always was


def test_the_export_form_offers_the_clinics_languages(
    app: Flask, demo: tuple[Browser, Browser, str]
) -> None:
    clinician, _, course = demo
    page = clinician.get(f"/courses/{course}/export", headers={"Accept-Language": "fr"})
    text = page.get_data(as_text=True)
    assert 'name="language"' in text and "Français" in text and "English" in text
    assert re.search(r'value="fr"[^>]*checked|checked[^>]*value="fr"', text)
    refused = export(clinician, course, "md", language="de")
    assert refused.status_code == 400
    rt = runtime(app)
    rt.settings = rt.settings.with_changes(languages=("en",))
    assert 'name="language"' not in clinician.text(f"/courses/{course}/export")
    plain = export(clinician, course, "md")
    assert plain.status_code == 200 and "Dosing sessions" in plain.get_data(as_text=True)


def test_a_dose_notice_and_a_point_on_a_line_in_an_exports_language() -> None:
    """The route inside a dose notice and a visual-analogue answer ("37 of 100") are
    the journal's words: in the export's language; an option's label stays as it is."""
    notice = dose_notice(
        "intravenous", ROUTES["intravenous"], Decimal(5), "mg_per_kg", None, DoseRules.of(None)
    )
    assert notice is not None
    record = ClinicalRecord(
        ROUTES["intravenous"], "350", "5", None, None, None, None, (), None, False
    )
    record = replace(record, dose_notice=notice.label)
    assert record.dose_notice == (
        "The dose, 5.00 mg/kg, is above the clinic's usual range for intravenous (IV) doses "
        "(0.5 to 1.0 mg/kg). Please check it; it was saved as given"
    )
    french = _Localiser(Words("fr")).clinical(record)
    assert french is not None
    assert french.dose_notice.startswith("La dose, 5.00 mg/kg, est au-dessus")
    assert "pour la voie intraveineuse (IV)" in french.dose_notice, french.dose_notice
    catalogue = load_catalogue(BUILT_IN_FOLDER)
    line = catalogue.get("ebi").items[0].scale.label_for(37)
    option = catalogue.get("phq9").items[0].scale.label_for(2)
    score = ScoreRecord(
        datetime(2026, 1, 1, tzinfo=UTC),
        37,
        100,
        "",
        None,
        False,
        review_flags=(),
        clusters=(),
        answers=(
            AnswerRecord(1, "e1", "…", 37, line, True),
            AnswerRecord(1, "q1", "…", 2, option, True),
        ),
    )
    assert [a.words for a in score.answers or ()] == ["37 of 100", "More than half the days"]
    said = _Localiser(Words("fr")).score(score)
    assert [a.words for a in said.answers or ()] == ["37 sur 100", "More than half the days"]
