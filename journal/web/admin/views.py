from __future__ import annotations

import uuid
from dataclasses import replace
from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_number, get_locale, ngettext
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from journal.accounts import (
    accounts,
    audit,
    audit_trail,
    care_team,
    courses,
    erasure,
    invitations,
    policy,
)
from journal.core.catalogues import Words
from journal.core.errors import ValidationError
from journal.models import Role
from journal.notify import outbox
from journal.web import context
from journal.web.admin.forms import (
    AddClinicianForm,
    AdminCourseForm,
    AuditFilterForm,
    EraseForm,
    UserForm,
)
from journal.web.forms import ButtonForm, apply_errors
from journal.web.i18n import translate
from journal.web.security import roles

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@roles(Role.ADMIN)
def _admins_only() -> None:
    return None


@bp.get("/users")
def users() -> str:
    rows = accounts.list_users(context.work())
    return render_template("admin/users.html", users=rows, button=ButtonForm())


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> str | Response:
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = invitations.invite(
                context.work(),
                context.runtime().passwords,
                email=form.email.data or "",
                name=form.name.data or "",
                role=Role(form.role.data),
                refer_to=form.refer_to.data or "",
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(
                _(
                    "Account made. An invitation to choose a password is on its way to "
                    "%(email)s; it works for %(hours)s.",
                    email=user.email,
                    hours=translate(
                        invitations.hours_text(context.runtime().settings.invitation_hours)
                    ),
                )
            )
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form)


@bp.post("/users/<uuid:user_id>/<any(activate, deactivate):action>")
def set_active(user_id: uuid.UUID, action: str) -> Response:
    try:
        user = accounts.set_active(context.work(), user_id, action == "activate")
    except ValidationError as exc:
        flash(translate(next(iter(exc.errors.values()))))
    else:
        if user.active:
            flash(_("%(name)s is now active.", name=user.name))
        else:
            flash(_("%(name)s is now deactivated and signed out everywhere.", name=user.name))
    return redirect(url_for("admin.users"))


@bp.post("/users/<uuid:user_id>/send-link")
def send_link(user_id: uuid.UUID) -> Response:
    """A new link to choose a password, sent to the person: the admin never sees it."""
    try:
        purpose = invitations.send_link(context.work(), user_id)
    except ValidationError as exc:
        flash(translate(next(iter(exc.errors.values()))))
    else:
        user = accounts.get_user(context.db(), user_id)
        if purpose == invitations.INVITE:
            flash(_("An invitation is on its way to %(email)s.", email=user.email))
        else:
            flash(_("A password reset link is on its way to %(email)s.", email=user.email))
    return redirect(url_for("admin.users"))


@bp.get("/courses")
def course_list() -> str:
    return render_template("admin/courses.html", rows=courses.all_courses(context.work()))


@bp.route("/courses/new", methods=["GET", "POST"])
def new_course() -> str | Response:
    form = AdminCourseForm()
    if form.validate_on_submit():
        assert form.started_on.data is not None
        try:
            course = courses.create_course(
                context.work(),
                patient_email=form.patient_email.data or "",
                clinician_emails=form.emails(),
                started_on=form.started_on.data,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("Course created."))
            return redirect(url_for("admin.course_team", course_id=course.id))
    return render_template("admin/course_form.html", form=form)


@bp.route("/courses/<uuid:course_id>", methods=["GET", "POST"])
def course_team(course_id: uuid.UUID) -> str | Response:
    form = AddClinicianForm()
    if form.validate_on_submit():
        try:
            care_team.propose(context.work(), course_id, form.email.data or "")
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("Clinician proposed. They join the care team once it is agreed to."))
            return redirect(url_for("admin.course_team", course_id=course_id))
    row = courses.admin_course(context.work(), course_id)
    pending = care_team.pending_for_course(context.work(), course_id)
    return render_template(
        "admin/course_team.html",
        row=row,
        pending=pending,
        consent=context.runtime().settings.care_team_consent,
        form=form,
        button=ButtonForm(),
    )


@bp.post("/courses/<uuid:course_id>/team/<uuid:clinician_id>/remove")
def remove_clinician(course_id: uuid.UUID, clinician_id: uuid.UUID) -> Response:
    courses.remove_clinician(context.work(), course_id, clinician_id)
    flash(_("Clinician removed from the care team. It takes effect at once."))
    return redirect(url_for("admin.course_team", course_id=course_id))


@bp.get("/messages")
def messages() -> str:
    rows = outbox.recent(context.work())
    return render_template(
        "admin/messages.html",
        rows=rows,
        counted=outbox.counted(context.work()),
        smtp=bool(context.runtime().settings.smtp_host),
        button=ButtonForm(),
    )


@bp.post("/messages/<uuid:message_id>/again")
def message_again(message_id: uuid.UUID) -> Response:
    outbox.send_again(context.work(), message_id)
    flash(_("The message is queued to be sent again."))
    return redirect(url_for("admin.messages"))


