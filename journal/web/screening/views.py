from __future__ import annotations

import uuid
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from journal.clinical import screenings
from journal.clinical.checklist import ScreeningAnswer
from journal.clinical.screenings import ScreeningInput, answer_field, note_field
from journal.core.errors import ConflictError, ValidationError
from journal.models import Role
from journal.web import context
from journal.web.screening.forms import ScreeningForm
from journal.web.security import roles

bp = Blueprint("screening", __name__)

ANSWERS = [(a.value, a.value.capitalize()) for a in ScreeningAnswer]
CONFLICT = (
    "This screening was changed by someone else since you opened it. Your answers are "
    "below and were not saved: reload the page to see theirs, then apply yours again."
)


@bp.route("/courses/<uuid:course_id>/screening", methods=["GET", "POST"])
@roles(Role.CLINICIAN)
def screening(course_id: uuid.UUID) -> str | tuple[str, int] | Response:
    db = context.db()
    checklist = context.runtime().clinical.screening
    form = ScreeningForm()
    item_errors: dict[str, str] = {}
    failed = request.method == "POST"
    answers = {i.id: request.form.get(answer_field(i.id), "") for i in checklist.items}
    notes = {i.id: request.form.get(note_field(i.id), "") for i in checklist.items}
    if failed and form.validate_on_submit():
        try:
            screenings.save_screening(
                context.work(),
                course_id,
                checklist,
                ScreeningInput(answers, notes, form.reviewed_on.data or ""),
                expected_version=form.expected_version(),
            )
        except ValidationError as exc:
            for name, message in exc.errors.items():
                if name == "reviewed_on":
                    form.reviewed_on.errors = [message]
                else:
                    item_errors[name] = message
        except ConflictError:
            form.form_errors.append(CONFLICT)
        else:
            flash("Screening saved.")
            return redirect(url_for("screening.screening", course_id=course_id))
    if failed:
        db.rollback()
    page = screenings.screening_page(context.work(), course_id, checklist)
    if not failed:
        today = datetime.now(context.runtime().settings.zone).date().isoformat()
        saved = page.screening
        if saved is not None:
            answers, notes = dict(saved.data.answers), dict(saved.data.notes)
        form = ScreeningForm(
            data={"reviewed_on": today, "version": str(saved.version) if saved else ""}
        )
    html = render_template(
        "screening/screening.html",
        page=page,
        form=form,
        checklist=checklist,
        answers=answers,
        notes=notes,
        item_errors=item_errors,
        choices=ANSWERS,
        answer_field=answer_field,
        note_field=note_field,
        failed=failed,
    )
    return (html, 400) if failed else html
