"""Markdown: the summary as plain text with structure, for any editor."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from journal.core.labels import N_
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
from journal.export.text import tr
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
    said = N_("Reply by %(name)s", name=by) if reply else N_("Comment by %(name)s", name=by)
    meta = [tr(said), text.when(c.created_at, doc.zone)]
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
        changed = " " + tr(N_("(changed since review)")) if r.changed_since else ""
        lines += [f"*{text.review(r, doc.zone)}{changed}*", ""]
    if e.themes:
        tags = "; ".join(text.labelled(text.THEME_KINDS[t.kind], _escape(t.name)) for t in e.themes)
        lines += [tr(N_("Themes: %(themes)s", themes=tags)), ""]
    return lines


def _notes(doc: CourseDocument, s: SessionRecord, h: str) -> list[str]:
    disclosure = doc.scope.psychotherapy_notes
    if disclosure is None:
        return []
    lines = [f"{h}## {_escape(text.notes_heading(disclosure))}", ""]
    if not s.psychotherapy_notes:
        lines += [tr(N_("No psychotherapy notes for this session.")), ""]
    for n in s.psychotherapy_notes:
        lines += [f"*{_escape(n.author)} · {text.when(n.created_at, doc.zone)}*", ""]
        lines += [n.body.strip(), ""]
    return lines


def _record_lines(details: list[tuple[str, str]]) -> list[str]:
    """One item per field; a note of several lines keeps them, indented under its item."""
    lines = []
    for label, value in details:
        first, *rest = value.strip().splitlines() or [""]
        lines.append(f"- {text.labelled(label, _escape(first))}")
        lines += [f"  {_escape(line)}".rstrip() for line in rest]
    return lines


def _screening(doc: CourseDocument, h: str) -> list[str]:
    lines = [_heading(f"{h}#", N_("Screening checklist")), ""]
    s = doc.screening
    if s is None:
        return [*lines, tr(N_("No screening recorded for this course.")), ""]
    summary = text.screening_summary(s.needs_clinician_review, s.reviewer, s.reviewed_on, doc.zone)
    checklist = N_(
        "%(checklist)s (version %(version)s).",
        checklist=_escape(s.checklist),
        version=_escape(s.checklist_version),
    )
    lines += [tr(checklist), ""]
    lines += [_escape(summary), "", _header(N_("Item"), N_("Answer"), N_("Note"))]
    lines.append("| --- | --- | --- |")
    lines += [
        f"| {_escape(i.text)} | {text.ANSWERS[i.answer]} | {_escape(i.note)} |" for i in s.items
    ]
    lines += ["", _heading(f"{h}##", N_("Re-checks before sessions")), ""]
    for r in s.rechecks:
        lines.append(f"- {_escape(text.recheck_line(r, doc.zone))}")
        lines += [f"  - {_escape(change)}" for change in text.recheck_changes(r)]
    if not s.rechecks:
        lines.append(tr(N_("Not re-checked yet.")))
    lines.append("")
    if s.history:
        lines += [f"{h}## {text.screening_history()}", "", *_history(doc, s.history)]
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
    said = tr(N_("Changed from the version before:"))
    return [said, "", *(f"- {_escape(c)}" for c in changes), ""]


def _consent(doc: CourseDocument, h: str) -> list[str]:
    """The consent record now, then each earlier version."""
    record = doc.consent
    if record is None:
        return []
    lines = [_heading(f"{h}#", N_("Consent to treatment")), ""]
    for n, v in enumerate((record.current, *record.earlier)):
        if n:
            earlier = N_("Earlier version %(version)s", version=v.version)
            lines += [_heading(f"{h}##", earlier), ""]
        lines += [_escape(text.consent_saved(v, doc.zone)), ""]
        lines += _changes(v.version, v.changes)
        lines += [
            f"- {text.labelled(_escape(label), _escape(value))}"
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
    lines = [_heading(f"{h}#", N_("Safety plan")), ""]
    lines += [text.saved_line(now.version, _escape(now.saved_by), now.saved_at, z), ""]
    lines += _changes(now.version, now.changes)
    lines += _plan_steps(now)
    for v in plan.earlier:
        earlier = N_(
            "Earlier version %(version)s: saved by %(name)s, %(when)s",
            version=v.version,
            name=_escape(v.saved_by),
            when=text.when(v.saved_at, z),
        )
        lines += [
            f"{h}## {tr(earlier)}",
            "",
            *_changes(v.version, v.changes),
            *_plan_steps(v),
        ]
    return lines


def _safety_flags(doc: CourseDocument, h: str) -> list[str]:
    """Each safety flag, when it was raised, and who acknowledged it, when and what was done."""
    lines = [_heading(f"{h}#", N_("Safety flags")), ""]
    if not doc.safety_flags:
        return [*lines, tr(N_("No safety flags on this course.")), ""]
    for f in doc.safety_flags:
        raised = tr(N_("(raised %(when)s)", when=text.when(f.raised_at, doc.zone)))
        lines.append(f"- {_escape(f.detail)} {raised}")
        if f.acknowledged_at is None:
            lines.append("  - " + tr(N_("Not acknowledged yet.")))
            continue
        by = _escape(f.acknowledged_by or "")
        acknowledged = N_(
            "Acknowledged by %(name)s, %(when)s.",
            name=by,
            when=text.when(f.acknowledged_at, doc.zone),
        )
        lines.append(f"  - {tr(acknowledged)}")
        if f.action_label:
            note = _escape(" ".join(f.note.split()))  # one line
            lines.append(f"  - {text.action_done(_escape(f.action_label), note)}")
    return [*lines, ""]


def _entry(doc: CourseDocument, e: EntryRecord) -> list[str]:
    z = doc.zone
    by = _escape(e.author.name)
    meta = [by, text.when(e.created_at, z), text.VISIBILITY[e.visibility]]
    meta += text.entry_meta(e, z)
    lines = [f"#### {_escape(e.title)}", "", f"*{' · '.join(meta)}*", ""]
    if e.intentions:
        heading = tr(N_("Intentions:"))
        lines += [heading, "", *[f"- {_escape(i)}" for i in e.intentions], ""]
    if e.outcomes:
        lines += [tr(N_("How intentions went:")), ""]
        for o in e.outcomes:
            said = f" — {_escape(o.reflection)}" if o.reflection else ""
            went = text.labelled(text.OUTCOMES[o.status], _escape(o.intention))
            lines.append(f"- {went}{said}")
        lines.append("")
    body = e.body.strip()
    if body:
        lines += [body, ""]
    lines += _review_lines(doc, e)
    for r in e.revisions:
        earlier = N_(
            "Earlier version %(version)s, written by %(name)s on %(when)s (%(visibility)s):",
            version=r.entry_version,
            name=_escape(r.written_by),
            when=text.when(r.written_at, z),
            visibility=text.VISIBILITY[r.visibility],
        )
        lines += [
            f"> {tr(earlier)} **{_escape(r.title)}**",
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
    started = text.day(doc.course.started_on, z)
    if doc.course.ended_on:
        dates = N_(
            "%(started)s, ended %(ended)s",
            started=started,
            ended=text.day(doc.course.ended_on, z),
        )
    else:
        dates = started
    course = N_(
        "Course started: %(dates)s (%(status)s)",
        dates=tr(dates),
        status=text.course_status(doc.course.status),
    )
    care_team = ", ".join(_escape(p.name) for p in doc.care_team) or tr(N_("none"))
    title = N_("Treatment-course summary: %(name)s", name=_escape(doc.patient.name))
    lines = [
        f"{h} {tr(title)}",
        "",
        "- " + tr(N_("Clinic: %(clinic)s", clinic=_escape(doc.clinic_name))),
        "- " + tr(N_("Patient: %(name)s", name=_escape(doc.patient.name))),
        "- " + tr(N_("Care team: %(names)s", names=care_team)),
        f"- {tr(course)}",
    ]
    if doc.course.indication:
        indication = N_("Indication: %(indication)s", indication=_escape(doc.course.indication))
        lines.append(f"- {tr(indication)}")
    exported = N_(
        "Exported by %(name)s on %(when)s",
        name=_escape(doc.scope.exporter.name),
        when=text.when(doc.generated_at, z),
    )
    lines += [
        f"- {tr(exported)}",
        f"- {text.SCOPES[doc.scope.scope]}",
        "- " + tr(N_("Covers: %(covers)s", covers=text.span(doc.scope.options, doc))),
    ]
    if doc.scope.psychotherapy_notes is not None:
        notes = doc.scope.psychotherapy_notes
        included = N_(
            "Psychotherapy notes: included by %(name)s: %(reason)s",
            name=_escape(notes.included_by.name),
            reason=_escape(notes.reason),
        )
        lines.append(f"- {tr(included)}")
    lines += [
        "",
        _heading(f"{h}#", N_("Dosing sessions")),
        "",
    ]
    if doc.sessions and any(s.clinical for s in doc.sessions):
        lines += [
            _header(*text.SESSION_COLUMNS_CLINICAL),
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {s.number} | {text.when(s.scheduled_at, z)} | {text.STATUS[s.status]} "
            f"| {' | '.join(_escape(c) for c in text.clinical_cells(s.clinical))} "
            f"| {len(s.entries)} |"
            for s in doc.sessions
        ]
    elif doc.sessions:
        lines += [_header(*text.SESSION_COLUMNS), "| --- | --- | --- | --- |"]
        lines += [
            f"| {s.number} | {text.when(s.scheduled_at, z)} | {text.STATUS[s.status]} "
            f"| {len(s.entries)} |"
            for s in doc.sessions
        ]
    else:
        lines.append(tr(N_("No dosing sessions in this export.")))
    lines += ["", _heading(f"{h}#", N_("Intentions")), ""]
    if doc.intentions:
        for i in doc.intentions:
            lines.append(f"- {text.labelled(text.session_name(i.session_number), _escape(i.text))}")
            for o in i.outcomes:
                said = f" — {_escape(o.reflection)}" if o.reflection else ""
                lines.append(
                    "  - "
                    + text.labelled(text.after_session(o.session_number), text.OUTCOMES[o.status])
                    + said
                )
    else:
        lines.append(tr(N_("No intentions in this export.")))
    lines.append("")
    lines += _safety_plan(doc, h)
    lines += _consent(doc, h)
    if doc.scope.scope == Scope.CLINICIAN:
        lines += _screening(doc, h)
        lines += _safety_flags(doc, h)
    for q in doc.questionnaires:
        lines += _questionnaire(q, h, z, clinician=doc.scope.scope == Scope.CLINICIAN)
    if doc.themes:
        lines += [_heading(f"{h}#", N_("Themes")), ""]
        lines += [
            f"- {text.labelled(text.THEME_KINDS[t.kind], _escape(t.name))} "
            f"({text.sessions_list(t.session_numbers)})"
            for t in doc.themes
        ]
        lines.append("")
    for s in doc.sessions:
        heading = text.session_heading(s.number, s.scheduled_at, z)
        lines += [f"{h}# {heading} ({text.STATUS[s.status]})", ""]
        details = text.record_details(s.clinical)
        if details:
            lines += [*_record_lines(details), ""]
        if s.clinical is not None and s.clinical.history:
            lines += [f"{h}## {text.record_history()}", "", *_history(doc, s.clinical.history)]
        if not s.entries:
            lines += [tr(N_("Nothing written for this session in this export.")), ""]
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
        lines += [f"{h}# {text.between_heading()}", ""]
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
    last = N_("Review flags") if clinician else N_("Note")
    columns = (N_("Date"), N_("Score"), N_("Band"), N_("For"), last)
    lines = [f"{h}# {_escape(q.title)}", "", _header(*columns)]
    lines.append("| --- | --- | --- | --- | --- |")
    for r in q.scores:
        if clinician:
            note = "; ".join(text.review_flag(_escape(f.label)) for f in r.review_flags or ())
        else:
            note = _escape(r.review_note or "")
        once = tr(N_("Once"))
        none = tr(N_("None")) if clinician else ""
        lines.append(
            f"| {text.day(r.submitted_at, z)} | {text.score(r)} | {_escape(r.band)} "
            f"| {r.filed_under or once} | {note or none} |"
        )
    lines.append("")
    if not clinician:
        return lines
    for r in q.scores:
        lines += [f"{h}## {text.answers_heading(r, z, _escape(r.band))}", ""]
        if r.clusters:
            lines.append(tr(N_("Cluster scores:")))
            lines += [
                f"- {text.labelled(_escape(c.label), text.out_of(c.score, c.max_score))}"
                for c in r.clusters
            ]
            lines.append("")
        lines.append(tr(N_("Each answer:")))
        for a in r.answers or ():
            number = f"{a.number}. " if a.number else ""
            unscored = " " + tr(text.NOT_COUNTED) if not a.scored else ""
            said = text.labelled(f"{number}{_escape(a.text)}{unscored}", _escape(a.words))
            lines.append(f"- {said} ({a.value})")
        lines.append("")
    return lines


def _heading(marks: str, words: str) -> str:
    """A Markdown heading of marked words, in the language being rendered."""
    return f"{marks} {tr(words)}"


def _header(*columns: str) -> str:
    """A table's header row, its column names in the language being rendered."""
    return "| " + " | ".join(tr(c) for c in columns) + " |"


def render_course(doc: CourseDocument) -> bytes:
    with text.in_language(doc.language):
        return ("\n".join(course_lines(doc)).rstrip() + "\n").encode()
