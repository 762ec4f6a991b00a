"""Comments on entries: on the whole entry or a quoted passage, and replies.

A comment is readable when its entry is readable and its own level allows:
care-team comments reach the patient, clinician-only ones never do.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    select,
)
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.policy import (
    READER,
    CourseAccess,
    administers,
    can_read_comment,
    comment_visibilities,
    readable_anywhere_rule,
    readable_comment_levels,
    readable_entry,
    reader_params,
)
from journal.core.errors import Forbidden, NotFound, ValidationError
from journal.core.labels import N_
from journal.core.limits import too_long
from journal.core.rendering import plain_text, stand_in_title
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow, write_soon
from journal.models import Comment, CommentRead, Course, Entry, Role, User, Visibility

COMMENT_MAX = 5_000
QUOTE_MAX = 1_000
QUOTE_TOO_LONG = N_(
    "This passage is %(length)s characters; the limit is %(limit)s. Nothing was saved yet."
)
STAFF_AUDIT_TYPE = "staff_comment"  # a clinician-only comment: left out of the access log


@dataclass
class CommentInput:
    body: str
    visibility: Visibility | None = None
    quote: str = ""
    parent_id: uuid.UUID | None = None


@dataclass
class CommentView:
    id: uuid.UUID
    author_name: str
    by_patient: bool
    visibility: Visibility
    quote: str | None
    body: str
    created_at: datetime
    unread: bool
    replies: list[CommentView] = field(default_factory=list)


def _normalise(text: str) -> str:
    return " ".join(text.split())


def quote_in_entry(quote: str, body: str) -> bool:
    """A passage counts as found in the source text or in the text as shown
    (a selection in the page has no Markdown marks)."""
    wanted = _normalise(quote).casefold()
    return wanted in _normalise(body).casefold() or wanted in plain_text(body).casefold()


@atomic
def add_comment(
    work: Work,
    entry_id: uuid.UUID,
    data: CommentInput,
    now: datetime | None = None,
) -> Comment:
    entry, access = readable_entry(work.db, work.actor.user, entry_id)
    owner = access.course.patient_id
    quote = _normalise(data.quote)
    if data.parent_id is not None:
        parent = work.db.get(Comment, data.parent_id)
        if (
            parent is None
            or parent.entry_id != entry.id
            or parent.parent_id is not None
            or not can_read_comment(access, parent.visibility)
        ):
            raise NotFound()
        visibility = parent.visibility  # a reply is read by whoever read the comment
        quote = ""
    elif not access.as_clinician:
        raise Forbidden()  # patients reply to comments; they write entries, not comments
    else:
        visibility = data.visibility or Visibility.CARE_TEAM
    if not access.writable:
        raise Forbidden()
    errors = {}
    body = data.body.strip()
    if not body:
        errors["body"] = N_("Write the comment.")
    elif problem := too_long(body, COMMENT_MAX):
        errors["body"] = problem
    if data.parent_id is None and visibility not in comment_visibilities(access):
        errors["visibility"] = N_("Choose who may read the comment.")
    if problem := too_long(quote, QUOTE_MAX, QUOTE_TOO_LONG):
        errors["quote"] = problem
    if errors:
        raise ValidationError(errors)
    if quote and not quote_in_entry(quote, work.vault.open_column(entry, "body", owner)):
        raise NotFound()  # the passage is not in this entry
    comment = Comment(
        id=new_id(),
        entry_id=entry.id,
        course_id=entry.course_id,
        parent_id=data.parent_id,
        author_id=work.actor.id,
        visibility=visibility,
        version=1,
        created_at=now or utcnow(),
    )
    comment.body = work.vault.seal_column(comment, "body", owner, body)
    comment.quote = work.vault.seal_column(comment, "quote", owner, quote) if quote else None
    work.db.add(comment)
    work.db.flush()
    work.db.add(
        CommentRead(comment_id=comment.id, user_id=work.actor.id, read_at=comment.created_at)
    )
    audit.record(
        work.db,
        "comment.create",
        actor=work.actor,
        object_type="entry" if visibility == Visibility.CARE_TEAM else STAFF_AUDIT_TYPE,
        object_id=entry.id,
        subject_id=owner,
    )
    return comment


def entry_comments(work: Work, entry_id: uuid.UUID) -> list[CommentView]:
    """The comments on an entry the actor may read, threads oldest first.
    Opening them marks them read."""
    entry, access = readable_entry(work.db, work.actor.user, entry_id)
    owner = access.course.patient_id
    levels = [v for v in Visibility if can_read_comment(access, v)]
    rows = work.db.execute(
        select(Comment, User.name, User.role, CommentRead.comment_id)
        .join(User, User.id == Comment.author_id)
        .outerjoin(
            CommentRead,
            and_(CommentRead.comment_id == Comment.id, CommentRead.user_id == work.actor.id),
        )
        .where(Comment.entry_id == entry.id, Comment.visibility.in_(levels))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    work.vault.preload([owner])
    views: dict[uuid.UUID, CommentView] = {}
    threads: list[CommentView] = []
    for comment, name, role, read in rows:
        view = CommentView(
            id=comment.id,
            author_name=name,
            by_patient=role == Role.PATIENT,
            visibility=comment.visibility,
            quote=work.vault.open_optional(comment, "quote", owner),
            body=work.vault.open_column(comment, "body", owner),
            created_at=comment.created_at,
            unread=read is None,
        )
        views[comment.id] = view
        if comment.parent_id is None:
            threads.append(view)
        elif comment.parent_id in views:
            views[comment.parent_id].replies.append(view)
    unread = [v.id for v in views.values() if v.unread]
    if unread:
        now = utcnow()

        def mark_read(db: Session) -> None:
            db.add_all(
                CommentRead(comment_id=i, user_id=work.actor.id, read_at=now) for i in unread
            )

        write_soon(work.db, mark_read)
    return threads


def _unread_rule(role: Role) -> tuple[ColumnElement[bool], ...]:
    """Comments by others a reader of this role has not opened, on entries they may
    read; the reader is the policy's READER parameter (`reader_params`)."""
    reader: BindParameter[uuid.UUID] = bindparam(READER)
    seen = exists().where(CommentRead.comment_id == Comment.id, CommentRead.user_id == reader)
    levels = readable_comment_levels(role)
    return (
        readable_anywhere_rule(role),
        Comment.visibility.in_(levels) if levels else false(),
        Comment.author_id != reader,
        ~seen,
    )


