from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from journal.accounts import courses, policy
from journal.clinical.prompt_library import PromptLibrary
from journal.core.errors import ValidationError
from journal.journaling import prompt_assignments
from journal.models import Role
from journal.web import context
from journal.web.filters import when
from journal.web.forms import apply_errors
from journal.web.i18n import translate
from journal.web.prompts.forms import DUE_LABELS, AssignForm, PromptForm, UnassignForm
from journal.web.security import roles

bp = Blueprint("prompts", __name__)


def _shipped() -> PromptLibrary:
    return context.runtime().clinical.prompts


@bp.route("/prompts", methods=["GET", "POST"])
@roles(Role.CLINICIAN)
def library() -> str | Response:
    db = context.db()
    form = PromptForm()
    if form.validate_on_submit():
        try:
            prompt_assignments.save_prompt(context.work(), _shipped(), None, form.to_input())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("Prompt added to the clinic's library."))
            return redirect(url_for("prompts.library"))
    items = prompt_assignments.clinic_library(db, _shipped())
    return render_template("prompts/library.html", items=items, form=form, due_labels=DUE_LABELS)


@bp.route("/prompts/edit", methods=["GET", "POST"])
@roles(Role.CLINICIAN)
def edit() -> str | Response:
    key = request.args.get("key", "")[:80]
    if not key:
        return redirect(url_for("prompts.library"))
    db = context.db()
    item = prompt_assignments.library_prompt(db, _shipped(), key)
    p = item.prompt
    form = PromptForm(
        data={
            "phase": p.phase.value,
            "theme": p.theme,
            "text": p.text,
            "due": p.due.value if p.due else "",
            "hidden": item.hidden,
        }
    )
    if form.validate_on_submit():
        try:
            prompt_assignments.save_prompt(context.work(), _shipped(), key, form.to_input())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("Prompt saved."))
            return redirect(url_for("prompts.library", _anchor=f"p-{key}"))
    return render_template("prompts/edit.html", item=item, form=form)


@bp.route("/courses/<uuid:course_id>/prompts", methods=["GET", "POST"])
@roles(Role.CLINICIAN)
def assign(course_id: uuid.UUID) -> str | tuple[str, int] | Response:
    db = context.db()
    zone = context.runtime().settings.zone
    access, items = prompt_assignments.course_assignments(
        context.work(), _shipped(), course_id, zone
    )
    form = AssignForm()
    form.set_choices(
        courses.list_sessions(db, course_id), prompt_assignments.assignable(db, _shipped()), when
    )
    if request.method == "GET" and (sid := request.args.get("session", "")):
        form.session_id.data = sid
    if form.validate_on_submit():
        try:
            prompt_assignments.assign_prompt(
                context.work(),
                _shipped(),
                course_id,
                _uuid(form.session_id.data),
                form.prompt_key.data or "",
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("Prompt assigned. The patient sees it where they write."))
            return redirect(url_for("prompts.assign", course_id=course_id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "prompts/assign.html",
        access=access,
        items=items,
        form=form,
        remove=UnassignForm(),
        can_assign=policy.can_assign_prompts(access),
    ), status


@bp.post("/courses/<uuid:course_id>/prompts/remove")
@roles(Role.CLINICIAN)
def unassign(course_id: uuid.UUID) -> Response:
    form = UnassignForm()
    try:
        prompt_assignments.unassign_prompt(
            context.work(), course_id, _uuid(form.assignment_id.data)
        )
    except ValidationError as exc:
        flash(" ".join(translate(v) for v in exc.errors.values()))
    else:
        flash(_("Prompt removed from the session."))
    return redirect(url_for("prompts.assign", course_id=course_id))


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw or "")
    except ValueError:
        return None
