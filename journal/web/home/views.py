from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from journal.models import CourseStatus, Role
from journal.services import courses
from journal.web import context

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str | Response:
    actor = context.actor()
    if actor.role == Role.ADMIN:
        return redirect(url_for("admin.users"))
    rows = courses.courses_for(context.db(), actor)
    if actor.role == Role.PATIENT:
        active = [r for r in rows if r.course.status == CourseStatus.ACTIVE]
        if len(active) == 1:
            return redirect(url_for("courses.timeline", course_id=active[0].course.id))
        return render_template("home/patient.html", rows=rows)
    return render_template("home/clinician.html", rows=rows)
