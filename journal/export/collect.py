"""Build the export's document model, strictly through policy.py's rules.

Every entry and every earlier version is selected with the same rules the
pages use (`readable_entries_clause`, checked again row by row with
`can_read_entry` and `can_read`); a patient's private words are added only to
the patient's own export, and only when they ask for them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from journal.accounts.accounts import names_of
from journal.accounts.courses import care_team, course_indication, list_sessions
from journal.accounts.policy import (
    CourseAccess,
    can_read,
    can_read_comment,
    can_read_entry,
    can_use_notes,
    readable_entries_clause,
)
from journal.clinical import safety_plan
from journal.clinical.amendments import Version
from journal.clinical.charts import ScorePoint, days_in, trend_chart
from journal.clinical.checklist import Checklist
from journal.clinical.dose import DoseRules
from journal.clinical.instruments import Catalogue
from journal.clinical.questionnaires import course_responses
from journal.clinical.score_details import ScoreDetail, by_instrument
from journal.clinical.screenings import screening_history
from journal.clinical.session_records import (
    DISCHARGE,
    PRE_SESSION,
    Answer,
    PatientRecord,
    RecordData,
    course_records,
    record_histories,
)
from journal.clinical.vitals import POINTS, BpThresholds, Vitals, reading_keys
from journal.core.catalogues import Words
from journal.core.errors import ValidationError
from journal.core.labels import N_
from journal.core.vault import Vault
from journal.export.collect_outcomes import (
    collect_consent,
    collect_flags,
    collect_outcomes,
    collect_screening,
)
from journal.export.localise import localise
from journal.export.model import (
    AmendmentRecord,
    AnswerLine,
    AnswerRecord,
    ClinicalRecord,
    ClusterScoreRecord,
    CommentRecord,
    CourseDocument,
    CourseInfo,
    EntryRecord,
    ExportOptions,
    ExportScope,
    IntentionRecord,
    NoteRecord,
    NotesDisclosure,
    Person,
    QuestionnaireTrend,
    ReadingRecord,
    ReviewFlagRecord,
    ReviewRecord,
    RevisionRecord,
    SafetyPlanRecord,
    SafetyPlanStep,
    SafetyPlanVersionRecord,
    Scope,
    ScoreRecord,
    ScreeningRecord,
    SessionRecord,
    Span,
    ThemeIndexRecord,
    ThemeRecord,
)
from journal.journaling.entries import intentions_of, open_words
from journal.journaling.themes import themes_of
from journal.models import (
    Comment,
    DosingSession,
    Entry,
    EntryRevision,
    SessionStatus,
    User,
    Visibility,
)
from journal.review.notes import session_notes
from journal.review.review import reviews_of

NOTES_REASON_MIN = 5
NOTES_REASON_MAX = 300


def person(user: User) -> Person:
    return Person(user.id, user.name, user.role)


def scope_of(access: CourseAccess, options: ExportOptions) -> Scope:
    if access.as_clinician:
        return Scope.CLINICIAN
    return Scope.PATIENT_PRIVATE if options.include_private else Scope.PATIENT


def check_options(
    access: CourseAccess, sessions: list[DosingSession], options: ExportOptions
) -> None:
    """Refuse options that would give a wrong or empty-by-mistake document."""
    errors: dict[str, str] = {}
    if options.span == Span.DATES:
        if options.date_from is None and options.date_to is None:
            errors["date_from"] = N_("Give a start date, an end date, or both.")
        elif options.date_from and options.date_to and options.date_from > options.date_to:
            errors["date_to"] = N_("The end date is before the start date.")
    if options.span == Span.SESSIONS:
        known = {s.id for s in sessions}
        if not options.session_ids:
            errors["sessions"] = N_("Choose at least one dosing session.")
        elif not options.session_ids <= known:
            errors["sessions"] = N_("Choose dosing sessions of this course.")
    if not options.phases:
        errors["phases"] = N_("Choose at least one phase.")
    if options.include_private and not access.as_patient:
        errors["include_private"] = N_("Only the patient can include private entries.")
    if options.include_psychotherapy_notes:
        reason = options.notes_reason.strip()
        if not can_use_notes(access):
            errors["include_psychotherapy_notes"] = N_(
                "Only a clinician on the care team can include psychotherapy notes."
            )
        elif not NOTES_REASON_MIN <= len(reason) <= NOTES_REASON_MAX:
            errors["notes_reason"] = N_(
                "Give the reason for including psychotherapy notes "
                "(%(min)s to %(max)s characters).",
                min=NOTES_REASON_MIN,
                max=NOTES_REASON_MAX,
            )
    if errors:
        raise ValidationError(errors)


def _chosen(
    sessions: list[DosingSession], options: ExportOptions, zone: ZoneInfo
) -> list[DosingSession]:
    if options.span == Span.SESSIONS:
        return [s for s in sessions if s.id in options.session_ids]
    if options.span == Span.DATES:
        start, end = options.date_from, options.date_to
        return [
            s
            for s in sessions
            if (start is None or s.scheduled_at.astimezone(zone).date() >= start)
            and (end is None or s.scheduled_at.astimezone(zone).date() <= end)
        ]
    return list(sessions)


def _in_span(written: datetime, options: ExportOptions, zone: ZoneInfo) -> bool:
    """An entry written between sessions is in a span of dates by the day it was written."""
    if options.span != Span.DATES:
        return True
    day = written.astimezone(zone).date()
    return (options.date_from is None or day >= options.date_from) and (
        options.date_to is None or day <= options.date_to
    )


def _intention_order(
    sessions: list[DosingSession], i: IntentionRecord
) -> tuple[datetime, datetime]:
    """By session, then as set; one set between sessions by the day it was set."""
    at = {s.number: s.scheduled_at for s in sessions}
    when = at[i.session_number] if i.session_number is not None else i.set_at
    return when, i.set_at


def _number(numbers: dict[uuid.UUID, int], entry: Entry) -> int | None:
    return numbers[entry.session_id] if entry.session_id is not None else None


def _shown(
    access: CourseAccess, options: ExportOptions, visibility: Visibility, author: uuid.UUID
) -> bool:
    """The policy's rule, narrowed: private words only when the patient asks for them."""
    if visibility == Visibility.PRIVATE and not options.include_private:
        return False
    return can_read(access, visibility, author)


