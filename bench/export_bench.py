"""Export speed: a course of 40 dosing sessions and 1,000 entries.

    .venv/bin/python bench/export_bench.py [--entries N] [--sessions N]

Builds a throw-away instance (SQLite in a temporary folder) through the
services, with synthetic text (and, on the entries, comments with replies,
themes, reviews, and a psychotherapy note per session), then times the
clinician's export in each format. The PDF is made in a child process so its
peak memory (maximum resident set size) is measured on its own; that process
typesets in worker processes of its own (render_pdf.py), so the figures are
the largest process (`pdf_peak_mb`), all of them at their peaks together
(`pdf_all_mb`), and the CPU time of all of them (`pdf_cpu_s`). Targets: PDF
under 5 s and 400 MB; HTML, Markdown and JSON under 0.5 s. Prints the
figures; asserts nothing. `measure_export()` returns them for other benchmark scripts.
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


def run_export(app: Flask, course_id: str, email: str, fmt: str) -> tuple[float, int]:
    """Seconds and bytes for one export, as the clinician."""
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
        file = pending.file()
        return time.perf_counter() - began, len(file.content)


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _pdf_child(folder: str, course_id: str, email: str) -> None:
    from journal.export import render_pdf

    app = _app(Path(folder), fresh=False)
    before = resource.getrusage(resource.RUSAGE_SELF)
    seconds, size = run_export(app, course_id, email, "pdf")
    after = resource.getrusage(resource.RUSAGE_SELF)
    # The typesetting workers (see render_pdf.py): CPU summed, peak memory of the largest.
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_mb, worker_mb = after.ru_maxrss / 1024, workers.ru_maxrss / 1024
    figures = {
        "pdf_s": seconds,
        "pdf_cpu_s": _cpu(after) - _cpu(before) + _cpu(workers),
        "pdf_peak_mb": max(own_mb, worker_mb),  # the largest single process
        # At most this much at once: this process and every worker at its peak together.
        "pdf_all_mb": own_mb + render_pdf.WORKERS * worker_mb if worker_mb else own_mb,
        "pdf_bytes": size,
    }
    print(json.dumps(figures))


def measure_export(entries: int = 1000, sessions: int = 40) -> dict[str, float]:
    """Build the course, export it in each format; {"pdf_s", "pdf_peak_mb", "json_s",
    "html_s", "md_s"}. The PDF runs in a child process (peak memory of that process)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = _app(folder, fresh=True)
        course_id, email = build_course(app, entries, sessions)
        figures: dict[str, float] = {}
        for fmt in ("json", "html", "md"):
            run_export(app, course_id, email, fmt)  # warm up templates and keys
            figures[f"{fmt}_s"] = min(run_export(app, course_id, email, fmt)[0] for _ in range(3))
        _runtime(app).database.dispose()
        child = subprocess.run(
            [sys.executable, __file__, "--pdf-child", tmp, course_id, email],
            capture_output=True,
            text=True,
            check=True,
        )
        pdf: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
        figures["pdf_s"] = float(pdf["pdf_s"])
        figures["pdf_peak_mb"] = float(pdf["pdf_peak_mb"])
        figures["pdf_cpu_s"] = float(pdf["pdf_cpu_s"])  # extra: CPU time, less noisy
        figures["pdf_all_mb"] = float(pdf["pdf_all_mb"])  # extra: all its processes
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--pdf-child", nargs=3, metavar=("FOLDER", "COURSE", "EMAIL"))
    args = parser.parse_args()
    if args.pdf_child:
        _pdf_child(*args.pdf_child)
        return
    began = time.perf_counter()
    figures = measure_export(args.entries, args.sessions)
    print(
        f"export of {args.sessions} sessions, {args.entries} entries "
        f"(built and measured in {time.perf_counter() - began:.1f} s)"
    )
    targets = {"pdf_s": 5.0, "pdf_peak_mb": 400.0, "json_s": 0.5, "html_s": 0.5, "md_s": 0.5}
    targets["pdf_cpu_s"] = 2 * targets["pdf_s"]  # two cores
    targets["pdf_all_mb"] = targets["pdf_peak_mb"]
    print(f"  (load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    for key, value in figures.items():
        unit = "MB" if key.endswith("_mb") else "s"
        mark = "ok" if value < targets[key] else "OVER TARGET"
        print(f"  {key:12} {value:8.3f} {unit}  (target < {targets[key]:g} {unit}: {mark})")


if __name__ == "__main__":
    main()
