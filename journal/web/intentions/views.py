from __future__ import annotations

import uuid

from flask import Blueprint, render_template

from journal.journaling import intentions
from journal.web import context

bp = Blueprint("intentions", __name__)


@bp.get("/courses/<uuid:course_id>/intentions")
def course_intentions(course_id: uuid.UUID) -> str:
    access, items = intentions.course_intentions(context.work(), course_id)
    by_id = {i.id: i for i in items}
    return render_template("intentions/path.html", access=access, items=items, by_id=by_id)
