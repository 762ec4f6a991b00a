"""The command line speaks the terminal's language (LC_ALL, LC_MESSAGES, LANG) when the
clinic offers it, else the clinic's default."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select, update

from journal.cli import init_command
from journal.config import Settings
from journal.core.catalogues import terminal_language
from journal.models import AuditEvent
from tests.conftest import Clinic, committing, runtime
from tests.helpers import PASSWORD

NBSP = "\u00a0"
SETTINGS = Settings(
    instance_path=Path("instance"),
    database_url="sqlite:///journal.sqlite3",
    master_key_path=Path("instance/keys/master.json"),
    secret_key_path=Path("instance/secret_key"),
)
BOTH = ("en", "fr")
# Only the variables given: the tests' own terminal may name another language.
NO_LOCALE: dict[str, str | None] = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": None}


@pytest.mark.parametrize(
    ("environ", "languages", "default", "expected"),
    [
        ({"LANG": "fr_CA.UTF-8"}, BOTH, "en", "fr"),
        ({"LANG": "fr"}, BOTH, "en", "fr"),
        (
            {"LC_ALL": "", "LC_MESSAGES": "fr_BE@euro", "LANG": "en_US.UTF-8"},
            ("en", "fr"),
            "en",
            "fr",
        ),
        ({"LC_ALL": "C", "LANG": "fr_FR.UTF-8"}, BOTH, "en", "en"),
        ({"LANG": "POSIX"}, BOTH, "fr", "fr"),
        ({"LANG": "C.UTF-8"}, BOTH, "fr", "fr"),
        ({"LANG": "de_DE.UTF-8"}, BOTH, "en", "en"),
        ({"LANG": "fr_FR.UTF-8"}, ("en",), "en", "en"),
        ({}, BOTH, "fr", "fr"),
    ],
)
def test_the_terminal_language_among_those_the_clinic_offers(
    environ: dict[str, str], languages: tuple[str, ...], default: str, expected: str
) -> None:
    settings = replace(SETTINGS, languages=languages, default_language=default)
    assert terminal_language(settings, environ) == expected


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({"LANG": "fr_FR.UTF-8"}, "fr"), ({"LANG": "de_DE.UTF-8"}, "en"), ({"LANG": "C"}, "en")],
)
def test_without_settings_any_language_with_a_catalogue(
    environ: dict[str, str], expected: str
) -> None:
    assert terminal_language(None, environ) == expected


def test_messages_in_french_with_a_french_terminal(app: Flask) -> None:
    runner = app.test_cli_runner()
    french = {**NO_LOCALE, "LANG": "fr_FR.UTF-8"}
    intact = runner.invoke(args=["audit", "verify"], env=french)
    assert intact.exit_code == 0, intact.output
    assert intact.output.startswith(f"journal d’audit intact (événements{NBSP}: ")
    missing = runner.invoke(
        args=["create-course", "--patient", "p@clinic.example", "--clinician", "x@clinic.example"],
        env=french,
    )
    assert missing.exit_code != 0
    assert "aucun compte de thérapeute pour x@clinic.example" in missing.output
    created = runner.invoke(
        args=["create-user", "--role", "patient", "--email", "f@clinic.example", "--name", "F"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        env=french,
    )
    assert created.exit_code == 0, created.output
    assert "Mot de passe" in created.output
    assert f"compte patient créé{NBSP}: f@clinic.example (" in created.output


@pytest.mark.parametrize("lang", ["C", "en_US.UTF-8", "de_DE.UTF-8"])
def test_messages_stay_in_english_otherwise(app: Flask, lang: str) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"], env={**NO_LOCALE, "LANG": lang})
    assert result.exit_code == 0, result.output
    assert result.output.startswith("audit trail intact: ")


@pytest.mark.parametrize(
    ("setting", "english", "french"),
    [
        ({"JOURNAL_PDF_PAGE_SIZE": "a5"}, "pdf_page_size must be a4 or letter", "doit valoir a4"),
        (  # numbers as the operator wrote them, without a thousands mark
            {"JOURNAL_BP_ANY_SYSTOLIC": "1000"},
            "bp_any_systolic must be from 60 to 300, not 1000",
            "bp_any_systolic doit être compris entre 60 et 300, pas 1000",
        ),
    ],
)
def test_a_settings_problem_in_the_terminals_language(
    tmp_path: Path, setting: dict[str, str], english: str, french: str
) -> None:
    env = {**NO_LOCALE, "JOURNAL_INSTANCE_PATH": str(tmp_path), **setting}
    for lang, expected in (("C", english), ("fr_FR.UTF-8", french)):
        result = CliRunner().invoke(init_command, env={**env, "LANG": lang})
        assert result.exit_code == 1 and expected in result.output, result.output
    assert not any(tmp_path.iterdir())  # refused before making anything


def test_a_broken_audit_trail_is_told_in_french(clinic: Clinic) -> None:
    admin = clinic.world.browser(clinic.admin)
    admin.text("/admin/audit")
    with committing(runtime(clinic.world.app)) as db:
        seq = db.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).first()
        db.execute(update(AuditEvent).where(AuditEvent.seq == seq).values(outcome="failure"))
        db.commit()
    page = admin.get("/admin/audit/verify", headers={"Accept-Language": "fr"})
    assert f"l’événement {seq} a été modifié." in page.get_data(as_text=True)
    french = {**NO_LOCALE, "LANG": "fr_FR.UTF-8"}
    result = clinic.world.app.test_cli_runner().invoke(args=["audit", "verify"], env=french)
    assert result.exit_code == 1 and f"l’événement {seq} a été modifié" in result.output
