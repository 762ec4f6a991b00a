"""Export speed: a course of 40 dosing sessions and 1,000 entries.

    .venv/bin/python bench/export_bench.py [--entries N] [--sessions N]

Builds a throw-away instance (SQLite in a temporary folder) through the
services, with synthetic text (and, on the entries, comments with replies,
themes, reviews, and a psychotherapy note per session), then times the
clinician's export in each format. The PDF is made in a child process so its
memory is measured on its own; that process sends the document to a
typesetting process of its own (Typst, journal/typeset.py), so the figures are
the typesetting process's peak (`pdf_peak_mb`, the largest process), both at
their peaks together (`pdf_all_mb`), and the CPU time of both (`pdf_cpu_s`).

In the same run, that child then typesets the same document with the previous
engine, WeasyPrint (from the printable HTML, in one process; installed for the
benchmark only, see pyproject.toml's `bench` extra): `pdf_previous_engine_s` and its CPU
time, and `pdf_speedup`, the ratio of the two wall-clock times. Without
WeasyPrint (or Pango) these are None.

Targets: PDF at most 2.5 s and 300 MB, at least 8 times faster than WeasyPrint;
HTML, Markdown and JSON under 0.5 s, printed beside the time to open (decrypt)
every sealed value of the course, a reference that a slower machine scales too.
Prints the figures; asserts nothing. `measure_export()` returns them for other
benchmark scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from journal import create_app, export
from journal.accounts import accounts, courses
from journal.bootstrap import ensure_instance, migrate
from journal.config import Argon2Params, Settings
from journal.core.actor import Actor
from journal.core.keys import register_master_key
from journal.crypto import MasterKeyRing
from journal.db import Database
from journal.journaling import entries, themes
from journal.journaling.entries import EntryInput
from journal.models import Phase, Referral, Role, SessionStatus, Visibility
from journal.review import comments, notes, review
from journal.review.comments import CommentInput
from journal.runtime import Runtime

PASSWORD = "benchmark password, fictional"
WORDS = [
    "breath",
    "light",
    "river",
    "quiet",
    "morning",
    "field",
    "memory",
    "warmth",
    "edge",
    "body",
    "colour",
    "sound",
    "grief",
    "open",
    "held",
    "returning",
    "trust",
    "slow",
    "window",
    "tide",
    "garden",
    "voice",
    "small",
    "steady",
]
START = datetime(2031, 1, 5, 9, 0, tzinfo=UTC)


def _settings(folder: Path) -> Settings:
    instance = folder / "instance"
    return Settings(
        instance_path=instance,
        database_url=f"sqlite:///{instance / 'journal.sqlite3'}",
        master_key_path=instance / "keys" / "master.json",
        secret_key_path=instance / "secret_key",
        argon2=Argon2Params(time_cost=1, memory_cost_kib=8, parallelism=1),
        testing=True,
    )


def _runtime(app: Flask) -> Runtime:
    rt: Runtime = app.extensions["journal"]
    return rt


def _app(folder: Path, *, fresh: bool) -> Flask:
    settings = _settings(folder)
    if fresh:
        ensure_instance(settings)
        database = Database(settings.database_url)
        migrate(database)
        with database.session(write=True) as db:
            register_master_key(db, MasterKeyRing.load(settings.master_key_path))
            db.commit()
        database.dispose()
    return create_app(settings)


def _text(rng: random.Random, words: int) -> str:
    sentences = []
    while words > 0:
        n = min(words, rng.randint(6, 14))
        sentences.append(" ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + ".")
        words -= n
    half = len(sentences) // 2
    return " ".join(sentences[:half]) + "\n\n" + " ".join(sentences[half:])


def build_course(app: Flask, entries_count: int, sessions: int) -> tuple[str, str]:
    """A fictional course through the services; returns (course id, clinician email)."""
    rt = _runtime(app)
    rng = random.Random(5)
    with rt.work(write=True) as work:
        db = work.db
        clinician, _ = accounts.create_user(
            db,
            rt.passwords,
            email="bench-clinician@clinic.example",
            name="Bench Clinician (fictional)",
            role=Role.CLINICIAN,
            password=PASSWORD,
        )
        patient, _ = accounts.create_user(
            db,
            rt.passwords,
            email="bench-patient@clinic.example",
            name="Bench Patient (fictional)",
            role=Role.PATIENT,
            password=PASSWORD,
        )
        db.add(Referral(patient_id=patient.id, clinician_id=clinician.id))  # the intake's
        course = courses.create_course(
            work.acting_as(Actor(clinician)),
            patient_email=patient.email,
            clinician_emails=[clinician.email],
            started_on=date(2031, 1, 1),
            indication="Fictional indication for a benchmark",
        )
        held = [
            courses.schedule_session(
                work.acting_as(Actor(clinician)),
                course.id,
                scheduled_at=START + timedelta(days=7 * n),
                status=SessionStatus.COMPLETED,
            )
            for n in range(sessions)
        ]
        phases = list(Phase)
        theme_names = [f"Theme {w}" for w in WORDS[:12]]
        for n in range(entries_count):
            session = held[n % sessions]
            phase = phases[n % 3]
            by_patient = n % 5 != 4
            author = patient if by_patient else clinician
            visibility = Visibility.CARE_TEAM if by_patient or n % 2 else Visibility.CLINICIAN_ONLY
            entry = entries.create_entry(
                work.acting_as(Actor(author)),
                course.id,
                EntryInput(
                    phase=phase,
                    title=f"Entry {n + 1}: " + " ".join(rng.choice(WORDS) for _ in range(4)),
                    body=_text(rng, rng.randint(60, 140)),
                    visibility=visibility,
                    session_id=session.id,
                    mood=rng.randint(1, 10) if by_patient else None,
                    intentions=[_text(rng, 8) for _ in range(2)]
                    if phase == Phase.PREPARATION and by_patient
                    else [],
                ),
                now=session.scheduled_at + timedelta(hours=n % 48 - 24),
            )
            if n % 4 == 0:  # a comment, and the patient's reply when it is shared
                shared = visibility == Visibility.CARE_TEAM
                made = comments.add_comment(
                    work.acting_as(Actor(clinician)),
                    entry.id,
                    CommentInput(body=_text(rng, 30), visibility=visibility),
                )
                if shared:
                    comments.add_comment(
                        work.acting_as(Actor(patient)),
                        entry.id,
                        CommentInput(body=_text(rng, 15), parent_id=made.id),
                    )
            if n % 3 == 0:
                themes.tag_entry(
                    work.acting_as(Actor(clinician)), entry.id, "feelings", rng.choice(theme_names)
                )
        for session in held:
            review.mark_session_reviewed(work.acting_as(Actor(clinician)), course.id, session.id)
            notes.add_note(work.acting_as(Actor(clinician)), course.id, session.id, _text(rng, 80))
        return str(course.id), clinician.email


# The size of the last PDF's data (the JSON the template reads), in KB: what decides
# whether the web request typesets it or hands it to the worker (pdf_queue_above_kb).
last_pdf_data_kb: dict[str, float] = {}


def run_export(app: Flask, course_id: str, email: str, fmt: str) -> tuple[float, int]:
    """Seconds and bytes for one export, as the clinician, typeset in the request as
    a short export is (the benchmark times the typesetting, wherever it runs)."""
    import uuid

    rt = _runtime(app)
    with rt.work(write=True) as work:  # as the export's request: commit, then typeset
        user = accounts.find_user_by_email(work.db, email)
        assert user is not None
        began = time.perf_counter()
        pending = export.export_course(
            work.acting_as(Actor(user)),
            uuid.UUID(course_id),
            fmt,
            export.ExportOptions(),
            clinic_name="Bench clinic",
            zone=rt.settings.zone,
        )
        work.commit()
        if pending.pdf is not None:
            last_pdf_data_kb["kb"] = len(pending.pdf.prepared.data) / 1024
        file = pending.file()
        return time.perf_counter() - began, len(file.content)


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    """This process's peak memory (VmHWM): getrusage's maximum would count the memory of
    the process that started it, as it was when it started."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pdf_child(folder: str, course_id: str, email: str, previous: bool) -> None:
    """The PDF export, then (with `previous`, in the same process to spare a second start
    of the app) the previous engine on the same document; memory is read before it."""
    from journal.export import render_pdf

    app = _app(Path(folder), fresh=False)
    before = resource.getrusage(resource.RUSAGE_SELF)
    seconds, size = run_export(app, course_id, email, "pdf")
    after = resource.getrusage(resource.RUSAGE_SELF)
    typesetter = resource.getrusage(resource.RUSAGE_CHILDREN)  # journal/typeset.py
    own_mb = _peak_mb()
    # As the typesetting process measured itself: getrusage would count this process's
    # memory at the time it was started as the child's.
    typesetter_mb = float(render_pdf.last_typeset["peak_mb"] or typesetter.ru_maxrss / 1024)
    figures = {
        "pdf_s": seconds,
        "pdf_cpu_s": _cpu(after) - _cpu(before) + _cpu(typesetter),
        "pdf_peak_mb": max(own_mb, typesetter_mb),  # the largest single process
        "pdf_all_mb": own_mb + typesetter_mb,  # at most this much at once
        "pdf_bytes": size,
        "pdf_data_kb": last_pdf_data_kb.get("kb", 0.0),
    }
    if previous:
        figures |= _previous(app, course_id, email)
    print(json.dumps(figures))


