from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from journal.services import accounts
from journal.services.errors import ValidationError
from journal.web import context
from journal.web.auth.forms import ChangePasswordForm, LoginForm
from journal.web.forms import apply_errors
from journal.web.security import SignedIn

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "That email and password do not match an active account."


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    form = LoginForm()
    if form.validate_on_submit():
        rt = context.runtime()
        user = accounts.authenticate(
            context.db(),
            rt.passwords,
            form.email.data or "",
            form.password.data or "",
            context.client_address(),
        )
        if user is None:
            form.form_errors.append(LOGIN_FAILED)
            return render_template("auth/login.html", form=form), 200
        # A fresh cookie at every sign-in: nothing from before carries over.
        session.clear()
        login = accounts.start_login_session(context.db(), user)
        login_user(SignedIn(user, login))
        return redirect(url_for("home.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    accounts.end_login_session(context.db(), context.current_login_id())
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> str | Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                context.db(),
                context.runtime().passwords,
                context.actor(),
                current=form.current_password.data or "",
                new=form.new_password.data or "",
                keep_session=context.current_login_id(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash("Your password is changed. Other devices are signed out.")
            return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", form=form)
