from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from journal.accounts import courses, policy
from journal.core.errors import ConflictError, ValidationError
from journal.journaling import drafts, entries, intentions, prompt_assignments
from journal.models import OutcomeStatus, Phase
from journal.web import context
from journal.web.entries.forms import BETWEEN_SESSIONS, EntryForm, outcomes_from
from journal.web.entries.page import entry_page, entry_sessions
from journal.web.entries.page_forms import AttachForm
from journal.web.filters import when
from journal.web.form_tokens import once
from journal.web.forms import ButtonForm, apply_errors

bp = Blueprint("entries", __name__)


def _prepare_form(
    form: EntryForm, course_id: uuid.UUID, editing: uuid.UUID | None = None
) -> tuple[policy.CourseAccess, list[uuid.UUID]]:
    """Set the form's choices; returns the ids of the earlier intentions it may refer to.

    Only those the submitted form names are looked up (a GET names none), and
    their texts are decrypted only when the form is shown (_aids), so checking
    a save does not grow with the course.
    """
    db = context.db()
    access = policy.course_access(db, context.user(), course_id)
    form.set_choices(
        courses.list_sessions(db, course_id),
        policy.visibilities_for(access.user.role),
        when,
        for_clinician=access.as_clinician,
    )
    refs = intentions.readable_intention_refs(db, access, among=_named_intentions())
    earlier = [i for i, e in refs if e != editing]
    form.set_earlier_ids(earlier)
    return access, earlier


NAMED_MAX = 1000  # more than any form offers; keeps the lookup's IN list bounded


def _named_intentions() -> set[uuid.UUID]:
    """Intention ids a submitted entry form names: what it builds on, and outcomes."""
    names = [request.form.get("builds_on", "")]
    names += [
        k.removeprefix("outcome-") for k, v in request.form.items() if k[:8] == "outcome-" and v
    ]
    found = set()
    for name in names[:NAMED_MAX]:
        try:
            found.add(uuid.UUID(name))
        except ValueError:
            continue  # not an id: nothing to look up, the form check says what is wrong
    return found


def _aids(
    form: EntryForm,
    access: policy.CourseAccess,
    outcomes: dict[uuid.UUID, intentions.OutcomeInput],
    editing: uuid.UUID | None = None,
) -> dict[str, object]:
    """What the form shows beside the editor: assigned prompts, intentions to follow up."""
    earlier = [
        i
        for i in intentions.readable_intentions(context.db(), context.vault(), access)
        if i.entry_id != editing
    ]
    form.set_earlier_intentions(earlier)
    focus, rest = _due_first(access, earlier, outcomes, editing)
    new = editing is None
    phase = form.phase.data if form.phase.data in {p.value for p in Phase} else "preparation"
    prompts = (
        prompt_assignments.open_prompts(
            context.work(),
            context.runtime().clinical.prompts,
            access.course.id,
            Phase(phase),
            context.runtime().settings.zone,
        )
        if new
        else []
    )
    chosen = next((p for p in prompts if str(p.id) == form.prompt.data), None)
    return {
        "prompts": prompts,
        "chosen": chosen,
        "earlier": earlier,
        "focus": focus,
        "rest": rest,
        "outcomes": outcomes,
        "outcome_labels": intentions.OUTCOME_LABELS,
        "reflection_max": intentions.REFLECTION_MAX,
    }


def _due_first(
    access: policy.CourseAccess,
    earlier: list[intentions.IntentionView],
    outcomes: dict[uuid.UUID, intentions.OutcomeInput],
    editing: uuid.UUID | None,
) -> tuple[list[intentions.IntentionView], list[intentions.IntentionView]]:
    """The integration form asks first about intentions of sessions already held and not
    yet addressed, the most recent first; the rest wait behind "show all". One this
    entry already answers stays in view."""
    latest = intentions.latest_statuses(context.db(), access, [i.id for i in earlier], editing)
    focus = [
        i
        for i in reversed(earlier)
        if i.id in outcomes or (i.held and latest.get(i.id) != OutcomeStatus.ADDRESSED)
    ]
    shown = {i.id for i in focus}
    return focus, [i for i in earlier if i.id not in shown]


def _show_errors(form: EntryForm, exc: ValidationError) -> None:
    apply_errors(form, exc)
    form.form_errors.extend(form.prompt.errors)  # a hidden field: say it at the top


def _outcomes(
    form: EntryForm, earlier: list[uuid.UUID]
) -> dict[uuid.UUID, intentions.OutcomeInput] | None:
    found, problem = outcomes_from(request.form, earlier)
    if problem:
        form.form_errors.append(problem)
        return None
    return found


def _version(raw: str | None) -> int:
    """The version the form was opened at; anything odd counts as a conflict."""
    return int(raw) if raw and raw.isdigit() and len(raw) < 10 else -1