# The previous engine's page rules for paper (as its renderer added them to export.css).
PREVIOUS_PDF_CSS = """
.running-head { font-size: 0; line-height: 0; margin: 0; }
@page {
  @top-left { width: 70%; }
  @top-right { width: 30%; text-align: right; }
  @bottom-left { width: 70%; }
}
"""


def _previous(app: Flask, course_id: str, email: str) -> dict[str, Any]:
    """The same export (collected the same way) typeset by WeasyPrint from the HTML."""
    import uuid

    try:
        from weasyprint import CSS, HTML
        from weasyprint.text.fonts import FontConfiguration
    except (ImportError, OSError) as exc:  # not installed, or no Pango
        return {"pdf_previous_engine_error": f"{type(exc).__name__}: {exc}"}
    from journal.accounts.policy import course_access
    from journal.export.collect import collect_course
    from journal.export.render_html import course_html, stylesheet

    rt = _runtime(app)
    before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    with rt.work(write=False) as work:
        user = accounts.find_user_by_email(work.db, email)
        assert user is not None
        access = course_access(work.db, user, uuid.UUID(course_id))
        doc = collect_course(
            work.db,
            work.vault,
            access,
            export.ExportOptions(),
            clinic_name="Bench clinic",
            zone=rt.settings.zone,
            now=datetime.now(UTC),
        )
    fonts = FontConfiguration()
    css = [CSS(string=s, font_config=fonts) for s in (stylesheet(), PREVIOUS_PDF_CSS)]
    pdf = HTML(string=course_html(doc, embed_css=False)).write_pdf(
        stylesheets=css, font_config=fonts
    )
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_SELF)  # CPU time only
    return {
        "pdf_previous_engine_s": seconds,
        "pdf_previous_engine_cpu_s": _cpu(after) - _cpu(before),
        # The process's peak: the app, the document and WeasyPrint (one process).
        "pdf_previous_engine_mb": _peak_mb(),
        "pdf_previous_engine_bytes": len(pdf or b""),
    }


