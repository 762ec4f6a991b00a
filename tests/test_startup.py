"""Checklist 6 and 8: the app refuses to start without the right keys and says why; a new
SECRET_KEY signs everyone out and leaves every entry readable."""

from __future__ import annotations

import secrets
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from flask import Flask

from journal import create_app
from journal.config import ConfigError, Settings
from journal.crypto import MasterKeyRing, create_key_file
from journal.crypto.keys import new_data_key
from tests.conftest import Clinic, entry_form, new_entry_id, register_keys, runtime
from tests.helpers import Browser

COOKIE = "journal_session"


def _start(settings: Settings) -> None:
    """Build the app and take it down again: it must start."""
    app = create_app(settings)
    runtime(app).database.dispose()


def _refuses(settings: Settings, why: str) -> ConfigError:
    with pytest.raises(ConfigError, match=why) as caught:
        app = create_app(settings)
        runtime(app).database.dispose()  # only reached if it wrongly started
    return caught.value


@pytest.fixture
def registered(settings: Settings) -> Settings:
    """An initialised instance whose key is registered: it starts as it is."""
    register_keys(settings)
    _start(settings)
    return settings


@pytest.fixture
def restore_key(settings: Settings) -> bytes:
    """The key file as it was, to put back and show that the app then starts again."""
    return settings.master_key_path.read_bytes()


def _put_back(settings: Settings, original: bytes) -> None:
    path = settings.master_key_path
    path.unlink(missing_ok=True)
    path.write_bytes(original)
    path.chmod(0o600)
    path.parent.chmod(0o700)


# -- checklist 6: the master key -----------------------------------------------


def test_starts_with_its_own_key(registered: Settings) -> None:
    app = create_app(registered)
    try:
        assert app.extensions["journal"].ring == MasterKeyRing.load(registered.master_key_path)
    finally:
        runtime(app).database.dispose()


def test_refuses_a_missing_master_key(registered: Settings, restore_key: bytes) -> None:
    registered.master_key_path.unlink()
    error = _refuses(registered, "master key file .* is missing")
    assert str(registered.master_key_path) in str(error)
    assert "init" in str(error)  # says what to run
    _put_back(registered, restore_key)
    _start(registered)


def test_refuses_a_master_key_readable_by_others(registered: Settings, restore_key: bytes) -> None:
    for mode in (0o644, 0o640, 0o604):
        registered.master_key_path.chmod(mode)
        error = _refuses(registered, f"master key file .* has permissions {mode:o}")
        assert "600" in str(error)
    _put_back(registered, restore_key)
    _start(registered)


def test_refuses_a_key_directory_open_to_others(registered: Settings, restore_key: bytes) -> None:
    for mode in (0o755, 0o750, 0o711):
        registered.master_key_path.parent.chmod(mode)
        error = _refuses(registered, f"key directory .* has permissions {mode:o}")
        assert "700" in str(error)
    _put_back(registered, restore_key)
    _start(registered)


def test_refuses_a_malformed_master_key_file(registered: Settings, restore_key: bytes) -> None:
    registered.master_key_path.write_text('{"format": 1, "active": "mk-x", "keys": []}')
    _refuses(registered, "malformed")
    _put_back(registered, restore_key)
    _start(registered)


def test_refuses_a_different_key_file_before_any_data(
    registered: Settings, restore_key: bytes
) -> None:
    registered.master_key_path.unlink()
    replacement = create_key_file(registered.master_key_path)
    error = _refuses(registered, "not registered")
    assert replacement.active_id in str(error)
    _put_back(registered, restore_key)
    _start(registered)


def test_refuses_a_different_key_file_once_data_is_wrapped(
    clinic: Clinic, settings: Settings
) -> None:
    """With patients' data keys wrapped by the old master key, a new key file is refused."""
    original = settings.master_key_path.read_bytes()
    old = MasterKeyRing.load(settings.master_key_path)
    settings.master_key_path.unlink()
    create_key_file(settings.master_key_path)
    error = _refuses(settings, "not in the key file")
    assert old.active_id in str(error)
    assert old.active_key.hex() not in str(error)
    _put_back(settings, original)
    _start(settings)


