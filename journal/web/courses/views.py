from __future__ import annotations

import uuid
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from journal.accounts import care_team, courses, policy
from journal.clinical import consent, questionnaires, screenings, session_records
from journal.core.errors import ValidationError
from journal.core.labels import Phrase
from journal.journaling import prompt_assignments, timeline
from journal.models import CourseStatus, Role, SessionStatus
from journal.review import comments
from journal.web import context
from journal.web.courses.forms import CourseForm, SessionForm
from journal.web.forms import ButtonForm, apply_errors
from journal.web.i18n import translate
from journal.web.questionnaires.forms import language_name
from journal.web.security import roles

bp = Blueprint("courses", __name__, url_prefix="/courses")


@bp.get("/<uuid:course_id>", endpoint="timeline")
def timeline_page(course_id: uuid.UUID) -> str:
    raw_page = request.args.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and len(raw_page) < 7 else 1
    db, vault, actor = context.db(), context.vault(), context.actor()
    view = timeline.course_timeline(context.work(), course_id, page=page)
    catalogue = context.runtime().clinical.instruments
    if view.access.as_patient:
        unread = comments.unread_by_entry(db, vault, actor.user, course_id)
        # Each due questionnaire in the page's language where it has a published version.
        shown = catalogue.in_language(str(get_locale()))
        due_questionnaires = questionnaires.due_for_patient(context.work(), shown, course_id)
        open_flags = 0
    else:
        unread, due_questionnaires = [], []
        open_flags = questionnaires.open_flag_counts(db, actor.user).get(course_id, 0)
    checklist = context.runtime().clinical.screening
    zone = context.runtime().settings.zone
    due = prompt_assignments.due_prompts(
        context.work(),
        context.runtime().clinical.prompts,
        course_id,
        datetime.now(zone).date(),
        zone,
    )
    return render_template(
        "courses/timeline.html",
        t=view,
        unread=unread,
        due=due,
        due_questionnaires=due_questionnaires,
        open_flags=open_flags,
        records=session_records.record_marks(
            db,
            vault,
            view.access,
            session_records.bp_thresholds(context.runtime().settings),
        ),
        screening=screenings.screening_review(db, vault, view.access, checklist),
        consent_recorded=consent.is_recorded(db, view.access),
        button=ButtonForm(),
        can_manage=policy.can_manage_sessions(view.access),
        proposals=[
            (p, _proposer(p.proposer(context.work())))
            for p in care_team.pending_for_course(context.work(), course_id)
        ],
        may_decide=care_team.may_decide(context.work(), view.access.course, actor),
        language_name=language_name,
    )


def _proposer(who: str) -> str:
    """Who proposed a clinician: their name as written, or the marked words (a
    `Phrase`: the clinic's administration) in the page's language."""
    return translate(who) if isinstance(who, Phrase) else who


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.CLINICIAN)
def new_course() -> str | Response:
    form = CourseForm()
    if form.validate_on_submit():
        assert form.started_on.data is not None
        try:
            course = courses.create_course(
                context.work(),
                patient_email=form.patient_email.data or "",
                clinician_emails=form.colleague_emails(),
                started_on=form.started_on.data,
                indication=form.indication.data or "",
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("Course opened. Schedule its first dosing session below."))
            return redirect(url_for("courses.timeline", course_id=course.id))
    return render_template("courses/new.html", form=form)


@bp.route("/<uuid:course_id>/sessions/new", methods=["GET", "POST"])
@roles(Role.CLINICIAN)
def new_session(course_id: uuid.UUID) -> str | Response:
    access = policy.course_access(context.db(), context.user(), course_id)
    form = SessionForm()
    if form.validate_on_submit():
        try:
            courses.schedule_session(
                context.work(),
                course_id,
                scheduled_at=form.aware_time(context.runtime().settings.zone),
                number=form.number.data,
                status=SessionStatus(form.status.data),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("Session scheduled."))
            return redirect(url_for("courses.timeline", course_id=course_id))
    return render_template("courses/session_form.html", form=form, access=access, session=None)


@bp.route("/<uuid:course_id>/sessions/<uuid:session_id>/edit", methods=["GET", "POST"])
@roles(Role.CLINICIAN)
def edit_session(course_id: uuid.UUID, session_id: uuid.UUID) -> str | Response:
    db = context.db()
    access = policy.course_access(db, context.user(), course_id)
    session = courses.get_session(db, access, session_id)
    zone = context.runtime().settings.zone
    form = SessionForm(
        data={
            "scheduled_at": session.scheduled_at.astimezone(zone).replace(tzinfo=None),
            "number": session.number,
            "status": session.status.value,
        }
    )
    if form.validate_on_submit():
        try:
            courses.update_session(
                context.work(),
                course_id,
                session_id,
                scheduled_at=form.aware_time(zone),
                number=form.number.data or session.number,
                status=SessionStatus(form.status.data),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("Session saved."))
            return redirect(url_for("courses.timeline", course_id=course_id))
    return render_template("courses/session_form.html", form=form, access=access, session=session)


@bp.post("/<uuid:course_id>/status/<any(active, closed):status>")
@roles(Role.CLINICIAN)
def set_status(course_id: uuid.UUID, status: str) -> Response:
    courses.set_course_status(context.work(), course_id, CourseStatus(status))
    flash(_("Course closed.") if status == "closed" else _("Course reopened."))
    return redirect(url_for("courses.timeline", course_id=course_id))
