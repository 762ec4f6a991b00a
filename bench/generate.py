"""A synthetic clinic of a chosen size, written into an instance's database.

    python bench/generate.py --instance /tmp/clinic --patients 100 --entries 100000

Everything is fictional: names end in "(synthetic)", addresses are at
bench.example (a domain reserved for examples), and the text is stitched
together from a short list of made-up sentences.

What it writes: clinicians, patients, one course per patient with its care
team, dosing sessions, and entries of realistic length in all three phases
and all visibility levels, some with intentions and some with an earlier
version in the history. Staff accounts have two-factor sign-in switched on
(a TOTP secret and recovery codes, written to ``bench-logins.json`` in the
instance folder, mode 0600).

Not written, because the journal has no tables for them yet: comments and
questionnaires. Add them here when their models exist.

Speed: the rows are inserted in bulk (SQLAlchemy Core ``executemany``), but
every encrypted value is sealed by the app's own ``Vault`` with the same
field contexts the services use, so the rows are exactly what the app writes
and reads. ``check_readable`` reads a sample back through the services.
Password hashing (argon2id, deliberately slow) runs once: all synthetic
accounts share one password.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from journal.accounts import twofactor
from journal.accounts.passwords import Passwords
from journal.bootstrap import initialise
from journal.config import Settings, load_settings
from journal.core.rendering import plain_excerpt
from journal.core.vault import Vault
from journal.crypto import FieldContext, MasterKeyRing
from journal.db import Database
from journal.models import (
    CareTeamMember,
    Course,
    CourseStatus,
    DosingSession,
    Entry,
    EntryRevision,
    Intention,
    Phase,
    Role,
    SessionStatus,
    TotpCredential,
    User,
    Visibility,
)

PASSWORD = "synthetic clinic password"  # fictional accounts only
LOGINS_FILE = "bench-logins.json"
CHUNK = 2000  # rows per executemany

OPENINGS = [
    "This morning felt",
    "Before the session I noticed",
    "Walking to the clinic,",
    "In the quiet after lunch",
    "Tonight I keep returning to",
    "During the music",
    "Writing this at the kitchen table,",
    "After talking with my therapist",
]
MIDDLES = [
    "a slow warmth spreading from my chest",
    "the image of a lighthouse on a made-up coast",
    "how heavy the word 'should' has become",
    "a memory of a fictional garden with blue gates",
    "that the fear was smaller than I expected",
    "the steady sound of rain on an invented roof",
    "a wish to call an old friend I have not seen in years",
    "how my breathing changed when I stopped fighting it",
    "a colour I could not name, somewhere between green and gold",
    "that I am allowed to rest without earning it",
]
ENDINGS = [
    "and I want to stay with that.",
    "which surprised me.",
    "and it did not feel frightening this time.",
    "so I wrote it down before it faded.",
    "and I will bring it to the next session.",
    "and for once I did not judge it.",
]
TITLES = [
    "Before the session",
    "Right after",
    "Two days later",
    "Morning pages",
    "A small shift",
    "What stayed with me",
    "Notes to myself",
    "Integration walk",
    "Clinician note",
    "Questions for next time",
]
INTENTIONS = [
    "Meet the heaviness with curiosity",
    "Notice my breathing when I am scared",
    "Let the music carry me",
    "Ask what the lighthouse wants to show me",
    "Be kind to the part of me that worries",
    "Stay with whatever comes up",
]


@dataclass(frozen=True)
class Size:
    clinicians: int = 3
    patients: int = 60
    sessions_per_course: int = 6
    entries: int = 6000
    caseload: int = 40  # patients on the first clinician's care teams
    revisions: float = 0.05  # share of entries with one earlier version


@dataclass
class Clinic:
    """What the benchmark needs to sign in and find pages."""

    password: str
    clinician: str  # the first clinician's email: the one with the full caseload
    patient: str  # the first patient's email
    course_id: str  # the first patient's course
    entry_id: str  # an entry on that course the patient wrote (shared with the care team)
    patients: list[str] = field(default_factory=list)
    recovery_codes: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def _paragraph(rng: random.Random) -> str:
    return " ".join(
        f"{rng.choice(OPENINGS)} {rng.choice(MIDDLES)}, {rng.choice(ENDINGS)}"
        for _ in range(rng.randint(2, 5))
    )


def body_text(rng: random.Random) -> str:
    """Roughly 300 to 2,000 characters of Markdown, mostly paragraphs."""
    parts = [_paragraph(rng) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.3:
        parts.append("\n".join(f"- {rng.choice(MIDDLES)}" for _ in range(rng.randint(2, 4))))
    return "\n\n".join(parts)


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]


class _Writer:
    """Seals with the app's Vault and inserts in bulk."""

    def __init__(self, database: Database, ring: MasterKeyRing) -> None:
        self.database = database
        self.ring = ring
        self.db = database.session(write=True)
        self.vault = Vault(self.db, ring)
        self.pending: dict[Any, list[dict[str, Any]]] = {}

    def seal(
        self, table: str, column: str, row_id: uuid.UUID, owner: uuid.UUID, text: str, v: int = 1
    ) -> bytes:
        ctx = FieldContext(table=table, column=column, row_id=row_id, owner_id=owner, row_version=v)
        return self.vault.seal(ctx, text)

    def add(self, model: Any, row: dict[str, Any]) -> None:
        self.pending.setdefault(model, []).append(row)

    def flush(self) -> None:
        self.db.flush()  # data keys made by the vault
        for model in (User, Course, CareTeamMember, DosingSession, Entry, EntryRevision, Intention):
            rows = self.pending.pop(model, [])
            for chunk in _chunks(rows):
                self.db.execute(insert(model), chunk)

    def commit(self) -> None:
        self.flush()
        self.db.commit()


