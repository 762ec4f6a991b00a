"""JSON: complete and versioned, for another system to import.

The shape is documented in docs/export-format.md and checked against
docs/export.schema.json. Times are ISO 8601 in UTC, dates ISO 8601.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from journal.export.model import (
    FORMAT_VERSION,
    AccountInfo,
    AmendmentRecord,
    AnswerLine,
    ClinicalRecord,
    CommentRecord,
    ConsentRecord,
    ConsentVersionRecord,
    CourseDocument,
    EntryRecord,
    ExportOptions,
    ExportScope,
    NoteRecord,
    PatientDataDocument,
    Person,
    ReadingRecord,
    RevisionRecord,
    SafetyFlagRecord,
    SafetyPlanRecord,
    SafetyPlanVersionRecord,
    Scope,
    ScoreRecord,
    ScreeningRecord,
    SessionRecord,
)


def utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _person(p: Person) -> dict[str, Any]:
    return {"id": str(p.id), "name": p.name, "role": p.role.value}


def _options(o: ExportOptions) -> dict[str, Any]:
    return {
        "span": o.span.value,
        "date_from": day(o.date_from),
        "date_to": day(o.date_to),
        "session_ids": sorted(str(i) for i in o.session_ids),
        "phases": [p.value for p in o.phases],
        "include_private": o.include_private,
        "include_psychotherapy_notes": o.include_psychotherapy_notes,
    }


def _revision(r: RevisionRecord) -> dict[str, Any]:
    return {
        "entry_version": r.entry_version,
        "phase": r.phase.value,
        "visibility": r.visibility.value,
        "title": r.title,
        "body_markdown": r.body,
        "mood": r.mood,
        "written_by": r.written_by,
        "written_at": utc(r.written_at),
    }


def _comment(c: CommentRecord) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "author": _person(c.author),
        "visibility": c.visibility.value,
        "quote": c.quote,
        "body_markdown": c.body,
        "created_at": utc(c.created_at),
        "replies": [_comment(r) for r in c.replies],
    }


def _note(n: NoteRecord) -> dict[str, Any]:
    return {
        "id": str(n.id),
        "author": n.author,
        "body_markdown": n.body,
        "created_at": utc(n.created_at),
        "updated_at": utc(n.updated_at),
    }


def _entry(e: EntryRecord) -> dict[str, Any]:
    return {
        "id": str(e.id),
        "phase": e.phase.value,
        "visibility": e.visibility.value,
        "title": e.title,
        "body_markdown": e.body,
        "mood": e.mood,
        "author": _person(e.author),
        "created_at": utc(e.created_at),
        "updated_at": utc(e.updated_at),
        "version": e.version,
        "intentions": list(e.intentions),
        "revisions": [_revision(r) for r in e.revisions],
        "comments": [_comment(c) for c in e.comments],
        "reviews": [
            {
                "clinician": r.clinician,
                "reviewed_at": utc(r.reviewed_at),
                "changed_since": r.changed_since,
            }
            for r in e.reviews
        ],
        "themes": [{"kind": t.kind.value, "name": t.name} for t in e.themes],
        "outcomes": [
            {"intention": o.intention, "status": o.status.value, "reflection": o.reflection or None}
            for o in e.outcomes
        ],
    }


def _session(s: SessionRecord, scope: ExportScope) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(s.id),
        "number": s.number,
        "scheduled_at": utc(s.scheduled_at),
        "status": s.status.value,
        "entries": [_entry(e) for e in s.entries],
    }
    if scope.psychotherapy_notes is not None:  # the key is absent when notes are left out
        data["psychotherapy_notes"] = [_note(n) for n in s.psychotherapy_notes]
    if s.clinical is not None and s.clinical.for_patient:  # the patient's own view
        data["dosing_record"] = _dosing_record(s.clinical)
    elif s.clinical is not None:  # a clinician's export of a session with a record
        c = s.clinical
        data["clinical_record"] = {
            "route": c.route,
            "dose_mg": c.dose_mg,
            "dose_mg_per_kg": c.dose_mg_per_kg,
            "blood_pressure_before": c.pre_bp,
            "heart_rate_before": c.pre_heart_rate,
            "blood_pressure_after": c.post_bp,
            "heart_rate_after": c.post_heart_rate,
            "side_effects": list(c.side_effects),
            "dissociation": c.dissociation,
            "pre_dose_bp_at_or_above_140_90": c.bp_flag,
            "bp_flags": [{"reading": r, "threshold": t} for r, t in c.bp_breaches],
            "side_effects_other": c.side_effects_other,
            "weight_kg": c.weight_kg,
            "time_given": c.time_given,
            "adjuncts": c.adjuncts,
            "setting": c.setting,
            "clinicians_present": list(c.clinicians_present),
            "discharge_notes": c.discharge_notes,
            "dose_notice": c.dose_notice,
            **_dosing_record(c),
            "history": [_amendment(a) for a in c.history],
        }
    return data


def _amendment(a: AmendmentRecord) -> dict[str, Any]:
    return {
        "version": a.version,
        "saved_by": a.saved_by,
        "saved_at": utc(a.saved_at),
        "changes": list(a.changes),
    }


def _dosing_record(c: ClinicalRecord) -> dict[str, Any]:
    """What the patient reads of a session's record; a clinician's export adds the
    notes on readings and checklist items, and the flags, to the same keys."""

    def reading(r: ReadingRecord) -> dict[str, Any]:
        found: dict[str, Any] = {
            "point": r.point,
            "time": r.time,
            "blood_pressure": r.blood_pressure,
            "heart_rate": r.heart_rate,
            "spo2": r.spo2,
            "breathing_rate": r.breathing_rate,
        }
        if not c.for_patient:
            found.update(note=r.note, flag=r.flag)
        return found

    def answer(a: AnswerLine, notes: bool = True) -> dict[str, Any]:
        return {"item": a.item, "answer": a.answer, **({"note": a.note} if notes else {})}

    return {
        "route": c.route,
        "dose_mg": c.dose_mg,
        "dose_mg_per_kg": c.dose_mg_per_kg,
        "weight_kg": c.weight_kg,
        "time_given": c.time_given,
        "adjuncts": c.adjuncts,
        "discharge_notes": c.discharge_notes,
        "drug": c.drug,
        "modality": c.modality,
        "vitals": [reading(r) for r in c.readings],
        "pre_session_checklist": [answer(a, not c.for_patient) for a in c.pre_session],
        "discharge_criteria": [answer(a) for a in c.discharge_criteria],
        "discharge_time": c.discharge_time,
    }


def _scope(s: ExportScope) -> dict[str, Any]:
    notes = s.psychotherapy_notes
    return {
        "scope": s.scope.value,
        "exporter": _person(s.exporter),
        "options": _options(s.options),
        "psychotherapy_notes": None
        if notes is None
        else {"included_by": _person(notes.included_by), "reason": notes.reason},
    }


def _screening(s: ScreeningRecord | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "checklist": s.checklist,
        "checklist_version": s.checklist_version,
        "reviewed_on": day(s.reviewed_on),
        "reviewer": s.reviewer,
        "needs_clinician_review": s.needs_clinician_review,
        "items": [{"text": i.text, "answer": i.answer, "note": i.note or None} for i in s.items],
        "rechecks": [
            {
                "checked_at": utc(r.checked_at),
                "checked_by": r.checked_by,
                "session_number": r.session_number,
                "no_change": r.no_change,
                "changes": [
                    {"text": c.text, "before": c.before, "after": c.after, "note": c.note or None}
                    for c in r.changes
                ],
                "note": r.note or None,
            }
            for r in s.rechecks
        ],
        "history": [_amendment(a) for a in s.history],
    }


def _consent_version(v: ConsentVersionRecord) -> dict[str, Any]:
    return {
        "version": v.version,
        "document_version": v.document_version,
        "consented_on": day(v.consented_on),
        "witness": v.witness,
        "items": [{"text": i.text, "checked": i.checked} for i in v.items],
        "note": v.note or None,
        "saved_by": v.saved_by,
        "saved_at": utc(v.saved_at),
        "changes": list(v.changes),
    }


def _consent(record: ConsentRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return _consent_version(record.current) | {
        "earlier_versions": [_consent_version(v) for v in record.earlier]
    }


def _plan_version(v: SafetyPlanVersionRecord) -> dict[str, Any]:
    return {
        "version": v.version,
        "saved_by": v.saved_by,
        "saved_at": utc(v.saved_at),
        "steps": [{"key": st.key, "title": st.title, "text": st.text} for st in v.steps],
        "changes": list(v.changes),
    }


def _safety_plan(plan: SafetyPlanRecord | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return _plan_version(plan.current) | {
        "earlier_versions": [_plan_version(v) for v in plan.earlier]
    }


def course_data(doc: CourseDocument) -> dict[str, Any]:
    data = _course_data(doc)
    data["safety_plan"] = _safety_plan(doc.safety_plan)
    data["consent"] = _consent(doc.consent)
    if doc.scope.scope == Scope.CLINICIAN:  # the keys are absent from a patient's export
        data["screening"] = _screening(doc.screening)
        data["safety_flags"] = [_flag(f) for f in doc.safety_flags]
    return data


def _flag(f: SafetyFlagRecord) -> dict[str, Any]:
    return {
        "detail": f.detail,
        "raised_at": utc(f.raised_at),
        "acknowledged_by": f.acknowledged_by,
        "acknowledged_at": utc(f.acknowledged_at) if f.acknowledged_at else None,
        "action": f.action,
        "action_label": f.action_label,
        "note": f.note or None,
    }


def _course_data(doc: CourseDocument) -> dict[str, Any]:
    return {
        "course": {
            "id": str(doc.course.id),
            "status": doc.course.status,
            "started_on": day(doc.course.started_on),
            "ended_on": day(doc.course.ended_on),
            "indication": doc.course.indication,
        },
        "scope": _scope(doc.scope),
        "patient": _person(doc.patient),
        "care_team": [_person(p) for p in doc.care_team],
        "sessions_in_course": doc.sessions_in_course,
        "sessions": [_session(s, doc.scope) for s in doc.sessions],
        "between_sessions": [_entry(e) for e in doc.between_sessions],
        "intentions": [
            {
                "text": i.text,
                "session_number": i.session_number,
                "entry_id": str(i.entry_id),
                "set_at": utc(i.set_at),
                "outcomes": [
                    {
                        "session_number": o.session_number,
                        "entry_id": str(o.entry_id),
                        "recorded_at": utc(o.recorded_at),
                        "status": o.status.value,
                        "reflection": o.reflection or None,
                    }
                    for o in i.outcomes
                ],
            }
            for i in doc.intentions
        ],
        "themes": [
            {
                "kind": t.kind.value,
                "name": t.name,
                "session_numbers": list(t.session_numbers),
                "entries": t.entries,
            }
            for t in doc.themes
        ],
        "questionnaires": [
            {
                "instrument_id": q.instrument_id,
                "title": q.title,
                "scores": [
                    {
                        "submitted_at": utc(r.submitted_at),
                        "total": r.total,
                        "max_score": r.max_score,
                        "band": r.band,
                        "session_number": r.session_number,
                        "filed_under": r.filed_under,
                        "safety_flag": r.safety_flag,
                        "review_note": r.review_note,
                        **_score_details(r),
                    }
                    for r in q.scores
                ],
            }
            for q in doc.questionnaires
        ],
    }


def _score_details(r: ScoreRecord) -> dict[str, Any]:
    """Review flags, cluster scores and each answer in words: a clinician's export only."""
    if r.review_flags is None or r.clusters is None or r.answers is None:
        return {}
    return {
        "review_flags": [{"id": f.id, "label": f.label, "value": f.value} for f in r.review_flags],
        "cluster_scores": [
            {"id": c.id, "label": c.label, "score": c.score, "max_score": c.max_score}
            for c in r.clusters
        ],
        "answers": [
            {
                "item_id": a.item_id,
                "number": a.number,
                "text": a.text,
                "value": a.value,
                "answer": a.words,
                "scored": a.scored,
            }
            for a in r.answers
        ],
    }


def _language(code: str) -> dict[str, Any]:
    """The language of the words in labels, when not English (the keys never change)."""
    return {} if code == "en" else {"language": code}


def course_json(doc: CourseDocument) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "kind": "course_summary",
        **_language(doc.language),
        "generated_at": utc(doc.generated_at),
        "clinic": doc.clinic_name,
        **course_data(doc),
    }


def _account(a: AccountInfo) -> dict[str, Any]:
    return {
        "id": str(a.id),
        "name": a.name,
        "email": a.email,
        "role": a.role.value,
        "created_at": utc(a.created_at),
    }


def patient_data_json(doc: PatientDataDocument) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "kind": "patient_data",
        **_language(doc.language),
        "generated_at": utc(doc.generated_at),
        "clinic": doc.clinic_name,
        "account": _account(doc.account),
        "courses": [course_data(c) for c in doc.courses],
    }


def dumps(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode()


def render_course(doc: CourseDocument) -> bytes:
    return dumps(course_json(doc))


def render_patient_data(doc: PatientDataDocument) -> bytes:
    return dumps(patient_data_json(doc))