@bp.route("/courses/<uuid:course_id>/entries/new", methods=["GET", "POST"])
@once
def new_entry(course_id: uuid.UUID) -> str | Response:
    form = EntryForm()
    access, earlier = _prepare_form(form, course_id)
    outcomes: dict[uuid.UUID, intentions.OutcomeInput] = {}
    if not access.writable:
        flash(_("This course is closed; its journal can be read but not added to."))
        return redirect(url_for("courses.timeline", course_id=course_id))
    draft = None
    if request.method == "GET":
        wanted = request.args.get("phase", "")
        form.phase.data = wanted if wanted in {p.value for p in Phase} else Phase.PREPARATION.value
        if sid := request.args.get("session", ""):
            form.session_id.data = (
                sid if any(c.value == sid for c in form.session_id.choices) else ""
            )
        form.prompt.data = request.args.get("prompt", "")[:40]
        draft = drafts.load_draft(context.work(), course_id=course_id)
        if draft:
            _restore(form, draft)
    else:
        # A post that names no phase or session (a short form, a client of its own)
        # takes the phase from the address, and the session by date.
        if "phase" not in request.form:
            form.phase.data = request.args.get("phase", Phase.PREPARATION.value)
        if "session_id" not in request.form:
            form.session_id.data = ""
    if form.validate_on_submit() and (found := _outcomes(form, earlier)) is not None:
        outcomes = found
        try:
            entry = entries.create_entry(context.work(), course_id, form.to_input(outcomes))
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            drafts.discard_draft(context.work(), course_id=course_id)
            flash(_("Saved. Your words are stored encrypted."))
            return redirect(url_for("entries.view", entry_id=entry.id))
    return render_template(
        "entries/form.html",
        form=form,
        access=access,
        entry=None,
        draft=draft,
        button=ButtonForm(),
        **_aids(form, access, outcomes),
    )


def _restore(form: EntryForm, draft: drafts.SavedDraft) -> None:
    """Put an autosaved draft back into the form; choices no longer offered are left out."""
    for name, value in draft.fields.items():
        field = form[name]
        choices = getattr(field, "choices", None)
        if choices is not None and value not in {
            c.value if hasattr(c, "value") else c[0] for c in choices
        }:
            continue
        field.data = value


@bp.get("/entries/<uuid:entry_id>")
def view(entry_id: uuid.UUID) -> str:
    return entry_page(entry_id)


@bp.post("/entries/<uuid:entry_id>/session")
def attach(entry_id: uuid.UUID) -> str | Response:
    """Link an entry written between sessions to a session."""
    form = AttachForm()
    form.session_id.choices = entry_sessions(entries.attachable_course(context.work(), entry_id))
    if form.validate_on_submit():
        try:
            entries.attach_entry(context.work(), entry_id, uuid.UUID(form.session_id.data))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("Linked to the session; it now shows there on the timeline."))
            return redirect(url_for("entries.view", entry_id=entry_id))
    return entry_page(entry_id, attach_form=form)


@bp.route("/entries/<uuid:entry_id>/delete", methods=["GET", "POST"])
def delete(entry_id: uuid.UUID) -> str | Response:
    """Say what deleting means, then delete (its writer only: policy.can_delete_entry)."""
    days = context.runtime().settings.deleted_entry_days
    form = ButtonForm()
    if form.validate_on_submit():
        entry = entries.delete_entry(context.work(), entry_id, days)
        flash(
            ngettext(
                "Deleted. You can restore it from your journal for %(num)d day.",
                "Deleted. You can restore it from your journal for %(num)d days.",
                days,
            )
            if days
            else _("Deleted, and its words erased.")
        )
        return redirect(url_for("courses.timeline", course_id=entry.course_id))
    current = entries.deletable_entry(context.work(), entry_id)
    return render_template("entries/delete.html", entry=current, days=days, button=form)


@bp.post("/entries/<uuid:entry_id>/restore")
def restore(entry_id: uuid.UUID) -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    entry = entries.restore_entry(context.work(), entry_id)
    flash(_("Restored: the entry is back in your journal, as it was."))
    return redirect(url_for("entries.view", entry_id=entry.id))


@bp.route("/entries/<uuid:entry_id>/edit", methods=["GET", "POST"])
def edit(entry_id: uuid.UUID) -> str | Response:
    current = entries.editable_entry(context.work(), entry_id)
    builds_on = intentions.builds_on_of(context.db(), entry_id)
    form = EntryForm(
        data={
            "phase": current.phase.value,
            "session_id": str(current.session.id) if current.session else BETWEEN_SESSIONS,
            "title": current.title if current.titled else "",
            "body": current.body,
            "intentions": "\n".join(current.intentions),
            "mood": "" if current.mood is None else str(current.mood),
            "visibility": current.visibility.value,
            "version": str(current.version),
            "builds_on": str(builds_on) if builds_on else "",
        }
    )
    access, earlier = _prepare_form(form, current.course_id, editing=entry_id)
    outcomes = intentions.outcomes_of_entry(
        context.db(), context.vault(), access.course.patient_id, entry_id
    )
    draft = None
    if request.method == "GET":
        draft = drafts.load_draft(context.work(), entry_id=entry_id)
        if draft:
            _restore(form, draft)
    if form.validate_on_submit() and (found := _outcomes(form, earlier)) is not None:
        outcomes = found
        try:
            entries.edit_entry(
                context.work(),
                entry_id,
                form.to_input(outcomes),
                expected_version=_version(form.version.data),
            )
        except ValidationError as exc:
            _show_errors(form, exc)
        except ConflictError:
            form.form_errors.append(
                _(
                    "This entry was changed elsewhere since you opened it. Copy your text, "
                    "reload the page, and apply your changes again."
                )
            )
        else:
            drafts.discard_draft(context.work(), entry_id=entry_id)
            flash(_("Saved. The earlier version is kept in the history."))
            return redirect(url_for("entries.view", entry_id=entry_id))
    return render_template(
        "entries/form.html",
        form=form,
        access=access,
        entry=current,
        draft=draft,
        button=ButtonForm(),
        **_aids(form, access, outcomes, editing=entry_id),
    )


@bp.get("/entries/<uuid:entry_id>/history")
def history(entry_id: uuid.UUID) -> str:
    current, revisions = entries.entry_history(context.work(), entry_id)
    return render_template("entries/history.html", entry=current, revisions=revisions)
