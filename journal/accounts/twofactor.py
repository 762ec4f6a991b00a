"""Two-factor sign-in with TOTP (RFC 6238) and one-time recovery codes.

Required for clinicians and admins, optional for patients. The TOTP secret is
encrypted with the user's own data key; recovery codes are stored as SHA-256
hashes (they are long random strings, so a fast hash is enough). A code is
accepted at most once: the last accepted 30-second step is remembered.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid

import pyotp
import segno
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.accounts import end_other_sessions
from journal.accounts.passwords import Passwords
from journal.accounts.policy import works_at_the_clinic
from journal.core.errors import ValidationError
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import RecoveryCode, TotpCredential, User

ISSUER = "KAP journal"
STEP_SECONDS = 30
RECOVERY_CODES = 10


def required_for(user: User) -> bool:
    return works_at_the_clinic(user)


def needs_enrolment(user: User) -> bool:
    return required_for(user) and not user.two_factor_enabled


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


def _credential(db: Session, user_id: uuid.UUID) -> TotpCredential | None:
    return db.scalar(select(TotpCredential).where(TotpCredential.user_id == user_id))


@atomic
def begin_enrolment(work: Work) -> str:
    """Make a new, unconfirmed secret (replacing any unconfirmed one); return it."""
    existing = _credential(work.db, work.actor.id)
    if existing is not None and existing.confirmed_at is not None:
        raise ValidationError({"code": "Two-factor sign-in is already set up."})
    if existing is not None:
        work.db.delete(existing)
        work.db.flush()
    secret = pyotp.random_base32()
    cred = TotpCredential(id=new_id(), user_id=work.actor.id, version=1, last_used_step=0)
    cred.secret = work.vault.seal_column(cred, "secret", work.actor.id, secret)
    work.db.add(cred)
    return secret


def pending_secret(work: Work) -> str | None:
    cred = _credential(work.db, work.actor.id)
    if cred is None or cred.confirmed_at is not None:
        return None
    return work.vault.open_column(cred, "secret", work.actor.id)


def provisioning_svg(secret: str, account: str) -> str:
    """The QR code for authenticator apps, as inline SVG (no outside service)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)
    svg: str = segno.make(uri, error="m").svg_inline(scale=5, dark="#1f2a2a", light="#ffffff")
    return svg


def _accept_totp(cred: TotpCredential, secret: str, code: str, now: float) -> bool:
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):  # allow a little clock drift
        if step > cred.last_used_step and hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            cred.last_used_step = step
            return True
    return False


@atomic
def confirm_enrolment(
    work: Work,
    code: str,
    now: float | None = None,
    *,
    keep: uuid.UUID | None = None,
) -> list[str]:
    """Check the first code from the app, switch two-factor on, return recovery codes.

    Every other sign-in of the account ends (`keep`: the one doing this): a session
    opened with the password alone must not outlive the second factor."""
    cred = _credential(work.db, work.actor.id)
    if cred is None or cred.confirmed_at is not None:
        raise ValidationError({"code": "Start the set-up again."})
    secret = work.vault.open_column(cred, "secret", work.actor.id)
    if not _accept_totp(cred, secret, code, time.time() if now is None else now):
        raise ValidationError({"code": "That code did not match. Check the time on your phone."})
    cred.confirmed_at = utcnow()
    work.actor.user.two_factor_enabled = True
    codes = _new_recovery_codes(work.db, work.actor.id)
    end_other_sessions(work.db, work.actor.id, keep)
    audit.record(
        work.db, "two_factor.enable", actor=work.actor, object_type="user", object_id=work.actor.id
    )
    return codes


def _new_recovery_codes(db: Session, user_id: uuid.UUID) -> list[str]:
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)  # 40 bits each, shown as xxxxx-xxxxx
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.add(RecoveryCode(id=new_id(), user_id=user_id, code_hash=_hash_code(raw)))
    return codes


@atomic
def verify(db: Session, vault: Vault, user: User, code: str, now: float | None = None) -> bool:
    """Check a TOTP code or an unused recovery code; either is used up on success."""
    cred = _credential(db, user.id)
    if cred is None or cred.confirmed_at is None:
        return False
    secret = vault.open_column(cred, "secret", user.id)
    if _accept_totp(cred, secret, code, time.time() if now is None else now):
        return True
    wanted = _hash_code(code)
    for row in db.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ):
        if hmac.compare_digest(row.code_hash, wanted):
            row.used_at = utcnow()
            audit.record(
                db, "two_factor.recovery_code", user=user, object_type="user", object_id=user.id
            )
            return True
    return False


def remaining_recovery_codes(db: Session, user_id: uuid.UUID) -> int:
    return (
        db.scalar(
            select(func.count()).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


@atomic
def remove(
    work: Work,
    passwords: Passwords,
    *,
    password: str,
    code: str,
    keep_session: uuid.UUID | None,
) -> None:
    """Drop the second factor (a new phone, or a lost one: then a recovery code). Needs
    the password and the second factor once more, and ends every other session;
    clinicians and admins must then set up a new one."""
    if not passwords.verify(work.actor.user.password_hash, password):
        raise ValidationError({"password": "That is not your current password."})
    if not verify(work.db, work.vault, work.actor.user, code):
        raise ValidationError(
            {"code": "That code did not work. Use a code from your app or a recovery code."}
        )
    work.db.execute(delete(TotpCredential).where(TotpCredential.user_id == work.actor.id))
    work.db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == work.actor.id))
    work.actor.user.two_factor_enabled = False
    end_other_sessions(work.db, work.actor.id, keep=keep_session)
    audit.record(
        work.db, "two_factor.remove", actor=work.actor, object_type="user", object_id=work.actor.id
    )
