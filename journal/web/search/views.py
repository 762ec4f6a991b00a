from __future__ import annotations

import uuid

from flask import Blueprint, render_template, request

from journal.accounts import policy
from journal.core.errors import ValidationError
from journal.journaling import search
from journal.models import Role
from journal.web import context
from journal.web.security import roles

bp = Blueprint("search", __name__)


@bp.get("/search")
@roles(Role.PATIENT, Role.CLINICIAN)
def results() -> str | tuple[str, int]:
    raw = request.args.get("q", "")
    course_raw = request.args.get("course", "")
    db = context.db()
    course = None
    if course_raw:
        try:
            course_id = uuid.UUID(course_raw)
        except ValueError:
            course_id = uuid.UUID(int=0)
        course = policy.course_access(db, context.user(), course_id).course
    if not raw.strip():
        return render_template("search/results.html", q="", course=course, results=None, error="")
    try:
        found = search.search(
            db, context.vault(), context.actor(), raw, course.id if course else None
        )
    except ValidationError as exc:
        error = next(iter(exc.errors.values()))
        return render_template(
            "search/results.html", q=raw[:200], course=course, results=None, error=error
        ), 400
    return render_template(
        "search/results.html", q=found.query, course=course, results=found, error=""
    )