def test_refuses_a_forged_key_under_the_same_id(clinic: Clinic, settings: Settings) -> None:
    """Same key id, other key bytes: the stored check value catches it."""
    original = settings.master_key_path.read_bytes()
    old = MasterKeyRing.load(settings.master_key_path)
    settings.master_key_path.unlink()
    MasterKeyRing(active_id=old.active_id, keys={old.active_id: new_data_key()}).save(
        settings.master_key_path
    )
    _refuses(settings, "does not match")
    _put_back(settings, original)
    _start(settings)


def test_refuses_a_key_file_missing_a_key_still_in_use(clinic: Clinic, settings: Settings) -> None:
    """A rotated key file that dropped the old key while data keys still use it."""
    original = settings.master_key_path.read_bytes()
    old = MasterKeyRing.load(settings.master_key_path)
    settings.master_key_path.unlink()
    MasterKeyRing(active_id="mk-newer", keys={"mk-newer": new_data_key()}).save(
        settings.master_key_path
    )
    error = _refuses(settings, "not in the key file")
    assert old.active_id in str(error)
    _put_back(settings, original)
    _start(settings)


# -- the secret key and the database ---------------------------------------------


def test_refuses_a_missing_secret_key(registered: Settings) -> None:
    registered.secret_key_path.unlink()
    error = _refuses(registered, "secret key file .* is missing")
    assert str(registered.secret_key_path) in str(error)


def test_refuses_a_short_secret_key(registered: Settings) -> None:
    for secret in ("", "tiny-secret-9f8e", "x" * 31, "   " + "y" * 20 + "   \n"):
        registered.secret_key_path.write_text(secret)
        error = _refuses(registered, "secret key in .* is too short")
        if secret.strip():
            assert secret.strip() not in str(error)


def test_accepts_a_secret_key_of_the_minimum_length(registered: Settings) -> None:
    registered.secret_key_path.write_text("z" * 32 + "\n")
    _start(registered)


def test_refuses_a_secret_key_readable_by_others(registered: Settings) -> None:
    registered.secret_key_path.chmod(0o644)
    _refuses(registered, "secret key file .* has permissions 644")


def test_refuses_an_uninitialised_database(registered: Settings, tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    settings = registered.with_changes(database_url=f"sqlite:///{empty}")
    error = _refuses(settings, "not initialised")
    assert "init" in str(error)
    # It refused; it did not quietly create a schema in the empty file either.
    with closing(sqlite3.connect(empty)) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []


# -- checklist 8: a new SECRET_KEY --------------------------------------------------


def _carry_cookie(old: Browser, app: Flask) -> Browser:
    """A browser for `app` holding the old browser's session cookie."""
    cookie = old.client.get_cookie(COOKIE)
    assert cookie is not None and cookie.value
    moved = Browser(app)
    moved.client.set_cookie(COOKIE, cookie.value)
    return moved


def test_a_new_secret_key_signs_everyone_out_and_keeps_entries_readable(
    clinic: Clinic, settings: Settings
) -> None:
    world = clinic.world
    patient, clinician = world.browser(clinic.patient), world.browser(clinic.clinician)
    title = f"Fictional entry {secrets.token_hex(8)}"
    r = patient.post(
        f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past, title=title)
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    url = f"/entries/{new_entry_id(r.location)}"
    assert title in clinician.text(url)

    # Control: the cookies work in a second app built with the same secret.
    same = create_app(settings)
    try:
        for old in (patient, clinician):
            assert title in _carry_cookie(old, same).text(url)
    finally:
        runtime(same).database.dispose()

    settings.secret_key_path.write_text(secrets.token_urlsafe(48) + "\n")
    renewed = create_app(settings)
    try:
        for old, user in ((patient, clinic.patient), (clinician, clinic.clinician)):
            carried = _carry_cookie(old, renewed)
            for path in (url, "/"):
                response = carried.get(path)
                assert response.status_code == 302, path
                assert response.location.endswith("/login"), response.location
                assert title not in response.get_data(as_text=True)
            again = Browser(renewed)
            assert again.login(user.email).status_code == 302
            assert title in again.text(url)
    finally:
        runtime(renewed).database.dispose()


def test_debug_mode_is_refused_outside_development(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_keys(settings)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigError, match="debug mode"):
        create_app(settings)
    app = create_app(settings.with_changes(development=True))
    assert app.debug
    app.extensions["journal"].database.dispose()