def _unread_comments(role: Role, *columns: Any) -> Select[Any]:
    """Comments by others the reader has not opened, on entries they may read.

    Driven from the comments' own course column, so the database walks the
    (few) comments of the user's courses rather than every entry of them.
    """
    return (
        select(*columns)
        .select_from(Comment)
        .join(Entry, Entry.id == Comment.entry_id)
        .join(Course, Course.id == Comment.course_id)
        .where(Entry.course_id == Comment.course_id, *_unread_rule(role))
    )


@cache
def _unread_count(role: Role) -> Select[Any]:
    return _unread_comments(role, func.count())


@cache
def unread_comments_by_course(role: Role) -> Select[Any]:
    """(course id, unread count) rows, for the caseload; run with `reader_params`."""
    return _unread_comments(role, Comment.course_id, func.count()).group_by(Comment.course_id)


def unread_count(db: Session, user: User) -> int:
    """Comments and replies by others the user has not opened yet, on every course."""
    if administers(user):
        return 0
    return db.scalar(_unread_count(user.role), reader_params(user)) or 0


@dataclass(frozen=True)
class UnreadEntry:
    entry_id: uuid.UUID
    course_id: uuid.UUID
    title: str
    comments: int


@cache
def _unread_by_entry_statement(role: Role, one_course: bool) -> Select[uuid.UUID, int]:
    stmt = (
        _unread_comments(role, Comment.entry_id, func.count())
        .group_by(Comment.entry_id)
        .order_by(func.max(Comment.created_at).desc())
    )
    return stmt.where(Comment.course_id == bindparam("course_id")) if one_course else stmt


@cache
def _unread_entries_statement() -> Select[Entry, uuid.UUID]:
    return (
        select(Entry, Course.patient_id)
        .join(Course, Course.id == Entry.course_id)
        .where(Entry.id.in_(bindparam("entries", expanding=True)))
    )


def unread_by_entry(
    db: Session, vault: Vault, user: User, course_id: uuid.UUID | None = None
) -> list[UnreadEntry]:
    """Which entries have comments the user has not read, newest comment first."""
    if administers(user):
        return []
    stmt = _unread_by_entry_statement(user.role, course_id is not None)
    params = reader_params(user) | ({} if course_id is None else {"course_id": course_id})
    counts = [(row[0], row[1]) for row in db.execute(stmt, params)]
    if not counts:
        return []
    rows = db.execute(_unread_entries_statement(), {"entries": [c[0] for c in counts]}).all()
    entries = {e.id: (e, owner) for e, owner in rows}
    vault.preload({owner for _, owner in entries.values()})
    return [
        UnreadEntry(
            entry_id=entry_id,
            course_id=entries[entry_id][0].course_id,
            title=vault.open_column(entries[entry_id][0], "title", entries[entry_id][1])
            or stand_in_title(
                vault.open_column(entries[entry_id][0], "body", entries[entry_id][1])
            ),
            comments=n,
        )
        for entry_id, n in counts
    ]


def comment_counts(
    db: Session, access: CourseAccess, entry_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many readable comments each entry has, in one query (for timeline cards)."""
    if not entry_ids:
        return {}
    levels = [v for v in Visibility if can_read_comment(access, v)]
    rows = db.execute(
        select(Comment.entry_id, func.count(Comment.id))
        .where(Comment.entry_id.in_(entry_ids), Comment.visibility.in_(levels))
        .group_by(Comment.entry_id)
    )
    return {row[0]: row[1] for row in rows}
