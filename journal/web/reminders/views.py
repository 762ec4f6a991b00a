from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from journal.accounts import policy
from journal.models import Role
from journal.notify import digest, reminders
from journal.web import context
from journal.web.reminders.forms import NO_DIGEST, DigestForm, ReminderForm
from journal.web.security import csrf, roles

bp = Blueprint("reminders", __name__)


@bp.route("/account/reminders", methods=["GET", "POST"])
@roles(Role.PATIENT, Role.CLINICIAN)
def settings() -> str | Response:
    work = context.work()
    if policy.treats(work.actor.user):
        return _digest_settings()
    current = reminders.preferences(work, work.actor.id)
    form = ReminderForm(
        data={
            **{kind: current.wants(kind) for kind in reminders.KINDS},
            "quiet_from": str(current.quiet_from),
            "quiet_until": str(current.quiet_until),
            "timezone": current.timezone or "",
        }
    )
    form.set_zones(context.runtime().settings.timezone)
    if form.validate_on_submit():
        reminders.save_preferences(
            work,
            reminders.Preferences(
                preparation=form.preparation.data,
                capture=form.capture.data,
                integration=form.integration.data,
                questionnaire=form.questionnaire.data,
                quiet_from=int(form.quiet_from.data or 21),
                quiet_until=int(form.quiet_until.data or 8),
                timezone=form.timezone.data or None,
            ),
        )
        flash(_("Your reminders are saved."))
        return redirect(url_for("reminders.settings"))
    return render_template("reminders/settings.html", form=form)


def _digest_settings() -> str | Response:
    """A clinician's page: the hour of their daily digest, or none."""
    work = context.work()
    current = digest.choice(work, work.actor.id)
    form = DigestForm(
        data={
            "digest_hour": NO_DIGEST if current.hour is None else str(current.hour),
            "timezone": current.timezone or "",
        }
    )
    form.set_zones(context.runtime().settings.timezone)
    if form.validate_on_submit():
        chosen = form.digest_hour.data
        digest.save_choice(
            work,
            digest.DigestChoice(
                hour=None if chosen == NO_DIGEST else int(chosen or 0),
                timezone=form.timezone.data or None,
            ),
        )
        flash(_("Your daily digest is saved."))
        return redirect(url_for("reminders.settings"))
    return render_template("reminders/digest.html", form=form)


@bp.route("/reminders/off/<token>", methods=["GET", "POST"])
@csrf.exempt  # a mail program's one-click POST (RFC 8058) carries the token, no cookie
def off(token: str) -> str | tuple[str, int]:
    """GET asks (a link scanner opening the link changes nothing); POST turns it off."""
    secret = context.runtime().settings.read_secret_key()
    found = reminders.read_unsubscribe_token(secret, token)
    if found is None or not reminders.receives_reminders(context.db(), found[0]):
        return render_template("reminders/off.html", kind=None, done=False), 404
    user_id, kind = found
    if request.method == "POST":
        reminders.turn_off(context.work(), user_id, kind)
        return render_template("reminders/off.html", kind=kind, done=True)
    return render_template("reminders/off.html", kind=kind, done=False, token=token)
