from __future__ import annotations

from flask import Flask
from sqlalchemy import delete

from journal.models import DataKey, MasterKeyRecord
from tests.conftest import committing, runtime


def test_healthz_answers_ok_without_login(app: Flask) -> None:
    r = app.test_client().get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "database": "ok", "keys": "ok"}


def test_healthz_answers_503_when_the_keys_do_not_match(app: Flask) -> None:
    with committing(runtime(app)) as db:
        db.execute(delete(DataKey))
        db.execute(delete(MasterKeyRecord))
        db.commit()
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.get_json() == {"status": "unavailable"}
