from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from journal.accounts import care_team
from journal.web import context

bp = Blueprint("care_team", __name__, url_prefix="/care-team")


@bp.post("/proposals/<uuid:proposal_id>/<any(agree, decline):choice>")
def decide(proposal_id: uuid.UUID, choice: str) -> Response:
    decided = care_team.decide(context.work(), proposal_id, agree=choice == "agree")
    name = decided.clinician.name
    flash(
        _("%(name)s joined the care team.", name=name)
        if choice == "agree"
        else _("%(name)s will not join.", name=name)
    )
    return redirect(url_for("courses.timeline", course_id=decided.course.id))