def generate(
    settings: Settings, size: Size, *, seed: int = 1, now: datetime | None = None
) -> Clinic:
    """Initialise the instance if needed and write a synthetic clinic into it."""
    if size.patients < 1 or size.clinicians < 1:
        raise ValueError("a clinic needs at least one clinician and one patient")
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    initialise(settings)
    database = Database(settings.database_url)
    ring = MasterKeyRing.load(settings.master_key_path)
    database.session_info[twofactor.RECOVERY_CODE_KEY] = ring.recovery_code_key
    params = settings.argon2
    hashed = Passwords(
        time_cost=params.time_cost,
        memory_cost_kib=params.memory_cost_kib,
        parallelism=params.parallelism,
    ).hash(PASSWORD)
    tag = uuid.uuid4().hex[:6]  # lets several clinics share one database
    w = _Writer(database, ring)
    counts = dict.fromkeys(
        ("users", "courses", "sessions", "entries", "revisions", "intentions"), 0
    )
    try:
        # -- people --------------------------------------------------------
        clinicians: list[tuple[uuid.UUID, str]] = []
        patients: list[tuple[uuid.UUID, str]] = []
        for kind, number, role, out in (
            ("clinician", size.clinicians, Role.CLINICIAN, clinicians),
            ("patient", size.patients, Role.PATIENT, patients),
        ):
            for i in range(number):
                uid = uuid.uuid4()
                email = f"{kind}{i + 1}.{tag}@bench.example"
                w.add(
                    User,
                    {
                        "id": uid,
                        "email": email,
                        "name": f"{kind.capitalize()} {i + 1} (synthetic)",
                        "role": role,
                        "password_hash": hashed,
                        "must_change_password": False,
                        "active": True,
                        "two_factor_enabled": role == Role.CLINICIAN,
                        "created_at": now - timedelta(days=400),
                    },
                )
                out.append((uid, email))
        counts["users"] = len(clinicians) + len(patients)
        w.flush()
        recovery: dict[str, list[str]] = {}
        for uid, email in clinicians:
            cred = TotpCredential(
                id=uuid.uuid4(),
                user_id=uid,
                version=1,
                last_used_step=0,
                confirmed_at=now - timedelta(days=400),
            )
            cred.secret = w.seal("totp_credentials", "secret", cred.id, uid, _totp_secret(rng))
            w.db.add(cred)
            recovery[email] = twofactor._new_recovery_codes(w.db, uid)
        w.commit()

        # -- courses, care teams, sessions ---------------------------------
        # course, patient, clinician, sessions
        courses: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, list[uuid.UUID]]] = []
        for i, (pid, _email) in enumerate(patients):
            if i < size.caseload or size.clinicians == 1:
                team = clinicians[0][0]
            else:
                team = clinicians[1 + (i - size.caseload) % (size.clinicians - 1)][0]
            cid = uuid.uuid4()
            started = now - timedelta(days=7 * size.sessions_per_course + 14)
            w.add(
                Course,
                {
                    "id": cid,
                    "patient_id": pid,
                    "status": CourseStatus.ACTIVE,
                    "indication": w.seal(
                        "courses", "indication", cid, pid, "Synthetic indication for benchmarking"
                    ),
                    "started_on": started.date(),
                    "version": 1,
                    "created_at": started,
                },
            )
            w.add(CareTeamMember, {"course_id": cid, "clinician_id": team, "added_at": started})
            sessions = []
            for n in range(size.sessions_per_course):
                at = started + timedelta(days=7 * n + 7)
                sid = uuid.uuid4()
                w.add(
                    DosingSession,
                    {
                        "id": sid,
                        "course_id": cid,
                        "number": n + 1,
                        "scheduled_at": at.replace(minute=0, second=0, microsecond=0),
                        "status": SessionStatus.COMPLETED if at < now else SessionStatus.SCHEDULED,
                        "created_at": started,
                        "updated_at": started,
                    },
                )
                sessions.append(sid)
            courses.append((cid, pid, team, sessions))
            counts["courses"] += 1
            counts["sessions"] += len(sessions)
        w.commit()

        # -- entries -------------------------------------------------------
        first_entry: uuid.UUID | None = None
        span = timedelta(days=7 * size.sessions_per_course + 10)
        for k in range(size.entries):
            cid, pid, team, sessions = courses[k % len(courses)]
            by_patient = rng.random() < 0.85
            author = pid if by_patient else team
            phase = rng.choice(list(Phase))
            if by_patient:
                visibility = Visibility.PRIVATE if rng.random() < 0.1 else Visibility.CARE_TEAM
            else:
                visibility = rng.choice([Visibility.CARE_TEAM, Visibility.CLINICIAN_ONLY])
            created = now - span + span * (k / max(size.entries, 1))
            eid = uuid.uuid4()
            edited = rng.random() < size.revisions
            version = 2 if edited else 1
            row: dict[str, Any] = {
                "id": eid,
                "course_id": cid,
                "session_id": sessions[min(len(sessions) * k // size.entries, len(sessions) - 1)],
                "author_id": author,
                "phase": phase,
                "visibility": visibility,
                "version": version,
                "created_at": created,
                "updated_at": created + timedelta(hours=1) if edited else created,
                "updated_by": author,
            }
            mood = str(rng.randint(1, 10)) if rng.random() < 0.7 else None
            row["title"] = w.seal("entries", "title", eid, pid, rng.choice(TITLES), version)
            body = body_text(rng)
            row["body"] = w.seal("entries", "body", eid, pid, body, version)
            row["excerpt"] = w.seal("entries", "excerpt", eid, pid, plain_excerpt(body), version)
            if mood is not None:
                mood_blob = w.seal("entries", "mood", eid, pid, mood, version)
            row["mood"] = None if mood is None else mood_blob
            w.add(Entry, row)
            if edited:
                rid = uuid.uuid4()
                w.add(
                    EntryRevision,
                    {
                        "id": rid,
                        "entry_id": eid,
                        "entry_version": 1,
                        "phase": phase,
                        "visibility": visibility,
                        "title": w.seal("entry_revisions", "title", rid, pid, "First draft"),
                        "body": w.seal("entry_revisions", "body", rid, pid, body_text(rng)),
                        "mood": None,
                        "written_by": author,
                        "written_at": created,
                        "version": 1,
                    },
                )
                counts["revisions"] += 1
            if phase == Phase.PREPARATION and by_patient:
                for position in range(rng.randint(1, 3)):
                    iid = uuid.uuid4()
                    w.add(
                        Intention,
                        {
                            "id": iid,
                            "entry_id": eid,
                            "course_id": cid,
                            "position": position,
                            "text": w.seal("intentions", "text", iid, pid, rng.choice(INTENTIONS)),
                            "version": 1,
                            "created_at": created,
                        },
                    )
                    counts["intentions"] += 1
            own_shared = by_patient and visibility == Visibility.CARE_TEAM
            if first_entry is None and cid == courses[0][0] and own_shared:
                first_entry = eid
            counts["entries"] += 1
            if (k + 1) % 5000 == 0:
                w.commit()
        w.commit()
    finally:
        w.db.close()
        database.dispose()
    clinic = Clinic(
        password=PASSWORD,
        clinician=clinicians[0][1],
        patient=patients[0][1],
        course_id=str(courses[0][0]),
        entry_id=str(first_entry or ""),
        patients=[e for _, e in patients],
        recovery_codes=recovery,
        counts=counts,
    )
    _write_logins(settings.instance_path / LOGINS_FILE, clinic)
    return clinic


def _totp_secret(rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "".join(rng.choice(alphabet) for _ in range(32))


def _write_logins(path: Path, clinic: Clinic) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(asdict(clinic), fh, indent=1)


def load_logins(instance: Path) -> Clinic:
    return Clinic(**json.loads((instance / LOGINS_FILE).read_text()))


def check_readable(settings: Settings, clinic: Clinic, sample: int = 20) -> int:
    """Read entries back through the app's services as their patient; returns how many."""
    from journal.core.actor import Actor
    from journal.journaling import entries as entry_service
    from journal.journaling import timeline
    from journal.runtime import build_runtime

    rt = build_runtime(settings)  # writing is audited: the runtime holds the audit key
    read = 0
    try:
        with rt.work(write=False) as work:
            patient = work.db.scalar(select(User).where(User.email == clinic.patient))
            assert patient is not None
            mine = work.acting_as(Actor(patient))
            line = timeline.course_timeline(mine, uuid.UUID(clinic.course_id))
            ids = [c.id for b in line.blocks for c in b.preparation + b.in_session + b.integration]
            for entry_id in ids[:sample]:
                view = entry_service.read_entry(mine, entry_id)
                assert view.title and view.body
                read += 1
    finally:
        rt.database.dispose()
    return read


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", type=Path, required=True, help="instance folder")
    parser.add_argument("--database-url", default="", help="default: SQLite in the instance")
    parser.add_argument("--clinicians", type=int, default=Size.clinicians)
    parser.add_argument("--patients", type=int, default=Size.patients)
    parser.add_argument("--sessions", type=int, default=Size.sessions_per_course)
    parser.add_argument("--entries", type=int, default=Size.entries)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    env = {"JOURNAL_INSTANCE_PATH": str(args.instance)}
    if args.database_url:
        env["JOURNAL_DATABASE_URL"] = args.database_url
    settings = load_settings(environ=env)
    size = Size(
        clinicians=args.clinicians,
        patients=args.patients,
        sessions_per_course=args.sessions,
        entries=args.entries,
    )
    start = time.perf_counter()
    clinic = generate(settings, size, seed=args.seed)
    took = time.perf_counter() - start
    read = check_readable(settings, clinic)
    print(f"{clinic.counts} in {took:.1f} s; {read} entries read back through the app")
    print(f"sign-ins: {settings.instance_path / LOGINS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
