"""An erasure's reason is sealed: a copy of the database shows that a patient was
erased, by whom and when, but not why. The patient's keys go with the erasure, so
the reason is sealed with the erasing admin's key, and admins read it back."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from journal.accounts import erasure
from journal.bootstrap import initialise
from journal.config import Settings
from journal.core.errors import Forbidden
from journal.crypto import blob_key_id
from journal.keyrotation import rotate_data_keys, verify_all
from journal.models import DataKey, Erasure, KeyScope
from tests.conftest import PG_URL, Clinic, runtime


def _reason() -> str:
    return f"Asked in writing to be forgotten {uuid.uuid4().hex[:10]}"


def _erase(clinic: Clinic, reason: str) -> None:
    admin = clinic.world.browser(clinic.admin)
    form = {"reason": reason, "confirm_email": clinic.patient.email}
    r = admin.post(f"/admin/users/{clinic.patient.id}/erase", form)
    assert r.status_code == 302, r.get_data(as_text=True)


def _stored(clinic: Clinic) -> dict[str, object]:
    """The erasure's row as the database holds it, through plain SQL."""
    with runtime(clinic.world.app).database.session() as s:
        (row,) = s.execute(text("SELECT * FROM erasures")).mappings()
        return dict(row)


def _sealed(row: dict[str, object]) -> bytes:
    blob = row["reason"]
    assert isinstance(blob, bytes | memoryview), blob
    return bytes(blob)


def _read_back(clinic: Clinic) -> list[tuple[str | None, str]]:
    world = clinic.world
    records = erasure.erasure_records(world.as_(clinic.admin))
    world.commit()
    return [(r.erased_by, r.reason) for r in records]


def test_the_reason_is_sealed_with_the_admins_key_and_admins_read_it(clinic: Clinic) -> None:
    reason = _reason()
    _erase(clinic, reason)

    row = _stored(clinic)
    assert not [k for k, v in row.items() if reason in str(v)]
    assert row["legacy_reason"] is None
    blob = _sealed(row)
    assert reason.encode() not in blob
    with runtime(clinic.world.app).database.session() as s:
        key = s.get(DataKey, blob_key_id(blob))
        assert key is not None
        assert (key.owner_id, key.scope) == (clinic.admin.id, KeyScope.ADMIN)

    assert _read_back(clinic) == [(clinic.admin.name, reason)]
    # Another admin reads it too; no one else does.
    other_admin = clinic.world.user(clinic.admin.role)
    assert [r.reason for r in erasure.erasure_records(clinic.world.as_(other_admin))] == [reason]
    for someone in (clinic.clinician, clinic.other_patient):
        with pytest.raises(Forbidden):
            erasure.erasure_records(clinic.world.as_(someone))


@pytest.mark.security_review(finding=8)
@pytest.mark.skipif(bool(PG_URL), reason="PostgreSQL keeps its files out of this test's reach")
def test_no_copy_of_the_reason_is_in_the_database_files(clinic: Clinic, settings: Settings) -> None:
    reason = _reason()
    _erase(clinic, reason)  # the erasure checkpoints the write-ahead log once committed
    path = Path(settings.database_url.removeprefix("sqlite:///"))
    for stored in (path, Path(f"{path}-wal")):
        if stored.exists():
            assert reason.encode() not in stored.read_bytes(), stored.name


def test_the_reason_survives_a_rotation_of_the_admins_key(clinic: Clinic) -> None:
    reason = _reason()
    _erase(clinic, reason)
    before = _sealed(_stored(clinic))
    rt = runtime(clinic.world.app)
    rotate_data_keys(rt.database, rt.ring, [clinic.admin.id])
    assert _sealed(_stored(clinic)) != before
    assert _read_back(clinic) == [(clinic.admin.name, reason)]
    _, failures = verify_all(rt.database, rt.ring)
    assert failures == []


def test_init_seals_reasons_stored_in_clear_by_earlier_versions_once(
    clinic: Clinic, settings: Settings
) -> None:
    reason = _reason()
    _erase(clinic, reason)
    # The record as versions before 0013 kept it: the reason in clear.
    with runtime(clinic.world.app).database.session(write=True) as s:
        s.execute(update(Erasure).values(reason=None, legacy_reason=reason))
        s.commit()
    assert _read_back(clinic) == [(clinic.admin.name, reason)]  # readable meanwhile

    assert "sealed 1 erasure reasons" in initialise(settings)
    row = _stored(clinic)
    assert row["legacy_reason"] is None
    assert reason.encode() not in _sealed(row)
    assert _read_back(clinic) == [(clinic.admin.name, reason)]
    if not PG_URL:
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        stored = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert reason.encode() not in stored  # nor in a freed page or the -wal file

    assert not [m for m in initialise(settings) if "erasure" in m]  # nothing left to do
    assert _sealed(_stored(clinic)) == _sealed(row)
    with runtime(clinic.world.app).database.session() as s:
        assert s.scalars(select(Erasure.legacy_reason)).all() == [None]


def test_admins_read_the_reason_on_the_erasures_page_and_nobody_else_opens_it(
    clinic: Clinic,
) -> None:
    reason = _reason()
    _erase(clinic, reason)
    page = clinic.world.browser(clinic.admin).text("/admin/erasures")
    assert reason in page and clinic.admin.name in page
    assert clinic.patient.email not in page  # the erased patient is gone, name and all
    for someone in (clinic.clinician, clinic.other_patient):
        assert clinic.world.browser(someone).get("/admin/erasures").status_code == 403
