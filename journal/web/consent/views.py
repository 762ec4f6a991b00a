from __future__ import annotations

import uuid
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from journal.clinical import consent
from journal.clinical.consent import ConsentInput
from journal.core.errors import ConflictError, ValidationError
from journal.web import context
from journal.web.consent.forms import ConsentForm
from journal.web.form_tokens import once
from journal.web.forms import apply_errors
from journal.web.i18n import translate

bp = Blueprint("consent", __name__)

CONFLICT = _l(
    "This consent record was changed by someone else since you opened it. Your answers "
    "are below and were not saved: look at theirs, then save yours again if still right."
)


@bp.get("/courses/<uuid:course_id>/consent")
def view(course_id: uuid.UUID) -> str:
    page = consent.consent_page(context.work(), course_id)
    return render_template("consent/consent.html", page=page)


@bp.route("/courses/<uuid:course_id>/consent/edit", methods=["GET", "POST"])
@once
def edit(course_id: uuid.UUID) -> str | tuple[str, int] | Response:
    items = context.runtime().clinical.consent
    failed = request.method == "POST"
    conflict = False
    form = ConsentForm()
    if failed and form.validate_on_submit():
        try:
            consent.save_consent(
                context.work(),
                course_id,
                items,
                ConsentInput(
                    document_version=form.document_version.data or "",
                    consented_on=form.consented_on.data or "",
                    witness_id=form.witness_id.data or "",
                    checked=list(form.checked.data or []),
                    note=form.note.data or "",
                ),
                expected_version=form.expected_version(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError:
            conflict = True
            form.form_errors.append(str(CONFLICT))
        else:
            flash(_("Consent record saved."))
            return redirect(url_for("consent.view", course_id=course_id))
    if failed:
        context.db().rollback()  # nothing of a refused save is kept
    page = consent.consent_page(context.work(), course_id)
    if not page.editable:
        abort(403)
    current = page.current
    if not failed:
        if current is not None:
            d = current.data
            data = {
                "document_version": d.document_version,
                "consented_on": d.consented_on.isoformat(),
                "witness_id": str(d.witness_id),
                "checked": [i.id for i in d.items if i.checked],
                "note": d.note,
                "version": str(current.number),
            }
        else:
            today = datetime.now(context.runtime().settings.zone).date()
            data = {"consented_on": today.isoformat(), "witness_id": str(context.actor().id)}
        form = ConsentForm(formdata=None, data=data)
    elif conflict:
        form.version.data = str(current.number) if current else ""
    form.witness_id.choices = [("", _("Choose…"))] + [(str(m.id), m.name) for m in page.team]
    form.checked.choices = [(i.id, translate(i.text)) for i in items.items]
    html = render_template("consent/edit.html", page=page, form=form, conflict=conflict)
    return (html, 409 if conflict else 400) if failed else html