@bp.post("/messages/reminders-and-alerts/again")
def counted_again() -> Response:
    sent = outbox.send_counted_again(context.work())
    # The English says "reminders and alerts" whatever the number; the plural form lets
    # other languages make the words agree with it.
    flash(
        ngettext(
            "%(num)d reminders and alerts are queued to be sent again.",
            "%(num)d reminders and alerts are queued to be sent again.",
            sent,
        )
    )
    return redirect(url_for("admin.messages"))


@bp.get("/audit")
def audit_log() -> str:
    form, filters = _audit_filters()
    trail = audit_trail.TrailPage([], None, None)
    if filters is not None:
        trail = audit_trail.page(
            context.work(),
            filters,
            older_than=audit_trail.Cursor.parse(request.args.get("older")),
            newer_than=audit_trail.Cursor.parse(request.args.get("newer")),
        )
    return _audit_page(form, trail)


@bp.get("/audit.csv")
def audit_csv() -> str | Response:
    form, filters = _audit_filters()
    trail = audit_trail.TrailPage([], None, None)
    if filters is not None:
        try:
            body = audit_trail.download(context.work(), filters, Words(str(get_locale())))
        except audit_trail.TooManyEvents as exc:
            apply_errors(form, exc)
            trail = audit_trail.page(context.work(), filters)  # what would have been in it
        else:
            stamp = context.work().now().astimezone(context.runtime().settings.zone)
            name = f"audit-events-{stamp:%Y%m%d-%H%M}.csv"
            return Response(
                body,
                content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
    return _audit_page(form, trail)


AUDIT_FILTERS = ("since", "until", "person", "patient", "action")  # kept from page to page


def _audit_filters() -> tuple[AuditFilterForm, audit_trail.Filters | None]:
    """The filter form read from the address, and the filters (None when it has errors)."""
    form = AuditFilterForm(formdata=request.args)
    people = accounts.list_users(context.work())
    roles_said = {
        Role.PATIENT: _("patient"),
        Role.CLINICIAN: _("clinician"),
        Role.ADMIN: _("admin"),
    }
    everyone = [("", _("Anyone"))]
    form.person.choices = everyone + [
        (
            str(p.id),
            _(
                "%(name)s (%(role)s)",
                name=p.name,
                role=roles_said.get(p.role, p.role.value),
            ),
        )
        for p in people
    ]
    form.patient.choices = [("", _("Any patient"))] + [
        (str(p.id), p.name) for p in people if policy.keeps_a_journal(p)
    ]
    form.action.choices = [
        ("", _("Any action")),
        *audit_trail.action_choices(Words(str(get_locale()))),
    ]
    if not form.validate():
        return form, None
    filters = audit_trail.Filters(
        person=_uuid_or_none(form.person.data),
        patient=_uuid_or_none(form.patient.data),
        action=form.action.data or None,
        since=form.since.data,
        until=form.until.data,
    )
    try:
        return form, filters.check()
    except ValidationError as exc:
        apply_errors(form, exc)
        return form, None


def _audit_page(form: AuditFilterForm, trail: audit_trail.TrailPage) -> str:
    chosen = {k: v for k, v in request.args.items() if k in AUDIT_FILTERS and v}
    words = Words(str(get_locale()))
    return render_template(
        "admin/audit.html",
        form=form,
        trail=trail,
        chosen=chosen,
        csv_limit=format_number(audit_trail.CSV_LIMIT),  # 100,000 in English
        say=partial(audit_trail.said, words),
        sentence=partial(audit_trail.said_sentence, words),
    )


@bp.get("/audit/verify")
def audit_verify() -> str:
    report = audit.verify_chain(context.db())
    if report.problem:  # marked in the domain: shown in the page's language
        report = replace(report, problem=translate(report.problem))
    return render_template("admin/audit_verify.html", report=report)


def _uuid_or_none(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


@bp.get("/erasures")
def erasures() -> str:
    return render_template("admin/erasures.html", rows=erasure.erasure_records(context.work()))


@bp.route("/users/<uuid:user_id>/erase", methods=["GET", "POST"])
def erase_user(user_id: uuid.UUID) -> str | Response:
    db = context.db()
    user = accounts.get_user(db, user_id)
    if not policy.keeps_a_journal(user):
        abort(404)
    form = EraseForm()
    if form.validate_on_submit():
        try:
            erasure.erase_patient(
                context.work(),
                user_id,
                reason=form.reason.data or "",
                confirm_email=form.confirm_email.data or "",
                ledger=erasure.ledger_path(context.runtime().settings.master_key_path),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("The patient and everything they wrote are erased."))
            return redirect(url_for("admin.users"))
    return render_template("admin/erase.html", form=form, user=user)