def notes_included(access: CourseAccess, options: ExportOptions) -> bool:
    """Psychotherapy notes go into the export only for a care-team clinician who asked."""
    return options.include_psychotherapy_notes and can_use_notes(access)


def _comments(
    db: Session, vault: Vault, access: CourseAccess, entry_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[CommentRecord]]:
    """Each entry's comment threads the exporter may read, in one query."""
    found: dict[uuid.UUID, list[CommentRecord]] = defaultdict(list)
    levels = [v for v in Visibility if can_read_comment(access, v)]
    if not entry_ids or not levels:
        return found
    owner = access.course.patient_id
    rows = db.execute(
        select(Comment, User)
        .join(User, User.id == Comment.author_id)
        .where(Comment.entry_id.in_(entry_ids), Comment.visibility.in_(levels))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    replies: dict[uuid.UUID, list[CommentRecord]] = defaultdict(list)
    threads: list[tuple[Comment, CommentRecord]] = []
    for comment, author in rows:
        if not can_read_comment(access, comment.visibility):
            continue
        record = CommentRecord(
            id=comment.id,
            author=person(author),
            visibility=comment.visibility,
            quote=vault.open_optional(comment, "quote", owner) or None,
            body=vault.open_column(comment, "body", owner),
            created_at=comment.created_at,
        )
        if comment.parent_id is None:
            threads.append((comment, record))
        else:
            replies[comment.parent_id].append(record)
    for comment, record in threads:
        found[comment.entry_id].append(
            CommentRecord(
                id=record.id,
                author=record.author,
                visibility=record.visibility,
                quote=record.quote,
                body=record.body,
                created_at=record.created_at,
                replies=tuple(replies[comment.id]),
            )
        )
    return found


def _notes(
    db: Session, vault: Vault, access: CourseAccess, session_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[NoteRecord]]:
    """The psychotherapy notes of the chosen sessions, through notes.py (notes key)."""
    found: dict[uuid.UUID, list[NoteRecord]] = defaultdict(list)
    for note in session_notes(db, vault, access, session_ids):
        found[note.session_id].append(
            NoteRecord(note.id, note.author_name, note.body, note.created_at, note.updated_at)
        )
    return found


def _theme_index(
    sessions: list[SessionRecord], between: list[EntryRecord]
) -> tuple[ThemeIndexRecord, ...]:
    """Each theme in the export with the sessions whose entries carry it (an entry
    written between sessions counts, with no session number)."""
    found: dict[tuple[str, str], tuple[ThemeRecord, set[int], list[int]]] = {}
    placed = [(s.number, e) for s in sessions for e in s.entries]
    for number, e in [*placed, *((None, e) for e in between)]:
        for t in e.themes:
            key = (t.kind.value, t.name.casefold())
            _, numbers, count = found.setdefault(key, (t, set(), [0]))
            if number is not None:
                numbers.add(number)
            count[0] += 1
    return tuple(
        ThemeIndexRecord(t.kind, t.name, tuple(sorted(numbers)), count[0])
        for _, (t, numbers, count) in sorted(found.items())
    )


def collect_course(
    db: Session,
    vault: Vault,
    access: CourseAccess,
    options: ExportOptions,
    *,
    clinic_name: str,
    zone: ZoneInfo,
    now: datetime,
    catalogue: Catalogue | None = None,
    checklist: Checklist | None = None,
    bp_limits: BpThresholds | None = None,
    dose_rules: DoseRules | None = None,
) -> CourseDocument:
    """The course as this exporter may see it. The caller has checked the options.
    Questionnaire trends need the catalogue of instruments; the screening, its checklist."""
    course = access.course
    owner = course.patient_id
    patient = db.get(User, owner)
    assert patient is not None
    sessions = list_sessions(db, course.id)
    chosen = _chosen(sessions, options, zone)
    chosen_ids = [s.id for s in chosen]

    stmt = (
        select(Entry, User)
        .join(User, User.id == Entry.author_id)
        .where(
            readable_entries_clause(access),
            # Entries written between sessions go with a whole course or a span of dates.
            or_(Entry.session_id.in_(chosen_ids), Entry.session_id.is_(None))
            if options.span != Span.SESSIONS
            else Entry.session_id.in_(chosen_ids),
            Entry.phase.in_(options.phases),
        )
        .order_by(Entry.created_at, Entry.id)
    )
    if not options.include_private:
        stmt = stmt.where(Entry.visibility != Visibility.PRIVATE)
    rows = [
        (entry, author)
        for entry, author in db.execute(stmt).all()
        if can_read_entry(access, entry)
        and _shown(access, options, entry.visibility, entry.author_id)
        and (entry.session_id is not None or _in_span(entry.created_at, options, zone))
    ]
    ids = [entry.id for entry, _ in rows]
    authors = {entry.id: entry.author_id for entry, _ in rows}
    intentions = intentions_of(db, ids)
    revisions: dict[uuid.UUID, list[RevisionRecord]] = defaultdict(list)
    vault.preload([owner])
    if ids:
        for rev, writer in db.execute(
            select(EntryRevision, User.name)
            .join(User, User.id == EntryRevision.written_by)
            .where(EntryRevision.entry_id.in_(ids))
            .order_by(EntryRevision.entry_id, EntryRevision.entry_version.desc())
        ).all():
            # A version written as private stays private even if a later one is shared.
            if not _shown(access, options, rev.visibility, authors[rev.entry_id]):
                continue
            words = open_words(vault, rev, owner)
            revisions[rev.entry_id].append(
                RevisionRecord(
                    entry_version=rev.entry_version,
                    phase=rev.phase,
                    visibility=rev.visibility,
                    title=words.title,
                    body=words.body,
                    mood=words.mood,
                    written_by=writer,
                    written_at=rev.written_at,
                )
            )

    comments = _comments(db, vault, access, ids)
    reviews = reviews_of(db, [entry for entry, _ in rows])
    themes = themes_of(db, vault, access, ids)
    include_notes = notes_included(access, options)
    notes = _notes(db, vault, access, chosen_ids) if include_notes else {}
    records = course_records(db, vault, access)  # the patient's: only their part is shown
    histories = record_histories(db, vault, access)  # a clinician's export only
    present = names_of(db, {c for r in records.values() for c in r.clinicians_present})
    numbers = {s.id: s.number for s in chosen}
    outcomes = collect_outcomes(
        db,
        vault,
        access,
        {entry.id: (entry, _number(numbers, entry)) for entry, _ in rows},
        lambda e: can_read_entry(access, e) and _shown(access, options, e.visibility, e.author_id),
    )

    by_session: dict[uuid.UUID | None, list[EntryRecord]] = defaultdict(list)
    course_intentions: list[IntentionRecord] = []
    for entry, author in rows:
        words = open_words(vault, entry, owner)
        texts = tuple(vault.open_column(i, "text", owner) for i in intentions[entry.id])
        by_session[entry.session_id].append(
            EntryRecord(
                id=entry.id,
                phase=entry.phase,
                visibility=entry.visibility,
                title=words.title,
                body=words.body,
                mood=words.mood,
                author=person(author),
                created_at=entry.created_at,
                updated_at=entry.updated_at,
                version=entry.version,
                intentions=texts,
                revisions=tuple(revisions[entry.id]),
                comments=tuple(comments[entry.id]),
                reviews=tuple(
                    ReviewRecord(r.clinician_name, r.reviewed_at, r.changed_since)
                    for r in reviews[entry.id]
                ),
                themes=tuple(ThemeRecord(t.kind, t.name) for t in themes[entry.id]),
                outcomes=tuple(outcomes.by_entry.get(entry.id, ())),
            )
        )
        course_intentions += [
            IntentionRecord(
                t,
                _number(numbers, entry),
                entry.id,
                entry.created_at,
                tuple(outcomes.by_intention.get(i.id, ())),
            )
            for i, t in zip(intentions[entry.id], texts, strict=True)
        ]
    # Questionnaire responses (issue 4) are collected here, through their own
    # rule in policy.py, once they are stored.
    session_records = [
        SessionRecord(
            s.id,
            s.number,
            s.scheduled_at,
            s.status,
            tuple(by_session[s.id]),
            tuple(notes.get(s.id, ())),
            _clinical(
                records.get(s.id),
                present,
                bp_limits or BpThresholds(),
                dose_rules or DoseRules.of(None),
                for_patient=not access.as_clinician,
                history=amendments(histories.get(s.id, ())),
            ),
        )
        for s in chosen
    ]
    if catalogue is not None and options.language != "en":
        # Each questionnaire's items and answers in its published translation, if any.
        catalogue = catalogue.in_language(options.language)
    trends = (
        _trends(db, vault, access, catalogue, sessions, options.language)
        if catalogue is not None
        else ()
    )
    disclosure = (
        NotesDisclosure(person(access.user), options.notes_reason.strip())
        if include_notes
        else None
    )
    collected = CourseDocument(
        generated_at=now,
        clinic_name=clinic_name,
        zone=zone,
        scope=ExportScope(scope_of(access, options), person(access.user), options, disclosure),
        course=CourseInfo(
            id=course.id,
            status=course.status.value,
            started_on=course.started_on,
            ended_on=course.ended_on,
            indication=course_indication(vault, access),
        ),
        patient=person(patient),
        care_team=tuple(person(u) for u in care_team(db, course.id)),
        sessions=tuple(session_records),
        between_sessions=tuple(by_session[None]),
        intentions=tuple(sorted(course_intentions, key=lambda i: _intention_order(chosen, i))),
        sessions_in_course=len(sessions),
        themes=_theme_index(session_records, by_session[None]),
        questionnaires=trends,
        screening=_screening(db, vault, access, checklist),
        safety_flags=collect_flags(db, vault, access),
        safety_plan=collect_safety_plan(db, vault, access),
        consent=collect_consent(db, vault, access),
    )
    return localise(collected)


def amendments(versions: tuple[Version, ...]) -> tuple[AmendmentRecord, ...]:
    """Every version of a record changed in place, newest first; nothing for a record
    never changed."""
    if len(versions) < 2:
        return ()
    return tuple(AmendmentRecord(v.number, v.saved_by, v.saved_at, v.changes) for v in versions)


def _screening(
    db: Session, vault: Vault, access: CourseAccess, checklist: Checklist | None
) -> ScreeningRecord | None:
    """The screening with its re-checks and, when it was corrected, its versions."""
    found = collect_screening(db, vault, access, checklist)
    if found is None or checklist is None:
        return found
    return replace(found, history=amendments(screening_history(db, vault, access, checklist)))


def collect_safety_plan(db: Session, vault: Vault, access: CourseAccess) -> SafetyPlanRecord | None:
    found = safety_plan.plan_versions(db, vault, access)
    if found is None:
        return None
    current, earlier = found

    def version_record(v: safety_plan.PlanVersion) -> SafetyPlanVersionRecord:
        steps = tuple(
            SafetyPlanStep(section.key, section.title, v.text.sections[section.key])
            for section in safety_plan.SECTIONS
            if v.text.sections.get(section.key, "").strip()
        )
        return SafetyPlanVersionRecord(v.number, v.saved_by, v.saved_at, steps, v.changes)

    return SafetyPlanRecord(version_record(current), tuple(version_record(v) for v in earlier))


def _clinical(
    data: RecordData | None,
    names: dict[uuid.UUID, str],
    limits: BpThresholds,
    dose_rules: DoseRules,
    *,
    for_patient: bool = False,
    history: tuple[AmendmentRecord, ...] = (),
) -> ClinicalRecord | None:
    """A session's record for the export; for the patient, only what they read of it
    (`PatientRecord`): no rating, observations, notes or flags."""
    if data is None:
        return None

    def bp(v: Vitals) -> str | None:
        return f"{v.systolic}/{v.diastolic}" if v.systolic and v.diastolic else None

    breaches = [] if for_patient else data.bp_breaches(limits)
    past = {b.reading: b.threshold for b in breaches}
    readings = tuple(
        ReadingRecord(
            point=POINTS[r.point],
            time=r.time,
            blood_pressure=bp(r.vitals),
            heart_rate=r.vitals.heart_rate,
            spo2=r.vitals.spo2,
            breathing_rate=r.vitals.breathing_rate,
            note="" if for_patient else r.note,
            flag=past.get(key, ""),
        )
        for r, key in zip(data.readings, reading_keys(data.readings), strict=True)
    )

    def answers(
        found: tuple[Answer, ...], labels: dict[str, str], notes: bool
    ) -> tuple[AnswerLine, ...]:
        return tuple(
            AnswerLine(labels[a.item], a.words, a.note if notes else "")
            for a in found
            if a.answer or notes
        )

    per_kg = data.dose_mg_per_kg
    shown = PatientRecord.of(data)
    notice = None if for_patient else data.dose_notice(dose_rules)
    return ClinicalRecord(
        route=data.route_label,
        dose_mg=str(data.dose_mg),
        dose_mg_per_kg=None if per_kg is None else str(per_kg),
        pre_bp=bp(data.pre),
        pre_heart_rate=data.pre.heart_rate,
        post_bp=bp(data.post),
        post_heart_rate=data.post.heart_rate,
        side_effects=() if for_patient else tuple(data.side_effect_labels),
        dissociation=None if for_patient else data.dissociation,
        bp_flag=not for_patient and data.bp_flag is not None,
        side_effects_other="" if for_patient else data.side_effects_other,
        weight_kg=None if data.weight_kg is None else str(data.weight_kg),
        time_given=data.time_given,
        adjuncts=data.adjuncts,
        setting="" if for_patient else data.setting,
        clinicians_present=()
        if for_patient
        else tuple(names[c] for c in data.clinicians_present if c in names),
        bp_breaches=tuple((b.reading, b.threshold) for b in breaches),
        discharge_notes=data.discharge_notes,
        drug=data.drug,
        modality=data.modality,
        readings=readings,
        pre_session=answers(
            shown.checks if for_patient else data.checks, PRE_SESSION, not for_patient
        ),
        discharge_criteria=answers(data.discharge, DISCHARGE, True),
        discharge_time=data.discharge_time,
        history=() if for_patient else history,
        for_patient=for_patient,
        dose_notice=notice.label if notice else "",
    )


def _trends(
    db: Session,
    vault: Vault,
    access: CourseAccess,
    catalogue: Catalogue,
    sessions: list[DosingSession],
    language: str = "en",
) -> tuple[QuestionnaireTrend, ...]:
    """Each questionnaire's scores over the whole course (the patient's own answers:
    both scopes hold them), with the chart the pages draw, in the export's language."""
    words, day = Words(language), days_in(language)
    numbers = {s.id: s.number for s in sessions}
    responses = course_responses(db, vault, access, numbers)
    days = [s.scheduled_at.date() for s in sessions if s.status != SessionStatus.CANCELLED]
    trends = []
    # The title and the chart in the export's language; each answer in the words of the
    # version the patient answered, as the questionnaire page shows it.
    for instrument_id, details in by_instrument(catalogue, responses).items():
        if instrument_id not in catalogue:
            continue
        instrument = catalogue.get(instrument_id)
        points = [ScorePoint(d.submitted_at.date(), d.total, d.safety_flag) for d in details]
        chart = trend_chart(
            instrument, points, days, chart_id=f"export-{instrument.id}", words=words, day=day
        )
        scores = tuple(_score_record(d, clinician=access.as_clinician) for d in details)
        trends.append(QuestionnaireTrend(instrument.id, instrument.title, scores, chart.svg))
    return tuple(trends)


def _score_record(d: ScoreDetail, *, clinician: bool) -> ScoreRecord:
    """One answered questionnaire. Review flags, cluster scores and the answers in
    words are for a clinician's export; a patient's has the plain note instead."""
    shared = ScoreRecord(
        d.submitted_at,
        d.total,
        d.max_score,
        d.band,
        d.session_number,
        d.safety_flag,
        review_note=d.review_note,
        filed_under=d.filed_under,
    )
    if not clinician:
        return shared
    return replace(
        shared,
        review_flags=tuple(ReviewFlagRecord(f.id, f.label, f.value) for f in d.review_flags),
        clusters=tuple(ClusterScoreRecord(c.id, c.label, c.score, c.max_score) for c in d.clusters),
        answers=tuple(
            AnswerRecord(a.number, a.item_id, a.text, a.value, a.words, a.scored) for a in d.answers
        ),
    )
