from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from journal.accounts import invitations
from journal.core.errors import NotFound, ValidationError
from journal.web import context
from journal.web.forms import apply_errors
from journal.web.i18n import translate
from journal.web.password_links.forms import ChoosePasswordForm, ForgotForm

bp = Blueprint("password_links", __name__)


@bp.route("/reset", methods=["GET", "POST"])
def forgot() -> str | Response:
    form = ForgotForm()
    if form.validate_on_submit():
        invitations.request_reset(context.work(), form.email.data or "", context.client_address())
        # The same answer whether or not the address has an account; a page of its own,
        # so reloading it sends nothing again.
        return redirect(url_for("password_links.sent"))
    return render_template("password_links/forgot.html", form=form)


@bp.get("/reset/sent")
def sent() -> str:
    return render_template(
        "password_links/sent.html", hours=translate(invitations.hours_text(invitations.RESET_HOURS))
    )


@bp.route("/password/<token>", methods=["GET", "POST"])
def choose(token: str) -> str | Response | tuple[str, int]:
    found = invitations.open_link(context.db(), token)
    if found is None:
        return render_template("password_links/expired.html"), 404
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        try:
            invitations.choose_password(
                context.db(),
                context.runtime().passwords,
                token,
                form.password.data or "",
                context.client_address(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except NotFound:
            return render_template("password_links/expired.html"), 404
        else:
            flash(_("Your password is set. Sign in with it now."))
            return redirect(url_for("auth.login"))
    return render_template(
        "password_links/choose.html", form=form, user=found.user, purpose=found.link.purpose
    )
