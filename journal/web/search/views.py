"""Search. The words travel in a POST body, never in a URL: URLs reach access logs,
proxies and the browser's history. GET shows the empty form."""

from __future__ import annotations

import uuid

from flask import Blueprint, render_template, request

from journal.accounts import policy
from journal.core.errors import ValidationError
from journal.journaling import search
from journal.models import Course, Role
from journal.web import context
from journal.web.i18n import translate
from journal.web.security import roles

bp = Blueprint("search", __name__)


def _course(raw: str) -> Course | None:
    """The course to search in, if one is named (404 if it is not the reader's)."""
    if not raw:
        return None
    try:
        course_id = uuid.UUID(raw)
    except ValueError:
        course_id = uuid.UUID(int=0)
    return policy.course_access(context.db(), context.user(), course_id).course


@bp.route("/search", methods=["GET", "POST"])
@context.reads_only
@roles(Role.PATIENT, Role.CLINICIAN)
def results() -> str | tuple[str, int]:
    if request.method == "GET":
        course = _course(request.args.get("course", ""))
        return render_template("search/results.html", q="", course=course, results=None, error="")
    raw = request.form.get("q", "")
    course = _course(request.form.get("course", ""))
    if not raw.strip():
        return render_template("search/results.html", q="", course=course, results=None, error="")
    try:
        found = search.search(context.work(), raw, course.id if course else None)
    except ValidationError as exc:
        error = translate(next(iter(exc.errors.values())))
        return render_template(
            "search/results.html", q=raw[:200], course=course, results=None, error=error
        ), 400
    return render_template(
        "search/results.html", q=found.query, course=course, results=found, error=""
    )
