"""Invitations and password resets by a one-time link sent to the person.

Nobody but the person ever sees or sets their password: the admin creates an
account and the journal e-mails its owner a link to choose one; a reset is a link
to the account's own address, asked for by the person ("forgot my password") or
by the admin for them. The password stays as it was until the link is used, so a
reset asked for by someone else locks nobody out. The server's operator can make
a link from the command line (`flask --app journal password-link`), audited: the
fallback when e-mail does not work.

A link's token is 32 random bytes; only its SHA-256 is stored (a token that long
needs no slow hash), so a copy of the database holds no usable link.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.accounts import (
    _validate_identity,
    end_other_sessions,
    expire_password_links,
    normalise_email,
)
from journal.accounts.passwords import Passwords, password_problem
from journal.accounts.policy import administers, require
from journal.core.catalogues import reader_words
from journal.core.errors import NotFound, ValidationError
from journal.core.labels import N_
from journal.core.mail import LINK, Mail
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import PasswordLink, Referral, Role, User

RESET_HOURS = 1
RESETS_PER_DAY = 10  # per account: a stranger cannot use up a person's own resets
# quickly (the form allows 3 an hour per address asked about), and no mail bomb
INVITE = "invite"
RESET = "reset"


@dataclass(frozen=True)
class OpenLink:
    """A link that can still be used, and whose account it is (for the page's greeting)."""

    link: PasswordLink
    user: User


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewLink:
    id: uuid.UUID
    token: str  # only ever in the message to the person (or the operator's terminal)


def _make_link(
    work: Work, user: User, purpose: str, by: uuid.UUID | None, now: datetime
) -> NewLink:
    """A new link for the account; an older unused link of the same purpose stops working."""
    db, invite_hours = work.db, work.settings.invitation_hours
    db.execute(
        update(PasswordLink)
        .where(
            PasswordLink.user_id == user.id,
            PasswordLink.purpose == purpose,
            PasswordLink.used_at.is_(None),
        )
        .values(used_at=now)
    )
    # A link sent by e-mail gets its real secret from the worker as it sends
    # (`issue_token`); until then it opens with nothing anyone has.
    token = secrets.token_urlsafe(32)
    life = timedelta(hours=invite_hours if purpose == INVITE else RESET_HOURS)
    link_id = new_id()
    db.add(
        PasswordLink(
            id=link_id,
            user_id=user.id,
            token_hash=_hash(token),
            purpose=purpose,
            created_at=now,
            expires_at=now + life,
            created_by=by,
        )
    )
    return NewLink(link_id, token)


def issue_token(db: Session, link_id: uuid.UUID) -> str | None:
    """A fresh secret for a link about to be e-mailed, or None if the link can no
    longer be used (used, replaced or out of time). Each attempt to send makes a new
    one, so only the copy that reaches the person works."""
    token = secrets.token_urlsafe(32)
    changed = db.execute(
        update(PasswordLink)
        .where(
            PasswordLink.id == link_id,
            PasswordLink.used_at.is_(None),
            PasswordLink.expires_at > utcnow(),
        )
        .values(token_hash=_hash(token))
    )
    return token if cast("CursorResult[Any]", changed).rowcount else None


def hours_text(hours: int) -> str:
    if hours % 24 == 0 and hours >= 48:
        return N_("%(num)s days", num=hours // 24)
    return N_("1 hour") if hours == 1 else N_("%(num)s hours", num=hours)


def link_url(base_url: str, token: str) -> str:
    return f"{base_url}/password/{token}"


def _invitation(work: Work, user: User, link: NewLink) -> Mail:
    clinic = work.settings.clinic_name
    w = reader_words(work.settings, user.language)
    return Mail(
        kind=INVITE,
        key=f"{INVITE}:{link.id}",
        user_id=user.id,
        link_id=link.id,
        to=user.email,
        subject=w(N_("Your account at %(clinic)s"), clinic=clinic),
        body=(
            w(N_("Hello %(name)s,"), name=user.name)
            + "\n\n"
            + w(
                N_(
                    "%(clinic)s has made you an account in its journal. To start, choose "
                    "your own password here (the link works once, for %(time)s):"
                ),
                clinic=clinic,
                time=w(hours_text(work.settings.invitation_hours)),
            )
            + f"\n\n{LINK}\n\n"
            + w(
                N_(
                    "Nobody at the clinic sees your password or this link. If you did not "
                    "expect this message, you can ignore it."
                )
            )
            + "\n"
        ),
    )


def _reset(work: Work, user: User, link: NewLink) -> Mail:
    w = reader_words(work.settings, user.language)
    return Mail(
        kind=RESET,
        key=f"{RESET}:{link.id}",
        user_id=user.id,
        link_id=link.id,
        to=user.email,
        subject=w(N_("Choose a new password for %(clinic)s"), clinic=work.settings.clinic_name),
        body=(
            w(N_("Hello %(name)s,"), name=user.name)
            + "\n\n"
            + w(
                N_(
                    "Someone asked for a new password for your account. To choose one, "
                    "use this link (it works once, for %(time)s):"
                ),
                time=w(hours_text(RESET_HOURS)),
            )
            + f"\n\n{LINK}\n\n"
            + w(
                N_(
                    "Your password stays as it is until you use the link. If you did not "
                    "ask for this, you can ignore this message."
                )
            )
            + "\n"
        ),
    )


@atomic
def invite(
    work: Work,
    passwords: Passwords,
    *,
    email: str,
    name: str,
    role: Role,
    refer_to: str = "",
) -> User:
    """The admin makes an account; its owner is e-mailed a link to choose a password.
    A patient may be referred to a clinician, who can then open a course for them."""
    require(administers(work.actor.user))
    email = normalise_email(email)
    _validate_identity(work.db, email, name)
    clinician = None
    if refer_to.strip():
        if role != Role.PATIENT:
            raise ValidationError({"refer_to": N_("Only a patient is referred to a clinician.")})
        clinician = work.db.scalar(
            select(User).where(User.email == normalise_email(refer_to), User.role == Role.CLINICIAN)
        )
        if clinician is None or not clinician.active:
            raise ValidationError({"refer_to": N_("No active clinician account has this email.")})
    user = User(
        id=new_id(),
        email=email,
        name=name.strip(),
        role=role,
        # Nobody knows this password: the account opens only through the link.
        password_hash=passwords.hash(secrets.token_urlsafe(32)),
        must_change_password=False,
        active=True,
    )
    work.db.add(user)
    work.db.flush()
    audit.record(work.db, "user.create", actor=work.actor, object_type="user", object_id=user.id)
    if clinician is not None:
        refer(work, user, clinician)
    link = _make_link(work, user, INVITE, work.actor.id, utcnow())
    audit.record(work.db, "user.invite", actor=work.actor, object_type="user", object_id=user.id)
    work.send_mail(_invitation(work, user, link))
    return user


def refer(work: Work, patient: User, clinician: User, *, operator: bool = False) -> None:
    """Record the intake's referral: by the admin, or by the server's operator (the
    command line, with no one signed in)."""
    by = None if operator else work.actor
    if work.db.get(Referral, (patient.id, clinician.id)) is None:
        work.db.add(
            Referral(
                patient_id=patient.id, clinician_id=clinician.id, created_by=by.id if by else None
            )
        )
    audit.record(
        work.db,
        "patient.refer",
        actor=by,
        object_type="user",
        object_id=clinician.id,
        subject_id=patient.id,
    )


@atomic
def send_link(work: Work, user_id: uuid.UUID) -> str:
    """The admin sends a person a new link: an invitation again if they never signed
    in, otherwise a reset. Returns which it was; the link goes only to the person."""
    require(administers(work.actor.user))
    user = work.db.get(User, user_id)
    if user is None:
        raise NotFound()
    if not user.active:
        raise ValidationError({"user": N_("Reactivate the account before sending it a link.")})
    purpose = INVITE if user.last_login_at is None else RESET
    link = _make_link(work, user, purpose, work.actor.id, utcnow())
    audit.record(
        work.db, f"user.{purpose}_link", actor=work.actor, object_type="user", object_id=user.id
    )
    work.send_mail((_invitation if purpose == INVITE else _reset)(work, user, link))
    return purpose


@atomic
def request_reset(work: Work, email: str, address: str | None) -> None:
    """ "Forgot my password": a reset link to the address, if it is an active account's
    and it has not had too many today. The answer to the asker is the same either way."""
    user = work.db.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.active:
        return
    since = utcnow() - timedelta(days=1)
    recent = work.db.scalar(
        select(func.count())
        .select_from(PasswordLink)
        .where(
            PasswordLink.user_id == user.id,
            PasswordLink.purpose == RESET,
            PasswordLink.created_at >= since,
        )
    )
    if (recent or 0) >= RESETS_PER_DAY:
        audit.record(
            work.db, "password.reset_request", user=user, outcome="refused", address=address
        )
        return
    link = _make_link(work, user, RESET, None, utcnow())
    audit.record(work.db, "password.reset_request", user=user, address=address)
    work.send_mail(_reset(work, user, link))


def open_link(db: Session, token: str) -> OpenLink | None:
    """The link's account, if the link is unused and in time."""
    if not token or len(token) > 100:
        return None
    link = db.scalar(select(PasswordLink).where(PasswordLink.token_hash == _hash(token)))
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    user = db.get(User, link.user_id)
    if user is None or not user.active:
        return None
    return OpenLink(link, user)


@atomic
def choose_password(
    db: Session, passwords: Passwords, token: str, password: str, address: str | None
) -> User:
    """The person sets their password through the link: it works once, and every
    signed-in browser of the account is signed out."""
    found = open_link(db, token)
    if found is None:
        raise NotFound()
    user = found.user
    if problem := password_problem(password, email=user.email):
        raise ValidationError({"password": problem})
    # Claim the link first: of two uses at the same moment, only one gets it.
    claimed = db.execute(
        update(PasswordLink)
        .where(PasswordLink.id == found.link.id, PasswordLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if not cast("CursorResult[Any]", claimed).rowcount:
        raise NotFound()
    user.password_hash = passwords.hash(password)
    user.must_change_password = False
    expire_password_links(db, user.id)
    end_other_sessions(db, user.id, keep=None)
    audit.record(db, f"password.set_by_{found.link.purpose}", user=user, address=address)
    return user


@atomic
def operator_link(work: Work, email: str) -> tuple[User, str]:
    """For the server's operator (the command line), when e-mail does not work: a link
    for the account, audited. Returns the account and the link to pass on in person."""
    user = work.db.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.active:
        raise ValidationError({"email": N_("No active account has this email.")})
    purpose = INVITE if user.last_login_at is None else RESET
    link = _make_link(work, user, purpose, None, utcnow())
    audit.record(
        work.db, f"user.{purpose}_link", object_type="user", object_id=user.id, outcome="cli"
    )
    return user, link_url(work.settings.base_url, link.token)
