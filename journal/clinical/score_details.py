"""What one answered questionnaire holds beyond its total: review flags, cluster
(subscale) scores and each item's answer in words, for clinicians; and the one
plain sentence a patient reads when a review flag was raised.

Review flags (rules of kind `review`, such as the GAD-7 total at or above 10 or
the PCL-5 symptom pattern) are notes for the clinician: they are shown beside
the score on the clinician's questionnaire page, marked on the caseload and
written into a clinician's export. The patient never reads the flag's wording
(it speaks of cut-points and probable conditions); they read `PATIENT_REVIEW_NOTE`
beside their score instead. Nothing here decides anything clinical.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from journal.clinical.amendments import term
from journal.clinical.instruments import (
    Catalogue,
    FlagKind,
    Instrument,
    Number,
    ScoreResult,
    stored_number,
)
from journal.clinical.questionnaires import ResponseView
from journal.core.labels import N_, Phrase
from journal.core.vault import Vault
from journal.models import Course, QuestionnaireResponse

# What the patient reads beside a score that raised a review flag: plain, not alarming,
# no cut-point and no condition named.
PATIENT_REVIEW_NOTE = N_("Your clinician will talk this through with you.")


@dataclass(frozen=True)
class ReviewFlag:
    id: str
    label: str
    value: Number  # the total, subscale, item value or count of items that raised it


@dataclass(frozen=True)
class ClusterScore:
    id: str
    label: str
    score: Number  # a sum, or a mean with two decimals
    max_score: Number


@dataclass(frozen=True)
class AnswerInWords:
    number: int | None  # the item's place in the questionnaire; None if no longer in it
    item_id: str
    text: str
    value: int
    words: str  # the answer's label on the item's scale ("More than half the days")
    scored: bool  # False for an item asked but not counted (the PHQ-9 difficulty item)


@dataclass(frozen=True)
class ScoreDetail:
    response_id: uuid.UUID
    instrument_id: str
    submitted_at: datetime
    total: Number
    max_score: Number
    band: str
    session_number: int | None
    safety_flag: bool
    review_flags: tuple[ReviewFlag, ...]
    clusters: tuple[ClusterScore, ...]
    answers: tuple[AnswerInWords, ...]
    # Where it is filed: "Before session 2", "After session 1", "End of course",
    # "3-month follow-up"; None for a questionnaire answered once.
    filed_under: str | None = None
    # The sentence the patient reads beside this score, if a review flag was raised:
    # the flag rule's own `patient_note` (the MEQ-30's), else PATIENT_REVIEW_NOTE.
    review_note: str | None = None


def _notes_for(instrument: Instrument | None, flag_ids: Iterable[str]) -> str | None:
    """What the patient reads for these raised review flags: each rule's own note, or the
    default for a rule without one (or no longer defined), each sentence once."""
    rules = {r.id: r for r in instrument.flags} if instrument is not None else {}
    notes = [(rules[i].patient_note if i in rules else "") or PATIENT_REVIEW_NOTE for i in flag_ids]
    said = list(dict.fromkeys(notes))
    if len(said) < 2:
        return said[0] if said else None
    # Several sentences, each translated where it is shown.
    values = {f"v{n}": term(note) for n, note in enumerate(said)}
    return Phrase(" ".join(f"%({key})s" for key in values), values)


def patient_note(result: ScoreResult, instrument: Instrument | None = None) -> str | None:
    """The sentence the patient reads after answering, when a review flag was raised."""
    return _notes_for(instrument, [f.id for f in result.flags if f.kind is FlagKind.REVIEW])


def review_flags_of(flags: Iterable[dict[str, object]]) -> tuple[ReviewFlag, ...]:
    """The review flags among a stored result's flags (safety flags have their own rows)."""
    return tuple(
        ReviewFlag(str(f["id"]), str(f["label"]), stored_number(f["value"]))
        for f in flags
        if f.get("kind") == FlagKind.REVIEW.value
    )


