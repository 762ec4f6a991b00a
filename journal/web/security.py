"""Sign-in state, deny-by-default, role checks and security headers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from journal.accounts import audit, twofactor
from journal.accounts.accounts import confirm_identity, is_recent, resume_login_session
from journal.models import LoginSession, Role, User
from journal.web import context

csrf = CSRFProtect()
login_manager = LoginManager()

# Everything else needs a signed-in user.
PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.second_factor",
        "password_links.choose",
        "password_links.forgot",
        "password_links.sent",
        "reminders.off",
        "health.healthz",
        "help.page",  # Get help now: for anyone, signed in or not
        "static",
    }
)
# Reachable while a temporary password still has to be replaced.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password", "auth.logout", "static"})
# Reachable while a clinician or admin still has to set up two-factor sign-in.
ENROLMENT_ENDPOINTS = frozenset(
    {"auth.two_factor", "auth.two_factor_start", "auth.two_factor_confirm", "auth.logout", "static"}
)

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


class SignedIn:
    """The Flask-Login user: an account plus the login session it signed in with."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user: User, login: LoginSession) -> None:
        self.user = user
        self.login = login

    @property
    def is_active(self) -> bool:
        return self.user.active

    def get_id(self) -> str:
        return str(self.login.id)


@login_manager.user_loader
def _load(login_id: str) -> SignedIn | None:
    try:
        parsed = uuid.UUID(login_id)
    except ValueError:
        return None
    found = resume_login_session(context.db(), parsed, context.runtime().session_limits)
    if found is None:
        return None
    login, user = found
    return SignedIn(user, login)


def _require_login() -> Response | None:
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))  # type: ignore[return-value]
    user = current_user.user
    if user.must_change_password and endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        return redirect(url_for("auth.change_password"))  # type: ignore[return-value]
    if (
        not user.must_change_password
        and twofactor.needs_enrolment(user)
        and endpoint not in ENROLMENT_ENDPOINTS
    ):
        return redirect(url_for("auth.two_factor"))  # type: ignore[return-value]
    return None


def _headers(response: Response) -> Response:
    h = response.headers
    h["Content-Security-Policy"] = CSP
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "no-referrer"
    h["X-Frame-Options"] = "DENY"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    if request.endpoint != "static":
        h["Cache-Control"] = "no-store"
        h["Pragma"] = "no-cache"
    if context.runtime().settings.https:
        h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


F = TypeVar("F", bound=Callable[..., Any])


def roles(*allowed: Role) -> Callable[[F], F]:
    """Limit a view to some roles; others get 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if context.user().role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def login_is_recent() -> bool:
    """Whether the current sign-in (or its last re-check) is within the recent window."""
    return is_recent(context.current_login(), context.runtime().session_limits.recent)


def count_failed_check() -> None:
    """A password (or code) just checked was wrong: journal.web.throttle counts it
    against the account's and the address's budgets as the answer leaves."""
    g.failed_check = True


def check_failed() -> bool:
    return bool(g.get("failed_check"))


def rechecked(ok: bool) -> None:
    """A signed-in person's password was checked again: audit it either way (never what
    was typed), and count a failure as a failed sign-in would count."""
    actor = context.actor()
    audit.record(
        context.db(),
        "password.recheck",
        actor=actor,
        object_type="user",
        object_id=actor.id,
        outcome="ok" if ok else "failure",
    )
    if not ok:
        count_failed_check()


def recheck_identity(password: str, code: str) -> bool:
    """Check the password (and the second factor, if the account has one) again;
    on success the login session counts as recent from now."""
    user = context.user()
    db = context.db()
    ok = context.runtime().passwords.verify(user.password_hash, password)
    if ok and user.two_factor_enabled:
        ok = twofactor.verify(db, context.vault(), user, code)
    if ok:
        confirm_identity(db, context.current_login())
    rechecked(ok)
    return ok


def recent_login_required(back_to: str | None = None) -> Callable[[F], F]:
    """Sensitive actions need a sign-in from the last few minutes, or a re-check.

    After the re-check the person returns to `back_to` (the page holding the
    form, for POST actions) or to the page they asked for.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not login_is_recent():
                target = url_for(back_to) if back_to else request.full_path.rstrip("?")
                flash(_("Please confirm it is you to continue."))
                return redirect(url_for("auth.confirm_identity", next=target))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def init_security(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side login session does this job
    app.before_request(_require_login)
    app.after_request(_headers)
