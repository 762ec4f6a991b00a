"""Search over one patient's entries, against jrnl 4.6 on the same entries.

    python bench/jrnl_search.py [--entries 10000] [--runs 3] [--cache DIR]

The texts are generated here (fictional, stitched from bench/generate.py's made-up
sentences), with a rare word in a known handful of entries and a common one in
thousands. `bench/run.py` writes them into the journal as one patient's entries
(`add_patient`) and times the search page; this module writes the same texts into a
jrnl journal encrypted by jrnl's own code (its `Journal` class and its encryption,
run by jrnl's own Python), and times `jrnl -contains WORD` as a whole process: start,
key derivation, decryption, parsing and the search, as a person using jrnl waits.

jrnl is installed with pip into a virtualenv of its own, outside the repository
(`~/.cache/journal-bench/jrnl-4.6` unless `--cache` or JOURNAL_BENCH_CACHE says
otherwise), made once and reused. jrnl reads its password from the keyring: a
tiny keyring backend, written beside the journal and chosen with
PYTHON_KEYRING_BACKEND, hands it the fixed fictional password.

Run alone, it only times jrnl on the generated texts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench.generate import TITLES, Size, _Writer, body_text, generate  # noqa: E402
from journal.config import Settings  # noqa: E402
from journal.core.vault import Vault  # noqa: E402
from journal.crypto import MasterKeyRing  # noqa: E402
from journal.db import Database  # noqa: E402
from journal.journaling import search_index  # noqa: E402
from journal.models import Entry, Phase, User, Visibility  # noqa: E402

JRNL_VERSION = "4.6"
ENTRIES = 10_000
# Found in a handful of entries: the search must look through all of them.
RARE_WORD = "sandpiper"
RARE_EVERY = 997  # entries 0, 997, 1994, ... carry it: 11 of 10,000
# Found in thousands (bench/generate.py's "the image of a lighthouse ...").
COMMON_WORD = "lighthouse"
JOURNAL_PASSWORD = "fictional jrnl bench password"  # a made-up journal's password
SEED = 21


@dataclass(frozen=True)
class Text:
    when: datetime  # naive, as jrnl keeps dates
    title: str
    body: str


def texts(count: int = ENTRIES, *, seed: int = SEED, now: datetime | None = None) -> list[Text]:
    """`count` fictional entries, oldest first, one every 47 minutes up to `now`."""
    rng = random.Random(seed)
    now = (now or datetime.now()).replace(second=0, microsecond=0)
    made = []
    for k in range(count):
        body = body_text(rng)
        if k % RARE_EVERY == 0:
            body += f"\n\nA {RARE_WORD} ran along the invented shore ahead of the tide."
        made.append(Text(now - timedelta(minutes=47 * (count - k)), rng.choice(TITLES), body))
    return made


def expected_hits(made: list[Text], word: str) -> int:
    """Entries whose title or body holds `word` (case-insensitive), as both searches match."""
    folded = word.casefold()
    return sum(1 for t in made if folded in t.title.casefold() or folded in t.body.casefold())


# -- the journal's side ----------------------------------------------------------------


@dataclass(frozen=True)
class SearchPatient:
    email: str
    password: str
    course_id: str
    entries: int


def add_patient(settings: Settings, made: list[Text]) -> SearchPatient:
    """A patient of their own (with a clinician of their own, so no other page's figures
    change) whose course holds `made` as entries they wrote and share with their care
    team: every one is in the patient's search. Sealed by the app's Vault."""
    clinic = generate(settings, Size(clinicians=1, patients=1, entries=0, caseload=1), seed=SEED)
    database = Database(settings.database_url)
    ring = MasterKeyRing.load(settings.master_key_path)
    writer = _Writer(database, ring)
    rng = random.Random(SEED)
    course = uuid.UUID(clinic.course_id)
    try:
        patient = writer.db.scalar(select(User.id).where(User.email == clinic.patient))
        assert patient is not None
        for k, t in enumerate(made):
            eid = uuid.uuid4()
            created = t.when.astimezone()
            writer.add(
                Entry,
                {
                    "id": eid,
                    "course_id": course,
                    "session_id": None,
                    "author_id": patient,
                    "phase": rng.choice(list(Phase)),
                    "visibility": Visibility.CARE_TEAM,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                    "updated_by": patient,
                    "title": writer.seal("entries", "title", eid, patient, t.title),
                    "body": writer.seal("entries", "body", eid, patient, t.body),
                    "mood": None,
                },
            )
            if (k + 1) % 2000 == 0:
                writer.commit()
        writer.commit()
        # A clinic's entries are indexed as they are saved: the index is built here as
        # `flask search-index rebuild` builds it, so search is measured as it runs daily
        # (not the one-off indexing of a course written before the index existed).
        with database.session(write=True) as db:
            search_index.rebuild_course_index(db, Vault(db, ring), course)
            db.commit()
    finally:
        writer.db.close()
        database.dispose()
    return SearchPatient(clinic.patient, clinic.password, clinic.course_id, len(made))


# -- jrnl's side -------------------------------------------------------------------------


class JrnlUnavailable(RuntimeError):
    """jrnl could not be installed or run (no network, say)."""


def default_cache() -> Path:
    base = os.environ.get("JOURNAL_BENCH_CACHE") or Path.home() / ".cache" / "journal-bench"
    return Path(base) / f"jrnl-{JRNL_VERSION}"


def install_jrnl(venv: Path) -> Path:
    """jrnl JRNL_VERSION in a virtualenv of its own at `venv` (made once); its Python."""
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if marker.exists():
        return python
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"jrnl=={JRNL_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        tail = detail.decode("utf-8", "replace").strip().splitlines()[-1:] if detail else []
        raise JrnlUnavailable(f"could not install jrnl=={JRNL_VERSION}: {exc} {tail}") from exc
    marker.write_text(JRNL_VERSION + "\n")
    return python


# Run by jrnl's own Python: jrnl's Journal class and encryption write the journal.
WRITER = textwrap.dedent(
    """
    import datetime, json, sys
    from jrnl.journals.Entry import Entry
    from jrnl.journals.Journal import Journal

    spec = json.load(sys.stdin)
    journal = Journal("default", **spec["config"])
    for date, title, body in spec["entries"]:
        when = datetime.datetime.fromisoformat(date)
        journal.entries.append(Entry(journal, date=when, text=title + "\\n" + body))
    journal.sort()
    journal.write()
    """
)

KEYRING = textwrap.dedent(
    """
    import os
    from keyring.backend import KeyringBackend


    class FixedKeyring(KeyringBackend):
        \"\"\"The bench journal's fictional password, for jrnl only.\"\"\"

        priority = 1

        def get_password(self, service, username):
            return os.environ["JRNL_BENCH_PASSWORD"] if service == "jrnl" else None

        def set_password(self, service, username, password):
            pass

        def delete_password(self, service, username):
            pass
    """
)


@dataclass(frozen=True)
class JrnlJournal:
    python: Path
    folder: Path
    config: Path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(self.folder),
            "PYTHON_KEYRING_BACKEND": "benchkeyring.FixedKeyring",
            "JRNL_BENCH_PASSWORD": JOURNAL_PASSWORD,
            "HOME": str(self.folder),  # nothing of the user's jrnl set-up is read
            "XDG_CONFIG_HOME": str(self.folder / "config"),
            "XDG_DATA_HOME": str(self.folder / "data"),
            "NO_COLOR": "1",
        }


def write_journal(python: Path, folder: Path, made: list[Text]) -> JrnlJournal:
    """An encrypted jrnl journal of `made`, written by jrnl's own code."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "benchkeyring.py").write_text(KEYRING)
    journal_file = folder / "journal.txt"
    settings: dict[str, Any] = {
        "journal": str(journal_file),
        "encrypt": True,
        "default_hour": 9,
        "default_minute": 0,
        "timeformat": "%F %r",
        "tagsymbols": "#@",
        "highlight": False,
        "linewrap": 79,
        "indent_character": "|",
    }
    config = {
        "version": JRNL_VERSION,
        "journals": {"default": {"journal": str(journal_file), "encrypt": True}},
        "editor": "",
        "template": False,
        "colors": {"body": "none", "date": "none", "tags": "none", "title": "none"},
        **settings,
    }
    config_path = folder / "jrnl.yaml"
    # YAML, one key a line with JSON values (jrnl takes a config that is JSON as a
    # jrnl 1.x one, to upgrade).
    lines = []
    for key, value in config.items():
        if key == "journals":
            lines += ["journals:", "  default:"]
            lines += [f"    {k}: {json.dumps(v)}" for k, v in value["default"].items()]
        else:
            lines.append(f"{key}: {json.dumps(value)}")
    config_path.write_text("\n".join(lines) + "\n")
    journal = JrnlJournal(python, folder, config_path)
    spec = {
        "config": settings,
        "entries": [[t.when.isoformat(), t.title, t.body] for t in made],
    }
    done = subprocess.run(
        [str(python), "-c", WRITER],
        input=json.dumps(spec).encode(),
        env=journal.env(),
        capture_output=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise JrnlUnavailable("jrnl could not write the journal: " + done.stderr.decode()[-500:])
    if not journal_file.read_bytes().startswith(b"JRNLv"):
        raise JrnlUnavailable("jrnl wrote the journal unencrypted")
    return journal


def jrnl_search(journal: JrnlJournal, word: str) -> tuple[float, int]:
    """`jrnl -contains WORD` as a whole process: its wall time and the entries it found."""
    command = [
        str(journal.python.parent / "jrnl"),
        "--config-file",
        str(journal.config),
        "-contains",
        word,
        "--format",
        "json",
    ]
    began = time.perf_counter()
    done = subprocess.run(command, env=journal.env(), capture_output=True, timeout=600)
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise JrnlUnavailable("jrnl's search failed: " + done.stderr.decode()[-500:])
    found = json.loads(done.stdout)
    return took, len(found.get("entries", []))


def measure_jrnl(
    made: list[Text], words: dict[str, str], *, runs: int = 3, cache: Path | None = None
) -> dict[str, Any]:
    """jrnl's search times (median of `runs`) and hits for each word, keyed as `words`;
    {"jrnl_error": why} if jrnl cannot be installed or run."""
    try:
        python = install_jrnl(cache or default_cache())
        with tempfile.TemporaryDirectory(prefix="journal-bench-jrnl-") as tmp:
            began = time.perf_counter()
            journal = write_journal(python, Path(tmp), made)
            figures: dict[str, Any] = {
                "jrnl_version": JRNL_VERSION,
                "jrnl_write_s": round(time.perf_counter() - began, 2),
                "jrnl_file_mb": round((Path(tmp) / "journal.txt").stat().st_size / 2**20, 1),
            }
            for key, word in words.items():
                timed = [jrnl_search(journal, word) for _ in range(runs)]
                figures[f"{key}_s"] = round(statistics.median(t for t, _ in timed), 3)
                figures[f"{key}_hits"] = timed[0][1]
            return figures
    except (JrnlUnavailable, OSError, ValueError, subprocess.SubprocessError) as exc:
        return {"jrnl_error": str(exc)[:500]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=ENTRIES)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", type=Path, help="where jrnl's virtualenv is kept")
    args = parser.parse_args(argv)
    made = texts(args.entries)
    words = {"rare": RARE_WORD, "common": COMMON_WORD}
    figures = measure_jrnl(made, words, runs=args.runs, cache=args.cache)
    figures["expected"] = {key: expected_hits(made, w) for key, w in words.items()}
    print(json.dumps(figures, indent=1))
    return 1 if "jrnl_error" in figures else 0


if __name__ == "__main__":
    sys.exit(main())
