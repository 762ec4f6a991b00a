"""What the page's scripts write (static/js) and the audit CSV, in the page's language.

The scripts take their words from the page: data-* patterns the templates translate,
with "{count}"-like places the script fills; without them they write the English of
their own fallback, which is the English page's. The admin's CSV download is in the
admin's page language; in English it reads as it always did."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import pytest
from babel.dates import format_date

from journal.accounts import audit_trail
from journal.core.catalogues import Words
from journal.models import Role
from tests.conftest import Clinic, entry_form, new_entry_id
from tests.test_language import FRENCH, offer_french

JS = Path(__file__).parent.parent / "static/js"
NBSP = "\u00a0"
WORDS = {
    "en": {
        "data-limit-empty": "Up to {limit} characters.",
        "data-limit-count": "{count} of {limit} characters.",
        "data-limit-over": "{count} characters: {over} over the limit of {limit}. "
        "Shorten it before saving; nothing is cut.",
        "data-saving": "Saving draft…",
        "data-saved": "Draft saved at {time}. Only you can see it.",
        "data-not-saved": "Draft not saved: {reason}",
        "data-try-again": "Draft not saved: please try again.",
        "data-offline": "Draft not saved: no connection. Your text is still here; keep writing.",
        "data-passage-button": "Comment on the selected passage",
    },
    "fr": {
        "data-limit-empty": "Jusqu’à {limit} caractères.",
        "data-limit-count": "{count} sur {limit} caractères.",
        "data-limit-over": f"{{count}} caractères{NBSP}: {{over}} de plus que la limite de "
        f"{{limit}}. Raccourcissez le texte avant d’enregistrer{NBSP}; rien n’est coupé.",
        "data-saving": "Enregistrement du brouillon…",
        "data-saved": "Brouillon enregistré à {time}. Il n’est visible que par vous.",
        "data-not-saved": f"Brouillon non enregistré{NBSP}: {{reason}}",
        "data-try-again": f"Brouillon non enregistré{NBSP}: veuillez réessayer.",
        "data-offline": f"Brouillon non enregistré{NBSP}: pas de connexion. Votre texte est "
        f"toujours là{NBSP}; continuez d’écrire.",
        "data-passage-button": "Commenter le passage sélectionné",
    },
}
SCRIPT_OF = {name: "limits.js" for name in WORDS["en"] if name.startswith("data-limit")}
SCRIPT_OF |= {name: "autosave.js" for name in WORDS["en"] if "limit" not in name}
SCRIPT_OF["data-passage-button"] = "passage.js"
HEADERS = {"en": {"Accept-Language": "en-GB"}, "fr": FRENCH}


def attributes(page: str, element_id: str) -> dict[str, str]:
    """The data-* attributes of the element with this id."""
    tag = re.search(rf'<[a-z]+ [^>]*\bid="{re.escape(element_id)}"[^>]*>', page)
    assert tag, element_id
    return {k: html.unescape(v) for k, v in re.findall(r'(data-[a-z-]+)="([^"]*)"', tag[0])}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_scripts_find_their_words_in_the_page_language(clinic: Clinic, language: str) -> None:
    offer_french(clinic)
    b = clinic.world.browser(clinic.patient)
    headers = HEADERS[language]
    form = b.get(f"/courses/{clinic.course.id}/entries/new?phase=integration", headers=headers)
    page = form.get_data(as_text=True)
    assert f'<html lang="{language}"' in page
    found = attributes(page, "body-limit") | attributes(page, "autosave-status")
    created = b.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past))
    entry = b.get(f"/entries/{new_entry_id(created.location)}", headers=headers)
    found |= attributes(entry.get_data(as_text=True), "entry-text")
    assert {k: v for k, v in found.items() if k in WORDS[language]} == WORDS[language]
    if language == "en":  # without the attributes, a script writes the English page's words
        for name, english in WORDS["en"].items():
            script = (JS / SCRIPT_OF[name]).read_text()
            assert f'"{name}"' in script and f'"{english}"' in script, (name, script)


def test_the_audit_csv_is_in_the_admins_language(clinic: Clinic) -> None:
    offer_french(clinic)
    b = clinic.world.browser(clinic.admin)
    started = clinic.course.started_on
    english = b.get("/admin/audit.csv", headers=HEADERS["en"]).get_data(as_text=True)
    assert english.startswith(
        "time (UTC),who,who's email,role,what happened,action code,object type,object id,"
        "object's email,concerning,concerning email,patient id,outcome,address,sequence\r\n"
    )
    course = f"{clinic.patient.name} from {started.day} {started:%b %Y}"
    assert f"Set up the course of {course}" in english
    french = b.get("/admin/audit.csv", headers=FRENCH).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(french)))
    assert rows[0][:5] == ["heure (UTC)", "qui", "e-mail (qui)", "rôle", "ce qui s’est passé"]
    said = {row[4] for row in rows[1:]}
    day = format_date(started, "d MMM y", locale="fr")
    assert f"A créé le parcours de {clinic.patient.name} commencé le {day}" in said
    assert "Signed in" not in said and "Set up" not in french


def test_english_words_of_the_trail_read_as_the_domain_wrote_them(clinic: Clinic) -> None:
    """The trail's words through the English catalogue are the English they were
    marked with, and each sentence names its record."""
    world = clinic.world
    world.user(Role.PATIENT)  # an account made: an event naming a person
    trail = audit_trail.page(world.as_(clinic.admin), audit_trail.Filters())
    english = Words("en")
    assert trail.rows
    for row in trail.rows:
        sentence = audit_trail.said_sentence(english, row)
        assert "{object}" not in sentence and "%(" not in sentence
        if row.what is not None:
            assert audit_trail.said(english, row.what) == row.what and row.what in sentence
        assert audit_trail.said(english, row.who) == row.who
        if row.concerning is not None:
            assert audit_trail.said(english, row.concerning) == row.concerning
