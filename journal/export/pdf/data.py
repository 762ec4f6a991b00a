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

from journal.core.labels import N_
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
from journal.export.text import tr
from journal.models import Phase, Visibility

PAPER = {"a4": "a4", "letter": "us-letter"}
Data = dict[str, Any]

# The template's own words, by the name it reads them with (`word("...")`).
TEMPLATE_WORDS = {
    "confidential": N_("Confidential: mental-health record"),
    "course_title": text.COURSE_TITLE,
    "intentions": N_("Intentions"),
    "how_intentions_went": N_("How intentions went"),
    "changed": N_("Changed from the version before:"),
    "session": N_("Session"),
    "date": N_("Date"),
    "status": N_("Status"),
    "route": N_("Route"),
    "dose": N_("Dose"),
    "bp_before": N_("BP / HR before"),
    "bp_after": N_("BP / HR after"),
    "side_effects": N_("Side effects"),
    "dissociation": N_("Dissociation"),
    "entries": N_("Entries"),
    "dosing_sessions": N_("Dosing sessions"),
    "no_sessions": N_("No dosing sessions in this export."),
    "no_intentions": N_("No intentions in this export."),
    "screening": N_("Screening checklist"),
    "item": N_("Item"),
    "answer": N_("Answer"),
    "note": N_("Note"),
    "rechecks": N_("Re-checks before sessions"),
    "not_rechecked": N_("Not re-checked yet."),
    "screening_history": N_("History of the screening"),
    "no_screening": N_("No screening recorded for this course."),
    "safety_flags": N_("Safety flags"),
    "no_flags": N_("No safety flags on this course."),
    "score": N_("Score"),
    "band": N_("Band"),
    "for": N_("For"),
    "cluster_scores": N_("Cluster scores"),
    "cluster": N_("Cluster"),
    "each_answer": N_("Each answer"),
    "question": N_("Question"),
    "themes": N_("Themes"),
    "record_history": N_("History of the record"),
    "nothing_written": N_("Nothing written for this session in this export."),
    "no_notes": N_("No psychotherapy notes for this session."),
    "no_course": N_("No course of treatment yet."),
}


def _comment(doc: CourseDocument, c: CommentRecord, reply: bool = False) -> Data:
    meta = [text.when(c.created_at, doc.zone)]
    if doc.scope.scope == Scope.CLINICIAN:
        meta.append(text.VISIBILITY[c.visibility])
    return {
        "by": tr(
            N_("Reply by %(name)s", name=c.author.name)
            if reply
            else N_("Comment by %(name)s", name=c.author.name)
        ),
        "meta": " · ".join(meta),
        "staff": c.visibility == Visibility.CLINICIAN_ONLY,
        "quote": f"“{c.quote}”" if c.quote else None,
        "body": markdown_nodes(c.body),
        "replies": [_comment(doc, r, True) for r in c.replies],
    }


def _entry(doc: CourseDocument, e: EntryRecord) -> Data:
    meta = [e.author.name, text.when(e.created_at, doc.zone), text.VISIBILITY[e.visibility]]
    meta += text.entry_meta(e, doc.zone)
    notes = []
    changed = " " + tr(N_("(changed since review)"))
    for r in e.reviews:
        notes.append(text.review(r, doc.zone) + (changed if r.changed_since else ""))
    if e.themes:
        themes = "; ".join(text.labelled(text.THEME_KINDS[t.kind], t.name) for t in e.themes)
        notes.append(tr(N_("Themes: %(themes)s", themes=themes)))
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
                "meta": tr(
                    N_(
                        "Earlier version %(version)s, written by %(name)s on %(when)s",
                        version=r.entry_version,
                        name=r.written_by,
                        when=text.when(r.written_at, doc.zone),
                    )
                )
                + f" · {text.VISIBILITY[r.visibility]}",
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
        "heading": text.session_heading(s.number, s.scheduled_at, doc.zone),
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
            "heading": text.between_heading(),
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
            note = [text.review_flag(f.label) for f in r.review_flags or ()] or [tr(N_("None"))]
        else:
            note = [r.review_note] if r.review_note else []
        rows.append(
            [
                text.day(r.submitted_at, doc.zone),
                text.score(r),
                r.band,
                r.filed_under or tr(N_("Once")),
                note,
            ]
        )
    answers = []
    if clinician:
        for r in q.scores:
            answers.append(
                {
                    "heading": text.answers_heading(r, doc.zone, r.band),
                    "clusters": [
                        [c.label, text.out_of(c.score, c.max_score)] for c in r.clusters or ()
                    ],
                    "items": [
                        [
                            str(a.number or ""),
                            a.text + ("" if a.scored else " " + tr(text.NOT_COUNTED)),
                            f"{a.words} ({a.value})",
                        ]
                        for a in r.answers or ()
                    ],
                }
            )
    return {
        "title": q.title,
        "chart": q.chart_svg,
        "note_header": tr(N_("Review flags") if clinician else N_("Note")),
        "rows": rows,
        "answers": answers,
    }


