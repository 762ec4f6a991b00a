"""Counts in the navigation: new comments for patients, new entries for clinicians."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask_babel import ngettext
from flask_login import current_user

from journal.accounts import policy
from journal.clinical import questionnaires
from journal.review import caseload, comments
from journal.web import context


@dataclass(frozen=True)
class Notices:
    total: int
    label: str


def current_notices() -> Notices | None:
    if not current_user.is_authenticated:
        return None
    user = context.user()
    if user.must_change_password or policy.administers(user):
        return None
    db = context.db()
    unread = comments.unread_count(db, user)
    if policy.keeps_a_journal(user):
        label = ngettext("%(num)s new comment", "%(num)s new comments", unread)
        return Notices(unread, label) if unread else None
    new = caseload.clinician_notices(db, user)
    flags = sum(questionnaires.open_flag_counts(db, user).values())
    total = new + unread + flags
    shown = caseload.shown_count(new)
    parts = [
        ngettext("%(shown)s new entry", "%(shown)s new entries", new, shown=shown),
        ngettext("%(num)s unread comment", "%(num)s unread comments", unread),
    ]
    if flags:
        parts.append(ngettext("%(num)s safety flag", "%(num)s safety flags", flags))
    return Notices(total, ", ".join(parts)) if total else None


def init_notices(app: Flask) -> None:
    @app.context_processor
    def inject() -> dict[str, object]:
        return {"notices": current_notices()}