def answers_in_words(
    instrument: Instrument | None, answers: dict[str, int]
) -> tuple[AnswerInWords, ...]:
    """Every stored answer in the questionnaire's order, with the words of its scale.
    An item the definition no longer has is kept, with its value as the words."""
    words: list[AnswerInWords] = []
    known = {i.id: i for i in instrument.items} if instrument is not None else {}
    scored = set(instrument.scored_items) if instrument is not None else set()
    for item in known.values():
        if item.id not in answers:
            continue
        value = answers[item.id]
        label = item.scale.label_for(value) if value in item.scale.values else str(value)
        words.append(
            AnswerInWords(item.number, item.id, item.text, value, label, item.id in scored)
        )
    for item_id, value in answers.items():
        if item_id not in known:
            words.append(AnswerInWords(None, item_id, item_id, value, str(value), True))
    return tuple(words)


def detail(instrument: Instrument | None, r: ResponseView) -> ScoreDetail:
    review_flags = review_flags_of(r.flags)
    return ScoreDetail(
        response_id=r.id,
        instrument_id=r.instrument_id,
        submitted_at=r.submitted_at,
        total=r.total,
        max_score=r.max_score,
        band=r.band,
        session_number=r.session_number,
        filed_under=r.label,
        safety_flag=any(f.get("kind") == FlagKind.SAFETY.value for f in r.flags),
        review_flags=review_flags,
        clusters=tuple(
            ClusterScore(
                str(s["id"]), str(s["label"]), stored_number(s["score"]), stored_number(s["max"])
            )
            for s in r.subscales
        ),
        answers=answers_in_words(instrument, r.answers),
        review_note=_notes_for(instrument, [f.id for f in review_flags]),
    )


def by_instrument(
    catalogue: Catalogue, responses: Sequence[ResponseView]
) -> dict[str, list[ScoreDetail]]:
    """Each questionnaire's answered forms, oldest first, with their details: each answer
    in the words of the version the patient answered (whichever language the reader's)."""
    details: dict[str, list[ScoreDetail]] = {}
    for r in responses:
        known = r.instrument_id in catalogue
        instrument = catalogue.version(r.instrument_id, r.language) if known else None
        details.setdefault(r.instrument_id, []).append(detail(instrument, r))
    return details


def latest_review_flags(
    db: Session, vault: Vault, catalogue: Catalogue, course_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, ...]]:
    """Per course, the questionnaires (short titles) whose latest answer raised a review
    flag: for the caseload, which the caller has already limited to the clinician's
    courses. Two queries whatever the number of courses (the answers, then the keys)."""
    if not course_ids:
        return {}
    latest = (
        select(
            QuestionnaireResponse.course_id,
            QuestionnaireResponse.instrument_id,
            func.max(QuestionnaireResponse.submitted_at).label("at"),
        )
        .where(QuestionnaireResponse.course_id.in_(course_ids))
        .group_by(QuestionnaireResponse.course_id, QuestionnaireResponse.instrument_id)
        .subquery()
    )
    rows = db.execute(
        select(QuestionnaireResponse, Course.patient_id)
        .join(
            latest,
            (latest.c.course_id == QuestionnaireResponse.course_id)
            & (latest.c.instrument_id == QuestionnaireResponse.instrument_id)
            & (latest.c.at == QuestionnaireResponse.submitted_at),
        )
        .join(Course, Course.id == QuestionnaireResponse.course_id)
        .order_by(QuestionnaireResponse.instrument_id)
    ).all()
    if not rows:
        return {}
    vault.preload({owner for _, owner in rows})
    found: dict[uuid.UUID, list[str]] = {}
    for response, owner in rows:
        data = json.loads(vault.open_column(response, "result", owner))
        if not review_flags_of(data["flags"]):
            continue
        iid = response.instrument_id
        title = catalogue.get(iid).short_title if iid in catalogue else iid
        titles = found.setdefault(response.course_id, [])
        if title not in titles:
            titles.append(title)
    return {course_id: tuple(titles) for course_id, titles in found.items()}
