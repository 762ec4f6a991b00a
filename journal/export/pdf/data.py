"""The document model as the data the Typst template lays out.

Everything the template prints is decided here: words, dates in the clinic's
time zone, and which parts a scope shows (the same rules as the HTML template,
templates/export/document.html). The result is plain JSON: strings, numbers,
lists and the Markdown nodes of nodes.py. The template never interprets a
string; it only places it.

People are named, never "You": the file is read by others than its exporter.
"""

from __future__ import annotations

from typing import Any

from journal.export import text
from journal.export.model import (
    AmendmentRecord,
    CommentRecord,
    CourseDocument,
    EntryRecord,
    PatientDataDocument,
    QuestionnaireTrend,
    SafetyPlanVersionRecord,
    Scope,
    SessionRecord,
)
from journal.export.pdf.nodes import markdown_nodes
from journal.models import Phase, Visibility

PAPER = {"a4": "a4", "letter": "us-letter"}
Data = dict[str, Any]


def _comment(doc: CourseDocument, c: CommentRecord, reply: bool = False) -> Data:
    meta = [text.when(c.created_at, doc.zone)]
    if doc.scope.scope == Scope.CLINICIAN:
        meta.append(text.VISIBILITY[c.visibility])
    return {
        "by": f"{'Reply' if reply else 'Comment'} by {c.author.name}",
        "meta": " · ".join(meta),
        "staff": c.visibility == Visibility.CLINICIAN_ONLY,
        "quote": f"“{c.quote}”" if c.quote else None,
        "body": markdown_nodes(c.body),
        "replies": [_comment(doc, r, True) for r in c.replies],
    }


def _entry(doc: CourseDocument, e: EntryRecord) -> Data:
    meta = [e.author.name, text.when(e.created_at, doc.zone), text.VISIBILITY[e.visibility]]
    if e.mood is not None:
        meta.append(f"mood {e.mood}/10")
    if e.version > 1:
        meta.append(f"edited {text.when(e.updated_at, doc.zone)} (version {e.version})")
    notes = []
    for r in e.reviews:
        notes.append(
            text.review(r, doc.zone) + (" (changed since review)" if r.changed_since else "")
        )
    if e.themes:
        notes.append("Themes: " + "; ".join(f"{t.kind.value}: {t.name}" for t in e.themes))
    return {
        "title": e.title,
        "phase": e.phase.value,
        "meta": " · ".join(meta),
        "intentions": list(e.intentions),
        "outcomes": [
            {
                "status": text.OUTCOMES[o.status],
                "intention": o.intention,
                "reflection": o.reflection,
            }
            for o in e.outcomes
        ],
        "body": markdown_nodes(e.body),
        "review": " · ".join(notes),
        "revisions": [
            {
                "meta": f"Earlier version {r.entry_version}, written by {r.written_by} on "
                f"{text.when(r.written_at, doc.zone)} · {text.VISIBILITY[r.visibility]}",
                "title": r.title,
                "body": markdown_nodes(r.body),
            }
            for r in e.revisions
        ],
        "comments": [_comment(doc, c) for c in e.comments],
    }


def _session(doc: CourseDocument, s: SessionRecord) -> Data:
    phases = [
        {"label": text.PHASES[p], "phase": p.value, "entries": [_entry(doc, e) for e in found]}
        for p in Phase
        if p in doc.scope.options.phases and (found := s.in_phase(p))
    ]
    disclosure = doc.scope.psychotherapy_notes
    notes = None
    if disclosure is not None:
        notes = {
            "heading": text.notes_heading(disclosure),
            "items": [
                {
                    "meta": f"{n.author} · {text.when(n.created_at, doc.zone)}",
                    "body": markdown_nodes(n.body),
                }
                for n in s.psychotherapy_notes
            ],
        }
    return {
        "heading": f"Session {s.number}: {text.when(s.scheduled_at, doc.zone)}",
        "status": text.STATUS[s.status],
        "details": [list(pair) for pair in text.record_details(s.clinical)],
        "history": _history(doc, s.clinical.history if s.clinical else ()),
        "empty": not s.entries,
        "phases": phases,
        "notes": notes,
    }


