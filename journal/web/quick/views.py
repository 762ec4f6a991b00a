from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from journal.accounts import policy
from journal.clinical import safety_flags
from journal.core.errors import ValidationError
from journal.journaling import quick_capture
from journal.models import Role
from journal.web import context
from journal.web.forms import ButtonForm, apply_errors
from journal.web.i18n import translate
from journal.web.quick.forms import QuickForm
from journal.web.security import roles

bp = Blueprint("quick", __name__)


@bp.route("/courses/<uuid:course_id>/quick", methods=["GET", "POST"])
@roles(Role.PATIENT)
def capture(course_id: uuid.UUID) -> str | tuple[str, int] | Response:
    db = context.db()
    access = policy.course_access(db, context.user(), course_id)
    if not policy.can_quick_capture(access):
        flash(_("This course is closed; its journal can be read but not added to."))
        return redirect(url_for("courses.timeline", course_id=course_id))
    form = QuickForm()
    if form.validate_on_submit():
        try:
            entry = quick_capture.save(context.work(), course_id, form.to_input(), words=translate)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("Saved. Rest now; you can add more later."))
            return redirect(url_for("entries.view", entry_id=entry.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "quick/capture.html",
        access=access,
        form=form,
        session=quick_capture.todays_session(db, course_id),
        feelings=quick_capture.FEELINGS,
        body=quick_capture.BODY,
        support=ButtonForm(),
    ), status


# What the patient reads on the Get-help page after asking for support: when the care
# team will see it, as it is (an e-mail within minutes; nobody on call).
SUPPORT_SENT = _l(
    "Your care team has been told that you asked for support, and is sent an e-mail "
    "about it within a few minutes. They will see it when they next read their e-mail or "
    "open the journal: nobody watches it around the clock, so that can be hours. If you "
    "need someone now, call one of the numbers below."
)
SUPPORT_CLOSED = _l(
    "This course is closed, so your care team was not told through the journal. "
    "If you need someone now, call one of the numbers below."
)


@bp.post("/courses/<uuid:course_id>/quick/support")
@roles(Role.PATIENT)
def support(course_id: uuid.UUID) -> Response:
    """ "I need support": a safety flag for the care team, then Get help now at once.
    Nothing the patient wrote goes with it. The CSRF token is checked app-wide."""
    access = policy.course_access(context.db(), context.user(), course_id)
    if policy.can_quick_capture(access):
        safety_flags.ask_for_support(context.work(), course_id)
        flash(str(SUPPORT_SENT))
    else:
        flash(str(SUPPORT_CLOSED))
    return redirect(url_for("help.page"))
