"""The benchmark: the journal under gunicorn against a minimal Flask app, in one run.

    python bench/run.py --quick --json figures.json      # under two minutes
    python bench/run.py --json figures.json              # the full version
    python bench/run.py --database-url postgresql://127.0.0.1:5432/bench

It generates a synthetic clinic (bench/generate.py) in a temporary instance,
serves the journal with gunicorn on 127.0.0.1 exactly as docs/deployment.md
says (two sync workers, no --preload), serves bench/hello.py with the same
settings as the baseline, and drives both from separate load processes
(bench/load.py). Then, with the servers stopped, it counts SQL statements per
page in-process, times search over one patient's 10,000 entries against jrnl 4.6
on the same texts (bench/jrnl_search.py; `--no-jrnl` leaves jrnl out), runs the
data-key rotation and, if bench/export_bench.py exists, the export measurement.
The largest worker's resident memory after all the load is `memory.worker_after_mb`.

A PostgreSQL database given with --database-url is emptied first: use one
that holds nothing else.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select, text  # noqa: E402

from bench import jrnl_search  # noqa: E402
from bench.generate import Clinic, Size, check_readable, generate  # noqa: E402
from journal.config import Settings, load_settings  # noqa: E402
from journal.crypto import MasterKeyRing  # noqa: E402
from journal.db import Database  # noqa: E402
from journal.models import Entry, User, Visibility  # noqa: E402

WORKERS = 2
# Each page's requests per second as a share of the floor's (the sign-in form for a
# visitor, below) measured in the same run, on SQLite; on PostgreSQL, half of it.
TARGETS = {"timeline": 0.30, "caseload": 0.30, "entry": 0.50, "save": 0.35}
POSTGRES_SHARE = 0.5
# The floor: the journal's sign-in form, for a visitor. No target: it shows what any
# page of the app costs before its own work (hooks, CSRF token, headers, base template).
FLOOR_PATH = "/login"
ROTATION_TARGET = 10_000  # entries per second
# The journal's settings here: the bench's writers write as fast as they can, which the
# per-person limit on writes is there to refuse.
BENCH_ENV = {"JOURNAL_WRITE_LIMIT": "off"}
# The PDF (Typst) and JSON at most these, for 1,000 entries; the PDF at least this many
# times faster than the previous engine (WeasyPrint) on the same document in the same run.
EXPORT_TARGETS = {"pdf_s": 2.5, "pdf_peak_mb": 300.0, "json_s": 0.5}
EXPORT_SPEEDUP_TARGET = 8.0
# Search over one patient's 10,000 entries at least this many times faster than jrnl 4.6
# on the same entries (jrnl as a whole process, ours as the search page's server time).
SEARCH_SPEEDUP_TARGET = 10.0
# A worker's resident memory after the whole run's load, at most (MB).
WORKER_MEMORY_TARGET_MB = 150.0
WRITERS = 16
CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


@dataclass(frozen=True)
class Profile:
    size: Size
    duration: float  # seconds of measured load per page
    warmup: float
    writers_s: float
    concurrency: int  # connections kept busy, over all driver processes
    drivers: int  # load processes
    export_entries: int = 1000  # the course exported (the target is for 1,000 entries)
    export_sessions: int = 40
    search_entries: int = jrnl_search.ENTRIES  # one patient's, searched (quick run too)
    search_runs: int = 5  # timed searches per word, the median kept (jrnl: 3)


QUICK = Profile(
    Size(clinicians=2, patients=45, entries=4_500),
    duration=4,
    warmup=1,
    writers_s=6,
    concurrency=16,
    drivers=2,
    # A shorter course keeps --quick under two minutes; the full run exports 1,000.
    export_entries=200,
    export_sessions=10,
    search_runs=3,
)
FULL = Profile(
    Size(clinicians=4, patients=100, entries=100_000),
    duration=20,
    warmup=3,
    writers_s=30,
    concurrency=16,
    drivers=2,
)


# -- servers ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _memory_mb(pid: int, field: str = "VmHWM") -> float:
    """A process's peak (VmHWM) or current (VmRSS) resident memory."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Server:
    """gunicorn on 127.0.0.1 with the documented settings: WORKERS sync workers."""

    def __init__(self, app: str, env: dict[str, str], ready_path: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{self.port}",
                app,
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"gunicorn for {app} did not start:\n{err[-2000:]}")
            try:
                status, _, _ = request(self.port, "GET", ready_path)
                if status < 500 and len(self.workers()) == WORKERS:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn for {app} did not answer in time")

    def workers(self) -> list[int]:
        return _children(self.proc.pid)

    def cpu(self) -> float:
        return sum(_cpu_seconds(p) for p in self.workers())

    def peak_rss_mb(self) -> float:
        return max((_memory_mb(p) for p in self.workers()), default=0.0)

    def rss_mb(self) -> float:
        return max((_memory_mb(p, "VmRSS") for p in self.workers()), default=0.0)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextmanager
