"""Themes tagged on entries: people, feelings, images, places.

Names are encrypted under the patient's key, so finding an existing theme by
name means opening the course's theme names (a handful) in memory. A theme
shows only where it is attached to an entry the reader may read, so a tag on
a clinician-only entry never reaches the patient.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.policy import (
    CourseAccess,
    course_access,
    readable_entries_clause,
    readable_entry,
)
from journal.core.errors import Forbidden, NotFound, ValidationError
from journal.core.labels import N_
from journal.core.limits import too_long
from journal.core.rendering import plain_excerpt
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.journaling.entries import open_words
from journal.models import DosingSession, Entry, EntryTheme, Phase, Theme, ThemeKind, User

NAME_MAX = 60
TOO_LONG = N_(
    "The theme's name is %(length)s characters; the limit is %(limit)s. Nothing was saved yet."
)
PHASE_ORDER = {Phase.PREPARATION: 0, Phase.IN_SESSION: 1, Phase.INTEGRATION: 2}


@dataclass(frozen=True)
class ThemeTag:
    id: uuid.UUID
    kind: ThemeKind
    name: str


@dataclass(frozen=True)
class ThemeSummary:
    tag: ThemeTag
    entries: int


@dataclass(frozen=True)
class ThemedEntry:
    id: uuid.UUID
    session: DosingSession | None  # None: written between sessions
    phase: Phase
    title: str
    excerpt: str
    author_name: str
    created_at: datetime


def _course_themes(
    db: Session, vault: Vault, course_id: uuid.UUID, owner: uuid.UUID
) -> list[Theme]:
    vault.preload([owner])
    return list(db.scalars(select(Theme).where(Theme.course_id == course_id)))


@atomic
def tag_entry(work: Work, entry_id: uuid.UUID, kind: str, name: str) -> ThemeTag:
    """Attach a theme (made on first use) to an entry the actor may read."""
    entry, access = readable_entry(work.db, work.actor.user, entry_id)
    if not access.writable:
        raise Forbidden()
    clean = " ".join(name.split())
    errors = {}
    if kind not in {k.value for k in ThemeKind}:
        errors["kind"] = N_("Choose people, feelings, images or places.")
    if not clean:
        errors["name"] = N_("Name the theme.")
    elif problem := too_long(clean, NAME_MAX, TOO_LONG):
        errors["name"] = problem
    if errors:
        raise ValidationError(errors)
    owner = access.course.patient_id
    theme_kind = ThemeKind(kind)
    theme = next(
        (
            t
            for t in _course_themes(work.db, work.vault, entry.course_id, owner)
            if t.kind == theme_kind
            and work.vault.open_column(t, "name", owner).casefold() == clean.casefold()
        ),
        None,
    )
    if theme is None:
        theme = Theme(
            id=new_id(),
            course_id=entry.course_id,
            kind=theme_kind,
            created_by=work.actor.id,
            version=1,
            created_at=utcnow(),
        )
        theme.name = work.vault.seal_column(theme, "name", owner, clean)
        work.db.add(theme)
        work.db.flush()
    if work.db.get(EntryTheme, (entry.id, theme.id)) is None:
        work.db.add(EntryTheme(entry_id=entry.id, theme_id=theme.id, added_by=work.actor.id))
        audit.record(
            work.db,
            "theme.tag",
            actor=work.actor,
            object_type="entry",
            object_id=entry.id,
            subject_id=owner,
        )
    return ThemeTag(theme.id, theme.kind, work.vault.open_column(theme, "name", owner))


@atomic
def untag_entry(work: Work, entry_id: uuid.UUID, theme_id: uuid.UUID) -> None:
    """The patient, or whoever added the tag, may take it off again."""
    entry, access = readable_entry(work.db, work.actor.user, entry_id)
    link = work.db.get(EntryTheme, (entry.id, theme_id))
    if link is None:
        raise NotFound()
    if not access.writable or not (access.as_patient or link.added_by == work.actor.id):
        raise Forbidden()
    work.db.execute(
        delete(EntryTheme).where(EntryTheme.entry_id == entry.id, EntryTheme.theme_id == theme_id)
    )
    audit.record(
        work.db,
        "theme.untag",
        actor=work.actor,
        object_type="entry",
        object_id=entry.id,
        subject_id=access.course.patient_id,
    )


def themes_of(
    db: Session, vault: Vault, access: CourseAccess, entry_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[ThemeTag]]:
    """Each entry's themes, in one query (the entries are already known readable)."""
    found: dict[uuid.UUID, list[ThemeTag]] = {i: [] for i in entry_ids}
    if not entry_ids:
        return found
    owner = access.course.patient_id
    vault.preload([owner])
    rows = db.execute(
        select(EntryTheme.entry_id, Theme)
        .join(Theme, Theme.id == EntryTheme.theme_id)
        .where(EntryTheme.entry_id.in_(entry_ids))
    ).all()
    for entry_id, theme in rows:
        found[entry_id].append(
            ThemeTag(theme.id, theme.kind, vault.open_column(theme, "name", owner))
        )
    for tags in found.values():
        tags.sort(key=lambda t: (t.kind.value, t.name.casefold()))
    return found