def _child(tmp: str, course_id: str, email: str, previous: bool) -> dict[str, Any]:
    also = ["--previous"] if previous else []
    child = subprocess.run(
        [sys.executable, __file__, "--pdf-child", tmp, course_id, email, *also],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return figures


def _open_everything(app: Flask, course_id: str, email: str) -> float:
    """Seconds to collect the course as the clinician (every value decrypted): the
    reference the JSON, HTML and Markdown figures are printed beside."""
    import uuid

    from journal.accounts.policy import course_access
    from journal.export.collect import collect_course

    rt = _runtime(app)
    with rt.work(write=False) as work:
        user = accounts.find_user_by_email(work.db, email)
        assert user is not None
        access = course_access(work.db, user, uuid.UUID(course_id))
        began = time.perf_counter()
        collect_course(
            work.db,
            work.vault,
            access,
            export.ExportOptions(),
            clinic_name="Bench clinic",
            zone=rt.settings.zone,
            now=datetime.now(UTC),
        )
        return time.perf_counter() - began


def measure_export(
    entries: int = 1000, sessions: int = 40, *, previous: bool = True
) -> dict[str, Any]:
    """Build the course, export it in each format; {"pdf_s", "pdf_peak_mb", "json_s",
    "html_s", "md_s", "pdf_previous_engine_s", "pdf_speedup", ...}. The PDF runs in a
    child process (memory of that process and its typesetter), then WeasyPrint there."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = _app(folder, fresh=True)
        course_id, email = build_course(app, entries, sessions)
        figures: dict[str, Any] = {}
        for fmt in ("json", "html", "md"):
            run_export(app, course_id, email, fmt)  # warm up templates and keys
            figures[f"{fmt}_s"] = min(run_export(app, course_id, email, fmt)[0] for _ in range(3))
        figures["open_all_s"] = min(_open_everything(app, course_id, email) for _ in range(3))
        _runtime(app).database.dispose()
        pdf = _child(tmp, course_id, email, previous)
        for key in ("pdf_s", "pdf_peak_mb", "pdf_cpu_s", "pdf_all_mb", "pdf_data_kb"):
            figures[key] = float(pdf[key])
        for key in ("s", "cpu_s", "mb"):
            figures[f"pdf_previous_engine_{key}"] = pdf.get(f"pdf_previous_engine_{key}")
        if "pdf_previous_engine_error" in pdf:
            figures["pdf_previous_engine_error"] = pdf["pdf_previous_engine_error"]
        before = figures["pdf_previous_engine_s"]
        figures["pdf_speedup"] = round(before / figures["pdf_s"], 1) if before else None
        cpu_before = figures["pdf_previous_engine_cpu_s"]
        figures["pdf_cpu_speedup"] = (
            round(cpu_before / figures["pdf_cpu_s"], 1) if cpu_before else None
        )
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--pdf-child", nargs=3, metavar=("FOLDER", "COURSE", "EMAIL"))
    parser.add_argument("--previous", action="store_true", help="with --pdf-child: WeasyPrint too")
    args = parser.parse_args()
    if args.pdf_child:
        folder, course, email = args.pdf_child
        _pdf_child(folder, course, email, args.previous)
        return
    began = time.perf_counter()
    figures = measure_export(args.entries, args.sessions)
    print(
        f"export of {args.sessions} sessions, {args.entries} entries "
        f"(built and measured in {time.perf_counter() - began:.1f} s)"
    )
    targets = {"pdf_s": 2.5, "pdf_peak_mb": 300.0, "json_s": 0.5, "html_s": 0.5, "md_s": 0.5}
    print(f"  (load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    for key, value in figures.items():
        if not isinstance(value, float | int):
            print(f"  {key:26} {value}")
            continue
        units = {"_mb": "MB", "_kb": "KB"}
        unit = "x" if "speedup" in key else units.get(key[-3:], "s")
        if key == "pdf_speedup":
            mark = f"target at least 8x: {'ok' if value >= 8 else 'UNDER TARGET'}"
        elif key in targets:
            mark = f"target at most {targets[key]:g} {unit}: "
            mark += "ok" if value <= targets[key] else "OVER TARGET"
        else:
            mark = ""
        print(f"  {key:26} {value:8.3f} {unit}  {mark}")


if __name__ == "__main__":
    main()
