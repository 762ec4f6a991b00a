from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from journal.accounts import policy
from journal.clinical import questionnaires
from journal.clinical.instruments import Catalogue, answers_from_form
from journal.core.errors import NotFound, ValidationError
from journal.models import Role
from journal.web import context
from journal.web.forms import ButtonForm, apply_errors
from journal.web.questionnaires.forms import CADENCE_LABELS, AssignForm
from journal.web.security import roles

bp = Blueprint("questionnaires", __name__)


def _catalogue() -> Catalogue:
    return context.runtime().clinical.instruments


@bp.route("/courses/<uuid:course_id>/questionnaires", methods=["GET", "POST"])
def course(course_id: uuid.UUID) -> str | tuple[str, int] | Response:
    actor = context.actor()
    catalogue = _catalogue()
    form = AssignForm()
    form.set_choices(catalogue)
    status = 200
    if request.method == "POST":
        if not policy.treats(actor.user):
            raise NotFound()
        if form.validate_on_submit():
            try:
                questionnaires.assign(
                    context.work(),
                    catalogue,
                    course_id,
                    form.instrument_id.data or "",
                    form.cadence.data or "",
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                flash("Questionnaire assigned. The patient sees it where they write.")
                return redirect(url_for("questionnaires.course", course_id=course_id))
        status = 400
    measures = questionnaires.course_measures(context.work(), catalogue, course_id)
    due = (
        questionnaires.due_for_patient(context.work(), catalogue, course_id)
        if measures.access.as_patient
        else []
    )
    page = render_template(
        "questionnaires/course.html",
        m=measures,
        due=due,
        form=form,
        button=ButtonForm(),
        cadences=CADENCE_LABELS,
    )
    return page, status


@bp.post("/questionnaires/<uuid:assignment_id>/end")
@roles(Role.CLINICIAN)
def end(assignment_id: uuid.UUID) -> Response:
    # The CSRF token of every POST is checked app-wide before this runs.
    row = questionnaires.end_assignment(context.work(), assignment_id)
    flash("The questionnaire is no longer assigned; earlier answers are kept.")
    return redirect(url_for("questionnaires.course", course_id=row.course_id))


@bp.route("/questionnaires/<uuid:assignment_id>/answer", methods=["GET", "POST"])
@roles(Role.PATIENT)
def answer(assignment_id: uuid.UUID) -> str | tuple[str, int]:
    catalogue = _catalogue()
    due = next(
        (
            d
            for d in questionnaires.due_for_patient(context.work(), catalogue)
            if d.assignment_id == assignment_id
        ),
        None,
    )
    if due is None:
        raise NotFound()
    errors: dict[str, str] = {}
    chosen = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if request.method == "POST" and ButtonForm().validate_on_submit():
        try:
            done = questionnaires.submit(
                context.work(), catalogue, assignment_id, answers_from_form(due.instrument, chosen)
            )
        except ValidationError as exc:
            errors = exc.errors
        else:
            return render_template(
                "questionnaires/done.html",
                instrument=due.instrument,
                result=done.result,
                safety=done.safety_flag,
                course_id=due.course_id,
                crisis=context.runtime().settings.crisis_resources,
            )
    page = render_template(
        "questionnaires/answer.html",
        due=due,
        errors=errors,
        chosen=chosen,
        button=ButtonForm(),
    )
    return (page, 400) if request.method == "POST" else page


@bp.post("/flags/<uuid:flag_id>/acknowledge")
@roles(Role.CLINICIAN)
def acknowledge(flag_id: uuid.UUID) -> Response:
    flag = questionnaires.acknowledge(context.work(), flag_id)
    flash("Flag acknowledged; your name and the time are recorded.")
    return redirect(url_for("questionnaires.course", course_id=flag.course_id, _anchor="flags"))
