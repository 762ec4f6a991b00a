"""The language of the pages: the person's own setting, else the browser's
Accept-Language among the clinic's languages, else the clinic's default."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import pytest

from journal.config import ConfigError, load_settings
from journal.core.labels import N_, Phrase
from journal.models import User
from tests.conftest import Clinic, runtime

FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"}


def language_of(clinic: Clinic, user: User) -> str | None:
    with runtime(clinic.world.app).database.session() as db:
        found = db.get(User, user.id)
        assert found is not None
        return found.language


def offer_french(clinic: Clinic) -> None:
    rt = runtime(clinic.world.app)
    rt.settings = rt.settings.with_changes(languages=("en", "fr"))


def offer_english_only(clinic: Clinic) -> None:
    rt = runtime(clinic.world.app)
    rt.settings = rt.settings.with_changes(languages=("en",))


def test_a_french_browser_gets_the_sign_in_page_in_french(clinic: Clinic) -> None:
    offer_french(clinic)
    page = clinic.world.browser().get("/login", headers=FRENCH).get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in page
    assert "<h1>Se connecter</h1>" in page
    assert "Mot de passe oublié\u00a0?" in page and ">Mot de passe<" in page
    english = clinic.world.browser().get("/login", headers={"Accept-Language": "en-GB"})
    assert '<html lang="en" dir="ltr">' in english.get_data(as_text=True)


def test_a_language_the_clinic_does_not_offer_is_not_used(clinic: Clinic) -> None:
    offer_english_only(clinic)
    page = clinic.world.browser().get("/login", headers=FRENCH).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page and "<h1>Sign in</h1>" in page
    no_header = clinic.world.browser().get("/login").get_data(as_text=True)
    assert '<html lang="en"' in no_header


def test_a_persons_own_language_wins_over_the_browsers(clinic: Clinic) -> None:
    offer_french(clinic)
    b = clinic.world.browser(clinic.patient)
    page = b.get("/account/language", headers=FRENCH).get_data(as_text=True)
    assert '<html lang="fr"' in page and "La langue de mon navigateur" in page
    r = b.post("/account/language", {"language": "en"}, headers=FRENCH)
    assert r.status_code == 302 and r.location == "/account/language"
    assert language_of(clinic, clinic.patient) == "en"
    page = b.get("/account/language", headers=FRENCH).get_data(as_text=True)
    assert '<html lang="en"' in page and "Your language is saved." in page
    b.post("/account/language", {"language": "browser"}, headers=FRENCH)  # back to the browser's
    assert '<html lang="fr"' in b.get("/help", headers=FRENCH).get_data(as_text=True)


def test_a_patients_language_the_clinic_stopped_offering_is_not_used_for_their_data(
    clinic: Clinic,
) -> None:
    offer_french(clinic)
    b = clinic.world.browser(clinic.patient)
    assert b.post("/account/language", {"language": "fr"}).status_code == 302
    offer_english_only(clinic)
    r = b.post("/account/export", {"format": "json"})
    assert r.status_code == 200 and "language" not in json.loads(r.data)  # English


def test_a_language_not_offered_is_refused(clinic: Clinic) -> None:
    offer_english_only(clinic)
    b = clinic.world.browser(clinic.clinician)
    r = b.post("/account/language", {"language": "fr"})
    assert r.status_code == 200 and "Not a valid choice" in r.get_data(as_text=True)
    assert language_of(clinic, clinic.clinician) is None


def test_the_language_link_shows_only_when_there_is_a_choice(clinic: Clinic) -> None:
    offer_english_only(clinic)
    b = clinic.world.browser(clinic.patient)
    assert "/account/language" not in b.text("/help")
    offer_french(clinic)
    assert "/account/language" in b.text("/help")


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ('languages = ["en", "de"]', "unknown: de"),
        ('languages = ["en"]\ndefault_language = "fr"', "default_language must be one of"),
    ],
)
def test_languages_are_checked_at_start_up(tmp_path: Path, config: str, problem: str) -> None:
    (tmp_path / "config.toml").write_text(config + "\n")
    with pytest.raises(ConfigError, match=problem):
        load_settings(environ={"JOURNAL_INSTANCE_PATH": str(tmp_path)})


def test_a_phrase_copies_and_pickles_with_its_words_and_values() -> None:
    phrase = N_("Use at most %(limit)s characters.", limit=5000)
    for again in (copy.deepcopy(phrase), pickle.loads(pickle.dumps(phrase))):
        assert again == "Use at most 5,000 characters."
        assert isinstance(again, Phrase)
        assert (again.words, again.values) == ("Use at most %(limit)s characters.", {"limit": 5000})
