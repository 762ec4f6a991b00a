"""Recovery codes at rest (checklist 16): stored as a keyed hash under a key kept in
the key file, never as a plain SHA-256 a copy of the database could be searched
against; rows stored the old way still work and are keyed in place."""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlalchemy import delete, select, update

from journal.bootstrap import initialise
from journal.config import Settings
from journal.crypto import MasterKeyRing, new_data_key
from journal.db import new_id, utcnow
from journal.keyrotation import rotate_master_key
from journal.models import RecoveryCode, Role, User
from tests.conftest import World, point_at, runtime
from tests.helpers import PASSWORD, Browser, csrf_token, recovery_codes

CODE_RE = re.compile(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>")
COLUMN_LENGTH = RecoveryCode.__table__.c.code_hash.type.length  # type: ignore[attr-defined]


def old_style(code: str) -> str:
    """How recovery codes were stored before they were keyed: SHA-256, in hex."""
    return hashlib.sha256(code.replace("-", "").encode()).hexdigest()


def stored_rows(world: World, user_id: uuid.UUID | None = None) -> dict[str, object]:
    """code_hash -> used_at of the recovery_codes rows, as the database holds them."""
    world.commit()
    query = select(RecoveryCode.code_hash, RecoveryCode.used_at)
    if user_id is not None:
        query = query.where(RecoveryCode.user_id == user_id)
    with runtime(world.app).database.engine.connect() as conn:
        return {row.code_hash: row.used_at for row in conn.execute(query)}


def sign_in_with(app: Flask, email: str, code: str) -> int:
    """Password, then the code; 302 signed in, 200 the code form again."""
    b = Browser(app)
    first = b.post("/login", {"email": email, "password": PASSWORD})
    assert first.status_code == 302 and first.location.endswith("/login/verify")
    page = b.client.get("/login/verify").get_data(as_text=True)
    return b.client.post(
        "/login/verify", data={"csrf_token": csrf_token(page), "code": code}
    ).status_code


def enrol_through_the_web(world: World, user: User) -> list[str]:
    b = world.browser(user)
    assert b.post("/account/two-factor/start").status_code == 302
    secret = re.search(
        r'<code class="secret-key">([A-Z2-7]+)</code>', b.text("/account/two-factor")
    )
    assert secret
    done = b.post("/account/two-factor/confirm", {"code": pyotp.TOTP(secret.group(1)).now()})
    assert done.status_code == 200
    codes = CODE_RE.findall(done.get_data(as_text=True))
    assert len(codes) == 10
    return codes


def store_the_old_way(world: World, user: User, codes: list[str]) -> None:
    """The account's rows as the journal wrote them before codes were keyed."""
    world.db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    for code in codes:
        world.db.add(RecoveryCode(id=new_id(), user_id=user.id, code_hash=old_style(code)))
    world.commit()


@pytest.mark.security_review(finding=7)
def test_enrolment_stores_no_plain_hash_of_any_code(world: World, settings: Settings) -> None:
    patient = world.user(Role.PATIENT)
    codes = enrol_through_the_web(world, patient)
    stored = stored_rows(world, patient.id)
    assert len(stored) == 10
    unkeyed = {old_style(c) for c in codes} | {
        hashlib.sha256(c.encode()).hexdigest() for c in codes
    }
    assert not any(plain in value for value in stored for plain in unkeyed)
    assert all(value.startswith("hmac1:") for value in stored)
    assert all(len(value) <= COLUMN_LENGTH for value in stored)
    assert not any(c.replace("-", "") in value for value in stored for c in codes)
    if settings.database_url.startswith("sqlite:"):  # nor anywhere in the database's files
        on_disk = b"".join(
            path.read_bytes()
            for path in Path(settings.instance_path).glob("journal.sqlite3*")
            if path.is_file()
        )
        assert not any(plain.encode() in on_disk for plain in unkeyed)

    assert sign_in_with(world.app, patient.email, "00000-00000") == 200  # wrong code
    assert sign_in_with(world.app, patient.email, codes[3]) == 302
    assert sign_in_with(world.app, patient.email, codes[3]) == 200  # once only
    assert sign_in_with(world.app, patient.email, codes[4].upper()) == 302  # as typed
    assert len([used for used in stored_rows(world, patient.id).values() if used]) == 2


def test_a_copy_of_the_database_with_another_key_file_does_not_check_codes(
    world: World, settings: Settings
) -> None:
    """The hash is keyed with a secret of the key file: the same database under a key
    file with another audit key cannot tell a right code from a wrong one."""
    clinician = world.user(Role.CLINICIAN)  # enrolled by the factory
    code = recovery_codes(clinician.email)[0]
    world.commit()
    real = MasterKeyRing.load(settings.master_key_path)
    MasterKeyRing(real.active_id, dict(real.keys), new_data_key()).save(settings.master_key_path)
    point_at(world.app, settings)
    assert sign_in_with(world.app, clinician.email, code) == 200
    real.save(settings.master_key_path)
    point_at(world.app, settings)
    assert sign_in_with(world.app, clinician.email, code) == 302


def test_codes_stored_the_old_way_still_work_and_are_keyed_on_use(world: World) -> None:
    clinician = world.user(Role.CLINICIAN)
    codes = recovery_codes(clinician.email)
    store_the_old_way(world, clinician, codes)
    assert set(stored_rows(world, clinician.id)) == {old_style(c) for c in codes}

    assert sign_in_with(world.app, clinician.email, codes[0]) == 302
    stored = stored_rows(world, clinician.id)
    assert all(value.startswith("hmac1:") for value in stored)  # every row keyed now
    assert not set(stored) & {old_style(c) for c in codes}
    assert sign_in_with(world.app, clinician.email, codes[0]) == 200  # used up
    assert sign_in_with(world.app, clinician.email, codes[1]) == 302  # keyed, still works

    other = world.user(Role.CLINICIAN)
    other_codes = recovery_codes(other.email)
    store_the_old_way(world, other, other_codes)
    assert sign_in_with(world.app, other.email, "abcde-12345") == 200  # a wrong code fails
    assert sign_in_with(world.app, other.email, other_codes[5]) == 302


def test_init_keys_every_old_row_once(world: World, settings: Settings) -> None:
    first, second = world.user(Role.CLINICIAN), world.user(Role.ADMIN)
    codes = {u.email: recovery_codes(u.email) for u in (first, second)}
    store_the_old_way(world, first, codes[first.email])
    store_the_old_way(world, second, codes[second.email])
    spent = old_style(codes[first.email][0])
    world.db.execute(
        update(RecoveryCode).where(RecoveryCode.code_hash == spent).values(used_at=utcnow())
    )
    world.commit()

    assert "keyed hashes of 20 recovery codes" in initialise(settings)
    keyed = stored_rows(world)
    assert len(keyed) == 20 and all(value.startswith("hmac1:") for value in keyed)
    assert not set(keyed) & {old_style(c) for c in codes[first.email] + codes[second.email]}
    assert len([used for used in keyed.values() if used]) == 1  # still used
    assert not [m for m in initialise(settings) if "recovery" in m]  # nothing left to do
    assert stored_rows(world) == keyed

    assert sign_in_with(world.app, first.email, codes[first.email][0]) == 200  # was used
    assert sign_in_with(world.app, first.email, codes[first.email][1]) == 302
    assert sign_in_with(world.app, second.email, codes[second.email][9]) == 302


def test_codes_survive_a_master_key_rotation(world: World, settings: Settings) -> None:
    clinician = world.user(Role.CLINICIAN)
    code = recovery_codes(clinician.email)[2]
    world.commit()
    rotation = rotate_master_key(settings, runtime(world.app).database)
    assert rotation.retired  # the old master key is gone from the file
    assert sign_in_with(world.app, clinician.email, code) == 302
