from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from journal.models import Role
from journal.review import review
from journal.web import context
from journal.web.forms import ButtonForm
from journal.web.security import roles

bp = Blueprint("review", __name__)


@bp.post("/entries/<uuid:entry_id>/review")
@roles(Role.CLINICIAN)
def entry(entry_id: uuid.UUID) -> Response:
    if ButtonForm().validate_on_submit():
        review.mark_reviewed(context.work(), entry_id)
        flash(_("Marked as reviewed."))
    return redirect(url_for("entries.view", entry_id=entry_id))


@bp.post("/courses/<uuid:course_id>/sessions/<uuid:session_id>/review")
@roles(Role.CLINICIAN)
def session(course_id: uuid.UUID, session_id: uuid.UUID) -> Response:
    if ButtonForm().validate_on_submit():
        count = review.mark_session_reviewed(context.work(), course_id, session_id)
        flash(
            ngettext(
                "Marked %(num)d entry of this session as reviewed.",
                "Marked %(num)d entries of this session as reviewed.",
                count,
            )
        )
    return redirect(url_for("courses.timeline", course_id=course_id, _anchor=f"s-{session_id}"))