def serving(app: str, env: dict[str, str], ready_path: str) -> Iterator[Server]:
    server = Server(app, env, ready_path)
    try:
        yield server
    finally:
        server.stop()


# -- a small HTTP client for signing in ---------------------------------------------


def request(
    port: int, method: str, path: str, *, cookie: str = "", form: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read().decode("utf-8", "replace")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


class Session:
    """One signed-in browser: its session cookie and CSRF token."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""

    def call(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        status, headers, body = request(self.port, method, path, cookie=self.cookie, form=form)
        if "set-cookie" in headers:
            self.cookie = headers["set-cookie"].split(";", 1)[0]
        return status, headers, body

    def token(self, path: str) -> str:
        status, _, body = self.call("GET", path)
        match = CSRF_RE.search(body)
        if status != 200 or not match:
            raise RuntimeError(f"no form at {path} (status {status})")
        return match.group(1)

    def login(self, email: str, password: str, code: str | None) -> None:
        form = {"csrf_token": self.token("/login"), "email": email, "password": password}
        status, headers, _ = self.call("POST", "/login", form)
        if status == 302 and headers.get("location", "").endswith("/login/verify"):
            if code is None:
                raise RuntimeError(f"{email} needs a second factor")
            form = {"csrf_token": self.token("/login/verify"), "code": code}
            status, headers, _ = self.call("POST", "/login/verify", form)
        if status != 302 or "/login" in headers.get("location", ""):
            raise RuntimeError(f"could not sign in as {email} (status {status})")


def raw(method: str, port: int, path: str, cookie: str, form: dict[str, str] | None = None) -> str:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Cookie: {cookie}"]
    body = b""
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        lines += [
            "Content-Type: application/x-www-form-urlencoded",
            f"Content-Length: {len(body)}",
        ]
    lines.append("Connection: close")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    return base64.b64encode(data).decode()


# -- load ----------------------------------------------------------------------------


@dataclass
class Load:
    answers: int
    errors: int
    elapsed: float
    latencies: list[float]
    driver_cpu: float
    server_cpu_cores: float
    locations: list[Any]
    samples: list[str]

    @property
    def rps(self) -> float:
        return self.answers / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def drive(
    server: Server,
    requests: list[str],
    *,
    expect: int,
    duration: float,
    warmup: float,
    concurrency: int,
    drivers: int,
    per_worker: bool = False,
    record: bool = False,
) -> Load:
    """Run `drivers` load processes at once, each keeping its share of connections busy."""
    share = [
        concurrency // drivers + (1 if i < concurrency % drivers else 0) for i in range(drivers)
    ]
    procs, offset = [], 0
    cpu0, wall0 = server.cpu(), time.perf_counter()
    for n in share:
        mine = requests[offset : offset + n] if per_worker else requests
        spec = {
            "host": "127.0.0.1",
            "port": server.port,
            "requests": mine,
            "expect": expect,
            "duration": duration,
            "warmup": warmup,
            "concurrency": n,
            "per_worker": per_worker,
            "record_location": record,
        }
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "load.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(spec).encode())
        proc.stdin.close()
        procs.append((proc, offset))
        offset += n
    results = []
    for proc, off in procs:
        assert proc.stdout is not None
        out = json.loads(proc.stdout.read())
        proc.wait()
        if per_worker:
            out["locations"] = [[w + off, n, where] for w, n, where in out["locations"]]
        results.append(out)
    # Warm-up included: the server's CPU share over the whole time it was driven.
    server_share = (server.cpu() - cpu0) / (time.perf_counter() - wall0)
    return Load(
        answers=sum(len(r["latencies"]) for r in results),
        errors=sum(r["errors"] for r in results),
        elapsed=max(r["elapsed"] for r in results),
        latencies=[x for r in results for x in r["latencies"]],
        driver_cpu=sum(r["cpu"] for r in results),
        server_cpu_cores=server_share,
        locations=[x for r in results for x in r["locations"]],
        samples=[x for r in results for x in r["samples"]],
    )


def page_figures(load: Load) -> dict[str, Any]:
    return {
        "rps": round(load.rps, 1),
        "p50_ms": round(load.pct(0.50), 1),
        "p95_ms": round(load.pct(0.95), 1),
        "errors": load.errors,
        "server_cpu_cores": round(load.server_cpu_cores, 2),
        "driver_cpu_cores": round(load.driver_cpu / load.elapsed, 2) if load.elapsed else 0,
    }


# -- the clinic ---------------------------------------------------------------------


def prepare(instance: Path, database_url: str, size: Size) -> tuple[Settings, Clinic]:
    env = {**BENCH_ENV, "JOURNAL_INSTANCE_PATH": str(instance)}
    if database_url:
        env["JOURNAL_DATABASE_URL"] = database_url
        database = Database(database_url)
        with database.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        database.dispose()
    settings = load_settings(environ=env)
    clinic = generate(settings, size)
    return settings, clinic


def patient_entries(settings: Settings, clinic: Clinic, limit: int = 20) -> list[str]:
    database = Database(settings.database_url)
    try:
        with database.session() as db:
            patient = db.scalar(select(User.id).where(User.email == clinic.patient))
            ids = db.scalars(
                select(Entry.id)
                .where(
                    Entry.course_id == uuid.UUID(clinic.course_id),
                    Entry.author_id == patient,
                    Entry.visibility == Visibility.CARE_TEAM,
                )
                .order_by(Entry.created_at.desc())
                .limit(limit)
            ).all()
    finally:
        database.dispose()
    return [str(i) for i in ids]


def entry_form(course_id: str, token: str, title: str) -> dict[str, str]:
    body = (
        "A synthetic reflection written by the benchmark. The lighthouse image came back "
        "while walking, and the fear was smaller than expected. " * 6
    )
    return {
        "csrf_token": token,
        "phase": "integration",
        "session_id": "",
        "title": title,
        "body": body,
        "intentions": "",
        "mood": "6",
        "visibility": "care_team",
    }


# -- in-process measurements -------------------------------------------------------


def count_sql(
    settings: Settings, clinic: Clinic, entry_id: str, cpu: dict[str, float] | None = None
) -> dict[str, int]:
    """SQL statements per page, counted on the app's engine through the test client.

    With `cpu` given, it also receives each page's CPU time per request in this
    one process (milliseconds, the median of `CPU_ROUNDS` rounds), and the hello
    app's as "hello": a figure that, unlike requests per second, hardly depends
    on what else the machine is doing.
    """
    from journal import create_app
    from journal.runtime import Runtime

    app = create_app(settings)
    runtime: Runtime = app.extensions["journal"]
    statements = [0]

    def counter(*_args: Any) -> None:
        statements[0] += 1

    event.listen(runtime.database.engine, "before_cursor_execute", counter)

    def sign_in(client: Any, email: str, code: str | None) -> None:
        page = client.get("/login").get_data(as_text=True)
        token = CSRF_RE.search(page)
        assert token
        form = {"csrf_token": token.group(1), "email": email, "password": clinic.password}
        resp = client.post("/login", data=form)
        if resp.status_code == 302 and resp.location.endswith("/login/verify"):
            page = client.get("/login/verify").get_data(as_text=True)
            token = CSRF_RE.search(page)
            assert token and code
            client.post("/login/verify", data={"csrf_token": token.group(1), "code": code})

    def measure(client: Any, method: str, path: str, **kwargs: Any) -> int:
        client.open(path, method=method, **kwargs)  # warm: login session touch, key loads
        statements[0] = 0
        resp = client.open(path, method=method, **kwargs)
        if resp.status_code not in (200, 302):
            raise RuntimeError(f"{method} {path} answered {resp.status_code}")
        counted = statements[0]
        if cpu is not None:
            name = {"GET": "", "POST": "save"}[method] or _page_name(path)
            cpu[name] = cpu_ms(lambda: client.open(path, method=method, **kwargs))
        return counted

    figures = {}
    if cpu is not None:
        from bench.hello import app as hello

        hello_client = hello.test_client()
        cpu["hello"] = cpu_ms(lambda: hello_client.get("/"))
        visitor = app.test_client()
        cpu["floor"] = cpu_ms(lambda: visitor.get(FLOOR_PATH))
    try:
        patient = app.test_client()
        sign_in(patient, clinic.patient, None)
        figures["timeline"] = measure(patient, "GET", f"/courses/{clinic.course_id}")
        figures["entry"] = measure(patient, "GET", f"/entries/{entry_id}")
        page = patient.get(f"/courses/{clinic.course_id}/entries/new").get_data(as_text=True)
        token = CSRF_RE.search(page)
        assert token
        form = entry_form(clinic.course_id, token.group(1), "Counted")
        figures["save"] = measure(
            patient, "POST", f"/courses/{clinic.course_id}/entries/new", data=form
        )
        clinician = app.test_client()
        sign_in(clinician, clinic.clinician, clinic.recovery_codes[clinic.clinician].pop())
        figures["caseload"] = measure(clinician, "GET", "/")
    finally:
        runtime.database.dispose()
    return figures


CPU_ROUNDS, CPU_REQUESTS = 5, 20


def cpu_ms(call: Any) -> float:
    rounds = []
    for _ in range(CPU_ROUNDS):
        began = time.process_time()
        for _ in range(CPU_REQUESTS):
            call()
        rounds.append((time.process_time() - began) / CPU_REQUESTS * 1000)
    return round(sorted(rounds)[CPU_ROUNDS // 2], 2)


def _page_name(path: str) -> str:
    if path == "/":
        return "caseload"
    return "timeline" if path.startswith("/courses/") else "entry"


SEARCH_COUNT_RE = re.compile(r"(\d+)(\+?) entr(?:y|ies) with every word")


def search_form(token: str, course_id: str, word: str) -> dict[str, str]:
    return {"csrf_token": token, "q": word, "course": course_id}


def measure_search(
    settings: Settings, patient: jrnl_search.SearchPatient, words: dict[str, str], runs: int
) -> dict[str, Any]:
    """The search page's server time in this one process, through the test client signed
    in as `patient`, searching their course: wall seconds per request (the median of
    `runs`, after one untimed) and the entries the page says it found, for each word."""
    from journal import create_app
    from journal.runtime import Runtime

    app = create_app(settings)
    runtime: Runtime = app.extensions["journal"]
    figures: dict[str, Any] = {}
    try:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = CSRF_RE.search(page)
        assert token
        form = {"csrf_token": token.group(1), "email": patient.email, "password": patient.password}
        if client.post("/login", data=form).status_code != 302:
            raise RuntimeError(f"could not sign in as {patient.email}")
        page = client.get(f"/search?course={patient.course_id}").get_data(as_text=True)
        token = CSRF_RE.search(page)
        assert token
        for key, word in words.items():
            form = search_form(token.group(1), patient.course_id, word)
            times, body = [], ""
            for i in range(runs + 1):
                began = time.perf_counter()
                resp = client.post("/search", data=form)
                took = time.perf_counter() - began
                if resp.status_code != 200:
                    raise RuntimeError(f"the search for {word!r} answered {resp.status_code}")
                body = resp.get_data(as_text=True)
                if i:
                    times.append(took)
            count = SEARCH_COUNT_RE.search(body)
            figures[f"{key}_s"] = round(statistics.median(times), 4)
            figures[f"{key}_hits"] = int(count.group(1)) if count else None
            figures[f"{key}_more"] = bool(count and count.group(2))
    finally:
        runtime.database.dispose()
    return figures


def search_figures(
    patient: jrnl_search.SearchPatient,
    ours: dict[str, Any],
    jrnl: dict[str, Any],
    expected: dict[str, int],
) -> dict[str, Any]:
    """The search comparison as written to the JSON: `ours_s` and `jrnl_s` are the rare
    word's (few hits, so both look through every entry), `speedup` = jrnl_s / ours_s."""
    figures: dict[str, Any] = {
        "entries": patient.entries,
        "word": jrnl_search.RARE_WORD,
        "common_word": jrnl_search.COMMON_WORD,
        "ours_s": ours.get("rare_s"),
        "jrnl_s": jrnl.get("rare_s"),
        "speedup": None,
        "target": SEARCH_SPEEDUP_TARGET,
        "ours_common_s": ours.get("common_s"),
        "jrnl_common_s": jrnl.get("common_s"),
        # The page shows at most 100 hits ("100+"); jrnl lists them all.
        "hits": {
            key: {
                "expected": expected.get(key),
                "ours": ours.get(f"{key}_hits"),
                "ours_more": ours.get(f"{key}_more"),
                "jrnl": jrnl.get(f"{key}_hits"),
            }
            for key in ("rare", "common")
        },
    }
    for h in figures["hits"].values():
        # The page lists at most its first hits and says there are more ("100+").
        ours_ok = h["ours"] == h["expected"] or bool(
            h["ours_more"] and h["ours"] is not None and h["ours"] < h["expected"]
        )
        h["agree"] = ours_ok and h["jrnl"] in (None, h["expected"])
    if figures["ours_s"] and figures["jrnl_s"]:
        figures["speedup"] = round(figures["jrnl_s"] / figures["ours_s"], 1)
    for key in ("jrnl_error", "jrnl_version", "jrnl_write_s", "jrnl_file_mb"):
        if key in jrnl:
            figures[key] = jrnl[key]
    return figures


def measure_rotation(settings: Settings) -> dict[str, Any]:
    """`keys rotate-data` on every owner, timed: the command's own code path."""
    from journal.keyrotation import WORKERS, rotate_data_keys

    database = Database(settings.database_url)
    ring = MasterKeyRing.load(settings.master_key_path)
    try:
        with database.session() as db:
            entries = db.scalar(select(func.count()).select_from(Entry)) or 0
        began, cpu0 = time.perf_counter(), _own_and_children_cpu()
        result = rotate_data_keys(database, ring, workers=WORKERS)
        took, cpu = time.perf_counter() - began, _own_and_children_cpu() - cpu0
    finally:
        database.dispose()
    return {
        "entries": entries,
        "values": result.reencrypted,
        "workers": WORKERS,
        "seconds": round(took, 2),
        "entries_per_s": round(entries / took) if took else 0,
        # The same work per second of CPU (this process and its worker processes):
        # what one core would do with nothing else running (I/O waits left out).
        "cpu_s": round(cpu, 2),
        "entries_per_cpu_s": round(entries / cpu) if cpu else 0,
    }


def _own_and_children_cpu() -> float:
    """CPU seconds of this process and of its finished child processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def verify_writes(settings: Settings, expected: dict[str, str]) -> int:
    """How many acknowledged writes (entry id -> title) are missing or different."""
    from journal.core.vault import Vault

    database = Database(settings.database_url)
    ring = MasterKeyRing.load(settings.master_key_path)
    lost = 0
    try:
        with database.session() as db:
            vault = Vault(db, ring)
            ids = [uuid.UUID(i) for i in expected]
            found: dict[uuid.UUID, tuple[Entry, uuid.UUID]] = {}
            from journal.models import Course

            for start in range(0, len(ids), 500):
                for entry, owner in db.execute(
                    select(Entry, Course.patient_id)
                    .join(Course, Course.id == Entry.course_id)
                    .where(Entry.id.in_(ids[start : start + 500]))
                ):
                    found[entry.id] = (entry, owner)
            for entry_id, title in expected.items():
                hit = found.get(uuid.UUID(entry_id))
                if hit is None or vault.open_column(hit[0], "title", hit[1]) != title:
                    lost += 1
    finally:
        database.dispose()
    return lost


def measure_export(entries: int = 1000, sessions: int = 40) -> dict[str, Any]:
    try:
        from bench.export_bench import measure_export as export
    except ImportError:
        print("export: bench/export_bench.py is not there yet; the export is not measured")
        return dict.fromkeys(REQUIRED["export"])
    figures: dict[str, Any] = export(entries=entries, sessions=sessions)
    return {"entries": entries, "sessions": sessions} | figures


# -- the run ---------------------------------------------------------------------------


REQUIRED: dict[str, Any] = {
    "baseline_rps": None,
    "floor": {"rps": None},
    "pages": {
        name: {"rps": None, "of_floor": None, "p50_ms": None, "p95_ms": None, "sql": None}
        for name in ("timeline", "caseload", "entry", "save")
    },
    "export": {
        "pdf_s": None,
        "pdf_peak_mb": None,
        "pdf_previous_engine_s": None,  # WeasyPrint, same document, same run
        "pdf_speedup": None,  # pdf_previous_engine_s / pdf_s
        "json_s": None,
    },
    "rotation_entries_per_s": None,
    "concurrency": {"writers": None, "errors": None, "lost": None},
    "search": {"ours_s": None, "jrnl_s": None, "speedup": None},
    "memory": {"worker_after_mb": None},
}


def missing_keys(figures: dict[str, Any], wanted: dict[str, Any] = REQUIRED) -> list[str]:
    """Keys the JSON must have (the layout others read) that `figures` lacks."""
    missing = []
    for key, inner in wanted.items():
        if key not in figures:
            missing.append(key)
        elif isinstance(inner, dict):
            missing += [f"{key}.{k}" for k in missing_keys(figures[key], inner)]
    return missing


def assemble(
    meta: dict[str, Any],
    *,
    baseline: Load,
    doubled: Load,
    hello_rss_mb: float,
    floor: Load,
    pages: dict[str, Load],
    sql: dict[str, int],
    cpu: dict[str, float],
    worker_rss_mb: float,
    writers: Load,
    writers_s: float,
    lost: int,
    rotation: dict[str, Any],
    export: dict[str, Any],
    search: dict[str, Any] | None = None,
    worker_after_mb: float | None = None,
) -> dict[str, Any]:
    """The figures as written to the JSON file."""
    # The baseline is the better of the two runs, so a driver that fell short
    # at one concurrency cannot flatter the journal's ratios.
    base = max(baseline.rps, doubled.rps)
    postgres = meta.get("database") == "postgresql"
    figures = dict(meta)
    figures["baseline_rps"] = round(base, 1)
    figures["baseline"] = page_figures(baseline) | {
        "rps_at_double_concurrency": round(doubled.rps, 1),
        "peak_rss_mb": round(hello_rss_mb, 1),
        "cpu_ms_in_process": cpu.get("hello"),
    }
    figures["floor"] = page_figures(floor) | {
        "path": FLOOR_PATH,
        "cpu_ms_in_process": cpu.get("floor"),
        "ratio": round(floor.rps / base, 3) if base else None,
    }
    figures["pages"] = {
        name: page_figures(load)
        | {
            "sql": sql.get(name),
            "cpu_ms_in_process": cpu.get(name),
            "ratio": round(load.rps / base, 3) if base else None,
            "of_floor": round(load.rps / floor.rps, 3) if floor.rps else None,
            "target": TARGETS[name] * (POSTGRES_SHARE if postgres else 1),
        }
        for name, load in pages.items()
    }
    figures["peak_rss_mb_per_worker"] = round(worker_rss_mb, 1)
    figures["concurrency"] = {
        "writers": WRITERS,
        "seconds": writers_s,
        "acknowledged": len(writers.locations),
        "errors": writers.errors,
        "lost": lost,
        "p95_ms": round(writers.pct(0.95), 1),
    }
    if writers.samples:
        figures["concurrency"]["error_samples"] = writers.samples
    figures["rotation"] = rotation
    figures["rotation_entries_per_s"] = rotation["entries_per_s"]
    figures["export"] = export
    figures["search"] = search or {"ours_s": None, "jrnl_s": None, "speedup": None}
    figures["memory"] = {
        "worker_after_mb": None if worker_after_mb is None else round(worker_after_mb, 1),
        "worker_peak_mb": round(worker_rss_mb, 1),
        "target_mb": WORKER_MEMORY_TARGET_MB,
    }
    return figures


def run(
    profile: Profile, database_url: str, log: Any = print, *, jrnl: bool = True
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "profile": "quick" if profile is QUICK else "full",
        "database": "postgresql" if database_url else "sqlite",
        "workers": WORKERS,
        "connections": profile.concurrency,
        "load_processes": profile.drivers,
        "cpus": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }
    tmp = Path(tempfile.mkdtemp(prefix="journal-bench-"))
    try:
        instance = tmp / "instance"
        log(f"generating {profile.size.entries} entries for {profile.size.patients} patients ...")
        began = time.perf_counter()
        settings, clinic = prepare(instance, database_url, profile.size)
        meta["generate_s"] = round(time.perf_counter() - began, 1)
        meta["clinic"] = clinic.counts
        entry_ids = patient_entries(settings, clinic)
        log(f"one more patient with {profile.search_entries} entries, for search ...")
        texts = jrnl_search.texts(profile.search_entries)
        searcher = jrnl_search.add_patient(settings, texts)
        words = {"rare": jrnl_search.RARE_WORD, "common": jrnl_search.COMMON_WORD}
        env = {**BENCH_ENV, "JOURNAL_INSTANCE_PATH": str(instance)}
        if database_url:
            env["JOURNAL_DATABASE_URL"] = database_url
        load: dict[str, Any] = {
            "duration": profile.duration,
            "warmup": profile.warmup,
            "concurrency": profile.concurrency,
            "drivers": profile.drivers,
        }

        log("baseline: minimal Flask app ...")
        with serving("bench.hello:app", {}, "/") as hello:
            hello_get = [raw("GET", hello.port, "/", "")]
            baseline = drive(hello, hello_get, expect=200, **load)
            # The same driver with twice the connections: no gain means the server saturates.
            doubled = drive(
                hello, hello_get, expect=200, **{**load, "concurrency": 2 * profile.concurrency}
            )
            hello_rss = hello.peak_rss_mb()

        pages: dict[str, Load] = {}
        with serving("journal:create_app()", env, "/healthz") as app:
            log("floor: the sign-in form ...")
            floor = drive(app, [raw("GET", app.port, FLOOR_PATH, "")], expect=200, **load)
            patient = Session(app.port)
            patient.login(clinic.patient, clinic.password, None)
            clinician = Session(app.port)
            clinician.login(
                clinic.clinician, clinic.password, clinic.recovery_codes[clinic.clinician].pop()
            )
            gets = {
                "timeline": (patient, [f"/courses/{clinic.course_id}"]),
                "caseload": (clinician, ["/"]),
                "entry": (patient, [f"/entries/{e}" for e in entry_ids]),
            }
            for name, (who, paths) in gets.items():
                log(f"{name} ...")
                reqs = [raw("GET", app.port, p, who.cookie) for p in paths]
                pages[name] = drive(app, reqs, expect=200, **load)
            log("save ...")
            new = f"/courses/{clinic.course_id}/entries/new"
            token = patient.token(new)
            form = entry_form(clinic.course_id, token, "Saved by the benchmark")
            save = raw("POST", app.port, new, patient.cookie, form)
            pages["save"] = drive(app, [save], expect=302, **load)

            log(f"{WRITERS} concurrent writers for {profile.writers_s:.0f} s ...")
            requests = []
            for w in range(WRITERS):
                email = clinic.patients[w % len(clinic.patients)]
                s = Session(app.port)
                s.login(email, clinic.password, None)
                course = _course_of(s)
                path = f"/courses/{course}/entries/new"
                form = entry_form(course, s.token(path), f"writer {w} #QQQQQQ")
                requests.append(raw("POST", app.port, path, s.cookie, form))
            writers = drive(
                app,
                requests,
                expect=302,
                duration=profile.writers_s,
                warmup=0,
                concurrency=WRITERS,
                drivers=profile.drivers,
                per_worker=True,
                record=True,
            )
            log("search over one patient's entries ...")
            reader = Session(app.port)
            reader.login(searcher.email, searcher.password, None)
            token = reader.token(f"/search?course={searcher.course_id}")
            forms = [search_form(token, searcher.course_id, w) for w in words.values()]
            reqs = [raw("POST", app.port, "/search", reader.cookie, f) for f in forms]
            searches = drive(
                app,
                reqs,
                expect=200,
                duration=profile.duration,
                warmup=0,
                concurrency=WORKERS,
                drivers=1,
            )
            worker_rss = app.peak_rss_mb()
            worker_after = app.rss_mb()
            meta["rss_mb_per_worker_after"] = round(worker_after, 1)

        expected = {}
        for w, n, where in writers.locations:
            expected[where.rsplit("/", 1)[-1]] = f"writer {w} #{n:06d}"
        lost = verify_writes(settings, expected)

        log("SQL statements per page ...")
        cpu: dict[str, float] = {}
        sql = count_sql(settings, clinic, entry_ids[0], cpu)

        log("search: the page in-process, then jrnl on the same entries ...")
        ours = measure_search(settings, searcher, words, profile.search_runs)
        if jrnl:
            theirs = jrnl_search.measure_jrnl(texts, words, runs=3)
        else:
            theirs = {"jrnl_error": "not measured (--no-jrnl)"}
        hits = {k: jrnl_search.expected_hits(texts, w) for k, w in words.items()}
        search = search_figures(searcher, ours, theirs, hits)
        search["server_rps"] = round(searches.rps, 2)
        search["server_errors"] = searches.errors

        log("data-key rotation ...")
        rotation = measure_rotation(settings)
        rotation["readable_after"] = check_readable(settings, clinic)

        log("export ...")
        export = measure_export(profile.export_entries, profile.export_sessions)
        meta["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return assemble(
        meta,
        baseline=baseline,
        doubled=doubled,
        hello_rss_mb=hello_rss,
        floor=floor,
        pages=pages,
        sql=sql,
        cpu=cpu,
        worker_rss_mb=worker_rss,
        writers=writers,
        writers_s=profile.writers_s,
        lost=lost,
        rotation=rotation,
        export=export,
        search=search,
        worker_after_mb=worker_after,
    )


def _course_of(session: Session) -> str:
    """A patient's course id: their home page redirects to it."""
    status, headers, _ = session.call("GET", "/")
    match = re.search(r"/courses/([0-9a-f-]{36})", headers.get("location", ""))
    if status != 302 or not match:
        raise RuntimeError("the patient's home page did not lead to a course")
    return match.group(1)


def table(figures: dict[str, Any]) -> str:
    base = figures["baseline_rps"]
    lines = [
        f"{figures['profile']} run on {figures['database']}, {figures['workers']} workers, "
        f"{figures['connections']} connections from {figures['load_processes']} load processes",
        f"clinic: {figures['clinic']}",
        "",
        f"{'page':<10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'SQL':>5}"
        f"{'of base':>9}{'of floor':>9}{'target':>8}{'srv cpu':>9}{'cpu ms':>8}  ok",
        f"{'hello':<10}{base:>9.0f}{figures['baseline']['p50_ms']:>9.1f}"
        f"{figures['baseline']['p95_ms']:>9.1f}{'':>5}{'100%':>9}{'':>9}{'':>8}"
        f"{figures['baseline']['server_cpu_cores']:>9.2f}"
        f"{figures['baseline'].get('cpu_ms_in_process') or 0:>8.2f}",
    ]
    f = figures.get("floor")
    if f:
        lines.append(
            f"{'sign-in':<10}{f['rps']:>9.0f}{f['p50_ms']:>9.1f}{f['p95_ms']:>9.1f}{'':>5}"
            f"{f['ratio']:>9.0%}{'100%':>9}{'':>8}{f['server_cpu_cores']:>9.2f}"
            f"{f.get('cpu_ms_in_process') or 0:>8.2f}"
        )
    for name, p in figures["pages"].items():
        ok = "yes" if (p["of_floor"] or 0) >= p["target"] and p["errors"] == 0 else "NO"
        lines.append(
            f"{name:<10}{p['rps']:>9.0f}{p['p50_ms']:>9.1f}{p['p95_ms']:>9.1f}{p['sql']:>5}"
            f"{p['ratio']:>9.0%}{p['of_floor'] or 0:>9.0%}{p['target']:>8.0%}"
            f"{p['server_cpu_cores']:>9.2f}"
            f"{p.get('cpu_ms_in_process') or 0:>8.2f}  {ok}"
        )
    lines += [
        "(sign-in: the journal's sign-in form for a visitor, the floor: what any page costs"
        " before its own work; of floor: req/s as a share of the floor's, the target's"
        " measure (on PostgreSQL, half the SQLite target); srv cpu: cores the two workers"
        " used; cpu ms: CPU time per request in one process through the test client, which"
        " depends little on other load)"
    ]
    b = figures["baseline"]
    lines += [
        "",
        f"driver check: hello at {figures['connections']} connections {b['rps']:.0f} req/s, "
        f"at {2 * figures['connections']} {b['rps_at_double_concurrency']:.0f} req/s "
        "(the baseline is the better of the two); "
        f"load processes used {b['driver_cpu_cores']:.2f} cores, the server "
        f"{b['server_cpu_cores']:.2f}",
        f"memory per worker: peak {figures['peak_rss_mb_per_worker']} MB, "
        f"{figures.get('rss_mb_per_worker_after')} MB after the load (hello: peak "
        f"{b['peak_rss_mb']} MB)",
        f"load average of the machine before and after: {figures.get('loadavg_before')}, "
        f"{figures.get('loadavg_after')}",
    ]
    m = figures.get("memory") or {}
    if m.get("worker_after_mb") is not None:
        ok = "yes" if m["worker_after_mb"] <= WORKER_MEMORY_TARGET_MB else "NO"
        lines.append(
            f"worker memory after the whole run's load: {m['worker_after_mb']} MB in the "
            f"largest worker (target at most {WORKER_MEMORY_TARGET_MB:g} MB) {ok}"
        )
    lines += search_lines(figures.get("search") or {})
    r = figures["rotation"]
    ok = "yes" if r["entries_per_s"] >= ROTATION_TARGET else "NO"
    lines.append(
        f"data-key rotation: {r['entries']} entries ({r['values']} values) in {r['seconds']} s"
        f" = {r['entries_per_s']} entries/s (target {ROTATION_TARGET}) {ok}; "
        f"{r.get('entries_per_cpu_s')} per CPU second"
    )
    c = figures["concurrency"]
    ok = "yes" if c["errors"] == 0 and c["lost"] == 0 else "NO"
    lines.append(
        f"{c['writers']} writers for {c['seconds']} s: {c['acknowledged']} saves, "
        f"{c['errors']} errors, {c['lost']} lost (p95 {c['p95_ms']} ms) {ok}"
    )
    e = figures["export"]
    if e.get("pdf_s") is None:
        lines.append("export: not measured (bench/export_bench.py is not there yet)")
    else:
        ok = "yes" if all(e[k] <= v for k, v in EXPORT_TARGETS.items()) else "NO"
        speedup = e.get("pdf_speedup")
        previous = (
            f"WeasyPrint {e['pdf_previous_engine_s']:.2f} s on the same document, "
            f"{speedup}x faster (target {EXPORT_SPEEDUP_TARGET:g}x) "
            f"{'yes' if speedup >= EXPORT_SPEEDUP_TARGET else 'NO'}"
            if speedup
            else "WeasyPrint not measured (not installed)"
        )
        lines.append(
            f"export of a {e.get('entries', 1000):,}-entry course: PDF {e['pdf_s']:.2f} s "
            f"({e.get('pdf_cpu_s', 0):.2f} s CPU), {e['pdf_peak_mb']:.0f} MB peak; "
            f"JSON {e['json_s']:.3f} s, HTML {e.get('html_s', 0):.3f} s, Markdown "
            f"{e.get('md_s', 0):.3f} s beside {e.get('open_all_s', 0):.3f} s to decrypt the "
            f"course (targets for 1,000 entries: 2.5 s, 300 MB, 0.5 s) {ok}; {previous}"
        )
    return "\n".join(lines)


def search_lines(s: dict[str, Any]) -> list[str]:
    if s.get("ours_s") is None:
        return ["search: not measured"]
    hits = s["hits"]

    def shown(key: str, who: str) -> str:
        n = hits[key][who]
        more = "+" if who == "ours" and hits[key].get("ours_more") else ""
        return "-" if n is None else f"{n}{more}"

    counts = "; ".join(
        f"{s[w]!r}: {hits[k]['expected']} expected, ours {shown(k, 'ours')}, "
        f"jrnl {shown(k, 'jrnl')}"
        for k, w in (("rare", "word"), ("common", "common_word"))
    )
    lines = [
        f"search over one patient's {s['entries']:,} entries for {s['word']!r}: the page "
        f"{s['ours_s']:.3f} s (server time), {s['ours_common_s']:.3f} s for the common "
        f"{s['common_word']!r} (stops at 100 hits)"
    ]
    if s.get("speedup"):
        ok = "yes" if s["speedup"] >= s["target"] else "NO"
        lines.append(
            f"  jrnl {s.get('jrnl_version')} on the same entries (whole process): "
            f"{s['jrnl_s']:.3f} s, {s['jrnl_common_s']:.3f} s for the common word; "
            f"ours {s['speedup']}x faster (target {s['target']:g}x) {ok}"
        )
    else:
        lines.append(f"  jrnl: {s.get('jrnl_error') or 'not measured'}")
    agree = all(h["agree"] for h in hits.values())
    lines.append(f"  entries found: {counts} ({'as expected' if agree else 'they DIFFER'})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the short version (< 2 minutes)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--database-url", default="", help="a PostgreSQL database to empty and use")
    parser.add_argument(
        "--no-jrnl", action="store_true", help="leave out jrnl (installed with pip otherwise)"
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    figures = run(QUICK if args.quick else FULL, args.database_url, jrnl=not args.no_jrnl)
    figures["total_s"] = round(time.perf_counter() - began, 1)
    missing = missing_keys(figures)
    if missing:
        raise RuntimeError(f"the figures lack {', '.join(missing)}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print()
    print(table(figures))
    print(f"\n{figures['total_s']} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
