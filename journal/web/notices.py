"""Counts in the navigation: new comments for patients, new entries for clinicians."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
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
        return Notices(unread, _count(unread, "new comment")) if unread else None
    new = caseload.clinician_notices(db, user)
    flags = sum(questionnaires.open_flag_counts(db, user).values())
    total = new + unread + flags
    new_label = f"{caseload.shown_count(new)} {'new entry' if new == 1 else 'new entries'}"
    label = f"{new_label}, {_count(unread, 'unread comment')}"
    if flags:
        label += f", {_count(flags, 'safety flag')}"
    return Notices(total, label) if total else None


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def init_notices(app: Flask) -> None:
    @app.context_processor
    def inject() -> dict[str, object]:
        return {"notices": current_notices()}
