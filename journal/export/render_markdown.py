"""Markdown: the summary as plain text with structure, for any editor."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from journal.export import text
from journal.export.model import (
    AmendmentRecord,
    CommentRecord,
    CourseDocument,
    EntryRecord,
    QuestionnaireTrend,
    SafetyPlanVersionRecord,
    Scope,
    SessionRecord,
)
from journal.models import Phase


def _escape(value: str) -> str:
    """Names and titles are shown as written, not read as Markdown."""
    out = value.replace("\\", "\\\\")
    for ch in "`*_[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", " ")


def _quoted(lines: list[str], depth: int = 1) -> list[str]:
    mark = "> " * depth
    return [f"{mark}{line}".rstrip() for line in lines]


def _comment(doc: CourseDocument, c: CommentRecord, reply: bool = False) -> list[str]:
    """A comment as a quoted block (its passage quoted inside), replies quoted deeper."""
    by = _escape(c.author.name)  # named, never "You": others read the file too
    meta = [f"{'Reply' if reply else 'Comment'} by {by}", text.when(c.created_at, doc.zone)]
    if doc.scope.scope == Scope.CLINICIAN:
        meta.append(text.VISIBILITY[c.visibility])
    lines = [f"**{' · '.join(meta)}**", ""]
    if c.quote:
        lines += [*_quoted([f"“{_escape(c.quote)}”"]), ""]
    lines += c.body.strip().splitlines()
    for r in c.replies:
        lines += ["", *_quoted(_comment(doc, r, reply=True))]
    return lines


def _review_lines(doc: CourseDocument, e: EntryRecord) -> list[str]:
    lines = []
    for r in e.reviews:
        changed = " (changed since review)" if r.changed_since else ""
        lines += [f"*{text.review(r, doc.zone)}{changed}*", ""]
    if e.themes:
        tags = "; ".join(f"{t.kind.value}: {_escape(t.name)}" for t in e.themes)
        lines += [f"Themes: {tags}", ""]
    return lines


def _notes(doc: CourseDocument, s: SessionRecord, h: str) -> list[str]:
    disclosure = doc.scope.psychotherapy_notes
    if disclosure is None:
        return []
    lines = [f"{h}## {_escape(text.notes_heading(disclosure))}", ""]
    if not s.psychotherapy_notes:
        lines += ["No psychotherapy notes for this session.", ""]
    for n in s.psychotherapy_notes:
        lines += [f"*{_escape(n.author)} · {text.when(n.created_at, doc.zone)}*", ""]
        lines += [n.body.strip(), ""]
    return lines


def _record_lines(details: list[tuple[str, str]]) -> list[str]:
    """One item per field; a note of several lines keeps them, indented under its item."""
    lines = []
    for label, value in details:
        first, *rest = value.strip().splitlines() or [""]
        lines.append(f"- {label}: {_escape(first)}")
        lines += [f"  {_escape(line)}".rstrip() for line in rest]
    return lines


def _screening(doc: CourseDocument, h: str) -> list[str]:
    lines = [f"{h}# Screening checklist", ""]
    s = doc.screening
    if s is None:
        return [*lines, "No screening recorded for this course.", ""]
    summary = text.screening_summary(s.needs_clinician_review, s.reviewer, s.reviewed_on, doc.zone)
    lines += [f"{_escape(s.checklist)} (version {_escape(s.checklist_version)}).", ""]
    lines += [_escape(summary), "", "| Item | Answer | Note |", "| --- | --- | --- |"]
    lines += [
        f"| {_escape(i.text)} | {text.ANSWERS[i.answer]} | {_escape(i.note)} |" for i in s.items
    ]
    lines += ["", f"{h}## Re-checks before sessions", ""]
    for r in s.rechecks:
        lines.append(f"- {_escape(text.recheck_line(r, doc.zone))}")
        lines += [f"  - {_escape(change)}" for change in text.recheck_changes(r)]
    if not s.rechecks:
        lines.append("Not re-checked yet.")
    lines.append("")
    if s.history:
        lines += [f"{h}## {text.SCREENING_HISTORY}", "", *_history(doc, s.history)]
    return lines


def _history(doc: CourseDocument, history: tuple[AmendmentRecord, ...]) -> list[str]:
    """Each version of a record changed in place, newest first, with what it changed."""
    lines = []
    for a in history:
        lines.append(f"- {_escape(text.amendment_line(a, doc.zone))}")
        lines += [f"  - {_escape(c)}" for c in text.amendment_changes(a.version, a.changes)]
    return [*lines, ""]


def _changes(version: int, changes: tuple[str, ...]) -> list[str]:
    """What a version of the plan or the consent record changed from the one before."""
    if version == 1 or not changes:
        return []
    return ["Changed from the version before:", "", *(f"- {_escape(c)}" for c in changes), ""]


def _consent(doc: CourseDocument, h: str) -> list[str]:
    """The consent record now, then each earlier version."""
    record = doc.consent
    if record is None:
        return []
    lines = [f"{h}# Consent to treatment", ""]
    for n, v in enumerate((record.current, *record.earlier)):
        if n:
            lines += [f"{h}## Earlier version {v.version}", ""]
        lines += [_escape(text.consent_saved(v, doc.zone)), ""]
        lines += _changes(v.version, v.changes)
        lines += [
            f"- {_escape(label)}: {_escape(value)}"
            for label, value in text.consent_facts(v, doc.zone)
        ]
        lines.append("")
        if v.note:
            lines += [_escape(line).rstrip() for line in v.note.strip().splitlines()]
            lines.append("")
    return lines


def _plan_steps(v: SafetyPlanVersionRecord) -> list[str]:
    lines: list[str] = []
    for step in v.steps:
        lines += [f"**{_escape(step.title)}**", ""]
        lines += [_escape(line).rstrip() for line in step.text.strip().splitlines()]
        lines.append("")
    return lines


def _safety_plan(doc: CourseDocument, h: str) -> list[str]:
    """The plan in use, then each earlier version with who saved it and when."""
    plan = doc.safety_plan
    if plan is None:
        return []
    z, now = doc.zone, plan.current
    lines = [f"{h}# Safety plan", ""]
    lines += [
        f"Version {now.version}, saved by {_escape(now.saved_by)}, {text.when(now.saved_at, z)}.",
        "",
    ]
    lines += _changes(now.version, now.changes)
    lines += _plan_steps(now)
    for v in plan.earlier:
        lines += [
            f"{h}## Earlier version {v.version}: saved by {_escape(v.saved_by)}, "
            f"{text.when(v.saved_at, z)}",
            "",
            *_changes(v.version, v.changes),
            *_plan_steps(v),
        ]
    return lines


def _safety_flags(doc: CourseDocument, h: str) -> list[str]:
    """Each safety flag, when it was raised, and who acknowledged it, when and what was done."""
    lines = [f"{h}# Safety flags", ""]
    if not doc.safety_flags:
        return [*lines, "No safety flags on this course.", ""]
    for f in doc.safety_flags:
        lines.append(f"- {_escape(f.detail)} (raised {text.when(f.raised_at, doc.zone)})")
        if f.acknowledged_at is None:
            lines.append("  - Not acknowledged yet.")
            continue
        by = _escape(f.acknowledged_by or "")
        lines.append(f"  - Acknowledged by {by}, {text.when(f.acknowledged_at, doc.zone)}.")
        if f.action_label:
            note = f": {_escape(' '.join(f.note.split()))}" if f.note else ""  # one line
            lines.append(f"  - What was done: {_escape(f.action_label)}{note}")
    return [*lines, ""]


def _entry(doc: CourseDocument, e: EntryRecord) -> list[str]:
    z = doc.zone
    by = _escape(e.author.name)
    meta = [by, text.when(e.created_at, z), text.VISIBILITY[e.visibility]]
    if e.mood is not None:
        meta.append(f"mood {e.mood}/10")
    if e.version > 1:
        meta.append(f"edited {text.when(e.updated_at, z)} (version {e.version})")
    lines = [f"#### {_escape(e.title)}", "", f"*{' · '.join(meta)}*", ""]
    if e.intentions:
        lines += ["Intentions:", "", *[f"- {_escape(i)}" for i in e.intentions], ""]
    if e.outcomes:
        lines += ["How intentions went:", ""]
        for o in e.outcomes:
            said = f" — {_escape(o.reflection)}" if o.reflection else ""
            lines.append(f"- {text.OUTCOMES[o.status]}: {_escape(o.intention)}{said}")
        lines.append("")
    body = e.body.strip()
    if body:
        lines += [body, ""]
    lines += _review_lines(doc, e)
    for r in e.revisions:
        lines += [
            f"> Earlier version {r.entry_version}, written by {_escape(r.written_by)} "
            f"on {text.when(r.written_at, z)} ({text.VISIBILITY[r.visibility]}): "
            f"**{_escape(r.title)}**",
            ">",
            *[f"> {line}".rstrip() for line in r.body.strip().splitlines()],
            "",
        ]
    for c in e.comments:
        lines += [*_quoted(_comment(doc, c)), ""]
    return lines


def course_lines(doc: CourseDocument, level: int = 1) -> list[str]:
    z = doc.zone
    h = "#" * level
    lines = [
        f"{h} Treatment-course summary: {_escape(doc.patient.name)}",
        "",
        f"- Clinic: {_escape(doc.clinic_name)}",
        f"- Patient: {_escape(doc.patient.name)}",
        "- Care team: " + (", ".join(_escape(p.name) for p in doc.care_team) or "none"),
        f"- Course started: {text.day(doc.course.started_on, z)}"
        + (f", ended {text.day(doc.course.ended_on, z)}" if doc.course.ended_on else "")
        + f" ({doc.course.status})",
    ]
    if doc.course.indication:
        lines.append(f"- Indication: {_escape(doc.course.indication)}")
    lines += [
        f"- Exported by {_escape(doc.scope.exporter.name)} on {text.when(doc.generated_at, z)}",
        f"- {text.SCOPES[doc.scope.scope]}",
        f"- Covers: {text.span(doc.scope.options, doc)}",
    ]
    if doc.scope.psychotherapy_notes is not None:
        notes = doc.scope.psychotherapy_notes
        lines.append(
            f"- Psychotherapy notes: included by {_escape(notes.included_by.name)}: "
            f"{_escape(notes.reason)}"
        )
    lines += [
        "",
        f"{h}# Dosing sessions",
        "",
    ]
    if doc.sessions and any(s.clinical for s in doc.sessions):
        lines += [
            "| Session | Date | Status | Route | Dose | BP / HR before | BP / HR after "
            "| Side effects | Dissociation | Entries |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {s.number} | {text.when(s.scheduled_at, z)} | {text.STATUS[s.status]} "
            f"| {' | '.join(_escape(c) for c in text.clinical_cells(s.clinical))} "
            f"| {len(s.entries)} |"
            for s in doc.sessions
        ]
    elif doc.sessions:
        lines += ["| Session | Date | Status | Entries |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {s.number} | {text.when(s.scheduled_at, z)} | {text.STATUS[s.status]} "
            f"| {len(s.entries)} |"
            for s in doc.sessions
        ]
    else:
        lines.append("No dosing sessions in this export.")
    lines += ["", f"{h}# Intentions", ""]
    if doc.intentions:
        for i in doc.intentions:
            lines.append(f"- {text.session_name(i.session_number)}: {_escape(i.text)}")
            for o in i.outcomes:
                said = f" — {_escape(o.reflection)}" if o.reflection else ""
                lines.append(
                    f"  - {text.after_session(o.session_number)}: {text.OUTCOMES[o.status]}{said}"
                )
    else:
        lines.append("No intentions in this export.")
    lines.append("")
    lines += _safety_plan(doc, h)
    lines += _consent(doc, h)
    if doc.scope.scope == Scope.CLINICIAN:
        lines += _screening(doc, h)
        lines += _safety_flags(doc, h)
    for q in doc.questionnaires:
        lines += _questionnaire(q, h, z, clinician=doc.scope.scope == Scope.CLINICIAN)
    if doc.themes:
        lines += [f"{h}# Themes", ""]
        lines += [
            f"- {t.kind.value}: {_escape(t.name)} ({text.sessions_list(t.session_numbers)})"
            for t in doc.themes
        ]
        lines.append("")
    for s in doc.sessions:
        lines += [
            f"{h}# Session {s.number}: {text.when(s.scheduled_at, z)} ({text.STATUS[s.status]})",
            "",
        ]
        details = text.record_details(s.clinical)
        if details:
            lines += [*_record_lines(details), ""]
        if s.clinical is not None and s.clinical.history:
            lines += [f"{h}## {text.RECORD_HISTORY}", "", *_history(doc, s.clinical.history)]
        if not s.entries:
            lines += ["Nothing written for this session in this export.", ""]
        for phase in Phase:
            if phase not in doc.scope.options.phases:
                continue
            found = s.in_phase(phase)
            if not found:
                continue
            lines += [f"{h}## {text.PHASES[phase]}", ""]
            for e in found:
                lines += _entry(doc, e)
        lines += _notes(doc, s, h)
    if doc.between_sessions:
        lines += [f"{h}# {text.BETWEEN_HEADING}", ""]
        for phase in Phase:
            found = [e for e in doc.between_sessions if e.phase == phase]
            if found:
                lines += [f"{h}## {text.PHASES[phase]}", ""]
                for e in found:
                    lines += _entry(doc, e)
    return lines


def _questionnaire(q: QuestionnaireTrend, h: str, z: ZoneInfo, *, clinician: bool) -> list[str]:
    """The scores as a table; in a clinician's export, each answer's review flags,
    cluster scores and answers in words under it. A patient's has the plain note."""
    last = "Review flags" if clinician else "Note"
    lines = [f"{h}# {_escape(q.title)}", "", f"| Date | Score | Band | For | {last} |"]
    lines.append("| --- | --- | --- | --- | --- |")
    for r in q.scores:
        if clinician:
            note = "; ".join(f"Review: {_escape(f.label)}" for f in r.review_flags or ())
        else:
            note = _escape(r.review_note or "")
        lines.append(
            f"| {text.day(r.submitted_at, z)} | {r.total} of {r.max_score}"
            f"{' (safety flag)' if r.safety_flag else ''} | {_escape(r.band)} "
            f"| {r.filed_under or 'Once'} | {note or ('None' if clinician else '')} |"
        )
    lines.append("")
    if not clinician:
        return lines
    for r in q.scores:
        lines += [
            f"{h}## Answers of {text.day(r.submitted_at, z)}: {r.total} of {r.max_score}, "
            f"{_escape(r.band)}",
            "",
        ]
        if r.clusters:
            lines.append("Cluster scores:")
            lines += [f"- {_escape(c.label)}: {c.score} of {c.max_score}" for c in r.clusters]
            lines.append("")
        lines.append("Each answer:")
        for a in r.answers or ():
            number = f"{a.number}. " if a.number else ""
            unscored = " (not counted in the total)" if not a.scored else ""
            lines.append(f"- {number}{_escape(a.text)}{unscored}: {_escape(a.words)} ({a.value})")
        lines.append("")
    return lines


def render_course(doc: CourseDocument) -> bytes:
    return ("\n".join(course_lines(doc)).rstrip() + "\n").encode()