def _history(doc: CourseDocument, versions: tuple[AmendmentRecord, ...]) -> list[Data]:
    """Each version of a record changed in place, newest first, with what it changed."""
    return [
        {
            "line": text.amendment_line(a, doc.zone),
            "changes": text.amendment_changes(a.version, a.changes),
        }
        for a in versions
    ]


def _changes(version: int, changes: tuple[str, ...]) -> list[str]:
    """What a version of the plan or the consent record changed; nothing for the first,
    nor for one saved again as it was."""
    return [] if version == 1 else list(changes)


def _between(doc: CourseDocument) -> list[Data]:
    """Entries tied to no session, after the sessions, laid out like one."""
    if not doc.between_sessions:
        return []
    phases = [
        {"label": text.PHASES[p], "phase": p.value, "entries": [_entry(doc, e) for e in found]}
        for p in Phase
        if (found := [e for e in doc.between_sessions if e.phase == p])
    ]
    return [
        {
            "heading": text.BETWEEN_HEADING,
            "status": "",
            "details": [],
            "empty": False,
            "phases": phases,
            "notes": None,
        }
    ]


def _questionnaire(doc: CourseDocument, q: QuestionnaireTrend) -> Data:
    clinician = doc.scope.scope == Scope.CLINICIAN
    rows = []
    for r in q.scores:
        if clinician:
            note = [f"Review: {f.label}" for f in r.review_flags or ()] or ["None"]
        else:
            note = [r.review_note] if r.review_note else []
        rows.append(
            [
                text.day(r.submitted_at, doc.zone),
                f"{r.total} of {r.max_score}" + (" (safety flag)" if r.safety_flag else ""),
                r.band,
                r.filed_under or "Once",
                note,
            ]
        )
    answers = []
    if clinician:
        for r in q.scores:
            answers.append(
                {
                    "heading": f"Answers of {text.day(r.submitted_at, doc.zone)}: "
                    f"{r.total} of {r.max_score}, {r.band}",
                    "clusters": [
                        [c.label, f"{c.score} of {c.max_score}"] for c in r.clusters or ()
                    ],
                    "items": [
                        [
                            str(a.number or ""),
                            a.text + ("" if a.scored else " (not counted in the total)"),
                            f"{a.words} ({a.value})",
                        ]
                        for a in r.answers or ()
                    ],
                }
            )
    return {
        "title": q.title,
        "chart": q.chart_svg,
        "note_header": "Review flags" if clinician else "Note",
        "rows": rows,
        "answers": answers,
    }


def _facts(doc: CourseDocument) -> list[list[str]]:
    course = doc.course
    dates = f"started {text.day(course.started_on, doc.zone)}"
    if course.ended_on:
        dates += f", ended {text.day(course.ended_on, doc.zone)}"
    facts = [
        ["Patient", doc.patient.name],
        ["Care team", ", ".join(p.name for p in doc.care_team) or "none"],
        ["Course", f"{dates} ({course.status})"],
    ]
    if course.indication:
        facts.append(["Indication", course.indication])
    facts += [
        ["Clinic", doc.clinic_name],
        ["Exported", f"by {doc.scope.exporter.name} on {text.when(doc.generated_at, doc.zone)}"],
        ["Scope", text.SCOPES[doc.scope.scope]],
        ["Covers", text.span(doc.scope.options, doc)],
    ]
    notes = doc.scope.psychotherapy_notes
    if notes:
        facts.append(
            ["Psychotherapy notes", f"included by {notes.included_by.name}: {notes.reason}"]
        )
    return facts


def _safety_plan(doc: CourseDocument) -> Data | None:
    """The plan in use, then each earlier version: steps as (title, text) pairs."""
    plan = doc.safety_plan
    if plan is None:
        return None

    def version(v: SafetyPlanVersionRecord, heading: str) -> Data:
        return {
            "heading": heading,
            "saved": f"Version {v.version}, saved by {v.saved_by}, "
            f"{text.when(v.saved_at, doc.zone)}.",
            "steps": [[step.title, step.text.strip()] for step in v.steps],
            "changes": _changes(v.version, v.changes),
        }

    return {
        "current": version(plan.current, "Safety plan"),
        "earlier": [version(v, f"Earlier version {v.version}") for v in plan.earlier],
    }


