"""How fast is search in one long course? (issue 21: search without a plaintext index)

Builds one fictional course of 10,000 entries of about 1,200 characters (about 12 MB
of text) in a temporary instance, then times a search for a rare word and for a
common word, as the patient and as the clinician, through the service the search
page calls. The entries are written straight into the tables (sealed as the app
seals them) so that building takes seconds, then the course's sealed search index
is built as the `search-index rebuild` command builds it.

    python bench/search_index_bench.py [--entries 10000] [--runs 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from bench.search_bench import timed
from journal.accounts import accounts, courses
from journal.bootstrap import ensure_instance, initialise
from journal.config import Argon2Params, Settings
from journal.core.actor import Actor
from journal.journaling import search, search_index
from journal.models import Entry, Phase, Referral, Role, SearchShard, Visibility
from journal.runtime import build_runtime

PASSWORD = "fictional-bench-password-1"
SIZES: dict[str, float] = {}  # sealed bytes stored, filled in by build()
RARE = "lighthouse"  # in a handful of entries
COMMON = "breath"  # in nearly every entry
WORDS = [
    "light",
    "shoulders",
    "warmth",
    "river",
    "memory",
    "forest",
    "quiet",
    "door",
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
    "heavy",
    "softer",
    "slowly",
    "colours",
    "floating",
    "noticed",
    "grief",
    "laughter",
    "sister",
    "afraid",
    "curious",
    "body",
    "edges",
    "waves",
    "distance",
    "held",
    "letting",
]


def text_of(rng: random.Random, size: int) -> str:
    words: list[str] = []
    length = 0
    while length < size:
        word = COMMON if rng.random() < 0.02 else rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def build(instance: Path, count: int) -> tuple[Settings, Actor, Actor, uuid.UUID]:
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
    people = {}
    for role, email in ((Role.CLINICIAN, "bench.clinician"), (Role.PATIENT, "bench.patient")):
        people[role], _ = accounts.create_user(
            db,
            runtime.passwords,
            email=f"{email}@example.invalid",
            name=f"Bench {role.value.title()} (fictional)",
            role=role,
            password=PASSWORD,
        )
    patient, clinician = people[Role.PATIENT], people[Role.CLINICIAN]
    db.add(Referral(patient_id=patient.id, clinician_id=clinician.id))
    course = courses.create_course(
        work.acting_as(Actor(clinician)),
        patient_email=patient.email,
        clinician_emails=[],
        started_on=date(2026, 1, 5),
    )
    rng = random.Random(21)
    start = datetime(2026, 1, 5, 10, tzinfo=UTC)
    rare = set(rng.sample(range(count), 3))
    for n in range(count):
        entry = Entry(
            id=uuid.uuid4(),
            course_id=course.id,
            author_id=patient.id,
            phase=Phase.INTEGRATION,
            visibility=Visibility.CARE_TEAM,
            version=1,
            created_at=start + timedelta(minutes=n),
            updated_at=start + timedelta(minutes=n),
            updated_by=patient.id,
        )
        body = text_of(rng, 1200) + (f" {RARE}" if n in rare else "")
        entry.title = work.vault.seal_column(entry, "title", patient.id, f"Evening {n}")
        entry.body = work.vault.seal_column(entry, "body", patient.id, body)
        db.add(entry)
    db.flush()
    search_index.rebuild_course_index(work.db, work.vault, course.id)
    work.commit()
    text_bytes = work.db.scalar(
        select(func.sum(func.length(Entry.title) + func.length(Entry.body)))
    )
    index_bytes = work.db.scalar(select(func.sum(func.length(SearchShard.payload))))
    SIZES.update(
        entries_mb=round((text_bytes or 0) / 1e6, 1), index_mb=round((index_bytes or 0) / 1e6, 1)
    )

    work.close()
    return settings, Actor(patient), Actor(clinician), course.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        settings, patient, clinician, course_id = build(Path(tmp) / "instance", args.entries)
        built = time.perf_counter() - t0
        runtime = build_runtime(settings)

        # One unit of work per search, as a request.
        def run(actor: Actor, query: str, course: uuid.UUID | None = None) -> search.Results:
            with runtime.work(write=False) as work:
                me = Actor(work.db.merge(actor.user))
                return search.search(work.acting_as(me), query, course)

        rare = run(patient, RARE)
        common = run(patient, COMMON)
        figures = {
            "entries": args.entries,
            "build_s": round(built, 1),
            "patient_rare_s": round(timed(lambda: run(patient, RARE), args.runs), 4),
            "patient_rare_hits": len(rare.hits),
            "patient_common_s": round(timed(lambda: run(patient, COMMON), args.runs), 4),
            "patient_common_hits": len(common.hits),
            "searched": rare.searched,
            "clinician_rare_s": round(timed(lambda: run(clinician, RARE, course_id), args.runs), 4),
            "absent_word_s": round(timed(lambda: run(patient, "absentword"), args.runs), 4),
            **SIZES,
        }
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print("target: a rare-word search of 10,000 entries well under 0.087 s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
