from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_number
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from journal.clinical import safety_plan
from journal.clinical.safety_plan import SECTION_MAX, SECTIONS
from journal.core.errors import ConflictError, ValidationError
from journal.web import context
from journal.web.forms import apply_errors
from journal.web.safety_plan.forms import PlanForm

bp = Blueprint("safety_plan", __name__)


@bp.get("/courses/<uuid:course_id>/safety-plan")
def view(course_id: uuid.UUID) -> str:
    page = safety_plan.plan_page(context.work(), course_id)
    return render_template("safety_plan/plan.html", page=page, sections=SECTIONS)


@bp.route("/courses/<uuid:course_id>/safety-plan/edit", methods=["GET", "POST"])
def edit(course_id: uuid.UUID) -> str | tuple[str, int] | Response:
    failed = request.method == "POST"
    conflict = False
    form = PlanForm()
    if failed and form.validate_on_submit():
        try:
            safety_plan.save_plan(
                context.work(),
                course_id,
                form.sections(),
                expected_version=form.expected_version(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError:
            conflict = True
        else:
            flash(_("Safety plan saved."))
            return redirect(url_for("safety_plan.view", course_id=course_id))
    if failed:
        context.db().rollback()  # nothing of a refused save is kept
    page = safety_plan.plan_page(context.work(), course_id)
    if not page.editable:
        abort(403)
    current = page.current
    if not failed:
        sections = current.text.sections if current else {}
        form = PlanForm(data={**sections, "version": str(current.number) if current else ""})
    elif conflict:
        # The person has now seen the other version: their next save builds on it.
        form.version.data = str(current.number) if current else ""
    html = render_template(
        "safety_plan/edit.html",
        page=page,
        form=form,
        sections=SECTIONS,
        conflict=conflict,
        limit=format_number(SECTION_MAX),  # 2,000 in English, 2 000 in French
    )
    return (html, 409 if conflict else 400) if failed else html


@bp.get("/courses/<uuid:course_id>/safety-plan/history")
def history(course_id: uuid.UUID) -> str:
    page = safety_plan.plan_page(context.work(), course_id, with_history=True)
    return render_template("safety_plan/history.html", page=page, sections=SECTIONS)


@bp.get("/courses/<uuid:course_id>/safety-plan/print")
def print_view(course_id: uuid.UUID) -> str:
    page = safety_plan.plan_page(context.work(), course_id)
    return render_template("safety_plan/print.html", page=page, sections=SECTIONS)
