"""How fast is search over a clinician's caseload? (issue: clinician review)

Builds a fictional caseload (by default 40 patients with 60 entries each) in a
temporary instance, then times a caseload-wide search and a one-course search
through the same service the search page calls. Search decrypts within the
reader's scope (no index at rest), so its cost is the number of readable
entries; the figures say whether that stays well under a second.

    python bench/search_bench.py [--patients 40] [--entries 60] [--runs 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from journal.accounts import accounts, courses
from journal.bootstrap import ensure_instance, initialise
from journal.config import Argon2Params, Settings
from journal.core.actor import Actor
from journal.journaling import entries, search
from journal.journaling.entries import EntryInput
from journal.models import Phase, Referral, Role, Visibility
from journal.runtime import build_runtime

WORDS = [
    "breath",
    "light",
    "shoulders",
    "warmth",
    "river",
    "memory",
    "forest",
    "quiet",
    "door",
    "mother",
    "field",
    "window",
    "music",
    "kindness",
    "fear",
    "open",
    "tide",
    "stone",
    "garden",
    "morning",
]
PASSWORD = "fictional-bench-password-1"


def paragraph(seed: int, words: int = 180) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(words)) + "."


def build(
    instance: Path, patients: int, per_patient: int
) -> tuple[Settings, Actor, list[uuid.UUID]]:
    settings = Settings(
        instance_path=instance,
        database_url=f"sqlite:///{instance / 'journal.sqlite3'}",
        master_key_path=instance / "keys" / "master.json",
        secret_key_path=instance / "secret_key",
        argon2=Argon2Params(time_cost=1, memory_cost_kib=8, parallelism=1),
    )
    ensure_instance(settings)
    initialise(settings)
    runtime = build_runtime(settings)
    work = runtime.work(write=True)
    db = work.db
    clinician, _ = accounts.create_user(
        db,
        runtime.passwords,
        email="bench.clinician@clinic.example",
        name="Dr Bench Example",
        role=Role.CLINICIAN,
        password=PASSWORD,
    )
    actor = Actor(clinician)
    course_ids = []
    start = datetime(2026, 1, 5, 10, tzinfo=UTC)
    for p in range(patients):
        patient, _ = accounts.create_user(
            db,
            runtime.passwords,
            email=f"bench.patient{p}@example.invalid",
            name=f"Bench Patient {p}",
            role=Role.PATIENT,
            password=PASSWORD,
        )
        db.add(Referral(patient_id=patient.id, clinician_id=clinician.id))  # the intake's
        course = courses.create_course(
            work.acting_as(actor),
            patient_email=patient.email,
            clinician_emails=[],
            started_on=date(2026, 1, 5),
        )
        course_ids.append(course.id)
        sessions = [
            courses.schedule_session(
                work.acting_as(actor), course.id, scheduled_at=start + timedelta(weeks=w)
            ).id
            for w in range(6)
        ]
        for n in range(per_patient):
            entries.create_entry(
                work.acting_as(Actor(patient)),
                course.id,
                EntryInput(
                    phase=Phase.INTEGRATION,
                    title=f"Reflection {n}",
                    body=paragraph(p * 1000 + n)
                    + (" lighthouse" if n == 0 and p % 10 == 0 else ""),
                    visibility=Visibility.CARE_TEAM,
                    session_id=sessions[n % len(sessions)],
                ),
                now=start + timedelta(hours=n),
            )
    work.commit()
    work.close()
    return settings, actor, course_ids


def timed(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--entries", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        t0 = time.perf_counter()
        settings, actor, course_ids = build(instance, args.patients, args.entries)
        built = time.perf_counter() - t0
        runtime = build_runtime(settings)

        # One unit of work per search, as a request: its audit rows are written as it ends.
        def caseload_search(query: str) -> search.Results:
            with runtime.work(write=False) as work:
                db_actor = Actor(work.db.merge(actor.user))
                return search.search(work.acting_as(db_actor), query)

        def course_search() -> search.Results:
            with runtime.work(write=False) as work:
                db_actor = Actor(work.db.merge(actor.user))
                return search.search(work.acting_as(db_actor), "lighthouse", course_ids[0])

        rare = caseload_search("lighthouse")
        common = caseload_search("breath")
        figures = {
            "patients": args.patients,
            "entries": args.patients * args.entries,
            "build_s": round(built, 1),
            "caseload_rare_s": round(timed(lambda: caseload_search("lighthouse"), args.runs), 3),
            "caseload_rare_hits": len(rare.hits),
            "caseload_common_s": round(timed(lambda: caseload_search("breath"), args.runs), 3),
            "caseload_common_hits": len(common.hits),
            "one_course_s": round(timed(course_search, args.runs), 3),
        }
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print("target: a caseload search well under 1 s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
