from __future__ import annotations

from datetime import datetime

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from journal.accounts import courses, policy
from journal.journaling import prompt_assignments
from journal.models import CourseStatus
from journal.review import caseload, comments
from journal.web import context

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str | Response:
    actor = context.actor()
    if policy.administers(actor.user):
        return redirect(url_for("admin.users"))
    db = context.db()
    if policy.keeps_a_journal(actor.user):
        rows = courses.courses_for(context.work())
        active = [r for r in rows if r.course.status == CourseStatus.ACTIVE]
        if len(active) == 1:
            return redirect(url_for("courses.timeline", course_id=active[0].course.id))
        unread = comments.unread_by_entry(db, context.vault(), actor.user)
        zone = context.runtime().settings.zone
        today = datetime.now(zone).date()
        shipped = context.runtime().clinical.prompts
        due_by_course = {
            r.course.id: prompt_assignments.due_prompts(
                context.work(), shipped, r.course.id, today, zone
            )
            for r in active
        }
        return render_template(
            "home/patient.html", rows=rows, unread=unread, due_by_course=due_by_course
        )
    sort = request.args.get("sort", "attention")
    show = request.args.get("show", "active")
    name = request.args.get("name", "")[:100]
    attention = request.args.get("attention") == "1"
    rows_ = caseload.caseload(
        context.work(),
        sort=sort if sort in caseload.SORTS else "attention",
        show=show if show in caseload.SHOWS else "active",
        name=name,
        attention_only=attention,
    )
    return render_template(
        "home/clinician.html",
        rows=rows_,
        sort=sort if sort in caseload.SORTS else "attention",
        show=show if show in caseload.SHOWS else "active",
        name=name,
        attention=attention,
    )