def _consent(doc: CourseDocument) -> list[Data] | None:
    """The consent record now, then each earlier version: facts as (label, value) pairs."""
    record = doc.consent
    if record is None:
        return None
    return [
        {
            "heading": "Consent to treatment" if n == 0 else f"Earlier version {v.version}",
            "saved": text.consent_saved(v, doc.zone),
            "facts": [list(pair) for pair in text.consent_facts(v, doc.zone)],
            "note": v.note.strip(),
            "changes": _changes(v.version, v.changes),
        }
        for n, v in enumerate((record.current, *record.earlier))
    ]


def course_data(doc: CourseDocument) -> Data:
    clinician = doc.scope.scope == Scope.CLINICIAN
    clinical = any(s.clinical for s in doc.sessions)
    screening = None
    if clinician and doc.screening:
        sc = doc.screening
        screening = {
            "summary": f"{sc.checklist} (version {sc.checklist_version}). "
            + text.screening_summary(
                sc.needs_clinician_review, sc.reviewer, sc.reviewed_on, doc.zone
            ),
            "items": [[i.text, text.ANSWERS[i.answer], i.note] for i in sc.items],
            "rechecks": [
                {"line": text.recheck_line(r, doc.zone), "changes": text.recheck_changes(r)}
                for r in sc.rechecks
            ],
            "history": _history(doc, sc.history),
        }
    flags = []
    for f in doc.safety_flags if clinician else ():
        lines = []
        if f.acknowledged_at:
            lines.append(
                f"Acknowledged by {f.acknowledged_by}, {text.when(f.acknowledged_at, doc.zone)}."
            )
            if f.action_label:
                lines.append(f"What was done: {f.action_label}" + (f": {f.note}" if f.note else ""))
        else:
            lines.append("Not acknowledged yet.")
        flags.append(
            {
                "detail": f.detail,
                "raised": f"(raised {text.when(f.raised_at, doc.zone)})",
                "lines": lines,
            }
        )
    return {
        "running": f"{doc.patient.name} · course started "
        f"{text.day(doc.course.started_on, doc.zone)}",
        "facts": _facts(doc),
        "clinical": clinical,
        "table": [
            {
                "number": str(s.number),
                "date": text.when(s.scheduled_at, doc.zone),
                "status": text.STATUS[s.status],
                "record": text.clinical_cells(s.clinical) if clinical else [],
                "entries": str(len(s.entries)),
            }
            for s in doc.sessions
        ],
        "intentions": [
            {
                "session": f"{text.session_name(i.session_number)}:",
                "text": i.text,
                "outcomes": [
                    {
                        "after": f"{text.after_session(o.session_number)}:",
                        "status": text.OUTCOMES[o.status],
                        "reflection": o.reflection,
                    }
                    for o in i.outcomes
                ],
            }
            for i in doc.intentions
        ],
        "clinician": clinician,
        "screening": screening,
        "flags": flags,
        "plan": _safety_plan(doc),
        "consent": _consent(doc),
        "questionnaires": [_questionnaire(doc, q) for q in doc.questionnaires],
        "themes": [
            [t.kind.value + ":", t.name, f"({text.sessions_list(t.session_numbers)})"]
            for t in doc.themes
        ],
        "sessions": [_session(doc, s) for s in doc.sessions] + _between(doc),
    }


def course_summary(doc: CourseDocument, paper: str) -> Data:
    return {
        "paper": PAPER[paper],
        "title": "Treatment-course summary",
        "account": None,
        "courses": [course_data(doc)],
    }


def patient_data(doc: PatientDataDocument, paper: str) -> Data:
    account = doc.account
    return {
        "paper": PAPER[paper],
        "title": "Everything in my journal",
        "account": {
            "running": f"{account.name} · everything in my journal",
            "facts": [
                ["Name", account.name],
                ["Account", f"{account.email}, since {text.day(account.created_at, doc.zone)}"],
                ["Clinic", doc.clinic_name],
                ["Exported", text.when(doc.generated_at, doc.zone)],
            ],
        },
        "courses": [course_data(c) for c in doc.courses],
    }
