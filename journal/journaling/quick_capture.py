"""Quick capture: a few taps in the hour after a dosing session.

Feelings and body sensations are chosen from short lists, intensity is 1 to
5, and there is room for one phrase and one image in words. The choices are
composed into an ordinary `in_session` entry (a title and a Markdown body),
so everything else (visibility, review, search, export) treats it like any
entry. It goes to the session of the day, as journaling/entries chooses it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.accounts.policy import can_quick_capture, course_access
from journal.core.errors import Forbidden, ValidationError
from journal.core.labels import N_
from journal.core.limits import too_long
from journal.core.work import Work
from journal.db import utcnow
from journal.journaling import entries
from journal.models import DosingSession, Entry, Phase, Visibility

FEELINGS: dict[str, str] = {
    "calm": N_("calm"),
    "grateful": N_("grateful"),
    "tender": N_("tender"),
    "joyful": N_("joyful"),
    "relieved": N_("relieved"),
    "open": N_("open"),
    "sad": N_("sad"),
    "tearful": N_("tearful"),
    "afraid": N_("afraid"),
    "uneasy": N_("uneasy"),
    "confused": N_("confused"),
    "numb": N_("numb"),
}
BODY: dict[str, str] = {
    "light": N_("light"),
    "heavy": N_("heavy"),
    "warm": N_("warm"),
    "cold": N_("cold"),
    "tingling": N_("tingling"),
    "floating": N_("floating"),
    "relaxed": N_("relaxed"),
    "tense": N_("tense"),
    "tired": N_("tired"),
    "queasy": N_("queasy"),
    "restless": N_("restless"),
    "grounded": N_("grounded"),
}
INTENSITY = range(1, 6)
PHRASE_MAX = 200
IMAGE_MAX = 300
PHRASE_TOO_LONG = N_(
    "The phrase is %(length)s characters; the limit is %(limit)s. Nothing was saved yet."
)
IMAGE_TOO_LONG = N_(
    "The image is %(length)s characters; the limit is %(limit)s. Nothing was saved yet."
)


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
        errors["feelings"] = N_("Choose feelings from the list.")
    if any(b not in BODY for b in data.body):
        errors["body"] = N_("Choose body sensations from the list.")
    if data.intensity is not None and data.intensity not in INTENSITY:
        errors["intensity"] = N_("Intensity is a number from 1 to 5.")
    if problem := too_long(data.phrase.strip(), PHRASE_MAX, PHRASE_TOO_LONG):
        errors["phrase"] = problem
    if problem := too_long(data.image.strip(), IMAGE_MAX, IMAGE_TOO_LONG):
        errors["image"] = problem
    if not errors and not (
        data.feelings or data.body or data.intensity or data.phrase.strip() or data.image.strip()
    ):
        errors["feelings"] = N_("Tap at least one feeling or sensation, or write a word.")
    if errors:
        raise ValidationError(errors)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _as_written(words: str) -> str:
    return str(words)


def compose(
    data: QuickInput, session_number: int | None, words: Callable[[str], str] = _as_written
) -> tuple[str, str]:
    """The entry's title and Markdown body, from the choices, in the writer's language
    (`words` translates what is marked; the English as written without it)."""
    phrase, image = data.phrase.strip(), data.image.strip()
    title = phrase or words(
        N_("Right after session %(number)s", number=session_number)
        if session_number
        else N_("Right after the session")
    )
    lines: list[str] = []
    if data.feelings:
        chosen = ", ".join(words(FEELINGS[f]) for f in _unique(data.feelings))
        lines.append(words(N_("**Feelings:** %(chosen)s", chosen=chosen)))
    if data.body:
        chosen = ", ".join(words(BODY[b]) for b in _unique(data.body))
        lines.append(words(N_("**In the body:** %(chosen)s", chosen=chosen)))
    if data.intensity is not None:
        lines.append(words(N_("**Intensity:** %(intensity)s of 5", intensity=data.intensity)))
    if phrase:
        lines.append(words(N_("**In a phrase:** %(phrase)s", phrase=phrase)))
    if image:
        lines.append(words(N_("**An image:** %(image)s", image=image)))
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
    words: Callable[[str], str] = _as_written,
) -> Entry:
    access = course_access(work.db, work.actor.user, course_id)
    if not can_quick_capture(access):
        raise Forbidden()
    check(data)
    now = now or utcnow()
    session = todays_session(work.db, course_id, now)
    title, body = compose(data, session.number if session else None, words)
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
