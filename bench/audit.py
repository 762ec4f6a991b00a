"""How fast is the admin's audit trail over a million events?

Fills a throwaway database with synthetic events (by default 1,000,000 over a
year, from 600 fictional people), then times what the audit page and its CSV
download do, through the same service the page calls (journal.accounts.audit_trail):

- the first page, unfiltered;
- filtered pages: by a person, by a patient, by a rare action, and by one day;
- a deep page: the page after the event 900,000 places back (keyset paging), and
  beside it the same page found with OFFSET, to show what keyset paging saves;
- the CSV of one day's events of one action.

Each figure is the median of several runs, printed beside a baseline measured in
the same run: a bare `SELECT count(*) FROM audit_events`.

    python bench/audit.py [--events 1000000] [--runs 5] [--database-url URL] [--json FILE]

With --database-url, the database's public schema is dropped and made again
(give it a database kept for benchmarks, never one with data).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, func, insert, select, text

from journal.accounts import audit_trail
from journal.bootstrap import ensure_instance, initialise
from journal.config import Argon2Params, Settings
from journal.core.actor import Actor
from journal.db import Database
from journal.models import AuditEvent, AuditHead, Course, CourseStatus, Role, User
from journal.runtime import Runtime, build_runtime

START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 365
# What a clinic's trail is made of, roughly: mostly reads and sign-ins.
MIX: list[tuple[str, str | None, int]] = [
    ("read", "entry", 40),
    ("read", "course", 12),
    ("login", None, 10),
    ("logout", None, 8),
    ("entry.create", "entry", 8),
    ("entry.update", "entry", 4),
    ("entry.review", "entry", 6),
    ("comment.create", "entry", 4),
    ("questionnaire.submit", "questionnaire", 3),
    ("mail.reminder_preparation", "message", 4),
    ("theme.tag", "entry", 1),
]
RARE = "user.deactivate"  # a few dozen in the whole year


def build(settings: Settings, events: int, seed: int = 7) -> dict[str, Any]:
    """People, a course each for some patients, and `events` events in bulk inserts."""
    ensure_instance(settings)
    initialise(settings)
    database = Database(settings.database_url)
    rng = random.Random(seed)
    people: dict[Role, list[uuid.UUID]] = {Role.ADMIN: [], Role.CLINICIAN: [], Role.PATIENT: []}
    with database.session(write=True) as db:
        for role, count in ((Role.ADMIN, 2), (Role.CLINICIAN, 48), (Role.PATIENT, 550)):
            for i in range(count):
                uid = uuid.uuid4()
                people[role].append(uid)
                db.add(
                    User(
                        id=uid,
                        email=f"{role.value}-{i}@bench.example",
                        name=f"{role.value.title()} {i} (synthetic)",
                        role=role,
                        password_hash="!",
                        active=True,
                    )
                )
        db.flush()
        for i, patient in enumerate(people[Role.PATIENT][:200]):
            db.add(
                Course(
                    id=uuid.uuid4(),
                    patient_id=patient,
                    started_on=date(2026, 1, 1) + timedelta(days=i),
                    status=CourseStatus.ACTIVE,
                )
            )
        db.commit()
    roles = {uid: role.value for role, ids in people.items() for uid in ids}
    with database.session() as db:
        head = db.get(AuditHead, 1)
        first = head.seq if head else 0  # after the events the set-up recorded
    weights = [w for _, _, w in MIX]
    step = timedelta(days=DAYS) / events
    began = time.perf_counter()
    batch: list[dict[str, Any]] = []
    with database.engine.begin() as conn:
        for n in range(events):
            object_type: str | None
            if n % (events // 40 or 1) == 0:
                action, object_type = RARE, "user"
                actor = people[Role.ADMIN][0]
                obj: uuid.UUID | None = rng.choice(people[Role.CLINICIAN])
                subject = None
            else:
                action, object_type, _ = rng.choices(MIX, weights)[0]
                patient = rng.choice(people[Role.PATIENT])
                by_patient = action in {"entry.create", "entry.update", "questionnaire.submit"}
                actor = patient if by_patient else rng.choice(people[Role.CLINICIAN])
                obj = uuid.uuid4() if object_type else None
                subject = patient if object_type else None
            batch.append(
                {
                    "id": uuid.uuid4(),
                    "at": START + step * n,
                    "actor_id": actor,
                    "actor_role": roles[actor],
                    "action": action,
                    "object_type": object_type,
                    "object_id": obj,
                    "subject_id": subject,
                    "outcome": "ok",
                    "address": f"192.0.2.{n % 250 + 1}",
                    "seq": first + n + 1,
                    "mac": "0" * 64,  # a throwaway trail: its chain is not what is timed
                }
            )
            if len(batch) == 20_000:
                conn.execute(insert(AuditEvent), batch)
                batch = []
        if batch:
            conn.execute(insert(AuditEvent), batch)
        conn.execute(delete(AuditHead))
        conn.execute(insert(AuditHead).values(id=1, seq=first + events, mac="0" * 64))
    filled = time.perf_counter() - began
    with database.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    database.dispose()
    return {
        "admin": people[Role.ADMIN][0],
        "clinician": people[Role.CLINICIAN][3],
        "patient": people[Role.PATIENT][5],
        "fill_seconds": round(filled, 1),
    }


def timed(fn: Callable[[], object], runs: int) -> float:
    """Median seconds of `runs` calls, after one warm-up call."""
    fn()
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds)


def measure(runtime: Runtime, made: dict[str, Any], runs: int) -> dict[str, float]:
    admin_id = made["admin"]

    def as_admin(fn: Callable[[Any], object]) -> Callable[[], object]:
        def run() -> object:
            with runtime.work(write=False) as work:
                admin = work.db.get(User, admin_id)
                assert admin is not None
                return fn(work.acting_as(Actor(admin)))

        return run

    def count(work: Any) -> object:
        return work.db.scalar(select(func.count()).select_from(AuditEvent))

    def trail(filters: audit_trail.Filters, **kw: Any) -> Callable[[Any], object]:
        def run(work: Any) -> object:
            found = audit_trail.page(work, filters, **kw)
            assert found.rows, filters
            return found

        return run

    with runtime.work(write=False) as work:
        deep = work.db.execute(
            select(AuditEvent.at, AuditEvent.id)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .offset(900_000 if made["events"] > 900_000 else made["events"] * 9 // 10)
            .limit(1)
        ).one()
    cursor = audit_trail.Cursor(deep.at, deep.id)
    offset = 900_000 if made["events"] > 900_000 else made["events"] * 9 // 10

    def by_offset(work: Any) -> object:
        return list(
            work.db.scalars(
                select(AuditEvent)
                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                .offset(offset)
                .limit(audit_trail.PAGE_SIZE)
            )
        )

    one_day = date(2026, 7, 14)
    plain = audit_trail.Filters()

    def csv_day(work: Any) -> object:
        # Its own audit row is written as the unit ends, as on the page.
        return audit_trail.download(
            work, audit_trail.Filters(since=one_day, until=one_day, action="read")
        )

    cases: dict[str, Callable[[], object]] = {
        "baseline: SELECT count(*)": as_admin(count),
        "first page": as_admin(trail(plain)),
        "filtered: one person": as_admin(trail(audit_trail.Filters(person=made["clinician"]))),
        "filtered: one patient": as_admin(trail(audit_trail.Filters(patient=made["patient"]))),
        "filtered: a rare action": as_admin(trail(audit_trail.Filters(action=RARE))),
        "filtered: one day": as_admin(trail(audit_trail.Filters(since=one_day, until=one_day))),
        "filtered: person, action, days": as_admin(
            trail(
                audit_trail.Filters(
                    person=made["clinician"],
                    action="read",
                    since=date(2026, 3, 1),
                    until=date(2026, 3, 31),
                )
            )
        ),
        f"deep page (after {offset:,} events, keyset)": as_admin(trail(plain, older_than=cursor)),
        f"deep page (OFFSET {offset:,}, for comparison)": as_admin(by_offset),
        "CSV of one day's reads": as_admin(csv_day),
    }
    return {name: timed(fn, runs) for name, fn in cases.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        url = args.database_url or f"sqlite:///{instance / 'journal.sqlite3'}"
        if args.database_url:
            database = Database(url)
            with database.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            database.dispose()
        settings = Settings(
            instance_path=instance,
            database_url=url,
            master_key_path=instance / "keys" / "master.json",
            secret_key_path=instance / "secret_key",
            argon2=Argon2Params(time_cost=1, memory_cost_kib=8, parallelism=1),
        )
        print(f"filling {args.events:,} events ...", flush=True)
        made = build(settings, args.events)
        made["events"] = args.events
        print(f"filled in {made['fill_seconds']} s", flush=True)
        runtime = build_runtime(settings)
        figures = measure(runtime, made, args.runs)
        runtime.database.dispose()
    baseline = figures["baseline: SELECT count(*)"]
    database_kind = "postgresql" if args.database_url else "sqlite"
    print(f"\n{database_kind}, {args.events:,} events, median of {args.runs} runs")
    for name, seconds in figures.items():
        print(f"  {name:<44} {seconds * 1000:9.1f} ms  ({seconds / baseline:5.2f}x the count)")
    if args.json:
        out = {
            "database": database_kind,
            "events": args.events,
            "fill_seconds": made["fill_seconds"],
            "ms": {k: round(v * 1000, 2) for k, v in figures.items()},
        }
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