def _facts(doc: CourseDocument) -> list[list[str]]:
    return [[tr(label), value] for label, value in text.course_facts(doc)]


def _safety_plan(doc: CourseDocument) -> Data | None:
    """The plan in use, then each earlier version: steps as (title, text) pairs."""
    plan = doc.safety_plan
    if plan is None:
        return None

    def version(v: SafetyPlanVersionRecord, heading: str) -> Data:
        return {
            "heading": heading,
            "saved": text.saved_line(v.version, v.saved_by, v.saved_at, doc.zone),
            "steps": [[step.title, step.text.strip()] for step in v.steps],
            "changes": _changes(v.version, v.changes),
        }

    return {
        "current": version(plan.current, tr(N_("Safety plan"))),
        "earlier": [
            version(v, tr(N_("Earlier version %(version)s", version=v.version)))
            for v in plan.earlier
        ],
    }


def _consent(doc: CourseDocument) -> list[Data] | None:
    """The consent record now, then each earlier version: facts as (label, value) pairs."""
    record = doc.consent
    if record is None:
        return None
    return [
        {
            "heading": tr(
                N_("Consent to treatment")
                if n == 0
                else N_("Earlier version %(version)s", version=v.version)
            ),
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
            "summary": tr(
                N_(
                    "%(checklist)s (version %(version)s).",
                    checklist=sc.checklist,
                    version=sc.checklist_version,
                )
            )
            + " "
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
            acknowledged = N_(
                "Acknowledged by %(name)s, %(when)s.",
                name=f.acknowledged_by or "",
                when=text.when(f.acknowledged_at, doc.zone),
            )
            lines.append(tr(acknowledged))
            if f.action_label:
                lines.append(text.action_done(f.action_label, f.note))
        else:
            lines.append(tr(N_("Not acknowledged yet.")))
        flags.append(
            {
                "detail": f.detail,
                "raised": tr(N_("(raised %(when)s)", when=text.when(f.raised_at, doc.zone))),
                "lines": lines,
            }
        )
    return {
        "running": text.running_head(doc),
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
                "session": text.colon(text.session_name(i.session_number)),
                "text": i.text,
                "outcomes": [
                    {
                        "after": text.colon(text.after_session(o.session_number)),
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
            [
                text.colon(text.THEME_KINDS[t.kind]),
                t.name,
                f"({text.sessions_list(t.session_numbers)})",
            ]
            for t in doc.themes
        ],
        "sessions": [_session(doc, s) for s in doc.sessions] + _between(doc),
    }


def _words() -> Data:
    """The template's own words (headings, column names, notes), in the language."""
    page = tr(N_("Page %(page)s of %(pages)s", page="\x00", pages="\x01"))
    before, _, rest = page.partition("\x00")
    between, _, after = rest.partition("\x01")
    return {
        "lang": text.language(),
        "page": [before, between, after],  # around the page's number and the count
        **{key: tr(words) for key, words in TEMPLATE_WORDS.items()},
    }


def course_summary(doc: CourseDocument, paper: str) -> Data:
    with text.in_language(doc.language):
        return {
            "paper": PAPER[paper],
            "title": tr(text.COURSE_TITLE),
            "words": _words(),
            "account": None,
            "courses": [course_data(doc)],
        }


def patient_data(doc: PatientDataDocument, paper: str) -> Data:
    account = doc.account
    with text.in_language(doc.language):
        return {
            "paper": PAPER[paper],
            "title": tr(text.ACCOUNT_TITLE),
            "words": _words(),
            "account": {
                "running": tr(text.ACCOUNT_RUNNING, name=account.name),
                "facts": [[tr(label), value] for label, value in text.account_facts(doc)],
            },
            "courses": [course_data(c) for c in doc.courses],
        }
