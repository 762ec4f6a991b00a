"""Questionnaires by language: a published translation has the English file's items,
options and scoring; an instrument is offered only in the languages it has such a
file for; a French patient answers the French version and scores as in English."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import pytest

from journal.clinical import questionnaires
from journal.clinical.instruments import (
    BUILT_IN_FOLDER,
    Catalogue,
    DefinitionError,
    Instrument,
    load_catalogue,
    load_translation,
    score,
)
from journal.core.actor import Actor
from tests.conftest import Clinic, runtime

ASSIGNMENT_LINK = re.compile(r'href="/questionnaires/([0-9a-f-]{36})/answer"')


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(BUILT_IN_FOLDER)


def _shape(i: Instrument) -> object:
    """Everything that scores or is stored, none of the words read."""
    return (
        i.id,
        i.version,
        i.recall_period,
        i.method,
        [
            (x.id, x.number, x.scale.id, x.scale.kind, x.scale.values, x.required, x.reverse)
            for x in i.items
        ],
        i.scored_items,
        i.subscales,
        i.bands,
        i.flags,
        i.min_score,
        i.max_score,
    )


def test_french_versions_shipped(catalogue: Catalogue) -> None:
    # Only what was confirmed word for word against the published French form ships.
    assert {(t.id, t.language) for t in catalogue.translations} == {("phq9", "fr")}


def test_every_translation_has_the_english_items_options_and_scoring(catalogue: Catalogue) -> None:
    assert catalogue.translations
    for t in catalogue.translations:
        english = catalogue.get(t.id)
        assert t.language != "en" and english.language == "en"
        assert t.path.parent.name == t.language and t.path.name == english.path.name
        assert _shape(t) == _shape(english)
        assert len(t.items) == len(english.items)
        for ours, theirs in zip(t.items, english.items, strict=True):
            assert len(ours.scale.options) == len(theirs.scale.options)
            assert ours.text != theirs.text  # translated, item by item
        assert t.citation != english.citation  # its own citation of the translation


def test_the_same_answers_score_the_same_in_every_language(catalogue: Catalogue) -> None:
    for t in catalogue.translations:
        english = catalogue.get(t.id)
        for low, high in itertools.pairwise(sorted({v for i in t.items for v in i.scale.values})):
            for n in range(len(t.scored_items) + 1):
                answers = {i: (high if k < n else low) for k, i in enumerate(t.scored_items)}
                assert score(t, answers) == score(english, answers)


def test_french_phq9_item_9_raises_the_same_safety_flag(catalogue: Catalogue) -> None:
    french = catalogue.version("phq9", "fr")
    assert french.language == "fr" and french.items[8].text.startswith("Penser qu’il vaudrait")
    answers = {f"q{n}": 0 for n in range(1, 9)} | {"q9": 1}
    result = score(french, answers)
    assert result.has_safety_flag and result == score(catalogue.get("phq9"), answers)


@pytest.mark.parametrize("instrument_id", ["gad7", "pcl5", "meq30", "ebi"])
def test_without_a_french_file_it_is_offered_in_english_only(
    catalogue: Catalogue, instrument_id: str
) -> None:
    assert catalogue.languages(instrument_id) == ("en",)
    assert not catalogue.offered_in(instrument_id, "fr")
    assert catalogue.version(instrument_id, "fr") is catalogue.get(instrument_id)
    assert catalogue.in_language("fr").get(instrument_id).language == "en"


def test_in_language_swaps_only_what_has_a_version(catalogue: Catalogue) -> None:
    french = catalogue.in_language("fr")
    assert french.ids == catalogue.ids and catalogue.languages("phq9") == ("en", "fr")
    assert french.get("phq9").language == "fr" and french.version("phq9", "en").language == "en"
    assert french.in_language("en").get("phq9") is catalogue.get("phq9")


FRENCH_FILE = BUILT_IN_FOLDER / "fr" / "phq9.toml"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (('{ value = 3, label = "Presque tous les jours" },', ""), "option values"),
        (('id = "q9"', 'id = "q10"'), "same order"),
        (('id = "phq9"', 'id = "gad7"'), "'id' must be 'phq9'"),
        (("[source]", '[scoring]\nmethod = "sum"\n\n[source]'), "scoring"),
        (('label = "Jamais"', 'label = "Plusieurs jours"'), "label"),
    ],
)
def test_a_translation_that_differs_in_structure_is_refused(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    shutil.copy(BUILT_IN_FOLDER / "phq9.toml", tmp_path / "phq9.toml")
    (tmp_path / "fr").mkdir()
    text = FRENCH_FILE.read_text(encoding="utf-8")
    assert change[0] in text
    (tmp_path / "fr" / "phq9.toml").write_text(text.replace(change[0], change[1], 1), "utf-8")
    with pytest.raises(DefinitionError, match=re.escape(problem)):
        load_catalogue(tmp_path)


def test_a_translation_of_no_instrument_is_refused(tmp_path: Path) -> None:
    (tmp_path / "fr").mkdir()
    shutil.copy(FRENCH_FILE, tmp_path / "fr" / "phq9.toml")
    with pytest.raises(DefinitionError, match="no instrument has that id"):
        load_catalogue(tmp_path)


# -- on the pages ------------------------------------------------------------------


def _french_patient(clinic: Clinic) -> None:
    rt = runtime(clinic.world.app)
    rt.settings = rt.settings.with_changes(languages=("en", "fr"))
    patient = clinic.world.browser(clinic.patient)
    assert patient.post("/account/language", {"language": "fr"}).status_code == 302


def _assign(clinic: Clinic, instrument_id: str) -> str:
    clinician = clinic.world.browser(clinic.clinician)
    r = clinician.post(
        f"/courses/{clinic.course.id}/questionnaires",
        {"instrument_id": instrument_id, "cadence": "once"},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    page = clinic.world.browser(clinic.patient).text(f"/courses/{clinic.course.id}/questionnaires")
    (assignment,) = ASSIGNMENT_LINK.findall(page)
    return f"/questionnaires/{assignment}/answer"


def test_a_french_patient_answers_the_french_phq9_and_scores_as_in_english(
    clinic: Clinic,
) -> None:
    _french_patient(clinic)
    link = _assign(clinic, "phq9")
    patient = clinic.world.browser(clinic.patient)
    form = patient.text(link)
    assert "Peu d’intérêt ou de plaisir à faire les choses" in form
    assert "Plus de la moitié du temps" in form and "Little interest" not in form
    assert "pas de version validée" not in form and ' lang="en"' not in form
    answers = {f"q{n}": str(v) for n, v in enumerate([1, 1, 1, 1, 1, 1, 1, 2, 0], start=1)}
    r = patient.post(link, answers | {"difficulty": "1"}, follow_redirects=True)
    assert r.status_code == 200

    actor = clinic.world.as_actor(Actor(clinic.clinician))
    measures = questionnaires.course_measures(
        actor, runtime(clinic.world.app).clinical.instruments, clinic.course.id
    )
    (response,) = measures.responses
    assert (response.total, response.band, response.language) == (9, "Mild", "fr")
    assert measures.patient_language == "fr"
    # The clinician (in English) reads the answers in the words the patient read.
    page = clinic.world.browser(clinic.clinician).text(
        f"/courses/{clinic.course.id}/questionnaires"
    )
    assert "Answered in French" in page and "Être triste, déprimé(e) ou désespéré(e)" in page


def test_without_a_french_version_the_patient_is_told_it_is_in_english(clinic: Clinic) -> None:
    _french_patient(clinic)
    link = _assign(clinic, "gad7")
    form = clinic.world.browser(clinic.patient).text(link)
    assert "Ce questionnaire n’existe pas en version validée dans votre langue" in form
    assert '<h1 lang="en">' in form and "Feeling nervous, anxious, or on edge" in form
    clinician = clinic.world.browser(clinic.clinician).text(
        f"/courses/{clinic.course.id}/questionnaires"
    )
    assert "no validated version in the patient’s language (French)" in clinician
    assert "GAD-7: anxiety · English only" in clinician
    assert "PHQ-9: depression · English, French" in clinician


def test_the_draft_french_pcl5_is_not_offered_but_would_load(catalogue: Catalogue) -> None:
    draft = BUILT_IN_FOLDER / "to-confirm" / "fr" / "pcl5.toml"
    assert catalogue.languages("pcl5") == ("en",)  # not offered until its wording is confirmed
    french = load_translation(draft, catalogue.get("pcl5"), "fr")
    assert _shape(french) == _shape(catalogue.get("pcl5"))
