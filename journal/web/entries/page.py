"""The entry page: the entry, its reviews, themes and comments, with their forms.

Shared by the blueprints whose forms live on this page (comments, themes), so
a form with an error is shown again in place, with what was typed.
"""

from __future__ import annotations

import uuid

from flask import render_template
from flask_babel import gettext as _

from journal.accounts import courses, policy
from journal.journaling import entries, intentions, prompt_assignments, themes
from journal.models import SessionStatus
from journal.review import comments, review
from journal.web import context
from journal.web.entries.page_forms import AttachForm, CommentForm, ThemeForm
from journal.web.filters import when
from journal.web.forms import ButtonForm


def entry_page(
    entry_id: uuid.UUID,
    comment_form: CommentForm | None = None,
    theme_form: ThemeForm | None = None,
    reply_to: uuid.UUID | None = None,
    attach_form: AttachForm | None = None,
) -> str:
    db, vault, actor = context.db(), context.vault(), context.actor()
    entry, access, row = entries.open_entry(context.work(), entry_id)
    reviews = review.reviews_of(db, [row])[entry_id]
    tags = themes.themes_of(db, vault, access, [entry_id])[entry_id]
    threads = comments.entry_comments(context.work(), entry_id)
    form = comment_form or CommentForm(formdata=None)
    form.set_choices(policy.comment_visibilities(access))
    attach = None
    if policy.can_attach_entry(access, row):
        attach = attach_form or AttachForm(formdata=None)
        attach.session_id.choices = entry_sessions(access.course.id)
    return render_template(
        "entries/view.html",
        entry=entry,
        access=access,
        reviews=reviews,
        reviewed_by_me=any(r.clinician_id == actor.id and not r.changed_since for r in reviews),
        themes=tags,
        threads=threads,
        comment_form=form,
        reply_to=reply_to,
        theme_form=theme_form or ThemeForm(formdata=None),
        attach_form=attach,
        button=ButtonForm(),
        answered=prompt_assignments.answered_prompt(
            db, context.runtime().clinical.prompts, entry_id
        ),
        outcomes=intentions.entry_outcomes(db, vault, access, entry_id),
    )


def entry_sessions(course_id: uuid.UUID) -> list[tuple[str, str]]:
    """The sessions an entry written between sessions can be linked to."""
    return [
        (str(s.id), _("Session %(number)s · %(when)s", number=s.number, when=when(s.scheduled_at)))
        for s in courses.list_sessions(context.db(), course_id)
        if s.status != SessionStatus.CANCELLED
    ]
