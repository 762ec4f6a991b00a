"""Markdown: the summary as plain text with structure, for any editor."""

from __future__ import annotations

from journal.models import Phase
from journal.services.export import text
from journal.services.export.model import CourseDocument, EntryRecord


def _escape(value: str) -> str:
    """Names and titles are shown as written, not read as Markdown."""
    out = value.replace("\\", "\\\\")
    for ch in "`*_[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", " ")


def _entry(doc: CourseDocument, e: EntryRecord, you: bool) -> list[str]:
    z = doc.zone
    by = "You" if you else _escape(e.author.name)
    meta = [by, text.when(e.created_at, z), text.VISIBILITY[e.visibility]]
    if e.mood is not None:
        meta.append(f"mood {e.mood}/10")
    if e.version > 1:
        meta.append(f"edited {text.when(e.updated_at, z)} (version {e.version})")
    lines = [f"#### {_escape(e.title)}", "", f"*{' · '.join(meta)}*", ""]
    if e.intentions:
        lines += ["Intentions:", "", *[f"- {_escape(i)}" for i in e.intentions], ""]
    body = e.body.strip()
    if body:
        lines += [body, ""]
    for r in e.revisions:
        lines += [
            f"> Earlier version {r.entry_version}, written by {_escape(r.written_by)} "
            f"on {text.when(r.written_at, z)} ({text.VISIBILITY[r.visibility]}): "
            f"**{_escape(r.title)}**",
            ">",
            *[f"> {line}".rstrip() for line in r.body.strip().splitlines()],
            "",
        ]
    return lines


def course_lines(doc: CourseDocument, level: int = 1) -> list[str]:
    z = doc.zone
    h = "#" * level
    you_id = doc.scope.exporter.id
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
        "",
        f"{h}# Dosing sessions",
        "",
    ]
    if doc.sessions:
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
        lines += [f"- Session {i.session_number}: {_escape(i.text)}" for i in doc.intentions]
    else:
        lines.append("No intentions in this export.")
    lines.append("")
    for s in doc.sessions:
        lines += [
            f"{h}# Session {s.number}: {text.when(s.scheduled_at, z)} ({text.STATUS[s.status]})",
            "",
        ]
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
                lines += _entry(doc, e, you=e.author.id == you_id)
    return lines


def render_course(doc: CourseDocument) -> bytes:
    return ("\n".join(course_lines(doc)).rstrip() + "\n").encode()
