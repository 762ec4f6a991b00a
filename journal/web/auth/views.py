from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from journal.accounts import accounts, twofactor
from journal.core.errors import ValidationError
from journal.core.labels import N_
from journal.models import User
from journal.web import context
from journal.web.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    ConfirmIdentityForm,
    LoginForm,
    RemoveTwoFactorForm,
)
from journal.web.forms import ButtonForm, apply_errors
from journal.web.i18n import translate
from journal.web.security import (
    SignedIn,
    count_failed_check,
    recent_login_required,
    recheck_identity,
    rechecked,
)

bp = Blueprint("auth", __name__)

# One message for every failed sign-in (nothing tells which part was wrong).
LOGIN_FAILED = N_("That email and password do not match an active account.")
PENDING_SECONDS = 300  # time allowed between the password and the second factor


def _sign_in(user: User) -> Response:
    # A fresh cookie at every sign-in: nothing from before carries over.
    session.clear()
    login = accounts.start_login_session(context.db(), user, context.client_address())
    login_user(SignedIn(user, login))
    return redirect(url_for("home.index"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(
            context.db(),
            context.runtime().passwords,
            form.email.data or "",
            form.password.data or "",
            context.client_address(),
        )
        if user is None:
            count_failed_check()
            form.form_errors.append(_(LOGIN_FAILED))
            return render_template("auth/login.html", form=form), 200
        if user.two_factor_enabled:
            session.clear()
            session["pending_user"] = str(user.id)
            session["pending_since"] = int(time.time())
            return redirect(url_for("auth.second_factor"))
        return _sign_in(user)
    return render_template("auth/login.html", form=form)


def pending_user_key() -> str:
    """Whose second factor is being tried (for throttling)."""
    return str(session.get("pending_user", "-"))


def _pending_user() -> User | None:
    raw, since = session.get("pending_user"), session.get("pending_since", 0)
    if not raw or time.time() - since > PENDING_SECONDS:
        return None
    user = context.db().get(User, uuid.UUID(raw))
    return user if user is not None and user.active and user.two_factor_enabled else None


@bp.route("/login/verify", methods=["GET", "POST"])
def second_factor() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    user = _pending_user()
    if user is None:
        flash(_("Please sign in again."))
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        db = context.db()
        if twofactor.verify(db, context.vault(), user, form.code.data or ""):
            return _sign_in(user)
        accounts.record_failed_second_factor(db, user, context.client_address())
        count_failed_check()
        form.code.errors = [_("That code did not work. Codes change every 30 seconds.")]
        return render_template("auth/second_factor.html", form=form), 200
    return render_template("auth/second_factor.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    accounts.end_login_session(context.work(), context.current_login_id())
    logout_user()
    session.clear()
    flash(_("You are signed out."))
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> str | Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                context.work(),
                context.runtime().passwords,
                current=form.current_password.data or "",
                new=form.new_password.data or "",
                keep_session=context.current_login_id(),
            )
        except ValidationError as exc:
            # Only a wrong current password is a failed re-check; a weak new one is not.
            rechecked("current_password" not in exc.errors)
            apply_errors(form, exc)
        else:
            rechecked(True)
            flash(_("Your password is changed. Other devices are signed out."))
            return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", form=form)


def _safe_next(target: str | None) -> str:
    """Only paths on this site: never an open redirect."""
    if not target:
        return url_for("home.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home.index")
    return target


@bp.route("/account/confirm", methods=["GET", "POST"])
def confirm_identity() -> str | Response:
    """Re-enter the password (and code) before sensitive actions."""
    user = context.user()
    form = ConfirmIdentityForm()
    if form.validate_on_submit():
        if recheck_identity(form.password.data or "", form.code.data or ""):
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append(_("That did not match. Please try again."))
    return render_template("auth/confirm.html", form=form, needs_code=user.two_factor_enabled)


@bp.get("/account/two-factor")
def two_factor() -> str:
    actor = context.actor()
    db = context.db()
    pending = None if actor.user.two_factor_enabled else twofactor.pending_secret(context.work())
    qr = Markup(twofactor.provisioning_svg(pending, actor.user.email)) if pending else None  # noqa: S704
    return render_template(
        "auth/two_factor.html",
        secret=pending,
        qr=qr,
        code_form=CodeForm(),
        remove_form=RemoveTwoFactorForm(),
        button=ButtonForm(),
        required=twofactor.required_for(actor.user),
        remaining=twofactor.remaining_recovery_codes(db, actor.id)
        if actor.user.two_factor_enabled
        else 0,
    )


@bp.post("/account/two-factor/start")
@recent_login_required(back_to="auth.two_factor")
def two_factor_start() -> Response:
    try:
        twofactor.begin_enrolment(context.work())
    except ValidationError as exc:
        flash(translate(next(iter(exc.errors.values()))))
    return redirect(url_for("auth.two_factor"))


@bp.post("/account/two-factor/confirm")
@recent_login_required(back_to="auth.two_factor")
def two_factor_confirm() -> str | Response:
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = twofactor.confirm_enrolment(
                context.work(), form.code.data or "", keep=context.current_login_id()
            )
        except ValidationError as exc:
            flash(translate(next(iter(exc.errors.values()))))
        else:
            return render_template("auth/recovery_codes.html", codes=codes)
    return redirect(url_for("auth.two_factor"))


@bp.post("/account/two-factor/remove")
@recent_login_required(back_to="auth.two_factor")
def two_factor_remove() -> Response:
    form = RemoveTwoFactorForm()
    if not form.validate_on_submit():
        flash(_("Enter your password and a code from your app or a recovery code."))
    else:
        try:
            twofactor.remove(
                context.work(),
                context.runtime().passwords,
                password=form.password.data or "",
                code=form.code.data or "",
                keep_session=context.current_login_id(),
            )
        except ValidationError as exc:
            rechecked(False)  # a wrong password or a wrong code
            flash(translate(next(iter(exc.errors.values()))))
        else:
            rechecked(True)
            flash(_("Two-factor sign-in is removed. Other devices are signed out."))
    return redirect(url_for("auth.two_factor"))