def course_themes(work: Work, course_id: uuid.UUID) -> tuple[CourseAccess, list[ThemeSummary]]:
    """The themes on entries the actor may read, with how many entries carry each."""
    access = course_access(work.db, work.actor.user, course_id)
    owner = access.course.patient_id
    work.vault.preload([owner])
    rows = work.db.execute(
        select(Theme, EntryTheme.entry_id)
        .join(EntryTheme, EntryTheme.theme_id == Theme.id)
        .join(Entry, Entry.id == EntryTheme.entry_id)
        .where(readable_entries_clause(access))
    ).all()
    counts: dict[uuid.UUID, int] = {}
    themes: dict[uuid.UUID, Theme] = {}
    for theme, _entry_id in rows:
        themes[theme.id] = theme
        counts[theme.id] = counts.get(theme.id, 0) + 1
    summaries = [
        ThemeSummary(ThemeTag(t.id, t.kind, work.vault.open_column(t, "name", owner)), counts[t.id])
        for t in themes.values()
    ]
    summaries.sort(key=lambda s: (s.tag.kind.value, s.tag.name.casefold()))
    return access, summaries


def theme_entries(
    work: Work, theme_id: uuid.UUID
) -> tuple[CourseAccess, ThemeTag, list[ThemedEntry]]:
    """Every readable entry with the theme, in session order."""
    theme = work.db.get(Theme, theme_id)
    if theme is None:
        raise NotFound()
    access = course_access(work.db, work.actor.user, theme.course_id)
    owner = access.course.patient_id
    rows = work.db.execute(
        select(Entry, DosingSession, User.name)
        .join(EntryTheme, EntryTheme.entry_id == Entry.id)
        .outerjoin(DosingSession, DosingSession.id == Entry.session_id)
        .join(User, User.id == Entry.author_id)
        .where(EntryTheme.theme_id == theme_id, readable_entries_clause(access))
    ).all()
    if not rows:
        raise NotFound()  # a theme only on entries the actor cannot read does not exist for them
    work.vault.preload([owner])
    items = [
        ThemedEntry(
            id=entry.id,
            session=session,
            phase=entry.phase,
            title=(words := open_words(work.vault, entry, owner)).title,
            excerpt=plain_excerpt(words.body),
            author_name=name,
            created_at=entry.created_at,
        )
        for entry, session, name in rows
    ]
    items.sort(
        key=lambda i: (
            i.session.scheduled_at if i.session else i.created_at,
            PHASE_ORDER[i.phase],
            i.created_at,
        )
    )
    tag = ThemeTag(theme.id, theme.kind, work.vault.open_column(theme, "name", owner))
    if work.actor.id != owner:
        audit.record_read(work, object_type="theme", object_id=theme_id, subject_id=owner)
    return access, tag, items
