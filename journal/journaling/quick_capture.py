"""Quick capture: a few taps in the hour after a dosing session.

Feelings and body sensations are chosen from short lists, intensity is 1 to
5, and there is room for one phrase and one image in words. The choices are
composed into an ordinary `in_session` entry (a title and a Markdown body),
so everything else (visibility, review, search, export) treats it like any
entry. It goes to the session of the day, as journaling/entries chooses it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.accounts.policy import can_quick_capture, course_access
from journal.core.errors import Forbidden, ValidationError
from journal.core.limits import too_long
from journal.core.work import Work
from journal.db import utcnow
from journal.journaling import entries
from journal.models import DosingSession, Entry, Phase, Visibility

FEELINGS: dict[str, str] = {
    "calm": "calm",
    "grateful": "grateful",
    "tender": "tender",
    "joyful": "joyful",
    "relieved": "relieved",
    "open": "open",
    "sad": "sad",
    "tearful": "tearful",
    "afraid": "afraid",
    "uneasy": "uneasy",
    "confused": "confused",
    "numb": "numb",
}
BODY: dict[str, str] = {
    "light": "light",
    "heavy": "heavy",
    "warm": "warm",
    "cold": "cold",
    "tingling": "tingling",
    "floating": "floating",
    "relaxed": "relaxed",
    "tense": "tense",
    "tired": "tired",
    "queasy": "queasy",
    "restless": "restless",
    "grounded": "grounded",
}
INTENSITY = range(1, 6)
PHRASE_MAX = 200
IMAGE_MAX = 300


@dataclass
class QuickInput:
    feelings: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    intensity: int | None = None
    phrase: str = ""
    image: str = ""
    visibility: Visibility = Visibility.CARE_TEAM


def check(data: QuickInput) -> None:
    """Clear messages for anything that does not fit; nothing is saved then."""
    errors: dict[str, str] = {}
    if any(f not in FEELINGS for f in data.feelings):
        errors["feelings"] = "Choose feelings from the list."
    if any(b not in BODY for b in data.body):
        errors["body"] = "Choose body sensations from the list."
    if data.intensity is not None and data.intensity not in INTENSITY:
        errors["intensity"] = "Intensity is a number from 1 to 5."
    if problem := too_long(data.phrase.strip(), PHRASE_MAX, "The phrase"):
        errors["phrase"] = problem
    if problem := too_long(data.image.strip(), IMAGE_MAX, "The image"):
        errors["image"] = problem
    if not errors and not (
        data.feelings or data.body or data.intensity or data.phrase.strip() or data.image.strip()
    ):
        errors["feelings"] = "Tap at least one feeling or sensation, or write a word."
    if errors:
        raise ValidationError(errors)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def compose(data: QuickInput, session_number: int | None) -> tuple[str, str]:
    """The entry's title and Markdown body, from the choices."""
    phrase, image = data.phrase.strip(), data.image.strip()
    title = phrase or (
        f"Right after session {session_number}" if session_number else "Right after the session"
    )
    lines: list[str] = []
    if data.feelings:
        lines.append("**Feelings:** " + ", ".join(FEELINGS[f] for f in _unique(data.feelings)))
    if data.body:
        lines.append("**In the body:** " + ", ".join(BODY[b] for b in _unique(data.body)))
    if data.intensity is not None:
        lines.append(f"**Intensity:** {data.intensity} of 5")
    if phrase:
        lines.append(f"**In a phrase:** {phrase}")
    if image:
        lines.append(f"**An image:** {image}")
    return title[: entries.TITLE_MAX], "\n\n".join(lines)


def todays_session(
    db: Session, course_id: uuid.UUID, now: datetime | None = None
) -> DosingSession | None:
    """The session the capture will go to (as the entry form would choose it)."""
    sessions = list(db.scalars(select(DosingSession).where(DosingSession.course_id == course_id)))
    return entries.default_session(sessions, Phase.IN_SESSION, now or utcnow())


def save(
    work: Work,
    course_id: uuid.UUID,
    data: QuickInput,
    now: datetime | None = None,
) -> Entry:
    access = course_access(work.db, work.actor.user, course_id)
    if not can_quick_capture(access):
        raise Forbidden()
    check(data)
    now = now or utcnow()
    session = todays_session(work.db, course_id, now)
    title, body = compose(data, session.number if session else None)
    return entries.create_entry(
        work,
        course_id,
        entries.EntryInput(
            phase=Phase.IN_SESSION,
            title=title,
            body=body,
            visibility=data.visibility,
            session_id=session.id if session else None,
        ),
        now=now,
    )
