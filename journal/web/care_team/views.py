from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, url_for
from werkzeug.wrappers import Response

from journal.accounts import care_team
from journal.web import context

bp = Blueprint("care_team", __name__, url_prefix="/care-team")


@bp.post("/proposals/<uuid:proposal_id>/<any(agree, decline):choice>")
def decide(proposal_id: uuid.UUID, choice: str) -> Response:
    decided = care_team.decide(context.work(), proposal_id, agree=choice == "agree")
    name = decided.clinician.name
    flash(f"{name} joined the care team." if choice == "agree" else f"{name} will not join.")
    return redirect(url_for("courses.timeline", course_id=decided.course.id))
